// SPDX-License-Identifier: Apache-2.0
//
// KPI formulas on hand-computed cases, pseudonymisation, presence, chat concurrency and the
// written report files.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "call_log_internal.h"
#include "kpi.h"
#include "test_support.h"

using kefu::calls::CallRecord;
using kefu::calls::KpiAccumulator;
using kefu::calls::KpiOptions;
using kefu::calls::Outcome;
using Json = nlohmann::json;

namespace {

// Monday 2026-01-05.
const int64_t kDay = kefu::calls::detail::daysFromCivil(2026, 1, 5);

int64_t at(int64_t day, int h, int m, int s) {
  return day * 86'400'000 + ((h * 60 + m) * 60 + s) * 1000LL;
}

CallRecord answered(int64_t arrival, int waitS, int talkS, std::string agent,
                    std::string customer) {
  CallRecord c;
  c.type = "claims";
  c.arrivalMs = c.ivrExitMs = arrival;
  if (waitS > 0) {
    c.queueStartMs = arrival;
    c.queueExitMs = arrival + waitS * 1000;
  }
  c.serviceStartMs = arrival + waitS * 1000;
  c.serviceEndMs = c.serviceStartMs + talkS * 1000;
  c.outcome = Outcome::kAnswered;
  c.agent = std::move(agent);
  c.customer = std::move(customer);
  return c;
}

CallRecord abandoned(int64_t arrival, int waitS, std::string customer) {
  CallRecord c;
  c.type = "claims";
  c.arrivalMs = c.ivrExitMs = c.queueStartMs = arrival;
  c.queueExitMs = arrival + waitS * 1000;
  c.outcome = Outcome::kAbandonedInQueue;
  c.customer = std::move(customer);
  return c;
}

CallRecord simple(int64_t arrival, Outcome o, std::string customer) {
  CallRecord c;
  c.type = "motor";
  c.arrivalMs = c.ivrExitMs = arrival;
  c.outcome = o;
  c.customer = std::move(customer);
  return c;
}

// Eight records whose KPIs are worked out by hand below.
void addSample(KpiAccumulator& acc) {
  acc.add(answered(at(kDay, 10, 0, 0), 10, 100, "Wang", "c1"));
  acc.add(answered(at(kDay, 11, 0, 0), 30, 200, "Zhao", "c1"));  // repeat of the first
  acc.add(abandoned(at(kDay, 10, 20, 0), 3, ""));                   // short abandon
  acc.add(abandoned(at(kDay, 10, 30, 0), 60, "c2"));
  acc.add(simple(at(kDay, 10, 40, 0), Outcome::kEndedInIvr, "c3"));
  acc.add(simple(at(kDay, 10, 50, 0), Outcome::kPhantom, "c4"));
  acc.add(answered(at(kDay + 4, 10, 0, 0), 0, 50, "Wang", "c1"));  // 95 h after the second
  acc.add(answered(at(kDay, 10, 10, 0), 0, 60, "Wang", ""));
}

}  // namespace

TEST_CASE("KPI totals match hand-computed values", "[kpi]") {
  KpiAccumulator acc(KpiOptions{});
  addSample(acc);
  Json r = acc.finish();
  const Json& t = r["totals"];
  CHECK(t["offered"] == 7);
  CHECK(t["answered"] == 4);
  CHECK(t["abandoned_in_queue"] == 2);
  CHECK(t["abandoned_short"] == 1);
  CHECK(t["ended_in_ivr"] == 1);
  CHECK(t["phantom"] == 1);
  CHECK(t["offered"].get<int>() ==
        t["answered"].get<int>() + t["abandoned_in_queue"].get<int>() +
            t["ended_in_ivr"].get<int>());
  const Json& k = t["kpis"];
  CHECK(k["answer_rate"].get<double>() == Approx(4.0 / 7).margin(1e-4));
  CHECK(k["agent_answer_rate"].get<double>() == Approx(4.0 / 6).margin(1e-4));
  // Answered within 20 s: 10 s, 0 s, 0 s; short abandons leave the denominator.
  CHECK(k["service_level"].get<double>() == Approx(3.0 / 5).margin(1e-4));
  CHECK(k["asa_seconds"].get<double>() == Approx(10.0).margin(0.01));
  CHECK(k["abandonment_rate"].get<double>() == Approx(2.0 / 6).margin(1e-4));
  CHECK(k["abandonment_rate_excl_short"].get<double>() == Approx(1.0 / 5).margin(1e-4));
  CHECK(k["average_backlog_seconds"].get<double>() == Approx(103.0 / 6).margin(0.01));
  CHECK(k["max_wait_seconds"].get<double>() == Approx(60.0));
  CHECK(k["intelligent_service_rate"].get<double>() == Approx(1.0 / 7).margin(1e-4));
  CHECK(k["aht_seconds"].get<double>() == Approx(102.5).margin(0.01));
  // Identified contacts: c1 x3, c2, c3; only c1's first is followed within 72 h.
  CHECK(t["fcr_contacts"] == 5);
  CHECK(t["fcr_repeated"] == 1);
  CHECK(k["fcr_rate"].get<double>() == Approx(0.8).margin(1e-4));
  // Wang: one block 10:00:10-10:11:00 (650 s, 160 s talk) and one of 50 s; Zhao 200 s.
  CHECK(t["paid_hours"].get<double>() == Approx(900.0 / 3600).margin(0.006));
  CHECK(k["occupancy"].get<double>() == Approx(410.0 / 900).margin(1e-3));
  CHECK(k["utilization"].get<double>() == Approx(1.0));
  // Not in a call log: null with the reason.
  CHECK(k["satisfaction"].is_null());
  CHECK_THAT(t["no_data"]["satisfaction"].get<std::string>(), Catch::StartsWith("no data"));
  CHECK(k["chat_concurrency"].is_null());
  CHECK_THAT(t["no_data"]["chat_concurrency"].get<std::string>(),
             Catch::Contains("no online-chat"));
  bool namesIvr = false;
  for (const auto& a : r["approximations"]) namesIvr |= a["kpi"] == "intelligent_service_rate";
  CHECK(namesIvr);
}

TEST_CASE("KPI groups by day week month type agent and interval", "[kpi]") {
  KpiOptions o;
  o.interval = std::chrono::minutes(60);
  KpiAccumulator acc(o);
  addSample(acc);
  Json r = acc.finish();
  REQUIRE(r["by_day"].size() == 2);
  CHECK(r["by_day"][0]["key"] == "2026-01-05");
  CHECK(r["by_day"][0]["weekday"] == 0);
  CHECK(r["by_day"][0]["offered"] == 6);
  CHECK(r["by_day"][1]["key"] == "2026-01-09");
  REQUIRE(r["by_week"].size() == 1);
  CHECK(r["by_week"][0]["key"] == "2026-W02");
  CHECK(r["by_week"][0]["offered"] == 7);
  CHECK(r["by_month"][0]["key"] == "2026-01");
  REQUIRE(r["by_type"].size() == 2);
  CHECK(r["by_type"][0]["key"] == "claims");
  CHECK(r["by_type"][0]["offered"] == 6);
  CHECK(r["by_type"][1]["key"] == "motor");
  CHECK(r["by_type"][1]["phantom"] == 1);
  CHECK(r["by_channel"][0]["key"] == "phone");
  REQUIRE(r["by_interval"].size() == 24);
  CHECK(r["by_interval"][10]["key"] == "10:00");
  CHECK(r["by_interval"][10]["offered"] == 6);
  CHECK(r["by_interval"][11]["offered"] == 1);
  CHECK(r["by_interval"][10]["offered_per_day"].get<double>() == Approx(6.0 / 5));
  CHECK(r["weekday_hour"]["offered"][0][10] == 5);
  CHECK(r["weekday_hour"]["offered"][4][10] == 1);
  REQUIRE(r["by_agent"].size() == 2);
  CHECK(r["by_agent"][0]["key"] == "Wang");
  CHECK(r["by_agent"][0]["answered"] == 3);
  CHECK(r["by_agent"][0]["shift_blocks"] == 2);
  CHECK(r["by_agent"][1]["key"] == "Zhao");
  CHECK(r["period"]["days"] == 5);
}

TEST_CASE("Pseudonymised agents keep their figures under stable names", "[kpi]") {
  KpiOptions o;
  o.pseudonymiseAgents = true;
  KpiAccumulator acc(o);
  addSample(acc);
  Json r = acc.finish();
  std::string dump = r.dump();
  CHECK(dump.find("Wang") == std::string::npos);
  CHECK(dump.find("Zhao") == std::string::npos);
  REQUIRE(r["by_agent"].size() == 2);
  CHECK(r["by_agent"][0]["key"] == "agent-01");
  CHECK(r["by_agent"][0]["answered"] == 3);
  CHECK(r["by_agent"][1]["key"] == "agent-02");
  // The same names give the same pseudonyms in another run.
  KpiAccumulator again(o);
  addSample(again);
  CHECK(again.finish()["by_agent"] == r["by_agent"]);
}

TEST_CASE("Given presence replaces inferred paid time", "[kpi]") {
  KpiAccumulator acc(KpiOptions{});
  acc.add(answered(at(kDay, 9, 0, 0), 0, 1800, "Wang", ""));
  acc.addPresence("Wang", at(kDay, 8, 0, 0), at(kDay, 12, 0, 0));
  acc.addPresence("Wang", at(kDay, 11, 0, 0), at(kDay, 13, 0, 0));  // overlaps: merged
  Json r = acc.finish();
  const Json& a = r["by_agent"][0];
  CHECK(a["presence"] == "given");
  CHECK(a["paid_hours"].get<double>() == Approx(5.0));
  CHECK(a["kpis"]["occupancy"].get<double>() == Approx(0.1).margin(1e-4));
  CHECK(a["kpis"]["utilization"].get<double>() == Approx(1.0));
}

TEST_CASE("Chat concurrency is computed only where chats are present", "[kpi]") {
  KpiAccumulator acc(KpiOptions{});
  CallRecord a = answered(at(kDay, 10, 0, 0), 0, 600, "Wang", "");
  CallRecord b = answered(at(kDay, 10, 5, 0), 0, 600, "Wang", "");
  a.channel = b.channel = "chat";
  acc.add(a);
  acc.add(b);
  Json r = acc.finish();
  // 15 minutes with an open chat, 20 chat-minutes: 1.33 on average, 2 at most.
  CHECK(r["totals"]["kpis"]["chat_concurrency"].get<double>() == Approx(1.33));
  CHECK(r["totals"]["chat_peak_concurrency"] == 2);
  CHECK_FALSE(r["totals"]["no_data"].contains("chat_concurrency"));
}

TEST_CASE("An empty log gives null KPIs and no period", "[kpi]") {
  KpiAccumulator acc(KpiOptions{});
  Json r = acc.finish();
  CHECK(r["totals"]["offered"] == 0);
  CHECK(r["totals"]["kpis"]["answer_rate"].is_null());
  CHECK(r["period"].is_null());
  CHECK(r["by_day"].empty());
}

TEST_CASE("writeReport writes report.json and a self-contained report.html", "[kpi]") {
  kefu::test::TempDir dir;
  KpiAccumulator acc(KpiOptions{});
  addSample(acc);
  CallRecord odd = answered(at(kDay, 12, 0, 0), 0, 30, "</script><b>x", "");
  acc.add(odd);
  Json observed = acc.finish();
  Json simulated = observed;
  simulated["totals"]["answered"] = 1;
  auto out = (dir / "out").string();
  REQUIRE(kefu::calls::writeReport(out, observed, &simulated).ok());
  Json back = Json::parse(kefu::test::readFile(dir / "out" / "report.json"));
  CHECK(back["totals"]["offered"] == 8);
  CHECK(back["simulated"]["totals"]["answered"] == 1);
  std::string html = kefu::test::readFile(dir / "out" / "report.html");
  CHECK_THAT(html, Catch::StartsWith("<!DOCTYPE html>"));
  // Nothing is fetched: no external scripts, styles or images.
  CHECK(html.find("<script src") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  // The agent name cannot close the data element early.
  size_t closes = 0;
  for (size_t p = html.find("</script>"); p != std::string::npos;
       p = html.find("</script>", p + 1)) {
    ++closes;
  }
  CHECK(closes == 3);
  CHECK(html.find("\\u003c/script>\\u003cb>x") != std::string::npos);
  // Without a simulated object the page says null there.
  REQUIRE(kefu::calls::writeReport(out, observed, nullptr).ok());
  html = kefu::test::readFile(dir / "out" / "report.html");
  CHECK(html.find("id=\"simulated\">null</script>") != std::string::npos);
}

TEST_CASE("A record without an arrival is counted apart", "[kpi]") {
  KpiAccumulator acc(KpiOptions{});
  acc.add(CallRecord{});
  Json r = acc.finish();
  CHECK(r["totals"]["offered"] == 0);
  CHECK(r["totals"]["ignored_without_arrival"] == 1);
}

TEST_CASE("report.html carries the key figures and days as plain HTML", "[kpi]") {
  kefu::test::TempDir dir;
  KpiAccumulator acc(KpiOptions{});
  addSample(acc);
  Json observed = acc.finish();
  observed["input"] = {{"file", "<b>calls.txt"}, {"rows", 8}};
  Json simulated = observed;
  simulated["totals"]["answered"] = 1234567;
  auto out = (dir / "out").string();
  REQUIRE(kefu::calls::writeReport(out, observed, &simulated).ok());
  std::string html = kefu::test::readFile(dir / "out" / "report.html");
  // Readable with scripts off: the figures are in the markup, not only in the JSON.
  CHECK_THAT(html, Catch::Contains("<td>Offered</td><td class=\"n\">7</td>"
                                   "<td class=\"n\">7</td>"));
  CHECK_THAT(html, Catch::Contains("<td class=\"n\">1234567</td>"));
  CHECK_THAT(html, Catch::Contains("&lt;b&gt;calls.txt"));
  CHECK_THAT(html, Catch::Contains("<td>Answer rate (接通率)</td>"));
  CHECK_THAT(html, Catch::Contains("<table id=\"dayTable\">"));
  CHECK_THAT(html, Catch::Contains("<tr><td>2026-01-05 Mon</td>"));
  CHECK_THAT(html, Catch::Contains("<th>Offered obs.</th><th>Offered sim.</th>"));
  for (const char* slot : {"@HEAD@", "@DAYS@", "@KPIS@", "@OBSERVED@", "@SIMULATED@"}) {
    CHECK(html.find(slot) == std::string::npos);
  }
}

TEST_CASE("A report that cannot be written leaves the directory as it was", "[kpi]") {
  kefu::test::TempDir dir;
  KpiAccumulator acc(KpiOptions{});
  addSample(acc);
  Json observed = acc.finish();
  std::filesystem::create_directories(dir / "out" / "report.html");
  auto s = kefu::calls::writeReport((dir / "out").string(), observed, nullptr);
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("report.html exists and is not a file"));
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "report.json"));
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "report.html.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir / "out" / "report.json.tmp"));
}
