// SPDX-License-Identifier: Apache-2.0
//
// kefu_text: Chinese and English text for search, shared by the knowledge base and the FAQ
// bot.
//
//   kefu::text::Analyzer an;                        // normalise + synonyms + tokenise
//   an.synonyms().parse("重疾 = 重大疾病\n", "synonyms.txt");
//   kefu::text::Bm25Index index;
//   index.put(42, an.terms("重疾险怎么理赔？"));   // add or replace document 42
//   auto hits = index.search(an.query("重大疾病 理赔"), 10);
//
// Normalisation folds full-width forms to half-width, upper to lower case, common
// traditional characters to simplified ones and every punctuation or space run to one
// space. Tokens are single Chinese characters and adjacent pairs of them (no dictionary
// needed, robust to unknown words), plus runs of ASCII letters and runs of digits.
//
// Threading: an Analyzer is read-only after set-up and safe to share; a Bm25Index allows
// concurrent search() calls but put()/remove() need exclusive access (callers hold a lock).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kefu::text {

// Decodes UTF-8; an invalid or truncated sequence becomes U+FFFD, never an exception.
std::u32string decodeUtf8(std::string_view s);
std::string encodeUtf8(std::u32string_view s);

// True for CJK unified ideographs (basic, extension A and B, compatibility).
bool isHan(char32_t c);

// Width, case, traditional->simplified and punctuation/space folding (see above).
std::u32string normalize(std::u32string_view s);
std::string normalizeUtf8(std::string_view s);

// Editable synonym groups. Each group is rewritten to its first term before tokenising,
// at index and query time alike, so "重疾" in a query finds "重大疾病" in an article.
class SynonymDictionary {
 public:
  // Adds one group (terms are normalised; fewer than two distinct terms are ignored).
  // Returns "" or the reason the group was refused (a term already in another group).
  std::string add(const std::vector<std::string>& terms);
  // Reads lines "重疾 = 重大疾病 = 重大疾病保险"; '#' starts a comment. Returns "" or
  // "<source>:<line>: <reason>" for the first bad line (earlier lines stay added).
  std::string parse(std::string_view text, std::string_view source);
  // Longest-match rewriting of normalised text.
  std::u32string apply(std::u32string_view normalized) const;
  // The groups as added (canonical term first), for listing and saving.
  const std::vector<std::vector<std::string>>& groups() const { return groups_; }
  bool empty() const { return groups_.empty(); }

 private:
  std::vector<std::vector<std::string>> groups_;
  // First code point -> variants starting with it (longest first) and their canonical form.
  std::unordered_map<char32_t, std::vector<std::pair<std::u32string, std::u32string>>> byFirst_;
};

struct TokenizeOptions {
  bool unigrams = true;  // single Chinese characters
  bool bigrams = true;   // adjacent pairs of Chinese characters
};

// Tokens of already normalised text, in order (a character's unigram before its bigram).
std::vector<std::string> tokenizeNormalized(std::u32string_view normalized,
                                            const TokenizeOptions& options = {});

// A term of a query with its weight (1 for typed terms; learned expansions weigh less).
struct QueryTerm {
  std::string term;
  double weight = 1.0;
};

class Analyzer {
 public:
  Analyzer() = default;
  explicit Analyzer(TokenizeOptions options) : options_(options) {}
  SynonymDictionary& synonyms() { return synonyms_; }
  const SynonymDictionary& synonyms() const { return synonyms_; }
  const TokenizeOptions& options() const { return options_; }

  // normalize -> synonyms -> tokenize.
  std::vector<std::string> terms(std::string_view utf8) const;
  // terms() with repeats merged into weights (a term typed twice weighs 2).
  std::vector<QueryTerm> query(std::string_view utf8) const;

 private:
  TokenizeOptions options_;
  SynonymDictionary synonyms_;
};

// An in-memory inverted index ranked by Okapi BM25. Document ids are the caller's.
class Bm25Index {
 public:
  struct Params {
    double k1 = 1.2;
    double b = 0.75;
  };
  struct Hit {
    uint64_t doc = 0;
    double score = 0;
  };
  // Returns false to leave a document out of the result (category or status filters).
  using Filter = std::function<bool(uint64_t doc)>;

  Bm25Index() = default;
  explicit Bm25Index(Params p) : params_(p) {}

  // Adds `doc`, replacing an earlier version of it.
  void put(uint64_t doc, const std::vector<std::string>& terms);
  // Removes `doc`; returns false when it was not indexed.
  bool remove(uint64_t doc);
  bool contains(uint64_t doc) const { return slotOf_.count(doc) != 0; }
  void clear();

  // The best `k` documents, highest score first (ties by smaller id). Terms the index has
  // never seen are ignored.
  std::vector<Hit> search(const std::vector<QueryTerm>& query, size_t k,
                          const Filter& filter = {}) const;

  size_t size() const { return slotOf_.size(); }
  size_t vocabularySize() const { return termIds_.size(); }
  // How many indexed documents contain `term` (0 when unknown).
  uint32_t documentFrequency(std::string_view term) const;
  const Params& params() const { return params_; }
  void setParams(Params p) { params_ = p; }

 private:
  struct Posting {
    uint32_t slot;
    uint32_t tf;
  };
  struct Slot {
    uint64_t doc = 0;
    uint32_t length = 0;
    bool used = false;
    std::vector<uint32_t> terms;  // distinct term ids, for removal
  };
  Params params_;
  std::unordered_map<std::string, uint32_t> termIds_;
  std::vector<std::vector<Posting>> postings_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> freeSlots_;
  std::unordered_map<uint64_t, uint32_t> slotOf_;
  uint64_t totalLength_ = 0;
};

}  // namespace kefu::text
