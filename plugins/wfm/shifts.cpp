// SPDX-License-Identifier: Apache-2.0
//
// Shift templates in TOML, kept apart so toml++ stays in few files.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "schedule.h"

namespace kefu::wfm {

namespace {

class Parser {
 public:
  explicit Parser(const std::string& path) : path_(path) {}

  Status error(const toml::node& n, const std::string& key, const std::string& why) const {
    return Status::invalidArgument(fmt::format("{}:{}:{}: {}: {}", path_, n.source().begin.line,
                                               n.source().begin.column, key, why));
  }

  // A whole number in [lo, hi].
  Status integer(const toml::node& n, const std::string& key, int lo, int hi, int& out) const {
    auto v = n.value<int64_t>();
    if (!n.is_integer() || !v || *v < lo || *v > hi) {
      return error(n, key, fmt::format("must be a whole number from {} to {}", lo, hi));
    }
    out = static_cast<int>(*v);
    return {};
  }

  // Hours as a number, kept in whole minutes.
  Status hours(const toml::node& n, const std::string& key, double lo, double hi,
               int& minutes) const {
    auto v = n.value<double>();
    if (!n.is_number() || !v || !(*v >= lo && *v <= hi) ||
        std::abs(*v * 60 - std::round(*v * 60)) > 1e-9) {
      return error(n, key, fmt::format("must be hours from {} to {} in whole minutes", lo, hi));
    }
    minutes = static_cast<int>(std::round(*v * 60));
    return {};
  }

  // "HH:MM" of a day (24:00 is not a start).
  Status clock(const toml::node& n, const std::string& key, int& minutes) const {
    auto s = n.as_string();
    const std::string v = s ? s->get() : "";
    int h = 0, m = 0;
    if (v.size() != 5 || v[2] != ':' || std::sscanf(v.c_str(), "%2d:%2d", &h, &m) != 2 ||
        h < 0 || h > 23 || m < 0 || m > 59) {
      return error(n, key, "must be a time of day \"HH:MM\", e.g. \"07:30\"");
    }
    minutes = h * 60 + m;
    return {};
  }

  Status rules(const toml::table& t, const std::string& prefix, int& consecutive, int& rest,
               int& weekly, std::set<std::string>& seen) const {
    for (auto&& [k, v] : t) {
      std::string key(k.str()), full = prefix + key;
      Status s;
      if (key == "max_consecutive_days") {
        s = integer(v, full, 1, 366, consecutive);
      } else if (key == "min_rest_hours") {
        s = hours(v, full, 0, 48, rest);
      } else if (key == "max_weekly_hours") {
        s = hours(v, full, 1, 168, weekly);
      } else {
        continue;
      }
      if (!s.ok()) return s;
      seen.insert(key);
    }
    return {};
  }

  Status breakRule(const toml::table& t, const std::string& prefix, BreakRule& b) const {
    bool hasWindow = false, hasLength = false;
    for (auto&& [k, v] : t) {
      std::string key(k.str()), full = prefix + key;
      Status s;
      if (key == "length_minutes") {
        s = integer(v, full, 1, 240, b.lengthMinutes);
        hasLength = true;
      } else if (key == "step_minutes") {
        s = integer(v, full, 1, 240, b.stepMinutes);
      } else if (key == "window_minutes") {
        const toml::array* a = v.as_array();
        if (!a || a->size() != 2 || !a->get(0)->is_integer() || !a->get(1)->is_integer()) {
          return error(v, full, "must be [earliest, latest] minutes after the shift's start");
        }
        if (auto e = integer(*a->get(0), full, 0, 1440, b.earliestAfter); !e.ok()) return e;
        if (auto e = integer(*a->get(1), full, 0, 1440, b.latestAfter); !e.ok()) return e;
        if (b.latestAfter < b.earliestAfter) return error(v, full, "latest is before earliest");
        hasWindow = true;
      } else {
        return error(v, full,
                     "unknown key (accepted: length_minutes, window_minutes, step_minutes)");
      }
      if (!s.ok()) return s;
    }
    if (!hasLength) return error(t, prefix + "length_minutes", "is missing");
    if (!hasWindow) return error(t, prefix + "window_minutes", "is missing");
    return {};
  }

  Status shiftTemplate(const toml::table& t, const std::string& prefix, ShiftTemplate& out,
                       const ShiftConfig& cfg) const {
    std::set<std::string> seen;
    out.maxConsecutiveDays = cfg.maxConsecutiveDays;
    out.minRestMinutes = cfg.minRestMinutes;
    out.maxWeeklyMinutes = cfg.maxWeeklyMinutes;
    if (auto s = rules(t, prefix, out.maxConsecutiveDays, out.minRestMinutes,
                       out.maxWeeklyMinutes, seen);
        !s.ok()) {
      return s;
    }
    for (auto&& [k, v] : t) {
      std::string key(k.str()), full = prefix + key;
      if (seen.count(key)) continue;
      Status s;
      if (key == "name") {
        auto n = v.as_string();
        if (!n || n->get().empty() || n->get().size() > 64) {
          return error(v, full, "must be a string of 1 to 64 characters");
        }
        out.name = n->get();
      } else if (key == "earliest_start") {
        s = clock(v, full, out.earliestStart);
      } else if (key == "latest_start") {
        s = clock(v, full, out.latestStart);
      } else if (key == "start_step_minutes") {
        s = integer(v, full, 1, 1440, out.stepMinutes);
      } else if (key == "length_hours") {
        std::vector<const toml::node*> items;
        if (const toml::array* a = v.as_array()) {
          for (const toml::node& e : *a) items.push_back(&e);
        } else {
          items.push_back(&v);
        }
        if (items.empty()) return error(v, full, "must list at least one length");
        for (const toml::node* e : items) {
          int m = 0;
          if (auto h = hours(*e, full, 1, 16, m); !h.ok()) return h;
          out.lengths.push_back(m);
        }
      } else if (key == "days_off_per_week") {
        s = integer(v, full, 0, 6, out.daysOffPerWeek);
      } else if (key == "headcount") {
        // 0 means none: the template stays in the file but is not scheduled.
        s = integer(v, full, 0, 100000, out.headcount);
      } else if (key == "agents") {
        const toml::array* a = v.as_array();
        if (!a) return error(v, full, "must be an array of agent ids");
        for (const toml::node& e : *a) {
          auto id = e.as_string();
          if (!id || id->get().empty() || id->get().size() > 64) {
            return error(e, full, "must be agent ids of 1 to 64 characters");
          }
          out.agents.push_back(id->get());
        }
      } else if (key == "break") {
        const toml::array* a = v.as_array();
        if (!a) return error(v, full, "must be an array of tables [[template.break]]");
        int i = 0;
        for (const toml::node& e : *a) {
          const toml::table* bt = e.as_table();
          std::string bp = fmt::format("{}break[{}].", prefix, i++);
          if (!bt) return error(e, bp, "must be a table");
          BreakRule b;
          if (auto r = breakRule(*bt, bp, b); !r.ok()) return r;
          out.breaks.push_back(b);
        }
      } else {
        return error(v, full,
                     "unknown key (accepted: name, earliest_start, latest_start, "
                     "start_step_minutes, length_hours, days_off_per_week, headcount, agents, "
                     "break, max_consecutive_days, min_rest_hours, max_weekly_hours)");
      }
      if (!s.ok()) return s;
    }
    if (out.name.empty()) return error(t, prefix + "name", "is missing");
    if (!t.contains("earliest_start")) return error(t, prefix + "earliest_start", "is missing");
    if (!t.contains("latest_start")) out.latestStart = out.earliestStart;
    if (out.latestStart < out.earliestStart) {
      return error(*t.get("latest_start"), prefix + "latest_start", "is before earliest_start");
    }
    if (out.lengths.empty()) return error(t, prefix + "length_hours", "is missing");
    if (t.contains("headcount") && out.agents.size() > static_cast<size_t>(out.headcount)) {
      return error(*t.get("headcount"), prefix + "headcount", "is below the agents listed");
    }
    for (size_t i = 0; i < out.breaks.size(); ++i) {
      const BreakRule& b = out.breaks[i];
      const toml::node* window = t["break"][i]["window_minutes"].node();
      for (int len : out.lengths) {
        if (b.latestAfter + b.lengthMinutes > len) {
          return error(window ? *window : t,
                       fmt::format("{}break[{}].window_minutes", prefix, i),
                       fmt::format("a break starting {} minutes in ends after a {}-minute shift",
                                   b.latestAfter, len));
        }
      }
    }
    return {};
  }

  // Why template `st` can never form a full week's tour (the scheduler's tours and
  // checkSchedule() work exactly 7 - days_off_per_week days of each whole week), or ok.
  Status tourProblem(const toml::table& t, const std::string& prefix,
                     const ShiftTemplate& st) const {
    auto at = [&](const char* key) -> const toml::node& {
      const toml::node* n = t.get(key);
      return n ? *n : static_cast<const toml::node&>(t);
    };
    if (shiftOptionCount(st) == 0) {
      return error(at("break"), prefix + "break",
                   "the breaks cannot be placed in order without overlapping");
    }
    int workDays = 7 - st.daysOffPerWeek;
    int shortest = *std::min_element(st.lengths.begin(), st.lengths.end());
    if (shortest * workDays > st.maxWeeklyMinutes) {
      return error(at("length_hours"), prefix + "length_hours",
                   fmt::format("{} days of the shortest length exceed max_weekly_hours {}",
                               workDays, st.maxWeeklyMinutes / 60.0));
    }
    // The longest rest between shifts of consecutive days: the latest start after the
    // earliest, shortest shift.
    int lastStart = st.earliestStart +
                    (st.latestStart - st.earliestStart) / st.stepMinutes * st.stepMinutes;
    int longestRest = lastStart + 1440 - st.earliestStart - shortest;
    int consecutive = longestRest < st.minRestMinutes ? 1 : st.maxConsecutiveDays;
    // Within a week, d days off split the worked days into at most d + 1 runs.
    if (workDays > (st.daysOffPerWeek + 1) * consecutive) {
      if (consecutive < st.maxConsecutiveDays) {
        return error(at("min_rest_hours"), prefix + "min_rest_hours",
                     fmt::format("{} h of rest rule out shifts on consecutive days (they "
                                 "leave at most {} h), so {} working days a week cannot fit",
                                 st.minRestMinutes / 60.0, longestRest / 60.0, workDays));
      }
      return error(at("days_off_per_week"), prefix + "days_off_per_week",
                   "cannot meet max_consecutive_days");
    }
    return {};
  }

 private:
  std::string path_;
};

}  // namespace

double shiftOptionCount(const ShiftTemplate& t) {
  if (t.stepMinutes < 1 || t.latestStart < t.earliestStart) return 0;
  double starts = (t.latestStart - t.earliestStart) / t.stepMinutes + 1;
  // Ways per break start offset, break by break: a break starts at or after the end of the
  // one before (offsets are from the shift's start, so they do not depend on it).
  std::vector<std::pair<int, double>> ways{{0, 1}};  // (earliest next start, ways)
  for (const BreakRule& b : t.breaks) {
    if (b.stepMinutes < 1) return 0;
    std::vector<std::pair<int, double>> next;
    size_t k = 0;
    double before = 0;  // ways whose previous break ends by the offset
    for (int s = b.earliestAfter; s <= b.latestAfter; s += b.stepMinutes) {
      for (; k < ways.size() && ways[k].first <= s; ++k) before += ways[k].second;
      if (before > 0) next.emplace_back(s + b.lengthMinutes, before);
    }
    ways = std::move(next);
  }
  double placements = 0;
  for (const auto& w : ways) placements += w.second;
  return starts * static_cast<double>(t.lengths.size()) * placements;
}

Result<ShiftConfig> parseShiftConfig(const std::string& path, std::string_view text) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    return Status::invalidArgument(fmt::format("{}:{}:{}: {}", path, err.source().begin.line,
                                               err.source().begin.column, err.description()));
  }
  Parser p(path);
  ShiftConfig cfg;
  cfg.path = path;
  // Rules first: templates inherit them whatever the order in the file.
  if (const toml::node* r = root.get("rules")) {
    const toml::table* rt = r->as_table();
    if (!rt) return p.error(*r, "rules", "must be a table [rules]");
    std::set<std::string> seen;
    if (auto s = p.rules(*rt, "rules.", cfg.maxConsecutiveDays, cfg.minRestMinutes,
                         cfg.maxWeeklyMinutes, seen);
        !s.ok()) {
      return s;
    }
    for (auto&& [k, v] : *rt) {
      if (!seen.count(std::string(k.str()))) {
        return p.error(v, "rules." + std::string(k.str()),
                       "unknown key (accepted: max_consecutive_days, min_rest_hours, "
                       "max_weekly_hours)");
      }
    }
  }
  for (auto&& [k, v] : root) {
    std::string key(k.str());
    Status s;
    if (key == "rules" || key == "template") continue;
    if (key == "under_weight" || key == "over_weight") {
      auto x = v.value<double>();
      if (!v.is_number() || !x || !(*x >= 0 && *x <= 1e6)) {
        return p.error(v, key, "must be a number from 0 to 1000000");
      }
      (key == "under_weight" ? cfg.underWeight : cfg.overWeight) = *x;
    } else if (key == "headcount") {
      s = p.integer(v, key, 1, 100000, cfg.headcount);
    } else if (key == "agent_prefix") {
      auto x = v.as_string();
      if (!x || x->get().size() > 32) return p.error(v, key, "must be a string of <= 32 chars");
      cfg.agentPrefix = x->get();
    } else {
      return p.error(v, key,
                     "unknown key (accepted: under_weight, over_weight, headcount, "
                     "agent_prefix, rules, template)");
    }
    if (!s.ok()) return s;
  }
  const toml::node* list = root.get("template");
  if (!list) {
    return Status::invalidArgument(path + ": template: no [[template]] tables: nothing to "
                                          "schedule");
  }
  const toml::array* arr = list->as_array();
  if (!arr) return p.error(*list, "template", "must be an array of tables [[template]]");
  std::set<std::string> names, agents;
  int i = 0, sum = 0;
  bool anyOwn = false;
  double ways = 0;
  std::vector<bool> own;
  std::vector<Status> problems;
  for (const toml::node& item : *arr) {
    std::string prefix = fmt::format("template[{}].", i++);
    const toml::table* t = item.as_table();
    if (!t) return p.error(item, prefix, "must be a table");
    ShiftTemplate st;
    if (auto s = p.shiftTemplate(*t, prefix, st, cfg); !s.ok()) return s;
    if (!names.insert(st.name).second) {
      return p.error(*t->get("name"), prefix + "name", "'" + st.name + "' is used twice");
    }
    for (const auto& a : st.agents) {
      if (!agents.insert(a).second) {
        return p.error(*t->get("agents"), prefix + "agents", "agent '" + a + "' is listed twice");
      }
    }
    // Counted before the scheduler builds the options: a fine grid would exhaust memory.
    double n = shiftOptionCount(st);
    ways += n;
    if (ways > kMaxShiftOptions) {
      int starts = (st.latestStart - st.earliestStart) / st.stepMinutes + 1;
      double perStart = n / starts / static_cast<double>(st.lengths.size());
      return p.error(*t, prefix.substr(0, prefix.size() - 1) + " ('" + st.name + "')",
                     fmt::format("{:.{}g} ways to place a day's shift and its breaks ({} starts "
                                 "x {} lengths x {:.{}g} break placements){}; the limit is {} "
                                 "in all: coarsen start_step_minutes or the breaks' "
                                 "step_minutes, or narrow their windows",
                                 n, n < 1e15 ? 15 : 3, starts, st.lengths.size(), perStart,
                                 perStart < 1e15 ? 15 : 3,
                                 ways > n ? fmt::format(", {:.{}g} with the templates before",
                                                        ways, ways < 1e15 ? 15 : 3)
                                          : "",
                                 kMaxShiftOptions));
    }
    own.push_back(t->contains("headcount"));
    problems.push_back(p.tourProblem(*t, prefix, st));
    // A template that can never work takes no share of the agents in all.
    if (own.back() && problems.back().ok()) sum += st.headcount;
    anyOwn |= own.back();
    cfg.templates.push_back(std::move(st));
  }
  if (std::none_of(problems.begin(), problems.end(), [](const Status& s) { return s.ok(); })) {
    std::string why;
    for (const auto& s : problems) why += (why.empty() ? "" : "; ") + s.message();
    return Status::invalidArgument(problems.size() == 1
                                       ? why
                                       : "no template can form a week's tour: " + why);
  }
  if (cfg.headcount == 0) cfg.headcount = sum;
  if (cfg.headcount == 0) {
    return Status::invalidArgument(
        anyOwn ? path + ": headcount: the headcounts of the templates that can work add up "
                        "to 0: nothing to schedule"
               : path + ": headcount: give headcount (in all or per template)");
  }
  for (size_t k = 0; k < cfg.templates.size(); ++k) {
    ShiftTemplate& t = cfg.templates[k];
    // A template without its own headcount may take up to the whole; headcount = 0 means
    // none (a template kept in the file but not scheduled).
    if (!own[k]) t.headcount = cfg.headcount;
    if (!problems[k].ok()) {
      cfg.warnings.push_back(problems[k].message() + "; the template gets no agents");
      t.headcount = 0;
    }
  }
  return cfg;
}

Result<ShiftConfig> loadShiftConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound("cannot open " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return parseShiftConfig(path, buf.str());
}

}  // namespace kefu::wfm
