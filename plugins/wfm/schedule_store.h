// SPDX-License-Identifier: Apache-2.0
//
// Published schedules in the deployment's store (tables wfm_schedules and wfm_shifts) and
// the agents' recorded states read back for the review. SOCI stays behind this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kefu/status.h"
#include "kefu/store.h"
#include "schedule.h"

namespace kefu::wfm {

std::vector<Migration> scheduleMigrations();

struct ScheduleVersion {
  int64_t version = 0;
  int64_t publishedAtMs = 0;
  std::string publishedBy, firstDay, lastDay, note;
  int64_t shifts = 0;
};

// Stores `shifts` as the next version. InvalidArgument for an empty schedule or an agent
// with overlapping shifts.
Result<ScheduleVersion> publishSchedule(Store& store, const std::vector<ScheduledShift>& shifts,
                                        const std::string& by, const std::string& note,
                                        int64_t nowMs);
// Newest first.
Result<std::vector<ScheduleVersion>> listSchedules(Store& store);
// The shifts of `version` (0: the newest) of one agent ("" for all) that overlap local
// minutes [fromMin, toMin); NotFound when nothing is published.
Result<std::vector<ScheduledShift>> loadShifts(Store& store, int64_t version,
                                               const std::string& agent, int64_t fromMin,
                                               int64_t toMin, ScheduleVersion* info);
// State changes of `agents` in [fromMs, toMs) plus each one's last change before fromMs.
// FailedPrecondition when routing-acd's table is missing from the store.
Result<std::vector<StateChange>> loadStates(Store& store, const std::vector<std::string>& agents,
                                            int64_t fromMs, int64_t toMs);

std::string versionJson(const ScheduleVersion& v);
// {"agent","template","start","end","breaks":[{"start","end"}]} with local times.
std::string shiftJson(const ScheduledShift& s);

}  // namespace kefu::wfm
