// SPDX-License-Identifier: Apache-2.0
//
// system-monitor: the first line of the emergency procedures for system faults. It checks,
// on a timer, that the store answers in time and that the data directory has room, exports
// the results as metrics, and publishes "system.fault" when a check starts failing and
// "system.recovered" when it passes again, so that emergency plugins and the journal see
// each transition once.
#include <sys/statvfs.h>

#include <chrono>
#include <limits>
#include <mutex>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "kefu/sdk.h"

namespace {

using Json = nlohmann::json;

struct CheckResult {
  std::string name;
  bool ok = true;
  std::string detail;
  double value = 0;
};

class SystemMonitor : public kefu::Plugin {
 public:
  kefu::Status configure(kefu::HostContext& ctx) override {
    ctx_ = &ctx;
    const kefu::ConfigValue& cfg = ctx.config();
    intervalSeconds_ = cfg.getInt("interval_seconds", 30);
    minFreeMb_ = cfg.getInt("min_free_disk_mb", 512);
    maxStoreMs_ = cfg.getInt("max_store_latency_ms", 500);
    if (intervalSeconds_ < 1 || intervalSeconds_ > 3600) {
      return cfg.error("interval_seconds", "must be between 1 and 3600");
    }
    if (minFreeMb_ < 0) return cfg.error("min_free_disk_mb", "must not be negative");
    if (maxStoreMs_ < 1) return cfg.error("max_store_latency_ms", "must be positive");

    kefu::RouteOptions readers;
    readers.roles = {"supervisor", "team_lead"};
    auto s = ctx.http().add("GET", "/api/v1/monitor/checks",
                            [this](const kefu::HttpRequest&) {
                              return kefu::HttpResponse::json(200, resultsJson().dump());
                            },
                            readers);
    if (!s.ok()) return s;
    return ctx.cli().add({{"monitor", "check"},
                          "Run the system checks once; exit 1 if any fails",
                          {},
                          [this](const kefu::CliArgs&, kefu::CliIo& io) {
                            auto results = runChecks();
                            int failed = 0;
                            for (const auto& r : results) {
                              io.out << (r.ok ? "ok    " : "FAIL  ") << r.name << "  "
                                     << r.detail << "\n";
                              failed += !r.ok;
                            }
                            return failed ? 1 : 0;
                          }});
  }

  // A one-row table the store check writes, so that a read-only database fails the check.
  std::vector<kefu::Migration> migrations() const override {
    return {{1, "write probe",
             "CREATE TABLE monitor_probe (id INTEGER PRIMARY KEY, at_ms BIGINT NOT NULL)", ""}};
  }

  kefu::Status start() override {
    // Periodic checks (a store write, fault events) belong to the serving host; a command
    // runs its own checks.
    if (ctx_->mode() != kefu::RunMode::kServe) return {};
    tick();
    return {};
  }

  void stop() override {
    kefu::TimerId timer;
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      timer = timer_;
    }
    // Outside the lock: cancel waits for a running tick(), which takes the lock.
    if (timer) ctx_->clock().cancel(timer);
  }

 private:
  std::vector<CheckResult> runChecks() {
    std::vector<CheckResult> out;

    // Free space where the store and logs live.
    CheckResult disk;
    disk.name = "disk_space";
    struct statvfs vfs{};
    if (statvfs(ctx_->dataDir().c_str(), &vfs) == 0) {
      double freeMb = double(vfs.f_bavail) * vfs.f_frsize / (1024.0 * 1024.0);
      disk.value = freeMb * 1024 * 1024;
      disk.ok = freeMb >= double(minFreeMb_);
      disk.detail = fmt::format("{:.0f} MiB free in {} (minimum {} MiB)", freeMb,
                                ctx_->dataDir().string(), minFreeMb_);
    } else {
      disk.ok = false;
      disk.detail = "cannot stat " + ctx_->dataDir().string();
    }
    out.push_back(disk);

    // A write round trip to the store, the one dependency every contact needs.
    CheckResult store;
    store.name = "store";
    auto t0 = std::chrono::steady_clock::now();
    try {
      auto s = ctx_->store().openSession();
      long long now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          ctx_->clock().now().time_since_epoch())
                          .count();
      soci::transaction tx(*s);
      *s << "DELETE FROM monitor_probe";
      *s << "INSERT INTO monitor_probe (id, at_ms) VALUES (1, :n)", soci::use(now);
      tx.commit();
      int one = 0;
      *s << "SELECT COUNT(*) FROM monitor_probe", soci::into(one);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                            t0).count();
      store.value = ms / 1000.0;
      store.ok = one == 1 && ms <= double(maxStoreMs_);
      store.detail = fmt::format("{} written in {:.1f} ms (limit {} ms)",
                                 ctx_->store().describe(), ms, maxStoreMs_);
    } catch (const std::exception& e) {
      store.ok = false;
      store.value = std::numeric_limits<double>::quiet_NaN();  // no latency to report
      store.detail = std::string("unreachable: ") + e.what();
    }
    out.push_back(store);
    return out;
  }

  void tick() {
    auto results = runChecks();
    std::lock_guard lock(mu_);
    if (stopped_) return;
    for (const auto& r : results) {
      ctx_->metrics()
          .gauge("kefu_monitor_check_ok", "1 when the system check passes", {{"check", r.name}})
          .set(r.ok ? 1 : 0);
      auto prev = last_.find(r.name);
      bool wasOk = prev == last_.end() || prev->second.ok;
      if (wasOk != r.ok) {
        Json payload{{"check", r.name}, {"detail", r.detail}};
        kefu::Event event;
        event.topic = r.ok ? "system.recovered" : "system.fault";
        event.payload = payload.dump();
        ctx_->events().publish(std::move(event));
        if (r.ok) {
          ctx_->logger().info("check {} recovered: {}", r.name, r.detail);
        } else {
          ctx_->logger().error("check {} failed: {}", r.name, r.detail);
        }
      }
      last_[r.name] = r;
    }
    ctx_->metrics()
        .gauge("kefu_monitor_disk_free_bytes", "Free bytes in the data directory")
        .set(last_["disk_space"].value);
    ctx_->metrics()
        .gauge("kefu_monitor_store_latency_seconds", "Last store round trip")
        .set(last_["store"].value);
    timer_ = ctx_->clock().callAfter(std::chrono::seconds(intervalSeconds_), [this] { tick(); });
  }

  Json resultsJson() {
    std::lock_guard lock(mu_);
    Json checks = Json::array();
    for (const auto& [name, r] : last_) {
      checks.push_back({{"check", name}, {"ok", r.ok}, {"detail", r.detail}});
    }
    return Json{{"checks", checks}};
  }

  kefu::HostContext* ctx_ = nullptr;
  int64_t intervalSeconds_ = 30;
  int64_t minFreeMb_ = 512;
  int64_t maxStoreMs_ = 500;
  std::mutex mu_;
  bool stopped_ = false;
  kefu::TimerId timer_ = 0;
  std::map<std::string, CheckResult> last_;
};

kefu::PluginInfo monitorInfo() {
  kefu::PluginInfo info;
  info.description = "Checks store and disk; publishes system.fault and system.recovered";
  info.kinds = {"monitor"};
  info.configKeys = {
      {"interval_seconds", kefu::ConfigType::kInt, "Seconds between checks", false, "30"},
      {"min_free_disk_mb", kefu::ConfigType::kInt, "Free MiB below which disk_space fails",
       false, "512"},
      {"max_store_latency_ms", kefu::ConfigType::kInt,
       "Store round trip above which the store check fails", false, "500"},
  };
  return info;
}

}  // namespace

KEFU_PLUGIN(SystemMonitor, "system-monitor", "0.1.0", monitorInfo)
