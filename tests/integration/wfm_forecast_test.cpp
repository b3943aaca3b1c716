// SPDX-License-Identifier: Apache-2.0
//
// `kefu wfm forecast` and `kefu wfm accuracy` through the real executable and wfm plugin.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::TempDir;

namespace {

kefu::test::KefuRun runKefu(const TempDir& dir, std::vector<std::string> args) {
  auto config = dir.write("wfm.toml", "[log]\nlevel = \"warn\"\n[plugins.wfm]\nenabled = true\n");
  return kefu::test::kefuRun(dir, kefu::test::withDeployment(args, config, dir / "data"));
}

// Three weeks of 30-minute intervals from Monday 2024-01-01: busy 09:00-17:00 on weekdays.
std::string history() {
  std::string csv = "date,interval_start,calls,aht_seconds\n";
  for (int d = 0; d < 21; ++d) {
    bool weekend = d % 7 >= 5;
    for (int m = 0; m < 1440; m += 30) {
      int calls = m >= 540 && m < 1020 ? (weekend ? 4 : 40) : 1;
      csv += fmt::format("2024-01-{:02},{:02}:{:02},{},180\n", d + 1, m / 60, m % 60, calls);
    }
  }
  return csv;
}

}  // namespace

TEST_CASE("kefu wfm forecast writes a CSV on the interval grid", "[integration][wfm]") {
  TempDir dir;
  auto hist = dir.write("history.csv", history());
  auto events = dir.write("events.toml",
                          "[[event]]\nname = \"Closed\"\nkind = \"holiday\"\n"
                          "start = 2024-01-24\neffect = 0.1\n");
  auto out = dir / "forecast.csv";
  auto r = runKefu(dir, {"wfm", "forecast", "--history", hist.string(), "--start", "2024-01-22",
                         "--days", "7", "--interval-minutes", "60", "--events",
                         events.string(), "--out", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("holiday (Closed): no past days of this kind"));
  std::string csv = kefu::test::readFile(out);
  CHECK_THAT(csv, Catch::StartsWith("interval_start,channel,volume,aht_seconds,volume_low,"
                                    "volume_high,aht_low,aht_high\n2024-01-22 00:00,all,"));
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 7 * 24);
  CHECK_THAT(csv, Catch::Contains("\n2024-01-22 10:00,all,80.000,180.000,"));
  CHECK_THAT(csv, Catch::Contains("\n2024-01-24 10:00,all,8.000,180.000,"));

  auto acc = runKefu(dir, {"wfm", "accuracy", "--forecast", out.string(), "--actuals",
                           hist.string(), "--interval-minutes", "60"});
  // The history ends before the forecast: nothing to compare.
  CHECK(acc.code == 2);
  CHECK_THAT(acc.err, Catch::Contains("no forecast interval has actuals"));
}

TEST_CASE("kefu wfm forecast names bad input and exits 2", "[integration][wfm]") {
  TempDir dir;
  auto hist = dir.write("history.csv", history() + "2024-01-22,07:15,x,180\n");
  auto r = runKefu(dir, {"wfm", "forecast", "--history", hist.string(), "--start",
                         "2024-01-22"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(hist.string() + ":1010: calls: 'x' is not a count >= 0"));
  auto fine = dir.write("fine.csv", history());
  r = runKefu(dir, {"wfm", "forecast", "--history", fine.string(), "--start", "2024-01-22",
                    "--interval-minutes", "15"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("coarser than --interval-minutes 15"));
  r = runKefu(dir, {"wfm", "forecast", "--history", fine.string(), "--start", "2024-01-22",
                    "--interval-minutes", "20"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--interval-minutes must be 15, 30 or 60"));
  r = runKefu(dir, {"wfm", "forecast", "--history", fine.string(), "--start", "2024-01-10"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("9 days of history before 2024-01-10"));
}

TEST_CASE("kefu wfm --out is replaced only when the command succeeds", "[integration][wfm]") {
  TempDir dir;
  // The batch may be its own --out: it is read to the end before the file is replaced.
  auto batch = dir.write("f.csv", "\xEF\xBB\xBFinterval_start,volume\n2026-01-05 09:00,100\n"
                                  "2026-01-05 09:30,50\n");
  auto r = runKefu(dir, {"wfm", "staff", "--batch", batch.string(), "--aht", "180",
                         "--sl-target", "0.8", "--out", batch.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::string staffed = kefu::test::readFile(batch);
  CHECK_THAT(staffed, Catch::StartsWith("interval_start,volume,agents,on_duty,") &&
                          Catch::Contains("\n2026-01-05 09:30,50,8,8,"));
  // A bad row leaves the earlier file as it was, and no temporary file.
  auto bad = dir.write("bad.csv", "interval_start,volume\n2026-01-05 09:00,100\n"
                                  "2026-01-05 09:30,-3\n");
  r = runKefu(dir, {"wfm", "staff", "--batch", bad.string(), "--aht", "180", "--sl-target",
                    "0.8", "--out", batch.string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(bad.string() + ":3: column 'volume': '-3' must be >= 0"));
  CHECK(kefu::test::readFile(batch) == staffed);
  CHECK_FALSE(std::filesystem::exists(batch.string() + ".tmp"));

  // A symbolic link (as /dev/stdout is) is written through, not replaced by a file.
  std::filesystem::create_symlink(dir / "target.csv", dir / "link.csv");
  r = runKefu(dir, {"wfm", "staff", "--batch", batch.string(), "--aht", "180", "--sl-target",
                    "0.8", "--out", (dir / "link.csv").string()});
  CHECK(r.code == 0);
  CHECK(std::filesystem::is_symlink(dir / "link.csv"));
  CHECK_THAT(kefu::test::readFile(dir / "target.csv"), Catch::StartsWith("interval_start,"));

  // A failing accuracy leaves an earlier result in place.
  auto hist = dir.write("history.csv", history());
  auto fc = dir.write("fc.csv", "interval_start,channel,volume\n2025-01-01 00:00,all,1\n");
  auto acc = dir.write("acc.csv", "earlier\n");
  r = runKefu(dir, {"wfm", "accuracy", "--forecast", fc.string(), "--actuals", hist.string(),
                    "--out", acc.string()});
  CHECK(r.code == 2);
  CHECK(kefu::test::readFile(acc) == "earlier\n");

  // Option errors name the option.
  r = runKefu(dir, {"wfm", "staff", "--rate", "100", "--aht", "0", "--sl-target", "0.8"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--aht must be > 0 seconds, not 0"));
  r = runKefu(dir, {"wfm", "staff", "--rate", "1e9", "--aht", "180", "--sl-target", "0.8"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("is beyond the limit of 10000000 agents"));
  CHECK_THAT(r.err, !Catch::Contains("ASA"));
}
