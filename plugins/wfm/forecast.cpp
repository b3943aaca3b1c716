// SPDX-License-Identifier: Apache-2.0
//
// The forecast model (sdk-docs/wfm.md, "Forecasting"): weekday levels and intraday shapes
// from exponentially weighted recent weeks, a day-of-month factor and a damped trend,
// event effects learned from past events of the same kind, and a prediction interval from
// the dispersion seen when the model forecasts the last four weeks of its own history.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <ostream>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "forecast.h"

namespace kefu::wfm {

namespace {

constexpr int kNeighbourDays = 24;     // same weekday up to three weeks either side
constexpr double kAhtPrior = 10;       // contacts' worth of weight of the pooled AHT
constexpr double kMaxTrend = 0.25;     // the trend moves the level by at most this share
constexpr int kHoldoutDays = 28;

int dayOfMonth(int64_t day) {
  int y, m, d;
  civilFromDays(day, y, m, d);
  return d;
}

// Inverse of the standard normal distribution function by bisection (cheap, once a run).
double normalQuantile(double p) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 100; ++i) {
    double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

void smooth(std::vector<double>& s) {
  if (s.size() < 3) return;
  std::vector<double> t(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    double l = s[i == 0 ? 0 : i - 1], r = s[i + 1 == s.size() ? i : i + 1];
    t[i] = 0.25 * l + 0.5 * s[i] + 0.25 * r;
  }
  double sum = 0;
  for (double v : t) sum += v;
  if (sum > 0) {
    for (auto& v : t) v /= sum;
  }
  s = std::move(t);
}

// Per day of one series: which events fall on it.
struct DayInfo {
  std::vector<const Event*> events;
  int weekday = 0;  // the weekday whose regular profile the day follows
};

struct KindEffect {
  double ratioSum = 0;
  int n = 0;
  std::vector<double> shapeSum;
  int shapes = 0;
};

// The regular model of one series fitted on its days [0, trainEnd).
class Model {
 public:
  Model(const Series& s, int perDay, const ForecastOptions& o,
        const std::map<int64_t, DayInfo>& calendar, int64_t trainEnd)
      : s_(s), p_(perDay), o_(o), cal_(calendar), end_(trainEnd) {
    tot_.assign(static_cast<size_t>(end_), 0);
    for (int64_t d = 0; d < end_; ++d) {
      for (int i = 0; i < p_; ++i) tot_[d] += at(d, i);
    }
    fitDayOfMonth();
    fitWeekdays();
    fitTrend();
    fitEvents();
  }

  int64_t trainEnd() const { return end_; }
  bool regular(int64_t d) const {
    return d >= 0 && d < end_ && s_.present[d] && !cal_.count(d);
  }
  // Forecast of day d (index into the series, d >= trainEnd) into `out` (perDay values).
  void predict(int64_t d, std::vector<double>& out) const {
    DayInfo plain;
    const DayInfo& di = info(d, plain);
    double lvl = 1 + slope_ * (static_cast<double>(d - end_) / 7 + 0.5);
    lvl = std::clamp(lvl, 1 - kMaxTrend, 1 + kMaxTrend);
    double mult = 1;
    const std::vector<double>* shape = &shape_[di.weekday];
    std::vector<double> blended;
    std::set<std::string> done;  // two events of one kind on a day count once
    for (const Event* e : di.events) {
      if (!done.insert(e->kind).second) continue;
      auto [eff, n] = effect(*e);
      mult *= eff;
      auto it = kinds_.find(e->kind);
      if (shape == &shape_[di.weekday] && it != kinds_.end() && it->second.shapes > 0) {
        // Event days keep their own intraday shape (an eve closes early), trusted by count.
        const KindEffect& k = it->second;
        double a = k.shapes / (k.shapes + 1.0);
        blended.resize(p_);
        for (int i = 0; i < p_; ++i) {
          blended[i] = a * k.shapeSum[i] / k.shapes + (1 - a) * (*shape)[i];
        }
        smooth(blended);
        shape = &blended;
      }
    }
    double total = base_[di.weekday] * dom_[dayOfMonth(s_.firstDay + d)] * lvl * mult;
    out.resize(p_);
    for (int i = 0; i < p_; ++i) out[i] = std::max(0.0, total * (*shape)[i]);
  }
  // The multiplier used for an event and how many past events it was learned from.
  std::pair<double, int> effect(const Event& e) const {
    auto it = kinds_.find(e.kind);
    int n = it == kinds_.end() ? 0 : it->second.n;
    double learned = n ? it->second.ratioSum / n : 1;
    if (e.effect) return {(n * learned + *e.effect) / (n + 1), n};
    return {learned, n};
  }
  const std::map<std::string, KindEffect>& kinds() const { return kinds_; }
  double slope() const { return slope_; }

 private:
  double at(int64_t d, int i) const { return s_.volume[static_cast<size_t>(d) * p_ + i]; }
  // The events of day d; a day without any follows its own weekday.
  const DayInfo& info(int64_t d, DayInfo& plain) const {
    auto it = cal_.find(d);
    if (it != cal_.end()) return it->second;
    plain.weekday = weekdayOf(s_.firstDay + d);
    return plain;
  }
  int weekdayFor(int64_t d) const {
    auto it = cal_.find(d);
    return it != cal_.end() ? it->second.weekday : weekdayOf(s_.firstDay + d);
  }

  // Regular days near d on the weekday whose profile d follows.
  std::vector<int64_t> neighbours(int64_t d) const {
    std::vector<int64_t> nb;
    int w = weekdayFor(d);
    for (int64_t j = d - kNeighbourDays; j <= d + kNeighbourDays; ++j) {
      if (j != d && regular(j) && weekdayOf(s_.firstDay + j) == w) nb.push_back(j);
    }
    return nb;
  }

  void fitDayOfMonth() {
    std::vector<double> sum(32, 0);
    std::vector<int> n(32, 0);
    for (int64_t d = 0; d < end_; ++d) {
      if (!regular(d)) continue;
      auto nb = neighbours(d);
      if (nb.size() < 2) continue;
      double m = 0;
      for (int64_t j : nb) m += tot_[j];
      m /= static_cast<double>(nb.size());
      if (m <= 0) continue;
      int k = dayOfMonth(s_.firstDay + d);
      sum[k] += tot_[d] / m;
      ++n[k];
    }
    dom_.assign(32, 1);
    for (int k = 1; k < 32; ++k) {
      dom_[k] = (sum[k] + o_.dayOfMonthPrior) / (n[k] + o_.dayOfMonthPrior);
    }
  }

  void fitWeekdays() {
    base_.assign(7, 0);
    shape_.assign(7, std::vector<double>(p_, 1.0 / p_));
    std::vector<bool> seen(7, false);
    for (int w = 0; w < 7; ++w) {
      double wsum = 0, bsum = 0, ssum = 0;
      std::vector<double> sh(p_, 0);
      int used = 0;
      for (int64_t d = end_ - 1; d >= 0 && used < o_.weeks; --d) {
        if (!regular(d) || weekdayOf(s_.firstDay + d) != w) continue;
        ++used;
        double age = static_cast<double>((end_ - 1 - d) / 7);
        double wt = std::pow(0.5, age / o_.halfLifeWeeks);
        wsum += wt;
        bsum += wt * tot_[d] / dom_[dayOfMonth(s_.firstDay + d)];
        if (tot_[d] > 0) {
          ssum += wt;
          for (int i = 0; i < p_; ++i) sh[i] += wt * at(d, i) / tot_[d];
        }
      }
      if (wsum > 0) {
        base_[w] = bsum / wsum;
        seen[w] = true;
      }
      if (ssum > 0) {
        for (int i = 0; i < p_; ++i) shape_[w][i] = sh[i] / ssum;
      }
    }
    // Busy weekdays share most of their shape: pool them and shrink each toward the pool.
    double top = *std::max_element(base_.begin(), base_.end());
    std::vector<int> busy;
    for (int w = 0; w < 7; ++w) {
      if (seen[w] && top > 0 && base_[w] >= 0.5 * top) busy.push_back(w);
    }
    if (busy.size() > 1) {
      std::vector<double> pool(p_, 0);
      for (int w : busy) {
        for (int i = 0; i < p_; ++i) pool[i] += shape_[w][i] / static_cast<double>(busy.size());
      }
      for (int w : busy) {
        for (int i = 0; i < p_; ++i) {
          shape_[w][i] = (1 - o_.shapeShrink) * shape_[w][i] + o_.shapeShrink * pool[i];
        }
      }
    }
    for (auto& sh : shape_) smooth(sh);
  }

  // Least-squares slope of the weekly level against the weekday levels, damped by weight.
  void fitTrend() {
    slope_ = 0;
    if (o_.trendWeight <= 0) return;
    std::vector<std::pair<double, double>> pts;
    for (int q = 0; q < o_.trendWeeks; ++q) {
      double actual = 0, expect = 0;
      int n = 0;
      for (int64_t d = end_ - 7 * (q + 1); d < end_ - 7 * q; ++d) {
        if (!regular(d)) continue;
        ++n;
        actual += tot_[d] / dom_[dayOfMonth(s_.firstDay + d)];
        expect += base_[weekdayOf(s_.firstDay + d)];
      }
      if (n >= 6 && expect > 0) pts.emplace_back(-q, actual / expect);
    }
    // Fewer weeks make a slope of noise.
    if (pts.size() < 6) return;
    double mx = 0, my = 0;
    for (auto [x, y] : pts) mx += x, my += y;
    mx /= static_cast<double>(pts.size());
    my /= static_cast<double>(pts.size());
    double sxy = 0, sxx = 0;
    for (auto [x, y] : pts) sxy += (x - mx) * (y - my), sxx += (x - mx) * (x - mx);
    if (sxx > 0) slope_ = o_.trendWeight * sxy / sxx;
  }

  void fitEvents() {
    for (int64_t d = 0; d < end_; ++d) {
      if (!s_.present[d]) continue;
      DayInfo plain;
      const DayInfo& di = info(d, plain);
      if (di.events.empty()) continue;
      auto nb = neighbours(d);
      if (nb.empty()) continue;
      std::vector<double> e(p_, 0);
      double domMean = 0;
      for (int64_t j : nb) {
        domMean += dom_[dayOfMonth(s_.firstDay + j)];
        for (int i = 0; i < p_; ++i) e[i] += at(j, i);
      }
      double scale = dom_[dayOfMonth(s_.firstDay + d)] / domMean;
      double esum = 0;
      for (auto& v : e) esum += v * scale;
      if (esum <= 0) continue;
      std::set<std::string> done;
      for (const Event* ev : di.events) {
        if (!done.insert(ev->kind).second) continue;
        KindEffect& k = kinds_[ev->kind];
        k.ratioSum += tot_[d] / esum;
        ++k.n;
        if (tot_[d] > 0) {
          k.shapeSum.resize(p_, 0);
          for (int i = 0; i < p_; ++i) k.shapeSum[i] += at(d, i) / tot_[d];
          ++k.shapes;
        }
      }
    }
  }

  const Series& s_;
  int p_;
  const ForecastOptions& o_;
  const std::map<int64_t, DayInfo>& cal_;
  int64_t end_;
  std::vector<double> tot_, dom_, base_;
  std::vector<std::vector<double>> shape_;
  double slope_ = 0;
  std::map<std::string, KindEffect> kinds_;
};

// Handle time per weekday and interval: volume-weighted over the same recent weeks, shrunk
// toward the interval's pooled mean and that toward the series' mean where contacts are few.
struct AhtModel {
  std::vector<std::vector<double>> mean, sd;  // [weekday][slot]
  bool any = false;                           // the fitted days had handle times at all

  AhtModel(const Series& s, int p, const ForecastOptions& o, int64_t end,
           const std::function<bool(int64_t)>& regular) {
    std::vector<std::vector<double>> h(7, std::vector<double>(p, 0)), c = h, q = h;
    double H = 0, C = 0;
    std::vector<double> hp(p, 0), cp(p, 0);
    for (int w = 0; w < 7; ++w) {
      int used = 0;
      for (int64_t d = end - 1; d >= 0 && used < o.weeks; --d) {
        if (!regular(d) || weekdayOf(s.firstDay + d) != w) continue;
        ++used;
        double wt = std::pow(0.5, static_cast<double>((end - 1 - d) / 7) / o.halfLifeWeeks);
        for (int i = 0; i < p; ++i) {
          size_t k = static_cast<size_t>(d) * p + i;
          if (s.handled[k] <= 0) continue;
          double a = s.handle[k] / s.handled[k];
          h[w][i] += wt * s.handle[k];
          c[w][i] += wt * s.handled[k];
          q[w][i] += wt * s.handled[k] * a * a;
          hp[i] += wt * s.handle[k];
          cp[i] += wt * s.handled[k];
        }
      }
    }
    for (int i = 0; i < p; ++i) H += hp[i], C += cp[i];
    any = C > 0;
    double overall = any ? H / C : 0;
    double var = 0;
    for (int w = 0; w < 7; ++w) {
      for (int i = 0; i < p; ++i) var += q[w][i];
    }
    var = C > 0 ? std::max(0.0, var / C - overall * overall) : 0;
    mean.assign(7, std::vector<double>(p, overall));
    sd.assign(7, std::vector<double>(p, std::sqrt(var)));
    for (int w = 0; w < 7; ++w) {
      for (int i = 0; i < p; ++i) {
        double prior = (hp[i] + kAhtPrior * overall) / (cp[i] + kAhtPrior);
        double m = (h[w][i] + kAhtPrior * prior) / (c[w][i] + kAhtPrior);
        double v = (q[w][i] - 2 * m * h[w][i] + m * m * c[w][i] + kAhtPrior * var) /
                   (c[w][i] + kAhtPrior);
        mean[w][i] = m;
        sd[w][i] = std::sqrt(std::max(0.0, v));
      }
    }
  }
};

}  // namespace

Result<std::vector<ForecastRow>> forecast(const History& history,
                                          const std::vector<Event>& events,
                                          const ForecastOptions& o,
                                          std::vector<std::string>* notes) {
  if (o.days < 1 || o.days > 366) {
    return Status::invalidArgument("the forecast covers 1 to 366 days");
  }
  if (!(o.level > 0 && o.level < 1)) {
    return Status::invalidArgument("the interval level must be between 0 and 1");
  }
  const int p = 1440 / history.intervalMinutes;
  const double z = normalQuantile((1 + o.level) / 2);
  std::vector<ForecastRow> rows;
  for (const Series& s : history.series) {
    int64_t trainEnd = std::min<int64_t>(s.days, o.start - s.firstDay);
    int presentDays = 0;
    for (int64_t d = 0; d < trainEnd; ++d) presentDays += s.present[d];
    if (presentDays < 14) {
      return Status::failedPrecondition(fmt::format(
          "channel {}: {} days of history before {}; the forecast needs at least 14",
          s.channel, presentDays, formatDate(o.start)));
    }
    // Calendar over the history and the horizon, by index into the series.
    std::map<int64_t, DayInfo> cal;
    for (const Event& e : events) {
      for (int64_t day = e.first; day <= e.last; ++day) {
        int64_t d = day - s.firstDay;
        if (d < 0 || day >= o.start + o.days) continue;
        DayInfo& di = cal[d];
        if (di.events.empty()) di.weekday = weekdayOf(day);
        di.events.push_back(&e);
        if (e.like >= 0) di.weekday = e.like;
      }
    }
    Model model(s, p, o, cal, trainEnd);
    auto regular = [&](int64_t d) { return model.regular(d); };

    // Dispersion: var = f + c f^2, c from forecasting the last four weeks of history.
    double num = 0, den = 0;
    std::vector<double> f;
    int64_t hold = trainEnd - kHoldoutDays;
    bool holdout = presentDays >= 14 + kHoldoutDays;
    Model check = holdout ? Model(s, p, o, cal, hold) : model;
    for (int64_t d = holdout ? hold : std::max<int64_t>(0, hold); d < trainEnd; ++d) {
      if (!model.regular(d)) continue;
      check.predict(d, f);
      for (int i = 0; i < p; ++i) {
        double a = s.volume[static_cast<size_t>(d) * p + i];
        num += (a - f[i]) * (a - f[i]) - f[i];
        den += f[i] * f[i];
      }
    }
    double c = den > 0 ? std::max(0.0, num / den) : 0;
    if (notes) {
      notes->push_back(fmt::format(
          "channel {}: {} days of history, dispersion {:.4f} ({}), weekly trend {:+.4f}",
          s.channel, presentDays, c, holdout ? "last 4 weeks forecast out of sample"
                                             : "in sample: history shorter than 6 weeks",
          model.slope()));
      std::set<std::string> said;
      for (const Event& e : events) {
        if (e.last < o.start || e.first >= o.start + o.days || !said.insert(e.kind).second) {
          continue;
        }
        auto [eff, n] = model.effect(e);
        notes->push_back(
            n ? fmt::format("channel {}: {} ({}): volume x{:.3f}, learned from {} past days",
                            s.channel, e.kind, e.name, eff, n)
              : fmt::format("channel {}: {} ({}): no past days of this kind in the history; "
                            "volume x{:.3f}{}",
                            s.channel, e.kind, e.name, eff,
                            e.effect ? " as given" : ", as a regular day"));
      }
    }
    std::optional<AhtModel> aht;
    if (history.hasHandleTimes) aht.emplace(s, p, o, trainEnd, regular);
    if (aht && !aht->any) aht.reset();  // this channel's recent days have no handle times
    for (int64_t day = o.start; day < o.start + o.days; ++day) {
      int64_t d = day - s.firstDay;
      model.predict(d, f);
      auto it = cal.find(d);
      int w = it != cal.end() ? it->second.weekday : weekdayOf(day);
      for (int i = 0; i < p; ++i) {
        ForecastRow r;
        r.day = day;
        r.slot = i;
        r.channel = s.channel;
        r.volume = f[i];
        double sd = std::sqrt(f[i] + c * f[i] * f[i]);
        r.volumeLow = std::max(0.0, f[i] - z * sd);
        r.volumeHigh = f[i] + z * sd;
        if (aht) {
          r.aht = aht->mean[w][i];
          r.ahtLow = std::max(0.0, r.aht - z * aht->sd[w][i]);
          r.ahtHigh = r.aht + z * aht->sd[w][i];
        } else {
          r.aht = r.ahtLow = r.ahtHigh = NAN;
        }
        rows.push_back(std::move(r));
      }
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const ForecastRow& a, const ForecastRow& b) {
    return std::tie(a.day, a.slot) < std::tie(b.day, b.slot);
  });
  return rows;
}

void writeForecastCsv(std::ostream& out, const std::vector<ForecastRow>& rows,
                      int intervalMinutes) {
  out << "interval_start,channel,volume,aht_seconds,volume_low,volume_high,aht_low,aht_high\n";
  auto num = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.3f}", v); };
  for (const ForecastRow& r : rows) {
    int minute = r.slot * intervalMinutes;
    bool quote = r.channel.find_first_of(",\"") != std::string::npos;
    std::string ch = r.channel;
    if (quote) {
      std::string q = "\"";
      for (char c : ch) q += c == '"' ? std::string("\"\"") : std::string(1, c);
      ch = q + "\"";
    }
    out << fmt::format("{} {:02}:{:02},{},{:.3f},{},{:.3f},{:.3f},{},{}\n", formatDate(r.day),
                       minute / 60, minute % 60, ch, r.volume, num(r.aht), r.volumeLow,
                       r.volumeHigh, num(r.ahtLow), num(r.ahtHigh));
  }
}

}  // namespace kefu::wfm
