// SPDX-License-Identifier: Apache-2.0
//
// The event stream: its frames, queue, route and subscriptions in process, then the
// WebSocket over a real loopback socket against an in-process HttpServer.
#include <catch2/catch.hpp>

#include <future>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "kefu/core/event_stream.h"
#include "kefu/core/http_router.h"
#include "kefu/core/http_server.h"
#include "kefu/core/runtime.h"
#include "process.h"
#include "ws_client.h"

using namespace std::chrono_literals;
using kefu::Event;
using kefu::HttpRequest;
using kefu::HttpResponse;
using kefu::core::EventBusImpl;
using kefu::core::FrameQueue;
using kefu::core::HttpRouter;
using Json = nlohmann::json;

namespace {

FrameQueue::Frame text(const std::string& s) {
  return [s] { return s; };
}

std::string take(FrameQueue& q) {
  auto f = q.pop();
  return f ? f() : "<none>";
}

void setUpAuth(HttpRouter& router) {
  router.setAuthenticator([](const HttpRequest& req) -> kefu::Result<kefu::Principal> {
    std::string h = req.header("authorization");
    if (h == "Bearer agent-token") return kefu::Principal{"a1", {"agent"}};
    if (h == "Bearer boss-token") return kefu::Principal{"s1", {"supervisor"}};
    return kefu::Status::unauthenticated("invalid token");
  });
}

// Records the frames it is given, made at once.
struct FakeConnection : kefu::core::WebSocketConnection {
  std::mutex mu;
  std::vector<Json> frames;
  bool send(FrameQueue::Frame f) override {
    std::lock_guard lock(mu);
    frames.push_back(Json::parse(f()));
    return false;
  }
  void close() override {}  // event streams never close a connection themselves
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST_CASE("FrameQueue wakes the writer once, drops the oldest and counts the drops",
          "[websocket]") {
  FrameQueue q(3, [](uint64_t n) { return "dropped " + std::to_string(n); });
  CHECK(q.push(text("a")).wake);
  CHECK_FALSE(q.push(text("b")).wake);  // the writer is already busy
  CHECK(take(q) == "a");
  CHECK(take(q) == "b");
  CHECK(take(q) == "<none>");           // now idle again
  CHECK(q.push(text("c")).wake);
  CHECK_FALSE(q.push(text("d")).dropped);
  CHECK_FALSE(q.push(text("e")).dropped);
  auto pushed = q.push(text("f"));      // full: "c" goes
  CHECK(pushed.dropped);
  CHECK_FALSE(pushed.wake);
  CHECK(q.push(text("g")).dropped);     // and "d"
  CHECK(q.size() == 3);
  CHECK(take(q) == "e");
  CHECK(take(q) == "f");
  CHECK(take(q) == "g");
  CHECK(take(q) == "dropped 2");        // once the writer has caught up
  CHECK(take(q) == "<none>");

  SECTION("a client that never catches up still hears of drops, once per queue length") {
    CHECK(q.push(text("1")).wake);
    for (int i = 2; i <= 4; ++i) q.push(text(std::to_string(i)));  // drops "1"
    std::vector<std::string> seen;
    for (int i = 5; i <= 9; ++i) {
      seen.push_back(take(q));
      q.push(text(std::to_string(i)));
      q.push(text(std::to_string(i) + "b"));  // faster than the writer: one drop a round
    }
    CHECK(seen == std::vector<std::string>{"2", "4", "5b", "dropped 4", "7b"});
  }

  SECTION("closing discards and refuses") {
    q.push(text("x"));
    q.close();
    CHECK_FALSE(q.push(text("h")).wake);
    CHECK(q.size() == 0);
    CHECK(take(q) == "<none>");
  }
}

TEST_CASE("An event frame has topic, source, UTC time and the payload, masked on request",
          "[websocket][pii]") {
  Event e;
  e.topic = "contact.queued";
  e.source = "routing-acd";
  e.at = std::chrono::system_clock::time_point(1700000000123ms);
  e.payload = R"({"phone":"13812345678","mobile":13912345678,"13712345678":true,)"
              R"("id_card":"11010519491231002X","ts":1700000000123,)"
              R"("n":[1,"a 6222021234567890123"]})";

  Json plain = Json::parse(kefu::core::eventStreamFrame(e, false));
  CHECK(plain["topic"] == "contact.queued");
  CHECK(plain["source"] == "routing-acd");
  CHECK(plain["at"] == "2023-11-14T22:13:20.123Z");
  CHECK(plain["payload"]["phone"] == "13812345678");
  CHECK(plain["payload"]["mobile"] == 13912345678);

  std::string maskedText = kefu::core::eventStreamFrame(e, true);
  Json masked = Json::parse(maskedText);  // still JSON: numbers are masked as strings
  CHECK(masked["payload"]["phone"] == "138****5678");
  CHECK(masked["payload"]["mobile"] == "139****5678");
  CHECK(masked["payload"].contains("137****5678"));
  CHECK(masked["payload"]["id_card"] == "110***********002X");
  CHECK(masked["payload"]["ts"] == 1700000000123);  // 13 digits: a timestamp, kept
  CHECK(masked["payload"]["n"][1] == "a 622************0123");
  for (const char* digits : {"12345678", "1231002", "2021234567890"}) {
    CHECK(maskedText.find(digits) == std::string::npos);
  }
  // The frame starts with the topic so that people reading a capture see it first.
  CHECK(maskedText.rfind(R"({"topic":"contact.queued","source":"routing-acd","at":)", 0) == 0);

  // Text that is not JSON travels as a string; bad UTF-8 does not stop the frame.
  e.payload = "call 13812345678 \xff";
  Json raw = Json::parse(kefu::core::eventStreamFrame(e, true));
  CHECK(raw["payload"].get<std::string>().rfind("call 138****5678 ", 0) == 0);

  Json dropped = Json::parse(kefu::core::eventStreamDroppedFrame(7));
  CHECK(dropped["topic"] == "stream.dropped");
  CHECK(dropped["payload"]["count"] == 7);
}

TEST_CASE("Topic prefixes are names without wildcards", "[websocket]") {
  auto all = kefu::core::parseTopicPrefixes("");
  REQUIRE(all.ok());
  CHECK(all->empty());
  auto two = kefu::core::parseTopicPrefixes(" agent, routing.assigned ,,agent");
  REQUIRE(two.ok());
  CHECK(*two == std::vector<std::string>{"agent", "routing.assigned"});
  for (const char* bad : {"agent.*", "a..b", ".agent", "agent.", "a b", "*"}) {
    INFO(bad);
    CHECK_FALSE(kefu::core::parseTopicPrefixes(bad).ok());
  }
  std::string many;
  for (int i = 0; i < 40; ++i) many += "t" + std::to_string(i) + ",";
  CHECK_FALSE(kefu::core::parseTopicPrefixes(many).ok());
}

TEST_CASE("The stream route authenticates, checks topics and asks for an upgrade",
          "[websocket][security]") {
  HttpRouter router;
  setUpAuth(router);
  REQUIRE(kefu::core::addEventStreamRoute(router).ok());
  auto request = [&](const std::string& target, const std::string& token, bool upgrade) {
    HttpRequest req;
    req.method = "GET";
    kefu::core::parseTarget(target, req.path, req.query);
    if (!token.empty()) req.headers["authorization"] = "Bearer " + token;
    if (upgrade) req.headers["upgrade"] = "WebSocket";
    return router.dispatch(req);
  };
  CHECK(request("/api/v1/events/stream", "", true).status == 401);
  CHECK(request("/api/v1/events/stream", "nope", true).status == 401);
  auto plain = request("/api/v1/events/stream", "agent-token", false);
  CHECK(plain.status == 426);
  CHECK(plain.headers == decltype(plain.headers){{"Upgrade", "websocket"}});
  auto bad = request("/api/v1/events/stream?topics=agent.*", "agent-token", true);
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("no wildcards"));
  CHECK(request("/api/v1/events/stream?topics=agent", "agent-token", true).status == 101);
}

TEST_CASE("Each stream has its own subscription, filters topics and masks by role",
          "[websocket][pii]") {
  kefu::core::VirtualClock clock(std::chrono::system_clock::time_point(1700000000000ms));
  EventBusImpl bus(clock);
  kefu::core::MetricsRegistry metrics;
  auto route = kefu::core::eventStreamWebSocket(bus, metrics);
  auto& open = metrics.gauge("kefu_event_streams", "");

  auto connect = [&](std::vector<std::string> roles, const std::string& topics) {
    HttpRequest req;
    req.principal = {"p", std::move(roles)};
    if (!topics.empty()) req.query["topics"] = topics;
    auto conn = std::make_shared<FakeConnection>();
    return std::make_pair(conn, route.open(req, conn));
  };
  auto [agent, closeAgent] = connect({"agent"}, "");
  auto [boss, closeBoss] = connect({"supervisor"}, "agent,contact");
  auto [admin, closeAdmin] = connect({"admin"}, "contact");
  CHECK(open.value() == 3);

  bus.publish({"contact.queued", R"({"phone":"13812345678"})", {}, {}}, "routing-acd");
  bus.publish({"agent.state", R"({"agent":"a1"})", {}, {}}, "routing-acd");
  bus.publish({"agents", "{}", {}, {}}, "x");  // a prefix is a whole segment
  bus.publish({"system.fault", R"({"check":"store"})", {}, {}}, "system-monitor");

  REQUIRE(agent->frames.size() == 4);
  CHECK(agent->frames[0]["payload"]["phone"] == "138****5678");
  CHECK(agent->frames[0]["source"] == "routing-acd");
  CHECK(agent->frames[0]["at"] == "2023-11-14T22:13:20.000Z");
  REQUIRE(boss->frames.size() == 2);
  CHECK(boss->frames[0]["payload"]["phone"] == "13812345678");
  CHECK(boss->frames[1]["topic"] == "agent.state");
  REQUIRE(admin->frames.size() == 1);
  CHECK(admin->frames[0]["payload"]["phone"] == "13812345678");

  // Ending a connection ends its subscription only.
  closeAgent();
  closeBoss();
  CHECK(open.value() == 1);
  bus.publish({"contact.queued", "{}", {}, {}}, "routing-acd");
  CHECK(agent->frames.size() == 4);
  CHECK(boss->frames.size() == 2);
  CHECK(admin->frames.size() == 2);
  closeAdmin();
  CHECK(open.value() == 0);
}

TEST_CASE("Over a real socket: refusals are plain HTTP, a slow client never blocks the "
          "publisher, drops are announced, shutdown says going away",
          "[websocket][http]") {
  kefu::core::MetricsRegistry metrics;
  HttpRouter router(&metrics);
  setUpAuth(router);
  REQUIRE(kefu::core::addEventStreamRoute(router).ok());
  REQUIRE(router.add("t", "GET", "/api/v1/other", [](const HttpRequest&) {
    return HttpResponse::json(200, "{}");
  }, {}).ok());
  kefu::core::RealClock clock;
  EventBusImpl bus(clock);
  kefu::core::HttpServerOptions options;
  options.port = 0;
  kefu::core::HttpServer server(router, options);
  server.addWebSocket(kefu::core::kEventStreamPath,
                      kefu::core::eventStreamWebSocket(bus, metrics));
  REQUIRE(server.start().ok());
  int port = server.port();
  auto& open = metrics.gauge("kefu_event_streams", "");
  auto& droppedTotal = metrics.counter("kefu_event_stream_dropped_total", "");

  {
    kefu::test::WsClient none(port, "/api/v1/events/stream");
    CHECK(none.status() == 401);
    CHECK_THAT(none.body(), Catch::Contains("unauthenticated"));
    kefu::test::WsClient wrong(port, "/api/v1/events/stream?access_token=nope");
    CHECK(wrong.status() == 401);
    kefu::test::WsClient badTopics(port, "/api/v1/events/stream?topics=a%2Ab",
                                   {{"Authorization", "Bearer agent-token"}});
    CHECK(badTopics.status() == 400);
    auto plain = kefu::test::http(port, "GET", "/api/v1/events/stream",
                                  {{"Authorization", "Bearer agent-token"}});
    CHECK(plain.status == 426);
    // The query token is for the WebSocket route only.
    auto other = kefu::test::http(port, "GET", "/api/v1/other?access_token=agent-token");
    CHECK(other.status == 401);
  }
  CHECK(open.value() == 0);

  // The token in the query: what a browser has to do.
  kefu::test::WsClient client(port, "/api/v1/events/stream?access_token=agent-token");
  REQUIRE(client.status() == 101);
  REQUIRE(eventually([&] { return open.value() == 1; }));

  // The client reads nothing while far more is published than the socket buffers and the
  // queue hold.
  constexpr int kEvents = 100000;
  std::string pad(400, 'x');
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kEvents; ++i) {
    bus.publish({"load.test", "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}", {},
                 {}},
                "bench");
  }
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < 10s);  // blocked, it would never finish
  CHECK(droppedTotal.value() > 0);

  int received = 0;
  uint64_t announced = 0;
  int last = -1;
  bool ordered = true;
  // Until the queue is empty and the last notice has come.
  while (auto frame = client.next(last == kEvents - 1 ? 1s : 5s)) {
    Json j = Json::parse(*frame);
    if (j["topic"] == "stream.dropped") {
      CHECK(j["source"] == "host");
      announced += j["payload"]["count"].get<uint64_t>();
      continue;
    }
    int n = j["payload"]["n"];
    ordered = ordered && n > last;
    last = n;
    ++received;
  }
  CHECK(ordered);
  CHECK(last == kEvents - 1);
  CHECK(announced > 0);
  // Every event was either delivered or counted in a notice.
  CHECK(received + announced == uint64_t(kEvents));
  CHECK(double(announced) == droppedTotal.value());

  // A client that goes away ends its subscription.
  {
    kefu::test::WsClient brief(port, "/api/v1/events/stream",
                               {{"Authorization", "Bearer boss-token"}});
    REQUIRE(brief.status() == 101);
    CHECK(open.value() == 2);
  }
  CHECK(eventually([&] { return open.value() == 1; }));

  // Shutdown: a client that reads is told the server is going away; one that does not read
  // cannot take the close frame (it waits behind a write) and is cut after the timeout.
  // Both subscriptions end.
  kefu::test::WsClient stuck(port, "/api/v1/events/stream?access_token=agent-token");
  REQUIRE(stuck.status() == 101);
  REQUIRE(open.value() == 2);
  for (int i = 0; i < kEvents; ++i) {
    bus.publish({"load.test", "{\"pad\":\"" + pad + "\"}", {}, {}}, "bench");
  }
  auto closing = std::async(std::launch::async, [&] { return server.closeWebSockets(1s); });
  CHECK(client.waitClosed(5s));
  CHECK(client.closeCode() == 1001);
  CHECK_FALSE(closing.get());
  // Cut connections end on their own strands, shortly after closeWebSockets() gives up.
  CHECK(eventually([&] { return open.value() == 0; }));
  CHECK(stuck.waitClosed(10s));
  CHECK(stuck.closeCode() == 0);  // cut, not closed

  // A handshake that comes in after the streams were closed is closed at once.
  kefu::test::WsClient late(port, "/api/v1/events/stream?access_token=agent-token");
  REQUIRE(late.status() == 101);
  CHECK(late.waitClosed(5s));
  CHECK(late.closeCode() == 1001);
  CHECK(open.value() == 0);

  server.stop();
}
