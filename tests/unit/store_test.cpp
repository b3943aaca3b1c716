// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <cstdlib>

#include <soci/soci.h>

#include "kefu/core/store_impl.h"
#include "test_support.h"

using kefu::Migration;
using kefu::StatusCode;
using kefu::core::StoreImpl;
using kefu::core::StoreOptions;

namespace {
StoreOptions sqliteAt(const kefu::test::TempDir& dir) {
  StoreOptions o;
  o.url = "sqlite://state/kefu.db";
  o.dataDir = dir.path();
  return o;
}

int count(soci::session& s, const std::string& sql) {
  int n = -1;
  s << sql, soci::into(n);
  return n;
}

const std::vector<Migration> kTwoSteps = {
    {1, "contacts", "CREATE TABLE t_contacts (id INTEGER PRIMARY KEY, name TEXT)", ""},
    {2, "index and seed",
     "CREATE INDEX t_contacts_name ON t_contacts (name);"
     "INSERT INTO t_contacts (name) VALUES ('a;b'); -- a comment; with a semicolon\n"
     "INSERT INTO t_contacts (name) VALUES ('c')",
     ""},
};
}  // namespace

TEST_CASE("The SQLite store is a WAL file in the data directory", "[store]") {
  kefu::test::TempDir dir;
  StoreImpl store(sqliteAt(dir));
  CHECK(store.backend() == "sqlite3");
  CHECK(store.sqlitePath() == dir / "state/kefu.db");
  auto s = store.openSession();
  std::string mode;
  *s << "PRAGMA journal_mode", soci::into(mode);
  CHECK(mode == "wal");
  int sync = -1;
  *s << "PRAGMA synchronous", soci::into(sync);
  CHECK(sync == 1);  // NORMAL
  CHECK(std::filesystem::exists(dir / "state/kefu.db"));
}

TEST_CASE("synchronous = full is applied when asked for", "[store]") {
  kefu::test::TempDir dir;
  auto o = sqliteAt(dir);
  o.synchronousFull = true;
  StoreImpl store(o);
  auto s = store.openSession();
  int sync = -1;
  *s << "PRAGMA synchronous", soci::into(sync);
  CHECK(sync == 2);  // FULL
}

TEST_CASE("Migrations apply once in order and are recorded per plugin", "[store]") {
  kefu::test::TempDir dir;
  StoreImpl store(sqliteAt(dir));
  REQUIRE(store.migrate("contacts", {kTwoSteps[0]}).ok());
  CHECK(store.appliedVersions("contacts") == std::vector<int>{1});

  // A later release adds step 2; step 1 is not run again.
  REQUIRE(store.migrate("contacts", kTwoSteps).ok());
  REQUIRE(store.migrate("contacts", kTwoSteps).ok());
  CHECK(store.appliedVersions("contacts") == std::vector<int>{1, 2});
  CHECK(store.appliedVersions("other") == std::vector<int>{});
  auto s = store.openSession();
  CHECK(count(*s, "SELECT COUNT(*) FROM t_contacts") == 2);
  CHECK(count(*s, "SELECT COUNT(*) FROM t_contacts WHERE name = 'a;b'") == 1);

  // The same history survives a new process (a new StoreImpl on the same file).
  StoreImpl again(sqliteAt(dir));
  CHECK(again.appliedVersions("contacts") == std::vector<int>{1, 2});
}

TEST_CASE("An edited migration and a downgrade and bad numbering are refused", "[store]") {
  kefu::test::TempDir dir;
  StoreImpl store(sqliteAt(dir));
  REQUIRE(store.migrate("contacts", kTwoSteps).ok());

  SECTION("edited after it was applied") {
    auto edited = kTwoSteps;
    edited[0].sql = "CREATE TABLE t_contacts (id INTEGER PRIMARY KEY, name TEXT, x INT)";
    auto s = store.migrate("contacts", edited);
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(s.message(), Catch::Contains("migration 1 of 'contacts' was changed"));
  }
  SECTION("store newer than the plugin") {
    auto s = store.migrate("contacts", {kTwoSteps[0]});
    CHECK(s.code() == StatusCode::kFailedPrecondition);
    CHECK_THAT(s.message(), Catch::Contains("schema version 2"));
  }
  SECTION("versions with a gap") {
    auto s = store.migrate("gappy", {{1, "a", "SELECT 1", ""}, {3, "c", "SELECT 1", ""}});
    CHECK(s.code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("A failing migration leaves neither its changes nor its record", "[store]") {
  kefu::test::TempDir dir;
  StoreImpl store(sqliteAt(dir));
  std::vector<Migration> broken = {
      {1, "half", "CREATE TABLE t_half (id INTEGER); INSERT INTO t_nowhere VALUES (1)", ""}};
  auto s = store.migrate("broken", broken);
  CHECK(s.code() == StatusCode::kInternal);
  CHECK_THAT(s.message(), Catch::Contains("migration 1 (half) of 'broken' failed"));
  CHECK(store.appliedVersions("broken").empty());
  auto session = store.openSession();
  CHECK(count(*session, "SELECT COUNT(*) FROM sqlite_master WHERE name = 't_half'") == 0);
}

TEST_CASE("A check-mode store refuses to open sessions", "[store]") {
  kefu::test::TempDir dir;
  auto o = sqliteAt(dir);
  o.readOnlyCheck = true;
  StoreImpl store(o);
  CHECK_THROWS_AS(store.openSession(), std::logic_error);
  CHECK_FALSE(std::filesystem::exists(dir / "state"));
}

TEST_CASE("PostgreSQL URLs are described without secrets", "[store]") {
  StoreOptions o;
  o.url = "postgresql://kefu@db.internal:5432/kefu?sslmode=require";
  o.password = "s3cret";
  StoreImpl store(o);
  CHECK(store.backend() == "postgresql");
  CHECK(store.describe() == "postgresql postgresql://kefu@db.internal:5432/kefu");
  CHECK(store.describe().find("s3cret") == std::string::npos);
}

TEST_CASE("SQL text splits into statements outside quotes and comments", "[store]") {
  auto parts = kefu::core::splitSqlStatements(
      "CREATE TABLE a (x TEXT);\n-- note; here\nINSERT INTO a VALUES ('1;2');  ;\n");
  REQUIRE(parts.size() == 2);
  CHECK_THAT(parts[1], Catch::Contains("'1;2'"));
}

// Runs only under tests/postgres/with_postgres.sh, which starts a real server (ctest does).
TEST_CASE("Migrations run on a real PostgreSQL server", "[.][postgres]") {
  const char* url = std::getenv("KEFU_TEST_PG_URL");
  const char* pw = std::getenv("KEFU_TEST_PG_PASSWORD");
  REQUIRE(url != nullptr);
  StoreOptions o;
  o.url = url;
  o.password = pw ? pw : "";
  StoreImpl store(o);
  REQUIRE(store.ping().ok());
  std::vector<Migration> steps = {
      {1, "serial table", "CREATE TABLE t_pg (id INTEGER PRIMARY KEY AUTOINCREMENT)",
       "CREATE TABLE t_pg (id BIGSERIAL PRIMARY KEY, name TEXT)"},
      {2, "rows", "INSERT INTO t_pg (name) VALUES ('x'); INSERT INTO t_pg (name) VALUES ('y')",
       ""},
  };
  REQUIRE(store.migrate("pgtest", steps).ok());
  REQUIRE(store.migrate("pgtest", steps).ok());
  CHECK(store.appliedVersions("pgtest") == std::vector<int>{1, 2});
  auto s = store.openSession();
  CHECK(count(*s, "SELECT COUNT(*) FROM t_pg") == 2);

  // A failing step rolls back on PostgreSQL too.
  auto broken = steps;
  broken.push_back({3, "bad", "CREATE TABLE t_pg3 (id INT); SELECT * FROM t_missing", ""});
  CHECK(store.migrate("pgtest", broken).code() == StatusCode::kInternal);
  CHECK(store.appliedVersions("pgtest") == std::vector<int>{1, 2});
  CHECK(count(*s, "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 't_pg3'") ==
        0);

  // A wrong password is a clear error, not a hang.
  StoreOptions wrong = o;
  wrong.password = "not-the-password";
  StoreImpl bad(wrong);
  auto ping = bad.ping();
  CHECK(ping.code() == StatusCode::kUnavailable);
  CHECK_THAT(ping.message(), Catch::Contains("password authentication failed"));
  CHECK(bad.describe().find("not-the-password") == std::string::npos);
}
