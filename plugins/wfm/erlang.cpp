// SPDX-License-Identifier: Apache-2.0
#include "erlang.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kefu::wfm {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double logAddExp(double a, double b) {
  if (a == -kInf) return b;
  if (b == -kInf) return a;
  double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

QueueMetrics noTraffic(int64_t agents) {
  QueueMetrics m;
  m.agents = agents;
  m.serviceLevel = 1;
  return m;
}

// Erlang C from a known Erlang B of the same servers and load.
QueueMetrics erlangCMetrics(const Traffic& t, int64_t n, double b, double slSeconds) {
  QueueMetrics m;
  m.agents = n;
  double a = t.ratePerSecond * t.ahtSeconds;
  m.offeredErlangs = a;
  if (a >= static_cast<double>(n)) {
    m.stable = false;
    m.probabilityOfWait = 1;
    m.serviceLevel = 0;
    m.asaSeconds = kInf;
    m.occupancy = 1;
    return m;
  }
  double nd = static_cast<double>(n);
  double c = nd * b / (nd - a * (1 - b));
  m.probabilityOfWait = c;
  m.serviceLevel = 1 - c * std::exp(-(nd - a) * slSeconds / t.ahtSeconds);
  m.asaSeconds = c * t.ahtSeconds / (nd - a);
  m.occupancy = a / nd;
  return m;
}

// Erlang A (M/M/n+M). With theta = 1/patience and s = n*mu/theta, a caller who finds j
// others waiting reaches an agent after a sum of exponential phases with rates
// theta*(s+j), ..., theta*s. That sum is distributed as -log(B)/theta with B ~ Beta(s, j+1),
// so answering within t, abandoning and the mean wait all follow from Beta moments and the
// regularized incomplete Beta function, which a recurrence in j gives cheaply.
QueueMetrics erlangAMetrics(const Traffic& t, int64_t n, double slSeconds) {
  QueueMetrics m;
  m.agents = n;
  const double lambda = t.ratePerSecond;
  const double a = lambda * t.ahtSeconds;
  m.offeredErlangs = a;
  if (n == 0) {
    m.probabilityOfWait = 1;
    m.abandonRate = 1;
    return m;
  }
  const double theta = 1 / t.patienceSeconds;
  const double s = static_cast<double>(n) * t.patienceSeconds / t.ahtSeconds;
  const double rho = lambda * t.patienceSeconds;
  const double logRho = std::log(rho);

  // Pass 1: log of T = sum_j rho^j / prod_{i<=j} (s+i), the weight of the queue states.
  double logT = 0;
  double lw = 0;
  int64_t j = 0;
  for (;;) {
    ++j;
    lw += logRho - std::log(s + static_cast<double>(j));
    logT = logAddExp(logT, lw);
    if (static_cast<double>(j) > rho - s && lw < logT - 45) break;
  }
  const int64_t jEnd = j;

  const double b = erlangB(n, a);
  // 1/B - 1 is the weight of the states without a queue, relative to state n.
  const double logNoQueue = b <= 0 ? kInf : std::log(1 / b - 1);
  const double logPn = logNoQueue == kInf ? -kInf : -logAddExp(logNoQueue, logT);
  const double pWait = logPn == -kInf ? 0 : std::exp(logPn + logT);

  // Pass 2: the callers who wait, by how many they find waiting.
  const double x = std::exp(-theta * slSeconds);
  const double logX = -theta * slSeconds;
  const double log1mX = slSeconds > 0 ? std::log1p(-x) : -kInf;
  const double aa = s + 1;  // I_x(s+1, j+1): answered within t, given answered
  double logTerm = aa * logX + log1mX + std::log(aa);  // the b=1 term of the recurrence
  double incBeta = std::exp(aa * logX);                 // I_x(s+1, 1) = x^(s+1)
  double harmonic = 0;                                  // sum_{i=1}^{j+1} 1/(s+i)
  double served = 0, answeredInTime = 0, waitServed = 0, abandoned = 0;
  lw = 0;
  for (int64_t k = 0; k <= jEnd && logPn != -kInf; ++k) {
    const double kd = static_cast<double>(k);
    if (k > 0) {
      lw += logRho - std::log(s + kd);
      // I_x(a, k+1) = I_x(a, k) + x^a (1-x)^k / (k B(a, k)).
      incBeta += std::exp(logTerm);
      logTerm += log1mX + std::log(aa + kd) - std::log(kd + 1);
    }
    harmonic += 1 / (s + kd + 1);
    const double w = std::exp(logPn + lw);
    const double pServed = s / (s + kd + 1);
    served += w * pServed;
    answeredInTime += w * pServed * std::max(0.0, 1 - std::min(1.0, incBeta));
    waitServed += w * pServed * harmonic / theta;
    abandoned += w * (kd + 1) / (s + kd + 1);
  }
  const double pServed = (1 - pWait) + served;
  m.probabilityOfWait = pWait;
  m.serviceLevel = (1 - pWait) + answeredInTime;
  m.abandonRate = abandoned;
  m.asaSeconds = pServed > 0 ? waitServed / pServed : 0;
  m.occupancy = std::min(1.0, a * pServed / static_cast<double>(n));
  return m;
}

bool meets(const QueueMetrics& m, const StaffingTarget& target) {
  if (!m.stable) return false;
  if (target.serviceLevel && m.serviceLevel < *target.serviceLevel) return false;
  if (target.asaSeconds && m.asaSeconds > *target.asaSeconds) return false;
  if (target.maxOccupancy && m.occupancy > *target.maxOccupancy) return false;
  return true;
}

}  // namespace

double erlangB(int64_t servers, double erlangs) {
  double b = 1;
  for (int64_t k = 1; k <= servers; ++k) {
    double ab = erlangs * b;
    b = ab / (static_cast<double>(k) + ab);
  }
  return b;
}

double erlangC(int64_t servers, double erlangs) {
  if (erlangs >= static_cast<double>(servers)) return 1;
  double b = erlangB(servers, erlangs);
  double n = static_cast<double>(servers);
  return n * b / (n - erlangs * (1 - b));
}

QueueMetrics evaluate(const Traffic& traffic, int64_t agents, double slSeconds) {
  if (traffic.ratePerSecond <= 0) return noTraffic(agents);
  if (traffic.patienceSeconds > 0) return erlangAMetrics(traffic, agents, slSeconds);
  return erlangCMetrics(traffic, agents, erlangB(agents, traffic.ratePerSecond *
                                                             traffic.ahtSeconds),
                        slSeconds);
}

std::optional<QueueMetrics> staff(const Traffic& traffic, const StaffingTarget& target,
                                  int64_t limit) {
  if (traffic.ratePerSecond <= 0) return noTraffic(0);
  if (traffic.patienceSeconds <= 0) {
    // Erlang C: walk up from one agent, carrying Erlang B along (O(n) in all).
    const double a = traffic.ratePerSecond * traffic.ahtSeconds;
    double b = 1;
    for (int64_t n = 1; n <= limit; ++n) {
      double ab = a * b;
      b = ab / (static_cast<double>(n) + ab);
      if (static_cast<double>(n) <= a) continue;
      QueueMetrics m = erlangCMetrics(traffic, n, b, target.slSeconds);
      if (meets(m, target)) return m;
      // Past a large excess of agents the metrics no longer move: the target is out of reach.
      if (m.probabilityOfWait < 1e-300 && static_cast<double>(n) > 2 * a + 100) break;
    }
    return std::nullopt;
  }
  // Erlang A: find an upper bound by doubling, then the least agents by bisection (every
  // metric improves with each added agent).
  int64_t lo = 0, hi = 1;
  std::optional<QueueMetrics> best;
  for (;;) {
    QueueMetrics m = erlangAMetrics(traffic, hi, target.slSeconds);
    if (meets(m, target)) {
      best = m;
      break;
    }
    if (hi >= limit) return std::nullopt;
    if (m.probabilityOfWait < 1e-300) return std::nullopt;
    lo = hi;
    hi = std::min(limit, hi * 2);
  }
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    QueueMetrics m = erlangAMetrics(traffic, mid, target.slSeconds);
    if (meets(m, target)) {
      hi = mid;
      best = m;
    } else {
      lo = mid;
    }
  }
  return best;
}

}  // namespace kefu::wfm
