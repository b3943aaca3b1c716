// SPDX-License-Identifier: Apache-2.0
//
// replay: `kefu replay` runs a call log through a private engine of the deployment's router
// (kefu::RouterFactory, from routing-acd) on a virtual clock and writes the KPI report of
// the observed calls beside the simulated ones; `kefu gen-calls` writes realistic logs.
// Nothing is stored: the model lives in memory for the length of the command.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "calibrate.h"
#include "call_log.h"
#include "gen_calls.h"
#include "kefu/sdk.h"
#include "kpi.h"
#include "replay_model.h"

namespace kefu::replay {
namespace {

using SteadyClock = std::chrono::steady_clock;

double secondsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

// Answer rate, mean wait of answered calls and abandonment, per day, for the console.
struct DaySummary {
  struct Counts {
    uint64_t offered = 0, answered = 0, abandoned = 0;
    double waitS = 0;
  };
  std::map<int64_t, Counts> days;
  Counts total;
  // Records come day after day: the last day's counts are at hand without a search.
  int64_t lastDay = 0;
  Counts* lastCounts = nullptr;

  void add(int64_t day, bool answered, double waitS) {
    if (day != lastDay || !lastCounts) {
      lastDay = day;
      lastCounts = &days[day];  // std::map nodes stay put
    }
    for (Counts* c : {lastCounts, &total}) {
      ++c->offered;
      if (answered) {
        ++c->answered;
        c->waitS += waitS;
      } else {
        ++c->abandoned;
      }
    }
  }
};

std::string dayName(int64_t day) {
  auto tp = std::chrono::sys_days(std::chrono::days(day));
  std::chrono::year_month_day ymd(tp);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  return buf;
}

int64_t dayOf(int64_t ms) { return ms >= 0 ? ms / 86'400'000 : (ms + 1) / 86'400'000 - 1; }

void printSummary(std::ostream& out, const DaySummary& obs, const DaySummary& sim) {
  auto row = [&](const std::string& label, const DaySummary::Counts& o,
                 const DaySummary::Counts& s) {
    auto pct = [](uint64_t a, uint64_t b) { return b ? 100.0 * double(a) / double(b) : 0.0; };
    auto asa = [](const DaySummary::Counts& c) { return c.answered ? c.waitS / c.answered : 0.0; };
    char buf[200];
    std::snprintf(buf, sizeof buf, "%-10s %9llu  %6.1f %6.1f  %6.1f %6.1f  %5.1f %6.1f\n",
                  label.c_str(), static_cast<unsigned long long>(o.offered),
                  pct(o.answered, o.offered), pct(s.answered, s.offered), asa(o), asa(s),
                  pct(o.abandoned, o.offered), pct(s.abandoned, s.offered));
    out << buf;
  };
  // Shares of the calls that reached the agent queue (the report's agent answer rate and
  // abandonment rate); ASA in seconds.
  out << "day          queued  answered %   ASA seconds  abandoned %\n"
         "                      obs    sim     obs    sim    obs    sim\n";
  for (const auto& [day, o] : obs.days) {
    auto it = sim.days.find(day);
    row(dayName(day), o, it == sim.days.end() ? DaySummary::Counts{} : it->second);
  }
  row("total", obs.total, sim.total);
}

// Runs tasks in the order they are posted on a thread of its own. At most kMaxQueued wait:
// a producer faster than the tasks waits rather than piling up memory.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() { finish(); }

  void post(std::function<void()> task) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return tasks_.size() < kMaxQueued; });
    tasks_.push_back(std::move(task));
    lock.unlock();
    cv_.notify_all();
  }
  // Runs what was posted, then ends the thread.
  void finish() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  static constexpr size_t kMaxQueued = 16;
  void loop() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !tasks_.empty() || done_; });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      cv_.notify_all();
      task();
    }
  }

  std::deque<std::function<void()>> tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Reads the log on a thread of its own, in batches, so that parsing overlaps what the
// model and the KPIs do with each record. 24 batches circulate: being read, keyed by the
// model, accumulated in the KPIs, or ready for the next step. With only a few, the three
// stages (of uneven and varying speed on two cores) kept waiting for each other: the read
// phase of a generated year took about a fifth longer.
class BackgroundReader {
 public:
  struct Batch {
    std::vector<calls::CallRecord> records;
    size_t used = 0;
    uint64_t bytesRead = 0;  // of the file, after the batch's last record
  };

  explicit BackgroundReader(calls::CallReader& reader) : reader_(reader) {
    for (auto& b : batches_) {
      b.records.resize(kBatch);
      free_.push_back(&b);
    }
    worker_ = std::thread([this] { work(); });
  }
  ~BackgroundReader() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  // The next batch in file order, or null after the last; give it back with done().
  Batch* take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !full_.empty() || ended_; });
    if (full_.empty()) return nullptr;
    Batch* b = full_.front();
    full_.pop_front();
    return b;
  }
  void done(Batch* b) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(b);
    }
    cv_.notify_all();
  }

 private:
  static constexpr size_t kBatch = 4096;
  void work() {
    while (true) {
      Batch* b = nullptr;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return !free_.empty() || quit_; });
        if (quit_) return;
        b = free_.back();
        free_.pop_back();
      }
      // Reading into used records reuses their strings' buffers.
      b->used = 0;
      while (b->used < kBatch && reader_.next(b->records[b->used])) ++b->used;
      b->bytesRead = reader_.bytesRead();
      bool end = b->used < kBatch;
      {
        std::lock_guard lock(mu_);
        (b->used ? full_ : free_).push_back(b);
        ended_ = end;
      }
      cv_.notify_all();
      if (end) return;
    }
  }

  calls::CallReader& reader_;
  std::array<Batch, 24> batches_;
  std::deque<Batch*> full_, free_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool ended_ = false, quit_ = false;
  std::thread worker_;
};

class ReplayPlugin : public Plugin {
 public:
  Status configure(HostContext& ctx) override {
    ctx_ = &ctx;
    const ConfigValue& cfg = ctx.config();
    if (const ConfigValue* map = cfg.find("queue_for_type")) {
      for (const auto& [type, queue] : map->asTable()) {
        if (!queue.isString()) return map->error(type, "must name a queue (a string)");
        options_.queueForType[type] = queue.asString();
      }
    }
    options_.defaultQueue = cfg.getString("default_queue", "general");
    // Below 1 every call of a log without negative priorities would go ahead: no priority.
    int64_t high = cfg.getInt("high_priority_at", 2);
    if (high < 1 || high > INT32_MAX) {
      return cfg.error("high_priority_at", "must be 1 to 2147483647 (a priority no call has "
                                           "turns priorities off)");
    }
    options_.highPriorityAt = static_cast<int>(high);
    int64_t wrap = cfg.getInt("wrap_up_seconds", 0);
    if (wrap < 0 || wrap > 3600) return cfg.error("wrap_up_seconds", "must be 0 to 3600");
    options_.wrapUp = std::chrono::seconds(wrap);
    int64_t gap = cfg.getInt("presence_gap_minutes", 30);
    if (gap < 0 || gap > 24 * 60) return cfg.error("presence_gap_minutes", "must be 0 to 1440");
    gap_ = std::chrono::minutes(gap);
    // routing-acd (a dependency) is configured first: check the queue names now, so that
    // `kefu check` points at the key instead of `kefu replay` failing later. A router
    // without queues is the throw-away deployment of `kefu gen-calls` (no --config), which
    // replays nothing; `kefu replay` checks again before it runs.
    if (auto factory = ctx.services().find<RouterFactory>();
        factory && !factory->configuredQueues().empty()) {
      if (auto s = checkQueues(factory->configuredQueues()); !s.ok()) return s;
    }

    auto s = ctx.cli().add(
        {{"replay"},
         "Replay a call log on the deployment's router (virtual clock) and report observed "
         "vs simulated KPIs",
         {{"--calls", "Call log file", true},
          {"--format", "anonymous-bank, or a TOML column mapping file", false, false,
           "anonymous-bank"},
          {"--out", "Report directory (report.json, report.html)"},
          {"--staffing", "observed | schedule:FILE (CSV) | fixed:N", false, false, "observed"},
          {"--seed", "Seed of the sampled handle times and patience", false, false, "1"},
          {"--sl-seconds", "Service-level threshold in seconds", false, false, "20"},
          {"--parse-only", "Only read the log and count its records (for benchmarks)", false,
           true},
          {"--calibrate",
           "Fit the agents' wrap-up so that the simulated share of queued calls answered "
           "matches the log's",
           false, true}},
         [this](const CliArgs& a, CliIo& io) { return runReplayCommand(a, io); }});
    if (!s.ok()) return s;
    return ctx.cli().add(
        {{"gen-calls"},
         "Write a realistic, seeded call log in the anonymous-bank format",
         {{"--out", "File to write", true},
          {"--days", "Number of days", false, false, "1"},
          {"--start", "First day, YYYY-MM-DD", false, false, "2026-01-05"},
          {"--seed", "Random seed", false, false, "1"},
          {"--scale", "Volume factor", false, false, "1"},
          {"--calls-per-day", "Average calls per day over a week, before --scale", false, false,
           "1200"}},
         [](const CliArgs& a, CliIo& io) { return runGenCommand(a, io); }});
  }

  Status start() override { return {}; }
  void stop() override {}

 private:
  static bool parseNumber(const std::string& s, double& out) {
    try {
      size_t used = 0;
      out = std::stod(s, &used);
      return used == s.size();
    } catch (const std::exception&) {
      return false;
    }
  }

  static int runGenCommand(const CliArgs& a, CliIo& io) {
    GenOptions o;
    o.out = a.get("--out");
    double days, seed, scale, perDay;
    if (!parseNumber(a.get("--days"), days) || !parseNumber(a.get("--seed"), seed) ||
        !parseNumber(a.get("--scale"), scale) ||
        !parseNumber(a.get("--calls-per-day"), perDay) || seed < 0 || days != std::floor(days) ||
        seed != std::floor(seed) || seed > 1e15 || days < 1 || days > kMaxDays) {
      io.err << "kefu gen-calls: --days takes a whole number from 1 to " << kMaxDays
             << ", --seed a whole number, --scale and --calls-per-day numbers\n";
      return 2;
    }
    auto start = parseDate(a.get("--start"));
    if (!start.ok()) {
      io.err << "kefu gen-calls: --start: " << start.status().message() << "\n";
      return 2;
    }
    o.days = static_cast<int>(days);
    o.seed = static_cast<uint64_t>(seed);
    o.scale = scale;
    o.callsPerDay = perDay;
    o.startDay = *start;
    auto t0 = SteadyClock::now();
    auto stats = generateCalls(o);
    if (!stats.ok()) {
      io.err << "kefu gen-calls: " << stats.status().message() << "\n";
      return stats.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
    io.out << "gen-calls: " << stats->calls << " calls over " << o.days << " day(s) in " << o.out
           << " (" << stats->answered << " answered, " << stats->abandoned
           << " abandoned in queue, " << stats->endedInIvr << " ended in IVR, " << stats->phantom
           << " phantom; up to " << stats->agents << " agents) in " << secondsSince(t0)
           << " s\n";
    return 0;
  }

  int runReplayCommand(const CliArgs& a, CliIo& io) {
    auto t0 = SteadyClock::now();
    const std::string path = a.get("--calls");
    auto reader = calls::openCallLog(path, a.get("--format"));
    if (!reader.ok()) {
      io.err << "kefu replay: " << reader.status().message() << "\n";
      return 2;
    }
    calls::CallRecord rec;
    if (a.has("--parse-only")) {
      uint64_t n = 0;
      while ((*reader)->next(rec)) ++n;
      io.out << "replay: parsed " << n << " records (" << (*reader)->badRowCount()
             << " bad rows) from " << path << " in " << secondsSince(t0) << " s\n";
      return 0;
    }
    const std::string out = a.get("--out");
    if (out.empty()) {
      io.err << "kefu replay: --out DIR is required (unless --parse-only)\n";
      return 2;
    }
    double seed = 0, sl = 0;
    if (!parseNumber(a.get("--seed"), seed) || seed < 0 || seed != std::floor(seed) ||
        seed > 1e15 || !parseNumber(a.get("--sl-seconds"), sl) || sl != std::floor(sl) ||
        sl < 1 || sl > 3600) {
      // --sl-seconds as in `kefu report`, so that both reports can be compared.
      io.err << "kefu replay: --seed takes a whole number >= 0, --sl-seconds a whole number "
                "from 1 to 3600\n";
      return 2;
    }
    auto factory = ctx_->services().find<RouterFactory>();
    if (!factory) {
      io.err << "kefu replay: no enabled plugin provides " << RouterFactory::kInterfaceName
             << " (enable routing-acd)\n";
      return 1;
    }
    // Checked at configure time too; kept for a factory that appeared later.
    if (auto s = checkQueues(factory->configuredQueues()); !s.ok()) {
      io.err << "kefu replay: " << s.message() << "\n";
      return 2;
    }
    calls::KpiOptions kpiOptions;
    kpiOptions.serviceLevelThreshold = std::chrono::seconds(static_cast<int64_t>(sl));
    calls::KpiAccumulator observed(kpiOptions), simulated(kpiOptions);
    CallTable table(gap_);
    // The console's observed figures per day, taken from the calls as the table adds them.
    DaySummary obsSummary, simSummary;
    int64_t firstMs = INT64_MAX, lastMs = INT64_MIN;
    {
      BackgroundReader rows(**reader);
      // The observed KPIs take each batch after the model, on a thread of their own, and
      // give it back to the reader; declared after `rows`, so finished before it ends.
      Worker observedKpis;
      std::error_code ec;
      const uint64_t fileBytes = std::filesystem::file_size(path, ec);
      bool reserved = ec.value() != 0;
      while (BackgroundReader::Batch* b = rows.take()) {
        if (!reserved && b->bytesRead > 0) {
          // Size the table once from the first rows' length: growing a vector of millions
          // of records by doubling would hold the old and the new copy at once. Room that
          // stays unused is never touched, so a generous guess costs no resident memory.
          reserved = true;
          double perByte = double(b->used) / double(b->bytesRead);
          size_t estimate = static_cast<size_t>(double(fileBytes) * perByte * 1.25) + 1024;
          table.reserve(estimate);
          observed.reserve(estimate);  // not yet in use: the first batch is still here
        }
        table.setKeys(b->records.data(), b->used);
        for (size_t i = 0; i < b->used; ++i) {
          table.add(b->records[i]);
          const ModelCall& c = table.calls().back();
          firstMs = std::min(firstMs, c.arrivalMs);
          lastMs = std::max(lastMs, c.arrivalMs);
          if (c.entryMs < 0) continue;
          bool answered = c.handleMs >= 0;
          obsSummary.add(dayOf(c.arrivalMs), answered, answered ? c.waitedMs / 1000.0 : 0);
        }
        observedKpis.post([&observed, &rows, b] {
          for (size_t i = 0; i < b->used; ++i) observed.add(b->records[i]);
          rows.done(b);
        });
      }
    }
    table.finish();
    const std::string mode = a.get("--staffing");
    std::vector<Shift> staffing;
    if (mode == "observed" && !table.agents().empty()) staffing = observedStaffing(table);
    // The observed report is complete: built while the model runs (which leaves room on a
    // second core), not while finish() keeps both busy.
    auto observedJson =
        std::async(std::launch::async, [&observed] { return observed.finish(); });
    double parseS = secondsSince(t0);
    if (table.calls().empty()) {
      io.err << "kefu replay: " << path
             << ((*reader)->rowsRead() == 0 ? " has no call rows" : ": no row could be used")
             << " (" << (*reader)->badRowCount() << " bad rows); nothing written\n";
      for (size_t i = 0; i < (*reader)->badRows().size() && i < 5; ++i) {
        io.err << "  " << path << ":" << (*reader)->badRows()[i].line << ": "
               << (*reader)->badRows()[i].reason << "\n";
      }
      return 2;
    }

    if (mode == "observed") {
      if (table.agents().empty()) {
        io.err << "kefu replay: " << path << " names no agents; give --staffing "
                  "schedule:FILE or fixed:N\n";
        return 2;
      }
    } else if (mode.rfind("fixed:", 0) == 0) {
      double n = 0;
      if (!parseNumber(mode.substr(6), n) || n < 1 || n > 10000) {
        io.err << "kefu replay: --staffing fixed:N needs N from 1 to 10000\n";
        return 2;
      }
      staffing = fixedStaffing(table, static_cast<int>(n));
    } else if (mode.rfind("schedule:", 0) == 0) {
      auto s = scheduleStaffing(mode.substr(9));
      if (!s.ok()) {
        io.err << "kefu replay: " << s.status().message() << "\n";
        return 2;
      }
      staffing = std::move(*s);
    } else {
      io.err << "kefu replay: --staffing is observed, schedule:FILE or fixed:N, not '" << mode
             << "'\n";
      return 2;
    }

    ReplayOptions options = options_;
    options.seed = static_cast<uint64_t>(seed);
    const RouterMaker makeRouter = [&](RoutingListener* l) { return factory->create(l, true); };
    // A schedule of another period (or of zeros) runs, but every call would be abandoned.
    if (firstMs <= lastMs &&
        std::none_of(staffing.begin(), staffing.end(), [&](const Shift& s) {
          return s.fromMs <= lastMs && s.toMs > firstMs;
        })) {
      io.err << "kefu replay: warning: no agent of --staffing " << mode
             << " works between the log's first and last call (" << dayName(dayOf(firstMs))
             << " to " << dayName(dayOf(lastMs)) << "); every queued call will go unanswered\n";
    }
    nlohmann::json calibration;
    if (a.has("--calibrate")) {
      auto cal = calibrateWrapUp(table, factory->configuredQueues(), makeRouter, staffing,
                                 options);
      if (!cal.ok()) {
        io.err << "kefu replay: --calibrate: " << cal.status().message() << "\n";
        return 2;
      }
      options.wrapUp = std::chrono::seconds(cal->wrapUpSeconds);
      calibration = {{"fitted", "wrap_up_seconds"},
                     {"wrap_up_seconds", cal->wrapUpSeconds},
                     {"observed_answered_share", cal->targetShare},
                     {"simulated_answered_share", cal->simulatedShare},
                     {"runs", cal->runs}};
      io.out << fmt::format("replay: calibrated wrap_up_seconds = {} in {} runs: answered {:.1f}%"
                            " of queued calls, observed {:.1f}%\n",
                            cal->wrapUpSeconds, cal->runs, 100 * cal->simulatedShare,
                            100 * cal->targetShare);
      if (cal->belowWithoutWrapUp) {
        calibration["note"] = "the model answers fewer calls than observed without wrap-up";
        io.err << "kefu replay: warning: --calibrate: the model answers fewer calls than the "
                  "log even without wrap-up; wrap-up left at 0 (is the staffing too thin?)\n";
      } else if (cal->aboveAtLimit) {
        calibration["note"] = "the model answers more calls than observed at the largest wrap-up";
        io.err << "kefu replay: warning: --calibrate: even "
               << Calibration::kMaxWrapUpSeconds
               << " s of wrap-up answers more calls than the log\n";
      }
    }
    std::vector<std::tuple<std::string, int64_t, int64_t>> presence;
    calls::CallRecord simRecord;
    RecordCache simCache;  // the KPIs read names by key: no id, no name copied again
    simulated.reserve(table.calls().size());  // one simulated record per call of the log
    // The simulated calls become records and KPIs on a thread of their own, in the order
    // the model emits them.
    auto simulatedKpis = std::make_unique<Worker>();
    std::vector<std::string> simAgents;
    ReplaySink sink;
    sink.agents = [&](const std::vector<std::string>& agents) { simAgents = agents; };
    sink.batch = [&](const SimulatedCall* calls, size_t n) {
      simulatedKpis->post([&, batch = std::vector<SimulatedCall>(calls, calls + n)] {
        calls::CallRecord& r = simRecord;
        for (const SimulatedCall& c : batch) {
          toRecord(table, simAgents, c, r, &simCache);
          simulated.add(r);
          if (r.queueStartMs < 0) continue;
          bool answered = r.outcome == calls::Outcome::kAnswered;
          simSummary.add(dayOf(r.arrivalMs), answered,
                         answered ? (r.serviceStartMs - r.queueStartMs) / 1000.0 : 0);
        }
      });
    };
    sink.presence = [&](const std::string& agent, int64_t from, int64_t to) {
      presence.emplace_back(agent, from, to);
    };
    auto t1 = SteadyClock::now();
    auto stats = runReplay(table, factory->configuredQueues(), makeRouter, staffing, options,
                           sink);
    if (!stats.ok()) {
      io.err << "kefu replay: " << stats.status().message() << "\n";
      return 2;
    }
    simulatedKpis.reset();
    for (const auto& [agent, from, to] : presence) simulated.addPresence(agent, from, to);
    double modelS = secondsSince(t1);
    auto t2 = SteadyClock::now();
    nlohmann::json obsJson = observedJson.get();
    obsJson["input"] = calls::inputSummary(path, a.get("--format"), **reader);
    nlohmann::json simJson = simulated.finish();
    simJson["replay"] = {{"seed", options.seed},
                         {"staffing", mode},
                         {"agents", stats->agents},
                         {"queued", stats->offered},
                         {"served", stats->served},
                         {"abandoned", stats->abandoned},
                         {"refused_queue_full", stats->refused},
                         {"left_at_max_wait", stats->maxWait},
                         {"unserved_at_end", stats->unservedAtEnd},
                         {"overflowed", stats->overflowed},
                         {"sampled_handle_times", stats->sampledHandles},
                         {"wrap_up_seconds", options.wrapUp.count()}};
    if (!calibration.is_null()) simJson["replay"]["calibration"] = calibration;
    if (auto s = calls::writeReport(out, obsJson, &simJson); !s.ok()) {
      io.err << "kefu replay: " << s.message() << "\n";
      return 1;
    }
    double reportS = secondsSince(t2);
    printSummary(io.out, obsSummary, simSummary);
    char buf[400];
    std::snprintf(buf, sizeof buf,
                  "replay: %llu calls (%llu queued, %llu bad rows), %d agents (%s), seed %llu; "
                  "%llu served, %llu abandoned (%llu at max wait, %llu refused, %llu unserved "
                  "at the end)\n"
                  "replay: read %.2f s, model %.2f s, report %.2f s, total %.2f s\n",
                  static_cast<unsigned long long>(table.calls().size()),
                  static_cast<unsigned long long>(stats->offered),
                  static_cast<unsigned long long>((*reader)->badRowCount()), stats->agents,
                  mode.c_str(), static_cast<unsigned long long>(options.seed),
                  static_cast<unsigned long long>(stats->served),
                  static_cast<unsigned long long>(stats->abandoned),
                  static_cast<unsigned long long>(stats->maxWait),
                  static_cast<unsigned long long>(stats->refused),
                  static_cast<unsigned long long>(stats->unservedAtEnd), parseS, modelS, reportS,
                  secondsSince(t0));
    io.out << buf << "replay: report in " << out << "/report.html\n";
    return 0;
  }

  Status checkQueues(const std::vector<QueueSpec>& queues) const {
    auto known = [&](const std::string& name) {
      return std::any_of(queues.begin(), queues.end(),
                         [&](const QueueSpec& q) { return q.name == name; });
    };
    std::string names;
    for (const auto& q : queues) names += (names.empty() ? "" : ", ") + q.name;
    const std::string why = " is not a queue of routing-acd (its queues: " +
                            (names.empty() ? std::string("none") : names) + ")";
    // A replayed record is a call: its queue must carry voice or video, not chats.
    auto notCalls = [&](const std::string& name) -> std::string {
      for (const auto& q : queues) {
        if (q.name == name && !isExclusive(q.media)) {
          return "'" + name + "' carries " + mediaName(q.media) + ", not calls";
        }
      }
      return "";
    };
    const ConfigValue& cfg = ctx_->config();
    if (const ConfigValue* map = cfg.find("queue_for_type")) {
      for (const auto& [type, queue] : options_.queueForType) {
        if (!known(queue)) return map->error(type, "'" + queue + "'" + why);
        if (auto m = notCalls(queue); !m.empty()) return map->error(type, m);
      }
    }
    if (!known(options_.defaultQueue)) {
      return cfg.error("default_queue", "'" + options_.defaultQueue + "'" + why);
    }
    if (auto m = notCalls(options_.defaultQueue); !m.empty()) {
      return cfg.error("default_queue", m);
    }
    return {};
  }

  HostContext* ctx_ = nullptr;
  ReplayOptions options_;
  std::chrono::minutes gap_{30};
};

PluginInfo replayInfo() {
  PluginInfo info;
  info.description = "Replays call logs on the router with a virtual clock; generates call logs";
  info.kinds = {"simulation"};
  info.depends = {RouterFactory::kInterfaceName};
  info.maturity = Maturity::kBeta;
  info.configKeys = {
      {"queue_for_type", ConfigType::kTable,
       "Call type -> queue of routing-acd, e.g. { PS = \"general\", NE = \"policy\" }", false,
       "{}"},
      {"default_queue", ConfigType::kString, "Queue of the call types not listed", false,
       "\"general\""},
      {"high_priority_at", ConfigType::kInt,
       "Calls of this priority or more go ahead in their queue", false, "2"},
      {"wrap_up_seconds", ConfigType::kInt, "After-call work of the virtual agents", false, "0"},
      {"presence_gap_minutes", ConfigType::kInt,
       "Observed staffing: services less apart than this belong to one shift", false, "30"},
  };
  return info;
}

}  // namespace
}  // namespace kefu::replay

KEFU_PLUGIN(kefu::replay::ReplayPlugin, "replay", "0.1.0", kefu::replay::replayInfo)
