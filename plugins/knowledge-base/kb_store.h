// SPDX-License-Identifier: Apache-2.0
//
// KnowledgeStore: the knowledge base's articles, their versions and workflow, the search
// log and the KPIs, on the deployment's store, with in-memory search indexes that follow
// every change.
//
// Workflow: create -> draft; submit: draft -> review; publish (review only) makes the
// current version the served one; reject: review -> draft; revise makes a new draft
// version while the published one stays served; unpublish withdraws the served version;
// delete withdraws the article for good (its history stays). Agents and the bot see only
// servable articles: a published version whose effective date has come and whose expiry
// date has not.
//
// Threading: all public functions are safe to call concurrently (searches share a lock,
// changes take it exclusively).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "answer_search.h"
#include "kefu/status.h"
#include "kefu/store.h"

namespace kefu::kb {

// What an editor writes.
struct ArticleInput {
  std::string kind = "qa";      // product, procedure, branch, qa, other
  std::string category;         // "产品资料/重疾险"; segments separated by '/'
  std::string title;
  std::string body;
  std::vector<std::string> tags;
  int64_t effectiveAtMs = 0;    // 0: from publication
  int64_t expiresAtMs = 0;      // 0: never
  int64_t reviewDueAtMs = 0;    // when the next update is due (timeliness KPI); 0: none
};

struct ArticleVersion {
  int version = 0;
  ArticleInput content;
  int64_t changedAtMs = 0;
  std::string changedBy;
  std::string note;
};

struct ArticleState {
  int64_t id = 0;
  std::string status;  // draft, review, published, deleted
  ArticleVersion current;
  std::optional<ArticleVersion> published;  // the served version, if any
  int64_t createdAtMs = 0;
  std::string createdBy;
  int64_t publishedAtMs = 0;
};

// Who did what to an article, when.
struct ArticleEvent {
  int64_t articleId = 0;
  int version = 0;
  // create, revise, submit, publish, reject, unpublish, delete, import; "synonyms" (with
  // article 0) when the synonym dictionary was replaced.
  std::string action;
  std::string actor;
  int64_t atMs = 0;
  std::string note;
};

struct SearchFilter {
  std::string category;  // this path and below; "" all
  std::string kind;      // "" all
  // "": servable articles only (agents, bot). "draft", "review", "published" or "any":
  // the current versions of articles in that status (editors).
  std::string status;
  size_t limit = 10;
};

struct SearchHit {
  int64_t articleId = 0;
  int version = 0;
  double score = 0;
  std::string status;
  std::string kind;
  std::string category;
  std::string title;
  std::string snippet;
};

struct KbKpis {
  int64_t fromMs = 0, toMs = 0;
  // 知识库准时率: updates due in the period (due date passed) done by their due date.
  int64_t updatesDue = 0, updatesOnTime = 0;
  // 知识库准确率: searches in the period marked correct among those given feedback.
  int64_t searches = 0, searchesRated = 0, searchesCorrect = 0;
};

class KnowledgeStore {
 public:
  struct Options {
    AnswerSearchParams search;
    size_t snippetChars = 80;
  };

  // `weights` may be null; it must outlive the store.
  KnowledgeStore(std::unique_ptr<soci::session> session, const TermWeights* weights,
                 Options options);
  ~KnowledgeStore();

  static std::vector<Migration> migrations();

  // Reads articles and synonyms from the store and builds the indexes.
  Status load();

  Result<ArticleState> create(const ArticleInput& in, const std::string& actor, int64_t nowMs);
  // expectedVersion > 0 must equal the current version (FailedPrecondition otherwise).
  Result<ArticleState> revise(int64_t id, const ArticleInput& in, int expectedVersion,
                              const std::string& actor, int64_t nowMs, std::string note = {});
  // action: submit, publish, reject, unpublish, delete.
  Result<ArticleState> transition(int64_t id, const std::string& action,
                                  const std::string& actor, int64_t nowMs,
                                  std::string note = {});

  // Any article (editors); NotFound for an unknown id.
  Result<ArticleState> article(int64_t id) const;
  // The served version if servable at `nowMs`; NotFound otherwise.
  Result<ArticleState> servable(int64_t id, int64_t nowMs) const;
  Result<std::vector<ArticleVersion>> versions(int64_t id) const;
  Result<std::vector<ArticleEvent>> history(int64_t id) const;

  Result<std::vector<SearchHit>> search(const std::string& text, const SearchFilter& filter,
                                        int64_t nowMs) const;
  // Articles without a query, newest change first.
  std::vector<SearchHit> list(const SearchFilter& filter, int64_t nowMs) const;
  // Category path -> number of articles (servable ones when `servedOnly`).
  std::map<std::string, int64_t> categories(bool servedOnly, int64_t nowMs) const;

  // Records a search for the accuracy KPI; returns its id.
  Result<int64_t> logSearch(const std::string& actor, const std::string& text,
                            int64_t topArticle, int64_t nowMs);
  Status feedback(int64_t searchId, int64_t articleId, bool correct, const std::string& actor,
                  int64_t nowMs);
  Result<KbKpis> kpis(int64_t fromMs, int64_t toMs, int64_t nowMs) const;

  // The synonym groups, and replacing them all (re-indexes every article).
  std::vector<std::vector<std::string>> synonyms() const;
  Status setSynonyms(const std::vector<std::vector<std::string>>& groups,
                     const std::string& actor, int64_t nowMs);
  // Adds groups from configuration (not stored); call before load().
  Status addConfiguredSynonyms(std::string_view text, std::string_view source);

  // Adds articles as published in one transaction (`kefu kb import`), skipping any whose
  // category and title an existing article has. Returns how many were added.
  Result<size_t> importPublished(const std::vector<ArticleInput>& inputs,
                                 const std::string& actor, int64_t nowMs);

  size_t size() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Checks an editor's input; "" or the reason (naming the field).
std::string validateArticle(ArticleInput& in);

}  // namespace kefu::kb
