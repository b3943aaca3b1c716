// SPDX-License-Identifier: Apache-2.0
//
// Shift scheduling of the wfm plugin: shift templates (TOML), the requirement per interval,
// the scheduler, the schedule's CSV forms and the review of a published schedule against the
// agents' recorded states (adherence, realization, absenteeism). sdk-docs/wfm.md explains
// the method and the formulas.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/status.h"

namespace kefu::wfm {

struct BreakRule {
  int lengthMinutes = 15;
  // Window for the break's start, in minutes after the shift's start.
  int earliestAfter = 0;
  int latestAfter = 0;
  int stepMinutes = 15;
};

struct ShiftTemplate {
  std::string name;
  int earliestStart = 0;  // minutes after midnight
  int latestStart = 0;
  int stepMinutes = 30;
  std::vector<int> lengths;  // minutes, at the workplace (breaks included)
  std::vector<BreakRule> breaks;
  int daysOffPerWeek = 2;
  int headcount = 0;                // most agents of this template (0: none)
  std::vector<std::string> agents;  // named agents (ids); the rest are numbered
  // Labour rules; the schedule's own when not set on the template.
  int maxConsecutiveDays = 0;
  int minRestMinutes = 0;
  int maxWeeklyMinutes = 0;
};

struct ShiftConfig {
  std::string path;
  double underWeight = 2, overWeight = 1;
  int headcount = 0;  // most agents in all; 0: the templates' sum
  std::string agentPrefix = "wfm-";
  int maxConsecutiveDays = 6;
  int minRestMinutes = 11 * 60;
  int maxWeeklyMinutes = 40 * 60;
  std::vector<ShiftTemplate> templates;
  // Templates that can never form a week's tour under their rules ("file:line:col: key:
  // reason"); the parser gives them headcount 0. When no template can, parsing fails.
  std::vector<std::string> warnings;
};

// Most ways to place one day's shift of all templates together: the scheduler keeps each
// with its cover, so a finer grid is refused before anything is built.
constexpr double kMaxShiftOptions = 200000;

// The number of shiftOptions() of a template, counted without building them: starts x
// lengths x placements of the breaks in order without overlap. A double: it may be huge.
double shiftOptionCount(const ShiftTemplate& t);

// Parses shift templates. Errors read "file:line:col: key: reason".
Result<ShiftConfig> parseShiftConfig(const std::string& path, std::string_view text);
Result<ShiftConfig> loadShiftConfig(const std::string& path);

// Agents required per interval from `first` day on, day-major, on an intervalMinutes grid.
struct Requirement {
  int64_t firstDay = 0;
  int days = 0;
  int intervalMinutes = 30;
  std::vector<double> required;
};

// Reads a CSV with interval_start ("YYYY-MM-DD HH:MM") and `required` or `agents` (the
// output of `kefu wfm staff --batch`); rows of one interval (several channels) add up.
// Rows outside the horizon are left out and counted in `outside`; missing intervals require
// nobody and are counted in `missing`. A time off the interval grid is an error. Errors name
// the file and line.
Result<Requirement> readRequirement(const std::string& path, std::istream& in, int64_t firstDay,
                                    int days, int intervalMinutes, int* missing,
                                    int* outside = nullptr);

// One possible day of work of a template: start, length, breaks, and the share of each
// interval (from the start day's midnight) the agent is on duty.
struct ShiftOption {
  int start = 0, length = 0;
  std::vector<int> breakStarts;  // minutes after midnight of the start day
  std::vector<std::pair<int, double>> cover;  // (interval from midnight, share on duty)
};

std::vector<ShiftOption> shiftOptions(const ShiftTemplate& t, int intervalMinutes);

struct ScheduledShift {
  std::string agent, templateName;
  int64_t day = 0;
  int start = 0, length = 0;  // minutes after the day's midnight; may run past it
  std::vector<std::pair<int, int>> breaks;  // (start minute after that midnight, length)
};

struct ScheduleOptions {
  uint64_t seed = 1;
  // Moves of the annealing of each search; 0: 10,000 per agent slot and day.
  int64_t moves = 0;
  // Most rounds of the final descent (each rebuilds every agent once).
  int rounds = 50;
  double timeLimitSeconds = 60;
  // Independent searches run side by side from seeds derived from `seed`; the best is kept.
  int threads = 2;
};

struct ScheduleResult {
  std::vector<ScheduledShift> shifts;
  std::vector<double> coverage;  // agents on duty per interval
  double objective = 0, under = 0, over = 0;  // under and over in agent-intervals
  int agentsUsed = 0, agentsAvailable = 0;
  int rounds = 0;      // of the final descent
  int64_t moves = 0;   // of the annealings (fewer than asked when the time limit cut them)
};

// Covers `req` with tours of the templates under the labour rules, minimizing
// underWeight * under + overWeight * over. Deterministic for a seed and round count unless
// the time limit cuts it short.
Result<ScheduleResult> schedule(const ShiftConfig& config, const Requirement& req,
                                const ScheduleOptions& options);

// Checks every labour rule and template of the shifts; returns the first violation.
Status checkSchedule(const ShiftConfig& config, const std::vector<ScheduledShift>& shifts,
                     int64_t firstDay, int days);

// agent,template,date,start,end,breaks with times "YYYY-MM-DD HH:MM" and breaks as
// "HH:MM+minutes" separated by spaces.
void writeScheduleCsv(std::ostream& out, const std::vector<ScheduledShift>& shifts);
// The replay's schedule file: start,end,agent per stretch on duty (breaks cut shifts).
void writeReplaySchedule(std::ostream& out, const std::vector<ScheduledShift>& shifts);
Result<std::vector<ScheduledShift>> readScheduleCsv(const std::string& path, std::istream& in);
// The instance for an external solver (bench/wfm-schedule): requirement, options' cover,
// template rules and weights, as JSON.
void writeInstanceJson(std::ostream& out, const ShiftConfig& config, const Requirement& req,
                       const ScheduleResult& result);

// "YYYY-MM-DD HH:MM" <-> minutes since 1970-01-01 00:00.
bool parseDateTime(std::string_view text, int64_t& minutes);
std::string formatDateTime(int64_t minutes);

// ---- review -----------------------------------------------------------------------------

// One recorded state change of an agent (routing-acd's acd_agent_states).
struct StateChange {
  std::string agent;
  std::string to;  // offline, idle, away, busy, wrap_up
  int64_t atMs = 0;
};

struct ReviewOptions {
  int64_t fromMs = 0, toMs = 0;     // the period reviewed
  int64_t utcOffsetMinutes = 0;     // schedule times are local: local = UTC + offset
  int intervalMinutes = 30;
};

struct AgentReview {
  std::string agent;
  double scheduledHours = 0, adherentHours = 0, presentHours = 0, absentHours = 0;
  int shifts = 0, absentShifts = 0;
};

struct IntervalReview {
  int64_t startMs = 0;
  double scheduled = 0, present = 0;  // agents (time-weighted) in the interval
};

struct Review {
  double scheduledHours = 0, adherentHours = 0, presentHours = 0, absentHours = 0;
  std::vector<AgentReview> agents;
  std::vector<IntervalReview> intervals;  // only intervals with scheduled time
};

// `changes` sorted by time per agent, including each agent's last change before fromMs
// (the state it was in when the period began); an agent without one starts offline.
Review review(const std::vector<ScheduledShift>& shifts, const std::vector<StateChange>& changes,
              const ReviewOptions& options);
std::string reviewJson(const Review& r, const ReviewOptions& options);

}  // namespace kefu::wfm
