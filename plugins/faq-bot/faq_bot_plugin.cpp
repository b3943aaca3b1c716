// SPDX-License-Identifier: Apache-2.0
//
// faq-bot: the FAQ (answers with several phrasings), the bot that answers customers from it
// and hands them to a person when unsure, its tuning list and monitoring, and the learned
// question-pair matcher behind `kefu kb train` / `kefu kb eval --task pair-match`.
#include <fstream>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "faq_bot.h"
#include "kefu/faq_bot.h"
#include "kefu/knowledge.h"
#include "kefu/sdk.h"
#include "kefu/store_util.h"
#include "pair_model.h"

namespace kefu::faq {
namespace {

using Json = nlohmann::json;

const std::vector<std::string> kDefaultHandoffPhrases = {
    "转人工", "人工客服", "人工服务", "找人工", "要人工", "真人", "客服人员",
    "agent", "human", "operator"};

HttpResponse jsonError(int status, const std::string& message) {
  return HttpResponse::error(status, status == 404 ? "not_found" : "invalid_argument", message);
}

bool parseObject(const HttpRequest& req, Json& out, HttpResponse& err) {
  out = Json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    err = jsonError(400, "the body must be a JSON object");
    return false;
  }
  return true;
}

bool parseId(const std::string& s, int64_t& id) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  id = std::stoll(s);
  return id > 0;
}

// Reads {"answer", "category", "questions"} into `e`, or says what is wrong.
bool entryFromJson(const Json& j, FaqEntry& e, HttpResponse& err) {
  if (!j.contains("answer") || !j["answer"].is_string()) {
    err = jsonError(400, "'answer' must be a string");
    return false;
  }
  e.answer = j["answer"].get<std::string>();
  if (j.contains("category")) {
    if (!j["category"].is_string()) {
      err = jsonError(400, "'category' must be a string");
      return false;
    }
    e.category = j["category"].get<std::string>();
  }
  if (!j.contains("questions") || !j["questions"].is_array()) {
    err = jsonError(400, "'questions' must be an array of strings");
    return false;
  }
  for (const auto& q : j["questions"]) {
    if (!q.is_string()) {
      err = jsonError(400, "'questions' must be an array of strings");
      return false;
    }
    e.questions.push_back(q.get<std::string>());
  }
  return true;
}

Json entryJson(const FaqEntry& e) {
  return Json{{"id", e.id},
              {"answer", e.answer},
              {"category", e.category},
              {"questions", e.questions},
              {"revision", e.revision},
              {"updated_at", formatUtcMillis(e.updatedMs)},
              {"updated_by", e.updatedBy}};
}

// Supervisors, QA and administrators see personal numbers in transcripts; others masked.
bool mayReadUnmasked(const HttpRequest& r) {
  return r.principal.hasRole(roles::kSupervisor) || r.principal.hasRole(roles::kQa) ||
         r.principal.hasRole(roles::kAdmin);
}

// The bot as other plugins see it.
class BotService : public kefu::FaqBot {
 public:
  // The bot runs between start() and stop(); the service outlives it.
  void set(std::shared_ptr<faq::FaqBot> bot) {
    std::lock_guard lock(mu_);
    bot_ = std::move(bot);
  }
  Result<BotAnswer> handle(const std::string& dialogId, const std::string& channel,
                           const std::string& text) override {
    auto bot = get();
    if (!bot) return Status::unavailable("the FAQ bot is not running");
    auto r = bot->handle(dialogId, channel, text);
    if (!r.ok()) return r.status();
    BotAnswer a;
    switch (r->decision) {
      case Decision::kAnswered: a.decision = BotDecision::kAnswered; break;
      case Decision::kHandOff: a.decision = BotDecision::kHandOff; break;
      case Decision::kUnanswered: a.decision = BotDecision::kUnanswered; break;
      case Decision::kRelayed: a.decision = BotDecision::kRelayed; break;
    }
    a.text = r->text;
    a.entryId = r->entryId;
    a.confidence = r->confidence;
    a.queue = r->queue;
    a.reason = r->reason;
    return a;
  }
  Status addTurn(const std::string& dialogId, const std::string& speaker,
                 const std::string& text) override {
    auto bot = get();
    return bot ? bot->addTurn(dialogId, speaker, text) : notRunning();
  }
  Status linkContact(const std::string& dialogId, const std::string& contactId) override {
    auto bot = get();
    return bot ? bot->linkContact(dialogId, contactId) : notRunning();
  }
  Status setOutcome(const std::string& dialogId, const std::string& outcome) override {
    auto bot = get();
    return bot ? bot->setOutcome(dialogId, outcome) : notRunning();
  }

 private:
  static Status notRunning() { return Status::unavailable("the FAQ bot is not running"); }
  std::shared_ptr<faq::FaqBot> get() {
    std::lock_guard lock(mu_);
    return bot_;
  }
  std::mutex mu_;
  std::shared_ptr<faq::FaqBot> bot_;
};

std::string fixed4(double v) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(4) << v;
  return o.str();
}

// `kb train` and `kb eval --task pair-match`, called by the knowledge-base plugin.
class PairTasks : public PairMatchTasks {
 public:
  PairTasks(std::filesystem::path modelPath, std::function<void()> onTrained)
      : path_(std::move(modelPath)), onTrained_(std::move(onTrained)) {}

  int train(const CliArgs& args, CliIo& io) override {
    std::vector<LabelledPair> pairs;
    if (!readAll(args, io, pairs)) return 2;
    const int k = 5;
    io.out << "pairs: " << pairs.size() << " from " << args.getAll("--pairs").size()
           << " file(s)\n";
    // Out-of-fold scores on folds that share no question say how the matcher does on
    // questions it never saw, and give the threshold.
    auto folds = questionDisjointFolds(pairs, k);
    std::vector<double> oof(pairs.size(), 0.0);
    std::vector<int> labels(pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) labels[i] = pairs[i].label;
    for (int f = 0; f < k; ++f) {
      std::vector<LabelledPair> tr;
      std::vector<size_t> te;
      for (size_t i = 0; i < pairs.size(); ++i) {
        if (folds[i] == f) {
          te.push_back(i);
        } else {
          tr.push_back(pairs[i]);
        }
      }
      if (te.empty() || tr.empty()) continue;
      auto m = PairModel::train(tr);
      std::vector<double> s;
      std::vector<int> l;
      for (size_t i : te) {
        oof[i] = m.confidence(pairs[i].q1, pairs[i].q2);
        s.push_back(oof[i]);
        l.push_back(labels[i]);
      }
      io.out << "fold " << f + 1 << "/" << k << ": pairs=" << te.size()
             << " AUC=" << fixed4(rocAuc(s, l)) << "\n";
    }
    double threshold = bestThreshold(oof, labels);
    if (args.has("--threshold")) {
      try {
        threshold = std::stod(args.get("--threshold"));
      } catch (const std::exception&) {
        io.err << "--threshold must be a number between 0 and 1\n";
        return 2;
      }
    }
    io.out << "question-disjoint " << k << "-fold: AUC=" << fixed4(rocAuc(oof, labels))
           << " accuracy=" << fixed4(accuracyAt(oof, labels, threshold))
           << " at threshold " << fixed4(threshold) << "\n";
    auto model = PairModel::train(pairs);
    model.setThreshold(threshold);
    if (auto s = model.save(path_); !s.ok()) {
      io.err << s.message() << "\n";
      return 1;
    }
    io.out << "model written to " << path_.string() << "\n";
    if (onTrained_) onTrained_();
    return 0;
  }

  int evalPairs(const CliArgs& args, CliIo& io) override {
    auto model = PairModel::load(path_);
    if (!model.ok()) {
      io.err << model.status().message() << "\n";
      return 1;
    }
    std::vector<LabelledPair> pairs;
    if (!readAll(args, io, pairs)) return 2;
    double threshold = model->threshold();
    if (args.has("--threshold")) {
      try {
        threshold = std::stod(args.get("--threshold"));
      } catch (const std::exception&) {
        io.err << "--threshold must be a number between 0 and 1\n";
        return 2;
      }
    }
    std::vector<double> scores;
    std::vector<int> labels;
    size_t pos = 0;
    for (const auto& p : pairs) {
      scores.push_back(model->confidence(p.q1, p.q2));
      labels.push_back(p.label);
      pos += p.label;
    }
    double auc = rocAuc(scores, labels), acc = accuracyAt(scores, labels, threshold);
    io.out << "pairs: " << pairs.size() << " (same intent " << pos << ")\n";
    io.out << "threshold: " << fixed4(threshold) << "\n";
    io.out << "AUC: " << fixed4(auc) << "\n";
    io.out << "accuracy: " << fixed4(acc) << "\n";
    io.out << "accuracy=" << fixed4(acc) << " AUC=" << fixed4(auc) << "\n";
    return 0;
  }

 private:
  static bool readAll(const CliArgs& args, CliIo& io, std::vector<LabelledPair>& pairs) {
    auto files = args.getAll("--pairs");
    if (files.empty()) {
      io.err << "--pairs needs at least one JSON Lines file\n";
      return false;
    }
    for (const auto& f : files) {
      if (auto s = readPairFile(f, pairs); !s.ok()) {
        io.err << s.message() << "\n";
        return false;
      }
    }
    if (pairs.empty()) {
      io.err << "no pairs in " << files.front() << "\n";
      return false;
    }
    return true;
  }

  std::filesystem::path path_;
  std::function<void()> onTrained_;
};

class FaqBotPlugin : public Plugin {
 public:
  Status configure(HostContext& ctx) override {
    ctx_ = &ctx;
    const ConfigValue& cfg = ctx.config();
    options_.answerThreshold = cfg.getDouble("answer_threshold", 0.5);
    if (options_.answerThreshold < 0 || options_.answerThreshold > 1) {
      return cfg.error("answer_threshold", "must be between 0 and 1");
    }
    options_.handoffQueue = cfg.getString("handoff_queue", "webchat");
    if (options_.handoffQueue.empty() || options_.handoffQueue.size() > 64) {
      return cfg.error("handoff_queue", "must name a queue (1 to 64 characters)");
    }
    options_.handoffPhrases = cfg.getStringList("handoff_phrases", kDefaultHandoffPhrases);
    options_.handOffWhenUnsure = cfg.getBool("handoff_when_unsure", true);
    options_.handoffText = cfg.getString("handoff_text", options_.handoffText);
    options_.unsureText = cfg.getString("unsure_text", options_.unsureText);
    modelPath_ = ctx.resolvePath(cfg.getString("pair_model", "faq-bot/pair-model.txt"));
    if (const ConfigValue* v = cfg.find("entries")) {
      for (const auto& t : v->asArray()) {
        FaqEntry e;
        if (!t.isTable()) return cfg.error("entries", "each entry is a table");
        e.answer = t.getString("answer", "");
        e.category = t.getString("category", "");
        e.questions = t.getStringList("questions");
        for (const auto& [key, val] : t.asTable()) {
          if (key != "answer" && key != "category" && key != "questions") {
            return t.error(key, "unknown key (accepted: questions, answer, category)");
          }
        }
        if (e.answer.empty()) return t.error("answer", "each entry needs an answer");
        if (e.questions.empty()) {
          return t.error("questions", "each entry needs at least one phrasing");
        }
        seed_.push_back(std::move(e));
      }
    }
    bot_.reset();
    tasks_ = std::make_shared<PairTasks>(modelPath_, [this] { loadModel(); });
    if (auto s = ctx.services().provide<PairMatchTasks>(tasks_); !s.ok()) return s;
    service_ = std::make_shared<BotService>();
    if (auto s = ctx.services().provide<kefu::FaqBot>(service_); !s.ok()) return s;
    return addRoutes();
  }

  std::vector<Migration> migrations() const override { return faq::FaqBot::migrations(); }

  Status start() override {
    bot_ = std::make_shared<faq::FaqBot>(ctx_->store().openSession(), options_);
    loadModel();
    if (auto s = bot_->reload(); !s.ok()) return s;
    if (bot_->count() == 0) {
      for (const auto& e : seed_) {
        auto r = bot_->create(e, "config");
        if (!r.ok()) return Status::invalidArgument("entries: " + r.status().message());
      }
      if (!seed_.empty()) ctx_->logger().info("{} FAQ entries from the config", seed_.size());
    }
    service_->set(bot_);
    return {};
  }

  void stop() override {
    service_->set(nullptr);
    std::lock_guard lock(botMu_);
    bot_.reset();
  }

 private:
  void loadModel() {
    if (!bot_) return;
    if (!std::filesystem::exists(modelPath_)) {
      ctx_->logger().info("no pair model at {}; matching by character overlap until "
                          "`kefu kb train` writes one", modelPath_.string());
      bot_->setModel(nullptr);
      return;
    }
    auto m = PairModel::load(modelPath_);
    if (!m.ok()) {
      ctx_->logger().warn("{}; matching by character overlap", m.status().message());
      bot_->setModel(nullptr);
      return;
    }
    bot_->setModel(std::make_shared<PairModel>(std::move(*m)));
    ctx_->logger().info("pair model loaded from {}", modelPath_.string());
  }

  // Handlers hold the bot while they run, so stop() cannot free it under them.
  std::shared_ptr<faq::FaqBot> botRef() {
    std::lock_guard lock(botMu_);
    if (!bot_) throw std::runtime_error("the FAQ bot is not running");
    return bot_;
  }


  Status addRoutes() {
    auto& http = ctx_->http();
    RouteOptions staff;  // any signed-in user reads the FAQ
    RouteOptions editors;
    editors.roles = {roles::kKbEditor, roles::kSupervisor};
    RouteOptions leads;
    leads.roles = {roles::kKbEditor, roles::kSupervisor, roles::kTeamLead, roles::kQa};

    auto s = http.add("GET", "/api/v1/faq/entries", [this](const HttpRequest&) {
      Json list = Json::array();
      for (const auto& e : botRef()->list()) list.push_back(entryJson(e));
      return HttpResponse::json(200, Json{{"entries", list}}.dump());
    }, staff);
    if (!s.ok()) return s;
    s = http.add("GET", "/api/v1/faq/entries/{id}", [this](const HttpRequest& r) {
      int64_t id = 0;
      if (!parseId(r.params.at("id"), id)) return jsonError(404, "no such FAQ entry");
      auto e = botRef()->get(id);
      if (!e.ok()) return HttpResponse::fromStatus(e.status());
      return HttpResponse::json(200, entryJson(*e).dump());
    }, staff);
    if (!s.ok()) return s;
    s = http.add("POST", "/api/v1/faq/entries", [this](const HttpRequest& r) {
      Json body;
      HttpResponse err;
      FaqEntry e;
      if (!parseObject(r, body, err) || !entryFromJson(body, e, err)) return err;
      auto made = botRef()->create(e, r.principal.id);
      if (!made.ok()) return HttpResponse::fromStatus(made.status());
      return HttpResponse::json(201, entryJson(*made).dump());
    }, editors);
    if (!s.ok()) return s;
    s = http.add("PUT", "/api/v1/faq/entries/{id}", [this](const HttpRequest& r) {
      int64_t id = 0;
      if (!parseId(r.params.at("id"), id)) return jsonError(404, "no such FAQ entry");
      Json body;
      HttpResponse err;
      FaqEntry e;
      if (!parseObject(r, body, err) || !entryFromJson(body, e, err)) return err;
      auto done = botRef()->revise(id, e, r.principal.id);
      if (!done.ok()) return HttpResponse::fromStatus(done.status());
      return HttpResponse::json(200, entryJson(*done).dump());
    }, editors);
    if (!s.ok()) return s;
    s = http.add("DELETE", "/api/v1/faq/entries/{id}", [this](const HttpRequest& r) {
      int64_t id = 0;
      if (!parseId(r.params.at("id"), id)) return jsonError(404, "no such FAQ entry");
      auto st = botRef()->remove(id, r.principal.id);
      if (!st.ok()) return HttpResponse::fromStatus(st);
      return HttpResponse::json(200, Json{{"id", id}, {"deleted", true}}.dump());
    }, editors);
    if (!s.ok()) return s;

    // Tries a question against the FAQ without storing a dialog.
    s = http.add("POST", "/api/v1/bot/match", [this](const HttpRequest& r) {
      Json body;
      HttpResponse err;
      if (!parseObject(r, body, err)) return err;
      if (!body.contains("text") || !body["text"].is_string()) {
        return jsonError(400, "'text' must be a string");
      }
      auto m = botRef()->match(body["text"].get<std::string>());
      Json j{{"decision", decisionName(m.decision)}, {"confidence", m.confidence}};
      if (m.entryId) {
        j["entry"] = m.entryId;
        j["matched"] = m.matched;
      }
      if (!m.text.empty()) j["answer"] = m.text;
      return HttpResponse::json(200, j.dump());
    }, RouteOptions{true, {}, false});
    if (!s.ok()) return s;

    s = http.add("GET", "/api/v1/bot/dialogs/{id}", [this](const HttpRequest& r) {
      auto d = botRef()->dialog(r.params.at("id"), mayReadUnmasked(r));
      if (!d.ok()) return HttpResponse::fromStatus(d.status());
      return HttpResponse::json(200, d->dump());
    }, staff);
    if (!s.ok()) return s;
    // The agent desktop: the transcript of the dialog a routed contact carries.
    s = http.add("GET", "/api/v1/bot/contacts/{id}/dialog", [this](const HttpRequest& r) {
      auto d = botRef()->dialogByContact(r.params.at("id"), mayReadUnmasked(r));
      if (!d.ok()) return HttpResponse::fromStatus(d.status());
      return HttpResponse::json(200, d->dump());
    }, staff);
    if (!s.ok()) return s;

    s = http.add("GET", "/api/v1/bot/tuning", [this](const HttpRequest& r) {
      size_t limit = 100;
      if (auto it = r.query.find("limit"); it != r.query.end()) {
        int64_t n = 0;
        if (!parseId(it->second, n) || n > 1000) {
          return jsonError(400, "'limit' must be 1 to 1000");
        }
        limit = static_cast<size_t>(n);
      }
      Json j{{"questions", botRef()->tuningList(limit, mayReadUnmasked(r))}};
      return HttpResponse::json(200, j.dump());
    }, leads);
    if (!s.ok()) return s;
    s = http.add("POST", "/api/v1/bot/tuning/{turn}/attach", [this](const HttpRequest& r) {
      int64_t turn = 0;
      if (!parseId(r.params.at("turn"), turn)) return jsonError(404, "no such turn");
      Json body;
      HttpResponse err;
      if (!parseObject(r, body, err)) return err;
      if (!body.contains("entry") || !body["entry"].is_number_integer() ||
          body["entry"].get<int64_t>() <= 0) {
        return jsonError(400, "'entry' must be a FAQ entry id");
      }
      auto e = botRef()->attach(turn, body["entry"].get<int64_t>(), r.principal.id);
      if (!e.ok()) return HttpResponse::fromStatus(e.status());
      return HttpResponse::json(200, entryJson(*e).dump());
    }, editors);
    if (!s.ok()) return s;
    return http.add("GET", "/api/v1/bot/stats", [this](const HttpRequest& r) {
      int64_t days = 30;
      if (auto it = r.query.find("days"); it != r.query.end()) {
        if (!parseId(it->second, days) || days > 3660) {
          return jsonError(400, "'days' must be 1 to 3660");
        }
      }
      int64_t now = ctx_->clock().now().time_since_epoch() / std::chrono::milliseconds(1);
      int64_t dayMs = 86400000;
      int64_t from = (now / dayMs - (days - 1)) * dayMs;
      Json j = botRef()->stats(from);
      j["from"] = formatUtcMillis(from).substr(0, 10);
      return HttpResponse::json(200, j.dump());
    }, leads);
  }

  HostContext* ctx_ = nullptr;
  BotOptions options_;
  std::filesystem::path modelPath_;
  std::vector<FaqEntry> seed_;
  std::mutex botMu_;
  std::shared_ptr<faq::FaqBot> bot_;
  std::shared_ptr<PairTasks> tasks_;
  std::shared_ptr<BotService> service_;
};

PluginInfo faqBotInfo() {
  PluginInfo info;
  info.description = "FAQ bot: answers customers from question-answer pairs, hands off to "
                     "agents with the transcript, learns from labelled question pairs";
  info.kinds = {"knowledge", "bot"};
  info.provides = {kefu::FaqBot::kInterfaceName, PairMatchTasks::kInterfaceName};
  info.handlesPersonalData = true;
  info.maturity = Maturity::kBeta;
  info.configKeys = {
      {"answer_threshold", ConfigType::kFloat,
       "Confidence (0..1) at or above which the bot answers; below it hands off", false, "0.5"},
      {"handoff_queue", ConfigType::kString, "Routing queue that takes handed-off dialogs",
       false, "webchat"},
      {"handoff_phrases", ConfigType::kStringList,
       "Words with which a customer asks for a person", false,
       "[\"转人工\", \"人工客服\", \"人工服务\", \"找人工\", \"要人工\", \"真人\", "
       "\"客服人员\", \"agent\", \"human\", \"operator\"]"},
      {"handoff_when_unsure", ConfigType::kBool,
       "Hand off below the threshold (false: say so and stay with the bot)", false, "true"},
      {"handoff_text", ConfigType::kString, "What the bot says when it hands off", false,
       "正在为您转接人工客服，请稍候。"},
      {"unsure_text", ConfigType::kString, "What the bot says when unsure and not handing off",
       false, "抱歉，这个问题我还不能回答。"},
      {"pair_model", ConfigType::kString,
       "File of the learned pair matcher, relative to the data directory", false,
       "faq-bot/pair-model.txt"},
      {"entries", ConfigType::kArray,
       "[[entries]] tables (questions, answer, category) stored when the FAQ is empty", false,
       "[]"},
  };
  return info;
}

}  // namespace
}  // namespace kefu::faq

KEFU_PLUGIN(kefu::faq::FaqBotPlugin, "faq-bot", "0.1.0", kefu::faq::faqBotInfo)
