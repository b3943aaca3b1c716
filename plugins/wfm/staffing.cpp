// SPDX-License-Identifier: Apache-2.0
#include "staffing.h"

#include <charconv>
#include <cmath>
#include <istream>
#include <ostream>
#include <vector>

#include <fmt/format.h>

#include "erlang.h"

namespace kefu::wfm {
namespace {

std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{:.12g}", v);
}

std::string csvNumber(double v) { return std::isfinite(v) ? fmt::format("{:.10g}", v) : ""; }

std::vector<std::string> splitCsv(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(std::move(cell));
      cell.clear();
    } else {
      cell += c;
    }
  }
  out.push_back(std::move(cell));
  return out;
}

bool parseDouble(const std::string& s, double& v) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  if (b == std::string::npos) return false;
  auto [p, ec] = std::from_chars(s.data() + b, s.data() + e + 1, v);
  return ec == std::errc() && p == s.data() + e + 1 && std::isfinite(v);
}

}  // namespace

Result<StaffingAnswer> ErlangStaffing::staff(const StaffingQuery& q) const {
  if (!(q.contactsPerHour >= 0) || !std::isfinite(q.contactsPerHour)) {
    return Status::invalidArgument("the contact rate must be a number >= 0");
  }
  if (q.contactsPerHour > 0 && !(q.ahtSeconds > 0)) {
    return Status::invalidArgument("the handle time must be > 0 seconds");
  }
  if (q.patienceSeconds < 0) return Status::invalidArgument("patience must be >= 0 seconds");
  if (q.concurrency < 1) return Status::invalidArgument("concurrency must be at least 1");
  if (q.slSeconds < 0) return Status::invalidArgument("the service-level time must be >= 0");
  if (q.serviceLevel && !(*q.serviceLevel >= 0 && *q.serviceLevel < 1)) {
    return Status::invalidArgument("the service-level target must be in [0, 1)");
  }
  if (q.asaSeconds && !(*q.asaSeconds > 0)) {
    return Status::invalidArgument("the ASA target must be > 0 seconds");
  }
  if (q.maxOccupancy && !(*q.maxOccupancy > 0 && *q.maxOccupancy <= 1)) {
    return Status::invalidArgument("the maximum occupancy must be in (0, 1]");
  }
  if (!(q.shrinkage >= 0 && q.shrinkage < 1)) {
    return Status::invalidArgument("shrinkage must be in [0, 1)");
  }
  // Chat: each agent is `concurrency` servers; the queue is solved in sessions.
  Traffic t{q.contactsPerHour / 3600.0, q.ahtSeconds, q.patienceSeconds};
  StaffingTarget target{q.slSeconds, q.serviceLevel, q.asaSeconds, q.maxOccupancy};
  // Erlang C and A need more servers than the offered load in erlangs.
  const double erlangs = t.ratePerSecond * t.ahtSeconds;
  if (erlangs >= static_cast<double>(kMaxServers - 1)) {
    return Status::invalidArgument(fmt::format(
        "the load of {:.4g} erlangs ({:.4g} contacts per hour of {:.4g} s) is beyond the "
        "limit of {} agents{}",
        erlangs, q.contactsPerHour, q.ahtSeconds, kMaxServers / q.concurrency,
        q.concurrency > 1 ? fmt::format(" at concurrency {}", q.concurrency) : ""));
  }
  auto m = kefu::wfm::staff(t, target, kMaxServers);
  if (!m) {
    return Status::failedPrecondition(
        q.asaSeconds ? "no number of agents meets the target: the ASA target is below what "
                       "idle agents give, or the targets cannot be met together"
                     : fmt::format("no number of agents up to the limit of {} meets the "
                                   "targets together",
                                   kMaxServers / q.concurrency));
  }
  StaffingAnswer a;
  int64_t servers = m->agents;
  a.onDuty = (servers + q.concurrency - 1) / q.concurrency;
  if (q.concurrency > 1 && a.onDuty * q.concurrency != servers) {
    // Whole agents bring their full concurrency: report the metrics of what is staffed.
    QueueMetrics full = evaluate(t, a.onDuty * q.concurrency, q.slSeconds);
    if (full.stable) m = full;
  }
  a.agents = q.shrinkage > 0
                 ? static_cast<int64_t>(std::ceil(a.onDuty / (1 - q.shrinkage) - 1e-9))
                 : a.onDuty;
  a.serviceLevel = m->serviceLevel;
  a.asaSeconds = m->asaSeconds;
  a.occupancy = m->occupancy;
  a.probabilityOfWait = m->probabilityOfWait;
  a.abandonRate = m->abandonRate;
  a.offeredErlangs = m->offeredErlangs;
  return a;
}

std::string answerJson(const StaffingQuery& q, const StaffingAnswer& a, int intervalMinutes) {
  return fmt::format(
      "{{\"agents\":{},\"on_duty\":{},\"service_level\":{},\"asa_seconds\":{},"
      "\"occupancy\":{},\"probability_of_wait\":{},\"abandon_rate\":{},"
      "\"offered_erlangs\":{},\"volume\":{},\"model\":\"{}\",\"shrinkage\":{},"
      "\"concurrency\":{}}}",
      a.agents, a.onDuty, number(a.serviceLevel), number(a.asaSeconds), number(a.occupancy),
      number(a.probabilityOfWait), number(a.abandonRate), number(a.offeredErlangs),
      number(q.contactsPerHour * intervalMinutes / 60.0),
      q.patienceSeconds > 0 ? "erlang-a" : "erlang-c", number(q.shrinkage), q.concurrency);
}

Status staffBatch(const StaffingCalculator& calc, const std::string& path, std::istream& in,
                  std::ostream& out, const StaffingQuery& defaults, int intervalMinutes,
                  int64_t* rows) {
  std::string line;
  if (!std::getline(in, line)) return Status::invalidArgument(path + ": the file is empty");
  if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // a spreadsheet's BOM
  if (!line.empty() && line.back() == '\r') line.pop_back();
  std::vector<std::string> header = splitCsv(line);
  int volume = -1, rate = -1, aht = -1, patience = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string& h = header[i];
    if (h == "volume") volume = static_cast<int>(i);
    if (h == "rate_per_hour") rate = static_cast<int>(i);
    if (h == "aht_seconds") aht = static_cast<int>(i);
    if (h == "patience_seconds") patience = static_cast<int>(i);
  }
  if (volume < 0 && rate < 0) {
    return Status::invalidArgument(path +
                                   ":1: the header has neither 'volume' nor 'rate_per_hour'");
  }
  if (aht < 0 && !(defaults.ahtSeconds > 0)) {
    return Status::invalidArgument(path + ":1: no 'aht_seconds' column and no --aht given");
  }
  out << line
      << ",agents,on_duty,service_level,asa_seconds,occupancy,probability_of_wait,"
         "abandon_rate\n";
  std::string buf;
  int64_t lineNo = 1;
  *rows = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> cells = splitCsv(line);
    if (cells.size() != header.size()) {
      return Status::invalidArgument(fmt::format("{}:{}: {} cells where the header has {}",
                                                 path, lineNo, cells.size(), header.size()));
    }
    StaffingQuery q = defaults;
    // A cell's number, >= 0 (or > 0 when `positive`), named by line and column.
    auto cell = [&](int col, double& v, bool optionalEmpty, bool positive = false) -> Status {
      if (optionalEmpty && cells[col].empty()) return {};
      if (!parseDouble(cells[col], v)) {
        return Status::invalidArgument(fmt::format("{}:{}: column '{}': '{}' is not a number",
                                                   path, lineNo, header[col], cells[col]));
      }
      if (positive ? !(v > 0) : !(v >= 0)) {
        return Status::invalidArgument(fmt::format("{}:{}: column '{}': '{}' must be {}",
                                                   path, lineNo, header[col], cells[col],
                                                   positive ? "> 0" : ">= 0"));
      }
      return {};
    };
    if (volume >= 0) {
      double v = 0;
      if (auto s = cell(volume, v, false); !s.ok()) return s;
      q.contactsPerHour = v * 60.0 / intervalMinutes;
    } else if (auto s = cell(rate, q.contactsPerHour, false); !s.ok()) {
      return s;
    }
    // An empty handle time (a forecast without handle times) takes the --aht default.
    if (aht >= 0) {
      if (auto s = cell(aht, q.ahtSeconds, true, true); !s.ok()) return s;
      if (cells[aht].empty() && !(defaults.ahtSeconds > 0)) {
        return Status::invalidArgument(fmt::format(
            "{}:{}: column 'aht_seconds' is empty and no --aht given", path, lineNo));
      }
    }
    if (patience >= 0) {
      if (auto s = cell(patience, q.patienceSeconds, true); !s.ok()) return s;
    }
    auto a = calc.staff(q);
    if (!a.ok()) {
      return Status(a.status().code(),
                    fmt::format("{}:{}: {}", path, lineNo, a.status().message()));
    }
    buf.clear();
    fmt::format_to(std::back_inserter(buf), "{},{},{},{},{},{},{},{}\n", line, a->agents,
                   a->onDuty, csvNumber(a->serviceLevel), csvNumber(a->asaSeconds),
                   csvNumber(a->occupancy), csvNumber(a->probabilityOfWait),
                   csvNumber(a->abandonRate));
    out << buf;
    ++*rows;
  }
  return {};
}

}  // namespace kefu::wfm
