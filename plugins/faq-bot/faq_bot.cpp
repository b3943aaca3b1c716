// SPDX-License-Identifier: Apache-2.0
#include "faq_bot.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include <soci/soci.h>

#include "kefu/pii.h"
#include "kefu/store_util.h"
#include "kefu_text.h"

namespace kefu::faq {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxAnswer = 8000;
constexpr size_t kMaxQuestion = 500;
constexpr size_t kMaxPhrasings = 50;
constexpr size_t kMaxMessage = 2000;

// IDF-weighted character overlap over the stored phrasings: what the bot uses before a pair
// model has been trained.
class OverlapScorer : public Scorer {
 public:
  explicit OverlapScorer(const std::vector<std::string>& phrasings) {
    std::unordered_map<char32_t, int> df;
    for (const auto& p : phrasings) {
      auto q = normalizeQuestion(p);
      std::set<char32_t> seen(q.begin(), q.end());
      for (char32_t c : seen) ++df[c];
    }
    n_ = static_cast<double>(phrasings.size()) + 1;
    for (const auto& [c, f] : df) idf_[c] = std::log(n_ / f) + 1;
  }
  double score(const std::string& message, const std::string& phrasing) const override {
    auto a = normalizeQuestion(message), b = normalizeQuestion(phrasing);
    std::set<char32_t> sa(a.begin(), a.end()), sb(b.begin(), b.end());
    double shared = 0, all = 0;
    for (char32_t c : sa) {
      all += idf(c);
      if (sb.count(c)) shared += idf(c);
    }
    for (char32_t c : sb) {
      if (!sa.count(c)) all += idf(c);
    }
    return all > 0 ? shared / all : 0;
  }

 private:
  double idf(char32_t c) const {
    auto it = idf_.find(c);
    return it == idf_.end() ? std::log(n_) + 1 : it->second;
  }
  double n_ = 1;
  std::unordered_map<char32_t, double> idf_;
};

std::string normalizedUtf8(const std::string& s) {
  return kefu::text::encodeUtf8(normalizeQuestion(s));
}

Status validate(const FaqEntry& e) {
  if (e.answer.empty() || e.answer.size() > kMaxAnswer) {
    return Status::invalidArgument("'answer' must have 1 to 8000 bytes");
  }
  if (e.category.size() > 200) return Status::invalidArgument("'category' has at most 200 bytes");
  if (e.questions.empty() || e.questions.size() > kMaxPhrasings) {
    return Status::invalidArgument("'questions' must list 1 to 50 phrasings");
  }
  for (size_t i = 0; i < e.questions.size(); ++i) {
    const auto& q = e.questions[i];
    if (q.size() > kMaxQuestion || normalizeQuestion(q).empty()) {
      return Status::invalidArgument("'questions[" + std::to_string(i) +
                                     "]' must have words and at most 500 bytes");
    }
  }
  return {};
}

std::string dayOf(int64_t ms) { return formatUtcMillis(ms).substr(0, 10); }

}  // namespace

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* decisionName(Decision d) {
  switch (d) {
    case Decision::kAnswered: return "answered";
    case Decision::kHandOff: return "handed_off";
    case Decision::kUnanswered: return "unanswered";
    case Decision::kRelayed: return "relayed";
  }
  return "?";
}

FaqBot::FaqBot(std::unique_ptr<soci::session> session, BotOptions options)
    : session_(std::move(session)), options_(std::move(options)) {
  for (auto& p : options_.handoffPhrases) p = normalizedUtf8(p);
}

FaqBot::~FaqBot() = default;

std::vector<Migration> FaqBot::migrations() {
  auto schema = [](const char* serial) {
    std::string s = serial;
    return "CREATE TABLE faq_entries (id " + s +
           ", answer TEXT NOT NULL, category VARCHAR(200) NOT NULL, revision INTEGER NOT NULL,"
           " deleted INTEGER NOT NULL DEFAULT 0, updated_ms BIGINT NOT NULL,"
           " updated_by VARCHAR(64) NOT NULL);"
           "CREATE TABLE faq_phrasings (id " + s +
           ", entry_id BIGINT NOT NULL, question TEXT NOT NULL);"
           "CREATE INDEX faq_phrasings_entry ON faq_phrasings (entry_id);"
           "CREATE TABLE faq_dialogs (id VARCHAR(64) PRIMARY KEY, channel VARCHAR(32) NOT NULL,"
           " started_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL,"
           " state VARCHAR(32) NOT NULL, queue VARCHAR(64) NOT NULL DEFAULT '',"
           " contact_id VARCHAR(64) NOT NULL DEFAULT '', answered INTEGER NOT NULL DEFAULT 0);"
           "CREATE INDEX faq_dialogs_contact ON faq_dialogs (contact_id);"
           "CREATE INDEX faq_dialogs_started ON faq_dialogs (started_ms);"
           "CREATE TABLE faq_turns (id " + s +
           ", dialog_id VARCHAR(64) NOT NULL, at_ms BIGINT NOT NULL,"
           " speaker VARCHAR(16) NOT NULL, text TEXT NOT NULL, kind VARCHAR(32) NOT NULL,"
           " entry_id BIGINT NOT NULL DEFAULT 0, confidence DOUBLE PRECISION NOT NULL DEFAULT 0,"
           " attached_entry BIGINT NOT NULL DEFAULT 0);"
           "CREATE INDEX faq_turns_dialog ON faq_turns (dialog_id, id);"
           "CREATE INDEX faq_turns_kind ON faq_turns (kind, attached_entry)";
  };
  return {{1, "FAQ entries, phrasings, dialogs and turns",
           schema("INTEGER PRIMARY KEY AUTOINCREMENT"), schema("BIGSERIAL PRIMARY KEY")}};
}

void FaqBot::setModel(std::shared_ptr<const PairModel> model) {
  std::lock_guard lock(mu_);
  model_ = std::move(model);
}

Status FaqBot::reload() {
  std::lock_guard lock(mu_);
  return reloadLocked();
}

Status FaqBot::reloadLocked() {
  phrasings_.clear();
  answers_.clear();
  soci::rowset<soci::row> rows = (session_->prepare
      << "SELECT p.entry_id, p.question FROM faq_phrasings p JOIN faq_entries e ON "
         "e.id = p.entry_id WHERE e.deleted = 0 ORDER BY p.id");
  std::vector<std::string> all;
  for (const auto& r : rows) {
    phrasings_.push_back({rowInt(r, 0), rowText(r, 1)});
    all.push_back(rowText(r, 1));
  }
  soci::rowset<soci::row> ans = (session_->prepare
      << "SELECT id, answer FROM faq_entries WHERE deleted = 0 ORDER BY id");
  for (const auto& r : ans) answers_.emplace_back(rowInt(r, 0), rowText(r, 1));
  fallback_ = std::make_unique<OverlapScorer>(all);
  return {};
}

Result<FaqEntry> FaqBot::loadEntry(int64_t id) {
  soci::rowset<soci::row> rows = (session_->prepare
      << "SELECT answer, category, revision, updated_ms, updated_by FROM faq_entries "
         "WHERE id = :id AND deleted = 0", soci::use(id));
  FaqEntry e;
  bool found = false;
  for (const auto& r : rows) {
    e.id = id;
    e.answer = rowText(r, 0);
    e.category = rowText(r, 1);
    e.revision = static_cast<int>(rowInt(r, 2));
    e.updatedMs = rowInt(r, 3);
    e.updatedBy = rowText(r, 4);
    found = true;
  }
  if (!found) return Status::notFound("no FAQ entry " + std::to_string(id));
  soci::rowset<soci::row> qs = (session_->prepare
      << "SELECT question FROM faq_phrasings WHERE entry_id = :id ORDER BY id", soci::use(id));
  for (const auto& r : qs) e.questions.push_back(rowText(r, 0));
  return e;
}

Result<FaqEntry> FaqBot::create(const FaqEntry& in, const std::string& actor) {
  if (auto s = validate(in); !s.ok()) return s;
  std::lock_guard lock(mu_);
  int64_t id = 0;
  {
    soci::transaction tx(*session_);
    long long now = nowMs();
    std::string answer = in.answer, category = in.category, by = actor;
    *session_ << "INSERT INTO faq_entries (answer, category, revision, deleted, updated_ms, "
                 "updated_by) VALUES (:a, :c, 1, 0, :t, :b)",
        soci::use(answer), soci::use(category), soci::use(now), soci::use(by);
    long long last = 0;
    *session_ << "SELECT MAX(id) FROM faq_entries", soci::into(last);
    id = last;
    for (const auto& q : in.questions) {
      std::string masked = maskPersonalData(q);
      long long eid = id;
      *session_ << "INSERT INTO faq_phrasings (entry_id, question) VALUES (:e, :q)",
          soci::use(eid), soci::use(masked);
    }
    tx.commit();
  }
  (void)reloadLocked();
  return loadEntry(id);
}

Result<FaqEntry> FaqBot::revise(int64_t id, const FaqEntry& in, const std::string& actor) {
  if (auto s = validate(in); !s.ok()) return s;
  std::lock_guard lock(mu_);
  auto cur = loadEntry(id);
  if (!cur.ok()) return cur.status();
  {
    soci::transaction tx(*session_);
    long long now = nowMs(), eid = id;
    int rev = cur->revision + 1;
    std::string answer = in.answer, category = in.category, by = actor;
    *session_ << "UPDATE faq_entries SET answer = :a, category = :c, revision = :r, "
                 "updated_ms = :t, updated_by = :b WHERE id = :id",
        soci::use(answer), soci::use(category), soci::use(rev), soci::use(now), soci::use(by),
        soci::use(eid);
    *session_ << "DELETE FROM faq_phrasings WHERE entry_id = :id", soci::use(eid);
    for (const auto& q : in.questions) {
      std::string masked = maskPersonalData(q);
      *session_ << "INSERT INTO faq_phrasings (entry_id, question) VALUES (:e, :q)",
          soci::use(eid), soci::use(masked);
    }
    tx.commit();
  }
  (void)reloadLocked();
  return loadEntry(id);
}

Status FaqBot::remove(int64_t id, const std::string& actor) {
  std::lock_guard lock(mu_);
  auto cur = loadEntry(id);
  if (!cur.ok()) return cur.status();
  long long now = nowMs(), eid = id;
  std::string by = actor;
  // Kept as deleted: stored dialogs still name the entry they were answered from.
  *session_ << "UPDATE faq_entries SET deleted = 1, updated_ms = :t, updated_by = :b "
               "WHERE id = :id", soci::use(now), soci::use(by), soci::use(eid);
  return reloadLocked();
}

Result<FaqEntry> FaqBot::get(int64_t id) {
  std::lock_guard lock(mu_);
  return loadEntry(id);
}

std::vector<FaqEntry> FaqBot::list() {
  std::lock_guard lock(mu_);
  std::vector<FaqEntry> out;
  for (const auto& [id, answer] : answers_) {
    auto e = loadEntry(id);
    if (e.ok()) out.push_back(std::move(*e));
  }
  return out;
}

size_t FaqBot::count() {
  std::lock_guard lock(mu_);
  return answers_.size();
}

bool FaqBot::asksForPerson(const std::string& text) const {
  std::string n = normalizedUtf8(text);
  for (const auto& p : options_.handoffPhrases) {
    if (!p.empty() && n.find(p) != std::string::npos) return true;
  }
  return false;
}

BotReply FaqBot::match(const std::string& text) const {
  std::lock_guard lock(mu_);
  BotReply best;
  for (const auto& p : phrasings_) {
    double c = model_ ? model_->confidence(text, p.question) : fallback_->score(text, p.question);
    if (c > best.confidence) {
      best.confidence = c;
      best.entryId = p.entryId;
      best.matched = p.question;
    }
  }
  if (best.entryId != 0) {
    auto it = std::lower_bound(answers_.begin(), answers_.end(),
                               std::make_pair(best.entryId, std::string()));
    if (it != answers_.end() && it->first == best.entryId) best.text = it->second;
  }
  best.decision = best.entryId != 0 && best.confidence >= options_.answerThreshold
                      ? Decision::kAnswered
                      : Decision::kUnanswered;
  if (best.decision != Decision::kAnswered) best.text.clear();
  return best;
}

void FaqBot::ensureDialog(const std::string& id, const std::string& channel, int64_t now) {
  int n = 0;
  *session_ << "SELECT COUNT(*) FROM faq_dialogs WHERE id = :id", soci::use(id), soci::into(n);
  if (n > 0) return;
  long long at = now;
  std::string ch = channel;
  *session_ << "INSERT INTO faq_dialogs (id, channel, started_ms, updated_ms, state) "
               "VALUES (:id, :ch, :s, :u, 'bot')",
      soci::use(id), soci::use(ch), soci::use(at), soci::use(at);
}

int64_t FaqBot::storeTurn(const std::string& dialog, const std::string& speaker,
                          const std::string& text, const std::string& kind, int64_t entry,
                          double confidence, int64_t now) {
  long long at = now, e = entry;
  std::string d = dialog, sp = speaker, t = text, k = kind;
  *session_ << "INSERT INTO faq_turns (dialog_id, at_ms, speaker, text, kind, entry_id, "
               "confidence) VALUES (:d, :a, :s, :t, :k, :e, :c)",
      soci::use(d), soci::use(at), soci::use(sp), soci::use(t), soci::use(k), soci::use(e),
      soci::use(confidence);
  long long id = 0;
  *session_ << "SELECT MAX(id) FROM faq_turns WHERE dialog_id = :d", soci::use(d),
      soci::into(id);
  *session_ << "UPDATE faq_dialogs SET updated_ms = :u WHERE id = :d", soci::use(at),
      soci::use(d);
  return id;
}

Result<BotReply> FaqBot::handle(const std::string& dialogId, const std::string& channel,
                                const std::string& text) {
  if (dialogId.empty() || dialogId.size() > 64) {
    return Status::invalidArgument("a dialog id has 1 to 64 characters");
  }
  if (text.empty() || text.size() > kMaxMessage) {
    return Status::invalidArgument("a message has 1 to 2000 bytes");
  }
  std::lock_guard lock(mu_);
  const int64_t now = nowMs();
  soci::transaction tx(*session_);
  ensureDialog(dialogId, channel, now);
  std::string state;
  *session_ << "SELECT state FROM faq_dialogs WHERE id = :id", soci::use(dialogId),
      soci::into(state);
  BotReply reply;
  if (state != "bot") {
    // Handed off: the customer now talks to a person; the bot keeps the transcript only.
    storeTurn(dialogId, "customer", text, "to_agent", 0, 0, now);
    tx.commit();
    reply.decision = Decision::kRelayed;
    return reply;
  }
  bool person = asksForPerson(text);
  if (!person) reply = match(text);
  const char* kind = person ? "asked_for_person"
                     : reply.decision == Decision::kAnswered ? "answered"
                     : reply.entryId != 0 ? "low_confidence"
                                          : "unanswered";
  storeTurn(dialogId, "customer", text, kind, reply.entryId, reply.confidence, now);
  if (reply.decision == Decision::kAnswered) {
    storeTurn(dialogId, "bot", reply.text, "answer", reply.entryId, reply.confidence, now);
    *session_ << "UPDATE faq_dialogs SET answered = answered + 1 WHERE id = :id",
        soci::use(dialogId);
  } else if (person || options_.handOffWhenUnsure) {
    reply.decision = Decision::kHandOff;
    reply.reason = person ? "asked_for_person" : "low_confidence";
    reply.queue = options_.handoffQueue;
    reply.text = options_.handoffText;
    storeTurn(dialogId, "bot", reply.text, "handoff", 0, 0, now);
    std::string q = reply.queue;
    *session_ << "UPDATE faq_dialogs SET state = 'handed_off', queue = :q WHERE id = :id",
        soci::use(q), soci::use(dialogId);
  } else {
    reply.text = options_.unsureText;
    storeTurn(dialogId, "bot", reply.text, "unsure", 0, 0, now);
  }
  tx.commit();
  return reply;
}

Status FaqBot::addTurn(const std::string& dialogId, const std::string& speaker,
                       const std::string& text) {
  if (text.empty() || text.size() > kMaxMessage) {
    return Status::invalidArgument("a message has 1 to 2000 bytes");
  }
  std::lock_guard lock(mu_);
  int n = 0;
  *session_ << "SELECT COUNT(*) FROM faq_dialogs WHERE id = :id", soci::use(dialogId),
      soci::into(n);
  if (n == 0) return Status::notFound("no dialog '" + dialogId + "'");
  storeTurn(dialogId, speaker, text, "message", 0, 0, nowMs());
  return {};
}

Status FaqBot::linkContact(const std::string& dialogId, const std::string& contactId) {
  std::lock_guard lock(mu_);
  std::string d = dialogId, c = contactId;
  soci::statement st = (session_->prepare
      << "UPDATE faq_dialogs SET contact_id = :c WHERE id = :d", soci::use(c), soci::use(d));
  st.execute(true);
  if (st.get_affected_rows() == 0) return Status::notFound("no dialog '" + dialogId + "'");
  return {};
}

Status FaqBot::setOutcome(const std::string& dialogId, const std::string& state) {
  std::lock_guard lock(mu_);
  std::string d = dialogId, s = state;
  soci::statement st = (session_->prepare
      << "UPDATE faq_dialogs SET state = :s WHERE id = :d", soci::use(s), soci::use(d));
  st.execute(true);
  if (st.get_affected_rows() == 0) return Status::notFound("no dialog '" + dialogId + "'");
  return {};
}

Result<Json> FaqBot::dialog(const std::string& dialogId, bool unmasked) {
  std::lock_guard lock(mu_);
  soci::rowset<soci::row> rows = (session_->prepare
      << "SELECT channel, started_ms, state, queue, contact_id, answered FROM faq_dialogs "
         "WHERE id = :id", soci::use(dialogId));
  Json j;
  for (const auto& r : rows) {
    j = Json{{"id", dialogId},
             {"channel", rowText(r, 0)},
             {"started_at", formatUtcMillis(rowInt(r, 1))},
             {"state", rowText(r, 2)},
             {"queue", rowText(r, 3)},
             {"contact", rowText(r, 4)},
             {"answered", rowInt(r, 5)}};
  }
  if (j.is_null()) return Status::notFound("no dialog '" + dialogId + "'");
  Json turns = Json::array();
  soci::rowset<soci::row> ts = (session_->prepare
      << "SELECT id, at_ms, speaker, text, kind, entry_id, confidence FROM faq_turns "
         "WHERE dialog_id = :id ORDER BY id", soci::use(dialogId));
  for (const auto& r : ts) {
    std::string text = rowText(r, 3);
    Json t{{"id", rowInt(r, 0)},
           {"at", formatUtcMillis(rowInt(r, 1))},
           {"speaker", rowText(r, 2)},
           {"text", unmasked ? text : maskPersonalData(text)},
           {"kind", rowText(r, 4)}};
    if (rowInt(r, 5) != 0) {
      t["entry"] = rowInt(r, 5);
      t["confidence"] = r.get<double>(6);
    }
    turns.push_back(std::move(t));
  }
  j["transcript"] = std::move(turns);
  return j;
}

Result<Json> FaqBot::dialogByContact(const std::string& contactId, bool unmasked) {
  std::string id;
  {
    std::lock_guard lock(mu_);
    soci::indicator ind = soci::i_null;
    *session_ << "SELECT id FROM faq_dialogs WHERE contact_id = :c", soci::use(contactId),
        soci::into(id, ind);
    if (!session_->got_data() || ind == soci::i_null) {
      return Status::notFound("no dialog for contact '" + contactId + "'");
    }
  }
  return dialog(id, unmasked);
}

Json FaqBot::tuningList(size_t limit, bool unmasked) {
  std::lock_guard lock(mu_);
  long long lim = static_cast<long long>(limit);
  soci::rowset<soci::row> rows = (session_->prepare
      << "SELECT id, dialog_id, at_ms, text, kind, entry_id, confidence FROM faq_turns "
         "WHERE speaker = 'customer' AND kind IN ('low_confidence', 'unanswered') AND "
         "attached_entry = 0 ORDER BY id DESC LIMIT :n", soci::use(lim));
  Json out = Json::array();
  for (const auto& r : rows) {
    std::string text = rowText(r, 3);
    Json t{{"turn", rowInt(r, 0)},
           {"dialog", rowText(r, 1)},
           {"at", formatUtcMillis(rowInt(r, 2))},
           {"text", unmasked ? text : maskPersonalData(text)},
           {"kind", rowText(r, 4)},
           {"confidence", r.get<double>(6)}};
    if (rowInt(r, 5) != 0) t["best_entry"] = rowInt(r, 5);
    out.push_back(std::move(t));
  }
  return out;
}

Result<FaqEntry> FaqBot::attach(int64_t turnId, int64_t entryId, const std::string& actor) {
  std::lock_guard lock(mu_);
  std::string text, speaker;
  long long attached = 0, tid = turnId;
  soci::indicator ind = soci::i_null;
  *session_ << "SELECT text, speaker, attached_entry FROM faq_turns WHERE id = :id",
      soci::use(tid), soci::into(text, ind), soci::into(speaker), soci::into(attached);
  if (!session_->got_data()) return Status::notFound("no turn " + std::to_string(turnId));
  if (speaker != "customer") {
    return Status::invalidArgument("turn " + std::to_string(turnId) +
                                   " is not a customer message");
  }
  if (attached != 0) {
    return Status::failedPrecondition("turn " + std::to_string(turnId) +
                                      " is already a phrasing of entry " +
                                      std::to_string(attached));
  }
  auto cur = loadEntry(entryId);
  if (!cur.ok()) return cur.status();
  FaqEntry e = *cur;
  std::string masked = maskPersonalData(text);
  if (std::find(e.questions.begin(), e.questions.end(), masked) == e.questions.end()) {
    e.questions.push_back(masked);
  }
  auto revised = revise(entryId, e, actor);
  if (!revised.ok()) return revised;
  long long eid = entryId;
  *session_ << "UPDATE faq_turns SET attached_entry = :e WHERE id = :id", soci::use(eid),
      soci::use(tid);
  return revised;
}

Json FaqBot::stats(int64_t fromMs) {
  std::lock_guard lock(mu_);
  long long from = fromMs;
  soci::rowset<soci::row> rows = (session_->prepare
      << "SELECT started_ms, state, answered FROM faq_dialogs WHERE started_ms >= :f",
      soci::use(from));
  struct Day {
    int64_t answered = 0, handedOff = 0, unanswered = 0;
  };
  std::map<std::string, Day> days;
  Day total;
  for (const auto& r : rows) {
    Day& d = days[dayOf(rowInt(r, 0))];
    std::string state = rowText(r, 1);
    // A dialog a closed queue turned into a callback or message counts as unanswered.
    if (state == "handed_off") {
      ++d.handedOff;
    } else if (rowInt(r, 2) > 0) {
      ++d.answered;
    } else {
      ++d.unanswered;
    }
  }
  Json series = Json::array();
  for (const auto& [day, d] : days) {
    int64_t all = d.answered + d.handedOff + d.unanswered;
    total.answered += d.answered;
    total.handedOff += d.handedOff;
    total.unanswered += d.unanswered;
    series.push_back({{"day", day},
                      {"answered", d.answered},
                      {"handed_off", d.handedOff},
                      {"unanswered", d.unanswered},
                      {"intelligent_service_rate",
                       all ? static_cast<double>(d.answered) / all : 0.0}});
  }
  int64_t all = total.answered + total.handedOff + total.unanswered;
  return Json{{"days", series},
              {"total",
               {{"answered", total.answered},
                {"handed_off", total.handedOff},
                {"unanswered", total.unanswered},
                {"intelligent_service_rate",
                 all ? static_cast<double>(total.answered) / all : 0.0}}}};
}

}  // namespace kefu::faq
