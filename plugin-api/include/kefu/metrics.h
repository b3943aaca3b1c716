// SPDX-License-Identifier: Apache-2.0
//
// Metrics: counters, gauges and histograms exported at GET /metrics in the Prometheus text
// format.
//
// Name metrics kefu_<plugin>_<what>_<unit> (e.g. kefu_journal_events_written_total). Asking
// twice for the same name and labels returns the same instrument; the returned reference
// lives as long as the host, so keep it and update it without further look-ups. Updates
// are lock-free and safe from any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

using MetricLabels = std::map<std::string, std::string>;

class Counter {
 public:
  virtual ~Counter() = default;
  // REQUIRES: delta >= 0.
  virtual void inc(double delta = 1) = 0;
  virtual double value() const = 0;
};

class Gauge {
 public:
  virtual ~Gauge() = default;
  virtual void set(double v) = 0;
  virtual void add(double delta) = 0;
  virtual double value() const = 0;
};

class Histogram {
 public:
  virtual ~Histogram() = default;
  virtual void observe(double v) = 0;
};

class Metrics {
 public:
  virtual ~Metrics() = default;

  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]*; an invalid name or a name already used with
  // another instrument type throws std::invalid_argument (a programming error).
  virtual Counter& counter(const std::string& name, const std::string& help,
                           const MetricLabels& labels = {}) = 0;
  virtual Gauge& gauge(const std::string& name, const std::string& help,
                       const MetricLabels& labels = {}) = 0;
  // `bounds` are the upper bounds of the buckets, increasing; +Inf is implied.
  virtual Histogram& histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& bounds,
                               const MetricLabels& labels = {}) = 0;
};

KEFU_SDK_NAMESPACE_END
