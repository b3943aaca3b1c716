// SPDX-License-Identifier: Apache-2.0
//
// The shared reading machinery and the "anonymous-bank" reader: the per-call log of the
// Technion's "Anonymous Bank" call center (tab-separated, 17 columns, yymmdd dates, H:MM:SS
// times where 0:00:00 means "did not happen"). The reader is on the hot path of
// `kefu report` and `kefu replay`: it splits lines in place, parses numbers with
// from_chars and reuses the strings of the caller's record.
#include "call_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <utility>

#include "call_log_internal.h"

namespace kefu::calls {

const char* outcomeName(Outcome o) {
  switch (o) {
    case Outcome::kAnswered: return "answered";
    case Outcome::kAbandonedInQueue: return "abandoned_in_queue";
    case Outcome::kEndedInIvr: return "ended_in_ivr";
    case Outcome::kPhantom: return "phantom";
  }
  return "unknown";
}

namespace detail {

// 1 MiB: few system calls, and a row never comes close to it (longer lines grow it).
constexpr size_t kBufferBytes = 1 << 20;

LineSource::~LineSource() {
  if (fd_ >= 0) ::close(fd_);
}

Status LineSource::open(const std::string& path) {
  path_ = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::invalidArgument(path + ": is a directory, not a call log");
  }
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    return Status::invalidArgument(path + ": cannot open: " + std::strerror(errno));
  }
  buf_.resize(kBufferBytes);
  return {};
}

bool LineSource::fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // next() caps it at kMaxLineBytes
  while (true) {
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) stopReason_ = std::string("read error: ") + std::strerror(errno);
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(n);
    return true;
  }
}

// No end of line in kMaxLineBytes: not a text log, or a broken line. Reads on to the end of
// the line through the buffer it has, so that one such line costs no more memory.
void LineSource::skipLongLine() {
  uint64_t skipped = end_ - begin_;
  bool ended = false;
  begin_ = end_ = 0;
  while (true) {
    ssize_t n = ::read(fd_, buf_.data(), buf_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0) stopReason_ = std::string("read error: ") + std::strerror(errno);
      eof_ = true;
      break;
    }
    const void* nl = std::memchr(buf_.data(), '\n', static_cast<size_t>(n));
    if (nl) {
      size_t len = static_cast<const char*>(nl) - buf_.data();
      skipped += len + 1;
      ended = true;
      begin_ = len + 1;
      end_ = static_cast<size_t>(n);
      break;
    }
    skipped += static_cast<uint64_t>(n);
  }
  consumed_ += skipped;
  ++lineNo_;
  longLine_ = lineNo_;
  longLineBytes_ = skipped - (ended ? 1 : 0);
}

std::string LineSource::longLineReason() const {
  return "line of " + std::to_string(longLineBytes_) + " bytes is longer than the " +
         std::to_string(kMaxLineBytes >> 20) + " MiB a row may have: skipped";
}

bool LineSource::next(std::string_view& line) {
  if (fd_ < 0) return false;
  while (true) {
    const char* start = buf_.data() + begin_;
    const void* nl = begin_ < end_ ? std::memchr(start, '\n', end_ - begin_) : nullptr;
    if (nl) {
      size_t len = static_cast<const char*>(nl) - start;
      consumed_ += len + 1;
      begin_ += len + 1;
      if (len > 0 && start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      ++lineNo_;
      return true;
    }
    if (!eof_ && end_ - begin_ >= kMaxLineBytes) {
      skipLongLine();
      line = {};
      return true;
    }
    if (eof_ || !fill()) {
      if (begin_ == end_) return false;
      // The last line has no end of line.
      size_t len = end_ - begin_;
      start = buf_.data() + begin_;
      consumed_ += len;
      begin_ = end_;
      if (start[len - 1] == '\r') --len;
      line = std::string_view(start, len);
      ++lineNo_;
      return true;
    }
  }
}

size_t splitFields(std::string_view line, char delim, std::string_view* out, size_t max) {
  size_t n = 0;
  const char* p = line.data();
  const char* end = p + line.size();
  while (true) {
    const char* d = static_cast<const char*>(std::memchr(p, delim, end - p));
    const char* fieldEnd = d ? d : end;
    if (n < max) out[n] = std::string_view(p, fieldEnd - p);
    ++n;
    if (!d) return n;
    p = d + 1;
  }
}

namespace {
inline bool digit(char c) { return c >= '0' && c <= '9'; }
}  // namespace

bool parseClock(std::string_view s, int64_t& ms) {
  // H:MM:SS or HH:MM:SS
  size_t hLen = s.size() == 7 ? 1 : s.size() == 8 ? 2 : 0;
  if (hLen == 0) return false;
  const char* p = s.data();
  int h = 0;
  for (size_t i = 0; i < hLen; ++i) {
    if (!digit(p[i])) return false;
    h = h * 10 + (p[i] - '0');
  }
  p += hLen;
  if (p[0] != ':' || p[3] != ':' || !digit(p[1]) || !digit(p[2]) || !digit(p[4]) ||
      !digit(p[5])) {
    return false;
  }
  int m = (p[1] - '0') * 10 + (p[2] - '0');
  int sec = (p[4] - '0') * 10 + (p[5] - '0');
  if (h > 23 || m > 59 || sec > 59) return false;
  ms = ((h * 60 + m) * 60 + sec) * 1000LL;
  return true;
}

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Count from 0000-03-01 so that the leap day ends each year, in 400-year eras.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

bool validDate(int64_t y, unsigned m, unsigned d) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool parseYymmdd(std::string_view s, int64_t& dayMs) {
  if (s.size() != 6) return false;
  for (char c : s) {
    if (!digit(c)) return false;
  }
  int yy = (s[0] - '0') * 10 + (s[1] - '0');
  unsigned m = (s[2] - '0') * 10 + (s[3] - '0');
  unsigned d = (s[4] - '0') * 10 + (s[5] - '0');
  int64_t y = yy >= 70 ? 1900 + yy : 2000 + yy;
  if (!validDate(y, m, d)) return false;
  dayMs = daysFromCivil(y, m, d) * kDayMs;
  return true;
}

bool parseInt(std::string_view s, int64_t& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string clockText(int64_t msOfDay) {
  int64_t s = msOfDay / 1000;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(s / 3600),
                static_cast<int>(s / 60 % 60), static_cast<int>(s % 60));
  return buf;
}

const char* correctionName(Correction c) {
  switch (c) {
    case kIvrExitBeforeArrival: return "IVR exit before arrival: set to the arrival";
    case kQueueShifted:
      return "queue start before the IVR exit: queue interval moved to the IVR exit";
    case kServiceShifted:
      return "service start before the step before it: service interval moved to it";
    case kMidnightRestored:
      return "0:00:00 taken as midnight because the duration column says the step happened";
    case kAnsweredWithoutService:
      return "answered without service times: zero-length service at the queue or IVR exit";
    case kServiceOfUnansweredIgnored:
      return "service times on a call that was not answered: ignored";
    case kHangZeroWaitInIvr:
      return "hung up with a zero queue wait: counted as ended in the IVR";
    case kCrossedMidnight: return "a step crosses midnight: placed on the next day";
    case kCorrections: break;
  }
  return "unknown";
}

namespace {

std::string stepText(const RawTimes& raw, int s) {
  if (raw.dateMode) return clockText(raw.t[s]);
  // Full timestamps read back as the log's date and time, not as epoch milliseconds.
  int64_t ms = raw.t[s];
  int64_t day = ms >= 0 ? ms / kDayMs : (ms + 1) / kDayMs - 1;
  int64_t y;
  unsigned mo, d;
  civilFromDays(day, y, mo, d);
  char buf[48];
  int64_t tod = ms - day * kDayMs;
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u ", static_cast<long long>(y), mo, d);
  std::string out = buf + clockText(tod);
  if (tod % 1000) {
    std::snprintf(buf, sizeof buf, ".%03lld", static_cast<long long>(tod % 1000));
    out += buf;
  }
  return out;
}

}  // namespace

const StepNames kFieldStepNames = {"arrival",    "ivr_exit",      "queue_start",
                                   "queue_exit", "service_start", "service_end"};

bool buildTimeline(const RawTimes& rawIn, RawOutcome outcome, CallRecord& out,
                   Corrections& corr, std::string& reason, const StepNames& names) {
  auto stepName = [&](int s) { return names[s]; };
  RawTimes raw = rawIn;
  if (raw.t[kArrival] < 0) {
    reason = "no arrival time";
    return false;
  }
  bool crossed = false;
  // Places a time of day on the day nearest to `ref` (the step before it).
  auto resolve = [&](int64_t v, int64_t ref) {
    if (!raw.dateMode) return v;
    int64_t a = raw.dayMs + v;
    if (a < ref - kDayMs / 2) {
      crossed = true;
      a += kDayMs;
    }
    return a;
  };
  // A "0:00:00" that means midnight: restored from the other end and the duration.
  auto restore = [&](int startStep, int64_t seconds) {
    if (!raw.dateMode || seconds <= 0) return;
    int64_t& s = raw.t[startStep];
    int64_t& e = raw.t[startStep + 1];
    if (s < 0 && e >= 0) {
      s = ((e - seconds * 1000) % kDayMs + kDayMs) % kDayMs;
      ++corr[kMidnightRestored];
    } else if (e < 0 && s >= 0) {
      e = (s + seconds * 1000) % kDayMs;
      ++corr[kMidnightRestored];
    }
  };
  restore(kQueueStart, raw.queueSeconds);
  restore(kServiceStart, raw.serviceSeconds);

  const int64_t arrival = raw.dateMode ? raw.dayMs + raw.t[kArrival] : raw.t[kArrival];
  int64_t ivrExit = -1;
  if (raw.t[kIvrExit] >= 0) {
    ivrExit = resolve(raw.t[kIvrExit], arrival);
    if (ivrExit < arrival) {
      ++corr[kIvrExitBeforeArrival];
      ivrExit = arrival;
    }
  }
  int64_t prev = ivrExit >= 0 ? ivrExit : arrival;

  // Resolves a start/end pair after `ref`; a start slightly before `ref` moves the pair.
  auto interval = [&](int startStep, int64_t ref, int64_t seconds, Correction shifted,
                      int64_t& s, int64_t& e) {
    s = e = -1;
    bool hasS = raw.t[startStep] >= 0, hasE = raw.t[startStep + 1] >= 0;
    if (!hasS && !hasE) return true;
    if (hasS != hasE) {
      reason = std::string(hasS ? stepName(startStep) : stepName(startStep + 1)) +
               " is given without " + (hasS ? stepName(startStep + 1) : stepName(startStep));
      return false;
    }
    s = resolve(raw.t[startStep], ref);
    e = resolve(raw.t[startStep + 1], s);
    if (e < s) {
      reason = std::string(stepName(startStep + 1)) + " " + stepText(raw, startStep + 1) +
               " is before " + stepName(startStep) + " " + stepText(raw, startStep);
      return false;
    }
    if (seconds >= 0 && std::llabs((e - s) - seconds * 1000) > 1000) {
      reason = std::string("the duration column says ") + std::to_string(seconds) +
               " s but " + stepName(startStep + 1) + " - " + stepName(startStep) + " is " +
               std::to_string((e - s) / 1000) + " s";
      return false;
    }
    if (s < ref) {
      // Clock granularity: the step started a moment before the previous one ended.
      ++corr[shifted];
      e += ref - s;
      s = ref;
    }
    return true;
  };
  int64_t qs, qe, ss, se;
  if (!interval(kQueueStart, prev, raw.queueSeconds, kQueueShifted, qs, qe)) return false;
  int64_t beforeService = qs >= 0 ? qe : prev;
  if (!interval(kServiceStart, beforeService, raw.serviceSeconds, kServiceShifted, ss, se)) {
    return false;
  }

  if (outcome == RawOutcome::kDerive) {
    outcome = ss >= 0 ? RawOutcome::kAnswered : RawOutcome::kHang;
  }
  Outcome result = Outcome::kEndedInIvr;
  switch (outcome) {
    case RawOutcome::kAnswered:
      result = Outcome::kAnswered;
      if (ss < 0) {
        ++corr[kAnsweredWithoutService];
        ss = se = beforeService;
      }
      break;
    case RawOutcome::kHang:
      if (qs >= 0 && qe > qs) {
        result = Outcome::kAbandonedInQueue;
      } else {
        if (qs >= 0) ++corr[kHangZeroWaitInIvr];
        result = Outcome::kEndedInIvr;
      }
      break;
    case RawOutcome::kAbandoned:
      if (qs < 0) {
        reason = "abandoned in the queue but no queue times are given";
        return false;
      }
      result = Outcome::kAbandonedInQueue;
      break;
    case RawOutcome::kIvr: result = Outcome::kEndedInIvr; break;
    case RawOutcome::kPhantom: result = Outcome::kPhantom; break;
    case RawOutcome::kDerive: break;
  }
  if (result == Outcome::kEndedInIvr) qs = qe = -1;
  if ((result == Outcome::kEndedInIvr || result == Outcome::kAbandonedInQueue) && ss >= 0) {
    ++corr[kServiceOfUnansweredIgnored];
    ss = se = -1;
  }
  if (crossed) ++corr[kCrossedMidnight];
  out.arrivalMs = arrival;
  out.ivrExitMs = ivrExit;
  out.queueStartMs = qs;
  out.queueExitMs = qe;
  out.serviceStartMs = ss;
  out.serviceEndMs = se;
  out.outcome = result;
  return true;
}

}  // namespace detail

std::string visible(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

namespace {

using namespace detail;

constexpr std::array<std::string_view, 17> kBankColumns = {
    "vru+line", "call_id", "customer_id", "priority", "type",     "date",
    "vru_entry", "vru_exit", "vru_time",  "q_start",  "q_exit",   "q_time",
    "outcome",  "ser_start", "ser_exit",  "ser_time", "server"};

class AnonymousBankReader : public ReaderBase {
 public:
  Status open(const std::string& path) {
    if (auto s = src_.open(path); !s.ok()) return s;
    std::string_view line;
    if (!src_.next(line)) {
      return Status::invalidArgument(path + ": empty; an anonymous-bank log starts with the "
                                     "header line (vru+line, call_id, ...)");
    }
    if (line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // UTF-8 BOM
    std::array<std::string_view, 17> f;
    size_t n = splitFields(line, '\t', f.data(), f.size());
    if (n != f.size()) {
      return Status::invalidArgument(path + ":1: not an anonymous-bank log: the header has " +
                                     std::to_string(n) + " tab-separated columns, expected 17");
    }
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] != kBankColumns[i]) {
        return Status::invalidArgument(
            path + ":1: not an anonymous-bank log: column " + std::to_string(i + 1) + " is '" +
            visible(f[i]) + "', expected '" + std::string(kBankColumns[i]) + "'");
      }
    }
    return {};
  }

  bool next(CallRecord& out) override {
    return nextRow(out, [this](std::string_view line, CallRecord& o, std::string& reason) {
      return parse(line, o, reason);
    });
  }

 private:
  // A clock column where 0:00:00 means "did not happen".
  static bool optionalClock(std::string_view s, int64_t& ms) {
    if (s == "0:00:00" || s == "00:00:00") {
      ms = -1;
      return true;
    }
    return parseClock(s, ms);
  }

  bool parse(std::string_view line, CallRecord& out, std::string& reason) {
    std::array<std::string_view, 17> f;
    size_t n = splitFields(line, '\t', f.data(), f.size());
    if (n != f.size()) {
      reason = "expected 17 tab-separated fields, found " + std::to_string(n);
      return false;
    }
    RawTimes raw;
    if (!parseYymmdd(f[5], raw.dayMs)) {
      reason = "date '" + visible(f[5]) + "' is not a valid yymmdd date";
      return false;
    }
    // vru_entry and vru_exit always happened, so 0:00:00 there is midnight.
    static constexpr int kClockCols[] = {6, 7, 9, 10, 13, 14};
    for (int i = 0; i < kSteps; ++i) {
      int col = kClockCols[i];
      bool ok = i < 2 ? parseClock(f[col], raw.t[i]) : optionalClock(f[col], raw.t[i]);
      if (!ok) {
        reason = std::string(kBankColumns[col]) + " '" + visible(f[col]) +
                 "' is not a time H:MM:SS";
        return false;
      }
    }
    int64_t priority = 0;
    for (auto [col, dst] : {std::pair{11, &raw.queueSeconds}, std::pair{15, &raw.serviceSeconds},
                            std::pair{3, &priority}}) {
      static_assert(kMaxPriority == kMaxDurationSeconds, "one range for the three columns");
      if (!parseIntIn(f[col], 0, kMaxPriority, *dst)) {
        reason = std::string(kBankColumns[col]) + " '" + visible(f[col]) +
                 "' is not a whole number from 0 to " + std::to_string(kMaxPriority);
        return false;
      }
    }
    RawOutcome oc;
    std::string_view o = f[12];
    if (o == "AGENT") {
      oc = RawOutcome::kAnswered;
    } else if (o == "HANG") {
      oc = RawOutcome::kHang;
    } else if (o == "PHANTOM") {
      oc = RawOutcome::kPhantom;
    } else {
      reason = "outcome '" + visible(o) + "' is not AGENT, HANG or PHANTOM";
      return false;
    }
    if (f[0].empty() || f[1].empty()) {
      reason = "vru+line and call_id must not be empty";
      return false;
    }
    static constexpr StepNames kBankSteps = {"vru_entry", "vru_exit", "q_start",
                                             "q_exit",    "ser_start", "ser_exit"};
    if (!buildTimeline(raw, oc, out, corr_, reason, kBankSteps)) return false;
    out.id.assign(f[0]);
    out.id.push_back('-');
    out.id.append(f[1]);
    out.id.push_back('-');
    out.id.append(f[5]);
    if (f[2] == "0" || f[2].empty()) {
      out.customer.clear();
    } else {
      out.customer.assign(f[2]);
    }
    out.type.assign(f[4]);
    out.channel.assign("phone");
    out.priority = static_cast<int>(priority);
    if (out.outcome == Outcome::kAnswered && f[16] != "NO_SERVER") {
      out.agent.assign(f[16]);
    } else {
      out.agent.clear();
    }
    out.line = src_.lineNo();
    return true;
  }
};

}  // namespace

// Defined in call_log_mapping.cpp.
Result<std::unique_ptr<CallReader>> openMappedCallLog(const std::string& path,
                                                      const std::string& mappingFile);

Result<std::unique_ptr<CallReader>> openCallLog(const std::string& path,
                                                const std::string& format) {
  if (format == "anonymous-bank") {
    auto reader = std::make_unique<AnonymousBankReader>();
    if (auto s = reader->open(path); !s.ok()) return s;
    return std::unique_ptr<CallReader>(std::move(reader));
  }
  if (format.size() > 5 && format.compare(format.size() - 5, 5, ".toml") == 0) {
    return openMappedCallLog(path, format);
  }
  return Status::invalidArgument("unknown call-log format '" + visible(format) +
                                 "': expected 'anonymous-bank' or a mapping file *.toml");
}

}  // namespace kefu::calls
