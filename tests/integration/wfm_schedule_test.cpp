// SPDX-License-Identifier: Apache-2.0
//
// `kefu wfm schedule`, `publish` and `adherence` and the /api/v1/wfm routes through the real
// executable with the wfm, user-auth and routing-acd plugins.
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using Json = nlohmann::json;
using kefu::test::signIn;

namespace {

std::filesystem::path deployment(const TempDir& dir) {
  return dir.write("deploy.toml",
                   kefu::test::authDeploymentHead("threads = 2\n") + R"([log]
level = "warn"
[plugins.routing-acd]
enabled = true
required = true
[[plugins.routing-acd.queues]]
name = "claims"
skills = ["claims"]
[[plugins.routing-acd.agents]]
id = "wfm-001"
skills = { claims = 5 }
[plugins.wfm]
enabled = true
required = true
shifts_file = "shifts.toml"
utc_offset = "+08:00"
)");
}

kefu::test::KefuRun runKefu(const TempDir& dir, std::vector<std::string> args,
                            const std::string& in = "") {
  return kefu::test::kefuRun(dir, kefu::test::withDeployment(args, deployment(dir), dir.path()),
                             in);
}

// Minutes since the epoch of a UTC time on 2026-01-05, as milliseconds.
long long utcMs(int h, int m) { return (20458LL * 1440 + h * 60 + m) * 60000; }

}  // namespace

TEST_CASE("Schedules are made published read and reviewed", "[integration][wfm]") {
  TempDir dir;
  dir.write("shifts.toml",
            "headcount = 3\n[rules]\nmax_consecutive_days = 7\n[[template]]\nname = \"morning\"\n"
            "earliest_start = \"09:00\"\nlength_hours = 4\ndays_off_per_week = 0\n");
  std::string req = "interval_start,required\n";
  for (int h = 9; h < 13; ++h) {
    req += "2026-01-05 " + std::to_string(h / 10) + std::to_string(h % 10) + ":00,2\n";
    req += "2026-01-05 " + std::to_string(h / 10) + std::to_string(h % 10) + ":30,2\n";
  }
  dir.write("req.csv", req);

  // Scheduling with the plugin's shifts_file: two agents 09:00-13:00.
  auto r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "req.csv").string(),
                         "--start", "2026-01-05", "--days", "1", "--out",
                         (dir / "sched.csv").string(), "--replay-out",
                         (dir / "replay.csv").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("\"objective\":0.0000"));
  std::string csv = kefu::test::readFile(dir / "sched.csv");
  CHECK(csv ==
        "agent,template,date,start,end,breaks\n"
        "wfm-001,morning,2026-01-05,2026-01-05 09:00,2026-01-05 13:00,\n"
        "wfm-002,morning,2026-01-05,2026-01-05 09:00,2026-01-05 13:00,\n");
  CHECK(kefu::test::readFile(dir / "replay.csv") ==
        "start,end,agent\n2026-01-05 09:00,2026-01-05 13:00,wfm-001\n"
        "2026-01-05 09:00,2026-01-05 13:00,wfm-002\n");

  // A bad template file is named with its line, column and key.
  dir.write("bad.toml", "headcount = 3\n[[template]]\nname = \"x\"\nlength_hours = 30\n");
  r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "req.csv").string(), "--start",
                    "2026-01-05", "--shifts", (dir / "bad.toml").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains((dir / "bad.toml").string() +
                                    ":4:16: template[0].length_hours: must be hours"));

  // Refused before the search: a time limit <= 0, an output place that cannot be written
  // (the schedule file is left as it was), a time off the grid.
  r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "req.csv").string(), "--start",
                    "2026-01-05", "--time-limit", "0"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--time-limit must be a number of seconds > 0"));
  r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "req.csv").string(), "--start",
                    "2026-01-05", "--out", (dir / "x.csv").string(), "--replay-out",
                    (dir / "x.csv").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--replay-out: " + (dir / "x.csv").string() +
                                    " is already another output"));
  r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "req.csv").string(), "--start",
                    "2026-01-05", "--days", "1", "--out", (dir / "sched.csv").string(),
                    "--replay-out", (dir / "no-such-dir/replay.csv").string()});
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("--replay-out: cannot write"));
  CHECK_THAT(r.err, !Catch::Contains("objective"));
  CHECK(kefu::test::readFile(dir / "sched.csv") == csv);
  dir.write("offgrid.csv", req + "2026-01-05 09:31,1\n");
  r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "offgrid.csv").string(),
                    "--start", "2026-01-05", "--days", "1"});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("offgrid.csv:10: interval_start: 2026-01-05 09:31 is not "
                                    "on the 30-minute grid"));
  // Rows outside the horizon are counted; a template that can never work is named.
  dir.write("later.csv", req + "2026-01-09 09:00,1\n");
  dir.write("two.toml",
            "headcount = 2\n[rules]\nmax_consecutive_days = 7\n[[template]]\nname = \"morning\"\n"
            "earliest_start = \"09:00\"\nlength_hours = 4\ndays_off_per_week = 0\n"
            "[[template]]\nname = \"never\"\nearliest_start = \"06:00\"\nlength_hours = 16\n"
            "days_off_per_week = 0\nmin_rest_hours = 48\nmax_weekly_hours = 120\n");
  r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "later.csv").string(),
                    "--start", "2026-01-05", "--days", "1", "--shifts",
                    (dir / "two.toml").string()});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("warning: 1 row(s) of " + (dir / "later.csv").string() +
                                    " outside the 1 day(s) from 2026-01-05 are left out"));
  CHECK_THAT(r.err, Catch::Contains("warning: " + (dir / "two.toml").string() +
                                    ":14:18: template[1].min_rest_hours: 48 h of rest"));
  CHECK_THAT(r.out, !Catch::Contains(",never,"));
  // A schedule with no shift for a requirement says so.
  dir.write("tiny.csv", "interval_start,required\n2026-01-05 09:00,0.1\n");
  r = runKefu(dir, {"wfm", "schedule", "--requirements", (dir / "tiny.csv").string(),
                    "--start", "2026-01-05", "--days", "1"});
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("warning: no shift scheduled for 0.05 agent-hours"));

  r = runKefu(dir, {"wfm", "publish", "--schedule", (dir / "sched.csv").string(), "--note",
                    "first"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(Json::parse(r.out)["version"] == 1);

  for (auto [id, role] : {std::pair{"planner", "wfm_planner"}, {"wfm-001", "agent"},
                          {"boss", "supervisor"}}) {
    auto u = runKefu(dir, {"user", "add", "--id", id, "--role", role, "--password-stdin"},
                     std::string(id) + "-password-123\n");
    REQUIRE(u.code == 0);
  }
  {
    // wfm-001 (local UTC+8) signs in at 09:00, works until 11:00 and goes away; wfm-002
    // never comes.
    soci::session db(soci::sqlite3, (dir / "kefu.db").string());
    for (auto [to, at] : {std::pair{"away", utcMs(1, 0)}, {"idle", utcMs(1, 0)},
                          {"away", utcMs(3, 0)}, {"offline", utcMs(5, 0)}}) {
      std::string state = to;
      long long ms = at;
      db << "INSERT INTO acd_agent_states (agent_id, from_state, to_state, reason, at_ms) "
            "VALUES ('wfm-001', '', :t, '', :at)",
          soci::use(state), soci::use(ms);
    }
  }

  auto serving = kefu::test::serveKefu(dir, deployment(dir), ".serve");
  Process& server = *serving.process;
  int port = serving.port;
  auto planner = signIn(port, "planner"), agent = signIn(port, "wfm-001"),
       boss = signIn(port, "boss");

  CHECK(kefu::test::http(port, "GET", "/api/v1/wfm/schedules").status == 401);
  CHECK(kefu::test::http(port, "GET", "/api/v1/wfm/schedules", agent).status == 403);
  auto list = kefu::test::http(port, "GET", "/api/v1/wfm/schedules", planner);
  REQUIRE(list.status == 200);
  CHECK(Json::parse(list.body)["versions"].size() == 1);
  CHECK(Json::parse(list.body)["versions"][0]["note"] == "first");

  // Publishing over HTTP: planners only; a bad file is a 400 naming its line.
  Json body{{"csv", csv}, {"note", "second"}};
  auto json = planner;
  json["Content-Type"] = "application/json";
  auto agentJson = agent;
  agentJson["Content-Type"] = "application/json";
  CHECK(kefu::test::http(port, "POST", "/api/v1/wfm/schedules", agentJson, body.dump())
            .status == 403);
  auto bad = kefu::test::http(port, "POST", "/api/v1/wfm/schedules", json,
                              Json{{"csv", "agent,start,end\nx,2026-01-05 9:00,y\n"}}.dump());
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("body:2: start"));
  auto pub = kefu::test::http(port, "POST", "/api/v1/wfm/schedules", json, body.dump());
  REQUIRE(pub.status == 201);
  CHECK(Json::parse(pub.body)["version"] == 2);
  CHECK(Json::parse(pub.body)["published_by"] == "planner");

  // An agent reads its own shifts and nobody else's.
  auto own = kefu::test::http(port, "GET", "/api/v1/wfm/schedules/current", agent);
  REQUIRE(own.status == 200);
  Json ownDoc = Json::parse(own.body);
  CHECK(ownDoc["version"] == 2);
  REQUIRE(ownDoc["shifts"].size() == 1);
  CHECK(ownDoc["shifts"][0]["agent"] == "wfm-001");
  CHECK(ownDoc["shifts"][0]["start"] == "2026-01-05 09:00");
  CHECK(kefu::test::http(port, "GET", "/api/v1/wfm/schedules/current?agent=wfm-002", agent)
            .status == 403);
  auto other = kefu::test::http(port, "GET", "/api/v1/wfm/schedules/current?agent=wfm-002",
                                planner);
  REQUIRE(other.status == 200);
  CHECK(Json::parse(other.body)["shifts"][0]["agent"] == "wfm-002");

  // Review: wfm-001 worked 2 of its 4 hours and was signed in all 4; wfm-002 was absent.
  CHECK(kefu::test::http(port, "GET", "/api/v1/wfm/adherence?from=2026-01-05&to=2026-01-05",
                         agent)
            .status == 403);
  CHECK(kefu::test::http(port, "GET", "/api/v1/wfm/adherence?from=2026-01-05", boss).status ==
        400);
  auto adh = kefu::test::http(port, "GET",
                              "/api/v1/wfm/adherence?from=2026-01-05&to=2026-01-05", boss);
  INFO(adh.body);
  REQUIRE(adh.status == 200);
  Json a = Json::parse(adh.body);
  CHECK(a["adherence"].get<double>() == Approx(0.25));
  CHECK(a["realization"].get<double>() == Approx(0.5));
  CHECK(a["absenteeism"].get<double>() == Approx(0.5));
  CHECK(a["intervals"].size() == 8);

  // The command line gives the same review.
  server.signal(SIGTERM);
  CHECK(server.wait(15s) == 0);
  r = runKefu(dir, {"wfm", "adherence", "--from", "2026-01-05", "--to", "2026-01-05"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(Json::parse(r.out)["absenteeism"].get<double>() == Approx(0.5));

  // Publications are in the audit log with their version.
  std::set<std::string> actions;
  soci::session db(soci::sqlite3, (dir / "kefu.db").string());
  soci::rowset<soci::row> rows = db.prepare << "SELECT actor, action, target FROM audit_log";
  for (const soci::row& row : rows) {
    actions.insert(row.get<std::string>(0) + " " + row.get<std::string>(1) + " " +
                   row.get<std::string>(2));
  }
  CHECK(actions.count("cli wfm.schedule.publish version 1"));
  CHECK(actions.count("planner wfm.schedule.publish version 2"));
  CHECK(actions.count("wfm-001 POST /api/v1/wfm/schedules /api/v1/wfm/schedules"));
}
