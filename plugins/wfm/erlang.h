// SPDX-License-Identifier: Apache-2.0
//
// Queueing formulas for staffing: Erlang C (M/M/n, callers wait as long as it takes) and
// Erlang A (M/M/n+M, callers abandon after an exponentially distributed patience).
//
// Everything is computed in a form that stays finite for centers of thousands of agents:
// Erlang B by its recursion, Erlang A's queue weights in log space, and Erlang A's waiting
// time through the Beta-distribution identity for sums of exponentials with rates in an
// arithmetic progression (see sdk-docs/wfm.md).
#pragma once

#include <cstdint>
#include <optional>

namespace kefu::wfm {

// What an interval's traffic is: arrivals per second, mean handle time, and for Erlang A
// the mean patience (seconds a caller waits before hanging up; 0 = infinitely patient).
struct Traffic {
  double ratePerSecond = 0;
  double ahtSeconds = 0;
  double patienceSeconds = 0;
};

struct QueueMetrics {
  int64_t agents = 0;
  double offeredErlangs = 0;
  double probabilityOfWait = 0;  // an arrival finds every agent busy
  // Answered within the threshold over all arrivals (abandoned callers count as missed).
  double serviceLevel = 0;
  // Mean wait of the answered calls (for Erlang C: of all calls, as every call is answered).
  double asaSeconds = 0;
  double abandonRate = 0;  // Erlang A only; 0 for Erlang C
  double occupancy = 0;    // carried load over agents
  bool stable = true;      // Erlang C with load >= agents never settles: the queue grows
};

// Erlang B: the blocking probability of n servers offered `erlangs`.
double erlangB(int64_t servers, double erlangs);
// Erlang C: the probability that an arrival waits; 1 when erlangs >= servers.
double erlangC(int64_t servers, double erlangs);

// The metrics of `agents` agents for `traffic`, with the service-level threshold `slSeconds`.
// Erlang A when traffic.patienceSeconds > 0, else Erlang C.
QueueMetrics evaluate(const Traffic& traffic, int64_t agents, double slSeconds);

struct StaffingTarget {
  double slSeconds = 20;
  std::optional<double> serviceLevel;  // e.g. 0.8 answered within slSeconds
  std::optional<double> asaSeconds;    // mean wait of answered calls at most this
  std::optional<double> maxOccupancy;  // e.g. 0.85; none unless given
};

// The least number of agents whose metrics meet every given target (0 for no traffic), or
// nullopt if none up to `limit` does (an ASA target below what any staffing reaches).
constexpr int64_t kMaxServers = 10'000'000;
std::optional<QueueMetrics> staff(const Traffic& traffic, const StaffingTarget& target,
                                  int64_t limit = kMaxServers);

}  // namespace kefu::wfm
