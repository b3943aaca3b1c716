// SPDX-License-Identifier: Apache-2.0
//
// The FAQ bot on a real SQLite store: answers from a small hand-made Chinese FAQ, hands
// off when unsure or asked, keeps the transcript for the contact, masks personal numbers,
// tuning and monitoring. The pair model on small hand-made pair files.
#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <set>

#include "faq_bot.h"
#include "kefu/core/store_impl.h"
#include "pair_model.h"
#include "test_support.h"

using kefu::faq::BotOptions;
using kefu::faq::Decision;
using kefu::faq::FaqBot;
using kefu::faq::FaqEntry;

namespace {

struct BotFixture {
  kefu::test::TempDir dir;
  std::unique_ptr<kefu::core::StoreImpl> store;
  std::unique_ptr<FaqBot> bot;
  int64_t claim = 0, premium = 0, address = 0;

  explicit BotFixture(double threshold = 0.45) {
    kefu::core::StoreOptions o;
    o.url = "sqlite://kefu.db";
    o.dataDir = dir.path();
    store = std::make_unique<kefu::core::StoreImpl>(o);
    REQUIRE(store->migrate("faq-bot", FaqBot::migrations()).ok());
    BotOptions opt;
    opt.answerThreshold = threshold;
    opt.handoffQueue = "webchat";
    opt.handoffPhrases = {"转人工", "人工客服", "agent"};
    bot = std::make_unique<FaqBot>(store->openSession(), opt);
    REQUIRE(bot->reload().ok());
    claim = add({"怎么申请理赔", "理赔需要什么材料", "如何报案理赔"},
                "理赔请准备保单号、身份证和医院发票，通过App提交。");
    premium = add({"保费怎么交", "如何缴纳保费", "续期保费从哪里扣款"},
                  "续期保费从您绑定的银行卡自动扣款。");
    address = add({"怎么修改联系地址", "如何变更通讯地址"},
                  "在App的保单服务中选择变更联系信息。");
  }

  int64_t add(std::vector<std::string> qs, std::string answer) {
    FaqEntry e;
    e.questions = std::move(qs);
    e.answer = std::move(answer);
    e.category = "常见问题";
    auto r = bot->create(e, "editor1");
    REQUIRE(r.ok());
    return r->id;
  }
};

}  // namespace

TEST_CASE("FAQ entries are created revised and deleted on SQLite", "[faq]") {
  BotFixture f;
  CHECK(f.bot->count() == 3);
  auto e = f.bot->get(f.claim);
  REQUIRE(e.ok());
  CHECK(e->revision == 1);
  CHECK(e->questions.size() == 3);
  CHECK(e->updatedBy == "editor1");

  FaqEntry changed = *e;
  changed.questions.push_back("理赔流程是什么");
  changed.answer = "理赔请在App提交材料。";
  auto r = f.bot->revise(f.claim, changed, "editor2");
  REQUIRE(r.ok());
  CHECK(r->revision == 2);
  CHECK(r->questions.size() == 4);
  CHECK(r->updatedBy == "editor2");

  REQUIRE(f.bot->remove(f.address, "editor1").ok());
  CHECK(f.bot->count() == 2);
  CHECK(f.bot->get(f.address).status().code() == kefu::StatusCode::kNotFound);
  CHECK(f.bot->remove(f.address, "editor1").code() == kefu::StatusCode::kNotFound);

  FaqEntry bad;
  bad.answer = "x";
  CHECK(f.bot->create(bad, "e").status().message().find("questions") != std::string::npos);
  bad.questions = {"？？"};
  CHECK(f.bot->create(bad, "e").status().message().find("questions[0]") != std::string::npos);
}

TEST_CASE("The bot answers a known question and hands off an unknown one", "[faq]") {
  BotFixture f;
  auto a = f.bot->handle("d1", "webchat", "请问理赔需要哪些材料？");
  REQUIRE(a.ok());
  CHECK(a->decision == Decision::kAnswered);
  CHECK(a->entryId == f.claim);
  CHECK(a->text.find("保单号") != std::string::npos);

  auto b = f.bot->handle("d1", "webchat", "你们公司的股票代码是多少");
  REQUIRE(b.ok());
  CHECK(b->decision == Decision::kHandOff);
  CHECK(b->reason == "low_confidence");
  CHECK(b->queue == "webchat");

  // After the hand-off the customer talks to a person; the bot stores only.
  auto c = f.bot->handle("d1", "webchat", "保费怎么交");
  REQUIRE(c.ok());
  CHECK(c->decision == Decision::kRelayed);
}

TEST_CASE("Asking for a person hands off at once", "[faq]") {
  BotFixture f;
  auto r = f.bot->handle("d2", "webchat", "我要转人工！");
  REQUIRE(r.ok());
  CHECK(r->decision == Decision::kHandOff);
  CHECK(r->reason == "asked_for_person");
  auto e = f.bot->handle("d3", "webchat", "I want an AGENT please");
  REQUIRE(e.ok());
  CHECK(e->reason == "asked_for_person");
}

TEST_CASE("The hand-off carries the transcript to the contact", "[faq]") {
  BotFixture f;
  REQUIRE(f.bot->handle("d4", "webchat", "如何缴纳保费").ok());
  auto h = f.bot->handle("d4", "webchat", "我的卡号6222020200112233445扣款失败了");
  REQUIRE(h.ok());
  REQUIRE(h->decision == Decision::kHandOff);
  REQUIRE(f.bot->linkContact("d4", "c-42").ok());
  REQUIRE(f.bot->addTurn("d4", "agent", "您好，我来帮您查看扣款").ok());

  auto masked = f.bot->dialogByContact("c-42", false);
  REQUIRE(masked.ok());
  const auto& t = (*masked)["transcript"];
  REQUIRE(t.size() == 5);  // question, answer, question, hand-off notice, agent
  CHECK(t[0]["speaker"] == "customer");
  CHECK(t[1]["speaker"] == "bot");
  CHECK(t[1]["kind"] == "answer");
  CHECK(t[3]["kind"] == "handoff");
  CHECK(t[4]["speaker"] == "agent");
  CHECK((*masked)["state"] == "handed_off");
  CHECK((*masked)["queue"] == "webchat");
  CHECK((*masked)["contact"] == "c-42");
  // Masked for an agent, whole for a supervisor.
  CHECK(t[2]["text"].get<std::string>().find("622****************") == std::string::npos);
  CHECK(t[2]["text"].get<std::string>().find("622************3445") != std::string::npos);
  auto whole = f.bot->dialogByContact("c-42", true);
  REQUIRE(whole.ok());
  CHECK((*whole)["transcript"][2]["text"].get<std::string>().find("6222020200112233445") !=
        std::string::npos);
  CHECK(f.bot->dialogByContact("c-none", false).status().code() ==
        kefu::StatusCode::kNotFound);
}

TEST_CASE("Unsure questions are listed for tuning and attached as phrasings", "[faq]") {
  BotFixture f;
  REQUIRE(f.bot->handle("d5", "webchat", "手机号13812345678怎么改地址").ok());
  auto list = f.bot->tuningList(10, false);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["text"] == "手机号138****5678怎么改地址");
  int64_t turn = list[0]["turn"].get<int64_t>();

  auto e = f.bot->attach(turn, f.address, "editor1");
  REQUIRE(e.ok());
  CHECK(e->revision == 2);
  // Stored masked: a phrasing is shown to everyone.
  CHECK(e->questions.back() == "手机号138****5678怎么改地址");
  CHECK(f.bot->tuningList(10, false).empty());
  CHECK(f.bot->attach(turn, f.address, "editor1").status().code() ==
        kefu::StatusCode::kFailedPrecondition);

  // The same question now finds its answer.
  auto again = f.bot->handle("d6", "webchat", "手机号13812345678怎么改地址");
  REQUIRE(again.ok());
  CHECK(again->decision == Decision::kAnswered);
  CHECK(again->entryId == f.address);
}

TEST_CASE("Monitoring counts answered handed-off and unanswered dialogs", "[faq]") {
  BotFixture f;
  REQUIRE(f.bot->handle("m1", "webchat", "怎么申请理赔").ok());
  REQUIRE(f.bot->handle("m2", "webchat", "保费怎么交").ok());
  REQUIRE(f.bot->handle("m3", "webchat", "转人工").ok());
  REQUIRE(f.bot->handle("m4", "webchat", "今天天气怎么样").ok());
  REQUIRE(f.bot->setOutcome("m4", "closed_callback").ok());
  auto s = f.bot->stats(0);
  CHECK(s["total"]["answered"] == 2);
  CHECK(s["total"]["handed_off"] == 1);
  CHECK(s["total"]["unanswered"] == 1);
  CHECK(s["total"]["intelligent_service_rate"].get<double>() == Approx(0.5));
  REQUIRE(s["days"].size() == 1);
  CHECK(s["days"][0]["answered"] == 2);
}

TEST_CASE("The pair model learns from labelled pairs and round-trips a file", "[faq]") {
  using namespace kefu::faq;
  // Same-intent pairs share the topic word; different ones swap it.
  const std::vector<std::string> topics = {"还款", "额度", "利息", "提现", "绑卡", "逾期"};
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"怎么", "如何"}, {"我想问", "请问"}, {"可以", "能不能"}, {"什么时候", "何时"}};
  std::vector<LabelledPair> pairs;
  for (size_t t = 0; t < topics.size(); ++t) {
    for (const auto& [a, b] : forms) {
      pairs.push_back({a + topics[t] + "呢", b + topics[t], 1});
      pairs.push_back({a + topics[t] + "呢", b + topics[(t + 1) % topics.size()], 0});
    }
  }
  auto m = PairModel::train(pairs);
  std::vector<double> s;
  std::vector<int> l;
  for (const auto& p : pairs) {
    s.push_back(m.confidence(p.q1, p.q2));
    l.push_back(p.label);
    CHECK(m.confidence(p.q1, p.q2) == m.confidence(p.q2, p.q1));
  }
  CHECK(rocAuc(s, l) > 0.9);

  kefu::test::TempDir dir;
  m.setThreshold(0.42);
  REQUIRE(m.save(dir / "m/pair-model.txt").ok());
  auto back = PairModel::load(dir / "m/pair-model.txt");
  REQUIRE(back.ok());
  CHECK(back->threshold() == Approx(0.42));
  CHECK(back->confidence("怎么还款", "如何还款") ==
        Approx(m.confidence("怎么还款", "如何还款")).epsilon(1e-5));

  auto bad = dir.write("bad.txt", "kefu-pair-model 2\n");
  CHECK(PairModel::load(bad).status().message().find("version 1") != std::string::npos);
}

TEST_CASE("Pair files name the file and line of a bad record", "[faq]") {
  kefu::test::TempDir dir;
  auto p = dir.write("pairs.jsonl",
                     "{\"q1\":\"a\",\"q2\":\"b\",\"label\":1}\n\n{\"q1\":\"a\",\"label\":0}\n");
  std::vector<kefu::faq::LabelledPair> pairs;
  auto s = kefu::faq::readPairFile(p, pairs);
  CHECK(s.message() == p.string() + ":3: 'q2' must be a string");
  auto q = dir.write("label.jsonl", "{\"q1\":\"a\",\"q2\":\"b\",\"label\":2}\n");
  CHECK(kefu::faq::readPairFile(q, pairs).message().find(":1: 'label' must be 0 or 1") !=
        std::string::npos);
}

TEST_CASE("AUC accuracy and question-disjoint folds", "[faq]") {
  using namespace kefu::faq;
  CHECK(rocAuc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}) == Approx(0.75));
  CHECK(rocAuc({0.5, 0.5}, {0, 1}) == Approx(0.5));
  CHECK(accuracyAt({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}, 0.5) == Approx(0.75));
  double t = bestThreshold({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1});
  CHECK(accuracyAt({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}, t) == Approx(0.75));

  std::vector<LabelledPair> pairs = {{"甲", "乙", 1}, {"乙", "丙", 0}, {"丁", "戊", 1},
                                     {"己", "庚", 0}, {"庚", "辛", 1}, {"壬", "癸", 0}};
  auto folds = questionDisjointFolds(pairs, 3);
  CHECK(folds[0] == folds[1]);  // 乙 links them
  CHECK(folds[3] == folds[4]);  // 庚 links them
  std::set<int> used(folds.begin(), folds.end());
  CHECK(used.size() == 3);
}
