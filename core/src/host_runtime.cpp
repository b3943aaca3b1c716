// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/host_runtime.h"

#include <cstdlib>
#include <fstream>

#include <spdlog/spdlog.h>

#include "kefu/core/logging.h"

namespace kefu::core {

HostRuntime::HostRuntime(std::filesystem::path dataDir, std::unique_ptr<Clock> clock,
                         std::unique_ptr<StoreImpl> store, RunMode mode)
    : dataDir_(std::move(dataDir)),
      mode_(mode),
      clock_(std::move(clock)),
      store_(std::move(store)),
      events_(*clock_),
      router_(&metrics_) {}

HostRuntime::~HostRuntime() = default;

std::filesystem::path HostRuntime::resolvePath(std::string_view p) const {
  std::filesystem::path path(p);
  return path.is_absolute() ? path : (dataDir_ / path).lexically_normal();
}

Result<std::string> HostRuntime::secret(std::string_view reference) const {
  return readSecret(reference, dataDir_);
}

Result<std::string> readSecret(std::string_view reference, const std::filesystem::path& dataDir) {
  std::string ref(reference);
  if (ref.rfind("env:", 0) == 0) {
    const char* v = std::getenv(ref.substr(4).c_str());
    if (!v || !*v) return Status::notFound("environment variable " + ref.substr(4) + " is not set");
    return std::string(v);
  }
  if (ref.rfind("file:", 0) == 0) {
    std::filesystem::path path(ref.substr(5));
    if (!path.is_absolute()) path = dataDir / path;
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
      return Status::notFound("cannot read the secret file " + path.string());
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    return line;
  }
  return Status::invalidArgument("a secret must be given as \"env:NAME\" or \"file:PATH\"");
}

PluginContext::PluginContext(HostRuntime& rt, std::string name, ConfigValue config,
                             std::string logLevel)
    : rt_(rt), name_(std::move(name)), config_(std::move(config)),
      logger_(getLogger(name_, logLevel)) {}

PluginContext::~PluginContext() { revoke(); }

TimerId PluginContext::TrackedClock::callAt(TimePoint when, std::function<void()> fn) {
  std::lock_guard lock(mu);
  auto id = std::make_shared<TimerId>(0);
  if (revoked) return 0;
  TimerId real = c.rt_.clock().callAt(when, [this, id, fn = std::move(fn)] {
    {
      std::lock_guard inner(mu);
      if (revoked) return;
      pending.erase(*id);
      ++running;
    }
    fn();
    std::lock_guard inner(mu);
    if (--running == 0) idle.notify_all();
  });
  *id = real;
  pending.insert(real);
  return real;
}

bool PluginContext::TrackedClock::cancel(TimerId id) {
  {
    std::lock_guard lock(mu);
    pending.erase(id);
  }
  // Not under `mu`: the clock may wait for this timer's callback, whose wrapper takes `mu`.
  return c.rt_.clock().cancel(id);
}

void PluginContext::revoke() {
  {
    std::set<TimerId> pending;
    {
      std::lock_guard lock(clock_.mu);
      clock_.revoked = true;
      pending.swap(clock_.pending);
    }
    // Cancelling may wait for a running callback, whose wrapper takes `mu`: not under it.
    for (TimerId id : pending) rt_.clock().cancel(id);
    // A virtual clock runs callbacks on the caller's thread, so there is nothing to wait for.
    std::unique_lock lock(clock_.mu);
    if (!rt_.clock().isVirtual()) {
      clock_.idle.wait(lock, [&] { return clock_.running == 0; });
    }
  }
  rt_.events().removeOwner(name_);
  rt_.router().removeOwner(name_);
  rt_.cli().removeOwner(name_);
  rt_.services().removeOwner(name_);
}

}  // namespace kefu::core
