// SPDX-License-Identifier: Apache-2.0
#include "kb_store.h"

#include <algorithm>
#include <set>

#include <soci/soci.h>

#include "kefu/store_util.h"

namespace kefu::kb {

namespace {

const std::set<std::string> kKinds = {"product", "procedure", "branch", "qa", "other"};
constexpr size_t kMaxTitleChars = 200;
constexpr size_t kMaxBodyBytes = 200'000;
constexpr size_t kMaxCategoryChars = 200;
constexpr size_t kMaxTags = 20;
constexpr size_t kMaxTagChars = 40;

// The id the session's last INSERT gave a row of `table` (an id column of SERIAL type on
// PostgreSQL, INTEGER PRIMARY KEY on SQLite).
long long lastInsertId(soci::session& s, const std::string& table) {
  long long id = 0;
  if (s.get_backend_name() == "postgresql") {
    s << "SELECT currval(pg_get_serial_sequence('" + table + "', 'id'))", soci::into(id);
  } else {
    s << "SELECT last_insert_rowid()", soci::into(id);
  }
  return id;
}

std::string trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string joinTags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) out += (out.empty() ? "" : ",") + t;
  return out;
}

std::vector<std::string> splitTags(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    if (c > start) out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return out;
}

std::string joinGroup(const std::vector<std::string>& g) {
  std::string out;
  for (const auto& t : g) out += (out.empty() ? "" : " = ") + t;
  return out;
}

bool inCategory(const std::string& category, const std::string& filter) {
  if (filter.empty()) return true;
  return category == filter ||
         (category.size() > filter.size() && category.compare(0, filter.size(), filter) == 0 &&
          category[filter.size()] == '/');
}

bool servableAt(const ArticleState& a, int64_t now) {
  if (a.status == "deleted" || !a.published) return false;
  const auto& c = a.published->content;
  if (c.effectiveAtMs != 0 && now < c.effectiveAtMs) return false;
  if (c.expiresAtMs != 0 && now >= c.expiresAtMs) return false;
  return true;
}

std::string snippetOf(const std::string& body, size_t chars) {
  auto u = text::decodeUtf8(body);
  if (u.size() <= chars) return body;
  u.resize(chars);
  return text::encodeUtf8(u) + "…";
}

}  // namespace

std::string validateArticle(ArticleInput& in) {
  in.title = trimmed(in.title);
  if (in.title.empty()) return "title: must not be empty";
  if (text::decodeUtf8(in.title).size() > kMaxTitleChars) {
    return "title: longer than " + std::to_string(kMaxTitleChars) + " characters";
  }
  if (trimmed(in.body).empty()) return "body: must not be empty";
  if (in.body.size() > kMaxBodyBytes) {
    return "body: longer than " + std::to_string(kMaxBodyBytes) + " bytes";
  }
  if (!kKinds.count(in.kind)) {
    return "kind: '" + in.kind + "' is not one of product, procedure, branch, qa, other";
  }
  // Category: '/'-separated segments, each trimmed and non-empty.
  std::string cat;
  size_t start = 0;
  std::string raw = in.category;
  while (start <= raw.size() && !trimmed(raw).empty()) {
    size_t slash = raw.find('/', start);
    if (slash == std::string::npos) slash = raw.size();
    std::string seg = trimmed(raw.substr(start, slash - start));
    if (seg.empty()) return "category: empty segment in '" + raw + "'";
    cat += (cat.empty() ? "" : "/") + seg;
    start = slash + 1;
    if (slash == raw.size()) break;
  }
  if (cat.empty()) return "category: must not be empty (e.g. \"产品资料/重疾险\")";
  if (text::decodeUtf8(cat).size() > kMaxCategoryChars) {
    return "category: longer than " + std::to_string(kMaxCategoryChars) + " characters";
  }
  in.category = cat;
  if (in.tags.size() > kMaxTags) return "tags: more than " + std::to_string(kMaxTags);
  for (auto& t : in.tags) {
    t = trimmed(t);
    if (t.empty() || t.find(',') != std::string::npos ||
        text::decodeUtf8(t).size() > kMaxTagChars) {
      return "tags: '" + t + "' must be 1 to 40 characters without ','";
    }
  }
  if (in.effectiveAtMs < 0 || in.expiresAtMs < 0 || in.reviewDueAtMs < 0) {
    return "dates: must not be negative";
  }
  if (in.expiresAtMs != 0 && in.expiresAtMs <= in.effectiveAtMs) {
    return "expiresAt: must be after effectiveAt";
  }
  return "";
}

struct KnowledgeStore::Impl {
  Options options;
  const TermWeights* weights;
  mutable std::mutex dbMu;  // the session; taken after `mu` when both are needed
  std::unique_ptr<soci::session> session;
  mutable std::shared_mutex mu;
  std::map<int64_t, ArticleState> articles;
  // Synonym files from configuration (text, source name), kept to rebuild the analyzer.
  std::vector<std::pair<std::string, std::string>> configured;
  std::vector<std::vector<std::string>> stored;
  std::unique_ptr<text::Analyzer> analyzer = std::make_unique<text::Analyzer>();
  std::unique_ptr<AnswerSearch> served, working;

  std::string articleText(const ArticleInput& c) const {
    // The title leads, so the lead weighting favours it; tags help recall.
    return c.title + "\n" + joinTags(c.tags) + "\n" + c.body;
  }

  void indexArticle(const ArticleState& a) {
    if (a.status == "deleted") {
      working->remove(static_cast<uint64_t>(a.id));
    } else {
      working->put(static_cast<uint64_t>(a.id), articleText(a.current.content));
    }
    if (a.published && a.status != "deleted") {
      served->put(static_cast<uint64_t>(a.id), articleText(a.published->content));
    } else {
      served->remove(static_cast<uint64_t>(a.id));
    }
  }

  void rebuild() {
    served = std::make_unique<AnswerSearch>(*analyzer, weights, options.search);
    working = std::make_unique<AnswerSearch>(*analyzer, weights, options.search);
    for (const auto& [id, a] : articles) indexArticle(a);
  }

  Status newAnalyzer(const std::vector<std::vector<std::string>>& groups) {
    auto an = std::make_unique<text::Analyzer>();
    for (const auto& [textBody, source] : configured) {
      if (auto err = an->synonyms().parse(textBody, source); !err.empty()) {
        return Status::invalidArgument(err);
      }
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      if (auto err = an->synonyms().add(groups[i]); !err.empty()) {
        return Status::invalidArgument("synonyms[" + std::to_string(i) + "]: " + err);
      }
    }
    analyzer = std::move(an);
    return {};
  }

  void writeVersion(int64_t id, const ArticleVersion& v) {
    const auto& c = v.content;
    std::string tags = joinTags(c.tags);
    *session << "INSERT INTO kb_article_versions (article_id, version, kind, category, title, "
                "body, tags, effective_at, expires_at, review_due_at, changed_at, changed_by, "
                "note) VALUES (:a, :v, :k, :c, :t, :b, :g, :e, :x, :r, :at, :by, :n)",
        soci::use(id), soci::use(v.version), soci::use(c.kind), soci::use(c.category),
        soci::use(c.title), soci::use(c.body), soci::use(tags), soci::use(c.effectiveAtMs),
        soci::use(c.expiresAtMs), soci::use(c.reviewDueAtMs), soci::use(v.changedAtMs),
        soci::use(v.changedBy), soci::use(v.note);
  }

  void writeState(const ArticleState& a) {
    int pub = a.published ? a.published->version : 0;
    *session << "UPDATE kb_articles SET status = :s, current_version = :c, "
                "published_version = :p, published_at = :pa, updated_at = :u, updated_by = :ub "
                "WHERE id = :id",
        soci::use(a.status), soci::use(a.current.version), soci::use(pub),
        soci::use(a.publishedAtMs), soci::use(a.current.changedAtMs),
        soci::use(a.current.changedBy), soci::use(a.id);
  }

  void writeEvent(const ArticleEvent& e) {
    *session << "INSERT INTO kb_article_events (article_id, version, action, actor, at_ms, "
                "note) VALUES (:a, :v, :ac, :by, :at, :n)",
        soci::use(e.articleId), soci::use(e.version), soci::use(e.action), soci::use(e.actor),
        soci::use(e.atMs), soci::use(e.note);
  }

  ArticleVersion readVersion(const soci::row& r, size_t col) const {
    ArticleVersion v;
    v.version = static_cast<int>(rowInt(r, col));
    v.content.kind = rowText(r, col + 1);
    v.content.category = rowText(r, col + 2);
    v.content.title = rowText(r, col + 3);
    v.content.body = rowText(r, col + 4);
    v.content.tags = splitTags(rowText(r, col + 5));
    v.content.effectiveAtMs = rowInt(r, col + 6);
    v.content.expiresAtMs = rowInt(r, col + 7);
    v.content.reviewDueAtMs = rowInt(r, col + 8);
    v.changedAtMs = rowInt(r, col + 9);
    v.changedBy = rowText(r, col + 10);
    v.note = rowText(r, col + 11);
    return v;
  }

  SearchHit hitOf(const ArticleState& a, const ArticleVersion& v, double score) const {
    SearchHit h;
    h.articleId = a.id;
    h.version = v.version;
    h.score = score;
    h.status = a.status;
    h.kind = v.content.kind;
    h.category = v.content.category;
    h.title = v.content.title;
    h.snippet = snippetOf(v.content.body, options.snippetChars);
    return h;
  }

  // Whether the article passes `f` in the view `f` selects, and the version shown.
  const ArticleVersion* visible(const ArticleState& a, const SearchFilter& f,
                                int64_t now) const {
    const ArticleVersion* v = nullptr;
    if (f.status.empty()) {
      if (!servableAt(a, now)) return nullptr;
      v = &*a.published;
    } else {
      if (a.status == "deleted") return nullptr;
      if (f.status != "any" && a.status != f.status) return nullptr;
      v = &a.current;
    }
    if (!inCategory(v->content.category, f.category)) return nullptr;
    if (!f.kind.empty() && v->content.kind != f.kind) return nullptr;
    return v;
  }
};

KnowledgeStore::KnowledgeStore(std::unique_ptr<soci::session> session,
                               const TermWeights* weights, Options options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->weights = weights;
  impl_->session = std::move(session);
  impl_->rebuild();
}

KnowledgeStore::~KnowledgeStore() = default;

std::vector<Migration> KnowledgeStore::migrations() {
  const std::string rest =
      "  status VARCHAR(16) NOT NULL,"
      "  current_version INTEGER NOT NULL,"
      "  published_version INTEGER NOT NULL DEFAULT 0,"
      "  published_at BIGINT NOT NULL DEFAULT 0,"
      "  created_at BIGINT NOT NULL,"
      "  created_by VARCHAR(64) NOT NULL,"
      "  updated_at BIGINT NOT NULL,"
      "  updated_by VARCHAR(64) NOT NULL);"
      "CREATE TABLE kb_article_versions ("
      "  article_id BIGINT NOT NULL,"
      "  version INTEGER NOT NULL,"
      "  kind VARCHAR(16) NOT NULL,"
      "  category VARCHAR(800) NOT NULL,"
      "  title TEXT NOT NULL,"
      "  body TEXT NOT NULL,"
      "  tags TEXT NOT NULL,"
      "  effective_at BIGINT NOT NULL,"
      "  expires_at BIGINT NOT NULL,"
      "  review_due_at BIGINT NOT NULL,"
      "  changed_at BIGINT NOT NULL,"
      "  changed_by VARCHAR(64) NOT NULL,"
      "  note TEXT NOT NULL,"
      "  PRIMARY KEY (article_id, version));";
  const std::string events =
      "  article_id BIGINT NOT NULL,"
      "  version INTEGER NOT NULL,"
      "  action VARCHAR(16) NOT NULL,"
      "  actor VARCHAR(64) NOT NULL,"
      "  at_ms BIGINT NOT NULL,"
      "  note TEXT NOT NULL);"
      "CREATE INDEX kb_article_events_article ON kb_article_events (article_id);";
  const std::string searches =
      "  at_ms BIGINT NOT NULL,"
      "  actor VARCHAR(64) NOT NULL,"
      "  query TEXT NOT NULL,"
      "  top_article BIGINT NOT NULL,"
      "  rated_article BIGINT,"
      "  correct INTEGER,"
      "  rated_at BIGINT,"
      "  rated_by VARCHAR(64));"
      "CREATE INDEX kb_searches_at ON kb_searches (at_ms);"
      "CREATE TABLE kb_synonyms (position INTEGER PRIMARY KEY, terms TEXT NOT NULL)";
  return {{1, "knowledge-base articles, versions, events, searches, synonyms",
           "CREATE TABLE kb_articles (id INTEGER PRIMARY KEY AUTOINCREMENT," + rest +
               "CREATE TABLE kb_article_events (id INTEGER PRIMARY KEY AUTOINCREMENT," +
               events + "CREATE TABLE kb_searches (id INTEGER PRIMARY KEY AUTOINCREMENT," +
               searches,
           "CREATE TABLE kb_articles (id BIGSERIAL PRIMARY KEY," + rest +
               "CREATE TABLE kb_article_events (id BIGSERIAL PRIMARY KEY," + events +
               "CREATE TABLE kb_searches (id BIGSERIAL PRIMARY KEY," + searches}};
}

Status KnowledgeStore::addConfiguredSynonyms(std::string_view text, std::string_view source) {
  std::unique_lock lock(impl_->mu);
  impl_->configured.emplace_back(std::string(text), std::string(source));
  auto s = impl_->newAnalyzer(impl_->stored);
  if (!s.ok()) {
    impl_->configured.pop_back();
    return s;
  }
  impl_->rebuild();
  return {};
}

Status KnowledgeStore::load() {
  std::unique_lock lock(impl_->mu);
  std::lock_guard db(impl_->dbMu);
  auto& s = *impl_->session;
  std::map<int64_t, ArticleState> articles;
  soci::rowset<soci::row> rows = (s.prepare <<
      "SELECT id, status, current_version, published_version, published_at, created_at, "
      "created_by FROM kb_articles");
  std::map<int64_t, std::pair<int, int>> want;
  for (const auto& r : rows) {
    ArticleState a;
    a.id = rowInt(r, 0);
    a.status = rowText(r, 1);
    a.publishedAtMs = rowInt(r, 4);
    a.createdAtMs = rowInt(r, 5);
    a.createdBy = rowText(r, 6);
    want[a.id] = {static_cast<int>(rowInt(r, 2)), static_cast<int>(rowInt(r, 3))};
    articles.emplace(a.id, std::move(a));
  }
  // Only the current and the published version of each article are kept in memory.
  soci::rowset<soci::row> vrows = (s.prepare <<
      "SELECT v.article_id, v.version, v.kind, v.category, v.title, v.body, v.tags, "
      "v.effective_at, v.expires_at, v.review_due_at, v.changed_at, v.changed_by, v.note "
      "FROM kb_article_versions v JOIN kb_articles a ON a.id = v.article_id "
      "WHERE v.version = a.current_version OR v.version = a.published_version");
  for (const auto& r : vrows) {
    int64_t id = rowInt(r, 0);
    auto it = articles.find(id);
    if (it == articles.end()) continue;
    ArticleVersion v = impl_->readVersion(r, 1);
    if (v.version == want[id].first) it->second.current = v;
    if (v.version == want[id].second) it->second.published = v;
  }
  std::vector<std::vector<std::string>> groups;
  soci::rowset<soci::row> srows =
      (s.prepare << "SELECT terms FROM kb_synonyms ORDER BY position");
  for (const auto& r : srows) {
    std::vector<std::string> g;
    std::string t = rowText(r, 0);
    size_t start = 0;
    while (start <= t.size()) {
      size_t eq = t.find(" = ", start);
      if (eq == std::string::npos) eq = t.size();
      g.push_back(t.substr(start, eq - start));
      start = eq + 3;
    }
    groups.push_back(std::move(g));
  }
  impl_->articles = std::move(articles);
  if (auto st = impl_->newAnalyzer(groups); !st.ok()) return st;
  impl_->stored = std::move(groups);
  impl_->rebuild();
  return {};
}

Result<ArticleState> KnowledgeStore::create(const ArticleInput& input, const std::string& actor,
                                            int64_t now) {
  ArticleInput in = input;
  if (auto err = validateArticle(in); !err.empty()) return Status::invalidArgument(err);
  std::unique_lock lock(impl_->mu);
  std::lock_guard db(impl_->dbMu);
  auto& s = *impl_->session;
  ArticleState a;
  a.status = "draft";
  a.current = {1, in, now, actor, ""};
  a.createdAtMs = now;
  a.createdBy = actor;
  {
    soci::transaction tx(s);
    s << "INSERT INTO kb_articles (status, current_version, published_version, published_at, "
         "created_at, created_by, updated_at, updated_by) VALUES ('draft', 1, 0, 0, :c, :cb, "
         ":u, :ub)",
        soci::use(now), soci::use(actor), soci::use(now), soci::use(actor);
    long long id = lastInsertId(s, "kb_articles");
    a.id = id;
    impl_->writeVersion(a.id, a.current);
    impl_->writeEvent({a.id, 1, "create", actor, now, ""});
    tx.commit();
  }
  impl_->articles[a.id] = a;
  impl_->indexArticle(a);
  return a;
}

Result<ArticleState> KnowledgeStore::revise(int64_t id, const ArticleInput& input,
                                            int expectedVersion, const std::string& actor,
                                            int64_t now, std::string note) {
  ArticleInput in = input;
  if (auto err = validateArticle(in); !err.empty()) return Status::invalidArgument(err);
  std::unique_lock lock(impl_->mu);
  auto it = impl_->articles.find(id);
  if (it == impl_->articles.end() || it->second.status == "deleted") {
    return Status::notFound("no article " + std::to_string(id));
  }
  ArticleState a = it->second;
  if (expectedVersion > 0 && expectedVersion != a.current.version) {
    return Status::failedPrecondition("article " + std::to_string(id) + " is at version " +
                                      std::to_string(a.current.version) + ", not " +
                                      std::to_string(expectedVersion));
  }
  a.current = {a.current.version + 1, in, now, actor, note};
  a.status = "draft";
  {
    std::lock_guard db(impl_->dbMu);
    soci::transaction tx(*impl_->session);
    impl_->writeVersion(id, a.current);
    impl_->writeState(a);
    impl_->writeEvent({id, a.current.version, "revise", actor, now, note});
    tx.commit();
  }
  it->second = a;
  impl_->indexArticle(a);
  return a;
}

Result<ArticleState> KnowledgeStore::transition(int64_t id, const std::string& action,
                                                const std::string& actor, int64_t now,
                                                std::string note) {
  std::unique_lock lock(impl_->mu);
  auto it = impl_->articles.find(id);
  if (it == impl_->articles.end() || it->second.status == "deleted") {
    return Status::notFound("no article " + std::to_string(id));
  }
  ArticleState a = it->second;
  auto refuse = [&](const std::string& why) {
    return Status::failedPrecondition("cannot " + action + " article " + std::to_string(id) +
                                      ": " + why);
  };
  if (action == "submit") {
    if (a.status != "draft") return refuse("it is " + a.status + ", not draft");
    a.status = "review";
  } else if (action == "publish") {
    if (a.status != "review") return refuse("it is " + a.status + ", not in review");
    a.status = "published";
    a.published = a.current;
    a.publishedAtMs = now;
  } else if (action == "reject") {
    if (a.status != "review") return refuse("it is " + a.status + ", not in review");
    a.status = "draft";
  } else if (action == "unpublish") {
    if (!a.published) return refuse("no version is published");
    a.published.reset();
    if (a.status == "published") a.status = "draft";
  } else if (action == "delete") {
    a.status = "deleted";
    a.published.reset();
  } else {
    return Status::invalidArgument("unknown action '" + action +
                                   "' (submit, publish, reject, unpublish, delete)");
  }
  {
    std::lock_guard db(impl_->dbMu);
    soci::transaction tx(*impl_->session);
    ArticleState stored = a;
    stored.current.changedAtMs = now;  // updated_at/by record the last action
    stored.current.changedBy = actor;
    impl_->writeState(stored);
    impl_->writeEvent({id, a.current.version, action, actor, now, note});
    tx.commit();
  }
  it->second = a;
  impl_->indexArticle(a);
  return a;
}

Result<ArticleState> KnowledgeStore::article(int64_t id) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->articles.find(id);
  if (it == impl_->articles.end()) return Status::notFound("no article " + std::to_string(id));
  return it->second;
}

Result<ArticleState> KnowledgeStore::servable(int64_t id, int64_t now) const {
  std::shared_lock lock(impl_->mu);
  auto it = impl_->articles.find(id);
  if (it == impl_->articles.end() || !servableAt(it->second, now)) {
    return Status::notFound("no servable article " + std::to_string(id));
  }
  return it->second;
}

Result<std::vector<ArticleVersion>> KnowledgeStore::versions(int64_t id) const {
  if (!article(id).ok()) return Status::notFound("no article " + std::to_string(id));
  std::lock_guard db(impl_->dbMu);
  std::vector<ArticleVersion> out;
  soci::rowset<soci::row> rows = (impl_->session->prepare <<
      "SELECT version, kind, category, title, body, tags, effective_at, expires_at, "
      "review_due_at, changed_at, changed_by, note FROM kb_article_versions "
      "WHERE article_id = :a ORDER BY version", soci::use(id));
  for (const auto& r : rows) out.push_back(impl_->readVersion(r, 0));
  return out;
}

Result<std::vector<ArticleEvent>> KnowledgeStore::history(int64_t id) const {
  if (!article(id).ok()) return Status::notFound("no article " + std::to_string(id));
  std::lock_guard db(impl_->dbMu);
  std::vector<ArticleEvent> out;
  soci::rowset<soci::row> rows = (impl_->session->prepare <<
      "SELECT version, action, actor, at_ms, note FROM kb_article_events "
      "WHERE article_id = :a ORDER BY id", soci::use(id));
  for (const auto& r : rows) {
    out.push_back({id, static_cast<int>(rowInt(r, 0)), rowText(r, 1), rowText(r, 2),
                   rowInt(r, 3), rowText(r, 4)});
  }
  return out;
}

Result<std::vector<SearchHit>> KnowledgeStore::search(const std::string& text,
                                                      const SearchFilter& f,
                                                      int64_t now) const {
  static const std::set<std::string> kStatuses = {"", "draft", "review", "published", "any"};
  if (!kStatuses.count(f.status)) {
    return Status::invalidArgument("status: '" + f.status +
                                   "' is not one of draft, review, published, any");
  }
  if (text::normalizeUtf8(text).empty()) {
    return Status::invalidArgument("q: the query has no letters, digits or characters");
  }
  std::shared_lock lock(impl_->mu);
  const auto& index = f.status.empty() ? *impl_->served : *impl_->working;
  auto filter = [&](uint64_t doc) {
    auto it = impl_->articles.find(static_cast<int64_t>(doc));
    return it != impl_->articles.end() && impl_->visible(it->second, f, now) != nullptr;
  };
  std::vector<SearchHit> out;
  for (const auto& h : index.search(text, std::max<size_t>(f.limit, 1), filter)) {
    const auto& a = impl_->articles.at(static_cast<int64_t>(h.doc));
    out.push_back(impl_->hitOf(a, *impl_->visible(a, f, now), h.score));
  }
  return out;
}

std::vector<SearchHit> KnowledgeStore::list(const SearchFilter& f, int64_t now) const {
  std::shared_lock lock(impl_->mu);
  std::vector<std::pair<int64_t, SearchHit>> all;
  for (const auto& [id, a] : impl_->articles) {
    if (const auto* v = impl_->visible(a, f, now)) {
      all.emplace_back(v->changedAtMs, impl_->hitOf(a, *v, 0));
    }
  }
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  std::vector<SearchHit> out;
  for (size_t i = 0; i < all.size() && i < f.limit; ++i) out.push_back(all[i].second);
  return out;
}

std::map<std::string, int64_t> KnowledgeStore::categories(bool servedOnly, int64_t now) const {
  SearchFilter f;
  f.status = servedOnly ? "" : "any";
  std::shared_lock lock(impl_->mu);
  std::map<std::string, int64_t> out;
  for (const auto& [id, a] : impl_->articles) {
    if (const auto* v = impl_->visible(a, f, now)) ++out[v->content.category];
  }
  return out;
}

Result<int64_t> KnowledgeStore::logSearch(const std::string& actor, const std::string& text,
                                          int64_t topArticle, int64_t now) {
  std::lock_guard db(impl_->dbMu);
  auto& s = *impl_->session;
  // A search must not fail because its log line could not be written: report it instead.
  try {
    s << "INSERT INTO kb_searches (at_ms, actor, query, top_article) VALUES (:a, :b, :q, :t)",
        soci::use(now), soci::use(actor), soci::use(text), soci::use(topArticle);
    long long id = lastInsertId(s, "kb_searches");
    return static_cast<int64_t>(id);
  } catch (const std::exception& e) {
    return Status::unavailable(std::string("cannot store the search: ") + e.what());
  }
}

Status KnowledgeStore::feedback(int64_t searchId, int64_t articleId, bool correct,
                                const std::string& actor, int64_t now) {
  std::lock_guard db(impl_->dbMu);
  auto& s = *impl_->session;
  int c = correct ? 1 : 0;
  soci::statement st = (s.prepare << "UPDATE kb_searches SET rated_article = :a, correct = :c, "
                                     "rated_at = :t, rated_by = :b WHERE id = :id",
                        soci::use(articleId), soci::use(c), soci::use(now), soci::use(actor),
                        soci::use(searchId));
  st.execute(true);
  if (st.get_affected_rows() == 0) {
    return Status::notFound("no search " + std::to_string(searchId));
  }
  return {};
}

Result<KbKpis> KnowledgeStore::kpis(int64_t from, int64_t to, int64_t now) const {
  KbKpis k;
  k.fromMs = from;
  k.toMs = to;
  std::lock_guard db(impl_->dbMu);
  auto& s = *impl_->session;
  // An update is due when a version carries a review date in the period that has passed;
  // it is on time when a later version of the article was saved by then.
  soci::rowset<soci::row> rows = (s.prepare <<
      "SELECT v.review_due_at, (SELECT MIN(n.changed_at) FROM kb_article_versions n "
      "WHERE n.article_id = v.article_id AND n.version > v.version) "
      "FROM kb_article_versions v WHERE v.review_due_at >= :f AND v.review_due_at < :t "
      "AND v.review_due_at <= :n", soci::use(from), soci::use(to), soci::use(now));
  for (const auto& r : rows) {
    ++k.updatesDue;
    int64_t due = rowInt(r, 0);
    if (r.get_indicator(1) != soci::i_null && rowInt(r, 1) <= due) ++k.updatesOnTime;
  }
  long long searches = 0, rated = 0, correct = 0;
  soci::indicator ci = soci::i_ok;
  s << "SELECT COUNT(*), COUNT(correct), SUM(correct) FROM kb_searches "
       "WHERE at_ms >= :f AND at_ms < :t",
      soci::use(from), soci::use(to), soci::into(searches), soci::into(rated),
      soci::into(correct, ci);
  k.searches = searches;
  k.searchesRated = rated;
  k.searchesCorrect = ci == soci::i_null ? 0 : correct;
  return k;
}

std::vector<std::vector<std::string>> KnowledgeStore::synonyms() const {
  std::shared_lock lock(impl_->mu);
  return impl_->analyzer->synonyms().groups();
}

Status KnowledgeStore::setSynonyms(const std::vector<std::vector<std::string>>& groups,
                                   const std::string& actor, int64_t now) {
  std::unique_lock lock(impl_->mu);
  auto old = std::move(impl_->analyzer);
  if (auto st = impl_->newAnalyzer(groups); !st.ok()) {
    impl_->analyzer = std::move(old);
    return st;
  }
  {
    std::lock_guard db(impl_->dbMu);
    soci::transaction tx(*impl_->session);
    *impl_->session << "DELETE FROM kb_synonyms";
    for (size_t i = 0; i < groups.size(); ++i) {
      int pos = static_cast<int>(i);
      std::string t = joinGroup(groups[i]);
      *impl_->session << "INSERT INTO kb_synonyms (position, terms) VALUES (:p, :t)",
          soci::use(pos), soci::use(t);
    }
    impl_->writeEvent({0, 0, "synonyms", actor, now, std::to_string(groups.size()) + " groups"});
    tx.commit();
  }
  impl_->stored = groups;
  impl_->rebuild();
  return {};
}

Result<size_t> KnowledgeStore::importPublished(const std::vector<ArticleInput>& inputs,
                                               const std::string& actor, int64_t now) {
  std::vector<ArticleInput> checked;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ArticleInput in = inputs[i];
    if (auto err = validateArticle(in); !err.empty()) {
      return Status::invalidArgument("article " + std::to_string(i + 1) + ": " + err);
    }
    checked.push_back(std::move(in));
  }
  std::unique_lock lock(impl_->mu);
  std::set<std::pair<std::string, std::string>> existing;
  for (const auto& [id, a] : impl_->articles) {
    if (a.status == "deleted") continue;
    existing.emplace(a.current.content.category, a.current.content.title);
  }
  std::vector<ArticleState> added;
  {
    std::lock_guard db(impl_->dbMu);
    auto& s = *impl_->session;
    soci::transaction tx(s);
    for (const auto& in : checked) {
      if (!existing.emplace(in.category, in.title).second) continue;
      ArticleState a;
      a.status = "published";
      a.current = {1, in, now, actor, "import"};
      a.published = a.current;
      a.publishedAtMs = now;
      a.createdAtMs = now;
      a.createdBy = actor;
      s << "INSERT INTO kb_articles (status, current_version, published_version, published_at, "
           "created_at, created_by, updated_at, updated_by) VALUES ('published', 1, 1, :p, :c, "
           ":cb, :u, :ub)",
          soci::use(now), soci::use(now), soci::use(actor), soci::use(now), soci::use(actor);
      long long id = lastInsertId(s, "kb_articles");
      a.id = id;
      impl_->writeVersion(a.id, a.current);
      impl_->writeEvent({a.id, 1, "import", actor, now, ""});
      added.push_back(std::move(a));
    }
    tx.commit();
  }
  for (auto& a : added) {
    impl_->indexArticle(a);
    impl_->articles[a.id] = std::move(a);
  }
  return added.size();
}

size_t KnowledgeStore::size() const {
  std::shared_lock lock(impl_->mu);
  return impl_->articles.size();
}

}  // namespace kefu::kb
