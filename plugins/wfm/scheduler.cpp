// SPDX-License-Identifier: Apache-2.0
//
// The shift scheduler: tours of agents covering a requirement per interval under labour
// rules, by greedy construction and large-neighbourhood local search (sdk-docs/wfm.md).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <istream>
#include <limits>
#include <map>
#include <numeric>
#include <ostream>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "forecast.h"
#include "schedule.h"

namespace kefu::wfm {

namespace {

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  for (auto& s : out) {
    size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
    s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }
  return out;
}

int columnOf(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    auto it = std::find(header.begin(), header.end(), n);
    if (it != header.end()) return static_cast<int>(it - header.begin());
  }
  return -1;
}

std::string hhmm(int minutes) {
  return fmt::format("{:02}:{:02}", minutes / 60, minutes % 60);
}

// Minutes on duty of a shift: [start, start + length) without its breaks.
std::vector<std::pair<int, int>> onDuty(int start, int length,
                                        const std::vector<std::pair<int, int>>& breaks) {
  std::vector<std::pair<int, int>> out;
  int at = start;
  for (const auto& [b, len] : breaks) {
    if (b > at) out.emplace_back(at, b);
    at = std::max(at, b + len);
  }
  if (start + length > at) out.emplace_back(at, start + length);
  return out;
}

// ---- the search ---------------------------------------------------------------------------

struct Agent {
  int tmpl = 0;
  std::string id;  // empty for a numbered agent: numbers go to agents used, in order
  bool active = false;
  std::vector<int> day;  // option per day, -1 off
};

class Search {
 public:
  Search(const ShiftConfig& cfg, const Requirement& req, const ScheduleOptions& opt)
      : cfg_(cfg), req_(req), opt_(opt), rng_(opt.seed) {
    perDay_ = 1440 / req.intervalMinutes;
    T_ = static_cast<int>(req.required.size());
    cov_.assign(T_, 0.0);
    for (const auto& t : cfg.templates) {
      options_.push_back(shiftOptions(t, req.intervalMinutes));
      near_.push_back(neighbours(t, options_.back()));
    }
    for (size_t ti = 0; ti < cfg.templates.size(); ++ti) {
      const auto& t = cfg.templates[ti];
      int n = std::min(t.headcount, cfg.headcount);
      for (int i = 0; i < n; ++i) {
        Agent a;
        a.tmpl = static_cast<int>(ti);
        if (i < static_cast<int>(t.agents.size())) a.id = t.agents[i];
        a.day.assign(req.days, -1);
        agents_.push_back(std::move(a));
      }
    }
    templateActive_.assign(cfg.templates.size(), 0);
    // Each option as the span of intervals it touches plus those of the span not fully on
    // duty (breaks, partial ends), for deltas of all options of a day from prefix sums.
    for (const auto& opts : options_) {
      spans_.emplace_back();
      for (const auto& o : opts) {
        Span sp;
        if (!o.cover.empty()) sp.a = o.cover.front().first, sp.b = o.cover.back().first;
        size_t c = 0;
        for (int i = sp.a; i <= sp.b; ++i) {
          double f = c < o.cover.size() && o.cover[c].first == i ? o.cover[c++].second : 0.0;
          if (f != 1.0) sp.odd.emplace_back(i, f);
        }
        reach_ = std::max(reach_, sp.b + 1);
        spans_.back().push_back(std::move(sp));
      }
    }
    prefix_.assign(reach_ + 1, 0.0);
    for (const auto& opts : options_) {
      std::vector<int> byEnd(opts.size());
      std::iota(byEnd.begin(), byEnd.end(), 0);
      std::sort(byEnd.begin(), byEnd.end(), [&](int a, int b) {
        return opts[a].start + opts[a].length < opts[b].start + opts[b].length;
      });
      byEnd_.push_back(std::move(byEnd));
    }
  }

  // Fills prefix_ with the summed change of the objective of one more agent on duty in each
  // interval from day d's midnight on (nothing past the horizon).
  void gains(int d) {
    int base = d * perDay_;
    for (int j = 0; j < reach_; ++j) {
      int k = base + j;
      prefix_[j + 1] = prefix_[j] + (k < T_ ? cost(k, cov_[k] + 1) - cost(k, cov_[k]) : 0.0);
    }
  }

  // delta(t, o, d, +1) from the prefix sums of gains(d); equal up to rounding.
  double quickDelta(int t, int o, int d) const {
    const Span& sp = spans_[t][o];
    double v = prefix_[sp.b + 1] - prefix_[sp.a];
    int base = d * perDay_;
    for (const auto& [j, f] : sp.odd) {
      int k = base + j;
      if (k >= T_) break;
      v += cost(k, cov_[k] + f) - cost(k, cov_[k]) - (prefix_[j + 1] - prefix_[j]);
    }
    return v;
  }

  // Options one step from each option: the start moved by one step with the breaks kept in
  // place relative to it, or one break moved by one step.
  static std::vector<std::vector<int>> neighbours(const ShiftTemplate& t,
                                                  const std::vector<ShiftOption>& opts) {
    std::vector<std::vector<int>> out(opts.size());
    std::map<std::vector<int>, int> index;
    auto key = [](const ShiftOption& o) {
      std::vector<int> k{o.start, o.length};
      k.insert(k.end(), o.breakStarts.begin(), o.breakStarts.end());
      return k;
    };
    for (size_t i = 0; i < opts.size(); ++i) index[key(opts[i])] = static_cast<int>(i);
    for (size_t i = 0; i < opts.size(); ++i) {
      auto k = key(opts[i]);
      auto add = [&](const std::vector<int>& x) {
        auto it = index.find(x);
        if (it != index.end() && it->second != static_cast<int>(i)) out[i].push_back(it->second);
      };
      for (int sgn : {-1, 1}) {
        auto m = k;
        for (size_t j = 0; j < m.size(); ++j) {
          if (j != 1) m[j] += sgn * t.stepMinutes;
        }
        add(m);
        for (size_t b = 0; b < t.breaks.size(); ++b) {
          auto n = k;
          n[2 + b] += sgn * t.breaks[b].stepMinutes;
          add(n);
        }
      }
      for (int len : t.lengths) {
        auto m = k;
        m[1] = len;
        if (len != k[1]) add(m);
      }
    }
    return out;
  }

  double cost(int i, double c) const {
    double r = req_.required[i];
    return c < r ? cfg_.underWeight * (r - c) : cfg_.overWeight * (c - r);
  }

  // Change of the objective if `sign` times option o of template t is put on day d.
  double delta(int t, int o, int d, double sign) const {
    double s = 0;
    int base = d * perDay_;
    for (const auto& [i, f] : options_[t][o].cover) {
      int k = base + i;
      if (k >= T_) break;
      s += cost(k, cov_[k] + sign * f) - cost(k, cov_[k]);
    }
    return s;
  }

  void apply(int t, int o, int d, double sign) {
    int base = d * perDay_;
    for (const auto& [i, f] : options_[t][o].cover) {
      int k = base + i;
      if (k >= T_) break;
      cov_[k] += sign * f;
    }
  }

  double objective() const {
    double s = 0;
    for (int i = 0; i < T_; ++i) s += cost(i, cov_[i]);
    return s;
  }

  // Takes the agent's tour out of the coverage; returns the change of the objective.
  double remove(Agent& a) {
    double s = 0;
    if (!a.active) return 0;
    for (int d = 0; d < req_.days; ++d) {
      if (a.day[d] < 0) continue;
      s += delta(a.tmpl, a.day[d], d, -1);
      apply(a.tmpl, a.day[d], d, -1);
    }
    a.active = false;
    --templateActive_[a.tmpl];
    --active_;
    return s;
  }

  double put(Agent& a, const std::vector<int>& days) {
    double s = 0;
    a.day = days;
    a.active = true;
    ++templateActive_[a.tmpl];
    ++active_;
    for (int d = 0; d < req_.days; ++d) {
      if (days[d] < 0) continue;
      s += delta(a.tmpl, days[d], d, +1);
      apply(a.tmpl, days[d], d, +1);
    }
    return s;
  }

  // The best tour found for agent template t given everyone else, with its estimated change
  // of the objective; empty when no feasible tour exists.
  std::vector<int> bestTour(int t, double& estimate) {
    const ShiftTemplate& st = cfg_.templates[t];
    const auto& opts = options_[t];
    int D = req_.days, O = static_cast<int>(opts.size());
    std::vector<double> dl(static_cast<size_t>(D) * O);
    std::vector<double> best(D, std::numeric_limits<double>::infinity());
    for (int d = 0; d < D; ++d) {
      gains(d);
      for (int o = 0; o < O; ++o) {
        double v = quickDelta(t, o, d);
        dl[static_cast<size_t>(d) * O + o] = v;
        best[d] = std::min(best[d], v);
      }
    }
    // Working days: per week block, the subset with the least summed best deltas under the
    // days-off and consecutive-days rules, carrying the run of worked days across blocks.
    std::vector<char> work(D, 0);
    int run = 0, W = 7 - st.daysOffPerWeek;
    for (int b0 = 0; b0 < D; b0 += 7) {
      int L = std::min(7, D - b0);
      bool full = L == 7;
      double bestSum = std::numeric_limits<double>::infinity();
      int bestMask = -1;
      for (int mask = 0; mask < (1 << L); ++mask) {
        int n = __builtin_popcount(static_cast<unsigned>(mask));
        if (full ? n != W : n > W) continue;
        int r = run;
        bool ok = true;
        double sum = 0;
        for (int i = 0; i < L && ok; ++i) {
          if (mask >> i & 1) {
            ok = ++r <= st.maxConsecutiveDays;
            sum += best[b0 + i];
          } else {
            r = 0;
          }
        }
        if (ok && sum < bestSum) {
          bestSum = sum;
          bestMask = mask;
        }
      }
      if (bestMask < 0) return {};
      for (int i = 0; i < L; ++i) {
        work[b0 + i] = bestMask >> i & 1;
        run = work[b0 + i] ? run + 1 : 0;
      }
    }
    // Options along the days: a chain DP under the rest rule. An option of day d may follow
    // one of day d-1 that ends at least minRest before it starts.
    std::vector<int> choice(D, -1);
    std::vector<std::vector<int>> from(D);
    std::vector<double> acc(O, 0), next(O);
    // Options by end time for prefix minima.
    const std::vector<int>& byEnd = byEnd_[t];
    bool prevWork = false;
    for (int d = 0; d < D; ++d) {
      if (!work[d]) {
        prevWork = false;
        continue;
      }
      from[d].assign(O, -1);
      if (!prevWork) {
        double m = std::numeric_limits<double>::infinity();
        int arg = -1;
        for (int o = 0; o < O; ++o) {
          if (acc[o] < m) m = acc[o], arg = o;
        }
        // Every option of an isolated day starts from the best total so far.
        for (int o = 0; o < O; ++o) {
          next[o] = (d == 0 || arg < 0 ? 0 : m) + dl[static_cast<size_t>(d) * O + o];
          from[d][o] = d == 0 ? -1 : arg;
        }
      } else {
        std::vector<double> pref(O);
        std::vector<int> parg(O);
        for (int k = 0; k < O; ++k) {
          int o = byEnd[k];
          if (k == 0 || acc[o] < pref[k - 1]) {
            pref[k] = acc[o];
            parg[k] = o;
          } else {
            pref[k] = pref[k - 1];
            parg[k] = parg[k - 1];
          }
        }
        for (int o = 0; o < O; ++o) {
          int latestEnd = opts[o].start + 1440 - st.minRestMinutes;
          // Last option in end order that ends by latestEnd.
          int lo = 0, hi = O;
          while (lo < hi) {
            int mid = (lo + hi) / 2;
            const auto& x = opts[byEnd[mid]];
            if (x.start + x.length <= latestEnd) lo = mid + 1; else hi = mid;
          }
          if (lo == 0) {
            next[o] = std::numeric_limits<double>::infinity();
          } else {
            next[o] = pref[lo - 1] + dl[static_cast<size_t>(d) * O + o];
            from[d][o] = parg[lo - 1];
          }
        }
      }
      acc = next;
      prevWork = true;
    }
    // Back-track from the best final option.
    int last = -1;
    for (int d = D - 1; d >= 0; --d) {
      if (work[d]) {
        last = d;
        break;
      }
    }
    if (last < 0) {
      estimate = 0;
      return std::vector<int>(D, -1);
    }
    int o = static_cast<int>(std::min_element(acc.begin(), acc.end()) - acc.begin());
    if (!std::isfinite(acc[o])) return {};
    // Each worked day names the option of the worked day before it (an isolated day: the
    // best final option of the stretch before, an arbitrary one before the first stretch).
    for (int d = last; d >= 0 && o >= 0; --d) {
      if (!work[d]) continue;
      choice[d] = o;
      o = from[d][o];
    }
    fitWeeklyHours(t, choice, dl);
    estimate = 0;
    for (int d = 0; d < D; ++d) {
      if (choice[d] >= 0) estimate += dl[static_cast<size_t>(d) * O + choice[d]];
    }
    return feasible(t, choice) ? choice : std::vector<int>{};
  }

  // Shortens days until each week block is within max weekly hours, cheapest first.
  void fitWeeklyHours(int t, std::vector<int>& choice, const std::vector<double>& dl) {
    const ShiftTemplate& st = cfg_.templates[t];
    const auto& opts = options_[t];
    int O = static_cast<int>(opts.size());
    for (int b0 = 0; b0 < req_.days; b0 += 7) {
      int L = std::min(7, req_.days - b0);
      for (int guard = 0; guard < 7; ++guard) {
        int minutes = 0;
        for (int i = 0; i < L; ++i) {
          if (choice[b0 + i] >= 0) minutes += opts[choice[b0 + i]].length;
        }
        if (minutes <= st.maxWeeklyMinutes) break;
        double bestCost = std::numeric_limits<double>::infinity();
        int bd = -1, bo = -1;
        for (int i = 0; i < L; ++i) {
          int d = b0 + i, c = choice[d];
          if (c < 0) continue;
          for (int o = 0; o < O; ++o) {
            if (opts[o].length >= opts[c].length || !restOk(t, choice, d, o)) continue;
            double extra = dl[static_cast<size_t>(d) * O + o] - dl[static_cast<size_t>(d) * O + c];
            if (extra < bestCost) bestCost = extra, bd = d, bo = o;
          }
        }
        if (bd < 0) break;
        choice[bd] = bo;
      }
    }
  }

  bool restOk(int t, const std::vector<int>& choice, int d, int o) const {
    const ShiftTemplate& st = cfg_.templates[t];
    const auto& opts = options_[t];
    if (d > 0 && choice[d - 1] >= 0) {
      const auto& p = opts[choice[d - 1]];
      if (opts[o].start + 1440 - (p.start + p.length) < st.minRestMinutes) return false;
    }
    if (d + 1 < req_.days && choice[d + 1] >= 0) {
      const auto& n = opts[choice[d + 1]];
      if (n.start + 1440 - (opts[o].start + opts[o].length) < st.minRestMinutes) return false;
    }
    return true;
  }

  bool feasible(int t, const std::vector<int>& choice) const {
    const ShiftTemplate& st = cfg_.templates[t];
    int run = 0;
    for (int d = 0; d < req_.days; ++d) {
      if (choice[d] < 0) {
        run = 0;
        continue;
      }
      if (++run > st.maxConsecutiveDays || !restOk(t, choice, d, choice[d])) return false;
    }
    for (int b0 = 0; b0 < req_.days; b0 += 7) {
      int L = std::min(7, req_.days - b0), n = 0, minutes = 0;
      for (int i = 0; i < L; ++i) {
        if (choice[b0 + i] >= 0) ++n, minutes += options_[t][choice[b0 + i]].length;
      }
      int W = 7 - st.daysOffPerWeek;
      if ((L == 7 ? n != W : n > W) || minutes > st.maxWeeklyMinutes) return false;
    }
    return true;
  }

  // Rebuilds agent k's tour given everyone else and keeps the best of the new tour, the old
  // one and leaving the agent free (headcount is a maximum).
  void rebuild(int k) {
    Agent& a = agents_[k];
    std::vector<int> old = a.day;
    bool wasActive = a.active;
    double freed = remove(a);  // change of the objective when the agent goes
    bool mayActivate = wasActive || (active_ < cfg_.headcount &&
                                     templateActive_[a.tmpl] < cfg_.templates[a.tmpl].headcount);
    double est = 0;
    std::vector<int> tour = mayActivate ? bestTour(a.tmpl, est) : std::vector<int>{};
    bool any = std::any_of(tour.begin(), tour.end(), [](int o) { return o >= 0; });
    if (!any) {
      a.day.assign(req_.days, -1);
      if (wasActive && freed > 1e-9) put(a, old);
      return;
    }
    double added = put(a, tour);
    double asNew = freed + added, asFree = freed, asOld = wasActive ? 0 : asFree;
    if (asFree < asNew - 1e-9 && asFree <= asOld + 1e-9) {
      remove(a);
      a.day.assign(req_.days, -1);
    } else if (asOld < asNew - 1e-9) {
      remove(a);
      put(a, old);
    }
  }

  // Sets agent a's day d to option o (-1: off) and returns the change of the objective.
  double change(Agent& a, int d, int o) {
    double s = 0;
    if (a.day[d] >= 0) {
      s += delta(a.tmpl, a.day[d], d, -1);
      apply(a.tmpl, a.day[d], d, -1);
    }
    a.day[d] = o;
    if (o >= 0) {
      s += delta(a.tmpl, o, d, +1);
      apply(a.tmpl, o, d, +1);
    }
    return s;
  }

  int blockMinutes(const Agent& a, int b0) const {
    int m = 0;
    for (int d = b0; d < std::min(b0 + 7, req_.days); ++d) {
      if (a.day[d] >= 0) m += options_[a.tmpl][a.day[d]].length;
    }
    return m;
  }

  // Share of annealing moves that recreate part of a day, and how many agents they take at
  // most. Chosen on bench/wfm-schedule: these moves reach changes of several shifts at once
  // that single moves cannot, but cost up to kRecreateAgents times as much.
  static constexpr double kRecreateShare = 0.02;
  static constexpr int kRecreateAgents = 10;
  // Share of annealing moves that recreate whole tours, agents they take off and rebuild.
  static constexpr double kTourShare = 0.02;
  static constexpr int kTourAgents = 3, kTourRebuilds = 4;

  // Simulated annealing: another option on a worked day, a worked day moved within its week,
  // an agent taken off or added with its best tour, or part of a day recreated. Returns the
  // moves made.
  int64_t anneal(int64_t moves, std::chrono::steady_clock::time_point deadline,
                 double& bestObj, std::vector<Agent>& bestAgents, std::vector<double>& bestCov) {
    std::uniform_real_distribution<double> u01(0, 1);
    std::uniform_int_distribution<int> pickAgent(0, static_cast<int>(agents_.size()) - 1);
    const double t0 = std::max(cfg_.underWeight, cfg_.overWeight);
    const double t1 = 0.01 * std::max(1e-6, std::min(cfg_.underWeight, cfg_.overWeight));
    double current = objective();
    const auto started = std::chrono::steady_clock::now();
    int64_t m = 0;
    auto accept = [&](double dlt, double temp) {
      return dlt <= 1e-12 || u01(rng_) < std::exp(-dlt / temp);
    };
    for (; m < moves; ++m) {
      if ((m & 0xffff) == 0 && m > 0) {
        // When the moves asked for would not fit in three quarters of the time left at the
        // start, fewer are made so that the temperature still falls all the way.
        auto now = std::chrono::steady_clock::now();
        if (now > deadline) break;
        double spent = std::chrono::duration<double>(now - started).count();
        double budget = 0.75 * std::chrono::duration<double>(deadline - started).count();
        if (spent * double(moves) / double(m) > budget) {
          moves = std::max<int64_t>(m + 1, static_cast<int64_t>(double(m) * budget / spent));
        }
      }
      double temp = t0 * std::pow(t1 / t0, double(m) / double(moves));
      Agent& a = agents_[pickAgent(rng_)];
      const ShiftTemplate& st = cfg_.templates[a.tmpl];
      int O = static_cast<int>(options_[a.tmpl].size());
      double r = u01(rng_);
      if (r >= 1 - kTourShare) {
        current += tourRecreate(temp);
      } else if (r < kRecreateShare) {
        current += dayRecreate(
            std::uniform_int_distribution<int>(0, req_.days - 1)(rng_),
            std::uniform_int_distribution<int>(2, kRecreateAgents)(rng_), pool_, temp);
      } else if (r < kRecreateShare + 0.01 || !a.active) {
        r -= kRecreateShare;
        if (r >= 0.01 && !a.active) continue;
        // Off the schedule, or onto it with its best tour.
        if (a.active) {
          auto old = a.day;
          double dlt = remove(a);
          if (accept(dlt, temp)) {
            a.day.assign(req_.days, -1);
            current += dlt;
          } else {
            put(a, old);
          }
        } else if (active_ < cfg_.headcount && templateActive_[a.tmpl] < st.headcount) {
          double est = 0;
          auto tour = bestTour(a.tmpl, est);
          if (tour.empty()) continue;
          double dlt = put(a, tour);
          if (accept(dlt, temp)) {
            current += dlt;
          } else {
            remove(a);
            a.day.assign(req_.days, -1);
          }
        }
      } else {
        int d = std::uniform_int_distribution<int>(0, req_.days - 1)(rng_);
        int b0 = d / 7 * 7, L = std::min(7, req_.days - b0);
        if (a.day[d] >= 0 && r < 0.75) {
          // Another option on this day: a nearby one (same start, other breaks, or the next
          // start) or any.
          int o = a.day[d];
          const auto& nb = near_[a.tmpl][o];
          int no = u01(rng_) < 0.5 && !nb.empty()
                       ? nb[std::uniform_int_distribution<size_t>(0, nb.size() - 1)(rng_)]
                       : std::uniform_int_distribution<int>(0, O - 1)(rng_);
          if (no == o || !restOk(a.tmpl, a.day, d, no)) continue;
          const auto& opts = options_[a.tmpl];
          if (blockMinutes(a, b0) - opts[o].length + opts[no].length > st.maxWeeklyMinutes) {
            continue;
          }
          double dlt = change(a, d, no);
          if (accept(dlt, temp)) current += dlt; else change(a, d, o);
        } else {
          // Move a worked day of the week to an off day (or, in a short last week, add or
          // drop one).
          int e = b0 + std::uniform_int_distribution<int>(0, L - 1)(rng_);
          if ((a.day[d] >= 0) == (a.day[e] >= 0)) continue;
          int from = a.day[d] >= 0 ? d : e, to = from == d ? e : d;
          int o = u01(rng_) < 0.5 ? a.day[from]
                                  : std::uniform_int_distribution<int>(0, O - 1)(rng_);
          // A short week is a move, an added day or a dropped day, a third each: without the
          // drop, days could leave a tour only with the whole agent.
          double kind = L == 7 ? 0 : u01(rng_);
          auto trial = a.day;
          if (kind < 2.0 / 3) trial[to] = o;
          if (kind < 1.0 / 3 || kind >= 2.0 / 3) trial[from] = -1;
          // An agent's last day goes only with the agent (the move above), so that an agent
          // on the schedule always works.
          if (std::none_of(trial.begin(), trial.end(), [](int x) { return x >= 0; }) ||
              !feasible(a.tmpl, trial)) {
            continue;
          }
          int oldFrom = a.day[from];
          double dlt = 0;
          if (trial[from] < 0) dlt += change(a, from, -1);
          if (trial[to] >= 0) dlt += change(a, to, o);
          if (accept(dlt, temp)) {
            current += dlt;
          } else {
            if (trial[to] >= 0) change(a, to, -1);
            change(a, from, oldFrom);
          }
        }
      }
      if (current < bestObj - 1e-9) {
        current = objective();  // keeps rounding drift out of the record
        if (current < bestObj - 1e-9) {
          bestObj = current;
          bestAgents = agents_;
          bestCov = cov_;
        }
      }
    }
    return m;
  }

  // Ruin and recreate of whole tours: 1 to kTourAgents agents leave the schedule, up to
  // kTourRebuilds others take their best tour given the rest, then agents of any template
  // join with their best tour while that lowers the cost. This changes how many agents of
  // each template work, which single moves reach only through steep detours (on the bench
  // the annealing kept an evening part-time agent too many on most days). Kept unless worse
  // (at temperature temp: by the annealing's rule); returns the change of the objective.
  double tourRecreate(double temp) {
    pool_.clear();
    for (int i = 0; i < static_cast<int>(agents_.size()); ++i) {
      if (agents_[i].active) pool_.push_back(i);
    }
    if (pool_.empty()) return 0;
    savedAgents_ = agents_;
    savedCov_ = cov_;
    int savedActive = active_;
    savedTemplateActive_ = templateActive_;
    double before = objective();
    int k = std::min<int>(static_cast<int>(pool_.size()),
                          std::uniform_int_distribution<int>(1, kTourAgents)(rng_));
    int m = std::uniform_int_distribution<int>(0, kTourRebuilds)(rng_);
    for (int i = 0; i < k + m && i < static_cast<int>(pool_.size()); ++i) {
      std::swap(pool_[i],
                pool_[std::uniform_int_distribution<size_t>(i, pool_.size() - 1)(rng_)]);
    }
    for (int i = 0; i < k; ++i) {
      remove(agents_[pool_[i]]);
      agents_[pool_[i]].day.assign(req_.days, -1);
    }
    for (int i = k; i < k + m && i < static_cast<int>(pool_.size()); ++i) rebuild(pool_[i]);
    addBestTours(k + 1);
    double total = objective() - before;
    bool keep = total <= 1e-9 || (temp > 0 && u01_(rng_) < std::exp(-total / temp));
    if (!keep) {
      agents_ = savedAgents_;
      cov_ = savedCov_;
      active_ = savedActive;
      templateActive_ = savedTemplateActive_;
      total = 0;
    }
    return total;
  }

  // Up to n free agents join, each time the one of the template whose best tour lowers the
  // cost most, while one does.
  void addBestTours(int n) {
    for (int j = 0; j < n && active_ < cfg_.headcount; ++j) {
      double bestEst = -1e-9;
      int bestAgent = -1;
      std::vector<int> bestTourDays;
      for (size_t t = 0; t < cfg_.templates.size(); ++t) {
        if (templateActive_[t] >= cfg_.templates[t].headcount) continue;
        int free = -1;
        for (int i = 0; i < static_cast<int>(agents_.size()) && free < 0; ++i) {
          if (!agents_[i].active && agents_[i].tmpl == static_cast<int>(t)) free = i;
        }
        if (free < 0) continue;
        double est = 0;
        auto tour = bestTour(static_cast<int>(t), est);
        if (tour.empty() || std::none_of(tour.begin(), tour.end(), [](int o) { return o >= 0; }))
          continue;
        if (est < bestEst) bestEst = est, bestAgent = free, bestTourDays = std::move(tour);
      }
      if (bestAgent < 0) break;
      put(agents_[bestAgent], bestTourDays);
    }
  }

  // Ruin and recreate within one day: k agents working day d lose their shifts of that day,
  // then take, in random order, the best option the rules allow given everyone else. Kept
  // unless worse (at temperature temp: by the annealing's rule); returns the change of the
  // objective.
  double dayRecreate(int d, int k, std::vector<int>& pool, double temp = 0) {
    pool.clear();
    for (int i = 0; i < static_cast<int>(agents_.size()); ++i) {
      if (agents_[i].active && agents_[i].day[d] >= 0) pool.push_back(i);
    }
    if (pool.size() < 2) return 0;
    k = std::min<int>(k, static_cast<int>(pool.size()));
    for (int i = 0; i < k; ++i) {
      std::swap(pool[i], pool[std::uniform_int_distribution<size_t>(i, pool.size() - 1)(rng_)]);
    }
    std::vector<int> old(k);
    double total = 0;
    for (int i = 0; i < k; ++i) {
      old[i] = agents_[pool[i]].day[d];
      total += change(agents_[pool[i]], d, -1);
    }
    for (int i = 0; i < k; ++i) {
      Agent& a = agents_[pool[i]];
      const ShiftTemplate& st = cfg_.templates[a.tmpl];
      const auto& opts = options_[a.tmpl];
      int rest = blockMinutes(a, d / 7 * 7);
      double best = std::numeric_limits<double>::infinity();
      int arg = old[i];
      gains(d);
      // In a short last week the agent may also stay off the day, if it works another one.
      if (req_.days - d / 7 * 7 < 7 &&
          std::any_of(a.day.begin(), a.day.end(), [](int x) { return x >= 0; })) {
        best = 0, arg = -1;
      }
      for (int o = 0; o < static_cast<int>(opts.size()); ++o) {
        if (rest + opts[o].length > st.maxWeeklyMinutes || !restOk(a.tmpl, a.day, d, o)) continue;
        double v = quickDelta(a.tmpl, o, d);
        if (v < best - 1e-12 || (v < best + 1e-12 && u01_(rng_) < 0.5)) best = v, arg = o;
      }
      total += change(a, d, arg);
    }
    bool keep = total <= 1e-9 || (temp > 0 && u01_(rng_) < std::exp(-total / temp));
    if (!keep) {
      for (int i = k - 1; i >= 0; --i) total += change(agents_[pool[i]], d, -1);
      for (int i = 0; i < k; ++i) total += change(agents_[pool[i]], d, old[i]);
    }
    return total;
  }

  ScheduleResult run() {
    auto t0 = std::chrono::steady_clock::now();
    auto deadline = t0 + std::chrono::microseconds(
                             static_cast<int64_t>(opt_.timeLimitSeconds * 1e6));
    std::vector<int> order(agents_.size());
    std::iota(order.begin(), order.end(), 0);
    // Greedy start: every agent in turn takes its best tour given the ones before it.
    for (int k : order) rebuild(k);
    double bestObj = objective();
    auto bestAgents = agents_;
    auto bestCov = cov_;
    // Moves per agent place and day, counting at least a week: a short horizon has as many
    // agents to place, and on bench/wfm-schedule 2 and 3 days stopped 13% above the optimum
    // with moves in proportion to their days only.
    int64_t moves = opt_.moves > 0 ? opt_.moves
                                   : int64_t(10000) * static_cast<int64_t>(agents_.size()) *
                                         std::max(req_.days, 7);
    int64_t made = anneal(moves, deadline, bestObj, bestAgents, bestCov);
    agents_ = bestAgents;
    cov_ = bestCov;
    recount();
    // Ruin and recreate within days, a few agents at a time.
    std::vector<int> pool;
    std::uniform_int_distribution<int> pickDay(0, req_.days - 1), pickK(2, kRecreateAgents);
    int64_t recreates = std::max<int64_t>(1000, made / 40);
    for (int64_t i = 0; i < recreates; ++i) {
      if ((i & 0xff) == 0 && std::chrono::steady_clock::now() > deadline) break;
      dayRecreate(pickDay(rng_), pickK(rng_), pool);
    }
    // Polish: best tours agent by agent until nothing improves.
    int rounds = 0;
    for (; rounds < opt_.rounds && std::chrono::steady_clock::now() < deadline; ++rounds) {
      double before = objective();
      std::shuffle(order.begin(), order.end(), rng_);
      for (int k : order) rebuild(k);
      if (objective() > before - 1e-9) break;
    }
    ScheduleResult r = result(rounds);
    r.moves = made;
    return r;
  }

  void recount() {
    active_ = 0;
    std::fill(templateActive_.begin(), templateActive_.end(), 0);
    for (const auto& a : agents_) {
      if (a.active) ++active_, ++templateActive_[a.tmpl];
    }
  }

  ScheduleResult result(int rounds) const {
    ScheduleResult r;
    r.rounds = rounds;
    r.coverage = cov_;
    r.agentsAvailable = static_cast<int>(std::min<size_t>(agents_.size(), cfg_.headcount));
    for (int i = 0; i < T_; ++i) {
      double rq = req_.required[i], c = cov_[i];
      r.under += std::max(0.0, rq - c);
      r.over += std::max(0.0, c - rq);
    }
    r.objective = objective();
    int next = 1;
    for (const auto& a : agents_) {
      if (!a.active) continue;
      ++r.agentsUsed;
      std::string id = a.id.empty() ? fmt::format("{}{:03}", cfg_.agentPrefix, next++) : a.id;
      for (int d = 0; d < req_.days; ++d) {
        if (a.day[d] < 0) continue;
        const ShiftOption& o = options_[a.tmpl][a.day[d]];
        ScheduledShift s;
        s.agent = id;
        s.templateName = cfg_.templates[a.tmpl].name;
        s.day = req_.firstDay + d;
        s.start = o.start;
        s.length = o.length;
        const auto& rules = cfg_.templates[a.tmpl].breaks;
        for (size_t b = 0; b < o.breakStarts.size(); ++b) {
          s.breaks.emplace_back(o.breakStarts[b], rules[b].lengthMinutes);
        }
        r.shifts.push_back(std::move(s));
      }
    }
    return r;
  }

 private:
  const ShiftConfig& cfg_;
  const Requirement& req_;
  ScheduleOptions opt_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> u01_{0, 1};
  std::vector<int> pool_;
  std::vector<Agent> savedAgents_;
  std::vector<double> savedCov_;
  std::vector<int> savedTemplateActive_;
  int perDay_ = 48, T_ = 0;
  std::vector<double> cov_;
  std::vector<std::vector<ShiftOption>> options_;
  std::vector<std::vector<std::vector<int>>> near_;
  struct Span {
    int a = 0, b = 0;                          // first and last interval from midnight
    std::vector<std::pair<int, double>> odd;   // intervals of [a, b] with share != 1
  };
  std::vector<std::vector<Span>> spans_;
  int reach_ = 0;
  std::vector<std::vector<int>> byEnd_;  // options of each template by end time
  std::vector<double> prefix_;
  std::vector<Agent> agents_;
  std::vector<int> templateActive_;
  int active_ = 0;
};

}  // namespace

bool parseDateTime(std::string_view text, int64_t& minutes) {
  if (text.size() < 16 || (text[10] != ' ' && text[10] != 'T') || text[13] != ':') return false;
  int64_t day = 0;
  if (!parseIsoDate(text.substr(0, 10), day)) return false;
  int h = 0, m = 0;
  std::string rest(text.substr(11, 5));
  if (std::sscanf(rest.c_str(), "%2d:%2d", &h, &m) != 2 || h < 0 || h > 24 || m < 0 ||
      m > 59 || (h == 24 && m != 0)) {
    return false;
  }
  if (text.size() != 16 && !(text.size() == 19 && text.substr(16) == ":00")) return false;
  minutes = day * 1440 + h * 60 + m;
  return true;
}

std::string formatDateTime(int64_t minutes) {
  int64_t day = minutes >= 0 ? minutes / 1440 : (minutes - 1439) / 1440;
  int m = static_cast<int>(minutes - day * 1440);
  return formatDate(day) + " " + hhmm(m);
}

Result<Requirement> readRequirement(const std::string& path, std::istream& in, int64_t firstDay,
                                    int days, int intervalMinutes, int* missing,
                                    int* outside) {
  Requirement r;
  r.firstDay = firstDay;
  r.days = days;
  r.intervalMinutes = intervalMinutes;
  int perDay = 1440 / intervalMinutes;
  r.required.assign(static_cast<size_t>(days) * perDay, 0.0);
  std::vector<char> seen(r.required.size(), 0);
  if (outside) *outside = 0;
  std::string line;
  if (!std::getline(in, line)) return Status::invalidArgument(path + ": empty file");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  auto header = splitCsv(line);
  int ct = columnOf(header, {"interval_start", "start"});
  int cr = columnOf(header, {"required", "agents"});
  if (ct < 0 || cr < 0) {
    return Status::invalidArgument(path + ":1: the header needs interval_start and required "
                                          "(or agents, as written by kefu wfm staff --batch)");
  }
  int lineNo = 1;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line == "\r") continue;
    auto cells = splitCsv(line);
    if (static_cast<int>(cells.size()) <= std::max(ct, cr)) {
      return Status::invalidArgument(fmt::format("{}:{}: too few columns", path, lineNo));
    }
    int64_t at = 0;
    if (!parseDateTime(cells[ct], at)) {
      return Status::invalidArgument(fmt::format(
          "{}:{}: {}: '{}' is not a time YYYY-MM-DD HH:MM", path, lineNo, header[ct], cells[ct]));
    }
    char* end = nullptr;
    double v = std::strtod(cells[cr].c_str(), &end);
    if (cells[cr].empty() || *end || !(v >= 0) || v > 1e6) {
      return Status::invalidArgument(fmt::format("{}:{}: {}: '{}' is not a count >= 0", path,
                                                 lineNo, header[cr], cells[cr]));
    }
    int64_t rel = at - firstDay * 1440;
    // Checked on every row, in the horizon or not, as wfm accuracy does.
    if (rel % intervalMinutes) {
      return Status::invalidArgument(fmt::format(
          "{}:{}: {}: {} is not on the {}-minute grid", path, lineNo, header[ct], cells[ct],
          intervalMinutes));
    }
    if (rel < 0 || rel >= static_cast<int64_t>(days) * 1440) {
      if (outside) ++*outside;
      continue;
    }
    size_t i = static_cast<size_t>(rel / intervalMinutes);
    r.required[i] += v;  // several channels of one interval add up
    seen[i] = 1;
  }
  if (missing) *missing = static_cast<int>(std::count(seen.begin(), seen.end(), 0));
  if (std::none_of(seen.begin(), seen.end(), [](char c) { return c; })) {
    return Status::invalidArgument(fmt::format("{}: no interval from {} for {} day(s)", path,
                                               formatDate(firstDay), days));
  }
  return r;
}

std::vector<ShiftOption> shiftOptions(const ShiftTemplate& t, int intervalMinutes) {
  std::vector<ShiftOption> out;
  for (int start = t.earliestStart; start <= t.latestStart; start += t.stepMinutes) {
    for (int len : t.lengths) {
      // Every placement of the breaks, in order and without overlap.
      std::vector<std::vector<int>> placements{{}};
      for (const BreakRule& b : t.breaks) {
        std::vector<std::vector<int>> nextP;
        for (const auto& p : placements) {
          int after = p.empty() ? start
                                : p.back() + t.breaks[p.size() - 1].lengthMinutes;
          for (int s = start + b.earliestAfter; s <= start + b.latestAfter; s += b.stepMinutes) {
            if (s < after) continue;
            auto q = p;
            q.push_back(s);
            nextP.push_back(std::move(q));
          }
        }
        placements = std::move(nextP);
      }
      for (auto& p : placements) {
        ShiftOption o;
        o.start = start;
        o.length = len;
        o.breakStarts = p;
        std::vector<std::pair<int, int>> br;
        for (size_t i = 0; i < p.size(); ++i) br.emplace_back(p[i], t.breaks[i].lengthMinutes);
        std::map<int, double> share;
        for (const auto& [a, b] : onDuty(start, len, br)) {
          for (int i = a / intervalMinutes; i * intervalMinutes < b; ++i) {
            int lo = std::max(a, i * intervalMinutes), hi = std::min(b, (i + 1) * intervalMinutes);
            if (hi > lo) share[i] += double(hi - lo) / intervalMinutes;
          }
        }
        o.cover.assign(share.begin(), share.end());
        out.push_back(std::move(o));
      }
    }
  }
  return out;
}

Result<ScheduleResult> schedule(const ShiftConfig& config, const Requirement& req,
                                const ScheduleOptions& options) {
  if (req.days < 1 || 1440 % req.intervalMinutes) {
    return Status::invalidArgument("the requirement needs whole days of whole intervals");
  }
  // Counted, not built: a fine grid must be refused before it exhausts memory.
  double options_total = 0;
  for (const auto& t : config.templates) {
    double n = shiftOptionCount(t);
    if (n == 0) {
      return Status::invalidArgument(config.path + ": template '" + t.name +
                                     "': its breaks cannot be placed in its shifts");
    }
    options_total += n;
  }
  if (options_total > kMaxShiftOptions) {
    return Status::invalidArgument(fmt::format(
        "{}: {:.3g} ways to place shifts and breaks; coarsen start_step_minutes or break "
        "step_minutes", config.path, options_total));
  }
  // Independent searches from different seeds, one per thread; the best schedule wins (the
  // first search's on a tie), so the result depends on the seed and the thread count only.
  int n = std::clamp(options.threads, 1, 16);
  std::vector<ScheduleResult> results(n);
  std::vector<std::thread> pool;
  for (int i = 0; i < n; ++i) {
    ScheduleOptions o = options;
    o.seed = options.seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(i);
    auto work = [&config, &req, o, &out = results[i]] { out = Search(config, req, o).run(); };
    if (i + 1 < n) pool.emplace_back(work); else work();
  }
  for (auto& t : pool) t.join();
  size_t best = 0;
  int64_t moves = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    moves += results[i].moves;
    if (results[i].objective < results[best].objective - 1e-9) best = i;
  }
  ScheduleResult r = std::move(results[best]);
  r.moves = moves;
  return r;
}

Status checkSchedule(const ShiftConfig& config, const std::vector<ScheduledShift>& shifts,
                     int64_t firstDay, int days) {
  std::map<std::string, std::vector<const ScheduledShift*>> byAgent;
  for (const auto& s : shifts) byAgent[s.agent].push_back(&s);
  if (static_cast<int>(byAgent.size()) > config.headcount) {
    return Status::invalidArgument(fmt::format("{} agents over headcount {}", byAgent.size(),
                                               config.headcount));
  }
  std::map<std::string, int> perTemplate;
  for (auto& [agent, list] : byAgent) {
    const ShiftTemplate* t = nullptr;
    for (const auto& x : config.templates) {
      if (x.name == list.front()->templateName) t = &x;
    }
    if (!t) return Status::invalidArgument(agent + ": unknown template");
    if (++perTemplate[t->name] > t->headcount) {
      return Status::invalidArgument(t->name + ": over its headcount");
    }
    std::sort(list.begin(), list.end(),
              [](auto* a, auto* b) { return a->day < b->day; });
    std::vector<const ScheduledShift*> day(days, nullptr);
    for (const ScheduledShift* s : list) {
      std::string at = agent + " " + formatDate(s->day);
      if (s->templateName != t->name) return Status::invalidArgument(at + ": two templates");
      if (s->day < firstDay || s->day >= firstDay + days) {
        return Status::invalidArgument(at + ": outside the horizon");
      }
      if (day[s->day - firstDay]) return Status::invalidArgument(at + ": two shifts a day");
      day[s->day - firstDay] = s;
      if (s->start < t->earliestStart || s->start > t->latestStart ||
          (s->start - t->earliestStart) % t->stepMinutes) {
        return Status::invalidArgument(at + ": start outside the template's window");
      }
      if (std::find(t->lengths.begin(), t->lengths.end(), s->length) == t->lengths.end()) {
        return Status::invalidArgument(at + ": length not in the template");
      }
      if (s->breaks.size() != t->breaks.size()) {
        return Status::invalidArgument(at + ": wrong number of breaks");
      }
      int after = s->start;
      for (size_t i = 0; i < s->breaks.size(); ++i) {
        const BreakRule& b = t->breaks[i];
        int off = s->breaks[i].first - s->start;
        if (s->breaks[i].second != b.lengthMinutes || off < b.earliestAfter ||
            off > b.latestAfter || (off - b.earliestAfter) % b.stepMinutes ||
            s->breaks[i].first < after) {
          return Status::invalidArgument(at + fmt::format(": break {} breaks its rule", i));
        }
        after = s->breaks[i].first + s->breaks[i].second;
      }
    }
    int run = 0;
    for (int d = 0; d < days; ++d) {
      if (!day[d]) {
        run = 0;
        continue;
      }
      if (++run > t->maxConsecutiveDays) {
        return Status::invalidArgument(agent + ": more than max_consecutive_days in a row");
      }
      if (d > 0 && day[d - 1] &&
          day[d]->start + 1440 - day[d - 1]->start - day[d - 1]->length < t->minRestMinutes) {
        return Status::invalidArgument(agent + " " + formatDate(day[d]->day) +
                                       ": less than min_rest_hours after the last shift");
      }
    }
    for (int b0 = 0; b0 < days; b0 += 7) {
      int L = std::min(7, days - b0), n = 0, minutes = 0;
      for (int i = 0; i < L; ++i) {
        if (day[b0 + i]) ++n, minutes += day[b0 + i]->length;
      }
      int W = 7 - t->daysOffPerWeek;
      if (L == 7 ? n != W : n > W) {
        return Status::invalidArgument(fmt::format("{}: {} days worked in the week from {}",
                                                   agent, n, formatDate(firstDay + b0)));
      }
      if (minutes > t->maxWeeklyMinutes) {
        return Status::invalidArgument(agent + ": over max_weekly_hours");
      }
    }
  }
  return {};
}

void writeScheduleCsv(std::ostream& out, const std::vector<ScheduledShift>& shifts) {
  out << "agent,template,date,start,end,breaks\n";
  for (const auto& s : shifts) {
    int64_t base = s.day * 1440;
    std::string br;
    for (const auto& [b, len] : s.breaks) {
      if (!br.empty()) br += ' ';
      br += fmt::format("{}+{}", hhmm(b % 1440), len);
    }
    out << s.agent << ',' << s.templateName << ',' << formatDate(s.day) << ','
        << formatDateTime(base + s.start) << ',' << formatDateTime(base + s.start + s.length)
        << ',' << br << '\n';
  }
}

void writeReplaySchedule(std::ostream& out, const std::vector<ScheduledShift>& shifts) {
  out << "start,end,agent\n";
  for (const auto& s : shifts) {
    int64_t base = s.day * 1440;
    for (const auto& [a, b] : onDuty(s.start, s.length, s.breaks)) {
      out << formatDateTime(base + a) << ',' << formatDateTime(base + b) << ',' << s.agent
          << '\n';
    }
  }
}

Result<std::vector<ScheduledShift>> readScheduleCsv(const std::string& path, std::istream& in) {
  std::vector<ScheduledShift> out;
  std::string line;
  if (!std::getline(in, line)) return Status::invalidArgument(path + ": empty file");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a BOM of spreadsheet tools
  auto header = splitCsv(line);
  int ca = columnOf(header, {"agent"}), ct = columnOf(header, {"template"}),
      cs = columnOf(header, {"start"}), ce = columnOf(header, {"end"}),
      cb = columnOf(header, {"breaks"});
  if (ca < 0 || cs < 0 || ce < 0) {
    return Status::invalidArgument(path +
                                   ":1: the header needs agent, start and end (and optionally "
                                   "template and breaks), as kefu wfm schedule writes");
  }
  int lineNo = 1;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line == "\r") continue;
    auto c = splitCsv(line);
    auto bad = [&](const std::string& why) {
      return Status::invalidArgument(fmt::format("{}:{}: {}", path, lineNo, why));
    };
    if (static_cast<int>(c.size()) < static_cast<int>(header.size())) {
      return bad("too few columns");
    }
    ScheduledShift s;
    s.agent = c[ca];
    if (s.agent.empty() || s.agent.size() > 64 || s.agent.find('"') != std::string::npos) {
      return bad("agent: must be 1 to 64 characters without '\"'");
    }
    if (ct >= 0) s.templateName = c[ct];
    if (s.templateName.size() > 64 || s.templateName.find('"') != std::string::npos) {
      return bad("template: must be at most 64 characters without '\"'");
    }
    int64_t a = 0, b = 0;
    if (!parseDateTime(c[cs], a)) return bad("start: '" + c[cs] + "' is not YYYY-MM-DD HH:MM");
    if (!parseDateTime(c[ce], b)) return bad("end: '" + c[ce] + "' is not YYYY-MM-DD HH:MM");
    if (b <= a || b - a > 24 * 60) return bad("end: must be after start, within 24 hours");
    s.day = a >= 0 ? a / 1440 : (a - 1439) / 1440;
    s.start = static_cast<int>(a - s.day * 1440);
    s.length = static_cast<int>(b - a);
    if (cb >= 0 && !c[cb].empty()) {
      size_t pos = 0;
      const std::string& txt = c[cb];
      while (pos < txt.size()) {
        size_t sp = txt.find(' ', pos);
        std::string item = txt.substr(pos, sp == std::string::npos ? std::string::npos
                                                                   : sp - pos);
        pos = sp == std::string::npos ? txt.size() : sp + 1;
        if (item.empty()) continue;
        int h = 0, m = 0, len = 0;
        char tail = 0;
        if (std::sscanf(item.c_str(), "%2d:%2d+%d%c", &h, &m, &len, &tail) != 3 || h > 23 ||
            m > 59 || len <= 0) {
          return bad("breaks: '" + item + "' is not HH:MM+minutes");
        }
        // The first time of day at or after the shift's start.
        int at = h * 60 + m;
        if (at < s.start) at += 1440;
        if (at + len > s.start + s.length) return bad("breaks: '" + item + "' is not in the shift");
        s.breaks.emplace_back(at, len);
      }
      std::sort(s.breaks.begin(), s.breaks.end());
    }
    out.push_back(std::move(s));
  }
  return out;
}

void writeInstanceJson(std::ostream& out, const ShiftConfig& config, const Requirement& req,
                       const ScheduleResult& result) {
  out << "{\"interval_minutes\":" << req.intervalMinutes << ",\"days\":" << req.days
      << ",\"first_day\":\"" << formatDate(req.firstDay) << "\",\"under_weight\":"
      << fmt::format("{}", config.underWeight) << ",\"over_weight\":"
      << fmt::format("{}", config.overWeight) << ",\"headcount\":" << config.headcount
      << ",\"kefu_objective\":" << fmt::format("{:.6f}", result.objective)
      << ",\"required\":[";
  for (size_t i = 0; i < req.required.size(); ++i) {
    out << (i ? "," : "") << fmt::format("{}", req.required[i]);
  }
  out << "],\"templates\":[";
  for (size_t t = 0; t < config.templates.size(); ++t) {
    const ShiftTemplate& st = config.templates[t];
    out << (t ? "," : "") << "{\"name\":\"" << st.name << "\",\"headcount\":" << st.headcount
        << ",\"days_off_per_week\":" << st.daysOffPerWeek
        << ",\"max_consecutive_days\":" << st.maxConsecutiveDays
        << ",\"min_rest_minutes\":" << st.minRestMinutes
        << ",\"max_weekly_minutes\":" << st.maxWeeklyMinutes << ",\"options\":[";
    auto opts = shiftOptions(st, req.intervalMinutes);
    for (size_t o = 0; o < opts.size(); ++o) {
      out << (o ? "," : "") << "{\"start\":" << opts[o].start << ",\"length\":"
          << opts[o].length << ",\"cover\":[";
      for (size_t c = 0; c < opts[o].cover.size(); ++c) {
        out << (c ? "," : "") << '[' << opts[o].cover[c].first << ','
            << fmt::format("{}", opts[o].cover[c].second) << ']';
      }
      out << "]}";
    }
    out << "]}";
  }
  out << "]}\n";
}

}  // namespace kefu::wfm
