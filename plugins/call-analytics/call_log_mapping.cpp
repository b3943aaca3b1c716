// SPDX-License-Identifier: Apache-2.0
//
// Delimited call logs described by a TOML mapping file: which column holds which field, how
// dates and times are written, and which values of the outcome column mean what. The
// mapping is checked completely before the first row is read; every mistake names the
// mapping file, line, column and key. See sdk-docs/call-logs.md.
#include <algorithm>
#include <array>
#include <charconv>
#include <deque>
#include <filesystem>
#include <optional>
#include <unordered_map>

#include <toml++/toml.h>

#include "call_log.h"
#include "call_log_internal.h"

namespace kefu::calls {

namespace {

using namespace detail;

// A date/time format: %Y %y %m %d %H %M %S %f (fraction of a second) and literal characters,
// or "epoch_seconds" / "epoch_milliseconds".
struct TimeFormat {
  enum Kind { kPattern, kEpochSeconds, kEpochMillis } kind = kPattern;
  std::string pattern;
  bool hasDate = false, hasTime = false;

  // Parses `s`: milliseconds since the epoch when the format has a date, else since midnight.
  bool parse(std::string_view s, int64_t& out) const {
    if (kind != kPattern) {
      int64_t v;
      if (!parseIntIn(s, 0, kind == kEpochSeconds ? kEndMs / 1000 - 1 : kEndMs - 1, v)) {
        return false;
      }
      out = kind == kEpochSeconds ? v * 1000 : v;
      return true;
    }
    int64_t y = 1970;
    unsigned mo = 1, d = 1;
    int64_t h = 0, mi = 0, sec = 0, ms = 0;
    size_t i = 0;
    auto digits = [&](size_t minLen, size_t maxLen, int64_t& v) {
      size_t start = i;
      v = 0;
      while (i < s.size() && i - start < maxLen && s[i] >= '0' && s[i] <= '9') {
        v = v * 10 + (s[i] - '0');
        ++i;
      }
      return i - start >= minLen;
    };
    for (size_t p = 0; p < pattern.size(); ++p) {
      char c = pattern[p];
      if (c != '%') {
        if (i >= s.size() || s[i] != c) return false;
        ++i;
        continue;
      }
      int64_t v = 0;
      switch (pattern[++p]) {
        case 'Y': if (!digits(4, 4, y)) return false; break;
        case 'y':
          if (!digits(2, 2, v)) return false;
          y = v >= 70 ? 1900 + v : 2000 + v;
          break;
        case 'm': if (!digits(1, 2, v)) return false; mo = static_cast<unsigned>(v); break;
        case 'd': if (!digits(1, 2, v)) return false; d = static_cast<unsigned>(v); break;
        case 'H': if (!digits(1, 2, h) || h > 23) return false; break;
        case 'M': if (!digits(2, 2, mi) || mi > 59) return false; break;
        case 'S': if (!digits(2, 2, sec) || sec > 60) return false; break;
        case 'f': {
          size_t start = i;
          if (!digits(1, 9, v)) return false;
          size_t len = i - start;
          while (len < 3) { v *= 10; ++len; }
          while (len > 3) { v /= 10; --len; }
          ms = v;
          break;
        }
        case '%': if (i >= s.size() || s[i] != '%') return false; ++i; break;
        default: return false;
      }
    }
    if (i != s.size()) return false;
    int64_t tod = ((h * 60 + mi) * 60 + sec) * 1000 + ms;
    if (!hasDate) {
      out = tod;
      return true;
    }
    if (y < kFirstYear || !validDate(y, mo, d)) return false;
    out = daysFromCivil(y, mo, d) * kDayMs + tod;
    return true;
  }
};

enum Field {
  fId, fCustomer, fType, fChannel, fPriority, fDate, fArrival, fIvrExit, fQueueStart,
  fQueueExit, fServiceStart, fServiceEnd, fQueueSeconds, fServiceSeconds, fAgent, fOutcome,
  kFields
};
constexpr std::array<const char*, kFields> kFieldNames = {
    "id",         "customer",    "type",          "channel",     "priority",
    "date",       "arrival",     "ivr_exit",      "queue_start", "queue_exit",
    "service_start", "service_end", "queue_seconds", "service_seconds", "agent", "outcome"};

struct Mapping {
  char delimiter = ',';
  char quote = '"';
  bool header = true;
  std::vector<std::string> notApplicable{""};
  TimeFormat date{TimeFormat::kPattern, "%Y-%m-%d", true, false};
  TimeFormat time{TimeFormat::kPattern, "%H:%M:%S", false, true};
  TimeFormat datetime{TimeFormat::kPattern, "%Y-%m-%d %H:%M:%S", true, true};
  std::string defaultChannel = "phone";
  std::string defaultType;
  std::vector<std::string> anonymousCustomers{"", "0"};
  std::vector<std::string> unattributedAgents{""};
  std::unordered_map<std::string, RawOutcome> outcomes;
  // Column of each field: 0-based index once resolved, -1 if not mapped.
  std::array<int, kFields> column{};
  std::array<std::string, kFields> columnName;  // by header name, before resolution
  std::array<std::string, kFields> where;       // "mapping.toml:7:11" of each mapping
};

std::string at(const std::string& file, const toml::source_region& r) {
  return file + ":" + std::to_string(r.begin.line) + ":" + std::to_string(r.begin.column);
}

class MappingParser {
 public:
  explicit MappingParser(std::string file) : file_(std::move(file)) {}

  // Checks the whole mapping and reports every mistake found, one per line, so that a
  // mapping can be fixed in one go.
  Status parse(Mapping& m) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file_, ec)) {
      return Status::invalidArgument(
          file_ + ": cannot open the mapping file: " +
          (std::filesystem::exists(file_, ec) ? "not a regular file"
                                              : "no such file"));
    }
    toml::table root;
    try {
      root = toml::parse_file(file_);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      return Status::invalidArgument(file_ + ":" + std::to_string(b.line) + ":" +
                                     std::to_string(b.column) + ": (syntax): " +
                                     std::string(e.description()));
    }
    m.column.fill(-1);
    static const std::vector<std::string> kTop = {
        "delimiter",       "quote",           "header",          "not_applicable",
        "date_format",     "time_format",     "datetime_format", "default_channel",
        "default_type",    "anonymous_customers", "unattributed_agents", "columns",
        "outcomes"};
    keep(onlyKeys(root, "", kTop));
    keep(charKey(root, "delimiter", m.delimiter, false));
    keep(charKey(root, "quote", m.quote, true));
    if (m.quote != 0 && m.delimiter == m.quote) {
      // Every quoted field would end at its own delimiter: nothing could be read.
      bool byDelimiter = root.get("delimiter") != nullptr;
      keep(error(*root.get(byDelimiter ? "delimiter" : "quote"),
                 byDelimiter ? "delimiter" : "quote",
                 "the delimiter and the quote character must differ (quote = \"\" for none)"));
    }
    if (auto* n = root.get("header")) {
      if (!n->is_boolean()) {
        keep(error(*n, "header", "must be true or false"));
      } else {
        m.header = n->as_boolean()->get();
      }
    }
    keep(stringList(root, "not_applicable", m.notApplicable));
    keep(stringList(root, "anonymous_customers", m.anonymousCustomers));
    keep(stringList(root, "unattributed_agents", m.unattributedAgents));
    keep(str(root, "default_channel", m.defaultChannel));
    keep(str(root, "default_type", m.defaultType));
    keep(format(root, "date_format", m.date, true, false));
    keep(format(root, "time_format", m.time, false, true));
    keep(format(root, "datetime_format", m.datetime, true, true));

    const toml::node* cols = root.get("columns");
    if (!cols || !cols->is_table()) {
      keep(Status::invalidArgument(
          file_ + ":1:1: columns: a [columns] table is required (field = column name or "
                  "1-based column number; 'arrival' at least)"));
      return result();
    }
    std::vector<std::string> names(kFieldNames.begin(), kFieldNames.end());
    keep(onlyKeys(*cols->as_table(), "columns", names));
    for (auto&& [k, v] : *cols->as_table()) {
      auto it = std::find(names.begin(), names.end(), k.str());
      if (it == names.end()) continue;  // reported by onlyKeys
      int f = static_cast<int>(it - names.begin());
      std::string key = "columns." + std::string(k.str());
      m.where[f] = at(file_, v.source()) + ": " + key;
      if (auto* s = v.as_string()) {
        if (!m.header) {
          keep(error(v, key, "names a column, but header = false; give a 1-based number"));
        } else if (s->get().empty()) {
          keep(error(v, key, "must not be empty"));
        } else {
          m.columnName[f] = s->get();
        }
      } else if (auto* i = v.as_integer()) {
        if (i->get() < 1 || i->get() > 10000) {
          keep(error(v, key, "column numbers start at 1 (and stop at 10000)"));
        } else {
          m.column[f] = static_cast<int>(i->get() - 1);
        }
      } else {
        keep(error(v, key, "must be a column name (string) or a 1-based column number"));
      }
    }
    if (m.column[fArrival] < 0 && m.columnName[fArrival].empty() && m.where[fArrival].empty()) {
      keep(Status::invalidArgument(at(file_, cols->source()) +
                                   ": columns.arrival: the arrival column is required"));
    }
    const bool outcomeMapped = !m.where[fOutcome].empty();
    if (const toml::node* oc = root.get("outcomes")) {
      if (!oc->is_table()) {
        keep(error(*oc, "outcomes", "must be a table"));
        return result();
      }
      static const std::vector<std::string> kClasses = {"answered", "abandoned", "ivr",
                                                        "phantom", "hang"};
      keep(onlyKeys(*oc->as_table(), "outcomes", kClasses));
      static const RawOutcome kValues[] = {RawOutcome::kAnswered, RawOutcome::kAbandoned,
                                           RawOutcome::kIvr, RawOutcome::kPhantom,
                                           RawOutcome::kHang};
      for (size_t c = 0; c < kClasses.size(); ++c) {
        std::vector<std::string> values;
        if (!keep(stringList(*oc->as_table(), kClasses[c], values, "outcomes."))) continue;
        for (auto& v : values) {
          if (!m.outcomes.emplace(v, kValues[c]).second) {
            keep(error(*oc->as_table()->get(kClasses[c]), "outcomes." + kClasses[c],
                       "the value '" + visible(v) + "' is listed under two outcomes"));
          }
        }
      }
      if (!outcomeMapped) keep(error(*oc, "outcomes", "is given but columns.outcome is not"));
    } else if (outcomeMapped) {
      keep(Status::invalidArgument(m.where[fOutcome] +
                                   ": an [outcomes] table must say what its values mean"));
    }
    return result();
  }

 private:
  bool keep(const Status& s) {
    if (!s.ok()) errors_.push_back(s.message());
    return s.ok();
  }
  Status result() const {
    if (errors_.empty()) return {};
    std::string all;
    for (const auto& e : errors_) all += (all.empty() ? "" : "\n") + e;
    return Status::invalidArgument(all);
  }

  Status error(const toml::node& n, const std::string& key, const std::string& msg) {
    return Status::invalidArgument(at(file_, n.source()) + ": " + key + ": " + msg);
  }

  Status onlyKeys(const toml::table& t, const std::string& prefix,
                  const std::vector<std::string>& accepted) {
    std::string list, found;
    for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
    for (auto&& [k, v] : t) {
      if (std::find(accepted.begin(), accepted.end(), k.str()) != accepted.end()) continue;
      found += (found.empty() ? "" : "\n") + at(file_, k.source()) + ": " +
               (prefix.empty() ? "" : prefix + ".") + visible(k.str()) +
               ": unknown key (accepted: " + list + ")";
    }
    return found.empty() ? Status() : Status::invalidArgument(found);
  }

  Status str(const toml::table& t, const std::string& key, std::string& out) {
    const toml::node* n = t.get(key);
    if (!n) return {};
    if (!n->is_string()) return error(*n, key, "must be a string");
    out = n->as_string()->get();
    return {};
  }

  Status charKey(const toml::table& t, const std::string& key, char& out, bool allowEmpty) {
    const toml::node* n = t.get(key);
    if (!n) return {};
    if (!n->is_string()) return error(*n, key, "must be a string of one character");
    const std::string& s = n->as_string()->get();
    if (s.empty() && allowEmpty) {
      out = 0;
      return {};
    }
    if (s.size() != 1 || s[0] == '\n' || s[0] == '\r') {
      return error(*n, key, "must be one character (\"\\t\" for a tab)");
    }
    out = s[0];
    return {};
  }

  Status stringList(const toml::table& t, const std::string& key, std::vector<std::string>& out,
                    const std::string& prefix = "") {
    const toml::node* n = t.get(key);
    if (!n) return {};
    out.clear();
    if (auto* s = n->as_string()) {
      out.push_back(s->get());
      return {};
    }
    auto* a = n->as_array();
    if (!a) return error(*n, prefix + key, "must be a string or an array of strings");
    for (auto&& e : *a) {
      if (!e.is_string()) return error(e, prefix + key, "must hold strings only");
      out.push_back(e.as_string()->get());
    }
    return {};
  }

  Status format(const toml::table& t, const std::string& key, TimeFormat& out, bool needDate,
                bool needTime) {
    const toml::node* n = t.get(key);
    if (!n) return {};
    if (!n->is_string()) return error(*n, key, "must be a string such as \"%Y-%m-%d\"");
    const std::string& s = n->as_string()->get();
    if (s == "epoch_seconds" || s == "epoch_milliseconds") {
      if (!needDate || !needTime) {
        return error(*n, key, s + " is accepted by datetime_format only");
      }
      out = {s == "epoch_seconds" ? TimeFormat::kEpochSeconds : TimeFormat::kEpochMillis, s,
             true, true};
      return {};
    }
    TimeFormat f{TimeFormat::kPattern, s, false, false};
    std::string seen;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '%') continue;
      char c = i + 1 < s.size() ? s[i + 1] : '\0';
      if (std::string_view("YymdHMSf%").find(c) == std::string_view::npos || c == '\0') {
        return error(*n, key, "unknown conversion '%" + visible(std::string_view(&c, 1)) +
                                  "' (accepted: %Y %y %m %d %H %M %S %f %%)");
      }
      seen += c;
      ++i;
    }
    auto has = [&](char c) { return seen.find(c) != std::string::npos; };
    f.hasDate = has('Y') || has('y') || has('m') || has('d');
    f.hasTime = has('H') || has('M') || has('S');
    if (needDate && !((has('Y') || has('y')) && has('m') && has('d'))) {
      return error(*n, key, "must contain a year (%Y or %y), %m and %d");
    }
    if (needTime && !(has('H') && has('M'))) return error(*n, key, "must contain %H and %M");
    if (!needDate && f.hasDate) return error(*n, key, "is a time of day; it takes no date");
    if (!needTime && f.hasTime) return error(*n, key, "is a date; it takes no time of day");
    out = f;
    return {};
  }

  std::string file_;
  std::vector<std::string> errors_;
};

class MappedReader : public ReaderBase {
 public:
  MappedReader(Mapping m, std::string mappingFile)
      : m_(std::move(m)), mappingFile_(std::move(mappingFile)) {}

  Status open(const std::string& path) {
    path_ = path;
    if (auto s = src_.open(path); !s.ok()) return s;
    if (m_.header) {
      std::string_view line;
      if (!src_.next(line)) {
        return Status::invalidArgument(path + ": empty; the mapping " + mappingFile_ +
                                       " says it starts with a header line");
      }
      if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
      std::string reason;
      if (!split(line, reason)) {
        return Status::invalidArgument(path + ":1: header: " + reason);
      }
      for (int f = 0; f < kFields; ++f) {
        if (m_.columnName[f].empty()) continue;
        for (size_t c = 0; c < fields_.size(); ++c) {
          if (trim(fields_[c]) == m_.columnName[f]) {
            m_.column[f] = static_cast<int>(c);
            break;
          }
        }
        if (m_.column[f] < 0) {
          std::string have;
          for (auto& h : fields_) have += (have.empty() ? "" : ", ") + visible(trim(h));
          return Status::invalidArgument(path + ":1: no column named '" +
                                         visible(m_.columnName[f]) +
                                         "' (" + m_.where[f] + "); the header has: " + have);
        }
      }
      // A column number past the header would make every row bad; say so once, up front.
      for (int f = 0; f < kFields; ++f) {
        if (m_.column[f] >= static_cast<int>(fields_.size())) {
          return Status::invalidArgument(
              m_.where[f] + ": column " + std::to_string(m_.column[f] + 1) + " is beyond the " +
              std::to_string(fields_.size()) + " columns of the header of " + path);
        }
      }
    }
    bool timeOfDay = m_.column[fDate] >= 0;
    timeFormat_ = timeOfDay ? &m_.time : &m_.datetime;
    for (int f = 0; f < kFields; ++f) minFields_ = std::max(minFields_, m_.column[f] + 1);
    return {};
  }

  bool next(CallRecord& out) override {
    return nextRow(out, [this](std::string_view line, CallRecord& o, std::string& reason) {
      return parse(line, o, reason);
    });
  }

 private:
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  }

  // Splits a line into fields_, undoing quotes ("a ""b""" -> a "b").
  bool split(std::string_view line, std::string& reason) {
    fields_.clear();
    size_t unquoted = 0;
    size_t i = 0;
    while (true) {
      if (m_.quote && i < line.size() && line[i] == m_.quote) {
        if (unquoted == scratch_.size()) scratch_.emplace_back();
        std::string& buf = scratch_[unquoted++];
        buf.clear();
        size_t j = i + 1;
        bool closed = false;
        while (j < line.size()) {
          if (line[j] == m_.quote) {
            if (j + 1 < line.size() && line[j + 1] == m_.quote) {
              buf.push_back(m_.quote);
              j += 2;
              continue;
            }
            closed = true;
            ++j;
            break;
          }
          buf.push_back(line[j++]);
        }
        if (!closed) {
          reason = "field " + std::to_string(fields_.size() + 1) +
                   ": quoted value is not closed on its line";
          return false;
        }
        if (j < line.size() && line[j] != m_.delimiter) {
          reason = "field " + std::to_string(fields_.size() + 1) +
                   ": characters after the closing quote";
          return false;
        }
        fields_.push_back(buf);
        if (j >= line.size()) return true;
        i = j + 1;
        continue;
      }
      size_t d = line.find(m_.delimiter, i);
      fields_.push_back(line.substr(i, d == std::string_view::npos ? line.npos : d - i));
      if (d == std::string_view::npos) return true;
      i = d + 1;
    }
  }

  bool na(std::string_view v) const {
    for (const auto& t : m_.notApplicable) {
      if (v == t) return true;
    }
    return false;
  }

  // What a format accepts beyond its pattern, for messages.
  static std::string rangeText(const TimeFormat& f) {
    if (f.kind == TimeFormat::kEpochSeconds) {
      return " (a whole number from 0 to " + std::to_string(kEndMs / 1000 - 1) + ")";
    }
    if (f.kind == TimeFormat::kEpochMillis) {
      return " (a whole number from 0 to " + std::to_string(kEndMs - 1) + ")";
    }
    return f.hasDate ? " (years 1970 to 9999)" : "";
  }

  std::string columnText(int f) const {
    return "column " + std::to_string(m_.column[f] + 1) + " (" + kFieldNames[f] + ")";
  }

  bool parse(std::string_view line, CallRecord& out, std::string& reason) {
    if (!split(line, reason)) return false;
    if (static_cast<int>(fields_.size()) < minFields_) {
      reason = "expected at least " + std::to_string(minFields_) + " fields, found " +
               std::to_string(fields_.size());
      return false;
    }
    auto value = [&](int f) {
      return m_.column[f] < 0 ? std::string_view() : trim(fields_[m_.column[f]]);
    };
    RawTimes raw;
    raw.dateMode = m_.column[fDate] >= 0;
    if (raw.dateMode) {
      std::string_view d = value(fDate);
      if (!m_.date.parse(d, raw.dayMs)) {
        reason = columnText(fDate) + ": '" + visible(d) + "' does not match date_format '" +
                 visible(m_.date.pattern) + "'" + rangeText(m_.date);
        return false;
      }
    }
    for (int s = 0; s < kSteps; ++s) {
      int f = fArrival + s;
      if (m_.column[f] < 0) continue;
      std::string_view v = value(f);
      if (na(v) && f != fArrival) continue;
      if (!timeFormat_->parse(v, raw.t[s])) {
        reason = columnText(f) + ": '" + visible(v) + "' does not match " +
                 (raw.dateMode ? "time_format '" : "datetime_format '") +
                 visible(timeFormat_->pattern) + "'" + rangeText(*timeFormat_);
        return false;
      }
    }
    for (int f : {fQueueSeconds, fServiceSeconds}) {
      if (m_.column[f] < 0) continue;
      std::string_view v = value(f);
      int64_t& dst = f == fQueueSeconds ? raw.queueSeconds : raw.serviceSeconds;
      if (na(v)) continue;
      if (!parseIntIn(v, 0, kMaxDurationSeconds, dst)) {
        reason = columnText(f) + ": '" + visible(v) +
                 "' is not a whole number of seconds from 0 to " +
                 std::to_string(kMaxDurationSeconds);
        return false;
      }
    }
    int64_t priority = 0;
    if (m_.column[fPriority] >= 0 && !na(value(fPriority)) &&
        !parseIntIn(value(fPriority), kMinPriority, kMaxPriority, priority)) {
      reason = columnText(fPriority) + ": '" + visible(value(fPriority)) +
               "' is not an integer from " + std::to_string(kMinPriority) + " to " +
               std::to_string(kMaxPriority);
      return false;
    }
    RawOutcome oc = RawOutcome::kDerive;
    if (m_.column[fOutcome] >= 0) {
      std::string_view v = value(fOutcome);
      auto it = m_.outcomes.find(std::string(v));
      if (it == m_.outcomes.end()) {
        reason = columnText(fOutcome) + ": '" + visible(v) +
                 "' is not listed in [outcomes] of " + mappingFile_;
        return false;
      }
      oc = it->second;
    }
    if (!buildTimeline(raw, oc, out, corr_, reason)) return false;
    if (m_.column[fId] >= 0) {
      out.id.assign(value(fId));
    } else {
      out.id.assign("line-" + std::to_string(src_.lineNo()));
    }
    std::string_view cust = value(fCustomer);
    bool anonymous = std::find(m_.anonymousCustomers.begin(), m_.anonymousCustomers.end(),
                               cust) != m_.anonymousCustomers.end();
    if (anonymous) {
      out.customer.clear();
    } else {
      out.customer.assign(cust);
    }
    std::string_view type = value(fType);
    out.type.assign(type.empty() ? std::string_view(m_.defaultType) : type);
    std::string_view channel = value(fChannel);
    out.channel.assign(channel.empty() ? std::string_view(m_.defaultChannel) : channel);
    out.priority = static_cast<int>(priority);
    std::string_view agent = value(fAgent);
    bool unattributed = std::find(m_.unattributedAgents.begin(), m_.unattributedAgents.end(),
                                  agent) != m_.unattributedAgents.end();
    if (out.outcome == Outcome::kAnswered && !unattributed) {
      out.agent.assign(agent);
    } else {
      out.agent.clear();
    }
    out.line = src_.lineNo();
    return true;
  }

  Mapping m_;
  std::string mappingFile_;
  std::string path_;
  const TimeFormat* timeFormat_ = nullptr;
  int minFields_ = 0;
  std::vector<std::string_view> fields_;
  // A deque: growing it keeps the earlier strings, which fields_ points into.
  std::deque<std::string> scratch_;
};

}  // namespace

Result<std::unique_ptr<CallReader>> openMappedCallLog(const std::string& path,
                                                      const std::string& mappingFile) {
  Mapping m;
  if (auto s = MappingParser(mappingFile).parse(m); !s.ok()) return s;
  auto reader = std::make_unique<MappedReader>(std::move(m), mappingFile);
  if (auto s = reader->open(path); !s.ok()) return s;
  return std::unique_ptr<CallReader>(std::move(reader));
}

}  // namespace kefu::calls
