// SPDX-License-Identifier: Apache-2.0
//
// Loading and validating a deployment file.
//
// A deployment is one TOML file:
//
//   [host]    name, plugin_dirs, shutdown_timeout_ms
//   [log]     level, format ("text" | "json"), file
//   [store]   url, password, synchronous, busy_timeout_ms
//   [http]    listen, threads, max_body_bytes, token_file
//   [plugins.<name>]  enabled, required, log_level, file, and the plugin's own keys
//
// loadDeployment() checks the host's own tables completely; plugin keys are checked later
// against each plugin's declared ConfigKey list (PluginManager), with the same error form:
// "file:line:column: key: reason". All errors are collected, not just the first.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kefu/config.h"

namespace kefu::core {

struct ConfigError {
  SourcePos pos;
  std::string key;
  std::string reason;

  std::string toString() const { return pos.toString() + ": " + key + ": " + reason; }
};

struct HostSection {
  std::string name = "kefu";
  // Replaces the default plugin directory (<prefix>/lib/kefu/plugins next to the
  // executable) when non-empty. Relative entries resolve against the data directory.
  std::vector<std::string> pluginDirs;
  int shutdownTimeoutMs = 10000;
};

struct LogSection {
  std::string level = "info";
  std::string format = "text";  // or "json": one JSON object per line
  std::string file;             // empty: stderr only
};

struct StoreSection {
  // sqlite://PATH (relative to the data directory) or postgresql://user@host:port/db
  std::string url = "sqlite://kefu.db";
  // Secret reference for the database password: "env:NAME" or "file:PATH".
  std::string password;
  std::string synchronous = "normal";  // SQLite: "normal" (crash-safe) or "full" (power loss)
  int busyTimeoutMs = 5000;
  SourcePos urlPos;
};

struct HttpSection {
  std::string listen = "127.0.0.1:8080";
  int threads = 2;
  int64_t maxBodyBytes = 1 << 20;
  // Where the host keeps its administrator bearer token (created on first start, mode 0600).
  std::string tokenFile = "admin.token";
};

struct PluginSection {
  std::string name;
  bool enabled = false;
  bool required = false;
  std::string logLevel;  // empty: the [log] level
  std::string file;      // explicit .so path, bypassing the plugin directories
  SourcePos pos;
  // The plugin's own keys (host keys removed).
  ConfigValue table;
};

struct Deployment {
  std::filesystem::path file;
  HostSection host;
  LogSection log;
  StoreSection store;
  HttpSection http;
  std::vector<PluginSection> plugins;

  const PluginSection* plugin(std::string_view name) const {
    for (const auto& p : plugins) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
};

struct LoadedDeployment {
  Deployment deployment;
  std::vector<ConfigError> errors;
  bool ok() const { return errors.empty(); }
};

// Parses and checks `file`. Never throws for bad content; errors name file, line, column
// and key. A missing or unreadable file is one error at "<file>".
LoadedDeployment loadDeployment(const std::filesystem::path& file);

// Parses a TOML document into a ConfigValue tree (used for plugin-side data files too).
// Returns the errors instead when it does not parse.
struct ParsedToml {
  ConfigValue root;
  std::vector<ConfigError> errors;
};
ParsedToml parseTomlFile(const std::filesystem::path& file);

// The valid log levels: trace, debug, info, warn, error, critical, off.
bool isLogLevel(std::string_view level);

}  // namespace kefu::core
