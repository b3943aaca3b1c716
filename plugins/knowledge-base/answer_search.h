// SPDX-License-Identifier: Apache-2.0
//
// Answer search: ranking free-text answers for a customer's question, and its evaluation
// (`kefu kb eval --task answer-search`).
//
// BM25 over Chinese character unigrams and bigrams, with two additions that matter on real
// service data:
// - the lead of an answer (its first characters) counts extra, because a good reply usually
//   restates what was asked ("您好，攀岩是一种高风险运动……");
// - learned query-term weights (TermWeights): from question/answer pairs, how often a term of
//   a question reappears in its answer. Question words ("请问", "怎么") rarely do and weigh
//   less; product and risk names ("康惠保", "交强险") do and weigh more.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kefu_text.h"

namespace kefu::kb {

// One row of a question/answer JSON Lines file (qid, question, question_detail, answer,
// is_best).
struct QaRow {
  int64_t qid = 0;
  std::string question;
  std::string detail;
  std::string answer;
  bool best = false;
};

// Appends the rows of `path` to `out`. Returns "" or "<path>:<line>: <reason>"; a bad row
// stops the read (nothing is silently dropped).
std::string readQaFile(const std::string& path, std::vector<QaRow>& out);

class TermWeights {
 public:
  // Learns from rows with a non-empty answer; replaces what was learned before.
  void train(const std::vector<QaRow>& rows, const text::Analyzer& analyzer);
  // Text file: a '#' header line, then "term<TAB>weight" per line.
  std::string save(const std::string& path) const;
  std::string load(const std::string& path);

  // Multiplies each known query term's weight by its learned weight to the power
  // `strength` (0: unchanged). Unknown terms keep theirs (the mean weight is 1).
  void apply(std::vector<text::QueryTerm>& query, double strength) const;
  bool empty() const { return weights_.empty(); }
  size_t size() const { return weights_.size(); }
  size_t trainedPairs() const { return pairs_; }

 private:
  // Smoothed P(term in answer | term in question) divided by its mean over terms.
  std::unordered_map<std::string, float> weights_;
  size_t pairs_ = 0;
};

struct AnswerSearchParams {
  double k1 = 1.2;
  double b = 0.75;
  size_t leadChars = 40;    // how many leading characters of an answer form its lead
  size_t leadRepeat = 2;    // how many extra times the lead's terms count
  double learnedWeight = 0.3;  // exponent applied to learned term weights

  // Plain character uni+bigram BM25: the baseline the product is measured against.
  static AnswerSearchParams baseline() {
    AnswerSearchParams p;
    p.leadRepeat = 0;
    p.learnedWeight = 0;
    return p;
  }
};

class AnswerSearch {
 public:
  // `weights` may be null (nothing learned); it must outlive the search.
  AnswerSearch(const text::Analyzer& analyzer, const TermWeights* weights,
               AnswerSearchParams params);
  // Adds or replaces an answer.
  void put(uint64_t id, std::string_view answer);
  bool remove(uint64_t id) { return index_.remove(id); }
  std::vector<text::Bm25Index::Hit> search(std::string_view question, size_t k,
                                           const text::Bm25Index::Filter& filter = {}) const;
  // The terms an answer is indexed under (body plus repeated lead).
  std::vector<std::string> documentTerms(std::string_view answer) const;
  std::vector<text::QueryTerm> queryTerms(std::string_view question) const;
  size_t size() const { return index_.size(); }

 private:
  const text::Analyzer& analyzer_;
  const TermWeights* weights_;
  AnswerSearchParams params_;
  text::Bm25Index index_;
};

struct AnswerEvalResult {
  size_t questions = 0;       // question groups scored
  size_t withoutAnswer = 0;   // groups whose qid has no answer in the pool (left out)
  size_t poolAnswers = 0;
  double precisionAt1 = 0;
  double mrrAt10 = 0;
  double latencyP50Ms = 0;
  double latencyP99Ms = 0;
  double indexMs = 0;
};

// Scores a search built over the answers of `poolPaths` with the questions of
// `questionsPath` (grouped by qid; query = question + question_detail; a hit is an answer
// of the same qid). Returns "" or the reason it could not run.
std::string evaluateAnswerSearch(const std::string& questionsPath,
                                 const std::vector<std::string>& poolPaths,
                                 const text::Analyzer& analyzer, const TermWeights* weights,
                                 const AnswerSearchParams& params, AnswerEvalResult& result);

}  // namespace kefu::kb
