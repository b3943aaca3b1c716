// SPDX-License-Identifier: Apache-2.0
//
// Host: one run of the kefu executable over a deployment — check it, list its plugins,
// serve it, or run a plugin's CLI command.
//
//   Host host(options);
//   if (!host.prepare(RunMode::kServe, std::cerr)) return 2;   // config + plugins configured
//   if (!host.startPlugins(std::cerr)) return 1;              // migrations + start
//   return host.serve(std::cout, std::cerr);                  // until SIGTERM / SIGINT
#pragma once

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "kefu/core/config_loader.h"
#include "kefu/core/host_runtime.h"
#include "kefu/core/plugin_manager.h"

namespace kefu::core {

struct HostOptions {
  std::filesystem::path config;
  std::filesystem::path dataDir = ".";
  std::vector<std::filesystem::path> pluginDirs;
  std::string listen;  // overrides [http] listen
  bool inspectDisabled = false;
};

class HttpServer;

class Host {
 public:
  explicit Host(HostOptions options);
  ~Host();

  // Loads and checks the deployment, sets up logging, the store and the plugins, and
  // configures them. Prints every configuration error to `err` and returns false if there
  // was any (or a required plugin failed).
  bool prepare(RunMode mode, std::ostream& err);

  // Applies migrations and starts the plugins. False if a required plugin failed.
  bool startPlugins(std::ostream& err);

  // Opens the HTTP listener and serves until SIGTERM or SIGINT, then shuts down
  // gracefully. The caller must have blocked both signals in every thread (see
  // blockShutdownSignals()) before any thread was created. Returns the exit code.
  int serve(std::ostream& out, std::ostream& err);

  // Creates or reads the administrator token and adds the host's own routes (/healthz,
  // /metrics, /api/v1/plugins, /api/v1/events/stream), the authenticator and the auditor to
  // the router. serve() calls it; tests call it to drive the router in process. False (with
  // the reason on `err`) if the token file cannot be written.
  bool setUpHttp(std::ostream& err);

  // Takes <data-dir>/kefu.lock so that a second host on the same data directory is
  // refused. False (reason on `err`) if another process holds it.
  bool lockDataDir(std::ostream& err);

  // Stops the plugins in reverse order (also done by the destructor).
  void stopPlugins();

  const std::vector<ConfigError>& errors() const { return errors_; }
  const Deployment& deployment() const { return loaded_.deployment; }
  PluginManager& plugins() { return *plugins_; }
  HostRuntime& runtime() { return *runtime_; }

  // JSON array describing every plugin record (used by the API and `plugins list --json`).
  std::string pluginsJson() const;

  // Blocks SIGTERM and SIGINT in the calling thread (and the threads it creates later).
  static void blockShutdownSignals();

 private:
  void registerCoreRoutes();
  bool setUpAdminToken(std::ostream& err);

  HostOptions options_;
  LoadedDeployment loaded_;
  std::vector<ConfigError> errors_;
  std::unique_ptr<HostRuntime> runtime_;
  std::unique_ptr<PluginManager> plugins_;
  std::unique_ptr<HttpServer> server_;
  std::string adminToken_;
  int lockFd_ = -1;
  std::chrono::steady_clock::time_point startedAt_ = std::chrono::steady_clock::now();
};

}  // namespace kefu::core
