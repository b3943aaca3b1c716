// SPDX-License-Identifier: Apache-2.0
//
// The knowledge-base plugin through the real kefu executable: roles on every route, the
// review workflow over HTTP, feedback and KPIs, and the `kefu kb` commands.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using Json = nlohmann::json;

namespace {

std::filesystem::path deployment(const TempDir& dir) {
  dir.write("synonyms.txt", "重大疾病 = 重疾\n");
  return dir.write("deploy.toml",
                   kefu::test::authDeploymentHead() + R"([plugins.knowledge-base]
enabled = true
required = true
synonyms_file = "synonyms.txt"
)");
}

kefu::test::KefuRun runKefu(const TempDir& dir, std::vector<std::string> args,
                            const std::string& in = "") {
  return kefu::test::kefuRun(dir, kefu::test::withDeployment(args, deployment(dir), dir.path()),
                             in);
}

std::string urlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
}

std::string signIn(int port, const std::string& id, const std::string& pw) {
  auto r = kefu::test::http(port, "POST", "/api/v1/auth/login",
                            {{"Content-Type", "application/json"}},
                            Json{{"id", id}, {"password", pw}}.dump());
  REQUIRE(r.status == 200);
  return Json::parse(r.body)["token"];
}

const char* kQa =
    R"({"id": 0, "qid": 7, "question": "交强险最多赔多少？", "question_detail": null, )"
    R"("answer": "交强险死亡伤残赔偿限额18万元。", "is_best": true})"
    "\n"
    R"({"id": 1, "qid": 7, "question": "交强险最多赔多少？", "question_detail": null, )"
    R"("answer": "问保险公司", "is_best": false})"
    "\n"
    R"({"id": 2, "qid": 8, "question": "社保断缴怎么办", "question_detail": "断了三个月", )"
    R"("answer": "可以到社保局补缴。", "is_best": true})"
    "\n"
    R"({"id": 3, "qid": 9, "question": "没有答案", "question_detail": null, "answer": "", )"
    R"("is_best": false})"
    "\n";

}  // namespace

TEST_CASE("Knowledge base over HTTP: roles, review workflow, feedback and KPIs",
          "[integration][kb]") {
  TempDir dir;
  auto qa = dir.write("qa.jsonl", kQa);
  for (auto [id, role] : {std::pair{"a1", "agent"}, std::pair{"ed1", "kb_editor"},
                          std::pair{"boss", "supervisor"}}) {
    REQUIRE(runKefu(dir, {"user", "add", "--id", id, "--role", role, "--password-stdin"},
                    "long password 1\n").code == 0);
  }
  auto imp = runKefu(dir, {"kb", "import", "--qa", qa.string()});
  INFO(imp.err);
  REQUIRE(imp.code == 0);
  CHECK_THAT(imp.out, Catch::Contains("questions 2, added 2"));

  auto serving = kefu::test::serveKefu(dir, deployment(dir), ".txt");
  Process& server = *serving.process;
  int port = serving.port;
  std::string agent = signIn(port, "a1", "long password 1");
  std::string editor = signIn(port, "ed1", "long password 1");
  std::string boss = signIn(port, "boss", "long password 1");
  auto http = [port](const std::string& method, const std::string& target,
                     const std::string& token, const std::string& body = "") {
    return kefu::test::http(port, method, target,
                            token.empty() ? std::map<std::string, std::string>{}
                                          : bearer(token),
                            body);
  };
  std::string search = "/api/v1/kb/search?q=" + urlEncode("交强险赔多少");

  // No token: 401 everywhere; wrong role: 403.
  CHECK(http("GET", search, "").status == 401);
  CHECK(http("GET", "/api/v1/kb/articles", "").status == 401);
  CHECK(http("POST", "/api/v1/kb/articles", "", "{}").status == 401);
  Json article = {{"kind", "product"},
                  {"category", "产品资料/重疾险"},
                  {"title", "重大疾病保险等待期"},
                  {"body", "等待期为90天，等待期内确诊的重大疾病不赔付。"},
                  {"review_due_at", "2099-01-01"}};
  CHECK(http("POST", "/api/v1/kb/articles", agent, article.dump()).status == 403);

  // Imported Q&A are published at once.
  auto found = http("GET", search, agent);
  REQUIRE(found.status == 200);
  Json hits = Json::parse(found.body);
  REQUIRE(hits["items"].size() >= 1);
  CHECK(hits["items"][0]["title"] == "交强险最多赔多少？");
  CHECK(hits["items"][0]["snippet"] == "交强险死亡伤残赔偿限额18万元。");

  // Editors write; bad input is a 400 naming the field.
  Json badArticle = article;
  badArticle["kind"] = "poem";
  auto bad = http("POST", "/api/v1/kb/articles", editor, badArticle.dump());
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("kind"));
  badArticle = article;
  badArticle["expires_at"] = "tomorrow";
  CHECK_THAT(http("POST", "/api/v1/kb/articles", editor, badArticle.dump()).body,
             Catch::Contains("expires_at"));
  auto created = http("POST", "/api/v1/kb/articles", editor, article.dump());
  REQUIRE(created.status == 201);
  int64_t id = Json::parse(created.body)["id"];
  std::string path = "/api/v1/kb/articles/" + std::to_string(id);
  std::string qci = "/api/v1/kb/search?q=" + urlEncode("重疾等待期");

  // A draft is not served to agents, and agents cannot look at drafts.
  CHECK(Json::parse(http("GET", qci, agent).body)["items"].empty());
  CHECK(http("GET", path, agent).status == 404);
  CHECK(http("GET", qci + "&status=draft", agent).status == 403);
  CHECK(Json::parse(http("GET", qci + "&status=draft", editor).body)["items"].size() == 1);

  // Editors submit; only supervisors publish.
  CHECK(http("POST", path + "/publish", editor).status == 403);
  CHECK(http("POST", path + "/publish", boss).status == 412);  // not in review yet
  CHECK(http("POST", path + "/submit", editor).status == 200);
  CHECK(http("POST", path + "/publish", boss).status == 200);
  auto served = http("GET", qci, agent);
  Json servedHits = Json::parse(served.body);
  REQUIRE(servedHits["items"].size() >= 1);
  CHECK(servedHits["items"][0]["id"] == id);
  auto got = http("GET", path, agent);
  REQUIRE(got.status == 200);
  CHECK(Json::parse(got.body)["body"] == article["body"]);

  // A revision stays a draft; the published text is served meanwhile; history names users.
  Json rev = article;
  rev["body"] = "等待期为180天。";
  rev["expected_version"] = 1;
  CHECK(http("PUT", path, editor, rev.dump()).status == 200);
  CHECK(http("PUT", path, editor, rev.dump()).status == 412);  // version 1 is gone
  CHECK(Json::parse(http("GET", path, agent).body)["body"] == article["body"]);
  auto versions = http("GET", path + "/versions", editor);
  REQUIRE(versions.status == 200);
  Json v = Json::parse(versions.body);
  CHECK(v["versions"].size() == 2);
  CHECK(v["events"][0]["actor"] == "ed1");
  CHECK(v["events"][2]["action"] == "publish");
  CHECK(v["events"][2]["actor"] == "boss");
  CHECK(http("GET", path + "/versions", agent).status == 403);

  // Feedback feeds the accuracy KPI, read by supervisors.
  int64_t searchId = servedHits["search_id"];
  CHECK(http("POST", "/api/v1/kb/feedback", agent,
             Json{{"search_id", searchId}, {"article_id", id}, {"correct", true}}.dump())
            .status == 200);
  CHECK(http("POST", "/api/v1/kb/feedback", agent, R"({"search_id":1})").status == 400);
  CHECK(http("GET", "/api/v1/kb/kpis", agent).status == 403);
  auto kpis = http("GET", "/api/v1/kb/kpis", boss);
  REQUIRE(kpis.status == 200);
  Json k = Json::parse(kpis.body);
  CHECK(k["accuracy"]["rated"] == 1);
  CHECK(k["accuracy"]["rate"] == 1.0);

  // Categories count servable articles with their parents.
  auto cats = Json::parse(http("GET", "/api/v1/kb/categories", agent).body);
  bool parent = false;
  for (const auto& c : cats["items"]) parent |= c["path"] == "产品资料" && c["articles"] == 1;
  CHECK(parent);

  // Deleting withdraws the article from agents.
  CHECK(http("DELETE", path, agent).status == 403);
  CHECK(http("DELETE", path, editor).status == 200);
  CHECK(http("GET", path, agent).status == 404);
  server.signal(SIGTERM);
  CHECK(server.wait(20s).has_value());
}

TEST_CASE("kefu kb eval and train on small files", "[integration][kb]") {
  TempDir dir;
  auto qa = dir.write("qa.jsonl", kQa);
  auto eval = runKefu(dir, {"kb", "eval", "--task", "answer-search", "--questions", qa.string(),
                            "--pool", qa.string()});
  INFO(eval.err);
  REQUIRE(eval.code == 0);
  CHECK_THAT(eval.out, Catch::Contains("ranker kefu (nothing learned)"));
  CHECK_THAT(eval.out, Catch::EndsWith("P@1=1.0000 MRR@10=1.0000\n"));
  CHECK_THAT(eval.out, Catch::Contains("left out without an answer in the pool: 1"));

  auto train = runKefu(dir, {"kb", "train", "--qa", qa.string()});
  CHECK(train.code == 0);
  CHECK_THAT(train.out, Catch::Contains("from 3 question/answer pairs"));
  eval = runKefu(dir, {"kb", "eval", "--task", "answer-search", "--questions", qa.string(),
                       "--pool", qa.string(), "--ranker", "baseline"});
  CHECK(eval.code == 0);

  auto noPairs = runKefu(dir, {"kb", "eval", "--task", "pair-match", "--pairs", qa.string()});
  CHECK(noPairs.code == 2);
  CHECK_THAT(noPairs.err, Catch::Contains("kefu.PairMatchTasks/1"));
  auto unknown = runKefu(dir, {"kb", "eval", "--task", "poetry"});
  CHECK(unknown.code == 2);
  auto broken = dir.write("broken.jsonl", "{\"qid\": 1}\n");
  auto bad = runKefu(dir, {"kb", "import", "--qa", broken.string()});
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("broken.jsonl:1: 'question' missing or empty"));
}
