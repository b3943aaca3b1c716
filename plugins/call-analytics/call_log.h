// SPDX-License-Identifier: Apache-2.0
//
// Per-call logs: one record per call, read from a file as a stream.
//
// A record holds what a contact-center log knows of a call: when it arrived, how long it
// stayed in self-service (IVR), whether and when it joined an agent queue, when it was
// answered and ended, by whom, and how it ended. Times are milliseconds since the Unix epoch
// of the log's own wall clock (logs carry local time without a zone; Kefu keeps it as if it
// were UTC so that days and hours read as in the source). A step that did not happen is -1.
//
// The same record describes observed calls (read from a log) and simulated ones (written by
// `kefu replay`), so that one KPI computation serves both.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/status.h"

namespace kefu::calls {

enum class Outcome {
  kAnswered,         // served by an agent (attributed or not)
  kAbandonedInQueue, // joined the agent queue, then hung up
  kEndedInIvr,       // left in self-service, never queued
  kPhantom,          // a ghost record the source says to ignore; not offered
};
const char* outcomeName(Outcome o);

struct CallRecord {
  std::string id;        // unique within the log
  std::string customer;  // empty when the caller is anonymous
  std::string type;      // call or service type as the source names it ("PS", "claims")
  std::string channel = "phone";
  int priority = 0;
  int64_t arrivalMs = -1;  // entered the center (IVR entry)
  int64_t ivrExitMs = -1;
  int64_t queueStartMs = -1;  // -1: never queued
  int64_t queueExitMs = -1;
  int64_t serviceStartMs = -1;  // -1: not served
  int64_t serviceEndMs = -1;
  Outcome outcome = Outcome::kEndedInIvr;
  std::string agent;  // empty when the log names no agent
  // 1-based line of the source file, for messages; 0 for generated records.
  uint64_t line = 0;
  // Optional dense keys (1, 2, ...; 0: not given) of `customer`, `agent`, `type` and
  // `channel` that the
  // producer of a stream may set so that consumers index arrays instead of hashing the
  // names; within one stream a key always stands for the same name, and a name that has a
  // key has it on every record. A consumer given a key need not read the name (the KPIs
  // read no keyed customer's name). Readers leave them 0.
  uint32_t customerKey = 0, agentKey = 0, typeKey = 0, channelKey = 0;
};

// A row the reader could not use, with the reason ("line 812: q_exit 7:01:02 is before
// q_start 7:03:00"). Bad rows are skipped, counted and reported; they never stop a run.
struct BadRow {
  uint64_t line = 0;
  std::string reason;
};

class CallReader {
 public:
  virtual ~CallReader() = default;
  // Reads the next good record; false at the end of the file. Records come in file order,
  // not necessarily in arrival order.
  virtual bool next(CallRecord& out) = 0;
  // Rows read so far, good and bad, and the bad ones (the first `kKeptBadRows` in full).
  virtual uint64_t rowsRead() const = 0;
  virtual uint64_t badRowCount() const = 0;
  virtual const std::vector<BadRow>& badRows() const = 0;
  static constexpr size_t kKeptBadRows = 1000;
  // Bytes of the file consumed so far, for progress bars.
  virtual uint64_t bytesRead() const { return 0; }
  // Good rows the reader had to adjust, by kind ("service start before IVR exit, shifted
  // to it": 9975); the adjustments are documented in sdk-docs/call-logs.md.
  virtual std::map<std::string, uint64_t> corrections() const { return {}; }
};

// `format` is "anonymous-bank" or the path of a TOML mapping file (column -> field, time
// format; see sdk-docs/call-logs.md). InvalidArgument names the file, and for a mapping
// the line, column and key at fault.
Result<std::unique_ptr<CallReader>> openCallLog(const std::string& path,
                                                const std::string& format);

// `s` with control characters written as \r, \t, \xNN, so that messages about a file's
// values show them instead of acting on the terminal.
std::string visible(std::string_view s);

}  // namespace kefu::calls
