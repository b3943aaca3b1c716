// SPDX-License-Identifier: Apache-2.0
//
// Reading queues and agents of the routing-acd plugin from its config table.
#pragma once

#include <string>
#include <vector>

#include "kefu/config.h"
#include "kefu/routing.h"

namespace kefu::acd {

// Parses [[plugins.routing-acd.queues]] tables; errors point at the offending key.
Status parseQueues(const ConfigValue& cfg, std::vector<QueueSpec>& out);
// Parses [[plugins.routing-acd.agents]] tables.
Status parseAgents(const ConfigValue& cfg, std::vector<AgentSpec>& out);

}  // namespace kefu::acd
