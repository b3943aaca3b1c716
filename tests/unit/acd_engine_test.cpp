// SPDX-License-Identifier: Apache-2.0
//
// The ACD engine of routing-acd: strategies, overflow, maximum wait, capacity, chat
// concurrency, wrap-up, the agent state machine, and long random runs checked against the
// engine's invariants.
#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "acd_engine.h"

using namespace std::chrono_literals;
using kefu::AgentState;
using kefu::StatusCode;
using kefu::TimePoint;
using kefu::acd::AcdEngine;

namespace {

const TimePoint T0{std::chrono::hours(24 * 365 * 56)};

struct Recorder : kefu::RoutingListener {
  std::vector<std::string> log;
  void onAssigned(const std::string& c, const std::string& a, const std::string& q,
                  TimePoint) override {
    log.push_back("assign " + c + " " + a + " via " + q);
  }
  void onOverflowed(const std::string& c, const std::string& f, const std::string& t,
                    TimePoint) override {
    log.push_back("overflow " + c + " " + f + "->" + t);
  }
  void onMaxWait(const std::string& c, const std::string& q, kefu::MaxWaitAction,
                 TimePoint) override {
    log.push_back("maxwait " + c + " " + q);
  }
  void onAgentState(const std::string& a, AgentState, AgentState to, const std::string& r,
                    TimePoint) override {
    log.push_back("state " + a + " " + kefu::agentStateName(to) + (r.empty() ? "" : " " + r));
  }
  std::string last() const { return log.empty() ? "" : log.back(); }
  bool has(const std::string& s) const {
    return std::find(log.begin(), log.end(), s) != log.end();
  }
};

kefu::QueueSpec queue(const std::string& name, std::vector<std::string> skills = {},
                      kefu::Strategy strategy = kefu::Strategy::kLongestIdle,
                      kefu::Media media = kefu::Media::kVoice) {
  kefu::QueueSpec q;
  q.name = name;
  q.media = media;
  q.strategy = strategy;
  for (auto& s : skills) {
    auto colon = s.find(':');
    q.skills.push_back({s.substr(0, colon), colon == std::string::npos
                                                ? 1
                                                : std::stoi(s.substr(colon + 1))});
  }
  return q;
}

kefu::AgentSpec agent(const std::string& id, std::map<std::string, int> skills = {},
                      int maxChats = 1, std::chrono::seconds wrapUp = 0s) {
  kefu::AgentSpec a;
  a.id = id;
  a.skills = std::move(skills);
  a.maxChats = maxChats;
  a.wrapUp = wrapUp;
  return a;
}

kefu::ContactSpec contact(const std::string& id, const std::string& q, TimePoint at,
                          int priority = 0) {
  kefu::ContactSpec c;
  c.id = id;
  c.queue = q;
  c.arrived = at;
  c.priority = priority;
  return c;
}

void ready(AcdEngine& e, const std::string& id, TimePoint at) {
  REQUIRE(e.signIn(id, at).ok());
  REQUIRE(e.setReady(id, at).ok());
}

}  // namespace

TEST_CASE("Longest-idle gives the contact to the agent free the longest", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("claims", {"claims"})).ok());
  for (auto id : {"a1", "a2", "a3"}) REQUIRE(e.defineAgent(agent(id, {{"claims", 3}})).ok());
  ready(e, "a2", T0);
  ready(e, "a1", T0 + 1s);
  ready(e, "a3", T0 + 2s);
  REQUIRE(e.enqueue(contact("c1", "claims", T0 + 5s)).ok());
  CHECK(r.last() == "assign c1 a2 via claims");
  REQUIRE(e.enqueue(contact("c2", "claims", T0 + 6s)).ok());
  CHECK(r.last() == "assign c2 a1 via claims");
  // a2 frees up after a3 has been idle a while: a3 is next.
  REQUIRE(e.release("c1", T0 + 7s).ok());
  REQUIRE(e.enqueue(contact("c3", "claims", T0 + 8s)).ok());
  CHECK(r.last() == "assign c3 a3 via claims");
  CHECK(e.checkInvariants().empty());
}

TEST_CASE("Most-skilled picks the highest level and breaks ties by idle time", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("vip", {"policy", "english:2"},
                              kefu::Strategy::kMostSkilled)).ok());
  REQUIRE(e.defineAgent(agent("low", {{"policy", 2}, {"english", 2}})).ok());
  REQUIRE(e.defineAgent(agent("high", {{"policy", 9}, {"english", 5}})).ok());
  REQUIRE(e.defineAgent(agent("high2", {{"policy", 9}, {"english", 5}})).ok());
  REQUIRE(e.defineAgent(agent("no-english", {{"policy", 10}})).ok());
  for (auto id : {"low", "high2", "high", "no-english"}) ready(e, id, T0);
  REQUIRE(e.setReady("high2", T0).ok());
  REQUIRE(e.enqueue(contact("c1", "vip", T0 + 1s)).ok());
  CHECK(r.last() == "assign c1 high via vip");  // same level as high2; lower index first
  REQUIRE(e.enqueue(contact("c2", "vip", T0 + 1s)).ok());
  CHECK(r.last() == "assign c2 high2 via vip");
  REQUIRE(e.enqueue(contact("c3", "vip", T0 + 1s)).ok());
  CHECK(r.last() == "assign c3 low via vip");
  // no-english lacks a required skill: the next contact waits.
  REQUIRE(e.enqueue(contact("c4", "vip", T0 + 2s)).ok());
  CHECK(e.waitingContacts() == 1);
}

TEST_CASE("Round robin rotates over the queue's agents", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("q", {}, kefu::Strategy::kRoundRobin)).ok());
  for (auto id : {"a", "b", "c"}) REQUIRE(e.defineAgent(agent(id)).ok());
  for (auto id : {"c", "b", "a"}) ready(e, id, T0);
  std::vector<std::string> order;
  for (int i = 0; i < 6; ++i) {
    std::string id = "c" + std::to_string(i);
    REQUIRE(e.enqueue(contact(id, "q", T0 + std::chrono::seconds(i))).ok());
    order.push_back(e.agentOf(id));
    REQUIRE(e.release(id, T0 + std::chrono::seconds(i))
                .ok());  // free again at once: only rotation decides
  }
  CHECK(order == std::vector<std::string>{"a", "b", "c", "a", "b", "c"});
}

TEST_CASE("Chats respect each agent's concurrency and least-occupied spreads them",
          "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("chat", {}, kefu::Strategy::kLeastOccupied,
                              kefu::Media::kChat)).ok());
  REQUIRE(e.defineQueue(queue("voice")).ok());
  REQUIRE(e.defineAgent(agent("a", {}, 2)).ok());
  REQUIRE(e.defineAgent(agent("b", {}, 2)).ok());
  ready(e, "a", T0);
  ready(e, "b", T0 + 1s);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(e.enqueue(contact("chat" + std::to_string(i), "chat", T0 + 2s)).ok());
  }
  CHECK(e.agentOf("chat0") == "a");
  CHECK(e.agentOf("chat1") == "b");  // least occupied, not longest idle
  CHECK(e.assignedContacts() == 4);
  CHECK(e.waitingContacts() == 1);   // both at two chats
  // An agent holding chats takes no voice contact.
  REQUIRE(e.enqueue(contact("call", "voice", T0 + 3s)).ok());
  CHECK(e.agentOf("call").empty());
  REQUIRE(e.release("chat0", T0 + 4s).ok());
  CHECK(e.agentOf("chat4") == "a");  // the freed slot takes the waiting chat
  CHECK(e.checkInvariants().empty());
}

TEST_CASE("Priority orders the queue before arrival time", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("q")).ok());
  REQUIRE(e.defineAgent(agent("a")).ok());
  REQUIRE(e.enqueue(contact("early", "q", T0)).ok());
  REQUIRE(e.enqueue(contact("vip", "q", T0 + 10s, 5)).ok());
  REQUIRE(e.enqueue(contact("later", "q", T0 + 20s)).ok());
  ready(e, "a", T0 + 30s);
  CHECK(e.agentOf("vip") == "a");
  REQUIRE(e.release("vip", T0 + 40s).ok());
  CHECK(e.agentOf("early") == "a");
}

TEST_CASE("Overflow offers a waiting contact to a second queue and keeps its place",
          "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  auto claims = queue("claims", {"claims"});
  claims.overflowAfter = 30s;
  claims.overflowQueue = "general";
  REQUIRE(e.defineQueue(claims).ok());
  REQUIRE(e.defineQueue(queue("general", {"general"})).ok());
  REQUIRE(e.defineAgent(agent("claims-agent", {{"claims", 5}})).ok());
  REQUIRE(e.defineAgent(agent("generalist", {{"general", 5}})).ok());
  ready(e, "claims-agent", T0);
  REQUIRE(e.enqueue(contact("busy", "claims", T0)).ok());
  REQUIRE(e.enqueue(contact("c1", "claims", T0 + 1s)).ok());
  CHECK(e.advance(T0 + 10s) == T0 + 31s);
  CHECK(e.agentOf("c1").empty());
  e.advance(T0 + 31s);
  CHECK(r.has("overflow c1 claims->general"));
  // Nobody in general yet; the first of either queue to free up takes it.
  ready(e, "generalist", T0 + 40s);
  CHECK(e.agentOf("c1") == "generalist");
  CHECK(r.last() == "assign c1 generalist via general");
  CHECK(e.checkInvariants().empty());
}

TEST_CASE("Maximum wait hands the contact back with its action", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  auto q = queue("q");
  q.maxWait = 120s;
  q.maxWaitAction = kefu::MaxWaitAction::kCallback;
  REQUIRE(e.defineQueue(q).ok());
  REQUIRE(e.defineAgent(agent("a")).ok());
  REQUIRE(e.enqueue(contact("c1", "q", T0)).ok());
  REQUIRE(e.enqueue(contact("c2", "q", T0 + 60s)).ok());
  REQUIRE(e.abandon("c2", T0 + 70s).ok());
  e.advance(T0 + 200s);
  CHECK(r.has("maxwait c1 q"));
  CHECK_FALSE(r.has("maxwait c2 q"));  // abandoned before: its timer is stale
  CHECK(e.waitingContacts() == 0);
  CHECK(e.abandon("c1", T0 + 201s).code() == StatusCode::kNotFound);
}

TEST_CASE("A full queue refuses new contacts", "[acd]") {
  AcdEngine e;
  auto q = queue("q");
  q.capacity = 2;
  REQUIRE(e.defineQueue(q).ok());
  REQUIRE(e.enqueue(contact("c1", "q", T0)).ok());
  REQUIRE(e.enqueue(contact("c2", "q", T0)).ok());
  auto s = e.enqueue(contact("c3", "q", T0));
  CHECK(s.code() == StatusCode::kResourceExhausted);
  CHECK_THAT(s.message(), Catch::Contains("full"));
  CHECK(e.enqueue(contact("c1", "q", T0)).code() == StatusCode::kAlreadyExists);
  CHECK(e.enqueue(contact("c9", "nope", T0)).code() == StatusCode::kNotFound);
}

TEST_CASE("Wrap-up follows a call and returns the agent to idle on its timer", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("q")).ok());
  REQUIRE(e.defineAgent(agent("a", {}, 1, 30s)).ok());
  ready(e, "a", T0);
  REQUIRE(e.enqueue(contact("c1", "q", T0)).ok());
  REQUIRE(e.enqueue(contact("c2", "q", T0 + 1s)).ok());
  REQUIRE(e.release("c1", T0 + 60s).ok());
  CHECK(*e.agentState("a") == AgentState::kWrapUp);
  CHECK(e.agentOf("c2").empty());  // not during wrap-up
  CHECK(e.advance(T0 + 61s) == T0 + 90s);
  e.advance(T0 + 90s);
  CHECK(e.agentOf("c2") == "a");

  SECTION("ended early by the agent") {
    REQUIRE(e.release("c2", T0 + 100s).ok());
    REQUIRE(e.endWrapUp("a", T0 + 105s).ok());
    CHECK(*e.agentState("a") == AgentState::kIdle);
    e.advance(T0 + 200s);  // the stale timer does nothing
    CHECK(*e.agentState("a") == AgentState::kIdle);
  }
}

TEST_CASE("Illegal agent transitions are refused with a reason", "[acd]") {
  AcdEngine e;
  REQUIRE(e.defineQueue(queue("q")).ok());
  REQUIRE(e.defineAgent(agent("a")).ok());
  CHECK(e.setReady("a", T0).code() == StatusCode::kFailedPrecondition);
  CHECK(e.setAway("a", "lunch", T0).code() == StatusCode::kFailedPrecondition);
  CHECK(e.signOut("a", T0).code() == StatusCode::kFailedPrecondition);
  REQUIRE(e.signIn("a", T0).ok());
  CHECK(*e.agentState("a") == AgentState::kAway);  // signed in, not yet ready
  CHECK(e.signIn("a", T0).code() == StatusCode::kFailedPrecondition);
  CHECK(e.setAway("a", "", T0).code() == StatusCode::kInvalidArgument);
  REQUIRE(e.setReady("a", T0).ok());
  REQUIRE(e.enqueue(contact("c1", "q", T0)).ok());
  auto out = e.signOut("a", T0);
  CHECK(out.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(out.message(), Catch::Contains("agent a is busy with a voice or video contact"));
  CHECK(e.endWrapUp("a", T0).code() == StatusCode::kFailedPrecondition);
  CHECK(e.release("c1", T0).ok());
  CHECK(e.release("c1", T0).code() == StatusCode::kNotFound);
  CHECK(e.agentState("ghost").status().code() == StatusCode::kNotFound);
}

TEST_CASE("Away requested while busy takes effect when the contact ends", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("q")).ok());
  REQUIRE(e.defineAgent(agent("a")).ok());
  ready(e, "a", T0);
  REQUIRE(e.enqueue(contact("c1", "q", T0)).ok());
  REQUIRE(e.setAway("a", "training", T0 + 1s).ok());
  REQUIRE(e.enqueue(contact("c2", "q", T0 + 2s)).ok());
  REQUIRE(e.release("c1", T0 + 3s).ok());
  CHECK(*e.agentState("a") == AgentState::kAway);
  CHECK(r.has("state a away training"));
  CHECK(e.agentOf("c2").empty());
  REQUIRE(e.setReady("a", T0 + 4s).ok());
  CHECK(e.agentOf("c2") == "a");
}

TEST_CASE("Bad definitions are refused", "[acd]") {
  AcdEngine e;
  auto q = queue("q");
  q.overflowAfter = 10s;
  CHECK(e.defineQueue(q).code() == StatusCode::kInvalidArgument);  // overflow to nowhere
  q.overflowQueue = "chat";
  REQUIRE(e.defineQueue(q).ok());
  REQUIRE(e.defineQueue(queue("chat", {}, kefu::Strategy::kLongestIdle,
                              kefu::Media::kChat)).ok());
  CHECK(e.defineQueue(queue("q")).code() == StatusCode::kAlreadyExists);
  auto s = e.defineAgent(agent("a"));
  CHECK(s.code() == StatusCode::kInvalidArgument);  // voice overflowing into chat
  CHECK_THAT(s.message(), Catch::Contains("other media"));
}

TEST_CASE("Long random runs keep every invariant", "[acd][random]") {
  // Random arrivals, ends, abandons, state changes and time steps over mixed voice and chat
  // queues with overflow, wrap-up and capacity. After every step: no agent holds two voice
  // contacts, loads match contacts, no ready agent idles beside a contact it could take.
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    AcdEngine e;
    auto voice = queue("voice", {"v"});
    voice.overflowAfter = 20s;
    voice.overflowQueue = "backup";
    voice.capacity = 40;
    voice.maxWait = 200s;
    voice.maxWaitAction = kefu::MaxWaitAction::kVoicemail;
    REQUIRE(e.defineQueue(voice).ok());
    REQUIRE(e.defineQueue(queue("backup", {"b"}, kefu::Strategy::kMostSkilled)).ok());
    REQUIRE(e.defineQueue(queue("chat", {"c"}, kefu::Strategy::kLeastOccupied,
                                kefu::Media::kChat)).ok());
    std::vector<std::string> agents;
    for (int i = 0; i < 12; ++i) {
      std::map<std::string, int> skills;
      if (rng() % 2) skills["v"] = 1 + rng() % 10;
      if (rng() % 2) skills["b"] = 1 + rng() % 10;
      if (rng() % 2) skills["c"] = 1 + rng() % 10;
      agents.push_back("a" + std::to_string(i));
      REQUIRE(e.defineAgent(agent(agents.back(), skills, 1 + rng() % 3,
                                  std::chrono::seconds(rng() % 3 * 10))).ok());
    }
    Recorder r;
    e.setListener(&r);
    std::vector<std::string> live;  // contacts routed and not ended
    std::set<std::string> everAssigned;
    TimePoint t = T0;
    int next = 0;
    for (int step = 0; step < 3000; ++step) {
      t += std::chrono::milliseconds(rng() % 4000);
      const std::string& a = agents[rng() % agents.size()];
      switch (rng() % 9) {
        case 0: (void)e.signIn(a, t); break;
        case 1: (void)e.setReady(a, t); break;
        case 2: (void)e.setAway(a, "break", t); break;
        case 3: (void)e.signOut(a, t); break;
        case 4:
        case 5: {
          const char* qs[] = {"voice", "backup", "chat"};
          std::string id = "c" + std::to_string(next++);
          if (e.enqueue(contact(id, qs[rng() % 3], t, static_cast<int>(rng() % 3))).ok()) {
            live.push_back(id);
          }
          break;
        }
        case 6:
        case 7:
          if (!live.empty()) {
            size_t i = rng() % live.size();
            if (!e.agentOf(live[i]).empty()) {
              REQUIRE(e.release(live[i], t).ok());
            } else {
              REQUIRE(e.abandon(live[i], t).ok());
            }
            live.erase(live.begin() + static_cast<long>(i));
          }
          break;
        default: e.advance(t);
      }
      // Contacts that left by maximum wait are gone from routing too.
      std::erase_if(live, [&](const std::string& id) {
        return r.has("maxwait " + id + " voice");
      });
      std::string broken = e.checkInvariants();
      INFO("seed " << seed << " step " << step);
      REQUIRE(broken.empty());
    }
    // Every assignment happened once per contact.
    for (const auto& line : r.log) {
      if (line.rfind("assign ", 0) != 0) continue;
      std::string id = line.substr(7, line.find(' ', 7) - 7);
      INFO(id);
      CHECK(everAssigned.insert(id).second);
    }
  }
}

TEST_CASE("Away asked for in wrap-up waits for the wrap-up to end", "[acd]") {
  AcdEngine e;
  Recorder r;
  e.setListener(&r);
  REQUIRE(e.defineQueue(queue("q")).ok());
  REQUIRE(e.defineAgent(agent("a", {}, 1, 30s)).ok());
  ready(e, "a", T0);
  REQUIRE(e.enqueue(contact("c1", "q", T0)).ok());
  REQUIRE(e.release("c1", T0 + 10s).ok());
  REQUIRE(e.setAway("a", "meal", T0 + 11s).ok());
  auto d = e.agentDetail("a");
  CHECK(d->state == AgentState::kWrapUp);
  CHECK(d->pendingAway);
  CHECK(d->pendingReason == "meal");
  REQUIRE(e.enqueue(contact("c2", "q", T0 + 12s)).ok());
  e.advance(T0 + 40s);
  CHECK(*e.agentState("a") == AgentState::kAway);
  CHECK(r.has("state a away meal"));
  CHECK(e.agentOf("c2").empty());
  d = e.agentDetail("a");
  CHECK(d->reason == "meal");
  CHECK_FALSE(d->pendingAway);
  CHECK(e.checkInvariants().empty());

  SECTION("ready cancels the pending away") {
    REQUIRE(e.setReady("a", T0 + 41s).ok());
    REQUIRE(e.release("c2", T0 + 50s).ok());
    REQUIRE(e.setAway("a", "break", T0 + 51s).ok());
    REQUIRE(e.setReady("a", T0 + 52s).ok());  // ends the wrap-up and cancels the away
    CHECK(*e.agentState("a") == AgentState::kIdle);
    CHECK_FALSE(e.agentDetail("a")->pendingAway);
  }
}

TEST_CASE("A withdrawn contact frees its agent without wrap-up", "[acd]") {
  AcdEngine e;
  REQUIRE(e.defineQueue(queue("q")).ok());
  REQUIRE(e.defineAgent(agent("a", {}, 1, 30s)).ok());
  ready(e, "a", T0);
  REQUIRE(e.enqueue(contact("c1", "q", T0)).ok());
  REQUIRE(e.enqueue(contact("c2", "q", T0 + 1s)).ok());
  REQUIRE(e.enqueue(contact("c3", "q", T0 + 2s)).ok());
  REQUIRE(e.withdraw("c2", T0 + 3s).ok());  // waiting: leaves the queue
  CHECK_FALSE(e.knows("c2"));
  REQUIRE(e.withdraw("c1", T0 + 4s).ok());  // assigned: the agent takes the next one
  CHECK(e.agentOf("c3") == "a");
  CHECK(e.waitingIds().empty());
  CHECK(e.withdraw("c1", T0).code() == StatusCode::kNotFound);
  CHECK(e.checkInvariants().empty());
}

TEST_CASE("MinQueue gives the smallest live entry whatever the order of arrival", "[acd]") {
  // Runs in order (the common case) mixed with entries out of order, removals from the
  // front and from anywhere, checked against a sorted set of the live entries.
  std::mt19937_64 rng(7);
  kefu::acd::MinQueue<int> mq;
  std::set<int> live, used;  // entries are unique: a value once used is not pushed again
  auto isLive = [&](int v) { return live.count(v) > 0; };
  int next = 1000;
  for (int step = 0; step < 20000; ++step) {
    switch (rng() % 6) {
      case 0:
      case 1:
        live.insert(next), used.insert(next), mq.push(next);
        next += 1 + int(rng() % 3);
        break;
      case 2: {
        int v = int(rng() % size_t(next));  // out of order, mostly
        if (used.insert(v).second) live.insert(v), mq.push(v);
        break;
      }
      case 3:
        if (!live.empty()) live.erase(live.begin());
        break;
      case 4:
        if (!live.empty()) live.erase(std::next(live.begin(), long(rng() % live.size())));
        mq.compact(live.size(), isLive);
        REQUIRE(mq.size() <= mq.maxSize(live.size()));
        break;
      default: break;
    }
    const int* first = mq.first(isLive);
    REQUIRE((first == nullptr) == live.empty());
    if (first) REQUIRE(*first == *live.begin());
    REQUIRE(mq.ordered());
  }
}

TEST_CASE("Contacts that leave an unserved queue leave no pile of dead entries", "[acd]") {
  AcdEngine e;
  REQUIRE(e.defineQueue(queue("q")).ok());
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 300; ++i) {
      REQUIRE(e.enqueue(contact("c" + std::to_string(i), "q", T0 + std::chrono::seconds(i))).ok());
    }
    for (int i = 0; i < 300; ++i) REQUIRE(e.abandon("c" + std::to_string(i), T0).ok());
    // checkInvariants() bounds the dead entries by the live ones (here none).
    REQUIRE(e.checkInvariants().empty());
    CHECK(e.queueStats("q", T0)->waiting == 0);
  }
}
