// SPDX-License-Identifier: Apache-2.0
//
// Review of a schedule against the agents' recorded states: adherence, realization and
// absenteeism (formulas in sdk-docs/wfm.md).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "kefu/http.h"
#include "forecast.h"
#include "schedule.h"

namespace kefu::wfm {

namespace {

constexpr int64_t kMinute = 60000;

bool working(const std::string& state) {
  return state == "idle" || state == "busy" || state == "wrap_up";
}

struct Run {
  int64_t from, to;
  std::string state;
};

// The agent's states as runs over [lo, hi); before its first change it is offline.
std::vector<Run> runs(const std::vector<const StateChange*>& changes, int64_t lo, int64_t hi) {
  std::vector<Run> out;
  std::string state = "offline";
  int64_t at = lo;
  for (const StateChange* c : changes) {
    if (c->atMs <= lo) {
      state = c->to;
      continue;
    }
    if (c->atMs >= hi) break;
    out.push_back({at, c->atMs, state});
    at = c->atMs;
    state = c->to;
  }
  if (at < hi) out.push_back({at, hi, state});
  return out;
}

std::string ratio(double num, double den) {
  return den > 0 ? fmt::format("{:.6f}", num / den) : "null";
}

}  // namespace

Review review(const std::vector<ScheduledShift>& shifts, const std::vector<StateChange>& changes,
              const ReviewOptions& o) {
  Review r;
  std::map<std::string, std::vector<const StateChange*>> byAgent;
  for (const auto& c : changes) byAgent[c.agent].push_back(&c);
  for (auto& [a, list] : byAgent) {
    std::stable_sort(list.begin(), list.end(),
                     [](auto* x, auto* y) { return x->atMs < y->atMs; });
  }
  std::map<std::string, AgentReview> agents;
  std::map<int64_t, IntervalReview> intervals;
  const int64_t offsetMs = o.utcOffsetMinutes * kMinute;
  const int64_t L = static_cast<int64_t>(o.intervalMinutes) * kMinute;
  static const std::vector<const StateChange*> kNone;
  for (const auto& s : shifts) {
    int64_t base = s.day * 1440 * kMinute - offsetMs;  // UTC ms of the local midnight
    int64_t shiftFrom = std::max(base + s.start * kMinute, o.fromMs);
    int64_t shiftTo = std::min(base + (s.start + s.length) * kMinute, o.toMs);
    if (shiftTo <= shiftFrom) continue;
    auto it = byAgent.find(s.agent);
    const auto& list = it == byAgent.end() ? kNone : it->second;
    AgentReview& ar = agents[s.agent];
    ar.agent = s.agent;
    ++ar.shifts;
    // Duty: the shift without its breaks, clipped to the period.
    std::vector<std::pair<int64_t, int64_t>> duty;
    int64_t at = base + s.start * kMinute;
    for (const auto& [b, len] : s.breaks) {
      int64_t bs = base + b * kMinute;
      if (bs > at) duty.emplace_back(at, bs);
      at = std::max(at, bs + len * kMinute);
    }
    int64_t end = base + (s.start + s.length) * kMinute;
    if (end > at) duty.emplace_back(at, end);
    double scheduled = 0, adherent = 0, present = 0;
    for (auto [a, b] : duty) {
      a = std::max(a, o.fromMs);
      b = std::min(b, o.toMs);
      if (b <= a) continue;
      for (const Run& run : runs(list, a, b)) {
        bool in = run.state != "offline", good = working(run.state);
        // Split by the interval grid of local time.
        for (int64_t x = run.from; x < run.to;) {
          int64_t idx = (x + offsetMs) / L - ((x + offsetMs) % L < 0 ? 1 : 0);
          int64_t y = std::min(run.to, (idx + 1) * L - offsetMs);
          double h = double(y - x) / 3600000.0;
          IntervalReview& iv = intervals[idx];
          iv.startMs = idx * L - offsetMs;
          iv.scheduled += double(y - x) / L;
          if (in) iv.present += double(y - x) / L;
          scheduled += h;
          if (in) present += h;
          if (good) adherent += h;
          x = y;
        }
      }
    }
    // Absent: not signed in at any moment of the shift (its breaks included).
    bool seen = false;
    for (const Run& run : runs(list, shiftFrom, shiftTo)) seen |= run.state != "offline";
    ar.scheduledHours += scheduled;
    ar.adherentHours += adherent;
    ar.presentHours += present;
    if (!seen) {
      ++ar.absentShifts;
      ar.absentHours += scheduled;
    }
  }
  for (auto& [id, a] : agents) {
    r.scheduledHours += a.scheduledHours;
    r.adherentHours += a.adherentHours;
    r.presentHours += a.presentHours;
    r.absentHours += a.absentHours;
    r.agents.push_back(a);
  }
  for (auto& [idx, iv] : intervals) r.intervals.push_back(iv);
  return r;
}

std::string reviewJson(const Review& r, const ReviewOptions& o) {
  int64_t off = o.utcOffsetMinutes;
  auto local = [&](int64_t ms) {
    int64_t m = ms / kMinute + off;
    return formatDateTime(m);
  };
  std::string out = fmt::format(
      "{{\"from\":\"{}\",\"to\":\"{}\",\"adherence\":{},\"realization\":{},\"absenteeism\":{},"
      "\"scheduled_hours\":{:.4f},\"adherent_hours\":{:.4f},\"present_hours\":{:.4f},"
      "\"absent_hours\":{:.4f},\"agents\":[",
      local(o.fromMs), local(o.toMs), ratio(r.adherentHours, r.scheduledHours),
      ratio(r.presentHours, r.scheduledHours), ratio(r.absentHours, r.scheduledHours),
      r.scheduledHours, r.adherentHours, r.presentHours, r.absentHours);
  for (size_t i = 0; i < r.agents.size(); ++i) {
    const AgentReview& a = r.agents[i];
    out += fmt::format(
        "{}{{\"agent\":\"{}\",\"shifts\":{},\"absent_shifts\":{},\"scheduled_hours\":{:.4f},"
        "\"adherent_hours\":{:.4f},\"adherence\":{},\"realization\":{},\"absenteeism\":{}}}",
        i ? "," : "", jsonEscape(a.agent), a.shifts, a.absentShifts, a.scheduledHours,
        a.adherentHours,
        ratio(a.adherentHours, a.scheduledHours), ratio(a.presentHours, a.scheduledHours),
        ratio(a.absentHours, a.scheduledHours));
  }
  out += "],\"intervals\":[";
  for (size_t i = 0; i < r.intervals.size(); ++i) {
    const IntervalReview& iv = r.intervals[i];
    out += fmt::format("{}{{\"start\":\"{}\",\"scheduled\":{:.4f},\"present\":{:.4f},"
                       "\"realization\":{}}}",
                       i ? "," : "", local(iv.startMs), iv.scheduled, iv.present,
                       ratio(iv.present, iv.scheduled));
  }
  out += "]}";
  return out;
}

}  // namespace kefu::wfm
