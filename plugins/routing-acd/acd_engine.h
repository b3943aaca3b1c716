// SPDX-License-Identifier: Apache-2.0
//
// AcdEngine: the in-memory Router of the routing-acd plugin.
//
// Every queue keeps its ready agents, keyed by the queue's strategy, and its waiting
// contacts (priority, then arrival) in two MinQueues (min_queue.h). A contact that arrives
// takes the first ready agent of its queue; an agent that becomes free takes the best
// first waiting contact among the queues it serves, and is indexed only where it is still
// available afterwards. Removal is lazy: an entry whose agent slot or contact has changed
// since it was pushed is dead, skipped when it comes first, and dropped with the others
// once they outnumber the live ones. Each step costs O(1) amortized per MinQueue touched
// when its entries come in key order (an agent freed last under longest idle, a contact
// that arrived last), O(log n) amortized otherwise (n the entries of the queue), with no
// allocation once the vectors have grown. An agent's change of state re-keys it in each
// queue it serves (q queues: q times that); an unchanged key is left in place. Timers
// (overflow, maximum wait, wrap-up) sit in one heap, stale ones skipped when they surface.
//
// Not thread-safe: LockedRouter serialises it for the plugin's callers.
#pragma once

#include <cstdint>
#include <queue>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kefu/routing.h"
#include "kefu/routing_keyed.h"
#include "min_queue.h"

namespace kefu::acd {

// What the engine reports beyond kefu::RoutingListener. A listener that also derives from
// this class hears of away requests that wait for the agent's contacts or wrap-up to end.
class PendingAwayListener {
 public:
  virtual ~PendingAwayListener() = default;
  // `reason` is the requested away reason, or "" when the request was cancelled (ready).
  virtual void onPendingAway(const std::string& agentId, AgentState state,
                             const std::string& reason, TimePoint at) = 0;
};

// An agent as GET /api/v1/agents/{id} shows it.
struct AgentDetail {
  AgentState state = AgentState::kOffline;
  std::string reason;          // the away reason code while away
  bool pendingAway = false;    // away asked for while busy or in wrap-up
  std::string pendingReason;
  int exclusive = 0;           // voice or video contacts in hand (0 or 1)
  int chats = 0;
};

class AcdEngine : public Router, public KeyedContacts {
 public:
  AcdEngine() = default;

  // Reports every decision to `listener` (not owned; may be null), on the calling thread.
  void setListener(RoutingListener* listener) {
    listener_ = listener;
    pendingListener_ = dynamic_cast<PendingAwayListener*>(listener);
    keyedListener_ = dynamic_cast<KeyedRoutingListener*>(listener);
  }
  Status defineQueue(const QueueSpec& queue) override;
  Status defineAgent(const AgentSpec& agent) override;
  Status signIn(const std::string& agentId, TimePoint at) override;
  Status signOut(const std::string& agentId, TimePoint at) override;
  Status setReady(const std::string& agentId, TimePoint at) override;
  Status setAway(const std::string& agentId, const std::string& reason, TimePoint at) override;
  Status enqueue(const ContactSpec& contact) override;
  Status release(const std::string& contactId, TimePoint at) override;
  Status abandon(const std::string& contactId, TimePoint at) override;
  Status endWrapUp(const std::string& agentId, TimePoint at) override;
  std::optional<TimePoint> advance(TimePoint now) override;
  // KeyedContacts: the same steps, with the contact found by key in a table, not a map.
  Status enqueueKeyed(uint32_t key, const ContactSpec& contact) override;
  Status releaseKeyed(uint32_t key, TimePoint at) override;
  Status abandonKeyed(uint32_t key, TimePoint at) override;
  Result<AgentState> agentState(const std::string& agentId) const override;
  Result<QueueStats> queueStats(const std::string& queue, TimePoint now) const override;

  Result<AgentDetail> agentDetail(const std::string& agentId) const;
  // Whether a contact is in the engine, waiting or assigned.
  bool knows(const std::string& contactId) const { return contactIdx_.count(contactId) > 0; }
  // Takes a contact out of routing as if it had never been offered here: a waiting one
  // leaves its queues; an assigned one leaves its agent without wrap-up, and the agent,
  // holding nothing else, is free again (idle and serving, or away if that was asked for).
  // For a contact another host claimed first (multi-host). NotFound if unknown.
  Status withdraw(const std::string& contactId, TimePoint at);
  // The ids of the contacts waiting in the engine.
  std::vector<std::string> waitingIds() const;
  // Call controls (not part of Router; routing-acd's call control drives them). Each keeps
  // the invariant that an agent holds at most one voice or video contact, counting legs.
  //
  // OK if `agentId` could take `contactId` (assigned, or being transferred) right now:
  // signed in, not away or in wrap-up, with room for the contact's medium. Otherwise
  // FailedPrecondition naming the agent's state; NotFound for unknown ids.
  Status canTake(const std::string& contactId, const std::string& agentId) const;
  // OK if the assigned `contactId` may be put in `queue`: NotFound for an unknown queue,
  // InvalidArgument for a queue of the other kind of media, ResourceExhausted when full.
  Status canRequeue(const std::string& contactId, const std::string& queue) const;
  // The medium `queue` carries; NotFound for an unknown queue.
  Result<Media> queueMedia(const std::string& queue) const;
  // Moves an assigned contact to `agentId` (who must pass canTake(), or hold a leg of this
  // contact, which becomes the assignment). The former agent is released as by release().
  // Not a routing decision: the listener hears only of the agents' states, and the caller
  // stores and announces the move.
  Status transferTo(const std::string& contactId, const std::string& agentId, TimePoint at);
  // Takes an assigned contact from its agent (and legs) and queues it in `queue`, entered
  // at `at`: it is ordered and timed (overflow, maximum wait) from then on.
  Status requeue(const std::string& contactId, const std::string& queue, TimePoint at);
  // Occupies `agentId` with a second leg of an assigned contact (a consultation or a
  // conference): the agent is busy as if it held the contact, until dropLeg() or the end.
  Status addLeg(const std::string& contactId, const std::string& agentId, TimePoint at);
  Status dropLeg(const std::string& contactId, const std::string& agentId, TimePoint at);

  // For tests and invariant checks.
  size_t waitingContacts() const;
  size_t assignedContacts() const { return assignedCount_; }
  // The agent holding `contactId`, or "" if it is not assigned.
  std::string agentOf(const std::string& contactId) const;
  // Checks the internal indexes against the agents' and contacts' states; returns the
  // first inconsistency found, or "".
  std::string checkInvariants() const;

 private:
  using WaitKey = std::tuple<int64_t, int64_t, uint64_t, int>;  // -priority, arrival, seq, idx

  struct QueueSlot {  // one queue an agent serves
    int queue;
    int64_t skillSum;
    int64_t lastServed = 0;  // round robin: the queue's sequence at the last assignment
    bool indexed = false;    // has a live entry in the queue's ready index
    int64_t rank = 0;        // that entry's key (see ReadyEntry)
    int64_t tie = 0;
    uint64_t stamp = 0;      // that entry's stamp
  };
  // An agent in a queue's ready index: the smallest (rank, tie, agent) is offered first.
  struct ReadyEntry {
    int64_t rank;    // the strategy's key
    int64_t tie;     // its tie-break (idle since), or 0
    int agent;       // agent index, the last tie-break
    int slot;        // the agent's QueueSlot for this queue
    uint64_t stamp;  // live while the slot is indexed with this stamp
    bool operator<(const ReadyEntry& o) const {
      return std::tie(rank, tie, agent) < std::tie(o.rank, o.tie, o.agent);
    }
    bool operator>(const ReadyEntry& o) const { return o < *this; }
  };
  struct Agent {
    AgentSpec spec;
    int idx = 0;
    AgentState state = AgentState::kOffline;
    std::string reason;
    bool pendingAway = false;
    std::string pendingReason;
    int exclusive = 0;
    int chats = 0;
    int legOf = -1;         // contact index of the leg it holds, or -1
    int64_t idleSince = 0;  // ns since epoch
    uint64_t wrapGeneration = 0;
    std::vector<QueueSlot> slots;
  };
  struct Queue {
    QueueSpec spec;
    int idx = 0;
    int overflowTo = -1;
    MinQueue<ReadyEntry> ready;
    MinQueue<WaitKey> waiting;  // live: the contact still waits under that seq
    int readyLive = 0;          // live entries: the agents ready for the queue
    int waitingLive = 0;        // live entries: the contacts listed in the queue
    int64_t served = 0;
    int waitingOwn = 0;  // contacts whose home is this queue, waiting
  };
  enum class ContactState { kWaiting, kAssigned };
  struct Contact {
    std::string id;  // the string id, "" for a keyed contact
    int idx = 0;
    int queue = 0;
    ContactState state = ContactState::kWaiting;
    int agent = -1;
    int64_t arrived = 0;
    uint64_t seq = 0;
    int ownPriority = 0;  // ContactSpec::priority
    int64_t priority = 0;  // with the queue's priority added
    std::vector<int> listedIn;  // queues whose waiting index holds it live
    std::vector<int> legs;      // agents holding a leg of it (consultation, conference)
    bool keyed = false;         // named by `key` (KeyedContacts), not id
    uint32_t key = 0;
  };
  enum class TimerKind { kOverflow, kMaxWait, kWrapUp };
  struct Timer {
    int64_t at;
    TimerKind kind;
    int target;           // contact or agent index
    uint64_t generation;  // contact seq or agent wrapGeneration; stale timers are skipped
    bool operator>(const Timer& o) const { return at > o.at; }
  };

  static int64_t ns(TimePoint t);
  static TimePoint fromNs(int64_t n);
  Agent* findAgent(const std::string& id);
  Status stateError(const Agent& a, const std::string& what) const;

  bool availableFor(const Agent& a, const Queue& q) const;
  // The slot's key in its queue's ready index: (rank, tie), then the agent index.
  std::pair<int64_t, int64_t> keyFor(const Agent& a, const QueueSlot& s, const Queue& q) const;
  void reindex(Agent& a);
  bool live(const ReadyEntry& e) const;
  bool live(const WaitKey& w) const;
  // The first live entry of the queue's index, or null if none.
  const ReadyEntry* firstReady(Queue& q);
  const WaitKey* firstWaiting(Queue& q);
  // After entries of the queue's index died: drops them if they are too many.
  void compactReady(Queue& q);
  void compactWaiting(Queue& q);
  void setState(Agent& a, AgentState to, const std::string& reason, int64_t at);
  void becomeFree(Agent& a, int64_t at);
  // The agent may take more: serves waiting contacts while it can, then indexes it where
  // it is still available (so an agent that takes a contact at once is never indexed).
  void settle(Agent& a, int64_t at);

  void list(Contact& c, int queue);
  void unlist(Contact& c);
  void assign(Contact& c, Agent& a, int viaQueue, int64_t at);
  bool tryAssignContact(Contact& c, int queue, int64_t at);
  void serveWaiting(Agent& a, int64_t at);
  Status enqueueSlot(const ContactSpec& spec, int queue, bool keyed, uint32_t key);
  using ContactIndex = std::unordered_map<std::string, int>;
  // Releases an assigned contact; `named` is its entry in contactIdx_, null for a keyed one.
  Status releaseSlot(Contact& c, int64_t at, ContactIndex::iterator* named);
  // The contact's id in reports: its id, or the key in decimal.
  std::string nameOf(const Contact& c) const;
  Contact* findKeyed(uint32_t key);
  void finishContact(Contact& c);
  // finishContact() for a contact whose id is already out of contactIdx_.
  void finishContactSlot(Contact& c);
  // The agent no longer holds a contact (or leg) of this medium: wrap-up, next or idle.
  void letGo(Agent& a, bool exclusive, int64_t at);
  void dropLegs(Contact& c, int64_t at);
  Contact* findContact(const std::string& id);
  const Contact* findContact(const std::string& id) const;
  // The contact `id` while assigned: NotFound if unknown, FailedPrecondition while waiting.
  Result<Contact*> assignedContact(const std::string& id);
  Status takeCheck(const Contact& c, const Agent& a) const;

  RoutingListener* listener_ = nullptr;
  PendingAwayListener* pendingListener_ = nullptr;
  KeyedRoutingListener* keyedListener_ = nullptr;
  std::vector<Queue> queues_;
  std::unordered_map<std::string, int> queueIdx_;
  std::vector<Agent> agents_;
  std::unordered_map<std::string, int> agentIdx_;
  std::vector<Contact> contacts_;
  std::vector<int> freeContacts_;
  std::unordered_map<std::string, int> contactIdx_;
  std::vector<int> keyedIdx_;  // key -> contact index, -1: none
  size_t keyedCount_ = 0;
  // The queue of the last enqueue, by name: a replay offers one queue's name again and again.
  std::string lastQueueName_;
  int lastQueue_ = -1;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  uint64_t seq_ = 0;
  uint64_t stamp_ = 0;  // stamps of ready entries
  size_t assignedCount_ = 0;
};

}  // namespace kefu::acd
