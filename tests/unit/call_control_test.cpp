// SPDX-License-Identifier: Apache-2.0
//
// Call controls: the per-contact state machine (legal and illegal steps with their
// reasons) and the engine's transfers, re-queueing and second legs, checked against the
// engine's invariants.
#include <catch2/catch.hpp>

#include <random>

#include "acd_engine.h"
#include "call_control.h"

using kefu::AgentState;
using kefu::StatusCode;
using kefu::SupervisionMode;
using kefu::TimePoint;
using kefu::acd::AcdEngine;
using kefu::acd::applyStep;
using kefu::acd::CallPhase;
using kefu::acd::CallState;
using kefu::acd::CallStep;
using kefu::acd::checkStep;

namespace {

const TimePoint T0{std::chrono::hours(24 * 365 * 56)};

CallState ringing(const std::string& agent = "a1") {
  CallState s;
  s.channel = "phone";
  s.phase = CallPhase::kRinging;
  s.agent = agent;
  return s;
}

CallState connected(const std::string& agent = "a1") {
  CallState s = ringing(agent);
  applyStep(s, CallStep::kAnswer);
  return s;
}

// Takes `step`, which must be legal.
void take(CallState& s, CallStep step, const std::string& party = "",
          SupervisionMode mode = SupervisionMode::kMonitor) {
  auto st = checkStep(s, "c1", step, party, mode);
  INFO(st.message());
  REQUIRE(st.ok());
  applyStep(s, step, party, mode);
}

// `step` must be refused with `code` and a reason containing `why`.
void refused(const CallState& s, CallStep step, StatusCode code, const std::string& why,
             const std::string& party = "", SupervisionMode mode = SupervisionMode::kMonitor) {
  auto st = checkStep(s, "c1", step, party, mode);
  INFO(kefu::acd::callStepName(step) << " in " << kefu::acd::callPhaseName(s.phase) << ": "
                                     << st.message());
  CHECK(st.code() == code);
  CHECK_THAT(st.message(), Catch::Contains(why));
}

}  // namespace

TEST_CASE("Call control: answer hold and resume only in their phases", "[channels]") {
  CallState q;
  refused(q, CallStep::kAnswer, StatusCode::kFailedPrecondition, "no agent yet");
  refused(q, CallStep::kHangup, StatusCode::kFailedPrecondition, "abandoned");

  CallState s = ringing();
  refused(s, CallStep::kHold, StatusCode::kFailedPrecondition, "only a connected call");
  refused(s, CallStep::kAnswer, StatusCode::kFailedPrecondition, "rings agent a1, not a2",
          "a2");
  refused(s, CallStep::kTransferToQueue, StatusCode::kFailedPrecondition, "answer it first");
  refused(s, CallStep::kSupervise, StatusCode::kFailedPrecondition, "only an answered", "s1");
  take(s, CallStep::kAnswer, "a1");
  CHECK(s.phase == CallPhase::kConnected);
  refused(s, CallStep::kAnswer, StatusCode::kFailedPrecondition, "only a ringing");
  refused(s, CallStep::kResume, StatusCode::kFailedPrecondition, "not on hold");
  take(s, CallStep::kHold);
  CHECK(s.phase == CallPhase::kHeld);
  refused(s, CallStep::kHold, StatusCode::kFailedPrecondition, "on hold already");
  take(s, CallStep::kResume);
  CHECK(s.phase == CallPhase::kConnected);
  take(s, CallStep::kHangup);
  CHECK(s.phase == CallPhase::kEnded);
  for (auto step : {CallStep::kAnswer, CallStep::kHold, CallStep::kResume, CallStep::kHangup,
                    CallStep::kConsult, CallStep::kSupervise}) {
    refused(s, step, StatusCode::kFailedPrecondition, "no more controls", "a2");
  }
}

TEST_CASE("Call control: blind transfers", "[channels]") {
  CallState s = connected();
  refused(s, CallStep::kTransferToAgent, StatusCode::kInvalidArgument, "already holds", "a1");
  refused(s, CallStep::kTransferToAgent, StatusCode::kInvalidArgument, "name the agent");
  take(s, CallStep::kSupervise, "s1");
  take(s, CallStep::kHold);
  take(s, CallStep::kTransferToAgent, "a2");  // from hold too
  CHECK(s.phase == CallPhase::kRinging);
  CHECK(s.agent == "a2");
  CHECK(s.supervisors.empty());  // supervision stays with the former agent's leg
  take(s, CallStep::kAnswer, "a2");
  take(s, CallStep::kTransferToQueue);
  CHECK(s.phase == CallPhase::kQueued);
  CHECK(s.agent.empty());
}

TEST_CASE("Call control: consultation then complete or cancel", "[channels]") {
  CallState s = connected();
  refused(s, CallStep::kConsultComplete, StatusCode::kFailedPrecondition, "no consultation");
  take(s, CallStep::kConsult, "a2");
  CHECK(s.phase == CallPhase::kConsulting);
  CHECK(s.involves("a2"));
  refused(s, CallStep::kTransferToQueue, StatusCode::kFailedPrecondition,
          "complete or cancel");
  refused(s, CallStep::kConsult, StatusCode::kFailedPrecondition, "complete or cancel", "a3");
  refused(s, CallStep::kHold, StatusCode::kFailedPrecondition, "only a connected call");
  refused(s, CallStep::kConference, StatusCode::kFailedPrecondition, "consults agent a2",
          "a3");
  take(s, CallStep::kConsultCancel);
  CHECK(s.phase == CallPhase::kConnected);
  CHECK(s.agent == "a1");
  CHECK_FALSE(s.involves("a2"));

  take(s, CallStep::kConsult, "a2");
  take(s, CallStep::kConsultComplete);
  CHECK(s.phase == CallPhase::kConnected);
  CHECK(s.agent == "a2");
  CHECK(s.consultAgent.empty());

  // The consulted agent may also just hang up its leg.
  take(s, CallStep::kConsult, "a3");
  refused(s, CallStep::kLeave, StatusCode::kFailedPrecondition, "hangs up the whole", "a2");
  take(s, CallStep::kLeave, "a3");
  CHECK(s.phase == CallPhase::kConnected);
}

TEST_CASE("Call control: three-party conference and supervision", "[channels]") {
  CallState s = connected();
  refused(s, CallStep::kLeave, StatusCode::kFailedPrecondition, "only a consultation", "a1");
  take(s, CallStep::kConsult, "a2");
  take(s, CallStep::kConference);  // joins the consulted agent
  CHECK(s.phase == CallPhase::kConference);
  CHECK(s.conferenceAgent == "a2");
  refused(s, CallStep::kConference, StatusCode::kFailedPrecondition, "three parties", "a3");
  refused(s, CallStep::kTransferToAgent, StatusCode::kFailedPrecondition,
          "end the conference", "a3");
  refused(s, CallStep::kHold, StatusCode::kFailedPrecondition, "only a connected call");
  refused(s, CallStep::kSupervise, StatusCode::kFailedPrecondition, "as an agent", "a2");
  take(s, CallStep::kSupervise, "s1", SupervisionMode::kMonitor);
  refused(s, CallStep::kSupervise, StatusCode::kFailedPrecondition, "monitor mode already",
          "s1", SupervisionMode::kMonitor);
  take(s, CallStep::kSupervise, "s1", SupervisionMode::kWhisper);
  take(s, CallStep::kSupervise, "s1", SupervisionMode::kBarge);
  CHECK(s.supervisors.at("s1") == SupervisionMode::kBarge);
  refused(s, CallStep::kLeave, StatusCode::kFailedPrecondition, "not on it", "a9");
  take(s, CallStep::kLeave, "a2");
  CHECK(s.phase == CallPhase::kConnected);
  CHECK(s.agent == "a1");

  CallState d = connected();
  refused(d, CallStep::kConference, StatusCode::kInvalidArgument, "name the agent");
  take(d, CallStep::kConference, "a3");  // straight in, without consulting
  CHECK(d.conferenceAgent == "a3");
}

// ---- the engine ----------------------------------------------------------------------

TEST_CASE("Call control: a supervisor ends its own supervision", "[channels]") {
  CallState s = connected();
  refused(s, CallStep::kUnsupervise, StatusCode::kFailedPrecondition, "does not supervise",
          "lead");
  take(s, CallStep::kSupervise, "lead", SupervisionMode::kBarge);
  take(s, CallStep::kUnsupervise, "lead");
  CHECK(s.supervisors.empty());
  CHECK(s.phase == CallPhase::kConnected);
  CHECK(std::string(kefu::acd::callStepName(CallStep::kUnsupervise)) == "unsupervise");
  CallState q;
  refused(q, CallStep::kAnswer, StatusCode::kFailedPrecondition, "no agent yet");
  CHECK(checkStep(q, "c1", CallStep::kAnswer).message().find("abandoned") == std::string::npos);
}

namespace {

struct Engine {
  AcdEngine e;
  TimePoint t = T0;

  Engine() {
    kefu::QueueSpec voice;
    voice.name = "voice";
    voice.skills = {{"v", 1}};
    kefu::QueueSpec other = voice;
    other.name = "other";
    other.capacity = 1;
    kefu::QueueSpec chat;
    chat.name = "chat";
    chat.media = kefu::Media::kChat;
    chat.skills = {{"c", 1}};
    REQUIRE(e.defineQueue(voice).ok());
    REQUIRE(e.defineQueue(other).ok());
    REQUIRE(e.defineQueue(chat).ok());
    for (const char* id : {"a1", "a2", "a3"}) {
      kefu::AgentSpec a;
      a.id = id;
      a.skills = {{"v", 5}, {"c", 5}};
      a.maxChats = 2;
      REQUIRE(e.defineAgent(a).ok());
      REQUIRE(e.signIn(id, t).ok());
    }
  }
  void ready(const std::string& id) { REQUIRE(e.setReady(id, tick()).ok()); }
  TimePoint tick() { return t += std::chrono::seconds(1); }
  void contact(const std::string& id, const std::string& queue = "voice") {
    kefu::ContactSpec c;
    c.id = id;
    c.queue = queue;
    c.arrived = tick();
    REQUIRE(e.enqueue(c).ok());
  }
  AgentState state(const std::string& id) { return *e.agentState(id); }
  void invariants() { CHECK(e.checkInvariants() == ""); }
};

}  // namespace

TEST_CASE("Engine: a transfer goes only to an agent free for it", "[channels][routing]") {
  Engine g;
  g.ready("a1");
  g.contact("c1");
  REQUIRE(g.e.agentOf("c1") == "a1");
  auto away = g.e.canTake("c1", "a2");
  CHECK(away.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(away.message(), Catch::Contains("agent a2 is away"));
  CHECK(g.e.transferTo("c1", "a2", g.tick()).code() == StatusCode::kFailedPrecondition);
  CHECK(g.e.canTake("c1", "nobody").code() == StatusCode::kNotFound);
  CHECK(g.e.canTake("c1", "a1").code() == StatusCode::kFailedPrecondition);

  g.ready("a2");
  g.ready("a3");
  g.contact("c2");  // a2 has been idle longest
  REQUIRE(g.e.agentOf("c2") == "a2");
  auto busy = g.e.transferTo("c1", "a2", g.tick());
  CHECK_THAT(busy.message(), Catch::Contains("busy with a voice or video contact"));
  REQUIRE(g.e.transferTo("c1", "a3", g.tick()).ok());
  CHECK(g.e.agentOf("c1") == "a3");
  CHECK(g.state("a1") == AgentState::kIdle);
  g.invariants();
}

TEST_CASE("Engine: re-queueing routes the contact again", "[channels][routing]") {
  Engine g;
  g.ready("a1");
  g.contact("c1");
  CHECK(g.e.canRequeue("c1", "nowhere").code() == StatusCode::kNotFound);
  CHECK(g.e.canRequeue("c1", "chat").code() == StatusCode::kInvalidArgument);
  // Nobody else is ready: the former agent takes it back from the new queue.
  REQUIRE(g.e.requeue("c1", "other", g.tick()).ok());
  CHECK(g.e.agentOf("c1") == "a1");
  g.invariants();
  // With another agent ready, that agent gets it; the former agent is free.
  g.ready("a2");
  REQUIRE(g.e.requeue("c1", "voice", g.tick()).ok());
  CHECK(g.e.agentOf("c1") == "a2");
  CHECK(g.state("a1") == AgentState::kIdle);
  g.invariants();
  // A full queue refuses.
  REQUIRE(g.e.setAway("a1", "break", g.tick()).ok());
  g.contact("c2", "other");  // waits: a1 away, a2 busy, a3 away
  CHECK(g.e.requeue("c1", "other", g.tick()).code() == StatusCode::kResourceExhausted);
  // Waiting in the new queue, it is abandoned like any waiting contact.
  g.contact("c3");
  REQUIRE(g.e.requeue("c1", "voice", g.tick()).ok());
  CHECK(g.e.agentOf("c1") == "");
  CHECK(g.e.waitingContacts() == 2);  // c3 and c1; a2 took c2
  REQUIRE(g.e.abandon("c1", g.tick()).ok());
  g.invariants();
}

TEST_CASE("Engine: legs keep an agent to one voice contact", "[channels][routing]") {
  Engine g;
  g.ready("a1");
  g.contact("c1");
  g.ready("a2");
  REQUIRE(g.e.addLeg("c1", "a2", g.tick()).ok());
  CHECK(g.state("a2") == AgentState::kBusy);
  g.invariants();
  // The agent on a leg takes no contact and no second leg.
  g.contact("c2");
  CHECK(g.e.agentOf("c2") == "");
  CHECK(g.e.addLeg("c1", "a2", g.tick()).code() == StatusCode::kFailedPrecondition);
  CHECK(g.e.signOut("a2", g.tick()).code() == StatusCode::kFailedPrecondition);
  // Dropping the leg frees the agent, who takes the waiting contact.
  REQUIRE(g.e.dropLeg("c1", "a2", g.tick()).ok());
  CHECK(g.e.agentOf("c2") == "a2");
  CHECK(g.e.dropLeg("c1", "a2", g.tick()).code() == StatusCode::kFailedPrecondition);
  g.invariants();
  // A leg that becomes the assignment (consultation completed).
  g.ready("a3");
  REQUIRE(g.e.addLeg("c1", "a3", g.tick()).ok());
  REQUIRE(g.e.transferTo("c1", "a3", g.tick()).ok());
  CHECK(g.e.agentOf("c1") == "a3");
  CHECK(g.state("a1") == AgentState::kIdle);
  g.invariants();
  // The end releases every leg with the contact.
  REQUIRE(g.e.addLeg("c1", "a1", g.tick()).ok());
  REQUIRE(g.e.release("c1", g.tick()).ok());
  CHECK(g.state("a1") == AgentState::kIdle);
  CHECK(g.state("a3") == AgentState::kIdle);
  g.invariants();
}

TEST_CASE("Engine: a chat agent is on one leg at a time", "[channels][routing]") {
  Engine g;
  g.ready("a1");
  g.contact("x1", "chat");
  g.contact("x2", "chat");  // a1 takes both (two chats at most)
  REQUIRE(g.e.agentOf("x2") == "a1");
  g.ready("a2");
  REQUIRE(g.e.addLeg("x1", "a2", g.tick()).ok());
  auto second = g.e.addLeg("x2", "a2", g.tick());
  CHECK(second.code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(second.message(), Catch::Contains("already on contact 'x1'"));
  g.invariants();
  REQUIRE(g.e.dropLeg("x1", "a2", g.tick()).ok());
  REQUIRE(g.e.addLeg("x2", "a2", g.tick()).ok());
  g.invariants();
}

TEST_CASE("Engine: random call controls keep the invariants", "[channels][routing]") {
  Engine g;
  for (const char* a : {"a1", "a2", "a3"}) g.ready(a);
  std::mt19937 rng(7);
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) {
    std::string agent = "a" + std::to_string(1 + rng() % 3);
    std::string id = ids.empty() ? "" : ids[rng() % ids.size()];
    switch (rng() % 8) {
      case 0: {
        kefu::ContactSpec c;
        c.id = "c" + std::to_string(i);
        c.queue = rng() % 4 == 0 ? "chat" : (rng() % 2 ? "voice" : "other");
        c.arrived = g.tick();
        if (g.e.enqueue(c).ok()) ids.push_back(c.id);
        break;
      }
      case 1: (void)g.e.transferTo(id, agent, g.tick()); break;
      case 2: (void)g.e.requeue(id, rng() % 2 ? "voice" : "other", g.tick()); break;
      case 3: (void)g.e.addLeg(id, agent, g.tick()); break;
      case 4: (void)g.e.dropLeg(id, agent, g.tick()); break;
      case 5:
        if (g.e.release(id, g.tick()).ok() || g.e.abandon(id, g.tick()).ok()) {
          ids.erase(std::find(ids.begin(), ids.end(), id));
        }
        break;
      case 6: (void)g.e.setReady(agent, g.tick()); break;
      case 7: (void)g.e.setAway(agent, "break", g.tick()); break;
    }
    std::string broken = g.e.checkInvariants();
    INFO("step " << i);
    REQUIRE(broken == "");
  }
}
