// SPDX-License-Identifier: Apache-2.0
//
// LockedRouter: an AcdEngine behind a mutex, the form in which routing-acd offers its
// router to other plugins and threads.
#pragma once

#include <memory>
#include <functional>
#include <mutex>

#include "acd_engine.h"

namespace kefu::acd {

// The engine behind a mutex, for callers on any thread.
class LockedRouter : public Router {
 public:
  explicit LockedRouter(std::unique_ptr<AcdEngine> engine) : engine_(std::move(engine)) {}
  void setListener(RoutingListener* l) { with([&] { engine_->setListener(l); }); }
  // Runs after every call, once the lock is released: the listener's deferred work (bus
  // events) happens there, so that an event handler may call the router again.
  void setAfterUnlock(std::function<void()> fn) { afterUnlock_ = std::move(fn); }
  // Runs at the end of every call, still under the lock, with the engine: the listener's
  // follow-up engine work (withdrawing contacts another host claimed first).
  void setSettle(std::function<void(AcdEngine&)> fn) {
    std::lock_guard lock(mu_);
    settle_ = std::move(fn);
  }
  Status defineQueue(const QueueSpec& q) override {
    return with([&] { return engine_->defineQueue(q); });
  }
  Status defineAgent(const AgentSpec& a) override {
    return with([&] { return engine_->defineAgent(a); });
  }
  Status signIn(const std::string& id, TimePoint at) override {
    return with([&] { return engine_->signIn(id, at); });
  }
  Status signOut(const std::string& id, TimePoint at) override {
    return with([&] { return engine_->signOut(id, at); });
  }
  Status setReady(const std::string& id, TimePoint at) override {
    return with([&] { return engine_->setReady(id, at); });
  }
  Status setAway(const std::string& id, const std::string& r, TimePoint at) override {
    return with([&] { return engine_->setAway(id, r, at); });
  }
  Status enqueue(const ContactSpec& c) override {
    return with([&] { return engine_->enqueue(c); });
  }
  Status release(const std::string& id, TimePoint at) override {
    return with([&] { return engine_->release(id, at); });
  }
  Status abandon(const std::string& id, TimePoint at) override {
    return with([&] { return engine_->abandon(id, at); });
  }
  Status endWrapUp(const std::string& id, TimePoint at) override {
    return with([&] { return engine_->endWrapUp(id, at); });
  }
  std::optional<TimePoint> advance(TimePoint now) override {
    return with([&] { return engine_->advance(now); });
  }
  Result<AgentState> agentState(const std::string& id) const override {
    return with([&] { return engine_->agentState(id); });
  }
  Result<QueueStats> queueStats(const std::string& q, TimePoint now) const override {
    return with([&] { return engine_->queueStats(q, now); });
  }

 public:
  // Runs `f(engine)` under the router's lock, for a caller that must pair several engine
  // calls with its own work atomically (the ContactDesk's transactions).
  template <class F>
  auto locked(F&& f) -> decltype(f(std::declval<AcdEngine&>())) {
    Unlocked after(*this);
    std::lock_guard lock(mu_);
    Settled settled(*this);
    return f(*engine_);
  }

 private:
  // Destroyed after the lock guard declared after it: calls afterUnlock_ unlocked.
  struct Unlocked {
    const LockedRouter& r;
    explicit Unlocked(const LockedRouter& router) : r(router) {}
    ~Unlocked() {
      if (r.afterUnlock_) r.afterUnlock_();
    }
  };

  template <class F>
  auto with(F&& f) const -> decltype(f()) {
    Unlocked after(*this);
    std::lock_guard lock(mu_);
    Settled settled(*this);
    return f();
  }
  // Destroyed before the lock guard declared before it: runs settle_ locked.
  struct Settled {
    const LockedRouter& r;
    explicit Settled(const LockedRouter& router) : r(router) {}
    ~Settled() {
      if (!r.settle_) return;
      try {
        r.settle_(*r.engine_);
      } catch (...) {
        // The settle hook reports its own failures; a destructor must not throw.
      }
    }
  };
  std::function<void()> afterUnlock_;
  std::function<void(AcdEngine&)> settle_;
  mutable std::mutex mu_;
  std::unique_ptr<AcdEngine> engine_;
};

}  // namespace kefu::acd
