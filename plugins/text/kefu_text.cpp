// SPDX-License-Identifier: Apache-2.0
#include "kefu_text.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace kefu::text {

namespace {

// Traditional -> simplified for characters common in insurance and service text. Pairs of
// code points, traditional first. A full conversion needs phrase tables; this covers the
// one-to-one cases a customer typing in Hong Kong or Taiwan style most often hits.
constexpr std::u32string_view kTradSimp =
    U"險险車车賠赔償偿療疗醫医壽寿災灾傷伤殘残額额費费單单號号戶户銀银電电話话證证"
    U"業业務务種种類类產产資资財财關关係系與与門门開开無无見见長长東东馬马鳥鸟魚鱼"
    U"這这們们個个來来說说為为國国會会學学對对時时過过於于還还後后從从發发問问題题"
    U"經经歷历辦办處处報报據据理理診诊斷断險险約约續续繳缴費费換换權权責责義义條条"
    U"款款貸贷幣币價价錢钱帳账賬账險险療疗補补貼贴險险齡龄歲岁職职員员聯联絡络線线"
    U"網网頁页碼码價价單单據据確确認认辦办請请問问嗎吗麼么氣气實实際际險险準准"
    U"條条規规則则"
    U"車车輛辆駕驾駛驶機机動动險险險险團团體体齊齐書书紙纸億亿萬万幾几兩两區区縣县"
    U"鄉乡鎮镇門门診诊藥药護护邊边達达選选讓让應应該该當当從从將将專专業业導导師师"
    U"觀观點点頭头電电視视聽听說说讀读寫写記记錄录簽签訂订購购買买賣卖貨货運运輸输"
    U"險险舊旧親亲愛爱歡欢樂乐難难題题錯错誤误顧顾客客戶户狀状態态處处理理歸归屬属"
    U"總总體体計计劃划項项標标準准設设備备變变動动轉转異异議议決决響响應应節节約约";

std::unordered_map<char32_t, char32_t> buildTradSimp() {
  std::unordered_map<char32_t, char32_t> m;
  for (size_t i = 0; i + 1 < kTradSimp.size(); i += 2) {
    char32_t t = kTradSimp[i], s = kTradSimp[i + 1];
    if (t != s) m.emplace(t, s);
  }
  return m;
}

const std::unordered_map<char32_t, char32_t>& tradSimp() {
  static const auto m = buildTradSimp();
  return m;
}

bool isAsciiAlnum(char32_t c) {
  return (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z') || (c >= U'0' && c <= U'9');
}

// Punctuation, symbols and spaces that separate words: ASCII ones, general punctuation,
// CJK symbols, full-width forms left after folding, and the replacement character.
bool isSeparator(char32_t c) {
  if (c < 0x80) return !isAsciiAlnum(c);
  if (c >= 0x80 && c <= 0xBF) return true;          // Latin-1 punctuation and NBSP
  if (c >= 0x2000 && c <= 0x2BFF) return true;      // general punctuation .. arrows, shapes
  if (c >= 0x3000 && c <= 0x303F) return true;      // CJK symbols and punctuation
  if (c >= 0xFE10 && c <= 0xFE6F) return true;      // vertical and small forms
  if (c >= 0xFF00 && c <= 0xFFEF) return true;      // half/full-width leftovers
  if (c == 0xFFFD) return true;
  return false;
}

void appendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::u32string decodeUtf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int extra = 0;
    char32_t c = 0;
    if (b < 0x80) {
      c = b;
    } else if ((b & 0xE0) == 0xC0 && b >= 0xC2) {
      extra = 1, c = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, c = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0 && b <= 0xF4) {
      extra = 3, c = b & 0x07;
    } else {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    bool ok = true;
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= s.size() || (static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && ((extra == 2 && c < 0x800) || (extra == 3 && (c < 0x10000 || c > 0x10FFFF)) ||
               (c >= 0xD800 && c <= 0xDFFF))) {
      ok = false;
    }
    if (!ok) {
      out += U'\uFFFD';
      ++i;
      continue;
    }
    out += c;
    i += extra + 1;
  }
  return out;
}

std::string encodeUtf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char32_t c : s) appendUtf8(out, c);
  return out;
}

bool isHan(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2A6DF);
}

std::u32string normalize(std::u32string_view s) {
  const auto& ts = tradSimp();
  std::u32string out;
  out.reserve(s.size());
  bool pendingSpace = false;
  for (char32_t c : s) {
    if (c >= 0xFF01 && c <= 0xFF5E) c -= 0xFEE0;  // full-width ASCII
    if (c >= U'A' && c <= U'Z') c += 32;
    if (isSeparator(c)) {
      pendingSpace = !out.empty();
      continue;
    }
    if (c >= 0x4E00) {
      auto it = ts.find(c);
      if (it != ts.end()) c = it->second;
    }
    if (pendingSpace) out += U' ';
    pendingSpace = false;
    out += c;
  }
  return out;
}

std::string normalizeUtf8(std::string_view s) { return encodeUtf8(normalize(decodeUtf8(s))); }

std::string SynonymDictionary::add(const std::vector<std::string>& terms) {
  std::vector<std::u32string> norm;
  for (const auto& t : terms) {
    auto n = normalize(decodeUtf8(t));
    if (n.empty() || std::find(norm.begin(), norm.end(), n) != norm.end()) continue;
    norm.push_back(std::move(n));
  }
  if (norm.size() < 2) return "";
  for (const auto& n : norm) {
    auto it = byFirst_.find(n[0]);
    if (it == byFirst_.end()) continue;
    for (const auto& [variant, canonical] : it->second) {
      if (variant == n || canonical == n) {
        return "'" + encodeUtf8(n) + "' is already in the group of '" + encodeUtf8(canonical) +
               "'";
      }
    }
  }
  std::vector<std::string> group;
  for (const auto& n : norm) group.push_back(encodeUtf8(n));
  groups_.push_back(group);
  for (size_t i = 1; i < norm.size(); ++i) {
    auto& list = byFirst_[norm[i][0]];
    list.emplace_back(norm[i], norm[0]);
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.first.size() > b.first.size();
    });
  }
  // The canonical term is registered as mapping to itself so that a longer canonical term
  // wins over a shorter variant inside it (重大疾病 must not be rewritten through 重疾).
  auto& list = byFirst_[norm[0][0]];
  list.emplace_back(norm[0], norm[0]);
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return a.first.size() > b.first.size();
  });
  return "";
}

std::string SynonymDictionary::parse(std::string_view text, std::string_view source) {
  size_t lineNo = 0, pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineNo;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    if (trim(line).empty()) continue;
    std::vector<std::string> terms;
    size_t start = 0;
    while (true) {
      size_t eq = line.find('=', start);
      std::string t = trim(line.substr(start, eq == std::string_view::npos ? line.npos
                                                                          : eq - start));
      if (t.empty()) {
        return std::string(source) + ":" + std::to_string(lineNo) +
               ": empty term (expected 'term = synonym = ...')";
      }
      terms.push_back(t);
      if (eq == std::string_view::npos) break;
      start = eq + 1;
    }
    if (terms.size() < 2) {
      return std::string(source) + ":" + std::to_string(lineNo) +
             ": a group needs at least two terms separated by '='";
    }
    if (auto err = add(terms); !err.empty()) {
      return std::string(source) + ":" + std::to_string(lineNo) + ": " + err;
    }
  }
  return "";
}

std::u32string SynonymDictionary::apply(std::u32string_view s) const {
  if (byFirst_.empty()) return std::u32string(s);
  std::u32string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    auto it = byFirst_.find(s[i]);
    bool matched = false;
    if (it != byFirst_.end()) {
      for (const auto& [variant, canonical] : it->second) {
        if (s.compare(i, variant.size(), variant) == 0) {
          out += canonical;
          i += variant.size();
          matched = true;
          break;
        }
      }
    }
    if (!matched) out += s[i++];
  }
  return out;
}

std::vector<std::string> tokenizeNormalized(std::u32string_view s,
                                            const TokenizeOptions& options) {
  std::vector<std::string> out;
  out.reserve(s.size() * 2);
  size_t i = 0;
  while (i < s.size()) {
    char32_t c = s[i];
    if (c == U' ') {
      ++i;
    } else if (isHan(c)) {
      if (options.unigrams) {
        std::string u;
        appendUtf8(u, c);
        out.push_back(std::move(u));
      }
      if (options.bigrams && i + 1 < s.size() && isHan(s[i + 1])) {
        std::string b;
        appendUtf8(b, c);
        appendUtf8(b, s[i + 1]);
        out.push_back(std::move(b));
      }
      ++i;
    } else {
      // A run of letters (any script but Han) or a run of digits.
      bool digit = c >= U'0' && c <= U'9';
      size_t j = i;
      while (j < s.size() && s[j] != U' ' && !isHan(s[j]) &&
             ((s[j] >= U'0' && s[j] <= U'9') == digit)) {
        ++j;
      }
      out.push_back(encodeUtf8(s.substr(i, j - i)));
      i = j;
    }
  }
  return out;
}

std::vector<std::string> Analyzer::terms(std::string_view utf8) const {
  return tokenizeNormalized(synonyms_.apply(normalize(decodeUtf8(utf8))), options_);
}

std::vector<QueryTerm> Analyzer::query(std::string_view utf8) const {
  std::vector<QueryTerm> out;
  std::unordered_map<std::string, size_t> at;
  for (auto& t : terms(utf8)) {
    auto [it, fresh] = at.emplace(t, out.size());
    if (fresh) {
      out.push_back({std::move(t), 1.0});
    } else {
      out[it->second].weight += 1.0;
    }
  }
  return out;
}

void Bm25Index::put(uint64_t doc, const std::vector<std::string>& terms) {
  remove(doc);
  uint32_t slot;
  if (!freeSlots_.empty()) {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  std::unordered_map<uint32_t, uint32_t> tf;
  for (const auto& t : terms) {
    auto [it, fresh] = termIds_.emplace(t, static_cast<uint32_t>(postings_.size()));
    if (fresh) postings_.emplace_back();
    ++tf[it->second];
  }
  Slot& s = slots_[slot];
  s.doc = doc;
  s.length = static_cast<uint32_t>(terms.size());
  s.used = true;
  s.terms.clear();
  for (const auto& [term, n] : tf) {
    postings_[term].push_back({slot, n});
    s.terms.push_back(term);
  }
  totalLength_ += s.length;
  slotOf_[doc] = slot;
}

bool Bm25Index::remove(uint64_t doc) {
  auto it = slotOf_.find(doc);
  if (it == slotOf_.end()) return false;
  uint32_t slot = it->second;
  Slot& s = slots_[slot];
  for (uint32_t term : s.terms) {
    auto& list = postings_[term];
    list.erase(std::remove_if(list.begin(), list.end(),
                              [slot](const Posting& p) { return p.slot == slot; }),
               list.end());
  }
  totalLength_ -= s.length;
  s = Slot{};
  freeSlots_.push_back(slot);
  slotOf_.erase(it);
  return true;
}

void Bm25Index::clear() { *this = Bm25Index(params_); }

uint32_t Bm25Index::documentFrequency(std::string_view term) const {
  auto it = termIds_.find(std::string(term));
  return it == termIds_.end() ? 0 : static_cast<uint32_t>(postings_[it->second].size());
}

std::vector<Bm25Index::Hit> Bm25Index::search(const std::vector<QueryTerm>& query, size_t k,
                                              const Filter& filter) const {
  std::vector<Hit> hits;
  if (slotOf_.empty() || k == 0) return hits;
  const double n = static_cast<double>(slotOf_.size());
  const double avgLen = std::max(1.0, static_cast<double>(totalLength_) / n);
  const double k1 = params_.k1, b = params_.b;
  std::vector<float> score(slots_.size(), 0.0f);
  std::vector<uint32_t> touched;
  for (const auto& q : query) {
    auto it = termIds_.find(q.term);
    if (it == termIds_.end()) continue;
    const auto& list = postings_[it->second];
    if (list.empty()) continue;
    double df = static_cast<double>(list.size());
    double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
    double w = idf * q.weight;
    for (const Posting& p : list) {
      double len = slots_[p.slot].length;
      double tf = p.tf;
      double part = w * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avgLen));
      if (score[p.slot] == 0.0f) touched.push_back(p.slot);
      score[p.slot] += static_cast<float>(part);
    }
  }
  hits.reserve(touched.size());
  for (uint32_t slot : touched) {
    uint64_t doc = slots_[slot].doc;
    if (score[slot] <= 0.0f) continue;
    if (filter && !filter(doc)) continue;
    hits.push_back({doc, score[slot]});
  }
  auto better = [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.doc < b.doc;
  };
  if (hits.size() > k) {
    std::partial_sort(hits.begin(), hits.begin() + static_cast<long>(k), hits.end(), better);
    hits.resize(k);
  } else {
    std::sort(hits.begin(), hits.end(), better);
  }
  return hits;
}

}  // namespace kefu::text
