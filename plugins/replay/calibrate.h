// SPDX-License-Identifier: Apache-2.0
//
// Calibration of the replay model against the log it replays.
//
// A call log shows when agents talked, not what else they did between calls: after-call
// work, breaks inside a shift block, other tasks. Observed staffing therefore over-states
// the agents' availability and the model answers more calls than the center did. The one
// free parameter the model has for that unseen time is the after-call work (wrap-up) of the
// virtual agents; calibrateWrapUp() finds the wrap-up at which the simulated share of queued
// calls answered matches the observed one, by bisection over whole seconds. Every trial run
// uses the same seed, so trials differ only by the wrap-up (common random numbers) and the
// answered share falls (weakly) as the wrap-up grows.
#pragma once
#include <cstdint>
#include <vector>

#include "replay_model.h"

namespace kefu::replay {

struct Calibration {
  int wrapUpSeconds = 0;
  double targetShare = 0;     // observed: answered / queued
  double simulatedShare = 0;  // with wrapUpSeconds
  int runs = 0;
  // The model answers fewer calls than observed even without wrap-up: nothing to calibrate
  // (wrapUpSeconds is 0).
  bool belowWithoutWrapUp = false;
  // Even kMaxWrapUpSeconds leaves the model above the observed share.
  bool aboveAtLimit = false;
  static constexpr int kMaxWrapUpSeconds = 3600;
};

// The answered share of queued calls of the log as recorded; -1 when no call was queued.
double observedAnsweredShare(const CallTable& table);

// Runs the model up to about 14 times with `options` but for the wrap-up.
Result<Calibration> calibrateWrapUp(const CallTable& table, const std::vector<QueueSpec>& queues,
                                    const RouterMaker& makeRouter,
                                    const std::vector<Shift>& staffing,
                                    const ReplayOptions& options);

}  // namespace kefu::replay
