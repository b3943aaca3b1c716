// SPDX-License-Identifier: Apache-2.0
//
// The KPIs of a set of call records (the standard's Annex A, where a call log can give
// them), accumulated one record at a time so that logs of any size stream through.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "call_log.h"

namespace kefu::calls {

struct KpiOptions {
  std::chrono::seconds serviceLevelThreshold{20};
  std::chrono::seconds shortAbandonThreshold{5};
  // A second contact by the same (identified) customer within this window means the first
  // was not resolved (first-contact resolution).
  std::chrono::hours repeatWindow{72};
  // Width of the intervals of the per-interval series and charts. It must divide the day;
  // another width is replaced by 30 min (report.json's options show the width used).
  std::chrono::minutes interval{30};
  // Inferred presence: an agent's services less than this apart belong to one shift block.
  std::chrono::minutes shiftGap{30};
  // Replace agent names by stable pseudonyms ("agent-01", ...) in everything written.
  bool pseudonymiseAgents = false;
};

class KpiAccumulator {
 public:
  explicit KpiAccumulator(KpiOptions options);
  ~KpiAccumulator();
  KpiAccumulator(const KpiAccumulator&) = delete;
  KpiAccumulator& operator=(const KpiAccumulator&) = delete;

  // A record without an arrival time is not counted anywhere except in
  // totals.ignored_without_arrival.
  void add(const CallRecord& call);
  // Room for the per-contact state of `records` records, when the caller knows how many
  // will come: spares the copies of growing it.
  void reserve(size_t records);
  // Agent presence for utilization, if known: the agent was signed in over [fromMs, toMs).
  // Without it, paid time is inferred from the log (and the report says so).
  void addPresence(const std::string& agent, int64_t fromMs, int64_t toMs);

  // The report object: "totals" (offered, answered, abandoned_in_queue, ended_in_ivr and
  // the KPIs for the whole period), then per day, week, month, type/channel, queue, agent
  // and interval; KPIs without data are null with a "no data" note, approximations are
  // named in "approximations".
  nlohmann::json finish() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The "input" object of report.json: file and format names, rows, bad rows (the first 20
// as samples) and corrections, as read by `reader` after its last row.
nlohmann::json inputSummary(const std::string& file, const std::string& format,
                            const CallReader& reader);

// Writes DIR/report.json and a self-contained DIR/report.html (no network access needed to
// view it). `simulated`, when not null, is shown beside `observed` (the replay's output).
Status writeReport(const std::string& dir, const nlohmann::json& observed,
                   const nlohmann::json* simulated);

}  // namespace kefu::calls
