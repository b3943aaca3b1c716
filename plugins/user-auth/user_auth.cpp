// SPDX-License-Identifier: Apache-2.0
//
// user-auth: the deployment's users, their sign-in and the audit trail.
//
// Passwords are stored only as argon2id hashes (libsodium crypto_pwhash_str). Signing in
// returns a random bearer token; only its hash is stored, with an expiry, and signing out
// revokes it. Repeated failed sign-ins lock the account for a while. The plugin provides
// kefu::Authenticator (so the host accepts its tokens on every /api/v1 route) and
// kefu::AuditLog (so the host and other plugins can record operator actions).
//
// There is no default user and no default password: the first administrator is created
// with `kefu user add --id ID --role admin --password-stdin`.
#include <sodium.h>

#include <chrono>
#include <iostream>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "kefu/sdk.h"
#include "kefu/store_util.h"

namespace {

using Json = nlohmann::json;

const std::set<std::string> kKnownRoles = {
    kefu::roles::kAgent,      kefu::roles::kTeamLead,   kefu::roles::kQa,
    kefu::roles::kTrainer,    kefu::roles::kWfmPlanner, kefu::roles::kSupervisor,
    kefu::roles::kKbEditor,   kefu::roles::kAdmin};

int64_t toMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string hexOf(const unsigned char* data, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

// Tokens are 256 random bits; a fast keyless hash is enough to store them.
std::string tokenHash(const std::string& token) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return hexOf(h, sizeof h);
}

std::string joinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

std::vector<std::string> splitRoles(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

bool validUserId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

class UserAuth;

class TokenAuthenticator : public kefu::Authenticator {
 public:
  explicit TokenAuthenticator(UserAuth& owner) : owner_(owner) {}
  kefu::Result<kefu::Principal> authenticate(const kefu::HttpRequest& request) override;

 private:
  UserAuth& owner_;
};

class Audit : public kefu::AuditLog {
 public:
  explicit Audit(UserAuth& owner) : owner_(owner) {}
  kefu::Status record(const kefu::AuditEntry& entry) override;

 private:
  UserAuth& owner_;
};

class UserAuth : public kefu::Plugin {
 public:
  kefu::Status configure(kefu::HostContext& ctx) override {
    ctx_ = &ctx;
    if (sodium_init() < 0) return kefu::Status::internal("libsodium failed to initialise");
    const kefu::ConfigValue& cfg = ctx.config();
    tokenTtlMinutes_ = cfg.getInt("token_ttl_minutes", 480);
    maxFailed_ = cfg.getInt("max_failed_logins", 5);
    lockoutMinutes_ = cfg.getInt("lockout_minutes", 15);
    minPasswordLength_ = cfg.getInt("password_min_length", 10);
    std::string strength = cfg.getString("hash_strength", "interactive");
    if (tokenTtlMinutes_ < 1 || tokenTtlMinutes_ > 7 * 24 * 60) {
      return cfg.error("token_ttl_minutes", "must be between 1 and 10080 (a week)");
    }
    if (maxFailed_ < 1) return cfg.error("max_failed_logins", "must be at least 1");
    if (lockoutMinutes_ < 1) return cfg.error("lockout_minutes", "must be at least 1");
    if (minPasswordLength_ < 8) return cfg.error("password_min_length", "must be at least 8");
    if (strength == "interactive") {
      opsLimit_ = crypto_pwhash_OPSLIMIT_INTERACTIVE;
      memLimit_ = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    } else if (strength == "moderate") {
      opsLimit_ = crypto_pwhash_OPSLIMIT_MODERATE;
      memLimit_ = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (strength == "sensitive") {
      opsLimit_ = crypto_pwhash_OPSLIMIT_SENSITIVE;
      memLimit_ = crypto_pwhash_MEMLIMIT_SENSITIVE;
    } else if (strength == "minimum") {
      // Only for tests: fast, and too weak for real passwords.
      opsLimit_ = crypto_pwhash_OPSLIMIT_MIN;
      memLimit_ = crypto_pwhash_MEMLIMIT_MIN;
    } else {
      return cfg.error("hash_strength",
                       "must be \"interactive\", \"moderate\", \"sensitive\" or \"minimum\"");
    }

    // Services: tokens for the host's authentication, the audit trail for everyone.
    auto s = ctx.services().provide<kefu::Authenticator>(
        std::make_shared<TokenAuthenticator>(*this));
    if (s.ok()) s = ctx.services().provide<kefu::AuditLog>(std::make_shared<Audit>(*this));
    if (s.ok()) s = addRoutes();
    if (s.ok()) s = addCommands();
    return s;
  }

  std::vector<kefu::Migration> migrations() const override {
    const char* common =
        "CREATE TABLE auth_users ("
        "  id VARCHAR(64) PRIMARY KEY,"
        "  roles VARCHAR(200) NOT NULL,"
        "  password_hash VARCHAR(200) NOT NULL,"
        "  failed_logins INTEGER NOT NULL DEFAULT 0,"
        "  locked_until_ms BIGINT NOT NULL DEFAULT 0,"
        "  disabled INTEGER NOT NULL DEFAULT 0,"
        "  created_at_ms BIGINT NOT NULL,"
        "  updated_at_ms BIGINT NOT NULL);"
        "CREATE TABLE auth_tokens ("
        "  token_hash VARCHAR(64) PRIMARY KEY,"
        "  user_id VARCHAR(64) NOT NULL REFERENCES auth_users (id),"
        "  issued_at_ms BIGINT NOT NULL,"
        "  expires_at_ms BIGINT NOT NULL,"
        "  revoked INTEGER NOT NULL DEFAULT 0);"
        "CREATE INDEX auth_tokens_user ON auth_tokens (user_id);";
    std::string sqlite = std::string(common) +
                         "CREATE TABLE audit_log ("
                         "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
                         "  at_ms BIGINT NOT NULL, actor VARCHAR(64) NOT NULL,"
                         "  action VARCHAR(200) NOT NULL, target TEXT NOT NULL,"
                         "  detail TEXT NOT NULL, remote VARCHAR(64) NOT NULL);"
                         "CREATE INDEX audit_log_at ON audit_log (at_ms)";
    std::string pg = std::string(common) +
                     "CREATE TABLE audit_log ("
                     "  id BIGSERIAL PRIMARY KEY,"
                     "  at_ms BIGINT NOT NULL, actor VARCHAR(64) NOT NULL,"
                     "  action VARCHAR(200) NOT NULL, target TEXT NOT NULL,"
                     "  detail TEXT NOT NULL, remote VARCHAR(64) NOT NULL);"
                     "CREATE INDEX audit_log_at ON audit_log (at_ms)";
    return {{1, "users, tokens and audit log", sqlite, pg}};
  }

  kefu::Status start() override {
    std::lock_guard lock(mu_);
    session_ = ctx_->store().openSession();
    return {};
  }

  void stop() override {
    std::lock_guard lock(mu_);
    session_.reset();
  }

  // ---- used by the services ------------------------------------------------------------

  kefu::Result<kefu::Principal> principalForToken(const std::string& token) {
    if (token.size() != 64) return kefu::Status::unauthenticated("invalid or expired token");
    std::string hash = tokenHash(token);
    int64_t now = nowMs();
    std::lock_guard lock(mu_);
    if (!session_) return kefu::Status::unavailable("sign-in service is stopping");
    std::string userId, roles;
    long long expires = 0;
    int revoked = 1, disabled = 1;
    soci::indicator ind = soci::i_null;
    *session_ << "SELECT t.user_id, t.expires_at_ms, t.revoked, u.roles, u.disabled "
                 "FROM auth_tokens t JOIN auth_users u ON u.id = t.user_id "
                 "WHERE t.token_hash = :h",
        soci::use(hash), soci::into(userId, ind), soci::into(expires), soci::into(revoked),
        soci::into(roles), soci::into(disabled);
    if (ind == soci::i_null || !session_->got_data() || revoked || disabled || expires <= now) {
      return kefu::Status::unauthenticated("invalid or expired token");
    }
    return kefu::Principal{userId, splitRoles(roles)};
  }

  kefu::Status writeAudit(const kefu::AuditEntry& e) {
    int64_t at = e.at == std::chrono::system_clock::time_point{} ? nowMs() : toMillis(e.at);
    std::string detail = kefu::maskPersonalData(e.detail);
    std::lock_guard lock(mu_);
    if (!session_) return kefu::Status::unavailable("audit log is stopping");
    try {
      *session_ << "INSERT INTO audit_log (at_ms, actor, action, target, detail, remote) "
                   "VALUES (:a, :b, :c, :d, :e, :f)",
          soci::use(at), soci::use(e.actor), soci::use(e.action), soci::use(e.target),
          soci::use(detail), soci::use(e.remoteAddress);
    } catch (const std::exception& ex) {
      ctx_->logger().error("cannot write the audit log: {}", ex.what());
      return kefu::Status::unavailable(std::string("cannot write the audit log: ") + ex.what());
    }
    return {};
  }

 private:
  int64_t nowMs() const { return toMillis(ctx_->clock().now()); }

  std::string hashPassword(const std::string& password) const {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, password.data(), password.size(), opsLimit_, memLimit_) != 0) {
      throw std::runtime_error("out of memory while hashing a password");
    }
    return out;
  }

  kefu::Status checkPassword(const std::string& password) const {
    if (static_cast<int64_t>(password.size()) < minPasswordLength_) {
      return kefu::Status::invalidArgument("the password must have at least " +
                                           std::to_string(minPasswordLength_) + " characters");
    }
    return {};
  }

  kefu::Status checkRoles(const std::vector<std::string>& roles) const {
    if (roles.empty()) return kefu::Status::invalidArgument("a user needs at least one role");
    for (const auto& r : roles) {
      if (!kKnownRoles.count(r)) {
        return kefu::Status::invalidArgument(
            "unknown role '" + r + "' (roles: " +
            joinRoles(std::vector<std::string>(kKnownRoles.begin(), kKnownRoles.end())) + ")");
      }
    }
    return {};
  }

  kefu::Status addUser(const std::string& id, const std::vector<std::string>& roles,
                       const std::string& password) {
    if (!validUserId(id)) {
      return kefu::Status::invalidArgument(
          "a user id has 1 to 64 letters, digits, '-', '_' or '.'");
    }
    if (auto s = checkRoles(roles); !s.ok()) return s;
    if (auto s = checkPassword(password); !s.ok()) return s;
    std::string hash = hashPassword(password);
    int64_t now = nowMs();
    std::string roleText = joinRoles(roles);
    std::lock_guard lock(mu_);
    int exists = 0;
    *session_ << "SELECT COUNT(*) FROM auth_users WHERE id = :id", soci::use(id),
        soci::into(exists);
    if (exists) return kefu::Status::alreadyExists("user '" + id + "' exists");
    *session_ << "INSERT INTO auth_users (id, roles, password_hash, created_at_ms, "
                 "updated_at_ms) VALUES (:id, :r, :h, :c, :u)",
        soci::use(id), soci::use(roleText), soci::use(hash), soci::use(now), soci::use(now);
    return {};
  }

  struct LoginResult {
    std::string token;
    int64_t expiresMs = 0;
    std::vector<std::string> roles;
  };

  kefu::Result<LoginResult> login(const std::string& id, const std::string& password) {
    int64_t now = nowMs();
    std::unique_lock lock(mu_);
    if (!session_) return kefu::Status::unavailable("sign-in service is stopping");
    std::string hash, roles;
    int failed = 0, disabled = 0;
    long long lockedUntil = 0;
    soci::indicator ind = soci::i_null;
    *session_ << "SELECT password_hash, roles, failed_logins, locked_until_ms, disabled "
                 "FROM auth_users WHERE id = :id",
        soci::use(id), soci::into(hash, ind), soci::into(roles), soci::into(failed),
        soci::into(lockedUntil), soci::into(disabled);
    bool known = session_->got_data() && ind == soci::i_ok;
    // Count the attempt before checking it, so that parallel guesses cannot exceed the
    // limit: the one that reaches it locks the account for all the others.
    if (known && lockedUntil <= now) {
      // A lock that has run out starts a fresh count.
      if (lockedUntil != 0) {
        *session_ << "UPDATE auth_users SET failed_logins = 0, locked_until_ms = 0 "
                     "WHERE id = :id",
            soci::use(id);
        failed = 0;
      }
      int next = failed + 1;
      long long until = next >= maxFailed_ ? now + lockoutMinutes_ * 60'000 : 0;
      long long lockAt = now + lockoutMinutes_ * 60'000;
      long long limit = maxFailed_;
      long long updated = now;
      *session_ << "UPDATE auth_users SET failed_logins = failed_logins + 1, "
                   "locked_until_ms = CASE WHEN failed_logins + 1 >= :m THEN :l "
                   "ELSE locked_until_ms END, updated_at_ms = :u WHERE id = :id",
          soci::use(limit), soci::use(lockAt), soci::use(updated), soci::use(id);
      if (until) {
        ctx_->logger().warn("user '{}' locked for {} minutes after {} failed sign-ins", id,
                            lockoutMinutes_, next);
      }
    }
    lock.unlock();

    // Unknown users cost the same work as known ones, so timing does not reveal ids.
    if (!known) {
      int ignored = crypto_pwhash_str_verify(dummyHash().c_str(), password.data(),
                                             password.size());
      (void)ignored;
      return kefu::Status::unauthenticated("invalid user id or password");
    }
    if (lockedUntil > now) {
      return kefu::Status::failedPrecondition("the account is locked until " +
                                              kefu::formatUtcMillis(lockedUntil) +
                                              " after repeated failed sign-ins");
    }
    bool ok = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;

    lock.lock();
    if (!session_) return kefu::Status::unavailable("sign-in service is stopping");
    if (!ok || disabled) {
      return kefu::Status::unauthenticated(disabled ? "the account is disabled"
                                                    : "invalid user id or password");
    }

    // Success: new token, counters reset.
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    LoginResult r;
    r.token = hexOf(raw, sizeof raw);
    r.expiresMs = now + tokenTtlMinutes_ * 60'000;
    r.roles = splitRoles(roles);
    std::string th = tokenHash(r.token);
    soci::transaction tx(*session_);
    *session_ << "INSERT INTO auth_tokens (token_hash, user_id, issued_at_ms, expires_at_ms) "
                 "VALUES (:h, :u, :i, :e)",
        soci::use(th), soci::use(id), soci::use(now), soci::use(r.expiresMs);
    *session_ << "UPDATE auth_users SET failed_logins = 0, locked_until_ms = 0 WHERE id = :id",
        soci::use(id);
    *session_ << "DELETE FROM auth_tokens WHERE expires_at_ms < :n", soci::use(now);
    tx.commit();
    return r;
  }

  const std::string& dummyHash() {
    std::call_once(dummyOnce_, [&] { dummy_ = hashPassword("not a real password"); });
    return dummy_;
  }

  void audit(const kefu::HttpRequest& req, const std::string& action, const std::string& target,
             const std::string& detail, const std::string& actor = "") {
    kefu::AuditEntry e;
    e.actor = actor.empty() ? req.principal.id : actor;
    e.action = action;
    e.target = target;
    e.detail = detail;
    e.remoteAddress = req.remoteAddress;
    (void)writeAudit(e);
  }

  // ---- HTTP ----------------------------------------------------------------------------

  kefu::Status addRoutes() {
    kefu::RouteOptions open;
    open.authenticated = false;
    open.audit = false;  // httpLogin records the outcome with the user id
    auto s = ctx_->http().add("POST", "/api/v1/auth/login",
                              [this](const kefu::HttpRequest& r) { return httpLogin(r); }, open);
    if (!s.ok()) return s;
    s = ctx_->http().add("POST", "/api/v1/auth/logout", [this](const kefu::HttpRequest& r) {
      std::string th = tokenHash(r.bearerToken());
      std::lock_guard lock(mu_);
      *session_ << "UPDATE auth_tokens SET revoked = 1 WHERE token_hash = :h", soci::use(th);
      return kefu::HttpResponse::json(200, "{\"signed_out\":true}");
    });
    if (!s.ok()) return s;
    s = ctx_->http().add("GET", "/api/v1/auth/me", [](const kefu::HttpRequest& r) {
      return kefu::HttpResponse::json(
          200, Json{{"id", r.principal.id}, {"roles", r.principal.roles}}.dump());
    });
    if (!s.ok()) return s;

    kefu::RouteOptions admins;
    admins.roles = {kefu::roles::kAdmin};
    kefu::RouteOptions managers;
    managers.roles = {kefu::roles::kSupervisor, kefu::roles::kAdmin};
    s = ctx_->http().add("GET", "/api/v1/users",
                         [this](const kefu::HttpRequest&) {
                           return kefu::HttpResponse::json(200,
                                                           Json{{"users", listUsers()}}.dump());
                         },
                         managers);
    if (!s.ok()) return s;
    // These two record a precise entry themselves.
    kefu::RouteOptions adminsSelfAudited = admins;
    adminsSelfAudited.audit = false;
    kefu::RouteOptions managersSelfAudited = managers;
    managersSelfAudited.audit = false;
    s = ctx_->http().add("POST", "/api/v1/users",
                         [this](const kefu::HttpRequest& r) { return httpAddUser(r); },
                         adminsSelfAudited);
    if (!s.ok()) return s;
    s = ctx_->http().add("POST", "/api/v1/users/{id}/unlock",
                         [this](const kefu::HttpRequest& r) {
                           auto st = unlock(r.params.at("id"));
                           if (!st.ok()) return kefu::HttpResponse::fromStatus(st);
                           audit(r, "user.unlock", r.params.at("id"), "ok");
                           return kefu::HttpResponse::json(200, "{\"unlocked\":true}");
                         },
                         managersSelfAudited);
    if (!s.ok()) return s;
    return ctx_->http().add("GET", "/api/v1/audit",
                            [this](const kefu::HttpRequest& r) { return httpAudit(r); }, admins);
  }

  kefu::HttpResponse httpLogin(const kefu::HttpRequest& req) {
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("id") ||
        !body["id"].is_string() || !body.contains("password") || !body["password"].is_string()) {
      return kefu::HttpResponse::error(400, "invalid_argument",
                                       "expected a JSON object {\"id\": ..., \"password\": ...}");
    }
    std::string id = body["id"];
    auto r = login(id, body["password"].get<std::string>());
    if (!r.ok()) {
      audit(req, "auth.login", id, "refused: " + r.status().message(), "anonymous");
      if (r.status().code() == kefu::StatusCode::kFailedPrecondition) {
        return kefu::HttpResponse::error(423, "locked", r.status().message());
      }
      return kefu::HttpResponse::fromStatus(r.status());
    }
    audit(req, "auth.login", id, "ok", id);
    return kefu::HttpResponse::json(200, Json{{"token", r->token},
                                              {"expires_at", kefu::formatUtcMillis(r->expiresMs)},
                                              {"user", {{"id", id}, {"roles", r->roles}}}}
                                             .dump());
  }

  kefu::HttpResponse httpAddUser(const kefu::HttpRequest& req) {
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.value("id", Json()).is_string() ||
        !body.value("password", Json()).is_string() || !body.value("roles", Json()).is_array()) {
      return kefu::HttpResponse::error(
          400, "invalid_argument",
          "expected {\"id\": string, \"roles\": [string, ...], \"password\": string}");
    }
    std::vector<std::string> roles;
    for (const auto& r : body["roles"]) {
      if (!r.is_string()) {
        return kefu::HttpResponse::error(400, "invalid_argument", "roles must be strings");
      }
      roles.push_back(r);
    }
    auto s = addUser(body["id"], roles, body["password"]);
    if (!s.ok()) return kefu::HttpResponse::fromStatus(s);
    audit(req, "user.add", body["id"], "roles " + joinRoles(roles));
    return kefu::HttpResponse::json(201, Json{{"id", body["id"]}, {"roles", roles}}.dump());
  }

  kefu::HttpResponse httpAudit(const kefu::HttpRequest& req) {
    int64_t limit = 100;
    if (req.query.count("limit")) {
      const std::string& v = req.query.at("limit");
      bool digits = !v.empty() && v.size() <= 4 &&
                    v.find_first_not_of("0123456789") == std::string::npos;
      limit = digits ? std::stoll(v) : 0;
    }
    if (limit < 1 || limit > 1000) {
      return kefu::HttpResponse::error(400, "invalid_argument", "limit must be 1..1000");
    }
    Json items = Json::array();
    std::lock_guard lock(mu_);
    soci::rowset<soci::row> rows =
        (session_->prepare << "SELECT id, at_ms, actor, action, target, detail, remote "
                              "FROM audit_log ORDER BY id DESC LIMIT :l",
         soci::use(limit));
    for (const auto& r : rows) {
      items.push_back({{"id", kefu::rowInt(r, 0)},
                       {"at", kefu::formatUtcMillis(kefu::rowInt(r, 1))},
                       {"actor", r.get<std::string>(2)},
                       {"action", r.get<std::string>(3)},
                       {"target", r.get<std::string>(4)},
                       {"detail", r.get<std::string>(5)},
                       {"remote", r.get<std::string>(6)}});
    }
    return kefu::HttpResponse::json(200, Json{{"entries", items}}.dump());
  }

  Json listUsers() {
    Json users = Json::array();
    int64_t now = nowMs();
    std::lock_guard lock(mu_);
    soci::rowset<soci::row> rows =
        (session_->prepare << "SELECT id, roles, locked_until_ms, disabled, failed_logins "
                              "FROM auth_users ORDER BY id");
    for (const auto& r : rows) {
      users.push_back({{"id", r.get<std::string>(0)},
                       {"roles", splitRoles(r.get<std::string>(1))},
                       {"locked", kefu::rowInt(r, 2) > now},
                       {"disabled", kefu::rowInt(r, 3) != 0},
                       {"failed_logins", kefu::rowInt(r, 4)}});
    }
    return users;
  }

  kefu::Status unlock(const std::string& id) {
    std::lock_guard lock(mu_);
    soci::statement st = (session_->prepare << "UPDATE auth_users SET failed_logins = 0, "
                                               "locked_until_ms = 0 WHERE id = :id",
                          soci::use(id));
    st.execute(true);
    if (st.get_affected_rows() == 0) return kefu::Status::notFound("no user '" + id + "'");
    return {};
  }

  // ---- CLI -----------------------------------------------------------------------------

  kefu::Status addCommands() {
    auto s = ctx_->cli().add(
        {{"user", "add"},
         "Create a user; the password is read from standard input",
         {{"--id", "User id (letters, digits, '-', '_', '.')", true},
          {"--role", "Role (repeat for several): agent, team_lead, qa, trainer, wfm_planner, "
                     "kb_editor, supervisor, admin", true, false, "", true},
          {"--password-stdin", "Read the password from the first line of standard input",
           false, true}},
         [this](const kefu::CliArgs& a, kefu::CliIo& io) {
           if (!a.has("--password-stdin")) {
             io.err << "user add: passwords are never given on the command line; pipe it in "
                       "and pass --password-stdin\n";
             return 2;
           }
           std::string password;
           std::getline(io.in, password);
           if (!password.empty() && password.back() == '\r') password.pop_back();
           auto st = addUser(a.get("--id"), a.getAll("--role"), password);
           sodium_memzero(password.data(), password.size());
           if (!st.ok()) {
             io.err << "user add: " << st.message() << "\n";
             return st.code() == kefu::StatusCode::kAlreadyExists ? 1 : 2;
           }
           kefu::AuditEntry e{"cli", "user.add", a.get("--id"),
                              "roles " + joinRoles(a.getAll("--role")), "local", {}};
           (void)writeAudit(e);
           io.out << "created user '" << a.get("--id") << "' (" << joinRoles(a.getAll("--role"))
                  << ")\n";
           return 0;
         }});
    if (!s.ok()) return s;
    s = ctx_->cli().add({{"user", "list"}, "List users with their roles and lock state", {},
                         [this](const kefu::CliArgs&, kefu::CliIo& io) {
                           for (const auto& u : listUsers()) {
                             io.out << u["id"].get<std::string>() << "  "
                                    << joinRoles(u["roles"].get<std::vector<std::string>>())
                                    << (u["locked"].get<bool>() ? "  locked" : "")
                                    << (u["disabled"].get<bool>() ? "  disabled" : "") << "\n";
                           }
                           return 0;
                         }});
    if (!s.ok()) return s;
    return ctx_->cli().add({{"user", "unlock"}, "Clear a user's failed sign-ins and lock",
                            {{"--id", "User id", true}},
                            [this](const kefu::CliArgs& a, kefu::CliIo& io) {
                              auto st = unlock(a.get("--id"));
                              if (!st.ok()) {
                                io.err << "user unlock: " << st.message() << "\n";
                                return 1;
                              }
                              kefu::AuditEntry e{"cli", "user.unlock", a.get("--id"), "ok",
                                                 "local", {}};
                              (void)writeAudit(e);
                              io.out << "unlocked '" << a.get("--id") << "'\n";
                              return 0;
                            }});
  }

  kefu::HostContext* ctx_ = nullptr;
  int64_t tokenTtlMinutes_ = 480;
  int64_t maxFailed_ = 5;
  int64_t lockoutMinutes_ = 15;
  int64_t minPasswordLength_ = 10;
  unsigned long long opsLimit_ = 0;
  size_t memLimit_ = 0;
  std::mutex mu_;
  std::unique_ptr<soci::session> session_;
  std::once_flag dummyOnce_;
  std::string dummy_;
};

kefu::Result<kefu::Principal> TokenAuthenticator::authenticate(const kefu::HttpRequest& req) {
  std::string token = req.bearerToken();
  if (token.empty()) return kefu::Status::unauthenticated("missing bearer token");
  return owner_.principalForToken(token);
}

kefu::Status Audit::record(const kefu::AuditEntry& entry) { return owner_.writeAudit(entry); }

kefu::PluginInfo userAuthInfo() {
  kefu::PluginInfo info;
  info.description = "Users, argon2id passwords, bearer tokens, lockout and the audit log";
  info.kinds = {"auth"};
  info.provides = {kefu::Authenticator::kInterfaceName, kefu::AuditLog::kInterfaceName};
  info.handlesPersonalData = false;
  info.configKeys = {
      {"token_ttl_minutes", kefu::ConfigType::kInt, "Minutes a sign-in token is valid", false,
       "480"},
      {"max_failed_logins", kefu::ConfigType::kInt, "Failed sign-ins that lock an account",
       false, "5"},
      {"lockout_minutes", kefu::ConfigType::kInt, "Minutes an account stays locked", false,
       "15"},
      {"password_min_length", kefu::ConfigType::kInt, "Shortest accepted password", false,
       "10"},
      {"hash_strength", kefu::ConfigType::kString,
       "argon2id cost: interactive, moderate, sensitive (minimum: tests only)", false,
       "\"interactive\""},
  };
  return info;
}

}  // namespace

KEFU_PLUGIN(UserAuth, "user-auth", "0.1.0", userAuthInfo)
