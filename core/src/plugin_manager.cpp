// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/plugin_manager.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "kefu/core/host_runtime.h"
#include "kefu/core/logging.h"

namespace kefu::core {

const char* pluginStateName(PluginState s) {
  switch (s) {
    case PluginState::kLoaded: return "loaded";
    case PluginState::kDisabled: return "disabled";
    case PluginState::kFailed: return "failed";
  }
  return "?";
}

PluginManager::PluginManager(const Deployment& deployment, HostRuntime& runtime,
                             PluginManagerOptions options)
    : deployment_(deployment), runtime_(runtime), options_(std::move(options)) {}

PluginManager::~PluginManager() { stop(); }

void PluginManager::fail(PluginRecord& r, const std::string& step, const std::string& reason) {
  if (r.state == PluginState::kFailed) return;
  r.state = PluginState::kFailed;
  r.error = step + ": " + reason;
  hostLog().error("plugin '{}' ({}) failed to {}: {}", r.name, r.file.string(), step, reason);
  if (r.required && fatalReason_.empty()) {
    fatalReason_ = "required plugin '" + r.name + "' failed to " + step + ": " + reason;
  }
}

void PluginManager::load(std::vector<ConfigError>& errors) {
  // Where to look: command line and environment first, then the deployment's directories
  // or, when it names none, the directory beside the executable.
  dirs_ = options_.extraDirs;
  if (const char* env = std::getenv("KEFU_PLUGIN_PATH")) {
    std::string s = env;
    size_t start = 0;
    while (start <= s.size()) {
      size_t colon = s.find(':', start);
      std::string part = s.substr(start, colon == std::string::npos ? std::string::npos
                                                                     : colon - start);
      // Like --plugin-dir, relative entries are taken from the working directory.
      if (!part.empty()) dirs_.push_back(std::filesystem::absolute(part));
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
  if (deployment_.host.pluginDirs.empty()) {
    dirs_.push_back(defaultPluginDir());
  } else {
    for (const auto& d : deployment_.host.pluginDirs) dirs_.push_back(runtime_.resolvePath(d));
  }
  std::vector<std::string> shadowed;
  auto found = scanPluginDirs(dirs_, &shadowed);
  for (const auto& s : shadowed) hostLog().warn("plugin file {}", s);

  std::string searched;
  for (const auto& d : dirs_) searched += (searched.empty() ? "" : ", ") + d.string();

  // One record per configured plugin, then one per file nobody configured (disabled).
  std::set<std::string> configured;
  for (const auto& ps : deployment_.plugins) {
    configured.insert(ps.name);
    auto rec = std::make_unique<PluginRecord>();
    rec->name = ps.name;
    rec->enabled = ps.enabled;
    rec->required = ps.required;
    if (!ps.file.empty()) {
      rec->file = runtime_.resolvePath(ps.file);
    } else if (auto it = found.find(ps.name); it != found.end()) {
      rec->file = it->second;
    } else {
      errors.push_back({ps.pos, "plugins." + ps.name,
                        "unknown plugin (no kefu-" + ps.name + ".so in " + searched + ")"});
      rec->state = PluginState::kFailed;
      rec->loadError = LoadError::kNotFound;
      rec->error = "load: no kefu-" + ps.name + ".so in " + searched;
      records_.push_back(std::move(rec));
      continue;
    }
    records_.push_back(std::move(rec));
  }
  for (const auto& [name, file] : found) {
    if (configured.count(name)) continue;
    auto rec = std::make_unique<PluginRecord>();
    rec->name = name;
    rec->file = file;
    records_.push_back(std::move(rec));
  }

  // Open enabled plugins (and, for listings, the others too).
  for (auto& rec : records_) {
    if (rec->loadError != LoadError::kNone) continue;
    if (!rec->enabled && !options_.inspectDisabled) continue;
    OpenResult opened = openPlugin(rec->file, rec->name);
    if (opened.error != LoadError::kNone) {
      rec->loadError = opened.error;
      if (rec->enabled) {
        fail(*rec, "load", opened.message);
      } else {
        rec->error = "load: " + opened.message;
      }
      continue;
    }
    rec->library = std::move(opened.library);
    if (rec->enabled) rec->state = PluginState::kLoaded;
  }

  // Check each enabled plugin's keys against what it declares. A disabled plugin's table is
  // not read by anyone, and its code is not opened to check it (listings excepted).
  for (auto& rec : records_) {
    const PluginSection* ps = deployment_.plugin(rec->name);
    if (!ps || !rec->info() || !rec->enabled) continue;
    const auto& keys = rec->info()->configKeys;
    std::string accepted = "enabled, required, log_level, file";
    for (const auto& k : keys) accepted += ", " + k.name;
    for (const auto& [k, v] : ps->table.asTable()) {
      auto it = std::find_if(keys.begin(), keys.end(),
                             [&](const ConfigKey& ck) { return ck.name == k; });
      if (it == keys.end()) {
        errors.push_back({v.pos(), v.path(),
                          "unknown key for plugin '" + rec->name + "' (accepted: " + accepted +
                              ")"});
      } else if (!v.hasType(it->type)) {
        errors.push_back({v.pos(), v.path(),
                          std::string("expected ") + configTypeName(it->type)});
      }
    }
    for (const auto& k : keys) {
      if (k.required && !ps->table.has(k.name)) {
        errors.push_back({ps->pos, "plugins." + rec->name + "." + k.name,
                          "required key is missing (" + k.description + ")"});
      }
    }
  }

  order();
}

void PluginManager::order() {
  // Dependencies name plugins, kinds or interfaces; each must resolve to an enabled plugin.
  auto providerOf = [&](const std::string& dep) -> PluginRecord* {
    for (auto& r : records_) {
      if (!r->enabled || !r->info()) continue;
      if (r->name == dep) return r.get();
      const auto& p = r->info()->provides;
      const auto& k = r->info()->kinds;
      if (std::find(p.begin(), p.end(), dep) != p.end()) return r.get();
      if (std::find(k.begin(), k.end(), dep) != k.end()) return r.get();
    }
    return nullptr;
  };
  std::map<PluginRecord*, std::vector<PluginRecord*>> deps;
  for (auto& r : records_) {
    if (r->state != PluginState::kLoaded) continue;
    for (const auto& d : r->info()->depends) {
      PluginRecord* p = providerOf(d);
      if (!p) {
        fail(*r, "resolve dependencies",
             "depends on '" + d + "', which no enabled plugin provides");
      } else if (p != r.get()) {
        deps[r.get()].push_back(p);
      }
    }
  }

  // Depth-first topological order; a cycle fails every plugin on it.
  std::vector<PluginRecord*> ordered;
  std::map<PluginRecord*, int> mark;  // 1 = visiting, 2 = done
  std::vector<PluginRecord*> stack;
  std::function<void(PluginRecord*)> visit = [&](PluginRecord* r) {
    if (mark[r] == 2) return;
    if (mark[r] == 1) {
      std::string cycle;
      auto it = std::find(stack.begin(), stack.end(), r);
      for (auto i = it; i != stack.end(); ++i) cycle += (*i)->name + " -> ";
      cycle += r->name;
      for (auto i = it; i != stack.end(); ++i) fail(**i, "resolve dependencies",
                                                     "dependency cycle: " + cycle);
      return;
    }
    mark[r] = 1;
    stack.push_back(r);
    for (PluginRecord* d : deps[r]) visit(d);
    stack.pop_back();
    mark[r] = 2;
    ordered.push_back(r);
  };
  std::vector<PluginRecord*> byName;
  for (auto& r : records_) {
    if (r->enabled && r->info()) byName.push_back(r.get());
  }
  std::sort(byName.begin(), byName.end(),
            [](auto* a, auto* b) { return a->name < b->name; });
  for (auto* r : byName) visit(r);

  // Records in start order first, then the rest by name.
  std::vector<std::unique_ptr<PluginRecord>> sorted;
  for (PluginRecord* r : ordered) {
    auto it = std::find_if(records_.begin(), records_.end(),
                           [&](const auto& u) { return u.get() == r; });
    sorted.push_back(std::move(*it));
  }
  std::erase_if(records_, [](const auto& u) { return !u; });
  std::sort(records_.begin(), records_.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  for (auto& r : records_) sorted.push_back(std::move(r));
  records_ = std::move(sorted);
  failDependents();
}

void PluginManager::failDependents() {
  // A dependency is met while some running (not failed) enabled plugin provides it. Repeat
  // until stable: a failure can cascade through several levels.
  auto provided = [&](const std::string& dep, const PluginRecord* self) {
    for (const auto& other : records_) {
      if (other.get() == self || !other->enabled || !other->info() ||
          other->state != PluginState::kLoaded) {
        continue;
      }
      const auto& p = other->info()->provides;
      const auto& k = other->info()->kinds;
      if (other->name == dep || std::find(p.begin(), p.end(), dep) != p.end() ||
          std::find(k.begin(), k.end(), dep) != k.end()) {
        return true;
      }
    }
    return false;
  };
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& r : records_) {
      if (r->state != PluginState::kLoaded || !r->info()) continue;
      for (const auto& d : r->info()->depends) {
        if (provided(d, r.get())) continue;
        // Stop it first if it runs, so it does not hold on to the failed provider.
        if (r->started) {
          try {
            r->instance->stop();
          } catch (...) {
          }
          r->started = false;
        }
        release(*r);
        fail(*r, "resolve dependencies", "its dependency '" + d + "' is not running");
        changed = true;
        break;
      }
    }
  }
}

bool PluginManager::runStep(PluginRecord& r, const char* step, const std::function<Status()>& fn) {
  std::string reason;
  try {
    Status s = fn();
    if (s.ok()) return true;
    reason = s.message();
  } catch (const std::exception& e) {
    reason = std::string("threw ") + e.what();
  } catch (...) {
    reason = "threw a non-standard exception";
  }
  if (r.started) {
    try {
      r.instance->stop();
    } catch (...) {
    }
    r.started = false;
  }
  release(r);
  fail(r, step, reason);
  failDependents();
  return false;
}

void PluginManager::release(PluginRecord& r) {
  if (r.context) r.context->revoke();
  if (r.instance) {
    r.library.descriptor->destroy(r.instance);
    r.instance = nullptr;
  }
  r.context.reset();
}

void PluginManager::configure() {
  for (auto& rp : records_) {
    PluginRecord& r = *rp;
    if (r.state != PluginState::kLoaded || r.instance) continue;
    const PluginSection* ps = deployment_.plugin(r.name);
    r.context = std::make_unique<PluginContext>(runtime_, r.name, ps->table, ps->logLevel);
    runStep(r, "configure", [&]() -> Status {
      r.instance = r.library.descriptor->create();
      if (!r.instance) return Status::internal("the plugin factory returned null");
      return r.instance->configure(*r.context);
    });
  }
}

void PluginManager::migrate() {
  for (auto& rp : records_) {
    PluginRecord& r = *rp;
    if (r.state != PluginState::kLoaded || !r.instance) continue;
    runStep(r, "migrate its schema", [&]() -> Status {
      return runtime_.store().migrate(r.name, r.instance->migrations());
    });
  }
}

void PluginManager::start() {
  for (auto& rp : records_) {
    PluginRecord& r = *rp;
    if (r.state != PluginState::kLoaded || !r.instance || r.started) continue;
    bool ok = runStep(r, "start", [&]() -> Status {
      Status s = r.instance->start();
      if (s.ok()) r.started = true;
      return s;
    });
    if (ok) hostLog().info("plugin '{}' {} started", r.name, r.version());
  }
}

void PluginManager::stop() {
  // Reverse start order; a plugin's stop() must not throw, but one that does is logged and
  // its libraries are still released after every instance is gone.
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    PluginRecord& r = **it;
    if (r.started) {
      try {
        r.instance->stop();
      } catch (const std::exception& e) {
        hostLog().error("plugin '{}' threw while stopping: {}", r.name, e.what());
      } catch (...) {
        hostLog().error("plugin '{}' threw while stopping", r.name);
      }
      r.started = false;
      hostLog().info("plugin '{}' stopped", r.name);
    }
    release(r);
  }
}

}  // namespace kefu::core
