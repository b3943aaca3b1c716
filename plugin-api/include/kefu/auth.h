// SPDX-License-Identifier: Apache-2.0
//
// Roles and the audit trail.
//
// A Principal (http.h) carries role names. These are the roles of a service center; an
// Authenticator may grant other names, which routes can require like these. "admin" passes
// every role check.
//
// AuditLog is provided by the plugin that owns users (in tree: user-auth). The host records
// every state-changing API call through it (actor, method and route, status); plugins
// record the operator actions they perform themselves (a forced sign-out, a published
// article). Writes are synchronous: when record() returns OK, the entry is stored.
#pragma once

#include <chrono>
#include <string>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

namespace roles {
inline constexpr const char* kAgent = "agent";
inline constexpr const char* kTeamLead = "team_lead";
inline constexpr const char* kQa = "qa";
inline constexpr const char* kTrainer = "trainer";
inline constexpr const char* kWfmPlanner = "wfm_planner";
// Writes knowledge-base articles and FAQ entries; publishing needs a supervisor.
inline constexpr const char* kKbEditor = "kb_editor";
inline constexpr const char* kSupervisor = "supervisor";
inline constexpr const char* kAdmin = "admin";
}  // namespace roles

struct AuditEntry {
  // Who acted: a user id, "admin-token" for the host's administrator token, "anonymous"
  // for an unauthenticated caller, "cli" for the command line.
  std::string actor;
  // What was done, e.g. "POST /api/v1/agents/{id}/state" or "user.lock".
  std::string action;
  // What it was done to, e.g. the request path or a user id.
  std::string target;
  // Outcome and details; never a password, token or unmasked personal number.
  std::string detail;
  std::string remoteAddress;
  std::chrono::system_clock::time_point at{};  // set from the host clock when left empty
};

class AuditLog {
 public:
  static constexpr const char* kInterfaceName = "kefu.AuditLog/1";
  virtual ~AuditLog() = default;
  // Stores `entry`. Unavailable if the store cannot be written.
  virtual Status record(const AuditEntry& entry) = 0;
};

KEFU_SDK_NAMESPACE_END
