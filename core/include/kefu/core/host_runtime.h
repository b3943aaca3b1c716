// SPDX-License-Identifier: Apache-2.0
//
// HostRuntime: the shared services of one host process, and the per-plugin HostContext
// that fronts them.
#pragma once

#include <filesystem>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kefu/core/http_router.h"
#include "kefu/core/runtime.h"
#include "kefu/core/store_impl.h"
#include "kefu/host_context.h"

namespace kefu::core {

// Reads a secret reference ("env:NAME" or "file:PATH", PATH relative to `dataDir`).
Result<std::string> readSecret(std::string_view reference, const std::filesystem::path& dataDir);

class HostRuntime {
 public:
  HostRuntime(std::filesystem::path dataDir, std::unique_ptr<Clock> clock,
              std::unique_ptr<StoreImpl> store, RunMode mode);
  ~HostRuntime();

  const std::filesystem::path& dataDir() const { return dataDir_; }
  RunMode mode() const { return mode_; }
  Clock& clock() { return *clock_; }
  StoreImpl& store() { return *store_; }
  EventBusImpl& events() { return events_; }
  ServiceRegistryImpl& services() { return services_; }
  MetricsRegistry& metrics() { return metrics_; }
  HttpRouter& router() { return router_; }
  CliRegistry& cli() { return cli_; }

  std::filesystem::path resolvePath(std::string_view p) const;
  Result<std::string> secret(std::string_view reference) const;

 private:
  std::filesystem::path dataDir_;
  RunMode mode_;
  std::unique_ptr<Clock> clock_;
  std::unique_ptr<StoreImpl> store_;
  MetricsRegistry metrics_;
  EventBusImpl events_;
  ServiceRegistryImpl services_;
  HttpRouter router_;
  CliRegistry cli_;
};

// One plugin's HostContext. Remembers what the plugin registered so revoke() can take it
// all back (routes, commands, services, subscriptions and pending timers).
class PluginContext : public HostContext {
 public:
  PluginContext(HostRuntime& rt, std::string name, ConfigValue config, std::string logLevel);
  ~PluginContext() override;

  const std::string& pluginName() const override { return name_; }
  RunMode mode() const override { return rt_.mode(); }
  spdlog::logger& logger() override { return *logger_; }
  const ConfigValue& config() const override { return config_; }
  EventBus& events() override { return events_; }
  Store& store() override { return rt_.store(); }
  Clock& clock() override { return clock_; }
  ServiceRegistry& services() override { return services_; }
  HttpRoutes& http() override { return http_; }
  CliCommands& cli() override { return cli_; }
  Metrics& metrics() override { return rt_.metrics(); }
  const std::filesystem::path& dataDir() const override { return rt_.dataDir(); }
  std::filesystem::path resolvePath(std::string_view p) const override {
    return rt_.resolvePath(p);
  }
  Result<std::string> secret(std::string_view reference) const override {
    return rt_.secret(reference);
  }

  void revoke();

 private:
  struct Events : EventBus {
    PluginContext& c;
    explicit Events(PluginContext& ctx) : c(ctx) {}
    void publish(Event e) override { c.rt_.events().publish(std::move(e), c.name_); }
    SubscriptionId subscribe(std::string prefix,
                             std::function<void(const Event&)> h) override {
      return c.rt_.events().subscribe(c.name_, std::move(prefix), std::move(h));
    }
    bool unsubscribe(SubscriptionId id) override {
      return c.rt_.events().unsubscribe(id, c.name_);
    }
  };
  struct Services : ServiceRegistry {
    PluginContext& c;
    explicit Services(PluginContext& ctx) : c(ctx) {}
    Status provideRaw(std::string_view n, std::shared_ptr<void> impl) override {
      return c.rt_.services().provide(c.name_, n, std::move(impl));
    }
    std::shared_ptr<void> findRaw(std::string_view n) const override {
      return c.rt_.services().find(n);
    }
    std::vector<std::string> names() const override { return c.rt_.services().names(); }
  };
  struct Http : HttpRoutes {
    PluginContext& c;
    explicit Http(PluginContext& ctx) : c(ctx) {}
    Status add(std::string m, std::string p, HttpHandler h, RouteOptions o) override {
      return c.rt_.router().add(c.name_, std::move(m), std::move(p), std::move(h),
                                std::move(o));
    }
    Status addWebSocket(std::string p, WebSocketOpen open, RouteOptions o) override {
      return c.rt_.router().addWebSocket(c.name_, std::move(p), std::move(open), std::move(o));
    }
  };
  struct Cli : CliCommands {
    PluginContext& c;
    explicit Cli(PluginContext& ctx) : c(ctx) {}
    Status add(CliCommand cmd) override { return c.rt_.cli().add(c.name_, std::move(cmd)); }
  };
  // Tracks timers so that none fires into a stopped plugin: revoke() cancels the pending
  // ones and waits for a callback that is running on the scheduler.
  struct TrackedClock : Clock {
    PluginContext& c;
    std::mutex mu;
    std::condition_variable idle;
    std::set<TimerId> pending;
    int running = 0;
    bool revoked = false;
    explicit TrackedClock(PluginContext& ctx) : c(ctx) {}
    TimePoint now() const override { return c.rt_.clock().now(); }
    bool isVirtual() const override { return c.rt_.clock().isVirtual(); }
    TimerId callAt(TimePoint when, std::function<void()> fn) override;
    bool cancel(TimerId id) override;
  };

  HostRuntime& rt_;
  std::string name_;
  ConfigValue config_;
  std::shared_ptr<spdlog::logger> logger_;
  Events events_{*this};
  Services services_{*this};
  Http http_{*this};
  Cli cli_{*this};
  TrackedClock clock_{*this};
};

}  // namespace kefu::core
