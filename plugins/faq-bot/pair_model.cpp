// SPDX-License-Identifier: Apache-2.0
#include "pair_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace kefu::faq {
namespace {

constexpr int kBins = 8;
constexpr int kDense = 22;
// Cross pairs of differing characters grow quadratically; long questions keep the first few.
constexpr size_t kMaxCrossSide = 10;

enum SparseKind : uint64_t {
  kSharedChar = 1,
  kDiffChar = 2,
  kSharedBigram = 3,
  kDiffBigram = 4,
  kCrossChar = 5,
  kBin = 6,
  kBinPair = 7,
  kCrossBigram = 8,
};

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t bigramKey(char32_t a, char32_t b) {
  return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b);
}

bool isCjkPunct(char32_t c) {
  return (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE30 && c <= 0xFE4F) ||
         (c >= 0x2000 && c <= 0x206F) || (c >= 0xFF00 && c <= 0xFFEF);
}

size_t lcsSubstring(const std::u32string& a, const std::u32string& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  size_t best = 0;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : 0;
      best = std::max(best, cur[j]);
    }
    std::swap(prev, cur);
  }
  return best;
}

size_t lcsSubsequence(const std::u32string& a, const std::u32string& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

size_t editDistance(const std::u32string& a, const std::u32string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  std::iota(prev.begin(), prev.end(), 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::vector<char32_t> charSet(const std::u32string& s) {
  std::vector<char32_t> v(s.begin(), s.end());
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<uint64_t> bigramSet(const std::u32string& s) {
  std::vector<uint64_t> v;
  for (size_t i = 0; i + 1 < s.size(); ++i) v.push_back(bigramKey(s[i], s[i + 1]));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<std::u32string> trigramSet(const std::u32string& s) {
  std::vector<std::u32string> v;
  for (size_t i = 0; i + 2 < s.size(); ++i) v.push_back(s.substr(i, 3));
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

template <class T>
void splitSets(const std::vector<T>& a, const std::vector<T>& b, std::vector<T>& shared,
               std::vector<T>& onlyA, std::vector<T>& onlyB) {
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(shared));
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(onlyA));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(onlyB));
}

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

double sigmoid(double z) {
  if (z < -35) return 0;
  if (z > 35) return 1;
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace

std::u32string normalizeQuestion(std::string_view text) {
  std::u32string out;
  size_t i = 0;
  while (i < text.size()) {
    auto c0 = static_cast<unsigned char>(text[i]);
    char32_t cp = 0;
    size_t len = 1;
    if (c0 < 0x80) {
      cp = c0;
    } else if ((c0 >> 5) == 0x6) {
      cp = c0 & 0x1F;
      len = 2;
    } else if ((c0 >> 4) == 0xE) {
      cp = c0 & 0x0F;
      len = 3;
    } else if ((c0 >> 3) == 0x1E) {
      cp = c0 & 0x07;
      len = 4;
    } else {
      ++i;  // a stray continuation byte: skip it
      continue;
    }
    if (i + len > text.size()) break;
    bool ok = true;
    for (size_t k = 1; k < len; ++k) {
      auto ck = static_cast<unsigned char>(text[i + k]);
      if ((ck >> 6) != 0x2) ok = false;
      cp = (cp << 6) | (ck & 0x3F);
    }
    i += ok ? len : 1;
    if (!ok) continue;
    if (cp >= 0xFF01 && cp <= 0xFF5E) cp -= 0xFEE0;  // full-width ASCII
    if (cp < 0x80) {
      if (cp >= 'A' && cp <= 'Z') cp = cp - 'A' + 'a';
      bool alnum = (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9');
      if (!alnum) continue;
    } else if (isCjkPunct(cp) || cp < 0x2E80) {
      // Latin-1 symbols, general punctuation, CJK punctuation: not content.
      if (!(cp >= 0xC0 && cp < 0x2000)) continue;
    }
    out.push_back(cp);
  }
  return out;
}

Status readPairFile(const std::filesystem::path& file, std::vector<LabelledPair>& out) {
  std::ifstream in(file);
  if (!in) return Status::notFound(file.string() + ": cannot open");
  std::string line;
  size_t lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto where = [&](const std::string& why) {
      return Status::invalidArgument(file.string() + ":" + std::to_string(lineNo) + ": " + why);
    };
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return where("not a JSON object");
    for (const char* key : {"q1", "q2"}) {
      if (!j.contains(key) || !j[key].is_string()) {
        return where(std::string("'") + key + "' must be a string");
      }
    }
    if (!j.contains("label")) return where("'label' is missing");
    int label = -1;
    const auto& l = j["label"];
    if (l.is_number_integer()) {
      label = l.get<int>();
    } else if (l.is_string()) {
      std::string s = l.get<std::string>();
      if (s == "0" || s == "1") label = s[0] - '0';
    }
    if (label != 0 && label != 1) return where("'label' must be 0 or 1");
    out.push_back({j["q1"].get<std::string>(), j["q2"].get<std::string>(), label});
  }
  if (in.bad()) return Status::unavailable(file.string() + ": read error");
  return {};
}

double PairModel::idf(char32_t c) const {
  auto it = charIdf_.find(c);
  return it == charIdf_.end() ? defaultIdf_ : it->second;
}

double PairModel::idf2(uint64_t bigram) const {
  auto it = bigramIdf_.find(bigram);
  return it == bigramIdf_.end() ? defaultIdf_ : it->second;
}

PairModel::Features PairModel::features(const std::u32string& a,
                                        const std::u32string& b) const {
  Features f;
  f.dense.resize(kDense, 0.0);
  auto ca = charSet(a), cb = charSet(b);
  std::vector<char32_t> cs, coa, cob;
  splitSets(ca, cb, cs, coa, cob);
  auto ba = bigramSet(a), bb = bigramSet(b);
  std::vector<uint64_t> bs, boa, bob;
  splitSets(ba, bb, bs, boa, bob);
  auto ta = trigramSet(a), tb = trigramSet(b);
  std::vector<std::u32string> ts, toa, tob;
  splitSets(ta, tb, ts, toa, tob);

  auto sumIdf = [&](const std::vector<char32_t>& v) {
    double s = 0;
    for (char32_t c : v) s += idf(c);
    return s;
  };
  auto sumIdf2 = [&](const std::vector<uint64_t>& v) {
    double s = 0;
    for (uint64_t k : v) s += idf2(k);
    return s;
  };
  double iS = sumIdf(cs), iA = sumIdf(ca), iB = sumIdf(cb);
  double iOa = sumIdf(coa), iOb = sumIdf(cob);
  double bS = sumIdf2(bs), bA = sumIdf2(ba), bB = sumIdf2(bb);
  double maxDiff = 0;
  for (char32_t c : coa) maxDiff = std::max(maxDiff, idf(c));
  for (char32_t c : cob) maxDiff = std::max(maxDiff, idf(c));
  const double la = static_cast<double>(a.size()), lb = static_cast<double>(b.size());
  const double lmin = std::min(la, lb), lmax = std::max(la, lb);
  const double lcsStr = static_cast<double>(lcsSubstring(a, b));
  const double lcsSeq = static_cast<double>(lcsSubsequence(a, b));
  const double edit = static_cast<double>(editDistance(a, b));

  auto& d = f.dense;
  d[0] = ratio(cs.size(), ca.size() + cb.size() - cs.size());
  d[1] = ratio(iS, iA + iB - iS);
  d[2] = ratio(iS, std::min(iA, iB));
  d[3] = ratio(iS, std::max(iA, iB));
  d[4] = ratio(bs.size(), ba.size() + bb.size() - bs.size());
  d[5] = ratio(bS, bA + bB - bS);
  d[6] = ratio(bS, std::min(bA, bB));
  d[7] = ratio(ts.size(), ta.size() + tb.size() - ts.size());
  d[8] = ratio(lcsStr, lmin);
  d[9] = ratio(lcsStr, lmax);
  d[10] = ratio(lcsSeq, lmin);
  d[11] = ratio(lcsSeq, lmax);
  d[12] = ratio(edit, lmax);
  d[13] = ratio(lmax - lmin, lmax);
  d[14] = std::log1p(lmin);
  d[15] = std::log1p(lmax);
  d[16] = std::log1p(iOa + iOb);
  d[17] = maxDiff;
  d[18] = std::log1p(static_cast<double>(coa.size() + cob.size()));
  d[19] = a == b ? 1.0 : 0.0;
  d[20] = std::log1p(std::max(iOa, iOb));
  d[21] = std::log1p(std::min(iOa, iOb));

  const uint64_t mask = (uint64_t{1} << hashBits_) - 1;
  auto add = [&](uint64_t kind, uint64_t value) {
    f.sparse.push_back(static_cast<uint32_t>(mix(mix(kind) ^ value) & mask));
  };
  for (char32_t c : cs) add(kSharedChar, c);
  for (char32_t c : coa) add(kDiffChar, c);
  for (char32_t c : cob) add(kDiffChar, c);
  for (uint64_t k : bs) add(kSharedBigram, k);
  for (uint64_t k : boa) add(kDiffBigram, k);
  for (uint64_t k : bob) add(kDiffBigram, k);
  for (size_t i = 0; i < coa.size() && i < kMaxCrossSide; ++i) {
    for (size_t j = 0; j < cob.size() && j < kMaxCrossSide; ++j) {
      char32_t x = std::min(coa[i], cob[j]), y = std::max(coa[i], cob[j]);
      add(kCrossChar, bigramKey(x, y));
    }
  }
  for (size_t i = 0; i < boa.size() && i < kMaxCrossSide; ++i) {
    for (size_t j = 0; j < bob.size() && j < kMaxCrossSide; ++j) {
      uint64_t x = std::min(boa[i], bob[j]), y = std::max(boa[i], bob[j]);
      add(kCrossBigram, mix(x) ^ y);
    }
  }
  // Binned dense values let a linear model bend each similarity; a few pairs of bins let it
  // combine overlap with how much differs.
  if (!binEdges_.empty()) {
    std::vector<int> bin(kDense);
    for (int k = 0; k < kDense; ++k) {
      const double* e = &binEdges_[static_cast<size_t>(k) * (kBins - 1)];
      bin[k] = static_cast<int>(std::upper_bound(e, e + kBins - 1, d[k]) - e);
      add(kBin, static_cast<uint64_t>(k * kBins + bin[k]));
    }
    const int pairsOf[][2] = {{1, 16}, {1, 13}, {5, 17}, {8, 16}, {2, 20}, {12, 14}};
    for (const auto& p : pairsOf) {
      add(kBinPair, static_cast<uint64_t>(((p[0] * kDense + p[1]) * kBins + bin[p[0]]) * kBins +
                                          bin[p[1]]));
    }
  }
  return f;
}

double PairModel::score(const Features& f) const {
  double z = bias_;
  for (size_t k = 0; k < f.dense.size(); ++k) {
    z += weights_[k] * (f.dense[k] - mean_[k]) / scale_[k];
  }
  for (uint32_t idx : f.sparse) z += weights_[kDense + idx];
  return sigmoid(z);
}

double PairModel::confidence(std::string_view a, std::string_view b) const {
  if (weights_.empty()) return 0.0;
  auto na = normalizeQuestion(a), nb = normalizeQuestion(b);
  if (na.empty() || nb.empty()) return 0.0;
  // Order the pair so that confidence(a, b) == confidence(b, a) bit for bit.
  if (nb < na) std::swap(na, nb);
  return score(features(na, nb));
}

PairModel PairModel::train(const std::vector<LabelledPair>& pairs, const TrainOptions& opt) {
  PairModel m;
  m.hashBits_ = opt.hashBits;
  std::vector<std::u32string> qa(pairs.size()), qb(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    qa[i] = normalizeQuestion(pairs[i].q1);
    qb[i] = normalizeQuestion(pairs[i].q2);
    if (qb[i] < qa[i]) std::swap(qa[i], qb[i]);
  }
  // Document frequencies over the distinct questions.
  std::unordered_set<std::u32string> seen;
  std::unordered_map<char32_t, int> cdf;
  std::unordered_map<uint64_t, int> bdf;
  for (const auto* side : {&qa, &qb}) {
    for (const auto& q : *side) {
      if (!seen.insert(q).second) continue;
      for (char32_t c : charSet(q)) ++cdf[c];
      for (uint64_t k : bigramSet(q)) ++bdf[k];
    }
  }
  const double n = static_cast<double>(std::max<size_t>(seen.size(), 1));
  m.defaultIdf_ = std::log(n + 1) + 1;
  for (const auto& [c, df] : cdf) {
    m.charIdf_[c] = static_cast<float>(std::log((n + 1) / (df + 1)) + 1);
  }
  for (const auto& [k, df] : bdf) {
    if (df >= 2) m.bigramIdf_[k] = static_cast<float>(std::log((n + 1) / (df + 1)) + 1);
  }

  // Dense statistics and bin edges need the features without bins first.
  std::vector<Features> feats(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) feats[i] = m.features(qa[i], qb[i]);
  m.mean_.assign(kDense, 0.0);
  m.scale_.assign(kDense, 1.0);
  m.binEdges_.clear();
  if (!pairs.empty()) {
    std::vector<double> col(pairs.size());
    for (int k = 0; k < kDense; ++k) {
      for (size_t i = 0; i < pairs.size(); ++i) col[i] = feats[i].dense[k];
      double mean = std::accumulate(col.begin(), col.end(), 0.0) / col.size();
      double var = 0;
      for (double v : col) var += (v - mean) * (v - mean);
      var /= col.size();
      m.mean_[k] = mean;
      m.scale_[k] = var > 1e-12 ? std::sqrt(var) : 1.0;
      std::sort(col.begin(), col.end());
      for (int e = 1; e < kBins; ++e) {
        m.binEdges_.push_back(col[std::min(col.size() - 1, col.size() * e / kBins)]);
      }
    }
    for (size_t i = 0; i < pairs.size(); ++i) feats[i] = m.features(qa[i], qb[i]);
  }

  // Each class weighs half of the total, whatever the mix of the training files.
  double pos = 0;
  for (const auto& p : pairs) pos += p.label;
  double neg = static_cast<double>(pairs.size()) - pos;
  const double wPos = pos > 0 ? 0.5 * pairs.size() / pos : 1.0;
  const double wNeg = neg > 0 ? 0.5 * pairs.size() / neg : 1.0;

  const size_t dim = kDense + (size_t{1} << opt.hashBits);
  m.weights_.assign(dim, 0.0f);
  std::vector<float> g2(dim, 0.0f);
  double biasG2 = 0;
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(opt.seed);
  const double eps = 1e-6;
  for (int epoch = 0; epoch < opt.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t i : order) {
      const Features& f = feats[i];
      double p = m.score(f);
      double w = pairs[i].label ? wPos : wNeg;
      double g = w * (p - pairs[i].label);
      biasG2 += g * g;
      m.bias_ -= opt.learningRate * g / (std::sqrt(biasG2) + eps);
      for (size_t k = 0; k < f.dense.size(); ++k) {
        double x = (f.dense[k] - m.mean_[k]) / m.scale_[k];
        double gk = g * x + opt.l2 * m.weights_[k];
        g2[k] += static_cast<float>(gk * gk);
        m.weights_[k] -= static_cast<float>(opt.learningRate * gk / (std::sqrt(g2[k]) + eps));
      }
      for (uint32_t idx : f.sparse) {
        size_t k = kDense + idx;
        double gk = g + opt.l2 * m.weights_[k];
        g2[k] += static_cast<float>(gk * gk);
        m.weights_[k] -= static_cast<float>(opt.learningRate * gk / (std::sqrt(g2[k]) + eps));
      }
    }
  }
  return m;
}

Status PairModel::save(const std::filesystem::path& file) const {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  auto tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::unavailable(tmp.string() + ": cannot write");
    out.precision(17);  // exact round trip: bin edges must compare the same
    out << "kefu-pair-model 1\n";
    out << "hash_bits " << hashBits_ << "\n";
    out << "threshold " << threshold_ << "\n";
    out << "default_idf " << defaultIdf_ << "\n";
    out << "bias " << bias_ << "\n";
    out << "dense " << kDense << "\n";
    for (int k = 0; k < kDense; ++k) out << mean_[k] << ' ' << scale_[k] << "\n";
    out << "bins " << binEdges_.size() << "\n";
    for (double e : binEdges_) out << e << "\n";
    out << "chars " << charIdf_.size() << "\n";
    for (const auto& [c, v] : charIdf_) out << static_cast<uint32_t>(c) << ' ' << v << "\n";
    out << "bigrams " << bigramIdf_.size() << "\n";
    for (const auto& [k, v] : bigramIdf_) out << k << ' ' << v << "\n";
    size_t nz = 0;
    for (float w : weights_) nz += w != 0.0f;
    out << "weights " << weights_.size() << ' ' << nz << "\n";
    for (size_t i = 0; i < weights_.size(); ++i) {
      if (weights_[i] != 0.0f) out << i << ' ' << weights_[i] << "\n";
    }
    out.flush();
    if (!out) return Status::unavailable(tmp.string() + ": write failed");
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Status::unavailable(file.string() + ": " + ec.message());
  return {};
}

Result<PairModel> PairModel::load(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Status::notFound(file.string() + ": no pair model (run `kefu kb train`)");
  PairModel m;
  std::string word;
  int version = 0;
  auto bad = [&](const std::string& why) {
    return Status::invalidArgument(file.string() + ": " + why);
  };
  if (!(in >> word >> version) || word != "kefu-pair-model" || version != 1) {
    return bad("not a kefu pair model of version 1");
  }
  auto expect = [&](const char* key) { return (in >> word) && word == key; };
  int dense = 0;
  if (!expect("hash_bits") || !(in >> m.hashBits_) || m.hashBits_ < 8 || m.hashBits_ > 26 ||
      !expect("threshold") || !(in >> m.threshold_) || !expect("default_idf") ||
      !(in >> m.defaultIdf_) || !expect("bias") || !(in >> m.bias_) || !expect("dense") ||
      !(in >> dense) || dense != kDense) {
    return bad("damaged header");
  }
  m.mean_.resize(kDense);
  m.scale_.resize(kDense);
  for (int k = 0; k < kDense; ++k) {
    if (!(in >> m.mean_[k] >> m.scale_[k]) || m.scale_[k] == 0) return bad("damaged dense");
  }
  size_t count = 0;
  if (!expect("bins") || !(in >> count) || (count != 0 && count != kDense * (kBins - 1))) {
    return bad("damaged bins");
  }
  m.binEdges_.resize(count);
  for (auto& e : m.binEdges_) {
    if (!(in >> e)) return bad("damaged bins");
  }
  if (!expect("chars") || !(in >> count)) return bad("damaged character table");
  for (size_t i = 0; i < count; ++i) {
    uint32_t c = 0;
    float v = 0;
    if (!(in >> c >> v)) return bad("damaged character table");
    m.charIdf_[static_cast<char32_t>(c)] = v;
  }
  if (!expect("bigrams") || !(in >> count)) return bad("damaged bigram table");
  for (size_t i = 0; i < count; ++i) {
    uint64_t k = 0;
    float v = 0;
    if (!(in >> k >> v)) return bad("damaged bigram table");
    m.bigramIdf_[k] = v;
  }
  size_t dim = 0, nz = 0;
  if (!expect("weights") || !(in >> dim >> nz) ||
      dim != kDense + (size_t{1} << m.hashBits_)) {
    return bad("damaged weights");
  }
  m.weights_.assign(dim, 0.0f);
  for (size_t i = 0; i < nz; ++i) {
    size_t idx = 0;
    float w = 0;
    if (!(in >> idx >> w) || idx >= dim) return bad("damaged weights");
    m.weights_[idx] = w;
  }
  return m;
}

double rocAuc(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return scores[x] < scores[y]; });
  // Mann-Whitney U with average ranks for ties.
  double rankSumPos = 0, pos = 0;
  size_t i = 0;
  while (i < idx.size()) {
    size_t j = i;
    while (j < idx.size() && scores[idx[j]] == scores[idx[i]]) ++j;
    double avgRank = (static_cast<double>(i) + static_cast<double>(j) + 1) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (labels[idx[k]]) {
        rankSumPos += avgRank;
        pos += 1;
      }
    }
    i = j;
  }
  double neg = static_cast<double>(scores.size()) - pos;
  if (pos == 0 || neg == 0) return 0.5;
  return (rankSumPos - pos * (pos + 1) / 2.0) / (pos * neg);
}

double accuracyAt(const std::vector<double>& scores, const std::vector<int>& labels,
                  double threshold) {
  if (scores.empty()) return 0;
  size_t right = 0;
  for (size_t i = 0; i < scores.size(); ++i) right += (scores[i] >= threshold) == (labels[i] == 1);
  return static_cast<double>(right) / static_cast<double>(scores.size());
}

double bestThreshold(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](size_t x, size_t y) { return scores[x] < scores[y]; });
  // Threshold below everything: all "same"; right = positives. Move it up one score at a time.
  double pos = 0;
  for (int l : labels) pos += l;
  double right = pos, best = right, bestT = idx.empty() ? 0.5 : scores[idx[0]];
  for (size_t i = 0; i < idx.size(); ++i) {
    right += labels[idx[i]] ? -1 : 1;
    if (i + 1 < idx.size() && scores[idx[i + 1]] == scores[idx[i]]) continue;
    if (right > best) {
      best = right;
      bestT = i + 1 < idx.size() ? (scores[idx[i]] + scores[idx[i + 1]]) / 2
                                 : scores[idx[i]] + 1e-9;
    }
  }
  return bestT;
}

std::vector<int> questionDisjointFolds(const std::vector<LabelledPair>& pairs, int k) {
  std::unordered_map<std::u32string, size_t> id;
  std::vector<size_t> parent;
  auto node = [&](const std::string& q) {
    auto [it, fresh] = id.emplace(normalizeQuestion(q), parent.size());
    if (fresh) parent.push_back(parent.size());
    return it->second;
  };
  std::function<size_t(size_t)> find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  std::vector<std::pair<size_t, size_t>> ends(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    size_t a = node(pairs[i].q1), b = node(pairs[i].q2);
    ends[i] = {a, b};
    parent[find(a)] = find(b);
  }
  std::map<size_t, std::vector<size_t>> components;
  for (size_t i = 0; i < pairs.size(); ++i) components[find(ends[i].first)].push_back(i);
  std::vector<const std::vector<size_t>*> bySize;
  for (const auto& [root, members] : components) bySize.push_back(&members);
  std::stable_sort(bySize.begin(), bySize.end(),
                   [](const auto* x, const auto* y) { return x->size() > y->size(); });
  std::vector<int> fold(pairs.size(), 0);
  std::vector<size_t> load(static_cast<size_t>(k), 0);
  for (const auto* members : bySize) {
    size_t f = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    for (size_t i : *members) fold[i] = static_cast<int>(f);
    load[f] += members->size();
  }
  return fold;
}

}  // namespace kefu::faq
