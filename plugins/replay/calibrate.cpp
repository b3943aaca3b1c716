// SPDX-License-Identifier: Apache-2.0
#include "calibrate.h"

#include <cmath>

namespace kefu::replay {

double observedAnsweredShare(const CallTable& table) {
  uint64_t queued = 0, answered = 0;
  for (const auto& c : table.calls()) {
    if (c.entryMs < 0) continue;
    ++queued;
    answered += c.handleMs >= 0;
  }
  return queued == 0 ? -1 : double(answered) / double(queued);
}

Result<Calibration> calibrateWrapUp(const CallTable& table, const std::vector<QueueSpec>& queues,
                                    const RouterMaker& makeRouter,
                                    const std::vector<Shift>& staffing,
                                    const ReplayOptions& options) {
  Calibration cal;
  cal.targetShare = observedAnsweredShare(table);
  if (cal.targetShare < 0) {
    return Status(StatusCode::kInvalidArgument,
                  "the log has no call that reached the agent queue: nothing to calibrate on");
  }
  // Only the outcome of queued calls matters here: a sink without presence and with a
  // counter for records.
  auto share = [&](int wrapUp) -> Result<double> {
    uint64_t queued = 0, answered = 0;
    ReplaySink sink;
    sink.record = [&](const calls::CallRecord& r) {
      if (r.queueStartMs < 0) return;
      ++queued;
      answered += r.outcome == calls::Outcome::kAnswered;
    };
    sink.presence = [](const std::string&, int64_t, int64_t) {};
    ReplayOptions o = options;
    o.wrapUp = std::chrono::seconds(wrapUp);
    auto stats = runReplay(table, queues, makeRouter, staffing, o, sink);
    ++cal.runs;
    if (!stats.ok()) return stats.status();
    return queued == 0 ? 0.0 : double(answered) / double(queued);
  };

  auto low = share(0);
  if (!low.ok()) return low.status();
  if (*low <= cal.targetShare) {
    cal.belowWithoutWrapUp = true;
    cal.simulatedShare = *low;
    return cal;
  }
  auto high = share(Calibration::kMaxWrapUpSeconds);
  if (!high.ok()) return high.status();
  if (*high > cal.targetShare) {
    cal.aboveAtLimit = true;
    cal.wrapUpSeconds = Calibration::kMaxWrapUpSeconds;
    cal.simulatedShare = *high;
    return cal;
  }
  // share(lo) > target >= share(hi); narrow to adjacent seconds, then take the closer.
  int lo = 0, hi = Calibration::kMaxWrapUpSeconds;
  double sLo = *low, sHi = *high;
  while (hi - lo > 1) {
    int mid = lo + (hi - lo) / 2;
    auto s = share(mid);
    if (!s.ok()) return s.status();
    if (*s > cal.targetShare) {
      lo = mid, sLo = *s;
    } else {
      hi = mid, sHi = *s;
    }
  }
  bool takeLow = std::abs(sLo - cal.targetShare) <= std::abs(sHi - cal.targetShare);
  cal.wrapUpSeconds = takeLow ? lo : hi;
  cal.simulatedShare = takeLow ? sLo : sHi;
  return cal;
}

}  // namespace kefu::replay
