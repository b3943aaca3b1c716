// SPDX-License-Identifier: Apache-2.0
//
// Erlang C and Erlang A against independent computations: Erlang C by direct summation of
// the M/M/n stationary distribution in long double, Erlang A by its birth-death chain and,
// for the waiting time, by uniformization of the waiting caller's own Markov chain.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <vector>

#include "erlang.h"
#include "staffing.h"

using namespace kefu::wfm;

namespace {

// M/M/n: P(wait) from the stationary distribution summed directly.
long double directErlangC(int n, long double a) {
  long double sum = 0, term = 1;  // a^k / k!
  for (int k = 0; k < n; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  long double tail = term * n / (n - a);
  return tail / (sum + tail);
}

long double directServiceLevel(int n, long double a, long double aht, long double t) {
  return 1 - directErlangC(n, a) * std::exp(-(n - a) * t / aht);
}

// M/M/n+M by its birth-death chain, truncated far out, and the waiting caller's chain
// (position j ahead -> j-1 at rate n*mu + j*theta, killed at rate theta) by uniformization.
struct ChainA {
  long double pWait = 0, abandon = 0, serviceLevel = 0;
};

ChainA chainErlangA(int n, long double lambda, long double aht, long double patience,
                    long double t) {
  const long double mu = 1 / aht, theta = 1 / patience;
  const int kMax = n + 400;
  std::vector<long double> p(kMax + 1);
  p[0] = 1;
  for (int k = 1; k <= kMax; ++k) {
    long double death = k <= n ? k * mu : n * mu + (k - n) * theta;
    p[k] = p[k - 1] * lambda / death;
  }
  long double total = 0;
  for (auto v : p) total += v;
  for (auto& v : p) v /= total;
  ChainA out;
  long double queue = 0;
  for (int k = n; k <= kMax; ++k) {
    out.pWait += p[k];
    queue += (k - n) * p[k];
  }
  // Abandonment by Little's law on the queue: theta * E[Q] / lambda.
  out.abandon = theta * queue / lambda;

  // Served within t, for a caller who finds j waiting: uniformize states 0..J (position)
  // plus "served", with killing.
  const int J = kMax - n;
  const long double rate = n * mu + J * theta + theta;
  // P(reach a server by t | start at position j) computed for all j at once, backwards:
  // h_m(j) = probability of being served within m uniformized steps.
  long double poissonWeight = std::exp(-rate * t), cum = 0;
  std::vector<long double> h(J + 1, 0), next(J + 1);
  std::vector<long double> acc(J + 1, 0);
  for (int m = 0; m < 20000; ++m) {
    // acc += Poisson(m) * h_m
    for (int j = 0; j <= J; ++j) acc[j] += poissonWeight * h[j];
    cum += poissonWeight;
    if (1 - cum < 1e-18L && m > rate * t) break;
    for (int j = 0; j <= J; ++j) {
      long double adv = (n * mu + j * theta) / rate;
      long double stay = 1 - adv - theta / rate;
      long double target = j == 0 ? 1 : h[j - 1];
      next[j] = adv * target + stay * h[j];
    }
    h.swap(next);
    poissonWeight *= rate * t / (m + 1);
  }
  long double result = 1 - out.pWait;
  for (int j = 0; j <= J; ++j) result += p[n + j] * acc[j];
  out.serviceLevel = result;
  return out;
}

}  // namespace

TEST_CASE("erlang: textbook values of Erlang B and C", "[wfm]") {
  CHECK(erlangB(10, 10) == Approx(0.21458).margin(5e-5));
  CHECK(erlangC(11, 10) == Approx(0.68211).margin(5e-5));
  CHECK(erlangC(10, 10) == 1);
  CHECK(erlangB(0, 5) == 1);
}

TEST_CASE("erlang: C agrees with direct summation to 1e-9 over a grid", "[wfm]") {
  for (int n : {1, 2, 5, 13, 40, 120}) {
    for (double load : {0.1, 0.5, 0.8, 0.95, 0.999}) {
      for (double t : {0.0, 10.0, 20.0, 60.0}) {
        double a = n * load;
        Traffic tr{a / 180.0, 180.0, 0};
        QueueMetrics m = evaluate(tr, n, t);
        INFO("n=" << n << " a=" << a << " t=" << t);
        CHECK(std::fabs(m.serviceLevel - static_cast<double>(directServiceLevel(n, a, 180, t))) <
              1e-9);
        CHECK(std::fabs(m.probabilityOfWait - static_cast<double>(directErlangC(n, a))) < 1e-9);
      }
    }
  }
}

TEST_CASE("erlang: staffing returns the least agents meeting the service level", "[wfm]") {
  // 200 calls an hour of 180 s: 10 erlangs.
  Traffic tr{200.0 / 3600, 180, 0};
  StaffingTarget target;
  target.serviceLevel = 0.8;
  auto m = staff(tr, target);
  REQUIRE(m);
  CHECK(m->serviceLevel >= 0.8);
  CHECK(evaluate(tr, m->agents - 1, 20).serviceLevel < 0.8);
  CHECK(m->occupancy == Approx(10.0 / m->agents));
  CHECK(m->asaSeconds ==
        Approx(directErlangC(m->agents, 10) * 180 / (m->agents - 10)).epsilon(1e-12));
}

TEST_CASE("erlang: edge cases of load and traffic", "[wfm]") {
  SECTION("load at or above the agents never settles") {
    QueueMetrics m = evaluate({10.0 / 180, 180, 0}, 10, 20);
    CHECK_FALSE(m.stable);
    CHECK(m.serviceLevel == 0);
    CHECK(std::isinf(m.asaSeconds));
    CHECK(evaluate({12.0 / 180, 180, 0}, 10, 20).probabilityOfWait == 1);
  }
  SECTION("no traffic needs no agents") {
    StaffingTarget target;
    target.serviceLevel = 0.9;
    auto m = staff({0, 180, 0}, target);
    REQUIRE(m);
    CHECK(m->agents == 0);
    CHECK(m->serviceLevel == 1);
  }
  SECTION("huge traffic stays finite and close to the load") {
    StaffingTarget target;
    target.serviceLevel = 0.8;
    // 1,000,000 calls an hour of 300 s: 83,333 erlangs.
    auto m = staff({1e6 / 3600, 300, 0}, target);
    REQUIRE(m);
    CHECK(m->agents > 83333);
    CHECK(m->agents < 83333 + 400);
    CHECK(std::isfinite(m->serviceLevel));
    CHECK(evaluate({1e6 / 3600, 300, 0}, m->agents - 1, 20).serviceLevel < 0.8);
  }
  SECTION("targets out of range are refused with a reason") {
    ErlangStaffing calc;
    kefu::StaffingQuery q;
    q.contactsPerHour = 100;
    q.ahtSeconds = 180;
    q.asaSeconds = 0;
    CHECK(calc.staff(q).status().message() == "the ASA target must be > 0 seconds");
    q.asaSeconds.reset();
    q.serviceLevel = 1;
    CHECK(calc.staff(q).status().code() == kefu::StatusCode::kInvalidArgument);
    q.serviceLevel = 0.8;
    q.ahtSeconds = 0;
    CHECK(calc.staff(q).status().code() == kefu::StatusCode::kInvalidArgument);
  }
  SECTION("a tiny ASA target is met by enough agents") {
    auto m = staff({100.0 / 3600, 180, 0}, {20, {}, 1e-6, {}});
    REQUIRE(m);
    CHECK(m->asaSeconds <= 1e-6);
  }
}

TEST_CASE("erlang: A agrees with its birth-death chain", "[wfm]") {
  struct Case {
    int n;
    double lambdaPerHour, aht, patience, t;
  };
  for (Case c : {Case{3, 50, 180, 120, 20}, Case{5, 120, 150, 60, 30}, Case{8, 200, 120, 300, 15},
                 Case{4, 200, 120, 90, 20}, Case{10, 150, 200, 600, 0}}) {
    Traffic tr{c.lambdaPerHour / 3600, c.aht, c.patience};
    QueueMetrics m = evaluate(tr, c.n, c.t);
    ChainA ref = chainErlangA(c.n, c.lambdaPerHour / 3600, c.aht, c.patience, c.t);
    INFO("n=" << c.n << " lambda/h=" << c.lambdaPerHour << " patience=" << c.patience);
    CHECK(m.probabilityOfWait == Approx(static_cast<double>(ref.pWait)).margin(1e-9));
    CHECK(m.abandonRate == Approx(static_cast<double>(ref.abandon)).margin(1e-9));
    CHECK(m.serviceLevel == Approx(static_cast<double>(ref.serviceLevel)).margin(1e-9));
  }
}

TEST_CASE("erlang: A tends to C as patience grows", "[wfm]") {
  Traffic c{300.0 / 3600, 120, 0};
  Traffic a{300.0 / 3600, 120, 1e9};
  QueueMetrics mc = evaluate(c, 12, 20), ma = evaluate(a, 12, 20);
  CHECK(ma.serviceLevel == Approx(mc.serviceLevel).margin(1e-6));
  CHECK(ma.asaSeconds == Approx(mc.asaSeconds).margin(1e-4));
  CHECK(ma.abandonRate < 1e-6);
}

TEST_CASE("erlang: A staffs an overloaded center below its load", "[wfm]") {
  // With impatient callers fewer agents than erlangs can still meet a modest target.
  Traffic tr{600.0 / 3600, 300, 30};
  StaffingTarget target;
  target.serviceLevel = 0.3;
  auto m = staff(tr, target);
  REQUIRE(m);
  CHECK(m->serviceLevel >= 0.3);
  CHECK(evaluate(tr, m->agents - 1, 20).serviceLevel < 0.3);
}

TEST_CASE("staffing: chat concurrency and shrinkage", "[wfm]") {
  ErlangStaffing calc;
  kefu::StaffingQuery q;
  q.contactsPerHour = 240;
  q.ahtSeconds = 600;  // 40 erlangs of sessions
  q.serviceLevel = 0.8;
  q.concurrency = 3;
  auto a = calc.staff(q);
  REQUIRE(a.ok());
  auto one = staff({240.0 / 3600, 600, 0}, {20, 0.8, {}, {}});
  REQUIRE(one);
  CHECK(a->onDuty == (one->agents + 2) / 3);
  q.shrinkage = 0.3;
  auto b = calc.staff(q);
  REQUIRE(b.ok());
  CHECK(b->agents == static_cast<int64_t>(std::ceil(b->onDuty / 0.7)));
}

TEST_CASE("staffing: batch CSV copies columns and names bad rows", "[wfm]") {
  ErlangStaffing calc;
  kefu::StaffingQuery defaults;
  defaults.serviceLevel = 0.8;
  defaults.ahtSeconds = 180;
  int64_t rows = 0;
  SECTION("good rows") {
    std::istringstream in(
        "interval_start,channel,volume,aht_seconds\r\n"
        "1999-02-01 07:00,phone,100,180\r\n"
        "1999-02-01 07:30,phone,0,\r\n");
    std::ostringstream out;
    REQUIRE(staffBatch(calc, "f.csv", in, out, defaults, 30, &rows).ok());
    CHECK(rows == 2);
    std::string text = out.str();
    CHECK(text.find("interval_start,channel,volume,aht_seconds,agents,") == 0);
    // 100 calls in 30 minutes of 180 s are 10 erlangs.
    auto m = staff({200.0 / 3600, 180, 0}, {20, 0.8, {}, {}});
    CHECK(text.find("1999-02-01 07:00,phone,100,180," + std::to_string(m->agents) + ",") !=
          std::string::npos);
    CHECK(text.find("1999-02-01 07:30,phone,0,,0,0,1,0,0,0,0") != std::string::npos);
  }
  SECTION("a bad number") {
    std::istringstream in("volume\n12\nabc\n");
    std::ostringstream out;
    auto s = staffBatch(calc, "f.csv", in, out, defaults, 30, &rows);
    CHECK(s.message() == "f.csv:3: column 'volume': 'abc' is not a number");
  }
  SECTION("a negative volume or handle time names line and column") {
    std::istringstream in("interval_start,volume\n2026-01-05 09:00,4\n2026-01-05 09:30,-3\n");
    std::ostringstream out;
    CHECK(staffBatch(calc, "f.csv", in, out, defaults, 30, &rows).message() ==
          "f.csv:3: column 'volume': '-3' must be >= 0");
    std::istringstream aht("volume,aht_seconds\n4,0\n");
    CHECK(staffBatch(calc, "f.csv", aht, out, defaults, 30, &rows).message() ==
          "f.csv:2: column 'aht_seconds': '0' must be > 0");
  }
  SECTION("a spreadsheet's byte order mark") {
    std::istringstream in("\xEF\xBB\xBFinterval_start,volume\n2026-01-05 09:00,4\n");
    std::ostringstream out;
    REQUIRE(staffBatch(calc, "f.csv", in, out, defaults, 30, &rows).ok());
    CHECK(out.str().rfind("interval_start,volume,agents,", 0) == 0);
  }
  SECTION("no volume column") {
    std::istringstream in("calls\n12\n");
    std::ostringstream out;
    CHECK(staffBatch(calc, "f.csv", in, out, defaults, 30, &rows).message().find(
              "neither 'volume' nor 'rate_per_hour'") != std::string::npos);
  }
}

TEST_CASE("staffing: a load beyond the agent limit is named as such", "[wfm]") {
  ErlangStaffing calc;
  kefu::StaffingQuery q;
  q.contactsPerHour = 1e9;
  q.ahtSeconds = 180;
  q.serviceLevel = 0.8;
  auto a = calc.staff(q);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == kefu::StatusCode::kInvalidArgument);
  CHECK(a.status().message() == "the load of 5e+07 erlangs (1e+09 contacts per hour of 180 s) "
                                "is beyond the limit of 10000000 agents");
}
