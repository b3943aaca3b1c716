// SPDX-License-Identifier: Apache-2.0
//
// Pieces the call-log readers share: a buffered line source, field splitting, clock and
// date parsing, and the step that turns a row's raw times into a consistent CallRecord.
// Internal to kefu_calllog; tests include it to check the parsers directly.
#pragma once

#include <array>
#include <map>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "call_log.h"

namespace kefu::calls::detail {

constexpr int64_t kDayMs = 86'400'000;

// Reads a file through one large buffer and hands out its lines without the end of line
// (LF or CRLF). Lines are views into the buffer, valid until the next call.
class LineSource {
 public:
  LineSource() = default;
  ~LineSource();
  LineSource(const LineSource&) = delete;
  LineSource& operator=(const LineSource&) = delete;

  Status open(const std::string& path);
  bool next(std::string_view& line);
  // 1-based number of the line last returned.
  uint64_t lineNo() const { return lineNo_; }
  uint64_t bytesConsumed() const { return consumed_; }
  // Why reading stopped before the end of the file (a read error); empty after a clean end.
  const std::string& stopReason() const { return stopReason_; }
  // A line longer than kMaxLineBytes is skipped to its end of line (memory stays bounded)
  // and returned empty; longLine() is then its number and longLineReason() says why.
  uint64_t longLine() const { return longLine_; }
  std::string longLineReason() const;
  static constexpr size_t kMaxLineBytes = 16 << 20;

 private:
  bool fill();
  void skipLongLine();

  std::string path_;
  int fd_ = -1;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t lineNo_ = 0;
  uint64_t consumed_ = 0;
  uint64_t longLine_ = 0, longLineBytes_ = 0;
  std::string stopReason_;
};

// Splits `line` at `delim` into `out` (up to out.size() fields); returns the number of fields
// in the line, which may exceed out.size().
size_t splitFields(std::string_view line, char delim, std::string_view* out, size_t max);

// "7:02:47" or "07:02:47" -> milliseconds since midnight.
bool parseClock(std::string_view s, int64_t& ms);
// "990201" -> milliseconds since the epoch of that day's midnight (yy < 70 is 20yy).
bool parseYymmdd(std::string_view s, int64_t& dayMs);
bool parseInt(std::string_view s, int64_t& v);
// parseInt within [lo, hi]: numbers are range-checked so that none wraps silently.
inline bool parseIntIn(std::string_view s, int64_t lo, int64_t hi, int64_t& v) {
  return parseInt(s, v) && v >= lo && v <= hi;
}
// The range of priorities and of duration columns (seconds): what an int holds, and far
// below what milliseconds of an int64_t hold.
constexpr int64_t kMaxPriority = 2147483647, kMinPriority = -kMaxPriority - 1;
constexpr int64_t kMaxDurationSeconds = 2147483647;
// Dates a log may hold: 1970-01-01 (times before the epoch would read as "did not happen")
// to 9999-12-31; kEndMs is the first millisecond after.
constexpr int64_t kFirstYear = 1970, kLastYear = 9999;
constexpr int64_t kEndMs = 253'402'300'800'000;
// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d);
void civilFromDays(int64_t days, int64_t& y, unsigned& m, unsigned& d);
bool validDate(int64_t y, unsigned m, unsigned d);

// How a row says the call ended, before the times are checked. kHang is "hung up": abandoned
// in the queue if it waited there, else ended in the IVR.
enum class RawOutcome { kAnswered, kAbandoned, kIvr, kPhantom, kHang, kDerive };

enum Step { kArrival, kIvrExit, kQueueStart, kQueueExit, kServiceStart, kServiceEnd, kSteps };

struct RawTimes {
  // Date mode: t[] are milliseconds since midnight of dayMs, and a step that reads earlier
  // than the one before it by more than half a day belongs to the next day. Otherwise t[]
  // are milliseconds since the epoch.
  bool dateMode = true;
  int64_t dayMs = 0;
  std::array<int64_t, kSteps> t{-1, -1, -1, -1, -1, -1};
  // Duration columns, when the log has them (-1 if not): used to restore a step whose time
  // reads "0:00:00" (not applicable) but which happened at midnight, and to check the row.
  int64_t queueSeconds = -1;
  int64_t serviceSeconds = -1;
};

enum Correction {
  kIvrExitBeforeArrival,
  kQueueShifted,
  kServiceShifted,
  kMidnightRestored,
  kAnsweredWithoutService,
  kServiceOfUnansweredIgnored,
  kHangZeroWaitInIvr,
  kCrossedMidnight,
  kCorrections
};
const char* correctionName(Correction c);

using Corrections = std::array<uint64_t, kCorrections>;

// Fills the times and outcome of `out` from `raw`; false with `reason` for a row that cannot
// be used. The rules are in sdk-docs/call-logs.md.
// `names` are the source's names of the six steps, for messages.
using StepNames = std::array<const char*, kSteps>;
extern const StepNames kFieldStepNames;  // arrival, ivr_exit, queue_start, ...
bool buildTimeline(const RawTimes& raw, RawOutcome outcome, CallRecord& out,
                   Corrections& corrections, std::string& reason,
                   const StepNames& names = kFieldStepNames);

// "1:02:03" for messages.
std::string clockText(int64_t msOfDay);
using calls::visible;

// Counting, bad-row keeping and progress, common to every reader.
class ReaderBase : public CallReader {
 public:
  uint64_t rowsRead() const override { return rows_; }
  uint64_t badRowCount() const override { return badCount_; }
  const std::vector<BadRow>& badRows() const override { return bad_; }
  uint64_t bytesRead() const override { return src_.bytesConsumed(); }
  std::map<std::string, uint64_t> corrections() const override {
    std::map<std::string, uint64_t> m;
    for (int i = 0; i < kCorrections; ++i) {
      if (corr_[i]) m[correctionName(static_cast<Correction>(i))] = corr_[i];
    }
    return m;
  }

 protected:
  void addBad(uint64_t line, std::string reason) {
    ++badCount_;
    if (bad_.size() < kKeptBadRows) bad_.push_back({line, std::move(reason)});
  }
  // The row loop of every reader: blank lines are skipped, a row `parse` refuses and an
  // over-long line are kept as bad rows, and the end notes a source that stopped early. A
  // template, not a virtual parse step, so that the per-row call stays inlined.
  template <class Parse>
  bool nextRow(CallRecord& out, Parse&& parse) {
    std::string_view line;
    std::string reason;
    while (src_.next(line)) {
      if (line.empty()) {
        if (src_.longLine() == src_.lineNo()) {
          ++rows_;
          addBad(src_.lineNo(), src_.longLineReason());
        }
        continue;
      }
      ++rows_;
      if (parse(line, out, reason)) return true;
      addBad(src_.lineNo(), std::move(reason));
    }
    noteEnd();
    return false;
  }
  // At the end of the rows: a source that stopped early is reported as a bad row, so that
  // the unread rest of the file is never lost silently.
  void noteEnd() {
    if (!src_.stopReason().empty() && !endNoted_) {
      endNoted_ = true;
      addBad(src_.lineNo() + 1, src_.stopReason() + "; the rest of the file is not read");
    }
  }

  LineSource src_;
  uint64_t rows_ = 0;
  uint64_t badCount_ = 0;
  std::vector<BadRow> bad_;
  Corrections corr_{};
  bool endNoted_ = false;
};


}  // namespace kefu::calls::detail
