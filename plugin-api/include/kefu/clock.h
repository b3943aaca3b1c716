// SPDX-License-Identifier: Apache-2.0
//
// Clock: the only source of time and timers a plugin should use.
//
// In `kefu serve` the clock is the wall clock and timers fire on a host scheduler thread.
// In replays and simulations the host substitutes a virtual clock: time jumps from one due
// timer to the next, so a month of contacts runs in seconds. A plugin that reads time and
// sets timers only through this interface behaves identically under both.
//
// Threading: now() is safe from any thread. Timer callbacks run one at a time on the
// clock's scheduler (never concurrently with each other); keep them short.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

using TimerId = uint64_t;

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Duration = std::chrono::system_clock::duration;

  virtual ~Clock() = default;

  virtual TimePoint now() const = 0;

  // True for simulated time (replay); false for the wall clock.
  virtual bool isVirtual() const = 0;

  // Runs `fn` once at `when` (immediately if `when` is past). Returns an id for cancel().
  virtual TimerId callAt(TimePoint when, std::function<void()> fn) = 0;

  TimerId callAfter(Duration delay, std::function<void()> fn) {
    return callAt(now() + delay, std::move(fn));
  }

  // Cancels a pending timer. Returns false if it already ran or was unknown. If its
  // callback is running on the scheduler, waits for it to finish (unless called from that
  // callback), so do not hold a lock the callback takes while cancelling.
  virtual bool cancel(TimerId id) = 0;
};

KEFU_SDK_NAMESPACE_END
