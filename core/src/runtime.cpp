// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/runtime.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "kefu/core/logging.h"

namespace kefu::core {

// ---- EventBusImpl ---------------------------------------------------------------------

bool topicMatchesPrefix(const std::string& prefix, const std::string& topic) {
  if (prefix.empty()) return true;
  if (topic.size() < prefix.size() || topic.compare(0, prefix.size(), prefix) != 0) return false;
  return topic.size() == prefix.size() || topic[prefix.size()] == '.';
}

// A handler with a count of the calls in progress, so that unsubscribing can wait for them:
// after a plugin stops, none of its code may run. `alive` and `inFlight` are sequentially
// consistent so that a publisher either sees the handler retired or is waited for.
struct EventBusImpl::Handler {
  std::string owner;
  std::function<void(const Event&)> fn;
  std::atomic<bool> alive{true};
  std::atomic<int> inFlight{0};
  std::mutex mu;
  std::condition_variable idle;
};

namespace {
// The handlers the current thread is inside of; a handler may unsubscribe itself without
// waiting for itself.
thread_local std::vector<const void*> tlsRunning;
}  // namespace

void EventBusImpl::publish(Event event, const std::string& source) {
  event.source = source;
  if (event.at == Clock::TimePoint{}) event.at = clock_.now();
  published_.fetch_add(1, std::memory_order_relaxed);

  // Copy the matching handlers so that a handler may (un)subscribe without deadlock.
  std::vector<std::shared_ptr<Handler>> hit;
  {
    std::shared_lock lock(mu_);
    for (const auto& s : subs_) {
      if (topicMatchesPrefix(s.prefix, event.topic)) hit.push_back(s.handler);
    }
  }
  for (auto& h : hit) {
    h->inFlight.fetch_add(1);
    if (h->alive.load()) {
      tlsRunning.push_back(h.get());
      try {
        h->fn(event);
      } catch (const std::exception& e) {
        hostLog().error("event handler of plugin '{}' threw on topic '{}': {}", h->owner,
                        event.topic, e.what());
      } catch (...) {
        hostLog().error("event handler of plugin '{}' threw on topic '{}'", h->owner,
                        event.topic);
      }
      tlsRunning.pop_back();
    }
    if (h->inFlight.fetch_sub(1) == 1) {
      std::lock_guard lock(h->mu);
      h->idle.notify_all();
    }
  }
}

SubscriptionId EventBusImpl::subscribe(const std::string& owner, std::string prefix,
                                       std::function<void(const Event&)> handler) {
  auto h = std::make_shared<Handler>();
  h->owner = owner;
  h->fn = std::move(handler);
  std::unique_lock lock(mu_);
  SubscriptionId id = next_++;
  subs_.push_back({id, owner, std::move(prefix), std::move(h)});
  return id;
}

void EventBusImpl::retire(std::vector<std::shared_ptr<Handler>>& handlers) {
  for (auto& h : handlers) {
    h->alive.store(false);
    // Calls on this thread (a handler unsubscribing itself) are not waited for.
    int own = static_cast<int>(std::count(tlsRunning.begin(), tlsRunning.end(), h.get()));
    std::unique_lock lock(h->mu);
    h->idle.wait(lock, [&] { return h->inFlight.load() <= own; });
  }
}

bool EventBusImpl::unsubscribe(SubscriptionId id, const std::string& owner) {
  std::vector<std::shared_ptr<Handler>> gone;
  {
    std::unique_lock lock(mu_);
    auto it = std::find_if(subs_.begin(), subs_.end(), [&](const Sub& s) {
      return s.id == id && (owner.empty() || s.owner == owner);
    });
    if (it == subs_.end()) return false;
    gone.push_back(it->handler);
    subs_.erase(it);
  }
  retire(gone);
  return true;
}

void EventBusImpl::removeOwner(const std::string& owner) {
  std::vector<std::shared_ptr<Handler>> gone;
  {
    std::unique_lock lock(mu_);
    for (const auto& s : subs_) {
      if (s.owner == owner) gone.push_back(s.handler);
    }
    std::erase_if(subs_, [&](const Sub& s) { return s.owner == owner; });
  }
  retire(gone);
}

// ---- Timers and clocks ----------------------------------------------------------------

TimerId TimerQueue::add(Clock::TimePoint when, std::function<void()> fn) {
  TimerId id = next_++;
  auto it = byTime_.emplace(when, std::make_pair(id, std::move(fn)));
  byId_.emplace(id, it);
  return id;
}

bool TimerQueue::cancel(TimerId id) {
  auto it = byId_.find(id);
  if (it == byId_.end()) return false;
  byTime_.erase(it->second);
  byId_.erase(it);
  return true;
}

bool TimerQueue::popDue(Clock::TimePoint now, std::function<void()>& fn, TimerId* id) {
  if (byTime_.empty() || byTime_.begin()->first > now) return false;
  auto it = byTime_.begin();
  fn = std::move(it->second.second);
  if (id) *id = it->second.first;
  byId_.erase(it->second.first);
  byTime_.erase(it);
  return true;
}

bool TimerQueue::nextDue(Clock::TimePoint& when) const {
  if (byTime_.empty()) return false;
  when = byTime_.begin()->first;
  return true;
}

namespace {
void runTimer(std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    hostLog().error("timer callback threw: {}", e.what());
  } catch (...) {
    hostLog().error("timer callback threw a non-standard exception");
  }
}
}  // namespace

RealClock::RealClock() : thread_([this] { run(); }) {}

RealClock::~RealClock() { shutdown(); }

void RealClock::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

TimerId RealClock::callAt(TimePoint when, std::function<void()> fn) {
  TimerId id;
  {
    std::lock_guard lock(mu_);
    id = timers_.add(when, std::move(fn));
  }
  cv_.notify_all();
  return id;
}

bool RealClock::cancel(TimerId id) {
  std::unique_lock lock(mu_);
  if (timers_.cancel(id)) return true;
  if (running_ == id && std::this_thread::get_id() != thread_.get_id()) {
    done_.wait(lock, [&] { return running_ != id; });
  }
  return false;
}

void RealClock::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    std::function<void()> fn;
    if (timers_.popDue(now(), fn, &running_)) {
      lock.unlock();
      runTimer(fn);
      fn = nullptr;  // release captures before anyone is told the callback is done
      lock.lock();
      running_ = 0;
      done_.notify_all();
      continue;
    }
    TimePoint next;
    if (timers_.nextDue(next)) {
      cv_.wait_until(lock, next);
    } else {
      cv_.wait(lock);
    }
  }
}

TimerId VirtualClock::callAt(TimePoint when, std::function<void()> fn) {
  return timers_.add(std::max(when, now_), std::move(fn));
}

bool VirtualClock::cancel(TimerId id) { return timers_.cancel(id); }

void VirtualClock::advanceTo(TimePoint t) {
  TimePoint next;
  while (timers_.nextDue(next) && next <= t) {
    now_ = next;
    std::function<void()> fn;
    timers_.popDue(now_, fn);
    runTimer(fn);
  }
  if (t > now_) now_ = t;
}

bool VirtualClock::runNext() {
  TimePoint next;
  if (!timers_.nextDue(next)) return false;
  advanceTo(next);
  return true;
}

// ---- ServiceRegistryImpl --------------------------------------------------------------

Status ServiceRegistryImpl::provide(const std::string& owner, std::string_view name,
                                    std::shared_ptr<void> impl) {
  std::unique_lock lock(mu_);
  if (!impl) return Status::invalidArgument("null service '" + std::string(name) + "'");
  auto it = entries_.find(name);
  if (it != entries_.end()) {
    return Status::alreadyExists("service '" + std::string(name) + "' is already provided by '" +
                                 it->second.first + "'; '" + owner + "' cannot provide it too");
  }
  entries_.emplace(std::string(name), std::make_pair(owner, std::move(impl)));
  return {};
}

std::shared_ptr<void> ServiceRegistryImpl::find(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.second;
}

std::vector<std::string> ServiceRegistryImpl::names() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [k, v] : entries_) out.push_back(k);
  return out;
}

void ServiceRegistryImpl::removeOwner(const std::string& owner) {
  std::unique_lock lock(mu_);
  std::erase_if(entries_, [&](const auto& e) { return e.second.first == owner; });
}

// ---- MetricsRegistry ------------------------------------------------------------------

struct MetricsRegistry::Instrument : Counter, Gauge, Histogram {
  std::atomic<double> value_{0};
  std::vector<double> bounds;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets;  // one per bound, plus +Inf
  std::atomic<uint64_t> count{0};

  void inc(double d) override { value_.fetch_add(d, std::memory_order_relaxed); }
  void set(double v) override { value_.store(v, std::memory_order_relaxed); }
  void add(double d) override { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const override { return value_.load(std::memory_order_relaxed); }
  void observe(double v) override {
    size_t i = std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin();
    buckets[i].fetch_add(1, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
    value_.fetch_add(v, std::memory_order_relaxed);
  }
};

struct MetricsRegistry::Family {
  std::string help;
  std::string type;
  std::map<std::string, std::unique_ptr<Instrument>> byLabels;
};

namespace {
bool validMetricName(const std::string& n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string escapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string labelText(const MetricLabels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!validMetricName(k) || k.find(':') != std::string::npos) {
      throw std::invalid_argument("invalid metric label name '" + k + "'");
    }
    out += out.empty() ? "" : ",";
    out += k + "=\"" + escapeLabel(v) + "\"";
  }
  return out;
}

std::string formatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  // Shortest text that reads back as the same double: 0.005, not 0.0050000000000000001.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}
}  // namespace

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Instrument& MetricsRegistry::get(const std::string& name,
                                                  const std::string& help, const char* type,
                                                  const MetricLabels& labels,
                                                  const std::vector<double>* bounds) {
  if (!validMetricName(name)) throw std::invalid_argument("invalid metric name '" + name + "'");
  std::string key = labelText(labels);
  std::lock_guard lock(mu_);
  auto& fam = families_[name];
  if (!fam) {
    fam = std::make_unique<Family>();
    fam->help = help;
    fam->type = type;
  } else if (fam->type != type) {
    throw std::invalid_argument("metric '" + name + "' is a " + fam->type + ", not a " + type);
  }
  auto& inst = fam->byLabels[key];
  if (!inst) {
    inst = std::make_unique<Instrument>();
    if (bounds) {
      if (!std::is_sorted(bounds->begin(), bounds->end())) {
        throw std::invalid_argument("histogram '" + name + "' bounds must increase");
      }
      inst->bounds = *bounds;
      inst->buckets = std::make_unique<std::atomic<uint64_t>[]>(bounds->size() + 1);
    }
  }
  return *inst;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const MetricLabels& labels) {
  return get(name, help, "counter", labels, nullptr);
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const MetricLabels& labels) {
  return get(name, help, "gauge", labels, nullptr);
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const std::vector<double>& bounds,
                                      const MetricLabels& labels) {
  return get(name, help, "histogram", labels, &bounds);
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + fam->help + "\n";
    out += "# TYPE " + name + " " + fam->type + "\n";
    for (const auto& [labels, inst] : fam->byLabels) {
      auto withLabels = [&](const std::string& metric, const std::string& extra) {
        std::string l = labels;
        if (!extra.empty()) l += (l.empty() ? "" : ",") + extra;
        return metric + (l.empty() ? "" : "{" + l + "}");
      };
      if (fam->type != "histogram") {
        out += withLabels(name, "") + " " + formatNumber(inst->value()) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= inst->bounds.size(); ++i) {
        cumulative += inst->buckets[i].load(std::memory_order_relaxed);
        std::string le = i < inst->bounds.size() ? formatNumber(inst->bounds[i]) : "+Inf";
        out += withLabels(name + "_bucket", "le=\"" + le + "\"") + " " +
               std::to_string(cumulative) + "\n";
      }
      out += withLabels(name + "_sum", "") + " " + formatNumber(inst->value()) + "\n";
      out += withLabels(name + "_count", "") + " " + std::to_string(inst->count.load()) + "\n";
    }
  }
  return out;
}

// ---- CliRegistry ----------------------------------------------------------------------

Status CliRegistry::add(const std::string& owner, CliCommand command) {
  static const char* kBuiltins[] = {"serve", "check", "plugins", "version", "help"};
  if (command.path.empty()) return Status::invalidArgument("CLI command without a name");
  for (const char* b : kBuiltins) {
    if (command.path.front() == b) {
      return Status::invalidArgument("CLI command '" + command.path.front() +
                                     "' would shadow a built-in command");
    }
  }
  if (!command.run) return Status::invalidArgument("CLI command without a handler");
  for (const auto& e : entries_) {
    if (e.command.path == command.path) {
      std::string p;
      for (const auto& w : command.path) p += (p.empty() ? "" : " ") + w;
      return Status::alreadyExists("CLI command '" + p + "' is already registered by '" +
                                   e.owner + "'");
    }
  }
  entries_.push_back({owner, std::move(command)});
  return {};
}

void CliRegistry::removeOwner(const std::string& owner) {
  std::erase_if(entries_, [&](const Entry& e) { return e.owner == owner; });
}

}  // namespace kefu::core
