// SPDX-License-Identifier: Apache-2.0
//
// The live event stream: GET /api/v1/events/stream upgraded to a WebSocket, over which agent
// desktops and wallboards receive the event bus as it happens.
//
// The route is an ordinary router route (owner "host"), so it is authenticated, counted and
// refused exactly like every other /api/v1 route; HttpServer does the upgrade when the route
// answers 101. Each connection has its own bus subscription, owned by "host" and ended when
// the connection ends. The bus handler only copies the event into the connection's bounded
// queue: formatting and masking happen on the connection's strand, so a slow client never
// slows the publisher.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/core/http_router.h"
#include "kefu/core/http_server.h"
#include "kefu/core/runtime.h"
#include "kefu/events.h"
#include "kefu/metrics.h"

namespace kefu::core {

inline constexpr const char* kEventStreamPath = "/api/v1/events/stream";

// One event as a text frame: {"topic","source","at","payload"} with `at` in ISO-8601 UTC with
// milliseconds and `payload` the published JSON, or the published text as a JSON string when
// it is not JSON. With `mask`, every string, object key and number in the payload passes
// through kefu::maskPersonalData (a number that changes becomes a string).
std::string eventStreamFrame(const Event& event, bool mask);

// {"topic":"stream.dropped","source":"host","at":...,"payload":{"count":N}}: N events were
// dropped here because the client did not keep up.
std::string eventStreamDroppedFrame(uint64_t count);

// Parses the `topics` query parameter: comma-separated topic prefixes as the bus understands
// them ("agent" is agent and agent.*). Empty means every topic (an empty vector).
// InvalidArgument for anything that is not a topic name.
Result<std::vector<std::string>> parseTopicPrefixes(std::string_view text);

// Adds the stream's route to `router`: it checks the query and answers 101 to a WebSocket
// upgrade request, 426 to anything else.
Status addEventStreamRoute(HttpRouter& router);

// The WebSocket side, for HttpServer::addWebSocket(kEventStreamPath, ...). Keeps the gauge
// kefu_event_streams and the counter kefu_event_stream_dropped_total in `metrics`.
WebSocketRoute eventStreamWebSocket(EventBusImpl& bus, Metrics& metrics);

}  // namespace kefu::core
