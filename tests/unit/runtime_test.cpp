// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "kefu/core/runtime.h"
#include "kefu/pii.h"

using namespace std::chrono_literals;
using kefu::Event;
using kefu::core::EventBusImpl;
using kefu::core::VirtualClock;

namespace {
Event ev(const std::string& topic) {
  Event e;
  e.topic = topic;
  e.payload = "{}";
  return e;
}
}  // namespace

TEST_CASE("The event bus delivers by topic prefix on dot boundaries", "[events]") {
  VirtualClock clock(std::chrono::system_clock::time_point(1000s));
  EventBusImpl bus(clock);
  std::vector<std::string> got;
  bus.subscribe("p1", "contact", [&](const Event& e) { got.push_back("contact:" + e.topic); });
  bus.subscribe("p2", "", [&](const Event& e) { got.push_back("all:" + e.topic); });
  bus.publish(ev("contact.queued"), "router");
  bus.publish(ev("contacts.other"), "router");
  bus.publish(ev("contact"), "router");
  CHECK(got == std::vector<std::string>{"contact:contact.queued", "all:contact.queued",
                                        "all:contacts.other", "contact:contact",
                                        "all:contact"});
  CHECK(bus.published() == 3);
}

TEST_CASE("A throwing subscriber does not stop delivery / unsubscribing works in a handler",
          "[events]") {
  VirtualClock clock(std::chrono::system_clock::time_point(1000s));
  EventBusImpl bus(clock);
  int second = 0;
  kefu::SubscriptionId self = 0;
  bus.subscribe("bad", "x", [](const Event&) { throw std::runtime_error("handler bug"); });
  self = bus.subscribe("once", "x", [&](const Event&) {
    ++second;
    bus.unsubscribe(self);
  });
  Event seen;
  bus.subscribe("spy", "x", [&](const Event& e) { seen = e; });
  bus.publish(ev("x"), "src");
  bus.publish(ev("x"), "src");
  CHECK(second == 1);
  CHECK(seen.source == "src");
  CHECK(seen.at == clock.now());  // stamped from the host clock

  bus.removeOwner("spy");
  seen = Event{};
  bus.publish(ev("x"), "src");
  CHECK(seen.topic.empty());
}

TEST_CASE("The virtual clock runs timers in time order and honours cancel", "[clock]") {
  auto t0 = std::chrono::system_clock::time_point(1'000'000s);
  VirtualClock clock(t0);
  std::vector<int> order;
  clock.callAt(t0 + 30s, [&] { order.push_back(30); });
  auto cancelled = clock.callAt(t0 + 20s, [&] { order.push_back(20); });
  clock.callAt(t0 + 10s, [&] {
    order.push_back(10);
    // A timer set from a timer runs in the same advance when due.
    clock.callAfter(5s, [&] { order.push_back(15); });
  });
  CHECK(clock.cancel(cancelled));
  CHECK_FALSE(clock.cancel(cancelled));
  clock.advanceTo(t0 + 25s);
  CHECK(order == std::vector<int>{10, 15});
  CHECK(clock.now() == t0 + 25s);
  CHECK(clock.runNext());
  CHECK(clock.now() == t0 + 30s);
  CHECK_FALSE(clock.runNext());
  CHECK(order == std::vector<int>{10, 15, 30});
}

TEST_CASE("The real clock fires timers on its scheduler thread", "[clock]") {
  kefu::core::RealClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool fired = false;
  clock.callAfter(5ms, [&] {
    std::lock_guard lock(mu);
    fired = true;
    cv.notify_all();
  });
  auto never = clock.callAfter(1h, [] {});
  std::unique_lock lock(mu);
  CHECK(cv.wait_for(lock, 5s, [&] { return fired; }));
  CHECK(clock.cancel(never));
}

TEST_CASE("Metrics render in the Prometheus text format", "[metrics]") {
  kefu::core::MetricsRegistry m;
  m.counter("kefu_test_total", "Things", {{"kind", "a\"b"}}).inc(2);
  m.counter("kefu_test_total", "Things", {{"kind", "a\"b"}}).inc();
  m.gauge("kefu_test_level", "Level").set(0.5);
  auto& h = m.histogram("kefu_test_seconds", "Durations", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(7);
  std::string text = m.render();
  CHECK_THAT(text, Catch::Contains("# TYPE kefu_test_total counter\n"
                                   "kefu_test_total{kind=\"a\\\"b\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("kefu_test_level 0.5\n"));
  CHECK_THAT(text, Catch::Contains("kefu_test_seconds_bucket{le=\"0.1\"} 1\n"
                                   "kefu_test_seconds_bucket{le=\"1\"} 2\n"
                                   "kefu_test_seconds_bucket{le=\"+Inf\"} 3\n"
                                   "kefu_test_seconds_sum 7.55\n"
                                   "kefu_test_seconds_count 3\n"));
  CHECK_THROWS_AS(m.gauge("kefu_test_total", "again"), std::invalid_argument);
  CHECK_THROWS_AS(m.counter("bad name", "x"), std::invalid_argument);
}

TEST_CASE("Service registry refuses a second provider and names both", "[services]") {
  kefu::core::ServiceRegistryImpl reg;
  auto impl = std::make_shared<int>(7);
  REQUIRE(reg.provide("alpha", "kefu.Thing/1", impl).ok());
  auto s = reg.provide("beta", "kefu.Thing/1", std::make_shared<int>(8));
  CHECK(s.code() == kefu::StatusCode::kAlreadyExists);
  CHECK_THAT(s.message(), Catch::Contains("'alpha'") && Catch::Contains("'beta'"));
  CHECK(*std::static_pointer_cast<int>(reg.find("kefu.Thing/1")) == 7);
  reg.removeOwner("alpha");
  CHECK(reg.find("kefu.Thing/1") == nullptr);
}

TEST_CASE("CLI commands cannot shadow built-ins or each other", "[cli]") {
  kefu::core::CliRegistry cli;
  auto run = [](const kefu::CliArgs&, kefu::CliIo&) { return 0; };
  CHECK(cli.add("a", {{"kb", "import"}, "import", {}, run}).ok());
  CHECK(cli.add("b", {{"kb", "import"}, "import", {}, run}).code() ==
        kefu::StatusCode::kAlreadyExists);
  CHECK(cli.add("b", {{"serve"}, "x", {}, run}).code() == kefu::StatusCode::kInvalidArgument);
  cli.removeOwner("a");
  CHECK(cli.entries().empty());
}

TEST_CASE("Personal numbers are masked and short numbers are not", "[pii][security]") {
  using kefu::maskPersonalData;
  CHECK(maskPersonalData("mobile 13812345678.") == "mobile 138****5678.");
  CHECK(maskPersonalData("ID 11010519491231002X ok") == "ID 110***********002X ok");
  CHECK(maskPersonalData("card 6222021234567890123") == "card 622************0123");
  CHECK(maskPersonalData("queue 42, wait 1234567890s") == "queue 42, wait 1234567890s");
  CHECK(maskPersonalData("at_ms=1780000000000") == "at_ms=1780000000000");  // a timestamp
  CHECK(maskPersonalData("old ID 110105491231002") == "old ID 110********1002");
  CHECK(maskPersonalData("not mobile 23812345678") == "not mobile 23812345678");
  CHECK(maskPersonalData("") == "");
}

TEST_CASE("Unsubscribing waits for a handler running on another thread", "[events]") {
  VirtualClock clock(std::chrono::system_clock::time_point(1000s));
  EventBusImpl bus(clock);
  std::atomic<bool> entered{false}, release{false}, finished{false};
  bus.subscribe("slow", "x", [&](const Event&) {
    entered = true;
    while (!release) std::this_thread::sleep_for(1ms);
    finished = true;
  });
  std::thread publisher([&] { bus.publish(ev("x"), "src"); });
  while (!entered) std::this_thread::sleep_for(1ms);
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    release = true;
  });
  bus.removeOwner("slow");  // must not return while the handler runs
  CHECK(finished);
  publisher.join();
  releaser.join();
}

TEST_CASE("Cancelling a timer whose callback runs waits for it to finish", "[clock]") {
  kefu::core::RealClock clock;
  std::atomic<bool> entered{false}, finished{false};
  auto id = clock.callAfter(0ms, [&] {
    entered = true;
    std::this_thread::sleep_for(30ms);
    finished = true;
  });
  while (!entered) std::this_thread::sleep_for(1ms);
  CHECK_FALSE(clock.cancel(id));  // already running: not cancelled, but waited for
  CHECK(finished);
}
