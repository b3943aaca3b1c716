// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <sstream>

#include "kefu/core/host.h"
#include "test_support.h"

using kefu::core::Host;
using kefu::core::PluginState;
using kefu::test::TempDir;

namespace {

// A deployment enabling the listed test plugins, each recording into lifecycle.log.
std::filesystem::path deployment(const TempDir& dir, const std::vector<std::string>& enabled,
                                 const std::string& extra = "") {
  std::string text = "[host]\nplugin_dirs = [\"" + std::string(KEFU_TEST_PLUGIN_DIR) + "\"]\n";
  text += "[log]\nlevel = \"off\"\n";
  for (const auto& name : enabled) {
    text += "[plugins." + name + "]\nenabled = true\nrecord_file = \"lifecycle.log\"\n";
  }
  return dir.write("deploy.toml", text + extra);
}

const kefu::core::PluginRecord& record(Host& host, const std::string& name) {
  for (const auto& r : host.plugins().records()) {
    if (r->name == name) return *r;
  }
  FAIL("no record for " << name);
  throw 0;
}

std::unique_ptr<Host> startHost(const TempDir& dir, const std::filesystem::path& file,
                                std::string* errText = nullptr) {
  kefu::core::HostOptions o;
  o.config = file;
  o.dataDir = dir.path();
  auto host = std::make_unique<Host>(o);
  std::ostringstream err;
  bool ok = host->prepare(kefu::RunMode::kServe, err) && host->startPlugins(err);
  if (errText) *errText = err.str();
  if (!ok && !errText) FAIL(err.str());
  return host;
}

}  // namespace

TEST_CASE("Plugins configure and start in dependency order and stop in reverse",
          "[lifecycle]") {
  TempDir dir;
  // Listed out of order on purpose: c needs b's interface, b needs a.
  auto host = startHost(dir, deployment(dir, {"lc-c", "lc-b", "lc-a"}));
  for (const char* n : {"lc-a", "lc-b", "lc-c"}) {
    CHECK(record(*host, n).state == PluginState::kLoaded);
  }
  host->stopPlugins();
  CHECK(kefu::test::readFile(dir / "lifecycle.log") ==
        "lc-a configure\nlc-b configure\nlc-c configure\n"
        "lc-a start\nlc-b start\nlc-c start\n"
        "lc-c stop\nlc-b stop\nlc-a stop\n");
}

TEST_CASE("A plugin that throws in start is named and the others keep running",
          "[lifecycle]") {
  TempDir dir;
  auto host = startHost(dir, deployment(dir, {"lc-a", "throws-start", "after-throws"}));
  const auto& bad = record(*host, "throws-start");
  CHECK(bad.state == PluginState::kFailed);
  CHECK(bad.error == "start: threw boom in start");
  CHECK_FALSE(bad.started);
  // Its dependent cannot run without it.
  const auto& dependent = record(*host, "after-throws");
  CHECK(dependent.state == PluginState::kFailed);
  CHECK_THAT(dependent.error, Catch::Contains("its dependency 'throws-start' is not running"));
  CHECK(record(*host, "lc-a").state == PluginState::kLoaded);
  // A failed plugin's routes are withdrawn; a running plugin's stay.
  auto routes = host->runtime().router().routes();
  auto has = [&](const std::string& p) {
    return std::any_of(routes.begin(), routes.end(), [&](auto& r) { return r.pattern == p; });
  };
  CHECK(has("/test/lc-a"));
  CHECK_FALSE(has("/test/throws-start"));
  CHECK_FALSE(host->plugins().fatal());
  host->stopPlugins();
  // The failed plugin is not stopped (it never started); the others are.
  std::string log = kefu::test::readFile(dir / "lifecycle.log");
  CHECK_THAT(log, Catch::Contains("lc-a stop"));
  CHECK_THAT(log, !Catch::Contains("throws-start stop"));
}

TEST_CASE("A required plugin that fails stops the host from starting", "[lifecycle]") {
  TempDir dir;
  auto file =
      deployment(dir, {"lc-a"}, "[plugins.throws-start]\nenabled = true\nrequired = true\n");
  std::string err;
  auto host = startHost(dir, file, &err);
  CHECK(host->plugins().fatal());
  CHECK_THAT(err, Catch::Contains("required plugin 'throws-start' failed to start: threw boom"));
  // What had started was stopped again.
  CHECK_THAT(kefu::test::readFile(dir / "lifecycle.log"), Catch::Contains("lc-a stop"));
}

TEST_CASE("Configure errors and missing dependencies and cycles fail only those plugins",
          "[lifecycle]") {
  TempDir dir;
  auto host = startHost(dir, deployment(dir, {"lc-a", "bad-configure", "needs-missing",
                                              "cyc-a", "cyc-b"}));
  CHECK(record(*host, "bad-configure").error == "configure: refusing to configure");
  CHECK(record(*host, "needs-missing").error ==
        "resolve dependencies: depends on 'kefu.Nothing/1', which no enabled plugin provides");
  CHECK_THAT(record(*host, "cyc-a").error, Catch::Contains("dependency cycle"));
  CHECK_THAT(record(*host, "cyc-b").error, Catch::Contains("dependency cycle"));
  CHECK(record(*host, "lc-a").state == PluginState::kLoaded);
}

TEST_CASE("A dependency that is not enabled fails its dependent", "[lifecycle]") {
  TempDir dir;
  auto host = startHost(dir, deployment(dir, {"lc-b"}));
  CHECK(record(*host, "lc-b").state == PluginState::kFailed);
  CHECK_THAT(record(*host, "lc-b").error, Catch::Contains("depends on 'lc-a'"));
}

TEST_CASE("Incompatible plugins are refused while the rest of the host starts",
          "[lifecycle][loader]") {
  TempDir dir;
  auto host = startHost(dir, deployment(dir, {"lc-a", "sdk-next-major", "no-entry"}));
  const auto& major = record(*host, "sdk-next-major");
  CHECK(major.state == PluginState::kFailed);
  CHECK(major.loadError == kefu::core::LoadError::kIncompatibleSdk);
  CHECK_THAT(major.error, Catch::Contains("kefu-sdk-next-major.so: plugin 'sdk-next-major' "
                                          "9.8.7 was built for Kefu SDK 2.0"));
  CHECK(record(*host, "no-entry").loadError == kefu::core::LoadError::kNotAPlugin);
  CHECK(record(*host, "lc-a").state == PluginState::kLoaded);
}

TEST_CASE("Unconfigured plugin files are listed as disabled and never run", "[lifecycle]") {
  TempDir dir;
  kefu::core::HostOptions o;
  o.config = deployment(dir, {"lc-a"});
  o.dataDir = dir.path();
  o.inspectDisabled = true;
  Host host(o);
  std::ostringstream err;
  REQUIRE(host.prepare(kefu::RunMode::kCheck, err));
  const auto& c = record(host, "lc-c");
  CHECK(c.state == PluginState::kDisabled);
  CHECK(c.version() == "9.8.7");  // metadata was read for the listing
  CHECK(c.instance == nullptr);
  CHECK(record(host, "lc-a").state == PluginState::kLoaded);
  // Checking writes nothing: no database, no token.
  CHECK_FALSE(std::filesystem::exists(dir / "kefu.db"));
}
