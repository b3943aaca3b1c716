// SPDX-License-Identifier: Apache-2.0
//
// HttpRouter: the route table behind the host's HTTP server, independent of the network
// code so that it can be tested without sockets.
//
// dispatch() matches the route, authenticates (admin token first, then a plugin-provided
// kefu::Authenticator), checks roles, runs the handler and turns exceptions into a 500
// that names no internals to the client but logs the owning plugin.
#pragma once

#include <functional>
#include <map>
#include <shared_mutex>
#include <string>
#include <vector>

#include "kefu/http.h"
#include "kefu/metrics.h"

namespace kefu::core {

class HttpRouter {
 public:
  // Returns the principal for a request, or Unauthenticated.
  using AuthFn = std::function<Result<Principal>(const HttpRequest&)>;

  explicit HttpRouter(Metrics* metrics = nullptr);

  Status add(const std::string& owner, std::string method, std::string pattern,
             HttpHandler handler, RouteOptions options);
  void removeOwner(const std::string& owner);

  // A plugin's WebSocket at a fixed path: a GET route that accepts the upgrade (answers
  // 101) after the usual authentication and role checks, and the plugin's handler, which
  // the server looks up per connection so that a stopped plugin's socket is refused.
  Status addWebSocket(const std::string& owner, std::string path, WebSocketOpen open,
                      RouteOptions options);
  // The handler at `path` while its owner runs, or an empty function.
  WebSocketOpen webSocket(const std::string& path) const;
  // Paths of plugin WebSockets, for the server (registered before it starts).
  std::vector<std::string> webSocketPaths() const;
  void setAuthenticator(AuthFn auth) { auth_ = std::move(auth); }

  // Called after every audited call (state-changing method on a route with
  // RouteOptions::audit) and every refused one (401 or 403), with the route's pattern.
  using AuditFn = std::function<void(const HttpRequest&, const HttpResponse&,
                                     const std::string& pattern)>;
  void setAuditor(AuditFn audit) { audit_ = std::move(audit); }

  // Fills req.params and req.principal and runs the matching route.
  HttpResponse dispatch(HttpRequest& req) const;

  struct RouteInfo {
    std::string owner, method, pattern;
    bool authenticated;
  };
  std::vector<RouteInfo> routes() const;

 private:
  struct Route {
    std::string owner, method, pattern;
    std::vector<std::string> segments;
    HttpHandler handler;
    RouteOptions options;
  };
  static bool match(const Route& r, const std::vector<std::string>& segs,
                    std::map<std::string, std::string>& params);

  mutable std::shared_mutex mu_;
  std::vector<Route> routes_;
  struct Socket {
    std::string owner;
    WebSocketOpen open;
  };
  std::map<std::string, Socket> sockets_;  // by path
  AuthFn auth_;
  AuditFn audit_;
  Metrics* metrics_;
};

// Splits "/a/b/c" into {"a","b","c"}; a trailing slash is ignored.
std::vector<std::string> splitPath(std::string_view path);

// Percent-decodes a URL component ('+' stays '+' except in queries, where it is a space).
std::string urlDecode(std::string_view s, bool plusIsSpace);

// Splits a request target into path and decoded query parameters.
void parseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query);

}  // namespace kefu::core
