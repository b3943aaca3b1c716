// SPDX-License-Identifier: Apache-2.0
#include "gen_calls.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <queue>
#include <random>
#include <vector>

#include <fmt/format.h>

namespace kefu::replay {
namespace {

constexpr int kOpenFrom = 7 * 3600, kOpenTo = 24 * 3600;

// Relative arrivals per hour of the day.
constexpr std::array<double, 24> kHourly = {0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.4, 2.0,
                                            5.0, 8.0, 9.5,  9.0, 7.0, 7.5,  8.5, 8.0,
                                            6.5, 5.0, 3.5,  2.5, 2.0, 1.5,  1.0, 0.6};
// Monday .. Sunday.
constexpr std::array<double, 7> kWeekday = {1.2, 1.1, 1.05, 1.05, 1.0, 0.4, 0.2};

struct TypeInfo {
  const char* name;
  double share;
  double meanHandleS;
};
constexpr std::array<TypeInfo, 6> kTypes = {{{"PS", 0.64, 190},
                                             {"NW", 0.23, 110},
                                             {"NE", 0.08, 240},
                                             {"TT", 0.03, 200},
                                             {"IN", 0.01, 330},
                                             {"PE", 0.01, 210}}};
constexpr double kHandleSigma = 0.9;

constexpr std::array<const char*, 32> kNames = {
    "AVI",   "DORIT", "TOVA",  "MORIAH", "SHARON", "YITZ",  "ANAT",  "BENNY",
    "GELBER", "IDIT", "KAZAV", "MICHAL", "NOA",    "ODED",  "PINHAS", "RONI",
    "SHIRA", "TAMAR", "URI",   "VERED",  "YAEL",   "ZOHAR", "ELAD",  "GILA",
    "HADAS", "ILAN",  "LIOR",  "MEIR",   "NIR",    "OFRA",  "RAFI",  "SIVAN"};

std::string agentName(int k) {
  std::string n = kNames[k % kNames.size()];
  if (k >= static_cast<int>(kNames.size())) n += std::to_string(k / kNames.size() + 1);
  return n;
}

double uniform01(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
double normal(std::mt19937_64& rng) {
  return std::sqrt(-2.0 * std::log(uniform01(rng))) * std::cos(6.283185307179586 * uniform01(rng));
}
int poisson(std::mt19937_64& rng, double mean) {
  if (mean <= 0) return 0;
  if (mean > 50) {  // the normal approximation is close enough and O(1)
    return std::max(0, static_cast<int>(std::lround(mean + std::sqrt(mean) * normal(rng))));
  }
  double l = std::exp(-mean), p = 1.0;
  int k = 0;
  do {
    ++k;
    p *= uniform01(rng);
  } while (p > l);
  return k - 1;
}

struct Civil {
  int y, m, d;
};
Civil civil(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int>(y + (m <= 2)), m, d};
}

struct Call {
  int arrival = 0, ivr = 0;  // seconds of the day; IVR seconds
  int type = 0, priority = 0;
  int64_t customer = 0;
  int handle = 0, patience = 0;
  bool ivrOnly = false, phantom = false;
  // Outcome
  int wait = -1, agent = -1;  // wait -1: abandoned after `patience`
};

struct Shift {
  int agent, from, to;
};

// Agents per half hour: square-root staffing on the expected load, with a little noise so
// that some intervals run short, as real centers do.
std::vector<Shift> staffDay(double callsToday, std::mt19937_64& rng) {
  double hourSum = 0;
  for (double w : kHourly) hourSum += w;
  double meanHandle = 0;
  for (const auto& t : kTypes) meanHandle += t.share * t.meanHandleS;
  std::vector<int> need(48, 0);
  for (int h = kOpenFrom / 1800; h < kOpenTo / 1800; ++h) {
    double perSecond = callsToday * kHourly[h / 2] / hourSum / 3600.0;
    double load = perSecond * meanHandle;
    double n = load + 0.25 * std::sqrt(load) + 0.7 * normal(rng);
    need[h] = std::max(1, static_cast<int>(std::lround(n)));
  }
  // Agent k works every half hour that needs more than k agents.
  std::vector<Shift> out;
  int top = *std::max_element(need.begin(), need.end());
  for (int k = 0; k < top; ++k) {
    int from = -1;
    for (int h = 0; h <= 48; ++h) {
      bool on = h < 48 && need[h] > k;
      if (on && from < 0) from = h;
      if (!on && from >= 0) {
        out.push_back({k, from * 1800, h * 1800});
        from = -1;
      }
    }
  }
  return out;
}

// First come, first served with abandonment: a caller takes the agent free first if that
// is within its patience; an abandoning caller takes no agent time, so the order in which
// agents are taken is exactly the order of queue entry.
void serveDay(std::vector<Call>& calls, const std::vector<Shift>& shifts) {
  struct Free {
    int at, agent, shiftEnd;
    bool operator>(const Free& o) const {
      return at != o.at ? at > o.at : agent > o.agent;
    }
  };
  std::priority_queue<Free, std::vector<Free>, std::greater<Free>> free;
  for (const auto& s : shifts) free.push({s.from, s.agent, s.to});
  std::vector<size_t> order;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (!calls[i].ivrOnly && !calls[i].phantom) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return calls[a].arrival + calls[a].ivr < calls[b].arrival + calls[b].ivr;
  });
  for (size_t i : order) {
    Call& c = calls[i];
    int entry = c.arrival + c.ivr;
    while (!free.empty() && std::max(entry, free.top().at) >= free.top().shiftEnd) free.pop();
    if (free.empty()) continue;  // nobody left today: abandons after its patience
    Free f = free.top();
    int start = std::max(entry, f.at);
    if (start - entry > c.patience) continue;
    free.pop();
    c.wait = start - entry;
    c.agent = f.agent;
    free.push({start + c.handle, f.agent, f.shiftEnd});
  }
}

void hms(fmt::memory_buffer& b, int s) {
  s = ((s % 86400) + 86400) % 86400;
  fmt::format_to(std::back_inserter(b), "{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
}

}  // namespace

Result<int64_t> parseDate(const std::string& s) {
  // Exactly YYYY-MM-DD: sscanf alone would take "2026-2-3" or "-123-01-01".
  bool shape = s.size() == 10 && s[4] == '-' && s[7] == '-';
  for (size_t i = 0; shape && i < s.size(); ++i) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) shape = false;
  }
  int y, m, d;
  if (!shape || std::sscanf(s.c_str(), "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12 ||
      d < 1 || d > 31) {
    return Status::invalidArgument("date '" + s + "' is not YYYY-MM-DD");
  }
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kMonthDays[m - 1] + (m == 2 && leap)) {
    return Status::invalidArgument("date '" + s + "' does not exist");
  }
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

Result<GenStats> generateCalls(const GenOptions& o) {
  if (o.days < 1 || o.days > kMaxDays) {
    return Status::invalidArgument("--days must be 1 to " + std::to_string(kMaxDays));
  }
  if (!(o.scale > 0) || !(o.callsPerDay > 0)) {
    return Status::invalidArgument("--scale and --calls-per-day must be positive");
  }
  const double volume = o.callsPerDay * o.scale;
  if (!(volume <= kMaxCallsPerDay)) {
    return Status::invalidArgument(fmt::format(
        "--calls-per-day times --scale is {:.0f} calls a day; the most is {:.0f}", volume,
        kMaxCallsPerDay));
  }
  if (volume * o.days > kMaxCalls) {
    return Status::invalidArgument(fmt::format(
        "{} day(s) of {:.0f} calls is more than the {:.0f} calls one run may write", o.days,
        volume, kMaxCalls));
  }
  // The log writes yymmdd dates, which readers take as 1970-2069: a day outside would read
  // back as another century.
  if (o.startDay < kFirstDay || o.startDay + o.days - 1 > kLastDay) {
    Civil first = civil(o.startDay), last = civil(o.startDay + o.days - 1);
    return Status::invalidArgument(fmt::format(
        "the run covers {:04}-{:02}-{:02} to {:04}-{:02}-{:02}, but the log's two-digit "
        "years (yymmdd) hold only 1970-01-01 to 2069-12-31",
        first.y, first.m, first.d, last.y, last.m, last.d));
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(o.out.c_str(), "wb"), &std::fclose);
  // Options were fine: a file that cannot be written is "cannot run" (exit 1), not usage.
  if (!f) {
    return Status::unavailable(o.out + ": cannot create the file: " + std::strerror(errno));
  }
  std::mt19937_64 rng(o.seed);
  GenStats stats;
  double weekMean = 0;
  for (double w : kWeekday) weekMean += w / 7.0;
  double hourSum = 0;
  for (double w : kHourly) hourSum += w;
  const double perDay = volume;
  // Identified customers call again now and then: a pool ten days of calls large, drawn
  // with a skew so that some call often.
  auto pool = static_cast<int64_t>(std::max(1000.0, perDay * 10));
  fmt::memory_buffer b;
  fmt::format_to(std::back_inserter(b),
                 "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\t"
                 "vru_time\tq_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\t"
                 "server\r\n");
  uint64_t callId = 10000;
  for (int day = 0; day < o.days; ++day) {
    int64_t z = o.startDay + day;
    int weekday = static_cast<int>(((z + 3) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
    // Days differ beyond Poisson noise (weather, mailings, outages).
    double today = perDay * kWeekday[weekday] / weekMean * std::exp(0.08 * normal(rng));
    std::vector<Call> calls;
    for (int slot = 0; slot < 240; ++slot) {
      int n = poisson(rng, today * kHourly[slot / 10] / hourSum / 10.0);
      for (int k = 0; k < n; ++k) {
        Call c;
        c.arrival = slot * 360 + static_cast<int>(uniform01(rng) * 360);
        double u = uniform01(rng), acc = 0;
        c.type = static_cast<int>(kTypes.size()) - 1;
        for (size_t t = 0; t < kTypes.size(); ++t) {
          acc += kTypes[t].share;
          if (u < acc) {
            c.type = static_cast<int>(t);
            break;
          }
        }
        if (uniform01(rng) < 0.42) {
          c.customer = 10'000'000 + static_cast<int64_t>(pool * std::pow(uniform01(rng), 2.0));
          c.priority = uniform01(rng) < 0.66 ? 2 : 1;
        }
        c.ivr = std::max(1, static_cast<int>(std::lround(std::exp(std::log(8.0) +
                                                                  0.6 * normal(rng)))));
        double mean = kTypes[c.type].meanHandleS;
        double mu = std::log(mean) - kHandleSigma * kHandleSigma / 2;
        c.handle = std::max(1, static_cast<int>(std::lround(std::exp(mu + kHandleSigma *
                                                                          normal(rng)))));
        // Weibull patience, priority customers a little more patient.
        double scale = c.priority == 2 ? 420 : 300;
        c.patience = static_cast<int>(scale * std::pow(-std::log(uniform01(rng)), 1.0 / 1.2));
        bool open = c.arrival >= kOpenFrom && c.arrival < kOpenTo;
        c.phantom = uniform01(rng) < 0.008;
        c.ivrOnly = !c.phantom && (!open || uniform01(rng) < 0.05);
        calls.push_back(c);
      }
    }
    std::sort(calls.begin(), calls.end(),
              [](const Call& a, const Call& b) { return a.arrival < b.arrival; });
    auto shifts = staffDay(today, rng);
    int agentsToday = 0;
    for (const auto& s : shifts) agentsToday = std::max(agentsToday, s.agent + 1);
    stats.agents = std::max<uint64_t>(stats.agents, agentsToday);
    serveDay(calls, shifts);
    Civil cd = civil(z);
    for (const auto& c : calls) {
      int exitIvr = c.arrival + c.ivr;
      const char* outcome = "AGENT";
      int qs = 0, qe = 0, ss = 0, se = 0;
      bool queued = false, served = false;
      if (c.phantom) {
        outcome = "PHANTOM";
        ++stats.phantom;
      } else if (c.ivrOnly) {
        outcome = "HANG";
        ++stats.endedInIvr;
      } else if (c.wait < 0) {
        outcome = "HANG";
        queued = true;
        qs = exitIvr;
        qe = exitIvr + c.patience;
        // Counted as readers count the row: a hang-up with q_time 0 ended in the IVR.
        ++(c.patience > 0 ? stats.abandoned : stats.endedInIvr);
      } else {
        served = true;
        ss = exitIvr + c.wait;
        se = ss + c.handle;
        if (c.wait > 0) queued = true, qs = exitIvr, qe = ss;
        ++stats.answered;
      }
      ++stats.calls;
      fmt::format_to(std::back_inserter(b), "AA0{}{:02}\t{}\t{}\t{}\t{}\t{:02}{:02}{:02}\t",
                     1 + callId % 6, 1 + callId % 27, callId, c.customer, c.priority,
                     kTypes[c.type].name, cd.y % 100, cd.m, cd.d);
      ++callId;
      hms(b, c.arrival);
      b.push_back('\t');
      hms(b, exitIvr);
      fmt::format_to(std::back_inserter(b), "\t{}\t", c.ivr);
      hms(b, queued ? qs : 0);
      b.push_back('\t');
      hms(b, queued ? qe : 0);
      fmt::format_to(std::back_inserter(b), "\t{}\t{}\t", queued ? qe - qs : 0, outcome);
      hms(b, served ? ss : 0);
      b.push_back('\t');
      hms(b, served ? se : 0);
      fmt::format_to(std::back_inserter(b), "\t{}\t{}\r\n", served ? se - ss : 0,
                     served ? agentName(c.agent) : std::string("NO_SERVER"));
      if (b.size() > (1 << 20)) {
        if (std::fwrite(b.data(), 1, b.size(), f.get()) != b.size()) {
          return Status::internal(o.out + ": write failed");
        }
        b.clear();
      }
    }
  }
  if (std::fwrite(b.data(), 1, b.size(), f.get()) != b.size() || std::fflush(f.get()) != 0) {
    return Status::internal(o.out + ": write failed");
  }
  return stats;
}

}  // namespace kefu::replay
