// SPDX-License-Identifier: Apache-2.0
//
// `kefu report` as an analyst runs it: no deployment, a log file in, a report directory out.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kefu_server.h"
#include "test_support.h"

using namespace std::chrono_literals;
using kefu::test::TempDir;
using kefu::test::kefuRun;

namespace {

const char* kLog =
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\r\n"
    "AA0101\t1\t111\t2\tPS\t990201\t7:00:00\t7:00:10\t10\t7:00:10\t7:00:40\t30\tAGENT\t"
    "7:00:40\t7:03:00\t140\tDORIT\r\n"
    "AA0101\t2\t0\t0\tPS\t990201\t7:10:00\t7:10:10\t10\t0:00:00\t0:00:00\t0\tAGENT\t"
    "7:10:09\t7:12:00\t111\tNO_SERVER\r\n"
    "AA0101\t3\t111\t2\tPS\t990201\t8:00:00\t8:00:05\t5\t8:00:05\t8:01:05\t60\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\r\n"
    "AA0101\t4\t0\t0\tNW\t990201\t9:00:00\t9:00:20\t20\t0:00:00\t0:00:00\t0\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\r\n"
    "AA0101\t5\t0\t0\tNW\t990201\t9:30:00\t9:30:20\t20\t9:30:20\t9:30:30\t10\tPHANTOM\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\r\n"
    "AA0101\t6\t0\t0\tNW\t990231\t9:30:00\t9:30:20\t20\t0:00:00\t0:00:00\t0\tHANG\t"
    "0:00:00\t0:00:00\t0\tNO_SERVER\r\n";

}  // namespace

TEST_CASE("kefu report runs without a deployment and writes the totals", "[integration][report]") {
  TempDir dir;
  auto log = dir.write("calls.txt", kLog);
  auto out = dir / "rep";
  auto r = kefuRun(dir, {"report", "--calls", log.string(), "--format", "anonymous-bank",
                         "--out", out.string(), "--sl-seconds", "30",
                         "--pseudonymise-agents"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("report: " + (out / "report.html").string()));
  CHECK_THAT(r.err, Catch::Contains("6 rows read") && Catch::Contains("1 bad row skipped"));
  CHECK_THAT(r.err, Catch::Contains(log.string() + ":7: date '990231'"));
  auto j = nlohmann::json::parse(kefu::test::readFile(out / "report.json"));
  const auto& t = j["totals"];
  CHECK(t["offered"] == 4);
  CHECK(t["answered"] == 2);
  CHECK(t["abandoned_in_queue"] == 1);
  CHECK(t["ended_in_ivr"] == 1);
  CHECK(t["phantom"] == 1);
  // Waits 30 s and 0 s: both within 30 s; the 60 s abandon is not.
  CHECK(t["kpis"]["service_level"].get<double>() == Approx(2.0 / 3).margin(1e-4));
  CHECK(t["kpis"]["asa_seconds"].get<double>() == Approx(15.0));
  CHECK(j["options"]["sl_seconds"] == 30);
  CHECK(j["input"]["bad_rows"] == 1);
  CHECK(j["input"]["bad_row_samples"][0]["line"] == 7);
  REQUIRE(j["by_agent"].size() == 1);
  CHECK(j["by_agent"][0]["key"] == "agent-01");
  CHECK(kefu::test::readFile(out / "report.html").find("DORIT") == std::string::npos);
}

TEST_CASE("kefu report refuses bad options and unreadable input with exit code 2",
          "[integration][report]") {
  TempDir dir;
  auto log = dir.write("calls.txt", kLog);
  auto out = (dir / "rep").string();
  auto missing = kefuRun(dir, {"report", "--calls", (dir / "nope.txt").string(), "--out", out});
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("nope.txt: cannot open"));
  auto interval = kefuRun(dir, {"report", "--calls", log.string(), "--out", out,
                                "--interval-minutes", "7"});
  CHECK(interval.code == 2);
  CHECK_THAT(interval.err, Catch::Contains("--interval-minutes must divide the day"));
  auto sl = kefuRun(dir, {"report", "--calls", log.string(), "--out", out, "--sl-seconds",
                          "x"});
  CHECK(sl.code == 2);
  auto map = dir.write("m.toml", "[columns]\narrival = 3\nbogus = 1\n");
  auto badMap = kefuRun(dir, {"report", "--calls", log.string(), "--format", map.string(),
                              "--out", out});
  CHECK(badMap.code == 2);
  CHECK_THAT(badMap.err, Catch::Contains("m.toml:3:1: columns.bogus: unknown key"));
  CHECK_FALSE(std::filesystem::exists(out));
}

TEST_CASE("kefu report exits 2 when no row of the log can be used", "[integration][report]") {
  TempDir dir;
  std::string header(kLog, std::string_view(kLog).find("\r\n") + 2);
  auto junk = dir.write("junk.txt", header + "not\ta\tcall\r\nnor\tthis\r\n");
  auto out = dir / "rep";
  auto r = kefuRun(dir, {"report", "--calls", junk.string(), "--out", out.string()});
  INFO(r.out << r.err);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("junk.txt: no row could be used; nothing written"));
  CHECK_THAT(r.err, Catch::Contains("junk.txt:2: expected 17 tab-separated fields"));
  auto empty = kefuRun(dir, {"report", "--calls", dir.write("hdr.txt", header).string(),
                             "--out", out.string()});
  CHECK(empty.code == 2);
  CHECK_THAT(empty.err, Catch::Contains("hdr.txt has no call rows"));
  CHECK_FALSE(std::filesystem::exists(out / "report.json"));
}

TEST_CASE("kefu report exits 1 and leaves nothing when report.html cannot be replaced",
          "[integration][report]") {
  TempDir dir;
  auto log = dir.write("calls.txt", kLog);
  auto out = dir / "rep";
  std::filesystem::create_directories(out / "report.html");
  auto r = kefuRun(dir, {"report", "--calls", log.string(), "--out", out.string()});
  INFO(r.out << r.err);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("report.html exists and is not a file"));
  CHECK_FALSE(std::filesystem::exists(out / "report.json"));
  CHECK_FALSE(std::filesystem::exists(out / "report.html.tmp"));
  // An --out below a regular file cannot be created: also "cannot run".
  auto under = kefuRun(dir, {"report", "--calls", log.string(), "--out",
                             (log / "rep").string()});
  CHECK(under.code == 1);
}

TEST_CASE("kefu report honours the value of --pseudonymise-agents", "[integration][report]") {
  TempDir dir;
  auto log = dir.write("calls.txt", kLog);
  auto out = dir / "rep";
  auto agentKey = [&](const std::string& flag) {
    auto r = kefuRun(dir, {"report", "--calls", log.string(), "--out", out.string(), flag});
    INFO(flag << ": " << r.out << r.err);
    REQUIRE(r.code == 0);
    auto j = nlohmann::json::parse(kefu::test::readFile(out / "report.json"));
    REQUIRE(j["by_agent"].size() == 1);
    return j["by_agent"][0]["key"].get<std::string>();
  };
  for (const char* off : {"--pseudonymise-agents=no", "--pseudonymise-agents=false",
                          "--pseudonymise-agents=0"}) {
    CHECK(agentKey(off) == "DORIT");
  }
  CHECK(agentKey("--pseudonymise-agents=yes") == "agent-01");
  auto maybe = kefuRun(dir, {"report", "--calls", log.string(), "--out", out.string(),
                             "--pseudonymise-agents=maybe"});
  CHECK(maybe.code == 2);
  CHECK_THAT(maybe.err, Catch::Contains("--pseudonymise-agents is a flag"));
}

TEST_CASE("kefu report shows control characters of bad rows escaped and reads past a huge "
          "line",
          "[integration][report]") {
  TempDir dir;
  std::string text(kLog, std::string_view(kLog).find("\r\n") + 2);
  const std::string good =
      "AA0101\t1\t111\t2\tPS\t990201\t7:00:00\t7:00:10\t10\t7:00:10\t7:00:40\t30\tAGENT\t"
      "7:00:40\t7:03:00\t140\tDORIT\r\n";
  for (int i = 0; i < 8; ++i) text += good;
  text += std::string(20 << 20, 'x') + "\r\n";
  text += "AA0101\t2\t0\t0\tPS\t990201\t7:10:00\t7:10:10\t10\t0:00:00\t0:00:00\t0\t"
          "AG\x1b[31mENT\x07\t7:10:09\t7:12:00\t111\tNO_SERVER\r\n";
  // Not UTF-8: report.json is still written (the byte replaced).
  text += "AA0101\t3\t0\t0\tPS\t990201\t7:10:00\t7:10:10\t10\t0:00:00\t0:00:00\t0\t"
          "\xff\t7:10:09\t7:12:00\t111\tNO_SERVER\r\n";
  for (int i = 0; i < 8; ++i) text += good;
  auto log = dir.write("calls.txt", text);
  auto out = dir / "rep";
  auto r = kefuRun(dir, {"report", "--calls", log.string(), "--out", out.string()});
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\x07') == std::string::npos);
  CHECK_THAT(r.err, Catch::Contains("19 rows read") && Catch::Contains("3 bad rows skipped"));
  CHECK_THAT(r.err, Catch::Contains(log.string() + ":10: line of 20971521 bytes"));
  CHECK_THAT(r.err, Catch::Contains(log.string() + ":11: outcome 'AG\\x1b[31mENT\\x07'"));
  auto j = nlohmann::json::parse(kefu::test::readFile(out / "report.json"));
  CHECK(j["totals"]["offered"] == 16);
  CHECK(j["input"]["bad_row_samples"][2]["line"] == 12);
}
