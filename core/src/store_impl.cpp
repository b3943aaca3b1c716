// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/store_impl.h"

#include <chrono>
#include <map>
#include <stdexcept>

#include <sodium.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace kefu::core {
namespace {

std::string checksum(const std::string& text) {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

std::string percentEncode(const std::string& s) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

std::string nowIso() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::vector<std::string> splitSqlStatements(const std::string& sql) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      cur += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
      cur += '\n';
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    if (c == ';') {
      if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  if (cur.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(cur);
  return out;
}

StoreImpl::StoreImpl(StoreOptions options) : options_(std::move(options)) {
  const std::string& url = options_.url;
  if (url.rfind("sqlite://", 0) == 0) {
    backend_ = "sqlite3";
    std::filesystem::path p = url.substr(9);
    sqlitePath_ = p.is_absolute() ? p : options_.dataDir / p;
    int timeoutSecs = std::max(1, options_.busyTimeoutMs / 1000);
    connect_ = "db=\"" + sqlitePath_.string() + "\" timeout=" + std::to_string(timeoutSecs);
  } else if (url.rfind("postgresql://", 0) == 0) {
    backend_ = "postgresql";
    // libpq takes the URL as is; the password joins it only in memory.
    connect_ = url;
    if (!options_.password.empty()) {
      connect_ += (url.find('?') == std::string::npos ? "?" : "&");
      connect_ += "password=" + percentEncode(options_.password);
    }
  } else {
    throw std::invalid_argument("unsupported store URL (use sqlite:// or postgresql://)");
  }
}

std::string StoreImpl::describe() const {
  if (backend_ == "sqlite3") return "sqlite " + sqlitePath_.string();
  std::string u = options_.url;
  auto q = u.find('?');
  return "postgresql " + (q == std::string::npos ? u : u.substr(0, q));
}

std::unique_ptr<soci::session> StoreImpl::openSession() {
  if (options_.readOnlyCheck) {
    throw std::logic_error("the store is not available while checking a deployment");
  }
  if (backend_ == "sqlite3") {
    std::filesystem::create_directories(sqlitePath_.parent_path().empty()
                                            ? std::filesystem::path(".")
                                            : sqlitePath_.parent_path());
    auto s = std::make_unique<soci::session>(*soci::factory_sqlite3(), connect_);
    // WAL lets readers run beside the writer; NORMAL survives a process crash, FULL also
    // a power loss.
    *s << "PRAGMA journal_mode=WAL";
    *s << (options_.synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    *s << "PRAGMA foreign_keys=ON";
    // Fewer, larger checkpoints: each one syncs the file, the commits between them do not.
    *s << "PRAGMA wal_autocheckpoint=10000";
    *s << ("PRAGMA busy_timeout=" + std::to_string(options_.busyTimeoutMs));
    return s;
  }
  return std::make_unique<soci::session>(*soci::factory_postgresql(), connect_);
}

Status StoreImpl::ping() {
  try {
    auto s = openSession();
    int one = 0;
    *s << "SELECT 1", soci::into(one);
    return {};
  } catch (const std::exception& e) {
    return Status::unavailable(e.what());
  }
}

std::vector<int> StoreImpl::appliedVersions(const std::string& owner) {
  auto s = openSession();
  *s << "CREATE TABLE IF NOT EXISTS kefu_schema_migrations ("
        "plugin VARCHAR(64) NOT NULL, version INTEGER NOT NULL, description TEXT NOT NULL, "
        "checksum VARCHAR(64) NOT NULL, applied_at VARCHAR(32) NOT NULL, "
        "PRIMARY KEY (plugin, version))";
  std::vector<int> out;
  soci::rowset<int> rows = (s->prepare << "SELECT version FROM kefu_schema_migrations "
                                          "WHERE plugin = :p ORDER BY version",
                            soci::use(owner));
  for (int v : rows) out.push_back(v);
  return out;
}

Status StoreImpl::migrate(const std::string& owner, const std::vector<Migration>& migrations) {
  // The list must be 1, 2, 3, ...: a gap usually means a lost file or a merge mistake.
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Status::invalidArgument("migration #" + std::to_string(i + 1) + " of '" + owner +
                                     "' has version " + std::to_string(migrations[i].version) +
                                     "; versions must be 1, 2, 3, ... in order");
    }
  }
  auto s = openSession();
  appliedVersions(owner);  // creates the bookkeeping table
  std::map<int, std::string> applied;
  {
    soci::rowset<soci::row> rows =
        (s->prepare << "SELECT version, checksum FROM kefu_schema_migrations WHERE plugin = :p",
         soci::use(owner));
    for (const auto& r : rows) applied[r.get<int>(0)] = r.get<std::string>(1);
  }
  if (!applied.empty() && applied.rbegin()->first > static_cast<int>(migrations.size())) {
    return Status::failedPrecondition(
        "the store holds schema version " + std::to_string(applied.rbegin()->first) + " of '" +
        owner + "' but this plugin knows only " + std::to_string(migrations.size()) +
        "; it is older than the data (downgrades are not supported)");
  }
  for (const auto& m : migrations) {
    const std::string& sql =
        backend_ == "postgresql" && !m.postgresql.empty() ? m.postgresql : m.sql;
    std::string sum = checksum(sql);
    auto it = applied.find(m.version);
    if (it != applied.end()) {
      if (it->second != sum) {
        return Status::failedPrecondition(
            "migration " + std::to_string(m.version) + " of '" + owner +
            "' was changed after it had been applied; add a new migration instead");
      }
      continue;
    }
    try {
      soci::transaction tx(*s);
      for (const auto& stmt : splitSqlStatements(sql)) *s << stmt;
      std::string at = nowIso();
      *s << "INSERT INTO kefu_schema_migrations (plugin, version, description, checksum, "
            "applied_at) VALUES (:p, :v, :d, :c, :a)",
          soci::use(owner), soci::use(m.version), soci::use(m.description), soci::use(sum),
          soci::use(at);
      tx.commit();
    } catch (const std::exception& e) {
      return Status::internal("migration " + std::to_string(m.version) + " (" + m.description +
                              ") of '" + owner + "' failed: " + e.what());
    }
  }
  return {};
}

}  // namespace kefu::core
