// SPDX-License-Identifier: Apache-2.0
#include "channel_hub.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "contact_desk.h"
#include "kefu/store_util.h"
#include "locked_router.h"

namespace kefu::acd {
namespace {

using Json = nlohmann::json;

long long toMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

bool validName(std::string_view n) {
  if (n.empty() || n.size() > 32) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

bool isLead(const Principal& p) {
  return p.hasRole(roles::kSupervisor) || p.hasRole(roles::kTeamLead) ||
         p.hasRole(roles::kAdmin);
}

// A step stored in acd_contact_legs: a control asked through the API ("control") or an
// event a channel reported ("media").
struct Leg {
  std::string contact, source, step, party, target, actor, detail;
  TimePoint at;
};

// Moves an assigned contact to `agent` in the router and the store, and announces it as
// "routing.assigned" (with "transfer": true) so that its channel offers it when it rings.
// Not through the router's listener: a transfer is not a routing decision, and the store's
// assignment write is meant for waiting contacts.
Status reassign(ContactDesk& desk, AcdEngine& engine, soci::session& db, const std::string& id,
                const std::string& agent, TimePoint at) {
  if (auto s = engine.transferTo(id, agent, at); !s.ok()) return s;
  long long ms = toMs(at);
  std::string queue;
  db << "SELECT queue FROM acd_contacts WHERE id = :id", soci::use(id), soci::into(queue);
  db << "UPDATE acd_contacts SET agent_id = :a, assigned_ms = :t WHERE id = :id",
      soci::use(agent), soci::use(ms), soci::use(id);
  desk.announce("routing.assigned",
                Json{{"contact", id}, {"agent", agent}, {"queue", queue}, {"transfer", true}}
                    .dump(),
                at);
  return {};
}

void insertLeg(soci::session& db, const Leg& l) {
  long long at = toMs(l.at);
  db << "INSERT INTO acd_contact_legs (contact_id, source, step, party, target, actor, "
        "detail, at_ms) VALUES (:c, :s, :st, :p, :t, :a, :d, :at)",
      soci::use(l.contact), soci::use(l.source), soci::use(l.step), soci::use(l.party),
      soci::use(l.target), soci::use(l.actor), soci::use(l.detail), soci::use(at);
}

}  // namespace

struct ChannelHub::Impl {
  HostContext& ctx;
  LockedRouter& router;
  std::vector<std::string> outcomes;

  mutable std::mutex regMu;
  std::map<std::string, std::shared_ptr<Channel>, std::less<>> channels;

  // Serialises controls and the handlers of routing events (recursive: a channel may
  // report synchronously from inside a control).
  std::recursive_mutex opMu;
  ContactDesk* desk = nullptr;
  std::map<std::string, CallState> calls;  // open contacts
  // Outcome to store when a hang-up a control asked for comes back as a media event.
  std::map<std::string, std::string> endOutcome;
  std::vector<SubscriptionId> subs;

  Impl(HostContext& c, LockedRouter& r, std::vector<std::string> o)
      : ctx(c), router(r), outcomes(std::move(o)) {}

  TimePoint now() const { return ctx.clock().now(); }

  ContactDesk& theDesk() {
    if (!desk) throw std::runtime_error("routing is not running");
    return *desk;
  }

  // The call state of `id`, from memory for open contacts, else from the stored record.
  // Closed contacts get a transient ended state (kept only until the next lookup).
  Result<CallState*> load(const std::string& id) {
    auto it = calls.find(id);
    if (it != calls.end()) return &it->second;
    std::string state, channel, agent;
    soci::indicator agentInd = soci::i_null;
    bool found = false;
    theDesk().withSession([&](soci::session& db) {
      db << "SELECT state, channel, agent_id FROM acd_contacts WHERE id = :id", soci::use(id),
          soci::into(state), soci::into(channel), soci::into(agent, agentInd);
      found = db.got_data();
    });
    if (!found) return Status::notFound("no contact '" + id + "'");
    CallState s;
    s.channel = channel;
    if (state == "waiting") {
      s.phase = CallPhase::kQueued;
    } else if (state == "assigned") {
      // Assigned before this hub followed routing: taken as answered.
      s.phase = CallPhase::kConnected;
      s.agent = agentInd == soci::i_ok ? agent : "";
    } else {
      s.phase = CallPhase::kEnded;
      closed = s;
      return &closed;
    }
    return &calls.emplace(id, s).first->second;
  }
  CallState closed;

  std::shared_ptr<Channel> channelOf(const CallState& s) const {
    std::lock_guard lock(regMu);
    auto it = channels.find(s.channel);
    return it == channels.end() ? nullptr : it->second;
  }

  Json callJson(const CallState& s) const {
    Json sup = Json::array();
    for (const auto& [id, mode] : s.supervisors) {
      sup.push_back({{"id", id}, {"mode", supervisionModeName(mode)}});
    }
    Json j{{"phase", callPhaseName(s.phase)},
           {"held", s.phase == CallPhase::kHeld || s.phase == CallPhase::kConsulting},
           {"agent", s.agent},
           {"supervisors", sup},
           {"recording", s.recording}};
    if (!s.consultAgent.empty()) j["consult_agent"] = s.consultAgent;
    if (!s.conferenceAgent.empty()) j["conference_agent"] = s.conferenceAgent;
    return j;
  }

  // ---- routing events (bus handlers) ------------------------------------------------

  void onAccepted(const Event& e) {
    Json j = Json::parse(e.payload, nullptr, false);
    if (!j.is_object()) return;
    std::lock_guard lock(opMu);
    CallState s;
    s.channel = j.value("channel", "");
    calls[j.value("contact", "")] = s;
  }

  void onAssigned(const Event& e) {
    Json j = Json::parse(e.payload, nullptr, false);
    if (!j.is_object()) return;
    std::string id = j.value("contact", ""), agent = j.value("agent", "");
    std::lock_guard lock(opMu);
    if (!desk) return;
    if (!calls.count(id)) {
      // Not seen arriving (recovered after a restart): it is being offered now, whatever
      // the store says since the listener wrote the assignment.
      auto st = load(id);
      if (!st.ok() || (*st)->phase == CallPhase::kEnded) return;
      (*st)->phase = CallPhase::kQueued;
      (*st)->agent.clear();
    }
    CallState& s = calls.at(id);
    // A consultation completed or a conference handed over: the agent is on the call.
    if (s.agent == agent && s.answered()) return;
    s.phase = CallPhase::kRinging;
    s.agent = agent;
    s.supervisors.clear();
    auto ch = channelOf(s);
    if (!ch) return;
    Status offered = ch->offer(id, agent);
    if (!offered.ok()) {
      ctx.logger().warn("channel '{}' cannot offer contact {} to agent {}: {}", s.channel, id,
                        agent, offered.message());
    }
  }

  // The contact left routing (ended, abandoned, maximum wait): tell its channel.
  void onClosed(const Event& e, const char* defaultReason) {
    Json j = Json::parse(e.payload, nullptr, false);
    if (!j.is_object()) return;
    std::string id = j.value("contact", "");
    std::string reason = j.value("outcome", std::string(defaultReason));
    if (j.contains("action")) reason = "max_wait_" + j.value("action", "");
    std::lock_guard lock(opMu);
    auto it = calls.find(id);
    if (it == calls.end()) return;
    CallState s = it->second;
    calls.erase(it);
    endOutcome.erase(id);
    if (auto ch = channelOf(s)) ch->release(id, reason);
  }

  // A closed queue's action other than overflow ended the contact as it arrived: its
  // channel carries the action out (calls back, records, plays the message, hangs up).
  void onQueueClosed(const Event& e) {
    Json j = Json::parse(e.payload, nullptr, false);
    if (!j.is_object() || j.value("action", "") == "overflow") return;
    Event ended = e;
    ended.payload = Json{{"contact", j.value("contact", "")},
                         {"outcome", "closed_" + j.value("action", "")}}.dump();
    onClosed(ended, "closed");
  }

  // ---- storing ------------------------------------------------------------------------

  // Stores `leg` and announces `topic` (after whatever the router decides in `engineStep`),
  // in one transaction with `engineStep`.
  Status commit(const Leg& leg, const char* topic, Json payload,
                const std::function<Status(AcdEngine&, soci::session&)>& engineStep = {}) {
    ContactDesk& d = theDesk();
    return d.control([&](AcdEngine& engine, soci::session& db) -> Status {
      if (engineStep) {
        if (auto s = engineStep(engine, db); !s.ok()) return s;
      }
      insertLeg(db, leg);
      if (topic) d.announce(topic, payload.dump(), leg.at);
      return {};
    });
  }

  // ---- media events -------------------------------------------------------------------

  Status report(const MediaEvent& ev) {
    if (ev.recordingRef.size() > 256 || ev.detail.size() > 256 || ev.party.size() > 64 ||
        !printable(ev.recordingRef) || !printable(ev.detail)) {
      return Status::invalidArgument("a recording reference and a detail have at most 256 "
                                     "printable characters, a party 64");
    }
    bool isRecording = ev.kind == MediaEventKind::kRecordingStarted ||
                       ev.kind == MediaEventKind::kRecordingStopped;
    if (isRecording && ev.recordingRef.empty()) {
      return Status::invalidArgument("a recording event needs its recording reference");
    }
    std::lock_guard lock(opMu);
    if (!desk) return Status::unavailable("routing is not running");
    auto st = load(ev.contactId);
    if (!st.ok()) return st.status();
    CallState& s = **st;
    TimePoint at = ev.at == TimePoint{} ? now() : ev.at;
    Leg leg{ev.contactId, "media", mediaEventName(ev.kind), ev.party,
            "", s.channel, ev.detail, at};
    Json payload{{"contact", ev.contactId}, {"event", mediaEventName(ev.kind)},
                 {"party", ev.party}};
    if (!ev.recordingRef.empty()) {
      payload["recording_ref"] = ev.recordingRef;
      leg.target = ev.recordingRef.substr(0, 64);
    }
    Status verdict;
    std::function<Status(AcdEngine&, soci::session&)> extra;
    std::string endWith;  // an outcome: end the contact after storing the event
    bool abandonAfter = false;
    switch (ev.kind) {
      case MediaEventKind::kRinging:
      case MediaEventKind::kTransferCompleted:
      case MediaEventKind::kConferenceJoined:
        break;
      case MediaEventKind::kAnswered:
        if (s.phase == CallPhase::kRinging) {
          applyStep(s, CallStep::kAnswer);
        } else if (!s.answered()) {
          verdict = checkStep(s, ev.contactId, CallStep::kAnswer, ev.party);
        }
        break;
      case MediaEventKind::kHeld:
        if (s.phase == CallPhase::kConnected) {
          applyStep(s, CallStep::kHold);
        } else if (s.phase != CallPhase::kHeld && s.phase != CallPhase::kConsulting) {
          verdict = checkStep(s, ev.contactId, CallStep::kHold);
        }
        break;
      case MediaEventKind::kResumed:
        if (s.phase == CallPhase::kHeld) {
          applyStep(s, CallStep::kResume);
        } else if (!s.answered()) {
          verdict = checkStep(s, ev.contactId, CallStep::kResume);
        }
        break;
      case MediaEventKind::kHungUpByCustomer:
        if (s.phase == CallPhase::kQueued) {
          abandonAfter = true;
        } else if (s.phase != CallPhase::kEnded) {
          endWith = "hung_up_by_customer";
        }
        break;
      case MediaEventKind::kHungUpByAgent:
        if (s.phase == CallPhase::kEnded) break;
        if ((s.phase == CallPhase::kConference || s.phase == CallPhase::kConsulting) &&
            s.involves(ev.party) && ev.party != s.agent) {
          // The second agent leaves; the holder stays with the customer.
          std::string leaving = ev.party;
          applyStep(s, CallStep::kLeave, leaving);
          extra = [id = ev.contactId, leaving, at](AcdEngine& engine, soci::session&) {
            return engine.dropLeg(id, leaving, at);
          };
        } else if (ev.party.empty() || ev.party == s.agent) {
          endWith = "hung_up_by_agent";
        } else if (s.supervisors.count(ev.party)) {
          applyStep(s, CallStep::kUnsupervise, ev.party);  // a supervisor left
        } else {
          verdict = Status::failedPrecondition("agent " + ev.party + " is not on contact '" +
                                               ev.contactId + "'");
        }
        break;
      case MediaEventKind::kRecordingStarted: {
        s.recording = s.phase != CallPhase::kEnded;
        std::string id = ev.contactId, ref = ev.recordingRef, party = ev.party;
        long long ms = toMs(at);
        extra = [id, ref, party, ms](AcdEngine&, soci::session& db) -> Status {
          int n = 0;
          db << "SELECT COUNT(*) FROM acd_recordings WHERE contact_id = :c AND ref = :r",
              soci::use(id), soci::use(ref), soci::into(n);
          if (n) return Status::alreadyExists("recording '" + ref + "' is known already");
          db << "INSERT INTO acd_recordings (contact_id, ref, party, started_ms) VALUES "
                "(:c, :r, :p, :t)",
              soci::use(id), soci::use(ref), soci::use(party), soci::use(ms);
          return {};
        };
        break;
      }
      case MediaEventKind::kRecordingStopped: {
        s.recording = false;
        std::string id = ev.contactId, ref = ev.recordingRef, party = ev.party;
        long long ms = toMs(at);
        extra = [id, ref, party, ms](AcdEngine&, soci::session& db) -> Status {
          // A stop without a start (the start was lost) still records the reference.
          int n = 0;
          db << "SELECT COUNT(*) FROM acd_recordings WHERE contact_id = :c AND ref = :r",
              soci::use(id), soci::use(ref), soci::into(n);
          if (n) {
            db << "UPDATE acd_recordings SET stopped_ms = :t WHERE contact_id = :c AND "
                  "ref = :r",
                soci::use(ms), soci::use(id), soci::use(ref);
          } else {
            db << "INSERT INTO acd_recordings (contact_id, ref, party, started_ms, "
                  "stopped_ms) VALUES (:c, :r, :p, :t, :t2)",
                soci::use(id), soci::use(ref), soci::use(party), soci::use(ms), soci::use(ms);
          }
          return {};
        };
        break;
      }
    }
    if (!verdict.ok()) {
      // Kept for the record, but it changes nothing.
      leg.detail = ("ignored: " + verdict.message()).substr(0, 256);
      (void)commit(leg, "contact.media", payload);
      return verdict;
    }
    if (auto c = commit(leg, "contact.media", payload, extra); !c.ok()) return c;
    if (abandonAfter) return theDesk().abandon(ev.contactId);
    if (!endWith.empty()) {
      auto pending = endOutcome.find(ev.contactId);
      if (pending != endOutcome.end()) endWith = pending->second;
      Status ended = theDesk().end(ev.contactId, endWith);
      if (!ended.ok() && ended.code() != StatusCode::kFailedPrecondition) return ended;
    }
    return {};
  }
};

// ---- the hub --------------------------------------------------------------------------

ChannelHub::ChannelHub(HostContext& ctx, LockedRouter& router, std::vector<std::string> outcomes)
    : impl_(std::make_unique<Impl>(ctx, router, std::move(outcomes))) {}

ChannelHub::~ChannelHub() = default;

void ChannelHub::start(ContactDesk* desk) {
  {
    std::lock_guard lock(impl_->opMu);
    impl_->desk = desk;
    impl_->calls.clear();
  }
  auto& bus = impl_->ctx.events();
  Impl* i = impl_.get();
  impl_->subs = {
      bus.subscribe("contact.accepted", [i](const Event& e) { i->onAccepted(e); }),
      bus.subscribe("routing.assigned", [i](const Event& e) { i->onAssigned(e); }),
      bus.subscribe("contact.ended", [i](const Event& e) { i->onClosed(e, "handled"); }),
      bus.subscribe("contact.abandoned", [i](const Event& e) { i->onClosed(e, "abandoned"); }),
      bus.subscribe("routing.max_wait", [i](const Event& e) { i->onClosed(e, "max_wait"); }),
      bus.subscribe("routing.closed", [i](const Event& e) { i->onQueueClosed(e); }),
  };
}

void ChannelHub::stop() {
  // Not under opMu: unsubscribe() waits for a running handler, which takes it.
  for (auto id : impl_->subs) impl_->ctx.events().unsubscribe(id);
  impl_->subs.clear();
  std::lock_guard lock(impl_->opMu);
  impl_->desk = nullptr;
  impl_->calls.clear();
}

Status ChannelHub::add(std::shared_ptr<Channel> channel) {
  if (!channel) return Status::invalidArgument("no channel given");
  std::string name = channel->name();
  if (!validName(name)) {
    return Status::invalidArgument("a channel name has 1 to 32 letters, digits, '-', '_': '" +
                                   name + "'");
  }
  std::lock_guard lock(impl_->regMu);
  if (!impl_->channels.emplace(name, std::move(channel)).second) {
    return Status::alreadyExists("channel '" + name + "' is registered already");
  }
  return {};
}

void ChannelHub::remove(std::string_view name) {
  std::shared_ptr<Channel> gone;
  {
    std::lock_guard lock(impl_->regMu);
    auto it = impl_->channels.find(name);
    if (it == impl_->channels.end()) return;
    gone = std::move(it->second);
    impl_->channels.erase(it);
  }
  // Every call into a channel is made under opMu: once it is free, none is running, and
  // none can start since the channel is out of the map.
  std::lock_guard wait(impl_->opMu);
}

std::shared_ptr<Channel> ChannelHub::find(std::string_view name) const {
  std::lock_guard lock(impl_->regMu);
  auto it = impl_->channels.find(name);
  return it == impl_->channels.end() ? nullptr : it->second;
}

std::vector<std::string> ChannelHub::names() const {
  std::lock_guard lock(impl_->regMu);
  std::vector<std::string> out;
  for (const auto& [n, c] : impl_->channels) out.push_back(n);
  return out;
}

Result<std::string> ChannelHub::arrive(ContactSpec contact) {
  if (!validName(contact.channel)) {
    return Status::invalidArgument("an arriving contact names its channel");
  }
  if (contact.customerRef.size() > 128 || contact.queue.size() > 64) {
    return Status::invalidArgument("customer_ref has at most 128 characters, queue 64");
  }
  ContactDesk* desk;
  {
    std::lock_guard lock(impl_->opMu);
    desk = impl_->desk;
  }
  if (!desk) return Status::unavailable("routing is not running");
  // Not under opMu: the routing events of the arrival take it on this thread anyway, and
  // holding it here would order arrivals behind controls for no gain.
  return desk->accept(std::move(contact));
}

Status ChannelHub::report(const MediaEvent& event) {
  try {
    return impl_->report(event);
  } catch (const std::exception& e) {
    return Status::unavailable(std::string("cannot record the media event: ") + e.what());
  }
}

std::string ChannelHub::decorate(const std::string& id, const std::string& record) {
  Json j = Json::parse(record, nullptr, false);
  if (!j.is_object()) return record;
  // The state is copied under opMu; the store is read outside it, so that readers do not
  // hold up controls and offers.
  CallState s;
  ContactDesk* desk;
  bool open;
  {
    std::lock_guard lock(impl_->opMu);
    desk = impl_->desk;
    if (!desk) return record;
    auto it = impl_->calls.find(id);
    open = it != impl_->calls.end();
    if (open) s = it->second;
  }
  if (!open) {
    std::string state = j.value("state", "");
    s.phase = state == "waiting" ? CallPhase::kQueued : CallPhase::kEnded;
    if (state == "assigned") s.phase = CallPhase::kConnected;
    s.agent = j.value("agent", "");
  }
  j["call"] = impl_->callJson(s);
  Json legs = Json::array(), recs = Json::array();
  desk->withSession([&](soci::session& db) {
    soci::rowset<soci::row> rows =
        (db.prepare << "SELECT source, step, party, target, actor, detail, at_ms FROM "
                       "acd_contact_legs WHERE contact_id = :c ORDER BY id",
         soci::use(id));
    for (const auto& r : rows) {
      legs.push_back({{"source", rowText(r, 0)}, {"step", rowText(r, 1)},
                      {"party", rowText(r, 2)}, {"target", rowText(r, 3)},
                      {"actor", rowText(r, 4)}, {"detail", rowText(r, 5)},
                      {"at", formatUtcMillis(rowInt(r, 6))}});
    }
    soci::rowset<soci::row> refs =
        (db.prepare << "SELECT ref, party, started_ms, stopped_ms FROM acd_recordings "
                       "WHERE contact_id = :c ORDER BY started_ms, ref",
         soci::use(id));
    for (const auto& r : refs) {
      Json rec{{"ref", rowText(r, 0)}, {"party", rowText(r, 1)},
               {"started_at", formatUtcMillis(rowInt(r, 2))}};
      if (r.get_indicator(3) != soci::i_null) rec["stopped_at"] = formatUtcMillis(rowInt(r, 3));
      recs.push_back(rec);
    }
  });
  j["legs"] = legs;
  j["recordings"] = recs;
  return j.dump();
}

// ---- call-control routes --------------------------------------------------------------

namespace {

bool parseObject(const HttpRequest& req, Json& out) {
  if (req.body.empty()) {
    out = Json::object();
    return true;
  }
  out = Json::parse(req.body, nullptr, false);
  return !out.is_discarded() && out.is_object();
}

// Reads an optional string field; false (with `error` set) if it is not a string.
bool optString(const Json& body, const char* key, std::string& out, HttpResponse& error) {
  if (!body.contains(key)) return true;
  if (!body[key].is_string() || body[key].get<std::string>().size() > 64) {
    error = HttpResponse::error(400, "invalid_argument",
                                std::string("'") + key + "' must be a string of at most 64 "
                                "characters");
    return false;
  }
  out = body[key].get<std::string>();
  return true;
}

HttpResponse denied(const std::string& why) {
  return HttpResponse::error(403, "permission_denied", why);
}

}  // namespace

Status ChannelHub::addRoutes(HttpRoutes& http) {
  Impl* i = impl_.get();
  using Step = std::function<std::optional<HttpResponse>(const HttpRequest&, const Json&,
                                                         const std::string&, CallState&)>;
  // Parses the body, serialises the control, loads the contact's call state, runs `step`,
  // and answers with the contact's record (as GET does) or the step's error.
  auto route = [this, i](Step step) {
    return [this, i, step](const HttpRequest& r) -> HttpResponse {
      Json body;
      if (!parseObject(r, body)) {
        return HttpResponse::error(400, "invalid_argument", "the body must be a JSON object");
      }
      const std::string& id = r.params.at("id");
      try {
        std::lock_guard lock(i->opMu);
        if (!i->desk) return HttpResponse::error(503, "unavailable", "routing is not running");
        auto st = i->load(id);
        if (!st.ok()) return HttpResponse::fromStatus(st.status());
        if ((*st)->phase == CallPhase::kEnded) {
          // Said before any permission check: an ended contact has no holder to compare.
          return HttpResponse::fromStatus(checkStep(**st, id, CallStep::kHangup));
        }
        if (auto failed = step(r, body, id, **st)) return *failed;
        auto rec = i->desk->contactJson(id);
        if (!rec.ok()) return HttpResponse::fromStatus(rec.status());
        std::string out = decorate(id, *rec);
        bool privileged = r.principal.hasRole(roles::kSupervisor) ||
                          r.principal.hasRole(roles::kAdmin);
        return HttpResponse::json(200, privileged ? out : maskPersonalData(out));
      } catch (const std::exception& e) {
        return HttpResponse::error(503, "unavailable", e.what());
      }
    };
  };

  // One control: check, channel, apply, store, announce. `done` says whether the channel's
  // own synchronous report has applied the step already (then only the control is stored).
  struct Control {
    CallStep step;
    std::string party, target, detail;
    SupervisionMode mode = SupervisionMode::kMonitor;
    std::function<Status()> precheck;
    std::function<Status(Channel&)> media;
    std::function<bool(const CallState&)> done;
    std::function<Status(AcdEngine&, soci::session&)> engineStep;
    const char* topic = nullptr;
    Json payload;
  };
  auto run = [i](const HttpRequest& r, const std::string& id, CallState& s,
                 Control c) -> std::optional<HttpResponse> {
    if (auto v = checkStep(s, id, c.step, c.party, c.mode); !v.ok()) {
      return HttpResponse::fromStatus(v);
    }
    if (c.precheck) {
      if (auto v = c.precheck(); !v.ok()) return HttpResponse::fromStatus(v);
    }
    auto ch = i->channelOf(s);
    if (!ch) {
      return HttpResponse::error(503, "unavailable", "no channel '" + s.channel +
                                                         "' is registered to carry out " +
                                                         callStepName(c.step));
    }
    if (Status m = c.media(*ch); !m.ok()) {
      return HttpResponse::fromStatus(
          Status(m.code(), "channel '" + s.channel + "' refused: " + m.message()));
    }
    CallState before = s;
    bool already = c.done && c.done(s);
    if (!already) applyStep(s, c.step, c.party, c.mode);
    Leg leg{id, "control", callStepName(c.step), c.party, c.target, r.principal.id,
            c.detail, i->now()};
    c.payload["contact"] = id;
    c.payload["by"] = r.principal.id;
    Status stored = i->commit(leg, c.topic, c.payload,
                              already ? std::function<Status(AcdEngine&, soci::session&)>()
                                      : c.engineStep);
    if (!stored.ok()) {
      s = before;
      return HttpResponse::fromStatus(stored);
    }
    return std::nullopt;
  };
  auto holderOrLead = [](const HttpRequest& r, const CallState& s) {
    return isLead(r.principal) || (!s.agent.empty() && r.principal.id == s.agent);
  };
  // A precheck: whether routing lets `agent` take or join contact `id`, asked before the
  // channel is told anything.
  auto canTake = [i](const std::string& id, const std::string& agent) {
    return [i, id, agent] {
      return i->router.locked([&](AcdEngine& e) { return e.canTake(id, agent); });
    };
  };

  auto s = http.add("POST", "/api/v1/contacts/{id}/answer",
      route([=](const HttpRequest& r, const Json&, const std::string& id, CallState& st)
                -> std::optional<HttpResponse> {
        if (!holderOrLead(r, st)) return denied("only the agent offered the contact answers it");
        std::string agent = st.agent;
        Control c{CallStep::kAnswer, agent};
        c.media = [&](Channel& ch) { return ch.answer(id, agent); };
        c.done = [](const CallState& x) { return x.phase == CallPhase::kConnected; };
        c.topic = "contact.answered";
        c.payload = {{"agent", agent}};
        return run(r, id, st, std::move(c));
      }));
  if (!s.ok()) return s;

  for (bool hold : {true, false}) {
    s = http.add("POST", hold ? "/api/v1/contacts/{id}/hold" : "/api/v1/contacts/{id}/resume",
        route([=](const HttpRequest& r, const Json&, const std::string& id, CallState& st)
                  -> std::optional<HttpResponse> {
          if (!holderOrLead(r, st)) {
            return denied("only the agent handling the contact or a lead may do this");
          }
          Control c{hold ? CallStep::kHold : CallStep::kResume};
          c.media = [&](Channel& ch) { return hold ? ch.hold(id) : ch.resume(id); };
          CallPhase target = hold ? CallPhase::kHeld : CallPhase::kConnected;
          c.done = [target](const CallState& x) { return x.phase == target; };
          c.topic = hold ? "contact.held" : "contact.resumed";
          c.payload = {{"agent", st.agent}};
          return run(r, id, st, std::move(c));
        }));
    if (!s.ok()) return s;
  }

  s = http.add("POST", "/api/v1/contacts/{id}/hangup",
      route([=](const HttpRequest& r, const Json& body, const std::string& id, CallState& st)
                -> std::optional<HttpResponse> {
        HttpResponse err;
        std::string party, outcome;
        if (!optString(body, "agent", party, err) || !optString(body, "outcome", outcome, err)) {
          return err;
        }
        if (!outcome.empty() && std::find(i->outcomes.begin(), i->outcomes.end(), outcome) ==
                                    i->outcomes.end()) {
          return HttpResponse::error(400, "invalid_argument", "unknown outcome '" + outcome + "'");
        }
        // `agent` names who hangs up: the holder (the whole contact ends), a second agent of
        // a consultation or conference, or a supervisor (each leaves alone). Left out, it is
        // the caller when on the contact; a lead who is not on it ends the contact.
        auto onContact = [&](const std::string& p) {
          return st.involves(p) || st.supervisors.count(p) > 0;
        };
        if (!party.empty() && !onContact(party)) {
          return HttpResponse::error(404, "not_found",
                                     "'" + party + "' is not on contact '" + id + "'");
        }
        if (party.empty() && r.principal.id != st.agent && onContact(r.principal.id)) {
          party = r.principal.id;
        }
        if (!party.empty() && !st.involves(party)) {
          if (!isLead(r.principal) && r.principal.id != party) {
            return denied("only the supervisor or a lead may end a supervision");
          }
          Control c{CallStep::kUnsupervise, party};
          c.media = [&](Channel& ch) { return ch.hangUp(id, party); };
          c.done = [party](const CallState& x) { return !x.supervisors.count(party); };
          c.topic = "contact.left";
          c.payload = {{"supervisor", party}, {"holder", st.agent}};
          return run(r, id, st, std::move(c));
        }
        // The holder hanging up ends the contact for everyone.
        bool leave = !party.empty() && party != st.agent &&
                     (st.phase == CallPhase::kConference || st.phase == CallPhase::kConsulting);
        if (!isLead(r.principal) && r.principal.id != st.agent &&
            !(leave && r.principal.id == party)) {
          return denied("only an agent on the contact or a lead may hang up");
        }
        if (leave) {
          Control c{CallStep::kLeave, party};
          c.media = [&](Channel& ch) { return ch.hangUp(id, party); };
          c.done = [party](const CallState& x) { return !x.involves(party); };
          TimePoint at = i->now();
          c.engineStep = [=](AcdEngine& engine, soci::session&) {
            return engine.dropLeg(id, party, at);
          };
          c.topic = "contact.left";
          c.payload = {{"agent", party}, {"holder", st.agent}};
          return run(r, id, st, std::move(c));
        }
        if (auto v = checkStep(st, id, CallStep::kHangup); !v.ok()) {
          return HttpResponse::fromStatus(v);
        }
        auto ch = i->channelOf(st);
        if (!ch) {
          return HttpResponse::error(503, "unavailable",
                                     "no channel '" + st.channel + "' is registered");
        }
        std::string holder = st.agent;
        std::string out = outcome.empty() ? "handled" : outcome;
        i->endOutcome[id] = out;
        Status m = ch->hangUp(id, holder);
        if (!m.ok()) {
          i->endOutcome.erase(id);
          return HttpResponse::fromStatus(
              Status(m.code(), "channel '" + st.channel + "' refused: " + m.message()));
        }
        // `st` may be gone: a synchronous hang-up report ends the contact at once.
        Leg leg{id, "control", "hangup", holder, "", r.principal.id, out, i->now()};
        if (auto c = i->commit(leg, "contact.hung_up", {{"contact", id}, {"agent", holder},
                                                        {"by", r.principal.id}});
            !c.ok()) {
          return HttpResponse::fromStatus(c);
        }
        if (i->calls.count(id)) {
          Status ended = i->desk->end(id, out);
          if (!ended.ok()) return HttpResponse::fromStatus(ended);
        }
        i->endOutcome.erase(id);
        return std::nullopt;
      }));
  if (!s.ok()) return s;

  s = http.add("POST", "/api/v1/contacts/{id}/transfer",
      route([=](const HttpRequest& r, const Json& body, const std::string& id, CallState& st)
                -> std::optional<HttpResponse> {
        if (!holderOrLead(r, st)) {
          return denied("only the agent handling the contact or a lead may transfer it");
        }
        HttpResponse err;
        std::string toAgent, toQueue;
        if (!optString(body, "to_agent", toAgent, err) ||
            !optString(body, "to_queue", toQueue, err)) {
          return err;
        }
        if (toAgent.empty() == toQueue.empty()) {
          return HttpResponse::error(400, "invalid_argument",
                                     "give exactly one of 'to_agent' and 'to_queue'");
        }
        TimePoint at = i->now();
        std::string from = st.agent;
        Control c{toAgent.empty() ? CallStep::kTransferToQueue : CallStep::kTransferToAgent,
                  toAgent, toAgent.empty() ? toQueue : toAgent};
        c.topic = "contact.transferred";
        c.payload = {{"from", from}, {"kind", "blind"}};
        if (!toAgent.empty()) {
          c.payload["to_agent"] = toAgent;
          c.precheck = canTake(id, toAgent);
          c.media = [&](Channel& ch) { return ch.transfer(id, {toAgent, ""}); };
          c.engineStep = [=](AcdEngine& e, soci::session& db) {
            return reassign(*i->desk, e, db, id, toAgent, at);
          };
        } else {
          c.payload["to_queue"] = toQueue;
          c.precheck = [=] {
            return i->router.locked([&](AcdEngine& e) { return e.canRequeue(id, toQueue); });
          };
          c.media = [&](Channel& ch) { return ch.transfer(id, {"", toQueue}); };
          c.engineStep = [=](AcdEngine& e, soci::session& db) {
            // Stored as waiting in the new queue first: the router may assign it at once.
            // arrived_ms keeps the original arrival for reports.
            db << "UPDATE acd_contacts SET state = 'waiting', agent_id = NULL, "
                  "assigned_ms = NULL, queue = :q WHERE id = :id",
                soci::use(toQueue), soci::use(id);
            return e.requeue(id, toQueue, at);
          };
        }
        return run(r, id, st, std::move(c));
      }));
  if (!s.ok()) return s;

  s = http.add("POST", "/api/v1/contacts/{id}/consult",
      route([=](const HttpRequest& r, const Json& body, const std::string& id, CallState& st)
                -> std::optional<HttpResponse> {
        if (!holderOrLead(r, st)) {
          return denied("only the agent handling the contact or a lead may consult");
        }
        HttpResponse err;
        std::string toAgent, action;
        if (!optString(body, "to_agent", toAgent, err) ||
            !optString(body, "action", action, err)) {
          return err;
        }
        TimePoint at = i->now();
        if (action.empty() || action == "start") {
          if (toAgent.empty()) {
            return HttpResponse::error(400, "invalid_argument",
                                       "'to_agent' names the agent to consult");
          }
          Control c{CallStep::kConsult, toAgent, toAgent};
          c.precheck = canTake(id, toAgent);
          c.media = [&](Channel& ch) { return ch.consult(id, toAgent); };
          c.engineStep = [=](AcdEngine& e, soci::session&) { return e.addLeg(id, toAgent, at); };
          c.topic = "contact.consult_started";
          c.payload = {{"agent", st.agent}, {"to_agent", toAgent}};
          return run(r, id, st, std::move(c));
        }
        if (action != "complete" && action != "cancel") {
          return HttpResponse::error(400, "invalid_argument",
                                     "'action' is start, complete or cancel");
        }
        bool complete = action == "complete";
        std::string other = st.consultAgent, from = st.agent;
        Control c{complete ? CallStep::kConsultComplete : CallStep::kConsultCancel, other,
                  other};
        c.media = [&](Channel& ch) {
          return complete ? ch.completeConsult(id) : ch.cancelConsult(id);
        };
        c.engineStep = [=](AcdEngine& e, soci::session& db) {
          return complete ? reassign(*i->desk, e, db, id, other, at) : e.dropLeg(id, other, at);
        };
        c.topic = complete ? "contact.transferred" : "contact.consult_cancelled";
        c.payload = complete ? Json{{"from", from}, {"to_agent", other}, {"kind", "consult"}}
                             : Json{{"agent", from}, {"consulted", other}};
        return run(r, id, st, std::move(c));
      }));
  if (!s.ok()) return s;

  s = http.add("POST", "/api/v1/contacts/{id}/conference",
      route([=](const HttpRequest& r, const Json& body, const std::string& id, CallState& st)
                -> std::optional<HttpResponse> {
        if (!holderOrLead(r, st)) {
          return denied("only the agent handling the contact or a lead may start a conference");
        }
        HttpResponse err;
        std::string toAgent;
        if (!optString(body, "to_agent", toAgent, err)) return err;
        bool fromConsult = st.phase == CallPhase::kConsulting;
        std::string joining = fromConsult ? st.consultAgent : toAgent;
        TimePoint at = i->now();
        Control c{CallStep::kConference, toAgent, joining};
        if (!fromConsult) {
          c.precheck = canTake(id, joining);
          c.engineStep = [=](AcdEngine& e, soci::session&) { return e.addLeg(id, joining, at); };
        }
        c.media = [&](Channel& ch) { return ch.conference(id, joining); };
        c.topic = "contact.conferenced";
        c.payload = {{"agent", st.agent}, {"joined", joining}};
        return run(r, id, st, std::move(c));
      }));
  if (!s.ok()) return s;

  RouteOptions supervisors;
  supervisors.roles = {roles::kSupervisor};
  for (SupervisionMode mode :
       {SupervisionMode::kMonitor, SupervisionMode::kWhisper, SupervisionMode::kBarge}) {
    std::string name = supervisionModeName(mode);
    const char* topic = mode == SupervisionMode::kMonitor   ? "contact.monitored"
                        : mode == SupervisionMode::kWhisper ? "contact.whispered"
                                                            : "contact.barged";
    s = http.add("POST", "/api/v1/contacts/{id}/" + name,
        route([=](const HttpRequest& r, const Json&, const std::string& id, CallState& st)
                  -> std::optional<HttpResponse> {
          std::string sup = r.principal.id;
          Control c{CallStep::kSupervise, sup, st.agent, name};
          c.mode = mode;
          c.media = [&](Channel& ch) { return ch.supervise(id, sup, mode); };
          c.topic = topic;
          c.payload = {{"supervisor", sup}, {"agent", st.agent}, {"mode", name}};
          return run(r, id, st, std::move(c));
        }),
        supervisors);
    if (!s.ok()) return s;
  }
  return {};
}

}  // namespace kefu::acd
