// SPDX-License-Identifier: Apache-2.0
//
// HTTP routes that plugins add to the host's server.
//
// The host owns the listener, TLS termination in front of it is the deployment's business.
// A route is a method plus a path pattern whose segments may be parameters:
//
//   ctx.http().add("GET", "/api/v1/journal/events/{id}",
//                  [this](const kefu::HttpRequest& req) {
//                    auto id = req.params.at("id");
//                    ...
//                    return kefu::HttpResponse::json(200, body);
//                  });
//
// Every route is authenticated unless RouteOptions::authenticated is false, and may further
// require one of a set of roles; the host answers 401/403 before the handler runs. Routes of
// a plugin disappear when it stops.
//
// Threading: handlers run on the server's worker threads, possibly concurrently; they must
// be thread-safe and should not block for long (a slow handler holds a worker).
#pragma once

#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

// Who made an authenticated request.
struct Principal {
  std::string id;
  std::vector<std::string> roles;

  bool hasRole(std::string_view role) const {
    for (const auto& r : roles) {
      if (r == role) return true;
    }
    return false;
  }
};

struct HttpRequest {
  std::string method;  // upper case
  std::string path;    // decoded path without the query string
  std::map<std::string, std::string> query;   // decoded query parameters (last one wins)
  std::map<std::string, std::string> params;  // values of {name} segments of the pattern
  std::map<std::string, std::string> headers;  // header names in lower case
  std::string body;
  std::string remoteAddress;
  // Set for authenticated routes; empty id on public ones.
  Principal principal;

  // Returns the token of an "Authorization: Bearer <token>" header (the scheme in any case,
  // surrounding spaces ignored), or "" when there is none.
  std::string bearerToken() const {
    std::string h = header("authorization");
    size_t start = h.find_first_not_of(' ');
    if (start == std::string::npos || h.size() - start < 7) return "";
    std::string scheme = h.substr(start, 6);
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "bearer" || h[start + 6] != ' ') return "";
    size_t b = h.find_first_not_of(' ', start + 7);
    size_t e = h.find_last_not_of(' ');
    return b == std::string::npos ? "" : h.substr(b, e - b + 1);
  }

  // Returns the header value (name in any case) or "".
  std::string header(std::string_view name) const {
    std::string lower(name);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = headers.find(lower);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string contentType = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(int status, std::string body) {
    return {status, "application/json", std::move(body), {}};
  }
  static HttpResponse text(int status, std::string body) {
    return {status, "text/plain; charset=utf-8", std::move(body), {}};
  }
  // A JSON error body {"error":{"code":...,"message":...}}, the shape of every API error.
  static HttpResponse error(int status, std::string_view code, std::string_view message);
  // Maps a failed Status to its usual HTTP status (400, 404, 409, 412, 403, 401, 503, 429,
  // 500) and error body.
  static HttpResponse fromStatus(const Status& s);
};

struct RouteOptions {
  // False only for routes that must work before sign-in (health probes, the login call,
  // a public chat page).
  bool authenticated = true;
  // When non-empty, the principal must hold one of these roles ("admin" always passes).
  std::vector<std::string> roles;
  // The host records calls with a state-changing method (POST, PUT, PATCH, DELETE) in the
  // audit log when one is provided; set false when the handler records a more precise
  // entry itself. Calls the host refuses (401, 403) are recorded whatever this says.
  bool audit = true;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Authenticator: provided by a plugin (under kInterfaceName) that knows the deployment's
// users. The host asks it for every authenticated route whose bearer token is not the
// host's own administrator token.
class Authenticator {
 public:
  static constexpr const char* kInterfaceName = "kefu.Authenticator/1";
  virtual ~Authenticator() = default;
  // Unauthenticated (with a reason safe to show) when the request carries no valid
  // credentials.
  virtual Result<Principal> authenticate(const HttpRequest& request) = 0;
};

// One open WebSocket connection, for the plugin that accepted it. Thread-safe; never blocks.
class WebSocketPeer {
 public:
  virtual ~WebSocketPeer() = default;
  // Queues a text frame. A slow client loses its oldest frames rather than block the
  // caller; false when the connection has ended.
  virtual bool send(std::string text) = 0;
  // Starts closing the connection (1000, normal); onClose follows.
  virtual void close() = 0;
};

// What a plugin does with one WebSocket connection. Both run on the server's threads, one
// at a time for a connection; keep them short.
struct WebSocketHandlers {
  std::function<void(const std::string& text)> onMessage;  // a text message from the client
  std::function<void()> onClose;  // exactly once, whichever side ended the connection
};

// Called when a client's upgrade was accepted (authentication and roles passed, as for any
// route). Throwing refuses the connection (closed with 1011).
using WebSocketOpen =
    std::function<WebSocketHandlers(const HttpRequest&, std::shared_ptr<WebSocketPeer>)>;

class HttpRoutes {
 public:
  virtual ~HttpRoutes() = default;

  // Adds a route. InvalidArgument for a malformed pattern; AlreadyExists, naming the owner,
  // when the same method and pattern are taken.
  virtual Status add(std::string method, std::string pattern, HttpHandler handler,
                     RouteOptions options = {}) = 0;

  // Adds a WebSocket at the fixed `path` (no {name} segments): a GET with
  // "Upgrade: websocket" passes `options` like any route, then `open` runs. Only in
  // `kefu serve` are connections accepted. Text messages up to 64 KiB.
  // Not pure, so that test doubles written before it keep compiling.
  virtual Status addWebSocket(std::string path, WebSocketOpen open, RouteOptions options = {}) {
    (void)path, (void)open, (void)options;
    return Status::unavailable("this host offers no WebSockets to plugins");
  }
};

// Escapes `s` for use inside a JSON string literal (without the quotes).
inline std::string jsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out;
}

inline HttpResponse HttpResponse::error(int status, std::string_view code,
                                        std::string_view message) {
  return json(status, "{\"error\":{\"code\":\"" + jsonEscape(code) + "\",\"message\":\"" +
                          jsonEscape(message) + "\"}}");
}

inline HttpResponse HttpResponse::fromStatus(const Status& s) {
  int http = 500;
  switch (s.code()) {
    case StatusCode::kOk: http = 200; break;
    case StatusCode::kInvalidArgument: http = 400; break;
    case StatusCode::kNotFound: http = 404; break;
    case StatusCode::kAlreadyExists: http = 409; break;
    case StatusCode::kFailedPrecondition: http = 412; break;
    case StatusCode::kPermissionDenied: http = 403; break;
    case StatusCode::kUnauthenticated: http = 401; break;
    case StatusCode::kUnavailable: http = 503; break;
    case StatusCode::kResourceExhausted: http = 429; break;
    case StatusCode::kInternal: http = 500; break;
  }
  return error(http, statusCodeName(s.code()), s.message());
}

KEFU_SDK_NAMESPACE_END
