// SPDX-License-Identifier: Apache-2.0
//
// FaqBot: the bot a customer meets first on a chat channel (clause 8.3).
//
// A channel plugin passes each customer message to handle(); the bot answers from its FAQ,
// or decides to hand the dialog to a person (the customer asked for one, or the bot is not
// sure enough). On a hand-off the channel routes the contact to `queue` and links the
// contact id with linkContact(), so the agent reads the stored transcript by contact id
// (GET /api/v1/bot/contacts/{id}/dialog). Messages after the hand-off, from either side,
// are stored in the same transcript.
//
//   auto bot = ctx.services().find<kefu::FaqBot>();      // in start()
//   auto r = bot->handle(sessionId, "webchat", "怎么修改绑定的手机号");
//   if (r.ok() && r->decision == kefu::BotDecision::kHandOff) { ... route to r->queue ... }
//
// Threading: all calls are safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

enum class BotDecision {
  kAnswered,    // `text` is the answer
  kHandOff,     // route the contact to `queue`; `text` tells the customer so
  kUnanswered,  // not sure, and the deployment does not hand off: `text` says so
  kRelayed,     // the dialog is already with a person; the message was stored only
};

struct BotAnswer {
  BotDecision decision = BotDecision::kUnanswered;
  std::string text;
  int64_t entryId = 0;    // the FAQ entry answered from or closest to; 0 when none
  double confidence = 0;  // of the best-matching phrasing, 0..1
  std::string queue;      // for a hand-off
  std::string reason;     // for a hand-off: "asked_for_person" or "low_confidence"
};

class FaqBot {
 public:
  static constexpr const char* kInterfaceName = "kefu.FaqBot/1";
  virtual ~FaqBot() = default;

  // One customer message of dialog `dialogId` (1 to 64 characters, created on first use)
  // arriving on `channel`. InvalidArgument for an empty or overlong message.
  virtual Result<BotAnswer> handle(const std::string& dialogId, const std::string& channel,
                                   const std::string& text) = 0;
  // Stores a message of `speaker` ("agent", "system") in the transcript.
  virtual Status addTurn(const std::string& dialogId, const std::string& speaker,
                         const std::string& text) = 0;
  // The routed contact that carries the dialog.
  virtual Status linkContact(const std::string& dialogId, const std::string& contactId) = 0;
  // What became of a hand-off the queue could not take: "closed_callback",
  // "closed_message", ... (the routing closed action), or "ended".
  virtual Status setOutcome(const std::string& dialogId, const std::string& outcome) = 0;
};

KEFU_SDK_NAMESPACE_END
