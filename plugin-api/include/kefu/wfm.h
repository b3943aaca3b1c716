// SPDX-License-Identifier: Apache-2.0
//
// Workforce management: how many agents an interval's contacts need.
//
// A StaffingCalculator turns a contact rate and handle time into the least number of agents
// that meets a service target (service level, average speed of answer, maximum occupancy).
// The `wfm` plugin provides one with Erlang C, or Erlang A when the callers' patience is
// known; an insurer can provide another (a simulation, a vendor engine) under the same name.
#pragma once

#include <cstdint>
#include <optional>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

struct StaffingQuery {
  double contactsPerHour = 0;
  double ahtSeconds = 0;
  // Mean seconds a caller waits before hanging up; 0: callers never abandon (Erlang C).
  double patienceSeconds = 0;
  // Contacts one agent handles at once (chat); 1 for voice.
  int concurrency = 1;
  double slSeconds = 20;
  std::optional<double> serviceLevel;  // fraction answered within slSeconds, e.g. 0.8
  std::optional<double> asaSeconds;    // mean wait of answered contacts at most this
  std::optional<double> maxOccupancy;  // fraction, none unless given
  // Share of paid time agents are not available (breaks, training, absence), [0, 1).
  double shrinkage = 0;
};

struct StaffingAnswer {
  // Agents to schedule: `onDuty` grossed up for shrinkage.
  int64_t agents = 0;
  // Agents taking contacts that the target needs.
  int64_t onDuty = 0;
  double serviceLevel = 0;
  double asaSeconds = 0;
  double occupancy = 0;
  double probabilityOfWait = 0;
  double abandonRate = 0;  // 0 without patience
  double offeredErlangs = 0;
};

class StaffingCalculator {
 public:
  static constexpr const char* kInterfaceName = "kefu.StaffingCalculator/1";
  virtual ~StaffingCalculator() = default;
  // InvalidArgument for a query out of range; FailedPrecondition when no staffing reaches
  // the target (an ASA below what even idle agents give).
  virtual Result<StaffingAnswer> staff(const StaffingQuery& query) const = 0;
};

KEFU_SDK_NAMESPACE_END
