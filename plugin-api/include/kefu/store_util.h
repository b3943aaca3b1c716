// SPDX-License-Identifier: Apache-2.0
//
// Small helpers for plugins that read the store through SOCI. Include it only where SOCI is
// included anyway (it pulls in <soci/soci.h>).
//
//   for (const soci::row& r : rows) {
//     int64_t id = kefu::rowInt(r, 0);           // INTEGER on SQLite, BIGINT on PostgreSQL
//     std::string at = kefu::formatUtcMillis(kefu::rowInt(r, 1));
//   }
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include <soci/soci.h>

#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

// Reads column `i` of `r` as an integer whatever type the backend reports: SQLite gives
// small integers as int, PostgreSQL BIGINT as long long. NULL reads as 0.
inline int64_t rowInt(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return 0;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer: return r.get<int>(i);
    case soci::dt_long_long: return r.get<long long>(i);
    case soci::dt_unsigned_long_long: return static_cast<int64_t>(r.get<unsigned long long>(i));
    case soci::dt_double: return static_cast<int64_t>(r.get<double>(i));
    default: return std::stoll(r.get<std::string>(i));
  }
}

// Reads column `i` as text; NULL reads as "".
inline std::string rowText(const soci::row& r, std::size_t i) {
  return r.get_indicator(i) == soci::i_null ? std::string() : r.get<std::string>(i);
}

// Formats milliseconds since the epoch as ISO 8601 UTC, "2026-12-04T08:30:00.123Z".
inline std::string formatUtcMillis(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

KEFU_SDK_NAMESPACE_END
