// SPDX-License-Identifier: Apache-2.0
//
// The routing domain: queues, agents, contacts, and the Router that pairs them (ACD).
//
// A contact (a call, a chat, a video session) waits in one queue. A queue names the skills
// an agent needs to serve it, the media it carries and the strategy that picks among the
// agents ready for it. An agent is signed in or out, and when signed in is idle (ready),
// away (with a reason code), busy, or in wrap-up (after-contact work). Voice and video are
// exclusive: a busy agent takes nothing else. Chats are concurrent up to the agent's
// maxChats, and only while the agent handles no voice or video contact.
//
// The Router is driven by calls (a contact arrives, an agent becomes ready, a contact
// ends) and by time (overflow, maximum wait, wrap-up timers). Its implementation reports
// every decision, in order, to the RoutingListener its owner installed; other plugins
// follow decisions on the event bus ("routing.*", "agent.state"). The Router a plugin
// finds in the ServiceRegistry is safe to call from any thread.
//
// Cost: each decision is O(log n) amortized in the agents ready for the queue (see
// sdk-docs/routing.md for each strategy), never a scan of all agents.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

using TimePoint = std::chrono::system_clock::time_point;

// Voice and video occupy an agent wholly; chat and messages share the agent.
enum class Media { kVoice, kVideo, kChat, kMessage };
inline bool isExclusive(Media m) { return m == Media::kVoice || m == Media::kVideo; }
const char* mediaName(Media m);

// How a queue picks among the agents ready for it.
enum class Strategy {
  kLongestIdle,    // the agent idle the longest (fairness of workload)
  kMostSkilled,    // the highest summed level in the queue's skills, then longest idle
  kRoundRobin,     // the agent this queue served least recently, then by id
  kLeastOccupied,  // the fewest contacts in hand (chat), then longest idle
};
const char* strategyName(Strategy s);

// What happens to a contact that waited the queue's maximum wait.
enum class MaxWaitAction { kNone, kOverflow, kCallback, kVoicemail, kDisconnect };

enum class AgentState { kOffline, kIdle, kAway, kBusy, kWrapUp };
const char* agentStateName(AgentState s);

struct SkillRequirement {
  std::string skill;
  int minLevel = 1;  // levels run 1 (basic) to 10 (expert)
};

struct QueueSpec {
  std::string name;
  Media media = Media::kVoice;
  std::vector<SkillRequirement> skills;
  Strategy strategy = Strategy::kLongestIdle;
  // Added to each contact's own priority; higher is served first.
  int priority = 0;
  // 0: unlimited. A contact offered to a full queue is refused (ResourceExhausted).
  int capacity = 0;
  // After this wait a contact is also offered to `overflowQueue`'s agents (it keeps its
  // place and arrival time). 0: never.
  std::chrono::seconds overflowAfter{0};
  std::string overflowQueue;
  // After this wait `maxWaitAction` applies. 0: no limit.
  std::chrono::seconds maxWait{0};
  MaxWaitAction maxWaitAction = MaxWaitAction::kNone;
  // Service-level and short-abandon thresholds, for reports.
  std::chrono::seconds serviceLevelThreshold{20};
  std::chrono::seconds shortAbandonThreshold{5};
};

struct AgentSpec {
  std::string id;
  std::map<std::string, int> skills;  // skill -> level 1..10
  int maxChats = 1;                   // concurrent chat/message contacts
  // Seconds of wrap-up after an exclusive contact before the agent is idle again;
  // 0 returns the agent to idle at once.
  std::chrono::seconds wrapUp{0};
};

struct ContactSpec {
  std::string id;
  std::string queue;
  int priority = 0;
  TimePoint arrived{};
  std::string channel;      // "phone", "webchat", "wechat", "app", "video", ...
  std::string customerRef;  // an opaque reference, never an ID-card number
};

// Decisions and state changes, in the order they happen.
class RoutingListener {
 public:
  virtual ~RoutingListener() = default;
  virtual void onAssigned(const std::string& contactId, const std::string& agentId,
                          const std::string& queue, TimePoint at) = 0;
  virtual void onOverflowed(const std::string& contactId, const std::string& fromQueue,
                            const std::string& toQueue, TimePoint at) = 0;
  // The contact left its queue because of its maximum wait; `action` says what the
  // channel should do with it (offer a callback, take a voicemail, disconnect).
  virtual void onMaxWait(const std::string& contactId, const std::string& queue,
                         MaxWaitAction action, TimePoint at) = 0;
  virtual void onAgentState(const std::string& agentId, AgentState from, AgentState to,
                            const std::string& reason, TimePoint at) = 0;
};

struct QueueStats {
  int waiting = 0;
  std::chrono::seconds longestWait{0};
  std::map<AgentState, int> agentsByState;  // agents eligible for the queue
};

class Router {
 public:
  static constexpr const char* kInterfaceName = "kefu.Router/1";
  virtual ~Router() = default;

  // Queues first, then agents. AlreadyExists for a second queue or agent of that name.
  virtual Status defineQueue(const QueueSpec& queue) = 0;
  virtual Status defineAgent(const AgentSpec& agent) = 0;

  // Agent state. Illegal transitions are FailedPrecondition with the reason, e.g.
  // "agent a1 is busy with a voice contact; it cannot sign out".
  virtual Status signIn(const std::string& agentId, TimePoint at) = 0;
  virtual Status signOut(const std::string& agentId, TimePoint at) = 0;
  virtual Status setReady(const std::string& agentId, TimePoint at) = 0;
  virtual Status setAway(const std::string& agentId, const std::string& reason,
                         TimePoint at) = 0;

  // A new contact: assigned at once if an agent is ready, else queued.
  // ResourceExhausted if the queue is full; NotFound for an unknown queue.
  virtual Status enqueue(const ContactSpec& contact) = 0;
  // The contact ended (hung up, chat closed) while assigned. The agent goes to wrap-up
  // (exclusive media with a wrap-up time) or takes the next contact.
  virtual Status release(const std::string& contactId, TimePoint at) = 0;
  // The contact left while waiting (abandoned). NotFound if it is not waiting.
  virtual Status abandon(const std::string& contactId, TimePoint at) = 0;
  // Ends the agent's wrap-up before its timer.
  virtual Status endWrapUp(const std::string& agentId, TimePoint at) = 0;

  // Applies everything due by `now`: overflow, maximum waits, wrap-up timers. Returns the
  // earliest time something will be due, if anything is pending.
  virtual std::optional<TimePoint> advance(TimePoint now) = 0;

  virtual Result<AgentState> agentState(const std::string& agentId) const = 0;
  virtual Result<QueueStats> queueStats(const std::string& queue, TimePoint now) const = 0;
};

// Makes private, in-memory Routers of the router plugin's own engine, for simulations
// (`kefu replay`) that must follow the same decisions as the live router without touching
// its state, the store or the event bus.
class RouterFactory {
 public:
  static constexpr const char* kInterfaceName = "kefu.RouterFactory/1";
  virtual ~RouterFactory() = default;

  // A fresh Router that reports every decision to `listener` (not owned; may be null), on
  // the calling thread. With `withConfiguredQueues` the deployment's queues are defined in
  // it already (never its agents: the caller defines its own). The Router is not
  // thread-safe; one thread drives it.
  virtual std::unique_ptr<Router> create(RoutingListener* listener,
                                         bool withConfiguredQueues) const = 0;
  // The queues the deployment configures, in definition order.
  virtual std::vector<QueueSpec> configuredQueues() const = 0;
};

inline const char* mediaName(Media m) {
  switch (m) {
    case Media::kVoice: return "voice";
    case Media::kVideo: return "video";
    case Media::kChat: return "chat";
    case Media::kMessage: return "message";
  }
  return "?";
}

inline const char* strategyName(Strategy s) {
  switch (s) {
    case Strategy::kLongestIdle: return "longest_idle";
    case Strategy::kMostSkilled: return "most_skilled";
    case Strategy::kRoundRobin: return "round_robin";
    case Strategy::kLeastOccupied: return "least_occupied";
  }
  return "?";
}

inline const char* agentStateName(AgentState s) {
  switch (s) {
    case AgentState::kOffline: return "offline";
    case AgentState::kIdle: return "idle";
    case AgentState::kAway: return "away";
    case AgentState::kBusy: return "busy";
    case AgentState::kWrapUp: return "wrap_up";
  }
  return "?";
}

KEFU_SDK_NAMESPACE_END
