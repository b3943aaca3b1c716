// SPDX-License-Identifier: Apache-2.0
//
// KPI accumulation. Every group (day, time-of-day interval, weekday x hour, type, channel,
// agent) keeps the same small set of counters and sums; weeks and months are folded from
// the days at the end. Per-call state is kept only for first-contact resolution (the contact
// times of identified customers) and for inferring agent presence (one entry per agent and
// five-minute slot with any service), both bounded as sdk-docs/kpis.md explains.
#include "kpi.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "call_log_internal.h"

namespace kefu::calls {
namespace {

using Json = nlohmann::json;

constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kSlotMs = 5 * 60'000;
constexpr int64_t kMinuteMs = 60'000;

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void civil(int64_t days, int64_t& y, unsigned& m, unsigned& d) {
  detail::civilFromDays(days, y, m, d);
}

// 0 = Monday ... 6 = Sunday; 1970-01-01 was a Thursday.
int weekday(int64_t day) { return static_cast<int>(((day + 3) % 7 + 7) % 7); }

std::string dayKey(int64_t day) {
  int64_t y;
  unsigned m, d;
  civil(day, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string monthKey(int64_t day) { return dayKey(day).substr(0, 7); }

// ISO 8601 week: the week belongs to the year of its Thursday.
std::string weekKey(int64_t day) {
  int64_t thursday = day - weekday(day) + 3;
  int64_t y;
  unsigned m, d;
  civil(thursday, y, m, d);
  int week = static_cast<int>((thursday - detail::daysFromCivil(y, 1, 1)) / 7 + 1);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld-W%02d", static_cast<long long>(y), week);
  return buf;
}

// What one call adds to the counters of each group it belongs to, worked out once.
struct Delta {
  Outcome outcome;
  bool withinSl = false, shortAbandon = false;
  int64_t waitMs = 0, talkMs = 0;
};

// Counters and sums of one group of calls.
struct Counts {
  uint64_t offered = 0, answered = 0, abandoned = 0, shortAbandoned = 0, ivr = 0, phantom = 0;
  uint64_t answeredInSl = 0;
  int64_t waitAnsweredMs = 0;  // queue waits of answered calls (0 for those never queued)
  int64_t waitQueuedMs = 0;    // queue waits of answered and abandoned calls
  int64_t talkMs = 0;
  int64_t maxWaitMs = 0;
  uint64_t fcrContacts = 0, fcrRepeated = 0;  // filled in finish()

  void add(const Delta& d) {
    switch (d.outcome) {
      case Outcome::kPhantom: ++phantom; return;
      case Outcome::kEndedInIvr: ++offered; ++ivr; return;
      case Outcome::kAbandonedInQueue:
        ++offered;
        ++abandoned;
        shortAbandoned += d.shortAbandon;
        waitQueuedMs += d.waitMs;
        maxWaitMs = std::max(maxWaitMs, d.waitMs);
        return;
      case Outcome::kAnswered:
        ++offered;
        ++answered;
        answeredInSl += d.withinSl;
        waitAnsweredMs += d.waitMs;
        waitQueuedMs += d.waitMs;
        maxWaitMs = std::max(maxWaitMs, d.waitMs);
        talkMs += d.talkMs;
        return;
    }
  }

  void merge(const Counts& o) {
    offered += o.offered;
    answered += o.answered;
    abandoned += o.abandoned;
    shortAbandoned += o.shortAbandoned;
    ivr += o.ivr;
    phantom += o.phantom;
    answeredInSl += o.answeredInSl;
    waitAnsweredMs += o.waitAnsweredMs;
    waitQueuedMs += o.waitQueuedMs;
    talkMs += o.talkMs;
    maxWaitMs = std::max(maxWaitMs, o.maxWaitMs);
    fcrContacts += o.fcrContacts;
    fcrRepeated += o.fcrRepeated;
  }
};

Json ratio(double num, double den, int digits = 4) {
  if (den <= 0) return nullptr;
  double scale = std::pow(10.0, digits);
  return std::round(num / den * scale) / scale;
}

Json seconds(double ms, double n) {
  if (n <= 0) return nullptr;
  return std::round(ms / n / 10.0) / 100.0;
}

Json countsJson(const Counts& c) {
  uint64_t queued = c.answered + c.abandoned;
  Json k;
  k["answer_rate"] = ratio(c.answered, c.offered);
  k["agent_answer_rate"] = ratio(c.answered, queued);
  k["service_level"] = ratio(c.answeredInSl, static_cast<double>(queued - c.shortAbandoned));
  k["asa_seconds"] = seconds(c.waitAnsweredMs, c.answered);
  k["abandonment_rate"] = ratio(c.abandoned, queued);
  k["abandonment_rate_excl_short"] =
      ratio(c.abandoned - c.shortAbandoned, static_cast<double>(queued - c.shortAbandoned));
  k["average_backlog_seconds"] = seconds(c.waitQueuedMs, queued);
  k["max_wait_seconds"] = queued ? Json(c.maxWaitMs / 1000.0) : Json(nullptr);
  k["intelligent_service_rate"] = ratio(c.ivr, c.offered);
  k["aht_seconds"] = seconds(c.talkMs, c.answered);
  k["fcr_rate"] = ratio(c.fcrContacts - c.fcrRepeated, c.fcrContacts);
  return Json{{"offered", c.offered},
              {"answered", c.answered},
              {"abandoned_in_queue", c.abandoned},
              {"abandoned_short", c.shortAbandoned},
              {"ended_in_ivr", c.ivr},
              {"phantom", c.phantom},
              {"answered_within_sl", c.answeredInSl},
              {"fcr_contacts", c.fcrContacts},
              {"fcr_repeated", c.fcrRepeated},
              {"kpis", std::move(k)}};
}

// 24 bytes per contact of an identified customer: what first-contact resolution needs.
// Contacts are kept in the order they were added and grouped by customer in finish().
struct Contact {
  int64_t ms;
  uint32_t customer;   // index into Impl::customers
  int32_t agent;       // index; -1 when none
  uint16_t type, channel;
};

// Inferred presence of one agent: per five-minute slot of a service start, the earliest
// start and the latest end of the services starting in it.
struct Slot {
  int64_t slot, first, second;
};

struct Agent {
  std::string name;
  Counts counts;
  // Appended as services come; a log in arrival order appends mostly in slot order, so a
  // flat vector (sorted and merged in finish() when needed) beats a node per slot.
  std::vector<Slot> slots;
  bool slotsSorted = true;
  std::vector<std::pair<int64_t, int64_t>> presence;  // from addPresence()
  // Chat concurrency: open chats per minute.
  std::map<int64_t, uint32_t> chatMinutes;
};

// Interns names to indices so that groups and FCR contacts store small integers. Logs
// repeat the same few names row after row: the last hit is checked before hashing.
struct Names {
  std::unordered_map<std::string, int32_t> index;
  std::vector<std::string> names;
  int32_t last = -1;
  int32_t get(const std::string& s) {
    if (last >= 0 && names[last] == s) return last;
    if (names.size() <= 8) {
      // Types and channels are a handful: comparing beats hashing.
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == s) return last = static_cast<int32_t>(i);
      }
    }
    auto it = index.find(s);
    if (it != index.end()) return last = it->second;
    int32_t i = static_cast<int32_t>(names.size());
    index.emplace(s, i);
    names.push_back(s);
    return last = i;
  }
  // The index of a name that comes with a CallRecord key: an array look-up after the
  // first time the key is seen.
  int32_t get(const std::string& s, uint32_t key, std::vector<int32_t>& byKey) {
    if (key == 0) return get(s);
    if (key < byKey.size() && byKey[key] >= 0) return byKey[key];
    if (key >= byKey.size()) byKey.resize(std::max<size_t>(key + 1, byKey.size() * 2), -1);
    return byKey[key] = get(s);
  }
};

// The slots of an agent in slot order, one entry per slot.
std::vector<Slot> sortedSlots(const Agent& a) {
  if (a.slotsSorted) return a.slots;
  std::vector<Slot> s = a.slots;
  std::stable_sort(s.begin(), s.end(),
                   [](const Slot& x, const Slot& y) { return x.slot < y.slot; });
  size_t out = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (out > 0 && s[out - 1].slot == s[i].slot) {
      s[out - 1].first = std::min(s[out - 1].first, s[i].first);
      s[out - 1].second = std::max(s[out - 1].second, s[i].second);
    } else {
      s[out++] = s[i];
    }
  }
  s.resize(out);
  return s;
}

}  // namespace

struct KpiAccumulator::Impl {
  KpiOptions o;
  Counts total;
  std::map<int64_t, Counts> days;
  int64_t lastDay = INT64_MIN;
  Counts* lastDayCounts = nullptr;
  std::vector<Counts> intervals;
  int64_t intervalMs = 0;
  std::array<Counts, 7 * 24> weekHour;
  Names types, channels, agentNames;
  std::vector<int32_t> agentByKey;  // CallRecord keys -> indices
  std::vector<int32_t> typeByKey, channelByKey;
  // Customers are only told apart, never named in the report. A keyed record's customer is
  // its key (its name is not read): 2 * key; the others are numbered by name: 2 * n + 1.
  std::unordered_map<std::string, uint32_t> customerByName;
  uint32_t customerLimit = 0;  // above every customer's number
  std::vector<Counts> byType, byChannel;
  std::vector<Agent> agents;
  std::vector<Contact> contacts;
  int64_t firstMs = INT64_MAX, lastMs = INT64_MIN;
  bool anyChat = false;
  uint64_t anonymousContacts = 0;
  uint64_t withoutArrival = 0;

  Counts& day(int64_t d) {
    if (d != lastDay) {
      lastDay = d;
      lastDayCounts = &days[d];  // std::map nodes stay put
    }
    return *lastDayCounts;
  }

  uint32_t customer(const CallRecord& c) {
    uint32_t n;
    if (c.customerKey > 0 && c.customerKey < (1u << 31)) {
      n = 2 * c.customerKey;
    } else {
      auto [it, added] = customerByName.try_emplace(
          c.customer, static_cast<uint32_t>(customerByName.size()));
      if (it->second >= (1u << 31) - 1) throw std::runtime_error("more than 2e9 customers");
      n = 2 * it->second + 1;
    }
    customerLimit = std::max(customerLimit, n + 1);
    return n;
  }

  int32_t agent(const std::string& name, uint32_t key = 0) {
    int32_t i = agentNames.get(name, key, agentByKey);
    if (static_cast<size_t>(i) == agents.size()) {
      agents.push_back(Agent{name, {}, {}, true, {}, {}});
    }
    return i;
  }
};

KpiAccumulator::KpiAccumulator(KpiOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->o = options;
  if (impl_->o.interval.count() <= 0 || kDayMs % (impl_->o.interval.count() * 60'000) != 0) {
    // A width that does not divide the day would give a ragged last bin; 30 min it is.
    impl_->o.interval = std::chrono::minutes(30);
  }
  impl_->intervalMs = impl_->o.interval.count() * 60'000;
  impl_->intervals.resize(kDayMs / impl_->intervalMs);
}

KpiAccumulator::~KpiAccumulator() = default;

void KpiAccumulator::add(const CallRecord& c) {
  Impl& m = *impl_;
  if (c.arrivalMs < 0) {
    // Readers never produce these; a generator might. Counted so that none vanishes.
    ++m.withoutArrival;
    return;
  }
  Delta d{c.outcome};
  if (c.queueStartMs >= 0 && c.queueExitMs >= c.queueStartMs) {
    d.waitMs = c.queueExitMs - c.queueStartMs;
  }
  d.withinSl = d.waitMs <= m.o.serviceLevelThreshold.count() * 1000;
  d.shortAbandon = d.waitMs < m.o.shortAbandonThreshold.count() * 1000;
  if (c.serviceStartMs >= 0 && c.serviceEndMs >= c.serviceStartMs) {
    d.talkMs = c.serviceEndMs - c.serviceStartMs;
  }
  int64_t day = floorDiv(c.arrivalMs, kDayMs);
  int64_t tod = c.arrivalMs - day * kDayMs;
  m.total.add(d);
  m.day(day).add(d);
  m.intervals[tod / m.intervalMs].add(d);
  m.weekHour[weekday(day) * 24 + tod / 3'600'000].add(d);
  int32_t type = m.types.get(c.type, c.typeKey, m.typeByKey);
  if (static_cast<size_t>(type) == m.byType.size()) m.byType.emplace_back();
  m.byType[type].add(d);
  int32_t channel = m.channels.get(c.channel, c.channelKey, m.channelByKey);
  if (static_cast<size_t>(channel) == m.byChannel.size()) m.byChannel.emplace_back();
  m.byChannel[channel].add(d);
  if (c.outcome == Outcome::kPhantom) return;
  m.firstMs = std::min(m.firstMs, c.arrivalMs);
  m.lastMs = std::max(m.lastMs, c.arrivalMs);

  int32_t agentIndex = -1;
  if (c.outcome == Outcome::kAnswered && !c.agent.empty()) {
    agentIndex = m.agent(c.agent, c.agentKey);
    Agent& a = m.agents[agentIndex];
    a.counts.add(d);
    if (c.serviceStartMs >= 0) {
      int64_t key = floorDiv(c.serviceStartMs, kSlotMs);
      if (!a.slots.empty() && a.slots.back().slot == key) {
        Slot& s = a.slots.back();
        s.first = std::min(s.first, c.serviceStartMs);
        s.second = std::max(s.second, c.serviceEndMs);
      } else {
        if (!a.slots.empty() && a.slots.back().slot > key) a.slotsSorted = false;
        a.slots.push_back({key, c.serviceStartMs, c.serviceEndMs});
      }
      if (c.channel == "chat") {
        m.anyChat = true;
        for (int64_t t = floorDiv(c.serviceStartMs, kMinuteMs);
             t * kMinuteMs < c.serviceEndMs; ++t) {
          ++a.chatMinutes[t];
        }
      }
    }
  }
  if (c.customerKey == 0 && c.customer.empty()) {
    ++m.anonymousContacts;
  } else {
    if (m.contacts.size() == m.contacts.capacity()) {
      // Grow by half rather than double: the largest vector of the accumulator.
      m.contacts.reserve(std::max<size_t>(1024, m.contacts.size() + m.contacts.size() / 2));
    }
    m.contacts.push_back({c.arrivalMs, m.customer(c),
                          agentIndex, static_cast<uint16_t>(type),
                          static_cast<uint16_t>(channel)});
  }
}

void KpiAccumulator::reserve(size_t records) { impl_->contacts.reserve(records); }

void KpiAccumulator::addPresence(const std::string& agent, int64_t fromMs, int64_t toMs) {
  if (toMs <= fromMs) return;
  impl_->agents[impl_->agent(agent)].presence.emplace_back(fromMs, toMs);
}

namespace {

struct AgentTime {
  int64_t paidMs = 0, productiveMs = 0, blocks = 0;
  bool inferred = true;
};

AgentTime agentTime(const Agent& a, const KpiOptions& o) {
  AgentTime t;
  t.productiveMs = a.counts.talkMs;
  if (!a.presence.empty()) {
    t.inferred = false;
    auto p = a.presence;
    std::sort(p.begin(), p.end());
    int64_t curS = p[0].first, curE = p[0].second;
    for (size_t i = 1; i <= p.size(); ++i) {
      if (i < p.size() && p[i].first <= curE) {
        curE = std::max(curE, p[i].second);
        continue;
      }
      t.paidMs += curE - curS;
      ++t.blocks;
      if (i < p.size()) curS = p[i].first, curE = p[i].second;
    }
    return t;
  }
  const int64_t gap = o.shiftGap.count() * 60'000;
  bool open = false;
  int64_t s = 0, e = 0;
  for (const Slot& se : sortedSlots(a)) {
    if (open && se.first - e <= gap) {
      e = std::max(e, se.second);
      continue;
    }
    if (open) t.paidMs += e - s, ++t.blocks;
    s = se.first;
    e = se.second;
    open = true;
  }
  if (open) t.paidMs += e - s, ++t.blocks;
  return t;
}

Json kpiDefinitions() {
  auto def = [](const char* key, const char* name, const char* zh, const char* formula,
                const char* unit) {
    return Json{{"key", key}, {"name", name}, {"name_zh", zh}, {"formula", formula},
                {"unit", unit}};
  };
  return Json::array({
      def("answer_rate", "Answer rate", "接通率", "answered / offered", "ratio"),
      def("agent_answer_rate", "Agent answer rate", "人工接通率",
          "answered / (answered + abandoned_in_queue)", "ratio"),
      def("service_level", "Service level", "服务水平",
          "answered with wait <= T / (answered + abandoned_in_queue - short abandons)",
          "ratio"),
      def("asa_seconds", "Average speed of answer", "平均应答速度",
          "sum of queue waits of answered calls / answered", "s"),
      def("abandonment_rate", "Abandonment rate", "放弃率",
          "abandoned_in_queue / (answered + abandoned_in_queue)", "ratio"),
      def("abandonment_rate_excl_short", "Abandonment rate without short abandons",
          "放弃率(剔除短时放弃)",
          "(abandoned_in_queue - short) / (answered + abandoned_in_queue - short)", "ratio"),
      def("average_backlog_seconds", "Average backlog time", "平均积压时间",
          "sum of queue waits of answered and abandoned calls / (answered + "
          "abandoned_in_queue)",
          "s"),
      def("max_wait_seconds", "Longest wait", "最长等待时间",
          "max queue wait of answered and abandoned calls", "s"),
      def("intelligent_service_rate", "Intelligent-service rate", "智能化服务率",
          "ended_in_ivr / offered (approximation)", "ratio"),
      def("aht_seconds", "Average talk time", "平均通话时长",
          "sum of service times / answered", "s"),
      def("fcr_rate", "First-contact resolution", "首次解决率",
          "1 - contacts followed by another contact of the same customer within the window "
          "/ contacts of identified customers",
          "ratio"),
      def("occupancy", "Agent occupancy", "座席占用率", "productive / (productive + ready)",
          "ratio"),
      def("utilization", "Agent utilization", "座席利用率",
          "(productive + ready) / paid time", "ratio"),
      def("chat_concurrency", "Online-chat concurrency", "在线并发数",
          "agent-minutes of open chats / minutes with at least one open chat", "chats"),
      def("satisfaction", "Customer satisfaction", "客户满意度", "not in a call log", "ratio"),
      def("business_accuracy", "Business accuracy", "业务准确率", "not in a call log",
          "ratio"),
      def("complaint_rate", "Complaint rate", "投诉率", "not in a call log", "ratio"),
      def("agent_attrition", "Agent attrition", "人员流失率", "not in a call log", "ratio"),
      def("quality_score", "Quality-inspection score", "质检合格率", "not in a call log",
          "ratio"),
  });
}

}  // namespace

Json KpiAccumulator::finish() const {
  const Impl& m = *impl_;
  const KpiOptions& o = m.o;

  // First-contact resolution: a contact is repeated if the same customer calls again within
  // the window. Counted into copies of the groups so that finish() can run more than once.
  Counts total = m.total;
  std::map<int64_t, Counts> days = m.days;
  std::vector<Counts> byType = m.byType, byChannel = m.byChannel;
  std::vector<Counts> agentCounts;
  for (const auto& a : m.agents) agentCounts.push_back(a.counts);
  const int64_t window = std::chrono::duration_cast<std::chrono::milliseconds>(o.repeatWindow)
                             .count();
  // Group the contacts by customer keeping the order they came in (a counting sort), then
  // order each customer's contacts by time; a log in arrival order needs little sorting.
  std::vector<uint32_t> start(size_t{m.customerLimit} + 1, 0);
  for (const Contact& c : m.contacts) ++start[c.customer + 1];
  for (size_t i = 1; i < start.size(); ++i) start[i] += start[i - 1];
  std::vector<Contact> grouped(m.contacts.size());
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (const Contact& c : m.contacts) grouped[fill[c.customer]++] = c;
  }
  auto byTime = [](const Contact& a, const Contact& b) { return a.ms < b.ms; };
  // Days by index rather than a map search per contact (days of a log are few and dense).
  int64_t firstDay = days.empty() ? 0 : days.begin()->first;
  int64_t span = days.empty() ? 0 : days.rbegin()->first - firstDay + 1;
  std::vector<Counts*> dayAt(span <= (1 << 20) ? static_cast<size_t>(span) : 0, nullptr);
  for (auto& [d, counts] : days) {
    if (!dayAt.empty()) dayAt[d - firstDay] = &counts;
  }
  for (size_t k = 0; k + 1 < start.size(); ++k) {
    auto first = grouped.begin() + start[k], last = grouped.begin() + start[k + 1];
    // std::sort as ever, so that contacts of one customer at the same moment are ordered as
    // before; a list strictly in time order is its own result and needs none.
    auto notAfter = [](const Contact& a, const Contact& b) { return a.ms >= b.ms; };
    if (std::adjacent_find(first, last, notAfter) != last) std::sort(first, last, byTime);
    for (auto it = first; it != last; ++it) {
      bool repeated = it + 1 != last && (it + 1)->ms - it->ms <= window;
      const Contact& c = *it;
      int64_t d = floorDiv(c.ms, kDayMs);
      Counts* day = dayAt.empty() ? &days[d] : dayAt[d - firstDay];
      for (Counts* g : {&total, day, &byType[c.type], &byChannel[c.channel],
                        c.agent >= 0 ? &agentCounts[c.agent] : nullptr}) {
        if (!g) continue;
        ++g->fcrContacts;
        if (repeated) ++g->fcrRepeated;
      }
    }
  }

  Json out;
  out["schema"] = "kefu.call-report/1";
  out["options"] = {{"sl_seconds", o.serviceLevelThreshold.count()},
                    {"short_abandon_seconds", o.shortAbandonThreshold.count()},
                    {"repeat_window_hours", o.repeatWindow.count()},
                    {"interval_minutes", o.interval.count()},
                    {"shift_gap_minutes", o.shiftGap.count()},
                    {"pseudonymise_agents", o.pseudonymiseAgents}};
  if (m.firstMs <= m.lastMs) {
    out["period"] = {{"from", dayKey(floorDiv(m.firstMs, kDayMs))},
                     {"to", dayKey(floorDiv(m.lastMs, kDayMs))},
                     {"days", floorDiv(m.lastMs, kDayMs) - floorDiv(m.firstMs, kDayMs) + 1}};
  } else {
    out["period"] = nullptr;
  }

  // Agents: time figures, names or pseudonyms.
  std::vector<size_t> order(m.agents.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return m.agents[a].name < m.agents[b].name; });
  int width = order.size() >= 100 ? 3 : 2;
  Json byAgent = Json::array();
  int64_t paidAll = 0, productiveAll = 0;
  bool anyInferred = false, anyPresence = false;
  double chatOpen = 0, chatMinutes = 0;
  uint32_t chatPeak = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const Agent& a = m.agents[order[k]];
    AgentTime t = agentTime(a, o);
    anyInferred |= t.inferred;
    anyPresence |= !t.inferred;
    paidAll += t.paidMs;
    productiveAll += t.productiveMs;
    int64_t ready = std::max<int64_t>(0, t.paidMs - t.productiveMs);
    std::string name = a.name;
    if (o.pseudonymiseAgents) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "agent-%0*zu", width, k + 1);
      name = buf;
    }
    Json j = countsJson(agentCounts[order[k]]);
    j["key"] = name;
    j["paid_hours"] = std::round(t.paidMs / 36'000.0) / 100.0;
    j["productive_hours"] = std::round(t.productiveMs / 36'000.0) / 100.0;
    j["shift_blocks"] = t.blocks;
    j["presence"] = t.inferred ? "inferred" : "given";
    j["kpis"]["occupancy"] = ratio(t.productiveMs, t.productiveMs + ready);
    j["kpis"]["utilization"] = ratio(t.productiveMs + ready, t.paidMs);
    if (!a.chatMinutes.empty()) {
      double open = 0;
      uint32_t peak = 0;
      for (const auto& [minute, n] : a.chatMinutes) {
        open += n;
        peak = std::max(peak, n);
      }
      j["kpis"]["chat_concurrency"] = ratio(open, a.chatMinutes.size(), 2);
      j["chat_peak_concurrency"] = peak;
      chatOpen += open;
      chatMinutes += a.chatMinutes.size();
      chatPeak = std::max(chatPeak, peak);
    } else {
      j["kpis"]["chat_concurrency"] = nullptr;
    }
    byAgent.push_back(std::move(j));
  }

  Json totals = countsJson(total);
  Json& tk = totals["kpis"];
  int64_t readyAll = std::max<int64_t>(0, paidAll - productiveAll);
  tk["occupancy"] = ratio(productiveAll, productiveAll + readyAll);
  tk["utilization"] = ratio(productiveAll + readyAll, paidAll);
  tk["chat_concurrency"] = m.anyChat ? ratio(chatOpen, chatMinutes, 2) : Json(nullptr);
  Json noData = Json::object();
  if (m.anyChat) {
    totals["chat_peak_concurrency"] = chatPeak;
  } else {
    noData["chat_concurrency"] = "no data: the log has no online-chat contacts";
  }
  for (const char* k : {"satisfaction", "business_accuracy", "complaint_rate",
                        "agent_attrition", "quality_score"}) {
    tk[k] = nullptr;
  }
  noData["satisfaction"] = "no data: a call log records no survey answers";
  noData["business_accuracy"] = "no data: a call log records no quality review of answers";
  noData["complaint_rate"] = "no data: a call log records no complaints";
  noData["agent_attrition"] = "no data: a call log records no staff changes";
  noData["quality_score"] = "no data: a call log records no quality inspection";
  for (auto& [k, v] : tk.items()) {
    if (v.is_null() && !noData.contains(k)) {
      noData[k] = "no data: no call in the log has what this KPI needs";
    }
  }
  totals["no_data"] = std::move(noData);
  if (m.withoutArrival) totals["ignored_without_arrival"] = m.withoutArrival;
  totals["paid_hours"] = std::round(paidAll / 36'000.0) / 100.0;
  totals["productive_hours"] = std::round(productiveAll / 36'000.0) / 100.0;
  out["totals"] = std::move(totals);

  Json byDay = Json::array();
  std::map<std::string, Counts> weeks, months;
  for (const auto& [d, c] : days) {
    Json j = countsJson(c);
    j["key"] = dayKey(d);
    j["weekday"] = weekday(d);
    byDay.push_back(std::move(j));
    weeks[weekKey(d)].merge(c);
    months[monthKey(d)].merge(c);
  }
  out["by_day"] = std::move(byDay);
  auto keyed = [](const std::map<std::string, Counts>& groups) {
    Json a = Json::array();
    for (const auto& [k, c] : groups) {
      Json j = countsJson(c);
      j["key"] = k;
      a.push_back(std::move(j));
    }
    return a;
  };
  out["by_week"] = keyed(weeks);
  out["by_month"] = keyed(months);
  auto named = [&](const Names& names, const std::vector<Counts>& counts) {
    std::map<std::string, Counts> g;
    for (size_t i = 0; i < counts.size(); ++i) g[names.names[i]] = counts[i];
    return keyed(g);
  };
  out["by_type"] = named(m.types, byType);
  out["by_channel"] = named(m.channels, byChannel);
  out["by_agent"] = std::move(byAgent);

  Json intervals = Json::array();
  int64_t step = o.interval.count();
  for (size_t i = 0; i < m.intervals.size(); ++i) {
    Json j = countsJson(m.intervals[i]);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", static_cast<long long>(i * step / 60),
                  static_cast<long long>(i * step % 60));
    j["key"] = buf;
    // Mean arrivals per day of the period, so that logs of different lengths compare.
    j["offered_per_day"] = ratio(m.intervals[i].offered,
                                 out["period"].is_null() ? 0.0
                                                         : out["period"]["days"].get<double>(),
                                 2);
    intervals.push_back(std::move(j));
  }
  out["by_interval"] = std::move(intervals);

  Json heat = Json::array();
  for (int wd = 0; wd < 7; ++wd) {
    Json row = Json::array();
    for (int h = 0; h < 24; ++h) row.push_back(m.weekHour[wd * 24 + h].offered);
    heat.push_back(std::move(row));
  }
  Json heatSl = Json::array();
  for (int wd = 0; wd < 7; ++wd) {
    Json row = Json::array();
    for (int h = 0; h < 24; ++h) row.push_back(countsJson(m.weekHour[wd * 24 + h])["kpis"]
                                                   ["service_level"]);
    heatSl.push_back(std::move(row));
  }
  out["weekday_hour"] = {
      {"weekdays", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}},
      {"offered", std::move(heat)},
      {"service_level", std::move(heatSl)}};

  Json approx = Json::array();
  auto note = [&](const char* kpi, const std::string& text) {
    approx.push_back({{"kpi", kpi}, {"text", text}});
  };
  note("intelligent_service_rate",
       "Calls that ended in the IVR are counted as served by self-service; the log cannot "
       "tell a completed self-service from a caller who gave up in the IVR.");
  note("fcr_rate",
       "Only identified customers count (" + std::to_string(m.anonymousContacts) +
           " anonymous contacts excluded). A contact is unresolved if the same customer calls "
           "again within " + std::to_string(o.repeatWindow.count()) +
           " h; contacts near the end of the log cannot be followed and count as resolved.");
  note("average_backlog_seconds",
       "Defined as the mean queue wait of every call that reached the agent queue, answered "
       "or abandoned; calls answered without queueing count with a wait of 0.");
  note("aht_seconds", "Talk time only: the log has no after-call work.");
  if (anyInferred) {
    note("utilization",
         "Paid time is inferred from observed presence: an agent's services less than " +
             std::to_string(o.shiftGap.count()) +
             " min apart form one shift block, from the first service start to the last "
             "service end. Time in a block that is not talk time counts as ready, so "
             "utilization is 1 by construction and occupancy = talk / paid time.");
  }
  if (anyPresence) {
    note("utilization", "Paid time of agents with given presence is their signed-in time; "
                        "signed-in time that is not talk time counts as ready.");
  }
  note("by_type", "Queues are the records' call types: the log names no other queue.");
  out["approximations"] = std::move(approx);
  out["kpi_definitions"] = kpiDefinitions();
  return out;
}

}  // namespace kefu::calls
