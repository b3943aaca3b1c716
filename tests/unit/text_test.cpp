// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "kefu_text.h"

using namespace kefu::text;

TEST_CASE("text: normalisation folds width case punctuation and traditional forms") {
  CHECK(normalizeUtf8("ＡＢＣ１２３") == "abc123");
  CHECK(normalizeUtf8("車險　理賠？？") == "车险 理赔");
  CHECK(normalizeUtf8("  Hello,  World! ") == "hello world");
  CHECK(normalizeUtf8("保险——理赔…") == "保险 理赔");
}

TEST_CASE("text: invalid UTF-8 becomes replacement characters and separators") {
  std::string bad = "保\xff险\xe4";
  CHECK(decodeUtf8(bad).size() == 4);
  CHECK(normalizeUtf8(bad) == "保 险");
}

TEST_CASE("text: tokens are Chinese unigrams and bigrams plus ASCII words and digits") {
  auto t = tokenizeNormalized(normalize(decodeUtf8("重疾险abc2020年")));
  std::vector<std::string> want = {"重", "重疾", "疾", "疾险", "险", "abc", "2020", "年"};
  CHECK(t == want);
}

TEST_CASE("text: synonyms rewrite variants to the first term longest match first") {
  SynonymDictionary d;
  CHECK(d.parse("# comment\n重大疾病 = 重疾\n机动车辆保险 = 车险 = 汽车保险\n", "syn.txt").empty());
  CHECK(encodeUtf8(d.apply(normalize(decodeUtf8("重疾险")))) == "重大疾病险");
  CHECK(encodeUtf8(d.apply(normalize(decodeUtf8("重大疾病")))) == "重大疾病");
  CHECK(encodeUtf8(d.apply(normalize(decodeUtf8("汽车保险和车险")))) ==
        "机动车辆保险和机动车辆保险");
  auto err = d.parse("a = b\n\n车险 = 车子保险\n", "syn.txt");
  CHECK(err.find("syn.txt:3:") == 0);
  CHECK(d.parse("lonely\n", "x.txt") == "x.txt:1: a group needs at least two terms "
                                          "separated by '='");
}

TEST_CASE("text: BM25 ranks put replace and remove documents") {
  Analyzer an;
  an.synonyms().add({"重大疾病", "重疾"});
  Bm25Index idx;
  idx.put(1, an.terms("重大疾病保险的等待期是多久"));
  idx.put(2, an.terms("机动车辆保险理赔需要哪些材料"));
  idx.put(3, an.terms("意外伤害保险的保障范围"));
  auto hits = idx.search(an.query("重疾等待期"), 3);
  REQUIRE(!hits.empty());
  CHECK(hits[0].doc == 1);
  hits = idx.search(an.query("理赔材料"), 3);
  REQUIRE(!hits.empty());
  CHECK(hits[0].doc == 2);
  idx.put(2, an.terms("退保手续"));
  CHECK(idx.size() == 3);
  hits = idx.search(an.query("理赔材料"), 3);
  CHECK((hits.empty() || hits[0].doc != 2));
  CHECK(idx.remove(1));
  CHECK_FALSE(idx.remove(1));
  CHECK(idx.search(an.query("重疾等待期"), 3).empty());
  hits = idx.search(an.query("保险"), 3, [](uint64_t d) { return d != 3; });
  for (const auto& h : hits) CHECK(h.doc != 3);
}
