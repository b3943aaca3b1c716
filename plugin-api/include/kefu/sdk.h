// SPDX-License-Identifier: Apache-2.0
//
// Convenience header: everything a plugin author needs.
#pragma once

#include "kefu/auth.h"
#include "kefu/channel.h"
#include "kefu/cli.h"
#include "kefu/clock.h"
#include "kefu/config.h"
#include "kefu/events.h"
#include "kefu/export.h"
#include "kefu/host_context.h"
#include "kefu/http.h"
#include "kefu/knowledge.h"
#include "kefu/metrics.h"
#include "kefu/pii.h"
#include "kefu/plugin.h"
#include "kefu/services.h"
#include "kefu/status.h"
#include "kefu/store.h"
#include "kefu/version.h"
