// SPDX-License-Identifier: Apache-2.0
//
// The call-log readers on small hand-made logs: the anonymous-bank format with its quirks,
// the TOML-mapped reader and its configuration errors, and the real February file when the
// shared data is present.
#include <catch2/catch.hpp>

#include <map>

#include "call_log.h"
#include "call_log_internal.h"
#include "test_support.h"

using kefu::calls::CallRecord;
using kefu::calls::Outcome;
using kefu::calls::openCallLog;
using kefu::test::TempDir;

namespace {

const char* kHeader =
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver";

// Joins the 17 fields of a row with tabs.
std::string row(std::initializer_list<const char*> f) {
  std::string s;
  for (const char* x : f) s += (s.empty() ? "" : "\t") + std::string(x);
  return s;
}

int64_t at(int64_t day, int h, int m, int s) {
  return day * 86'400'000 + ((h * 60 + m) * 60 + s) * 1000LL;
}

// 1999-02-01 in days since the epoch.
const int64_t kFeb1 = kefu::calls::detail::daysFromCivil(1999, 2, 1);

std::string sampleLog() {
  std::vector<std::string> rows = {
      kHeader,
      // 2: queued, answered by DORIT
      row({"AA0101", "1", "23317894", "2", "PS", "990201", "7:02:47", "7:02:56", "9",
           "7:02:56", "7:03:10", "14", "AGENT", "7:03:10", "7:05:41", "151", "DORIT"}),
      // 3: zero wait, service starts 1 s before the IVR exit (negative gap)
      row({"AA0101", "2", "0", "0", "NW", "990201", "7:31:45", "7:31:55", "10", "0:00:00",
           "0:00:00", "0", "AGENT", "7:31:54", "7:31:59", "5", "TOVA"}),
      // 4: served but unattributed
      row({"AA0101", "3", "0", "0", "PS", "990201", "8:00:00", "8:00:05", "5", "0:00:00",
           "0:00:00", "0", "AGENT", "8:00:05", "8:00:09", "4", "NO_SERVER"}),
      // 5: abandoned in the queue after 5 s
      row({"AA0101", "4", "23317894", "2", "PS", "990201", "8:09:16", "8:09:22", "6",
           "8:09:22", "8:09:27", "5", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}),
      // 6: hung up in the IVR
      row({"AA0101", "5", "0", "0", "PS", "990201", "9:00:00", "9:00:30", "30", "0:00:00",
           "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}),
      // 7: phantom
      row({"AA0101", "6", "0", "0", "PS", "990201", "9:10:00", "9:10:05", "5", "9:10:05",
           "9:10:20", "15", "PHANTOM", "9:10:19", "9:10:25", "6", "NO_SERVER"}),
      // 8: wrong number of fields
      "AA0101\t7\t0\t0\tPS\t990201\t9:20:00",
      // 9: 30 February
      row({"AA0101", "8", "0", "0", "PS", "990230", "9:30:00", "9:30:05", "5", "0:00:00",
           "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}),
      // 10: a minute of 61
      row({"AA0101", "9", "0", "0", "PS", "990201", "9:61:00", "9:30:05", "5", "0:00:00",
           "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}),
      // 11: unknown outcome
      row({"AA0101", "10", "0", "0", "PS", "990201", "9:40:00", "9:40:05", "5", "0:00:00",
           "0:00:00", "0", "BUSY", "0:00:00", "0:00:00", "0", "NO_SERVER"}),
      // 12: service crossing midnight, starting 1 s before the IVR exit
      row({"AA0102", "11", "0", "1", "NE", "990201", "23:59:50", "23:59:58", "8", "0:00:00",
           "0:00:00", "0", "AGENT", "23:59:57", "0:02:00", "123", "AVNI"}),
      // 13: the IVR exit is before the entry (source error)
      row({"AA0102", "12", "0", "0", "PS", "990201", "10:00:30", "10:00:10", "0", "0:00:00",
           "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}),
      // 14: the queue started at midnight exactly (0:00:00 with q_time 27)
      row({"AA0102", "13", "15696776", "2", "PS", "990215", "23:59:54", "23:59:54", "0",
           "0:00:00", "0:00:27", "27", "AGENT", "0:00:27", "0:01:33", "66", "AVNI"}),
      // 15: q_time disagrees with the queue times
      row({"AA0102", "14", "0", "0", "PS", "990201", "11:00:00", "11:00:05", "5", "11:00:05",
           "11:00:45", "3", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}),
  };
  std::string text;
  for (const auto& r : rows) text += r + "\r\n";
  // 16: the last line has no end of line; answered after waiting 60 s.
  text += row({"AA0103", "15", "0", "0", "TT", "990202", "12:00:00", "12:00:10", "10",
               "12:00:10", "12:01:10", "60", "AGENT", "12:01:10", "12:03:10", "120", "ELI"});
  return text;
}

std::vector<CallRecord> readAll(kefu::calls::CallReader& r) {
  std::vector<CallRecord> out;
  CallRecord c;
  while (r.next(c)) out.push_back(c);
  return out;
}

// The error of opening `csv` with the mapping `toml` (written to dir/m.toml), which must fail.
std::string mappingError(const TempDir& dir, const std::filesystem::path& csv,
                         const std::string& toml) {
  auto map = dir.write("m.toml", toml);
  auto r = openCallLog(csv.string(), map.string());
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

}  // namespace

TEST_CASE("Clock and date parsing", "[calllog]") {
  using namespace kefu::calls::detail;
  int64_t ms;
  CHECK(parseClock("7:02:47", ms));
  CHECK(ms == ((7 * 60 + 2) * 60 + 47) * 1000);
  CHECK(parseClock("23:59:59", ms));
  CHECK_FALSE(parseClock("24:00:00", ms));
  CHECK_FALSE(parseClock("7:2:47", ms));
  CHECK_FALSE(parseClock("7:02:4x", ms));
  int64_t day;
  CHECK(parseYymmdd("990201", day));
  CHECK(day == kFeb1 * 86'400'000);
  CHECK(parseYymmdd("000229", day));  // 2000 is a leap year
  CHECK_FALSE(parseYymmdd("990229", day));
  CHECK_FALSE(parseYymmdd("9902011", day));
  int64_t y;
  unsigned m, d;
  civilFromDays(kFeb1, y, m, d);
  CHECK((y == 1999 && m == 2 && d == 1));
}

TEST_CASE("The anonymous-bank reader applies the outcome rules and the quirks", "[calllog]") {
  TempDir dir;
  auto file = dir.write("feb.txt", sampleLog());
  auto reader = openCallLog(file.string(), "anonymous-bank");
  REQUIRE(reader.ok());
  auto calls = readAll(**reader);
  REQUIRE(calls.size() == 10);
  CHECK((*reader)->rowsRead() == 15);
  CHECK((*reader)->bytesRead() == std::filesystem::file_size(file));

  std::map<uint64_t, CallRecord> byLine;
  for (const auto& c : calls) byLine[c.line] = c;

  const CallRecord& q = byLine.at(2);
  CHECK(q.id == "AA0101-1-990201");
  CHECK(q.customer == "23317894");
  CHECK(q.priority == 2);
  CHECK(q.type == "PS");
  CHECK(q.channel == "phone");
  CHECK(q.outcome == Outcome::kAnswered);
  CHECK(q.agent == "DORIT");
  CHECK(q.arrivalMs == at(kFeb1, 7, 2, 47));
  CHECK(q.queueStartMs == at(kFeb1, 7, 2, 56));
  CHECK(q.queueExitMs == at(kFeb1, 7, 3, 10));
  CHECK(q.serviceEndMs == at(kFeb1, 7, 5, 41));

  // Negative gap: the service moves to the IVR exit and keeps its 5 s.
  const CallRecord& z = byLine.at(3);
  CHECK(z.customer.empty());
  CHECK(z.queueStartMs == -1);
  CHECK(z.serviceStartMs == at(kFeb1, 7, 31, 55));
  CHECK(z.serviceEndMs == at(kFeb1, 7, 32, 0));

  CHECK(byLine.at(4).outcome == Outcome::kAnswered);
  CHECK(byLine.at(4).agent.empty());
  CHECK(byLine.at(5).outcome == Outcome::kAbandonedInQueue);
  CHECK(byLine.at(5).agent.empty());
  CHECK(byLine.at(6).outcome == Outcome::kEndedInIvr);
  CHECK(byLine.at(6).queueStartMs == -1);
  CHECK(byLine.at(7).outcome == Outcome::kPhantom);

  // Midnight: the service ends on the next day.
  const CallRecord& mid = byLine.at(12);
  CHECK(mid.serviceStartMs == at(kFeb1, 23, 59, 58));
  CHECK(mid.serviceEndMs == at(kFeb1 + 1, 0, 2, 1));
  CHECK(mid.serviceEndMs - mid.serviceStartMs == 123'000);

  // IVR exit before the entry: clamped to the arrival.
  CHECK(byLine.at(13).ivrExitMs == byLine.at(13).arrivalMs);

  // 0:00:00 that is midnight.
  const CallRecord& m0 = byLine.at(14);
  int64_t feb16 = kFeb1 + 15;
  CHECK(m0.queueStartMs == at(feb16, 0, 0, 0));
  CHECK(m0.queueExitMs == at(feb16, 0, 0, 27));
  CHECK(m0.arrivalMs == at(feb16 - 1, 23, 59, 54));

  // The last line, without an end of line.
  CHECK(byLine.at(16).agent == "ELI");
  CHECK(byLine.at(16).queueExitMs - byLine.at(16).queueStartMs == 60'000);

  const auto& bad = (*reader)->badRows();
  REQUIRE((*reader)->badRowCount() == 5);
  REQUIRE(bad.size() == 5);
  CHECK(bad[0].line == 8);
  CHECK_THAT(bad[0].reason, Catch::Contains("expected 17 tab-separated fields, found 7"));
  CHECK(bad[1].line == 9);
  CHECK_THAT(bad[1].reason, Catch::Contains("date '990230'"));
  CHECK(bad[2].line == 10);
  CHECK_THAT(bad[2].reason, Catch::Contains("vru_entry '9:61:00'"));
  CHECK(bad[3].line == 11);
  CHECK_THAT(bad[3].reason, Catch::Contains("outcome 'BUSY'"));
  CHECK(bad[4].line == 15);
  CHECK_THAT(bad[4].reason, Catch::Contains("says 3 s"));

  auto corr = (*reader)->corrections();
  CHECK(corr.at(kefu::calls::detail::correctionName(kefu::calls::detail::kServiceShifted)) ==
        3);
  CHECK(corr.at(kefu::calls::detail::correctionName(
            kefu::calls::detail::kIvrExitBeforeArrival)) == 1);
  CHECK(corr.at(kefu::calls::detail::correctionName(kefu::calls::detail::kMidnightRestored)) ==
        1);
}

TEST_CASE("The anonymous-bank reader refuses other files with the reason", "[calllog]") {
  TempDir dir;
  auto missing = openCallLog((dir / "none.txt").string(), "anonymous-bank");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("none.txt: cannot open"));

  auto csv = dir.write("x.csv", "a,b,c\n1,2,3\n");
  auto wrong = openCallLog(csv.string(), "anonymous-bank");
  REQUIRE_FALSE(wrong.ok());
  CHECK_THAT(wrong.status().message(), Catch::Contains("x.csv:1: not an anonymous-bank log"));

  auto renamed = std::string(kHeader);
  renamed.replace(renamed.find("q_time"), 6, "q_wait");
  auto other = dir.write("y.txt", renamed + "\n");
  auto r = openCallLog(other.string(), "anonymous-bank");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(),
             Catch::Contains("column 12 is 'q_wait', expected 'q_time'"));

  auto unknown = openCallLog(other.string(), "cisco");
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.status().message(), Catch::Contains("unknown call-log format 'cisco'"));
}

TEST_CASE("A mapping file reads a CSV log with quotes and full timestamps", "[calllog]") {
  TempDir dir;
  auto map = dir.write("map.toml", R"(
delimiter = ","
datetime_format = "%Y-%m-%dT%H:%M:%S"
anonymous_customers = ["", "anon"]
unattributed_agents = ["", "-"]

[columns]
id = "call"
customer = "caller"
type = "queue"
channel = "media"
arrival = "arrived"
queue_start = "queued"
queue_exit = "left_queue"
service_start = "answered"
service_end = "ended"
agent = "agent"
outcome = "result"

[outcomes]
answered = ["ok"]
abandoned = ["abandon"]
ivr = ["selfservice"]
phantom = ["test"]
)");
  auto csv = dir.write(
      "calls.csv",
      "call,caller,queue,media,arrived,queued,left_queue,answered,ended,agent,result\n"
      "c1,555,\"claims, motor\",chat,2026-01-05T10:00:00,2026-01-05T10:00:20,"
      "2026-01-05T10:00:50,2026-01-05T10:00:50,2026-01-05T10:05:00,\"Li \"\"Ming\"\"\",ok\n"
      "c2,anon,claims,phone,2026-01-05T10:01:00,2026-01-05T10:01:05,2026-01-05T10:02:05,"
      ",,-,abandon\n"
      "c3,556,claims,phone,2026-01-05T10:02:00,,,,,,selfservice\n"
      "c4,556,claims,phone,2026-01-05T10:03:00,,,,,,maybe\n"
      "c5,556,claims,phone,2026-01-05 10:04:00,,,,,,ok\n"
      "c6,556,\"claims,phone\n"
      "c7,557,claims,phone,2026-01-05T10:06:00,,,,,,test\n");
  auto reader = openCallLog(csv.string(), map.string());
  REQUIRE(reader.ok());
  auto calls = readAll(**reader);
  REQUIRE(calls.size() == 4);
  int64_t day = kefu::calls::detail::daysFromCivil(2026, 1, 5);
  CHECK(calls[0].id == "c1");
  CHECK(calls[0].type == "claims, motor");
  CHECK(calls[0].channel == "chat");
  CHECK(calls[0].agent == "Li \"Ming\"");
  CHECK(calls[0].outcome == Outcome::kAnswered);
  CHECK(calls[0].arrivalMs == at(day, 10, 0, 0));
  CHECK(calls[0].queueExitMs - calls[0].queueStartMs == 30'000);
  CHECK(calls[1].customer.empty());
  CHECK(calls[1].agent.empty());
  CHECK(calls[1].outcome == Outcome::kAbandonedInQueue);
  CHECK(calls[2].outcome == Outcome::kEndedInIvr);
  CHECK(calls[3].outcome == Outcome::kPhantom);

  const auto& bad = (*reader)->badRows();
  REQUIRE(bad.size() == 3);
  CHECK(bad[0].line == 5);
  CHECK_THAT(bad[0].reason, Catch::Contains("column 11 (outcome): 'maybe' is not listed"));
  CHECK(bad[1].line == 6);
  CHECK_THAT(bad[1].reason,
             Catch::Contains("column 5 (arrival): '2026-01-05 10:04:00' does not match"));
  CHECK(bad[2].line == 7);
  CHECK_THAT(bad[2].reason, Catch::Contains("not closed on its line"));
}

TEST_CASE("A mapping with a date column reads the anonymous-bank log like the built-in reader",
          "[calllog]") {
  TempDir dir;
  auto file = dir.write("feb.txt", sampleLog());
  auto map = dir.write("bank.toml", R"(
delimiter = "\t"
not_applicable = ["0:00:00"]
date_format = "%y%m%d"
time_format = "%H:%M:%S"
anonymous_customers = ["0"]
unattributed_agents = ["NO_SERVER"]
[columns]
id = "call_id"
customer = "customer_id"
priority = "priority"
type = "type"
date = "date"
arrival = "vru_entry"
ivr_exit = "vru_exit"
queue_start = "q_start"
queue_exit = "q_exit"
queue_seconds = "q_time"
service_start = "ser_start"
service_end = "ser_exit"
service_seconds = "ser_time"
agent = "server"
outcome = "outcome"
[outcomes]
answered = "AGENT"
hang = "HANG"
phantom = "PHANTOM"
)");
  auto builtin = openCallLog(file.string(), "anonymous-bank");
  auto mapped = openCallLog(file.string(), map.string());
  REQUIRE(builtin.ok());
  REQUIRE(mapped.ok());
  auto a = readAll(**builtin);
  auto b = readAll(**mapped);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("line " << a[i].line);
    CHECK(a[i].line == b[i].line);
    CHECK(a[i].outcome == b[i].outcome);
    CHECK(a[i].arrivalMs == b[i].arrivalMs);
    CHECK(a[i].queueStartMs == b[i].queueStartMs);
    CHECK(a[i].queueExitMs == b[i].queueExitMs);
    CHECK(a[i].serviceStartMs == b[i].serviceStartMs);
    CHECK(a[i].serviceEndMs == b[i].serviceEndMs);
    CHECK(a[i].agent == b[i].agent);
    CHECK(a[i].customer == b[i].customer);
  }
  CHECK((*mapped)->badRowCount() == (*builtin)->badRowCount());
}

TEST_CASE("Mapping file errors name the file line column and key", "[calllog]") {
  TempDir dir;
  auto csv = dir.write("calls.csv", "start,who\n2026-01-05 10:00:00,x\n");
  auto open = [&](const std::string& toml) { return mappingError(dir, csv, toml); };
  CHECK_THAT(open("delimiter = \",\"\n[columns\n"), Catch::Contains("m.toml:2:") &&
                                                      Catch::Contains("(syntax)"));
  CHECK_THAT(open("[columns]\narrival = \"start\"\narival = \"x\"\n"),
             Catch::Contains("m.toml:3:1: columns.arival: unknown key (accepted: id,"));
  CHECK_THAT(open("delimeter = \";\"\n[columns]\narrival = \"start\"\n"),
             Catch::Contains("m.toml:1:1: delimeter: unknown key"));
  CHECK_THAT(open("delimiter = \";;\"\n[columns]\narrival = \"start\"\n"),
             Catch::Contains("m.toml:1:13: delimiter: must be one character"));
  CHECK_THAT(open("datetime_format = \"%Y-%m-%d %H:%Q\"\n[columns]\narrival = \"start\"\n"),
             Catch::Contains("m.toml:1:19: datetime_format: unknown conversion '%Q'"));
  CHECK_THAT(open("[columns]\nagent = \"who\"\n"),
             Catch::Contains("columns.arrival: the arrival column is required"));
  CHECK_THAT(open("[columns]\narrival = 0\n"),
             Catch::Contains("m.toml:2:11: columns.arrival: column numbers start at 1"));
  CHECK_THAT(open("[columns]\narrival = \"begin\"\n"),
             Catch::Contains("calls.csv:1: no column named 'begin' (") &&
                 Catch::Contains("m.toml:2:11: columns.arrival); the header has: start, who"));
  CHECK_THAT(open("[columns]\narrival = \"start\"\noutcome = \"who\"\n"),
             Catch::Contains("m.toml:3:11: columns.outcome: an [outcomes] table"));
  CHECK_THAT(open("[columns]\narrival = \"start\"\noutcome = \"who\"\n[outcomes]\n"
                  "answered = [\"x\"]\nivr = [\"x\"]\n"),
             Catch::Contains("the value 'x' is listed under two outcomes"));
  CHECK_THAT(open("header = false\n[columns]\narrival = \"start\"\n"),
             Catch::Contains("m.toml:3:11: columns.arrival: names a column, but header = "
                             "false"));
}

TEST_CASE("The February log of the anonymous bank has the counts its README gives",
          "[calllog][real-data]") {
  std::filesystem::path file = std::filesystem::path(KEFU_SOURCE_DIR) / ".." / "shared" /
                               "data" / "callcenter" / "anonymous-bank-1999" /
                               "data_anonymous_bank_february.txt";
  if (!std::filesystem::exists(file)) {
    WARN("skipped: " << file.string() << " is absent (the shared data set is not mounted)");
    return;
  }
  auto reader = openCallLog(file.string(), "anonymous-bank");
  REQUIRE(reader.ok());
  std::map<Outcome, uint64_t> n;
  uint64_t unattributed = 0;
  CallRecord c;
  while ((*reader)->next(c)) {
    ++n[c.outcome];
    if (c.outcome == Outcome::kAnswered && c.agent.empty()) ++unattributed;
  }
  CHECK((*reader)->rowsRead() == 33344);
  CHECK((*reader)->badRowCount() == 0);
  CHECK(n[Outcome::kAnswered] == 27162);  // AGENT
  CHECK(n[Outcome::kAbandonedInQueue] + n[Outcome::kEndedInIvr] == 5904);  // HANG
  CHECK(n[Outcome::kAbandonedInQueue] == 3932);
  CHECK(n[Outcome::kEndedInIvr] == 1972);
  CHECK(n[Outcome::kPhantom] == 278);
  CHECK(unattributed == 491);  // NO_SERVER among AGENT
}

TEST_CASE("A line longer than the reader accepts is a bad row and reading goes on",
          "[calllog]") {
  TempDir dir;
  std::string good = row({"AA0101", "1", "0", "0", "PS", "990201", "7:00:00", "7:00:05", "5",
                          "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0",
                          "NO_SERVER"}) +
                     "\r\n";
  const size_t longBytes = kefu::calls::detail::LineSource::kMaxLineBytes + 10;
  std::string text = std::string(kHeader) + "\r\n";
  for (int i = 0; i < 8; ++i) text += good;
  text += std::string(longBytes, 'x') + "\r\n";
  for (int i = 0; i < 8; ++i) text += good;
  // A second one at the very end, without an end of line.
  text += std::string(longBytes, 'y');
  auto file = dir.write("long.txt", text);
  auto reader = openCallLog(file.string(), "anonymous-bank");
  REQUIRE(reader.ok());
  auto calls = readAll(**reader);
  CHECK(calls.size() == 16);
  CHECK((*reader)->rowsRead() == 18);
  CHECK((*reader)->bytesRead() == text.size());
  REQUIRE((*reader)->badRowCount() == 2);
  CHECK((*reader)->badRows()[0].line == 10);
  CHECK((*reader)->badRows()[1].line == 19);
  CHECK_THAT((*reader)->badRows()[0].reason,
             Catch::Contains("line of " + std::to_string(longBytes + 1) + " bytes") &&
                 Catch::Contains("longer than the 16 MiB a row may have: skipped"));
  CHECK(calls.back().line == 18);

  // The mapping reader shares the line source.
  auto map = dir.write("bank.toml", "delimiter = \"\\t\"\ndate_format = \"%y%m%d\"\n"
                                    "not_applicable = [\"0:00:00\"]\n"
                                    "[columns]\ndate = \"date\"\narrival = \"vru_entry\"\n");
  auto mapped = openCallLog(file.string(), map.string());
  REQUIRE(mapped.ok());
  CHECK(readAll(**mapped).size() == 16);
  CHECK((*mapped)->badRowCount() == 2);
}

TEST_CASE("A mapping reports every mistake at once and a missing file plainly", "[calllog]") {
  TempDir dir;
  auto csv = dir.write("calls.csv", "start,who\n2026-01-05 10:00:00,x\n");
  auto map = dir.write("m.toml", "delimeter = \";\"\nquote = 5\n[columns]\narrival = \"start\"\n"
                                 "agnet = \"who\"\n");
  auto r = openCallLog(csv.string(), map.string());
  REQUIRE_FALSE(r.ok());
  const std::string msg = r.status().message();
  CHECK_THAT(msg, Catch::Contains("m.toml:1:1: delimeter: unknown key"));
  CHECK_THAT(msg, Catch::Contains("m.toml:2:9: quote: must be a string"));
  CHECK_THAT(msg, Catch::Contains("m.toml:5:1: columns.agnet: unknown key"));

  auto missing = openCallLog(csv.string(), (dir / "nosuch.toml").string());
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(),
             Catch::Contains("nosuch.toml: cannot open the mapping file: no such file"));
  CHECK(missing.status().message().find(":0:0") == std::string::npos);
}

TEST_CASE("A mapped column number past the header is refused before any row", "[calllog]") {
  TempDir dir;
  auto csv = dir.write("calls.csv", "start,who\n2026-01-05 10:00:00,x\n");
  auto map = dir.write("m.toml", "[columns]\narrival = \"start\"\nagent = 99\n");
  auto r = openCallLog(csv.string(), map.string());
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(),
             Catch::Contains("m.toml:3:9: columns.agent: column 99 is beyond the 2 columns"));
}

TEST_CASE("Bad rows of full timestamps show dates and times not epoch numbers", "[calllog]") {
  TempDir dir;
  auto map = dir.write("m.toml", "[columns]\narrival = \"a\"\nservice_start = \"s\"\n"
                                 "service_end = \"e\"\n");
  auto csv = dir.write("calls.csv", "a,s,e\n2026-01-05 07:00:00,2026-01-05 07:03:00,"
                                    "2026-01-05 07:02:00\n");
  auto r = openCallLog(csv.string(), map.string());
  REQUIRE(r.ok());
  CallRecord rec;
  while ((*r)->next(rec)) {
  }
  REQUIRE((*r)->badRows().size() == 1);
  const std::string& why = (*r)->badRows()[0].reason;
  INFO(why);
  CHECK_THAT(why, Catch::Contains("2026-01-05 7:02:00"));
  CHECK(why.find(" ms") == std::string::npos);
}

TEST_CASE("A stray carriage return in the header is shown in the message", "[calllog]") {
  TempDir dir;
  std::string header = kHeader;
  auto log = dir.write("calls.txt", header + "\r\r\n");
  auto r = openCallLog(log.string(), "anonymous-bank");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("column 17 is 'server\\r', expected "
                                                   "'server'"));
}

TEST_CASE("Numbers out of range are bad rows, never wrapped", "[calllog]") {
  TempDir dir;
  // anonymous-bank: priority, q_time and ser_time fit an int.
  auto bankRow = [](const char* priority, const char* qTime) {
    return row({"AA0101", "1", "0", priority, "PS", "990201", "7:00:00", "7:00:05", "5",
                "7:00:05", "7:00:10", qTime, "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"});
  };
  auto bank = dir.write("bank.txt", std::string(kHeader) + "\n" + bankRow("4294967298", "5") +
                                        "\n" + bankRow("2", "18446744073709552") + "\n" +
                                        bankRow("2147483647", "5") + "\n");
  auto r = openCallLog(bank.string(), "anonymous-bank");
  REQUIRE(r.ok());
  auto calls = readAll(**r);
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].priority == 2147483647);
  REQUIRE((*r)->badRowCount() == 2);
  CHECK((*r)->badRows()[0].reason ==
        "priority '4294967298' is not a whole number from 0 to 2147483647");
  CHECK((*r)->badRows()[1].reason ==
        "q_time '18446744073709552' is not a whole number from 0 to 2147483647");

  // A mapping: epoch timestamps, priorities and durations.
  auto csv = dir.write("calls.csv",
                       "at,prio,wait\n"
                       "18446744073709552,0,\n"   // * 1000 would wrap to 1970
                       "9223372036854776,0,\n"    // * 1000 would wrap negative
                       "1700000000,4294967298,\n"  // would read as 2
                       "1700000000,-2147483648,\n"
                       "1700000000,0,9999999999999999\n"
                       "253402300799,0,\n");
  auto map = dir.write("m.toml", "datetime_format = \"epoch_seconds\"\n[columns]\n"
                                 "arrival = \"at\"\npriority = \"prio\"\n"
                                 "queue_seconds = \"wait\"\n");
  auto m = openCallLog(csv.string(), map.string());
  REQUIRE(m.ok());
  calls = readAll(**m);
  REQUIRE(calls.size() == 2);
  CHECK(calls[0].priority == -2147483648LL);
  CHECK(calls[0].arrivalMs == 1'700'000'000'000LL);
  CHECK(calls[1].arrivalMs == 253'402'300'799'000LL);
  const auto& bad = (*m)->badRows();
  REQUIRE(bad.size() == 4);
  CHECK(bad[0].line == 2);
  CHECK_THAT(bad[0].reason, Catch::Contains("'18446744073709552' does not match "
                                            "datetime_format 'epoch_seconds' (a whole number "
                                            "from 0 to 253402300799)"));
  CHECK(bad[1].line == 3);
  CHECK_THAT(bad[1].reason, Catch::Contains("'9223372036854776' does not match"));
  CHECK(bad[2].reason ==
        "column 2 (priority): '4294967298' is not an integer from -2147483648 to 2147483647");
  CHECK_THAT(bad[3].reason, Catch::Contains("column 3 (queue_seconds): '9999999999999999' is "
                                            "not a whole number of seconds from 0 to "
                                            "2147483647"));

  // Dates before 1970 would read as "did not happen" (-1) or as negative times.
  auto old = dir.write("old.csv", "at\n1969-12-31 23:59:59\n1970-01-01 00:00:00\n");
  auto iso = dir.write("iso.toml", "[columns]\narrival = \"at\"\n");
  auto o = openCallLog(old.string(), iso.string());
  REQUIRE(o.ok());
  CHECK(readAll(**o).size() == 1);
  REQUIRE((*o)->badRowCount() == 1);
  CHECK_THAT((*o)->badRows()[0].reason, Catch::Contains("(years 1970 to 9999)"));
}

TEST_CASE("Control characters of values are shown escaped in every reason", "[calllog]") {
  TempDir dir;
  auto bank = dir.write(
      "bank.txt",
      std::string(kHeader) + "\n" +
          row({"AA0101", "1", "0", "0", "PS", "990201", "7:00:00", "7:00:05", "5", "0:00:00",
               "0:00:00", "0", "AG\x1b[31mENT\x07", "0:00:00", "0:00:00", "0", "NO_SERVER"}) +
          "\n" +
          row({"AA0101", "2", "0", "0", "PS", "99\x1b" "0201", "7:00:00", "7:00:05", "5",
               "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}) +
          "\n" +
          row({"AA0101", "3", "0", "\x08" "1", "PS", "990201", "7:00:00", "7:00:05", "5",
               "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}) +
          "\n" +
          row({"AA0101", "4", "0", "0", "PS", "990201", "7:00:00", "7:00:0\x1b", "5",
               "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"}) +
          "\n");
  auto r = openCallLog(bank.string(), "anonymous-bank");
  REQUIRE(r.ok());
  CHECK(readAll(**r).empty());
  const auto& bad = (*r)->badRows();
  REQUIRE(bad.size() == 4);
  CHECK(bad[0].reason == "outcome 'AG\\x1b[31mENT\\x07' is not AGENT, HANG or PHANTOM");
  CHECK(bad[1].reason == "date '99\\x1b0201' is not a valid yymmdd date");
  CHECK(bad[2].reason == "priority '\\x081' is not a whole number from 0 to 2147483647");
  CHECK(bad[3].reason == "vru_exit '7:00:0\\x1b' is not a time H:MM:SS");

  auto csv = dir.write("calls.csv", "at,res,prio\n"
                                    "2026-01-05 10:00:00,ok\x1b,0\n"
                                    "2026-01-05 10:00:0\x07,ok,0\n"
                                    "2026-01-05 10:00:00,ok,1\x7f\n");
  auto map = dir.write("m.toml", "[columns]\narrival = \"at\"\noutcome = \"res\"\n"
                                 "priority = \"prio\"\n[outcomes]\nanswered = \"ok\"\n");
  auto m = openCallLog(csv.string(), map.string());
  REQUIRE(m.ok());
  CHECK(readAll(**m).empty());
  const auto& mb = (*m)->badRows();
  REQUIRE(mb.size() == 3);
  CHECK_THAT(mb[0].reason, Catch::Contains("'ok\\x1b' is not listed in [outcomes]"));
  CHECK_THAT(mb[1].reason, Catch::Contains("'2026-01-05 10:00:0\\x07' does not match"));
  CHECK_THAT(mb[2].reason, Catch::Contains("'1\\x7f' is not an integer"));
  for (const auto& b : mb) {
    for (char c : b.reason) CHECK((static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
  }
}

TEST_CASE("A mapping refuses a delimiter that is the quote character", "[calllog]") {
  TempDir dir;
  auto csv = dir.write("calls.csv", "start\n2026-01-05 10:00:00\n");
  auto open = [&](const std::string& toml) { return mappingError(dir, csv, toml); };
  CHECK_THAT(open("delimiter = \"\\\"\"\n[columns]\narrival = \"start\"\n"),
             Catch::Contains("m.toml:1:13: delimiter: the delimiter and the quote character "
                             "must differ"));
  CHECK_THAT(open("quote = \",\"\n[columns]\narrival = \"start\"\n"),
             Catch::Contains("m.toml:1:9: quote: the delimiter and the quote character"));
  auto map = dir.write("ok.toml", "delimiter = \"\\\"\"\nquote = \"\"\n[columns]\n"
                                  "arrival = \"start\"\n");
  CHECK(openCallLog(csv.string(), map.string()).ok());
}

TEST_CASE("A UTF-8 byte order mark before the anonymous-bank header is skipped", "[calllog]") {
  TempDir dir;
  auto file = dir.write("bom.txt", "\xEF\xBB\xBF" + sampleLog());
  auto r = openCallLog(file.string(), "anonymous-bank");
  REQUIRE(r.ok());
  CHECK(readAll(**r).size() == 10);
}
