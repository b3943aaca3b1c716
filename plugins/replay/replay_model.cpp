// SPDX-License-Identifier: Apache-2.0
#include "replay_model.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <queue>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>

namespace kefu::replay {
namespace {

constexpr uint16_t kNoAgent = 0xffff;
constexpr int64_t kDayMs = 86'400'000;

int32_t clampMs(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, 0, INT32_MAX));
}

int hourOf(int64_t ms) { return static_cast<int>(((ms % kDayMs) + kDayMs) % kDayMs / 3'600'000); }

TimePoint toTime(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }
int64_t toMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The random bits of one draw of one call: a hash (splitmix64's finaliser) of the seed, the
// call's line in the log and the draw's purpose. A call draws the same handle time and
// patience whatever else happens in the run, so two runs that differ in staffing, wrap-up
// or routing differ by that alone (common random numbers) rather than by a reshuffled random
// stream, and calibration and what-if comparisons are not drowned in noise.
enum class Draw : uint64_t { kHandle = 1, kPatience = 2 };
uint64_t callBits(uint64_t seed, uint32_t line, Draw purpose) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (uint64_t(line) << 2 | uint64_t(purpose));
  for (int round = 0; round < 2; ++round) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
  }
  return z;
}

// Uniform in (0, 1) from 53 random bits; the same on every platform.
double uniform01(uint64_t bits) {
  return (static_cast<double>(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

// LSD radix sort, 11 bits a pass; passes above the largest value are skipped.
void radixSort(std::vector<uint32_t>& v) {
  uint32_t hi = 0;
  for (uint32_t x : v) hi |= x;
  std::vector<uint32_t> tmp(v.size());
  std::vector<uint32_t> count(2048);
  for (int shift = 0; shift < 32 && (hi >> shift) != 0; shift += 11) {
    std::fill(count.begin(), count.end(), 0);
    for (uint32_t x : v) ++count[(x >> shift) & 2047];
    uint32_t sum = 0;
    for (auto& k : count) sum += std::exchange(k, sum);
    for (uint32_t x : v) tmp[count[(x >> shift) & 2047]++] = x;
    v.swap(tmp);
  }
}

}  // namespace

// ---- patience ----------------------------------------------------------------------------

void PatienceCurve::build(std::vector<std::pair<int32_t, bool>> waits, bool sorted) {
  times_.clear();
  surv_.clear();
  events_ = 0;
  if (!sorted) std::sort(waits.begin(), waits.end());
  double s = 1.0;
  size_t atRisk = waits.size();
  for (size_t i = 0; i < waits.size();) {
    size_t j = i, died = 0;
    while (j < waits.size() && waits[j].first == waits[i].first) died += waits[j++].second;
    if (died > 0) {
      s *= 1.0 - static_cast<double>(died) / static_cast<double>(atRisk);
      times_.push_back(waits[i].first);
      surv_.push_back(s);
      events_ += died;
    }
    atRisk -= j - i;
    i = j;
  }
  // Beyond the last abandonment the estimate stays flat, as if the remaining callers would
  // wait forever; on an overloaded day such callers pile up for hours. The tail goes on as
  // an exponential instead, with the hazard the log shows past the middle of the curve's
  // drop (abandonments there over the time callers spent waiting there), or over all waits
  // when that part holds too few abandonments.
  tailRate_ = 0;
  if (events_ == 0) return;
  auto hazardFrom = [&](int32_t from) {
    double died = 0, exposure = 0;
    for (const auto& [wait, abandoned] : waits) {
      if (wait <= from) continue;
      exposure += wait - from;
      died += abandoned;
    }
    return std::pair(died, exposure);
  };
  // The step where the curve has made half of its drop.
  size_t mid = 0;
  while (mid < times_.size() && surv_[mid] > 0.5 * (1.0 + surv_.back())) ++mid;
  auto [died, exposure] = hazardFrom(mid < times_.size() ? times_[mid] : 0);
  if (died < 10 || exposure <= 0) std::tie(died, exposure) = hazardFrom(-1);
  if (died > 0 && exposure > 0) tailRate_ = died / exposure;
}

void PatienceCurve::buildPacked(const std::vector<uint32_t>& waits) {
  times_.clear();
  surv_.clear();
  events_ = 0;
  double s = 1.0;
  size_t atRisk = waits.size();
  for (size_t i = 0; i < waits.size();) {
    size_t j = i, died = 0;
    while (j < waits.size() && (waits[j] >> 1) == (waits[i] >> 1)) died += waits[j++] & 1u;
    if (died > 0) {
      s *= 1.0 - static_cast<double>(died) / static_cast<double>(atRisk);
      times_.push_back(static_cast<int32_t>(waits[i] >> 1));
      surv_.push_back(s);
      events_ += died;
    }
    atRisk -= j - i;
    i = j;
  }
}

double PatienceCurve::survival(int64_t ms) const {
  auto it = std::upper_bound(times_.begin(), times_.end(), ms);
  if (it == times_.begin()) return 1.0;
  double s = surv_[it - times_.begin() - 1];
  if (it == times_.end() && tailRate_ > 0) s *= std::exp(-tailRate_ * double(ms - times_.back()));
  return s;
}

int64_t PatienceCurve::quantile(double u) const {
  // surv_ is non-increasing: find the first step at or below u.
  auto it = std::lower_bound(surv_.begin(), surv_.end(), u,
                             [](double s, double v) { return s > v; });
  if (it != surv_.end()) return times_[it - surv_.begin()];
  if (tailRate_ <= 0 || u <= 0) return -1;
  // In the exponential tail: S(t) = S_last * exp(-rate * (t - t_last)).
  double beyond = std::log(surv_.back() / u) / tailRate_;
  return times_.back() + static_cast<int64_t>(std::min(beyond, 1e12));
}

// ---- the call table ----------------------------------------------------------------------

uint16_t CallTable::intern(std::vector<std::string>& names,
                           std::unordered_map<std::string, uint16_t>& index,
                           const std::string& s) {
  // Logs repeat the same few names row after row: check the last one before hashing.
  uint16_t& last = &names == &types_ ? lastType_ : &names == &channels_ ? lastChannel_ : lastAgent_;
  if (last < names.size() && names[last] == s) return last;
  if (names.size() <= 8) {
    // Call types and channels are a handful: comparing beats hashing.
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == s) return last = static_cast<uint16_t>(i);
    }
  }
  auto it = index.find(s);
  if (it != index.end()) return last = it->second;
  if (names.size() >= kNoAgent) {
    throw std::runtime_error("more than 65,534 distinct call types, channels or agents");
  }
  auto id = static_cast<uint16_t>(names.size());
  names.push_back(s);
  index.emplace(s, id);
  return last = id;
}

namespace {

// The slot of a code: numbers and FNV's low bits alone spread poorly.
uint64_t slotOf(uint64_t c) {
  c ^= c >> 32;
  c *= 0x9e3779b97f4a7c15ull;
  return c ^ (c >> 29);
}

}  // namespace

uint64_t CallTable::customerCode(const std::string& s) {
  if (s.empty()) return 0;
  // A reference of up to 17 digits (the usual customer number) is its own code: value,
  // length (so that "0123" and "123" differ) and the top bit; a slot's code then settles a
  // look-up without reading the name. Any other reference is coded by its FNV-1a hash with
  // the top bit clear (and never 0), and a matching code is confirmed by the names.
  uint64_t code = 0;
  bool numeric = s.size() <= 17;
  for (size_t i = 0; numeric && i < s.size(); ++i) {
    unsigned d = static_cast<unsigned char>(s[i]) - '0';
    numeric = d <= 9;
    code = code * 10 + d;
  }
  if (numeric) return code | (uint64_t{1} << 63) | (static_cast<uint64_t>(s.size()) << 57);
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return (h >> 1) | 1;
}

uint32_t CallTable::customerKey(const std::string& s) { return customerKey(s, customerCode(s)); }

uint32_t CallTable::customerKey(const std::string& s, uint64_t code) {
  if (code == 0) return 0;
  if (customers_.size() * 2 >= customerSlots_.size()) {
    // Keep the table at most half full; rehash from the stored codes.
    std::vector<CustomerSlot> slots(std::max<size_t>(1024, customerSlots_.size() * 2));
    size_t mask = slots.size() - 1;
    for (uint32_t k = 1; k < customers_.size(); ++k) {
      size_t pos = slotOf(customerCode_[k]) & mask;
      while (slots[pos].key) pos = (pos + 1) & mask;
      slots[pos] = {customerCode_[k], k};
    }
    customerSlots_.swap(slots);
  }
  const bool numeric = code >> 63;
  size_t mask = customerSlots_.size() - 1;
  for (size_t pos = slotOf(code) & mask;; pos = (pos + 1) & mask) {
    CustomerSlot& slot = customerSlots_[pos];
    if (slot.key == 0) {
      if (customers_.size() == UINT32_MAX) throw std::runtime_error("more than 4e9 customers");
      slot = {code, static_cast<uint32_t>(customers_.size())};
      customers_.push_back(s);
      customerCode_.push_back(code);
      return slot.key;
    }
    if (slot.code == code && (numeric || customers_[slot.key] == s)) return slot.key;
  }
}

void CallTable::setKeys(calls::CallRecord* records, size_t n) {
  // The slots are a table of megabytes that each look-up hits at random: ask for the slot
  // of a record a few ahead while this one is keyed, so that the memory waits overlap.
  constexpr size_t kAhead = 8;
  codes_.resize(n);
  for (size_t i = 0; i < n; ++i) codes_[i] = customerCode(records[i].customer);
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n && codes_[i + kAhead] && !customerSlots_.empty()) {
      __builtin_prefetch(&customerSlots_[slotOf(codes_[i + kAhead]) &
                                         (customerSlots_.size() - 1)]);
    }
    calls::CallRecord& r = records[i];
    r.customerKey = customerKey(r.customer, codes_[i]);
    setNameKeys(r);
  }
}

void CallTable::setKeys(calls::CallRecord& r) {
  r.customerKey = customerKey(r.customer);
  setNameKeys(r);
}

void CallTable::setNameKeys(calls::CallRecord& r) {
  r.typeKey = intern(types_, typeIdx_, r.type) + 1u;
  r.channelKey = intern(channels_, channelIdx_, r.channel) + 1u;
  r.agentKey = 0;
  if (r.outcome == calls::Outcome::kAnswered && !r.agent.empty()) {
    r.agentKey = intern(agents_, agentIdx_, r.agent) + 1u;
  }
}

namespace {
int64_t entryKey(const ModelCall& c) { return c.entryMs >= 0 ? c.entryMs : c.arrivalMs; }
}  // namespace

void CallTable::add(const calls::CallRecord& r) {
  ModelCall c;
  c.arrivalMs = r.arrivalMs;
  c.line = static_cast<uint32_t>(std::min<uint64_t>(r.line, UINT32_MAX));
  c.type = r.typeKey ? static_cast<uint16_t>(r.typeKey - 1) : intern(types_, typeIdx_, r.type);
  c.channel = r.channelKey ? static_cast<uint16_t>(r.channelKey - 1)
                           : intern(channels_, channelIdx_, r.channel);
  c.priority = static_cast<int8_t>(std::clamp(r.priority, -100, 100));
  c.observed = static_cast<uint8_t>(r.outcome);
  if (r.ivrExitMs >= 0) c.ivrMs = clampMs(r.ivrExitMs - r.arrivalMs);
  c.customerKey = r.customerKey ? r.customerKey : customerKey(r.customer);
  if (r.outcome == calls::Outcome::kAnswered) {
    int64_t start = r.serviceStartMs >= 0 ? r.serviceStartMs : r.arrivalMs;
    // Joined the queue when the log says so, else when it left the IVR; the log's clock
    // may show the service starting a second before the IVR exit: never after the start.
    int64_t entry = r.queueStartMs >= 0 ? r.queueStartMs
                                        : (r.ivrExitMs >= 0 ? r.ivrExitMs : r.arrivalMs);
    entry = std::max(r.arrivalMs, std::min(entry, start));
    c.entryMs = entry;
    c.waitedMs = clampMs(start - entry);
    c.handleMs = r.serviceEndMs >= start ? clampMs(r.serviceEndMs - start) : 0;
    if (r.agentKey) {
      c.agent = static_cast<uint16_t>(r.agentKey - 1);
    } else if (!r.agent.empty()) {
      c.agent = intern(agents_, agentIdx_, r.agent);
    }
    if (c.agent != kNoAgent) {
      int64_t from = c.entryMs + c.waitedMs;  // as the model sees it (clamped)
      addService(c.agent, from, from + c.handleMs);
    }
  } else if (r.outcome == calls::Outcome::kAbandonedInQueue) {
    int64_t entry = r.queueStartMs >= 0 ? r.queueStartMs
                                        : (r.ivrExitMs >= 0 ? r.ivrExitMs : r.arrivalMs);
    c.entryMs = std::max(r.arrivalMs, entry);
    c.patienceMs = r.queueExitMs >= 0 ? clampMs(r.queueExitMs - c.entryMs) : 0;
  }
  if (c.entryMs >= 0) {
    ++offered_;
    if (waits_.size() <= c.type) waits_.resize(c.type + 1u);
    waits_[c.type].push_back(c.handleMs >= 0
                                 ? static_cast<uint32_t>(c.waitedMs) << 1
                                 : static_cast<uint32_t>(c.patienceMs) << 1 | 1u);
  }
  if (c.arrivalMs < lastArrival_ || (c.arrivalMs == lastArrival_ && c.line <= lastLine_)) {
    arrivalOrder_ = false;
  }
  lastArrival_ = c.arrivalMs;
  lastLine_ = c.line;
  calls_.push_back(c);
  if (!arrivalOrder_ || !ordering_) return;
  // Calls in arrival order reach the queue in almost the same order: a call moves back
  // only past those that entered while it was in the IVR. Insertion keeps the entry order
  // as they come; the ties keep arrival order, as finish() would. Past a budget of moves
  // (long IVR stays) finish() sorts instead.
  const int64_t key = entryKey(c);
  size_t j = order_.size();
  order_.push_back(static_cast<uint32_t>(calls_.size() - 1));
  while (j > 0 && entryKey(calls_[order_[j - 1]]) > key) {
    std::swap(order_[j - 1], order_[j]);
    --j;
    if (++orderMoves_ > kMaxMovesPerCall * calls_.size() + 4096) {
      ordering_ = false;
      order_ = {};
      return;
    }
  }
}

namespace {

// The positions of calls in queue-entry order when they are in (arrival, line) order
// already: a stable LSD radix sort of the entries, each packed with its position as
// (entry << bits | position), gives the order of the full comparison (entry, arrival,
// line) in a few linear passes. Empty when entry span and count need more than 64 bits
// (centuries of calls), for the caller to sort otherwise.
std::vector<uint32_t> orderArrivalOrdered(const std::vector<ModelCall>& calls) {
  const size_t n = calls.size();
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (const auto& c : calls) {
    lo = std::min(lo, entryKey(c));
    hi = std::max(hi, entryKey(c));
  }
  std::vector<uint32_t> order(n);
  if (n < 2) {
    if (n == 1) order[0] = 0;
    return order;
  }
  const int idxBits = std::bit_width(n - 1);
  const int keyBits = std::bit_width(static_cast<uint64_t>(hi - lo));
  if (idxBits + keyBits > 64) return {};
  const uint64_t idxMask = (uint64_t{1} << idxBits) - 1;
  std::vector<uint64_t> a(n), b(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = static_cast<uint64_t>(entryKey(calls[i]) - lo) << idxBits | i;
  }
  // The positions are in order already: only the entry's bits need passes.
  constexpr int kBits = 12;  // a year of milliseconds in 3 passes
  std::vector<uint32_t> count(size_t{1} << kBits);
  for (int shift = idxBits; shift < idxBits + keyBits; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    for (uint64_t v : a) ++count[(v >> shift) & ((1u << kBits) - 1)];
    uint32_t sum = 0;
    for (auto& k : count) sum += std::exchange(k, sum);
    for (uint64_t v : a) b[count[(v >> shift) & ((1u << kBits) - 1)]++] = v;
    a.swap(b);
  }
  for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(a[i] & idxMask);
  return order;
}

}  // namespace

void CallTable::orderByEntry() {
  if (arrivalOrder_ && ordering_ && order_.size() == calls_.size()) return;  // see add()
  if (arrivalOrder_) order_ = orderArrivalOrdered(calls_);
  if (order_.size() == calls_.size()) return;
  order_.resize(calls_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<uint32_t>(i);
  std::sort(order_.begin(), order_.end(), [this](uint32_t x, uint32_t y) {
    const ModelCall &a = calls_[x], &b = calls_[y];
    int64_t ea = entryKey(a), eb = entryKey(b);
    if (ea != eb) return ea < eb;
    if (a.arrivalMs != b.arrivalMs) return a.arrivalMs < b.arrivalMs;
    return a.line < b.line;
  });
}

void CallTable::derivePatience() {
  // The waits sorted by radix, for millions of calls; the order they came in is of no
  // account. The overall curve takes the types' sorted waits merged.
  const size_t nt = types_.size();
  waits_.resize(nt);
  patienceByType_.assign(nt, {});
  std::vector<uint32_t> allWaits, merged;
  for (size_t t = 0; t < nt; ++t) {
    radixSort(waits_[t]);
    patienceByType_[t].buildPacked(waits_[t]);
    merged.resize(allWaits.size() + waits_[t].size());
    std::merge(allWaits.begin(), allWaits.end(), waits_[t].begin(), waits_[t].end(),
               merged.begin());
    allWaits.swap(merged);
  }
  patienceAll_.buildPacked(allWaits);
}

void CallTable::finish() {
  // The patience curves need no order; the handle samples are kept in queue-entry order,
  // which the sampling's draws index, so that a log's rows may come in any order.
  std::thread patience([this] { derivePatience(); });
  orderByEntry();
  size_t nt = types_.size();
  handleByTypeHour_.assign(nt * 24, {});
  handleByType_.assign(nt, {});
  handleAll_.clear();
  agentTypes_.assign(agents_.size(), std::vector<bool>(nt, false));
  for (uint32_t i : order_) {
    const ModelCall& c = calls_[i];
    if (c.entryMs < 0 || c.handleMs < 0) continue;
    handleByTypeHour_[c.type * 24 + hourOf(c.arrivalMs)].push_back(c.handleMs);
    handleByType_[c.type].push_back(c.handleMs);
    handleAll_.push_back(c.handleMs);
    if (c.agent != kNoAgent) agentTypes_[c.agent][c.type] = true;
  }
  patience.join();
}

const std::vector<int32_t>& CallTable::handleSamples(uint16_t type, int hour) const {
  const auto& th = handleByTypeHour_[type * 24 + hour];
  if (!th.empty()) return th;
  if (!handleByType_[type].empty()) return handleByType_[type];
  return handleAll_;
}

const PatienceCurve& CallTable::patience(uint16_t type) const {
  const auto& p = patienceByType_[type];
  return p.events() >= kMinPatienceEvents ? p : patienceAll_;
}

void CallTable::addService(uint16_t agent, int64_t from, int64_t to) {
  if (spans_.size() <= agent) spans_.resize(agent + 1u);
  auto& v = spans_[agent];
  // The usual cases for a log in arrival order: a new block after the last, or the last
  // one going on.
  if (v.empty() || from > v.back().to + gapMs_) {
    v.push_back({from, to});
    return;
  }
  if (from >= v.back().from) {
    v.back().to = std::max(v.back().to, to);
    return;
  }
  // Earlier than the last block: it joins every block within the gap of it, which become
  // one. Blocks are in order of both start and end, more than the gap apart.
  auto first = std::partition_point(v.begin(), v.end(),
                                    [&](const Span& b) { return b.to + gapMs_ < from; });
  auto last = std::partition_point(first, v.end(),
                                   [&](const Span& b) { return b.from <= to + gapMs_; });
  if (first == last) {
    v.insert(first, Span{from, to});
    return;
  }
  Span joined{std::min(from, first->from), std::max(to, (last - 1)->to)};
  *first = joined;
  v.erase(first + 1, last);
}

std::vector<CallTable::Block> CallTable::presenceBlocks() const {
  std::vector<Block> out;
  for (size_t a = 0; a < spans_.size(); ++a) {
    for (const Span& s : spans_[a]) {
      // At least a minute, so that an agent seen for one short call can take it.
      out.push_back({static_cast<uint16_t>(a), s.from, std::max(s.to, s.from + 60'000)});
    }
  }
  return out;
}

// ---- staffing ----------------------------------------------------------------------------

std::vector<Shift> observedStaffing(const CallTable& table) {
  std::vector<Shift> out;
  for (const auto& b : table.presenceBlocks()) {
    out.push_back({table.agents()[b.agent], b.fromMs, b.toMs});
  }
  return out;
}

namespace {
std::string genericName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "sim-%03d", i + 1);
  return buf;
}
}  // namespace

std::vector<Shift> fixedStaffing(const CallTable& table, int agents) {
  std::vector<Shift> out;
  if (table.order().empty()) return out;
  // From the arrival of the call first in queue-entry order (any row of the file may be it).
  const int64_t from = table.calls()[table.order().front()].arrivalMs;
  for (int i = 0; i < agents; ++i) out.push_back({genericName(i), from, INT64_MAX});
  return out;
}

namespace {
// "YYYY-MM-DD HH:MM[:SS]" or with 'T' -> ms since the epoch, read as UTC like the logs.
bool parseStamp(std::string_view s, int64_t& ms) {
  int y, mo, d, h, mi, sec = 0;
  char sep;
  std::string str(s);
  int used = 0, usedSec = 0;
  int n = std::sscanf(str.c_str(), "%4d-%2d-%2d%c%2d:%2d%n:%2d%n", &y, &mo, &d, &sep, &h, &mi,
                      &used, &sec, &usedSec);
  if (n == 7) used = usedSec;
  if (n < 6 || static_cast<size_t>(used) != str.size() || (sep != ' ' && sep != 'T') ||
      mo < 1 || mo > 12 || d < 1 || h < 0 || h > 24 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 59 || (h == 24 && (mi || sec))) {
    return false;
  }
  // A day the month does not have is an error, not the next month's day.
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kMonthDays[mo - 1] + (mo == 2 && leap)) return false;
  // Days from the civil date (proleptic Gregorian).
  y -= mo <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  ms = ((days * 24 + h) * 60 + mi) * 60'000LL + sec * 1000LL;
  return true;
}

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, ',')) {
    while (!cur.empty() && (cur.back() == ' ' || cur.back() == '\r')) cur.pop_back();
    size_t b = cur.find_first_not_of(' ');
    out.push_back(b == std::string::npos ? "" : cur.substr(b));
  }
  return out;
}
}  // namespace

Result<std::vector<Shift>> scheduleStaffing(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::invalidArgument(path + ": is a directory, not a schedule file");
  }
  std::ifstream in(path);
  if (!in) return Status::invalidArgument(path + ": cannot open the schedule");
  std::string line;
  if (!std::getline(in, line)) return Status::invalidArgument(path + ": the schedule is empty");
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM, as spreadsheets write
  auto header = splitCsv(line);
  auto col = [&](const char* name) {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : static_cast<int>(it - header.begin());
  };
  int cs = col("start"), ce = col("end"), cc = col("count"), ca = col("agent");
  if (cs < 0 || ce < 0 || (cc < 0) == (ca < 0)) {
    return Status::invalidArgument(path + ":1: the header must be start,end,count or "
                                   "start,end,agent");
  }
  std::vector<Shift> named;
  std::vector<int> namedLine;
  std::vector<std::pair<int64_t, int>> steps;  // count changes
  int rows = 0;
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    ++rows;
    auto f = splitCsv(line);
    auto bad = [&](const std::string& why) {
      return Status::invalidArgument(path + ":" + std::to_string(n) + ": " + why);
    };
    if (static_cast<int>(f.size()) != static_cast<int>(header.size())) {
      return bad("expected " + std::to_string(header.size()) + " fields, found " +
                 std::to_string(f.size()));
    }
    int64_t from, to;
    if (!parseStamp(f[cs], from)) {
      return bad("start '" + calls::visible(f[cs]) + "' is not YYYY-MM-DD HH:MM");
    }
    if (!parseStamp(f[ce], to)) {
      return bad("end '" + calls::visible(f[ce]) + "' is not YYYY-MM-DD HH:MM");
    }
    if (to <= from) return bad("end is not after start");
    if (ca >= 0) {
      if (f[ca].empty()) return bad("agent is empty");
      named.push_back({f[ca], from, to});
      namedLine.push_back(n);
      continue;
    }
    int count = -1;
    auto [p, ec] = std::from_chars(f[cc].data(), f[cc].data() + f[cc].size(), count);
    if (ec != std::errc() || p != f[cc].data() + f[cc].size() || count < 0 || count > 10000) {
      return bad("count '" + calls::visible(f[cc]) + "' is not a number from 0 to 10000");
    }
    steps.push_back({from, count});
    steps.push_back({to, -count});
  }
  if (rows == 0) {
    return Status::invalidArgument(path + ": the schedule has a header but no rows");
  }
  if (ca >= 0) {
    // One person cannot work two overlapping rows.
    std::vector<size_t> order(named.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::tie(named[a].agent, named[a].fromMs) <
             std::tie(named[b].agent, named[b].fromMs);
    });
    for (size_t k = 1; k < order.size(); ++k) {
      const Shift &p = named[order[k - 1]], &c = named[order[k]];
      if (p.agent == c.agent && c.fromMs < p.toMs) {
        int a = namedLine[order[k - 1]], b = namedLine[order[k]];
        return Status::invalidArgument(
            path + ":" + std::to_string(std::max(a, b)) + ": agent '" + calls::visible(c.agent) +
            "' is already scheduled then (line " + std::to_string(std::min(a, b)) + ")");
      }
    }
    return named;
  }
  // Stack the counts: agent k works wherever more than k agents are scheduled, so each
  // generic agent has as few, as long shifts as the schedule allows.
  std::sort(steps.begin(), steps.end());
  std::vector<Shift> out;
  std::vector<int64_t> openSince;  // per level
  int level = 0;
  for (size_t i = 0; i < steps.size();) {
    int64_t t = steps[i].first;
    int next = level;
    while (i < steps.size() && steps[i].first == t) next += steps[i++].second;
    while (level < next) openSince.push_back(t), ++level;
    while (level > next) {
      --level;
      out.push_back({genericName(level), openSince.back(), t});
      openSince.pop_back();
    }
  }
  return out;
}

// ---- the simulation ----------------------------------------------------------------------

namespace {

class Simulation : public RoutingListener, public KeyedRoutingListener {
 public:
  Simulation(const CallTable& table, const ReplayOptions& options, const ReplaySink& sink)
      : t_(table), o_(options), sink_(sink) {}
  ~Simulation() {
    if (patienceThread_.joinable()) patienceThread_.join();
  }

  Result<ReplayStats> run(const std::vector<QueueSpec>& queues, const RouterMaker& make,
                          const std::vector<Shift>& staffing);

  void onAssigned(const std::string& contactId, const std::string& agentId,
                  const std::string& queue, TimePoint at) override {
    onAssignedKeyed(callIndex(contactId), agentId, queue, at);
  }
  void onAssignedKeyed(uint32_t i, const std::string& agentId, const std::string&,
                       TimePoint at) override;
  void onOverflowed(const std::string&, const std::string&, const std::string&,
                    TimePoint) override {
    ++stats_.overflowed;
  }
  void onMaxWait(const std::string& contactId, const std::string&, MaxWaitAction,
                 TimePoint at) override;
  void onAgentState(const std::string& agentId, AgentState, AgentState to, const std::string&,
                    TimePoint) override {
    if (to != AgentState::kAway) return;
    int a = agentIndex(agentId);
    if (a >= 0 && pendingOut_[a]) deferredOut_.push_back(a);
  }

 private:
  enum Kind : uint8_t { kEnd = 0, kShiftStart = 1, kArrival = 2, kPatience = 3, kShiftEnd = 4 };
  enum CallState : uint8_t { kNotYet, kWaiting, kServing, kDone };
  struct Event {
    int64_t t;
    uint8_t kind;
    uint32_t idx;
    bool operator>(const Event& o) const {
      if (t != o.t) return t > o.t;
      if (kind != o.kind) return kind > o.kind;
      return idx > o.idx;
    }
  };

  int agentIndex(const std::string& id) const {
    auto it = agentIdx_.find(id);
    return it == agentIdx_.end() ? -1 : it->second;
  }
  // The router names an agent by the same string object each time; remember the last one
  // seen per address and confirm by comparing, which is cheaper than hashing the name.
  int agentIndexCached(const std::string& id) {
    auto& slot = byAddress_[reinterpret_cast<uintptr_t>(&id) % byAddress_.size()];
    if (slot.first == &id && slot.second >= 0 && agentNames_[slot.second] == id) {
      return slot.second;
    }
    int a = agentIndex(id);
    slot = {&id, a};
    return a;
  }
  // The call of rank `i` in queue-entry order: the simulation's number of the call, by
  // which the router knows it and the events are ordered.
  const ModelCall& call(uint32_t i) const { return t_.calls()[t_.order()[i]]; }
  static uint32_t callIndex(const std::string& id) {
    uint32_t i = 0;
    std::from_chars(id.data(), id.data() + id.size(), i);
    return i;
  }
  Status release(uint32_t i, int64_t t) {
    return keyed_ ? keyed_->releaseKeyed(i, toTime(t)) : router_->release(idOf(i), toTime(t));
  }
  Status abandon(uint32_t i, int64_t t) {
    return keyed_ ? keyed_->abandonKeyed(i, toTime(t)) : router_->abandon(idOf(i), toTime(t));
  }
  const std::string& idOf(uint32_t i) {
    char buf[16];
    idBuf_.assign(buf, std::to_chars(buf, buf + sizeof buf, i).ptr);
    return idBuf_;
  }
  Status defineAgents(const std::vector<QueueSpec>& queues, const std::vector<Shift>& staffing);
  void shiftStart(const Shift& s, int64_t t);
  void shiftEnd(const Shift& s, int64_t t);
  void drainSignOuts(int64_t t);
  void signOut(int a, int64_t t);
  int32_t handleTime(const ModelCall& c);
  int64_t patienceOf(const ModelCall& c) const;
  void drawPatience();
  int64_t patienceAt(uint32_t i);
  void emit(uint32_t i, calls::Outcome outcome, int64_t queueExit);
  void emitPassThrough(uint32_t i);
  void out(const SimulatedCall& s);
  void flush();
  // 64 KiB a batch: below malloc's mmap threshold, so batches reuse heap memory.
  static constexpr size_t kBatch = 2048;

  const CallTable& t_;
  const ReplayOptions& o_;
  const ReplaySink& sink_;
  std::unique_ptr<Router> router_;
  KeyedContacts* keyed_ = nullptr;
  std::vector<uint16_t> queueOfType_;
  std::vector<std::string> queueNames_;
  std::unordered_map<std::string, int> agentIdx_;
  std::vector<std::pair<const std::string*, int>> byAddress_ =
      std::vector<std::pair<const std::string*, int>>(1024, {nullptr, -1});
  std::vector<std::string> agentNames_;
  std::vector<int> onShifts_;
  std::vector<bool> pendingOut_;
  std::vector<int64_t> signedInAt_;
  std::vector<int> deferredOut_;
  std::vector<uint8_t> state_;
  std::vector<int64_t> start_;
  std::vector<int32_t> handle_;
  std::vector<uint16_t> servedBy_;
  // The patience of each call by rank, drawn ahead of the simulation on a thread of its
  // own (a draw depends on the call and the seed alone); the first patienceReady_ are done.
  std::vector<int64_t> patience_;
  std::atomic<size_t> patienceReady_{0};
  std::thread patienceThread_;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  std::vector<Event> shiftEvents_;  // latest first
  calls::CallRecord rec_;
  std::vector<SimulatedCall> batch_;
  std::string idBuf_;
  ReplayStats stats_;
  int64_t now_ = 0;
};

Status Simulation::defineAgents(const std::vector<QueueSpec>& queues,
                                const std::vector<Shift>& staffing) {
  // Every skill a queue of a mapped type requires, at the highest level any asks for.
  auto skillsFor = [&](const std::vector<bool>* types) {
    std::map<std::string, int> skills;
    for (size_t ty = 0; ty < queueOfType_.size(); ++ty) {
      if (types && !(*types)[ty]) continue;
      for (const auto& req : queues[queueOfType_[ty]].skills) {
        int& lvl = skills[req.skill];
        lvl = std::max(lvl, req.minLevel);
      }
    }
    return skills;
  };
  std::unordered_map<std::string, uint16_t> logAgents;
  for (size_t a = 0; a < t_.agents().size(); ++a) logAgents[t_.agents()[a]] = uint16_t(a);
  for (const auto& s : staffing) {
    if (agentIdx_.count(s.agent)) continue;
    AgentSpec spec;
    spec.id = s.agent;
    auto it = logAgents.find(s.agent);
    spec.skills = skillsFor(it == logAgents.end() ? nullptr : &t_.typesServedBy(it->second));
    // An agent of the log who served only unmapped types still serves the default queue.
    if (spec.skills.empty()) spec.skills = skillsFor(nullptr);
    spec.wrapUp = o_.wrapUp;
    if (auto st = router_->defineAgent(spec); !st.ok()) return st;
    agentIdx_[s.agent] = static_cast<int>(agentNames_.size());
    agentNames_.push_back(s.agent);
  }
  onShifts_.assign(agentNames_.size(), 0);
  pendingOut_.assign(agentNames_.size(), false);
  signedInAt_.assign(agentNames_.size(), -1);
  stats_.agents = static_cast<int>(agentNames_.size());
  return {};
}

void Simulation::shiftStart(const Shift& s, int64_t t) {
  int a = agentIdx_.at(s.agent);
  if (onShifts_[a]++ > 0) return;
  if (pendingOut_[a]) {
    // Still finishing a call from the last shift: stays on and takes calls again.
    pendingOut_[a] = false;
    router_->setReady(s.agent, toTime(t));
    return;
  }
  if (signedInAt_[a] < 0) {
    router_->signIn(s.agent, toTime(t));
    signedInAt_[a] = t;
  }
  router_->setReady(s.agent, toTime(t));
}

void Simulation::signOut(int a, int64_t t) {
  if (router_->signOut(agentNames_[a], toTime(t)).ok()) {
    if (sink_.presence) sink_.presence(agentNames_[a], signedInAt_[a], t);
    signedInAt_[a] = -1;
  }
}

void Simulation::shiftEnd(const Shift& s, int64_t t) {
  int a = agentIdx_.at(s.agent);
  if (--onShifts_[a] > 0) return;
  auto state = router_->agentState(s.agent);
  if (!state.ok() || *state == AgentState::kOffline) return;
  if (*state == AgentState::kBusy || *state == AgentState::kWrapUp) {
    // Finishes the call in hand and its wrap-up, takes no other, then signs out: the router
    // turns the away into a pending one and reports the agent away when it takes effect.
    pendingOut_[a] = true;
    router_->setAway(s.agent, "shift_end", toTime(t));
    return;
  }
  signOut(a, t);
}

void Simulation::drainSignOuts(int64_t t) {
  while (!deferredOut_.empty()) {
    int a = deferredOut_.back();
    deferredOut_.pop_back();
    if (!pendingOut_[a]) continue;
    auto state = router_->agentState(agentNames_[a]);
    if (state.ok() && *state == AgentState::kAway) {
      pendingOut_[a] = false;
      signOut(a, t);
    }
  }
}

int32_t Simulation::handleTime(const ModelCall& c) {
  if (c.handleMs >= 0) return c.handleMs;
  ++stats_.sampledHandles;
  const auto& samples = t_.handleSamples(c.type, hourOf(c.arrivalMs));
  return samples[callBits(o_.seed, c.line, Draw::kHandle) % samples.size()];
}

int64_t Simulation::patienceOf(const ModelCall& c) const {
  if (c.patienceMs >= 0) return c.patienceMs;
  const PatienceCurve& curve = t_.patience(c.type);
  if (curve.empty()) return -1;
  // Answered in reality after waiting w: its patience was longer than w.
  double above = curve.survival(c.waitedMs);
  if (above <= 0) return c.waitedMs;
  return curve.quantile(uniform01(callBits(o_.seed, c.line, Draw::kPatience)) * above);
}

void Simulation::drawPatience() {
  constexpr size_t kPublishEvery = 4096;
  const size_t n = patience_.size();
  for (size_t r = 0; r < n; ++r) {
    const ModelCall& c = call(static_cast<uint32_t>(r));
    patience_[r] = c.entryMs >= 0 ? patienceOf(c) : -1;
    if ((r + 1) % kPublishEvery == 0 || r + 1 == n) {
      patienceReady_.store(r + 1, std::memory_order_release);
    }
  }
}

int64_t Simulation::patienceAt(uint32_t i) {
  // The drawing thread is several times faster than the simulation: a wait is rare.
  while (patienceReady_.load(std::memory_order_acquire) <= i) std::this_thread::yield();
  return patience_[i];
}

void Simulation::onAssignedKeyed(uint32_t i, const std::string& agentId, const std::string&,
                                 TimePoint at) {
  int64_t t = toMs(at);
  state_[i] = kServing;
  start_[i] = t;
  int a = agentIndexCached(agentId);
  servedBy_[i] = a < 0 ? kNoAgent : static_cast<uint16_t>(a);
  handle_[i] = handleTime(call(i));
  events_.push({t + handle_[i], kEnd, i});
}

void Simulation::onMaxWait(const std::string& contactId, const std::string&, MaxWaitAction,
                           TimePoint at) {
  // The queue's maximum wait took the call out (callback, voicemail, disconnect): for the
  // KPIs it left the queue unanswered.
  uint32_t i = callIndex(contactId);
  ++stats_.maxWait;
  emit(i, calls::Outcome::kAbandonedInQueue, toMs(at));
}

void Simulation::emit(uint32_t i, calls::Outcome outcome, int64_t queueExit) {
  state_[i] = kDone;
  SimulatedCall s;
  s.call = t_.order()[i];
  s.outcome = static_cast<uint8_t>(outcome);
  s.queueExitMs = queueExit;
  if (outcome == calls::Outcome::kAnswered) {
    s.serviceStartMs = start_[i];
    s.serviceEndMs = start_[i] + handle_[i];
    s.agent = servedBy_[i];
    ++stats_.served;
  } else {
    ++stats_.abandoned;
  }
  out(s);
}

void Simulation::emitPassThrough(uint32_t i) {
  SimulatedCall s;
  s.call = t_.order()[i];
  s.outcome = call(i).observed;
  s.passThrough = true;
  ++stats_.passedThrough;
  out(s);
}

void Simulation::out(const SimulatedCall& s) {
  if (!sink_.batch) {
    toRecord(t_, agentNames_, s, rec_);
    sink_.record(rec_);
    return;
  }
  batch_.push_back(s);
  if (batch_.size() == kBatch) flush();
}

void Simulation::flush() {
  if (!batch_.empty()) sink_.batch(batch_.data(), batch_.size());
  batch_.clear();
}

Result<ReplayStats> Simulation::run(const std::vector<QueueSpec>& queues, const RouterMaker& make,
                                    const std::vector<Shift>& staffing) {
  std::unordered_map<std::string, uint16_t> queueIdx;
  for (size_t q = 0; q < queues.size(); ++q) {
    queueIdx[queues[q].name] = static_cast<uint16_t>(q);
    queueNames_.push_back(queues[q].name);
  }
  for (const auto& type : t_.types()) {
    auto m = o_.queueForType.find(type);
    const std::string& name = m == o_.queueForType.end() ? o_.defaultQueue : m->second;
    auto q = queueIdx.find(name);
    if (q == queueIdx.end()) {
      return Status::invalidArgument("call type '" + type + "' maps to queue '" + name +
                                     "', which the deployment does not define");
    }
    if (!isExclusive(queues[q->second].media)) {
      return Status::invalidArgument("call type '" + type + "' maps to queue '" + name +
                                     "', which carries " + mediaName(queues[q->second].media) +
                                     ", not calls");
    }
    queueOfType_.push_back(q->second);
  }
  if (t_.offered() > 0 && !t_.hasHandleTimes()) {
    // Every queued call of the log was abandoned: a call the model answers has no service
    // time to take.
    return Status::invalidArgument("the log has no answered call, so there is no handle time "
                                   "for the calls the model answers");
  }
  router_ = make(this);
  // The router's fast path, when it has one: calls by their index, no string ids.
  keyed_ = dynamic_cast<KeyedContacts*>(router_.get());
  if (auto s = defineAgents(queues, staffing); !s.ok()) return s;
  if (sink_.agents) sink_.agents(agentNames_);

  size_t n = t_.calls().size();
  state_.assign(n, kNotYet);
  start_.assign(n, -1);
  handle_.assign(n, 0);
  servedBy_.assign(n, kNoAgent);
  patience_.resize(n);
  patienceThread_ = std::thread([this] { drawPatience(); });
  for (uint32_t s = 0; s < staffing.size(); ++s) {
    shiftEvents_.push_back({staffing[s].fromMs, kShiftStart, s});
    if (staffing[s].toMs != INT64_MAX) shiftEvents_.push_back({staffing[s].toMs, kShiftEnd, s});
  }
  // Shift starts and ends are known in advance: one sorted list, merged with the heap in
  // the same (time, kind, index) order, keeps the heap as small as the calls in progress.
  std::sort(shiftEvents_.begin(), shiftEvents_.end(), std::greater<Event>());

  int64_t firstMs = INT64_MAX, lastMs = INT64_MIN;
  size_t next = 0;
  std::optional<TimePoint> due;
  ContactSpec contact;
  contact.channel = "phone";
  uint16_t contactQueue = UINT16_MAX;  // of `contact.queue`
  while (true) {
    // The earliest of: the next arrival, the next own event, the router's next timer.
    bool haveArrival = next < n;
    int64_t arrivalT = INT64_MAX;
    if (haveArrival) {
      const ModelCall& c = call(static_cast<uint32_t>(next));
      arrivalT = c.entryMs >= 0 ? c.entryMs : c.arrivalMs;
    }
    // The next own event: the heap's top or the next shift event (shiftEvents_ runs from
    // its back, the earliest).
    bool fromShifts = !shiftEvents_.empty() &&
                      (events_.empty() || events_.top() > shiftEvents_.back());
    bool haveEvent = fromShifts || !events_.empty();
    const Event* top = fromShifts ? &shiftEvents_.back() : haveEvent ? &events_.top() : nullptr;
    if (!haveArrival && !haveEvent && !due) break;
    // Ends and shift starts at the same moment come before an arrival, the rest after.
    bool takeArrival =
        haveArrival && (!haveEvent || !(Event{arrivalT, kArrival, 0} > *top));
    int64_t t = takeArrival ? arrivalT : (haveEvent ? top->t : INT64_MAX);
    if (due && toMs(*due) < t) {
      now_ = toMs(*due);
      due = router_->advance(*due);
      drainSignOuts(now_);
      continue;
    }
    now_ = t;
    firstMs = std::min(firstMs, t);
    lastMs = std::max(lastMs, t);
    if (takeArrival) {
      uint32_t i = static_cast<uint32_t>(next++);
      const ModelCall& c = call(i);
      if (c.entryMs < 0) {
        emitPassThrough(i);
      } else {
        ++stats_.offered;
        if (!keyed_) contact.id = idOf(i);
        if (uint16_t q = queueOfType_[c.type]; q != contactQueue) {
          contact.queue = queueNames_[q];
          contactQueue = q;
        }
        contact.priority = c.priority >= o_.highPriorityAt ? 1 : 0;
        contact.arrived = toTime(c.entryMs);
        state_[i] = kWaiting;
        Status st = keyed_ ? keyed_->enqueueKeyed(i, contact) : router_->enqueue(contact);
        if (!st.ok()) {
          // A full queue refuses the call: it leaves at once, unanswered.
          ++stats_.refused;
          emit(i, calls::Outcome::kAbandonedInQueue, c.entryMs);
        } else if (state_[i] == kWaiting) {
          int64_t p = patienceAt(i);
          if (p >= 0) events_.push({c.entryMs + p, kPatience, i});
        }
      }
    } else {
      Event e = *top;
      if (fromShifts) {
        shiftEvents_.pop_back();
      } else {
        events_.pop();
      }
      switch (e.kind) {
        case kEnd:
          release(e.idx, e.t);
          emit(e.idx, calls::Outcome::kAnswered, start_[e.idx]);
          break;
        case kShiftStart: shiftStart(staffing[e.idx], e.t); break;
        case kPatience:
          if (state_[e.idx] == kWaiting && abandon(e.idx, e.t).ok()) {
            emit(e.idx, calls::Outcome::kAbandonedInQueue, e.t);
          }
          break;
        case kShiftEnd: shiftEnd(staffing[e.idx], e.t); break;
        default: break;
      }
    }
    drainSignOuts(t);
    due = router_->advance(toTime(t));
    drainSignOuts(t);
  }
  // Calls still waiting when nothing more can happen: nobody came to answer them.
  for (uint32_t i = 0; i < n; ++i) {
    if (state_[i] != kWaiting) continue;
    abandon(i, now_);
    ++stats_.unservedAtEnd;
    emit(i, calls::Outcome::kAbandonedInQueue, now_);
  }
  flush();
  for (size_t a = 0; a < agentNames_.size(); ++a) {
    if (signedInAt_[a] >= 0 && sink_.presence) sink_.presence(agentNames_[a], signedInAt_[a], now_);
  }
  if (lastMs > firstMs) stats_.simulatedDays = double(lastMs - firstMs) / double(kDayMs);
  return stats_;
}

}  // namespace

void toRecord(const CallTable& table, const std::vector<std::string>& agents,
              const SimulatedCall& s, calls::CallRecord& rec, RecordCache* cache) {
  const ModelCall& c = table.calls()[s.call];
  if (cache) {
    rec.id.clear();
  } else {
    rec.id = std::to_string(c.line || s.passThrough ? c.line : s.call);
  }
  // The anonymous caller (key 0) has an empty name, which the consumer does read.
  if (!cache) {
    rec.customer = table.customer(c);
  } else if (c.customerKey == 0) {
    rec.customer.clear();
  }
  rec.customerKey = c.customerKey;
  if (!cache || cache->type != c.type) rec.type = table.types()[c.type];
  if (!cache || cache->channel != c.channel) rec.channel = table.channels()[c.channel];
  rec.typeKey = c.type + 1u;
  rec.channelKey = c.channel + 1u;
  rec.priority = c.priority;
  rec.arrivalMs = c.arrivalMs;
  rec.ivrExitMs = c.ivrMs >= 0 ? c.arrivalMs + c.ivrMs : -1;
  rec.queueStartMs = s.passThrough ? -1 : c.entryMs;
  rec.queueExitMs = s.queueExitMs;
  rec.serviceStartMs = s.serviceStartMs;
  rec.serviceEndMs = s.serviceEndMs;
  rec.outcome = static_cast<calls::Outcome>(s.outcome);
  // The simulation's agent index is the stream's key of the agent's name.
  if (s.agent == kNoAgent) {
    rec.agent.clear();
    rec.agentKey = 0;
  } else {
    if (!cache || cache->agent != s.agent || rec.agent.empty()) rec.agent = agents[s.agent];
    rec.agentKey = s.agent + 1u;
  }
  rec.line = 0;
  if (cache) {
    cache->type = c.type;
    cache->channel = c.channel;
    if (s.agent != kNoAgent) cache->agent = s.agent;
  }
}

Result<ReplayStats> runReplay(const CallTable& table, const std::vector<QueueSpec>& queues,
                              const RouterMaker& makeRouter, const std::vector<Shift>& staffing,
                              const ReplayOptions& options, const ReplaySink& sink) {
  Simulation sim(table, options, sink);
  return sim.run(queues, makeRouter, staffing);
}

}  // namespace kefu::replay
