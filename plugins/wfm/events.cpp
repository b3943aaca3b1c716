// SPDX-License-Identifier: Apache-2.0
//
// The event calendar of the forecast (TOML), kept apart so toml++ stays in one file.
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "forecast.h"

namespace kefu::wfm {

namespace {

const char* const kWeekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                 "thursday", "friday", "saturday"};

int weekdayByName(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < 7; ++i) {
    if (name == kWeekdays[i] || (name.size() == 3 && std::string(kWeekdays[i], 3) == name)) {
      return i;
    }
  }
  return -1;
}

std::string where(const std::string& path, const toml::source_region& r) {
  return fmt::format("{}:{}:{}", path, r.begin.line, r.begin.column);
}

// A TOML local date or a "YYYY-MM-DD" string.
bool dateOf(const toml::node& n, int64_t& days) {
  if (auto d = n.as_date()) {
    const toml::date& v = d->get();
    days = daysFromCivil(v.year, v.month, v.day);
    int y, m, dd;
    civilFromDays(days, y, m, dd);
    return y == v.year && m == v.month && dd == v.day;
  }
  if (auto s = n.as_string()) return parseIsoDate(s->get(), days);
  return false;
}

}  // namespace

Result<std::vector<Event>> parseEvents(const std::string& path, std::string_view text) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    return Status::invalidArgument(fmt::format("{}:{}:{}: {}", path, err.source().begin.line,
                                               err.source().begin.column, err.description()));
  }
  std::vector<Event> out;
  for (auto&& [key, node] : root) {
    if (key.str() != "event") {
      return Status::invalidArgument(fmt::format(
          "{}: {}: unknown key (a calendar has only [[event]] tables)",
          where(path, key.source()), key.str()));
    }
  }
  const toml::node* list = root.get("event");
  if (!list) return out;
  const toml::array* arr = list->as_array();
  if (!arr) {
    return Status::invalidArgument(where(path, list->source()) +
                                   ": event: must be an array of tables [[event]]");
  }
  int index = 0;
  for (const toml::node& item : *arr) {
    const toml::table* t = item.as_table();
    const std::string name = fmt::format("event[{}]", index++);
    if (!t) {
      return Status::invalidArgument(where(path, item.source()) + ": " + name +
                                     ": not a table");
    }
    Event e;
    bool hasEnd = false;
    for (auto&& [k, v] : *t) {
      std::string key(k.str());
      auto bad = [&](const std::string& why) {
        return Status::invalidArgument(
            fmt::format("{}: {}.{}: {}", where(path, v.source()), name, key, why));
      };
      if (key == "name" || key == "kind") {
        auto s = v.as_string();
        if (!s || s->get().empty()) return bad("must be a non-empty string");
        (key == "name" ? e.name : e.kind) = s->get();
      } else if (key == "start" || key == "end") {
        int64_t d = 0;
        if (!dateOf(v, d)) return bad("must be a date, e.g. 2025-01-28");
        (key == "start" ? e.first : e.last) = d;
        hasEnd |= key == "end";
      } else if (key == "effect") {
        auto x = v.value<double>();
        if (!x || !(*x >= 0) || *x > 100) {
          return bad("must be a multiplier of the day's volume from 0 to 100, e.g. 0.3");
        }
        e.effect = *x;
      } else if (key == "like") {
        auto s = v.as_string();
        int w = s ? weekdayByName(s->get()) : -1;
        if (w < 0) return bad("must be a weekday name, e.g. \"monday\"");
        e.like = w;
      } else {
        return Status::invalidArgument(fmt::format(
            "{}: {}.{}: unknown key (accepted: name, kind, start, end, effect, like)",
            where(path, k.source()), name, key));
      }
    }
    // A missing key is placed at its table; a wrong one at the key's own value.
    auto bad = [&](const char* key, const std::string& why) {
      const toml::node* n = t->get(key);
      return Status::invalidArgument(fmt::format("{}: {}.{}: {}",
                                                 where(path, (n ? n : t)->source()), name, key,
                                                 why));
    };
    if (e.kind.empty()) return bad("kind", "is missing");
    if (!t->contains("start")) return bad("start", "is missing");
    if (!hasEnd) e.last = e.first;
    if (e.last < e.first) return bad("end", "is before start");
    if (e.last - e.first > 366) return bad("end", "more than a year after start");
    if (e.like < 0 && e.kind == "workday") e.like = 1;
    if (e.name.empty()) e.name = e.kind;
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::vector<Event>> loadEvents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::notFound("cannot open " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return parseEvents(path, buf.str());
}

}  // namespace kefu::wfm
