// SPDX-License-Identifier: Apache-2.0
//
// Users, sign-in, roles, lockout and the audit log through the real kefu executable.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "kefu_server.h"

using namespace std::chrono_literals;
using kefu::test::Process;
using kefu::test::TempDir;
using Json = nlohmann::json;

namespace {

std::filesystem::path deployment(const TempDir& dir) {
  return dir.write("deploy.toml",
                   kefu::test::authDeploymentHead() + R"(max_failed_logins = 3
[plugins.event-journal]
enabled = true
)");
}

kefu::test::KefuRun runKefu(const TempDir& dir, std::vector<std::string> args,
                            const std::string& in = "") {
  return kefu::test::kefuRun(dir, kefu::test::withDeployment(args, deployment(dir), dir.path()),
                             in);
}

kefu::test::HttpResult login(int port, const std::string& id, const std::string& pw) {
  return kefu::test::http(port, "POST", "/api/v1/auth/login",
                          {{"Content-Type", "application/json"}},
                          Json{{"id", id}, {"password", pw}}.dump());
}

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

}  // namespace

TEST_CASE("Users sign in with argon2id passwords and act within their roles",
          "[integration][security]") {
  TempDir dir;

  // Users are created from the command line with the password on standard input only.
  auto noStdin = runKefu(dir, {"user", "add", "--id", "ops", "--role", "admin"});
  CHECK(noStdin.code == 2);
  CHECK_THAT(noStdin.err, Catch::Contains("--password-stdin"));
  auto weak = runKefu(dir, {"user", "add", "--id", "a1", "--role", "agent", "--password-stdin"},
                   "short\n");
  CHECK(weak.code == 2);
  CHECK_THAT(weak.err, Catch::Contains("at least 10 characters"));
  auto badRole = runKefu(dir, {"user", "add", "--id", "a1", "--role", "janitor",
                            "--password-stdin"}, "long enough pw 1\n");
  CHECK_THAT(badRole.err, Catch::Contains("unknown role 'janitor'"));
  REQUIRE(runKefu(dir, {"user", "add", "--id", "a1", "--role", "agent", "--password-stdin"},
               "agent password 1\n").code == 0);
  REQUIRE(runKefu(dir, {"user", "add", "--id", "boss", "--role", "supervisor", "--role", "qa",
                     "--password-stdin"}, "boss password 22\n").code == 0);
  CHECK(runKefu(dir, {"user", "add", "--id", "a1", "--role", "agent", "--password-stdin"},
             "agent password 1\n").code == 1);  // exists

  // Only argon2id hashes are stored.
  {
    soci::session s("sqlite3", "db=" + (dir / "kefu.db").string());
    std::string hash;
    s << "SELECT password_hash FROM auth_users WHERE id = 'a1'", soci::into(hash);
    CHECK_THAT(hash, Catch::StartsWith("$argon2id$"));
    CHECK(hash.find("agent password 1") == std::string::npos);
  }

  auto serving = kefu::test::serveKefu(dir, deployment(dir), ".txt");
  Process& server = *serving.process;
  int port = serving.port;

  auto ok = login(port, "a1", "agent password 1");
  REQUIRE(ok.status == 200);
  std::string agentToken = Json::parse(ok.body)["token"];
  CHECK(agentToken.size() == 64);
  auto me = kefu::test::http(port, "GET", "/api/v1/auth/me", bearer(agentToken));
  CHECK(me.status == 200);
  CHECK(Json::parse(me.body)["roles"] == Json::array({"agent"}));

  // Roles: an agent cannot list users, a supervisor can, only an admin adds users.
  CHECK(kefu::test::http(port, "GET", "/api/v1/users", bearer(agentToken)).status == 403);
  std::string bossToken = Json::parse(login(port, "boss", "boss password 22").body)["token"];
  auto users = kefu::test::http(port, "GET", "/api/v1/users", bearer(bossToken));
  CHECK(users.status == 200);
  CHECK(users.body.find("argon2") == std::string::npos);
  CHECK(kefu::test::http(port, "POST", "/api/v1/users", bearer(bossToken),
                         R"({"id":"x","roles":["agent"],"password":"0123456789"})")
            .status == 403);
  std::string admin = kefu::test::readFile(dir / "admin.token");
  admin.pop_back();
  auto created = kefu::test::http(port, "POST", "/api/v1/users", bearer(admin),
                                  R"({"id":"a2","roles":["agent"],"password":"0123456789ab"})");
  CHECK(created.status == 201);
  CHECK(kefu::test::http(port, "POST", "/api/v1/users", bearer(admin), R"({"id":5})").status ==
        400);

  // Bad sign-in input is a 400 with a reason; wrong passwords lock the account.
  auto garbage = kefu::test::http(port, "POST", "/api/v1/auth/login", {}, "{not json");
  CHECK(garbage.status == 400);
  CHECK_THAT(garbage.body, Catch::Contains("expected a JSON object"));
  CHECK(login(port, "nobody", "whatever password").status == 401);
  for (int i = 0; i < 3; ++i) CHECK(login(port, "a2", "wrong password!").status == 401);
  auto locked = login(port, "a2", "0123456789ab");
  CHECK(locked.status == 423);
  CHECK_THAT(locked.body, Catch::Contains("locked until"));
  CHECK(kefu::test::http(port, "POST", "/api/v1/users/a2/unlock", bearer(bossToken)).status ==
        200);
  CHECK(login(port, "a2", "0123456789ab").status == 200);

  // Parallel guesses cannot exceed the limit: at most 3 are checked, the rest see the lock.
  {
    std::vector<std::thread> guesses;
    std::atomic<int> checked{0}, locked{0};
    for (int i = 0; i < 12; ++i) {
      guesses.emplace_back([&] {
        int status = login(port, "a2", "a wrong guess").status;
        (status == 401 ? checked : locked)++;
      });
    }
    for (auto& t : guesses) t.join();
    CHECK(checked.load() <= 3);
    CHECK(checked.load() + locked.load() == 12);
    CHECK(kefu::test::http(port, "POST", "/api/v1/users/a2/unlock", bearer(bossToken))
              .status == 200);
  }

  // Signing out revokes the token.
  CHECK(kefu::test::http(port, "POST", "/api/v1/auth/logout", bearer(agentToken)).status == 200);
  CHECK(kefu::test::http(port, "GET", "/api/v1/auth/me", bearer(agentToken)).status == 401);

  // Operator actions and refusals are in the audit log, with no password in it.
  auto audit = kefu::test::http(port, "GET", "/api/v1/audit?limit=100", bearer(admin));
  REQUIRE(audit.status == 200);
  std::set<std::string> actions;
  Json auditDoc = Json::parse(audit.body);
  for (const auto& e : auditDoc["entries"]) {
    actions.insert(e["actor"].get<std::string>() + " " + e["action"].get<std::string>());
  }
  CHECK(actions.count("cli user.add"));
  CHECK(actions.count("a1 auth.login"));
  CHECK(actions.count("anonymous auth.login"));
  CHECK(actions.count("admin-token user.add"));
  CHECK(actions.count("boss user.unlock"));
  CHECK(actions.count("a1 GET /api/v1/users"));  // the refused call
  CHECK(actions.count("a1 POST /api/v1/auth/logout"));
  CHECK(audit.body.find("0123456789ab") == std::string::npos);
  CHECK(kefu::test::http(port, "GET", "/api/v1/audit", bearer(bossToken)).status == 403);

  server.signal(SIGTERM);
  CHECK(server.wait(15s) == 0);

  // Unlocking from the command line works on the stopped deployment too.
  CHECK(runKefu(dir, {"user", "unlock", "--id", "a2"}).code == 0);
  CHECK(runKefu(dir, {"user", "unlock", "--id", "ghost"}).code == 1);
  CHECK_THAT(runKefu(dir, {"user", "list"}).out, Catch::Contains("boss  supervisor,qa"));
}
