// SPDX-License-Identifier: Apache-2.0
//
// StoreImpl: the SOCI-backed kefu::Store, and the per-plugin schema migrations.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "kefu/status.h"
#include "kefu/store.h"

namespace kefu::core {

struct StoreOptions {
  std::string url = "sqlite://kefu.db";
  std::string password;  // resolved secret, never logged
  bool synchronousFull = false;
  int busyTimeoutMs = 5000;
  std::filesystem::path dataDir = ".";
  // Check mode: openSession() refuses, so nothing is created or written.
  bool readOnlyCheck = false;
};

class StoreImpl : public Store {
 public:
  explicit StoreImpl(StoreOptions options);

  std::string backend() const override { return backend_; }
  std::unique_ptr<soci::session> openSession() override;
  std::string describe() const override;

  // Opens and closes a session: Unavailable with the driver's reason if that fails.
  Status ping();

  // The SQLite file, empty for PostgreSQL.
  const std::filesystem::path& sqlitePath() const { return sqlitePath_; }

  // Applies `owner`'s pending migrations, each in its own transaction, and records them in
  // kefu_schema_migrations. FailedPrecondition if an applied migration's text changed or
  // the store is ahead of the plugin; InvalidArgument for badly numbered migrations.
  Status migrate(const std::string& owner, const std::vector<Migration>& migrations);

  // The versions recorded for `owner`, ascending.
  std::vector<int> appliedVersions(const std::string& owner);

 private:
  StoreOptions options_;
  std::string backend_;
  std::filesystem::path sqlitePath_;
  std::string connect_;
};

// Splits SQL text into statements at ';' outside quotes and comments.
std::vector<std::string> splitSqlStatements(const std::string& sql);

}  // namespace kefu::core
