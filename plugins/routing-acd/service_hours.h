// SPDX-License-Identifier: Apache-2.0
//
// ServiceHours: when a queue takes new contacts. Open around the clock unless a calendar is
// configured: weekly opening ranges per weekday (several a day; a range whose end is not
// after its start runs overnight into the next day), dated exceptions that close a day or
// replace its ranges with special ones, all in one fixed UTC offset (no daylight saving).
//
// A range belongs to the day it starts on: an exception for a date replaces the ranges that
// start that date, while the overnight tail of the previous day's range still runs into it.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kefu/config.h"
#include "kefu/routing.h"

namespace kefu::acd {

// What happens to a contact that arrives while its queue is closed.
enum class ClosedAction { kCallback, kVoicemail, kMessage, kOverflow, kDisconnect };
const char* closedActionName(ClosedAction a);

class ServiceHours {
 public:
  struct Range {
    int start = 0;  // minutes after local midnight, 0..1439
    int end = 0;    // minutes after the same midnight, start < end <= start + 1440
  };

  // 7x24 unless set up otherwise.
  bool alwaysOpen() const { return always_; }
  bool isOpen(TimePoint t) const;
  // The first time after `t` at which the queue opens or closes; nullopt when it never
  // changes within a year (7x24, or a calendar with no range at all).
  std::optional<TimePoint> nextChange(TimePoint t) const;

  // Set-up, used by the parser and by tests. `weekday` 0 is Monday.
  void setUtcOffset(int minutes) { offset_ = minutes, always_ = false; }
  void addWeekly(int weekday, Range r) { weekly_[weekday].push_back(r), always_ = false; }
  // `day` counts days since 1970-01-01 in local time; no ranges closes the whole day.
  void setException(int64_t day, std::vector<Range> ranges) {
    exceptions_[day] = std::move(ranges), always_ = false;
  }
  void markCalendar() { always_ = false; }

  // Parses "HH:MM-HH:MM" ("24:00" may end a range). False when malformed.
  static bool parseRange(const std::string& text, Range& out);
  // Parses "YYYY-MM-DD" into days since 1970-01-01. False when malformed or not a date.
  static bool parseDate(const std::string& text, int64_t& day);
  // Parses "+08:00", "-05:30", "UTC", "UTC+8", "Z". False when malformed.
  static bool parseOffset(const std::string& text, int& minutes);

 private:
  const std::vector<Range>& rangesOf(int64_t day) const;
  bool openAtMinute(int64_t localMinute) const;

  bool always_ = true;
  int offset_ = 0;  // minutes east of UTC
  std::array<std::vector<Range>, 7> weekly_;
  std::map<int64_t, std::vector<Range>> exceptions_;
};

// A queue's calendar and closed action, as configured.
struct QueueHours {
  ServiceHours hours;
  ClosedAction closedAction = ClosedAction::kMessage;
  std::string overflowQueue;  // for ClosedAction::kOverflow
};

// Parses a queue table's `hours`, `closed_action` and `closed_overflow_queue` keys; errors
// name file:line:col and the key.
Status parseQueueHours(const ConfigValue& queueTable, QueueHours& out);

}  // namespace kefu::acd
