// SPDX-License-Identifier: Apache-2.0
#include "contact_desk.h"

#include "kefu/store_util.h"

#include <sodium.h>

#include <limits>
#include <optional>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

namespace kefu::acd {
namespace {

using Json = nlohmann::json;

long long toMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint fromMs(long long ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::milliseconds(ms)));
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

bool validId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

// A row of "SELECT id, channel, queue, priority, customer_ref, arrived_ms FROM acd_contacts".
ContactSpec contactFromRow(const soci::row& r) {
  ContactSpec c;
  c.id = r.get<std::string>(0);
  c.channel = r.get<std::string>(1);
  c.queue = r.get<std::string>(2);
  c.priority = static_cast<int>(rowInt(r, 3));
  c.customerRef = r.get<std::string>(4);
  c.arrived = fromMs(rowInt(r, 5));
  return c;
}

}  // namespace

const char* defaultChannel(Media m) {
  switch (m) {
    case Media::kVoice: return "phone";
    case Media::kVideo: return "video";
    case Media::kChat: return "webchat";
    case Media::kMessage: return "message";
  }
  return "phone";
}

std::optional<Media> channelMedia(std::string_view channel) {
  static const std::pair<const char*, Media> kKnown[] = {
      {"phone", Media::kVoice}, {"voice", Media::kVoice},     {"video", Media::kVideo},
      {"webchat", Media::kChat}, {"chat", Media::kChat},      {"message", Media::kMessage},
      {"sms", Media::kMessage},  {"email", Media::kMessage}};
  for (const auto& [name, media] : kKnown) {
    if (channel == name) return media;
  }
  return std::nullopt;
}

ContactDesk::ContactDesk(std::unique_ptr<soci::session> session, LockedRouter& router,
                         EventBus* events, const Clock& clock,
                         std::function<void(const std::string&)> onError,
                         DeskOptions options)
    : session_(std::move(session)),
      router_(router),
      events_(events),
      clock_(clock),
      onError_(std::move(onError)),
      hostId_(std::move(options.hostId)),
      hours_(std::move(options.hours)),
      hot_(std::make_unique<Hot>(*session_, !hostId_.empty())) {}

struct ContactDesk::Hot {
  std::string id, channel, queue, customerRef, state, agent, from, to, reason, outcome, host;
  int priority = 0;
  long long at = 0;
  // Only writes: a prepared SELECT would keep its read snapshot open between calls, and a
  // write on a stale snapshot fails in WAL mode.
  soci::statement insertContact, assigned, ended, agentState;
  // Several hosts: the assignment is a claim that succeeds only while the contact is still
  // waiting and no other transaction holds its row (PostgreSQL only).
  std::optional<soci::statement> claim;

  Hot(soci::session& db, bool multiHost)
      : insertContact((db.prepare << "INSERT INTO acd_contacts (id, channel, queue, priority, "
                                     "customer_ref, state, arrived_ms) VALUES (:id, :ch, :q, "
                                     ":p, :c, 'waiting', :a)",
                       soci::use(id), soci::use(channel), soci::use(queue), soci::use(priority),
                       soci::use(customerRef), soci::use(at))),
        assigned((db.prepare << "UPDATE acd_contacts SET state = 'assigned', agent_id = :a, "
                                "assigned_ms = :t WHERE id = :id",
                  soci::use(agent), soci::use(at), soci::use(id))),
        ended((db.prepare << "UPDATE acd_contacts SET state = 'ended', ended_ms = :t, "
                             "outcome = :o WHERE id = :id",
               soci::use(at), soci::use(outcome), soci::use(id))),
        agentState((db.prepare << "INSERT INTO acd_agent_states (agent_id, from_state, "
                                  "to_state, reason, at_ms) VALUES (:a, :f, :t, :r, :at)",
                    soci::use(agent), soci::use(from), soci::use(to), soci::use(reason),
                    soci::use(at))) {
    if (multiHost) {
      claim.emplace((db.prepare << "UPDATE acd_contacts SET state = 'assigned', agent_id = :a, "
                                   "assigned_ms = :t, host_id = :h WHERE id = (SELECT id FROM "
                                   "acd_contacts WHERE id = :id AND state = 'waiting' "
                                   "FOR UPDATE SKIP LOCKED)",
                     soci::use(agent), soci::use(at), soci::use(host), soci::use(id)));
    }
  }
};

ContactDesk::~ContactDesk() = default;

std::vector<Migration> ContactDesk::migrations() {
  std::string common =
      "CREATE TABLE acd_contacts ("
      "  id VARCHAR(64) PRIMARY KEY,"
      "  channel VARCHAR(32) NOT NULL,"
      "  queue VARCHAR(64) NOT NULL,"
      "  priority INTEGER NOT NULL,"
      "  customer_ref VARCHAR(128) NOT NULL,"
      "  state VARCHAR(16) NOT NULL,"
      "  agent_id VARCHAR(64),"
      "  arrived_ms BIGINT NOT NULL,"
      "  assigned_ms BIGINT,"
      "  ended_ms BIGINT,"
      "  outcome VARCHAR(32));"
      "CREATE INDEX acd_contacts_state ON acd_contacts (state);"
      "CREATE TABLE acd_dispositions ("
      "  contact_id VARCHAR(64) NOT NULL,"
      "  agent_id VARCHAR(64) NOT NULL,"
      "  contact_type VARCHAR(64) NOT NULL,"
      "  outcome VARCHAR(64) NOT NULL,"
      "  note TEXT NOT NULL,"
      "  at_ms BIGINT NOT NULL);";
  std::string sqlite = common +
                       "CREATE TABLE acd_agent_states ("
                       "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                       "  agent_id VARCHAR(64) NOT NULL, from_state VARCHAR(16) NOT NULL,"
                       "  to_state VARCHAR(16) NOT NULL, reason VARCHAR(64) NOT NULL,"
                       "  at_ms BIGINT NOT NULL);"
                       "CREATE INDEX acd_agent_states_agent ON acd_agent_states (agent_id, at_ms)";
  std::string pg = common +
                   "CREATE TABLE acd_agent_states ("
                   "  id BIGSERIAL PRIMARY KEY,"
                   "  agent_id VARCHAR(64) NOT NULL, from_state VARCHAR(16) NOT NULL,"
                   "  to_state VARCHAR(16) NOT NULL, reason VARCHAR(64) NOT NULL,"
                   "  at_ms BIGINT NOT NULL);"
                   "CREATE INDEX acd_agent_states_agent ON acd_agent_states (agent_id, at_ms)";
  // Version 3: which host assigned a contact and which host an agent is signed in on
  // (several hosts on PostgreSQL), and away requests that wait for contacts to end.
  std::string v3 =
      "ALTER TABLE acd_contacts ADD COLUMN host_id VARCHAR(64);"
      "CREATE TABLE acd_agent_hosts ("
      "  agent_id VARCHAR(64) PRIMARY KEY,"
      "  host_id VARCHAR(64) NOT NULL,"
      "  since_ms BIGINT NOT NULL);"
      "CREATE TABLE acd_agent_requests ("
      "  agent_id VARCHAR(64) NOT NULL,"
      "  state VARCHAR(16) NOT NULL,"
      "  kind VARCHAR(16) NOT NULL,"
      "  reason VARCHAR(64) NOT NULL,"
      "  at_ms BIGINT NOT NULL);"
      "CREATE INDEX acd_agent_requests_agent ON acd_agent_requests (agent_id, at_ms)";
  // Version 2: call-control steps and media events of each contact, and the recording
  // references the channels report (written by the ChannelHub).
  std::string recordings =
      "CREATE TABLE acd_recordings ("
      "  contact_id VARCHAR(64) NOT NULL,"
      "  ref VARCHAR(256) NOT NULL,"
      "  party VARCHAR(64) NOT NULL,"
      "  started_ms BIGINT NOT NULL,"
      "  stopped_ms BIGINT,"
      "  PRIMARY KEY (contact_id, ref));";
  std::string legs =
      "  contact_id VARCHAR(64) NOT NULL,"
      "  source VARCHAR(16) NOT NULL,"   // control (through the API) or media (a channel)
      "  step VARCHAR(32) NOT NULL,"
      "  party VARCHAR(64) NOT NULL,"
      "  target VARCHAR(64) NOT NULL,"
      "  actor VARCHAR(64) NOT NULL,"
      "  detail VARCHAR(256) NOT NULL,"
      "  at_ms BIGINT NOT NULL);"
      "CREATE INDEX acd_contact_legs_contact ON acd_contact_legs (contact_id, id)";
  Migration v2 = {2, "call-control steps, media events and recording references",
                  recordings + "CREATE TABLE acd_contact_legs (id INTEGER PRIMARY KEY "
                               "AUTOINCREMENT," + legs,
                  recordings + "CREATE TABLE acd_contact_legs (id BIGSERIAL PRIMARY KEY," + legs};
  return {{1, "contacts, agent states and dispositions", sqlite, pg},
          std::move(v2),
          {3, "contact and agent hosts, pending away requests", v3, ""}};
}

// A failed update is reported and counted, never thrown: the router has already decided.
// The contact's stored state then lags; after a restart it is routed again from its last
// stored state, so it is never lost (at worst offered twice).
void ContactDesk::write(const std::function<void(soci::session&)>& fn) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  try {
    fn(*session_);
  } catch (const std::exception& e) {
    ++writeErrors_;
    if (onError_) onError_(e.what());
  }
}

void ContactDesk::publish(const char* topic, const std::string& payload, TimePoint at) {
  publishAt(std::numeric_limits<size_t>::max(), topic, payload, at);
}

size_t ContactDesk::pendingMark() {
  std::lock_guard lock(eventsMu_);
  return pending_.size();
}

void ContactDesk::publishAt(size_t mark, const char* topic, const std::string& payload,
                            TimePoint at) {
  if (!events_) return;
  Event e;
  e.topic = topic;
  e.payload = payload;
  e.at = at;
  std::lock_guard lock(eventsMu_);
  pending_.insert(pending_.begin() + static_cast<long>(std::min(mark, pending_.size())),
                  std::move(e));
}

void ContactDesk::flushEvents() {
  if (!events_) return;
  std::vector<Event> batch;
  {
    std::lock_guard lock(eventsMu_);
    batch.swap(pending_);
  }
  for (auto& e : batch) events_->publish(std::move(e));
}

Result<int> ContactDesk::recover() {
  // Contacts that were waiting, or with an agent when the host stopped, wait again from
  // their original arrival: agents are signed out after a restart, so an interrupted
  // contact cannot still be with one.
  std::vector<ContactSpec> open;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    soci::transaction tx(*session_);
    // Several hosts: only this host's assignments were interrupted; other hosts' agents
    // still hold theirs, and this host's agents signed out with the restart.
    std::string mine = hostId_;
    if (multiHost()) {
      *session_ << "DELETE FROM acd_agent_hosts WHERE host_id = :h", soci::use(mine);
    }
    soci::rowset<soci::row> rows =
        multiHost()
            ? (session_->prepare << "SELECT id, channel, queue, priority, customer_ref, "
                                    "arrived_ms FROM acd_contacts WHERE state = 'waiting' OR "
                                    "(state = 'assigned' AND host_id = :h) "
                                    "ORDER BY arrived_ms, id",
               soci::use(mine))
            : (session_->prepare << "SELECT id, channel, queue, priority, customer_ref, "
                                    "arrived_ms FROM acd_contacts WHERE state IN ('waiting', "
                                    "'assigned') ORDER BY arrived_ms, id");
    for (const auto& r : rows) {
      ContactSpec c = contactFromRow(r);
      open.push_back(std::move(c));
    }
    if (multiHost()) {
      *session_ << "UPDATE acd_contacts SET state = 'waiting', agent_id = NULL, "
                   "assigned_ms = NULL, host_id = NULL WHERE state = 'assigned' AND "
                   "host_id = :h",
          soci::use(mine);
    } else {
      *session_ << "UPDATE acd_contacts SET state = 'waiting', agent_id = NULL, "
                   "assigned_ms = NULL WHERE state = 'assigned'";
    }
    tx.commit();
  }
  int n = 0;
  for (const auto& c : open) {
    Status s = router_.enqueue(c);
    if (!s.ok() && multiHost()) continue;  // another host may route it
    if (!s.ok()) {
      // A queue removed from the config: the contact cannot be routed any more.
      std::lock_guard<std::recursive_mutex> lock(mu_);
      long long now = toMs(clock_.now());
      std::string reason = "unroutable";
      *session_ << "UPDATE acd_contacts SET state = 'ended', ended_ms = :n, outcome = :o "
                   "WHERE id = :id",
          soci::use(now), soci::use(reason), soci::use(c.id);
      continue;
    }
    ++n;
  }
  return n;
}

Result<std::string> ContactDesk::accept(ContactSpec spec) {
  if (spec.id.empty()) {
    unsigned char raw[8];
    randombytes_buf(raw, sizeof raw);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    spec.id = std::string("c-") + hex;
  }
  if (!validId(spec.id)) {
    return Status::invalidArgument("a contact id has 1 to 64 letters, digits, '-', '_', '.'");
  }
  // The channel must carry the queue's kind of media: a phone call never joins a chat
  // queue, where an agent would hold several at once. A contact naming no channel takes the
  // usual one of the queue's medium.
  auto media = router_.locked([&](AcdEngine& e) { return e.queueMedia(spec.queue); });
  if (!media.ok()) return media.status();
  if (spec.channel.empty()) spec.channel = defaultChannel(*media);
  if (auto kind = channelMedia(spec.channel); kind && isExclusive(*kind) != isExclusive(*media)) {
    return Status::invalidArgument("channel '" + spec.channel + "' carries " +
                                   mediaName(*kind) + ", queue '" + spec.queue + "' " +
                                   mediaName(*media));
  }
  if (spec.arrived == TimePoint{}) spec.arrived = clock_.now();

  // A closed queue: follow its closed action (config guarantees overflow chains end).
  std::vector<Json> closedSteps;
  const QueueHours* closed = nullptr;
  for (auto it = hours_.find(spec.queue);
       it != hours_.end() && !it->second.hours.isOpen(spec.arrived);
       it = hours_.find(spec.queue)) {
    Json step{{"contact", spec.id}, {"queue", spec.queue},
              {"action", closedActionName(it->second.closedAction)}};
    if (it->second.closedAction != ClosedAction::kOverflow) {
      closedSteps.push_back(std::move(step));
      closed = &it->second;
      break;
    }
    step["to"] = it->second.overflowQueue;
    closedSteps.push_back(std::move(step));
    spec.queue = it->second.overflowQueue;
    if (closedSteps.size() > hours_.size()) break;  // defensive: never loop
  }
  if (closed) return acceptClosed(spec, *closed, closedSteps);

  // One transaction stores the contact and whatever the router decides for it at once (the
  // assignment, the agent's new state); it commits before the contact is acknowledged.
  Status routed = router_.locked([&](AcdEngine& engine) -> Status {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    long long arrived = toMs(spec.arrived);
    try {
      soci::transaction tx(*session_);
      Hot& h = *hot_;
      h.id = spec.id;
      h.channel = spec.channel;
      h.queue = spec.queue;
      h.priority = spec.priority;
      h.customerRef = spec.customerRef;
      h.at = arrived;
      try {
        h.insertContact.execute(true);
      } catch (const soci::soci_error& e) {
        // The primary key says whether the id is taken; the transaction rolls back.
        std::string what = e.what();
        if (what.find("UNIQUE") != std::string::npos ||
            what.find("duplicate key") != std::string::npos) {
          return Status::alreadyExists("contact '" + spec.id + "' exists");
        }
        throw;
      }
      size_t mark = pendingMark();
      Status s = engine.enqueue(spec);
      if (s.ok()) {
        // Announced before what the router decided for it.
        publishAt(mark, "contact.accepted",
                  Json{{"contact", spec.id}, {"queue", spec.queue}, {"channel", spec.channel}}
                      .dump(),
                  spec.arrived);
        for (size_t i = 0; i < closedSteps.size(); ++i) {
          publishAt(mark + 1 + i, "routing.closed", closedSteps[i].dump(), spec.arrived);
        }
      }
      if (!s.ok()) {
        // Refused (unknown or full queue): not accepted, so not stored; the transaction
        // rolls back and the caller may retry with the same id.
        return s;
      }
      try {
        tx.commit();
      } catch (...) {
        // Not durable, so not accepted: take it back out of routing.
        if (!engine.agentOf(spec.id).empty()) {
          (void)engine.release(spec.id, clock_.now());
        } else {
          (void)engine.abandon(spec.id, clock_.now());
        }
        throw;
      }
      return {};
    } catch (const std::exception& e) {
      return Status::unavailable(std::string("cannot store the contact: ") + e.what());
    }
  });
  if (!routed.ok()) return routed;
  return spec.id;
}

Result<std::string> ContactDesk::acceptClosed(const ContactSpec& spec, const QueueHours& h,
                                              const std::vector<Json>& steps) {
  // Stored as ended at once: the channel carries out the action (calls back, takes a
  // voicemail, plays the closed message, hangs up); nothing accepted is lost.
  std::string outcome = std::string("closed_") + closedActionName(h.closedAction);
  long long at = toMs(spec.arrived);
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    try {
      std::string id = spec.id, channel = spec.channel, queue = spec.queue;
      std::string ref = spec.customerRef;
      int priority = spec.priority;
      *session_ << "INSERT INTO acd_contacts (id, channel, queue, priority, customer_ref, "
                   "state, arrived_ms, ended_ms, outcome) VALUES (:id, :ch, :q, :p, :c, "
                   "'ended', :a, :e, :o)",
          soci::use(id), soci::use(channel), soci::use(queue), soci::use(priority),
          soci::use(ref), soci::use(at), soci::use(at), soci::use(outcome);
    } catch (const soci::soci_error& e) {
      std::string what = e.what();
      if (what.find("UNIQUE") != std::string::npos ||
          what.find("duplicate key") != std::string::npos) {
        return Status::alreadyExists("contact '" + spec.id + "' exists");
      }
      return Status::unavailable(std::string("cannot store the contact: ") + what);
    }
  }
  publish("contact.accepted",
          Json{{"contact", spec.id}, {"queue", spec.queue}, {"channel", spec.channel}}.dump(),
          spec.arrived);
  for (const auto& step : steps) publish("routing.closed", step.dump(), spec.arrived);
  flushEvents();
  return spec.id;
}

Status ContactDesk::signIn(const std::string& agentId) {
  TimePoint now = clock_.now();
  bool inserted = false;
  if (multiHost()) {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    try {
      std::string agent = agentId, host = hostId_, holder;
      long long at = toMs(now);
      soci::statement st = (session_->prepare << "INSERT INTO acd_agent_hosts (agent_id, "
                                                 "host_id, since_ms) VALUES (:a, :h, :t) "
                                                 "ON CONFLICT (agent_id) DO NOTHING",
                            soci::use(agent), soci::use(host), soci::use(at));
      st.execute(true);
      inserted = st.get_affected_rows() == 1;
      *session_ << "SELECT host_id FROM acd_agent_hosts WHERE agent_id = :a", soci::use(agent),
          soci::into(holder);
      if (holder != hostId_) {
        return Status::failedPrecondition("agent " + agentId + " is signed in on host '" +
                                          holder + "'");
      }
    } catch (const std::exception& e) {
      return Status::unavailable(std::string("cannot record the sign-in: ") + e.what());
    }
  }
  Status s = router_.signIn(agentId, now);
  if (!s.ok() && inserted) {
    std::string agent = agentId, host = hostId_;
    write([&](soci::session& db) {
      db << "DELETE FROM acd_agent_hosts WHERE agent_id = :a AND host_id = :h",
          soci::use(agent), soci::use(host);
    });
  }
  return s;
}

Status ContactDesk::signOut(const std::string& agentId) {
  Status s = router_.signOut(agentId, clock_.now());
  if (s.ok() && multiHost()) {
    std::string agent = agentId, host = hostId_;
    write([&](soci::session& db) {
      db << "DELETE FROM acd_agent_hosts WHERE agent_id = :a AND host_id = :h",
          soci::use(agent), soci::use(host);
    });
  }
  return s;
}

Result<int> ContactDesk::poll() {
  if (!multiHost()) return 0;
  return router_.locked([&](AcdEngine& engine) -> Result<int> {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    std::vector<ContactSpec> waiting;
    std::set<std::string> ids;
    try {
      soci::rowset<soci::row> rows =
          (session_->prepare << "SELECT id, channel, queue, priority, customer_ref, "
                                "arrived_ms FROM acd_contacts WHERE state = 'waiting' "
                                "ORDER BY arrived_ms, id");
      for (const auto& r : rows) {
        ContactSpec c = contactFromRow(r);
        ids.insert(c.id);
        waiting.push_back(std::move(c));
      }
    } catch (const std::exception& e) {
      return Status::unavailable(std::string("cannot read waiting contacts: ") + e.what());
    }
    TimePoint now = clock_.now();
    for (const auto& id : engine.waitingIds()) {
      if (!ids.count(id)) (void)engine.withdraw(id, now);
    }
    int n = 0;
    for (const auto& c : waiting) {
      // A queue this host does not define, or one full here: other hosts may take it.
      if (!engine.knows(c.id) && engine.enqueue(c).ok()) ++n;
    }
    return n;
  });
}

void ContactDesk::settle(AcdEngine& engine) {
  // Withdrawing frees the agent, which may take another contact whose claim fails too;
  // every round withdraws contacts for good, so this ends.
  while (!lost_.empty()) {
    std::vector<std::string> batch;
    batch.swap(lost_);
    TimePoint now = clock_.now();
    for (const auto& id : batch) (void)engine.withdraw(id, now);
  }
}

Status ContactDesk::explainMissing(const std::string& id, Status routerSays) {
  if (routerSays.code() != StatusCode::kNotFound) return routerSays;
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::string state;
  soci::indicator ind = soci::i_null;
  *session_ << "SELECT state FROM acd_contacts WHERE id = :id", soci::use(id),
      soci::into(state, ind);
  if (session_->got_data() && ind == soci::i_ok) {
    return Status::failedPrecondition("contact '" + id + "' is " + state);
  }
  return routerSays;
}

Status ContactDesk::end(const std::string& id, const std::string& outcome) {
  TimePoint now = clock_.now();
  long long at = toMs(now);
  std::string out = outcome.empty() ? "handled" : outcome;
  // The end, the agent's next state and any next assignment commit together.
  Status s = router_.locked([&](AcdEngine& engine) -> Status {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    std::optional<soci::transaction> tx;
    try {
      tx.emplace(*session_);
    } catch (const std::exception& e) {
      return Status::unavailable(std::string("cannot store the end: ") + e.what());
    }
    size_t mark = pendingMark();
    Status released = engine.release(id, now);
    if (!released.ok()) return explainMissing(id, released);  // tx rolls back
    publishAt(mark, "contact.ended", Json{{"contact", id}, {"outcome", out}}.dump(), now);
    write([&](soci::session&) {
      hot_->at = at;
      hot_->outcome = out;
      hot_->id = id;
      hot_->ended.execute(true);
    });
    write([&](soci::session&) { tx->commit(); });
    return {};
  });
  return s;
}

Status ContactDesk::abandon(const std::string& id) {
  TimePoint now = clock_.now();
  Status s = router_.abandon(id, now);
  if (!s.ok()) return explainMissing(id, s);
  long long at = toMs(now);
  bool stored = true;
  write([&](soci::session& db) {
    // Conditional: with several hosts another one may have claimed it meanwhile.
    soci::statement st = (db.prepare << "UPDATE acd_contacts SET state = 'abandoned', "
                                        "ended_ms = :n, outcome = 'abandoned' WHERE id = :id "
                                        "AND state = 'waiting'",
                          soci::use(at), soci::use(id));
    st.execute(true);
    stored = st.get_affected_rows() == 1;
  });
  if (!stored && multiHost()) {
    return Status::failedPrecondition("contact '" + id + "' was taken by another host");
  }
  publish("contact.abandoned", Json{{"contact", id}}.dump(), now);
  flushEvents();
  return {};
}

Status ContactDesk::dispose(const std::string& agentId, const std::string& contactId,
                            const Disposition& d) {
  long long at = toMs(clock_.now());
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::string holder;
  soci::indicator ind = soci::i_null;
  *session_ << "SELECT agent_id FROM acd_contacts WHERE id = :id", soci::use(contactId),
      soci::into(holder, ind);
  if (!session_->got_data()) return Status::notFound("no contact '" + contactId + "'");
  // Whoever talked on the contact records a disposition for it: the agents who answered it
  // (after a blind transfer each answered), took it over from a consultation, or joined a
  // conference. A contact no channel reported on (an API contact of a channel without a
  // plugin) can only be judged by its holder.
  std::string agent = agentId;
  int media = 0, talked = 0;
  *session_ << "SELECT COUNT(*) FROM acd_contact_legs WHERE contact_id = :c AND "
               "(source = 'media' OR step = 'answer')",
      soci::use(contactId), soci::into(media);
  *session_ << "SELECT COUNT(*) FROM acd_contact_legs WHERE contact_id = :c AND party = :a "
               "AND ((source = 'media' AND step IN ('answered', 'conference_joined')) OR "
               "(source = 'control' AND step IN ('answer', 'consult_complete', 'conference')))",
      soci::use(contactId), soci::use(agent), soci::into(talked);
  bool holds = ind == soci::i_ok && holder == agentId;
  if (media == 0 ? !holds : talked == 0) {
    if (holds) {
      return Status::failedPrecondition("contact '" + contactId + "' was not answered by agent " +
                                        agentId + " yet");
    }
    return Status::failedPrecondition("contact '" + contactId + "' was not handled by agent " +
                                      agentId);
  }
  int recorded = 0;
  *session_ << "SELECT COUNT(*) FROM acd_dispositions WHERE contact_id = :c AND agent_id = :a",
      soci::use(contactId), soci::use(agent), soci::into(recorded);
  if (recorded) {
    return Status::alreadyExists("agent " + agentId + " has recorded its disposition of "
                                 "contact '" + contactId + "' already");
  }
  *session_ << "INSERT INTO acd_dispositions (contact_id, agent_id, contact_type, outcome, "
               "note, at_ms) VALUES (:c, :a, :t, :o, :n, :at)",
      soci::use(contactId), soci::use(agent), soci::use(d.contactType), soci::use(d.outcome),
      soci::use(d.note), soci::use(at);
  return {};
}

Result<std::string> ContactDesk::contactJson(const std::string& id) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  soci::rowset<soci::row> rows =
      (session_->prepare << "SELECT id, channel, queue, priority, customer_ref, state, "
                            "agent_id, arrived_ms, assigned_ms, ended_ms, outcome "
                            "FROM acd_contacts WHERE id = :id",
       soci::use(id));
  for (const auto& r : rows) {
    Json j{{"id", r.get<std::string>(0)},
           {"channel", r.get<std::string>(1)},
           {"queue", r.get<std::string>(2)},
           {"priority", rowInt(r, 3)},
           {"customer_ref", r.get<std::string>(4)},
           {"state", r.get<std::string>(5)},
           {"agent", rowText(r, 6)},
           {"arrived_at", formatUtcMillis(rowInt(r, 7))}};
    if (r.get_indicator(8) != soci::i_null) j["assigned_at"] = formatUtcMillis(rowInt(r, 8));
    if (r.get_indicator(9) != soci::i_null) j["ended_at"] = formatUtcMillis(rowInt(r, 9));
    j["outcome"] = rowText(r, 10);
    return j.dump();
  }
  return Status::notFound("no contact '" + id + "'");
}

void ContactDesk::onAssigned(const std::string& contact, const std::string& agent,
                             const std::string& queue, TimePoint at) {
  if (multiHost()) {
    bool claimed = false;
    write([&](soci::session&) {
      hot_->agent = agent;
      hot_->at = toMs(at);
      hot_->host = hostId_;
      hot_->id = contact;
      hot_->claim->execute(true);
      claimed = hot_->claim->get_affected_rows() == 1;
    });
    if (!claimed) {
      // Another host holds it (or the write failed): settle() takes it back out of routing
      // here; it is assigned at most once in the database.
      lost_.push_back(contact);
      ++lostClaims_;
      return;
    }
    publish("routing.assigned",
            Json{{"contact", contact}, {"agent", agent}, {"queue", queue}, {"host", hostId_}}
                .dump(),
            at);
    return;
  }
  write([&](soci::session&) {
    hot_->agent = agent;
    hot_->at = toMs(at);
    hot_->id = contact;
    hot_->assigned.execute(true);
  });
  publish("routing.assigned",
          Json{{"contact", contact}, {"agent", agent}, {"queue", queue}}.dump(), at);
}

void ContactDesk::onOverflowed(const std::string& contact, const std::string& from,
                               const std::string& to, TimePoint at) {
  publish("routing.overflowed", Json{{"contact", contact}, {"from", from}, {"to", to}}.dump(),
          at);
}

void ContactDesk::onMaxWait(const std::string& contact, const std::string& queue,
                            MaxWaitAction action, TimePoint at) {
  long long ms = toMs(at);
  std::string outcome = std::string("max_wait_") + actionName(action);
  bool stored = true;
  write([&](soci::session& db) {
    // Conditional: with several hosts each one times the contact out; the first one wins.
    soci::statement st = (db.prepare << "UPDATE acd_contacts SET state = 'ended', ended_ms = "
                                        ":t, outcome = :o WHERE id = :id AND state = 'waiting'",
                          soci::use(ms), soci::use(outcome), soci::use(contact));
    st.execute(true);
    stored = st.get_affected_rows() == 1;
  });
  if (!stored && multiHost()) return;
  publish("routing.max_wait",
          Json{{"contact", contact}, {"queue", queue}, {"action", actionName(action)}}.dump(),
          at);
}

void ContactDesk::onAgentState(const std::string& agent, AgentState from, AgentState to,
                               const std::string& reason, TimePoint at) {
  std::string f = agentStateName(from), t = agentStateName(to);
  write([&](soci::session&) {
    hot_->agent = agent;
    hot_->from = f;
    hot_->to = t;
    hot_->reason = reason;
    hot_->at = toMs(at);
    hot_->agentState.execute(true);
  });
  publish("agent.state",
          Json{{"agent", agent}, {"from", f}, {"to", t}, {"reason", reason}}.dump(), at);
}

void ContactDesk::onPendingAway(const std::string& agent, AgentState state,
                                const std::string& reason, TimePoint at) {
  std::string a = agent, st = agentStateName(state), r = reason;
  std::string kind = reason.empty() ? "away_cancelled" : "away_pending";
  long long ms = toMs(at);
  write([&](soci::session& db) {
    db << "INSERT INTO acd_agent_requests (agent_id, state, kind, reason, at_ms) VALUES "
          "(:a, :s, :k, :r, :t)",
        soci::use(a), soci::use(st), soci::use(kind), soci::use(r), soci::use(ms);
  });
  publish(reason.empty() ? "agent.away_cancelled" : "agent.away_pending",
          Json{{"agent", agent}, {"state", st}, {"reason", reason}}.dump(), at);
}

Status ContactDesk::control(const std::function<Status(AcdEngine&, soci::session&)>& fn) {
  return router_.locked([&](AcdEngine& engine) -> Status {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    try {
      soci::transaction tx(*session_);
      Status s = fn(engine, *session_);
      if (!s.ok()) return s;
      tx.commit();
      return {};
    } catch (const std::exception& e) {
      return Status::unavailable(std::string("cannot store the call control: ") + e.what());
    }
  });
}

void ContactDesk::withSession(const std::function<void(soci::session&)>& fn) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  fn(*session_);
}

void ContactDesk::announce(const char* topic, const std::string& payload, TimePoint at,
                           size_t mark) {
  publishAt(mark, topic, payload, at);
}

}  // namespace kefu::acd
