// SPDX-License-Identifier: Apache-2.0
//
// call-analytics: `kefu report` reads a per-call log (anonymous-bank format or a TOML column
// mapping), computes the Annex A KPIs the log can give and writes report.json and a
// self-contained report.html. It runs without a deployment: the host enables this plugin on
// a throw-away one when no --config is given.
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <ostream>

#include <nlohmann/json.hpp>

#include "call_log.h"
#include "kefu/sdk.h"
#include "kpi.h"

namespace kefu::calls {
namespace {

using Json = nlohmann::json;

bool intOption(const CliArgs& a, const char* name, int64_t lo, int64_t hi, int64_t& out,
               std::ostream& err) {
  std::string s = a.get(name);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || out < lo ||
      out > hi) {
    err << "kefu report: " << name << " must be a whole number from " << lo << " to " << hi
        << " (got '" << s << "')\n";
    return false;
  }
  return true;
}

// A one-line progress bar on a terminal, redrawn when the percentage changes.
class Progress {
 public:
  Progress(std::ostream& err, uint64_t total)
      : err_(err), total_(total), on_(total > 0 && ::isatty(STDERR_FILENO)) {}
  void update(uint64_t done, uint64_t rows) {
    if (!on_) return;
    int pct = static_cast<int>(done * 100 / total_);
    if (pct == last_) return;
    last_ = pct;
    int filled = pct * 30 / 100;
    err_ << "\r[" << std::string(filled, '#') << std::string(30 - filled, ' ') << "] " << pct
         << "% " << rows << " rows" << std::flush;
  }
  void done() {
    if (on_ && last_ >= 0) err_ << "\r" << std::string(60, ' ') << "\r" << std::flush;
  }

 private:
  std::ostream& err_;
  uint64_t total_;
  bool on_;
  int last_ = -1;
};

std::string pct(const Json& v) {
  if (!v.is_number()) return "no data";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", v.get<double>() * 100);
  return buf;
}

std::string secs(const Json& v) {
  if (!v.is_number()) return "no data";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", v.get<double>());
  return buf;
}

int runReport(const CliArgs& a, CliIo& io) {
  const std::string file = a.get("--calls"), format = a.get("--format", "anonymous-bank");
  const std::string outDir = a.get("--out");
  KpiOptions o;
  int64_t sl, shortAb, window, interval, gap;
  if (!intOption(a, "--sl-seconds", 1, 3600, sl, io.err) ||
      !intOption(a, "--short-abandon-seconds", 0, 600, shortAb, io.err) ||
      !intOption(a, "--repeat-window-hours", 1, 24 * 366, window, io.err) ||
      !intOption(a, "--interval-minutes", 1, 1440, interval, io.err) ||
      !intOption(a, "--shift-gap-minutes", 1, 1440, gap, io.err)) {
    return 2;
  }
  if (1440 % interval != 0) {
    io.err << "kefu report: --interval-minutes must divide the day (1440 min), e.g. 15, 30 "
              "or 60 (got "
           << interval << ")\n";
    return 2;
  }
  o.serviceLevelThreshold = std::chrono::seconds(sl);
  o.shortAbandonThreshold = std::chrono::seconds(shortAb);
  o.repeatWindow = std::chrono::hours(window);
  o.interval = std::chrono::minutes(interval);
  o.shiftGap = std::chrono::minutes(gap);
  o.pseudonymiseAgents = a.has("--pseudonymise-agents");  // the host honours =no

  auto reader = openCallLog(file, format);
  if (!reader.ok()) {
    io.err << "kefu report: " << reader.status().message() << "\n";
    return 2;
  }
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(file, ec);
  Progress progress(io.err, ec ? 0 : size);
  KpiAccumulator acc(o);
  CallRecord rec;
  uint64_t n = 0;
  while ((*reader)->next(rec)) {
    acc.add(rec);
    if ((++n & 0xFFFF) == 0) progress.update((*reader)->bytesRead(), (*reader)->rowsRead());
  }
  progress.done();
  CallReader& r = **reader;

  Json report = acc.finish();
  report["input"] = inputSummary(file, format, r);

  io.err << "kefu report: " << r.rowsRead() << " rows read from " << file << ", "
         << r.badRowCount() << " bad row" << (r.badRowCount() == 1 ? "" : "s") << " skipped\n";
  for (size_t i = 0; i < r.badRows().size() && i < 5; ++i) {
    io.err << "  " << file << ":" << r.badRows()[i].line << ": " << r.badRows()[i].reason
           << "\n";
  }
  if (n == 0) {
    // An empty report of a file that holds no usable call is a wrong input, not a result.
    io.err << "kefu report: " << file
           << (r.rowsRead() == 0 ? " has no call rows" : ": no row could be used")
           << "; nothing written\n";
    return 2;
  }
  if (r.badRowCount() > 5) io.err << "  ... (the first 20 are in report.json)\n";

  if (auto s = writeReport(outDir, report, nullptr); !s.ok()) {
    io.err << "kefu report: " << s.message() << "\n";
    return 1;
  }
  const Json& t = report["totals"];
  const Json& k = t["kpis"];
  io.out << "offered " << t["offered"] << ", answered " << t["answered"]
         << ", abandoned in queue " << t["abandoned_in_queue"] << ", ended in IVR "
         << t["ended_in_ivr"] << ", phantom " << t["phantom"] << "\n"
         << "answer rate " << pct(k["answer_rate"]) << ", service level ("
         << sl << " s) " << pct(k["service_level"]) << ", ASA " << secs(k["asa_seconds"])
         << ", abandonment " << pct(k["abandonment_rate"]) << "\n"
         << "report: " << (std::filesystem::path(outDir) / "report.html").string() << " and "
         << (std::filesystem::path(outDir) / "report.json").string() << "\n";
  return 0;
}

class CallAnalytics : public Plugin {
 public:
  Status configure(HostContext& ctx) override {
    return ctx.cli().add(
        {{"report"},
         "Compute the KPIs of a per-call log and write report.json and report.html",
         {{"--calls", "Call log file", true},
          {"--format", "anonymous-bank, or a TOML column mapping file (*.toml)", false, false,
           "anonymous-bank"},
          {"--out", "Report directory (created if needed)", true},
          {"--sl-seconds", "Service-level threshold in seconds", false, false, "20"},
          {"--short-abandon-seconds", "Abandons sooner than this are short", false, false,
           "5"},
          {"--repeat-window-hours", "A repeat contact within this window is not resolved",
           false, false, "72"},
          {"--interval-minutes", "Width of the per-interval series", false, false, "30"},
          {"--shift-gap-minutes", "Services further apart start a new inferred shift block",
           false, false, "30"},
          {"--pseudonymise-agents", "Write agent-01, agent-02, ... instead of agent names",
           false, true}},
         runReport});
  }
  Status start() override { return {}; }
  void stop() override {}
};

PluginInfo callAnalyticsInfo() {
  PluginInfo info;
  info.description = "Call-log import and Annex A KPI reports (kefu report)";
  info.kinds = {"analytics"};
  info.maturity = Maturity::kBeta;
  return info;
}

}  // namespace
}  // namespace kefu::calls

KEFU_PLUGIN(kefu::calls::CallAnalytics, "call-analytics", "0.1.0",
            kefu::calls::callAnalyticsInfo)
