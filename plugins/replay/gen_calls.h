// SPDX-License-Identifier: Apache-2.0
//
// `kefu gen-calls`: a seeded generator of realistic call logs in the anonymous-bank format
// (tab-separated, CRLF; see sdk-docs/call-logs.md), so that the same reader reads real and
// generated logs.
//
// Each day has a weekday volume (Mondays busiest, weekends quiet) and an intraday profile
// (morning and afternoon peaks, near-empty nights while only the IVR answers). Call types
// and priorities follow the shares of a retail financial center; handle times are
// log-normal per type, patience Weibull. Agents work 07:00-24:00 in shifts sized by
// square-root staffing on the expected load; the outcomes (wait, answer, abandonment) come
// from an exact first-come-first-served multi-agent queue with abandonment, so waits and
// abandonment are those of a real, slightly understaffed center.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "kefu/status.h"

namespace kefu::replay {

struct GenOptions {
  std::string out;
  int days = 1;
  int64_t startDay = 0;       // days since 1970-01-01
  uint64_t seed = 1;
  double callsPerDay = 1200;  // average over the week, before `scale`
  double scale = 1.0;
};

// Upper bounds, so that a mistyped volume fails up front instead of filling memory or disk.
// Memory holds one day of calls (about 70 bytes each) at a time; rows are written per day.
constexpr int kMaxDays = 3660;
constexpr double kMaxCallsPerDay = 2'000'000;  // callsPerDay * scale, averaged over the week
constexpr double kMaxCalls = 100'000'000;       // expected calls of the whole run
// The days a yymmdd date can name (1970-01-01 to 2069-12-31), in days since 1970-01-01.
constexpr int64_t kFirstDay = 0, kLastDay = 36524;

struct GenStats {
  uint64_t calls = 0, answered = 0, abandoned = 0, endedInIvr = 0, phantom = 0, agents = 0;
};

// Parses "YYYY-MM-DD" into days since the epoch; a day the month does not have is an error.
Result<int64_t> parseDate(const std::string& s);

Result<GenStats> generateCalls(const GenOptions& options);

}  // namespace kefu::replay
