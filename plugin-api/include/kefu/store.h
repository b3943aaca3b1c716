// SPDX-License-Identifier: Apache-2.0
//
// Store: the deployment's database, reached through SOCI sessions.
//
// SQLite (a file in the data directory, WAL mode) is the default; PostgreSQL is selected by
// the deployment's [store] url. Each plugin owns its tables, created and changed only by
// its own versioned migrations, which the host applies before the plugin starts and records
// in the table kefu_schema_migrations.
//
// Name tables after the plugin ("journal_events"), write SQL that both backends accept, or
// give a PostgreSQL variant in Migration::postgresql.
//
// Threading: openSession() is safe from any thread; a soci::session is not, so use each
// session from one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "kefu/version.h"

namespace soci {
class session;
}

KEFU_SDK_NAMESPACE_BEGIN

// One step of a plugin's schema. Versions start at 1 and increase by 1; a migration, once
// released, never changes: if an applied migration's text did, the plugin fails to start
// (and so does the host, when the plugin is required).
struct Migration {
  int version = 0;
  std::string description;
  // SQL for every backend; several statements separated by ';' are allowed.
  std::string sql;
  // Optional PostgreSQL replacement for `sql` when the dialects differ.
  std::string postgresql;
};

class Store {
 public:
  virtual ~Store() = default;

  // "sqlite3" or "postgresql".
  virtual std::string backend() const = 0;

  // Opens a new session with the deployment's settings applied (for SQLite: WAL, the
  // configured synchronous level, busy timeout, foreign keys). Throws soci::soci_error when
  // the database cannot be reached, and std::logic_error when called during `kefu check`,
  // which must write nothing.
  virtual std::unique_ptr<soci::session> openSession() = 0;

  // A description safe to log: backend and location, never a password.
  virtual std::string describe() const = 0;
};

KEFU_SDK_NAMESPACE_END
