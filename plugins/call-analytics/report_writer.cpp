// SPDX-License-Identifier: Apache-2.0
//
// writeReport(): report.json and one self-contained report.html. The page carries the report
// object in a JSON script element and draws its charts as inline SVG with a little inline
// JavaScript, so that it opens offline and from a mail attachment. The key figures, the KPI
// table and the per-day table are written as plain HTML, so the page reads without scripts
// (mail clients, text browsers, printing).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "kpi.h"

namespace kefu::calls {
namespace {

using Json = nlohmann::json;

// The page. @OBSERVED@ and @SIMULATED@ are replaced by JSON text with every '<' escaped;
// @HEAD@, @DAYS@ and @KPIS@ by the server-rendered HTML of staticParts().
constexpr const char* kPage = R"KEFU(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kefu call report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid
#ddd;padding-bottom:4px}.muted{color:#666}.grid{display:grid;grid-template-columns:
repeat(auto-fit,minmax(540px,1fr));gap:16px}.card{border:1px solid #e3e3e3;border-radius:6px;
padding:10px}.card h3{font-size:14px;margin:0 0 6px}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #eee;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.nodata{color:#999;font-style:italic}svg text{font:11px system-ui,sans-serif;fill:#444}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;
height:10px;margin-right:4px;vertical-align:middle}code{font-size:12px}
</style></head><body>
<h1>Call report</h1>
@HEAD@
<h2>Per interval of the day</h2><div class="grid" id="intervalCharts"></div>
<h2>Per day</h2>@DAYS@<div class="grid" id="dayCharts"></div>
<h2>Weekday &times; hour</h2><div class="grid" id="heat"></div>
<h2>Agents</h2><div class="grid" id="agents"></div>
<h2>KPIs and formulas</h2>@KPIS@
<h2>By month, week, type and channel</h2><div id="groups"></div>
<h2>Approximations</h2><ul id="approx"></ul>
<h2>Input</h2><div id="input"></div>
<script type="application/json" id="observed">@OBSERVED@</script>
<script type="application/json" id="simulated">@SIMULATED@</script>
<script>
"use strict";
const OBS = JSON.parse(document.getElementById("observed").textContent);
const SIM = JSON.parse(document.getElementById("simulated").textContent);
const C_OBS = "#1f6fb2", C_SIM = "#e07b00";
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4))
                                   : document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function fmt(v, unit) {
  if (v === null || v === undefined) return "no data";
  if (unit === "ratio") return (v * 100).toFixed(1) + " %";
  if (unit === "s") return v.toFixed(1) + " s";
  if (typeof v === "number" && !Number.isInteger(v)) return v.toFixed(2);
  return String(v);
}
function card(parent, title) {
  const c = el("div", {class: "card"}, parent);
  el("h3", {}, c, title);
  return c;
}
function legend(parent, series) {
  const l = el("div", {class: "legend"}, parent);
  for (const s of series) {
    const sp = el("span", {}, l);
    el("span", {class: "sw", style: "background:" + s.color}, sp);
    sp.appendChild(document.createTextNode(s.name));
  }
}
// A line chart of one or more series over the same labels; null values leave gaps.
function lineChart(parent, title, labels, series, unit) {
  const c = card(parent, title);
  const W = 520, H = 220, L = 48, R = 10, T = 10, B = 36;
  const svg = el("svg:svg", {viewBox: `0 0 ${W} ${H}`, width: "100%"}, c);
  let max = 0;
  for (const s of series) for (const v of s.values) if (v !== null && v > max) max = v;
  if (unit === "ratio") max = Math.max(max, 1); else max = max > 0 ? max * 1.1 : 1;
  const x = i => L + (labels.length <= 1 ? 0 : i * (W - L - R) / (labels.length - 1));
  const y = v => T + (H - T - B) * (1 - v / max);
  for (let k = 0; k <= 4; ++k) {
    const v = max * k / 4;
    el("svg:line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eee"}, svg);
    el("svg:text", {x: L - 4, y: y(v) + 4, "text-anchor": "end"}, svg,
       unit === "ratio" ? Math.round(v * 100) + "%" : (v >= 100 ? v.toFixed(0) : v.toFixed(1)));
  }
  const every = Math.max(1, Math.ceil(labels.length / 12));
  labels.forEach((lab, i) => {
    if (i % every) return;
    el("svg:text", {x: x(i), y: H - B + 14, "text-anchor": "middle"}, svg,
       /^\d{4}-\d{2}-\d{2}$/.test(lab) ? lab.slice(5) : lab);
  });
  for (const s of series) {
    let d = "", pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) { pen = false; return; }
      d += (pen ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
      pen = true;
    });
    el("svg:path", {d, fill: "none", stroke: s.color, "stroke-width": 2,
                    "stroke-dasharray": s.dash ? "5 3" : "none"}, svg);
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const dot = el("svg:circle", {cx: x(i), cy: y(v), r: 2, fill: s.color}, svg);
      el("svg:title", {}, dot, s.name + " " + labels[i] + ": " + fmt(v, unit));
    });
  }
  legend(c, series);
}
// Stacked bars per label.
function stackedBars(parent, title, labels, stacks) {
  const c = card(parent, title);
  const W = 520, H = 220, L = 48, R = 10, T = 10, B = 36;
  const svg = el("svg:svg", {viewBox: `0 0 ${W} ${H}`, width: "100%"}, c);
  const totals = labels.map((_, i) => stacks.reduce((a, s) => a + (s.values[i] || 0), 0));
  const max = Math.max(1, ...totals) * 1.05;
  const bw = (W - L - R) / Math.max(1, labels.length);
  const y = v => T + (H - T - B) * (1 - v / max);
  for (let k = 0; k <= 4; ++k) {
    const v = max * k / 4;
    el("svg:line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eee"}, svg);
    el("svg:text", {x: L - 4, y: y(v) + 4, "text-anchor": "end"}, svg, v.toFixed(0));
  }
  labels.forEach((lab, i) => {
    let base = 0;
    for (const s of stacks) {
      const v = s.values[i] || 0;
      const r = el("svg:rect", {x: L + i * bw + 1, width: Math.max(1, bw - 2), y: y(base + v),
                                 height: Math.max(0, y(base) - y(base + v)), fill: s.color},
                   svg);
      el("svg:title", {}, r, lab + " " + s.name + ": " + v);
      base += v;
    }
    const every = Math.max(1, Math.ceil(labels.length / 10));
    if (i % every === 0) {
      el("svg:text", {x: L + i * bw + bw / 2, y: H - B + 14, "text-anchor": "middle"}, svg,
         lab.length > 5 ? lab.slice(5) : lab);
    }
  });
  legend(c, stacks);
}
function heatMap(parent, title, rows, cols, values, unit) {
  const c = card(parent, title);
  const W = 540, L = 40, T = 16, cw = (W - L - 4) / cols.length, ch = 22;
  const H = T + rows.length * ch + 4;
  const svg = el("svg:svg", {viewBox: `0 0 ${W} ${H}`, width: "100%"}, c);
  let max = 0;
  for (const r of values) for (const v of r) if (v !== null && v > max) max = v;
  if (unit === "ratio") max = 1;
  cols.forEach((h, j) => {
    if (j % 2 === 0) el("svg:text", {x: L + j * cw + cw / 2, y: 11, "text-anchor": "middle"},
                       svg, h);
  });
  rows.forEach((name, i) => {
    el("svg:text", {x: L - 6, y: T + i * ch + 15, "text-anchor": "end"}, svg, name);
    cols.forEach((h, j) => {
      const v = values[i][j];
      const t = v === null || max === 0 ? 0 : v / max;
      const g = Math.round(255 - 120 * t), r0 = Math.round(255 - 200 * t);
      const fill = v === null ? "#f4f4f4" : `rgb(${r0},${g},255)`;
      const r = el("svg:rect", {x: L + j * cw, y: T + i * ch, width: cw - 1, height: ch - 1,
                                 fill}, svg);
      el("svg:title", {}, r, `${name} ${h}:00 ${fmt(v, unit)}`);
    });
  });
  el("div", {class: "muted"}, c, unit === "ratio" ? "darker = higher; grey = no call"
                                                  : "darker = more calls; max " + max);
}
function hBars(parent, title, items, unit) {
  const c = card(parent, title);
  const W = 520, L = 90, rowH = 16, H = items.length * rowH + 10;
  const svg = el("svg:svg", {viewBox: `0 0 ${W} ${H}`, width: "100%"}, c);
  let max = unit === "ratio" ? 1 : Math.max(1e-9, ...items.map(it => it.value || 0));
  items.forEach((it, i) => {
    el("svg:text", {x: L - 6, y: i * rowH + 12, "text-anchor": "end"}, svg, it.label);
    const w = (W - L - 70) * ((it.value || 0) / max);
    const r = el("svg:rect", {x: L, y: i * rowH + 2, width: Math.max(0, w), height: rowH - 4,
                               fill: C_OBS}, svg);
    el("svg:title", {}, r, it.label + ": " + fmt(it.value, unit));
    el("svg:text", {x: L + w + 4, y: i * rowH + 12}, svg, fmt(it.value, unit) +
       (it.note ? "  " + it.note : ""));
  });
}
function table(parent, header, rows) {
  const t = el("table", {}, parent);
  const hr = el("tr", {}, t);
  for (const h of header) el("th", {}, hr, h);
  for (const r of rows) {
    const tr = el("tr", {}, t);
    r.forEach(cell => {
      const td = el("td", typeof cell === "object" && cell !== null && cell.cls
                          ? {class: cell.cls} : {}, tr,
                    typeof cell === "object" && cell !== null ? cell.text : String(cell));
    });
  }
  return t;
}
const kpi = (group, key) => group && group.kpis ? group.kpis[key] : null;
const num = v => ({text: v === null || v === undefined ? "no data" : String(v),
                   cls: v === null || v === undefined ? "nodata" : "n"});
function val(v, unit) { return {text: fmt(v, unit), cls: v === null || v === undefined
                                                          ? "nodata" : "n"}; }

// Interval charts.
{
  const box = document.getElementById("intervalCharts");
  const labels = OBS.by_interval.map(g => g.key);
  const series = (f, name) => {
    const out = [{name: "observed", color: C_OBS, values: OBS.by_interval.map(f)}];
    if (SIM && SIM.by_interval) out.push({name: "simulated", color: C_SIM,
                                          values: SIM.by_interval.map(f)});
    return out;
  };
  lineChart(box, "Arrivals per interval (mean per day)", labels,
            series(g => g.offered_per_day), "count");
  lineChart(box, `Service level (answered within ${OBS.options.sl_seconds} s)`, labels,
            series(g => kpi(g, "service_level")), "ratio");
  lineChart(box, "Average speed of answer (s)", labels, series(g => kpi(g, "asa_seconds")), "s");
  lineChart(box, "Abandonment rate", labels, series(g => kpi(g, "abandonment_rate")), "ratio");
}

// Day charts.
{
  const box = document.getElementById("dayCharts");
  const d = OBS.by_day, labels = d.map(g => g.key);
  stackedBars(box, "Calls per day", labels, [
    {name: "answered", color: C_OBS, values: d.map(g => g.answered)},
    {name: "abandoned in queue", color: "#d9534f", values: d.map(g => g.abandoned_in_queue)},
    {name: "ended in IVR", color: "#9aa5b1", values: d.map(g => g.ended_in_ivr)}]);
  const simDay = SIM && SIM.by_day ? new Map(SIM.by_day.map(g => [g.key, g])) : null;
  // Simulated series are dashed in the colour of their observed series.
  const ser = (key, name, color) => {
    const out = [{name, color, values: d.map(g => kpi(g, key))}];
    if (simDay) out.push({name: name + " (simulated, dashed)", color, dash: true,
                          values: d.map(g => kpi(simDay.get(g.key), key))});
    return out;
  };
  lineChart(box, "Answer rate and service level per day", labels,
            [...ser("answer_rate", "answer rate", C_OBS),
             ...ser("service_level", "service level", "#2a9d8f")],
            "ratio");
}

// Heat maps.
{
  const box = document.getElementById("heat");
  const hours = [...Array(24).keys()].map(h => String(h).padStart(2, "0"));
  const wh = OBS.weekday_hour;
  heatMap(box, "Arrivals by weekday and hour (whole period)", wh.weekdays, hours, wh.offered,
          "count");
  heatMap(box, "Service level by weekday and hour", wh.weekdays, hours, wh.service_level,
          "ratio");
}

// Agents.
{
  const box = document.getElementById("agents");
  const a = OBS.by_agent;
  if (!a.length) {
    el("p", {class: "nodata"}, box, "no data: the log attributes no call to an agent");
  } else {
    hBars(box, "Occupancy (talk time / paid time)",
          a.map(g => ({label: g.key, value: kpi(g, "occupancy"),
                       note: g.paid_hours + " h paid"})), "ratio");
    if (a.some(g => g.presence === "given")) {
      hBars(box, "Agent utilization ((productive + ready) / paid time)",
            a.map(g => ({label: g.key, value: kpi(g, "utilization"), note: g.presence})),
            "ratio");
    } else {
      const c = card(box, "Agent utilization ((productive + ready) / paid time)");
      el("p", {class: "nodata"}, c, "100 % for every agent by construction: paid time is " +
         "inferred from the services themselves and the log has no break or away states " +
         "(see Approximations). Occupancy is the informative figure here.");
      hBars(box, "Inferred paid hours",
            a.map(g => ({label: g.key, value: g.paid_hours,
                         note: g.shift_blocks + " shift blocks"})), "count");
    }
    hBars(box, "Answered calls", a.map(g => ({label: g.key, value: g.answered})), "count");
  }
}

// Groups.
{
  const box = document.getElementById("groups");
  const cols = [["answer_rate", "ratio"], ["service_level", "ratio"], ["asa_seconds", "s"],
                ["abandonment_rate", "ratio"], ["fcr_rate", "ratio"]];
  for (const [name, list] of [["Month", OBS.by_month], ["ISO week", OBS.by_week],
                              ["Type (queue)", OBS.by_type], ["Channel", OBS.by_channel]]) {
    el("h3", {}, box, name);
    table(box, [name, "Offered", "Answered", "Abandoned", "Answer rate", "Service level",
                "ASA", "Abandonment", "FCR"],
          list.map(g => [g.key, num(g.offered), num(g.answered), num(g.abandoned_in_queue),
                         ...cols.map(([k, u]) => val(kpi(g, k), u))]));
  }
}

// Approximations and input.
{
  const ul = document.getElementById("approx");
  for (const a of OBS.approximations) el("li", {}, ul, a.kpi + ": " + a.text);
  const box = document.getElementById("input");
  if (SIM && SIM.replay && typeof SIM.replay === "object") {
    el("h3", {}, box, "Simulation");
    table(box, ["", "Value"], Object.entries(SIM.replay).map(([k, v]) =>
      [k.replace(/_/g, " "), typeof v === "object" ? JSON.stringify(v) : num(v)]));
  }
  const inp = OBS.input;
  if (!inp) {
    el("p", {class: "muted"}, box, "No input summary.");
  } else {
    el("p", {}, box, `${inp.rows} rows read, ${inp.bad_rows} bad rows skipped` +
       (inp.format ? ` (format ${inp.format})` : ""));
    if (inp.bad_row_samples && inp.bad_row_samples.length) {
      table(box, ["Line", "Reason"], inp.bad_row_samples.map(b => [b.line, b.reason]));
    }
    if (inp.corrections && Object.keys(inp.corrections).length) {
      el("h3", {}, box, "Rows adjusted while reading");
      table(box, ["Adjustment", "Rows"],
            Object.entries(inp.corrections).map(([k, v]) => [k, num(v)]));
    }
  }
}
</script>
</body></html>
)KEFU";

std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// A value as the page's script shows it: "81.3 %", "12.4 s", "1234", or no data.
bool hasValue(const Json& v) { return v.is_number(); }
std::string shown(const Json& v, const std::string& unit) {
  if (!v.is_number()) return "no data";
  char buf[48];
  double d = v.get<double>();
  if (unit == "ratio") {
    std::snprintf(buf, sizeof buf, "%.1f %%", d * 100);
  } else if (unit == "s") {
    std::snprintf(buf, sizeof buf, "%.1f s", d);
  } else if (v.is_number_integer() || v.is_number_unsigned()) {
    return v.dump();
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", d);
  }
  return buf;
}

const Json& member(const Json& j, const char* key) {
  static const Json kNull;
  return j.is_object() && j.contains(key) ? j[key] : kNull;
}

std::string cell(const Json& v, const std::string& unit) {
  return hasValue(v) ? "<td class=\"n\">" + esc(shown(v, unit)) + "</td>"
                     : "<td class=\"nodata\">no data</td>";
}

struct StaticParts {
  std::string head, days, kpis;
};

// The figures a reader needs first, as plain HTML: no script has to run to read them.
StaticParts staticParts(const Json& obs, const Json* sim) {
  StaticParts p;
  const Json& opt = member(obs, "options");
  const Json& period = member(obs, "period");
  const Json& input = member(obs, "input");
  std::string sub;
  if (const Json& f = member(input, "file"); f.is_string() && !f.get<std::string>().empty()) {
    sub += esc(f.get<std::string>()) + " &mdash; ";
  }
  sub += period.is_object() ? esc(text(period["from"])) + " to " + esc(text(period["to"])) +
                                  " (" + esc(text(period["days"])) + " days)"
                            : std::string("no calls");
  sub += " &middot; service level threshold " + esc(text(member(opt, "sl_seconds"))) +
         " s &middot; interval " + esc(text(member(opt, "interval_minutes"))) + " min";
  if (sim) sub += " &middot; observed vs simulated";
  p.head = "<div id=\"subtitle\" class=\"muted\">" + sub + "</div>\n<h2>Key figures</h2>" +
           "<div id=\"totals\"><table><tr><th></th>" +
           (sim ? "<th>Observed</th><th>Simulated</th>" : "<th>Calls</th>") + "</tr>\n";
  const Json& t = member(obs, "totals");
  static const Json kNoSim;
  const Json& st = sim ? member(*sim, "totals") : kNoSim;
  static const std::pair<const char*, const char*> kCounts[] = {
      {"Offered", "offered"},
      {"Answered", "answered"},
      {"Abandoned in queue", "abandoned_in_queue"},
      {"of which short abandons", "abandoned_short"},
      {"Ended in IVR", "ended_in_ivr"},
      {"Phantom (not offered)", "phantom"}};
  for (const auto& [name, key] : kCounts) {
    p.head += std::string("<tr><td>") + name + "</td>" + cell(member(t, key), "count");
    if (sim) p.head += cell(member(st, key), "count");
    p.head += "</tr>\n";
  }
  p.head += "</table></div>";

  p.kpis = "<div id=\"kpiTable\"><table><tr><th>KPI</th><th>Formula</th>" +
           std::string(sim ? "<th>Observed</th><th>Simulated</th>" : "<th>Value</th>") +
           "</tr>\n";
  const Json& defs = member(obs, "kpi_definitions");
  static const Json kNoDefs = Json::array();
  for (const auto& def : defs.is_array() ? defs : kNoDefs) {
    const std::string key = text(member(def, "key")), unit = text(member(def, "unit"));
    const Json& v = member(member(t, "kpis"), key.c_str());
    const Json& why = member(member(t, "no_data"), key.c_str());
    p.kpis += "<tr><td>" + esc(text(member(def, "name"))) + " (" +
              esc(text(member(def, "name_zh"))) + ")</td><td>" +
              esc(text(member(def, "formula"))) + "</td>";
    p.kpis += !hasValue(v) && why.is_string()
                  ? "<td class=\"nodata\">" + esc(why.get<std::string>()) + "</td>"
                  : cell(v, unit);
    if (sim) p.kpis += cell(member(member(st, "kpis"), key.c_str()), unit);
    p.kpis += "</tr>\n";
  }
  p.kpis += "</table><p class=\"muted\">T = " + esc(text(member(opt, "sl_seconds"))) +
            " s; short abandons wait under " +
            esc(text(member(opt, "short_abandon_seconds"))) + " s; repeat window " +
            esc(text(member(opt, "repeat_window_hours"))) + " h.</p></div>";

  // One row per day of either side; simulated values follow the observed ones.
  std::map<std::string, std::pair<const Json*, const Json*>> days;
  // Pointers into `obs` and `*sim`, which outlive this function's use of them.
  if (const Json& od = member(obs, "by_day"); od.is_array()) {
    for (const auto& d : od) days[text(member(d, "key"))].first = &d;
  }
  if (sim) {
    if (const Json& sd = member(*sim, "by_day"); sd.is_array()) {
      for (const auto& d : sd) days[text(member(d, "key"))].second = &d;
    }
  }
  static const std::pair<const char*, const char*> kDayCols[] = {
      {"offered", "count"},     {"answered", "count"},     {"abandoned_in_queue", "count"},
      {"answer_rate", "ratio"}, {"service_level", "ratio"}, {"asa_seconds", "s"},
      {"abandonment_rate", "ratio"}};
  p.days = "<table id=\"dayTable\"><tr><th>Day</th>";
  for (const char* h : {"Offered", "Answered", "Abandoned", "Answer rate", "Service level",
                        "ASA", "Abandonment"}) {
    p.days += std::string("<th>") + h + (sim ? " obs.</th><th>" + std::string(h) + " sim." : "") +
              "</th>";
  }
  p.days += "</tr>\n";
  static const Json kNone;
  for (const auto& [key, pair] : days) {
    const Json& o = pair.first ? *pair.first : kNone;
    const Json& s = pair.second ? *pair.second : kNone;
    static const char* const kWeekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    const Json& w = member(pair.first ? o : s, "weekday");  // 0 = Monday
    int wi = w.is_number_integer() ? w.get<int>() : -1;
    std::string wd = wi >= 0 && wi < 7 ? kWeekdays[wi] : "";
    p.days += "<tr><td>" + esc(key) + (wd.empty() ? "" : " " + esc(wd)) + "</td>";
    for (const auto& [k, unit] : kDayCols) {
      bool count = std::string(unit) == "count";
      p.days += cell(count ? member(o, k) : member(member(o, "kpis"), k), unit);
      if (sim) p.days += cell(count ? member(s, k) : member(member(s, "kpis"), k), unit);
    }
    p.days += "</tr>\n";
  }
  p.days += "</table>";
  if (days.empty()) p.days = "<p class=\"nodata\">no calls</p>";
  return p;
}

std::string scriptJson(const Json& j) {
  std::string s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size() + 64);
  // '<' occurs only inside JSON strings, where \u003c means the same; no "</script>".
  for (char c : s) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

Status writeTemp(const std::filesystem::path& tmp, const std::string& text) {
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) return Status::unavailable("cannot write " + tmp.string());
  return {};
}

}  // namespace

nlohmann::json inputSummary(const std::string& file, const std::string& format,
                            const CallReader& r) {
  Json samples = Json::array();
  for (size_t i = 0; i < r.badRows().size() && i < 20; ++i) {
    samples.push_back({{"line", r.badRows()[i].line}, {"reason", r.badRows()[i].reason}});
  }
  return {{"file", std::filesystem::path(file).filename().string()},
          {"format", std::filesystem::path(format).filename().string()},
          {"rows", r.rowsRead()},
          {"bad_rows", r.badRowCount()},
          {"bad_row_samples", std::move(samples)},
          {"corrections", r.corrections()}};
}

Status writeReport(const std::string& dir, const nlohmann::json& observed,
                   const nlohmann::json* simulated) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::invalidArgument(dir + ": cannot create the directory: " + ec.message());
  const fs::path files[2] = {fs::path(dir) / "report.json", fs::path(dir) / "report.html"};
  // Refuse before writing anything, so a failed run leaves the directory as it was.
  for (const auto& f : files) {
    if (fs::exists(fs::symlink_status(f, ec)) && !fs::is_regular_file(f, ec)) {
      return Status::unavailable(f.string() + " exists and is not a file");
    }
  }
  Json json = observed;
  if (simulated) json["simulated"] = *simulated;
  const StaticParts parts = staticParts(observed, simulated);
  // Every slot is found in the template before anything is inserted, so that text in the
  // data can never be taken for a slot.
  const std::string_view page = kPage;
  std::vector<std::pair<size_t, std::pair<std::string_view, std::string>>> slots;
  for (auto& [name, value] : std::initializer_list<std::pair<std::string_view, std::string>>{
           {"@OBSERVED@", scriptJson(observed)},
           {"@SIMULATED@", simulated ? scriptJson(*simulated) : std::string("null")},
           {"@HEAD@", parts.head},
           {"@DAYS@", parts.days},
           {"@KPIS@", parts.kpis}}) {
    slots.push_back({page.find(name), {name, value}});
  }
  std::sort(slots.begin(), slots.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string html;
  size_t from = 0;
  for (const auto& [at, slot] : slots) {
    html.append(page.substr(from, at - from));
    html.append(slot.second);
    from = at + slot.first.size();
  }
  html.append(page.substr(from));

  fs::path tmps[2] = {files[0], files[1]};
  for (auto& t : tmps) t += ".tmp";
  auto cleanUp = [&] {
    for (const auto& t : tmps) fs::remove(t, ec);
  };
  // A log's bytes need not be UTF-8 (names, bad-row reasons): replaced, not thrown on.
  Status s = writeTemp(tmps[0], json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
  if (s.ok()) s = writeTemp(tmps[1], html);
  for (int i = 0; i < 2 && s.ok(); ++i) {
    fs::rename(tmps[i], files[i], ec);
    if (ec) s = Status::unavailable("cannot rename " + tmps[i].string() + ": " + ec.message());
  }
  if (!s.ok()) cleanUp();
  return s;
}

}  // namespace kefu::calls
