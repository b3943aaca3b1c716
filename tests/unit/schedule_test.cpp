// SPDX-License-Identifier: Apache-2.0
//
// Shift templates, the scheduler on cases with a known optimum, labour rules over its output,
// the schedule files and the review (adherence, realization, absenteeism).
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include <soci/soci.h>

#include "forecast.h"
#include "kefu/core/store_impl.h"
#include "schedule.h"
#include "schedule_store.h"
#include "test_support.h"

using namespace kefu::wfm;

namespace {

int64_t day(const char* iso) {
  int64_t d = 0;
  REQUIRE(parseIsoDate(iso, d));
  return d;
}

ShiftConfig shifts(const std::string& toml) {
  auto c = parseShiftConfig("shifts.toml", toml);
  INFO((c.ok() ? "" : c.status().message()));
  REQUIRE(c.ok());
  return *c;
}

std::string errorOf(const std::string& toml) {
  auto c = parseShiftConfig("shifts.toml", toml);
  REQUIRE_FALSE(c.ok());
  return c.status().message();
}

// A requirement on 60-minute intervals from `first`: `hours` maps day and hour to agents.
Requirement requirement(int64_t first, int days,
                        const std::map<std::pair<int, int>, double>& r) {
  Requirement req;
  req.firstDay = first;
  req.days = days;
  req.intervalMinutes = 60;
  req.required.assign(static_cast<size_t>(days) * 24, 0.0);
  for (const auto& [k, v] : r) req.required[k.first * 24 + k.second] = v;
  return req;
}

ScheduleResult solve(const ShiftConfig& cfg, const Requirement& req) {
  ScheduleOptions o;
  o.moves = 200000;
  auto r = schedule(cfg, req, o);
  REQUIRE(r.ok());
  REQUIRE(checkSchedule(cfg, r->shifts, req.firstDay, req.days).ok());
  return *r;
}

}  // namespace

TEST_CASE("Shift templates parse with rules inherited and overridden", "[wfm][schedule]") {
  auto c = shifts(R"(
under_weight = 3
headcount = 12
[rules]
max_consecutive_days = 5
min_rest_hours = 12
max_weekly_hours = 40
[[template]]
name = "day"
earliest_start = "08:00"
latest_start = "10:00"
length_hours = [8, 9]
agents = ["1001", "1002"]
[[template.break]]
length_minutes = 30
window_minutes = [180, 240]
[[template]]
name = "part"
earliest_start = "17:00"
length_hours = 4
days_off_per_week = 3
max_weekly_hours = 20
headcount = 4
)");
  CHECK(c.underWeight == 3);
  CHECK(c.overWeight == 1);
  CHECK(c.headcount == 12);
  REQUIRE(c.templates.size() == 2);
  const ShiftTemplate& d = c.templates[0];
  CHECK(d.lengths == std::vector<int>{480, 540});
  CHECK(d.maxConsecutiveDays == 5);
  CHECK(d.minRestMinutes == 720);
  CHECK(d.headcount == 12);  // no own headcount: up to the whole
  CHECK(d.breaks.at(0).stepMinutes == 15);
  // 5 starts x 2 lengths x 5 meal placements.
  CHECK(shiftOptions(d, 30).size() == 50);
  const ShiftTemplate& p = c.templates[1];
  CHECK(p.latestStart == p.earliestStart);
  CHECK(p.maxWeeklyMinutes == 1200);
  CHECK(p.headcount == 4);
}

TEST_CASE("Shift template errors name file line column and key", "[wfm][schedule]") {
  const std::string base = "headcount = 3\n[[template]]\nname = \"day\"\n";
  CHECK(errorOf(base + "earliest_start = \"8:00\"\nlength_hours = 8\n") ==
        "shifts.toml:4:18: template[0].earliest_start: must be a time of day \"HH:MM\", e.g. "
        "\"07:30\"");
  CHECK_THAT(errorOf(base + "earliest_start = \"08:00\"\nlength_hours = 8\nshift = 1\n"),
             Catch::StartsWith("shifts.toml:6:9: template[0].shift: unknown key"));
  CHECK_THAT(errorOf(base + "earliest_start = \"08:00\"\n"),
             Catch::StartsWith("shifts.toml:2:1: template[0].length_hours: is missing"));
  // At the key's own line and column, not at the [[template]] line.
  CHECK_THAT(errorOf(base + "earliest_start = \"08:00\"\nlength_hours = 4\n"
                            "[[template.break]]\nlength_minutes = 30\n"
                            "window_minutes = [200, 240]\n"),
             Catch::StartsWith("shifts.toml:8:18: template[0].break[0].window_minutes: a break "
                               "starting 240 minutes in ends after a 240-minute shift"));
  CHECK_THAT(errorOf("headcount = 3\n[rules]\nmin_rest_hours = -1\n[[template]]\n"),
             Catch::StartsWith("shifts.toml:3:18: rules.min_rest_hours: must be hours"));
  CHECK_THAT(errorOf("headcount = \"x\"\n"),
             Catch::StartsWith("shifts.toml:1:13: headcount: must be a whole number"));
  CHECK_THAT(errorOf("headcount = 3\n"), Catch::Contains("no [[template]] tables"));
  CHECK_THAT(errorOf(base + "earliest_start = \"08:00\"\nlength_hours = 9\n"
                            "days_off_per_week = 0\nmax_weekly_hours = 60\n"),
             Catch::StartsWith("shifts.toml:5:16: template[0].length_hours: 7 days of the "
                               "shortest length exceed max_weekly_hours 60"));
  CHECK_THAT(errorOf("headcount = 3\n[[template]]\nname = \"a\"\nearliest_start = \"08:00\"\n"
                     "length_hours = 8\n[[template]]\nname = \"a\"\n"
                     "earliest_start = \"08:00\"\nlength_hours = 8\n"),
             Catch::Contains("template[1].name: 'a' is used twice"));
  CHECK_THAT(errorOf("headcount = [\n"), Catch::StartsWith("shifts.toml:"));
}

TEST_CASE("Shift options are counted without building them and too many refused",
          "[wfm][schedule]") {
  // The count matches the options built, overlapping break windows included.
  for (const char* breaks : {"", "[[template.break]]\nlength_minutes = 15\n"
                                 "window_minutes = [60, 180]\n",
                             "[[template.break]]\nlength_minutes = 30\nwindow_minutes = "
                             "[60, 200]\nstep_minutes = 10\n[[template.break]]\n"
                             "length_minutes = 15\nwindow_minutes = [90, 300]\n"
                             "step_minutes = 5\n"}) {
    auto c = shifts(std::string("headcount = 2\n[[template]]\nname = \"d\"\n"
                                "earliest_start = \"06:00\"\nlatest_start = \"09:00\"\n"
                                "start_step_minutes = 20\nlength_hours = [6, 8]\n") +
                    breaks);
    INFO(breaks);
    CHECK(shiftOptionCount(c.templates[0]) ==
          static_cast<double>(shiftOptions(c.templates[0], 30).size()));
  }
  // Starts every minute, 9 lengths, two 1-minute breaks in [0, 400] by the minute: some
  // 1e9 options, which built took tens of GB. Refused from the count, at the template.
  std::string fine = "headcount = 5\n[[template]]\nname = \"fine\"\nearliest_start = \"00:00\"\n"
                     "latest_start = \"23:59\"\nstart_step_minutes = 1\n"
                     "length_hours = [8, 9, 10, 11, 12, 13, 14, 15, 16]\n";
  std::string brk = "[[template.break]]\nlength_minutes = 1\nwindow_minutes = [0, 400]\n"
                    "step_minutes = 1\n";
  CHECK_THAT(errorOf(fine + brk + brk),
             Catch::StartsWith("shifts.toml:2:1: template[0] ('fine'): 1039392000 ways") &&
                 Catch::Contains("ways to place a day's shift and its breaks (1440 starts x 9 "
                                 "lengths x 80200 break placements); the limit is 200000"));
  // One break: 1440 x 9 x 401.
  CHECK_THAT(errorOf(fine + brk), Catch::Contains(": 5196960 ways"));
  // The limit is over all templates: the second one crosses it.
  std::string half = "[[template]]\nname = \"t{}\"\nearliest_start = \"00:00\"\n"
                     "latest_start = \"23:59\"\nstart_step_minutes = 1\nlength_hours = 8\n"
                     "[[template.break]]\nlength_minutes = 15\nwindow_minutes = [60, 159]\n"
                     "step_minutes = 1\n";
  std::string two = "headcount = 5\n" + fmt::format(fmt::runtime(half), 1) +
                    fmt::format(fmt::runtime(half), 2);
  CHECK_THAT(errorOf(two),
             Catch::StartsWith("shifts.toml:12:1: template[1] ('t2'): 144000 ways") &&
                 Catch::Contains(", 288000 with the templates before;"));
}

TEST_CASE("A template's headcount 0 means no agents of it", "[wfm][schedule]") {
  auto c = shifts("headcount = 4\n[[template]]\nname = \"day\"\nearliest_start = \"08:00\"\n"
                  "length_hours = 8\n[[template]]\nname = \"night\"\nheadcount = 0\n"
                  "earliest_start = \"22:00\"\nlength_hours = 8\n");
  CHECK(c.templates[0].headcount == 4);
  CHECK(c.templates[1].headcount == 0);
  std::map<std::pair<int, int>, double> r;
  for (int d = 0; d < 7; ++d) {
    for (int h = 0; h < 24; ++h) r[{d, h}] = 2;
  }
  auto res = solve(c, requirement(day("2026-01-05"), 7, r));
  CHECK_FALSE(res.shifts.empty());
  for (const auto& sh : res.shifts) CHECK(sh.templateName == "day");
  // Templates that all have 0 leave nothing to schedule.
  CHECK_THAT(errorOf("[[template]]\nname = \"a\"\nheadcount = 0\nearliest_start = \"08:00\"\n"
                     "length_hours = 8\n"),
             Catch::Contains("headcount: the headcounts of the templates that can work add up "
                             "to 0"));
}

TEST_CASE("Templates that can never form a tour are named", "[wfm][schedule]") {
  // Every day 16 hours with 48 hours of rest: no two days in a row, yet 7 days a week.
  const std::string never = "[[template]]\nname = \"never\"\nearliest_start = \"06:00\"\n"
                            "length_hours = 16\ndays_off_per_week = 0\nmin_rest_hours = 48\n"
                            "max_consecutive_days = 7\nmax_weekly_hours = 120\n";
  CHECK(errorOf("headcount = 3\n" + never) ==
        "shifts.toml:7:18: template[0].min_rest_hours: 48 h of rest rule out shifts on "
        "consecutive days (they leave at most 8 h), so 7 working days a week cannot fit");
  // With a template that can work: a warning, and the other gets no agents.
  auto c = shifts("headcount = 3\n" + never +
                  "[[template]]\nname = \"day\"\nearliest_start = \"08:00\"\n"
                  "length_hours = 8\n");
  REQUIRE(c.warnings.size() == 1);
  CHECK_THAT(c.warnings[0], Catch::StartsWith("shifts.toml:7:18: template[0].min_rest_hours:") &&
                                Catch::EndsWith("; the template gets no agents"));
  CHECK(c.templates[0].headcount == 0);
  CHECK(c.templates[1].headcount == 3);
  // Two that cannot: both named.
  CHECK_THAT(errorOf("headcount = 3\n" + never + "[[template]]\nname = \"long\"\n"
                     "earliest_start = \"08:00\"\nlength_hours = 9\ndays_off_per_week = 0\n"
                     "max_consecutive_days = 7\n"),
             Catch::StartsWith("no template can form a week's tour: shifts.toml:7:18: "
                               "template[0].min_rest_hours") &&
                 Catch::Contains("; shifts.toml:13:16: template[1].length_hours: 7 days"));
  // Breaks that cannot follow each other in their windows.
  CHECK_THAT(errorOf("headcount = 3\n[[template]]\nname = \"b\"\nearliest_start = \"08:00\"\n"
                     "length_hours = 8\n[[template.break]]\nlength_minutes = 60\n"
                     "window_minutes = [120, 120]\n[[template.break]]\nlength_minutes = 15\n"
                     "window_minutes = [60, 150]\n"),
             Catch::Contains("template[0].break: the breaks cannot be placed in order"));
}

TEST_CASE("The scheduler meets a requirement that shifts fit exactly", "[wfm][schedule]") {
  // Two agents from 08:00 and one from 10:00 give 2, 2, 3, 3, 1, 1 from 08:00 to 14:00.
  auto cfg = shifts("headcount = 5\n[rules]\nmax_consecutive_days = 7\n[[template]]\n"
                    "name = \"four\"\nearliest_start = \"06:00\"\n"
                    "latest_start = \"12:00\"\nstart_step_minutes = 60\nlength_hours = 4\n"
                    "days_off_per_week = 0\n");
  auto req = requirement(day("2026-01-05"), 1,
                         {{{0, 8}, 2}, {{0, 9}, 2}, {{0, 10}, 3}, {{0, 11}, 3}, {{0, 12}, 1},
                          {{0, 13}, 1}});
  auto r = solve(cfg, req);
  CHECK(r.objective == 0);
  CHECK(r.agentsUsed == 3);
  REQUIRE(r.shifts.size() == 3);
  std::multiset<int> starts;
  for (const auto& s : r.shifts) starts.insert(s.start);
  CHECK(starts == std::multiset<int>{480, 480, 600});
}

TEST_CASE("The scheduler weighs under- against over-staffing", "[wfm][schedule]") {
  // One agent is needed 08:00-10:00 but a shift lasts four hours from 08:00.
  std::string t = "headcount = 2\n[rules]\nmax_consecutive_days = 7\n[[template]]\n"
                  "name = \"four\"\nearliest_start = \"08:00\"\n"
                  "length_hours = 4\ndays_off_per_week = 0\n";
  auto req = requirement(day("2026-01-05"), 1, {{{0, 8}, 1}, {{0, 9}, 1}});
  // Under weighs 2: one agent, two hours over (cost 2) beat two hours short (cost 4).
  auto r = solve(shifts(t), req);
  CHECK(r.objective == 2);
  CHECK(r.over == 2);
  CHECK(r.shifts.size() == 1);
  // Under weighs 0.5: nobody (cost 1) beats one agent (cost 2).
  r = solve(shifts("under_weight = 0.5\n" + t), req);
  CHECK(r.objective == 1);
  CHECK(r.shifts.empty());
}

TEST_CASE("The scheduler keeps days off and headcount over a week", "[wfm][schedule]") {
  // One agent needed 09:00-17:00 every day; shifts of 8 hours at 09:00, five days a week.
  std::map<std::pair<int, int>, double> need;
  for (int d = 0; d < 7; ++d) {
    for (int h = 9; h < 17; ++h) need[{d, h}] = 1;
  }
  auto req = requirement(day("2026-01-05"), 7, need);
  std::string t = "[[template]]\nname = \"day\"\nearliest_start = \"09:00\"\nlength_hours = 8\n"
                  "days_off_per_week = 2\n";
  // Two agents: ten shifts on seven days, three days with one over for 8 hours.
  auto r = solve(shifts("headcount = 2\n" + t), req);
  CHECK(r.objective == 24);
  CHECK(r.shifts.size() == 10);
  // One agent: two days short, 16 hours at weight 2.
  r = solve(shifts("headcount = 1\n" + t), req);
  CHECK(r.objective == 32);
  CHECK(r.shifts.size() == 5);
  // Over weighs 3: a second agent would cost 72, so one is better.
  r = solve(shifts("over_weight = 3\nheadcount = 2\n" + t), req);
  CHECK(r.objective == 32);
}

TEST_CASE("The scheduler honours the minimum rest between shifts", "[wfm][schedule]") {
  // Day 1 needs one agent 16:00-24:00, day 2 one agent 06:00-14:00: 6 hours apart.
  std::map<std::pair<int, int>, double> need;
  for (int h = 16; h < 24; ++h) need[{0, h}] = 1;
  for (int h = 6; h < 14; ++h) need[{1, h}] = 1;
  auto req = requirement(day("2026-01-05"), 2, need);
  std::string t = "[rules]\nmin_rest_hours = 11\nmax_consecutive_days = 7\n"
                  "max_weekly_hours = 56\n[[template]]\nname = \"eight\"\n"
                  "earliest_start = \"06:00\"\nlatest_start = \"16:00\"\n"
                  "start_step_minutes = 60\nlength_hours = 8\ndays_off_per_week = 0\n";
  auto r = solve(shifts("headcount = 1\n" + t), req);
  // One agent: 16:00-24:00 then 11:00-19:00 (11 hours' rest) leaves 5 hours short (10) and
  // 5 over (5); starting earlier on day 1 trades hour for hour. Nothing on day 2 costs 16.
  CHECK(r.objective == 15);
  r = solve(shifts("headcount = 2\n" + t), req);
  CHECK(r.objective == 0);
  CHECK(r.agentsUsed == 2);
}

TEST_CASE("Schedules honour every labour rule on a busy fortnight", "[wfm][schedule]") {
  auto cfg = shifts(R"(
headcount = 30
[rules]
max_consecutive_days = 4
min_rest_hours = 12
max_weekly_hours = 38
[[template]]
name = "day"
earliest_start = "06:00"
latest_start = "14:00"
start_step_minutes = 60
length_hours = [7, 8]
days_off_per_week = 2
[[template.break]]
length_minutes = 30
window_minutes = [180, 240]
step_minutes = 30
[[template]]
name = "part"
earliest_start = "16:00"
latest_start = "19:00"
start_step_minutes = 60
length_hours = 4
days_off_per_week = 3
headcount = 6
agents = ["1001", "1002"]
)");
  std::map<std::pair<int, int>, double> need;
  for (int d = 0; d < 12; ++d) {
    for (int h = 6; h < 23; ++h) need[{d, h}] = 2 + (h * 7 + d * 3) % 9 * (d % 7 < 5 ? 1 : 0.4);
  }
  auto req = requirement(day("2026-01-05"), 12, need);  // a full week and a short one
  auto r = solve(cfg, req);
  CHECK(r.agentsUsed > 10);
  CHECK(checkSchedule(cfg, r.shifts, req.firstDay, req.days).ok());
  bool named = false;
  for (const auto& s : r.shifts) named |= s.agent == "1001";
  CHECK(named);
  // Searches side by side: the first starts from the seed alone, so two are never worse than
  // one, and the same seed and thread count give the same schedule.
  ScheduleOptions o;
  o.moves = 100000;
  o.threads = 1;
  auto one = schedule(cfg, req, o);
  o.threads = 2;
  auto two = schedule(cfg, req, o), again = schedule(cfg, req, o);
  REQUIRE((one.ok() && two.ok() && again.ok()));
  CHECK(two->objective <= one->objective);
  CHECK(checkSchedule(cfg, two->shifts, req.firstDay, req.days).ok());
  std::ostringstream a, b;
  writeScheduleCsv(a, two->shifts);
  writeScheduleCsv(b, again->shifts);
  CHECK(a.str() == b.str());
  // The checker itself catches a short rest and a sixth day.
  auto broken = r.shifts;
  for (auto& s : broken) {
    if (s.templateName == "day") {
      ScheduledShift late = s;
      late.day = s.day - 1;
      late.start = 14 * 60;
      late.length = 8 * 60;
      late.breaks = {{17 * 60, 30}};
      broken.push_back(late);
      break;
    }
  }
  CHECK_FALSE(checkSchedule(cfg, broken, req.firstDay, req.days).ok());
}

TEST_CASE("Requirements come from kefu wfm staff output", "[wfm][schedule]") {
  std::istringstream in(
      "interval_start,channel,volume,agents,on_duty\n"
      "2026-01-05 08:00,voice,10,3,2\n"
      "2026-01-05 08:00,chat,4,1,1\n"
      "2026-01-05 08:30,voice,10,2,2\n"
      "2026-01-04 23:30,voice,10,9,2\n");
  int missing = 0;
  auto r = readRequirement("req.csv", in, day("2026-01-05"), 1, 30, &missing);
  REQUIRE(r.ok());
  CHECK(r->required[16] == 4);
  CHECK(r->required[17] == 2);
  CHECK(missing == 46);
  std::istringstream bad("interval_start,required\n2026-01-05 08:10,1\n");
  auto e = readRequirement("req.csv", bad, day("2026-01-05"), 1, 30, &missing);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message() ==
        "req.csv:2: interval_start: 2026-01-05 08:10 is not on the 30-minute grid");
  std::istringstream neg("interval_start,required\n2026-01-05 08:00,-1\n");
  e = readRequirement("req.csv", neg, day("2026-01-05"), 1, 30, &missing);
  CHECK(e.status().message() == "req.csv:2: required: '-1' is not a count >= 0");
  // Off the grid outside the horizon is refused too; rows outside are counted; a BOM is
  // accepted.
  std::istringstream off("interval_start,required\n2026-01-05 08:00,1\n2026-01-07 09:31,1\n");
  e = readRequirement("req.csv", off, day("2026-01-05"), 1, 30, &missing);
  CHECK(e.status().message() ==
        "req.csv:3: interval_start: 2026-01-07 09:31 is not on the 30-minute grid");
  std::istringstream bom("\xEF\xBB\xBFinterval_start,required\n2026-01-05 08:00,1\n"
                         "2026-01-06 08:00,1\n2026-01-04 08:00,1\n");
  int outside = -1;
  r = readRequirement("req.csv", bom, day("2026-01-05"), 1, 30, &missing, &outside);
  REQUIRE(r.ok());
  CHECK(outside == 2);
  std::istringstream sched("\xEF\xBB\xBF" "agent,template,date,start,end,breaks\n"
                           "a,day,2026-01-05,2026-01-05 08:00,2026-01-05 16:00,\n");
  auto sh = readScheduleCsv("s.csv", sched);
  REQUIRE(sh.ok());
  CHECK(sh->at(0).agent == "a");
}

TEST_CASE("Schedule files round-trip and the replay file leaves out breaks",
          "[wfm][schedule]") {
  std::vector<ScheduledShift> s(2);
  s[0] = {"wfm-001", "day", day("2026-01-05"), 8 * 60, 510, {{12 * 60, 30}, {14 * 60, 15}}};
  s[1] = {"1002", "night", day("2026-01-05"), 22 * 60, 480, {{25 * 60, 30}}};
  std::ostringstream csv, replay;
  writeScheduleCsv(csv, s);
  CHECK(csv.str() ==
        "agent,template,date,start,end,breaks\n"
        "wfm-001,day,2026-01-05,2026-01-05 08:00,2026-01-05 16:30,12:00+30 14:00+15\n"
        "1002,night,2026-01-05,2026-01-05 22:00,2026-01-06 06:00,01:00+30\n");
  std::istringstream in(csv.str());
  auto back = readScheduleCsv("s.csv", in);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].breaks == s[0].breaks);
  CHECK((*back)[1].breaks == s[1].breaks);
  CHECK((*back)[1].length == 480);
  writeReplaySchedule(replay, s);
  CHECK(replay.str() ==
        "start,end,agent\n"
        "2026-01-05 08:00,2026-01-05 12:00,wfm-001\n"
        "2026-01-05 12:30,2026-01-05 14:00,wfm-001\n"
        "2026-01-05 14:15,2026-01-05 16:30,wfm-001\n"
        "2026-01-05 22:00,2026-01-06 01:00,1002\n"
        "2026-01-06 01:30,2026-01-06 06:00,1002\n");
  std::istringstream bad("agent,start,end\na,2026-01-05 08:00,2026-01-05 07:00\n");
  auto e = readScheduleCsv("s.csv", bad);
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().message() == "s.csv:2: end: must be after start, within 24 hours");
}

TEST_CASE("Review gives adherence realization and absenteeism of hand-made histories",
          "[wfm][schedule]") {
  const int64_t d = day("2026-01-05");
  std::vector<ScheduledShift> s(2);
  s[0] = {"a1", "day", d, 9 * 60, 240, {{11 * 60, 30}}};  // on duty 3.5 hours
  s[1] = {"a2", "day", d, 9 * 60, 240, {}};               // never signs in
  auto at = [&](int h, int m) { return ((d * 1440) + h * 60 + m) * 60000; };
  std::vector<StateChange> c = {
      {"a1", "offline", at(8, 0) - 3600000},  // before the period: where it starts
      {"a1", "away", at(9, 10)},              // signed in
      {"a1", "idle", at(9, 15)},
      {"a1", "away", at(10, 0)},
      {"a1", "idle", at(10, 30)},
      {"a1", "away", at(11, 0)},  // its break
      {"a1", "busy", at(12, 0)},
      {"a1", "offline", at(12, 45)},
  };
  ReviewOptions o;
  o.fromMs = d * 1440 * 60000;
  o.toMs = o.fromMs + 86400000;
  o.intervalMinutes = 60;
  Review r = review(s, c, o);
  REQUIRE(r.agents.size() == 2);
  const AgentReview& a1 = r.agents[0];
  CHECK(a1.scheduledHours == Approx(3.5));
  // Working 09:15-10:00, 10:30-11:00 and 12:00-12:45 of the time on duty.
  CHECK(a1.adherentHours == Approx(2.0));
  // Signed in 09:10-11:00 and 11:30-12:45 of it.
  CHECK(a1.presentHours == Approx(185.0 / 60));
  CHECK(a1.absentShifts == 0);
  const AgentReview& a2 = r.agents[1];
  CHECK(a2.absentShifts == 1);
  CHECK(a2.absentHours == Approx(4));
  CHECK(r.scheduledHours == Approx(7.5));
  CHECK(r.absentHours == Approx(4));
  REQUIRE(r.intervals.size() == 4);
  CHECK(r.intervals[0].scheduled == Approx(2));
  CHECK(r.intervals[0].present == Approx(50.0 / 60));
  CHECK(r.intervals[2].scheduled == Approx(1.5));  // a1 on its break half the hour
  std::string json = reviewJson(r, o);
  CHECK_THAT(json, Catch::Contains(fmt::format("\"adherence\":{:.6f}", 2.0 / 7.5)));
  CHECK_THAT(json, Catch::Contains(fmt::format("\"realization\":{:.6f}", 185.0 / 60 / 7.5)));
  CHECK_THAT(json, Catch::Contains(fmt::format("\"absenteeism\":{:.6f}", 4 / 7.5)));
  CHECK_THAT(json, Catch::Contains("{\"start\":\"2026-01-05 09:00\",\"scheduled\":2.0000,"));

  // Local times 8 hours ahead of UTC: the same history shifted by 8 hours agrees.
  for (auto& x : c) x.atMs -= 8 * 3600000;
  o.utcOffsetMinutes = 480;
  o.fromMs -= 8 * 3600000;
  o.toMs -= 8 * 3600000;
  Review shifted = review(s, c, o);
  CHECK(shifted.adherentHours == Approx(r.adherentHours));
  CHECK(shifted.presentHours == Approx(r.presentHours));
  CHECK_THAT(reviewJson(shifted, o), Catch::Contains("\"start\":\"2026-01-05 09:00\""));
}

namespace {

// Publishes, lists and reads back schedules, and reads agent states, on `store`.
void storeRoundTrip(kefu::core::StoreImpl& store) {
  REQUIRE(store.migrate("wfm", scheduleMigrations()).ok());
  const int64_t d = day("2026-01-05");
  std::vector<ScheduledShift> s(3);
  s[0] = {"1001", "day", d, 8 * 60, 510, {{12 * 60, 30}}};
  s[1] = {"1001", "day", d + 1, 8 * 60, 510, {}};
  s[2] = {"1002", "night", d, 22 * 60, 480, {{25 * 60, 30}}};
  auto v1 = publishSchedule(store, s, "planner", "first", 1000);
  REQUIRE(v1.ok());
  CHECK(v1->version == 1);
  CHECK(v1->firstDay == "2026-01-05");
  CHECK(v1->lastDay == "2026-01-06");
  s.pop_back();
  auto v2 = publishSchedule(store, s, "cli", "", 2000);
  REQUIRE(v2.ok());
  CHECK(v2->version == 2);
  auto overlap = s;
  overlap.push_back({"1001", "day", d, 10 * 60, 120, {}});
  CHECK(publishSchedule(store, overlap, "cli", "", 3000).status().code() ==
        kefu::StatusCode::kInvalidArgument);
  auto list = listSchedules(store);
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].version == 2);
  CHECK((*list)[1].note == "first");
  ScheduleVersion info;
  auto all = loadShifts(store, 1, "", d * 1440, (d + 2) * 1440, &info);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 3);
  CHECK(info.publishedBy == "planner");
  CHECK((*all)[2].agent == "1002");
  CHECK((*all)[2].breaks.front() == std::pair<int, int>{25 * 60, 30});
  auto one = loadShifts(store, 0, "1001", d * 1440, (d + 1) * 1440, &info);
  REQUIRE(one.ok());
  CHECK(info.version == 2);
  REQUIRE(one->size() == 1);
  CHECK(one->front().breaks == s[0].breaks);
  CHECK(loadShifts(store, 7, "", 0, 1, nullptr).status().code() ==
        kefu::StatusCode::kNotFound);
  // Without routing-acd's table the review says what is missing.
  auto states = loadStates(store, {"1001"}, 0, 1);
  CHECK(states.status().code() == kefu::StatusCode::kFailedPrecondition);
}

}  // namespace

TEST_CASE("Schedules are published and read back on SQLite", "[wfm][schedule]") {
  kefu::test::TempDir dir;
  kefu::core::StoreOptions o;
  o.url = "sqlite://kefu.db";
  o.dataDir = dir.path();
  kefu::core::StoreImpl store(o);
  storeRoundTrip(store);
}

TEST_CASE("Schedules are published and read back on PostgreSQL", "[.][postgres]") {
  const char* url = std::getenv("KEFU_TEST_PG_URL");
  const char* pw = std::getenv("KEFU_TEST_PG_PASSWORD");
  REQUIRE(url != nullptr);
  kefu::core::StoreOptions o;
  o.url = url;
  o.password = pw ? pw : "";
  kefu::core::StoreImpl store(o);
  REQUIRE(store.ping().ok());
  storeRoundTrip(store);
}
