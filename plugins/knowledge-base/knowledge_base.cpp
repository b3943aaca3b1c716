// SPDX-License-Identifier: Apache-2.0
//
// knowledge-base: articles agents and the bot answer from (clause 8.4), with versions, a
// draft -> review -> published workflow, effective and expiry dates, Chinese search, the
// KB KPIs of Annex A, and the `kefu kb` commands (import, train, eval).
//
// It provides kefu::KnowledgeBase; `kefu kb train --pairs` and `kefu kb eval --task
// pair-match` are handed to the provider of kefu::PairMatchTasks (the FAQ bot).
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "answer_search.h"
#include "kb_store.h"
#include "kefu/sdk.h"
#include "kefu/store_util.h"

namespace {

using Json = nlohmann::json;
using kefu::HttpRequest;
using kefu::HttpResponse;
namespace kb = kefu::kb;

int64_t toMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// "2026-12-04", "2026-12-04T08:30:00Z" (UTC) -> ms; false when neither.
bool parseDate(const std::string& s, int64_t& ms) {
  std::tm tm{};
  int consumed = 0;
  if (s.size() == 10 && std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon,
                                    &tm.tm_mday, &consumed) == 3 && consumed == 10) {
  } else if (s.size() == 20 && s[10] == 'T' && s[19] == 'Z' &&
             std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon,
                         &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) == 6 &&
             consumed == 20) {
  } else {
    return false;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  return true;
}

Json dateJson(int64_t ms) { return ms == 0 ? Json(nullptr) : Json(kefu::formatUtcMillis(ms)); }

Json versionJson(const kb::ArticleVersion& v, bool withBody = true) {
  Json j = {{"version", v.version},
            {"kind", v.content.kind},
            {"category", v.content.category},
            {"title", v.content.title},
            {"tags", v.content.tags},
            {"effective_at", dateJson(v.content.effectiveAtMs)},
            {"expires_at", dateJson(v.content.expiresAtMs)},
            {"review_due_at", dateJson(v.content.reviewDueAtMs)},
            {"changed_at", dateJson(v.changedAtMs)},
            {"changed_by", v.changedBy},
            {"note", v.note}};
  if (withBody) j["body"] = v.content.body;
  return j;
}

// An editor's view: workflow state, the current version and the served one.
Json articleJson(const kb::ArticleState& a) {
  return {{"id", a.id},
          {"status", a.status},
          {"current", versionJson(a.current)},
          {"published", a.published ? versionJson(*a.published) : Json(nullptr)},
          {"published_at", dateJson(a.publishedAtMs)},
          {"created_at", dateJson(a.createdAtMs)},
          {"created_by", a.createdBy}};
}

// What agents see: the served version only.
Json servedJson(const kb::ArticleState& a) {
  Json j = versionJson(*a.published);
  j["id"] = a.id;
  j["published_at"] = dateJson(a.publishedAtMs);
  j.erase("note");
  j.erase("review_due_at");
  return j;
}

Json hitJson(const kb::SearchHit& h) {
  return {{"id", h.articleId}, {"version", h.version}, {"score", h.score},
          {"status", h.status}, {"kind", h.kind},     {"category", h.category},
          {"title", h.title},   {"snippet", h.snippet}};
}

HttpResponse bad(const std::string& why) {
  return HttpResponse::error(400, "invalid_argument", why);
}

bool parseId(const std::string& s, int64_t& id) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  id = std::stoll(s);
  return id > 0;
}

// Reads an article from a JSON body; "" or the reason naming the field.
std::string readInput(const Json& j, kb::ArticleInput& in) {
  static const std::set<std::string> kKnown = {"kind",       "category",      "title",
                                               "body",       "tags",          "effective_at",
                                               "expires_at", "review_due_at", "expected_version",
                                               "note"};
  for (const auto& [k, v] : j.items()) {
    if (!kKnown.count(k)) return "'" + k + "' is not an article field";
  }
  for (const char* key : {"kind", "category", "title", "body"}) {
    if (!j.contains(key)) return std::string("'") + key + "' is required";
    if (!j[key].is_string()) return std::string("'") + key + "' must be a string";
  }
  in.kind = j["kind"].get<std::string>();
  in.category = j["category"].get<std::string>();
  in.title = j["title"].get<std::string>();
  in.body = j["body"].get<std::string>();
  if (j.contains("tags")) {
    if (!j["tags"].is_array()) return "'tags' must be an array of strings";
    for (const auto& t : j["tags"]) {
      if (!t.is_string()) return "'tags' must be an array of strings";
      in.tags.push_back(t.get<std::string>());
    }
  }
  std::pair<const char*, int64_t*> dates[] = {{"effective_at", &in.effectiveAtMs},
                                              {"expires_at", &in.expiresAtMs},
                                              {"review_due_at", &in.reviewDueAtMs}};
  for (auto& [key, out] : dates) {
    if (!j.contains(key) || j[key].is_null()) continue;
    if (!j[key].is_string() || !parseDate(j[key].get<std::string>(), *out)) {
      return std::string("'") + key + "' must be \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\"";
    }
  }
  return "";
}

bool parseBody(const HttpRequest& req, Json& out, HttpResponse& error) {
  out = req.body.empty() ? Json::object() : Json::parse(req.body, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    error = bad("the body must be a JSON object");
    return false;
  }
  return true;
}

const char* kTasks = "answer-search, pair-match";

class KbService;

class KnowledgeBasePlugin : public kefu::Plugin {
 public:
  kefu::Status configure(kefu::HostContext& ctx) override {
    ctx_ = &ctx;
    const auto& cfg = ctx.config();
    params_.k1 = cfg.getDouble("k1", params_.k1);
    params_.b = cfg.getDouble("b", params_.b);
    params_.leadChars = static_cast<size_t>(cfg.getInt("lead_chars", 40));
    params_.leadRepeat = static_cast<size_t>(cfg.getInt("lead_repeat", 2));
    params_.learnedWeight = cfg.getDouble("learned_weight", params_.learnedWeight);
    if (!(params_.k1 > 0 && params_.k1 <= 10)) return cfg.error("k1", "must be in (0, 10]");
    if (!(params_.b >= 0 && params_.b <= 1)) return cfg.error("b", "must be in [0, 1]");
    if (cfg.getInt("lead_chars", 40) < 0 || cfg.getInt("lead_chars", 40) > 1000) {
      return cfg.error("lead_chars", "must be from 0 to 1000");
    }
    if (cfg.getInt("lead_repeat", 2) < 0 || cfg.getInt("lead_repeat", 2) > 10) {
      return cfg.error("lead_repeat", "must be from 0 to 10");
    }
    if (!(params_.learnedWeight >= 0 && params_.learnedWeight <= 3)) {
      return cfg.error("learned_weight", "must be from 0 to 3");
    }
    modelPath_ = cfg.getString("answer_model", "kb-answer-weights.tsv");
    if (modelPath_.empty()) return cfg.error("answer_model", "must not be empty");
    synonymsFile_ = cfg.getString("synonyms_file", "");
    if (!synonymsFile_.empty()) {
      std::ifstream in(ctx.resolvePath(synonymsFile_));
      if (!in) return cfg.error("synonyms_file", "cannot read '" + synonymsFile_ + "'");
      std::stringstream ss;
      ss << in.rdbuf();
      synonymsText_ = ss.str();
      // Checked now so that `kefu check` reports a bad line.
      kefu::text::SynonymDictionary probe;
      if (auto err = probe.parse(synonymsText_, synonymsFile_); !err.empty()) {
        return cfg.error("synonyms_file", err);
      }
    }
    if (auto s = addRoutes(); !s.ok()) return s;
    if (auto s = addCommands(); !s.ok()) return s;
    service_ = makeService();
    return ctx.services().provide<kefu::KnowledgeBase>(service_);
  }

  std::vector<kefu::Migration> migrations() const override {
    return kb::KnowledgeStore::migrations();
  }

  kefu::Status start() override {
    auto modelFile = ctx_->resolvePath(modelPath_);
    if (std::filesystem::exists(modelFile)) {
      if (auto err = weights_.load(modelFile.string()); !err.empty()) {
        return kefu::Status::failedPrecondition("answer_model: " + err);
      }
      ctx_->logger().info("learned term weights: {} terms from {} pairs", weights_.size(),
                          weights_.trainedPairs());
    }
    kb::KnowledgeStore::Options o;
    o.search = params_;
    auto store = std::make_unique<kb::KnowledgeStore>(ctx_->store().openSession(), &weights_, o);
    if (!synonymsText_.empty()) {
      if (auto s = store->addConfiguredSynonyms(synonymsText_, synonymsFile_); !s.ok()) return s;
    }
    auto t0 = std::chrono::steady_clock::now();
    if (auto s = store->load(); !s.ok()) return s;
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
    ctx_->logger().info("loaded and indexed {} articles in {:.0f} ms", store->size(), ms);
    std::lock_guard lock(mu_);
    store_ = std::move(store);
    return {};
  }

  void stop() override {
    std::lock_guard lock(mu_);
    store_.reset();
  }

  // The store while started, else nullptr (routes outlive nothing, but be safe).
  kb::KnowledgeStore* store() {
    std::lock_guard lock(mu_);
    return store_.get();
  }
  int64_t now() { return toMillis(ctx_->clock().now()); }

 private:
  friend class KbService;
  std::shared_ptr<kefu::KnowledgeBase> makeService();

  kefu::Status addRoutes();
  kefu::Status addCommands();
  int importQa(const kefu::CliArgs& a, kefu::CliIo& io);
  int train(const kefu::CliArgs& a, kefu::CliIo& io);
  int eval(const kefu::CliArgs& a, kefu::CliIo& io);
  kefu::text::Analyzer evalAnalyzer() const {
    kefu::text::Analyzer an;
    if (!synonymsText_.empty()) an.synonyms().parse(synonymsText_, synonymsFile_);
    return an;
  }

  kefu::HostContext* ctx_ = nullptr;
  kb::AnswerSearchParams params_;
  std::string modelPath_, synonymsFile_, synonymsText_;
  kb::TermWeights weights_;
  std::mutex mu_;
  std::unique_ptr<kb::KnowledgeStore> store_;
  std::shared_ptr<kefu::KnowledgeBase> service_;
};

// kefu::KnowledgeBase for the bot and other plugins: servable articles only.
class KbService : public kefu::KnowledgeBase {
 public:
  explicit KbService(KnowledgeBasePlugin* p) : p_(p) {}
  kefu::Result<std::vector<kefu::KnowledgeHit>> search(
      const kefu::KnowledgeQuery& q) override {
    auto* store = p_->store();
    if (store == nullptr) return kefu::Status::unavailable("the knowledge base is not started");
    kb::SearchFilter f;
    f.category = q.category;
    f.kind = q.kind;
    f.limit = q.limit == 0 ? 10 : std::min<size_t>(q.limit, 100);
    auto hits = store->search(q.text, f, p_->now());
    if (!hits.ok()) return hits.status();
    std::vector<kefu::KnowledgeHit> out;
    for (const auto& h : *hits) {
      out.push_back({h.articleId, h.version, h.score, h.title, h.category, h.kind, h.snippet});
    }
    return out;
  }
  kefu::Result<kefu::KnowledgeArticle> get(int64_t id) override {
    auto* store = p_->store();
    if (store == nullptr) return kefu::Status::unavailable("the knowledge base is not started");
    auto a = store->servable(id, p_->now());
    if (!a.ok()) return a.status();
    const auto& v = *a->published;
    kefu::KnowledgeArticle out;
    out.id = a->id;
    out.version = v.version;
    out.kind = v.content.kind;
    out.category = v.content.category;
    out.title = v.content.title;
    out.body = v.content.body;
    out.tags = v.content.tags;
    out.effectiveAtMs = v.content.effectiveAtMs;
    out.expiresAtMs = v.content.expiresAtMs;
    out.publishedAtMs = a->publishedAtMs;
    return out;
  }

 private:
  KnowledgeBasePlugin* p_;
};

std::shared_ptr<kefu::KnowledgeBase> KnowledgeBasePlugin::makeService() {
  return std::make_shared<KbService>(this);
}

bool isEditor(const kefu::Principal& p) {
  return p.hasRole(kefu::roles::kKbEditor) || p.hasRole(kefu::roles::kSupervisor) ||
         p.hasRole(kefu::roles::kAdmin);
}

kefu::Status KnowledgeBasePlugin::addRoutes() {
  namespace roles = kefu::roles;
  kefu::RouteOptions readers;
  readers.roles = {roles::kAgent,   roles::kTeamLead,   roles::kQa,        roles::kTrainer,
                   roles::kKbEditor, roles::kSupervisor};
  kefu::RouteOptions editors;
  editors.roles = {roles::kKbEditor, roles::kSupervisor};
  kefu::RouteOptions publishers;
  publishers.roles = {roles::kSupervisor};
  kefu::RouteOptions leads;
  leads.roles = {roles::kSupervisor, roles::kTeamLead, roles::kKbEditor};
  auto& http = ctx_->http();
  auto unavailable = [] {
    return HttpResponse::error(503, "unavailable", "the knowledge base is not started");
  };

  // Search: agents see servable articles; editors may ask for a workflow status.
  auto s = http.add("GET", "/api/v1/kb/search", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    auto q = r.query.find("q");
    if (q == r.query.end() || q->second.empty()) return bad("'q' is required");
    kb::SearchFilter f;
    if (auto it = r.query.find("category"); it != r.query.end()) f.category = it->second;
    if (auto it = r.query.find("kind"); it != r.query.end()) f.kind = it->second;
    if (auto it = r.query.find("status"); it != r.query.end()) f.status = it->second;
    if (auto it = r.query.find("limit"); it != r.query.end()) {
      int64_t n = 0;
      if (!parseId(it->second, n) || n > 100) return bad("'limit' must be from 1 to 100");
      f.limit = static_cast<size_t>(n);
    }
    if (!f.status.empty() && !isEditor(r.principal)) {
      return HttpResponse::error(403, "permission_denied",
                                 "only kb_editor and supervisor may search unpublished "
                                 "articles");
    }
    auto hits = st->search(q->second, f, now());
    if (!hits.ok()) return HttpResponse::fromStatus(hits.status());
    Json items = Json::array();
    for (const auto& h : *hits) items.push_back(hitJson(h));
    // Only searches of what agents are served count toward the accuracy KPI.
    Json body = {{"items", items}};
    if (f.status.empty()) {
      auto id = st->logSearch(r.principal.id, q->second,
                              hits->empty() ? 0 : hits->front().articleId, now());
      if (id.ok()) body["search_id"] = *id;
    }
    return HttpResponse::json(200, body.dump());
  }, readers);
  if (!s.ok()) return s;

  s = http.add("GET", "/api/v1/kb/articles", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    kb::SearchFilter f;
    f.limit = 100;
    if (auto it = r.query.find("category"); it != r.query.end()) f.category = it->second;
    if (auto it = r.query.find("kind"); it != r.query.end()) f.kind = it->second;
    if (auto it = r.query.find("status"); it != r.query.end()) f.status = it->second;
    if (auto it = r.query.find("limit"); it != r.query.end()) {
      int64_t n = 0;
      if (!parseId(it->second, n) || n > 1000) return bad("'limit' must be from 1 to 1000");
      f.limit = static_cast<size_t>(n);
    }
    static const std::set<std::string> kStatuses = {"", "draft", "review", "published", "any"};
    if (!kStatuses.count(f.status)) {
      return bad("'status' must be draft, review, published or any");
    }
    if (!f.status.empty() && !isEditor(r.principal)) {
      return HttpResponse::error(403, "permission_denied",
                                 "only kb_editor and supervisor may list unpublished articles");
    }
    Json items = Json::array();
    for (const auto& h : st->list(f, now())) items.push_back(hitJson(h));
    return HttpResponse::json(200, Json{{"items", items}}.dump());
  }, readers);
  if (!s.ok()) return s;

  s = http.add("GET", "/api/v1/kb/articles/{id}", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    int64_t id = 0;
    if (!parseId(r.params.at("id"), id)) return bad("the article id must be a positive integer");
    if (isEditor(r.principal)) {
      auto a = st->article(id);
      if (!a.ok()) return HttpResponse::fromStatus(a.status());
      return HttpResponse::json(200, articleJson(*a).dump());
    }
    auto a = st->servable(id, now());
    if (!a.ok()) return HttpResponse::fromStatus(a.status());
    return HttpResponse::json(200, servedJson(*a).dump());
  }, readers);
  if (!s.ok()) return s;

  s = http.add("GET", "/api/v1/kb/articles/{id}/versions",
               [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    int64_t id = 0;
    if (!parseId(r.params.at("id"), id)) return bad("the article id must be a positive integer");
    auto v = st->versions(id);
    if (!v.ok()) return HttpResponse::fromStatus(v.status());
    Json items = Json::array();
    for (const auto& x : *v) items.push_back(versionJson(x));
    auto h = st->history(id);
    Json events = Json::array();
    for (const auto& e : h.ok() ? *h : std::vector<kb::ArticleEvent>{}) {
      events.push_back({{"version", e.version}, {"action", e.action}, {"actor", e.actor},
                        {"at", dateJson(e.atMs)}, {"note", e.note}});
    }
    return HttpResponse::json(200, Json{{"versions", items}, {"events", events}}.dump());
  }, editors);
  if (!s.ok()) return s;

  s = http.add("POST", "/api/v1/kb/articles", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    Json body;
    HttpResponse err;
    if (!parseBody(r, body, err)) return err;
    kb::ArticleInput in;
    if (auto why = readInput(body, in); !why.empty()) return bad(why);
    auto a = st->create(in, r.principal.id, now());
    if (!a.ok()) return HttpResponse::fromStatus(a.status());
    return HttpResponse::json(201, articleJson(*a).dump());
  }, editors);
  if (!s.ok()) return s;

  s = http.add("PUT", "/api/v1/kb/articles/{id}", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    int64_t id = 0;
    if (!parseId(r.params.at("id"), id)) return bad("the article id must be a positive integer");
    Json body;
    HttpResponse err;
    if (!parseBody(r, body, err)) return err;
    kb::ArticleInput in;
    if (auto why = readInput(body, in); !why.empty()) return bad(why);
    int expected = 0;
    if (body.contains("expected_version")) {
      if (!body["expected_version"].is_number_integer()) {
        return bad("'expected_version' must be an integer");
      }
      expected = body["expected_version"].get<int>();
    }
    std::string note = body.contains("note") && body["note"].is_string()
                           ? body["note"].get<std::string>() : "";
    auto a = st->revise(id, in, expected, r.principal.id, now(), note);
    if (!a.ok()) return HttpResponse::fromStatus(a.status());
    return HttpResponse::json(200, articleJson(*a).dump());
  }, editors);
  if (!s.ok()) return s;

  auto action = [this, unavailable](const std::string& what) {
    return [this, unavailable, what](const HttpRequest& r) {
      auto* st = store();
      if (st == nullptr) return unavailable();
      int64_t id = 0;
      if (!parseId(r.params.at("id"), id)) {
        return bad("the article id must be a positive integer");
      }
      Json body;
      HttpResponse err;
      if (!parseBody(r, body, err)) return err;
      std::string note = body.contains("note") && body["note"].is_string()
                             ? body["note"].get<std::string>() : "";
      auto a = st->transition(id, what, r.principal.id, now(), note);
      if (!a.ok()) return HttpResponse::fromStatus(a.status());
      return HttpResponse::json(200, articleJson(*a).dump());
    };
  };
  s = http.add("DELETE", "/api/v1/kb/articles/{id}", action("delete"), editors);
  if (!s.ok()) return s;
  s = http.add("POST", "/api/v1/kb/articles/{id}/submit", action("submit"), editors);
  if (!s.ok()) return s;
  for (const char* what : {"publish", "reject", "unpublish"}) {
    s = http.add("POST", std::string("/api/v1/kb/articles/{id}/") + what, action(what),
                 publishers);
    if (!s.ok()) return s;
  }

  s = http.add("GET", "/api/v1/kb/categories", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    bool all = r.query.count("status") && r.query.at("status") == "any";
    if (all && !isEditor(r.principal)) {
      return HttpResponse::error(403, "permission_denied",
                                 "only kb_editor and supervisor may count unpublished articles");
    }
    // Counts per path, with each parent counting everything below it.
    std::map<std::string, int64_t> counts;
    for (const auto& [path, n] : st->categories(!all, now())) {
      for (size_t p = 0; p != std::string::npos; p = path.find('/', p + 1)) {
        if (p > 0) counts[path.substr(0, p)] += n;
      }
      counts[path] += n;
    }
    Json items = Json::array();
    for (const auto& [path, n] : counts) items.push_back({{"path", path}, {"articles", n}});
    return HttpResponse::json(200, Json{{"items", items}}.dump());
  }, readers);
  if (!s.ok()) return s;

  s = http.add("POST", "/api/v1/kb/feedback", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    Json body;
    HttpResponse err;
    if (!parseBody(r, body, err)) return err;
    if (!body.contains("search_id") || !body["search_id"].is_number_integer()) {
      return bad("'search_id' (from GET /api/v1/kb/search) is required");
    }
    if (!body.contains("correct") || !body["correct"].is_boolean()) {
      return bad("'correct' must be true or false");
    }
    int64_t article = 0;
    if (body.contains("article_id")) {
      if (!body["article_id"].is_number_integer()) return bad("'article_id' must be an integer");
      article = body["article_id"].get<int64_t>();
    }
    auto fs = st->feedback(body["search_id"].get<int64_t>(), article, body["correct"].get<bool>(),
                           r.principal.id, now());
    if (!fs.ok()) return HttpResponse::fromStatus(fs);
    return HttpResponse::json(200, R"({"recorded":true})");
  }, readers);
  if (!s.ok()) return s;

  s = http.add("GET", "/api/v1/kb/kpis", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    int64_t t = now(), from = t - 30LL * 86'400'000, to = t + 1;
    if (auto it = r.query.find("from"); it != r.query.end() && !parseDate(it->second, from)) {
      return bad("'from' must be \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\"");
    }
    if (auto it = r.query.find("to"); it != r.query.end() && !parseDate(it->second, to)) {
      return bad("'to' must be \"YYYY-MM-DD\" or \"YYYY-MM-DDTHH:MM:SSZ\"");
    }
    if (to <= from) return bad("'to' must be after 'from'");
    auto k = st->kpis(from, to, t);
    if (!k.ok()) return HttpResponse::fromStatus(k.status());
    auto ratio = [](int64_t a, int64_t b) { return b == 0 ? Json(nullptr) : Json(double(a) / b); };
    Json body = {{"from", dateJson(from)},
                 {"to", dateJson(to)},
                 {"timeliness", {{"updates_due", k->updatesDue},
                                 {"updates_on_time", k->updatesOnTime},
                                 {"rate", ratio(k->updatesOnTime, k->updatesDue)}}},
                 {"accuracy", {{"searches", k->searches},
                               {"rated", k->searchesRated},
                               {"correct", k->searchesCorrect},
                               {"rate", ratio(k->searchesCorrect, k->searchesRated)}}}};
    return HttpResponse::json(200, body.dump());
  }, leads);
  if (!s.ok()) return s;

  s = http.add("GET", "/api/v1/kb/synonyms", [this, unavailable](const HttpRequest&) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    return HttpResponse::json(200, Json{{"groups", st->synonyms()}}.dump());
  }, readers);
  if (!s.ok()) return s;

  return http.add("PUT", "/api/v1/kb/synonyms", [this, unavailable](const HttpRequest& r) {
    auto* st = store();
    if (st == nullptr) return unavailable();
    Json body;
    HttpResponse err;
    if (!parseBody(r, body, err)) return err;
    if (!body.contains("groups") || !body["groups"].is_array()) {
      return bad("'groups' must be an array of arrays of terms");
    }
    std::vector<std::vector<std::string>> groups;
    for (const auto& g : body["groups"]) {
      if (!g.is_array() || g.size() < 2) return bad("each group needs at least two terms");
      std::vector<std::string> terms;
      for (const auto& t : g) {
        if (!t.is_string() || t.get<std::string>().empty() ||
            t.get<std::string>().size() > 100) {
          return bad("terms must be strings of 1 to 100 bytes");
        }
        terms.push_back(t.get<std::string>());
      }
      groups.push_back(std::move(terms));
    }
    auto ss = st->setSynonyms(groups, r.principal.id, now());
    if (!ss.ok()) return HttpResponse::fromStatus(ss);
    return HttpResponse::json(200, Json{{"groups", st->synonyms()}}.dump());
  }, editors);
}

kefu::Status KnowledgeBasePlugin::addCommands() {
  auto& cli = ctx_->cli();
  auto s = cli.add({{"kb", "import"},
                    "Load question/answer JSON Lines as published Q&A articles",
                    {{"--qa", "JSON Lines file (qid, question, answer, is_best)", true, false, "",
                      true},
                     {"--category", "Category of the imported articles", false, false,
                      "问答/导入"}},
                    [this](const kefu::CliArgs& a, kefu::CliIo& io) { return importQa(a, io); }});
  if (!s.ok()) return s;
  s = cli.add({{"kb", "train"},
               "Learn answer-search term weights (--qa) or the pair matcher (--pairs)",
               {{"--qa", "Question/answer JSON Lines to learn term weights from", false, false,
                 "", true},
                {"--pairs", "Labelled question pairs (q1, q2, label) for the pair matcher",
                 false, false, "", true}},
               [this](const kefu::CliArgs& a, kefu::CliIo& io) { return train(a, io); }});
  if (!s.ok()) return s;
  return cli.add(
      {{"kb", "eval"},
       "Score answer search or the pair matcher on labelled files",
       {{"--task", std::string("What to score: ") + kTasks, true},
        {"--questions", "answer-search: question JSON Lines (qid, question, question_detail)"},
        {"--pool", "answer-search: JSON Lines whose answers form the index", false, false, "",
         true},
        {"--ranker", "answer-search: kefu or baseline (character uni+bigram BM25)", false,
         false, "kefu"},
        {"--pairs", "pair-match: labelled pairs (q1, q2, label)", false, false, "", true}},
       [this](const kefu::CliArgs& a, kefu::CliIo& io) { return eval(a, io); }});
}

int KnowledgeBasePlugin::importQa(const kefu::CliArgs& a, kefu::CliIo& io) {
  auto* st = store();
  if (st == nullptr) {
    io.err << "kb import: the knowledge base did not start\n";
    return 1;
  }
  std::vector<kb::QaRow> rows;
  for (const auto& f : a.getAll("--qa")) {
    if (auto err = kb::readQaFile(f, rows); !err.empty()) {
      io.err << "kb import: " << err << "\n";
      return 2;
    }
  }
  // One article per question: its best answer, else its first non-empty one.
  std::map<int64_t, size_t> chosen;
  std::vector<int64_t> order;
  size_t empty = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].answer.find_first_not_of(" \t\r\n") == std::string::npos) {
      ++empty;
      continue;
    }
    auto [it, fresh] = chosen.emplace(rows[i].qid, i);
    if (fresh) order.push_back(rows[i].qid);
    else if (rows[i].best && !rows[it->second].best) it->second = i;
  }
  std::vector<kb::ArticleInput> inputs;
  for (int64_t qid : order) {
    const auto& r = rows[chosen[qid]];
    kb::ArticleInput in;
    in.kind = "qa";
    in.category = a.get("--category", "问答/导入");
    in.title = r.question;
    // The question's detail is the customer's wording, not knowledge: left out.
    in.body = r.answer;
    in.tags = {"qid:" + std::to_string(qid)};
    // A title over the limit is cut rather than the row dropped.
    auto chars = kefu::text::decodeUtf8(in.title);
    if (chars.size() > 200) in.title = kefu::text::encodeUtf8(chars.substr(0, 200));
    inputs.push_back(std::move(in));
  }
  auto added = st->importPublished(inputs, "cli", now());
  if (!added.ok()) {
    io.err << "kb import: " << added.status().message() << "\n";
    return 1;
  }
  io.out << "rows " << rows.size() << ", questions " << inputs.size() << ", added " << *added
         << ", already present " << inputs.size() - *added << ", rows without answer " << empty
         << "\n";
  return 0;
}

int KnowledgeBasePlugin::train(const kefu::CliArgs& a, kefu::CliIo& io) {
  if (!a.has("--qa") && !a.has("--pairs")) {
    io.err << "kb train: give --qa FILE... (answer search) or --pairs FILE... (pair matcher)\n";
    return 2;
  }
  if (a.has("--qa")) {
    std::vector<kb::QaRow> rows;
    for (const auto& f : a.getAll("--qa")) {
      if (auto err = kb::readQaFile(f, rows); !err.empty()) {
        io.err << "kb train: " << err << "\n";
        return 2;
      }
    }
    kb::TermWeights w;
    w.train(rows, evalAnalyzer());
    auto path = ctx_->resolvePath(modelPath_);
    if (auto err = w.save(path.string()); !err.empty()) {
      io.err << "kb train: " << err << "\n";
      return 1;
    }
    io.out << "answer search: learned weights of " << w.size() << " terms from "
           << w.trainedPairs() << " question/answer pairs into " << path.string()
           << " (used from the next start)\n";
  }
  if (a.has("--pairs")) {
    auto tasks = ctx_->services().find<kefu::PairMatchTasks>();
    if (!tasks) {
      io.err << "kb train --pairs: no plugin provides " << kefu::PairMatchTasks::kInterfaceName
             << " (enable the FAQ bot)\n";
      return 2;
    }
    return tasks->train(a, io);
  }
  return 0;
}

int KnowledgeBasePlugin::eval(const kefu::CliArgs& a, kefu::CliIo& io) {
  std::string task = a.get("--task");
  if (task == "pair-match") {
    auto tasks = ctx_->services().find<kefu::PairMatchTasks>();
    if (!tasks) {
      io.err << "kb eval --task pair-match: no plugin provides "
             << kefu::PairMatchTasks::kInterfaceName << " (enable the FAQ bot)\n";
      return 2;
    }
    return tasks->evalPairs(a, io);
  }
  if (task != "answer-search") {
    io.err << "kb eval: unknown --task '" << task << "' (" << kTasks << ")\n";
    return 2;
  }
  if (!a.has("--questions") || !a.has("--pool")) {
    io.err << "kb eval --task answer-search: --questions FILE and --pool FILE... are needed\n";
    return 2;
  }
  std::string ranker = a.get("--ranker", "kefu");
  kb::AnswerSearchParams params;
  if (ranker == "baseline") {
    params = kb::AnswerSearchParams::baseline();
  } else if (ranker == "kefu") {
    params = params_;
  } else {
    io.err << "kb eval: --ranker must be kefu or baseline\n";
    return 2;
  }
  kb::TermWeights weights;
  bool learned = false;
  if (ranker == "kefu") {
    auto path = ctx_->resolvePath(modelPath_);
    if (std::filesystem::exists(path)) {
      if (auto err = weights.load(path.string()); !err.empty()) {
        io.err << "kb eval: " << err << "\n";
        return 1;
      }
      learned = true;
    }
  }
  auto analyzer = ranker == "baseline" ? kefu::text::Analyzer() : evalAnalyzer();
  kb::AnswerEvalResult r;
  auto err = kb::evaluateAnswerSearch(a.get("--questions"), a.getAll("--pool"), analyzer,
                                      learned ? &weights : nullptr, params, r);
  if (!err.empty()) {
    io.err << "kb eval: " << err << "\n";
    return 2;
  }
  auto fixed = [](double v, int digits) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
  };
  io.out << "task answer-search, ranker " << ranker
         << (ranker == "kefu" ? (learned ? " (learned term weights)" : " (nothing learned)")
                              : "")
         << "\n"
         << "pool answers " << r.poolAnswers << ", indexed in " << fixed(r.indexMs, 0)
         << " ms\n"
         << "questions " << r.questions << " (left out without an answer in the pool: "
         << r.withoutAnswer << ")\n"
         << "P@1 " << fixed(r.precisionAt1, 4) << "\n"
         << "MRR@10 " << fixed(r.mrrAt10, 4) << "\n"
         << "latency per question p50 " << fixed(r.latencyP50Ms, 3) << " ms, p99 "
         << fixed(r.latencyP99Ms, 3) << " ms\n"
         << "P@1=" << fixed(r.precisionAt1, 4) << " MRR@10=" << fixed(r.mrrAt10, 4) << "\n";
  return 0;
}

kefu::PluginInfo knowledgeBaseInfo() {
  kefu::PluginInfo info;
  info.description = "Knowledge base: versioned articles, review workflow, Chinese search, KPIs";
  info.kinds = {"knowledge"};
  info.provides = {kefu::KnowledgeBase::kInterfaceName};
  info.configKeys = {
      {"synonyms_file", kefu::ConfigType::kString,
       "Synonym groups, one per line: 重大疾病 = 重疾 (relative to the data directory)", false,
       "\"\""},
      {"answer_model", kefu::ConfigType::kString,
       "Where `kefu kb train --qa` stores learned term weights (relative to the data "
       "directory)", false, "\"kb-answer-weights.tsv\""},
      {"k1", kefu::ConfigType::kFloat, "BM25 term-frequency saturation", false, "1.2"},
      {"b", kefu::ConfigType::kFloat, "BM25 length normalisation", false, "0.75"},
      {"lead_chars", kefu::ConfigType::kInt, "Leading characters of a text that count extra",
       false, "40"},
      {"lead_repeat", kefu::ConfigType::kInt, "How many extra times the lead counts", false,
       "2"},
      {"learned_weight", kefu::ConfigType::kFloat,
       "Exponent of the learned query-term weights (0: ignore them)", false, "0.3"},
  };
  return info;
}

}  // namespace

KEFU_PLUGIN(KnowledgeBasePlugin, "knowledge-base", "1.0.0", knowledgeBaseInfo)
