// SPDX-License-Identifier: Apache-2.0
//
// wfm: workforce management. Provides the StaffingCalculator (Erlang C, Erlang A with
// patience), the `kefu wfm staff` command for one interval or a CSV of intervals, the
// forecast commands `kefu wfm forecast` and `kefu wfm accuracy`, shift scheduling
// (`kefu wfm schedule`), published schedules (`kefu wfm publish`, /api/v1/wfm/schedules) and
// their review (`kefu wfm adherence`, /api/v1/wfm/adherence).
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <numeric>
#include <ostream>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "kefu/sdk.h"
#include "kefu/wfm.h"
#include "forecast.h"
#include "schedule.h"
#include "schedule_store.h"
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

// "+08:00" -> 480.
bool parseUtcOffset(const std::string& v, int64_t& minutes) {
  int h = 0, m = 0;
  if (v.size() != 6 || (v[0] != '+' && v[0] != '-') || v[3] != ':' ||
      std::sscanf(v.c_str() + 1, "%2d:%2d", &h, &m) != 2 || h > 14 || m > 59) {
    return false;
  }
  minutes = (v[0] == '-' ? -1 : 1) * (h * 60 + m);
  return true;
}

// Where a command writes a file: into "<target>.tmp" beside it, renamed over the target only
// when the command succeeds, so that a refused or failed run leaves the target as it was
// (it may be the command's own input). Opened before the work so that an unwritable
// directory is reported before a long search. A target that exists and is not a regular
// file, or is a symbolic link (/dev/stdout, a pipe), is written directly: renaming over it
// would replace the link or device itself.
class OutputFile {
 public:
  OutputFile(const char* command, kefu::CliIo& io) : command_(command), io_(io) {}
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile() {
    if (!tmp_.empty()) std::remove(tmp_.c_str());
  }

  // Opens `option`'s file; false (with a message) when it cannot be written.
  bool open(const std::string& option, const std::string& path) {
    option_ = option;
    target_ = path;
    std::error_code ec;
    auto st = std::filesystem::symlink_status(path, ec);
    bool direct = std::filesystem::exists(st) && !std::filesystem::is_regular_file(st);
    if (std::filesystem::is_directory(std::filesystem::status(path, ec))) {
      io_.err << "kefu wfm " << command_ << ": " << option << ": " << path
              << " is a directory\n";
      return false;
    }
    if (!direct) tmp_ = path + ".tmp";
    file_.open(direct ? path : tmp_, std::ios::binary | std::ios::trunc);
    if (!file_) {
      tmp_.clear();  // nothing was created
      io_.err << "kefu wfm " << command_ << ": " << option << ": cannot write " << path
              << "\n";
      return false;
    }
    return true;
  }

  std::ostream& stream() { return file_; }

  // Flushes and puts the file in place; false (with a message) when that fails.
  bool commit() {
    file_.flush();
    bool ok = static_cast<bool>(file_);
    file_.close();
    ok = ok && !file_.fail();
    if (ok && !tmp_.empty() && std::rename(tmp_.c_str(), target_.c_str()) != 0) ok = false;
    if (!ok) {
      io_.err << "kefu wfm " << command_ << ": " << option_ << ": writing " << target_
              << " failed\n";
      return false;
    }
    tmp_.clear();
    return true;
  }

 private:
  const char* command_;
  kefu::CliIo& io_;
  std::string option_, target_, tmp_;
  std::ofstream file_;
};

class WfmPlugin : public kefu::Plugin {
 public:
  kefu::Status configure(kefu::HostContext& ctx) override {
    ctx_ = &ctx;
    const kefu::ConfigValue& cfg = ctx.config();
    if (!parseUtcOffset(cfg.getString("utc_offset", "+00:00"), utcOffset_)) {
      return cfg.error("utc_offset", "must be an offset from UTC \"+HH:MM\", e.g. \"+08:00\"");
    }
    if (cfg.has("shifts_file")) {
      shiftsFile_ = ctx.resolvePath(cfg.getString("shifts_file", "")).string();
      // Checked now so that `kefu check` names a bad template file.
      auto shifts = kefu::wfm::loadShiftConfig(shiftsFile_);
      if (!shifts.ok()) return cfg.error("shifts_file", shifts.status().message());
      for (const auto& w : shifts->warnings) ctx.logger().warn("shifts_file: {}", w);
    }
    if (auto s = addScheduleCommands(ctx); !s.ok()) return s;
    if (auto s = addRoutes(ctx); !s.ok()) return s;
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
  std::vector<kefu::Migration> migrations() const override {
    return kefu::wfm::scheduleMigrations();
  }
  kefu::Status start() override { return {}; }
  void stop() override {}

 private:
  // ---- scheduling, publishing and review ------------------------------------------------

  kefu::Status addScheduleCommands(kefu::HostContext& ctx) {
    kefu::Status s = ctx.cli().add(
        {{"wfm", "schedule"},
         "Shift schedule covering a requirement per interval under the templates' labour "
         "rules; writes CSV agent,template,date,start,end,breaks",
         {{"--requirements", "CSV with interval_start and required or agents (wfm staff)", true},
          {"--shifts", "Shift templates TOML (default: the plugin's shifts_file)"},
          {"--start", "First day, YYYY-MM-DD", true},
          {"--days", "Days to schedule", false, false, "7"},
          {"--interval-minutes", "Interval length of the requirement", false, false, "30"},
          {"--out", "Where to write the schedule CSV (default: standard output)"},
          {"--replay-out", "Also write the schedule as start,end,agent for kefu replay"},
          {"--instance-out", "Also write the problem as JSON for an external solver"},
          {"--seed", "Seed of the local search", false, false, "1"},
          {"--moves", "Moves of each annealing (0: 10,000 per agent and day)", false, false,
           "0"},
          {"--time-limit", "Seconds the search may take at most", false, false, "60"},
          {"--threads", "Searches run side by side (the best is kept)", false, false, "2"}},
         [this](const kefu::CliArgs& a, kefu::CliIo& io) { return scheduleCommand(a, io); }});
    if (!s.ok()) return s;
    s = ctx.cli().add(
        {{"wfm", "publish"},
         "Store a schedule CSV (kefu wfm schedule) as the next published version",
         {{"--schedule", "Schedule CSV", true},
          {"--note", "What this version is, e.g. 'week 49, second draft'"}},
         [this](const kefu::CliArgs& a, kefu::CliIo& io) { return publishCommand(a, io); }});
    if (!s.ok()) return s;
    return ctx.cli().add(
        {{"wfm", "adherence"},
         "Adherence, realization and absenteeism of the published schedule from the agents' "
         "recorded states; prints JSON",
         {{"--from", "First day, YYYY-MM-DD (local)", true},
          {"--to", "Last day, YYYY-MM-DD (local, included)", true},
          {"--version", "Schedule version (default: the newest)"},
          {"--agent", "Only this agent"},
          {"--interval-minutes", "Interval of the realization series", false, false, "30"}},
         [this](const kefu::CliArgs& a, kefu::CliIo& io) { return adherenceCommand(a, io); }});
  }

  static bool wholeOption(const kefu::CliArgs& args, const char* command, const char* name,
                          double lo, double hi, double& out, kefu::CliIo& io) {
    if (!numberOption(args, name, out, io, command)) return false;
    if (out != std::floor(out) || out < lo || out > hi) {
      io.err << fmt::format("kefu wfm {}: {} must be a whole number from {} to {}\n", command,
                            name, lo, hi);
      return false;
    }
    return true;
  }

  int scheduleCommand(const kefu::CliArgs& args, kefu::CliIo& io) {
    int minutes = 30;
    double days = 7, seed = 1, moves = 0, limit = 60, threads = 2;
    if (!intervalOption(args, "schedule", minutes, io) ||
        !wholeOption(args, "schedule", "--days", 1, 62, days, io) ||
        !wholeOption(args, "schedule", "--seed", 0, 1e15, seed, io) ||
        !wholeOption(args, "schedule", "--moves", 0, 1e12, moves, io) ||
        !wholeOption(args, "schedule", "--threads", 1, 16, threads, io) ||
        !numberOption(args, "--time-limit", limit, io, "schedule")) {
      return 2;
    }
    if (!(limit > 0)) {
      io.err << "kefu wfm schedule: --time-limit must be a number of seconds > 0\n";
      return 2;
    }
    // Each output has its own temporary file beside it: one path twice would clash.
    std::set<std::string> targets;
    for (const char* opt : {"--out", "--replay-out", "--instance-out"}) {
      if (args.has(opt) && !targets.insert(args.get(opt)).second) {
        io.err << "kefu wfm schedule: " << opt << ": " << args.get(opt)
               << " is already another output\n";
        return 2;
      }
    }
    int64_t start = 0;
    if (!kefu::wfm::parseIsoDate(args.get("--start"), start)) {
      io.err << "kefu wfm schedule: --start: '" << args.get("--start")
             << "' is not a date YYYY-MM-DD\n";
      return 2;
    }
    std::string shiftsPath = args.get("--shifts", shiftsFile_);
    if (shiftsPath.empty()) {
      io.err << "kefu wfm schedule: give --shifts FILE or shifts_file in [plugins.wfm]\n";
      return 2;
    }
    auto cfg = kefu::wfm::loadShiftConfig(shiftsPath);
    if (!cfg.ok()) {
      io.err << "kefu wfm schedule: " << cfg.status().message() << "\n";
      return cfg.status().code() == kefu::StatusCode::kNotFound ? 1 : 2;
    }
    std::string reqPath = args.get("--requirements");
    std::ifstream in(reqPath, std::ios::binary);
    if (!in) {
      io.err << "kefu wfm schedule: cannot open " << reqPath << "\n";
      return 1;
    }
    int missing = 0, outside = 0;
    auto req = kefu::wfm::readRequirement(reqPath, in, start, static_cast<int>(days), minutes,
                                          &missing, &outside);
    if (!req.ok()) {
      io.err << "kefu wfm schedule: " << req.status().message() << "\n";
      return 2;
    }
    for (const auto& w : cfg->warnings) io.err << "kefu wfm schedule: warning: " << w << "\n";
    if (outside) {
      io.err << fmt::format("kefu wfm schedule: warning: {} row(s) of {} outside the {} day(s) "
                            "from {} are left out\n",
                            outside, reqPath, static_cast<int>(days), args.get("--start"));
    }
    // Opened before the search so that an unwritable place is reported at once.
    std::unique_ptr<OutputFile> file;
    std::ostream* out = output(args, file, io, "schedule");
    if (!out) return 1;
    std::unique_ptr<OutputFile> replayOut, instanceOut;
    for (auto [opt, f] : {std::pair{"--replay-out", &replayOut},
                          std::pair{"--instance-out", &instanceOut}}) {
      if (!args.has(opt)) continue;
      *f = std::make_unique<OutputFile>("schedule", io);
      if (!(*f)->open(opt, args.get(opt))) return 1;
    }
    kefu::wfm::ScheduleOptions o;
    o.seed = static_cast<uint64_t>(seed);
    o.moves = static_cast<int64_t>(moves);
    o.timeLimitSeconds = limit;
    o.threads = static_cast<int>(threads);
    auto t0 = std::chrono::steady_clock::now();
    auto result = kefu::wfm::schedule(*cfg, *req, o);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!result.ok()) {
      io.err << "kefu wfm schedule: " << result.status().message() << "\n";
      return 2;
    }
    kefu::wfm::writeScheduleCsv(*out, result->shifts);
    if (replayOut) kefu::wfm::writeReplaySchedule(replayOut->stream(), result->shifts);
    if (instanceOut) kefu::wfm::writeInstanceJson(instanceOut->stream(), *cfg, *req, *result);
    if (!finish(*out, file, io, "schedule") || (replayOut && !replayOut->commit()) ||
        (instanceOut && !instanceOut->commit())) {
      return 1;
    }
    if (missing) {
      io.err << fmt::format("kefu wfm schedule: {} interval(s) missing from {} require nobody\n",
                            missing, reqPath);
    }
    double hours = req->intervalMinutes / 60.0;
    double required = std::accumulate(req->required.begin(), req->required.end(), 0.0);
    if (result->shifts.empty() && required > 0) {
      // Rules that each allow a tour may still clash together (sdk-docs/known-limitations.md).
      io.err << fmt::format("kefu wfm schedule: warning: no shift scheduled for {:.2f} "
                            "agent-hours required: no tour lowers the cost, or the templates' "
                            "rules clash\n",
                            required * hours);
    }
    io.err << fmt::format(
        "kefu wfm schedule: {{\"objective\":{:.4f},\"under_agent_hours\":{:.2f},"
        "\"over_agent_hours\":{:.2f},\"shifts\":{},\"agents_used\":{},\"agents_available\":{},"
        "\"moves\":{},\"seconds\":{:.2f}}}\n",
        result->objective, result->under * hours, result->over * hours, result->shifts.size(),
        result->agentsUsed, result->agentsAvailable, result->moves, secs);
    return 0;
  }

  int publishCommand(const kefu::CliArgs& args, kefu::CliIo& io) {
    std::string path = args.get("--schedule");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      io.err << "kefu wfm publish: cannot open " << path << "\n";
      return 1;
    }
    auto shifts = kefu::wfm::readScheduleCsv(path, in);
    if (!shifts.ok()) {
      io.err << "kefu wfm publish: " << shifts.status().message() << "\n";
      return 2;
    }
    auto v = kefu::wfm::publishSchedule(ctx_->store(), *shifts, "cli", args.get("--note"),
                                        nowMs());
    if (!v.ok()) {
      io.err << "kefu wfm publish: " << v.status().message() << "\n";
      return 2;
    }
    audit("cli", "wfm.schedule.publish", fmt::format("version {}", v->version),
          fmt::format("{} shifts from {}", v->shifts, path), "");
    io.out << kefu::wfm::versionJson(*v) << "\n";
    return 0;
  }

  int adherenceCommand(const kefu::CliArgs& args, kefu::CliIo& io) {
    int minutes = 30;
    if (!intervalOption(args, "adherence", minutes, io)) return 2;
    int64_t version = 0;
    if (args.has("--version")) {
      double v = 0;
      if (!wholeOption(args, "adherence", "--version", 1, 1e15, v, io)) return 2;
      version = static_cast<int64_t>(v);
    }
    auto r = reviewPeriod(args.get("--from"), args.get("--to"), version, args.get("--agent"),
                          minutes);
    if (!r.ok()) {
      io.err << "kefu wfm adherence: " << r.status().message() << "\n";
      return r.status().code() == kefu::StatusCode::kInvalidArgument ? 2 : 1;
    }
    io.out << *r << "\n";
    return 0;
  }

  // The review JSON for local days [from, to].
  kefu::Result<std::string> reviewPeriod(const std::string& from, const std::string& to,
                                         int64_t version, const std::string& agent,
                                         int minutes) {
    int64_t first = 0, last = 0;
    if (!kefu::wfm::parseIsoDate(from, first)) {
      return kefu::Status::invalidArgument("from: '" + from + "' is not a date YYYY-MM-DD");
    }
    if (!kefu::wfm::parseIsoDate(to, last)) {
      return kefu::Status::invalidArgument("to: '" + to + "' is not a date YYYY-MM-DD");
    }
    if (last < first || last - first > 92) {
      return kefu::Status::invalidArgument("to must be from 'from' to 92 days after it");
    }
    kefu::wfm::ReviewOptions o;
    o.utcOffsetMinutes = utcOffset_;
    o.intervalMinutes = minutes;
    o.fromMs = (first * 1440 - utcOffset_) * 60000;
    o.toMs = ((last + 1) * 1440 - utcOffset_) * 60000;
    kefu::wfm::ScheduleVersion info;
    auto shifts = kefu::wfm::loadShifts(ctx_->store(), version, agent, first * 1440,
                                        (last + 1) * 1440, &info);
    if (!shifts.ok()) return shifts.status();
    std::vector<std::string> agents;
    for (const auto& s : *shifts) {
      if (agents.empty() || agents.back() != s.agent) agents.push_back(s.agent);
    }
    auto states = kefu::wfm::loadStates(ctx_->store(), agents, o.fromMs, o.toMs);
    if (!states.ok()) return states.status();
    std::string json = kefu::wfm::reviewJson(kefu::wfm::review(*shifts, *states, o), o);
    // The version reviewed goes first.
    return fmt::format("{{\"version\":{},{}", info.version, json.substr(1));
  }

  int64_t nowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               ctx_->clock().now().time_since_epoch())
        .count();
  }

  void audit(const std::string& actor, const std::string& action, const std::string& target,
             const std::string& detail, const std::string& remote) {
    auto log = ctx_->services().find<kefu::AuditLog>();
    if (!log) return;
    kefu::AuditEntry e;
    e.actor = actor;
    e.action = action;
    e.target = target;
    e.detail = detail;
    e.remoteAddress = remote;
    if (auto s = log->record(e); !s.ok()) {
      ctx_->logger().error("cannot record {} in the audit log: {}", action, s.message());
    }
  }

  static bool privileged(const kefu::HttpRequest& req) {
    using namespace kefu::roles;
    for (const char* r : {kWfmPlanner, kSupervisor, kTeamLead, kAdmin}) {
      if (req.principal.hasRole(r)) return true;
    }
    return false;
  }

  kefu::Status addRoutes(kefu::HostContext& ctx) {
    using kefu::HttpRequest;
    using kefu::HttpResponse;
    auto& http = ctx.http();
    kefu::RouteOptions planners;
    planners.roles = {kefu::roles::kWfmPlanner};
    // The plugin records the publication itself, with its version.
    planners.audit = false;
    kefu::RouteOptions readers;
    readers.roles = {kefu::roles::kWfmPlanner, kefu::roles::kSupervisor,
                     kefu::roles::kTeamLead};

    auto s = http.add("POST", "/api/v1/wfm/schedules", [this](const HttpRequest& r) {
      // A CSV body as is, or JSON {"csv": "...", "note": "..."}.
      std::string csv = r.body, note;
      if (r.header("content-type").rfind("application/json", 0) == 0) {
        auto body = nlohmann::json::parse(r.body, nullptr, false);
        if (body.is_discarded() || !body.is_object() || !body.contains("csv") ||
            !body["csv"].is_string() || (body.contains("note") && !body["note"].is_string())) {
          return HttpResponse::error(400, "invalid_argument",
                                     "the body must be a schedule CSV (text/csv) or JSON "
                                     "{\"csv\": string, \"note\": string}");
        }
        csv = body["csv"].get<std::string>();
        note = body.value("note", std::string());
      } else if (r.query.count("note")) {
        note = r.query.at("note");
      }
      std::istringstream in(csv);
      auto shifts = kefu::wfm::readScheduleCsv("body", in);
      if (!shifts.ok()) return HttpResponse::fromStatus(shifts.status());
      auto v = kefu::wfm::publishSchedule(ctx_->store(), *shifts, r.principal.id, note,
                                          nowMs());
      if (!v.ok()) return HttpResponse::fromStatus(v.status());
      audit(r.principal.id, "wfm.schedule.publish", fmt::format("version {}", v->version),
            fmt::format("{} shifts, {} to {}", v->shifts, v->firstDay, v->lastDay),
            r.remoteAddress);
      return HttpResponse::json(201, kefu::wfm::versionJson(*v));
    }, planners);
    if (!s.ok()) return s;

    s = http.add("GET", "/api/v1/wfm/schedules", [this](const HttpRequest&) {
      auto list = kefu::wfm::listSchedules(ctx_->store());
      if (!list.ok()) return HttpResponse::fromStatus(list.status());
      std::string body = "{\"versions\":[";
      for (size_t i = 0; i < list->size(); ++i) {
        body += (i ? "," : "") + kefu::wfm::versionJson((*list)[i]);
      }
      return HttpResponse::json(200, body + "]}");
    }, readers);
    if (!s.ok()) return s;

    // Any signed-in user; an agent reads only its own shifts.
    s = http.add("GET", "/api/v1/wfm/schedules/current", [this](const HttpRequest& r) {
      std::string agent = r.query.count("agent") ? r.query.at("agent") : "";
      if (!privileged(r)) {
        if (!agent.empty() && agent != r.principal.id) {
          return HttpResponse::error(403, "permission_denied",
                                     "an agent may read only its own schedule");
        }
        agent = r.principal.id;
      }
      int64_t lo = std::numeric_limits<int64_t>::min() / 2, hi = -lo;
      for (const char* key : {"from", "to"}) {
        if (!r.query.count(key)) continue;
        int64_t day = 0;
        if (!kefu::wfm::parseIsoDate(r.query.at(key), day)) {
          return HttpResponse::error(400, "invalid_argument",
                                     std::string(key) + " must be a date YYYY-MM-DD");
        }
        (std::string(key) == "from" ? lo : hi) = std::string(key) == "from"
                                                     ? day * 1440 : (day + 1) * 1440;
      }
      kefu::wfm::ScheduleVersion info;
      auto shifts = kefu::wfm::loadShifts(ctx_->store(), 0, agent, lo, hi, &info);
      if (!shifts.ok()) return HttpResponse::fromStatus(shifts.status());
      std::string body = kefu::wfm::versionJson(info);
      body.pop_back();
      body += ",\"shifts\":[";
      for (size_t i = 0; i < shifts->size(); ++i) {
        body += (i ? "," : "") + kefu::wfm::shiftJson((*shifts)[i]);
      }
      return HttpResponse::json(200, body + "]}");
    });
    if (!s.ok()) return s;

    return http.add("GET", "/api/v1/wfm/adherence", [this](const HttpRequest& r) {
      auto q = [&](const char* k) { return r.query.count(k) ? r.query.at(k) : std::string(); };
      if (q("from").empty() || q("to").empty()) {
        return HttpResponse::error(400, "invalid_argument",
                                   "give from and to as dates YYYY-MM-DD");
      }
      int minutes = 30;
      if (!q("interval_minutes").empty()) {
        std::string m = q("interval_minutes");
        if (m != "15" && m != "30" && m != "60") {
          return HttpResponse::error(400, "invalid_argument",
                                     "interval_minutes must be 15, 30 or 60");
        }
        minutes = std::stoi(m);
      }
      int64_t version = 0;
      if (!q("version").empty()) {
        auto [p, ec] = std::from_chars(q("version").data(),
                                       q("version").data() + q("version").size(), version);
        if (ec != std::errc() || version < 1) {
          return HttpResponse::error(400, "invalid_argument", "version must be a number >= 1");
        }
      }
      auto json = reviewPeriod(q("from"), q("to"), version, q("agent"), minutes);
      if (!json.ok()) return HttpResponse::fromStatus(json.status());
      return HttpResponse::json(200, *json);
    }, readers);
  }


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

  // --out's file, opened now, or standard output.
  static std::ostream* output(const kefu::CliArgs& args, std::unique_ptr<OutputFile>& file,
                              kefu::CliIo& io, const char* command) {
    if (!args.has("--out")) return &io.out;
    file = std::make_unique<OutputFile>(command, io);
    return file->open("--out", args.get("--out")) ? &file->stream() : nullptr;
  }

  // Puts --out's file in place, or flushes standard output; false when either fails.
  static bool finish(std::ostream& out, std::unique_ptr<OutputFile>& file, kefu::CliIo& io,
                     const char* command) {
    if (file) return file->commit();
    out.flush();
    if (!out) io.err << "kefu wfm " << command << ": writing to standard output failed\n";
    return static_cast<bool>(out);
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
    std::unique_ptr<OutputFile> file;
    std::ostream* out = output(args, file, io, "forecast");
    if (!out) return 1;
    kefu::wfm::writeForecastCsv(*out, *rows, minutes);
    if (!finish(*out, file, io, "forecast")) return 1;
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
    std::unique_ptr<OutputFile> file;
    std::ostream* out = output(args, file, io, "accuracy");
    if (!out) return 1;
    std::string summary;
    kefu::Status s = kefu::wfm::accuracy(fpath, fin, *actuals, *out, &summary);
    if (!s.ok()) {
      io.err << "kefu wfm accuracy: " << s.message() << "\n";
      return 2;
    }
    if (!finish(*out, file, io, "accuracy")) return 1;
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
    // Checked here so that the message names the option given.
    for (auto [name, ok, what] :
         {std::tuple{"--rate", q.contactsPerHour >= 0, ">= 0"},
          std::tuple{"--aht", q.ahtSeconds > 0, "> 0 seconds"},
          std::tuple{"--sl-target", slTarget >= 0 && slTarget < 1,
                     "a fraction from 0 to below 1, e.g. 0.8"},
          std::tuple{"--sl-seconds", q.slSeconds >= 0, ">= 0 seconds"},
          std::tuple{"--asa-target", asa > 0, "> 0 seconds"},
          std::tuple{"--patience", q.patienceSeconds >= 0, ">= 0 seconds"},
          std::tuple{"--shrinkage", q.shrinkage >= 0 && q.shrinkage < 1,
                     "a fraction from 0 to below 1, e.g. 0.3"},
          std::tuple{"--max-occupancy", maxOcc > 0 && maxOcc <= 1,
                     "a fraction above 0 and at most 1, e.g. 0.85"}}) {
      if (args.has(name) && !ok) {
        io.err << fmt::format("kefu wfm staff: {} must be {}, not {}\n", name, what,
                              args.get(name));
        return 2;
      }
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
      std::unique_ptr<OutputFile> file;
      std::ostream* out = output(args, file, io, "staff");
      if (!out) return 1;
      auto t0 = std::chrono::steady_clock::now();
      int64_t rows = 0;
      kefu::Status s = kefu::wfm::staffBatch(*calc_, path, in, *out, q, interval, &rows);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!s.ok()) {
        io.err << "kefu wfm staff: " << s.message() << "\n";
        return 2;
      }
      if (!finish(*out, file, io, "staff")) return 1;
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
  kefu::HostContext* ctx_ = nullptr;
  int64_t utcOffset_ = 0;
  std::string shiftsFile_;
};

kefu::PluginInfo wfmInfo() {
  kefu::PluginInfo info;
  info.description =
      "Workforce management: contact forecasting, staffing by Erlang C and Erlang A, shift "
      "scheduling, published schedules and adherence";
  info.kinds = {"wfm"};
  info.configKeys = {
      {"shifts_file", kefu::ConfigType::kString,
       "Shift templates (TOML) for kefu wfm schedule when --shifts is not given"},
      {"utc_offset", kefu::ConfigType::kString,
       "Offset of the schedule's local times from UTC, \"+HH:MM\"", false, "\"+00:00\""}};
  info.provides = {kefu::StaffingCalculator::kInterfaceName};
  return info;
}

}  // namespace

KEFU_PLUGIN(WfmPlugin, "wfm", "0.1.0", wfmInfo)
