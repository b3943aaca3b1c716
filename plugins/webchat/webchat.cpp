// SPDX-License-Identifier: Apache-2.0
//
// webchat: the web-chat channel. A self-contained chat page (GET /chat) mints an anonymous
// customer session (POST /chat/session, rate-limited per address) and talks over a
// WebSocket (/chat/ws?session=TOKEN). Customer messages go to the FAQ bot; when the bot
// hands off, the contact arrives at the router through the channel registry with the
// dialog linked to it, and the assigned agent answers through
// POST /api/v1/webchat/contacts/{id}/messages. Every line is stored in the bot's transcript.
#include <sodium.h>

#include <chrono>
#include <deque>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "chat_page.h"
#include "kefu/channel.h"
#include "kefu/faq_bot.h"
#include "kefu/sdk.h"

namespace kefu::webchat {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string randomHex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

std::string frame(const char* type, const std::string& text) {
  return Json{{"type", type}, {"text", text}}.dump();
}

struct Session {
  std::string id;  // also the bot's dialog id
  std::string token;
  Clock::time_point lastSeen;
  std::shared_ptr<WebSocketPeer> peer;  // the open socket, if any
  std::string contact;                  // after the hand-off
  std::string agent;                    // once the router assigned one
  std::string queue;                    // the queue that holds the contact
  std::string closedAs;                 // closed_<action> once a closed queue turned it away
  bool ended = false;
};

class WebChat : public Channel, public std::enable_shared_from_this<WebChat> {
 public:
  struct Options {
    int sessionsPerMinute = 10;
    std::chrono::minutes idle{30};
    std::string title = "在线客服";
    std::string welcome = "您好，我是智能客服，请问有什么可以帮您？";
  };

  WebChat(HostContext& ctx, Options o) : ctx_(ctx), opt_(std::move(o)) {}

  void setBot(std::shared_ptr<kefu::FaqBot> bot) { bot_ = std::move(bot); }
  void setRegistry(std::shared_ptr<ChannelRegistry> r) {
    std::lock_guard lock(mu_);
    registry_ = std::move(r);
  }

  // --- customer side -----------------------------------------------------------------

  HttpResponse mint(const HttpRequest& req) {
    std::lock_guard lock(mu_);
    auto now = Clock::now();
    expire(now);
    auto& times = minted_[req.remoteAddress];
    while (!times.empty() && now - times.front() > std::chrono::minutes(1)) times.pop_front();
    if (static_cast<int>(times.size()) >= opt_.sessionsPerMinute) {
      return HttpResponse::error(429, "resource_exhausted",
                                 "too many chat sessions from this address; try in a minute");
    }
    times.push_back(now);
    auto s = std::make_shared<Session>();
    s->id = "w-" + randomHex(8);
    s->token = randomHex(24);
    s->lastSeen = now;
    byToken_[s->token] = s;
    return HttpResponse::json(201, Json{{"session", s->id}, {"token", s->token},
                                        {"socket", "/chat/ws?session=" + s->token},
                                        {"welcome", opt_.welcome}}
                                       .dump());
  }

  WebSocketHandlers open(const HttpRequest& req, std::shared_ptr<WebSocketPeer> peer) {
    std::shared_ptr<Session> s;
    {
      std::lock_guard lock(mu_);
      auto q = req.query.find("session");
      auto it = q == req.query.end() ? byToken_.end() : byToken_.find(q->second);
      if (it == byToken_.end() || it->second->ended) {
        throw std::runtime_error("unknown or ended chat session");
      }
      s = it->second;
      if (s->peer) s->peer->close();  // a reload of the page takes the session over
      s->peer = peer;
      s->lastSeen = Clock::now();
    }
    peer->send(Json{{"type", "ready"}, {"session", s->id}}.dump());
    std::weak_ptr<WebChat> self = weak_from_this();
    WebSocketHandlers h;
    h.onMessage = [self, s](const std::string& text) {
      if (auto me = self.lock()) me->fromCustomer(s, text);
    };
    h.onClose = [self, s, peer] {
      auto me = self.lock();
      if (!me) return;
      std::string contact;
      {
        std::lock_guard lock(me->mu_);
        if (s->peer != peer) return;  // replaced by a newer socket of the same session
        s->peer.reset();
        // The customer left a routed chat: the contact ends (abandoned while it waited) so
        // the agent's capacity comes back. The page cannot resume a session.
        if (!s->contact.empty() && !s->ended) {
          s->ended = true;
          contact = s->contact;
        }
      }
      if (contact.empty()) return;
      (void)me->bot_->addTurn(s->id, "system", "customer left the chat");
      if (auto reg = me->registry()) {
        (void)reg->sink().report({MediaEventKind::kHungUpByCustomer, contact, ""});
      }
    };
    return h;
  }

  // --- agent side --------------------------------------------------------------------

  HttpResponse agentMessage(const HttpRequest& req) {
    Json body = Json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("text") ||
        !body["text"].is_string() || body["text"].get<std::string>().empty() ||
        body["text"].get<std::string>().size() > 2000) {
      return HttpResponse::error(400, "invalid_argument",
                                 "the body must be {\"text\": \"...\"} with 1 to 2000 bytes");
    }
    std::string text = body["text"].get<std::string>();
    std::shared_ptr<Session> s = byContact(req.params.at("id"));
    if (!s) return HttpResponse::error(404, "not_found", "no open web chat with that contact");
    bool lead = req.principal.hasRole(roles::kSupervisor) ||
                req.principal.hasRole(roles::kTeamLead) || req.principal.hasRole(roles::kAdmin);
    std::string agent;
    {
      std::lock_guard lock(mu_);
      agent = s->agent;
    }
    if (agent != req.principal.id && !lead) {
      return HttpResponse::error(403, "permission_denied",
                                 agent.empty() ? "no agent has this chat yet"
                                               : "only the agent handling the chat may write");
    }
    if (auto st = bot_->addTurn(s->id, "agent", text); !st.ok()) {
      return HttpResponse::fromStatus(st);
    }
    send(s, Json{{"type", "agent"}, {"text", text}}.dump());
    return HttpResponse::json(201, Json{{"contact", req.params.at("id")}, {"dialog", s->id},
                                        {"delivered", true}}
                                       .dump());
  }

  // --- Channel -----------------------------------------------------------------------

  std::string name() const override { return "webchat"; }

  Status offer(const std::string& contactId, const std::string& agentId) override {
    auto s = byContact(contactId);
    if (!s) return Status::notFound("no web chat for contact " + contactId);
    {
      std::lock_guard lock(mu_);
      s->agent = agentId;
    }
    // A chat needs no ringing: the assigned agent has it at once.
    (void)bot_->addTurn(s->id, "system", "agent " + agentId + " joined");
    send(s, Json{{"type", "agent_joined"}, {"text", "人工客服已接入"}}.dump());
    auto reg = registry();
    if (reg) (void)reg->sink().report({MediaEventKind::kAnswered, contactId, agentId});
    return {};
  }
  Status answer(const std::string&, const std::string&) override { return {}; }
  Status hangUp(const std::string& contactId, const std::string& party) override {
    auto s = byContact(contactId);
    if (!s) return Status::notFound("no web chat for contact " + contactId);
    end(s, "对话已结束，感谢您的咨询。");
    auto reg = registry();
    if (reg) (void)reg->sink().report({MediaEventKind::kHungUpByAgent, contactId, party});
    return {};
  }
  Status hold(const std::string& contactId) override {
    return notify(contactId, "paused", "客服正在处理，请稍候。");
  }
  Status resume(const std::string& contactId) override {
    return notify(contactId, "resumed", "客服已回来。");
  }
  Status transfer(const std::string& contactId, const TransferTarget&) override {
    return notify(contactId, "transferring", "正在为您转接其他客服。");
  }
  Status consult(const std::string&, const std::string&) override {
    return Status::failedPrecondition("web chat has no consultation; transfer instead");
  }
  Status completeConsult(const std::string&) override {
    return Status::failedPrecondition("web chat has no consultation");
  }
  Status cancelConsult(const std::string&) override {
    return Status::failedPrecondition("web chat has no consultation");
  }
  Status conference(const std::string&, const std::string&) override {
    return Status::failedPrecondition("web chat has no conference");
  }
  Status supervise(const std::string&, const std::string&, SupervisionMode) override {
    // Supervisors read the stored transcript; nothing changes for the customer.
    return {};
  }
  void release(const std::string& contactId, const std::string& reason) override {
    closed(contactId, reason);
  }

  // A closed queue's action, or the end of the contact, as told by the router.
  void closed(const std::string& contactId, const std::string& reason) {
    auto s = byContact(contactId);
    if (!s) return;
    {
      // The router tells it twice (release() and the routing.closed event): offer once.
      std::lock_guard lock(mu_);
      if (s->ended || !s->closedAs.empty()) return;
      if (reason.rfind("closed_", 0) == 0) s->closedAs = reason;
    }
    std::string text = "对话已结束，感谢您的咨询。";
    if (reason.find("callback") != std::string::npos) {
      text = "现在不在人工服务时间，我们会在服务时间内回电给您。";
    } else if (reason.find("message") != std::string::npos ||
               reason.find("voicemail") != std::string::npos) {
      text = "现在不在人工服务时间，请留言，我们会尽快回复。";
    }
    if (reason.rfind("closed_", 0) == 0) (void)bot_->setOutcome(s->id, reason);
    (void)bot_->addTurn(s->id, "system", text);
    end(s, text, reason.find("message") == std::string::npos);
  }

  // A closed queue overflowed the contact to `queue`: the customer is told that one.
  void movedTo(const std::string& contactId, const std::string& queue) {
    auto s = byContact(contactId);
    if (!s || queue.empty()) return;
    std::lock_guard lock(mu_);
    s->queue = queue;
  }

  void stopAll() {
    std::lock_guard lock(mu_);
    for (auto& [t, s] : byToken_) {
      if (s->peer) s->peer->close();
    }
    byToken_.clear();
  }

 private:
  void fromCustomer(const std::shared_ptr<Session>& s, const std::string& raw) {
    Json j = Json::parse(raw, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "message" ||
        !j.contains("text") || !j["text"].is_string()) {
      send(s, frame("error", "expected {\"type\":\"message\",\"text\":\"...\"}"));
      return;
    }
    std::string text = j["text"].get<std::string>();
    bool ended = false;
    {
      std::lock_guard lock(mu_);
      s->lastSeen = Clock::now();
      ended = s->ended;
    }
    // Answered outside the lock: send() takes it too.
    if (ended) {
      send(s, frame("error", "this chat has ended"));
      return;
    }
    auto r = bot_->handle(s->id, "webchat", text);
    if (!r.ok()) {
      send(s, frame("error", r.status().message()));
      return;
    }
    switch (r->decision) {
      case BotDecision::kAnswered:
        send(s, Json{{"type", "bot"}, {"text", r->text}, {"confidence", r->confidence}}.dump());
        break;
      case BotDecision::kUnanswered:
        send(s, frame("bot", r->text));
        break;
      case BotDecision::kRelayed:
        ctx_.events().publish({"webchat.message", Json{{"dialog", s->id},
                                                      {"contact", s->contact}}.dump()});
        break;
      case BotDecision::kHandOff:
        send(s, frame("bot", r->text));
        handOff(s, r->queue);
        break;
    }
  }

  void handOff(const std::shared_ptr<Session>& s, const std::string& queue) {
    auto reg = registry();
    if (!reg) {
      (void)bot_->setOutcome(s->id, "closed_message");
      send(s, frame("bot", "人工客服暂不可用，请留言，我们会尽快回复。"));
      return;
    }
    ContactSpec spec;
    spec.id = "c-" + s->id;
    spec.queue = queue;
    spec.channel = "webchat";
    spec.customerRef = s->id;
    {
      // Linked before it arrives: the router may offer it to an agent inside arrive().
      std::lock_guard lock(mu_);
      s->contact = spec.id;
      s->queue = queue;
      byContact_[spec.id] = s;
    }
    if (auto st = bot_->linkContact(s->id, spec.id); !st.ok()) {
      ctx_.logger().error("cannot link dialog {} with its contact: {}", s->id, st.message());
    }
    auto id = reg->sink().arrive(spec);
    if (!id.ok()) {
      ctx_.logger().warn("web chat hand-off to {} refused: {}", queue, id.status().message());
      (void)bot_->setOutcome(s->id, "closed_message");
      send(s, frame("bot", "人工客服暂不可用，请留言，我们会尽快回复。"));
      return;
    }
    bool told = false;
    std::string holder;
    {
      std::lock_guard lock(mu_);
      told = !s->agent.empty() || !s->closedAs.empty() || s->ended;
      holder = s->queue;
    }
    // With an agent ready, offer() ran inside arrive() and the customer knows already; a
    // closed queue's callback or message offer also came inside arrive(): nothing waits.
    if (!told) {
      send(s, Json{{"type", "queued"}, {"contact", *id}, {"queue", holder}}.dump());
    }
  }

  Status notify(const std::string& contactId, const char* type, const std::string& text) {
    auto s = byContact(contactId);
    if (!s) return Status::notFound("no web chat for contact " + contactId);
    send(s, frame(type, text));
    return {};
  }

  void end(const std::shared_ptr<Session>& s, const std::string& text, bool close = true) {
    std::shared_ptr<WebSocketPeer> peer;
    {
      std::lock_guard lock(mu_);
      if (close) s->ended = true;
      peer = s->peer;
    }
    // The socket is left for the customer to close: closing it here would drop the frame
    // still queued for sending. Further messages on it are refused as the chat has ended.
    if (peer) peer->send(frame(close ? "ended" : "leave_message", text));
  }

  void send(const std::shared_ptr<Session>& s, std::string text) {
    std::shared_ptr<WebSocketPeer> peer;
    {
      std::lock_guard lock(mu_);
      peer = s->peer;
    }
    if (peer) peer->send(std::move(text));
  }

  std::shared_ptr<Session> byContact(const std::string& contactId) {
    std::lock_guard lock(mu_);
    auto it = byContact_.find(contactId);
    return it == byContact_.end() ? nullptr : it->second;
  }

  std::shared_ptr<ChannelRegistry> registry() {
    std::lock_guard lock(mu_);
    return registry_;
  }

  // Forgets sessions idle longer than the limit that no agent holds. Called under mu_.
  void expire(Clock::time_point now) {
    for (auto it = byToken_.begin(); it != byToken_.end();) {
      auto& s = it->second;
      bool idle = now - s->lastSeen > opt_.idle && !s->peer;
      if (idle && (s->contact.empty() || s->ended)) {
        byContact_.erase(s->contact);
        it = byToken_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = minted_.begin(); it != minted_.end();) {
      bool old = it->second.empty() || now - it->second.back() > std::chrono::minutes(1);
      it = old ? minted_.erase(it) : std::next(it);
    }
  }

  HostContext& ctx_;
  Options opt_;
  std::shared_ptr<kefu::FaqBot> bot_;
  std::mutex mu_;
  std::shared_ptr<ChannelRegistry> registry_;
  std::map<std::string, std::shared_ptr<Session>> byToken_;
  std::map<std::string, std::shared_ptr<Session>> byContact_;
  std::map<std::string, std::deque<Clock::time_point>> minted_;
};

class WebChatPlugin : public Plugin {
 public:
  Status configure(HostContext& ctx) override {
    ctx_ = &ctx;
    const ConfigValue& cfg = ctx.config();
    WebChat::Options o;
    int64_t rate = cfg.getInt("sessions_per_minute", o.sessionsPerMinute);
    if (rate < 1 || rate > 10000) return cfg.error("sessions_per_minute", "must be 1 to 10000");
    o.sessionsPerMinute = static_cast<int>(rate);
    int64_t idle = cfg.getInt("idle_minutes", 30);
    if (idle < 1 || idle > 1440) return cfg.error("idle_minutes", "must be 1 to 1440");
    o.idle = std::chrono::minutes(idle);
    o.title = cfg.getString("title", o.title);
    o.welcome = cfg.getString("welcome", o.welcome);
    if (sodium_init() < 0) return Status::internal("libsodium failed to initialise");
    chat_ = std::make_shared<WebChat>(ctx, o);
    return addRoutes(o.title);
  }

  Status start() override {
    auto bot = ctx_->services().find<kefu::FaqBot>();
    if (!bot) return Status::failedPrecondition("no FAQ bot (kefu.FaqBot/1) is running");
    chat_->setBot(bot);
    auto reg = ctx_->services().find<ChannelRegistry>();
    if (reg) {
      if (auto s = reg->add(chat_); !s.ok()) return s;
      registry_ = reg;
      chat_->setRegistry(reg);
    } else {
      ctx_->logger().warn("no channel registry (kefu.ChannelRegistry/1): hand-offs become "
                          "messages until a routing plugin provides one");
    }
    // A closed queue's action reaches the channel as a routing event.
    sub_ = ctx_->events().subscribe("routing.closed", [this](const Event& e) {
      Json j = Json::parse(e.payload, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return;
      std::string action = j.value("action", "");
      if (action == "overflow") {
        chat_->movedTo(j.value("contact", ""), j.value("to", ""));
        return;
      }
      if (action.empty()) return;
      chat_->closed(j.value("contact", ""), "closed_" + action);
    });
    return {};
  }

  void stop() override {
    if (sub_) ctx_->events().unsubscribe(sub_);
    sub_ = 0;
    if (registry_) registry_->remove("webchat");
    registry_.reset();
    chat_->setRegistry(nullptr);
    chat_->stopAll();
  }

 private:
  Status addRoutes(const std::string& title) {
    auto& http = ctx_->http();
    RouteOptions open{false, {}, false};
    std::string page = chatPage(title);
    auto s = http.add("GET", "/chat", [page](const HttpRequest&) {
      HttpResponse r{200, "text/html; charset=utf-8", page, {}};
      r.headers.emplace_back("Content-Security-Policy",
                             "default-src 'self'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; connect-src 'self'");
      return r;
    }, open);
    if (!s.ok()) return s;
    s = http.add("POST", "/chat/session",
                 [this](const HttpRequest& r) { return chat_->mint(r); }, open);
    if (!s.ok()) return s;
    s = http.addWebSocket("/chat/ws", [this](const HttpRequest& r,
                                             std::shared_ptr<WebSocketPeer> peer) {
      return chat_->open(r, std::move(peer));
    }, open);
    if (!s.ok()) return s;
    RouteOptions staff;
    staff.roles = {roles::kAgent, roles::kTeamLead, roles::kSupervisor};
    return http.add("POST", "/api/v1/webchat/contacts/{id}/messages",
                    [this](const HttpRequest& r) { return chat_->agentMessage(r); }, staff);
  }

  HostContext* ctx_ = nullptr;
  std::shared_ptr<WebChat> chat_;
  std::shared_ptr<ChannelRegistry> registry_;
  SubscriptionId sub_ = 0;
};

PluginInfo webchatInfo() {
  PluginInfo info;
  info.description = "Web chat: a chat page and WebSocket for customers, the FAQ bot first, "
                     "agents through the router";
  info.kinds = {"channel"};
  info.depends = {kefu::FaqBot::kInterfaceName};
  info.maturity = Maturity::kAlpha;
  info.configKeys = {
      {"sessions_per_minute", ConfigType::kInt,
       "Chat sessions one address may start per minute", false, "10"},
      {"idle_minutes", ConfigType::kInt, "A session without socket is forgotten after this",
       false, "30"},
      {"title", ConfigType::kString, "Title of the chat page", false, "在线客服"},
      {"welcome", ConfigType::kString, "The bot's greeting", false,
       "您好，我是智能客服，请问有什么可以帮您？"},
  };
  return info;
}

}  // namespace
}  // namespace kefu::webchat

KEFU_PLUGIN(kefu::webchat::WebChatPlugin, "webchat", "0.1.0", kefu::webchat::webchatInfo)
