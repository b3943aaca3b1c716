// SPDX-License-Identifier: Apache-2.0
//
// History readers of the forecast: interval CSVs and per-contact logs onto one grid.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <istream>
#include <map>
#include <numeric>
#include <ostream>
#include <tuple>

#include <fmt/format.h>

#include "forecast.h"

namespace kefu::wfm {

int64_t daysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civilFromDays(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

int weekdayOf(int64_t days) { return static_cast<int>(((days % 7) + 11) % 7); }

namespace {

bool parseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parseNumber(std::string_view s, double& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

bool validDate(int y, int m, int d, int64_t& days) {
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  days = daysFromCivil(y, m, d);
  int y2, m2, d2;
  civilFromDays(days, y2, m2, d2);
  return y2 == y && m2 == m && d2 == d;
}

// "H:MM", "HH:MM" or "HH:MM:SS" to seconds after midnight; 24:00(:00) is allowed (an end).
bool parseClock(std::string_view s, int& seconds) {
  int h = 0, m = 0, sec = 0;
  auto c1 = s.find(':');
  if (c1 == std::string_view::npos) return false;
  auto c2 = s.find(':', c1 + 1);
  std::string_view hs = s.substr(0, c1);
  std::string_view ms = s.substr(c1 + 1, c2 == std::string_view::npos ? s.npos : c2 - c1 - 1);
  if (!parseInt(hs, h) || ms.size() != 2 || !parseInt(ms, m)) return false;
  if (c2 != std::string_view::npos) {
    std::string_view ss = s.substr(c2 + 1);
    if (ss.size() != 2 || !parseInt(ss, sec)) return false;
  }
  if (h < 0 || m < 0 || m > 59 || sec < 0 || sec > 59) return false;
  seconds = h * 3600 + m * 60 + sec;
  return seconds <= 86400;
}

// Splits one CSV line; double-quoted fields may hold the separator and "" for a quote.
std::vector<std::string> splitLine(std::string_view line, char sep) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  for (auto& f : out) {
    while (!f.empty() && (f.back() == ' ' || f.back() == '\r')) f.pop_back();
    size_t b = f.find_first_not_of(' ');
    f.erase(0, b == std::string::npos ? f.size() : b);
  }
  return out;
}

int column(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == n) return static_cast<int>(i);
    }
  }
  return -1;
}

// One contribution to the grid before the series are laid out.
struct Cell {
  int64_t day;
  int second;  // start of the source interval (or the arrival) after midnight
  double volume;
  double handle;
  double handled;
};

// Lays cells out as series on the target grid. Every series spans the days of the whole
// file, and a day the file has for any channel counts as present, with zeros, for all: a
// channel without contacts on a day the file covers had none, rather than no data.
History layOut(std::map<std::string, std::vector<Cell>>& byChannel, int intervalMinutes) {
  History h;
  h.intervalMinutes = intervalMinutes;
  const int perDay = 1440 / intervalMinutes;
  int64_t lo = byChannel.begin()->second.front().day, hi = lo;
  for (const auto& [channel, cells] : byChannel) {
    for (const Cell& c : cells) lo = std::min(lo, c.day), hi = std::max(hi, c.day);
  }
  std::vector<char> present(static_cast<size_t>(hi - lo + 1), 0);
  for (const auto& [channel, cells] : byChannel) {
    for (const Cell& c : cells) present[static_cast<size_t>(c.day - lo)] = 1;
  }
  for (auto& [channel, cells] : byChannel) {
    Series s;
    s.channel = channel;
    s.firstDay = lo;
    s.days = hi - lo + 1;
    size_t n = static_cast<size_t>(s.days) * perDay;
    s.volume.assign(n, 0);
    s.handle.assign(n, 0);
    s.handled.assign(n, 0);
    s.present = present;
    for (const Cell& c : cells) {
      size_t k = static_cast<size_t>(c.day - lo) * perDay +
                 static_cast<size_t>(c.second / (intervalMinutes * 60));
      s.volume[k] += c.volume;
      s.handle[k] += c.handle;
      s.handled[k] += c.handled;
    }
    h.series.push_back(std::move(s));
  }
  return h;
}

Result<History> readIntervals(const std::string& path, std::istream& in,
                              const std::vector<std::string>& header, int intervalMinutes) {
  const int cDate = column(header, {"date"});
  const int cStart = column(header, {"interval_start"});
  const int cEnd = column(header, {"interval_end"});
  const int cVol = column(header, {"calls", "volume", "contacts"});
  const int cChan = column(header, {"channel", "queue"});
  const int cAht = column(header, {"aht_seconds"});
  std::map<std::string, std::vector<Cell>> byChannel;
  std::map<std::tuple<std::string, int64_t, int>, int64_t> seen;
  int gcdSeconds = 86400;
  int sourceSeconds = 0;  // from interval_end when given
  bool anyAht = false;
  std::string line;
  int64_t lineNo = 1;
  auto bad = [&](int col, const std::string& why) {
    return Status::invalidArgument(fmt::format("{}:{}: {}: {}", path, lineNo, header[col], why));
  };
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line == "\r") continue;
    auto f = splitLine(line, ',');
    if (f.size() != header.size()) {
      return Status::invalidArgument(fmt::format("{}:{}: {} fields, the header has {}", path,
                                                 lineNo, f.size(), header.size()));
    }
    Cell c{};
    if (!parseIsoDate(f[cDate], c.day)) return bad(cDate, "'" + f[cDate] + "' is not YYYY-MM-DD");
    if (!parseClock(f[cStart], c.second) || c.second >= 86400) {
      return bad(cStart, "'" + f[cStart] + "' is not a time of day HH:MM[:SS]");
    }
    if (cEnd >= 0) {
      int end = 0;
      if (!parseClock(f[cEnd], end) || end <= c.second) {
        return bad(cEnd, "'" + f[cEnd] + "' is not a time after interval_start");
      }
      if (sourceSeconds == 0) sourceSeconds = end - c.second;
      if (end - c.second != sourceSeconds || c.second % sourceSeconds != 0) {
        return bad(cEnd, fmt::format("intervals must all be {} minutes long and start on that "
                                     "grid from midnight", sourceSeconds / 60.0));
      }
    }
    if (!parseNumber(f[cVol], c.volume) || c.volume < 0) {
      return bad(cVol, "'" + f[cVol] + "' is not a count >= 0");
    }
    if (cAht >= 0 && !f[cAht].empty()) {
      double aht = 0;
      if (!parseNumber(f[cAht], aht) || aht < 0) {
        return bad(cAht, "'" + f[cAht] + "' is not a number of seconds >= 0");
      }
      c.handle = aht * c.volume;
      c.handled = c.volume;
      anyAht = true;
    }
    std::string channel = cChan >= 0 ? f[cChan] : "all";
    if (channel.empty()) return bad(cChan, "empty");
    auto [it, fresh] = seen.try_emplace({channel, c.day, c.second}, lineNo);
    if (!fresh) {
      return bad(cStart, fmt::format("{} {} repeats line {}", f[cDate], f[cStart], it->second));
    }
    gcdSeconds = std::gcd(gcdSeconds, c.second);
    byChannel[channel].push_back(c);
  }
  if (byChannel.empty()) return Status::invalidArgument(path + ": no intervals after the header");
  int source = sourceSeconds ? sourceSeconds : gcdSeconds;
  int target = intervalMinutes * 60;
  if (source > target) {
    return Status::invalidArgument(fmt::format(
        "{}: the history has {}-minute intervals, coarser than --interval-minutes {}; an "
        "interval cannot be split",
        path, source / 60.0, intervalMinutes));
  }
  if (target % source != 0) {
    return Status::invalidArgument(fmt::format(
        "{}: the history has {}-minute intervals; --interval-minutes {} is not a multiple of "
        "that, so intervals would be split",
        path, source / 60.0, intervalMinutes));
  }
  History h = layOut(byChannel, intervalMinutes);
  h.sourceMinutes = source / 60;
  h.hasHandleTimes = anyAht;
  h.format = "intervals";
  return h;
}

Result<History> readCallLog(const std::string& path, std::istream& in,
                            const std::vector<std::string>& header, int intervalMinutes) {
  const int cDate = column(header, {"date"});
  const int cEntry = column(header, {"vru_entry"});
  const int cOutcome = column(header, {"outcome"});
  const int cSer = column(header, {"ser_time"});
  const int cType = column(header, {"type"});
  for (auto [c, name] : {std::pair{cDate, "date"}, {cOutcome, "outcome"}, {cSer, "ser_time"}}) {
    if (c < 0) return Status::invalidArgument(path + ":1: call log without column " + name);
  }
  std::map<std::string, std::vector<Cell>> byChannel;
  bool anyAht = false;
  std::string line;
  int64_t lineNo = 1;
  auto bad = [&](int col, const std::string& why) {
    return Status::invalidArgument(fmt::format("{}:{}: {}: {}", path, lineNo, header[col], why));
  };
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line == "\r") continue;
    auto f = splitLine(line, '\t');
    if (f.size() != header.size()) {
      return Status::invalidArgument(fmt::format("{}:{}: {} fields, the header has {}", path,
                                                 lineNo, f.size(), header.size()));
    }
    // Ghost records of the switch, not contacts.
    if (f[cOutcome] == "PHANTOM") continue;
    const std::string& ds = f[cDate];
    int yy = 0, mm = 0, dd = 0;
    Cell c{};
    if (ds.size() != 6 || !parseInt(std::string_view(ds).substr(0, 2), yy) ||
        !parseInt(std::string_view(ds).substr(2, 2), mm) ||
        !parseInt(std::string_view(ds).substr(4, 2), dd) ||
        !validDate(yy < 70 ? 2000 + yy : 1900 + yy, mm, dd, c.day)) {
      return bad(cDate, "'" + ds + "' is not a date yymmdd");
    }
    if (!parseClock(f[cEntry], c.second) || c.second >= 86400) {
      return bad(cEntry, "'" + f[cEntry] + "' is not a time H:MM:SS");
    }
    c.volume = 1;
    double ser = 0;
    if (!parseNumber(f[cSer], ser) || ser < 0) return bad(cSer, "'" + f[cSer] + "' is not >= 0");
    if (f[cOutcome] == "AGENT" && ser > 0) {
      c.handle = ser;
      c.handled = 1;
      anyAht = true;
    }
    std::string channel = cType >= 0 && !f[cType].empty() ? f[cType] : "all";
    byChannel[channel].push_back(c);
  }
  if (byChannel.empty()) return Status::invalidArgument(path + ": no calls after the header");
  History h = layOut(byChannel, intervalMinutes);
  h.hasHandleTimes = anyAht;
  h.format = "call-log";
  return h;
}

}  // namespace

bool parseIsoDate(std::string_view s, int64_t& days) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!parseInt(s.substr(0, 4), y) || !parseInt(s.substr(5, 2), m) ||
      !parseInt(s.substr(8, 2), d)) {
    return false;
  }
  return validDate(y, m, d, days);
}

std::string formatDate(int64_t days) {
  int y, m, d;
  civilFromDays(days, y, m, d);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

Result<History> readHistory(const std::string& path, std::istream& in, int intervalMinutes) {
  if (intervalMinutes < 1 || 1440 % intervalMinutes != 0) {
    return Status::invalidArgument(
        fmt::format("the interval must divide a day into whole minutes, not {}",
                    intervalMinutes));
  }
  std::string first;
  if (!std::getline(in, first)) return Status::invalidArgument(path + ": empty file");
  if (first.size() >= 3 && first.compare(0, 3, "\xEF\xBB\xBF") == 0) first.erase(0, 3);
  if (first.find('\t') != std::string::npos) {
    auto header = splitLine(first, '\t');
    if (column(header, {"vru_entry"}) >= 0) {
      return readCallLog(path, in, header, intervalMinutes);
    }
  }
  auto header = splitLine(first, ',');
  if (column(header, {"date"}) >= 0 && column(header, {"interval_start"}) >= 0 &&
      column(header, {"calls", "volume", "contacts"}) >= 0) {
    return readIntervals(path, in, header, intervalMinutes);
  }
  return Status::invalidArgument(
      path + ":1: unknown history format: expected an interval CSV (date, interval_start, "
             "calls or volume) or a tab-separated call log (vru_entry, date, outcome, ...)");
}


Status accuracy(const std::string& path, std::istream& in, const History& actuals,
                std::ostream& out, std::string* summary) {
  const int step = actuals.intervalMinutes;
  const int perDay = 1440 / step;
  std::map<std::string, const Series*> byChannel;
  for (const Series& s : actuals.series) byChannel[s.channel] = &s;
  std::string line;
  if (!std::getline(in, line)) return Status::invalidArgument(path + ": empty file");
  if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // a spreadsheet's BOM
  auto header = splitLine(line, ',');
  const int cStart = column(header, {"interval_start"});
  const int cChan = column(header, {"channel"});
  const int cVol = column(header, {"volume"});
  if (cStart < 0 || cChan < 0 || cVol < 0) {
    return Status::invalidArgument(
        path + ":1: not a forecast: the header needs interval_start, channel and volume");
  }
  struct Sums {
    double f = 0, a = 0, abs = 0;
  };
  std::map<std::pair<std::string, int64_t>, Sums> days;
  int64_t lineNo = 1;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty() || line == "\r") continue;
    auto f = splitLine(line, ',');
    auto bad = [&](int col, const std::string& why) {
      return Status::invalidArgument(
          fmt::format("{}:{}: {}: {}", path, lineNo, header[col], why));
    };
    if (f.size() != header.size()) {
      return Status::invalidArgument(fmt::format("{}:{}: {} fields, the header has {}", path,
                                                 lineNo, f.size(), header.size()));
    }
    const std::string& ts = f[cStart];
    int64_t day = 0;
    int second = 0;
    if (ts.size() < 16 || !parseIsoDate(std::string_view(ts).substr(0, 10), day) ||
        ts[10] != ' ' || !parseClock(std::string_view(ts).substr(11), second) ||
        second >= 86400) {
      return bad(cStart, "'" + ts + "' is not YYYY-MM-DD HH:MM");
    }
    if (second % (step * 60) != 0) {
      return bad(cStart, fmt::format("'{}' is not on the {}-minute grid of the actuals", ts,
                                     step));
    }
    double v = 0;
    if (!parseNumber(f[cVol], v) || v < 0) return bad(cVol, "'" + f[cVol] + "' is not >= 0");
    auto it = byChannel.find(f[cChan]);
    if (it == byChannel.end() && actuals.series.size() == 1 && actuals.series[0].channel == "all") {
      it = byChannel.begin();  // actuals without channels stand for every channel
    }
    if (it == byChannel.end()) continue;
    const Series& s = *it->second;
    int64_t d = day - s.firstDay;
    if (d < 0 || d >= s.days || !s.present[d]) continue;
    double a = s.volume[static_cast<size_t>(d) * perDay + second / (step * 60)];
    Sums& sum = days[{f[cChan], day}];
    sum.f += v;
    sum.a += a;
    sum.abs += std::abs(v - a);
  }
  auto ratio = [](double x, double y) {
    return y > 0 ? fmt::format("{:.4f}", x / y) : std::string();
  };
  out << "date,channel,forecast,actual,wape,bias\n";
  std::map<std::string, Sums> totals;
  for (const auto& [key, s] : days) {
    out << fmt::format("{},{},{:.3f},{:.3f},{},{}\n", formatDate(key.second), key.first, s.f,
                       s.a, ratio(s.abs, s.a), ratio(s.f - s.a, s.a));
    Sums& t = totals[key.first];
    t.f += s.f, t.a += s.a, t.abs += s.abs;
  }
  std::string said;
  for (const auto& [channel, s] : totals) {
    out << fmt::format("total,{},{:.3f},{:.3f},{},{}\n", channel, s.f, s.a,
                       ratio(s.abs, s.a), ratio(s.f - s.a, s.a));
    said += fmt::format("{}{}: WAPE {} bias {} over {} days", said.empty() ? "" : "; ",
                        channel, ratio(s.abs, s.a), ratio(s.f - s.a, s.a),
                        std::count_if(days.begin(), days.end(),
                                      [&](const auto& kv) { return kv.first.first == channel; }));
  }
  if (totals.empty()) return Status::notFound(path + ": no forecast interval has actuals");
  if (summary) *summary = said;
  return {};
}

}  // namespace kefu::wfm
