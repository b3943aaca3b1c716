// SPDX-License-Identifier: Apache-2.0
//
// HostContext: everything the host offers one plugin. It is the plugin's only way into the
// host; a plugin keeps the reference it receives in configure() until its stop() returns.
//
// Each plugin gets its own context: its logger carries its name, its config is its own
// table, and whatever it registers (routes, commands, subscriptions, services) is withdrawn
// when it stops or fails.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "kefu/cli.h"
#include "kefu/clock.h"
#include "kefu/config.h"
#include "kefu/events.h"
#include "kefu/http.h"
#include "kefu/metrics.h"
#include "kefu/services.h"
#include "kefu/store.h"
#include "kefu/version.h"

namespace spdlog {
class logger;
}

KEFU_SDK_NAMESPACE_BEGIN

// Why the host is running plugins.
enum class RunMode {
  kServe,    // `kefu serve`: full service with the HTTP listener
  kCommand,  // a CLI subcommand: started, no HTTP listener
  kCheck,    // `kefu check` / `kefu plugins list`: configured only, nothing written
};

class HostContext {
 public:
  virtual ~HostContext() = default;

  // The plugin's name as in its descriptor and its [plugins.<name>] table.
  virtual const std::string& pluginName() const = 0;

  // kCommand may run beside a serving host on the same store: start() then does none of the
  // serving host's work (recovery, timers, purges); see plugin-guide.md.
  virtual RunMode mode() const = 0;

  // The plugin's logger, named after it, at the level set by its log_level key. Include
  // <spdlog/spdlog.h> to use it. Never log secrets or unmasked personal data.
  virtual spdlog::logger& logger() = 0;

  // The plugin's [plugins.<name>] table without the host's own keys (enabled, required,
  // log_level, file).
  virtual const ConfigValue& config() const = 0;

  virtual EventBus& events() = 0;
  virtual Store& store() = 0;
  virtual Clock& clock() = 0;
  virtual ServiceRegistry& services() = 0;
  virtual HttpRoutes& http() = 0;
  virtual CliCommands& cli() = 0;
  virtual Metrics& metrics() = 0;

  // The deployment's data directory (--data-dir, default the working directory).
  virtual const std::filesystem::path& dataDir() const = 0;

  // Resolves a path from the config: absolute paths stay, relative ones are taken from the
  // data directory.
  virtual std::filesystem::path resolvePath(std::string_view p) const = 0;

  // Reads a secret named by the config: "env:NAME" reads the environment variable NAME,
  // "file:PATH" reads the first line of PATH (relative to the data directory). NotFound if
  // it is missing; InvalidArgument for any other form, so a literal secret in the TOML is
  // refused.
  virtual Result<std::string> secret(std::string_view reference) const = 0;
};

KEFU_SDK_NAMESPACE_END
