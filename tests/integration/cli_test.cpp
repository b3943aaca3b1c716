// SPDX-License-Identifier: Apache-2.0
//
// The kefu command line as an operator uses it.
#include <catch2/catch.hpp>

#include "kefu/version.h"
#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::TempDir;
using kefu::test::kefuRun;

namespace {

const std::string kSample = std::string(KEFU_SOURCE_DIR) + "/samples/deploy/default.toml";

}  // namespace

TEST_CASE("kefu --version names the host and SDK versions", "[integration][cli]") {
  TempDir dir;
  auto r = kefuRun(dir, {"--version"});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("kefu ") && Catch::Contains("SDK " KEFU_SDK_VERSION_STRING));
}

TEST_CASE("kefu check accepts the sample deployment and writes nothing", "[integration][cli]") {
  TempDir dir;
  auto r = kefuRun(dir, {"check", "--config", kSample, "--data-dir", (dir / "data").string()});
  CHECK(r.code == 0);
  // Dependency order: replay and sim-telephony need routing-acd; webchat needs faq-bot.
  CHECK_THAT(r.out, Catch::Contains("OK (plugins enabled: call-analytics, event-journal, "
                                    "faq-bot, knowledge-base, routing-acd, replay, "
                                    "sim-telephony, system-monitor, user-auth, webchat, "
                                    "wfm)"));
  CHECK_FALSE(std::filesystem::exists(dir / "data"));
}

TEST_CASE("kefu plugins list shows the built plugins as loaded", "[integration][cli]") {
  TempDir dir;
  auto r = kefuRun(dir, {"plugins", "list", "--config", kSample});
  CHECK(r.code == 0);
  INFO(r.out << r.err);
  CHECK_THAT(r.out, Catch::StartsWith("NAME") && Catch::Contains("STATE"));
  for (const char* name : {"call-analytics", "event-journal", "faq-bot", "knowledge-base",
                           "replay", "routing-acd", "sim-telephony", "system-monitor",
                           "user-auth", "webchat", "wfm"}) {
    std::regex row(std::string("(^|\\n)") + name + R"( +0\.1\.0 +1\.0\.0 +\S+ +\S+kefu-)" +
                   name + R"(\.so +loaded\n)");
    CHECK(std::regex_search(r.out, row));
  }
}

TEST_CASE("kefu check reports TOML errors as file:line:column and exits non-zero",
          "[integration][cli]") {
  TempDir dir;
  SECTION("syntax") {
    auto f = dir.write("bad.toml", "[http]\nlisten = \"127.0.0.1:80\"\nthreads = [\n");
    auto r = kefuRun(dir, {"check", "--config", f.string()});
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::StartsWith(f.string() + ":"));
  }
  SECTION("unknown plugin and unknown key are both named") {
    auto f = dir.write("bad.toml",
                       "[plugins.event-journal]\nenabled = true\nretention = 5\n"
                       "[plugins.routing-magic]\nenabled = true\n");
    auto r = kefuRun(dir, {"check", "--config", f.string()});
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains(f.string() + ":3:13: plugins.event-journal.retention: "
                                      "unknown key for plugin 'event-journal'"));
    CHECK_THAT(r.err, Catch::Contains(f.string() + ":4:10: plugins.routing-magic: unknown plugin"));
  }
  SECTION("a plugin's own validation") {
    auto f = dir.write("bad.toml", "[plugins.system-monitor]\nenabled = true\n"
                                   "interval_seconds = 0\n");
    auto r = kefuRun(dir, {"check", "--config", f.string()});
    CHECK(r.code != 0);
    CHECK_THAT(r.err, Catch::Contains(f.string() + ":3:20: plugins.system-monitor."
                                      "interval_seconds: must be between 1 and 3600"));
  }
}

TEST_CASE("A directory or an empty name as --config is an error", "[integration][cli]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "conf.toml");
  auto r = kefuRun(dir, {"check", "--config", (dir / "conf.toml").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("not a regular file"));
  auto serve = kefuRun(dir, {"serve", "--config", (dir / "conf.toml").string(), "--data-dir",
                             (dir / "d").string()});
  CHECK(serve.code == 2);
}

TEST_CASE("A command of a disabled plugin is named as such", "[integration][cli]") {
  TempDir dir;
  auto f = dir.write("d.toml", "[plugins.event-journal]\nenabled = false\n");
  auto r = kefuRun(dir, {"journal", "tail", "--config", f.string(), "--data-dir",
                         dir.path().string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("no enabled plugin of " + f.string() +
                                    " provides the command 'journal'"));
}

TEST_CASE("A bad --listen is refused before anything starts", "[integration][cli]") {
  TempDir dir;
  auto r = kefuRun(dir, {"serve", "--config", kSample, "--data-dir", (dir / "d").string(),
                         "--listen", "abc"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--listen"));
  CHECK_FALSE(std::filesystem::exists(dir / "d"));
}

TEST_CASE("kefu bench routing compares the engine with the SQLite baseline",
          "[integration][cli]") {
  TempDir dir;
  // Small sizes: this checks the command works, not the numbers (see bench/ for those).
  auto r = kefuRun(dir, {"bench", "routing", "--agents", "200", "--skills", "10",
                         "--contacts", "2000", "--baseline-contacts", "200"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  std::regex last(R"(decisions_per_s=\d+ p99_us=[\d.]+ baseline_decisions_per_s=\d+ )"
                  R"(ratio=[\d.]+\n$)");
  CHECK(std::regex_search(r.out, last));
  auto bad = kefuRun(dir, {"bench", "routing", "--agents", "-5"});
  CHECK(bad.code == 2);
}

TEST_CASE("A plugin's CLI command runs against the deployment's store", "[integration][cli]") {
  TempDir dir;
  auto data = (dir / "data").string();
  auto r = kefuRun(dir, {"journal", "tail", "--config", kSample, "--data-dir", data,
                         "--limit", "5"});
  CHECK(r.code == 0);
  INFO(r.err);
  CHECK(std::filesystem::exists(dir / "data/kefu.db"));
  auto bad = kefuRun(dir, {"journal", "tail", "--config", kSample, "--data-dir", data,
                           "--limit", "many"});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--limit must be a number"));
  // The config-free wfm commands are listed; the others need --config.
  auto help = kefuRun(dir, {"--help"});
  CHECK(help.code == 0);
  CHECK_THAT(help.out, Catch::Contains("These run without --config: kefu bench routing, kefu "
                                       "report, kefu gen-calls, kefu wfm staff, kefu wfm "
                                       "forecast, kefu wfm accuracy, kefu wfm schedule"));
  auto wfm = kefuRun(dir, {"wfm", "--help"});
  CHECK(wfm.code == 0);
  INFO(wfm.err);
  for (const char* c : {"staff", "forecast", "accuracy", "schedule", "publish", "adherence"}) {
    CHECK_THAT(wfm.out, Catch::Contains(std::string("\n  ") + c + " "));
  }
  CHECK_THAT(wfm.out, Catch::Contains("the others need the deployment's --config"));
  auto publish = kefuRun(dir, {"wfm", "publish", "--schedule", "s.csv"});
  CHECK(publish.code == 2);
  CHECK_THAT(publish.err, Catch::Contains("'kefu wfm publish' needs --config FILE"));
  auto unknown = kefuRun(dir, {"nosuch", "thing"});
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'nosuch'"));
}
