// SPDX-License-Identifier: Apache-2.0
//
// The replay model on routing-acd's engine: agreement with Erlang C, determinism, staffing
// plans, patience estimation and the schedule format.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "acd_engine.h"
#include "calibrate.h"
#include "call_log.h"
#include "gen_calls.h"
#include "replay_model.h"
#include "test_support.h"

using kefu::replay::CallTable;
using kefu::replay::ReplayOptions;
using kefu::replay::ReplaySink;
using kefu::calls::CallRecord;
using kefu::calls::Outcome;

namespace {

constexpr int64_t kT0 = 915'148'800'000;  // 1999-01-01 00:00 as the logs' "UTC"

kefu::QueueSpec voiceQueue(const std::string& name) {
  kefu::QueueSpec q;
  q.name = name;
  q.skills = {{name, 1}};
  return q;
}

struct Model {
  std::vector<kefu::QueueSpec> queues{voiceQueue("general")};
  kefu::replay::RouterMaker maker() const {
    return [q = queues](kefu::RoutingListener* l) {
      auto e = std::make_unique<kefu::acd::AcdEngine>();
      e->setListener(l);
      for (const auto& each : q) REQUIRE(e->defineQueue(each).ok());
      return std::unique_ptr<kefu::Router>(std::move(e));
    };
  }
};

// Poisson arrivals at `perSecond`, exponential handle times of mean `handleS`, every call
// answered at once in the "log" (so the model has no abandonment to learn).
CallTable poissonLog(int calls, double perSecond, double handleS, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(perSecond), handle(1.0 / handleS);
  CallTable t;
  double at = 0;
  for (int i = 0; i < calls; ++i) {
    at += gap(rng);
    CallRecord r;
    r.id = std::to_string(i);
    r.type = "PS";
    r.line = static_cast<uint64_t>(i + 2);
    r.arrivalMs = kT0 + static_cast<int64_t>(at * 1000);
    r.ivrExitMs = r.queueStartMs = r.queueExitMs = r.serviceStartMs = r.arrivalMs;
    r.serviceEndMs = r.serviceStartMs + std::max<int64_t>(1, std::llround(handle(rng) * 1000));
    r.outcome = Outcome::kAnswered;
    r.agent = "A" + std::to_string(i % 7);
    t.add(r);
  }
  t.finish();
  return t;
}

double erlangC(int c, double a) {
  double term = 1, sum = 1;  // sum of a^k/k! for k < c
  for (int k = 1; k < c; ++k) {
    term *= a / k;
    sum += term;
  }
  double last = term * a / c * c / (c - a);
  return last / (sum + last);
}

struct Collected {
  uint64_t answered = 0, waited = 0, abandoned = 0;
  double waitS = 0;
  uint64_t hash = 1469598103934665603ULL;
  ReplaySink sink() {
    ReplaySink s;
    s.record = [this](const CallRecord& r) {
      if (r.outcome == Outcome::kAnswered) {
        ++answered;
        int64_t w = r.serviceStartMs - r.queueStartMs;
        waited += w > 0;
        waitS += w / 1000.0;
      } else if (r.outcome == Outcome::kAbandonedInQueue) {
        ++abandoned;
      }
      for (int64_t v : {r.serviceStartMs, r.serviceEndMs, r.queueExitMs}) {
        hash = (hash ^ static_cast<uint64_t>(v)) * 1099511628211ULL;
      }
      for (char ch : r.agent) hash = (hash ^ static_cast<uint8_t>(ch)) * 1099511628211ULL;
    };
    return s;
  }
};

}  // namespace

TEST_CASE("Replay agrees with Erlang C on Poisson arrivals and exponential service",
          "[replay]") {
  // 10 agents, 8 Erlang: P(wait) = 0.409, ASA = P(wait) * h / (c - a).
  const int c = 10;
  const double a = 8, h = 180;
  CallTable t = poissonLog(200'000, a / h, h, 7);
  Model m;
  ReplayOptions o;
  Collected got;
  auto stats = kefu::replay::runReplay(t, m.queues, m.maker(),
                                       kefu::replay::fixedStaffing(t, c), o, got.sink());
  REQUIRE(stats.ok());
  CHECK(stats->offered == 200'000);
  CHECK(got.abandoned == 0);
  REQUIRE(got.answered == 200'000);
  double pw = erlangC(c, a), asa = pw * h / (c - a);
  double simPw = double(got.waited) / got.answered, simAsa = got.waitS / got.answered;
  INFO("P(wait) erlang " << pw << " sim " << simPw << "; ASA erlang " << asa << " sim "
                         << simAsa);
  CHECK(std::abs(simPw - pw) / pw < 0.04);
  CHECK(std::abs(simAsa - asa) / asa < 0.08);
}

namespace {
// A log with real abandonment: arrivals faster than 3 agents can serve.
CallTable busyLog() {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> gap(1.0 / 40), handle(1.0 / 150), patience(1.0 / 90);
  CallTable t;
  double at = 8 * 3600;
  for (int i = 0; i < 3000; ++i) {
    at += gap(rng);
    CallRecord r;
    r.type = i % 3 ? "PS" : "NW";
    r.priority = i % 4 == 0 ? 2 : 0;
    r.line = static_cast<uint64_t>(i + 2);
    r.arrivalMs = kT0 + static_cast<int64_t>(at * 1000);
    r.ivrExitMs = r.queueStartMs = r.arrivalMs + 5000;
    double p = patience(rng);
    if (i % 2) {
      r.queueExitMs = r.queueStartMs + static_cast<int64_t>(p * 1000);
      r.outcome = Outcome::kAbandonedInQueue;
    } else {
      r.queueExitMs = r.serviceStartMs = r.queueStartMs + static_cast<int64_t>(p * 500);
      r.serviceEndMs = r.serviceStartMs + static_cast<int64_t>(handle(rng) * 1000);
      r.outcome = Outcome::kAnswered;
      r.agent = i % 6 == 0 ? "DORIT" : "TOVA";
    }
    t.add(r);
  }
  t.finish();
  return t;
}
}  // namespace

TEST_CASE("Replay is deterministic for a given seed", "[replay]") {
  CallTable t = busyLog();
  Model m;
  auto run = [&](uint64_t seed) {
    ReplayOptions o;
    o.seed = seed;
    Collected got;
    auto s = kefu::replay::runReplay(t, m.queues, m.maker(), kefu::replay::fixedStaffing(t, 3),
                                     o, got.sink());
    REQUIRE(s.ok());
    CHECK(s->sampledHandles > 0);
    CHECK(got.answered + got.abandoned == 3000);
    return got.hash;
  };
  uint64_t first = run(11);
  CHECK(run(11) == first);
  CHECK(run(12) != first);
}

TEST_CASE("Calibration fits the wrap-up to the log's answered share", "[replay]") {
  CallTable t = busyLog();  // half of the queued calls answered in the "log"
  REQUIRE(kefu::replay::observedAnsweredShare(t) == Approx(0.5));
  Model m;
  ReplayOptions o;
  o.seed = 5;
  SECTION("enough agents: a wrap-up brings the answered share down to the log's") {
    auto staffing = kefu::replay::fixedStaffing(t, 6);
    auto cal = kefu::replay::calibrateWrapUp(t, m.queues, m.maker(), staffing, o);
    REQUIRE(cal.ok());
    CHECK_FALSE(cal->belowWithoutWrapUp);
    CHECK_FALSE(cal->aboveAtLimit);
    CHECK(cal->wrapUpSeconds > 0);
    CHECK(cal->runs <= 14);
    CHECK(std::abs(cal->simulatedShare - 0.5) < 0.02);
    // The fitted wrap-up reproduces the share it reports, and one second less answers more.
    auto answered = [&](int wrap) {
      ReplayOptions with = o;
      with.wrapUp = std::chrono::seconds(wrap);
      Collected got;
      REQUIRE(kefu::replay::runReplay(t, m.queues, m.maker(), staffing, with, got.sink()).ok());
      return double(got.answered) / double(got.answered + got.abandoned);
    };
    CHECK(answered(cal->wrapUpSeconds) == Approx(cal->simulatedShare));
    CHECK(answered(0) > cal->simulatedShare + 0.05);
  }
  SECTION("too few agents: nothing to fit, and it says so") {
    auto cal = kefu::replay::calibrateWrapUp(t, m.queues, m.maker(),
                                             kefu::replay::fixedStaffing(t, 1), o);
    REQUIRE(cal.ok());
    CHECK(cal->belowWithoutWrapUp);
    CHECK(cal->wrapUpSeconds == 0);
    CHECK(cal->runs == 1);
    CHECK(cal->simulatedShare < 0.5);
  }
}

namespace {

// routing-acd's engine behind the string calls alone: a router without the keyed fast path.
class StringOnlyRouter : public kefu::Router {
 public:
  explicit StringOnlyRouter(std::unique_ptr<kefu::acd::AcdEngine> e) : e_(std::move(e)) {}
  kefu::Status defineQueue(const kefu::QueueSpec& q) override { return e_->defineQueue(q); }
  kefu::Status defineAgent(const kefu::AgentSpec& a) override { return e_->defineAgent(a); }
  kefu::Status signIn(const std::string& a, kefu::TimePoint t) override {
    return e_->signIn(a, t);
  }
  kefu::Status signOut(const std::string& a, kefu::TimePoint t) override {
    return e_->signOut(a, t);
  }
  kefu::Status setReady(const std::string& a, kefu::TimePoint t) override {
    return e_->setReady(a, t);
  }
  kefu::Status setAway(const std::string& a, const std::string& r, kefu::TimePoint t) override {
    return e_->setAway(a, r, t);
  }
  kefu::Status enqueue(const kefu::ContactSpec& c) override { return e_->enqueue(c); }
  kefu::Status release(const std::string& c, kefu::TimePoint t) override {
    return e_->release(c, t);
  }
  kefu::Status abandon(const std::string& c, kefu::TimePoint t) override {
    return e_->abandon(c, t);
  }
  kefu::Status endWrapUp(const std::string& a, kefu::TimePoint t) override {
    return e_->endWrapUp(a, t);
  }
  std::optional<kefu::TimePoint> advance(kefu::TimePoint now) override {
    return e_->advance(now);
  }
  kefu::Result<kefu::AgentState> agentState(const std::string& a) const override {
    return e_->agentState(a);
  }
  kefu::Result<kefu::QueueStats> queueStats(const std::string& q,
                                            kefu::TimePoint now) const override {
    return e_->queueStats(q, now);
  }

 private:
  std::unique_ptr<kefu::acd::AcdEngine> e_;
};

}  // namespace

TEST_CASE("The keyed fast path and the string calls give the same replay", "[replay]") {
  CallTable t = busyLog();
  Model m;
  ReplayOptions o;
  o.wrapUp = std::chrono::seconds(5);
  auto run = [&](bool keyed) {
    Collected got;
    kefu::replay::RouterMaker maker = [&](kefu::RoutingListener* l) {
      auto e = std::make_unique<kefu::acd::AcdEngine>();
      e->setListener(l);
      for (const auto& each : m.queues) REQUIRE(e->defineQueue(each).ok());
      if (keyed) return std::unique_ptr<kefu::Router>(std::move(e));
      return std::unique_ptr<kefu::Router>(std::make_unique<StringOnlyRouter>(std::move(e)));
    };
    auto s = kefu::replay::runReplay(t, m.queues, maker, kefu::replay::fixedStaffing(t, 3), o,
                                     got.sink());
    REQUIRE(s.ok());
    CHECK(got.answered + got.abandoned == 3000);
    return got.hash;
  };
  CHECK(run(true) == run(false));
}

TEST_CASE("Batched simulated calls are the records, in the same order", "[replay]") {
  CallTable t = busyLog();
  Model m;
  ReplayOptions o;
  Collected one, batched;
  auto s1 = kefu::replay::runReplay(t, m.queues, m.maker(), kefu::replay::fixedStaffing(t, 3),
                                    o, one.sink());
  REQUIRE(s1.ok());
  std::vector<std::string> agents;
  ReplaySink sink = batched.sink();
  auto record = sink.record;
  sink.agents = [&](const std::vector<std::string>& a) { agents = a; };
  sink.batch = [&](const kefu::replay::SimulatedCall* calls, size_t n) {
    CallRecord r;
    for (size_t i = 0; i < n; ++i) {
      kefu::replay::toRecord(t, agents, calls[i], r);
      record(r);
    }
  };
  auto s2 = kefu::replay::runReplay(t, m.queues, m.maker(), kefu::replay::fixedStaffing(t, 3),
                                    o, sink);
  REQUIRE(s2.ok());
  CHECK(batched.answered == one.answered);
  CHECK(batched.hash == one.hash);
}

namespace {
// Calls in arrival order (many at the same second), with IVR stays of up to `ivrSeconds`;
// the table's queue-entry order must not depend on the rows' order in the file.
void checkQueueOrder(int ivrSeconds) {
  std::mt19937_64 rng(5);
  std::vector<CallRecord> rows;
  int64_t at = kT0;
  for (int i = 0; i < 5000; ++i) {
    at += static_cast<int64_t>(rng() % 3) * 1000;  // many arrivals at the same second
    CallRecord r;
    r.type = "PS";
    r.line = static_cast<uint64_t>(i + 2);
    r.arrivalMs = at;
    r.ivrExitMs = r.queueStartMs =
        at + static_cast<int64_t>(rng() % static_cast<uint64_t>(ivrSeconds + 1)) * 1000;
    r.queueExitMs = r.serviceStartMs = r.queueStartMs;
    r.serviceEndMs = r.serviceStartMs + 60'000;
    r.outcome = i % 7 ? Outcome::kAnswered : Outcome::kEndedInIvr;
    if (r.outcome == Outcome::kEndedInIvr) r.queueStartMs = r.queueExitMs = -1;
    rows.push_back(r);
  }
  CallTable ordered, shuffled;
  for (const auto& r : rows) ordered.add(r);
  std::shuffle(rows.begin(), rows.end(), rng);
  for (const auto& r : rows) shuffled.add(r);
  ordered.finish();
  shuffled.finish();
  REQUIRE(ordered.order().size() == shuffled.order().size());
  for (size_t i = 0; i < ordered.order().size(); ++i) {
    INFO(i);
    CHECK(ordered.calls()[ordered.order()[i]].line ==
          shuffled.calls()[shuffled.order()[i]].line);
  }
}
}  // namespace

TEST_CASE("A log in arrival order and the same log shuffled give the same queue order",
          "[replay]") {
  // In arrival order the table orders the calls as they come (short IVR stays) or by radix
  // (long ones, too many moves); shuffled it compares every field.
  SECTION("short IVR stays") { checkQueueOrder(3); }
  SECTION("long IVR stays") { checkQueueOrder(3000); }
}

TEST_CASE("Observed staffing signs the log's agents in for their shift blocks", "[replay]") {
  CallTable t;
  auto served = [&](int minute, int minutes, const std::string& agent) {
    CallRecord r;
    r.type = "PS";
    r.arrivalMs = kT0 + minute * 60'000LL;
    r.serviceStartMs = r.arrivalMs;
    r.serviceEndMs = r.arrivalMs + minutes * 60'000LL;
    r.outcome = Outcome::kAnswered;
    r.agent = agent;
    t.add(r);
  };
  served(0, 5, "A");
  served(20, 5, "A");   // 15 minutes after the last end: same block
  served(120, 5, "A");  // 95 minutes later: a new block
  served(10, 1, "B");
  t.finish();
  auto shifts = kefu::replay::observedStaffing(t);
  REQUIRE(shifts.size() == 3);
  CHECK(shifts[0].agent == "A");
  CHECK(shifts[0].fromMs == kT0);
  CHECK(shifts[0].toMs == kT0 + 25 * 60'000);
  CHECK(shifts[1].fromMs == kT0 + 120 * 60'000);
  CHECK(shifts[2].agent == "B");
  CHECK(shifts[2].toMs - shifts[2].fromMs == 60'000);

  Model m;
  Collected got;
  std::vector<std::pair<std::string, int64_t>> presence;
  ReplaySink sink = got.sink();
  sink.presence = [&](const std::string& a, int64_t from, int64_t to) {
    presence.push_back({a, to - from});
  };
  auto s = kefu::replay::runReplay(t, m.queues, m.maker(), shifts, ReplayOptions{}, sink);
  REQUIRE(s.ok());
  CHECK(s->agents == 2);
  CHECK(got.answered == 4);
  CHECK(presence.size() == 3);
}

TEST_CASE("Shift blocks do not depend on the order services come in", "[replay]") {
  // Services of two agents, some overlapping, some a gap apart; each row order must give
  // the blocks of sorting the services and merging those within the gap.
  const std::chrono::minutes gap(10);
  std::mt19937_64 rng(11);
  std::vector<CallRecord> rows;
  for (int i = 0; i < 400; ++i) {
    CallRecord r;
    r.type = "PS";
    r.line = static_cast<uint64_t>(i + 2);
    r.arrivalMs = kT0 + static_cast<int64_t>(rng() % (3 * 24 * 60)) * 60'000;
    r.serviceStartMs = r.arrivalMs;
    r.serviceEndMs = r.arrivalMs + static_cast<int64_t>(rng() % 20) * 60'000;
    r.outcome = Outcome::kAnswered;
    r.agent = i % 2 ? "A" : "B";
    rows.push_back(r);
  }
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> expected;
  {
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> services;
    for (const auto& r : rows) services[r.agent].push_back({r.serviceStartMs, r.serviceEndMs});
    const int64_t gapMs = 10 * 60'000;
    for (auto& [agent, v] : services) {
      std::sort(v.begin(), v.end());
      for (size_t i = 0; i < v.size();) {
        int64_t from = v[i].first, to = v[i].second;
        size_t j = i + 1;
        while (j < v.size() && v[j].first <= to + gapMs) to = std::max(to, v[j++].second);
        expected[agent].push_back({from, std::max(to, from + 60'000)});
        i = j;
      }
    }
  }
  for (int order = 0; order < 3; ++order) {
    INFO("order " << order);
    if (order == 1) std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.arrivalMs < b.arrivalMs;
    });
    if (order == 2) std::reverse(rows.begin(), rows.end());
    CallTable t(gap);
    for (const auto& r : rows) t.add(r);
    t.finish();
    std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> got;
    for (const auto& shift : kefu::replay::observedStaffing(t)) {
      got[shift.agent].push_back({shift.fromMs, shift.toMs});
    }
    CHECK(got == expected);
  }
}

TEST_CASE("A shift that ends in wrap-up signs out after it and the next shift serves",
          "[replay]") {
  CallTable t;
  for (int minute : {8, 61}) {
    CallRecord r;
    r.type = "PS";
    r.line = static_cast<uint64_t>(minute);
    r.arrivalMs = r.serviceStartMs = kT0 + minute * 60'000LL;
    r.serviceEndMs = r.arrivalMs + 60'000;
    r.outcome = Outcome::kAnswered;
    r.agent = "X";
    t.add(r);
  }
  t.finish();
  // The first call ends at minute 9, its two-minute wrap-up one minute after the shift.
  std::vector<kefu::replay::Shift> shifts{{"X", kT0, kT0 + 10 * 60'000},
                                          {"X", kT0 + 60 * 60'000, kT0 + 70 * 60'000}};
  ReplayOptions o;
  o.wrapUp = std::chrono::seconds(120);
  Model m;
  Collected got;
  std::vector<std::pair<int64_t, int64_t>> presence;
  ReplaySink sink = got.sink();
  sink.presence = [&](const std::string&, int64_t from, int64_t to) {
    presence.push_back({(from - kT0) / 60'000, (to - kT0) / 60'000});
  };
  REQUIRE(kefu::replay::runReplay(t, m.queues, m.maker(), shifts, o, sink).ok());
  CHECK(got.answered == 2);
  REQUIRE(presence.size() == 2);
  CHECK(presence[0] == std::pair<int64_t, int64_t>(0, 11));
  CHECK(presence[1] == std::pair<int64_t, int64_t>(60, 70));
}

TEST_CASE("Fixed and scheduled staffing", "[replay]") {
  kefu::test::TempDir dir;
  CallTable t = busyLog();
  auto fixed = kefu::replay::fixedStaffing(t, 4);
  REQUIRE(fixed.size() == 4);
  CHECK(fixed[3].agent == "sim-004");

  std::ofstream(dir / "counts.csv") << "start,end,count\n"
                                       "1999-01-01 08:00,1999-01-01 12:00,2\n"
                                       "1999-01-01 10:00,1999-01-01 14:00,1\n";
  auto counts = kefu::replay::scheduleStaffing((dir / "counts.csv").string());
  REQUIRE(counts.ok());
  // Level 0 works 08-14, level 1 08-12, level 2 10-12.
  REQUIRE(counts->size() == 3);
  int64_t total = 0;
  for (const auto& s : *counts) total += s.toMs - s.fromMs;
  CHECK(total == (6 + 4 + 2) * 3'600'000LL);

  std::ofstream(dir / "named.csv") << "start,end,agent\n1999-01-01T08:00,1999-01-01T16:30,TOVA\n";
  auto named = kefu::replay::scheduleStaffing((dir / "named.csv").string());
  REQUIRE(named.ok());
  REQUIRE(named->size() == 1);
  CHECK((*named)[0].agent == "TOVA");
  CHECK((*named)[0].fromMs == kT0 + 8 * 3'600'000LL);

  Model m;
  Collected got;
  auto s = kefu::replay::runReplay(t, m.queues, m.maker(), *counts, ReplayOptions{}, got.sink());
  REQUIRE(s.ok());
  CHECK(s->agents == 3);
  CHECK(got.answered + got.abandoned == 3000);

  std::ofstream(dir / "bad.csv") << "start,end,count\n1999-01-01 08:00,1999-01-01 07:00,2\n";
  auto bad = kefu::replay::scheduleStaffing((dir / "bad.csv").string());
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("bad.csv:2: end is not after start"));
  std::ofstream(dir / "hdr.csv") << "from,to,n\n";
  CHECK_FALSE(kefu::replay::scheduleStaffing((dir / "hdr.csv").string()).ok());
}

TEST_CASE("Kaplan-Meier patience treats answered calls as censored", "[replay]") {
  kefu::replay::PatienceCurve km;
  // Abandoned at 10 and 30 s; answered after 20 s (censored).
  km.build({{10'000, true}, {20'000, false}, {30'000, true}});
  CHECK(km.survival(5'000) == Approx(1.0));
  CHECK(km.survival(10'000) == Approx(2.0 / 3));
  CHECK(km.survival(30'000) == Approx(0.0));
  CHECK(km.quantile(0.9) == 10'000);
  CHECK(km.quantile(0.5) == 30'000);
  kefu::replay::PatienceCurve none;
  none.build({{5'000, false}});
  CHECK(none.quantile(0.5) == -1);
}

TEST_CASE("A log without an answered call is refused, not divided by zero", "[replay]") {
  CallTable t;
  CallRecord r;
  r.type = "PS";
  r.line = 2;
  r.arrivalMs = kT0;
  r.ivrExitMs = r.queueStartMs = kT0 + 5'000;
  r.queueExitMs = kT0 + 45'000;
  r.outcome = Outcome::kAbandonedInQueue;
  t.add(r);
  t.finish();
  Model m;
  Collected got;
  auto s = kefu::replay::runReplay(t, m.queues, m.maker(), kefu::replay::fixedStaffing(t, 2),
                                   ReplayOptions{}, got.sink());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == kefu::StatusCode::kInvalidArgument);
  CHECK_THAT(s.status().message(), Catch::Contains("no answered call"));
}

TEST_CASE("Fixed staffing signs in at the first call to reach the queue, in any row order",
          "[replay]") {
  // The first row waits in the IVR past the second row's arrival.
  CallRecord a, b;
  a.type = b.type = "PS";
  a.line = 2;
  a.arrivalMs = kT0 + 3'600'000;
  a.ivrExitMs = a.queueStartMs = a.queueExitMs = a.serviceStartMs = a.arrivalMs + 10'000;
  a.serviceEndMs = a.serviceStartMs + 60'000;
  a.outcome = Outcome::kAnswered;
  b.line = 3;
  b.arrivalMs = kT0;
  b.ivrExitMs = kT0 + 30'000;
  b.outcome = Outcome::kEndedInIvr;
  for (bool swapped : {false, true}) {
    CallTable t;
    t.add(swapped ? b : a);
    t.add(swapped ? a : b);
    t.finish();
    auto shifts = kefu::replay::fixedStaffing(t, 1);
    REQUIRE(shifts.size() == 1);
    CHECK(shifts[0].fromMs == kT0);
  }
}

TEST_CASE("A call type mapped to an unknown queue is refused by name", "[replay]") {
  CallTable t = busyLog();
  Model m;
  ReplayOptions o;
  o.queueForType["NW"] = "sales";
  Collected got;
  auto s = kefu::replay::runReplay(t, m.queues, m.maker(), kefu::replay::fixedStaffing(t, 1), o,
                                   got.sink());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.status().message(), Catch::Contains("'NW' maps to queue 'sales'"));
}

TEST_CASE("Schedules refuse impossible dates empty files and double-booked agents",
          "[replay]") {
  kefu::test::TempDir dir;
  auto load = [&](const std::string& text) {
    std::ofstream(dir / "plan.csv") << text;
    return kefu::replay::scheduleStaffing((dir / "plan.csv").string());
  };
  auto feb30 = load("start,end,count\n2026-02-30 07:00,2026-03-01 07:00,2\n");
  REQUIRE_FALSE(feb30.ok());
  CHECK_THAT(feb30.status().message(), Catch::Contains("plan.csv:2: start '2026-02-30 07:00'"));
  CHECK_FALSE(load("start,end,count\n2026-02-01 07:00,2026-02-01 24:30,2\n").ok());
  // Control characters of the file show escaped.
  auto esc = load("start,end,count\n2026-02-01 07:00\x1b[31m,2026-02-01 09:00,2\n");
  REQUIRE_FALSE(esc.ok());
  CHECK_THAT(esc.status().message(), Catch::Contains("start '2026-02-01 07:00\\x1b[31m'"));
  // A byte order mark before the header, as spreadsheets write it, is skipped.
  CHECK(load("\xEF\xBB\xBFstart,end,count\r\n2026-02-01 07:00,2026-02-01 09:00,2\r\n").ok());
  CHECK_FALSE(load("start,end,count\n2026-02-01 07:00x,2026-02-01 09:00,2\n").ok());
  CHECK(load("start,end,count\n2026-02-28 07:00,2026-02-28 24:00,2\n").ok());

  auto headerOnly = load("start,end,agent\n");
  REQUIRE_FALSE(headerOnly.ok());
  CHECK_THAT(headerOnly.status().message(), Catch::Contains("has a header but no rows"));

  auto twice = load("start,end,agent\n2026-02-02 07:00,2026-02-02 12:00,TOVA\n"
                    "2026-02-02 13:00,2026-02-02 15:00,TOVA\n"
                    "2026-02-02 11:00,2026-02-02 14:00,TOVA\n");
  REQUIRE_FALSE(twice.ok());
  CHECK_THAT(twice.status().message(),
             Catch::Contains("plan.csv:4: agent 'TOVA' is already scheduled then (line 2)"));
  CHECK(load("start,end,agent\n2026-02-02 07:00,2026-02-02 12:00,TOVA\n"
             "2026-02-02 12:00,2026-02-02 15:00,TOVA\n").ok());

  auto asDir = kefu::replay::scheduleStaffing(dir.path().string());
  REQUIRE_FALSE(asDir.ok());
  CHECK_THAT(asDir.status().message(), Catch::Contains("is a directory"));
}

TEST_CASE("gen-calls refuses impossible dates and volumes beyond its limits", "[replay]") {
  CHECK_FALSE(kefu::replay::parseDate("2026-02-30").ok());
  CHECK_FALSE(kefu::replay::parseDate("2025-02-29").ok());
  CHECK(kefu::replay::parseDate("2024-02-29").ok());
  CHECK(*kefu::replay::parseDate("1970-01-02") == 1);
  CHECK(*kefu::replay::parseDate("1969-12-31") == -1);
  CHECK(*kefu::replay::parseDate("2070-01-01") == 36525);
  CHECK_FALSE(kefu::replay::parseDate("2026-2-3").ok());
  CHECK_FALSE(kefu::replay::parseDate("-123-01-01").ok());

  kefu::test::TempDir dir;
  kefu::replay::GenOptions o;
  o.out = (dir / "big.txt").string();
  o.scale = 1e9;
  auto big = kefu::replay::generateCalls(o);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == kefu::StatusCode::kInvalidArgument);
  CHECK_THAT(big.status().message(), Catch::Contains("the most is 2000000"));
  CHECK_FALSE(std::filesystem::exists(o.out));  // refused before the file is created
  o.scale = 1;
  o.callsPerDay = 1'000'000;
  o.days = 365;
  auto year = kefu::replay::generateCalls(o);
  REQUIRE_FALSE(year.ok());
  CHECK_THAT(year.status().message(), Catch::Contains("100000000 calls one run may write"));

  o = {};
  o.out = (dir / "no" / "such" / "dir.txt").string();
  auto cannot = kefu::replay::generateCalls(o);
  REQUIRE_FALSE(cannot.ok());
  CHECK(cannot.status().code() == kefu::StatusCode::kUnavailable);
}

TEST_CASE("gen-calls refuses days its two-digit years cannot name", "[replay]") {
  kefu::test::TempDir dir;
  kefu::replay::GenOptions o;
  o.out = (dir / "calls.txt").string();
  o.callsPerDay = 10;
  o.startDay = *kefu::replay::parseDate("2070-01-01");
  auto late = kefu::replay::generateCalls(o);
  REQUIRE_FALSE(late.ok());
  CHECK(late.status().code() == kefu::StatusCode::kInvalidArgument);
  CHECK_THAT(late.status().message(),
             Catch::Contains("2070-01-01 to 2070-01-01") &&
                 Catch::Contains("hold only 1970-01-01 to 2069-12-31"));
  o.startDay = *kefu::replay::parseDate("1969-12-31");
  CHECK_FALSE(kefu::replay::generateCalls(o).ok());
  o.startDay = *kefu::replay::parseDate("2069-12-31");
  o.days = 2;
  CHECK_FALSE(kefu::replay::generateCalls(o).ok());
  CHECK_FALSE(std::filesystem::exists(o.out));
  o.days = 1;
  REQUIRE(kefu::replay::generateCalls(o).ok());
  auto reader = kefu::calls::openCallLog(o.out, "anonymous-bank");
  REQUIRE(reader.ok());
  kefu::calls::CallRecord r;
  REQUIRE((*reader)->next(r));
  CHECK(r.arrivalMs / 86'400'000 == o.startDay);  // read back in 2069, not 1969
}

TEST_CASE("gen-calls counts its outcomes as the reader reads them", "[replay]") {
  kefu::test::TempDir dir;
  kefu::replay::GenOptions o;
  o.out = (dir / "calls.txt").string();
  o.days = 7;
  o.seed = 3;
  auto stats = kefu::replay::generateCalls(o);
  REQUIRE(stats.ok());
  auto reader = kefu::calls::openCallLog(o.out, "anonymous-bank");
  REQUIRE(reader.ok());
  std::map<kefu::calls::Outcome, uint64_t> n;
  kefu::calls::CallRecord r;
  while ((*reader)->next(r)) ++n[r.outcome];
  CHECK((*reader)->badRowCount() == 0);
  CHECK(n[kefu::calls::Outcome::kAnswered] == stats->answered);
  CHECK(n[kefu::calls::Outcome::kAbandonedInQueue] == stats->abandoned);
  CHECK(n[kefu::calls::Outcome::kEndedInIvr] == stats->endedInIvr);
  CHECK(n[kefu::calls::Outcome::kPhantom] == stats->phantom);
}
