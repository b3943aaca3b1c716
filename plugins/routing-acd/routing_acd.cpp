// SPDX-License-Identifier: Apache-2.0
//
// routing-acd: automatic contact distribution. Queues and agents come from the plugin's
// config; the engine (acd_engine.h) pairs contacts with agents and is offered to other
// plugins as kefu::Router, serialised by a mutex. The ContactDesk stores every contact
// before it is acknowledged and every decision after it is made, and publishes them on the
// bus ("contact.*", "routing.*", "agent.state"). The HTTP API serves agents, contacts
// and queues.
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "acd_engine.h"
#include "kefu/sdk.h"
#include "kefu/store_util.h"
#include "channel_hub.h"
#include "contact_desk.h"
#include "locked_router.h"
#include "routing_bench.h"
#include "routing_config.h"

namespace kefu::acd {
namespace {

using Json = nlohmann::json;

// Parses a JSON request body into an object, or says why it is not one.
bool parseBody(const HttpRequest& req, Json& out, HttpResponse& error) {
  if (req.body.empty()) {
    out = Json::object();
    return true;
  }
  out = Json::parse(req.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    error = HttpResponse::error(400, "invalid_argument", "the body must be a JSON object");
    return false;
  }
  return true;
}

bool stringField(const Json& body, const char* key, std::string& out, bool required,
                 HttpResponse& error) {
  if (!body.contains(key)) {
    if (!required) return true;
    error = HttpResponse::error(400, "invalid_argument", std::string("'") + key +
                                                             "' is required");
    return false;
  }
  if (!body[key].is_string()) {
    error = HttpResponse::error(400, "invalid_argument", std::string("'") + key +
                                                             "' must be a string");
    return false;
  }
  out = body[key].get<std::string>();
  return true;
}

class RoutingAcd : public Plugin {
 public:
  Status configure(HostContext& ctx) override {
    ctx_ = &ctx;
    const ConfigValue& cfg = ctx.config();
    if (auto s = parseQueues(cfg, queues_, hours_); !s.ok()) return s;
    if (auto s = parseAgents(cfg, agents_); !s.ok()) return s;
    contactTypes_ = cfg.getStringList("contact_types", {"inquiry", "claim", "complaint",
                                                        "service_request", "other"});
    outcomes_ = cfg.getStringList("outcomes", {"resolved", "follow_up", "escalated",
                                               "transferred", "no_answer"});
    awayReasons_ = cfg.getStringList("away_reasons", {"break", "meal", "meeting", "training",
                                                      "after_call_work", "signed_in"});
    for (const char* key : {"contact_types", "outcomes", "away_reasons"}) {
      if (cfg.has(key) && cfg.getStringList(key).empty()) {
        return cfg.error(key, "must list at least one code");
      }
    }
    if (const ConfigValue* v = cfg.find("cluster_host_id")) {
      hostId_ = v->asString();
      bool valid = !hostId_.empty() && hostId_.size() <= 64 &&
                   hostId_.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789-_.") == std::string::npos;
      if (!valid) {
        return cfg.error("cluster_host_id", "must be 1 to 64 letters, digits, '-', '_', '.'");
      }
      if (ctx.store().backend() != "postgresql") {
        return cfg.error("cluster_host_id", "several hosts need a PostgreSQL store; with "
                                            "SQLite run one host and leave this unset");
      }
    }
    int64_t pollMs = cfg.getInt("cluster_poll_ms", 500);
    if (pollMs < 50 || pollMs > 60000) {
      return cfg.error("cluster_poll_ms", "must be between 50 and 60000");
    }
    pollEvery_ = std::chrono::milliseconds(pollMs);
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
    if (auto s = addRoutes(); !s.ok()) return s;
    // Channels and call controls (channel_hub.h).
    hub_ = std::make_shared<ChannelHub>(ctx, *router_, outcomes_);
    if (auto s = ctx.services().provide<ChannelRegistry>(hub_); !s.ok()) return s;
    if (auto s = hub_->addRoutes(ctx.http()); !s.ok()) return s;
    return ctx.cli().add(benchCommand(ctx));
  }

  std::vector<Migration> migrations() const override {
    return ContactDesk::migrations();
  }

  Status start() override {
    for (const auto& q : queues_) {
      if (auto s = router_->defineQueue(q); !s.ok()) return s;
    }
    for (const auto& a : agents_) {
      if (auto s = router_->defineAgent(a); !s.ok()) return s;
    }
    writeErrors_ = &ctx_->metrics().counter("kefu_routing_store_errors_total",
                                            "Routing updates the store refused");
    DeskOptions options;
    options.hostId = hostId_;
    options.hours = hours_;
    desk_ = std::make_unique<ContactDesk>(
        ctx_->store().openSession(), *router_, &ctx_->events(), ctx_->clock(),
        [this](const std::string& why) {
          writeErrors_->inc();
          ctx_->logger().error("cannot store a routing update: {}", why);
        },
        std::move(options));
    router_->setListener(desk_.get());
    if (desk_->multiHost()) {
      router_->setSettle([desk = desk_.get()](AcdEngine& e) { desk->settle(e); });
    }
    router_->setAfterUnlock([desk = desk_.get()] { desk->flushEvents(); });
    hub_->start(desk_.get());
    auto recovered = desk_->recover();
    if (!recovered.ok()) return recovered.status();
    scheduleTick();
    if (desk_->multiHost()) schedulePoll();
    ctx_->logger().info("{} queues, {} agents, {} open contacts recovered", queues_.size(),
                        agents_.size(), *recovered);
    return {};
  }

  void stop() override {
    TimerId timer, poll;
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
      timer = timer_;
      poll = pollTimer_;
    }
    if (timer) ctx_->clock().cancel(timer);
    if (poll) ctx_->clock().cancel(poll);
    router_->setSettle(nullptr);
    hub_->stop();
    router_->setListener(nullptr);
    router_->setAfterUnlock(nullptr);
    desk_.reset();
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

  // Several hosts: takes up contacts other hosts accepted, every cluster_poll_ms.
  void schedulePoll() {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    pollTimer_ = ctx_->clock().callAfter(pollEvery_, [this] {
      auto n = desk_->poll();
      if (!n.ok()) ctx_->logger().warn("routing poll: {}", n.status().message());
      schedulePoll();
    });
  }

  ContactDesk* desk() {
    if (!desk_) throw std::runtime_error("routing is stopping");
    return desk_.get();
  }

  // A contact record for `req`'s caller: customer references are masked below supervisor.
  static HttpResponse contactResponse(const HttpRequest& req, int status,
                                      const std::string& record) {
    bool privileged = req.principal.hasRole(roles::kSupervisor) ||
                      req.principal.hasRole(roles::kAdmin);
    return HttpResponse::json(status, privileged ? record : maskPersonalData(record));
  }

  // Agents act on themselves; supervisors and team leads on anyone.
  static bool mayActFor(const HttpRequest& req, const std::string& agentId) {
    return req.principal.id == agentId || req.principal.hasRole(roles::kSupervisor) ||
           req.principal.hasRole(roles::kTeamLead) || req.principal.hasRole(roles::kAdmin);
  }

  Status addRoutes() {
    RouteOptions leads;
    leads.roles = {roles::kSupervisor, roles::kTeamLead};
    RouteOptions anyone;
    auto& http = ctx_->http();

    auto s = http.add("POST", "/api/v1/contacts", [this](const HttpRequest& r) {
      Json body;
      HttpResponse err;
      if (!parseBody(r, body, err)) return err;
      ContactSpec c;
      if (!stringField(body, "id", c.id, false, err) ||
          !stringField(body, "queue", c.queue, true, err) ||
          !stringField(body, "channel", c.channel, false, err) ||
          !stringField(body, "customer_ref", c.customerRef, false, err)) {
        return err;
      }
      if (c.channel.size() > 32 || c.customerRef.size() > 128 || c.queue.size() > 64) {
        return HttpResponse::error(400, "invalid_argument",
                                   "channel has at most 32 characters, customer_ref 128, "
                                   "queue 64");
      }
      if (body.contains("priority")) {
        const Json& p = body["priority"];
        bool inRange = p.is_number_integer() && !(p.is_number_unsigned() &&
                                                  p.get<uint64_t>() > 100) &&
                       p.get<int64_t>() >= -100 && p.get<int64_t>() <= 100;
        if (!inRange) {
          return HttpResponse::error(400, "invalid_argument",
                                     "'priority' must be an integer from -100 to 100");
        }
        c.priority = body["priority"].get<int>();
      }
      auto id = desk()->accept(c);
      if (!id.ok()) return HttpResponse::fromStatus(id.status());
      auto rec = desk()->contactJson(*id);
      if (!rec.ok()) return contactResponse(r, 201, "{}");
      // A closed queue: say what was done instead of routing it there.
      Json j = Json::parse(*rec);
      std::string outcome = j.value("outcome", ""), stored = j.value("queue", "");
      bool closedEnd = outcome.rfind("closed_", 0) == 0;
      if (closedEnd || stored != c.queue) {
        Json closed{{"queue", c.queue}, {"action", closedEnd ? outcome.substr(7) : "overflow"}};
        if (stored != c.queue) closed["to"] = stored;
        j["closed"] = closed;
      }
      return contactResponse(r, 201, j.dump());
    }, leads);
    if (!s.ok()) return s;

    s = http.add("GET", "/api/v1/contacts/{id}", [this](const HttpRequest& r) {
      auto rec = desk()->contactJson(r.params.at("id"));
      if (!rec.ok()) return HttpResponse::fromStatus(rec.status());
      return contactResponse(r, 200, hub_->decorate(r.params.at("id"), *rec));
    }, anyone);
    if (!s.ok()) return s;

    s = http.add("POST", "/api/v1/contacts/{id}/end", [this](const HttpRequest& r) {
      Json body;
      HttpResponse err;
      std::string outcome;
      if (!parseBody(r, body, err) || !stringField(body, "outcome", outcome, false, err)) {
        return err;
      }
      if (!outcome.empty() &&
          std::find(outcomes_.begin(), outcomes_.end(), outcome) == outcomes_.end()) {
        return HttpResponse::error(400, "invalid_argument", "unknown outcome '" + outcome + "'");
      }
      const std::string& id = r.params.at("id");
      auto rec = desk()->contactJson(id);
      std::string holder = rec.ok() ? Json::parse(*rec).value("agent", "") : "";
      if (!holder.empty() && !mayActFor(r, holder)) {
        return HttpResponse::error(403, "permission_denied",
                                   "only the agent handling the contact or a lead may end it");
      }
      Status st = desk()->end(id, outcome);
      if (!st.ok()) return HttpResponse::fromStatus(st);
      return contactResponse(r, 200, *desk()->contactJson(id));
    }, anyone);
    if (!s.ok()) return s;

    s = http.add("POST", "/api/v1/contacts/{id}/abandon", [this](const HttpRequest& r) {
      Status st = desk()->abandon(r.params.at("id"));
      if (!st.ok()) return HttpResponse::fromStatus(st);
      return contactResponse(r, 200, *desk()->contactJson(r.params.at("id")));
    }, leads);
    if (!s.ok()) return s;

    // Agent state: /api/v1/agents/{id}/{sign-in|sign-out|ready|away|wrap-up-end}
    auto agentAction = [this](const char* action) {
      return [this, action](const HttpRequest& r) {
        const std::string& id = r.params.at("id");
        if (!mayActFor(r, id)) {
          return HttpResponse::error(403, "permission_denied",
                                     "agents change only their own state");
        }
        TimePoint now = ctx_->clock().now();
        Status st;
        std::string a = action;
        if (a == "sign-in") {
          st = desk()->signIn(id);
        } else if (a == "sign-out") {
          st = desk()->signOut(id);
        } else if (a == "ready") {
          st = router_->setReady(id, now);
        } else if (a == "wrap-up-end") {
          st = router_->endWrapUp(id, now);
        } else {
          Json body;
          HttpResponse err;
          std::string reason;
          if (!parseBody(r, body, err) || !stringField(body, "reason", reason, true, err)) {
            return err;
          }
          if (std::find(awayReasons_.begin(), awayReasons_.end(), reason) ==
              awayReasons_.end()) {
            return HttpResponse::error(400, "invalid_argument",
                                       "unknown away reason '" + reason + "'");
          }
          st = router_->setAway(id, reason, now);
        }
        if (!st.ok()) return HttpResponse::fromStatus(st);
        return agentJson(id);
      };
    };
    for (const char* action : {"sign-in", "sign-out", "ready", "away", "wrap-up-end"}) {
      s = http.add("POST", std::string("/api/v1/agents/{id}/") + action, agentAction(action),
                   anyone);
      if (!s.ok()) return s;
    }
    s = http.add("GET", "/api/v1/agents/{id}", [this](const HttpRequest& r) {
      return agentJson(r.params.at("id"));
    }, anyone);
    if (!s.ok()) return s;

    s = http.add("POST", "/api/v1/agents/{id}/dispositions", [this](const HttpRequest& r) {
      const std::string& id = r.params.at("id");
      if (!mayActFor(r, id)) {
        return HttpResponse::error(403, "permission_denied",
                                   "agents record only their own dispositions");
      }
      Json body;
      HttpResponse err;
      std::string contact;
      Disposition d;
      if (!parseBody(r, body, err) || !stringField(body, "contact", contact, true, err) ||
          !stringField(body, "type", d.contactType, true, err) ||
          !stringField(body, "outcome", d.outcome, true, err) ||
          !stringField(body, "note", d.note, false, err)) {
        return err;
      }
      auto known = [](const std::vector<std::string>& list, const std::string& v) {
        return std::find(list.begin(), list.end(), v) != list.end();
      };
      if (!known(contactTypes_, d.contactType)) {
        return HttpResponse::error(400, "invalid_argument",
                                   "unknown contact type '" + d.contactType + "'");
      }
      if (!known(outcomes_, d.outcome)) {
        return HttpResponse::error(400, "invalid_argument",
                                   "unknown outcome '" + d.outcome + "'");
      }
      Status st = desk()->dispose(id, contact, d);
      if (!st.ok()) return HttpResponse::fromStatus(st);
      return HttpResponse::json(201, Json{{"contact", contact}, {"agent", id},
                                          {"type", d.contactType}, {"outcome", d.outcome}}
                                         .dump());
    }, anyone);
    if (!s.ok()) return s;

    s = http.add("GET", "/api/v1/queues", [this](const HttpRequest&) {
      Json list = Json::array();
      for (const auto& q : queues_) list.push_back(queueJson(q.name));
      return HttpResponse::json(200, Json{{"queues", list}}.dump());
    }, anyone);
    if (!s.ok()) return s;
    return http.add("GET", "/api/v1/queues/{name}", [this](const HttpRequest& r) {
      auto it = std::find_if(queues_.begin(), queues_.end(),
                             [&](const QueueSpec& q) { return q.name == r.params.at("name"); });
      if (it == queues_.end()) {
        return HttpResponse::error(404, "not_found", "no queue '" + r.params.at("name") + "'");
      }
      return HttpResponse::json(200, queueJson(it->name).dump());
    }, anyone);
  }

  HttpResponse agentJson(const std::string& id) {
    auto d = router_->locked([&](AcdEngine& e) { return e.agentDetail(id); });
    if (!d.ok()) return HttpResponse::fromStatus(d.status());
    Json j{{"id", id},
           {"state", agentStateName(d->state)},
           {"reason", d->reason.empty() ? Json() : Json(d->reason)},
           {"pending_away", d->pendingAway ? Json{{"reason", d->pendingReason}} : Json()},
           {"contacts", d->exclusive + d->chats}};
    if (!hostId_.empty()) j["host"] = hostId_;
    return HttpResponse::json(200, j.dump());
  }

  Json queueJson(const std::string& name) {
    auto st = router_->queueStats(name, ctx_->clock().now());
    Json byState = Json::object();
    if (st.ok()) {
      for (const auto& [state, n] : st->agentsByState) byState[agentStateName(state)] = n;
    }
    Json j{{"name", name},
           {"waiting", st.ok() ? st->waiting : 0},
           {"longest_wait_seconds", st.ok() ? st->longestWait.count() : 0},
           {"agents", byState}};
    // Service hours: open now, and when that changes (null: never, 7x24).
    const QueueHours& h = hours_.at(name);
    TimePoint now = ctx_->clock().now();
    auto next = h.hours.nextChange(now);
    j["hours"] = h.hours.alwaysOpen() ? "24x7" : "calendar";
    j["open"] = h.hours.isOpen(now);
    j["next_change"] =
        next ? Json(formatUtcMillis(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        next->time_since_epoch())
                                        .count()))
             : Json();
    j["closed_action"] = closedActionName(h.closedAction);
    if (h.closedAction == ClosedAction::kOverflow) j["closed_overflow_queue"] = h.overflowQueue;
    return j;
  }

  HostContext* ctx_ = nullptr;
  std::vector<QueueSpec> queues_;
  std::map<std::string, QueueHours> hours_;
  std::vector<AgentSpec> agents_;
  std::string hostId_;  // several hosts when set
  std::chrono::milliseconds pollEvery_{500};
  std::vector<std::string> contactTypes_, outcomes_, awayReasons_;
  std::shared_ptr<LockedRouter> router_;
  std::unique_ptr<ContactDesk> desk_;
  std::shared_ptr<ChannelHub> hub_;
  Counter* writeErrors_ = nullptr;
  std::mutex mu_;
  bool stopped_ = false;
  TimerId timer_ = 0;
  TimerId pollTimer_ = 0;
};

PluginInfo routingInfo() {
  PluginInfo info;
  info.description = "Automatic contact distribution: skills, priorities, strategies, overflow";
  info.kinds = {"router"};
  info.provides = {Router::kInterfaceName, ChannelRegistry::kInterfaceName};
  info.maturity = Maturity::kBeta;
  info.configKeys = {
      {"queues", ConfigType::kArray,
       "[[queues]] tables: name, media, skills, strategy, priority, capacity, "
       "overflow_after_seconds, overflow_queue, max_wait_seconds, max_wait_action, "
       "service_level_seconds, short_abandon_seconds, hours (utc_offset, mon..sun, "
       "closed_dates, special), closed_action, closed_overflow_queue",
       false, "[]"},
      {"agents", ConfigType::kArray,
       "[[agents]] tables: id, skills (table skill = level), max_chats, wrap_up_seconds", false,
       "[]"},
      {"contact_types", ConfigType::kStringList, "Disposition contact types (小结类型)", false,
       "[\"inquiry\", \"claim\", \"complaint\", \"service_request\", \"other\"]"},
      {"outcomes", ConfigType::kStringList, "Disposition outcomes", false,
       "[\"resolved\", \"follow_up\", \"escalated\", \"transferred\", \"no_answer\"]"},
      {"away_reasons", ConfigType::kStringList, "Reason codes for going away", false,
       "[\"break\", \"meal\", \"meeting\", \"training\", \"after_call_work\", "
       "\"signed_in\"]"},
      {"cluster_host_id", ConfigType::kString,
       "This host's unique name when several hosts share one PostgreSQL store; unset: one host",
       false, ""},
      {"cluster_poll_ms", ConfigType::kInt,
       "Several hosts: how often to take up contacts other hosts accepted (50..60000)", false,
       "500"},
  };
  return info;
}

}  // namespace
}  // namespace kefu::acd

KEFU_PLUGIN(kefu::acd::RoutingAcd, "routing-acd", "0.1.0", kefu::acd::routingInfo)
