// SPDX-License-Identifier: Apache-2.0
//
// The wfm forecast on synthetic histories whose weekly and intraday pattern and event
// effects are known, its CSV grid, and the errors of bad history and calendar files.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "forecast.h"

using namespace kefu::wfm;

namespace {

// Expected contacts of a regular day: a weekday level times a two-peaked intraday shape on
// 6-minute intervals (240 a day), so that 30-minute sums are exact.
double weekdayLevel(int w) {
  static const double kLevel[] = {300, 1000, 950, 900, 900, 850, 400};  // Sun .. Sat
  return kLevel[w];
}

std::vector<double> intradayShape() {
  std::vector<double> s(240);
  double sum = 0;
  for (int i = 0; i < 240; ++i) {
    double h = i / 10.0;
    s[i] = 0.02 + std::exp(-0.5 * std::pow((h - 10) / 1.5, 2)) +
           0.7 * std::exp(-0.5 * std::pow((h - 15) / 2.0, 2));
    sum += s[i];
  }
  for (auto& v : s) v /= sum;
  return s;
}

struct Synthetic {
  int64_t first = daysFromCivil(2024, 1, 1);
  int days = 140;
  std::vector<int64_t> closures;  // days at 20% of their regular volume
  bool noise = false;
};

// An interval CSV with the optional aht_seconds column (120 s before noon, 200 s after).
std::string syntheticCsv(const Synthetic& s) {
  auto shape = intradayShape();
  std::mt19937 rng(7);
  std::string out = "date,interval_start,calls,aht_seconds\n";
  for (int d = 0; d < s.days; ++d) {
    int64_t day = s.first + d;
    double level = weekdayLevel(weekdayOf(day));
    for (int64_t c : s.closures) {
      if (c == day) level *= 0.2;
    }
    for (int i = 0; i < 240; ++i) {
      double mean = level * shape[i];
      double v = s.noise ? std::poisson_distribution<int>(mean)(rng) : mean;
      out += fmt::format("{},{:02}:{:02}:00,{},{}\n", formatDate(day), i / 10, (i % 10) * 6,
                         v, i < 120 ? 120 : 200);
    }
  }
  return out;
}

History read(const std::string& csv, int minutes, const std::string& name = "h.csv") {
  std::istringstream in(csv);
  auto h = readHistory(name, in, minutes);
  REQUIRE(h.ok());
  return *h;
}

std::string readError(const std::string& text, int minutes) {
  std::istringstream in(text);
  auto h = readHistory("h.csv", in, minutes);
  REQUIRE_FALSE(h.ok());
  return h.status().message();
}

double dayTotal(const std::vector<ForecastRow>& rows, int64_t day) {
  double t = 0;
  for (const auto& r : rows) {
    if (r.day == day) t += r.volume;
  }
  return t;
}

}  // namespace

TEST_CASE("forecast: recovers weekly and intraday seasonality", "[wfm][forecast]") {
  Synthetic s;
  s.noise = true;
  History h = read(syntheticCsv(s), 30);
  REQUIRE(h.series.size() == 1);
  REQUIRE(h.sourceMinutes == 6);
  REQUIRE(h.hasHandleTimes);
  ForecastOptions o;
  o.start = s.first + s.days;
  o.days = 14;
  auto rows = forecast(h, {}, o, nullptr);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 14u * 48u);
  auto shape = intradayShape();
  double absErr = 0, total = 0;
  for (const auto& r : *rows) {
    double truth = 0;
    for (int k = 0; k < 5; ++k) truth += shape[r.slot * 5 + k];
    truth *= weekdayLevel(weekdayOf(r.day));
    absErr += std::abs(r.volume - truth);
    total += truth;
    CHECK(r.volumeLow <= r.volume);
    CHECK(r.volumeHigh >= r.volume);
    // Quiet night intervals lean toward the pooled handle time; busy ones keep their own.
    if (truth > 20) CHECK(r.aht == Approx(r.slot < 24 ? 120 : 200).epsilon(0.02));
  }
  // Poisson noise on about 650 calls a day leaves a few percent of error in the profiles.
  CHECK(absErr / total < 0.06);
  for (int64_t d = o.start; d < o.start + 7; ++d) {
    CHECK(dayTotal(*rows, d) == Approx(weekdayLevel(weekdayOf(d))).epsilon(0.05));
  }
}

TEST_CASE("forecast: learns an event effect from past events of the kind", "[wfm][forecast]") {
  Synthetic s;
  // Four past closures on different weekdays, then one in the forecast.
  for (int d : {20, 51, 80, 110}) s.closures.push_back(s.first + d);
  History h = read(syntheticCsv(s), 60);
  std::vector<Event> events;
  for (int64_t c : s.closures) events.push_back({"shut", "closure", c, c, {}, -1});
  int64_t start = s.first + s.days;
  int64_t closed = start + 3;
  events.push_back({"shut", "closure", closed, closed, {}, -1});
  // A make-up working Saturday follows Monday's profile.
  int64_t saturday = start;
  while (weekdayOf(saturday) != 6) ++saturday;
  events.push_back({"make-up", "workday", saturday, saturday, {}, 1});
  ForecastOptions o;
  o.start = start;
  o.days = 14;
  std::vector<std::string> notes;
  auto rows = forecast(h, events, o, &notes);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 14u * 24u);
  CHECK(dayTotal(*rows, closed) ==
        Approx(0.2 * weekdayLevel(weekdayOf(closed))).epsilon(0.03));
  CHECK(dayTotal(*rows, saturday) == Approx(weekdayLevel(1)).epsilon(0.03));
  CHECK(dayTotal(*rows, closed + 7) ==
        Approx(weekdayLevel(weekdayOf(closed + 7))).epsilon(0.03));
  // A second event of the same kind on that day does not apply the effect twice.
  auto twice = events;
  twice.push_back({"shut again", "closure", closed, closed, {}, -1});
  auto rows2 = forecast(h, twice, o, nullptr);
  REQUIRE(rows2.ok());
  CHECK(dayTotal(*rows2, closed) == Approx(dayTotal(*rows, closed)));
  bool said = false;
  for (const auto& n : notes) said |= n.find("closure") != std::string::npos;
  CHECK(said);

  // With no past event of a kind, its given effect is used.
  History clean = read(syntheticCsv(Synthetic{}), 60);
  std::vector<Event> fresh = {{"sale", "campaign", closed, closed, 1.5, -1}};
  auto boosted = forecast(clean, fresh, o, nullptr);
  REQUIRE(boosted.ok());
  CHECK(dayTotal(*boosted, closed) ==
        Approx(1.5 * weekdayLevel(weekdayOf(closed))).epsilon(0.03));
}

TEST_CASE("forecast: CSV rows sit on the interval grid from midnight", "[wfm][forecast]") {
  // Three weeks of 15-minute intervals with 5 contacts each and no handle times.
  int64_t first = daysFromCivil(2024, 1, 1);
  std::string csv = "date,interval_start,calls\n";
  for (int d = 0; d < 21; ++d) {
    for (int m = 0; m < 1440; m += 15) {
      csv += fmt::format("{},{:02}:{:02},{}\n", formatDate(first + d), m / 60, m % 60, 5);
    }
  }
  ForecastOptions o;
  o.start = first + 21;
  o.days = 1;
  auto rows = forecast(read(csv, 15), {}, o, nullptr);
  REQUIRE(rows.ok());
  std::ostringstream out;
  writeForecastCsv(out, *rows, 15);
  std::istringstream lines(out.str());
  std::string line;
  std::getline(lines, line);
  CHECK(line ==
        "interval_start,channel,volume,aht_seconds,volume_low,volume_high,aht_low,aht_high");
  std::vector<std::string> rest;
  while (std::getline(lines, line)) rest.push_back(line);
  REQUIRE(rest.size() == 96);
  CHECK(rest[0].rfind(formatDate(o.start) + " 00:00,all,5.000,,", 0) == 0);
  CHECK(rest[1].rfind(formatDate(o.start) + " 00:15,all,", 0) == 0);
  CHECK(rest[95].rfind(formatDate(o.start) + " 23:45,all,", 0) == 0);

  // The same history summed into hours.
  auto hourly = forecast(read(csv, 60), {}, o, nullptr);
  REQUIRE(hourly.ok());
  std::ostringstream hourlyOut;
  writeForecastCsv(hourlyOut, *hourly, 60);
  CHECK(hourlyOut.str().find("\n" + formatDate(o.start) + " 13:00,all,20.000,,") !=
        std::string::npos);
}

TEST_CASE("forecast: history errors name the file and line", "[wfm][forecast]") {
  std::string head = "date,interval_start,calls\n";
  CHECK(readError(head + "2024-01-01,00:00,1\n2024-02-30,00:30,2\n", 30) ==
        "h.csv:3: date: '2024-02-30' is not YYYY-MM-DD");
  CHECK(readError(head + "2024-01-01,00:00,-1\n", 30) ==
        "h.csv:2: calls: '-1' is not a count >= 0");
  CHECK(readError(head + "2024-01-01,25:00,1\n", 30).rfind("h.csv:2: interval_start:", 0) == 0);
  CHECK(readError(head + "2024-01-01,00:00,1\n2024-01-01,00:00,1\n", 30) ==
        "h.csv:3: interval_start: 2024-01-01 00:00 repeats line 2");
  CHECK(readError(head + "2024-01-01,00:00,1,9\n", 30) ==
        "h.csv:2: 4 fields, the header has 3");
  CHECK(readError("when,calls\n", 30).rfind("h.csv:1: unknown history format", 0) == 0);
  // 6-minute sources sum into 30 but cannot make 15; hourly sources cannot make 30.
  std::string six = head + "2024-01-01,00:00,1\n2024-01-01,00:06,1\n";
  CHECK(readError(six, 15).find("6-minute intervals; --interval-minutes 15 is not a multiple") !=
        std::string::npos);
  CHECK(readError(head + "2024-01-01,00:00,1\n2024-01-01,01:00,1\n", 30)
            .find("coarser than --interval-minutes 30") != std::string::npos);
  CHECK(readError("date,interval_start,interval_end,calls\n2024-01-01,00:00,01:00,1\n", 30)
            .find("coarser") != std::string::npos);
  CHECK(readError("date,interval_start,interval_end,calls\n2024-01-01,00:00,00:30,1\n"
                  "2024-01-01,00:30,00:45,1\n",
                  30) == "h.csv:3: interval_end: intervals must all be 30 minutes long and "
                         "start on that grid from midnight");
  History h = read(six, 30);
  CHECK(h.series[0].volume[0] == 2);
}

TEST_CASE("forecast: per-call log with handle times by call type", "[wfm][forecast]") {
  std::string log =
      "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
      "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\r\n"
      "AA0101\t1\t0\t0\tPS\t990201\t7:02:47\t7:02:56\t9\t0:00:00\t0:00:00\t0\tAGENT\t"
      "7:02:55\t7:05:41\t166\tDORIT\r\n"
      "AA0101\t2\t0\t0\tPS\t990201\t7:29:59\t7:30:05\t6\t0:00:00\t0:00:00\t0\tAGENT\t"
      "7:30:05\t7:31:59\t114\tDORIT\r\n"
      "AA0101\t3\t0\t0\tPS\t990201\t7:10:00\t7:10:05\t5\t7:10:05\t7:11:00\t55\tHANG\t"
      "0:00:00\t0:00:00\t0\tNO_SERVER\r\n"
      "AA0101\t4\t0\t0\tNW\t990201\t7:15:00\t7:15:05\t5\t0:00:00\t0:00:00\t0\tPHANTOM\t"
      "0:00:00\t0:00:00\t0\tNO_SERVER\r\n";
  History h = read(log, 30, "feb.txt");
  REQUIRE(h.format == "call-log");
  REQUIRE(h.series.size() == 1);  // the PHANTOM record is not a contact
  const Series& ps = h.series[0];
  CHECK(ps.channel == "PS");
  CHECK(ps.firstDay == daysFromCivil(1999, 2, 1));
  CHECK(ps.volume[14] == 3);     // 07:00-07:30
  CHECK(ps.handled[14] == 2);    // the abandoned call has no handle time
  CHECK(ps.handle[14] == 280);
  std::istringstream bad(
      "type\tdate\tvru_entry\toutcome\tser_time\r\nPS\t990231\t7:00:00\tAGENT\t5\r\n");
  auto e = readHistory("feb.txt", bad, 30);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message() == "feb.txt:2: date: '990231' is not a date yymmdd");
}

TEST_CASE("forecast: event calendars and their errors", "[wfm][forecast]") {
  auto ok = parseEvents("cal.toml",
                        "[[event]]\nname = \"Spring Festival\"\nkind = \"spring-festival\"\n"
                        "start = 2025-01-28\nend = \"2025-02-04\"\neffect = 0.3\n"
                        "[[event]]\nkind = \"workday\"\nstart = 2025-01-26\n");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[0].last - (*ok)[0].first == 7);
  CHECK((*ok)[0].effect == 0.3);
  CHECK((*ok)[1].like == 1);
  CHECK((*ok)[1].name == "workday");
  auto bad = [](const std::string& text) {
    auto r = parseEvents("cal.toml", text);
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK(bad("[[event]]\nkind = \"x\"\nstart = 2025-01-01\nwhen = 1\n") ==
        "cal.toml:4:1: event[0].when: unknown key (accepted: name, kind, start, end, effect, "
        "like)");
  CHECK(bad("[[event]]\nkind = \"x\"\nstart = 2025-02-30\n").rfind("cal.toml:3:", 0) == 0);
  CHECK(bad("[[event]]\nkind = \"x\"\nstart = \"2025-02-30\"\n") ==
        "cal.toml:3:9: event[0].start: must be a date, e.g. 2025-01-28");
  CHECK(bad("[[event]]\nkind = \"x\"\nstart = 2025-01-02\nend = 2025-01-01\n") ==
        "cal.toml:4:7: event[0].end: is before start");
  CHECK(bad("[[event]]\nstart = 2025-01-02\n") == "cal.toml:1:1: event[0].kind: is missing");
  CHECK(bad("[[event]]\nkind = \"x\"\nstart = 2025-01-02\neffect = -1\n")
            .rfind("cal.toml:4:10: event[0].effect:", 0) == 0);
  CHECK(bad("holidays = 1\n").rfind("cal.toml:1:1: holidays: unknown key", 0) == 0);

  // The shipped calendar of Chinese public holidays parses and its make-up days are weekends.
  auto cn = loadEvents(std::string(KEFU_SOURCE_DIR) + "/plugins/wfm/data/holidays-cn.toml");
  REQUIRE(cn.ok());
  int workdays = 0;
  for (const Event& e : *cn) {
    if (e.kind != "workday") continue;
    ++workdays;
    CHECK(weekdayOf(e.first) % 6 == 0);
  }
  CHECK(workdays > 20);
}

TEST_CASE("forecast: accuracy reports WAPE and bias per day", "[wfm][forecast]") {
  History actuals = read("date,interval_start,calls\n2024-01-01,00:00,10\n"
                         "2024-01-01,00:30,30\n2024-01-02,00:00,5\n",
                         30);
  std::istringstream f(
      "interval_start,channel,volume\n2024-01-01 00:00,all,12\n2024-01-01 00:30,all,24\n"
      "2024-01-02 00:00,all,5\n2024-01-03 00:00,all,7\n");
  std::ostringstream out;
  std::string summary;
  REQUIRE(accuracy("f.csv", f, actuals, out, &summary).ok());
  CHECK(out.str() ==
        "date,channel,forecast,actual,wape,bias\n"
        "2024-01-01,all,36.000,40.000,0.2000,-0.1000\n"
        "2024-01-02,all,5.000,5.000,0.0000,0.0000\n"
        "total,all,41.000,45.000,0.1778,-0.0889\n");
  CHECK(summary == "all: WAPE 0.1778 bias -0.0889 over 2 days");
  // A spreadsheet's byte order mark before the header.
  std::istringstream bom("\xEF\xBB\xBFinterval_start,channel,volume\n"
                         "2024-01-01 00:00,all,12\n");
  std::ostringstream bomOut;
  CHECK(accuracy("f.csv", bom, actuals, bomOut, nullptr).ok());
  std::istringstream off("interval_start,channel,volume\n2024-01-01 00:10,all,1\n");
  auto s = accuracy("f.csv", off, actuals, out, nullptr);
  CHECK(s.message() == "f.csv:2: interval_start: '2024-01-01 00:10' is not on the 30-minute "
                       "grid of the actuals");
}
