// SPDX-License-Identifier: Apache-2.0
//
// Starts the real kefu executable with the real in-tree plugins (and some broken test
// plugins) on a free loopback port and talks HTTP to it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "process.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using Json = nlohmann::json;

namespace {

std::filesystem::path writeDeployment(const TempDir& dir, const std::string& extra = "") {
  return dir.write("deploy.toml", std::string(R"([host]
plugin_dirs = [")") + KEFU_BUILD_PLUGIN_DIR + R"(", ")" + KEFU_TEST_PLUGIN_DIR + R"("]
shutdown_timeout_ms = 5000
[log]
level = "info"
file = "logs/kefu.log"
[http]
listen = "127.0.0.1:0"
[plugins.event-journal]
enabled = true
[plugins.system-monitor]
enabled = true
interval_seconds = 1
# More free space than any disk has: the disk check fails at once, so the monitor publishes
# system.fault and the journal stores it.
min_free_disk_mb = 1000000000
)" + extra);
}

std::map<std::string, std::string> bearer(const TempDir& dir) {
  std::string token = kefu::test::readFile(dir / "admin.token");
  while (!token.empty() && token.back() == '\n') token.pop_back();
  return {{"Authorization", "Bearer " + token}};
}

}  // namespace

TEST_CASE("The host serves health and metrics and the plugin list / SIGTERM stops it cleanly",
          "[integration][http]") {
  TempDir dir;
  // One plugin built for another SDK major and one that throws in start are enabled too:
  // both are refused by name and the host still serves.
  auto config = writeDeployment(dir, "[plugins.sdk-next-major]\nenabled = true\n"
                                     "[plugins.throws-start]\nenabled = true\n");
  Process kefu({KEFU_BINARY, "serve", "--config", config.string(), "--data-dir",
                dir.path().string()},
               dir / "out.txt", dir / "err.txt");
  int port = kefu.waitForPort(20s);
  INFO("stderr: " << kefu.err());
  REQUIRE(port > 0);

  auto health = kefu::test::http(port, "GET", "/healthz");
  CHECK(health.status == 200);
  auto h = Json::parse(health.body);
  CHECK(h["status"] == "degraded");
  CHECK(h["plugins"]["loaded"] == 2);
  CHECK(h["plugins"]["failed"] == 2);

  SECTION("every /api/v1 route needs the token") {
    CHECK(kefu::test::http(port, "GET", "/api/v1/plugins").status == 401);
    CHECK(kefu::test::http(port, "GET", "/api/v1/journal/events").status == 401);
    CHECK(kefu::test::http(port, "GET", "/api/v1/monitor/checks").status == 401);
    CHECK(kefu::test::http(port, "GET", "/api/v1/plugins", {{"Authorization", "Bearer x"}})
              .status == 401);
    // The token file is private to the owner.
    auto perms = std::filesystem::status(dir / "admin.token").permissions();
    CHECK((perms & std::filesystem::perms::group_all) == std::filesystem::perms::none);
    CHECK((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none);
  }

  SECTION("the plugin list shows state and reasons") {
    auto r = kefu::test::http(port, "GET", "/api/v1/plugins", bearer(dir));
    REQUIRE(r.status == 200);
    std::map<std::string, Json> byName;
    Json doc = Json::parse(r.body);  // named: a range-for over a temporary's member dangles
    for (const auto& p : doc["plugins"]) {
      byName[p["name"].get<std::string>()] = p;
    }
    CHECK(byName["event-journal"]["state"] == "loaded");
    CHECK(byName["system-monitor"]["state"] == "loaded");
    CHECK(byName["sdk-next-major"]["state"] == "failed");
    CHECK_THAT(byName["sdk-next-major"]["error"].get<std::string>(),
               Catch::Contains("built for Kefu SDK 2.0"));
    CHECK(byName["throws-start"]["error"] == "start: threw boom in start");
    CHECK(byName["lc-a"]["state"] == "disabled");
  }

  SECTION("metrics are Prometheus text and the monitor's fault events reach the journal") {
    auto m = kefu::test::http(port, "GET", "/metrics");
    CHECK(m.status == 200);
    CHECK_THAT(m.headers, Catch::Contains("text/plain; version=0.0.4"));
    CHECK_THAT(m.body, Catch::Contains("kefu_plugins{state=\"failed\"} 2"));
    CHECK_THAT(m.body, Catch::Contains("kefu_monitor_check_ok{check=\"store\"} 1"));
    auto checks = kefu::test::http(port, "GET", "/api/v1/monitor/checks", bearer(dir));
    CHECK(checks.status == 200);
    CHECK(Json::parse(checks.body)["checks"].size() == 2);
    auto events = kefu::test::http(port, "GET", "/api/v1/journal/events?topic=system",
                                   bearer(dir));
    REQUIRE(events.status == 200);
    auto list = Json::parse(events.body)["events"];
    REQUIRE(list.size() == 1);
    CHECK(list[0]["topic"] == "system.fault");
    CHECK(list[0]["source"] == "system-monitor");
    CHECK(list[0]["payload"]["check"] == "disk_space");
    CHECK(list[0]["id"].is_number_integer());
    CHECK_THAT(m.body, Catch::Contains("kefu_monitor_check_ok{check=\"disk_space\"} 0"));
    auto bad = kefu::test::http(port, "GET", "/api/v1/journal/events?limit=lots", bearer(dir));
    CHECK(bad.status == 400);
    CHECK_THAT(bad.body, Catch::Contains("limit"));
  }

  SECTION("the bearer scheme is case-insensitive and paths are taken literally") {
    std::string token = bearer(dir)["Authorization"].substr(7);
    CHECK(kefu::test::http(port, "GET", "/api/v1/plugins", {{"Authorization", "bearer " + token}})
              .status == 200);
    CHECK(kefu::test::http(port, "GET", "/api/v1/plugins",
                           {{"Authorization", "BEARER  " + token + " "}})
              .status == 200);
    auto slash = kefu::test::http(port, "GET", "/api%2Fv1%2Fplugins", bearer(dir));
    CHECK(slash.status == 400);
    CHECK_THAT(slash.body, Catch::Contains("%2F"));
  }

  SECTION("a second host on the same data directory is refused") {
    Process second({KEFU_BINARY, "serve", "--config", config.string(), "--data-dir",
                    dir.path().string()},
                   dir / "out2.txt", dir / "err2.txt");
    auto code = second.wait(20s);
    REQUIRE(code.has_value());
    CHECK(*code == 1);
    CHECK_THAT(second.err(), Catch::Contains("is serving the data directory"));
  }

  SECTION("malformed requests get a 4xx, the server keeps serving") {
    auto r = kefu::test::http(port, "POST", "/api/v1/plugins", bearer(dir), "x");
    CHECK(r.status == 405);
    CHECK(kefu::test::http(port, "GET", "/nowhere").status == 404);
    auto big = kefu::test::http(port, "POST", "/api/v1/plugins", bearer(dir),
                                std::string(2 << 20, 'x'));
    CHECK((big.status == 413 || big.status == 0));  // refused, possibly before reading all
    CHECK(kefu::test::http(port, "GET", "/healthz").status == 200);
  }

  kefu.signal(SIGTERM);
  auto code = kefu.wait(15s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  std::string log = kefu::test::readFile(dir / "logs/kefu.log");
  CHECK_THAT(log, Catch::Contains("received SIGTERM"));
  // Reverse order: the monitor started after the journal, so it stops first.
  CHECK(log.find("plugin 'system-monitor' stopped") < log.find("plugin 'event-journal' stopped"));
}

TEST_CASE("A required plugin that fails keeps the host from serving", "[integration]") {
  TempDir dir;
  auto config = writeDeployment(dir, "[plugins.throws-start]\nenabled = true\nrequired = true\n");
  Process kefu({KEFU_BINARY, "serve", "--config", config.string(), "--data-dir",
                dir.path().string()},
               dir / "out.txt", dir / "err.txt");
  auto code = kefu.wait(20s);
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK_THAT(kefu.err(), Catch::Contains("required plugin 'throws-start' failed to start"));
}

TEST_CASE("The listen address can be overridden and a taken port is reported",
          "[integration]") {
  TempDir dir;
  auto config = writeDeployment(dir);
  Process first({KEFU_BINARY, "serve", "--config", config.string(), "--data-dir",
                 dir.path().string()},
                dir / "out1.txt", dir / "err1.txt");
  int port = first.waitForPort(20s);
  REQUIRE(port > 0);
  TempDir dir2;
  Process second({KEFU_BINARY, "serve", "--config", config.string(), "--data-dir",
                  dir2.path().string(), "--listen", "127.0.0.1:" + std::to_string(port)},
                 dir2 / "out.txt", dir2 / "err.txt");
  auto code = second.wait(20s);
  REQUIRE(code.has_value());
  CHECK(*code == 1);
  CHECK_THAT(second.err(), Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(port)));
  first.signal(SIGTERM);
  CHECK(first.wait(15s) == 0);
}
