// SPDX-License-Identifier: Apache-2.0
//
// The wfm plugin's StaffingCalculator (Erlang C / Erlang A) and its batch form over a CSV
// of intervals, shared by the plugin, its CLI command and the tests.
#pragma once

#include <iosfwd>
#include <string>

#include "kefu/wfm.h"

namespace kefu::wfm {

class ErlangStaffing : public StaffingCalculator {
 public:
  Result<StaffingAnswer> staff(const StaffingQuery& query) const override;
};

// One JSON object for an answer (ratios as fractions; an unreachable ASA as null).
std::string answerJson(const StaffingQuery& query, const StaffingAnswer& answer,
                       int intervalMinutes);

// Staffs every row of a CSV of intervals. The header names the columns: `volume`
// (contacts in the interval) or `rate_per_hour`, and optionally `aht_seconds` and
// `patience_seconds`; other columns (interval_start, channel, ...) are copied through.
// Missing values come from `defaults`. Writes the input columns followed by agents,
// on_duty, service_level, asa_seconds, occupancy, probability_of_wait, abandon_rate.
// Stops at the first bad row with InvalidArgument naming file, line and column.
Status staffBatch(const StaffingCalculator& calc, const std::string& path, std::istream& in,
                  std::ostream& out, const StaffingQuery& defaults, int intervalMinutes,
                  int64_t* rows);

}  // namespace kefu::wfm
