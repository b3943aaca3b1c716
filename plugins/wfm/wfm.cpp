// SPDX-License-Identifier: Apache-2.0
//
// wfm: workforce management. Provides the StaffingCalculator (Erlang C, Erlang A with
// patience), the `kefu wfm staff` command for one interval or a CSV of intervals, and the
// forecast commands `kefu wfm forecast` and `kefu wfm accuracy`.
#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <ostream>

#include <fmt/format.h>

#include "kefu/sdk.h"
#include "kefu/wfm.h"
#include "forecast.h"
#include "staffing.h"

namespace {

// Reads a number option; a malformed value is a command-line error (exit code 2).
bool numberOption(const kefu::CliArgs& args, const char* name, double& out, kefu::CliIo& io,
                  const char* command = "staff") {
  if (!args.has(name)) return true;
  std::string v = args.get(name);
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size() || !std::isfinite(out)) {
    io.err << "kefu wfm " << command << ": " << name << ": '" << v << "' is not a number\n";
    return false;
  }
  return true;
}

class WfmPlugin : public kefu::Plugin {
 public:
  kefu::Status configure(kefu::HostContext& ctx) override {
    calc_ = std::make_shared<kefu::wfm::ErlangStaffing>();
    if (auto s = ctx.services().provide<kefu::StaffingCalculator>(calc_); !s.ok()) return s;
    kefu::Status s = ctx.cli().add(
        {{"wfm", "staff"},
         "Agents needed for a contact rate and handle time (Erlang C, or Erlang A with "
         "--patience); prints one JSON object, or staffs a CSV of intervals with --batch",
         {{"--rate", "Contacts per hour (not with --batch)"},
          {"--aht", "Average handle time in seconds (--batch: for rows without aht_seconds)"},
          {"--interval-minutes", "Interval length in minutes", false, false, "30"},
          {"--sl-target", "Service-level target as a fraction, e.g. 0.8"},
          {"--sl-seconds", "Service-level threshold in seconds", false, false, "20"},
          {"--asa-target", "Average speed of answer target in seconds"},
          {"--patience", "Mean caller patience in seconds (Erlang A)"},
          {"--shrinkage", "Share of paid time agents are unavailable, e.g. 0.3"},
          {"--max-occupancy", "Maximum occupancy as a fraction, e.g. 0.85"},
          {"--concurrency", "Contacts an agent handles at once (chat)", false, false, "1"},
          {"--batch", "CSV of intervals (volume or rate_per_hour, optional aht_seconds)"},
          {"--out", "Where --batch writes its CSV (default: standard output)"}},
         [this](const kefu::CliArgs& a, kefu::CliIo& io) { return staffCommand(a, io); }});
    if (!s.ok()) return s;
    s = ctx.cli().add(
        {{"wfm", "forecast"},
         "Forecast contact volume and handle time per interval from history, with an event "
         "calendar; writes CSV interval_start,channel,volume,aht_seconds,...",
         {{"--history", "Interval CSV or per-call log (see sdk-docs/wfm.md)", true},
          {"--start", "First day to forecast, YYYY-MM-DD; later history is ignored", true},
          {"--days", "Days to forecast", false, false, "7"},
          {"--interval-minutes", "Interval length: 15, 30 or 60", false, false, "30"},
          {"--events", "Event calendar TOML (holidays, campaigns, ...)", false, false, "",
           true},
          {"--level", "Coverage of the prediction interval", false, false, "0.8"},
          {"--out", "Where to write the CSV (default: standard output)"}},
         [](const kefu::CliArgs& a, kefu::CliIo& io) { return forecastCommand(a, io); }});
    if (!s.ok()) return s;
    return ctx.cli().add(
        {{"wfm", "accuracy"},
         "Compare a forecast CSV with actuals: WAPE and bias per day and channel, then in all",
         {{"--forecast", "CSV written by kefu wfm forecast", true},
          {"--actuals", "History file with the actual volumes (same formats as --history)",
           true},
          {"--interval-minutes", "Interval length of the forecast", false, false, "30"},
          {"--out", "Where to write the CSV (default: standard output)"}},
         [](const kefu::CliArgs& a, kefu::CliIo& io) { return accuracyCommand(a, io); }});
  }
  kefu::Status start() override { return {}; }
  void stop() override {}

 private:
  static bool intervalOption(const kefu::CliArgs& args, const char* command, int& minutes,
                             kefu::CliIo& io) {
    double m = 30;
    if (!numberOption(args, "--interval-minutes", m, io, command)) return false;
    if (m != 15 && m != 30 && m != 60) {
      io.err << "kefu wfm " << command << ": --interval-minutes must be 15, 30 or 60\n";
      return false;
    }
    minutes = static_cast<int>(m);
    return true;
  }

  // Opens --out, or leaves `file` closed for standard output.
  static std::ostream* output(const kefu::CliArgs& args, std::ofstream& file, kefu::CliIo& io,
                              const char* command) {
    if (!args.has("--out")) return &io.out;
    file.open(args.get("--out"));
    if (!file) {
      io.err << "kefu wfm " << command << ": cannot write " << args.get("--out") << "\n";
      return nullptr;
    }
    return &file;
  }

  static int forecastCommand(const kefu::CliArgs& args, kefu::CliIo& io) {
    kefu::wfm::ForecastOptions o;
    int minutes = 30;
    double days = 7;
    if (!intervalOption(args, "forecast", minutes, io) ||
        !numberOption(args, "--days", days, io, "forecast") ||
        !numberOption(args, "--level", o.level, io, "forecast")) {
      return 2;
    }
    if (days != std::floor(days) || days < 1 || days > 366) {
      io.err << "kefu wfm forecast: --days must be a whole number from 1 to 366\n";
      return 2;
    }
    if (!(o.level > 0 && o.level < 1)) {
      io.err << "kefu wfm forecast: --level must be a fraction between 0 and 1, e.g. 0.8\n";
      return 2;
    }
    o.days = static_cast<int>(days);
    if (!kefu::wfm::parseIsoDate(args.get("--start"), o.start)) {
      io.err << "kefu wfm forecast: --start: '" << args.get("--start")
             << "' is not a date YYYY-MM-DD\n";
      return 2;
    }
    std::vector<kefu::wfm::Event> events;
    for (const std::string& path : args.getAll("--events")) {
      if (path.empty()) continue;
      auto e = kefu::wfm::loadEvents(path);
      if (!e.ok()) {
        io.err << "kefu wfm forecast: " << e.status().message() << "\n";
        return 2;
      }
      events.insert(events.end(), e->begin(), e->end());
    }
    std::string path = args.get("--history");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      io.err << "kefu wfm forecast: cannot open " << path << "\n";
      return 1;
    }
    auto history = kefu::wfm::readHistory(path, in, minutes);
    if (!history.ok()) {
      io.err << "kefu wfm forecast: " << history.status().message() << "\n";
      return 2;
    }
    std::vector<std::string> notes;
    auto rows = kefu::wfm::forecast(*history, events, o, &notes);
    if (!rows.ok()) {
      io.err << "kefu wfm forecast: " << rows.status().message() << "\n";
      return 2;
    }
    std::ofstream file;
    std::ostream* out = output(args, file, io, "forecast");
    if (!out) return 1;
    kefu::wfm::writeForecastCsv(*out, *rows, minutes);
    out->flush();
    if (!*out) {
      io.err << "kefu wfm forecast: writing the forecast failed\n";
      return 1;
    }
    for (const auto& n : notes) io.err << "kefu wfm forecast: " << n << "\n";
    io.err << fmt::format("kefu wfm forecast: {} intervals of {} channel(s){}\n", rows->size(),
                          history->series.size(),
                          history->hasHandleTimes ? "" : "; the history has no handle times");
    return 0;
  }

  static int accuracyCommand(const kefu::CliArgs& args, kefu::CliIo& io) {
    int minutes = 30;
    if (!intervalOption(args, "accuracy", minutes, io)) return 2;
    std::string apath = args.get("--actuals"), fpath = args.get("--forecast");
    std::ifstream ain(apath, std::ios::binary), fin(fpath, std::ios::binary);
    if (!ain || !fin) {
      io.err << "kefu wfm accuracy: cannot open " << (!ain ? apath : fpath) << "\n";
      return 1;
    }
    auto actuals = kefu::wfm::readHistory(apath, ain, minutes);
    if (!actuals.ok()) {
      io.err << "kefu wfm accuracy: " << actuals.status().message() << "\n";
      return 2;
    }
    std::ofstream file;
    std::ostream* out = output(args, file, io, "accuracy");
    if (!out) return 1;
    std::string summary;
    kefu::Status s = kefu::wfm::accuracy(fpath, fin, *actuals, *out, &summary);
    if (!s.ok()) {
      io.err << "kefu wfm accuracy: " << s.message() << "\n";
      return 2;
    }
    out->flush();
    io.err << "kefu wfm accuracy: " << summary << "\n";
    return 0;
  }

  int staffCommand(const kefu::CliArgs& args, kefu::CliIo& io) {
    kefu::StaffingQuery q;
    double minutes = 30, slTarget = NAN, asa = NAN, maxOcc = NAN, conc = 1;
    if (!numberOption(args, "--rate", q.contactsPerHour, io) ||
        !numberOption(args, "--aht", q.ahtSeconds, io) ||
        !numberOption(args, "--interval-minutes", minutes, io) ||
        !numberOption(args, "--sl-target", slTarget, io) ||
        !numberOption(args, "--sl-seconds", q.slSeconds, io) ||
        !numberOption(args, "--asa-target", asa, io) ||
        !numberOption(args, "--patience", q.patienceSeconds, io) ||
        !numberOption(args, "--shrinkage", q.shrinkage, io) ||
        !numberOption(args, "--max-occupancy", maxOcc, io) ||
        !numberOption(args, "--concurrency", conc, io)) {
      return 2;
    }
    if (!(minutes >= 1 && minutes <= 1440) || minutes != std::floor(minutes)) {
      io.err << "kefu wfm staff: --interval-minutes must be a whole number from 1 to 1440\n";
      return 2;
    }
    if (conc != std::floor(conc) || conc < 1 || conc > 100) {
      io.err << "kefu wfm staff: --concurrency must be a whole number from 1 to 100\n";
      return 2;
    }
    q.concurrency = static_cast<int>(conc);
    if (!std::isnan(slTarget)) q.serviceLevel = slTarget;
    if (!std::isnan(asa)) q.asaSeconds = asa;
    if (!std::isnan(maxOcc)) q.maxOccupancy = maxOcc;
    if (!q.serviceLevel && !q.asaSeconds && !q.maxOccupancy) {
      io.err << "kefu wfm staff: give a target: --sl-target, --asa-target or "
                "--max-occupancy\n";
      return 2;
    }
    int interval = static_cast<int>(minutes);
    if (args.has("--batch")) {
      if (args.has("--rate")) {
        io.err << "kefu wfm staff: --rate and --batch exclude each other\n";
        return 2;
      }
      std::string path = args.get("--batch");
      std::ifstream in(path);
      if (!in) {
        io.err << "kefu wfm staff: cannot open " << path << "\n";
        return 1;
      }
      std::ofstream file;
      if (args.has("--out")) {
        file.open(args.get("--out"));
        if (!file) {
          io.err << "kefu wfm staff: cannot write " << args.get("--out") << "\n";
          return 1;
        }
      }
      std::ostream& out = args.has("--out") ? static_cast<std::ostream&>(file) : io.out;
      auto t0 = std::chrono::steady_clock::now();
      int64_t rows = 0;
      kefu::Status s = kefu::wfm::staffBatch(*calc_, path, in, out, q, interval, &rows);
      out.flush();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!s.ok()) {
        io.err << "kefu wfm staff: " << s.message() << "\n";
        return 2;
      }
      io.err << fmt::format("kefu wfm staff: staffed {} intervals in {:.3f} s\n", rows, secs);
      return 0;
    }
    if (!args.has("--rate") || !args.has("--aht")) {
      io.err << "kefu wfm staff: give --rate and --aht, or --batch FILE\n";
      return 2;
    }
    auto answer = calc_->staff(q);
    if (!answer.ok()) {
      io.err << "kefu wfm staff: " << answer.status().message() << "\n";
      return answer.status().code() == kefu::StatusCode::kInvalidArgument ? 2 : 1;
    }
    io.out << kefu::wfm::answerJson(q, *answer, interval) << "\n";
    return 0;
  }

  std::shared_ptr<kefu::wfm::ErlangStaffing> calc_;
};

kefu::PluginInfo wfmInfo() {
  kefu::PluginInfo info;
  info.description =
      "Workforce management: contact forecasting and staffing by Erlang C and Erlang A";
  info.kinds = {"wfm"};
  info.provides = {kefu::StaffingCalculator::kInterfaceName};
  return info;
}

}  // namespace

KEFU_PLUGIN(WfmPlugin, "wfm", "0.1.0", wfmInfo)
