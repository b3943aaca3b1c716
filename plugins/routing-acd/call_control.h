// SPDX-License-Identifier: Apache-2.0
//
// The call-control state machine of one contact, the same for every channel: which control
// (answer, hold, transfer, ...) is legal in which phase, and what it changes. Pure and
// in-memory; ChannelHub (channel_hub.h) drives it, asks the channel and the router, and
// stores every step.
//
//   queued --(routed)--> ringing --answer--> connected <--hold/resume--> held
//   connected|held --consult--> consulting --complete--> connected (the consulted agent)
//                                          --cancel----> connected (the same agent)
//   connected|held|consulting --conference--> conference --leave--> connected
//   connected|held --transfer to agent--> ringing (the new agent)
//   connected|held --transfer to queue--> queued
//   any but queued --hangup--> ended
// Supervisors monitor, whisper or barge into any answered phase; they leave with the agent
// on a transfer.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kefu/channel.h"
#include "kefu/status.h"

namespace kefu::acd {

enum class CallPhase { kQueued, kRinging, kConnected, kHeld, kConsulting, kConference, kEnded };
const char* callPhaseName(CallPhase p);

enum class CallStep {
  kAnswer,
  kHold,
  kResume,
  kHangup,           // the whole contact ends
  kLeave,            // one agent of a consultation or conference leaves
  kTransferToAgent,
  kTransferToQueue,
  kConsult,
  kConsultComplete,
  kConsultCancel,
  kConference,
  kSupervise,
};
const char* callStepName(CallStep s);

struct CallState {
  std::string channel;
  CallPhase phase = CallPhase::kQueued;
  std::string agent;             // the agent offered or holding the contact
  std::string consultAgent;      // in kConsulting
  std::string conferenceAgent;   // the third party in kConference
  std::map<std::string, SupervisionMode> supervisors;
  bool recording = false;

  bool answered() const {
    return phase == CallPhase::kConnected || phase == CallPhase::kHeld ||
           phase == CallPhase::kConsulting || phase == CallPhase::kConference;
  }
  // True if `id` is the holder or the second agent of a consultation or conference.
  bool involves(const std::string& id) const {
    return !id.empty() && (id == agent || id == consultAgent || id == conferenceAgent);
  }
};

// Whether `step` is legal now. `party` is the step's other agent (the transfer, consult or
// conference target; the agent leaving; the agent answering) or the supervisor; `mode`
// applies to kSupervise. FailedPrecondition with a reason naming the contact and its
// phase; InvalidArgument for a malformed request (a transfer to the holder itself).
Status checkStep(const CallState& s, const std::string& contactId, CallStep step,
                 const std::string& party = "",
                 SupervisionMode mode = SupervisionMode::kMonitor);

// Applies a step that checkStep() allowed.
void applyStep(CallState& s, CallStep step, const std::string& party = "",
               SupervisionMode mode = SupervisionMode::kMonitor);

}  // namespace kefu::acd
