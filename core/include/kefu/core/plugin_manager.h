// SPDX-License-Identifier: Apache-2.0
//
// PluginManager: turns the [plugins.*] tables of a deployment into running plugins.
//
//   load()       find files, open enabled plugins, check their config keys, order them
//                by dependency
//   configure()  create instances and call configure() in dependency order
//   migrate()    apply each plugin's schema migrations
//   start()      call start() in dependency order
//   stop()       call stop() in reverse order, withdraw registrations, destroy instances
//
// A plugin that fails at any step is marked failed with the step and the reason, its
// registrations are withdrawn and every plugin depending on it fails too; the others go on.
// If a failed plugin is marked `required`, fatal() becomes true and the host refuses to run.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kefu/core/config_loader.h"
#include "kefu/core/plugin_loader.h"
#include "kefu/host_context.h"

namespace kefu::core {

class HostRuntime;
class PluginContext;

enum class PluginState { kLoaded, kDisabled, kFailed };
const char* pluginStateName(PluginState s);

struct PluginRecord {
  std::string name;
  std::filesystem::path file;
  PluginState state = PluginState::kDisabled;
  bool enabled = false;
  bool required = false;
  std::string error;  // why it failed: "<step>: <reason>"
  LoadError loadError = LoadError::kNone;
  PluginLibrary library;  // empty when not opened

  // Runtime.
  Plugin* instance = nullptr;
  std::unique_ptr<PluginContext> context;
  bool started = false;

  std::string version() const { return library.descriptor ? library.descriptor->version : ""; }
  const PluginInfo* info() const { return library.info; }
};

struct PluginManagerOptions {
  RunMode mode = RunMode::kServe;
  // Searched before the configured or default directories (--plugin-dir, KEFU_PLUGIN_PATH).
  std::vector<std::filesystem::path> extraDirs;
  // Open disabled plugins too, to show their metadata (`kefu plugins list`).
  bool inspectDisabled = false;
};

class PluginManager {
 public:
  PluginManager(const Deployment& deployment, HostRuntime& runtime,
                PluginManagerOptions options);
  ~PluginManager();

  // Appends configuration errors (unknown plugin, unknown key, wrong type) to `errors`.
  void load(std::vector<ConfigError>& errors);
  void configure();
  void migrate();
  void start();
  void stop();

  bool fatal() const { return !fatalReason_.empty(); }
  const std::string& fatalReason() const { return fatalReason_; }

  // All records: configured plugins first in start order, then the rest by name.
  const std::vector<std::unique_ptr<PluginRecord>>& records() const { return records_; }
  const std::vector<std::filesystem::path>& searchDirs() const { return dirs_; }

 private:
  void fail(PluginRecord& r, const std::string& step, const std::string& reason);
  void failDependents();
  void order();
  bool runStep(PluginRecord& r, const char* step, const std::function<Status()>& fn);
  void release(PluginRecord& r);

  const Deployment& deployment_;
  HostRuntime& runtime_;
  PluginManagerOptions options_;
  std::vector<std::filesystem::path> dirs_;
  std::vector<std::unique_ptr<PluginRecord>> records_;
  std::string fatalReason_;
};

}  // namespace kefu::core
