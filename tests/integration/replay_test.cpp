// SPDX-License-Identifier: Apache-2.0
//
// `kefu gen-calls` and `kefu replay` as an operator runs them: the real executable, the
// real routing-acd and replay plugins (.so) and a generated log read by the real reader.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>

#include "process.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;

namespace {

struct Run {
  int code;
  std::string out, err;
};

Run kefuRun(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), KEFU_BINARY);
  Process p(args, dir / "cli.out", dir / "cli.err");
  auto code = p.wait(60s);
  REQUIRE(code.has_value());
  return {*code, p.out(), p.err()};
}

void writeDeployment(const TempDir& dir, const std::string& replayExtra = "") {
  std::ofstream(dir / "deploy.toml") << "[log]\nlevel = \"warn\"\n"
                                        "[plugins.routing-acd]\nenabled = true\n"
                                        "[[plugins.routing-acd.queues]]\nname = \"general\"\n"
                                        "skills = [\"general\"]\n"
                                        "[[plugins.routing-acd.queues]]\nname = \"stocks\"\n"
                                        "skills = [\"stocks\"]\n"
                                        "[plugins.replay]\nenabled = true\n"
                                        "queue_for_type = { NE = \"stocks\" }\n"
                                     << replayExtra;
}

// The per-day table of the replay's output (the lines before the timings).
std::string table(const std::string& out) { return out.substr(0, out.find("replay: ")); }

}  // namespace

TEST_CASE("kefu gen-calls writes a log that kefu replay replays on the router",
          "[integration][replay]") {
  TempDir dir;
  auto log = (dir / "calls.txt").string();
  auto gen = kefuRun(dir, {"gen-calls", "--out", log, "--days", "2", "--start", "2026-03-02",
                           "--seed", "3"});
  INFO(gen.out << gen.err);
  REQUIRE(gen.code == 0);
  CHECK_THAT(gen.out, Catch::Contains("over 2 day(s)"));
  writeDeployment(dir);
  std::vector<std::string> replay = {"replay", "--config", (dir / "deploy.toml").string(),
                                     "--data-dir", dir.path().string(), "--calls", log, "--out",
                                     (dir / "report").string(), "--seed", "5"};
  auto r = kefuRun(dir, replay);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(std::filesystem::exists(dir / "report" / "report.html"));
  CHECK(std::filesystem::exists(dir / "report" / "report.json"));
  CHECK(std::regex_search(r.out, std::regex(R"(\n2026-03-02 +\d+ )")));
  CHECK(std::regex_search(r.out, std::regex(R"(\ntotal +\d+ )")));
  CHECK_THAT(r.out, Catch::Contains("(observed), seed 5"));

  // The same seed gives the same simulation.
  auto again = kefuRun(dir, replay);
  CHECK(table(again.out) == table(r.out));

  auto fixed = replay;
  fixed.insert(fixed.end(), {"--staffing", "fixed:6"});
  auto f = kefuRun(dir, fixed);
  INFO(f.out << f.err);
  CHECK(f.code == 0);
  CHECK_THAT(f.out, Catch::Contains("6 agents (fixed:6)"));

  auto parse = kefuRun(dir, {"replay", "--config", (dir / "deploy.toml").string(), "--data-dir",
                             dir.path().string(), "--calls", log, "--parse-only"});
  CHECK(parse.code == 0);
  CHECK_THAT(parse.out, Catch::Contains("replay: parsed "));
}

TEST_CASE("kefu replay refuses bad staffing and unknown queues by name",
          "[integration][replay]") {
  TempDir dir;
  auto log = (dir / "calls.txt").string();
  REQUIRE(kefuRun(dir, {"gen-calls", "--out", log, "--start", "2026-03-02"}).code == 0);
  writeDeployment(dir, "default_queue = \"nowhere\"\n");
  std::vector<std::string> replay = {"replay", "--config", (dir / "deploy.toml").string(),
                                     "--data-dir", dir.path().string(), "--calls", log, "--out",
                                     (dir / "report").string()};
  auto r = kefuRun(dir, replay);
  CHECK(r.code == 2);
  INFO(r.err);
  std::regex named(R"(deploy\.toml:\d+:\d+: plugins\.replay\.default_queue: )"
                   R"('nowhere' is not a queue of routing-acd \(its queues: general, stocks\))");
  CHECK(std::regex_search(r.err, named));

  writeDeployment(dir);
  auto bad = replay;
  bad.insert(bad.end(), {"--staffing", "lots"});
  auto b = kefuRun(dir, bad);
  CHECK(b.code == 2);
  CHECK_THAT(b.err, Catch::Contains("--staffing is observed, schedule:FILE or fixed:N"));

  std::ofstream(dir / "plan.csv") << "start,end,count\n2026-03-02 07:00,2026-03-02 7pm,3\n";
  auto sched = replay;
  sched.insert(sched.end(), {"--staffing", "schedule:" + (dir / "plan.csv").string()});
  auto s = kefuRun(dir, sched);
  CHECK(s.code == 2);
  CHECK_THAT(s.err, Catch::Contains("plan.csv:2: end '2026-03-02 7pm'"));

  auto gen = kefuRun(dir, {"gen-calls", "--out", log, "--start", "2026-02-30x"});
  CHECK(gen.code == 2);
}
