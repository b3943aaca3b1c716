// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/http_router.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <spdlog/spdlog.h>

#include "kefu/core/logging.h"

namespace kefu::core {

std::vector<std::string> splitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string urlDecode(std::string_view s, bool plusIsSpace) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plusIsSpace) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

void parseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query) {
  size_t q = target.find('?');
  path = urlDecode(target.substr(0, q), false);
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    size_t eq = kv.find('=');
    std::string k = urlDecode(kv.substr(0, eq), true);
    std::string v = eq == std::string_view::npos ? "" : urlDecode(kv.substr(eq + 1), true);
    if (!k.empty()) query[k] = v;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

HttpRouter::HttpRouter(Metrics* metrics) : metrics_(metrics) {}

Status HttpRouter::add(const std::string& owner, std::string method, std::string pattern,
                       HttpHandler handler, RouteOptions options) {
  std::transform(method.begin(), method.end(), method.begin(), ::toupper);
  static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  if (std::none_of(std::begin(kMethods), std::end(kMethods),
                   [&](const char* m) { return method == m; })) {
    return Status::invalidArgument("unsupported HTTP method '" + method + "'");
  }
  if (pattern.empty() || pattern.front() != '/') {
    return Status::invalidArgument("route pattern '" + pattern + "' must start with '/'");
  }
  if (!handler) return Status::invalidArgument("route " + pattern + " has no handler");
  auto segments = splitPath(pattern);
  for (const auto& s : segments) {
    bool param = s.size() > 2 && s.front() == '{' && s.back() == '}';
    if (!param && (s.find('{') != std::string::npos || s.find('}') != std::string::npos)) {
      return Status::invalidArgument("route pattern '" + pattern +
                                     "': a parameter must be a whole segment like {id}");
    }
  }
  // Parameter names do not distinguish routes: /x/{id} and /x/{key} are the same route.
  auto shape = [](const std::vector<std::string>& segs) {
    std::vector<std::string> out;
    for (const auto& s : segs) out.push_back(s.front() == '{' ? "{}" : s);
    return out;
  };
  std::unique_lock lock(mu_);
  for (const auto& r : routes_) {
    if (r.method == method && shape(r.segments) == shape(segments)) {
      return Status::alreadyExists(method + " " + pattern + " is already registered by '" +
                                   r.owner + "'");
    }
  }
  routes_.push_back({owner, method, pattern, std::move(segments), std::move(handler),
                     std::move(options)});
  // Literal segments win over parameters: sort by specificity, keeping registration order.
  std::stable_sort(routes_.begin(), routes_.end(), [](const Route& a, const Route& b) {
    auto params = [](const Route& r) {
      return std::count_if(r.segments.begin(), r.segments.end(),
                           [](const std::string& s) { return s.front() == '{'; });
    };
    return params(a) < params(b);
  });
  return {};
}

void HttpRouter::removeOwner(const std::string& owner) {
  std::unique_lock lock(mu_);
  std::erase_if(routes_, [&](const Route& r) { return r.owner == owner; });
  std::erase_if(sockets_, [&](const auto& kv) { return kv.second.owner == owner; });
}

Status HttpRouter::addWebSocket(const std::string& owner, std::string path, WebSocketOpen open,
                                RouteOptions options) {
  if (!open) return Status::invalidArgument("WebSocket " + path + " has no handler");
  if (path.find('{') != std::string::npos) {
    return Status::invalidArgument("WebSocket path '" + path + "' must be fixed (no {name})");
  }
  std::string key = "/";
  for (const auto& seg : splitPath(path)) key += (key.size() > 1 ? "/" : "") + seg;
  // The route answers 101 to a GET that asks for the upgrade; the server switches then.
  Status s = add(owner, "GET", path, [](const HttpRequest& req) {
    std::string up = req.header("upgrade");
    std::transform(up.begin(), up.end(), up.begin(), ::tolower);
    if (up.find("websocket") == std::string::npos) {
      auto r = HttpResponse::error(426, "upgrade_required",
                                   "this route is a WebSocket (Upgrade: websocket)");
      r.headers.emplace_back("Upgrade", "websocket");
      return r;
    }
    HttpResponse accept;
    accept.status = 101;
    accept.contentType.clear();
    return accept;
  }, std::move(options));
  if (!s.ok()) return s;
  std::unique_lock lock(mu_);
  sockets_[key] = Socket{owner, std::move(open)};
  return {};
}

WebSocketOpen HttpRouter::webSocket(const std::string& path) const {
  std::shared_lock lock(mu_);
  auto it = sockets_.find(path);
  return it == sockets_.end() ? WebSocketOpen() : it->second.open;
}

std::vector<std::string> HttpRouter::webSocketPaths() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [path, socket] : sockets_) out.push_back(path);
  return out;
}

bool HttpRouter::match(const Route& r, const std::vector<std::string>& segs,
                       std::map<std::string, std::string>& params) {
  if (r.segments.size() != segs.size()) return false;
  for (size_t i = 0; i < segs.size(); ++i) {
    const std::string& p = r.segments[i];
    if (p.front() == '{') {
      params[p.substr(1, p.size() - 2)] = segs[i];
    } else if (p != segs[i]) {
      return false;
    }
  }
  return true;
}

std::vector<HttpRouter::RouteInfo> HttpRouter::routes() const {
  std::shared_lock lock(mu_);
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) {
    out.push_back({r.owner, r.method, r.pattern, r.options.authenticated});
  }
  return out;
}

HttpResponse HttpRouter::dispatch(HttpRequest& req) const {
  auto started = std::chrono::steady_clock::now();
  HttpResponse resp;
  std::string owner = "host";
  {
    // Find the route; a path known under other methods answers 405 with Allow.
    std::shared_lock lock(mu_);
    auto segs = splitPath(req.path);
    const Route* found = nullptr;
    std::string allow;
    for (const auto& r : routes_) {
      std::map<std::string, std::string> params;
      if (!match(r, segs, params)) continue;
      if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
        if (!found) {
          found = &r;
          req.params = std::move(params);
        }
      } else if (allow.find(r.method) == std::string::npos) {
        allow += (allow.empty() ? "" : ", ") + r.method;
      }
    }
    if (!found && !allow.empty()) {
      resp = HttpResponse::error(405, "method_not_allowed",
                                 req.method + " is not allowed on " + req.path);
      resp.headers.emplace_back("Allow", allow);
    } else if (!found) {
      resp = HttpResponse::error(404, "not_found", "no route for " + req.path);
    } else {
      owner = found->owner;
      HttpHandler handler = found->handler;
      RouteOptions options = found->options;
      std::string pattern = found->pattern;
      lock.unlock();

      // Authenticate and authorize before the handler sees anything.
      bool allowed = true;
      if (options.authenticated) {
        // An authenticator that throws (a plugin's bug) refuses the request; it never takes
        // the host down.
        Result<Principal> who = Status::unauthenticated("no authenticator");
        try {
          if (auth_) who = auth_(req);
        } catch (const std::exception& e) {
          hostLog().error("authenticator threw for {} {}: {}", req.method, req.path, e.what());
          who = Status::unauthenticated("authentication failed");
        } catch (...) {
          hostLog().error("authenticator threw for {} {}", req.method, req.path);
          who = Status::unauthenticated("authentication failed");
        }
        if (!who) {
          resp = HttpResponse::error(401, "unauthenticated", who.status().message());
          resp.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kefu\"");
          allowed = false;
        } else {
          req.principal = *who;
          bool roleOk = options.roles.empty() || req.principal.hasRole("admin");
          for (const auto& role : options.roles) roleOk = roleOk || req.principal.hasRole(role);
          if (!roleOk) {
            std::string need;
            for (const auto& r : options.roles) need += (need.empty() ? "" : ", ") + r;
            resp = HttpResponse::error(403, "permission_denied",
                                       "this call needs one of the roles: " + need);
            allowed = false;
          }
        }
      }
      if (allowed) {
        try {
          resp = handler(req);
        } catch (const std::exception& e) {
          hostLog().error("HTTP handler of '{}' for {} {} threw: {}", owner, req.method,
                          req.path, e.what());
          resp = HttpResponse::error(500, "internal", "the request failed inside the server");
        } catch (...) {
          hostLog().error("HTTP handler of '{}' for {} {} threw", owner, req.method, req.path);
          resp = HttpResponse::error(500, "internal", "the request failed inside the server");
        }
      }
      // Refusals by the router are always recorded (the handler never ran, so it cannot);
      // state-changing calls unless the route records them itself.
      bool changes = req.method != "GET" && req.method != "HEAD";
      bool refused = !allowed;
      if (audit_ && ((changes && options.audit) || refused)) {
        try {
          audit_(req, resp, pattern);
        } catch (const std::exception& e) {
          hostLog().error("audit of {} {} failed: {}", req.method, req.path, e.what());
        }
      }
    }
  }
  if (metrics_) {
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // The method comes from the client: keep the label's values to a known few.
    static const std::set<std::string> kKnown = {"GET", "HEAD", "POST", "PUT", "PATCH",
                                                 "DELETE", "OPTIONS"};
    std::string method = kKnown.count(req.method) ? req.method : "OTHER";
    metrics_->counter("kefu_http_requests_total", "HTTP requests by method and status code",
                      {{"method", method}, {"code", std::to_string(resp.status)}})
        .inc();
    metrics_
        ->histogram("kefu_http_request_duration_seconds", "Time spent in request handlers",
                    {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})
        .observe(secs);
  }
  return resp;
}

}  // namespace kefu::core
