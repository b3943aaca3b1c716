// SPDX-License-Identifier: Apache-2.0
//
// `kefu routing bench`: routing decisions per second of the real engine against a SQLite
// baseline that does the same job with one transaction per decision.
#pragma once

#include "kefu/sdk.h"

namespace kefu::acd {

CliCommand benchCommand(HostContext& ctx);

}  // namespace kefu::acd
