// SPDX-License-Identifier: Apache-2.0
//
// The replay model: a discrete-event simulation of a call log on a private Router of the
// routing plugin (kefu::RouterFactory), on a virtual timeline.
//
// CallTable keeps a compact 48-byte summary of every call of the log plus what the model
// learns from the log: handle times per call type and hour, the customers' patience
// (Kaplan-Meier over queue waits: abandoned calls are events, answered ones censored) and
// which agent served which types when. The log need not be in arrival order, so the whole
// log is held (compactly) in memory, in file order, and ordered once by queue entry.
//
// runReplay() then offers each call to the Router at the time it joined the agent queue,
// signs virtual agents in and out by a staffing plan, ends services after their handle
// time and abandons a waiting call when its patience runs out. Every call of the log comes
// out again as one simulated CallRecord; calls that never reached the queue (ended in the
// IVR, phantom records) come out as they were.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "call_log.h"
#include "kefu/routing.h"
#include "kefu/routing_keyed.h"

namespace kefu::replay {

// Customer patience as a Kaplan-Meier survival curve over queue waits.
class PatienceCurve {
 public:
  // `waits`: (wait ms, true when the caller abandoned after it; false when answered).
  void build(std::vector<std::pair<int32_t, bool>> waits, bool sorted = false);
  // The same from sorted waits packed as (wait ms << 1 | abandoned).
  void buildPacked(const std::vector<uint32_t>& waits);
  // S(ms): the share of callers still willing to wait after `ms`.
  double survival(int64_t ms) const;
  // Inverse transform: the first wait at which S drops to `u` or below. Past the last
  // abandonment of the log, S goes on as an exponential tail; -1 when the log has no
  // abandonment at all (the caller never abandons).
  int64_t quantile(double u) const;
  size_t events() const { return events_; }
  bool empty() const { return times_.empty(); }

 private:
  std::vector<int32_t> times_;
  std::vector<double> surv_;
  size_t events_ = 0;
  double tailRate_ = 0;  // abandonments per ms of waiting past the last step
};

struct ModelCall {
  int64_t arrivalMs = -1;
  int64_t entryMs = -1;     // joins the agent queue; -1: never offered (IVR, phantom)
  int32_t ivrMs = -1;       // IVR exit - arrival; -1: unknown
  int32_t handleMs = -1;    // the call's own service time when it was served
  int32_t patienceMs = -1;  // the wait after which it abandoned in reality
  int32_t waitedMs = 0;     // answered in reality after this wait (a censored patience)
  uint32_t line = 0;
  uint32_t customerKey = 0;  // CallTable::customer(); 0: anonymous
  uint16_t type = 0;
  uint16_t channel = 0;
  uint16_t agent = 0xffff;  // the agent that served it in reality
  int8_t priority = 0;
  uint8_t observed = 0;  // calls::Outcome
};

class CallTable {
 public:
  // `presenceGap`: an agent's services less than this apart belong to one shift block.
  explicit CallTable(std::chrono::minutes presenceGap = std::chrono::minutes(30))
      : gapMs_(std::chrono::milliseconds(presenceGap).count()) {}

  // Sets r's customer, type and channel keys, and the agent key of an answered call, to
  // this table's keys of the names, so that the KPIs of the stream and add() need not
  // look them up again.
  void setKeys(calls::CallRecord& r);
  // The same for `n` records at once, faster.
  void setKeys(calls::CallRecord* records, size_t n);
  // Takes r's keys when set (by setKeys()), else looks the names up.
  void add(const calls::CallRecord& r);
  // Room for `calls` calls in all, when the caller can estimate them.
  void reserve(size_t calls) {
    calls_.reserve(calls);
    order_.reserve(calls);
  }
  // Orders the calls by queue entry (then arrival, then line) and derives the model's
  // inputs. Uses a second thread for the patience curves while it orders.
  void finish();

  // In the order they were added (file order).
  const std::vector<ModelCall>& calls() const { return calls_; }
  // After finish(): indices into calls() in queue-entry order. A call's rank in this order
  // is its number in the simulation (ties between events of one moment go by rank).
  const std::vector<uint32_t>& order() const { return order_; }
  const std::vector<std::string>& types() const { return types_; }
  const std::vector<std::string>& channels() const { return channels_; }
  const std::vector<std::string>& agents() const { return agents_; }
  const std::string& customer(const ModelCall& c) const { return customers_[c.customerKey]; }
  // Observed service times of `type` at `hour` of arrival; falls back to the type, then to
  // every served call. Empty only if the log has no served call at all.
  const std::vector<int32_t>& handleSamples(uint16_t type, int hour) const;
  // Whether the log has a served call, i.e. a handle time to sample.
  bool hasHandleTimes() const { return !handleAll_.empty(); }
  // Per type when that type has at least kMinPatienceEvents abandonments, else overall.
  const PatienceCurve& patience(uint16_t type) const;
  static constexpr size_t kMinPatienceEvents = 30;
  // The types agent `agent` served in the log.
  const std::vector<bool>& typesServedBy(uint16_t agent) const { return agentTypes_[agent]; }
  // Shift blocks of each agent, from its services: services less than the presence gap
  // apart belong to one block, which runs from the first service start to the last service
  // end (and lasts a minute at least).
  struct Block {
    uint16_t agent;
    int64_t fromMs, toMs;
  };
  std::vector<Block> presenceBlocks() const;
  uint64_t offered() const { return offered_; }

 private:
  uint16_t intern(std::vector<std::string>& names,
                  std::unordered_map<std::string, uint16_t>& index, const std::string& s);

  static uint64_t customerCode(const std::string& s);
  uint32_t customerKey(const std::string& s);
  uint32_t customerKey(const std::string& s, uint64_t code);
  void setNameKeys(calls::CallRecord& r);

  void orderByEntry();
  void derivePatience();

  std::vector<ModelCall> calls_;
  std::vector<uint32_t> order_;
  // Customers by key; key 0 is the anonymous caller (an empty name). Looked up in an
  // open-addressing table of keys with their names' codes (customerKey()): a look-up per
  // call touches the slot (and the name only for references that are not numbers), not a
  // chain of nodes.
  std::vector<std::string> customers_{std::string()};
  struct CustomerSlot {
    uint64_t code = 0;
    uint32_t key = 0;  // 0: free
  };
  std::vector<uint64_t> customerCode_{0};
  std::vector<uint64_t> codes_;  // setKeys()' scratch
  std::vector<CustomerSlot> customerSlots_;
  std::vector<std::string> types_, channels_, agents_;
  std::unordered_map<std::string, uint16_t> typeIdx_, channelIdx_, agentIdx_;
  uint16_t lastType_ = 0xffff, lastChannel_ = 0xffff, lastAgent_ = 0xffff;
  // Whether the calls came in (arrival, line) order, which finish() sorts in linear time.
  bool arrivalOrder_ = true;
  // add() keeps order_ in queue-entry order while the calls come in arrival order and
  // need few moves; otherwise finish() sorts.
  bool ordering_ = true;
  uint64_t orderMoves_ = 0;
  static constexpr uint64_t kMaxMovesPerCall = 32;
  int64_t lastArrival_ = INT64_MIN;
  uint32_t lastLine_ = 0;
  std::vector<std::vector<int32_t>> handleByTypeHour_, handleByType_;
  std::vector<int32_t> handleAll_;
  std::vector<PatienceCurve> patienceByType_;
  PatienceCurve patienceAll_;
  std::vector<std::vector<bool>> agentTypes_;
  // Per agent, the shift blocks so far as (first start, last end), in order and more than
  // the gap apart: a service joins or extends them as it is added (in any order).
  struct Span {
    int64_t from, to;
  };
  void addService(uint16_t agent, int64_t from, int64_t to);
  int64_t gapMs_;
  std::vector<std::vector<Span>> spans_;
  // Per type, the queue waits packed as (wait << 1 | abandoned), in the order added.
  std::vector<std::vector<uint32_t>> waits_;
  uint64_t offered_ = 0;
};

// One virtual agent's time signed in. Agents named in the log keep their name; the others
// are "sim-001", ...
struct Shift {
  std::string agent;
  int64_t fromMs = 0, toMs = 0;  // toMs: INT64_MAX for "until the end"
};

// Staffing plans, of a table after finish().
std::vector<Shift> observedStaffing(const CallTable& table);
std::vector<Shift> fixedStaffing(const CallTable& table, int agents);
// A schedule CSV (see sdk-docs/replay.md): header "start,end,count" or "start,end,agent";
// times "YYYY-MM-DD HH:MM[:SS]" (or with a 'T'). Errors name the file and line.
Result<std::vector<Shift>> scheduleStaffing(const std::string& path);

struct ReplayOptions {
  // Call type -> queue of the deployment; types not listed go to `defaultQueue`.
  std::map<std::string, std::string> queueForType;
  std::string defaultQueue = "general";
  // Records with at least this priority go ahead of the others in their queue.
  int highPriorityAt = 2;
  std::chrono::seconds wrapUp{0};
  uint64_t seed = 1;
};

struct ReplayStats {
  uint64_t offered = 0, served = 0, abandoned = 0, refused = 0, maxWait = 0;
  uint64_t unservedAtEnd = 0, overflowed = 0, sampledHandles = 0, passedThrough = 0;
  int agents = 0;
  double simulatedDays = 0;
};

// A simulated call in compact form: the call of the table it stands for and what the model
// made of it. toRecord() gives the full record.
struct SimulatedCall {
  int64_t queueExitMs = -1, serviceStartMs = -1, serviceEndMs = -1;
  uint32_t call = 0;        // index into CallTable::calls()
  uint16_t agent = 0xffff;  // index into the run's agents (ReplaySink::agents); 0xffff: none
  uint8_t outcome = 0;      // calls::Outcome
  bool passThrough = false;  // never reached the queue: as the log has it
};

// For a consumer that turns every simulated call into the same record object, one after
// the other, and reads customers and agents by their keys (as KpiAccumulator does): with
// it, toRecord() sets no id and no customer name (the record's customer is left as it
// was), and copies the type, channel and agent only when they change.
struct RecordCache {
  uint16_t type = 0xffff, channel = 0xffff, agent = 0xffff;
};

void toRecord(const CallTable& table, const std::vector<std::string>& agents,
              const SimulatedCall& s, calls::CallRecord& out, RecordCache* cache = nullptr);

using RouterMaker = std::function<std::unique_ptr<Router>(RoutingListener*)>;
// Receives each simulated record, then each agent's presence (signed in over [from, to)).
// With `batch` set, the records come as SimulatedCall in batches instead of `record`, in
// the same order, after `agents` has named the run's agents: the model then builds no
// strings, and the consumer may turn them into records (toRecord()) on another thread.
struct ReplaySink {
  std::function<void(const calls::CallRecord&)> record;
  std::function<void(const std::vector<std::string>& agents)> agents;
  std::function<void(const SimulatedCall* calls, size_t n)> batch;
  std::function<void(const std::string& agent, int64_t fromMs, int64_t toMs)> presence;
};

// Runs the model. `makeRouter` returns a Router with `queues` defined and no agents.
Result<ReplayStats> runReplay(const CallTable& table, const std::vector<QueueSpec>& queues,
                              const RouterMaker& makeRouter, const std::vector<Shift>& staffing,
                              const ReplayOptions& options, const ReplaySink& sink);

}  // namespace kefu::replay
