// SPDX-License-Identifier: Apache-2.0
//
// `kefu gen-calls` and `kefu replay` as an operator runs them: the real executable, the
// real routing-acd and replay plugins (.so) and a generated log read by the real reader.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::TempDir;
using kefu::test::kefuRun;

namespace {

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

// `kefu replay` on `log` with the deployment of writeDeployment(), reporting to dir/report.
std::vector<std::string> replayArgs(const TempDir& dir, const std::string& log) {
  return {"replay", "--config", (dir / "deploy.toml").string(), "--data-dir",
          dir.path().string(), "--calls", log, "--out", (dir / "report").string()};
}

// A generated day of calls (Monday 2026-03-02) in dir/calls.txt; returns its path.
std::string generatedDay(const TempDir& dir) {
  auto log = (dir / "calls.txt").string();
  REQUIRE(kefuRun(dir, {"gen-calls", "--out", log, "--start", "2026-03-02"}).code == 0);
  return log;
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
  std::vector<std::string> replay = replayArgs(dir, log);
  replay.insert(replay.end(), {"--seed", "5"});
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

  // Calibration fits a wrap-up, reports it and replays with it.
  auto calibrated = replay;
  calibrated.push_back("--calibrate");
  auto c = kefuRun(dir, calibrated);
  INFO(c.out << c.err);
  REQUIRE(c.code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(c.out, m,
                            std::regex(R"(calibrated wrap_up_seconds = (\d+) in (\d+))")));
  auto report = nlohmann::json::parse(std::ifstream(dir / "report" / "report.json"));
  const auto& fit = report["simulated"]["replay"]["calibration"];
  CHECK(fit["wrap_up_seconds"].get<int>() == std::stoi(m[1]));
  CHECK(report["simulated"]["replay"]["wrap_up_seconds"].get<int>() == std::stoi(m[1]));
  CHECK(fit["runs"].get<int>() == std::stoi(m[2]));
  CHECK(fit["runs"].get<int>() <= 14);
  double target = fit["observed_answered_share"].get<double>();
  CHECK(target > 0);
  CHECK(target <= 1);
  CHECK(fit.contains("simulated_answered_share"));

  auto parse = kefuRun(dir, {"replay", "--config", (dir / "deploy.toml").string(), "--data-dir",
                             dir.path().string(), "--calls", log, "--parse-only"});
  CHECK(parse.code == 0);
  CHECK_THAT(parse.out, Catch::Contains("replay: parsed "));
}

TEST_CASE("kefu replay refuses bad staffing and unknown queues by name",
          "[integration][replay]") {
  TempDir dir;
  auto log = generatedDay(dir);
  writeDeployment(dir, "default_queue = \"nowhere\"\n");
  std::vector<std::string> replay = replayArgs(dir, log);
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

TEST_CASE("kefu gen-calls exits 2 for bad options and 1 when it cannot write",
          "[integration][replay]") {
  TempDir dir;
  auto out = (dir / "big.txt").string();
  auto huge = kefuRun(dir, {"gen-calls", "--out", out, "--scale", "1e9"});
  CHECK(huge.code == 2);
  CHECK_THAT(huge.err, Catch::Contains("the most is 2000000"));
  auto perDay = kefuRun(dir, {"gen-calls", "--out", out, "--calls-per-day", "1e12"});
  CHECK(perDay.code == 2);
  CHECK_FALSE(std::filesystem::exists(out));
  auto feb30 = kefuRun(dir, {"gen-calls", "--out", out, "--start", "2026-02-30"});
  CHECK(feb30.code == 2);
  CHECK_THAT(feb30.err, Catch::Contains("'2026-02-30' does not exist"));
  auto days = kefuRun(dir, {"gen-calls", "--out", out, "--days", "1e12"});
  CHECK(days.code == 2);
  auto cannot = kefuRun(dir, {"gen-calls", "--out", (dir / "no" / "x.txt").string()});
  CHECK(cannot.code == 1);
  CHECK_THAT(cannot.err, Catch::Contains("cannot create the file"));
}

TEST_CASE("kefu replay warns about a schedule outside the log and refuses a bad one",
          "[integration][replay]") {
  TempDir dir;
  auto log = generatedDay(dir);
  writeDeployment(dir);
  std::vector<std::string> replay = replayArgs(dir, log);
  std::ofstream(dir / "other.csv") << "start,end,count\n2025-01-01 07:00,2025-01-01 19:00,3\n";
  auto other = replay;
  other.insert(other.end(), {"--staffing", "schedule:" + (dir / "other.csv").string()});
  auto o = kefuRun(dir, other);
  INFO(o.out << o.err);
  CHECK(o.code == 0);
  CHECK_THAT(o.err, Catch::Contains("warning: no agent of --staffing schedule:"));

  auto asDir = replay;
  asDir.insert(asDir.end(), {"--staffing", "schedule:" + dir.path().string()});
  auto d = kefuRun(dir, asDir);
  CHECK(d.code == 2);
  CHECK_THAT(d.err, Catch::Contains("is a directory, not a schedule file"));

  // A log whose every row is bad is refused before any replay.
  std::ofstream(dir / "junk.txt") << "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\t"
                                     "vru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\t"
                                     "outcome\tser_start\tser_exit\tser_time\tserver\r\n"
                                     "junk\r\n";
  auto junk = replay;
  junk[6] = (dir / "junk.txt").string();
  auto j = kefuRun(dir, junk);
  CHECK(j.code == 2);
  CHECK_THAT(j.err, Catch::Contains("no row could be used"));
}

TEST_CASE("kefu check names replay queue keys that routing-acd cannot serve",
          "[integration][replay]") {
  TempDir dir;
  const std::vector<std::string> check = {"check", "--config", (dir / "deploy.toml").string()};
  writeDeployment(dir, "default_queue = \"nowhere\"\n");
  auto r = kefuRun(dir, check);
  INFO(r.out << r.err);
  CHECK(r.code != 0);
  CHECK(std::regex_search(r.err, std::regex(R"(deploy\.toml:\d+:\d+: plugins\.replay\.)"
                                            R"(default_queue: 'nowhere' is not a queue)")));

  // A type mapped to a chat queue: replayed records are calls.
  std::ofstream(dir / "deploy.toml")
      << "[log]\nlevel = \"warn\"\n[plugins.routing-acd]\nenabled = true\n"
         "[[plugins.routing-acd.queues]]\nname = \"general\"\nskills = [\"general\"]\n"
         "[[plugins.routing-acd.queues]]\nname = \"webchat\"\nskills = [\"chat\"]\n"
         "media = \"chat\"\n[plugins.replay]\nenabled = true\n"
         "queue_for_type = { NE = \"webchat\" }\n";
  auto c = kefuRun(dir, check);
  INFO(c.out << c.err);
  CHECK(c.code != 0);
  CHECK(std::regex_search(c.err, std::regex(R"(deploy\.toml:\d+:\d+: plugins\.replay\.)"
                                            R"(queue_for_type\.NE: 'webchat' carries chat)")));
}

TEST_CASE("kefu replay reports its input, counts queued calls and takes a schedule with a BOM",
          "[integration][replay]") {
  TempDir dir;
  auto log = generatedDay(dir);
  writeDeployment(dir);
  std::vector<std::string> replay = replayArgs(dir, log);
  std::ofstream(dir / "plan.csv") << "\xEF\xBB\xBFstart,end,count\r\n"
                                     "2026-03-02 07:00,2026-03-02 24:00,12\r\n";
  auto sched = replay;
  sched.insert(sched.end(), {"--staffing", "schedule:" + (dir / "plan.csv").string()});
  auto r = kefuRun(dir, sched);
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(std::regex_search(r.out, std::regex(R"(replay: \d+ calls \(\d+ queued, 0 bad rows\))")));
  auto j = nlohmann::json::parse(kefu::test::readFile(dir / "report" / "report.json"));
  CHECK(j["input"]["file"] == "calls.txt");
  CHECK(j["input"]["bad_rows"] == 0);
  CHECK(j["input"]["rows"].get<uint64_t>() > 0);
  CHECK(j["simulated"]["replay"]["queued"].get<uint64_t>() > 0);
  CHECK_FALSE(j["simulated"]["replay"].contains("offered"));

  for (const char* sl : {"0", "3601", "20.5"}) {
    auto bad = replay;
    bad.insert(bad.end(), {"--sl-seconds", sl});
    auto b = kefuRun(dir, bad);
    CHECK(b.code == 2);
    CHECK_THAT(b.err, Catch::Contains("--sl-seconds a whole number from 1 to 3600"));
  }
  auto ok = replay;
  ok.insert(ok.end(), {"--sl-seconds", "3600"});
  CHECK(kefuRun(dir, ok).code == 0);
}

TEST_CASE("kefu replay refuses a high_priority_at below 1 by its key",
          "[integration][replay]") {
  TempDir dir;
  writeDeployment(dir, "high_priority_at = -3\n");
  auto r = kefuRun(dir, {"check", "--config", (dir / "deploy.toml").string()});
  INFO(r.out << r.err);
  CHECK(r.code != 0);
  CHECK(std::regex_search(r.err, std::regex(R"(deploy\.toml:\d+:\d+: plugins\.replay\.)"
                                            R"(high_priority_at: must be 1 to 2147483647)")));
}

TEST_CASE("kefu gen-calls refuses days its yymmdd dates cannot name", "[integration][replay]") {
  TempDir dir;
  auto out = (dir / "calls.txt").string();
  auto late = kefuRun(dir, {"gen-calls", "--out", out, "--start", "2070-01-01"});
  CHECK(late.code == 2);
  CHECK_THAT(late.err, Catch::Contains("hold only 1970-01-01 to 2069-12-31"));
  auto early = kefuRun(dir, {"gen-calls", "--out", out, "--start", "1969-12-31"});
  CHECK(early.code == 2);
  CHECK_THAT(early.err, Catch::Contains("1969-12-31 to 1969-12-31") &&
                            Catch::Contains("hold only 1970-01-01 to 2069-12-31"));
  CHECK_FALSE(std::filesystem::exists(out));
}
