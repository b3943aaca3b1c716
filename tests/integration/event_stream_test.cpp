// SPDX-License-Identifier: Apache-2.0
//
// The live event stream through the real kefu executable: WebSocket clients on loopback
// receive what the in-tree plugins publish, within their credentials and topics, and are
// told when the host goes away.
#include <catch2/catch.hpp>

#include <regex>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "process.h"
#include "ws_client.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using kefu::test::WsClient;
using Json = nlohmann::json;

namespace {

std::filesystem::path streamDeployment(const TempDir& dir) {
  return dir.write("deploy.toml", std::string(R"([host]
plugin_dirs = [")") + KEFU_BUILD_PLUGIN_DIR + R"("]
shutdown_timeout_ms = 10000
[log]
level = "info"
file = "logs/kefu.log"
[store]
# The test makes the store check fail by holding SQLite's write lock; a short wait makes
# the failure quick.
busy_timeout_ms = 100
[http]
listen = "127.0.0.1:0"
[plugins.event-journal]
enabled = true
[plugins.system-monitor]
enabled = true
interval_seconds = 1
min_free_disk_mb = 1000000000
[plugins.user-auth]
enabled = true
hash_strength = "minimum"
)");
}

// Reads frames until one has `topic` (skipping others), or nothing comes within `timeout`.
std::optional<Json> waitForTopic(WsClient& c, const std::string& topic,
                                 std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    auto frame = c.next(left);
    if (!frame) return std::nullopt;
    Json j = Json::parse(*frame);
    if (j["topic"] == topic) return j;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("Event stream clients receive the bus live within their credentials and topics, "
          "and are told when the host goes away",
          "[integration][websocket]") {
  TempDir dir;
  auto config = streamDeployment(dir);
  {
    Process add({KEFU_BINARY, "user", "add", "--id", "a1", "--role", "agent",
                 "--password-stdin", "--config", config.string(), "--data-dir",
                 dir.path().string()},
                dir / "add.out", dir / "add.err", "agent password 1\n");
    REQUIRE(add.wait(30s) == 0);
  }
  Process kefu({KEFU_BINARY, "serve", "--config", config.string(), "--data-dir",
                dir.path().string()},
               dir / "out.txt", dir / "err.txt");
  int port = kefu.waitForPort(20s);
  INFO("stderr: " << kefu.err());
  REQUIRE(port > 0);
  std::string admin = kefu::test::readFile(dir / "admin.token");
  while (!admin.empty() && admin.back() == '\n') admin.pop_back();
  const std::string path = "/api/v1/events/stream";

  // Refusals are plain HTTP answers, before any upgrade.
  {
    WsClient none(port, path);
    CHECK(none.status() == 401);
    CHECK_THAT(none.body(), Catch::Contains("missing bearer token"));
    WsClient wrongHeader(port, path, {{"Authorization", "Bearer " + std::string(64, 'a')}});
    CHECK(wrongHeader.status() == 401);
    WsClient wrongQuery(port, path + "?access_token=" + std::string(64, 'b'));
    CHECK(wrongQuery.status() == 401);
    WsClient badTopics(port, path + "?topics=system.*&access_token=" + admin);
    CHECK(badTopics.status() == 400);
    auto plain = kefu::test::http(port, "GET", path, {{"Authorization", "Bearer " + admin}});
    CHECK(plain.status == 426);
  }

  // An agent signed in through user-auth, with the token in the query as a browser sends it.
  auto login = kefu::test::http(port, "POST", "/api/v1/auth/login",
                                {{"Content-Type", "application/json"}},
                                R"({"id":"a1","password":"agent password 1"})");
  REQUIRE(login.status == 200);
  std::string agentToken = Json::parse(login.body)["token"];

  WsClient all(port, path, {{"Authorization", "Bearer " + admin}});
  REQUIRE(all.status() == 101);
  WsClient agent(port, path + "?topics=system,routing&access_token=" + agentToken);
  REQUIRE(agent.status() == 101);
  WsClient agentTopicsOnly(port, path + "?topics=agent", {{"Authorization", "Bearer " + admin}});
  REQUIRE(agentTopicsOnly.status() == 101);

  auto metricsBody = [&] { return kefu::test::http(port, "GET", "/metrics").body; };
  CHECK_THAT(metricsBody(), Catch::Contains("kefu_event_streams 3"));
  CHECK_THAT(metricsBody(), Catch::Contains("kefu_event_stream_dropped_total 0"));

  // A real fault: holding SQLite's write lock makes the monitor's store check fail, and the
  // monitor publishes system.fault (its disk fault was published at start, before anyone
  // could connect; the monitor publishes transitions only).
  {
    soci::session db("sqlite3", "db=" + (dir / "kefu.db").string() + " timeout=5");
    db << "BEGIN EXCLUSIVE";
    auto fault = waitForTopic(all, "system.fault", 15s);
    REQUIRE(fault.has_value());
    CHECK((*fault)["source"] == "system-monitor");
    CHECK((*fault)["payload"]["check"] == "store");
    CHECK(std::regex_match((*fault)["at"].get<std::string>(),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    auto agentFault = waitForTopic(agent, "system.fault", 5s);
    REQUIRE(agentFault.has_value());
    CHECK((*agentFault)["payload"]["check"] == "store");
    db << "ROLLBACK";
  }
  CHECK(waitForTopic(all, "system.recovered", 15s).has_value());

  // The fault reached every stream at the same moment: the one for "agent" topics has had
  // two seconds more and must have nothing.
  auto unexpected = agentTopicsOnly.next(2s);
  CHECK_FALSE(unexpected.has_value());
  if (unexpected) UNSCOPED_INFO("got " << *unexpected);

  // SIGTERM: every stream gets "going away", and the host does not wait for them to drain.
  auto signalled = std::chrono::steady_clock::now();
  kefu.signal(SIGTERM);
  for (WsClient* c : {&all, &agent, &agentTopicsOnly}) {
    CHECK(c->waitClosed(5s));
    CHECK(c->closeCode() == 1001);
  }
  auto code = kefu.wait(10s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(std::chrono::steady_clock::now() - signalled < 5s);
  std::string log = kefu::test::readFile(dir / "logs/kefu.log");
  CHECK_THAT(log, Catch::Contains("received SIGTERM"));
  CHECK_THAT(log, !Catch::Contains("still running after"));
  CHECK_THAT(log, !Catch::Contains("did not close within"));
}
