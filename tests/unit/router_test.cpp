// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "kefu/core/http_router.h"
#include "kefu/core/runtime.h"

using kefu::HttpRequest;
using kefu::HttpResponse;
using kefu::core::HttpRouter;

namespace {
HttpRequest get(const std::string& target, const std::string& token = "") {
  HttpRequest r;
  r.method = "GET";
  kefu::core::parseTarget(target, r.path, r.query);
  if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
  return r;
}

void setUp(HttpRouter& router) {
  router.setAuthenticator([](const HttpRequest& req) -> kefu::Result<kefu::Principal> {
    std::string h = req.header("Authorization");
    if (h == "Bearer agent-token") return kefu::Principal{"a1", {"agent"}};
    if (h == "Bearer boss-token") return kefu::Principal{"s1", {"supervisor"}};
    return kefu::Status::unauthenticated("invalid token");
  });
  kefu::RouteOptions open;
  open.authenticated = false;
  REQUIRE(router.add("p", "GET", "/open", [](const HttpRequest&) {
    return HttpResponse::text(200, "hi");
  }, open).ok());
  REQUIRE(router.add("p", "GET", "/api/v1/contacts/{id}", [](const HttpRequest& r) {
    return HttpResponse::json(200, "{\"id\":\"" + r.params.at("id") + "\"}");
  }, {}).ok());
  REQUIRE(router.add("p", "GET", "/api/v1/contacts/stats", [](const HttpRequest&) {
    return HttpResponse::json(200, "{\"stats\":1}");
  }, {}).ok());
  kefu::RouteOptions supervisors;
  supervisors.roles = {"supervisor"};
  REQUIRE(router.add("p", "POST", "/api/v1/contacts/{id}", [](const HttpRequest&) {
    return HttpResponse::json(200, "{}");
  }, supervisors).ok());
  REQUIRE(router.add("q", "GET", "/boom", [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("secret internals");
  }, open).ok());
}
}  // namespace

TEST_CASE("Routes match literal segments before parameters", "[http]") {
  kefu::core::MetricsRegistry metrics;
  HttpRouter router(&metrics);
  setUp(router);
  auto r1 = get("/api/v1/contacts/stats", "agent-token");
  CHECK(router.dispatch(r1).body == "{\"stats\":1}");
  auto r2 = get("/api/v1/contacts/c-17?x=1", "agent-token");
  CHECK(router.dispatch(r2).body == "{\"id\":\"c-17\"}");
  CHECK(r2.query.at("x") == "1");
  CHECK(r2.principal.id == "a1");
}

TEST_CASE("Authentication and roles are checked before the handler", "[http][security]") {
  kefu::core::MetricsRegistry metrics;
  HttpRouter router(&metrics);
  setUp(router);
  auto anon = get("/api/v1/contacts/1");
  auto resp = router.dispatch(anon);
  CHECK(resp.status == 401);
  CHECK_THAT(resp.body, Catch::Contains("\"code\":\"unauthenticated\""));

  auto bad = get("/api/v1/contacts/1", "forged");
  CHECK(router.dispatch(bad).status == 401);

  auto agentPost = get("/api/v1/contacts/1", "agent-token");
  agentPost.method = "POST";
  auto forbidden = router.dispatch(agentPost);
  CHECK(forbidden.status == 403);
  CHECK_THAT(forbidden.body, Catch::Contains("supervisor"));

  auto bossPost = get("/api/v1/contacts/1", "boss-token");
  bossPost.method = "POST";
  CHECK(router.dispatch(bossPost).status == 200);

  auto open = get("/open");
  CHECK(router.dispatch(open).status == 200);
}

TEST_CASE("Unknown paths and wrong methods and throwing handlers get clean errors", "[http]") {
  kefu::core::MetricsRegistry metrics;
  HttpRouter router(&metrics);
  setUp(router);
  auto missing = get("/nope");
  CHECK(router.dispatch(missing).status == 404);

  auto del = get("/api/v1/contacts/1", "agent-token");
  del.method = "DELETE";
  auto r = router.dispatch(del);
  CHECK(r.status == 405);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].second == "GET, POST");

  auto boom = get("/boom");
  auto b = router.dispatch(boom);
  CHECK(b.status == 500);
  CHECK(b.body.find("secret internals") == std::string::npos);
  CHECK_THAT(metrics.render(), Catch::Contains("kefu_http_requests_total{code=\"500\""));
}

TEST_CASE("An authenticator that throws refuses the request instead of crashing",
          "[http][security]") {
  HttpRouter router;
  router.setAuthenticator([](const HttpRequest&) -> kefu::Result<kefu::Principal> {
    throw std::runtime_error("database gone");
  });
  REQUIRE(router.add("p", "GET", "/api/v1/x", [](const HttpRequest&) {
    return HttpResponse::text(200, "secret");
  }, {}).ok());
  auto req = get("/api/v1/x", "any");
  auto resp = router.dispatch(req);
  CHECK(resp.status == 401);
  CHECK(resp.body.find("database gone") == std::string::npos);
}

TEST_CASE("Duplicate and malformed routes are refused", "[http]") {
  HttpRouter router;
  auto h = [](const HttpRequest&) { return HttpResponse::text(200, ""); };
  REQUIRE(router.add("a", "GET", "/x/{id}", h, {}).ok());
  auto dup = router.add("b", "get", "/x/{other}", h, {});
  CHECK(dup.code() == kefu::StatusCode::kAlreadyExists);
  CHECK_THAT(dup.message(), Catch::Contains("'a'"));
  CHECK(router.add("b", "GET", "x", h, {}).code() == kefu::StatusCode::kInvalidArgument);
  CHECK(router.add("b", "GET", "/x/a{id}", h, {}).code() == kefu::StatusCode::kInvalidArgument);
  CHECK(router.add("b", "BREW", "/pot", h, {}).code() == kefu::StatusCode::kInvalidArgument);
  router.removeOwner("a");
  CHECK(router.routes().empty());
}

TEST_CASE("Targets decode percent escapes and query pluses", "[http]") {
  std::string path;
  std::map<std::string, std::string> q;
  kefu::core::parseTarget("/kb/%E9%87%8D%E7%96%BE?q=a+b%26c&flag&bad=%zz", path, q);
  CHECK(path == "/kb/重疾");
  CHECK(q.at("q") == "a b&c");
  CHECK(q.at("flag").empty());
  CHECK(q.at("bad") == "%zz");
}
