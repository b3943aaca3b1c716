// SPDX-License-Identifier: Apache-2.0
#include "acd_engine.h"

#include <algorithm>
#include <limits>
#include <set>

namespace kefu::acd {

namespace {
// The reason of every state but away: one string, not a temporary per change of state.
const std::string kNoReason;
}  // namespace

int64_t AcdEngine::ns(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

TimePoint AcdEngine::fromNs(int64_t n) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(n)));
}

AcdEngine::Agent* AcdEngine::findAgent(const std::string& id) {
  auto it = agentIdx_.find(id);
  return it == agentIdx_.end() ? nullptr : &agents_[it->second];
}

Status AcdEngine::stateError(const Agent& a, const std::string& what) const {
  std::string detail = agentStateName(a.state);
  if (a.exclusive) detail += " with a voice or video contact";
  if (a.chats) detail += " with " + std::to_string(a.chats) + " chat(s)";
  return Status::failedPrecondition("agent " + a.spec.id + " is " + detail + "; " + what);
}

// ---- definitions -------------------------------------------------------------------------

Status AcdEngine::defineQueue(const QueueSpec& spec) {
  if (spec.name.empty()) return Status::invalidArgument("a queue needs a name");
  if (queueIdx_.count(spec.name)) {
    return Status::alreadyExists("queue '" + spec.name + "' is defined twice");
  }
  if (!agents_.empty()) {
    return Status::failedPrecondition("define every queue before the first agent");
  }
  if (spec.capacity < 0) return Status::invalidArgument("capacity must not be negative");
  if (spec.overflowAfter.count() > 0 && spec.overflowQueue.empty()) {
    return Status::invalidArgument("queue '" + spec.name + "' overflows to no queue");
  }
  Queue q;
  q.spec = spec;
  q.idx = static_cast<int>(queues_.size());
  queueIdx_[spec.name] = q.idx;
  queues_.push_back(std::move(q));
  // Overflow targets may be defined in any order: resolve every name again.
  for (auto& each : queues_) {
    if (each.spec.overflowQueue.empty()) continue;
    auto it = queueIdx_.find(each.spec.overflowQueue);
    each.overflowTo = it == queueIdx_.end() ? -1 : it->second;
  }
  return {};
}

Status AcdEngine::defineAgent(const AgentSpec& spec) {
  if (spec.id.empty()) return Status::invalidArgument("an agent needs an id");
  if (agentIdx_.count(spec.id)) {
    return Status::alreadyExists("agent '" + spec.id + "' is defined twice");
  }
  if (spec.maxChats < 1) return Status::invalidArgument("maxChats must be at least 1");
  for (const auto& q : queues_) {
    if (!q.spec.overflowQueue.empty() && q.overflowTo < 0) {
      return Status::invalidArgument("queue '" + q.spec.name + "' overflows to unknown queue '" +
                                     q.spec.overflowQueue + "'");
    }
    if (q.overflowTo >= 0 &&
        isExclusive(q.spec.media) != isExclusive(queues_[q.overflowTo].spec.media)) {
      return Status::invalidArgument("queue '" + q.spec.name + "' overflows to '" +
                                     q.spec.overflowQueue + "', which carries other media");
    }
  }
  Agent a;
  a.spec = spec;
  a.idx = static_cast<int>(agents_.size());
  // The queues this agent serves: it has every required skill at the required level.
  for (const auto& q : queues_) {
    int64_t sum = 0;
    bool ok = true;
    for (const auto& req : q.spec.skills) {
      auto it = spec.skills.find(req.skill);
      if (it == spec.skills.end() || it->second < req.minLevel) {
        ok = false;
        break;
      }
      sum += it->second;
    }
    if (ok) a.slots.push_back({q.idx, sum});
  }
  agentIdx_[spec.id] = a.idx;
  agents_.push_back(std::move(a));
  return {};
}

// ---- agent index -------------------------------------------------------------------------

bool AcdEngine::availableFor(const Agent& a, const Queue& q) const {
  bool ready = a.state == AgentState::kIdle || a.state == AgentState::kBusy;
  if (!ready || a.pendingAway || a.exclusive) return false;
  if (isExclusive(q.spec.media)) return a.chats == 0;
  return a.chats < a.spec.maxChats;
}

std::pair<int64_t, int64_t> AcdEngine::keyFor(const Agent& a, const QueueSlot& s,
                                               const Queue& q) const {
  switch (q.spec.strategy) {
    case Strategy::kLongestIdle: return {a.idleSince, 0};
    case Strategy::kMostSkilled: return {-s.skillSum, a.idleSince};
    case Strategy::kRoundRobin: return {s.lastServed, 0};
    case Strategy::kLeastOccupied: return {a.chats, a.idleSince};
  }
  return {0, 0};
}

bool AcdEngine::live(const ReadyEntry& e) const {
  const QueueSlot& s = agents_[e.agent].slots[e.slot];
  return s.indexed && s.stamp == e.stamp;
}

bool AcdEngine::live(const WaitKey& w) const {
  // A contact leaves every queue at once (unlist()) and is listed again only under a new
  // seq (requeue()), so a listed contact of that seq is listed in this queue.
  const Contact& c = contacts_[std::get<3>(w)];
  return c.seq == std::get<2>(w) && !c.listedIn.empty();
}

const AcdEngine::ReadyEntry* AcdEngine::firstReady(Queue& q) {
  return q.ready.first([this](const ReadyEntry& e) { return live(e); });
}

const AcdEngine::WaitKey* AcdEngine::firstWaiting(Queue& q) {
  return q.waiting.first([this](const WaitKey& w) { return live(w); });
}

void AcdEngine::compactReady(Queue& q) {
  q.ready.compact(size_t(q.readyLive), [this](const ReadyEntry& e) { return live(e); });
}

void AcdEngine::compactWaiting(Queue& q) {
  q.waiting.compact(size_t(q.waitingLive), [this](const WaitKey& w) { return live(w); });
}

void AcdEngine::reindex(Agent& a) {
  for (size_t i = 0; i < a.slots.size(); ++i) {
    QueueSlot& s = a.slots[i];
    Queue& q = queues_[s.queue];
    if (!availableFor(a, q)) {
      if (s.indexed) {  // its entry is dead from now on
        s.indexed = false;
        --q.readyLive;
        compactReady(q);
      }
      continue;
    }
    auto [rank, tie] = keyFor(a, s, q);
    if (s.indexed && s.rank == rank && s.tie == tie) continue;  // in place already
    bool rekeyed = s.indexed;
    if (!rekeyed) ++q.readyLive;
    s.indexed = true;
    s.rank = rank;
    s.tie = tie;
    s.stamp = ++stamp_;  // an entry of an earlier key is dead from now on
    q.ready.push({rank, tie, a.idx, static_cast<int>(i), s.stamp});
    if (rekeyed) compactReady(q);
  }
}

void AcdEngine::setState(Agent& a, AgentState to, const std::string& reason, int64_t at) {
  AgentState from = a.state;
  a.state = to;
  if (reason.empty()) {
    a.reason.clear();  // no call into the string library for the common case
  } else {
    a.reason = reason;
  }
  if (listener_ && (from != to || to == AgentState::kAway)) {
    listener_->onAgentState(a.spec.id, from, to, reason, fromNs(at));
  }
}

// The agent holds nothing any more: away if that was asked for, else idle and serving.
void AcdEngine::becomeFree(Agent& a, int64_t at) {
  a.idleSince = at;
  if (a.pendingAway) {
    a.pendingAway = false;
    setState(a, AgentState::kAway, a.pendingReason, at);
    reindex(a);
    return;
  }
  setState(a, AgentState::kIdle, kNoReason, at);
  settle(a, at);
}

void AcdEngine::settle(Agent& a, int64_t at) {
  serveWaiting(a, at);
  reindex(a);
}

// ---- agent state -------------------------------------------------------------------------

Status AcdEngine::signIn(const std::string& id, TimePoint at) {
  Agent* a = findAgent(id);
  if (!a) return Status::notFound("no agent '" + id + "'");
  if (a->state != AgentState::kOffline) return stateError(*a, "it is signed in already");
  // Signed in but not ready: the agent says when it is ready to take contacts.
  setState(*a, AgentState::kAway, "signed_in", ns(at));
  return {};
}

Status AcdEngine::signOut(const std::string& id, TimePoint at) {
  Agent* a = findAgent(id);
  if (!a) return Status::notFound("no agent '" + id + "'");
  if (a->state == AgentState::kOffline) return stateError(*a, "it is not signed in");
  if (a->exclusive || a->chats || a->state == AgentState::kWrapUp) {
    return stateError(*a, "finish the contact and its wrap-up before signing out");
  }
  a->pendingAway = false;
  ++a->wrapGeneration;
  setState(*a, AgentState::kOffline, kNoReason, ns(at));
  reindex(*a);
  return {};
}

Status AcdEngine::setReady(const std::string& id, TimePoint at) {
  Agent* a = findAgent(id);
  if (!a) return Status::notFound("no agent '" + id + "'");
  int64_t t = ns(at);
  switch (a->state) {
    case AgentState::kOffline: return stateError(*a, "sign in first");
    case AgentState::kIdle: return {};
    case AgentState::kBusy:
      // Cancels an away requested while busy; spare chat capacity serves again.
      if (a->pendingAway) {
        a->pendingAway = false;
        if (pendingListener_) pendingListener_->onPendingAway(id, a->state, "", at);
      }
      settle(*a, t);
      return {};
    case AgentState::kWrapUp:
      // Ready during wrap-up ends it and cancels a pending away: the agent says it is ready.
      if (a->pendingAway) {
        a->pendingAway = false;
        if (pendingListener_) pendingListener_->onPendingAway(id, a->state, "", at);
      }
      return endWrapUp(id, at);
    case AgentState::kAway:
      a->idleSince = t;
      setState(*a, AgentState::kIdle, kNoReason, t);
      settle(*a, t);
      return {};
  }
  return {};
}

Status AcdEngine::setAway(const std::string& id, const std::string& reason, TimePoint at) {
  Agent* a = findAgent(id);
  if (!a) return Status::notFound("no agent '" + id + "'");
  if (reason.empty()) return Status::invalidArgument("going away needs a reason code");
  int64_t t = ns(at);
  switch (a->state) {
    case AgentState::kOffline: return stateError(*a, "sign in first");
    case AgentState::kBusy:
    case AgentState::kWrapUp:
      // Takes effect when the agent's contacts and wrap-up end; no new contacts meanwhile.
      // The wrap-up keeps its timer: after-contact work is still being done.
      a->pendingAway = true;
      a->pendingReason = reason;
      reindex(*a);
      if (pendingListener_) pendingListener_->onPendingAway(id, a->state, reason, at);
      return {};
    case AgentState::kIdle:
    case AgentState::kAway:
      setState(*a, AgentState::kAway, reason, t);
      reindex(*a);
      return {};
  }
  return {};
}

Status AcdEngine::endWrapUp(const std::string& id, TimePoint at) {
  Agent* a = findAgent(id);
  if (!a) return Status::notFound("no agent '" + id + "'");
  if (a->state != AgentState::kWrapUp) return stateError(*a, "it is not in wrap-up");
  ++a->wrapGeneration;  // the pending timer is now stale
  becomeFree(*a, ns(at));
  return {};
}

// ---- contacts ----------------------------------------------------------------------------

void AcdEngine::list(Contact& c, int queue) {
  Queue& q = queues_[queue];
  q.waiting.push({-c.priority, c.arrived, c.seq, c.idx});
  ++q.waitingLive;
  c.listedIn.push_back(queue);
}

void AcdEngine::unlist(Contact& c) {
  std::vector<int> listed;
  listed.swap(c.listedIn);  // its entries are dead from now on
  for (int idx : listed) {
    Queue& q = queues_[idx];
    --q.waitingLive;
    compactWaiting(q);
  }
  listed.clear();
  c.listedIn.swap(listed);  // keeps the buffer for the slot's next contact
  queues_[c.queue].waitingOwn--;
}

void AcdEngine::assign(Contact& c, Agent& a, int viaQueue, int64_t at) {
  if (c.state == ContactState::kWaiting && !c.listedIn.empty()) unlist(c);
  c.state = ContactState::kAssigned;
  c.agent = a.idx;
  ++assignedCount_;
  Queue& q = queues_[viaQueue];
  ++q.served;
  for (auto& s : a.slots) {
    if (s.queue == viaQueue) s.lastServed = q.served;
  }
  if (isExclusive(queues_[c.queue].spec.media)) {
    a.exclusive = 1;
  } else {
    ++a.chats;
  }
  if (a.state != AgentState::kBusy) setState(a, AgentState::kBusy, kNoReason, at);
  reindex(a);
  if (c.keyed && keyedListener_) {
    keyedListener_->onAssignedKeyed(c.key, a.spec.id, q.spec.name, fromNs(at));
  } else if (listener_) {
    listener_->onAssigned(nameOf(c), a.spec.id, q.spec.name, fromNs(at));
  }
}

bool AcdEngine::tryAssignContact(Contact& c, int queue, int64_t at) {
  Queue& q = queues_[queue];
  const ReadyEntry* first = firstReady(q);
  if (!first) return false;
  // Chat queues may list agents that are ready for chats only; voice contacts need an
  // agent with nothing in hand. The index already holds exactly the agents available for
  // this queue's media, and a contact's media is its home queue's.
  if (isExclusive(queues_[c.queue].spec.media) != isExclusive(q.spec.media)) return false;
  assign(c, agents_[first->agent], queue, at);
  return true;
}

void AcdEngine::serveWaiting(Agent& a, int64_t at) {
  // Take the best first-in-line contact among the queues this agent is ready for, until
  // it has no capacity left or nothing waits.
  // The agent need not be indexed yet: settle() indexes it after.
  while (true) {
    const WaitKey* best = nullptr;
    int bestQueue = -1;
    for (const auto& s : a.slots) {
      Queue& q = queues_[s.queue];
      if (!availableFor(a, q)) continue;
      const WaitKey* head = firstWaiting(q);
      if (!head) continue;
      const Contact& c = contacts_[std::get<3>(*head)];
      if (isExclusive(queues_[c.queue].spec.media) != isExclusive(q.spec.media)) continue;
      if (!best || *head < *best) {
        best = head;
        bestQueue = s.queue;
      }
    }
    if (!best) return;
    Contact& c = contacts_[std::get<3>(*best)];
    assign(c, a, bestQueue, at);
    if (a.exclusive || a.chats >= a.spec.maxChats || a.pendingAway) return;
  }
}

Status AcdEngine::enqueue(const ContactSpec& spec) {
  if (spec.id.empty()) return Status::invalidArgument("a contact needs an id");
  auto qit = queueIdx_.find(spec.queue);
  if (qit == queueIdx_.end()) return Status::notFound("no queue '" + spec.queue + "'");
  return enqueueSlot(spec, qit->second, false, 0);
}

Status AcdEngine::enqueueKeyed(uint32_t key, const ContactSpec& spec) {
  if (lastQueue_ < 0 || spec.queue != lastQueueName_) {
    auto qit = queueIdx_.find(spec.queue);
    if (qit == queueIdx_.end()) return Status::notFound("no queue '" + spec.queue + "'");
    lastQueueName_ = spec.queue;
    lastQueue_ = qit->second;
  }
  return enqueueSlot(spec, lastQueue_, true, key);
}

Status AcdEngine::enqueueSlot(const ContactSpec& spec, int queue, bool keyed, uint32_t key) {
  // One hash of the id on the way in: claim the entry now, give it back if the queue is full.
  int* entry = nullptr;
  ContactIndex::iterator named;
  if (keyed) {
    if (key >= keyedIdx_.size()) {
      keyedIdx_.resize(std::max<size_t>(size_t{key} + 1, keyedIdx_.size() * 2), -1);
    }
    if (keyedIdx_[key] >= 0) {
      return Status::alreadyExists("contact " + std::to_string(key) + " is already routed");
    }
    entry = &keyedIdx_[key];
  } else {
    bool added;
    std::tie(named, added) = contactIdx_.try_emplace(spec.id, -1);
    if (!added) return Status::alreadyExists("contact '" + spec.id + "' is already routed");
    entry = &named->second;
  }
  Queue& q = queues_[queue];
  if (q.spec.capacity > 0 && q.waitingOwn >= q.spec.capacity) {
    if (!keyed) contactIdx_.erase(named);
    return Status::resourceExhausted("queue '" + q.spec.name + "' is full (" +
                                     std::to_string(q.spec.capacity) + " waiting)");
  }
  int idx;
  if (!freeContacts_.empty()) {
    idx = freeContacts_.back();
    freeContacts_.pop_back();
  } else {
    idx = static_cast<int>(contacts_.size());
    contacts_.emplace_back();
  }
  Contact& c = contacts_[idx];
  // A reused slot keeps the buffers of its string and lists: no allocation per contact.
  // Of the spec, routing needs only the id and the priority.
  if (keyed) {
    c.id.clear();
  } else {
    c.id = spec.id;
  }
  c.ownPriority = spec.priority;
  c.idx = idx;
  c.queue = q.idx;
  c.state = ContactState::kWaiting;
  c.agent = -1;
  c.arrived = ns(spec.arrived);
  c.seq = ++seq_;
  c.priority = int64_t(spec.priority) + q.spec.priority;
  c.listedIn.clear();
  c.legs.clear();
  c.keyed = keyed;
  c.key = key;
  *entry = idx;
  if (keyed) ++keyedCount_;

  if (tryAssignContact(c, q.idx, c.arrived)) return {};
  q.waitingOwn++;
  list(c, q.idx);
  if (q.spec.overflowAfter.count() > 0 && q.overflowTo >= 0) {
    timers_.push({c.arrived + std::chrono::nanoseconds(q.spec.overflowAfter).count(),
                  TimerKind::kOverflow, idx, c.seq});
  }
  if (q.spec.maxWait.count() > 0 && q.spec.maxWaitAction != MaxWaitAction::kNone) {
    timers_.push({c.arrived + std::chrono::nanoseconds(q.spec.maxWait).count(),
                  TimerKind::kMaxWait, idx, c.seq});
  }
  return {};
}

std::string AcdEngine::nameOf(const Contact& c) const {
  return c.keyed ? std::to_string(c.key) : c.id;
}

AcdEngine::Contact* AcdEngine::findKeyed(uint32_t key) {
  if (key >= keyedIdx_.size() || keyedIdx_[key] < 0) return nullptr;
  return &contacts_[keyedIdx_[key]];
}

void AcdEngine::finishContact(Contact& c) {
  if (c.keyed) {
    keyedIdx_[c.key] = -1;
    --keyedCount_;
  } else {
    contactIdx_.erase(c.id);
  }
  finishContactSlot(c);
}

void AcdEngine::finishContactSlot(Contact& c) {
  c.seq = 0;  // timers of this contact are stale from now on
  c.state = ContactState::kWaiting;
  c.agent = -1;
  freeContacts_.push_back(c.idx);
}

Status AcdEngine::release(const std::string& contactId, TimePoint at) {
  auto it = contactIdx_.find(contactId);
  if (it == contactIdx_.end()) return Status::notFound("no contact '" + contactId + "'");
  return releaseSlot(contacts_[it->second], ns(at), &it);
}

Status AcdEngine::releaseKeyed(uint32_t key, TimePoint at) {
  Contact* c = findKeyed(key);
  if (!c) return Status::notFound("no contact " + std::to_string(key));
  return releaseSlot(*c, ns(at), nullptr);
}

Status AcdEngine::releaseSlot(Contact& c, int64_t t, ContactIndex::iterator* named) {
  if (c.state != ContactState::kAssigned) {
    return Status::failedPrecondition("contact '" + nameOf(c) + "' is waiting, not assigned");
  }
  if (!c.legs.empty()) dropLegs(c, t);
  Agent& a = agents_[c.agent];
  bool exclusive = isExclusive(queues_[c.queue].spec.media);
  --assignedCount_;
  if (named) {
    contactIdx_.erase(*named);  // the entry found already: no second hash
    finishContactSlot(c);
  } else {
    finishContact(c);
  }
  letGo(a, exclusive, t);
  return {};
}

void AcdEngine::letGo(Agent& a, bool exclusive, int64_t t) {
  if (exclusive) {
    a.exclusive = 0;
  } else {
    --a.chats;
  }
  if (a.exclusive || a.chats) {
    // Still holding chats: re-key (least occupied changes) and maybe take another.
    settle(a, t);
    return;
  }
  if (exclusive && a.spec.wrapUp.count() > 0) {
    setState(a, AgentState::kWrapUp, kNoReason, t);
    reindex(a);
    timers_.push({t + std::chrono::nanoseconds(a.spec.wrapUp).count(), TimerKind::kWrapUp,
                  a.idx, ++a.wrapGeneration});
    return;
  }
  becomeFree(a, t);
}

Status AcdEngine::abandon(const std::string& contactId, TimePoint at) {
  auto it = contactIdx_.find(contactId);
  if (it == contactIdx_.end()) return Status::notFound("no contact '" + contactId + "'");
  Contact& c = contacts_[it->second];
  if (c.state != ContactState::kWaiting) {
    return Status::failedPrecondition("contact '" + contactId + "' is with an agent; release "
                                      "it instead");
  }
  unlist(c);
  contactIdx_.erase(it);
  finishContactSlot(c);
  return {};
}

Status AcdEngine::abandonKeyed(uint32_t key, TimePoint) {
  Contact* c = findKeyed(key);
  if (!c) return Status::notFound("no contact " + std::to_string(key));
  if (c->state != ContactState::kWaiting) {
    return Status::failedPrecondition("contact " + std::to_string(key) +
                                      " is with an agent; release it instead");
  }
  unlist(*c);
  finishContact(*c);
  return {};
}

// ---- call controls -----------------------------------------------------------------------

AcdEngine::Contact* AcdEngine::findContact(const std::string& id) {
  auto it = contactIdx_.find(id);
  return it == contactIdx_.end() ? nullptr : &contacts_[it->second];
}

const AcdEngine::Contact* AcdEngine::findContact(const std::string& id) const {
  auto it = contactIdx_.find(id);
  return it == contactIdx_.end() ? nullptr : &contacts_[it->second];
}

Status AcdEngine::takeCheck(const Contact& c, const Agent& a) const {
  bool exclusive = isExclusive(queues_[c.queue].spec.media);
  if (c.state == ContactState::kAssigned && c.agent == a.idx) {
    return Status::failedPrecondition("agent " + a.spec.id + " already holds contact '" +
                                      c.id + "'");
  }
  if (a.legOf == c.idx) {
    return Status::failedPrecondition("agent " + a.spec.id + " is already on contact '" +
                                      c.id + "'");
  }
  bool signedIn = a.state == AgentState::kIdle || a.state == AgentState::kBusy;
  if (!signedIn || a.pendingAway || a.exclusive || (exclusive && a.chats) ||
      (!exclusive && a.chats >= a.spec.maxChats)) {
    return stateError(a, "it cannot take contact '" + c.id + "' now");
  }
  return {};
}

Status AcdEngine::canTake(const std::string& contactId, const std::string& agentId) const {
  const Contact* c = findContact(contactId);
  if (!c) return Status::notFound("no contact '" + contactId + "' in routing");
  auto ait = agentIdx_.find(agentId);
  if (ait == agentIdx_.end()) return Status::notFound("no agent '" + agentId + "'");
  return takeCheck(*c, agents_[ait->second]);
}

Result<Media> AcdEngine::queueMedia(const std::string& queue) const {
  auto qit = queueIdx_.find(queue);
  if (qit == queueIdx_.end()) return Status::notFound("no queue '" + queue + "'");
  return queues_[qit->second].spec.media;
}

Status AcdEngine::canRequeue(const std::string& contactId, const std::string& queue) const {
  const Contact* c = findContact(contactId);
  if (!c) return Status::notFound("no contact '" + contactId + "' in routing");
  auto qit = queueIdx_.find(queue);
  if (qit == queueIdx_.end()) return Status::notFound("no queue '" + queue + "'");
  const Queue& q = queues_[qit->second];
  if (isExclusive(q.spec.media) != isExclusive(queues_[c->queue].spec.media)) {
    return Status::invalidArgument("queue '" + queue + "' carries " + mediaName(q.spec.media) +
                                   ", contact '" + contactId + "' is " +
                                   mediaName(queues_[c->queue].spec.media));
  }
  if (q.spec.capacity > 0 && q.waitingOwn >= q.spec.capacity) {
    return Status::resourceExhausted("queue '" + queue + "' is full (" +
                                     std::to_string(q.spec.capacity) + " waiting)");
  }
  return {};
}

Result<AcdEngine::Contact*> AcdEngine::assignedContact(const std::string& id) {
  Contact* c = findContact(id);
  if (!c) return Status::notFound("no contact '" + id + "' in routing");
  if (c->state != ContactState::kAssigned) {
    return Status::failedPrecondition("contact '" + id + "' is waiting, not assigned");
  }
  return c;
}

Status AcdEngine::transferTo(const std::string& contactId, const std::string& agentId,
                             TimePoint at) {
  auto found = assignedContact(contactId);
  if (!found.ok()) return found.status();
  Contact* c = *found;
  Agent* to = findAgent(agentId);
  if (!to) return Status::notFound("no agent '" + agentId + "'");
  bool exclusive = isExclusive(queues_[c->queue].spec.media);
  int64_t t = ns(at);
  if (to->legOf == c->idx) {
    // The leg becomes the assignment: the agent's load stays as it is.
    to->legOf = -1;
    c->legs.erase(std::find(c->legs.begin(), c->legs.end(), to->idx));
  } else {
    if (auto s = takeCheck(*c, *to); !s.ok()) return s;
    if (exclusive) {
      to->exclusive = 1;
    } else {
      ++to->chats;
    }
  }
  Agent& from = agents_[c->agent];
  c->agent = to->idx;
  if (to->state != AgentState::kBusy) setState(*to, AgentState::kBusy, kNoReason, t);
  reindex(*to);
  letGo(from, exclusive, t);
  return {};
}

Status AcdEngine::requeue(const std::string& contactId, const std::string& queue,
                          TimePoint at) {
  if (auto s = canRequeue(contactId, queue); !s.ok()) return s;
  auto found = assignedContact(contactId);
  if (!found.ok()) return found.status();
  Contact& c = **found;
  int64_t t = ns(at);
  if (!c.legs.empty()) dropLegs(c, t);
  Agent& from = agents_[c.agent];
  bool exclusive = isExclusive(queues_[c.queue].spec.media);
  --assignedCount_;
  Queue& q = queues_[queueIdx_.at(queue)];
  // A new entry: ordered from now, with timers from now, under a new sequence number so
  // that timers of its earlier wait are stale.
  c.state = ContactState::kWaiting;
  c.agent = -1;
  c.queue = q.idx;
  c.arrived = t;
  c.seq = ++seq_;
  c.priority = int64_t(c.ownPriority) + q.spec.priority;
  // The contact is placed before its former agent is let go, so that the agent cannot
  // take it straight back unless nobody else is ready.
  if (!tryAssignContact(c, q.idx, t)) {
    q.waitingOwn++;
    list(c, q.idx);
    if (q.spec.overflowAfter.count() > 0 && q.overflowTo >= 0) {
      timers_.push({t + std::chrono::nanoseconds(q.spec.overflowAfter).count(),
                    TimerKind::kOverflow, c.idx, c.seq});
    }
    if (q.spec.maxWait.count() > 0 && q.spec.maxWaitAction != MaxWaitAction::kNone) {
      timers_.push({t + std::chrono::nanoseconds(q.spec.maxWait).count(), TimerKind::kMaxWait,
                    c.idx, c.seq});
    }
  }
  letGo(from, exclusive, t);
  return {};
}

Status AcdEngine::addLeg(const std::string& contactId, const std::string& agentId,
                         TimePoint at) {
  auto found = assignedContact(contactId);
  if (!found.ok()) return found.status();
  Contact* c = *found;
  Agent* a = findAgent(agentId);
  if (!a) return Status::notFound("no agent '" + agentId + "'");
  if (auto s = takeCheck(*c, *a); !s.ok()) return s;
  // An agent holds one leg at a time (a chat agent could otherwise take a second one).
  if (a->legOf >= 0) {
    return Status::failedPrecondition("agent " + agentId + " is already on contact '" +
                                      nameOf(contacts_[a->legOf]) + "'; drop that leg first");
  }
  if (isExclusive(queues_[c->queue].spec.media)) {
    a->exclusive = 1;
  } else {
    ++a->chats;
  }
  a->legOf = c->idx;
  c->legs.push_back(a->idx);
  if (a->state != AgentState::kBusy) setState(*a, AgentState::kBusy, kNoReason, ns(at));
  reindex(*a);
  return {};
}

Status AcdEngine::dropLeg(const std::string& contactId, const std::string& agentId,
                          TimePoint at) {
  Contact* c = findContact(contactId);
  if (!c) return Status::notFound("no contact '" + contactId + "' in routing");
  Agent* a = findAgent(agentId);
  if (!a) return Status::notFound("no agent '" + agentId + "'");
  if (a->legOf != c->idx) {
    return Status::failedPrecondition("agent " + agentId + " is not on contact '" + contactId +
                                      "'");
  }
  c->legs.erase(std::find(c->legs.begin(), c->legs.end(), a->idx));
  a->legOf = -1;
  letGo(*a, isExclusive(queues_[c->queue].spec.media), ns(at));
  return {};
}

void AcdEngine::dropLegs(Contact& c, int64_t at) {
  bool exclusive = isExclusive(queues_[c.queue].spec.media);
  std::vector<int> legs;
  legs.swap(c.legs);
  for (int idx : legs) {
    agents_[idx].legOf = -1;
    letGo(agents_[idx], exclusive, at);
  }
}

// ---- time --------------------------------------------------------------------------------

std::optional<TimePoint> AcdEngine::advance(TimePoint now) {
  int64_t t = ns(now);
  while (!timers_.empty() && timers_.top().at <= t) {
    Timer timer = timers_.top();
    timers_.pop();
    if (timer.kind == TimerKind::kWrapUp) {
      Agent& a = agents_[timer.target];
      if (a.state == AgentState::kWrapUp && a.wrapGeneration == timer.generation) {
        becomeFree(a, timer.at);
      }
      continue;
    }
    Contact& c = contacts_[timer.target];
    if (c.seq != timer.generation || c.state != ContactState::kWaiting) continue;
    Queue& q = queues_[c.queue];
    if (timer.kind == TimerKind::kOverflow) {
      // Keep its place at home and offer it to the overflow queue's agents too.
      int to = q.overflowTo;
      if (std::find(c.listedIn.begin(), c.listedIn.end(), to) != c.listedIn.end()) continue;
      if (listener_) {
        listener_->onOverflowed(nameOf(c), q.spec.name, queues_[to].spec.name,
                                fromNs(timer.at));
      }
      if (!tryAssignContact(c, to, timer.at)) list(c, to);
      continue;
    }
    // Maximum wait: the contact leaves routing; the channel carries out the action.
    if (q.spec.maxWaitAction == MaxWaitAction::kOverflow && q.overflowTo >= 0) {
      if (std::find(c.listedIn.begin(), c.listedIn.end(), q.overflowTo) == c.listedIn.end()) {
        if (listener_) {
          listener_->onOverflowed(nameOf(c), q.spec.name, queues_[q.overflowTo].spec.name,
                                  fromNs(timer.at));
        }
        if (!tryAssignContact(c, q.overflowTo, timer.at)) list(c, q.overflowTo);
      }
      continue;
    }
    std::string id = nameOf(c);
    std::string queueName = q.spec.name;
    unlist(c);
    finishContact(c);
    if (listener_) listener_->onMaxWait(id, queueName, q.spec.maxWaitAction, fromNs(timer.at));
  }
  // Report the next due time, skipping stale timers at the top.
  while (!timers_.empty()) {
    const Timer& top = timers_.top();
    bool stale = top.kind == TimerKind::kWrapUp
                     ? agents_[top.target].wrapGeneration != top.generation
                     : contacts_[top.target].seq != top.generation;
    if (!stale) return fromNs(top.at);
    timers_.pop();
  }
  return std::nullopt;
}

// ---- queries -----------------------------------------------------------------------------

Result<AgentState> AcdEngine::agentState(const std::string& id) const {
  auto it = agentIdx_.find(id);
  if (it == agentIdx_.end()) return Status::notFound("no agent '" + id + "'");
  return agents_[it->second].state;
}

Result<QueueStats> AcdEngine::queueStats(const std::string& name, TimePoint now) const {
  auto it = queueIdx_.find(name);
  if (it == queueIdx_.end()) return Status::notFound("no queue '" + name + "'");
  const Queue& q = queues_[it->second];
  QueueStats st;
  st.waiting = q.waitingLive;
  int64_t oldest = std::numeric_limits<int64_t>::max();
  q.waiting.forEach([&](const WaitKey& w) {
    if (live(w)) oldest = std::min(oldest, std::get<1>(w));
  });
  if (q.waitingLive > 0) {
    st.longestWait = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::nanoseconds(std::max<int64_t>(0, ns(now) - oldest)));
  }
  for (const auto& a : agents_) {
    for (const auto& s : a.slots) {
      if (s.queue == q.idx) st.agentsByState[a.state]++;
    }
  }
  return st;
}

Result<AgentDetail> AcdEngine::agentDetail(const std::string& id) const {
  auto it = agentIdx_.find(id);
  if (it == agentIdx_.end()) return Status::notFound("no agent '" + id + "'");
  const Agent& a = agents_[it->second];
  AgentDetail d;
  d.state = a.state;
  d.reason = a.state == AgentState::kAway ? a.reason : "";
  d.pendingAway = a.pendingAway;
  d.pendingReason = a.pendingAway ? a.pendingReason : "";
  d.exclusive = a.exclusive;
  d.chats = a.chats;
  return d;
}

Status AcdEngine::withdraw(const std::string& contactId, TimePoint at) {
  auto it = contactIdx_.find(contactId);
  if (it == contactIdx_.end()) return Status::notFound("no contact '" + contactId + "'");
  Contact& c = contacts_[it->second];
  if (c.state == ContactState::kWaiting) {
    unlist(c);
    finishContact(c);
    return {};
  }
  int64_t t = ns(at);
  // Consulted or conferenced agents let go of their legs as when the contact ends.
  if (!c.legs.empty()) dropLegs(c, t);
  Agent& a = agents_[c.agent];
  bool exclusive = isExclusive(queues_[c.queue].spec.media);
  --assignedCount_;
  contactIdx_.erase(it);
  finishContactSlot(c);
  if (exclusive) {
    a.exclusive = 0;
  } else {
    --a.chats;
  }
  if (a.exclusive || a.chats) {
    settle(a, t);
    return {};
  }
  // No wrap-up: the agent never talked to this contact.
  becomeFree(a, t);
  return {};
}

std::vector<std::string> AcdEngine::waitingIds() const {
  std::vector<std::string> out;
  for (const auto& [id, idx] : contactIdx_) {
    if (contacts_[idx].state == ContactState::kWaiting) out.push_back(id);
  }
  return out;
}

size_t AcdEngine::waitingContacts() const {
  return contactIdx_.size() + keyedCount_ - assignedCount_;
}

std::string AcdEngine::agentOf(const std::string& contactId) const {
  auto it = contactIdx_.find(contactId);
  if (it == contactIdx_.end()) return "";
  const Contact& c = contacts_[it->second];
  return c.state == ContactState::kAssigned ? agents_[c.agent].spec.id : "";
}

std::string AcdEngine::checkInvariants() const {
  std::vector<int> exclusive(agents_.size()), chats(agents_.size());
  std::vector<std::pair<std::string, int>> routed(contactIdx_.begin(), contactIdx_.end());
  for (size_t key = 0; key < keyedIdx_.size(); ++key) {
    if (keyedIdx_[key] >= 0) routed.emplace_back(std::to_string(key), keyedIdx_[key]);
  }
  for (const auto& [id, idx] : routed) {
    const Contact& c = contacts_[idx];
    if (c.state == ContactState::kAssigned) {
      if (!c.listedIn.empty()) return "assigned contact " + id + " is still listed";
      (isExclusive(queues_[c.queue].spec.media) ? exclusive : chats)[c.agent]++;
      for (int leg : c.legs) {
        if (agents_[leg].legOf != idx) return "leg of contact " + id + " is not marked";
        (isExclusive(queues_[c.queue].spec.media) ? exclusive : chats)[leg]++;
      }
    } else if (c.listedIn.empty()) {
      return "waiting contact " + id + " is in no queue";
    }
  }
  for (const auto& a : agents_) {
    if (exclusive[a.idx] > 1) return "agent " + a.spec.id + " holds two exclusive contacts";
    if (exclusive[a.idx] != a.exclusive || chats[a.idx] != a.chats) {
      return "agent " + a.spec.id + " load does not match its contacts";
    }
    if (a.chats > a.spec.maxChats) return "agent " + a.spec.id + " exceeds its chats";
    if (a.exclusive && a.chats) return "agent " + a.spec.id + " mixes voice and chat";
    bool holds = a.exclusive || a.chats;
    if (holds != (a.state == AgentState::kBusy)) {
      return "agent " + a.spec.id + " is " + agentStateName(a.state) + " holding " +
             std::to_string(a.exclusive + a.chats) + " contact(s)";
    }
    for (const auto& s : a.slots) {
      const Queue& q = queues_[s.queue];
      bool should = availableFor(a, q);
      if (should != s.indexed) return "agent " + a.spec.id + " index is stale";
      if (s.indexed && std::make_pair(s.rank, s.tie) != keyFor(a, s, q)) {
        return "agent " + a.spec.id + " has an outdated key in queue " + q.spec.name;
      }
    }
  }
  // The indexes: ordered, one live entry per indexed agent slot and per listing of a
  // waiting contact, with the key it has now, and dead entries bounded by compact()'s rule.
  std::vector<int> listings(queues_.size());
  for (const auto& [id, idx] : routed) {
    for (int q : contacts_[idx].listedIn) listings[q]++;
  }
  for (const auto& q : queues_) {
    const std::string where = " in queue " + q.spec.name;
    if (!q.ready.ordered() || !q.waiting.ordered()) return "an index is out of order" + where;
    std::string wrong;
    std::set<int> agentsSeen;
    q.ready.forEach([&](const ReadyEntry& e) {
      if (!live(e) || !wrong.empty()) return;
      const QueueSlot& s = agents_[e.agent].slots[e.slot];
      if (s.queue != q.idx || s.rank != e.rank || s.tie != e.tie) {
        wrong = "agent " + agents_[e.agent].spec.id + " has a wrong entry" + where;
      } else if (!agentsSeen.insert(e.agent).second) {
        wrong = "agent " + agents_[e.agent].spec.id + " is ready twice" + where;
      }
    });
    if (!wrong.empty()) return wrong;
    int indexed = 0;
    for (const auto& a : agents_) {
      for (const auto& s : a.slots) indexed += s.queue == q.idx && s.indexed;
    }
    if (int(agentsSeen.size()) != indexed || q.readyLive != indexed) {
      return "ready agents do not match the indexed agents" + where;
    }
    std::set<int> contactsSeen;
    const WaitKey* first = nullptr;
    q.waiting.forEach([&](const WaitKey& w) {
      if (!live(w) || !wrong.empty()) return;
      const Contact& c = contacts_[std::get<3>(w)];
      if (std::find(c.listedIn.begin(), c.listedIn.end(), q.idx) == c.listedIn.end() ||
          std::get<0>(w) != -c.priority || std::get<1>(w) != c.arrived) {
        wrong = "waiting contact " + nameOf(c) + " has a wrong entry" + where;
      } else if (!contactsSeen.insert(c.idx).second) {
        wrong = "contact " + nameOf(c) + " waits twice" + where;
      }
      if (!first || w < *first) first = &w;
    });
    if (!wrong.empty()) return wrong;
    if (int(contactsSeen.size()) != listings[q.idx] || q.waitingLive != listings[q.idx]) {
      return "waiting contacts do not match the contacts listed" + where;
    }
    if (q.ready.size() > q.ready.maxSize(size_t(q.readyLive)) ||
        q.waiting.size() > q.waiting.maxSize(size_t(q.waitingLive))) {
      return "too many dead entries" + where;
    }
    // No ready agent may sit beside a waiting contact it could take.
    if (q.readyLive > 0 && first) {
      const Contact& c = contacts_[std::get<3>(*first)];
      if (isExclusive(queues_[c.queue].spec.media) == isExclusive(q.spec.media)) {
        return "queue " + q.spec.name + " has a ready agent and a waiting contact";
      }
    }
  }
  return "";
}

}  // namespace kefu::acd
