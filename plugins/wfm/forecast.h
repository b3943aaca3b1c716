// SPDX-License-Identifier: Apache-2.0
//
// Contact-volume and handle-time forecasting of the wfm plugin: the history readers, the
// event calendar, the model and the CSV forms of a forecast, shared by the plugin's
// commands and the tests. sdk-docs/wfm.md explains the model.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/status.h"

namespace kefu::wfm {

// Civil dates as days since 1970-01-01 (proleptic Gregorian).
int64_t daysFromCivil(int y, int m, int d);
void civilFromDays(int64_t days, int& y, int& m, int& d);
// 0 = Sunday ... 6 = Saturday.
int weekdayOf(int64_t days);
// "YYYY-MM-DD"; false unless it is a real date.
bool parseIsoDate(std::string_view text, int64_t& days);
std::string formatDate(int64_t days);

// One channel (or queue) of a history, on the chosen interval grid from midnight.
struct Series {
  std::string channel;
  int64_t firstDay = 0;
  int64_t days = 0;
  std::vector<double> volume;   // days * intervals per day, day-major
  std::vector<double> handle;   // summed handle seconds of the contacts that have one
  std::vector<double> handled;  // how many contacts `handle` sums over
  std::vector<char> present;    // per day: the source has this day
};

struct History {
  int intervalMinutes = 30;
  // Interval length of the source (0: a per-contact log, any grid works).
  int sourceMinutes = 0;
  bool hasHandleTimes = false;
  std::string format;  // "intervals" or "call-log"
  std::vector<Series> series;
};

// Reads an interval CSV (header with date, interval_start and calls or volume; optional
// channel or queue, aht_seconds, interval_end) or a per-contact log in the tab-separated
// anonymous-bank format (vru_entry, date as yymmdd, outcome, ser_time, type), told apart by
// the header. Finer source intervals are summed into `intervalMinutes`; coarser ones, or
// ones that straddle the grid, are refused. Errors name the file and line.
Result<History> readHistory(const std::string& path, std::istream& in, int intervalMinutes);

// A calendar entry: a day range with a kind ("holiday", "campaign", "workday", ...).
struct Event {
  std::string name;
  std::string kind;
  int64_t first = 0;
  int64_t last = 0;  // inclusive
  // Expected multiplier on the day's volume, used as a prior for the learned effect.
  std::optional<double> effect;
  // The weekday whose regular profile the day follows (0 = Sunday), e.g. a make-up working
  // Saturday; -1: its own weekday. Kind "workday" defaults to Monday.
  int like = -1;
};

// Parses a calendar TOML: [[event]] tables with name, kind, start, optional end, effect
// and like. Errors name the file, line and key.
Result<std::vector<Event>> parseEvents(const std::string& path, std::string_view text);
Result<std::vector<Event>> loadEvents(const std::string& path);

struct ForecastOptions {
  int64_t start = 0;  // first day forecast; history from this day on is ignored
  int days = 7;
  double level = 0.8;  // two-sided coverage of the prediction interval
  // Model settings (sdk-docs/wfm.md); the defaults were chosen on the bench backtest.
  double halfLifeWeeks = 3;
  int weeks = 12;
  double shapeShrink = 0.6;
  double dayOfMonthPrior = 2;
  double trendWeight = 0.5;
  int trendWeeks = 10;
};

struct ForecastRow {
  int64_t day = 0;
  int slot = 0;  // interval of the day from midnight
  std::string channel;
  double volume = 0, volumeLow = 0, volumeHigh = 0;
  double aht = 0, ahtLow = 0, ahtHigh = 0;  // NaN without handle times
};

// Forecasts every series of `history` for options.days days from options.start. `notes`
// receives what the model learned (event effects, dispersion) for the user.
Result<std::vector<ForecastRow>> forecast(const History& history,
                                          const std::vector<Event>& events,
                                          const ForecastOptions& options,
                                          std::vector<std::string>* notes);

// interval_start,channel,volume,aht_seconds,volume_low,volume_high,aht_low,aht_high
void writeForecastCsv(std::ostream& out, const std::vector<ForecastRow>& rows,
                      int intervalMinutes);

// Compares a forecast CSV with actuals per day and channel (WAPE = sum |f - a| / sum a over
// the intervals, bias = (sum f - sum a) / sum a), then a `total` row per channel. Intervals
// of days the actuals lack are left out. Writes CSV: date,channel,forecast,actual,wape,bias.
Status accuracy(const std::string& forecastPath, std::istream& forecastIn,
                const History& actuals, std::ostream& out, std::string* summary);

}  // namespace kefu::wfm
