// SPDX-License-Identifier: Apache-2.0
//
// LockedRouter: an AcdEngine behind a mutex, the form in which routing-acd offers its
// router to other plugins and threads.
#pragma once

#include <memory>
#include <mutex>

#include "acd_engine.h"

namespace kefu::acd {

// The engine behind a mutex, for callers on any thread.
class LockedRouter : public Router {
 public:
  explicit LockedRouter(std::unique_ptr<AcdEngine> engine) : engine_(std::move(engine)) {}
  void setListener(RoutingListener* l) override { with([&] { engine_->setListener(l); }); }
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

 private:
  template <class F>
  auto with(F&& f) const -> decltype(f()) {
    std::lock_guard lock(mu_);
    return f();
  }
  mutable std::mutex mu_;
  std::unique_ptr<AcdEngine> engine_;
};

}  // namespace kefu::acd
