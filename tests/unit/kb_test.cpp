// SPDX-License-Identifier: Apache-2.0
//
// Knowledge base: articles, versions and workflow on a real SQLite store; search ranking on
// a small hand-made Chinese set; the answer-search evaluation on small fixtures.
#include <catch2/catch.hpp>

#include <soci/soci.h>

#include "answer_search.h"
#include "kb_store.h"
#include "kefu/core/store_impl.h"
#include "test_support.h"

using kefu::kb::ArticleInput;
using kefu::kb::KnowledgeStore;
using kefu::kb::SearchFilter;

namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kT0 = 1'780'000'000'000;  // a fixed "now" in 2026

struct KbFixture {
  kefu::test::TempDir dir;
  std::unique_ptr<kefu::core::StoreImpl> store;
  kefu::kb::TermWeights weights;

  KbFixture() {
    kefu::core::StoreOptions o;
    o.url = "sqlite://kefu.db";
    o.dataDir = dir.path();
    store = std::make_unique<kefu::core::StoreImpl>(o);
    REQUIRE(store->migrate("knowledge-base", KnowledgeStore::migrations()).ok());
  }
  std::unique_ptr<KnowledgeStore> open() {
    auto kb = std::make_unique<KnowledgeStore>(store->openSession(), &weights,
                                               KnowledgeStore::Options{});
    REQUIRE(kb->load().ok());
    return kb;
  }
};

ArticleInput article(std::string category, std::string title, std::string body,
                     std::string kind = "product") {
  ArticleInput in;
  in.kind = std::move(kind);
  in.category = std::move(category);
  in.title = std::move(title);
  in.body = std::move(body);
  return in;
}

int64_t publish(KnowledgeStore& kb, const ArticleInput& in, int64_t now = kT0) {
  auto a = kb.create(in, "ed", now);
  REQUIRE(a.ok());
  REQUIRE(kb.transition(a->id, "submit", "ed", now).ok());
  REQUIRE(kb.transition(a->id, "publish", "boss", now).ok());
  return a->id;
}

std::vector<int64_t> ids(const kefu::Result<std::vector<kefu::kb::SearchHit>>& hits) {
  REQUIRE(hits.ok());
  std::vector<int64_t> out;
  for (const auto& h : *hits) out.push_back(h.articleId);
  return out;
}

}  // namespace

TEST_CASE("kb: articles keep every version and who changed them across a restart") {
  KbFixture f;
  int64_t id = 0;
  {
    auto kb = f.open();
    auto a = kb->create(article("产品资料/重疾险", "康宁重疾险介绍", "保障100种重大疾病。"), "ed",
                        kT0);
    REQUIRE(a.ok());
    id = a->id;
    CHECK(a->status == "draft");
    CHECK(a->current.version == 1);
    auto r = kb->revise(id, article("产品资料/重疾险", "康宁重疾险介绍", "保障120种重大疾病。"),
                        1, "ed2", kT0 + 1000, "more diseases");
    REQUIRE(r.ok());
    CHECK(r->current.version == 2);
    // A stale expected version is refused.
    auto stale = kb->revise(id, article("产品资料/重疾险", "x", "y"), 1, "ed", kT0 + 2000);
    CHECK(stale.status().code() == kefu::StatusCode::kFailedPrecondition);
    // Bad input names the field.
    auto bad = kb->create(article("产品资料//重疾险", "t", "b"), "ed", kT0);
    CHECK_THAT(bad.status().message(), Catch::Contains("category"));
    bad = kb->create(article("a", "t", "b", "poem"), "ed", kT0);
    CHECK_THAT(bad.status().message(), Catch::Contains("kind"));
  }
  auto kb = f.open();  // everything comes back from the store
  auto a = kb->article(id);
  REQUIRE(a.ok());
  CHECK(a->current.version == 2);
  CHECK(a->current.content.body == "保障120种重大疾病。");
  auto v = kb->versions(id);
  REQUIRE(v.ok());
  REQUIRE(v->size() == 2);
  CHECK((*v)[0].content.body == "保障100种重大疾病。");
  CHECK((*v)[1].changedBy == "ed2");
  CHECK((*v)[1].note == "more diseases");
  REQUIRE(kb->transition(id, "delete", "ed", kT0 + 5000).ok());
  CHECK(kb->article(id)->status == "deleted");
  auto h = kb->history(id);
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  CHECK((*h)[0].action == "create");
  CHECK((*h)[1].action == "revise");
  CHECK((*h)[2].action == "delete");
  CHECK((*h)[2].actor == "ed");
  CHECK(kb->transition(id, "submit", "ed", kT0).status().code() ==
        kefu::StatusCode::kNotFound);
}

TEST_CASE("kb: unpublished and expired articles are never served") {
  KbFixture f;
  auto kb = f.open();
  auto in = article("流程/理赔", "车险理赔流程", "出险后拨打95500报案，提交理赔材料。",
                    "procedure");
  auto a = kb->create(in, "ed", kT0);
  REQUIRE(a.ok());
  int64_t id = a->id;
  SearchFilter served;
  SearchFilter drafts;
  drafts.status = "draft";
  CHECK(ids(kb->search("理赔流程", served, kT0)).empty());
  CHECK(ids(kb->search("理赔流程", drafts, kT0)) == std::vector<int64_t>{id});
  CHECK_FALSE(kb->servable(id, kT0).ok());
  // Publishing needs a review first.
  CHECK(kb->transition(id, "publish", "boss", kT0).status().code() ==
        kefu::StatusCode::kFailedPrecondition);
  REQUIRE(kb->transition(id, "submit", "ed", kT0).ok());
  REQUIRE(kb->transition(id, "reject", "boss", kT0).ok());
  CHECK(kb->article(id)->status == "draft");
  REQUIRE(kb->transition(id, "submit", "ed", kT0).ok());
  CHECK(ids(kb->search("理赔流程", served, kT0)).empty());  // in review: still not served
  REQUIRE(kb->transition(id, "publish", "boss", kT0).ok());
  CHECK(ids(kb->search("理赔流程", served, kT0)) == std::vector<int64_t>{id});

  // A revision is a draft; the published version stays served until the next publication.
  auto rev = in;
  rev.body = "出险后48小时内拨打95500报案。";
  REQUIRE(kb->revise(id, rev, 0, "ed", kT0 + 10).ok());
  auto s = kb->servable(id, kT0 + 20);
  REQUIRE(s.ok());
  CHECK(s->published->content.body == in.body);
  CHECK(s->status == "draft");

  // Dates: not yet effective, then expired.
  auto dated = article("流程/退保", "退保须知", "退保需携带保单和身份证。", "procedure");
  dated.effectiveAtMs = kT0 + kDay;
  dated.expiresAtMs = kT0 + 3 * kDay;
  int64_t d = publish(*kb, dated);
  CHECK(ids(kb->search("退保", served, kT0)).empty());
  CHECK_FALSE(kb->servable(d, kT0).ok());
  CHECK(ids(kb->search("退保", served, kT0 + 2 * kDay)) == std::vector<int64_t>{d});
  CHECK(kb->servable(d, kT0 + 2 * kDay).ok());
  CHECK(ids(kb->search("退保", served, kT0 + 3 * kDay)).empty());
  CHECK(kb->list(served, kT0 + 3 * kDay).size() == 1);  // the procedure only

  REQUIRE(kb->transition(id, "unpublish", "boss", kT0 + 30).ok());
  CHECK(ids(kb->search("理赔流程", served, kT0 + 40)).empty());
  ArticleInput expired = dated;
  expired.expiresAtMs = expired.effectiveAtMs;
  CHECK_THAT(kefu::kb::validateArticle(expired), Catch::Contains("expiresAt"));
}

TEST_CASE("kb: search ranks a hand-made Chinese set with synonyms and full-width input") {
  KbFixture f;
  auto kb = f.open();
  REQUIRE(kb->addConfiguredSynonyms("重大疾病 = 重疾\n机动车辆保险 = 车险\n", "syn.txt").ok());
  int64_t ci = publish(*kb, article("产品资料/重疾险", "重大疾病保险等待期",
                                    "重大疾病保险的等待期一般为90天或180天，等待期内确诊不赔付。"));
  int64_t car = publish(*kb, article("产品资料/车险", "机动车辆保险理赔材料",
                                     "需要驾驶证、行驶证、事故认定书和维修发票。"));
  int64_t acc = publish(*kb, article("产品资料/意外险", "意外伤害保险保障范围",
                                     "意外身故、伤残和意外医疗，等待期为0天。"));
  int64_t branch =
      publish(*kb, article("网点信息/上海", "上海徐汇营业部",
                           "地址：徐汇区漕溪北路88号，营业时间9:00-17:00。", "branch"));
  SearchFilter all;
  // 重疾 in the query finds 重大疾病 in the article.
  auto hits = ids(kb->search("重疾险等待期多久？", all, kT0));
  REQUIRE(!hits.empty());
  CHECK(hits[0] == ci);
  // Full-width punctuation and traditional characters fold; 車險 -> 车险 -> 机动车辆保险.
  hits = ids(kb->search("車險理賠要什麼材料？", all, kT0));
  REQUIRE(!hits.empty());
  CHECK(hits[0] == car);
  hits = ids(kb->search("ｏｐｅｎ　营业时间　９：００", all, kT0));
  REQUIRE(!hits.empty());
  CHECK(hits[0] == branch);
  // Category filter includes sub-categories only.
  SearchFilter products;
  products.category = "产品资料";
  for (int64_t id : ids(kb->search("营业时间 等待期", products, kT0))) CHECK(id != branch);
  products.category = "产品资料/意外险";
  CHECK(ids(kb->search("等待期", products, kT0)) == std::vector<int64_t>{acc});
  SearchFilter kind;
  kind.kind = "branch";
  CHECK(ids(kb->search("等待期 营业", kind, kT0)) == std::vector<int64_t>{branch});
  // The index follows a revision once it is published.
  auto rev = article("产品资料/意外险", "意外伤害保险保障范围", "只保意外身故。");
  REQUIRE(kb->revise(acc, rev, 0, "ed", kT0).ok());
  REQUIRE(kb->transition(acc, "submit", "ed", kT0).ok());
  REQUIRE(kb->transition(acc, "publish", "boss", kT0).ok());
  products.category = "";
  CHECK(ids(kb->search("医疗", products, kT0)).empty());
  // Stored synonyms add to the configured ones and re-index.
  CHECK(kb->setSynonyms({{"车险", "汽车保险"}}, "ed", kT0).code() ==
        kefu::StatusCode::kInvalidArgument);  // 车险 is in a configured group
  REQUIRE(kb->setSynonyms({{"意外伤害保险", "意外险"}}, "ed", kT0).ok());
  hits = ids(kb->search("意外险", products, kT0));
  REQUIRE(!hits.empty());
  CHECK(hits[0] == acc);
  CHECK(kb->synonyms().size() == 3);  // the two configured groups and the stored one
  CHECK(kb->search("？？", all, kT0).status().code() == kefu::StatusCode::kInvalidArgument);
  // Stored synonyms come back after a restart.
  auto again = f.open();
  CHECK(again->synonyms().size() == 1);
}

TEST_CASE("kb: timeliness and accuracy KPIs") {
  KbFixture f;
  auto kb = f.open();
  auto in = article("产品资料/重疾险", "费率表", "30岁男性年缴3000元。");
  in.reviewDueAtMs = kT0 + 10 * kDay;
  int64_t onTime = publish(*kb, in);
  auto late = in;
  late.title = "免责条款";
  int64_t lateId = publish(*kb, late);
  auto never = in;
  never.title = "投保年龄";
  publish(*kb, never);
  auto future = in;
  future.title = "保单贷款";
  future.reviewDueAtMs = kT0 + 100 * kDay;
  publish(*kb, future);
  auto plain = in;
  plain.reviewDueAtMs = 0;
  REQUIRE(kb->revise(onTime, plain, 0, "ed", kT0 + 5 * kDay).ok());
  plain.title = "免责条款";
  REQUIRE(kb->revise(lateId, plain, 0, "ed", kT0 + 12 * kDay).ok());
  auto k = kb->kpis(kT0, kT0 + 30 * kDay, kT0 + 20 * kDay);
  REQUIRE(k.ok());
  CHECK(k->updatesDue == 3);  // the one due in 100 days is not due yet
  CHECK(k->updatesOnTime == 1);

  auto s1 = kb->logSearch("a1", "费率", onTime, kT0 + kDay);
  auto s2 = kb->logSearch("a1", "免责", lateId, kT0 + kDay);
  auto s3 = kb->logSearch("a1", "年龄", 0, kT0 + kDay);
  REQUIRE((s1.ok() && s2.ok() && s3.ok()));
  REQUIRE(kb->feedback(*s1, onTime, true, "a1", kT0 + kDay).ok());
  REQUIRE(kb->feedback(*s2, lateId, false, "a1", kT0 + kDay).ok());
  CHECK(kb->feedback(9999, 1, true, "a1", kT0).code() == kefu::StatusCode::kNotFound);
  k = kb->kpis(kT0, kT0 + 30 * kDay, kT0 + 20 * kDay);
  CHECK(k->searches == 3);
  CHECK(k->searchesRated == 2);
  CHECK(k->searchesCorrect == 1);
}

TEST_CASE("kb: import adds published Q&A once") {
  KbFixture f;
  auto kb = f.open();
  std::vector<ArticleInput> in = {article("问答", "交强险赔多少", "死亡伤残18万。", "qa"),
                                  article("问答", "社保断缴怎么办", "补缴即可。", "qa")};
  auto n = kb->importPublished(in, "cli", kT0);
  REQUIRE(n.ok());
  CHECK(*n == 2);
  n = kb->importPublished(in, "cli", kT0);
  CHECK(*n == 0);
  CHECK(ids(kb->search("交强险", SearchFilter{}, kT0)).size() == 1);
  in.push_back(article("问答", "", "x", "qa"));
  CHECK_THAT(kb->importPublished(in, "cli", kT0).status().message(),
             Catch::Contains("article 3: title"));
}

TEST_CASE("kb: answer-search evaluation on a small fixture") {
  kefu::test::TempDir dir;
  auto pool = dir.write("pool.jsonl",
      R"({"qid": 1, "question": "交强险最高赔偿", "answer": "交强险死亡伤残赔偿限额为18万元。")"
      "}\n"
      R"({"qid": 2, "question": "q", "answer": "社保断缴后可以到社保局补缴。", "is_best": true})"
      "\n"
      R"({"qid": 3, "question": "q", "answer": "重疾险等待期一般是90天。", "is_best": false})"
      "\n"
      R"({"qid": 3, "question": "q", "answer": "", "is_best": false})"
      "\n");
  auto questions = dir.write("q.jsonl",
      R"({"qid": 1, "question": "交强险最多赔多少", "question_detail": null})"
      "\n"
      R"({"qid": 2, "question": "社保断了怎么补", "question_detail": "断缴三个月"})"
      "\n"
      R"({"qid": 3, "question": "交强险赔偿", "question_detail": null})"
      "\n"
      R"({"qid": 9, "question": "没有答案的问题", "question_detail": null})"
      "\n");
  kefu::text::Analyzer an;
  kefu::kb::AnswerEvalResult r;
  auto err = kefu::kb::evaluateAnswerSearch(questions.string(), {pool.string()}, an, nullptr,
                                            kefu::kb::AnswerSearchParams::baseline(), r);
  REQUIRE(err.empty());
  CHECK(r.questions == 3);
  CHECK(r.withoutAnswer == 1);
  CHECK(r.poolAnswers == 4);
  // qid 1 and 2 find their answers first; qid 3 ("交强险赔偿") finds qid 1's answer first
  // and its own, which shares only "险", second.
  CHECK(r.precisionAt1 == Approx(2.0 / 3));
  CHECK(r.mrrAt10 == Approx((1 + 1 + 0.5) / 3));

  // Learned weights round-trip through their file.
  std::vector<kefu::kb::QaRow> rows;
  REQUIRE(kefu::kb::readQaFile(pool.string(), rows).empty());
  kefu::kb::TermWeights w;
  w.train(rows, an);
  CHECK(w.trainedPairs() == 3);
  auto path = (dir / "w.tsv").string();
  REQUIRE(w.save(path).empty());
  kefu::kb::TermWeights back;
  REQUIRE(back.load(path).empty());
  CHECK(back.size() == w.size());
  CHECK(back.trainedPairs() == 3);

  auto bad = dir.write("bad.jsonl", "{\"qid\": 1, \"question\": \"x\"}\n{\"qid\": \"x\"}\n");
  rows.clear();
  CHECK(kefu::kb::readQaFile(bad.string(), rows) ==
        bad.string() + ":2: 'qid' missing or not an integer");
  dir.write("w2.tsv", "# header\nterm\tnot-a-number\n");
  CHECK_THAT(back.load((dir / "w2.tsv").string()), Catch::Contains("w2.tsv:2:"));
}

// Runs only under tests/postgres/with_postgres.sh, which starts a real server (ctest does).
TEST_CASE("Knowledge base articles workflow search and KPIs on a real PostgreSQL server",
          "[.][postgres]") {
  const char* url = std::getenv("KEFU_TEST_PG_URL");
  const char* pw = std::getenv("KEFU_TEST_PG_PASSWORD");
  REQUIRE(url != nullptr);
  kefu::core::StoreOptions o;
  o.url = url;
  o.password = pw ? pw : "";
  kefu::core::StoreImpl store(o);
  REQUIRE(store.migrate("knowledge-base", KnowledgeStore::migrations()).ok());
  kefu::kb::TermWeights weights;
  int64_t id = 0;
  {
    KnowledgeStore kb(store.openSession(), &weights, KnowledgeStore::Options{});
    REQUIRE(kb.load().ok());
    auto in = article("流程/理赔", "车险理赔流程", "出险后拨打95500报案。", "procedure");
    in.reviewDueAtMs = kT0 + kDay;
    id = publish(kb, in);
    auto second = publish(kb, article("流程/退保", "退保须知", "携带保单。", "procedure"));
    CHECK(second > id);
    auto fixed = in;
    fixed.reviewDueAtMs = 0;  // the update is done; nothing new is due
    REQUIRE(kb.revise(id, fixed, 1, "ed", kT0 + 1000, "typo").ok());
    REQUIRE(kb.setSynonyms({{"机动车辆保险", "车险"}}, "ed", kT0).ok());
    auto s = kb.logSearch("a1", "理赔", id, kT0);
    REQUIRE(s.ok());
    REQUIRE(kb.feedback(*s, id, true, "a1", kT0).ok());
    auto k = kb.kpis(kT0 - kDay, kT0 + 10 * kDay, kT0 + 2 * kDay);
    REQUIRE(k.ok());
    CHECK(k->updatesDue == 1);
    CHECK(k->updatesOnTime == 1);
    CHECK(k->searchesCorrect == 1);
    CHECK(kb.importPublished({article("问答", "交强险赔多少", "18万。", "qa")}, "cli", kT0)
              .value() == 1);
  }
  KnowledgeStore kb(store.openSession(), &weights, KnowledgeStore::Options{});
  REQUIRE(kb.load().ok());
  CHECK(kb.size() == 3);
  CHECK(kb.article(id)->current.version == 2);
  CHECK(kb.servable(id, kT0)->published->version == 1);
  auto hits = ids(kb.search("機動車輛保險 理賠", SearchFilter{}, kT0));
  REQUIRE(!hits.empty());
  CHECK(hits[0] == id);
  CHECK(kb.versions(id)->size() == 2);
  CHECK(kb.history(id)->size() == 4);
}
