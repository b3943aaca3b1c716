// SPDX-License-Identifier: Apache-2.0
//
// Two `kefu serve` processes with routing-acd share one PostgreSQL database. Runs only under
// tests/postgres/with_postgres.sh, which starts a real server (ctest does).
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "process.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using Json = nlohmann::json;

namespace {

std::filesystem::path clusterDeployment(const TempDir& dir, const std::string& host) {
  return dir.write("deploy-" + host + ".toml", std::string(R"([host]
plugin_dirs = [")") + KEFU_BUILD_PLUGIN_DIR + R"("]
[store]
url = ")" + std::getenv("KEFU_TEST_PG_URL") + R"("
password = "env:KEFU_TEST_PG_PASSWORD"
[http]
listen = "127.0.0.1:0"
threads = 2
[plugins.event-journal]
enabled = true
topics = ["routing.assigned"]
[plugins.routing-acd]
enabled = true
required = true
cluster_host_id = ")" + host + R"("
cluster_poll_ms = 100
[[plugins.routing-acd.queues]]
name = "claims"
[[plugins.routing-acd.agents]]
id = "1001"
[[plugins.routing-acd.agents]]
id = "1002"
[[plugins.routing-acd.agents]]
id = "2001"
[[plugins.routing-acd.agents]]
id = "2002"
)");
}

struct Node {
  std::string name;
  std::filesystem::path dataDir;
  std::unique_ptr<Process> process;
  int port = 0;
  std::map<std::string, std::string> auth;
};

void start(const TempDir& dir, Node& n) {
  n.dataDir = dir / n.name;
  std::filesystem::create_directories(n.dataDir);
  n.process = std::make_unique<Process>(
      std::vector<std::string>{KEFU_BINARY, "serve", "--config",
                               clusterDeployment(dir, n.name).string(), "--data-dir",
                               n.dataDir.string()},
      dir / ("out-" + n.name), dir / ("err-" + n.name));
  n.port = n.process->waitForPort(30s);
  INFO(n.process->err());
  REQUIRE(n.port > 0);
  std::string token = kefu::test::readFile(n.dataDir / "admin.token");
  while (!token.empty() && token.back() == '\n') token.pop_back();
  n.auth = {{"Authorization", "Bearer " + token}};
}

kefu::test::HttpResult call(const Node& n, const std::string& method, const std::string& path,
                            const std::string& body = "") {
  return kefu::test::http(n.port, method, path, n.auth, body);
}

}  // namespace

TEST_CASE("Two kefu hosts on one PostgreSQL database assign each contact once",
          "[.][multihost]") {
  REQUIRE(std::getenv("KEFU_TEST_PG_URL") != nullptr);
  TempDir dir;
  Node h1{"h1"}, h2{"h2"};
  // One after the other: migrations take no lock across hosts.
  start(dir, h1);
  start(dir, h2);

  // Agents 1xxx sign in on h1, 2xxx on h2; nobody signs in twice.
  std::vector<std::pair<Node*, std::string>> agents = {
      {&h1, "1001"}, {&h1, "1002"}, {&h2, "2001"}, {&h2, "2002"}};
  for (const auto& [node, agent] : agents) {
    auto r = call(*node, "POST", "/api/v1/agents/" + agent + "/sign-in");
    REQUIRE(r.status == 200);
    CHECK(Json::parse(r.body)["host"] == node->name);
    REQUIRE(call(*node, "POST", "/api/v1/agents/" + agent + "/ready").status == 200);
  }
  auto twice = call(h2, "POST", "/api/v1/agents/1001/sign-in");
  CHECK(twice.status == 412);
  CHECK_THAT(twice.body, Catch::Contains("signed in on host 'h1'"));

  // A burst on both hosts while each host's agents end whatever they hold.
  const int perHost = 60;
  std::atomic<int> failures{0};
  auto produce = [&](const Node& n) {
    for (int i = 0; i < perHost; ++i) {
      auto r = call(n, "POST", "/api/v1/contacts",
                    Json{{"id", n.name + "-c" + std::to_string(i)}, {"queue", "claims"}}.dump());
      if (r.status != 201) ++failures;
    }
  };
  std::thread p1(produce, std::cref(h1)), p2(produce, std::cref(h2));
  p1.join();
  p2.join();
  CHECK(failures == 0);

  std::set<std::string> open;
  for (const Node* n : {&h1, &h2}) {
    for (int i = 0; i < perHost; ++i) open.insert(n->name + "-c" + std::to_string(i));
  }
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (!open.empty() && std::chrono::steady_clock::now() < deadline) {
    for (auto it = open.begin(); it != open.end();) {
      Json c = Json::parse(call(h1, "GET", "/api/v1/contacts/" + *it).body);
      if (c["state"] == "ended") {
        it = open.erase(it);
        continue;
      }
      if (c["state"] == "assigned") {
        // The agent's own host ends it; the other host refuses.
        const Node& holder = c["agent"].get<std::string>()[0] == '1' ? h1 : h2;
        const Node& other = &holder == &h1 ? h2 : h1;
        CHECK(call(other, "POST", "/api/v1/contacts/" + *it + "/end").status == 412);
        auto r = call(holder, "POST", "/api/v1/contacts/" + *it + "/end",
                      R"({"outcome":"resolved"})");
        CHECK(r.status == 200);
      }
      ++it;
    }
    std::this_thread::sleep_for(20ms);
  }
  CHECK(open.empty());

  for (Node* n : {&h1, &h2}) {
    n->process->signal(SIGTERM);
    CHECK(n->process->wait(20s) == 0);
  }

  // Every contact ended once, and the journal holds one assignment per contact.
  std::string conn = std::string(std::getenv("KEFU_TEST_PG_URL")) +
                     "?password=" + std::getenv("KEFU_TEST_PG_PASSWORD");
  soci::session db("postgresql", conn);
  long long ended = 0, contacts = 0;
  db << "SELECT COUNT(*) FROM acd_contacts WHERE id LIKE 'h_-c%'", soci::into(contacts);
  db << "SELECT COUNT(*) FROM acd_contacts WHERE id LIKE 'h_-c%' AND state = 'ended' AND "
        "outcome = 'resolved'",
      soci::into(ended);
  CHECK(contacts == 2 * perHost);
  CHECK(ended == 2 * perHost);
  soci::rowset<soci::row> rows =
      (db.prepare << "SELECT payload FROM journal_events WHERE topic = 'routing.assigned'");
  std::map<std::string, int> assigned;
  std::set<std::string> hosts;
  for (const auto& r : rows) {
    Json j = Json::parse(r.get<std::string>(0));
    assigned[j["contact"]]++;
    hosts.insert(j["host"].get<std::string>());
  }
  CHECK(assigned.size() == size_t(2 * perHost));
  for (const auto& [id, n] : assigned) {
    INFO(id);
    CHECK(n == 1);
  }
  CHECK(hosts == std::set<std::string>{"h1", "h2"});
}
