// SPDX-License-Identifier: Apache-2.0
//
// The host's logging set-up: one spdlog logger per plugin ("plugin name") plus "host",
// all writing to the same sinks (stderr, optionally a file), as text or JSON lines.
//
// Every message passes through a masking step (kefu::maskPersonalData) before it is
// written, so an ID-card, mobile or bank-card number that slips into a log line is not
// stored in clear.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace kefu::core {

struct LogOptions {
  std::string level = "info";
  bool json = false;
  std::filesystem::path file;  // empty: stderr only
};

// (Re)configures the sinks. Safe to call again; existing loggers keep working.
void initLogging(const LogOptions& options);

// Returns the logger named `name`, creating it on the shared sinks. `level` empty means
// the default level from initLogging().
std::shared_ptr<spdlog::logger> getLogger(const std::string& name, const std::string& level = "");

// The host's own logger.
spdlog::logger& hostLog();

}  // namespace kefu::core
