// SPDX-License-Identifier: Apache-2.0
//
// KnowledgeBase: articles agents and the bot answer from (clause 8.4).
//
// The in-tree provider is the knowledge-base plugin; an insurer may provide its own engine
// under the same name. Consumers (the FAQ bot, an agent desktop) find it in start():
//
//   auto kb = ctx.services().find<kefu::KnowledgeBase>();
//   auto hits = kb->search({.text = "重疾险等待期", .category = "产品资料"});
//
// Only servable articles reach consumers: published, with the current time inside their
// effective and expiry dates. Drafts, articles in review, expired and deleted ones are
// never returned by search() or get().
//
// PairMatchTasks is how a question-pair matcher (the FAQ bot) joins `kefu kb train --pairs`
// and `kefu kb eval --task pair-match`, commands the knowledge-base plugin owns.
//
// Threading: all calls are safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kefu/cli.h"
#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

struct KnowledgeArticle {
  int64_t id = 0;
  int version = 0;         // the served (published) version
  std::string kind;        // "product", "procedure", "branch", "qa", ...
  std::string category;    // path in the category tree, "产品资料/重疾险"
  std::string title;
  std::string body;
  std::vector<std::string> tags;
  int64_t effectiveAtMs = 0;  // 0: since publication
  int64_t expiresAtMs = 0;    // 0: no expiry
  int64_t publishedAtMs = 0;
};

struct KnowledgeQuery {
  std::string text;
  // A category path; matches it and everything below it. Empty: all categories.
  std::string category;
  // Restricts to one kind ("qa" for the bot). Empty: all kinds.
  std::string kind;
  size_t limit = 10;
};

struct KnowledgeHit {
  int64_t articleId = 0;
  int version = 0;
  double score = 0;  // relevance, comparable only within one result
  std::string title;
  std::string category;
  std::string kind;
  std::string snippet;  // the start of the body
};

class KnowledgeBase {
 public:
  static constexpr const char* kInterfaceName = "kefu.KnowledgeBase/1";
  virtual ~KnowledgeBase() = default;
  // Servable articles ranked by relevance, best first. InvalidArgument for an empty text.
  virtual Result<std::vector<KnowledgeHit>> search(const KnowledgeQuery& query) = 0;
  // The served version of a servable article; NotFound otherwise.
  virtual Result<KnowledgeArticle> get(int64_t articleId) = 0;
};

// Provided by a question-pair matcher. The knowledge-base plugin declares the options of
// both commands (--pairs, --threshold, ...) and hands the parsed arguments over; the
// provider prints its figures and returns the exit code.
class PairMatchTasks {
 public:
  static constexpr const char* kInterfaceName = "kefu.PairMatchTasks/1";
  virtual ~PairMatchTasks() = default;
  // `kefu kb train --pairs FILE...`: learn from labelled pairs, store in the deployment.
  virtual int train(const CliArgs& args, CliIo& io) = 0;
  // `kefu kb eval --task pair-match --pairs FILE...`: last stdout line
  // "accuracy=<v> AUC=<v>".
  virtual int evalPairs(const CliArgs& args, CliIo& io) = 0;
};

KEFU_SDK_NAMESPACE_END
