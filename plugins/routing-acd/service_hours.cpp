// SPDX-License-Identifier: Apache-2.0
#include "service_hours.h"

#include <algorithm>
#include <cctype>

namespace kefu::acd {
namespace {

constexpr int64_t kDay = 1440;  // minutes

int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// 1970-01-01 was a Thursday; 0 is Monday.
int weekdayOf(int64_t day) { return static_cast<int>(((day + 3) % 7 + 7) % 7); }

bool twoDigits(const std::string& s, size_t at, int& out) {
  if (at + 2 > s.size() || !std::isdigit(static_cast<unsigned char>(s[at])) ||
      !std::isdigit(static_cast<unsigned char>(s[at + 1]))) {
    return false;
  }
  out = (s[at] - '0') * 10 + (s[at + 1] - '0');
  return true;
}

// "HH:MM" at `at`, 00:00..24:00.
bool clock(const std::string& s, size_t at, int& minutes) {
  int h = 0, m = 0;
  if (!twoDigits(s, at, h) || at + 2 >= s.size() || s[at + 2] != ':' ||
      !twoDigits(s, at + 3, m)) {
    return false;
  }
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return false;
  minutes = h * 60 + m;
  return true;
}

}  // namespace

const char* closedActionName(ClosedAction a) {
  switch (a) {
    case ClosedAction::kCallback: return "callback";
    case ClosedAction::kVoicemail: return "voicemail";
    case ClosedAction::kMessage: return "message";
    case ClosedAction::kOverflow: return "overflow";
    case ClosedAction::kDisconnect: return "disconnect";
  }
  return "?";
}

bool ServiceHours::parseRange(const std::string& text, Range& out) {
  if (text.size() != 11 || text[5] != '-') return false;
  int start = 0, end = 0;
  if (!clock(text, 0, start) || !clock(text, 6, end) || start == kDay) return false;
  // An end at or before the start runs past midnight: "22:00-06:00", "08:00-08:00" (24 h).
  if (end <= start) end += kDay;
  out = {start, end};
  return true;
}

bool ServiceHours::parseDate(const std::string& text, int64_t& day) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && !std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  int y = std::stoi(text.substr(0, 4)), m = std::stoi(text.substr(5, 2));
  int d = std::stoi(text.substr(8, 2));
  std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month(unsigned(m)),
                                  std::chrono::day(unsigned(d))};
  if (!ymd.ok()) return false;
  day = std::chrono::sys_days(ymd).time_since_epoch().count();
  return true;
}

bool ServiceHours::parseOffset(const std::string& text, int& minutes) {
  std::string s = text;
  if (s == "Z" || s == "UTC") {
    minutes = 0;
    return true;
  }
  if (s.rfind("UTC", 0) == 0) s = s.substr(3);
  if (s.size() < 2 || (s[0] != '+' && s[0] != '-')) return false;
  int sign = s[0] == '-' ? -1 : 1;
  int h = 0, m = 0;
  if (s.size() == 2 && std::isdigit(static_cast<unsigned char>(s[1]))) {
    h = s[1] - '0';
  } else if (s.size() == 3 && twoDigits(s, 1, h)) {
  } else if (s.size() == 6 && twoDigits(s, 1, h) && s[3] == ':' && twoDigits(s, 4, m)) {
  } else {
    return false;
  }
  if (h > 14 || m > 59 || (h == 14 && m != 0)) return false;
  minutes = sign * (h * 60 + m);
  return true;
}

const std::vector<ServiceHours::Range>& ServiceHours::rangesOf(int64_t day) const {
  auto it = exceptions_.find(day);
  return it != exceptions_.end() ? it->second : weekly_[weekdayOf(day)];
}

bool ServiceHours::openAtMinute(int64_t local) const {
  int64_t day = floorDiv(local, kDay);
  int64_t m = local - day * kDay;
  for (const auto& r : rangesOf(day)) {
    if (r.start <= m && m < r.end) return true;
  }
  for (const auto& r : rangesOf(day - 1)) {
    if (m + kDay < r.end) return true;  // the overnight tail of yesterday's range
  }
  return false;
}

bool ServiceHours::isOpen(TimePoint t) const {
  if (always_) return true;
  auto utcMinutes = std::chrono::floor<std::chrono::minutes>(t.time_since_epoch()).count();
  return openAtMinute(utcMinutes + offset_);
}

std::optional<TimePoint> ServiceHours::nextChange(TimePoint t) const {
  if (always_) return std::nullopt;
  int64_t now = std::chrono::floor<std::chrono::minutes>(t.time_since_epoch()).count() + offset_;
  bool open = openAtMinute(now);
  int64_t today = floorDiv(now, kDay);
  // Range edges are the only places the state can flip; look at them a week at a time.
  for (int64_t from = today; from < today + 400; from += 7) {
    std::vector<int64_t> edges;
    for (int64_t d = from - 1; d < from + 7; ++d) {
      for (const auto& r : rangesOf(d)) {
        edges.push_back(d * kDay + r.start);
        edges.push_back(d * kDay + r.end);
      }
    }
    std::sort(edges.begin(), edges.end());
    for (int64_t e : edges) {
      if (e <= now || e >= (from + 7) * kDay) continue;
      if (openAtMinute(e) != open) {
        return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
            std::chrono::minutes(e - offset_)));
      }
    }
  }
  return std::nullopt;
}

namespace {

Status rangeList(const ConfigValue& v, std::vector<ServiceHours::Range>& out) {
  if (!v.isStringList()) return v.error("must be an array of \"HH:MM-HH:MM\" strings");
  for (const auto& e : v.asArray()) {
    ServiceHours::Range r;
    if (!ServiceHours::parseRange(e.asString(), r)) {
      return e.error("'" + e.asString() + "' is not a range \"HH:MM-HH:MM\" (00:00 to 24:00)");
    }
    // Overlapping ranges of one day are most likely a typing error (08:00-12:00 meant as
    // 08:00-10:00 beside 11:00-12:00); say which one instead of merging them silently.
    for (size_t i = 0; i < out.size(); ++i) {
      if (r.start < out[i].end && out[i].start < r.end) {
        return e.error("'" + e.asString() + "' overlaps '" + v.asArray()[i].asString() + "'");
      }
    }
    out.push_back(r);
  }
  return {};
}

}  // namespace

Status parseQueueHours(const ConfigValue& q, QueueHours& out) {
  std::string action = "message";
  if (const ConfigValue* v = q.find("closed_action")) {
    if (!v->isString()) return v->error("must be a string");
    action = v->asString();
  }
  static const std::map<std::string, ClosedAction> kActions = {
      {"callback", ClosedAction::kCallback}, {"voicemail", ClosedAction::kVoicemail},
      {"message", ClosedAction::kMessage},   {"overflow", ClosedAction::kOverflow},
      {"disconnect", ClosedAction::kDisconnect}};
  if (!kActions.count(action)) {
    return q.error("closed_action",
                   "must be callback, voicemail, message, overflow or disconnect");
  }
  out.closedAction = kActions.at(action);
  if (const ConfigValue* v = q.find("closed_overflow_queue")) {
    if (!v->isString() || v->asString().empty()) return v->error("must be a queue name");
    out.overflowQueue = v->asString();
  }
  if (out.closedAction == ClosedAction::kOverflow && out.overflowQueue.empty()) {
    return q.error("closed_action", "overflow needs closed_overflow_queue");
  }
  if (out.closedAction != ClosedAction::kOverflow && !out.overflowQueue.empty()) {
    return q.error("closed_overflow_queue", "is used only with closed_action = \"overflow\"");
  }

  const ConfigValue* h = q.find("hours");
  if (!h) return {};
  if (!h->isTable()) {
    return h->error("must be a table: { utc_offset = \"+08:00\", mon = [\"08:30-18:00\"] }");
  }
  static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu",
                                                 "fri", "sat", "sun"};
  out.hours.markCalendar();
  for (const auto& [key, v] : h->asTable()) {
    auto day = std::find(kDays.begin(), kDays.end(), key);
    if (day != kDays.end()) {
      std::vector<ServiceHours::Range> ranges;
      if (auto s = rangeList(v, ranges); !s.ok()) return s;
      for (const auto& r : ranges) out.hours.addWeekly(int(day - kDays.begin()), r);
    } else if (key == "utc_offset") {
      int minutes = 0;
      if (!v.isString() || !ServiceHours::parseOffset(v.asString(), minutes)) {
        return v.error("must be a fixed offset such as \"+08:00\", \"-05:30\" or \"UTC\" "
                       "(time zone names and daylight saving are not supported)");
      }
      out.hours.setUtcOffset(minutes);
    } else if (key == "closed_dates") {
      if (!v.isStringList()) return v.error("must be an array of \"YYYY-MM-DD\" dates");
      for (const auto& e : v.asArray()) {
        int64_t d = 0;
        if (!ServiceHours::parseDate(e.asString(), d)) {
          return e.error("'" + e.asString() + "' is not a date \"YYYY-MM-DD\"");
        }
        out.hours.setException(d, {});
      }
    } else if (key == "special") {
      if (!v.isTable()) {
        return v.error("must be a table: { \"2026-09-27\" = [\"09:00-17:00\"] }");
      }
      for (const auto& [date, ranges] : v.asTable()) {
        int64_t d = 0;
        if (!ServiceHours::parseDate(date, d)) {
          return ranges.error("'" + date + "' is not a date \"YYYY-MM-DD\"");
        }
        std::vector<ServiceHours::Range> list;
        if (auto s = rangeList(ranges, list); !s.ok()) return s;
        out.hours.setException(d, std::move(list));
      }
    } else {
      return v.error("unknown key (accepted: mon, tue, wed, thu, fri, sat, sun, utc_offset, "
                     "closed_dates, special)");
    }
  }
  return {};
}

}  // namespace kefu::acd
