// SPDX-License-Identifier: Apache-2.0
//
// The host's implementations of the shared services behind HostContext: event bus,
// clocks, service registry, metrics and CLI registry. Each keeps track of which plugin
// registered what, so that everything a plugin registered can be withdrawn when it stops.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "kefu/cli.h"
#include "kefu/clock.h"
#include "kefu/events.h"
#include "kefu/metrics.h"
#include "kefu/services.h"

namespace kefu::core {

// The bus's subscription rule: `topic` is `prefix` or starts with `prefix` followed by '.';
// an empty prefix matches every topic.
bool topicMatchesPrefix(const std::string& prefix, const std::string& topic);

class EventBusImpl {
 public:
  EventBusImpl(const Clock& clock) : clock_(clock) {}
  void publish(Event event, const std::string& source);
  SubscriptionId subscribe(const std::string& owner, std::string prefix,
                           std::function<void(const Event&)> handler);
  // Ends a subscription of `owner` (any owner when empty). When it returns, the handler is
  // not running on another thread and will not be called again; a handler may end its own
  // subscription.
  bool unsubscribe(SubscriptionId id, const std::string& owner = "");
  // Ends all subscriptions of `owner`, with the same guarantee.
  void removeOwner(const std::string& owner);
  uint64_t published() const { return published_.load(); }

  struct Handler;

 private:
  struct Sub {
    SubscriptionId id;
    std::string owner;
    std::string prefix;
    std::shared_ptr<Handler> handler;
  };
  void retire(std::vector<std::shared_ptr<Handler>>& handlers);
  const Clock& clock_;
  mutable std::shared_mutex mu_;
  std::vector<Sub> subs_;
  SubscriptionId next_ = 1;
  std::atomic<uint64_t> published_{0};
};

// Timers kept in time order, shared by the real and the virtual clock.
class TimerQueue {
 public:
  TimerId add(Clock::TimePoint when, std::function<void()> fn);
  bool cancel(TimerId id);
  // Removes and returns the earliest timer due at or before `now`, if any.
  bool popDue(Clock::TimePoint now, std::function<void()>& fn, TimerId* id = nullptr);
  bool nextDue(Clock::TimePoint& when) const;
  size_t size() const { return byId_.size(); }

 private:
  std::multimap<Clock::TimePoint, std::pair<TimerId, std::function<void()>>> byTime_;
  std::map<TimerId, decltype(byTime_)::iterator> byId_;
  TimerId next_ = 1;
};

// Wall-clock time; timers fire on one scheduler thread.
class RealClock : public Clock {
 public:
  RealClock();
  ~RealClock() override;
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  bool isVirtual() const override { return false; }
  TimerId callAt(TimePoint when, std::function<void()> fn) override;
  // Also waits for the timer's callback if it is running on the scheduler right now (unless
  // called from that callback), so that the caller may free what the callback uses.
  bool cancel(TimerId id) override;
  // Stops the scheduler thread; pending timers are dropped.
  void shutdown();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_;
  TimerQueue timers_;
  TimerId running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

// Simulated time: nothing happens until the driver advances it. Timers run on the
// driver's thread inside advanceTo()/runNext().
class VirtualClock : public Clock {
 public:
  explicit VirtualClock(TimePoint start) : now_(start) {}
  TimePoint now() const override { return now_; }
  bool isVirtual() const override { return true; }
  TimerId callAt(TimePoint when, std::function<void()> fn) override;
  bool cancel(TimerId id) override;

  // Runs every timer due up to `t` in time order (timers added meanwhile included), then
  // sets the time to `t`. REQUIRES: t >= now().
  void advanceTo(TimePoint t);
  // Jumps to the next timer and runs it. Returns false when none is pending.
  bool runNext();
  size_t pending() const { return timers_.size(); }

 private:
  TimePoint now_;
  TimerQueue timers_;
};

class ServiceRegistryImpl {
 public:
  Status provide(const std::string& owner, std::string_view name, std::shared_ptr<void> impl);
  std::shared_ptr<void> find(std::string_view name) const;
  std::vector<std::string> names() const;
  void removeOwner(const std::string& owner);

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, std::pair<std::string, std::shared_ptr<void>>, std::less<>> entries_;
};

class MetricsRegistry : public Metrics {
 public:
  MetricsRegistry();
  ~MetricsRegistry() override;
  Counter& counter(const std::string& name, const std::string& help,
                   const MetricLabels& labels = {}) override;
  Gauge& gauge(const std::string& name, const std::string& help,
               const MetricLabels& labels = {}) override;
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& bounds,
                       const MetricLabels& labels = {}) override;

  // The Prometheus text exposition (version 0.0.4) of every instrument.
  std::string render() const;

  struct Instrument;
  struct Family;

 private:
  Instrument& get(const std::string& name, const std::string& help, const char* type,
                  const MetricLabels& labels, const std::vector<double>* bounds);
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

class CliRegistry {
 public:
  struct Entry {
    std::string owner;
    CliCommand command;
  };
  Status add(const std::string& owner, CliCommand command);
  void removeOwner(const std::string& owner);
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace kefu::core
