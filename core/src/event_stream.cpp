// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/event_stream.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "kefu/core/logging.h"
#include "kefu/pii.h"

namespace kefu::core {

namespace {

// Ordered so that frames read topic first, and payloads keep the publisher's key order.
using Json = nlohmann::ordered_json;

constexpr size_t kMaxTopicPrefixes = 32;
constexpr size_t kMaxTopicLength = 128;

std::string isoUtcMillis(std::chrono::system_clock::time_point at) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto frac = static_cast<int>(ms % 1000);
  if (frac < 0) {  // before 1970: the remainder is negative
    frac += 1000;
    secs -= 1;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

// maskPersonalData goes by the shape of digit runs, so it is applied to every piece of text a
// payload has: string values, keys (a map keyed by phone number) and numbers (a mobile number
// published as an integer). Masking the serialized payload instead would turn such a number
// into invalid JSON.
void maskJson(Json& j) {
  switch (j.type()) {
    case Json::value_t::string:
      j = maskPersonalData(j.get_ref<const std::string&>());
      break;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      std::string text = j.dump();
      std::string masked = maskPersonalData(text);
      if (masked != text) j = masked;
      break;
    }
    case Json::value_t::array:
      for (auto& item : j) maskJson(item);
      break;
    case Json::value_t::object: {
      Json out = Json::object();
      for (auto it = j.begin(); it != j.end(); ++it) {
        maskJson(it.value());
        out[maskPersonalData(it.key())] = std::move(it.value());
      }
      j = std::move(out);
      break;
    }
    default:
      break;
  }
}

std::string dumpFrame(const Json& frame) {
  // A payload is not guaranteed to be valid UTF-8; replace bad bytes rather than throw.
  return frame.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool validTopicPrefix(std::string_view p) {
  if (p.empty() || p.size() > kMaxTopicLength || p.front() == '.' || p.back() == '.') {
    return false;
  }
  for (size_t i = 0; i < p.size(); ++i) {
    auto c = static_cast<unsigned char>(p[i]);
    bool ok = std::isalnum(c) || c == '_' || c == '-' || (c == '.' && p[i - 1] != '.');
    if (!ok) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// True when a comma-separated header value lists `token` (case-insensitive).
bool headerHasToken(const std::string& value, std::string_view token) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    std::string_view item = trim(std::string_view(value).substr(start, comma - start));
    if (item.size() == token.size() &&
        std::equal(item.begin(), item.end(), token.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
    start = comma + 1;
  }
  return false;
}

}  // namespace

std::string eventStreamFrame(const Event& event, bool mask) {
  Json payload = Json::parse(event.payload, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) payload = event.payload;
  if (mask) maskJson(payload);
  Json frame = Json::object();
  frame["topic"] = event.topic;
  frame["source"] = event.source;
  frame["at"] = isoUtcMillis(event.at);
  frame["payload"] = std::move(payload);
  return dumpFrame(frame);
}

std::string eventStreamDroppedFrame(uint64_t count) {
  Json frame = Json::object();
  frame["topic"] = "stream.dropped";
  frame["source"] = "host";
  frame["at"] = isoUtcMillis(std::chrono::system_clock::now());
  frame["payload"] = Json{{"count", count}};
  return dumpFrame(frame);
}

Result<std::vector<std::string>> parseTopicPrefixes(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    if (!validTopicPrefix(item)) {
      return Status::invalidArgument(
          "topics: '" + std::string(item.substr(0, kMaxTopicLength)) +
          "' is not a topic prefix (letters, digits, '_', '-', dot-separated; no wildcards)");
    }
    if (std::find(out.begin(), out.end(), item) == out.end()) out.emplace_back(item);
  }
  if (out.size() > kMaxTopicPrefixes) {
    return Status::invalidArgument("topics: at most " + std::to_string(kMaxTopicPrefixes) +
                                   " prefixes");
  }
  return out;
}

Status addEventStreamRoute(HttpRouter& router) {
  // Any authenticated principal may listen; what it sees is masked by role when it connects.
  return router.add(
      "host", "GET", kEventStreamPath,
      [](const HttpRequest& req) {
        if (auto topics = req.query.find("topics"); topics != req.query.end()) {
          auto parsed = parseTopicPrefixes(topics->second);
          if (!parsed) return HttpResponse::fromStatus(parsed.status());
        }
        if (req.method != "GET" || !headerHasToken(req.header("upgrade"), "websocket")) {
          auto r = HttpResponse::error(426, "upgrade_required",
                                       "this route is a WebSocket (Upgrade: websocket)");
          r.headers.emplace_back("Upgrade", "websocket");
          return r;
        }
        HttpResponse accept;
        accept.status = 101;
        accept.contentType.clear();
        return accept;
      },
      RouteOptions{});
}

WebSocketRoute eventStreamWebSocket(EventBusImpl& bus, Metrics& metrics) {
  // Created now so that /metrics shows them before the first client.
  Gauge& open = metrics.gauge("kefu_event_streams", "Open event stream WebSockets");
  Counter& dropped = metrics.counter("kefu_event_stream_dropped_total",
                                     "Events dropped because a stream client was too slow");
  WebSocketRoute route;
  route.maxQueuedFrames = 1000;
  route.droppedNotice = eventStreamDroppedFrame;
  route.open = [&bus, &open, &dropped](const HttpRequest& req,
                                       std::shared_ptr<WebSocketConnection> conn) {
    std::vector<std::string> topics;
    if (auto q = req.query.find("topics"); q != req.query.end()) {
      // The route has checked it; never fall back to every topic.
      auto parsed = parseTopicPrefixes(q->second);
      if (!parsed) throw std::invalid_argument(parsed.status().message());
      topics = std::move(*parsed);
    }
    bool mask = !req.principal.hasRole("admin") && !req.principal.hasRole("supervisor");
    // One prefix is the bus's own filter; several share one subscription and filter here, so
    // that the connection has exactly one subscription to end.
    std::string prefix = topics.size() == 1 ? topics.front() : "";
    if (topics.size() == 1) topics.clear();
    // Weak: the connection ends on its own schedule; the bus must not keep it alive.
    std::weak_ptr<WebSocketConnection> weak = conn;
    SubscriptionId id = bus.subscribe(
        "host", prefix, [weak, topics = std::move(topics), mask, &dropped](const Event& e) {
          if (!topics.empty() &&
              std::none_of(topics.begin(), topics.end(),
                           [&](const std::string& p) { return topicMatchesPrefix(p, e.topic); })) {
            return;
          }
          auto c = weak.lock();
          if (!c) return;
          // Only a copy on the publisher's thread; the writer formats it, if it is not dropped.
          if (c->send([e, mask] { return eventStreamFrame(e, mask); })) dropped.inc();
        });
    open.add(1);
    std::string who = req.principal.id;
    hostLog().debug("event stream opened by {} from {} (subscription {})", who,
                    req.remoteAddress, id);
    return std::function<void()>([&bus, &open, id, who] {
      bus.unsubscribe(id, "host");
      open.add(-1);
      hostLog().debug("event stream of {} closed (subscription {})", who, id);
    });
  };
  return route;
}

}  // namespace kefu::core
