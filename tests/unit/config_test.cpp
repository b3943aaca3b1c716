// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <sstream>

#include "kefu/core/config_loader.h"
#include "kefu/core/host.h"
#include "test_support.h"

using kefu::core::loadDeployment;
using kefu::test::TempDir;

namespace {
// All error lines of one load, joined.
std::string errorsOf(const kefu::core::LoadedDeployment& d) {
  std::string out;
  for (const auto& e : d.errors) out += e.toString() + "\n";
  return out;
}
}  // namespace

TEST_CASE("A valid deployment loads with its values and defaults", "[config]") {
  TempDir dir;
  auto file = dir.write("d.toml", R"(
[host]
name = "center-a"
[log]
level = "debug"
format = "json"
[store]
url = "sqlite://data/kefu.db"
password = "env:KEFU_TEST_PW"
[http]
listen = "0.0.0.0:9000"
[plugins.alpha]
enabled = true
required = true
log_level = "warn"
color = "blue"
)");
  auto loaded = loadDeployment(file);
  REQUIRE(loaded.ok());
  const auto& d = loaded.deployment;
  CHECK(d.host.name == "center-a");
  CHECK(d.host.shutdownTimeoutMs == 10000);
  CHECK(d.log.level == "debug");
  CHECK(d.log.format == "json");
  CHECK(d.store.url == "sqlite://data/kefu.db");
  CHECK(d.http.listen == "0.0.0.0:9000");
  CHECK(d.http.threads == 2);
  REQUIRE(d.plugins.size() == 1);
  CHECK(d.plugins[0].enabled);
  CHECK(d.plugins[0].required);
  CHECK(d.plugins[0].logLevel == "warn");
  // Host keys are taken out; the plugin sees only its own.
  CHECK(d.plugins[0].table.has("color"));
  CHECK_FALSE(d.plugins[0].table.has("enabled"));
  CHECK(d.plugins[0].table.find("color")->pos().line == 16);
}

TEST_CASE("A TOML syntax error names file and line and column", "[config]") {
  TempDir dir;
  auto file = dir.write("bad.toml", "[host]\nname = \"x\"\nshutdown_timeout_ms = = 3\n");
  auto loaded = loadDeployment(file);
  REQUIRE(loaded.errors.size() == 1);
  const auto& e = loaded.errors[0];
  CHECK(e.pos.file == file.string());
  CHECK(e.pos.line == 3);
  CHECK(e.pos.column > 1);
  CHECK_THAT(e.toString(), Catch::StartsWith(file.string() + ":3:"));
}

TEST_CASE("Wrong types and unknown keys and bad values are each reported with position",
          "[config]") {
  TempDir dir;
  auto file = dir.write("d.toml", R"([host]
shutdown_timeout_ms = "soon"
colour = 1
[log]
level = "loud"
[http]
listen = "8080"
threads = 0
[store]
url = "mysql://db"
[extra]
x = 1
)");
  auto loaded = loadDeployment(file);
  std::string all = errorsOf(loaded);
  INFO(all);
  CHECK(loaded.errors.size() == 7);
  CHECK_THAT(all, Catch::Contains(":2:23: host.shutdown_timeout_ms: expected integer"));
  CHECK_THAT(all, Catch::Contains(":3:10: host.colour: unknown key in [host]"));
  CHECK_THAT(all, Catch::Contains(":5:9: log.level: must be one of"));
  CHECK_THAT(all, Catch::Contains(":7:10: http.listen: expected HOST:PORT"));
  CHECK_THAT(all, Catch::Contains(":8:11: http.threads: must be between 1 and 64"));
  CHECK_THAT(all, Catch::Contains("store.url: must start with sqlite:// or postgresql://"));
  CHECK_THAT(all, Catch::Contains(":11:2: extra: unknown top-level key"));
}

TEST_CASE("Listen addresses must be an IP and a port", "[config]") {
  TempDir dir;
  for (const char* bad : {"localhost:8080", "127.0.0.1:99999999999999999999", "127.0.0.1:",
                          ":80", "[::1]", "127.0.0.1:65536"}) {
    auto loaded = loadDeployment(dir.write("d.toml", std::string("[http]\nlisten = \"") + bad +
                                                         "\"\n"));
    INFO(bad);
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0].key == "http.listen");
  }
  for (const char* good : {"0.0.0.0:80", "[::1]:8080", "127.0.0.1:0"}) {
    auto loaded = loadDeployment(dir.write("d.toml", std::string("[http]\nlisten = \"") +
                                                         good + "\"\n"));
    INFO(good);
    CHECK(loaded.ok());
  }
}

TEST_CASE("Unknown top-level tables are rejected", "[config]") {
  TempDir dir;
  auto loaded = loadDeployment(dir.write("d.toml", "[routing]\nx = 1\n"));
  REQUIRE(loaded.errors.size() == 1);
  CHECK(loaded.errors[0].key == "routing");
  CHECK(loaded.errors[0].pos.line == 1);
}

TEST_CASE("Secrets never come from the TOML itself", "[config][security]") {
  TempDir dir;
  SECTION("a password inside a PostgreSQL URL") {
    auto loaded =
        loadDeployment(dir.write("d.toml", "[store]\n"
                                           "url = \"postgresql://kefu:hunter2@db/kefu\"\n"));
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0].reason, Catch::Contains("holds a password"));
    CHECK(loaded.errors[0].pos.line == 2);
  }
  SECTION("a password in the URL's query") {
    auto loaded = loadDeployment(
        dir.write("d.toml", "[store]\nurl = \"postgresql://kefu@db/kefu?password=x\"\n"));
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0].reason, Catch::Contains("holds a password"));
  }
  SECTION("a literal password") {
    auto loaded = loadDeployment(dir.write("d.toml", "[store]\npassword = \"hunter2\"\n"));
    REQUIRE(loaded.errors.size() == 1);
    CHECK_THAT(loaded.errors[0].reason, Catch::Contains("env:NAME"));
  }
  SECTION("env: and file: references are accepted") {
    auto loaded = loadDeployment(dir.write(
        "d.toml", "[store]\nurl = \"postgresql://kefu@db/kefu\"\npassword = \"file:pw\"\n"));
    CHECK(loaded.ok());
  }
}

TEST_CASE("A missing deployment file is one clear error", "[config]") {
  auto loaded = loadDeployment("/nonexistent/kefu/deploy.toml");
  REQUIRE(loaded.errors.size() == 1);
  CHECK_THAT(loaded.errors[0].toString(), Catch::Contains("no such file"));
}

TEST_CASE("Plugin tables: unknown plugin and unknown key and wrong type are named",
          "[config]") {
  TempDir dir;
  auto file = dir.write("d.toml", R"([host]
plugin_dirs = [")" + std::string(KEFU_TEST_PLUGIN_DIR) + R"("]
[plugins.lc-a]
enabled = true
answer = "forty-two"
colour = "red"
[plugins.no-such-plugin]
enabled = true
[plugins.lc-b]
enabled = "yes"
)");
  kefu::core::HostOptions o;
  o.config = file;
  o.dataDir = dir.path();
  kefu::core::Host host(o);
  std::ostringstream err;
  CHECK_FALSE(host.prepare(kefu::RunMode::kCheck, err));
  std::string all = err.str();
  INFO(all);
  CHECK_THAT(all, Catch::Contains(":5:10: plugins.lc-a.answer: expected integer"));
  CHECK_THAT(all, Catch::Contains(":6:10: plugins.lc-a.colour: unknown key for plugin 'lc-a' "
                                  "(accepted: enabled, required, log_level, file, record_file, "
                                  "answer)"));
  CHECK_THAT(all, Catch::Contains(":7:10: plugins.no-such-plugin: unknown plugin (no "
                                  "kefu-no-such-plugin.so in"));
  CHECK_THAT(all, Catch::Contains(":10:11: plugins.lc-b.enabled: expected boolean"));
}

TEST_CASE("A plugin's own validation points at the offending key", "[config]") {
  TempDir dir;
  auto file = dir.write("d.toml", "[host]\nplugin_dirs = [\"" + std::string(KEFU_TEST_PLUGIN_DIR) +
                                      "\"]\n[plugins.lc-a]\nenabled = true\nanswer = 41\n");
  kefu::core::HostOptions o;
  o.config = file;
  o.dataDir = dir.path();
  kefu::core::Host host(o);
  std::ostringstream err;
  REQUIRE(host.prepare(kefu::RunMode::kCheck, err));
  const auto& rec = *host.plugins().records().front();
  CHECK(rec.state == kefu::core::PluginState::kFailed);
  CHECK(rec.error == "configure: " + file.string() + ":5:10: plugins.lc-a.answer: must be 42");
}

TEST_CASE("ConfigValue getters fall back to defaults and report positions", "[config]") {
  TempDir dir;
  auto parsed =
      kefu::core::parseTomlFile(dir.write("p.toml", "n = 3\nf = 2\nl = [\"a\", \"b\"]\n"));
  REQUIRE(parsed.errors.empty());
  const auto& root = parsed.root;
  CHECK(root.getInt("n", 0) == 3);
  CHECK(root.getDouble("f", 0) == 2.0);  // an integer where a float is expected
  CHECK(root.getStringList("l") == std::vector<std::string>{"a", "b"});
  CHECK(root.getString("missing", "dflt") == "dflt");
  CHECK(root.error("n", "too small").message() == (dir / "p.toml").string() + ":1:5: n: too small");
}
