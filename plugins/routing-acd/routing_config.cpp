// SPDX-License-Identifier: Apache-2.0
#include "routing_config.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace kefu::acd {
namespace {

// Checks that a table holds only `known` keys.
Status onlyKeys(const ConfigValue& t, const std::set<std::string>& known) {
  for (const auto& [k, v] : t.asTable()) {
    if (!known.count(k)) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      return v.error("unknown key (accepted: " + list + ")");
    }
  }
  return {};
}

Status seconds(const ConfigValue& t, const char* key, std::chrono::seconds& out) {
  const ConfigValue* v = t.find(key);
  if (!v) return {};
  if (!v->isInt() || v->asInt() < 0 || v->asInt() > 86400) {
    return v->error("must be a whole number of seconds between 0 and 86400");
  }
  out = std::chrono::seconds(v->asInt());
  return {};
}

Status text(const ConfigValue& t, const char* key, std::string& out, bool required) {
  const ConfigValue* v = t.find(key);
  if (!v) return required ? t.error(key, "is required") : Status();
  if (!v->isString() || v->asString().empty()) return v->error("must be a non-empty string");
  out = v->asString();
  return {};
}

Status integer(const ConfigValue& t, const char* key, int& out, int lo, int hi) {
  const ConfigValue* v = t.find(key);
  if (!v) return {};
  if (!v->isInt() || v->asInt() < lo || v->asInt() > hi) {
    return v->error("must be an integer between " + std::to_string(lo) + " and " +
                    std::to_string(hi));
  }
  out = static_cast<int>(v->asInt());
  return {};
}

}  // namespace

Status parseQueues(const ConfigValue& cfg, std::vector<QueueSpec>& out,
                   std::map<std::string, QueueHours>& hours) {
  const ConfigValue* list = cfg.find("queues");
  if (!list) return {};
  for (const auto& t : list->asArray()) {
    if (!t.isTable()) return t.error("each queue is a table: [[plugins.routing-acd.queues]]");
    Status s = onlyKeys(t, {"name", "media", "skills", "strategy", "priority", "capacity",
                            "overflow_after_seconds", "overflow_queue", "max_wait_seconds",
                            "max_wait_action", "service_level_seconds",
                            "short_abandon_seconds", "hours", "closed_action",
                            "closed_overflow_queue"});
    QueueSpec q;
    if (s.ok()) s = text(t, "name", q.name, true);
    if (!s.ok()) return s;

    std::string media = "voice";
    if (auto st = text(t, "media", media, false); !st.ok()) return st;
    static const std::map<std::string, Media> kMedia = {
        {"voice", Media::kVoice}, {"video", Media::kVideo}, {"chat", Media::kChat},
        {"message", Media::kMessage}};
    if (!kMedia.count(media)) {
      return t.error("media", "must be \"voice\", \"video\", \"chat\" or \"message\"");
    }
    q.media = kMedia.at(media);

    std::string strategy = "longest_idle";
    if (auto st = text(t, "strategy", strategy, false); !st.ok()) return st;
    static const std::map<std::string, Strategy> kStrategies = {
        {"longest_idle", Strategy::kLongestIdle}, {"most_skilled", Strategy::kMostSkilled},
        {"round_robin", Strategy::kRoundRobin}, {"least_occupied", Strategy::kLeastOccupied}};
    if (!kStrategies.count(strategy)) {
      return t.error("strategy", "must be longest_idle, most_skilled, round_robin or "
                                 "least_occupied");
    }
    q.strategy = kStrategies.at(strategy);

    // Skills: "claims" (level 1 and up) or "claims:5" (level 5 and up).
    if (const ConfigValue* skills = t.find("skills")) {
      if (!skills->isStringList()) return skills->error("must be an array of strings");
      for (const auto& e : skills->asArray()) {
        const std::string& s = e.asString();
        SkillRequirement r;
        auto colon = s.find(':');
        r.skill = s.substr(0, colon);
        if (colon != std::string::npos) {
          try {
            r.minLevel = std::stoi(s.substr(colon + 1));
          } catch (const std::exception&) {
            r.minLevel = 0;
          }
        }
        if (r.skill.empty() || r.minLevel < 1 || r.minLevel > 10) {
          return e.error("a skill is \"name\" or \"name:level\" with level 1..10");
        }
        q.skills.push_back(r);
      }
    }
    if (auto st = integer(t, "priority", q.priority, -1000, 1000); !st.ok()) return st;
    if (auto st = integer(t, "capacity", q.capacity, 0, 1'000'000); !st.ok()) return st;
    if (auto st = seconds(t, "overflow_after_seconds", q.overflowAfter); !st.ok()) return st;
    if (t.has("overflow_queue")) {
      if (auto st = text(t, "overflow_queue", q.overflowQueue, false); !st.ok()) return st;
    }
    if (auto st = seconds(t, "max_wait_seconds", q.maxWait); !st.ok()) return st;
    if (auto st = seconds(t, "service_level_seconds", q.serviceLevelThreshold); !st.ok()) {
      return st;
    }
    if (auto st = seconds(t, "short_abandon_seconds", q.shortAbandonThreshold); !st.ok()) {
      return st;
    }
    std::string action = "none";
    if (auto st = text(t, "max_wait_action", action, false); !st.ok()) return st;
    static const std::map<std::string, MaxWaitAction> kActions = {
        {"none", MaxWaitAction::kNone},         {"overflow", MaxWaitAction::kOverflow},
        {"callback", MaxWaitAction::kCallback}, {"voicemail", MaxWaitAction::kVoicemail},
        {"disconnect", MaxWaitAction::kDisconnect}};
    if (!kActions.count(action)) {
      return t.error("max_wait_action",
                     "must be none, overflow, callback, voicemail or disconnect");
    }
    q.maxWaitAction = kActions.at(action);
    if (q.maxWaitAction == MaxWaitAction::kOverflow && q.overflowQueue.empty()) {
      return t.error("max_wait_action", "overflow needs overflow_queue");
    }
    if (q.overflowAfter.count() > 0 && q.overflowQueue.empty()) {
      return t.error("overflow_after_seconds", "needs overflow_queue");
    }
    QueueHours qh;
    if (auto st = parseQueueHours(t, qh); !st.ok()) return st;
    if (hours.count(q.name)) return t.error("name", "queue '" + q.name + "' is defined twice");
    hours[q.name] = std::move(qh);
    out.push_back(std::move(q));
  }
  // An overflow queue must exist and carry the same kind of media; the error points at the
  // key, not at the queues array.
  for (const auto& t : list->asArray()) {
    const ConfigValue* v = t.find("overflow_queue");
    if (!v) continue;
    const std::string& to = v->asString();
    auto from = std::find_if(out.begin(), out.end(), [&](const QueueSpec& q) {
      return q.name == t.getString("name", "");
    });
    auto target = std::find_if(out.begin(), out.end(),
                               [&](const QueueSpec& q) { return q.name == to; });
    if (target == out.end()) return v->error("no queue '" + to + "'");
    if (target == from) return v->error("a queue cannot overflow to itself");
    if (isExclusive(target->media) != isExclusive(from->media)) {
      return v->error("queue '" + to + "' carries " + mediaName(target->media) + ", queue '" +
                      from->name + "' " + mediaName(from->media));
    }
  }
  // A closed queue's overflow must lead, queue by queue, to one that takes the contact.
  for (const auto& t : list->asArray()) {
    std::string name = t.getString("name", "");
    std::set<std::string> seen{name};
    // A queue open around the clock ends the chain: its closed action never applies.
    for (const QueueHours* h = &hours[name]; h->closedAction == ClosedAction::kOverflow;) {
      auto next = hours.find(h->overflowQueue);
      if (next == hours.end()) {
        return t.error("closed_overflow_queue", "no queue '" + h->overflowQueue + "'");
      }
      if (!seen.insert(next->first).second) {
        return t.error("closed_overflow_queue", "closed overflow runs in a circle through '" +
                                                    next->first + "'");
      }
      h = &next->second;
      if (h->hours.alwaysOpen()) break;
    }
  }
  return {};
}

Status parseAgents(const ConfigValue& cfg, std::vector<AgentSpec>& out) {
  const ConfigValue* list = cfg.find("agents");
  if (!list) return {};
  for (const auto& t : list->asArray()) {
    if (!t.isTable()) return t.error("each agent is a table: [[plugins.routing-acd.agents]]");
    AgentSpec a;
    Status s = onlyKeys(t, {"id", "skills", "max_chats", "wrap_up_seconds"});
    if (s.ok()) s = text(t, "id", a.id, true);
    // Agents sign in as users of the same id: one that no user id can match is an error.
    bool validId = a.id.size() <= 64 && std::all_of(a.id.begin(), a.id.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                            c == '_' || c == '.';
                   });
    if (s.ok() && !validId) {
      s = t.find("id")->error("must be 1 to 64 letters, digits, '-', '_', '.' (a user id)");
    }
    if (s.ok() && std::any_of(out.begin(), out.end(),
                              [&](const AgentSpec& o) { return o.id == a.id; })) {
      s = t.find("id")->error("agent '" + a.id + "' is defined twice");
    }
    if (s.ok()) s = integer(t, "max_chats", a.maxChats, 1, 20);
    if (s.ok()) s = seconds(t, "wrap_up_seconds", a.wrapUp);
    if (!s.ok()) return s;
    if (const ConfigValue* skills = t.find("skills")) {
      if (!skills->isTable()) return skills->error("must be a table: { claims = 5, ... }");
      for (const auto& [name, level] : skills->asTable()) {
        if (!level.isInt() || level.asInt() < 1 || level.asInt() > 10) {
          return level.error("a skill level is an integer 1..10");
        }
        a.skills[name] = static_cast<int>(level.asInt());
      }
    }
    out.push_back(std::move(a));
  }
  return {};
}

}  // namespace kefu::acd
