// SPDX-License-Identifier: Apache-2.0
//
// Published schedules in the store, and agent states read back for the review.
#include "schedule_store.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <soci/soci.h>

#include "forecast.h"
#include "kefu/http.h"
#include "kefu/store_util.h"

namespace kefu::wfm {

namespace {

std::string breaksText(const ScheduledShift& s) {
  std::string out;
  for (const auto& [b, len] : s.breaks) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{:02}:{:02}+{}", (b % 1440) / 60, b % 60, len);
  }
  return out;
}

ScheduleVersion versionOf(const soci::row& r) {
  ScheduleVersion v;
  v.version = rowInt(r, 0);
  v.publishedAtMs = rowInt(r, 1);
  v.publishedBy = rowText(r, 2);
  v.firstDay = rowText(r, 3);
  v.lastDay = rowText(r, 4);
  v.shifts = rowInt(r, 5);
  v.note = rowText(r, 6);
  return v;
}

constexpr const char* kVersionColumns =
    "version, published_at_ms, published_by, first_day, last_day, shifts, note";

}  // namespace

std::vector<Migration> scheduleMigrations() {
  return {{1, "published schedules and their shifts",
           "CREATE TABLE wfm_schedules ("
           "  version BIGINT PRIMARY KEY,"
           "  published_at_ms BIGINT NOT NULL,"
           "  published_by VARCHAR(64) NOT NULL,"
           "  first_day VARCHAR(10) NOT NULL,"
           "  last_day VARCHAR(10) NOT NULL,"
           "  shifts BIGINT NOT NULL,"
           "  note VARCHAR(256) NOT NULL);"
           "CREATE TABLE wfm_shifts ("
           "  version BIGINT NOT NULL REFERENCES wfm_schedules (version),"
           "  agent_id VARCHAR(64) NOT NULL,"
           "  template VARCHAR(64) NOT NULL,"
           "  start_min BIGINT NOT NULL,"
           "  end_min BIGINT NOT NULL,"
           "  breaks VARCHAR(512) NOT NULL);"
           "CREATE INDEX wfm_shifts_agent ON wfm_shifts (version, agent_id, start_min)",
           ""}};
}

Result<ScheduleVersion> publishSchedule(Store& store, const std::vector<ScheduledShift>& shifts,
                                        const std::string& by, const std::string& note,
                                        int64_t nowMs) {
  if (shifts.empty()) return Status::invalidArgument("the schedule has no shifts");
  if (note.size() > 256) return Status::invalidArgument("the note has over 256 characters");
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> spans;
  int64_t first = shifts.front().day, last = first;
  for (const auto& s : shifts) {
    if (s.templateName.size() > 64) {
      return Status::invalidArgument("template names have at most 64 characters");
    }
    if (breaksText(s).size() > 512) return Status::invalidArgument("too many breaks");
    int64_t a = s.day * 1440 + s.start;
    spans[s.agent].emplace_back(a, a + s.length);
    first = std::min(first, s.day);
    last = std::max(last, s.day);
  }
  for (auto& [agent, list] : spans) {
    std::sort(list.begin(), list.end());
    for (size_t i = 1; i < list.size(); ++i) {
      if (list[i].first < list[i - 1].second) {
        return Status::invalidArgument(fmt::format("agent {} has overlapping shifts at {}",
                                                   agent, formatDateTime(list[i].first)));
      }
    }
  }
  auto db = store.openSession();
  soci::transaction tx(*db);
  long long maxVersion = 0;
  soci::indicator ind = soci::i_ok;
  *db << "SELECT MAX(version) FROM wfm_schedules", soci::into(maxVersion, ind);
  ScheduleVersion v;
  v.version = (ind == soci::i_null ? 0 : maxVersion) + 1;
  v.publishedAtMs = nowMs;
  v.publishedBy = by.substr(0, 64);
  v.firstDay = formatDate(first);
  v.lastDay = formatDate(last);
  v.shifts = static_cast<int64_t>(shifts.size());
  v.note = note;
  long long version = v.version, at = v.publishedAtMs, count = v.shifts;
  *db << "INSERT INTO wfm_schedules (version, published_at_ms, published_by, first_day, "
         "last_day, shifts, note) VALUES (:v, :at, :by, :f, :l, :n, :note)",
      soci::use(version), soci::use(at), soci::use(v.publishedBy), soci::use(v.firstDay),
      soci::use(v.lastDay), soci::use(count), soci::use(v.note);
  std::string agent, tmpl, breaks;
  long long startMin = 0, endMin = 0;
  soci::statement insert =
      (db->prepare << "INSERT INTO wfm_shifts (version, agent_id, template, start_min, "
                      "end_min, breaks) VALUES (:v, :a, :t, :s, :e, :b)",
       soci::use(version), soci::use(agent), soci::use(tmpl), soci::use(startMin),
       soci::use(endMin), soci::use(breaks));
  for (const auto& s : shifts) {
    agent = s.agent;
    tmpl = s.templateName;
    startMin = s.day * 1440 + s.start;
    endMin = startMin + s.length;
    breaks = breaksText(s);
    insert.execute(true);
  }
  tx.commit();
  return v;
}

Result<std::vector<ScheduleVersion>> listSchedules(Store& store) {
  auto db = store.openSession();
  std::vector<ScheduleVersion> out;
  soci::rowset<soci::row> rows = (db->prepare << "SELECT " << kVersionColumns
                                              << " FROM wfm_schedules ORDER BY version DESC");
  for (const soci::row& r : rows) out.push_back(versionOf(r));
  return out;
}

Result<std::vector<ScheduledShift>> loadShifts(Store& store, int64_t version,
                                               const std::string& agent, int64_t fromMin,
                                               int64_t toMin, ScheduleVersion* info) {
  auto db = store.openSession();
  long long v = version;
  std::vector<ScheduleVersion> found;
  {
    soci::rowset<soci::row> rows =
        version > 0 ? (db->prepare << "SELECT " << kVersionColumns
                                   << " FROM wfm_schedules WHERE version = :v",
                       soci::use(v))
                    : (db->prepare << "SELECT " << kVersionColumns
                                   << " FROM wfm_schedules ORDER BY version DESC LIMIT 1");
    for (const soci::row& r : rows) found.push_back(versionOf(r));
  }
  if (found.empty()) {
    return Status::notFound(version > 0 ? fmt::format("no schedule version {}", version)
                                        : "no schedule is published");
  }
  if (info) *info = found.front();
  v = found.front().version;
  long long lo = fromMin, hi = toMin;
  // The stored rows go back through the schedule reader so both paths check alike.
  std::string csv = "agent,template,start,end,breaks\n";
  std::string sql =
      "SELECT agent_id, template, start_min, end_min, breaks FROM wfm_shifts WHERE version = :v "
      "AND end_min > :lo AND start_min < :hi";
  if (!agent.empty()) sql += " AND agent_id = :a";
  sql += " ORDER BY agent_id, start_min";
  auto emit = [&](soci::rowset<soci::row>& rows) {
    for (const soci::row& r : rows) {
      csv += fmt::format("\"{}\",\"{}\",{},{},{}\n", rowText(r, 0), rowText(r, 1),
                         formatDateTime(rowInt(r, 2)), formatDateTime(rowInt(r, 3)),
                         rowText(r, 4));
    }
  };
  if (agent.empty()) {
    soci::rowset<soci::row> rows =
        (db->prepare << sql, soci::use(v), soci::use(lo), soci::use(hi));
    emit(rows);
  } else {
    soci::rowset<soci::row> rows =
        (db->prepare << sql, soci::use(v), soci::use(lo), soci::use(hi), soci::use(agent));
    emit(rows);
  }
  std::istringstream in(csv);
  return readScheduleCsv("wfm_shifts", in);
}

Result<std::vector<StateChange>> loadStates(Store& store, const std::vector<std::string>& agents,
                                            int64_t fromMs, int64_t toMs) {
  auto db = store.openSession();
  std::vector<StateChange> out;
  try {
    std::string agent;
    long long lo = fromMs, hi = toMs;
    for (const auto& a : agents) {
      agent = a;
      soci::rowset<soci::row> before =
          (db->prepare << "SELECT to_state, at_ms FROM acd_agent_states WHERE agent_id = :a "
                          "AND at_ms < :lo ORDER BY at_ms DESC, id DESC LIMIT 1",
           soci::use(agent), soci::use(lo));
      for (const soci::row& r : before) out.push_back({a, rowText(r, 0), rowInt(r, 1)});
      soci::rowset<soci::row> rows =
          (db->prepare << "SELECT to_state, at_ms FROM acd_agent_states WHERE agent_id = :a "
                          "AND at_ms >= :lo AND at_ms < :hi ORDER BY at_ms, id",
           soci::use(agent), soci::use(lo), soci::use(hi));
      for (const soci::row& r : rows) out.push_back({a, rowText(r, 0), rowInt(r, 1)});
    }
  } catch (const soci::soci_error& e) {
    std::string what = e.what();
    if (what.find("acd_agent_states") != std::string::npos) {
      return Status::failedPrecondition(
          "the store has no agent states (table acd_agent_states): enable routing-acd in "
          "this deployment");
    }
    throw;
  }
  return out;
}

std::string versionJson(const ScheduleVersion& v) {
  return fmt::format("{{\"version\":{},\"published_at\":\"{}\",\"published_by\":\"{}\","
                     "\"first_day\":\"{}\",\"last_day\":\"{}\",\"shifts\":{},\"note\":\"{}\"}}",
                     v.version, formatUtcMillis(v.publishedAtMs), jsonEscape(v.publishedBy),
                     v.firstDay, v.lastDay, v.shifts, jsonEscape(v.note));
}

std::string shiftJson(const ScheduledShift& s) {
  int64_t base = s.day * 1440;
  std::string br;
  for (const auto& [b, len] : s.breaks) {
    br += fmt::format("{}{{\"start\":\"{}\",\"end\":\"{}\"}}", br.empty() ? "" : ",",
                      formatDateTime(base + b), formatDateTime(base + b + len));
  }
  return fmt::format("{{\"agent\":\"{}\",\"template\":\"{}\",\"start\":\"{}\",\"end\":\"{}\","
                     "\"breaks\":[{}]}}",
                     jsonEscape(s.agent), jsonEscape(s.templateName),
                     formatDateTime(base + s.start), formatDateTime(base + s.start + s.length),
                     br);
}

}  // namespace kefu::wfm
