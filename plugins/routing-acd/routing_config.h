// SPDX-License-Identifier: Apache-2.0
//
// Reading queues and agents of the routing-acd plugin from its config table.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kefu/config.h"
#include "kefu/routing.h"
#include "service_hours.h"

namespace kefu::acd {

// Parses [[plugins.routing-acd.queues]] tables; errors point at the offending key.
// `hours` receives each queue's service hours and closed action (7x24 when not configured).
Status parseQueues(const ConfigValue& cfg, std::vector<QueueSpec>& out,
                   std::map<std::string, QueueHours>& hours);
// Parses [[plugins.routing-acd.agents]] tables.
Status parseAgents(const ConfigValue& cfg, std::vector<AgentSpec>& out);

}  // namespace kefu::acd
