// SPDX-License-Identifier: Apache-2.0
#include "answer_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace kefu::kb {

namespace {

std::string stringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) throw std::runtime_error(std::string("'") + key + "' is not a string");
  return it->get<std::string>();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::min(i == 0 ? 0 : i - 1, v.size() - 1)];
}

std::vector<std::string> distinct(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

std::string readQaFile(const std::string& path, std::vector<QaRow>& out) {
  std::ifstream in(path);
  if (!in) return path + ": cannot open";
  std::string line;
  size_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (!j.is_object()) throw std::runtime_error("not a JSON object");
      QaRow row;
      auto qid = j.find("qid");
      if (qid == j.end() || !qid->is_number_integer()) {
        throw std::runtime_error("'qid' missing or not an integer");
      }
      row.qid = qid->get<int64_t>();
      row.question = stringField(j, "question");
      if (row.question.empty()) throw std::runtime_error("'question' missing or empty");
      row.detail = stringField(j, "question_detail");
      row.answer = stringField(j, "answer");
      auto best = j.find("is_best");
      if (best != j.end() && !best->is_null() && !best->is_boolean()) {
        throw std::runtime_error("'is_best' is not true or false");
      }
      row.best = best != j.end() && best->is_boolean() && best->get<bool>();
      out.push_back(std::move(row));
    } catch (const std::exception& e) {
      return path + ":" + std::to_string(lineNo) + ": " + e.what();
    }
  }
  if (in.bad()) return path + ": read error";
  return "";
}

void TermWeights::train(const std::vector<QaRow>& rows, const text::Analyzer& analyzer) {
  // For each question term: in how many pairs it occurs, and in how many of those the
  // answer has it too.
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>> seen;
  pairs_ = 0;
  for (const auto& r : rows) {
    if (r.answer.empty()) continue;
    ++pairs_;
    auto answer = distinct(analyzer.terms(r.answer));
    for (const auto& t : distinct(analyzer.terms(r.question + "\n" + r.detail))) {
      auto& [inQuestion, inBoth] = seen[t];
      ++inQuestion;
      if (std::binary_search(answer.begin(), answer.end(), t)) ++inBoth;
    }
  }
  weights_.clear();
  if (seen.empty()) return;
  double sum = 0;
  for (const auto& [t, c] : seen) sum += static_cast<double>(c.second) / c.first;
  const double mean = sum / static_cast<double>(seen.size());
  // A term seen in few questions is pulled toward the mean by this many pseudo-questions.
  constexpr double kSmoothing = 5;
  for (const auto& [t, c] : seen) {
    double p = (c.second + kSmoothing * mean) / (c.first + kSmoothing);
    weights_[t] = static_cast<float>(p / mean);
  }
}

std::string TermWeights::save(const std::string& path) const {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return tmp + ": cannot write";
    out << "# kefu answer-search term weights v1 pairs=" << pairs_ << "\n";
    std::map<std::string, float> sorted(weights_.begin(), weights_.end());
    for (const auto& [t, w] : sorted) out << t << '\t' << w << '\n';
    if (!out.flush()) return tmp + ": write error";
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return path + ": cannot replace";
  return "";
}

std::string TermWeights::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return path + ": cannot open";
  std::unordered_map<std::string, float> weights;
  size_t pairs = 0;
  std::string line;
  size_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (auto p = line.find("pairs="); p != std::string::npos) {
        pairs = std::strtoull(line.c_str() + p + 6, nullptr, 10);
      }
      continue;
    }
    size_t tab = line.find('\t');
    char* end = nullptr;
    float w = tab == std::string::npos ? 0 : std::strtof(line.c_str() + tab + 1, &end);
    if (tab == 0 || tab == std::string::npos || end == line.c_str() + tab + 1 || !(w > 0)) {
      return path + ":" + std::to_string(lineNo) + ": expected 'term<TAB>positive weight'";
    }
    weights[line.substr(0, tab)] = w;
  }
  weights_ = std::move(weights);
  pairs_ = pairs;
  return "";
}

void TermWeights::apply(std::vector<text::QueryTerm>& query, double strength) const {
  if (strength == 0 || weights_.empty()) return;
  for (auto& q : query) {
    auto it = weights_.find(q.term);
    if (it != weights_.end()) q.weight *= std::pow(static_cast<double>(it->second), strength);
  }
}

AnswerSearch::AnswerSearch(const text::Analyzer& analyzer, const TermWeights* weights,
                           AnswerSearchParams params)
    : analyzer_(analyzer),
      weights_(weights),
      params_(params),
      index_(text::Bm25Index::Params{params.k1, params.b}) {}

std::vector<std::string> AnswerSearch::documentTerms(std::string_view answer) const {
  auto terms = analyzer_.terms(answer);
  if (params_.leadRepeat > 0 && params_.leadChars > 0) {
    auto chars = text::decodeUtf8(answer);
    chars.resize(std::min(chars.size(), params_.leadChars));
    auto lead = analyzer_.terms(text::encodeUtf8(chars));
    for (size_t r = 0; r < params_.leadRepeat; ++r) {
      terms.insert(terms.end(), lead.begin(), lead.end());
    }
  }
  return terms;
}

std::vector<text::QueryTerm> AnswerSearch::queryTerms(std::string_view question) const {
  auto query = analyzer_.query(question);
  if (weights_ != nullptr) weights_->apply(query, params_.learnedWeight);
  return query;
}

void AnswerSearch::put(uint64_t id, std::string_view answer) {
  index_.put(id, documentTerms(answer));
}

std::vector<text::Bm25Index::Hit> AnswerSearch::search(
    std::string_view question, size_t k, const text::Bm25Index::Filter& filter) const {
  return index_.search(queryTerms(question), k, filter);
}

std::string evaluateAnswerSearch(const std::string& questionsPath,
                                 const std::vector<std::string>& poolPaths,
                                 const text::Analyzer& analyzer, const TermWeights* weights,
                                 const AnswerSearchParams& params, AnswerEvalResult& result) {
  result = {};
  std::vector<QaRow> questions, pool;
  if (auto err = readQaFile(questionsPath, questions); !err.empty()) return err;
  for (const auto& p : poolPaths) {
    if (auto err = readQaFile(p, pool); !err.empty()) return err;
  }
  if (pool.empty()) return "the pool files hold no answers";
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  AnswerSearch search(analyzer, weights, params);
  std::unordered_set<int64_t> poolQids;
  for (size_t i = 0; i < pool.size(); ++i) {
    search.put(i, pool[i].answer);
    poolQids.insert(pool[i].qid);
  }
  result.indexMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  result.poolAnswers = pool.size();
  // One query per qid: its question and the first non-empty detail.
  std::map<int64_t, std::pair<std::string, std::string>> groups;
  std::vector<int64_t> order;
  for (const auto& q : questions) {
    auto [it, fresh] = groups.emplace(q.qid, std::make_pair(q.question, q.detail));
    if (fresh) order.push_back(q.qid);
    if (it->second.second.empty()) it->second.second = q.detail;
  }
  std::vector<double> latency;
  double p1 = 0, mrr = 0;
  for (int64_t qid : order) {
    if (!poolQids.count(qid)) {
      ++result.withoutAnswer;
      continue;
    }
    const auto& [question, detail] = groups[qid];
    auto start = Clock::now();
    auto hits = search.search(question + "\n" + detail, 10);
    latency.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    for (size_t r = 0; r < hits.size(); ++r) {
      if (pool[hits[r].doc].qid == qid) {
        if (r == 0) p1 += 1;
        mrr += 1.0 / static_cast<double>(r + 1);
        break;
      }
    }
  }
  result.questions = latency.size();
  if (result.questions == 0) return "no question has an answer in the pool";
  result.precisionAt1 = p1 / static_cast<double>(result.questions);
  result.mrrAt10 = mrr / static_cast<double>(result.questions);
  result.latencyP50Ms = percentile(latency, 0.50);
  result.latencyP99Ms = percentile(latency, 0.99);
  return "";
}

}  // namespace kefu::kb
