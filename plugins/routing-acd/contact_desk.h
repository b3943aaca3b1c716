// SPDX-License-Identifier: Apache-2.0
//
// ContactDesk: the durable side of routing. It stores every contact before the contact is
// acknowledged, records each assignment, end and abandonment, every agent state change and
// every disposition, and on start puts the contacts that were still open back into the
// engine with their original arrival time and priority.
//
// Lock order: the router's mutex, then the desk's session mutex (the listener writes while
// the router holds its lock); calls that only touch the store take the session mutex alone.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "kefu/sdk.h"
#include "locked_router.h"
#include "service_hours.h"

namespace soci {
class session;
}

namespace kefu::acd {

struct Disposition {
  std::string contactType;
  std::string outcome;
  std::string note;
};

struct DeskOptions {
  // Non-empty: several hosts share one PostgreSQL database and this is this host's unique
  // name. Assignments are then claims the database arbitrates (see sdk-docs/routing.md).
  std::string hostId;
  // Service hours and closed action per queue; a queue not listed is open 7x24.
  std::map<std::string, QueueHours> hours;
};

class ContactDesk : public RoutingListener, public PendingAwayListener {
 public:
  // `session` is owned by the desk; `events` may be null (benchmarks). `onError` hears of
  // every failed write (the listener must not throw into the router). The owner installs it
  // as the router's listener and settle hook (setSettle) and removes both before
  // destroying it.
  ContactDesk(std::unique_ptr<soci::session> session, LockedRouter& router, EventBus* events,
              const Clock& clock, std::function<void(const std::string&)> onError,
              DeskOptions options = {});
  ~ContactDesk() override;

  // Schema of the desk's tables.
  static std::vector<Migration> migrations();

  // Puts waiting and interrupted contacts back into the router. Returns how many.
  Result<int> recover();

  // Stores then routes a new contact; `spec.id` is generated when empty. The returned id is
  // durable when this returns OK. A contact for a closed queue follows the queue's closed
  // action: overflow moves it to another queue; callback, voicemail, message and disconnect
  // store it ended with outcome "closed_<action>" for the channel to carry out.
  Result<std::string> accept(ContactSpec spec);
  // Agent sign-in and sign-out. With several hosts an agent is signed in on one host at a
  // time (acd_agent_hosts); FailedPrecondition names the host that holds it.
  Status signIn(const std::string& agentId);
  Status signOut(const std::string& agentId);
  // Several hosts: takes up the contacts other hosts accepted that are still waiting, and
  // drops the ones that are no longer waiting (claimed, ended or abandoned elsewhere).
  // Returns how many were taken up. Single host: does nothing.
  Result<int> poll();
  bool multiHost() const { return !hostId_.empty(); }
  // Claims another host won first since start (several hosts).
  uint64_t lostClaims() const { return lostClaims_; }
  Status end(const std::string& contactId, const std::string& outcome);
  Status abandon(const std::string& contactId);
  Status dispose(const std::string& agentId, const std::string& contactId,
                 const Disposition& d);

  // The stored record of a contact as JSON text, or NotFound.
  Result<std::string> contactJson(const std::string& contactId);

  // RoutingListener: called by the router under its lock.
  void onAssigned(const std::string& contact, const std::string& agent,
                  const std::string& queue, TimePoint at) override;
  void onOverflowed(const std::string& contact, const std::string& from, const std::string& to,
                    TimePoint at) override;
  void onMaxWait(const std::string& contact, const std::string& queue, MaxWaitAction action,
                 TimePoint at) override;
  void onAgentState(const std::string& agent, AgentState from, AgentState to,
                    const std::string& reason, TimePoint at) override;
  void onPendingAway(const std::string& agent, AgentState state, const std::string& reason,
                     TimePoint at) override;
  // Runs under the router's lock after every router call: takes the contacts whose claim
  // another host won back out of this host's engine.
  void settle(AcdEngine& engine);

  // For call controls (channel_hub.h): runs `fn` with the engine and the store session
  // under the router's lock and one transaction, committed when `fn` returns OK (rolled
  // back otherwise). Listener writes made meanwhile join the transaction; events queued
  // with announce() are published after the router's, once the lock is released.
  Status control(const std::function<Status(AcdEngine&, soci::session&)>& fn);
  // Runs `fn` on the desk's session under its lock (reads and single writes).
  void withSession(const std::function<void(soci::session&)>& fn);
  // Queues a bus event, published in order with the router's on the next flush; `mark`
  // (from eventMark()) puts it before events queued since.
  void announce(const char* topic, const std::string& payload, TimePoint at,
                size_t mark = static_cast<size_t>(-1));
  size_t eventMark() { return pendingMark(); }

  // Write failures since start; each is also logged by the caller's logger.
  uint64_t writeErrors() const { return writeErrors_; }

  // Publishes the events the listener collected while the router was locked. Installed as
  // the router's after-unlock hook, so bus handlers never run under the router's lock.
  void flushEvents();

 private:
  void publish(const char* topic, const std::string& payload, TimePoint at);
  // NotFound from the router for a stored contact means it is no longer open.
  Status explainMissing(const std::string& id, Status routerSays);
  // Inserts an event at a position of the pending list noted before a router call.
  size_t pendingMark();
  void publishAt(size_t mark, const char* topic, const std::string& payload, TimePoint at);
  void write(const std::function<void(soci::session&)>& fn);
  Result<std::string> acceptClosed(const ContactSpec& spec, const QueueHours& hours,
                                   const std::vector<nlohmann::json>& steps);

  std::unique_ptr<soci::session> session_;
  // Recursive: accept() and end() hold it across the router call whose listener writes.
  std::recursive_mutex mu_;
  LockedRouter& router_;
  EventBus* events_;
  const Clock& clock_;
  std::function<void(const std::string&)> onError_;
  uint64_t writeErrors_ = 0;
  std::string hostId_;
  std::map<std::string, QueueHours> hours_;
  // Contacts assigned here whose claim failed, until settle() withdraws them. Guarded by
  // the router's lock.
  std::vector<std::string> lost_;
  uint64_t lostClaims_ = 0;

  // The statements of the hot path, prepared once; their bound values live here.
  struct Hot;
  std::unique_ptr<Hot> hot_;
  std::mutex eventsMu_;
  std::vector<Event> pending_;
};

}  // namespace kefu::acd
