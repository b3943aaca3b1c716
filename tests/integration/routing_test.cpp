// SPDX-License-Identifier: Apache-2.0
//
// Agents, contacts and queues through the real kefu executable, and the guarantee that an
// acknowledged contact survives kill -9.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::TempDir;
using Json = nlohmann::json;
using kefu::test::call;
using kefu::test::signIn;

namespace {

std::filesystem::path deployment(const TempDir& dir) {
  return dir.write("deploy.toml",
                   kefu::test::authDeploymentHead("threads = 2\n") + R"([plugins.routing-acd]
enabled = true
required = true
[[plugins.routing-acd.queues]]
name = "claims"
skills = ["claims"]
capacity = 1000
[[plugins.routing-acd.queues]]
name = "night"
skills = ["claims"]
closed_action = "voicemail"
hours = { utc_offset = "+08:00" }  # a calendar without ranges: never open
[[plugins.routing-acd.queues]]
name = "weekend"
skills = ["claims"]
closed_action = "overflow"
closed_overflow_queue = "claims"
hours = { closed_dates = ["2026-12-05"] }  # no weekly ranges: never open
[[plugins.routing-acd.agents]]
id = "1001"
skills = { claims = 5 }
[[plugins.routing-acd.agents]]
id = "1002"
skills = { claims = 5 }
)");
}

void addUser(const TempDir& dir, const std::string& id, const std::string& role) {
  kefu::test::addUser(dir, deployment(dir), id, role);
}

using Server = kefu::test::KefuServer;

Server start(const TempDir& dir, const std::string& tag) {
  return kefu::test::serveKefu(dir, deployment(dir), "-" + tag);
}

}  // namespace

TEST_CASE("Agents sign in and handle contacts through the API", "[integration][routing]") {
  TempDir dir;
  addUser(dir, "1001", "agent");
  addUser(dir, "lead", "supervisor");
  Server srv = start(dir, "1");
  int port = srv.port;
  auto agent = signIn(port, "1001");
  auto lead = signIn(port, "lead");

  // Contacts wait while nobody is ready.
  Json c1 = call(port, "POST", "/api/v1/contacts", lead,
                 R"({"id":"c1","queue":"claims","channel":"phone","customer_ref":"cust-7"})",
                 201);
  CHECK(c1["state"] == "waiting");
  call(port, "POST", "/api/v1/contacts", lead, R"({"id":"c2","queue":"claims"})", 201);
  call(port, "POST", "/api/v1/contacts", lead, R"({"id":"c1","queue":"claims"})", 409);
  call(port, "POST", "/api/v1/contacts", lead, R"({"queue":"nowhere"})", 404);
  call(port, "POST", "/api/v1/contacts", lead, R"({"queue":"claims","priority":1000})", 400);
  call(port, "POST", "/api/v1/contacts", lead,
       R"({"queue":"claims","priority":18446744073709551615})", 400);
  call(port, "POST", "/api/v1/contacts", lead, R"({"id":"r1","queue":"nowhere"})", 404);
  call(port, "POST", "/api/v1/contacts", lead, R"({"id":"r1","queue":"nowhere"})", 404);
  call(port, "POST", "/api/v1/contacts", lead, R"({"queue":)", 400);
  call(port, "POST", "/api/v1/contacts", agent, R"({"queue":"claims"})", 403);

  // The agent signs in (not ready), then becomes ready and gets the first contact.
  Json st = call(port, "POST", "/api/v1/agents/1001/sign-in", agent, "", 200);
  CHECK(st["state"] == "away");
  call(port, "POST", "/api/v1/agents/1002/ready", agent, "", 403);  // not its own
  call(port, "POST", "/api/v1/agents/1001/away", agent, R"({"reason":"nap"})", 400);
  call(port, "POST", "/api/v1/agents/1001/ready", agent, "", 200);
  CHECK(call(port, "GET", "/api/v1/contacts/c1", agent, "", 200)["agent"] == "1001");
  CHECK(call(port, "GET", "/api/v1/agents/1001", agent, "", 200)["state"] == "busy");
  Json q = call(port, "GET", "/api/v1/queues/claims", agent, "", 200);
  CHECK(q["waiting"] == 1);

  // Illegal transition: signing out while busy.
  Json refused = call(port, "POST", "/api/v1/agents/1001/sign-out", agent, "", 412);
  CHECK_THAT(refused["error"]["message"].get<std::string>(), Catch::Contains("busy"));

  // Ending a contact hands the agent the next one; the disposition is checked.
  Json ended = call(port, "POST", "/api/v1/contacts/c1/end", agent,
                    R"({"outcome":"resolved"})", 200);
  CHECK(ended["state"] == "ended");
  CHECK(call(port, "GET", "/api/v1/contacts/c2", agent, "", 200)["agent"] == "1001");
  call(port, "POST", "/api/v1/agents/1001/dispositions", agent,
       R"({"contact":"c1","type":"prank","outcome":"resolved"})", 400);
  call(port, "POST", "/api/v1/agents/1001/dispositions", agent,
       R"({"contact":"c1","type":"claim","outcome":"resolved","note":"报案已受理"})", 201);
  call(port, "POST", "/api/v1/agents/1001/dispositions", agent,
       R"({"contact":"c9","type":"claim","outcome":"resolved"})", 404);

  // Away while busy takes effect after the contact.
  Json pending = call(port, "POST", "/api/v1/agents/1001/away", agent,
                      R"({"reason":"meal"})", 200);
  CHECK(pending["state"] == "busy");
  CHECK(pending["pending_away"]["reason"] == "meal");
  CHECK(pending["reason"].is_null());
  call(port, "POST", "/api/v1/contacts", lead, R"({"id":"c3","queue":"claims"})", 201);
  call(port, "POST", "/api/v1/contacts/c2/end", agent, "", 200);
  Json away = call(port, "GET", "/api/v1/agents/1001", agent, "", 200);
  CHECK(away["state"] == "away");
  CHECK(away["reason"] == "meal");
  CHECK(away["pending_away"].is_null());
  CHECK(call(port, "GET", "/api/v1/contacts/c3", agent, "", 200)["state"] == "waiting");

  // A closed queue: the contact is stored with the closed action for the channel.
  Json night = call(port, "GET", "/api/v1/queues/night", agent, "", 200);
  CHECK(night["open"] == false);
  CHECK(night["hours"] == "calendar");
  CHECK(night["next_change"].is_null());
  CHECK(night["closed_action"] == "voicemail");
  Json claims = call(port, "GET", "/api/v1/queues/claims", agent, "", 200);
  CHECK(claims["open"] == true);
  CHECK(claims["hours"] == "24x7");
  Json closed = call(port, "POST", "/api/v1/contacts", lead,
                     R"({"id":"n1","queue":"night","customer_ref":"13812345678"})", 201);
  CHECK(closed["state"] == "ended");
  CHECK(closed["outcome"] == "closed_voicemail");
  CHECK(closed["closed"] == Json{{"queue", "night"}, {"action", "voicemail"}});
  CHECK(c1.count("closed") == 0);
  call(port, "POST", "/api/v1/contacts", lead, R"({"id":"n1","queue":"night"})", 409);
  Json moved = call(port, "POST", "/api/v1/contacts", lead,
                    R"({"id":"w1","queue":"weekend"})", 201);
  CHECK(moved["queue"] == "claims");
  CHECK(moved["state"] == "waiting");
  CHECK(moved["closed"] == Json{{"queue", "weekend"}, {"action", "overflow"}, {"to", "claims"}});
  call(port, "POST", "/api/v1/contacts/c3/abandon", lead, "", 200);
  call(port, "POST", "/api/v1/contacts/c3/abandon", lead, "", 412);  // not open any more
  call(port, "POST", "/api/v1/contacts/c1/end", agent, "", 412);
  call(port, "POST", "/api/v1/contacts/c9/end", agent, "", 404);
  call(port, "POST", "/api/v1/agents/1001/dispositions", agent,
       R"({"contact":"c1","type":"claim","outcome":"resolved"})", 409);  // one per contact

  srv.process->signal(SIGTERM);
  CHECK(srv.process->wait(15s) == 0);

  // Every transition is stored with its time.
  soci::session db("sqlite3", "db=" + (dir / "kefu.db").string());
  int transitions = 0;
  db << "SELECT COUNT(*) FROM acd_agent_states WHERE agent_id = '1001'", soci::into(transitions);
  CHECK(transitions >= 5);  // away, idle, busy, (busy), away
  std::string requested;
  db << "SELECT reason FROM acd_agent_requests WHERE agent_id = '1001' AND kind = "
        "'away_pending'",
      soci::into(requested);
  CHECK(requested == "meal");
}

TEST_CASE("Acknowledged contacts survive kill -9 and are never assigned twice",
          "[integration][routing][durability]") {
  TempDir dir;
  addUser(dir, "1001", "agent");
  addUser(dir, "lead", "supervisor");
  Server srv = start(dir, "1");
  auto agent = signIn(srv.port, "1001");
  auto lead = signIn(srv.port, "lead");
  call(srv.port, "POST", "/api/v1/agents/1001/sign-in", agent, "", 200);
  call(srv.port, "POST", "/api/v1/agents/1001/ready", agent, "", 200);

  // A burst of contacts from two clients; the host is killed in the middle of it.
  std::mutex mu;
  std::vector<std::string> acked;
  std::atomic<bool> stop{false};
  auto burst = [&](int client) {
    for (int i = 0; i < 400 && !stop; ++i) {
      std::string id = "k" + std::to_string(client) + "-" + std::to_string(i);
      auto r = kefu::test::http(srv.port, "POST", "/api/v1/contacts", lead,
                                Json{{"id", id}, {"queue", "claims"}}.dump());
      if (r.status == 201) {
        std::lock_guard lock(mu);
        acked.push_back(id);
      }
    }
  };
  std::thread a(burst, 0), b(burst, 1);
  while (true) {
    {
      std::lock_guard lock(mu);
      if (acked.size() >= 150) break;
    }
    std::this_thread::sleep_for(1ms);
  }
  srv.process->signal(SIGKILL);
  stop = true;
  a.join();
  b.join();
  REQUIRE(srv.process->wait(10s) == -SIGKILL);

  // After the restart every acknowledged contact is there, waiting again from its original
  // arrival (the agent is signed out by the restart), and none is with an agent.
  Server again = start(dir, "2");
  auto lead2 = signIn(again.port, "lead");
  for (const auto& id : acked) {
    Json c = call(again.port, "GET", "/api/v1/contacts/" + id, lead2, "", 200);
    INFO(id);
    CHECK(c["state"] == "waiting");
    CHECK(c["agent"] == "");
  }
  Json q = call(again.port, "GET", "/api/v1/queues/claims", lead2, "", 200);
  CHECK(q["waiting"].get<size_t>() >= acked.size());

  // The agent signs in again and is given exactly one contact: the oldest.
  auto agent2 = signIn(again.port, "1001");
  call(again.port, "POST", "/api/v1/agents/1001/sign-in", agent2, "", 200);
  call(again.port, "POST", "/api/v1/agents/1001/ready", agent2, "", 200);
  again.process->signal(SIGTERM);
  REQUIRE(again.process->wait(15s) == 0);
  soci::session db("sqlite3", "db=" + (dir / "kefu.db").string());
  int assigned = 0, duplicated = 0;
  db << "SELECT COUNT(*) FROM acd_contacts WHERE state = 'assigned'", soci::into(assigned);
  db << "SELECT COUNT(*) FROM (SELECT agent_id FROM acd_contacts WHERE state = 'assigned' "
        "GROUP BY agent_id HAVING COUNT(*) > 1) AS d",
      soci::into(duplicated);
  CHECK(assigned == 1);
  CHECK(duplicated == 0);
}
