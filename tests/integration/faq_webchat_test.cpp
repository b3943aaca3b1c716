// SPDX-License-Identifier: Apache-2.0
//
// The FAQ bot's HTTP API and the web chat through the real kefu executable: roles, audit,
// clear 4xx answers, a customer on the WebSocket, the hand-off into the routed contact with
// masking by role, and the rate limit on new chat sessions.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "kefu_server.h"
#include "ws_client.h"

using namespace std::chrono_literals;
using kefu::test::TempDir;
using Json = nlohmann::json;
using kefu::test::call;
using kefu::test::signIn;

namespace {

std::filesystem::path deployment(const TempDir& dir) {
  return dir.write("deploy.toml",
                   kefu::test::authDeploymentHead() + R"([plugins.routing-acd]
enabled = true
[[plugins.routing-acd.queues]]
name = "webchat"
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
[[plugins.faq-bot.entries]]
questions = ["保费怎么交"]
answer = "续期保费自动扣款。"
[plugins.webchat]
enabled = true
sessions_per_minute = 3
)");
}

void addUser(const TempDir& dir, const std::string& id, const std::string& role) {
  kefu::test::addUser(dir, deployment(dir), id, role);
}

// The next frame of type `type`, skipping others; fails after 5 s.
Json frameOf(kefu::test::WsClient& ws, const std::string& type) {
  for (int i = 0; i < 20; ++i) {
    auto f = ws.next(5s);
    REQUIRE(f);
    Json j = Json::parse(*f);
    if (j["type"] == type) return j;
  }
  FAIL("no '" << type << "' frame");
  return {};
}

using Server = kefu::test::KefuServer;

Server start(const TempDir& dir) { return kefu::test::serveKefu(dir, deployment(dir)); }

}  // namespace

TEST_CASE("FAQ routes are authenticated role-checked and audited", "[integration][faq]") {
  TempDir dir;
  addUser(dir, "a1", "agent");
  addUser(dir, "ed", "kb_editor");
  Server srv = start(dir);
  int port = srv.port;
  auto agent = signIn(port, "a1");
  auto editor = signIn(port, "ed");

  call(port, "GET", "/api/v1/faq/entries", {}, "", 401);
  auto list = call(port, "GET", "/api/v1/faq/entries", agent, "", 200);
  CHECK(list["entries"].size() == 2);
  call(port, "POST", "/api/v1/faq/entries", agent,
       R"({"questions":["犹豫期多久"],"answer":"15天"})", 403);
  auto bad = call(port, "POST", "/api/v1/faq/entries", editor, R"({"answer":"15天"})", 400);
  CHECK(bad["error"]["message"].get<std::string>().find("'questions'") != std::string::npos);
  call(port, "POST", "/api/v1/faq/entries", editor, "not json", 400);

  auto made = call(port, "POST", "/api/v1/faq/entries", editor,
                   R"({"questions":["犹豫期多久"],"answer":"15天","category":"保单"})", 201);
  std::string id = std::to_string(made["id"].get<int64_t>());
  CHECK(made["revision"] == 1);
  CHECK(made["updated_by"] == "ed");
  auto revised = call(port, "PUT", "/api/v1/faq/entries/" + id, editor,
                      R"({"questions":["犹豫期多久","后悔了能退吗"],"answer":"签收后15天"})",
                      200);
  CHECK(revised["revision"] == 2);
  auto m = call(port, "POST", "/api/v1/bot/match", agent, R"({"text":"买了后悔了能退吗"})", 200);
  CHECK(m["entry"] == made["id"]);
  call(port, "DELETE", "/api/v1/faq/entries/" + id, editor, "", 200);
  call(port, "GET", "/api/v1/faq/entries/" + id, agent, "", 404);
  call(port, "GET", "/api/v1/bot/stats", agent, "", 403);
  call(port, "GET", "/api/v1/bot/stats?days=0", editor, "", 400);

  std::string admin = kefu::test::readFile(dir / "admin.token");
  admin.erase(admin.find_last_not_of(" \r\n") + 1);
  auto audit = call(port, "GET", "/api/v1/audit?limit=100",
                    {{"Authorization", "Bearer " + admin}}, "", 200);
  std::set<std::string> actions;
  for (const auto& e : audit["entries"]) {
    actions.insert(e["actor"].get<std::string>() + " " + e["action"].get<std::string>());
  }
  CHECK(actions.count("ed POST /api/v1/faq/entries"));
  CHECK(actions.count("ed PUT /api/v1/faq/entries/{id}"));
  CHECK(actions.count("ed DELETE /api/v1/faq/entries/{id}"));
  CHECK(actions.count("a1 POST /api/v1/faq/entries"));  // the refusal
}

TEST_CASE("A web chat customer meets the bot and is handed off with the transcript",
          "[integration][faq]") {
  TempDir dir;
  addUser(dir, "a1", "agent");
  addUser(dir, "boss", "supervisor");
  Server srv = start(dir);
  int port = srv.port;
  auto agent = signIn(port, "a1");
  auto boss = signIn(port, "boss");

  auto page = kefu::test::http(port, "GET", "/chat");
  CHECK(page.status == 200);
  CHECK(page.body.find("<!doctype html>") == 0);
  CHECK(page.body.find("src=\"http") == std::string::npos);  // nothing from elsewhere

  auto session = call(port, "POST", "/chat/session", {}, "", 201);
  std::string token = session["token"], dialog = session["session"];
  kefu::test::WsClient bad(port, "/chat/ws?session=nope");
  CHECK((bad.status() != 101 || bad.waitClosed(5s)));

  kefu::test::WsClient ws(port, "/chat/ws?session=" + token);
  REQUIRE(ws.status() == 101);
  CHECK(frameOf(ws, "ready")["session"] == dialog);
  REQUIRE(ws.send(R"({"type":"message","text":"理赔需要准备什么材料"})"));
  CHECK(frameOf(ws, "bot")["text"] == "理赔请准备保单号和身份证。");
  REQUIRE(ws.send("hello"));
  CHECK(frameOf(ws, "error")["text"].get<std::string>().find("type") != std::string::npos);

  // Nobody is ready: the contact waits in the chat queue.
  REQUIRE(ws.send(R"({"type":"message","text":"转人工，我的手机号13812345678"})"));
  frameOf(ws, "bot");
  std::string contact = frameOf(ws, "queued")["contact"];
  CHECK(contact == "c-" + dialog);

  auto masked = call(port, "GET", "/api/v1/bot/contacts/" + contact + "/dialog", agent, "", 200);
  CHECK(masked["state"] == "handed_off");
  CHECK(masked["transcript"].dump().find("138****5678") != std::string::npos);
  CHECK(masked["transcript"].dump().find("13812345678") == std::string::npos);
  auto whole = call(port, "GET", "/api/v1/bot/contacts/" + contact + "/dialog", boss, "", 200);
  CHECK(whole["transcript"].dump().find("13812345678") != std::string::npos);

  // Not yet assigned: the agent may not write; once ready, the router gives it the chat.
  call(port, "POST", "/api/v1/webchat/contacts/" + contact + "/messages", agent,
       R"({"text":"您好"})", 403);
  call(port, "POST", "/api/v1/agents/a1/sign-in", agent, "", 200);
  call(port, "POST", "/api/v1/agents/a1/ready", agent, "", 200);
  frameOf(ws, "agent_joined");
  CHECK(call(port, "GET", "/api/v1/contacts/" + contact, agent, "", 200)["agent"] == "a1");
  call(port, "POST", "/api/v1/webchat/contacts/" + contact + "/messages", agent,
       R"({"text":"您好，我是a1"})", 201);
  CHECK(frameOf(ws, "agent")["text"] == "您好，我是a1");
  REQUIRE(ws.send(R"({"type":"message","text":"谢谢"})"));
  // The customer's line after the hand-off is stored for the agent, not answered by the bot.
  Json d;
  for (int i = 0; i < 50; ++i) {
    d = call(port, "GET", "/api/v1/bot/dialogs/" + dialog, agent, "", 200);
    if (d["transcript"].back()["text"] == "谢谢") break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(d["transcript"].back()["kind"] == "to_agent");

  // Two more sessions are allowed this minute from this address, then 429.
  call(port, "POST", "/chat/session", {}, "", 201);
  call(port, "POST", "/chat/session", {}, "", 201);
  auto limited = call(port, "POST", "/chat/session", {}, "", 429);
  CHECK(limited["error"]["code"] == "resource_exhausted");

  auto stats = call(port, "GET", "/api/v1/bot/stats", boss, "", 200);
  CHECK(stats["total"]["handed_off"] == 1);
}
