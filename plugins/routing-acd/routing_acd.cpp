// SPDX-License-Identifier: Apache-2.0
//
// routing-acd: automatic contact distribution. Queues and agents come from the plugin's
// config; the engine (acd_engine.h) pairs contacts with agents and is offered to other
// plugins as kefu::Router, serialised by a mutex. Every decision is published on the event
// bus ("routing.assigned", "routing.overflowed", "routing.max_wait", "agent.state").
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "acd_engine.h"
#include "kefu/sdk.h"
#include "locked_router.h"
#include "routing_bench.h"
#include "routing_config.h"

namespace kefu::acd {
namespace {

using Json = nlohmann::json;

std::string iso(TimePoint t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  return buf;
}

const char* actionName(MaxWaitAction a) {
  switch (a) {
    case MaxWaitAction::kNone: return "none";
    case MaxWaitAction::kOverflow: return "overflow";
    case MaxWaitAction::kCallback: return "callback";
    case MaxWaitAction::kVoicemail: return "voicemail";
    case MaxWaitAction::kDisconnect: return "disconnect";
  }
  return "?";
}

// Publishes the engine's decisions on the bus.
class BusListener : public RoutingListener {
 public:
  explicit BusListener(HostContext& ctx) : ctx_(ctx) {}
  void onAssigned(const std::string& contact, const std::string& agent, const std::string& queue,
                  TimePoint at) override {
    publish("routing.assigned", {{"contact", contact}, {"agent", agent}, {"queue", queue}}, at);
  }
  void onOverflowed(const std::string& contact, const std::string& from, const std::string& to,
                    TimePoint at) override {
    publish("routing.overflowed", {{"contact", contact}, {"from", from}, {"to", to}}, at);
  }
  void onMaxWait(const std::string& contact, const std::string& queue, MaxWaitAction action,
                 TimePoint at) override {
    publish("routing.max_wait",
            {{"contact", contact}, {"queue", queue}, {"action", actionName(action)}}, at);
  }
  void onAgentState(const std::string& agent, AgentState from, AgentState to,
                    const std::string& reason, TimePoint at) override {
    publish("agent.state",
            {{"agent", agent}, {"from", agentStateName(from)}, {"to", agentStateName(to)},
             {"reason", reason}},
            at);
  }

 private:
  void publish(const char* topic, Json payload, TimePoint at) {
    payload["at"] = iso(at);
    Event e;
    e.topic = topic;
    e.payload = payload.dump();
    e.at = at;
    ctx_.events().publish(std::move(e));
  }
  HostContext& ctx_;
};

class RoutingAcd : public Plugin {
 public:
  Status configure(HostContext& ctx) override {
    ctx_ = &ctx;
    const ConfigValue& cfg = ctx.config();
    if (auto s = parseQueues(cfg, queues_); !s.ok()) return s;
    if (auto s = parseAgents(cfg, agents_); !s.ok()) return s;
    // Validate the whole set up front by building it once.
    AcdEngine trial;
    for (const auto& q : queues_) {
      if (auto s = trial.defineQueue(q); !s.ok()) return cfg.error("queues", s.message());
    }
    for (const auto& a : agents_) {
      if (auto s = trial.defineAgent(a); !s.ok()) return cfg.error("agents", s.message());
    }
    router_ = std::make_shared<LockedRouter>(std::make_unique<AcdEngine>());
    if (auto s = ctx.services().provide<Router>(router_); !s.ok()) return s;
    return ctx.cli().add(benchCommand(ctx));
  }

  Status start() override {
    listener_ = std::make_unique<BusListener>(*ctx_);
    router_->setListener(listener_.get());
    for (const auto& q : queues_) {
      if (auto s = router_->defineQueue(q); !s.ok()) return s;
    }
    for (const auto& a : agents_) {
      if (auto s = router_->defineAgent(a); !s.ok()) return s;
    }
    scheduleTick();
    ctx_->logger().info("{} queues, {} agents", queues_.size(), agents_.size());
    return {};
  }

  void stop() override {
    std::lock_guard lock(mu_);
    stopped_ = true;
    if (timer_) ctx_->clock().cancel(timer_);
    router_->setListener(nullptr);
  }

 private:
  // Applies due overflow, maximum-wait and wrap-up timers once a second.
  void scheduleTick() {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    timer_ = ctx_->clock().callAfter(std::chrono::seconds(1), [this] {
      router_->advance(ctx_->clock().now());
      scheduleTick();
    });
  }

  HostContext* ctx_ = nullptr;
  std::vector<QueueSpec> queues_;
  std::vector<AgentSpec> agents_;
  std::shared_ptr<LockedRouter> router_;
  std::unique_ptr<BusListener> listener_;
  std::mutex mu_;
  bool stopped_ = false;
  TimerId timer_ = 0;
};

PluginInfo routingInfo() {
  PluginInfo info;
  info.description = "Automatic contact distribution: skills, priorities, strategies, overflow";
  info.kinds = {"router"};
  info.provides = {Router::kInterfaceName};
  info.maturity = Maturity::kBeta;
  info.configKeys = {
      {"queues", ConfigType::kArray,
       "[[queues]] tables: name, media, skills, strategy, priority, capacity, "
       "overflow_after_seconds, overflow_queue, max_wait_seconds, max_wait_action, "
       "service_level_seconds, short_abandon_seconds",
       false, "[]"},
      {"agents", ConfigType::kArray,
       "[[agents]] tables: id, skills (table skill = level), max_chats, wrap_up_seconds", false,
       "[]"},
  };
  return info;
}

}  // namespace
}  // namespace kefu::acd

KEFU_PLUGIN(kefu::acd::RoutingAcd, "routing-acd", "0.1.0", kefu::acd::routingInfo)
