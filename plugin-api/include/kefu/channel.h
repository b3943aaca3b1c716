// SPDX-License-Identifier: Apache-2.0
//
// Channels: the media side of a contact (a phone call, a chat, an app or video session).
//
// A channel plugin carries the media; the router (routing.h) decides who handles what. The
// two meet here:
//
//   - Kefu -> channel (class Channel): offer a routed contact to an agent, answer, hang up,
//     hold and resume, blind and consult transfer, three-party conference, supervisor
//     monitor / whisper / barge-in. Kefu checks every step against the contact's state and
//     the agents' states first; a channel refuses only what its media cannot do.
//   - channel -> Kefu (class ChannelSink): a contact arrived, and media events (ringing,
//     answered, held, resumed, hung up, transfer completed, conference joined, recording
//     started or stopped with a recording reference that Kefu stores with the contact).
//
// The routing plugin provides a ChannelRegistry ("kefu.ChannelRegistry/1"); a channel
// plugin lists it in PluginInfo::depends, adds itself by name in start() and removes itself
// in stop():
//
//   auto registry = ctx.services().find<kefu::ChannelRegistry>();
//   registry->add(phone_);                         // phone_->name() == "phone"
//   auto id = registry->sink().arrive(spec);       // a call comes in
//   registry->sink().report({kefu::MediaEventKind::kAnswered, *id, "1001"});
//
// The same controls apply to every medium; a chat channel may treat hold as "paused" and
// supervision as read-only or read-write access to the conversation.
//
// Threading: Kefu calls a Channel from HTTP worker threads and from event handlers, one
// control at a time, never while it holds a routing lock. A channel may call its sink from
// inside those calls or from its own threads, but not while holding a lock that its own
// Channel methods take.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/routing.h"
#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

// How a supervisor joins a contact: listens only, speaks to the agent only, or speaks to
// both (barge-in turns the call into a conference with the supervisor).
enum class SupervisionMode { kMonitor, kWhisper, kBarge };
const char* supervisionModeName(SupervisionMode m);

// The destination of a blind transfer: exactly one of the two is set.
struct TransferTarget {
  std::string agent;
  std::string queue;
};

enum class MediaEventKind {
  kRinging,            // the offered agent's device rings
  kAnswered,           // the agent (party) answered
  kHeld,               // the customer is on hold (music playing)
  kResumed,            // the customer is back with the agent
  kHungUpByCustomer,   // while waiting this is an abandon; with an agent it ends the contact
  kHungUpByAgent,      // party left; the contact ends if party held it alone
  kTransferCompleted,  // the media now runs to the new agent (party)
  kConferenceJoined,   // party joined the contact's conference
  kRecordingStarted,   // recordingRef names the recording
  kRecordingStopped,
};
const char* mediaEventName(MediaEventKind k);

struct MediaEvent {
  MediaEventKind kind = MediaEventKind::kRinging;
  std::string contactId;
  // The agent or supervisor concerned; "" for the customer or the call as a whole.
  std::string party;
  // For recording events: an opaque reference the channel can resolve later, e.g.
  // "sim://rec/c-1f2e/1" (at most 256 characters). Kefu stores it with the contact.
  std::string recordingRef;
  // Free text for the contact's record (at most 256 characters); never personal numbers.
  std::string detail;
  TimePoint at{};  // set from the host clock when left at the epoch
};

// How a channel reports to Kefu. Obtained from ChannelRegistry::sink().
class ChannelSink {
 public:
  virtual ~ChannelSink() = default;

  // A contact arrived: it is stored, then routed to `contact.queue` exactly like
  // POST /api/v1/contacts. `contact.channel` names the reporting channel (InvalidArgument
  // when empty); an empty id is generated. Returns the durable id; NotFound for an unknown
  // queue, ResourceExhausted for a full one. If an agent is ready, Channel::offer() runs on
  // this thread before arrive() returns.
  virtual Result<std::string> arrive(ContactSpec contact) = 0;

  // Records a media event with the contact and applies what it implies (answered: the
  // agent is connected; hung up by the customer: abandoned or ended). NotFound for an
  // unknown contact; FailedPrecondition, with the reason, for an event that contradicts
  // the contact's state (it is still recorded).
  virtual Status report(const MediaEvent& event) = 0;
};

// One medium's media control, implemented by a channel plugin. Every call returns at once:
// OK when the channel has done, or has started, what was asked; a failed Status (with a
// reason an operator can read) when it cannot. Events that follow go to the sink.
class Channel {
 public:
  virtual ~Channel() = default;

  // The registry name: "phone", "webchat", "app", "video", ... (letters, digits, '-', '_').
  virtual std::string name() const = 0;

  // The router assigned `contactId` to `agentId`: alert the agent (ring the phone, pop the
  // chat). The agent is connected once the channel reports kAnswered.
  virtual Status offer(const std::string& contactId, const std::string& agentId) = 0;
  // The agent answers through Kefu (a soft phone button) rather than on its device.
  virtual Status answer(const std::string& contactId, const std::string& agentId) = 0;
  // `party` leaves the contact. For the agent that holds it, the whole contact ends.
  virtual Status hangUp(const std::string& contactId, const std::string& party) = 0;
  virtual Status hold(const std::string& contactId) = 0;
  virtual Status resume(const std::string& contactId) = 0;

  // Blind transfer: the customer goes to `to` and the current agent is released. For a
  // queue, Kefu routes the contact again and offers it to whoever it picks.
  virtual Status transfer(const std::string& contactId, const TransferTarget& to) = 0;
  // Consult transfer: the customer is held while the agent speaks to `agentId` ...
  virtual Status consult(const std::string& contactId, const std::string& agentId) = 0;
  // ... then either hands the customer over (the consulted agent keeps the contact) ...
  virtual Status completeConsult(const std::string& contactId) = 0;
  // ... or drops the consultation and returns to the customer.
  virtual Status cancelConsult(const std::string& contactId) = 0;
  // Joins `agentId` to the customer and the current agent (three parties at most).
  virtual Status conference(const std::string& contactId, const std::string& agentId) = 0;

  // A supervisor joins, or changes how it takes part in, an answered contact.
  virtual Status supervise(const std::string& contactId, const std::string& supervisorId,
                           SupervisionMode mode) = 0;

  // Kefu ended the contact without the channel asking (an agent's /end, a maximum wait, a
  // supervisor's abandon): release the media if it is still up. `reason` is the outcome.
  virtual void release(const std::string& contactId, const std::string& reason) = 0;
};

// Where channel plugins register. Provided by the routing plugin (in tree: routing-acd).
class ChannelRegistry {
 public:
  static constexpr const char* kInterfaceName = "kefu.ChannelRegistry/1";
  virtual ~ChannelRegistry() = default;

  // Registers `channel` under channel->name(). AlreadyExists if that name is taken;
  // InvalidArgument for an empty or malformed name.
  virtual Status add(std::shared_ptr<Channel> channel) = 0;
  // Unregisters the channel of that name; returns once no call into it is running. Call it
  // from stop(), not from inside a Channel method.
  virtual void remove(std::string_view name) = 0;
  // The channel registered under `name`, or nullptr.
  virtual std::shared_ptr<Channel> find(std::string_view name) const = 0;
  // Registered names, sorted.
  virtual std::vector<std::string> names() const = 0;
  // Where channels report arrivals and media events.
  virtual ChannelSink& sink() = 0;
};

inline const char* supervisionModeName(SupervisionMode m) {
  switch (m) {
    case SupervisionMode::kMonitor: return "monitor";
    case SupervisionMode::kWhisper: return "whisper";
    case SupervisionMode::kBarge: return "barge";
  }
  return "?";
}

inline const char* mediaEventName(MediaEventKind k) {
  switch (k) {
    case MediaEventKind::kRinging: return "ringing";
    case MediaEventKind::kAnswered: return "answered";
    case MediaEventKind::kHeld: return "held";
    case MediaEventKind::kResumed: return "resumed";
    case MediaEventKind::kHungUpByCustomer: return "hung_up_by_customer";
    case MediaEventKind::kHungUpByAgent: return "hung_up_by_agent";
    case MediaEventKind::kTransferCompleted: return "transfer_completed";
    case MediaEventKind::kConferenceJoined: return "conference_joined";
    case MediaEventKind::kRecordingStarted: return "recording_started";
    case MediaEventKind::kRecordingStopped: return "recording_stopped";
  }
  return "?";
}

KEFU_SDK_NAMESPACE_END
