// SPDX-License-Identifier: Apache-2.0
#include "call_control.h"

namespace kefu::acd {

const char* callPhaseName(CallPhase p) {
  switch (p) {
    case CallPhase::kQueued: return "queued";
    case CallPhase::kRinging: return "ringing";
    case CallPhase::kConnected: return "connected";
    case CallPhase::kHeld: return "held";
    case CallPhase::kConsulting: return "consulting";
    case CallPhase::kConference: return "conference";
    case CallPhase::kEnded: return "ended";
  }
  return "?";
}

const char* callStepName(CallStep s) {
  switch (s) {
    case CallStep::kAnswer: return "answer";
    case CallStep::kHold: return "hold";
    case CallStep::kResume: return "resume";
    case CallStep::kHangup: return "hangup";
    case CallStep::kLeave: return "leave";
    case CallStep::kTransferToAgent: return "transfer_to_agent";
    case CallStep::kTransferToQueue: return "transfer_to_queue";
    case CallStep::kConsult: return "consult";
    case CallStep::kConsultComplete: return "consult_complete";
    case CallStep::kConsultCancel: return "consult_cancel";
    case CallStep::kConference: return "conference";
    case CallStep::kSupervise: return "supervise";
  }
  return "?";
}

namespace {

Status refuse(const CallState& s, const std::string& id, const std::string& why) {
  return Status::failedPrecondition("contact '" + id + "' is " + callPhaseName(s.phase) +
                                    "; " + why);
}

}  // namespace

Status checkStep(const CallState& s, const std::string& id, CallStep step,
                 const std::string& party, SupervisionMode mode) {
  if (s.phase == CallPhase::kEnded) return refuse(s, id, "it takes no more controls");
  if (s.phase == CallPhase::kQueued) {
    return refuse(s, id, "it has no agent yet (a waiting contact is abandoned, not hung up)");
  }
  switch (step) {
    case CallStep::kAnswer:
      if (s.phase != CallPhase::kRinging) {
        return refuse(s, id, "only a ringing contact is answered");
      }
      if (!party.empty() && party != s.agent) {
        return refuse(s, id, "it rings agent " + s.agent + ", not " + party);
      }
      return {};
    case CallStep::kHold:
      if (s.phase == CallPhase::kHeld) return refuse(s, id, "it is on hold already");
      if (s.phase != CallPhase::kConnected) return refuse(s, id, "only a connected call is held");
      return {};
    case CallStep::kResume:
      if (s.phase != CallPhase::kHeld) return refuse(s, id, "it is not on hold");
      return {};
    case CallStep::kHangup:
      return {};
    case CallStep::kLeave:
      if (s.phase != CallPhase::kConsulting && s.phase != CallPhase::kConference) {
        return refuse(s, id, "only a consultation or conference is left by one agent");
      }
      if (!s.involves(party)) return refuse(s, id, "agent " + party + " is not on it");
      if (party == s.agent) {
        return refuse(s, id, "the holding agent hangs up the whole contact, not one leg");
      }
      return {};
    case CallStep::kTransferToAgent:
    case CallStep::kTransferToQueue:
    case CallStep::kConsult:
      if (s.phase == CallPhase::kRinging) return refuse(s, id, "answer it first");
      if (s.phase == CallPhase::kConsulting) {
        return refuse(s, id, "complete or cancel the consultation first");
      }
      if (s.phase == CallPhase::kConference) return refuse(s, id, "end the conference first");
      if (step != CallStep::kTransferToQueue) {
        if (party.empty()) return Status::invalidArgument("name the agent to transfer to");
        if (party == s.agent) {
          return Status::invalidArgument("agent " + party + " already holds contact '" + id +
                                         "'");
        }
      }
      return {};
    case CallStep::kConsultComplete:
    case CallStep::kConsultCancel:
      if (s.phase != CallPhase::kConsulting) return refuse(s, id, "there is no consultation");
      return {};
    case CallStep::kConference:
      if (s.phase == CallPhase::kConference) {
        return refuse(s, id, "a conference has three parties at most");
      }
      if (s.phase == CallPhase::kRinging) return refuse(s, id, "answer it first");
      if (s.phase == CallPhase::kConsulting) {
        if (!party.empty() && party != s.consultAgent) {
          return refuse(s, id, "it consults agent " + s.consultAgent + "; join that agent or "
                               "cancel first");
        }
        return {};
      }
      if (party.empty()) return Status::invalidArgument("name the agent to join");
      if (party == s.agent) {
        return Status::invalidArgument("agent " + party + " already holds contact '" + id + "'");
      }
      return {};
    case CallStep::kSupervise: {
      if (!s.answered()) return refuse(s, id, "only an answered contact is supervised");
      if (s.involves(party)) return refuse(s, id, party + " takes part in it as an agent");
      auto it = s.supervisors.find(party);
      if (it != s.supervisors.end() && it->second == mode) {
        return refuse(s, id, party + " is in " + supervisionModeName(mode) + " mode already");
      }
      return {};
    }
  }
  return Status::internal("unknown call step");
}

void applyStep(CallState& s, CallStep step, const std::string& party, SupervisionMode mode) {
  switch (step) {
    case CallStep::kAnswer: s.phase = CallPhase::kConnected; return;
    case CallStep::kHold: s.phase = CallPhase::kHeld; return;
    case CallStep::kResume: s.phase = CallPhase::kConnected; return;
    case CallStep::kHangup:
      s.phase = CallPhase::kEnded;
      s.consultAgent.clear();
      s.conferenceAgent.clear();
      s.supervisors.clear();
      return;
    case CallStep::kLeave:
      s.consultAgent.clear();
      s.conferenceAgent.clear();
      s.phase = CallPhase::kConnected;
      return;
    case CallStep::kTransferToAgent:
      s.agent = party;
      s.phase = CallPhase::kRinging;
      s.supervisors.clear();
      return;
    case CallStep::kTransferToQueue:
      s.agent.clear();
      s.phase = CallPhase::kQueued;
      s.supervisors.clear();
      return;
    case CallStep::kConsult:
      s.consultAgent = party;
      s.phase = CallPhase::kConsulting;
      return;
    case CallStep::kConsultComplete:
      s.agent = s.consultAgent;
      s.consultAgent.clear();
      s.phase = CallPhase::kConnected;
      s.supervisors.clear();
      return;
    case CallStep::kConsultCancel:
      s.consultAgent.clear();
      s.phase = CallPhase::kConnected;
      return;
    case CallStep::kConference:
      s.conferenceAgent = s.phase == CallPhase::kConsulting ? s.consultAgent : party;
      s.consultAgent.clear();
      s.phase = CallPhase::kConference;
      return;
    case CallStep::kSupervise: s.supervisors[party] = mode; return;
  }
}

}  // namespace kefu::acd
