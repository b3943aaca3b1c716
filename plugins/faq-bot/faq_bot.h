// SPDX-License-Identifier: Apache-2.0
//
// FaqBot: FAQ entries (one answer, several phrasings), the dialogs the bot holds with
// customers, and the bot's decision for each customer message. Everything is stored through
// SOCI; tests drive it on a real SQLite store without loading the plugin.
//
// A customer message is answered when its best phrasing scores at least the answer
// threshold; otherwise, or when the customer asks for a person, the dialog is handed off:
// the bot marks it "handed_off" with the queue and returns Decision::kHandOff, and the
// caller (a channel) routes the contact and links its id with linkContact(), so the agent
// finds the stored transcript from the contact id. Messages after the hand-off are stored
// as the customer's side of the agent conversation.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kefu/status.h"
#include "kefu/store.h"
#include "pair_model.h"

namespace soci {
class session;
}

namespace kefu::faq {

struct FaqEntry {
  int64_t id = 0;
  std::string answer;
  std::string category;
  std::vector<std::string> questions;  // phrasings, at least one
  int revision = 0;
  int64_t updatedMs = 0;
  std::string updatedBy;
};

struct BotOptions {
  double answerThreshold = 0.5;
  std::string handoffQueue = "webchat";
  // Normalised substrings that ask for a person (转人工, 人工客服, agent, ...).
  std::vector<std::string> handoffPhrases;
  bool handOffWhenUnsure = true;
  std::string handoffText = "正在为您转接人工客服，请稍候。";
  std::string unsureText = "抱歉，这个问题我还不能回答。";
};

enum class Decision { kAnswered, kHandOff, kUnanswered, kRelayed };
const char* decisionName(Decision d);

struct BotReply {
  Decision decision = Decision::kUnanswered;
  std::string text;        // what the bot says ("" for kRelayed)
  int64_t entryId = 0;     // the matched entry, 0 when none
  double confidence = 0;   // of the best phrasing
  std::string matched;     // that phrasing
  std::string reason;      // for a hand-off: "asked_for_person" or "low_confidence"
  std::string queue;       // for a hand-off
};

// Scores a message against one stored phrasing; the trained PairModel when there is one,
// else IDF-weighted character overlap (the untrained fallback).
class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual double score(const std::string& message, const std::string& phrasing) const = 0;
};

class FaqBot {
 public:
  FaqBot(std::unique_ptr<soci::session> session, BotOptions options);
  ~FaqBot();

  static std::vector<Migration> migrations();

  // Installs the scorer (nullptr: the fallback) and loads the phrasings into memory.
  void setModel(std::shared_ptr<const PairModel> model);
  Status reload();

  // FAQ CRUD. InvalidArgument names the bad field; NotFound for an unknown or deleted id.
  Result<FaqEntry> create(const FaqEntry& e, const std::string& actor);
  Result<FaqEntry> revise(int64_t id, const FaqEntry& e, const std::string& actor);
  Status remove(int64_t id, const std::string& actor);
  Result<FaqEntry> get(int64_t id);
  std::vector<FaqEntry> list();
  size_t count();

  // One customer message in dialog `dialogId` (created on first use, channel recorded).
  Result<BotReply> handle(const std::string& dialogId, const std::string& channel,
                          const std::string& text);
  // A message from the agent (after the hand-off) or the system, stored in the transcript.
  Status addTurn(const std::string& dialogId, const std::string& speaker,
                 const std::string& text);
  // Links the routed contact with the dialog, or records how a closed queue was handled
  // ("closed_callback", "closed_message").
  Status linkContact(const std::string& dialogId, const std::string& contactId);
  Status setOutcome(const std::string& dialogId, const std::string& state);
  // The dialog with its transcript; personal numbers masked unless `unmasked`.
  Result<nlohmann::json> dialog(const std::string& dialogId, bool unmasked);
  Result<nlohmann::json> dialogByContact(const std::string& contactId, bool unmasked);

  // Tuning: unanswered and low-confidence customer messages not yet attached.
  nlohmann::json tuningList(size_t limit, bool unmasked);
  // Adds the message of turn `turnId` (masked) as a phrasing of entry `entryId`.
  Result<FaqEntry> attach(int64_t turnId, int64_t entryId, const std::string& actor);
  // Per UTC day from `fromMs`: dialogs answered by the bot alone, handed off, unanswered,
  // and the intelligent-service rate (answered / all).
  nlohmann::json stats(int64_t fromMs);

  // Best phrasing for `text` without storing anything.
  BotReply match(const std::string& text) const;

 private:
  Result<FaqEntry> loadEntry(int64_t id);
  Status reloadLocked();
  void ensureDialog(const std::string& id, const std::string& channel, int64_t now);
  int64_t storeTurn(const std::string& dialog, const std::string& speaker,
                    const std::string& text, const std::string& kind, int64_t entry,
                    double confidence, int64_t now);
  bool asksForPerson(const std::string& text) const;

  struct Phrasing {
    int64_t entryId;
    std::string question;
  };
  std::unique_ptr<soci::session> session_;
  mutable std::recursive_mutex mu_;
  BotOptions options_;
  std::shared_ptr<const PairModel> model_;
  std::vector<Phrasing> phrasings_;
  std::vector<std::pair<int64_t, std::string>> answers_;  // entry id -> answer, sorted
  std::unique_ptr<Scorer> fallback_;
};

int64_t nowMs();

}  // namespace kefu::faq
