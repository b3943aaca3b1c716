// SPDX-License-Identifier: Apache-2.0
//
// sim-telephony: the "phone" channel simulated in process, for tests, demos and training.
// A call is placed with POST /api/v1/sim/calls; it is routed like any contact, rings the
// agent it is assigned to, is answered by the agent (POST /api/v1/contacts/{id}/answer) or
// by itself after answer_delay_ms when auto_answer is on, plays music on hold, and records
// every answered leg under a reference "sim://rec/<contact>/<n>". Every media event goes
// back to Kefu through the ChannelSink. A caller who hangs up while queued abandons; one
// who hears ringing for ring_timeout_seconds hangs up.
//
// Locking: calls_ is guarded by mu_, and the sink is never called with mu_ held (the sink
// may call back into this channel on the same thread).
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "kefu/sdk.h"

namespace kefu::sim {
namespace {

using Json = nlohmann::json;

struct Settings {
  std::chrono::seconds ringTimeout{30};
  bool autoAnswer = false;
  std::chrono::milliseconds answerDelay{500};
  bool recording = true;
  std::string defaultQueue;
};

struct Call {
  std::string state = "queued";  // queued, ringing, talking, held, ended
  std::string queue;
  std::string agent;
  std::string consulting;                    // the agent consulted, while consulting
  std::vector<std::string> conference;       // agents and barging supervisors who joined
  std::map<std::string, std::string> supervisors;  // id -> mode
  bool musicOnHold = false;
  int legs = 0;                    // recordings made so far
  std::string recording;           // the running recording's reference, or ""
  std::vector<std::string> recordings;
  uint64_t ringGeneration = 0;     // timers of an earlier ringing are stale
};

class SimPhone : public Channel {
 public:
  SimPhone(HostContext& ctx, Settings s) : ctx_(ctx), settings_(std::move(s)) {}

  void attach(ChannelSink* sink) {
    std::lock_guard lock(mu_);
    sink_ = sink;
  }

  // Cancels the pending timers and waits for running ones; no new ones are set afterwards.
  void shutDown() {
    std::map<uint64_t, TimerId> timers;
    {
      std::lock_guard lock(mu_);
      sink_ = nullptr;
      timers.swap(timers_);
    }
    // Outside mu_: cancel() waits for a running callback, which takes mu_.
    for (const auto& [token, id] : timers) ctx_.clock().cancel(id);
    std::unique_lock lock(mu_);
    idle_.wait(lock, [this] { return running_ == 0; });
  }

  std::string name() const override { return "phone"; }

  // ---- the caller's side (HTTP) -----------------------------------------------------

  Result<std::string> place(ContactSpec spec) {
    if (spec.queue.empty()) spec.queue = settings_.defaultQueue;
    if (spec.queue.empty()) return Status::invalidArgument("'queue' is required");
    if (spec.id.empty()) spec.id = newId();
    spec.channel = "phone";
    ChannelSink* sink;
    {
      std::lock_guard lock(mu_);
      if (!sink_) return Status::unavailable("the simulated phone is not running");
      if (calls_.count(spec.id)) return Status::alreadyExists("call '" + spec.id + "' exists");
      // Known before routing: the router may offer it to an agent during arrive().
      calls_[spec.id].queue = spec.queue;
      sink = sink_;
    }
    auto id = sink->arrive(spec);
    if (!id.ok()) {
      std::lock_guard lock(mu_);
      calls_.erase(spec.id);
    }
    return id;
  }

  Status callerHangsUp(const std::string& id) {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = find(id);
      if (!c) return Status::notFound("no call '" + id + "'");
      if (c->state == "ended") return Status::failedPrecondition("call '" + id + "' has ended");
      end(id, *c, out);
      out.push_back({MediaEventKind::kHungUpByCustomer, id, "", "", "the caller hung up"});
    }
    // Kefu's view of it is logged by send(); the caller has hung up either way.
    (void)send(out);
    return {};
  }

  Result<Json> describe(const std::string& id) {
    std::lock_guard lock(mu_);
    Call* c = find(id);
    if (!c) return Status::notFound("no call '" + id + "'");
    return toJson(id, *c);
  }

  Json list() {
    std::lock_guard lock(mu_);
    Json out = Json::array();
    for (const auto& [id, c] : calls_) {
      if (c.state != "ended") out.push_back(toJson(id, c));
    }
    return out;
  }

  // ---- Channel: what Kefu asks --------------------------------------------------------

  Status offer(const std::string& id, const std::string& agent) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      // A phone contact created through the API, not by a simulated caller, is adopted.
      Call& c = calls_[id];
      c.state = "ringing";
      c.agent = agent;
      c.musicOnHold = false;
      c.consulting.clear();
      c.conference.clear();
      c.supervisors.clear();
      uint64_t gen = ++c.ringGeneration;
      schedule(settings_.ringTimeout, [this, id, gen] { ringTimedOut(id, gen); });
      if (settings_.autoAnswer) {
        schedule(settings_.answerDelay, [this, id, gen] { autoAnswer(id, gen); });
      }
      out.push_back({MediaEventKind::kRinging, id, agent});
    }
    return send(out);
  }

  Status answer(const std::string& id, const std::string& agent) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = find(id);
      if (!c) return Status::notFound("no call '" + id + "'");
      if (c->state != "ringing" || c->agent != agent) {
        return Status::failedPrecondition("call '" + id + "' does not ring agent " + agent);
      }
      connect(id, *c, out);
    }
    return send(out);
  }

  Status hangUp(const std::string& id, const std::string& party) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = find(id);
      if (!c) return Status::notFound("no call '" + id + "'");
      if (c->state == "ended") return Status::failedPrecondition("call '" + id + "' has ended");
      if (party.empty() || party == c->agent) {
        end(id, *c, out);  // the holder hangs up: the call ends for everyone
      } else if (party == c->consulting) {
        c->consulting.clear();
        c->musicOnHold = false;
      } else {
        auto it = std::find(c->conference.begin(), c->conference.end(), party);
        if (it == c->conference.end()) {
          return Status::failedPrecondition(party + " is not on call '" + id + "'");
        }
        c->conference.erase(it);
      }
      out.push_back({MediaEventKind::kHungUpByAgent, id, party.empty() ? c->agent : party});
    }
    return send(out);
  }

  Status hold(const std::string& id) override { return setHold(id, true); }
  Status resume(const std::string& id) override { return setHold(id, false); }

  Status transfer(const std::string& id, const TransferTarget& to) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = talking(id);
      if (!c) return Status::failedPrecondition("call '" + id + "' is not connected");
      stopRecording(id, *c, out);
      c->musicOnHold = true;  // until the next agent answers
      c->supervisors.clear();
      if (!to.agent.empty()) {
        out.push_back({MediaEventKind::kTransferCompleted, id, to.agent, "", "blind"});
        c->state = "ringing";
      } else {
        c->state = "queued";
        c->queue = to.queue;
        c->agent.clear();
      }
    }
    return send(out);
  }

  Status consult(const std::string& id, const std::string& agent) override {
    std::lock_guard lock(mu_);
    Call* c = talking(id);
    if (!c) return Status::failedPrecondition("call '" + id + "' is not connected");
    c->consulting = agent;
    c->musicOnHold = true;  // the caller waits while the agents speak
    return {};
  }

  Status completeConsult(const std::string& id) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = talking(id);
      if (!c || c->consulting.empty()) {
        return Status::failedPrecondition("call '" + id + "' has no consultation");
      }
      stopRecording(id, *c, out);
      c->agent = c->consulting;
      c->consulting.clear();
      c->musicOnHold = false;
      c->state = "talking";
      c->supervisors.clear();
      out.push_back({MediaEventKind::kTransferCompleted, id, c->agent, "", "consult"});
      startRecording(id, *c, out);
    }
    return send(out);
  }

  Status cancelConsult(const std::string& id) override {
    std::lock_guard lock(mu_);
    Call* c = talking(id);
    if (!c || c->consulting.empty()) {
      return Status::failedPrecondition("call '" + id + "' has no consultation");
    }
    c->consulting.clear();
    c->musicOnHold = false;
    c->state = "talking";
    return {};
  }

  Status conference(const std::string& id, const std::string& agent) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = talking(id);
      if (!c) return Status::failedPrecondition("call '" + id + "' is not connected");
      c->consulting.clear();
      c->musicOnHold = false;
      c->state = "talking";
      c->conference.push_back(agent);
      out.push_back({MediaEventKind::kConferenceJoined, id, agent});
    }
    return send(out);
  }

  Status supervise(const std::string& id, const std::string& supervisor,
                   SupervisionMode mode) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = talking(id);
      if (!c) return Status::failedPrecondition("call '" + id + "' is not connected");
      c->supervisors[supervisor] = supervisionModeName(mode);
      if (mode == SupervisionMode::kBarge) {
        out.push_back({MediaEventKind::kConferenceJoined, id, supervisor, "", "barge-in"});
      }
    }
    return send(out);
  }

  void release(const std::string& id, const std::string& reason) override {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = find(id);
      if (!c || c->state == "ended") return;
      end(id, *c, out);
    }
    (void)send(out);
    ctx_.logger().debug("call {} released: {}", id, reason);
  }

 private:
  Call* find(const std::string& id) {
    auto it = calls_.find(id);
    return it == calls_.end() ? nullptr : &it->second;
  }

  // A call with the caller on the line (talking or held).
  Call* talking(const std::string& id) {
    Call* c = find(id);
    return c && (c->state == "talking" || c->state == "held") ? c : nullptr;
  }

  static std::string newId() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static const char* hex = "0123456789abcdef";
    std::string id = "sim-";
    uint64_t v = rng();
    for (int i = 0; i < 12; ++i, v >>= 4) id += hex[v & 15];
    return id;
  }

  Json toJson(const std::string& id, const Call& c) const {
    Json sup = Json::object();
    for (const auto& [s, m] : c.supervisors) sup[s] = m;
    return Json{{"contact", id},           {"state", c.state},
                {"queue", c.queue},        {"agent", c.agent},
                {"consulting", c.consulting}, {"conference", c.conference},
                {"supervisors", sup},      {"music_on_hold", c.musicOnHold},
                {"recording", c.recording}, {"recordings", c.recordings}};
  }

  void connect(const std::string& id, Call& c, std::vector<MediaEvent>& out) {
    c.state = "talking";
    c.musicOnHold = false;
    ++c.ringGeneration;  // the ring timers are stale
    out.push_back({MediaEventKind::kAnswered, id, c.agent});
    startRecording(id, c, out);
  }

  void startRecording(const std::string& id, Call& c, std::vector<MediaEvent>& out) {
    if (!settings_.recording || !c.recording.empty()) return;
    c.recording = "sim://rec/" + id + "/" + std::to_string(++c.legs);
    c.recordings.push_back(c.recording);
    out.push_back({MediaEventKind::kRecordingStarted, id, c.agent, c.recording});
  }

  void stopRecording(const std::string& id, Call& c, std::vector<MediaEvent>& out) {
    if (c.recording.empty()) return;
    out.push_back({MediaEventKind::kRecordingStopped, id, c.agent, c.recording});
    c.recording.clear();
  }

  void end(const std::string& id, Call& c, std::vector<MediaEvent>& out) {
    stopRecording(id, c, out);
    c.state = "ended";
    c.musicOnHold = false;
    ++c.ringGeneration;
    ended_.push_back(id);
    // Ended calls stay visible for a while, then make room.
    while (ended_.size() > kKeepEnded) {
      calls_.erase(ended_.front());
      ended_.pop_front();
    }
  }

  Status setHold(const std::string& id, bool hold) {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = find(id);
      if (!c) return Status::notFound("no call '" + id + "'");
      if (c->state != (hold ? "talking" : "held")) {
        return Status::failedPrecondition("call '" + id + "' is " + c->state);
      }
      c->state = hold ? "held" : "talking";
      c->musicOnHold = hold;
      out.push_back({hold ? MediaEventKind::kHeld : MediaEventKind::kResumed, id, c->agent});
    }
    return send(out);
  }

  // Called with mu_ held. A timer forgets itself when it fires, so shutDown() cancels
  // exactly the pending ones and waits for the running ones.
  void schedule(std::chrono::milliseconds after, std::function<void()> fn) {
    if (!sink_) return;
    uint64_t token = ++timerSeq_;
    timers_[token] = ctx_.clock().callAfter(after, [this, token, fn = std::move(fn)] {
      {
        std::lock_guard lock(mu_);
        if (!timers_.erase(token)) return;  // cancelled by shutDown()
        ++running_;
      }
      fn();
      std::lock_guard lock(mu_);
      --running_;
      idle_.notify_all();
    });
  }

  void ringTimedOut(const std::string& id, uint64_t gen) {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = find(id);
      if (!c || c->state != "ringing" || c->ringGeneration != gen) return;
      end(id, *c, out);
      out.push_back({MediaEventKind::kHungUpByCustomer, id, "", "",
                     "nobody answered within " +
                         std::to_string(settings_.ringTimeout.count()) + " s"});
    }
    (void)send(out);
  }

  void autoAnswer(const std::string& id, uint64_t gen) {
    std::vector<MediaEvent> out;
    {
      std::lock_guard lock(mu_);
      Call* c = find(id);
      if (!c || c->state != "ringing" || c->ringGeneration != gen) return;
      connect(id, *c, out);
    }
    (void)send(out);
  }

  // Reports outside mu_; the first failure is returned (and logged), the rest still sent.
  Status send(const std::vector<MediaEvent>& events) {
    ChannelSink* sink;
    {
      std::lock_guard lock(mu_);
      sink = sink_;
    }
    Status first;
    if (!sink) return first;
    for (const auto& e : events) {
      Status s = sink->report(e);
      if (!s.ok()) {
        ctx_.logger().warn("media event {} of {} not taken: {}", mediaEventName(e.kind),
                           e.contactId, s.message());
        if (first.ok()) first = s;
      }
    }
    return first;
  }

  static constexpr size_t kKeepEnded = 1000;
  HostContext& ctx_;
  const Settings settings_;
  std::mutex mu_;
  ChannelSink* sink_ = nullptr;
  std::map<std::string, Call> calls_;
  std::deque<std::string> ended_;
  std::map<uint64_t, TimerId> timers_;  // pending timers by token
  uint64_t timerSeq_ = 0;
  int running_ = 0;  // timer callbacks running now
  std::condition_variable idle_;
};

class SimTelephony : public Plugin {
 public:
  Status configure(HostContext& ctx) override {
    ctx_ = &ctx;
    const ConfigValue& cfg = ctx.config();
    Settings s;
    int64_t ring = cfg.getInt("ring_timeout_seconds", 30);
    if (ring < 1 || ring > 3600) return cfg.error("ring_timeout_seconds", "must be 1 to 3600");
    s.ringTimeout = std::chrono::seconds(ring);
    int64_t delay = cfg.getInt("answer_delay_ms", 500);
    if (delay < 0 || delay > 60000) return cfg.error("answer_delay_ms", "must be 0 to 60000");
    s.answerDelay = std::chrono::milliseconds(delay);
    if (s.answerDelay >= s.ringTimeout) {
      return cfg.error("answer_delay_ms", "must be shorter than ring_timeout_seconds");
    }
    s.autoAnswer = cfg.getBool("auto_answer", false);
    s.recording = cfg.getBool("recording", true);
    s.defaultQueue = cfg.getString("default_queue", "");
    if (cfg.has("default_queue") && s.defaultQueue.empty()) {
      return cfg.error("default_queue", "must name a queue (or be left out)");
    }
    phone_ = std::make_shared<SimPhone>(ctx, s);
    return addRoutes();
  }

  Status start() override {
    registry_ = ctx_->services().find<ChannelRegistry>();
    if (!registry_) return Status::unavailable("no channel registry (enable routing-acd)");
    if (auto s = registry_->add(phone_); !s.ok()) return s;
    phone_->attach(&registry_->sink());
    return {};
  }

  void stop() override {
    phone_->shutDown();
    if (registry_) registry_->remove("phone");
    registry_.reset();
  }

 private:
  Status addRoutes() {
    RouteOptions leads;
    leads.roles = {roles::kSupervisor, roles::kTeamLead};
    auto& http = ctx_->http();
    auto s = http.add("POST", "/api/v1/sim/calls", [this](const HttpRequest& r) {
      Json body = r.body.empty() ? Json::object() : Json::parse(r.body, nullptr, false);
      if (!body.is_object()) {
        return HttpResponse::error(400, "invalid_argument", "the body must be a JSON object");
      }
      ContactSpec spec;
      for (auto [key, out] : {std::pair{"id", &spec.id}, std::pair{"queue", &spec.queue},
                              std::pair{"customer_ref", &spec.customerRef}}) {
        if (!body.contains(key)) continue;
        if (!body[key].is_string()) {
          return HttpResponse::error(400, "invalid_argument",
                                     std::string("'") + key + "' must be a string");
        }
        *out = body[key].get<std::string>();
      }
      if (body.contains("priority")) {
        const Json& p = body["priority"];
        if (!p.is_number_integer() || p.get<int64_t>() < -100 || p.get<int64_t>() > 100) {
          return HttpResponse::error(400, "invalid_argument",
                                     "'priority' must be an integer from -100 to 100");
        }
        spec.priority = p.get<int>();
      }
      auto id = phone_->place(spec);
      if (!id.ok()) return HttpResponse::fromStatus(id.status());
      auto call = phone_->describe(*id);
      return HttpResponse::json(201, call.ok() ? call->dump() : Json{{"contact", *id}}.dump());
    }, leads);
    if (!s.ok()) return s;
    s = http.add("GET", "/api/v1/sim/calls", [this](const HttpRequest&) {
      return HttpResponse::json(200, Json{{"calls", phone_->list()}}.dump());
    }, leads);
    if (!s.ok()) return s;
    s = http.add("GET", "/api/v1/sim/calls/{id}", [this](const HttpRequest& r) {
      auto call = phone_->describe(r.params.at("id"));
      if (!call.ok()) return HttpResponse::fromStatus(call.status());
      return HttpResponse::json(200, call->dump());
    }, leads);
    if (!s.ok()) return s;
    return http.add("POST", "/api/v1/sim/calls/{id}/hangup", [this](const HttpRequest& r) {
      const std::string& id = r.params.at("id");
      if (auto st = phone_->callerHangsUp(id); !st.ok()) return HttpResponse::fromStatus(st);
      auto call = phone_->describe(id);
      return HttpResponse::json(200, call.ok() ? call->dump() : "{}");
    }, leads);
  }

  HostContext* ctx_ = nullptr;
  std::shared_ptr<SimPhone> phone_;
  std::shared_ptr<ChannelRegistry> registry_;
};

PluginInfo simInfo() {
  PluginInfo info;
  info.description = "Simulated telephony: the \"phone\" channel in process, for tests and demos";
  info.kinds = {"channel"};
  info.depends = {ChannelRegistry::kInterfaceName};
  info.maturity = Maturity::kBeta;
  info.configKeys = {
      {"ring_timeout_seconds", ConfigType::kInt,
       "An offered call that nobody answers in this time is hung up by the caller", false,
       "30"},
      {"auto_answer", ConfigType::kBool, "Agents' phones answer by themselves", false,
       "false"},
      {"answer_delay_ms", ConfigType::kInt, "How long an auto-answered call rings", false,
       "500"},
      {"recording", ConfigType::kBool,
       "Record every answered leg (references sim://rec/<contact>/<n>)", false, "true"},
      {"default_queue", ConfigType::kString, "Queue of a placed call that names none", false,
       ""},
  };
  return info;
}

}  // namespace
}  // namespace kefu::sim

KEFU_PLUGIN(kefu::sim::SimTelephony, "sim-telephony", "0.1.0", kefu::sim::simInfo)
