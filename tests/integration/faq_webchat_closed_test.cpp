// SPDX-License-Identifier: Apache-2.0
//
// The FAQ bot and the web chat when the hand-off queue is outside its service hours, through
// the real kefu executable: the customer is offered a callback or a message on the socket,
// the dialog and transcript stay stored for agents and supervisors, and the contact is stored
// as ended with outcome closed_<action>; with an overflow action the hand-off waits in the
// overflow queue instead.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "process.h"
#include "ws_client.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using Json = nlohmann::json;

namespace {

// The hand-off queue "webchat" has an hours calendar without a single weekday range, so it
// is closed whatever day and time the test runs. `closed` is its closed-action settings.
std::filesystem::path deployment(const TempDir& dir, const std::string& closed) {
  return dir.write("deploy.toml", std::string(R"([host]
plugin_dirs = [")") + KEFU_BUILD_PLUGIN_DIR + R"("]
[http]
listen = "127.0.0.1:0"
[plugins.user-auth]
enabled = true
required = true
hash_strength = "minimum"
[plugins.routing-acd]
enabled = true
[[plugins.routing-acd.queues]]
name = "webchat"
media = "chat"
skills = ["chat"]
)" + closed + R"(
hours = { utc_offset = "UTC" }
[[plugins.routing-acd.queues]]
name = "after_hours"
media = "chat"
skills = ["chat"]
[[plugins.routing-acd.agents]]
id = "a1"
skills = { chat = 5 }
max_chats = 2
[plugins.faq-bot]
enabled = true
answer_threshold = 0.4
[[plugins.faq-bot.entries]]
questions = ["理赔需要什么材料", "怎么申请理赔"]
answer = "理赔请准备保单号和身份证。"
[plugins.webchat]
enabled = true
)");
}

struct Server {
  std::unique_ptr<Process> process;
  int port = 0;
};

void addUser(const TempDir& dir, const std::string& config, const std::string& id,
             const std::string& role) {
  Process p({KEFU_BINARY, "user", "add", "--config", deployment(dir, config).string(),
             "--data-dir", dir.path().string(), "--id", id, "--role", role, "--password-stdin"},
            dir / "u.out", dir / "u.err", id + "-password-123\n");
  REQUIRE(p.wait(30s) == 0);
}

Server start(const TempDir& dir, const std::string& config) {
  addUser(dir, config, "a1", "agent");
  addUser(dir, config, "boss", "supervisor");
  Server s;
  s.process = std::make_unique<Process>(
      std::vector<std::string>{KEFU_BINARY, "serve", "--config",
                               deployment(dir, config).string(), "--data-dir",
                               dir.path().string()},
      dir / "out", dir / "err");
  s.port = s.process->waitForPort(20s);
  INFO(s.process->err());
  REQUIRE(s.port > 0);
  return s;
}

std::map<std::string, std::string> signIn(int port, const std::string& id) {
  auto r = kefu::test::http(port, "POST", "/api/v1/auth/login", {},
                            Json{{"id", id}, {"password", id + "-password-123"}}.dump());
  REQUIRE(r.status == 200);
  return {{"Authorization", "Bearer " + Json::parse(r.body)["token"].get<std::string>()}};
}

Json call(int port, const std::string& method, const std::string& path,
          const std::map<std::string, std::string>& auth, const std::string& body, int expect) {
  auto r = kefu::test::http(port, method, path, auth, body);
  INFO(method << " " << path << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == expect);
  return r.body.empty() ? Json() : Json::parse(r.body, nullptr, false);
}

// Every frame the server sends until it closes the socket or stays silent for `quiet`.
std::vector<Json> framesUntilQuiet(kefu::test::WsClient& ws, std::chrono::milliseconds quiet) {
  std::vector<Json> out;
  for (int i = 0; i < 50; ++i) {
    auto f = ws.next(quiet);
    if (!f) break;
    out.push_back(Json::parse(*f));
  }
  return out;
}

std::vector<std::string> typesOf(const std::vector<Json>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) out.push_back(f["type"].get<std::string>());
  return out;
}

// A customer opens a chat, asks the bot a question, then asks for a person. Returns the
// dialog id; `ws` is left connected (or closed by the server).
std::string askForPerson(int port, std::unique_ptr<kefu::test::WsClient>& ws) {
  auto session = call(port, "POST", "/chat/session", {}, "", 201);
  std::string token = session["token"], dialog = session["session"];
  ws = std::make_unique<kefu::test::WsClient>(port, "/chat/ws?session=" + token);
  REQUIRE(ws->status() == 101);
  auto ready = ws->next(5s);
  REQUIRE(ready);
  CHECK(Json::parse(*ready)["type"] == "ready");
  REQUIRE(ws->send(R"({"type":"message","text":"怎么申请理赔"})"));
  auto answer = ws->next(5s);
  REQUIRE(answer);
  CHECK(Json::parse(*answer)["text"] == "理赔请准备保单号和身份证。");
  REQUIRE(ws->send(R"({"type":"message","text":"转人工，我的手机号13812345678"})"));
  return dialog;
}

// The stored contact and dialog after a closed action other than overflow.
void checkStoredClosed(int port, const std::string& dialog, const std::string& outcome) {
  auto agent = signIn(port, "a1");
  auto boss = signIn(port, "boss");
  std::string contact = "c-" + dialog;

  auto c = call(port, "GET", "/api/v1/contacts/" + contact, boss, "", 200);
  CHECK(c["state"] == "ended");
  CHECK(c["outcome"] == outcome);
  CHECK(c["queue"] == "webchat");
  CHECK(c["channel"] == "webchat");

  auto masked = call(port, "GET", "/api/v1/bot/contacts/" + contact + "/dialog", agent, "", 200);
  CHECK(masked["state"] == outcome);
  std::string text = masked["transcript"].dump();
  CHECK(text.find("怎么申请理赔") != std::string::npos);
  CHECK(text.find("138****5678") != std::string::npos);
  CHECK(text.find("13812345678") == std::string::npos);
  auto whole = call(port, "GET", "/api/v1/bot/dialogs/" + dialog, boss, "", 200);
  CHECK(whole["transcript"].dump().find("13812345678") != std::string::npos);
  // The offer made to the customer is part of the record, once.
  int offers = 0;
  for (const auto& t : whole["transcript"]) {
    if (t["speaker"] == "system" &&
        t["text"].get<std::string>().find("不在人工服务时间") != std::string::npos) {
      ++offers;
    }
  }
  CHECK(offers == 1);

  auto stats = call(port, "GET", "/api/v1/bot/stats", boss, "", 200);
  CHECK(stats["total"]["handed_off"] == 0);
}

}  // namespace

TEST_CASE("Outside service hours a web chat hand-off becomes a callback offer",
          "[integration][faq][closed]") {
  TempDir dir;
  Server srv = start(dir, R"(closed_action = "callback")");
  std::unique_ptr<kefu::test::WsClient> ws;
  std::string dialog = askForPerson(srv.port, ws);

  // The server ends the chat with the offer: read until it has nothing more to say.
  auto frames = framesUntilQuiet(*ws, 2s);
  INFO("frames: " << Json(typesOf(frames)).dump());
  REQUIRE(frames.size() >= 2);
  CHECK(frames[0]["type"] == "bot");
  CHECK(frames[1]["type"] == "ended");
  CHECK(frames[1]["text"].get<std::string>().find("回电") != std::string::npos);
  CHECK(frames.size() == 2);  // the offer once, and no "queued" for a contact that never waits
  // The chat has ended: the bot no longer answers on it.
  REQUIRE(ws->send(R"({"type":"message","text":"怎么申请理赔"})"));
  auto refused = ws->next(5s);
  REQUIRE(refused);
  CHECK(Json::parse(*refused)["text"] == "this chat has ended");

  checkStoredClosed(srv.port, dialog, "closed_callback");
}

TEST_CASE("Outside service hours a web chat hand-off becomes a message the customer leaves",
          "[integration][faq][closed]") {
  TempDir dir;
  Server srv = start(dir, R"(closed_action = "message")");
  std::unique_ptr<kefu::test::WsClient> ws;
  std::string dialog = askForPerson(srv.port, ws);

  // The socket stays open for the message: read until the server has nothing more to say.
  auto frames = framesUntilQuiet(*ws, 2s);
  INFO("frames: " << Json(typesOf(frames)).dump());
  REQUIRE(frames.size() >= 2);
  CHECK(frames[0]["type"] == "bot");
  CHECK(frames[1]["type"] == "leave_message");
  CHECK(frames[1]["text"].get<std::string>().find("留言") != std::string::npos);
  CHECK(frames.size() == 2);  // the offer once, and no "queued"

  // The message the customer leaves is stored with the dialog, not answered by the bot.
  REQUIRE(ws->send(R"({"type":"message","text":"请明天上午给我回电话"})"));
  auto boss = signIn(srv.port, "boss");
  Json d;
  for (int i = 0; i < 50; ++i) {
    d = call(srv.port, "GET", "/api/v1/bot/dialogs/" + dialog, boss, "", 200);
    if (d["transcript"].back()["text"] == "请明天上午给我回电话") break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(d["transcript"].back()["text"] == "请明天上午给我回电话");
  CHECK(d["transcript"].back()["kind"] == "to_agent");
  CHECK(framesUntilQuiet(*ws, 1s).empty());

  checkStoredClosed(srv.port, dialog, "closed_message");
}

TEST_CASE("Outside service hours a web chat hand-off overflows to the open queue",
          "[integration][faq][closed]") {
  TempDir dir;
  Server srv = start(dir, R"(closed_action = "overflow"
closed_overflow_queue = "after_hours")");
  std::unique_ptr<kefu::test::WsClient> ws;
  std::string dialog = askForPerson(srv.port, ws);
  int port = srv.port;

  auto first = ws->next(5s);
  REQUIRE(first);
  CHECK(Json::parse(*first)["type"] == "bot");
  auto queued = ws->next(5s);
  REQUIRE(queued);
  Json q = Json::parse(*queued);
  REQUIRE(q["type"] == "queued");
  std::string contact = q["contact"];
  CHECK(contact == "c-" + dialog);
  CHECK(q["queue"] == "after_hours");

  auto agent = signIn(port, "a1");
  auto boss = signIn(port, "boss");
  auto c = call(port, "GET", "/api/v1/contacts/" + contact, boss, "", 200);
  CHECK(c["queue"] == "after_hours");
  CHECK(c["state"] != "ended");
  auto waiting = call(port, "GET", "/api/v1/bot/contacts/" + contact + "/dialog", agent, "", 200);
  CHECK(waiting["state"] == "handed_off");

  // An agent of the overflow queue takes the chat and talks to the customer.
  call(port, "POST", "/api/v1/agents/a1/sign-in", agent, "", 200);
  call(port, "POST", "/api/v1/agents/a1/ready", agent, "", 200);
  auto joined = ws->next(5s);
  REQUIRE(joined);
  CHECK(Json::parse(*joined)["type"] == "agent_joined");
  CHECK(call(port, "GET", "/api/v1/contacts/" + contact, agent, "", 200)["agent"] == "a1");
  call(port, "POST", "/api/v1/webchat/contacts/" + contact + "/messages", agent,
       R"({"text":"您好，我是a1"})", 201);
  auto line = ws->next(5s);
  REQUIRE(line);
  CHECK(Json::parse(*line)["text"] == "您好，我是a1");

  auto stats = call(port, "GET", "/api/v1/bot/stats", boss, "", 200);
  CHECK(stats["total"]["handed_off"] == 1);
}
