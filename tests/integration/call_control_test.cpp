// SPDX-License-Identifier: Apache-2.0
//
// Call controls end to end: the real kefu executable with the real routing-acd and
// sim-telephony plugins, over HTTP on loopback. A simulated call is routed, answered, held,
// transferred blind to an agent and to a queue, consulted, conferenced, barged into and
// hung up; every step and recording reference is found on the contact and in the store.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using Json = nlohmann::json;
using kefu::test::call;
using kefu::test::signIn;

namespace {

std::filesystem::path deployment(const TempDir& dir) {
  return dir.write("deploy.toml",
                   kefu::test::authDeploymentHead("threads = 2\n") + R"([plugins.event-journal]
enabled = true
topics = ["contact"]
[plugins.sim-telephony]
enabled = true
required = true
ring_timeout_seconds = 3600
auto_answer = false
recording = true
[plugins.routing-acd]
enabled = true
required = true
[[plugins.routing-acd.queues]]
name = "claims"
skills = ["claims"]
[[plugins.routing-acd.queues]]
name = "general"
skills = ["general"]
[[plugins.routing-acd.queues]]
name = "webchat"
media = "chat"
skills = ["chat"]
[[plugins.routing-acd.agents]]
id = "1001"
skills = { claims = 5, general = 5 }
[[plugins.routing-acd.agents]]
id = "1002"
skills = { claims = 5 }
[[plugins.routing-acd.agents]]
id = "1003"
skills = { claims = 5 }
)");
}

void addUser(const TempDir& dir, const std::string& id, const std::string& role) {
  kefu::test::addUser(dir, deployment(dir), id, role);
}

using Auth = kefu::test::Headers;

std::string reason(const Json& error) { return error["error"]["message"].get<std::string>(); }

std::vector<std::string> steps(const Json& contact) {
  std::vector<std::string> out;
  for (const auto& l : contact["legs"]) {
    out.push_back(l["source"].get<std::string>() + ":" + l["step"].get<std::string>());
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("A simulated call goes through every call control",
          "[integration][routing][channels]") {
  TempDir dir;
  for (const char* a : {"1001", "1002", "1003"}) addUser(dir, a, "agent");
  addUser(dir, "lead", "supervisor");
  auto serving = kefu::test::serveKefu(dir, deployment(dir));
  Process& srv = *serving.process;
  int port = serving.port;
  Auth lead = signIn(port, "lead");
  std::map<std::string, Auth> agent;
  for (const char* a : {"1001", "1002", "1003"}) {
    agent[a] = signIn(port, a);
    call(port, "POST", std::string("/api/v1/agents/") + a + "/sign-in", agent[a], "", 200);
  }
  auto ready = [&](const std::string& a) {
    call(port, "POST", "/api/v1/agents/" + a + "/ready", agent[a], "", 200);
  };
  auto contact = [&](const std::string& id) {
    return call(port, "GET", "/api/v1/contacts/" + id, lead, "", 200);
  };
  auto control = [&](const std::string& id, const std::string& what, const Auth& who,
                     const std::string& body, int expect) {
    return call(port, "POST", "/api/v1/contacts/" + id + "/" + what, who, body, expect);
  };
  auto stateOf = [&](const std::string& a) {
    return call(port, "GET", "/api/v1/agents/" + a, lead, "", 200)["state"].get<std::string>();
  };

  // Every new route wants a token.
  for (const char* what : {"answer", "hold", "resume", "hangup", "transfer", "consult",
                           "conference", "monitor", "whisper", "barge"}) {
    CHECK(kefu::test::http(port, "POST", std::string("/api/v1/contacts/x/") + what).status ==
          401);
  }
  CHECK(kefu::test::http(port, "POST", "/api/v1/sim/calls").status == 401);
  CHECK(kefu::test::http(port, "GET", "/api/v1/sim/calls/x").status == 401);
  CHECK(kefu::test::http(port, "POST", "/api/v1/sim/calls/x/hangup").status == 401);

  // A call comes in and rings the one ready agent.
  ready("1001");
  call(port, "POST", "/api/v1/sim/calls", agent["1001"], R"({"queue":"claims"})", 403);
  call(port, "POST", "/api/v1/sim/calls", lead, R"({"queue":"nowhere"})", 404);
  Json placed = call(port, "POST", "/api/v1/sim/calls", lead,
                     R"({"id":"call1","queue":"claims","customer_ref":"13812345678"})", 201);
  CHECK(placed["state"] == "ringing");
  CHECK(placed["agent"] == "1001");
  Json c = contact("call1");
  CHECK(c["channel"] == "phone");
  CHECK(c["call"]["phase"] == "ringing");
  CHECK(has(steps(c), "media:ringing"));

  // Only the ringing agent answers; controls before the answer are refused.
  control("call1", "answer", agent["1002"], "", 403);
  CHECK_THAT(reason(control("call1", "hold", agent["1001"], "", 412)),
             Catch::Contains("ringing"));
  c = control("call1", "answer", agent["1001"], "", 200);
  CHECK(c["call"]["phase"] == "connected");
  CHECK(c["customer_ref"] == "138****5678");  // masked for an agent
  CHECK(c["recordings"].size() == 1);
  CHECK(c["recordings"][0]["ref"] == "sim://rec/call1/1");
  control("call1", "answer", agent["1001"], "", 412);

  // Hold and resume, each only once.
  c = control("call1", "hold", agent["1001"], "", 200);
  CHECK(c["call"]["phase"] == "held");
  CHECK(c["call"]["held"] == true);
  CHECK(call(port, "GET", "/api/v1/sim/calls/call1", lead, "", 200)["music_on_hold"] == true);
  CHECK_THAT(reason(control("call1", "hold", agent["1001"], "", 412)),
             Catch::Contains("on hold already"));
  c = control("call1", "resume", agent["1001"], "", 200);
  CHECK(c["call"]["held"] == false);
  CHECK_THAT(reason(control("call1", "resume", agent["1001"], "", 412)),
             Catch::Contains("not on hold"));

  // Supervision is for supervisors.
  control("call1", "monitor", agent["1001"], "", 403);
  control("call1", "barge", agent["1002"], "", 403);

  // Blind transfer to an agent: refused while the agent is away, to an unknown queue, to
  // oneself or with a malformed body; then done once the agent is ready.
  CHECK_THAT(reason(control("call1", "transfer", agent["1001"], R"({"to_agent":"1002"})",
                            412)),
             Catch::Contains("away"));
  control("call1", "transfer", agent["1001"], R"({"to_queue":"nowhere"})", 404);
  control("call1", "transfer", agent["1001"], R"({"to_queue":"webchat"})", 400);
  control("call1", "transfer", agent["1001"], R"({"to_agent":"1001"})", 400);
  control("call1", "transfer", agent["1001"], R"({"to_agent":"1002","to_queue":"claims"})",
          400);
  control("call1", "transfer", agent["1002"], R"({"to_agent":"1003"})", 403);
  ready("1002");
  c = control("call1", "transfer", agent["1001"], R"({"to_agent":"1002"})", 200);
  CHECK(c["agent"] == "1002");
  CHECK(c["call"]["phase"] == "ringing");
  CHECK(stateOf("1001") == "idle");
  c = control("call1", "answer", agent["1002"], "", 200);
  CHECK(c["recordings"].size() == 2);

  // Blind transfer to a queue: routed again, to the one ready agent serving it.
  c = control("call1", "transfer", agent["1002"], R"({"to_queue":"general"})", 200);
  CHECK(c["queue"] == "general");
  CHECK(c["agent"] == "1001");
  CHECK(c["call"]["phase"] == "ringing");
  CHECK(stateOf("1002") == "idle");
  control("call1", "answer", agent["1001"], "", 200);

  // Consult transfer: cancelled once, then completed.
  c = control("call1", "consult", agent["1001"], R"({"to_agent":"1002"})", 200);
  CHECK(c["call"]["phase"] == "consulting");
  CHECK(c["call"]["consult_agent"] == "1002");
  CHECK(stateOf("1002") == "busy");
  CHECK_THAT(reason(control("call1", "transfer", agent["1001"], R"({"to_queue":"claims"})",
                            412)),
             Catch::Contains("consultation"));
  c = control("call1", "consult", agent["1001"], R"({"action":"cancel"})", 200);
  CHECK(c["call"]["phase"] == "connected");
  CHECK(stateOf("1002") == "idle");
  control("call1", "consult", agent["1001"], R"({"action":"complete"})", 412);
  control("call1", "consult", agent["1001"], R"({"to_agent":"1002"})", 200);
  c = control("call1", "consult", agent["1001"], R"({"action":"complete"})", 200);
  CHECK(c["agent"] == "1002");
  CHECK(c["call"]["phase"] == "connected");
  CHECK(stateOf("1001") == "idle");
  CHECK(stateOf("1002") == "busy");

  // A second call takes the third agent (the first is on a break meanwhile).
  auto away = [&](const std::string& a) {
    call(port, "POST", "/api/v1/agents/" + a + "/away", agent[a], R"({"reason":"break"})", 200);
  };
  away("1001");
  ready("1003");
  call(port, "POST", "/api/v1/sim/calls", lead, R"({"id":"","queue":"claims"})", 400);
  call(port, "POST", "/api/v1/sim/calls", lead, R"({"id":"call2","queue":"claims"})", 201);
  CHECK(contact("call2")["agent"] == "1003");
  CHECK_THAT(reason(call(port, "POST", "/api/v1/agents/1003/dispositions", agent["1003"],
                         R"({"contact":"call2","type":"claim","outcome":"resolved"})", 412)),
             Catch::Contains("not answered"));
  control("call2", "answer", agent["1003"], "", 200);
  ready("1001");

  // Three-party conference; nobody ever holds two voice contacts.
  CHECK_THAT(reason(control("call1", "conference", agent["1002"], R"({"to_agent":"1003"})",
                            412)),
             Catch::Contains("busy"));
  c = control("call1", "conference", agent["1002"], R"({"to_agent":"1001"})", 200);
  CHECK(c["call"]["phase"] == "conference");
  CHECK(c["call"]["conference_agent"] == "1001");
  CHECK(stateOf("1001") == "busy");
  CHECK_THAT(reason(control("call2", "transfer", agent["1003"], R"({"to_agent":"1001"})",
                            412)),
             Catch::Contains("busy"));
  CHECK_THAT(reason(control("call1", "conference", agent["1002"], R"({"to_agent":"1003"})",
                            412)),
             Catch::Contains("three parties"));

  // The supervisor barges in; an agent may not monitor.
  control("call1", "monitor", agent["1003"], "", 403);
  c = control("call1", "monitor", lead, "", 200);
  CHECK(c["call"]["supervisors"][0]["mode"] == "monitor");
  c = control("call1", "barge", lead, "", 200);
  CHECK(c["call"]["supervisors"][0]["mode"] == "barge");
  control("call1", "barge", lead, "", 412);

  // Hanging up names who leaves: nobody not on the contact, a supervisor only itself.
  control("call1", "hangup", lead, R"({"agent":"nobody"})", 404);
  control("call1", "hangup", agent["1002"], R"({"agent":"nobody"})", 404);
  control("call1", "hangup", agent["1002"], R"({"agent":"lead"})", 403);
  c = control("call1", "hangup", lead, R"({"agent":"lead"})", 200);
  CHECK(c["state"] == "assigned");
  CHECK(c["call"]["phase"] == "conference");
  CHECK(c["call"]["supervisors"].empty());
  CHECK(call(port, "GET", "/api/v1/sim/calls/call1", lead, "", 200)["supervisors"].empty());
  control("call1", "monitor", lead, "", 200);
  c = control("call1", "hangup", lead, "", 200);  // a supervising lead leaves by default
  CHECK(c["call"]["phase"] == "conference");
  CHECK(c["call"]["supervisors"].empty());
  control("call1", "barge", lead, "", 200);

  // The conferenced agent leaves, then the holder hangs up.
  c = control("call1", "hangup", agent["1001"], "", 200);
  CHECK(c["call"]["phase"] == "connected");
  CHECK(stateOf("1001") == "idle");
  c = control("call1", "hangup", agent["1002"], R"({"outcome":"resolved"})", 200);
  CHECK(c["state"] == "ended");
  CHECK(c["outcome"] == "resolved");
  CHECK(c["call"]["phase"] == "ended");
  control("call1", "hold", agent["1002"], "", 412);
  CHECK(call(port, "GET", "/api/v1/sim/calls/call1", lead, "", 200)["state"] == "ended");

  // Each agent who talked on the contact records its own disposition once; 1003 never did.
  const std::string disp = R"({"contact":"call1","type":"claim","outcome":"resolved"})";
  for (const char* a : {"1001", "1002"}) {
    call(port, "POST", std::string("/api/v1/agents/") + a + "/dispositions", agent[a], disp,
         201);
    call(port, "POST", std::string("/api/v1/agents/") + a + "/dispositions", agent[a], disp,
         409);
  }
  CHECK_THAT(reason(call(port, "POST", "/api/v1/agents/1003/dispositions", agent["1003"], disp,
                         412)),
             Catch::Contains("not handled by agent 1003"));
  call(port, "POST", "/api/v1/agents/1001/dispositions", agent["1001"],
       R"({"contact":"call1","type":"claim","outcome":"resolved","note":")" +
           std::string(2001, 'x') + "\"}", 400);

  // The contact's record holds every step and every recording, each stopped.
  c = contact("call1");
  auto s = steps(c);
  for (const char* step :
       {"control:answer", "control:hold", "control:resume", "control:transfer_to_agent",
        "control:transfer_to_queue", "control:consult", "control:consult_cancel",
        "control:consult_complete", "control:conference", "control:supervise",
        "control:leave", "control:unsupervise", "control:hangup", "media:answered",
        "media:held", "media:resumed",
        "media:transfer_completed", "media:conference_joined", "media:recording_started",
        "media:recording_stopped", "media:hung_up_by_agent"}) {
    INFO(step);
    CHECK(has(s, step));
  }
  std::vector<std::string> refs;
  for (const auto& r : c["recordings"]) {
    refs.push_back(r["ref"]);
    CHECK(r.contains("stopped_at"));
  }
  CHECK(refs == std::vector<std::string>{"sim://rec/call1/1", "sim://rec/call1/2",
                                         "sim://rec/call1/3", "sim://rec/call1/4"});

  // A caller who hangs up while queued abandons.
  away("1001");
  call(port, "POST", "/api/v1/sim/calls", lead, R"({"id":"call3","queue":"general"})", 201);
  CHECK(contact("call3")["state"] == "waiting");
  control("call3", "hangup", lead, "", 412);  // no agent yet
  call(port, "POST", "/api/v1/sim/calls/call3/hangup", lead, "", 200);
  CHECK(contact("call3")["state"] == "abandoned");
  call(port, "POST", "/api/v1/sim/calls/call3/hangup", lead, "", 412);

  // The caller of call2 hangs up while talking: the contact ends and the agent is free.
  call(port, "POST", "/api/v1/sim/calls/call2/hangup", lead, "", 200);
  c = contact("call2");
  CHECK(c["state"] == "ended");
  CHECK(c["outcome"] == "hung_up_by_customer");
  CHECK(stateOf("1003") == "idle");

  // A contact of a channel that no plugin carries is routed, but its controls cannot be
  // carried out; ending it through the API still works.
  call(port, "POST", "/api/v1/contacts", lead,
       R"({"id":"chat1","queue":"claims","channel":"app"})", 201);
  c = contact("chat1");
  CHECK(c["state"] == "assigned");
  CHECK(c["call"]["phase"] == "ringing");
  CHECK_THAT(reason(control("chat1", "answer", lead, "", 503)),
             Catch::Contains("no channel 'app'"));
  call(port, "POST", "/api/v1/contacts/chat1/end", lead, "", 200);

  // A phone call never joins a chat queue, nor a chat a voice queue; a contact naming no
  // channel comes on the usual one of its queue's medium.
  CHECK_THAT(reason(call(port, "POST", "/api/v1/sim/calls", lead,
                         R"({"id":"v1","queue":"webchat"})", 400)),
             Catch::Contains("channel 'phone' carries voice"));
  call(port, "POST", "/api/v1/contacts", lead,
       R"({"id":"v2","queue":"webchat","channel":"phone"})", 400);
  call(port, "POST", "/api/v1/contacts", lead,
       R"({"id":"v3","queue":"claims","channel":"webchat"})", 400);
  c = call(port, "POST", "/api/v1/contacts", lead, R"({"id":"v4","queue":"webchat"})", 201);
  CHECK(c["channel"] == "webchat");
  call(port, "GET", "/api/v1/contacts/v1", lead, "", 404);

  // Each control was published on the bus (here read back from the journal).
  Json events = call(port, "GET", "/api/v1/journal/events?topic=contact&limit=1000", lead, "",
                     200)["events"];
  std::set<std::string> topics;
  for (const auto& e : events) topics.insert(e["topic"].get<std::string>());
  for (const char* topic :
       {"contact.answered", "contact.held", "contact.resumed", "contact.transferred",
        "contact.consult_started", "contact.consult_cancelled", "contact.conferenced",
        "contact.monitored", "contact.barged", "contact.left", "contact.hung_up",
        "contact.media", "contact.ended", "contact.abandoned"}) {
    INFO(topic);
    CHECK(topics.count(topic));
  }

  srv.signal(SIGTERM);
  REQUIRE(srv.wait(15s) == 0);

  soci::session db("sqlite3", "db=" + (dir / "kefu.db").string());
  int legs = 0, recordings = 0, open = 0;
  db << "SELECT COUNT(*) FROM acd_contact_legs WHERE contact_id = 'call1'", soci::into(legs);
  db << "SELECT COUNT(*) FROM acd_recordings WHERE contact_id = 'call1'", soci::into(recordings);
  db << "SELECT COUNT(*) FROM acd_recordings WHERE stopped_ms IS NULL", soci::into(open);
  CHECK(legs >= 30);
  CHECK(recordings == 4);
  CHECK(open == 0);
}

TEST_CASE("A call still waiting at a restart rings its agent after it",
          "[integration][routing][channels][durability]") {
  TempDir dir;
  addUser(dir, "1002", "agent");
  addUser(dir, "lead", "supervisor");
  auto serve = [&](const std::string& tag) {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{KEFU_BINARY, "serve", "--config", deployment(dir).string(),
                                 "--data-dir", dir.path().string()},
        dir / ("out-" + tag), dir / ("err-" + tag));
    return p;
  };
  auto first = serve("1");
  int port = first->waitForPort(20s);
  REQUIRE(port > 0);
  call(port, "POST", "/api/v1/sim/calls", signIn(port, "lead"),
       R"({"id":"late1","queue":"claims"})", 201);
  first->signal(SIGTERM);
  REQUIRE(first->wait(15s) == 0);

  auto second = serve("2");
  port = second->waitForPort(20s);
  REQUIRE(port > 0);
  Auth lead = signIn(port, "lead"), a = signIn(port, "1002");
  CHECK(call(port, "GET", "/api/v1/contacts/late1", lead, "", 200)["call"]["phase"] ==
        "queued");
  call(port, "POST", "/api/v1/agents/1002/sign-in", a, "", 200);
  call(port, "POST", "/api/v1/agents/1002/ready", a, "", 200);
  Json c = call(port, "GET", "/api/v1/contacts/late1", lead, "", 200);
  CHECK(c["agent"] == "1002");
  CHECK(c["call"]["phase"] == "ringing");
  // The phone adopts the recovered contact and rings the agent.
  CHECK(call(port, "GET", "/api/v1/sim/calls/late1", lead, "", 200)["state"] == "ringing");
  c = call(port, "POST", "/api/v1/contacts/late1/answer", a, "", 200);
  CHECK(c["call"]["phase"] == "connected");
  CHECK(c["recordings"][0]["ref"] == "sim://rec/late1/1");
  second->signal(SIGTERM);
  REQUIRE(second->wait(15s) == 0);
}

namespace {

// A deployment whose simulated phone answers or gives up by itself.
std::filesystem::path timedDeployment(const TempDir& dir, const std::string& simKeys) {
  return dir.write("timed.toml", std::string(R"([host]
plugin_dirs = [")") + KEFU_BUILD_PLUGIN_DIR + R"("]
[http]
listen = "127.0.0.1:0"
[plugins.sim-telephony]
enabled = true
required = true
)" + simKeys + R"(
[plugins.routing-acd]
enabled = true
required = true
[[plugins.routing-acd.queues]]
name = "claims"
[[plugins.routing-acd.agents]]
id = "1001"
)");
}

// Polls the contact until `done` holds for it (the phone acts on its own timer).
Json waitFor(int port, const Auth& auth, const std::string& id,
             const std::function<bool(const Json&)>& done) {
  Json c;
  for (int i = 0; i < 500; ++i) {
    c = call(port, "GET", "/api/v1/contacts/" + id, auth, "", 200);
    if (done(c)) break;
    std::this_thread::sleep_for(20ms);
  }
  return c;
}

}  // namespace

TEST_CASE("The simulated phone answers by itself or the caller gives up",
          "[integration][channels]") {
  TempDir dir;
  for (const char* keys : {"auto_answer = true\nanswer_delay_ms = 0\n",
                           "ring_timeout_seconds = 1\nrecording = false\n"}) {
    bool autoAnswer = std::string(keys).find("auto_answer") != std::string::npos;
    INFO(keys);
    Process srv({KEFU_BINARY, "serve", "--config", timedDeployment(dir, keys).string(),
                 "--data-dir", (dir / (autoAnswer ? "a" : "b")).string()},
                dir / (autoAnswer ? "out-a" : "out-b"), dir / (autoAnswer ? "err-a" : "err-b"));
    int port = srv.waitForPort(20s);
    REQUIRE(port > 0);
    std::string token = kefu::test::readFile(dir / (autoAnswer ? "a" : "b") / "admin.token");
    token.erase(token.find_last_not_of("\r\n") + 1);
    Auth admin{{"Authorization", "Bearer " + token}};
    call(port, "POST", "/api/v1/agents/1001/sign-in", admin, "", 200);
    call(port, "POST", "/api/v1/agents/1001/ready", admin, "", 200);
    call(port, "POST", "/api/v1/sim/calls", admin, R"({"id":"t1","queue":"claims"})", 201);
    if (autoAnswer) {
      // The channel reports the answer and the recording as two media events.
      Json c = waitFor(port, admin, "t1", [](const Json& x) {
        return x["call"]["phase"] == "connected" && !x["recordings"].empty();
      });
      CHECK(c["call"]["phase"] == "connected");
      CHECK(c["recordings"][0]["ref"] == "sim://rec/t1/1");
    } else {
      Json c = waitFor(port, admin, "t1", [](const Json& x) { return x["state"] == "ended"; });
      CHECK(c["state"] == "ended");
      CHECK(c["outcome"] == "hung_up_by_customer");
      CHECK(c["recordings"].empty());
      CHECK(call(port, "GET", "/api/v1/agents/1001", admin, "", 200)["state"] == "idle");
    }
    srv.signal(SIGTERM);
    REQUIRE(srv.wait(15s) == 0);
  }
}

TEST_CASE("sim-telephony names the file line and key of a bad setting",
          "[integration][channels][config]") {
  TempDir dir;
  auto file = timedDeployment(dir, "answer_delay_ms = 90000\n");
  Process check({KEFU_BINARY, "check", "--config", file.string()}, dir / "out", dir / "err");
  REQUIRE(check.wait(20s) == 1);
  CHECK_THAT(check.err(), Catch::Contains(file.string() + ":8:19: "
                                          "plugins.sim-telephony.answer_delay_ms: must be 0 to "
                                          "60000"));
}

TEST_CASE("A plugin command beside a serving host leaves its contacts alone",
          "[integration][routing][channels][durability]") {
  TempDir dir;
  addUser(dir, "1003", "agent");
  addUser(dir, "lead", "supervisor");
  std::string config = deployment(dir).string(), data = dir.path().string();
  Process srv({KEFU_BINARY, "serve", "--config", config, "--data-dir", data}, dir / "out",
              dir / "err");
  int port = srv.waitForPort(20s);
  INFO(srv.err());
  REQUIRE(port > 0);
  Auth lead = signIn(port, "lead"), a = signIn(port, "1003");
  call(port, "POST", "/api/v1/agents/1003/sign-in", a, "", 200);
  call(port, "POST", "/api/v1/agents/1003/ready", a, "", 200);
  call(port, "POST", "/api/v1/sim/calls", lead, R"({"id":"z1","queue":"claims"})", 201);
  call(port, "POST", "/api/v1/contacts/z1/answer", a, "", 200);

  // Read-only and writing commands on the same data directory while it serves.
  using Words = std::vector<std::string>;
  for (Words cmd : {Words{"user", "list"}, Words{"journal", "tail"},
                    Words{"user", "add", "--id", "1004", "--role", "agent", "--password-stdin"}}) {
    Words args = {KEFU_BINARY};
    args.insert(args.end(), cmd.begin(), cmd.end());
    args.insert(args.end(), {"--config", config, "--data-dir", data});
    Process p(args, dir / "cmd.out", dir / "cmd.err", "1004-password-123\n");
    INFO(cmd[0] << " " << cmd[1] << ": " << p.err());
    REQUIRE(p.wait(30s) == 0);
  }
  {
    soci::session db("sqlite3", "db=" + (dir / "kefu.db").string());
    std::string state, agent;
    db << "SELECT state, agent_id FROM acd_contacts WHERE id = 'z1'", soci::into(state),
        soci::into(agent);
    CHECK(state == "assigned");
    CHECK(agent == "1003");
  }
  Json c = call(port, "GET", "/api/v1/contacts/z1", lead, "", 200);
  CHECK(c["state"] == "assigned");
  CHECK(c["agent"] == "1003");
  CHECK(c["call"]["phase"] == "connected");
  c = call(port, "POST", "/api/v1/contacts/z1/hangup", a, "", 200);
  CHECK(c["state"] == "ended");
  CHECK(c["agent"] == "1003");
  call(port, "POST", "/api/v1/agents/1003/dispositions", a,
       R"({"contact":"z1","type":"inquiry","outcome":"resolved"})", 201);
  srv.signal(SIGTERM);
  REQUIRE(srv.wait(15s) == 0);
}

TEST_CASE("Routing and phone settings that cannot work are refused at the key",
          "[integration][routing][channels][config]") {
  TempDir dir;
  // Each case: extra TOML for the router and the phone, the key that is wrong (its line is
  // where it appears) and the reason.
  struct Case {
    std::string sim, queues, agents, key, line, reason;
  };
  const std::string claims = "[[plugins.routing-acd.queues]]\nname = \"claims\"\n";
  const std::string chat = "[[plugins.routing-acd.queues]]\nname = \"webchat\"\n"
                           "media = \"chat\"\n";
  const std::string agent1 = "[[plugins.routing-acd.agents]]\nid = \"1001\"\n";
  std::vector<Case> cases = {
      {"", claims + "overflow_queue = \"nowhere\"\n" + chat, agent1,
       "plugins.routing-acd.queues[0].overflow_queue", "overflow_queue = \"nowhere\"",
       "no queue 'nowhere'"},
      {"", claims + "overflow_queue = \"webchat\"\n" + chat, agent1,
       "plugins.routing-acd.queues[0].overflow_queue", "overflow_queue = \"webchat\"",
       "carries chat"},
      {"", claims, agent1 + "[[plugins.routing-acd.agents]]\nid = \"1001\" # again\n",
       "plugins.routing-acd.agents[1].id", "id = \"1001\" # again", "defined twice"},
      {"", claims, "[[plugins.routing-acd.agents]]\nid = \"bad id!\"\n",
       "plugins.routing-acd.agents[0].id", "id = \"bad id!\"", "a user id"},
      {"default_queue = \"nowhere\"\n", claims + chat, agent1,
       "plugins.sim-telephony.default_queue", "default_queue = \"nowhere\"",
       "no queue 'nowhere'"},
      {"default_queue = \"webchat\"\n", claims + chat, agent1,
       "plugins.sim-telephony.default_queue", "default_queue = \"webchat\"", "not phone calls"},
      {"", claims + "hours = { mon = [\"08:00-12:00\", \"11:00-13:00\"] }\n", agent1,
       "plugins.routing-acd.queues[0].hours.mon[1]", "hours = { mon", "overlaps '08:00-12:00'"},
      {"", claims, agent1, "plugins.routing-acd.away_reasons", "away_reasons",
       "'signed_in' is reserved"},
  };
  int n = 0;
  for (const auto& c : cases) {
    std::string extra = c.key == "plugins.routing-acd.away_reasons"
                            ? "away_reasons = [\"break\", \"signed_in\"]\n"
                            : "";
    std::string text = std::string("[host]\nplugin_dirs = [\"") + KEFU_BUILD_PLUGIN_DIR +
                       "\"]\n[plugins.sim-telephony]\nenabled = true\n" + c.sim +
                       "[plugins.routing-acd]\nenabled = true\n" + extra + c.queues + c.agents;
    auto file = dir.write("bad" + std::to_string(++n) + ".toml", text);
    size_t at = text.find(c.line);
    REQUIRE(at != std::string::npos);
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
    Process check({KEFU_BINARY, "check", "--config", file.string()}, dir / "out", dir / "err");
    auto code = check.wait(20s);
    INFO(text << "\n-> " << check.err());
    CHECK(code != 0);
    CHECK_THAT(check.err(), Catch::Contains(file.string() + ":" + std::to_string(line) + ":"));
    CHECK_THAT(check.err(), Catch::Contains(c.key + ": "));
    CHECK_THAT(check.err(), Catch::Contains(c.reason));
  }
}

TEST_CASE("A call to a closed queue ends or moves on the simulated phone too",
          "[integration][routing][channels][hours]") {
  TempDir dir;
  auto file = dir.write("closed.toml", std::string(R"([host]
plugin_dirs = [")") + KEFU_BUILD_PLUGIN_DIR + R"("]
[http]
listen = "127.0.0.1:0"
[plugins.sim-telephony]
enabled = true
[plugins.routing-acd]
enabled = true
[[plugins.routing-acd.queues]]
name = "general"
[[plugins.routing-acd.queues]]
name = "policy"
closed_action = "callback"
hours = { utc_offset = "+08:00" }  # never open
[[plugins.routing-acd.queues]]
name = "claims"
closed_action = "overflow"
closed_overflow_queue = "general"
hours = { utc_offset = "+08:00" }
[[plugins.routing-acd.agents]]
id = "1001"
)");
  Process srv({KEFU_BINARY, "serve", "--config", file.string(), "--data-dir",
               dir.path().string()},
              dir / "out", dir / "err");
  int port = srv.waitForPort(20s);
  INFO(srv.err());
  REQUIRE(port > 0);
  std::string token = kefu::test::readFile(dir / "admin.token");
  token.erase(token.find_last_not_of("\r\n") + 1);
  Auth admin{{"Authorization", "Bearer " + token}};

  Json placed = call(port, "POST", "/api/v1/sim/calls", admin,
                     R"({"id":"h3","queue":"policy"})", 201);
  CHECK(placed["state"] == "ended");
  CHECK(placed["closed"] == Json{{"queue", "policy"}, {"action", "callback"}});
  Json c = call(port, "GET", "/api/v1/contacts/h3", admin, "", 200);
  CHECK(c["outcome"] == "closed_callback");
  CHECK(c["call"]["phase"] == "ended");
  CHECK_THAT(reason(call(port, "POST", "/api/v1/contacts/h3/answer", admin, "", 412)),
             Catch::Contains("takes no more controls"));

  placed = call(port, "POST", "/api/v1/sim/calls", admin, R"({"id":"h4","queue":"claims"})",
                201);
  CHECK(placed["state"] == "queued");
  CHECK(placed["queue"] == "general");
  CHECK(placed["closed"] ==
        Json{{"queue", "claims"}, {"action", "overflow"}, {"to", "general"}});
  CHECK(call(port, "GET", "/api/v1/contacts/h4", admin, "", 200)["queue"] == "general");
  // A waiting call takes no controls; only a hang-up is pointed at abandoning.
  std::string why = reason(call(port, "POST", "/api/v1/contacts/h4/answer", admin, "", 412));
  CHECK_THAT(why, Catch::Contains("no agent yet"));
  CHECK_THAT(why, !Catch::Contains("abandoned"));
  srv.signal(SIGTERM);
  REQUIRE(srv.wait(15s) == 0);
}
