// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/host.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <tuple>
#include <iostream>

#include <nlohmann/json.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "kefu/core/event_stream.h"
#include "kefu/core/http_server.h"
#include "kefu/core/logging.h"
#include "kefu/auth.h"
#include "kefu/version.h"

#ifndef KEFU_VERSION
#define KEFU_VERSION "0.0.0"
#endif

namespace kefu::core {
namespace {

// What a plugin holds of one of its WebSocket connections.
class PluginPeer : public WebSocketPeer {
 public:
  explicit PluginPeer(std::weak_ptr<WebSocketConnection> conn) : conn_(std::move(conn)) {}
  bool send(std::string text) override {
    auto c = conn_.lock();
    if (!c) return false;
    c->send([t = std::move(text)] { return t; });
    return true;
  }
  void close() override {
    if (auto c = conn_.lock()) c->close();
  }

 private:
  std::weak_ptr<WebSocketConnection> conn_;
};

// A plugin's WebSocket: the handler is looked up per connection, so a plugin that stopped
// (its routes withdrawn) takes no new ones.
WebSocketRoute pluginWebSocket(HttpRouter& router, const std::string& path) {
  WebSocketRoute route;
  route.maxQueuedFrames = 256;
  route.droppedNotice = [](uint64_t n) {
    return "{\"type\":\"dropped\",\"count\":" + std::to_string(n) + "}";
  };
  route.openDuplex = [&router, path](const HttpRequest& req,
                                     std::shared_ptr<WebSocketConnection> conn) {
    WebSocketOpen open = router.webSocket(path);
    if (!open) throw std::runtime_error("no plugin serves " + path);
    return open(req, std::make_shared<PluginPeer>(conn));
  };
  return route;
}

}  // namespace

Host::Host(HostOptions options) : options_(std::move(options)) {}

Host::~Host() {
  if (server_) server_->stop();
  stopPlugins();
  if (lockFd_ >= 0) ::close(lockFd_);
}

void Host::blockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

bool Host::prepare(RunMode mode, std::ostream& err) {
  if (sodium_init() < 0) {
    err << "kefu: libsodium failed to initialise\n";
    return false;
  }

  // The deployment file: every error is collected before anything starts.
  loaded_ = loadDeployment(options_.config);
  errors_ = loaded_.errors;
  const Deployment& d = loaded_.deployment;
  std::error_code ec;
  std::filesystem::path dataDir = std::filesystem::absolute(options_.dataDir, ec);
  if (mode != RunMode::kCheck) {
    bool created = std::filesystem::create_directories(dataDir, ec);
    if (created && mode == RunMode::kCommand) {
      err << "kefu: created the data directory " << dataDir.string() << "\n";
    }
    if (!ec && !std::filesystem::is_directory(dataDir)) {
      ec = std::make_error_code(std::errc::not_a_directory);
    }
    if (ec) {
      err << "kefu: cannot create the data directory " << dataDir.string() << ": "
          << ec.message() << "\n";
      return false;
    }
  }

  // Logging: checks write nothing, so they log to stderr only, and only what their own
  // summary does not say. Commands keep stderr for their output: warnings and worse.
  LogOptions lo;
  lo.level = d.log.level;
  if (mode == RunMode::kCheck) lo.level = "critical";
  if (mode == RunMode::kCommand &&
      (lo.level == "info" || lo.level == "debug" || lo.level == "trace")) {
    lo.level = "warn";
  }
  lo.json = d.log.format == "json";
  if (mode != RunMode::kCheck && !d.log.file.empty()) {
    std::filesystem::path f(d.log.file);
    lo.file = f.is_absolute() ? f : dataDir / f;
  }
  try {
    initLogging(lo);
  } catch (const std::exception& e) {
    err << "kefu: cannot open the log file " << lo.file.string() << ": " << e.what() << "\n";
    return false;
  }

  // The store is only described until a plugin or the host needs it.
  StoreOptions so;
  so.url = d.store.url;
  so.synchronousFull = d.store.synchronous == "full";
  so.busyTimeoutMs = d.store.busyTimeoutMs;
  so.dataDir = dataDir;
  so.readOnlyCheck = mode == RunMode::kCheck;
  if (!d.store.password.empty() && mode != RunMode::kCheck && loaded_.ok()) {
    auto pw = readSecret(d.store.password, dataDir);
    if (!pw) {
      errors_.push_back({{d.file.string(), 0, 0}, "store.password", pw.status().message()});
    } else {
      so.password = *pw;
    }
  }
  std::unique_ptr<StoreImpl> store;
  try {
    store = std::make_unique<StoreImpl>(so);
  } catch (const std::exception& e) {
    bool reported = std::any_of(errors_.begin(), errors_.end(),
                                [](const ConfigError& ce) { return ce.key == "store.url"; });
    if (!reported) errors_.push_back({d.store.urlPos, "store.url", e.what()});
    so.url = "sqlite://kefu.db";
    store = std::make_unique<StoreImpl>(so);
  }
  runtime_ = std::make_unique<HostRuntime>(dataDir, std::make_unique<RealClock>(),
                                           std::move(store), mode);

  // Plugins: open, check keys, order, configure.
  PluginManagerOptions po;
  po.mode = mode;
  po.extraDirs = options_.pluginDirs;
  po.inspectDisabled = options_.inspectDisabled;
  plugins_ = std::make_unique<PluginManager>(d, *runtime_, po);
  // Plugin keys are checked even when the host tables had errors, so that one run of
  // `kefu check` reports everything.
  plugins_->load(errors_);
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.pos.file, a.pos.line, a.pos.column) <
           std::tie(b.pos.file, b.pos.line, b.pos.column);
  });
  constexpr size_t kShown = 100;
  for (size_t i = 0; i < errors_.size() && i < kShown; ++i) err << errors_[i].toString() << "\n";
  if (errors_.size() > kShown) err << "... and " << errors_.size() - kShown << " more\n";
  if (!errors_.empty()) {
    err << "kefu: " << errors_.size() << " error" << (errors_.size() == 1 ? "" : "s") << " in "
        << options_.config.string() << "\n";
    return false;
  }
  plugins_->configure();
  if (plugins_->fatal()) {
    err << "kefu: " << plugins_->fatalReason() << "\n";
    return false;
  }
  return true;
}

bool Host::startPlugins(std::ostream& err) {
  // The host's own tables first, then each plugin's, in dependency order.
  if (Status s = runtime_->store().ping(); !s.ok()) {
    err << "kefu: cannot open the store (" << runtime_->store().describe()
        << "): " << s.message() << "\n";
    return false;
  }
  hostLog().info("store: {}", runtime_->store().describe());
  plugins_->migrate();
  plugins_->start();
  if (plugins_->fatal()) {
    err << "kefu: " << plugins_->fatalReason() << "\n";
    plugins_->stop();
    return false;
  }
  return true;
}

void Host::stopPlugins() {
  if (plugins_) plugins_->stop();
}

std::string Host::pluginsJson() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& r : plugins_->records()) {
    nlohmann::json j;
    j["name"] = r->name;
    j["version"] = r->version();
    j["sdk_version"] = r->library.sdkVersion();
    j["file"] = r->file.string();
    j["state"] = pluginStateName(r->state);
    j["enabled"] = r->enabled;
    j["required"] = r->required;
    if (const PluginInfo* info = r->info()) {
      j["kinds"] = info->kinds;
      j["provides"] = info->provides;
      j["depends"] = info->depends;
      j["description"] = info->description;
      j["maturity"] = info->maturity == Maturity::kStable ? "stable"
                      : info->maturity == Maturity::kBeta ? "beta"
                                                          : "alpha";
      j["handles_personal_data"] = info->handlesPersonalData;
      nlohmann::json keys = nlohmann::json::array();
      for (const auto& k : info->configKeys) {
        keys.push_back({{"name", k.name},
                        {"type", configTypeName(k.type)},
                        {"required", k.required},
                        {"default", k.defaultValue},
                        {"description", k.description}});
      }
      j["config_keys"] = std::move(keys);
    }
    if (!r->error.empty()) j["error"] = r->error;
    arr.push_back(std::move(j));
  }
  return arr.dump();
}

bool Host::setUpAdminToken(std::ostream& err) {
  // The administrator token is for bootstrapping and automation (it stays valid beside the
  // users of an authenticator plugin); it acts with the admin role. It is generated on
  // first start and kept readable by the owner only.
  auto path = runtime_->resolvePath(loaded_.deployment.http.tokenFile);
  std::ifstream in(path);
  bool existed = in && std::getline(in, adminToken_);
  while (!adminToken_.empty() && (adminToken_.back() == '\r' || adminToken_.back() == ' ')) {
    adminToken_.pop_back();
  }
  if (existed && adminToken_.size() >= 32) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      hostLog().warn("the token file {} is readable by others; chmod 600 it", path.string());
    }
    return true;
  }
  if (existed) {
    hostLog().warn("the token file {} holds no usable token (32 characters or more); "
                   "writing a new one", path.string());
  }
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  adminToken_ = hex;
  std::filesystem::create_directories(path.parent_path());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  // An existing file keeps its mode on open: make it private before the token goes in.
  if (fd >= 0 && ::fchmod(fd, 0600) != 0) {
    ::close(fd);
    fd = -1;
  }
  if (fd < 0 || ::write(fd, hex, 64) != 64 || ::write(fd, "\n", 1) != 1) {
    int e = errno;
    if (fd >= 0) ::close(fd);
    err << "kefu: cannot write the token file " << path.string() << ": " << std::strerror(e)
        << "\n";
    return false;
  }
  ::close(fd);
  hostLog().info("created the administrator token in {}", path.string());
  return true;
}

void Host::registerCoreRoutes() {
  HttpRouter& router = runtime_->router();
  auto& metrics = runtime_->metrics();
  RouteOptions open;
  open.authenticated = false;

  (void)router.add("host", "GET", "/healthz", [this](const HttpRequest&) {
    int loaded = 0, failed = 0;
    for (const auto& r : plugins_->records()) {
      loaded += r->state == PluginState::kLoaded;
      failed += r->state == PluginState::kFailed && r->enabled;
    }
    // Liveness: 200 while the host serves, "degraded" when an enabled plugin failed.
    nlohmann::json j;
    j["name"] = loaded_.deployment.host.name;
    j["status"] = failed ? "degraded" : "ok";
    j["plugins"] = {{"loaded", loaded}, {"failed", failed}};
    return HttpResponse::json(200, j.dump());
  }, open);

  (void)router.add("host", "GET", "/metrics", [this, &metrics](const HttpRequest&) {
    std::map<std::string, int> byState = {{"loaded", 0}, {"disabled", 0}, {"failed", 0}};
    for (const auto& r : plugins_->records()) byState[pluginStateName(r->state)]++;
    for (const auto& [s, n] : byState) {
      metrics.gauge("kefu_plugins", "Plugins by state", {{"state", s}}).set(n);
    }
    metrics.gauge("kefu_uptime_seconds", "Seconds since the host started")
        .set(std::chrono::duration<double>(std::chrono::steady_clock::now() - startedAt_)
                 .count());
    metrics.gauge("kefu_events_published", "Events published on the bus since start")
        .set(double(runtime_->events().published()));
    HttpResponse r = HttpResponse::text(200, metrics.render());
    r.contentType = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  }, open);

  (void)router.add("host", "GET", "/api/v1/plugins", [this](const HttpRequest&) {
    return HttpResponse::json(200, "{\"plugins\":" + pluginsJson() + "}");
  }, RouteOptions{});

  // The WebSocket behind it is added to the server in serve().
  (void)addEventStreamRoute(router);

  router.setAuditor([this](const HttpRequest& req, const HttpResponse& resp,
                           const std::string& pattern) {
    auto log = runtime_->services().find(AuditLog::kInterfaceName);
    if (!log) return;
    AuditEntry e;
    e.actor = req.principal.id.empty() ? "anonymous" : req.principal.id;
    e.action = req.method + " " + pattern;
    e.target = req.path;
    e.detail = "status " + std::to_string(resp.status);
    e.remoteAddress = req.remoteAddress;
    Status s = static_cast<AuditLog*>(log.get())->record(e);
    if (!s.ok()) hostLog().error("audit log: {}", s.message());
  });

  router.setAuthenticator([this](const HttpRequest& req) -> Result<Principal> {
    std::string token = req.bearerToken();
    if (token.empty()) {
      return Status::unauthenticated("missing bearer token (Authorization: Bearer <token>)");
    }
    if (token.size() == adminToken_.size() &&
        sodium_memcmp(token.data(), adminToken_.data(), token.size()) == 0) {
      return Principal{"admin-token", {"admin"}};
    }
    auto delegate = runtime_->services().find(Authenticator::kInterfaceName);
    if (delegate) return static_cast<Authenticator*>(delegate.get())->authenticate(req);
    return Status::unauthenticated("invalid or expired token");
  });
}

bool Host::setUpHttp(std::ostream& err) {
  if (!setUpAdminToken(err)) return false;
  registerCoreRoutes();
  return true;
}

bool Host::lockDataDir(std::ostream& err) {
  // One serving host per data directory: two would both write the store and the token.
  auto path = runtime_->dataDir() / "kefu.lock";
  lockFd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lockFd_ < 0) {
    err << "kefu: cannot open " << path.string() << ": " << std::strerror(errno) << "\n";
    return false;
  }
  if (::flock(lockFd_, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    (void)!::pread(lockFd_, pid, sizeof pid - 1, 0);
    for (char* p = pid; *p; ++p) {
      if (*p == '\n') *p = '\0';
    }
    err << "kefu: another kefu (pid " << (pid[0] ? pid : "?") << ") is serving the data "
        << "directory " << runtime_->dataDir().string() << "\n";
    return false;
  }
  std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lockFd_, 0) != 0 || ::pwrite(lockFd_, me.data(), me.size(), 0) < 0) {
    hostLog().warn("cannot write the pid into {}", path.string());
  }
  return true;
}

int Host::serve(std::ostream& out, std::ostream& err) {
  const Deployment& d = loaded_.deployment;
  std::string listen = options_.listen.empty() ? d.http.listen : options_.listen;
  HttpServerOptions so;
  Status s = parseListen(listen, so.host, so.port);
  if (!s.ok()) {
    err << "kefu: --listen: " << s.message() << "\n";
    return 2;
  }
  so.threads = d.http.threads;
  so.maxBodyBytes = static_cast<size_t>(d.http.maxBodyBytes);
  if (!setUpHttp(err)) return 1;
  runtime_->metrics()
      .gauge("kefu_build_info", "Kefu version", {{"version", KEFU_VERSION},
                                                  {"sdk", KEFU_SDK_VERSION_STRING}})
      .set(1);

  server_ = std::make_unique<HttpServer>(runtime_->router(), so);
  server_->addWebSocket(kEventStreamPath,
                        eventStreamWebSocket(runtime_->events(), runtime_->metrics()));
  for (const auto& path : runtime_->router().webSocketPaths()) {
    server_->addWebSocket(path, pluginWebSocket(runtime_->router(), path));
  }
  s = server_->start();
  if (!s.ok()) {
    err << "kefu: " << s.message() << "\n";
    return 1;
  }
  int loaded = 0, failed = 0;
  for (const auto& r : plugins_->records()) {
    loaded += r->state == PluginState::kLoaded;
    failed += r->state == PluginState::kFailed && r->enabled;
  }
  std::string host = so.host.find(':') != std::string::npos ? "[" + so.host + "]" : so.host;
  out << "kefu " << KEFU_VERSION << " serving on http://" << host << ":" << server_->port()
      << " (" << loaded << " plugins loaded, " << failed << " failed; data in "
      << runtime_->dataDir().string() << ")" << std::endl;
  hostLog().info("{} listening on {}:{}", d.host.name, so.host, server_->port());

  // Wait for the shutdown signal on this thread; all others have it blocked.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
    // The log file is opened once; rotate it with copytruncate.
    hostLog().info("received SIGHUP; nothing to reload (rotate logs with copytruncate)");
  }
  hostLog().info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");

  // Stop taking work, let what was accepted finish, then stop plugins in reverse order.
  // Event streams never finish on their own: they are told the server is going away (and
  // their bus subscriptions end) before the plugins that publish to them stop.
  server_->stopAccepting();
  server_->closeWebSockets(
      std::chrono::milliseconds(std::min<int64_t>(2000, d.host.shutdownTimeoutMs)));
  if (!server_->drain(std::chrono::milliseconds(d.host.shutdownTimeoutMs))) {
    hostLog().warn("requests still running after {} ms; stopping anyway",
                   d.host.shutdownTimeoutMs);
  }
  server_->stop();
  plugins_->stop();
  hostLog().info("stopped");
  return 0;
}

}  // namespace kefu::core
