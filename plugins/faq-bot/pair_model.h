// SPDX-License-Identifier: Apache-2.0
//
// PairModel: a learned same-intent scorer for two short customer questions.
//
// Each pair becomes a feature vector: dense similarities (character and bigram overlaps,
// weighted by inverse document frequency, longest common substring and subsequence, edit
// distance, length differences) each also cut into bins, plus sparse hashed features that
// let training learn which characters and bigrams matter: the ones both questions share,
// the ones only one of them has, and pairs of differing characters (one from each side,
// "额度" against "利息"). A logistic regression over them, trained with AdaGrad, gives the
// confidence. Every feature is symmetric, so confidence(a, b) == confidence(b, a).
//
// Training balances the classes (each class weighs half) so that a threshold near 0.5 suits
// a balanced set; `train` also picks the threshold that maximises accuracy on question-
// disjoint out-of-fold scores.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "kefu/status.h"

namespace kefu::faq {

struct LabelledPair {
  std::string q1, q2;
  int label = 0;  // 1 same intent, 0 different
};

// Reads JSON Lines with q1, q2 and label (0/1) and appends to `out`. A bad line is an
// InvalidArgument naming the file and line.
Status readPairFile(const std::filesystem::path& file, std::vector<LabelledPair>& out);

// Lower-case, half-width, without spaces and punctuation, as code points.
std::u32string normalizeQuestion(std::string_view text);

// Chosen by question-disjoint cross-validation on the BQ dev pairs (bench/kb-pair-match):
// a small step over several passes generalises better than a large one.
struct TrainOptions {
  int epochs = 10;
  double learningRate = 0.01;
  double l2 = 1e-5;
  int hashBits = 20;
  uint64_t seed = 7;
};

class PairModel {
 public:
  // Learns IDF tables and weights from `pairs`.
  static PairModel train(const std::vector<LabelledPair>& pairs, const TrainOptions& opt = {});

  // Confidence in [0, 1] that the two questions have the same intent.
  double confidence(std::string_view a, std::string_view b) const;
  double threshold() const { return threshold_; }
  void setThreshold(double t) { threshold_ = t; }
  bool empty() const { return weights_.empty(); }

  // A line-oriented text file ("kefu-pair-model 1" header) written atomically.
  Status save(const std::filesystem::path& file) const;
  static Result<PairModel> load(const std::filesystem::path& file);

  // Features of one pair: dense values, then sparse hashed indices (value 1).
  struct Features {
    std::vector<double> dense;
    std::vector<uint32_t> sparse;
  };
  Features features(const std::u32string& a, const std::u32string& b) const;

 private:
  double score(const Features& f) const;
  double idf(char32_t c) const;
  double idf2(uint64_t bigram) const;

  int hashBits_ = 20;
  double threshold_ = 0.5;
  double defaultIdf_ = 1.0;
  std::unordered_map<char32_t, float> charIdf_;
  std::unordered_map<uint64_t, float> bigramIdf_;
  // Standardisation of the dense features, learned on the training pairs.
  std::vector<double> mean_, scale_;
  std::vector<double> binEdges_;  // per dense feature, kBins-1 quantile edges, flattened
  std::vector<float> weights_;    // dense, then the hashed space
  double bias_ = 0;
};

// Scores for evaluation: ROC AUC (ties count half) and accuracy at `threshold`.
double rocAuc(const std::vector<double>& scores, const std::vector<int>& labels);
double accuracyAt(const std::vector<double>& scores, const std::vector<int>& labels,
                  double threshold);
// The threshold with the best accuracy on these scores (midpoint between neighbours).
double bestThreshold(const std::vector<double>& scores, const std::vector<int>& labels);

// Assigns each pair to one of `k` folds so that no normalised question is in two folds
// (connected components of the question graph, spread by size).
std::vector<int> questionDisjointFolds(const std::vector<LabelledPair>& pairs, int k);

}  // namespace kefu::faq
