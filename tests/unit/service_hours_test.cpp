// SPDX-License-Identifier: Apache-2.0
//
// Service hours of routing-acd queues: weekly ranges, overnight ranges, dated exceptions,
// fixed UTC offsets, config errors; and the closed action and pending away through the
// durable ContactDesk on a real SQLite store.
#include <catch2/catch.hpp>

#include <soci/soci.h>

#include "contact_desk.h"
#include "kefu/core/runtime.h"
#include "kefu/core/store_impl.h"
#include "routing_config.h"
#include "service_hours.h"
#include "test_support.h"

using namespace std::chrono_literals;
using kefu::AgentState;
using kefu::ConfigValue;
using kefu::StatusCode;
using kefu::TimePoint;
using kefu::acd::ClosedAction;
using kefu::acd::QueueHours;
using kefu::acd::ServiceHours;

namespace {

// UTC time of a local wall-clock time in a zone `offset` minutes east of UTC.
TimePoint at(const std::string& date, int hh, int mm, int offset = 0) {
  int64_t day = 0;
  REQUIRE(ServiceHours::parseDate(date, day));
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      std::chrono::minutes(day * 1440 + hh * 60 + mm - offset)));
}

ServiceHours::Range range(const std::string& text) {
  ServiceHours::Range r;
  REQUIRE(ServiceHours::parseRange(text, r));
  return r;
}

// A config value tree as the host hands it over, positioned at deploy.toml:<line>:1.
ConfigValue val(const ConfigValue::Storage& v, int line, const std::string& path) {
  return ConfigValue(v, kefu::SourcePos{"deploy.toml", line, 1}, path);
}

ConfigValue strings(std::vector<std::string> list, int line, const std::string& path) {
  ConfigValue::Array a;
  for (auto& s : list) a.push_back(val(s, line, path));
  return val(a, line, path);
}

}  // namespace

// 2026-12-07 is a Monday.
TEST_CASE("Weekday ranges open and close a queue with several ranges a day", "[hours]") {
  ServiceHours h;
  h.addWeekly(0, range("08:30-12:00"));
  h.addWeekly(0, range("13:00-18:00"));
  CHECK_FALSE(h.alwaysOpen());
  CHECK_FALSE(h.isOpen(at("2026-12-07", 8, 29)));
  CHECK(h.isOpen(at("2026-12-07", 8, 30)));
  CHECK(h.isOpen(at("2026-12-07", 11, 59)));
  CHECK_FALSE(h.isOpen(at("2026-12-07", 12, 0)));
  CHECK(h.isOpen(at("2026-12-07", 13, 0)));
  CHECK_FALSE(h.isOpen(at("2026-12-08", 9, 0)));  // Tuesday: no ranges
  CHECK(h.isOpen(at("2026-12-14", 9, 0)));        // next Monday
  CHECK(h.nextChange(at("2026-12-07", 7, 0)) == at("2026-12-07", 8, 30));
  CHECK(h.nextChange(at("2026-12-07", 9, 0)) == at("2026-12-07", 12, 0));
  CHECK(h.nextChange(at("2026-12-07", 12, 30)) == at("2026-12-07", 13, 0));
  CHECK(h.nextChange(at("2026-12-07", 18, 0)) == at("2026-12-14", 8, 30));
}

TEST_CASE("Overnight ranges run into the next day", "[hours]") {
  ServiceHours h;
  h.addWeekly(4, range("22:00-06:00"));  // Friday night to Saturday morning
  CHECK_FALSE(h.isOpen(at("2026-12-11", 21, 59)));
  CHECK(h.isOpen(at("2026-12-11", 22, 0)));
  CHECK(h.isOpen(at("2026-12-12", 0, 0)));
  CHECK(h.isOpen(at("2026-12-12", 5, 59)));
  CHECK_FALSE(h.isOpen(at("2026-12-12", 6, 0)));
  CHECK(h.nextChange(at("2026-12-11", 23, 0)) == at("2026-12-12", 6, 0));

  SECTION("adjacent ranges across midnight do not flip at midnight") {
    h.addWeekly(5, range("00:00-08:00"));
    h.addWeekly(3, range("18:00-24:00"));
    CHECK(h.nextChange(at("2026-12-10", 19, 0)) == at("2026-12-10", 24, 0));
    CHECK(h.nextChange(at("2026-12-11", 23, 0)) == at("2026-12-12", 8, 0));
  }
  SECTION("a whole day") {
    ServiceHours all;
    all.addWeekly(6, range("00:00-24:00"));
    CHECK(all.isOpen(at("2026-12-13", 0, 0)));
    CHECK(all.isOpen(at("2026-12-13", 23, 59)));
    CHECK_FALSE(all.isOpen(at("2026-12-14", 0, 0)));
  }
}

TEST_CASE("Dated exceptions close a day or replace its ranges", "[hours]") {
  ServiceHours h;
  for (int d = 0; d < 5; ++d) h.addWeekly(d, range("09:00-17:00"));
  int64_t holiday = 0, saturday = 0, monday = 0;
  REQUIRE(ServiceHours::parseDate("2026-12-08", holiday));
  REQUIRE(ServiceHours::parseDate("2026-12-12", saturday));
  REQUIRE(ServiceHours::parseDate("2026-12-07", monday));
  h.setException(holiday, {});
  h.setException(saturday, {range("10:00-14:00")});
  CHECK_FALSE(h.isOpen(at("2026-12-08", 10, 0)));
  CHECK(h.isOpen(at("2026-12-09", 10, 0)));
  CHECK(h.isOpen(at("2026-12-12", 10, 0)));
  CHECK_FALSE(h.isOpen(at("2026-12-12", 14, 0)));
  CHECK(h.nextChange(at("2026-12-07", 17, 0)) == at("2026-12-09", 9, 0));
  CHECK(h.nextChange(at("2026-12-11", 18, 0)) == at("2026-12-12", 10, 0));

  SECTION("the overnight tail of the day before still runs into a closed day") {
    h.setException(monday, {range("20:00-02:00")});
    CHECK(h.isOpen(at("2026-12-08", 1, 0)));
    CHECK_FALSE(h.isOpen(at("2026-12-08", 2, 0)));
  }
  SECTION("a calendar without any range never opens") {
    ServiceHours closed;
    closed.markCalendar();
    CHECK_FALSE(closed.isOpen(at("2026-12-07", 10, 0)));
    CHECK_FALSE(closed.nextChange(at("2026-12-07", 10, 0)).has_value());
  }
}

TEST_CASE("Fixed UTC offsets shift the calendar without daylight saving", "[hours]") {
  int offset = 0;
  REQUIRE(ServiceHours::parseOffset("+08:00", offset));
  CHECK(offset == 480);
  REQUIRE(ServiceHours::parseOffset("UTC-5", offset));
  CHECK(offset == -300);
  REQUIRE(ServiceHours::parseOffset("-03:30", offset));
  CHECK(offset == -210);
  REQUIRE(ServiceHours::parseOffset("UTC", offset));
  CHECK(offset == 0);
  for (const char* bad : {"Asia/Shanghai", "+8:00", "+15:00", "08:00", ""}) {
    CHECK_FALSE(ServiceHours::parseOffset(bad, offset));
  }

  ServiceHours h;
  h.setUtcOffset(480);
  h.addWeekly(0, range("08:00-20:00"));
  // 08:00 in UTC+8 is 00:00 UTC on the same Monday.
  CHECK_FALSE(h.isOpen(at("2026-12-06", 23, 59)));
  CHECK(h.isOpen(at("2026-12-07", 0, 0)));
  CHECK(h.isOpen(at("2026-12-07", 8, 0, 480)));
  CHECK_FALSE(h.isOpen(at("2026-12-07", 20, 0, 480)));
  CHECK(h.nextChange(at("2026-12-07", 9, 0, 480)) == at("2026-12-07", 20, 0, 480));
  // Western offset: Monday 08:00 at UTC-5 is 13:00 UTC.
  ServiceHours west;
  west.setUtcOffset(-300);
  west.addWeekly(0, range("08:00-09:00"));
  CHECK(west.isOpen(at("2026-12-07", 13, 30)));
  CHECK_FALSE(west.isOpen(at("2026-12-07", 8, 30)));
}

TEST_CASE("Malformed ranges and dates are refused", "[hours]") {
  ServiceHours::Range r;
  for (const char* bad : {"8:00-12:00", "08:00-12:60", "24:00-02:00", "08:00 12:00",
                          "08:00-25:00", "08:00-12:00x"}) {
    CHECK_FALSE(ServiceHours::parseRange(bad, r));
  }
  REQUIRE(ServiceHours::parseRange("08:00-08:00", r));
  CHECK(r.end - r.start == 1440);
  int64_t d = 0;
  CHECK_FALSE(ServiceHours::parseDate("2026-02-30", d));
  CHECK_FALSE(ServiceHours::parseDate("2026-2-3", d));
  CHECK_FALSE(ServiceHours::parseDate("2026-02-03x", d));
  CHECK_FALSE(ServiceHours::parseDate("2026-+2-03", d));
  CHECK(ServiceHours::parseDate("1970-01-01", d));
  CHECK(d == 0);
}

TEST_CASE("Queue hours from config name file line and key on errors", "[hours]") {
  const std::string q = "plugins.routing-acd.queues";
  auto queueWith = [&](ConfigValue::Table hours, ConfigValue::Table extra = {}) {
    ConfigValue::Table t = std::move(extra);
    t["name"] = val(std::string("claims"), 2, q + ".name");
    t["hours"] = val(std::move(hours), 3, q + ".hours");
    return val(t, 1, q);
  };
  QueueHours out;

  SECTION("a good calendar") {
    ConfigValue::Table special;
    special["2026-12-12"] = strings({"10:00-14:00"}, 8, q + ".hours.special.2026-12-12");
    auto t = queueWith({{"utc_offset", val(std::string("+08:00"), 4, q + ".hours.utc_offset")},
                        {"mon", strings({"08:30-12:00", "13:00-18:00"}, 5, q + ".hours.mon")},
                        {"closed_dates", strings({"2026-12-08"}, 6, q + ".hours.closed")},
                        {"special", val(special, 7, q + ".hours.special")}},
                       {{"closed_action", val(std::string("callback"), 9, q + ".ca")}});
    REQUIRE(kefu::acd::parseQueueHours(t, out).ok());
    CHECK(out.closedAction == ClosedAction::kCallback);
    CHECK(out.hours.isOpen(at("2026-12-07", 9, 0, 480)));
    CHECK_FALSE(out.hours.isOpen(at("2026-12-07", 12, 0)));  // 20:00 local
  }
  SECTION("a bad range") {
    auto t = queueWith({{"tue", strings({"9-17"}, 5, q + ".hours.tue")}});
    auto s = kefu::acd::parseQueueHours(t, out);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::StartsWith("deploy.toml:5:1: " + q + ".hours.tue: '9-17'"));
  }
  SECTION("a time zone name") {
    auto t = queueWith({{"utc_offset", val(std::string("Asia/Shanghai"), 4, q + ".hours.u")}});
    auto s = kefu::acd::parseQueueHours(t, out);
    CHECK_THAT(s.message(), Catch::StartsWith("deploy.toml:4:1: " + q + ".hours.u:"));
    CHECK_THAT(s.message(), Catch::Contains("daylight saving"));
  }
  SECTION("an unknown key and an unknown action") {
    auto t = queueWith({{"monday", strings({"09:00-17:00"}, 5, q + ".hours.monday")}});
    CHECK_THAT(kefu::acd::parseQueueHours(t, out).message(),
               Catch::Contains("hours.monday: unknown key"));
    auto u = queueWith({}, {{"closed_action", val(std::string("queue"), 9, q + ".ca")}});
    CHECK_THAT(kefu::acd::parseQueueHours(u, out).message(),
               Catch::StartsWith("deploy.toml:9:1: " + q + ".ca: must be callback"));
    auto v = queueWith({}, {{"closed_action", val(std::string("overflow"), 9, q + ".ca")}});
    CHECK_THAT(kefu::acd::parseQueueHours(v, out).message(),
               Catch::Contains("needs closed_overflow_queue"));
  }
}

TEST_CASE("Closed overflow chains must end at a queue that takes the contact", "[hours]") {
  const std::string p = "plugins.routing-acd.queues";
  auto queueTable = [&](const std::string& name, const std::string& to, int line) {
    ConfigValue::Table t;
    t["name"] = val(name, line, p + ".name");
    t["closed_action"] = val(std::string("overflow"), line, p + ".closed_action");
    t["closed_overflow_queue"] = val(to, line, p + ".closed_overflow_queue");
    t["hours"] = val(ConfigValue::Table{{"mon", strings({"09:00-17:00"}, line, p + ".h.mon")}},
                     line, p + ".hours");
    return val(t, line, p);
  };
  std::vector<kefu::QueueSpec> queues;
  std::map<std::string, QueueHours> hours;
  ConfigValue::Table cfg;
  cfg["queues"] = val(ConfigValue::Array{queueTable("a", "b", 2), queueTable("b", "a", 9)}, 1,
                      "plugins.routing-acd.queues");
  auto s = kefu::acd::parseQueues(val(cfg, 1, "plugins.routing-acd"), queues, hours);
  CHECK_THAT(s.message(), Catch::StartsWith("deploy.toml:2:1: " + p + ".closed_overflow_queue"));
  CHECK_THAT(s.message(), Catch::Contains("circle"));

  queues.clear();
  hours.clear();
  cfg["queues"] = val(ConfigValue::Array{queueTable("a", "nowhere", 2)}, 1, p);
  s = kefu::acd::parseQueues(val(cfg, 1, "plugins.routing-acd"), queues, hours);
  CHECK_THAT(s.message(), Catch::Contains("no queue 'nowhere'"));
}

namespace {

// A desk on a fresh SQLite store with the plugin's migrations, at a virtual time.
struct DeskFixture {
  kefu::test::TempDir dir;
  std::unique_ptr<kefu::core::StoreImpl> store;
  kefu::core::VirtualClock clock{at("2026-12-07", 7, 0)};  // Monday 07:00 UTC
  kefu::acd::LockedRouter router{std::make_unique<kefu::acd::AcdEngine>()};
  std::unique_ptr<kefu::acd::ContactDesk> desk;
  std::vector<std::string> errors;

  explicit DeskFixture(kefu::acd::DeskOptions options) {
    kefu::core::StoreOptions o;
    o.url = "sqlite://kefu.db";
    o.dataDir = dir.path();
    store = std::make_unique<kefu::core::StoreImpl>(o);
    REQUIRE(store->migrate("routing-acd", kefu::acd::ContactDesk::migrations()).ok());
    for (const char* name : {"claims", "night"}) {
      kefu::QueueSpec q;
      q.name = name;
      REQUIRE(router.defineQueue(q).ok());
    }
    kefu::AgentSpec a;
    a.id = "a1";
    a.wrapUp = 30s;
    REQUIRE(router.defineAgent(a).ok());
    desk = std::make_unique<kefu::acd::ContactDesk>(
        store->openSession(), router, nullptr, clock,
        [this](const std::string& e) { errors.push_back(e); }, std::move(options));
    router.setListener(desk.get());
  }
  ~DeskFixture() { router.setListener(nullptr); }

  std::string field(const std::string& sql) {
    auto s = store->openSession();
    std::string v;
    soci::indicator ind = soci::i_null;
    *s << sql, soci::into(v, ind);
    return ind == soci::i_ok ? v : "";
  }
};

}  // namespace

TEST_CASE("A contact for a closed queue is stored with its closed action", "[hours]") {
  kefu::acd::DeskOptions options;
  QueueHours claims;
  claims.hours.addWeekly(0, range("08:00-18:00"));
  claims.closedAction = ClosedAction::kCallback;
  options.hours["claims"] = claims;
  DeskFixture f(std::move(options));
  REQUIRE(f.router.signIn("a1", f.clock.now()).ok());
  REQUIRE(f.router.setReady("a1", f.clock.now()).ok());

  kefu::ContactSpec c;
  c.queue = "claims";
  auto early = f.desk->accept(c);  // 07:00: closed
  REQUIRE(early.ok());
  CHECK(f.field("SELECT state FROM acd_contacts WHERE id = '" + *early + "'") == "ended");
  CHECK(f.field("SELECT outcome FROM acd_contacts WHERE id = '" + *early + "'") ==
        "closed_callback");
  CHECK(*f.router.agentState("a1") == AgentState::kIdle);  // never offered

  f.clock.advanceTo(at("2026-12-07", 8, 0));
  auto open = f.desk->accept(c);
  REQUIRE(open.ok());
  CHECK(f.field("SELECT agent_id FROM acd_contacts WHERE id = '" + *open + "'") == "a1");

  // Closing time does not touch contacts already there: they are served until drained.
  c.id = "waits";
  REQUIRE(f.desk->accept(c).ok());
  f.clock.advanceTo(at("2026-12-07", 18, 30));
  REQUIRE(f.desk->end(*open, "resolved").ok());
  REQUIRE(f.router.endWrapUp("a1", f.clock.now()).ok());
  CHECK(f.field("SELECT agent_id FROM acd_contacts WHERE id = 'waits'") == "a1");

  // The same id again is refused, closed or not.
  c.id = *early;
  CHECK(f.desk->accept(c).status().code() == StatusCode::kAlreadyExists);
  CHECK(f.errors.empty());
}

TEST_CASE("A closed queue can overflow to a queue that is open", "[hours]") {
  kefu::acd::DeskOptions options;
  QueueHours claims;
  claims.hours.addWeekly(0, range("08:00-18:00"));
  claims.closedAction = ClosedAction::kOverflow;
  claims.overflowQueue = "night";
  options.hours["claims"] = claims;
  options.hours["night"] = QueueHours{};
  DeskFixture f(std::move(options));
  kefu::ContactSpec c;
  c.id = "c1";
  c.queue = "claims";
  REQUIRE(f.desk->accept(c).ok());
  CHECK(f.field("SELECT queue FROM acd_contacts WHERE id = 'c1'") == "night");
  CHECK(f.field("SELECT state FROM acd_contacts WHERE id = 'c1'") == "waiting");
  auto st = f.router.queueStats("night", f.clock.now());
  CHECK(st->waiting == 1);
}

TEST_CASE("Pending away is stored and taken after the wrap-up ends", "[hours][acd]") {
  DeskFixture f(kefu::acd::DeskOptions{});
  auto now = [&] { return f.clock.now(); };
  REQUIRE(f.router.signIn("a1", now()).ok());
  REQUIRE(f.router.setReady("a1", now()).ok());
  kefu::ContactSpec c;
  c.id = "c1";
  c.queue = "claims";
  REQUIRE(f.desk->accept(c).ok());
  REQUIRE(f.router.setAway("a1", "meeting", now()).ok());
  auto d = f.router.locked([](kefu::acd::AcdEngine& e) { return e.agentDetail("a1"); });
  CHECK(d->state == AgentState::kBusy);
  CHECK(d->pendingAway);
  CHECK(d->pendingReason == "meeting");
  CHECK(f.field("SELECT kind FROM acd_agent_requests WHERE agent_id = 'a1'") == "away_pending");
  CHECK(f.field("SELECT reason FROM acd_agent_requests WHERE agent_id = 'a1'") == "meeting");

  REQUIRE(f.desk->end("c1", "resolved").ok());
  CHECK(*f.router.agentState("a1") == AgentState::kWrapUp);  // wrap-up keeps its timer
  f.clock.advanceTo(now() + 30s);
  f.router.advance(now());
  d = f.router.locked([](kefu::acd::AcdEngine& e) { return e.agentDetail("a1"); });
  CHECK(d->state == AgentState::kAway);
  CHECK(d->reason == "meeting");
  CHECK_FALSE(d->pendingAway);
  CHECK(f.field("SELECT to_state FROM acd_agent_states WHERE agent_id = 'a1' "
                "ORDER BY id DESC LIMIT 1") == "away");
  CHECK(f.field("SELECT reason FROM acd_agent_states WHERE agent_id = 'a1' "
                "ORDER BY id DESC LIMIT 1") == "meeting");
  CHECK(f.errors.empty());
}
