// SPDX-License-Identifier: Apache-2.0
#include "kefu/core/config_loader.h"

#include <arpa/inet.h>

#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace kefu::core {
namespace {

SourcePos posOf(const toml::source_region& r, const std::string& file) {
  return {file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

std::string joinKey(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

ConfigValue convert(const toml::node& node, const SourcePos& pos, const std::string& path,
                    const std::string& file) {
  if (auto* t = node.as_table()) {
    ConfigValue::Table table;
    for (auto&& [k, v] : *t) {
      // Values point at themselves (where a wrong value is); tables at their key or header.
      std::string childPath = joinKey(path, k.str());
      const auto& where = v.is_table() ? k.source() : v.source();
      table.emplace(std::string(k.str()), convert(v, posOf(where, file), childPath, file));
    }
    return {std::move(table), pos, path};
  }
  if (auto* a = node.as_array()) {
    ConfigValue::Array arr;
    size_t i = 0;
    for (auto&& e : *a) {
      arr.push_back(convert(e, posOf(e.source(), file), path + "[" + std::to_string(i) + "]",
                            file));
      ++i;
    }
    return {std::move(arr), pos, path};
  }
  if (auto* s = node.as_string()) return {s->get(), pos, path};
  if (auto* i = node.as_integer()) return {i->get(), pos, path};
  if (auto* f = node.as_floating_point()) return {f->get(), pos, path};
  if (auto* b = node.as_boolean()) return {b->get(), pos, path};
  // Dates and times: kept as their TOML text so plugins can parse them as they need.
  std::ostringstream os;
  if (auto* d = node.as_date()) os << d->get();
  if (auto* t = node.as_time()) os << t->get();
  if (auto* dt = node.as_date_time()) os << dt->get();
  return {os.str(), pos, path};
}

// Reads the known keys of one host table and reports the rest.
class SectionReader {
 public:
  SectionReader(const ConfigValue* table, std::string name, std::vector<ConfigError>& errors)
      : table_(table), name_(std::move(name)), errors_(errors) {}

  void str(std::string_view key, std::string& out) {
    if (const auto* v = take(key, ConfigType::kString)) out = v->asString();
  }
  void integer(std::string_view key, int& out, int64_t lo, int64_t hi) {
    int64_t wide = out;
    integer(key, wide, lo, hi);
    out = static_cast<int>(wide);
  }
  void integer(std::string_view key, int64_t& out, int64_t lo, int64_t hi) {
    const auto* v = take(key, ConfigType::kInt);
    if (!v) return;
    if (v->asInt() < lo || v->asInt() > hi) {
      fail(*v, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
      return;
    }
    out = v->asInt();
  }
  void strings(std::string_view key, std::vector<std::string>& out) {
    if (const auto* v = take(key, ConfigType::kStringList)) out = v->asStringList();
  }
  void oneOf(std::string_view key, std::string& out, std::initializer_list<const char*> allowed) {
    const auto* v = take(key, ConfigType::kString);
    if (!v) return;
    std::string list;
    for (const char* a : allowed) {
      if (v->asString() == a) {
        out = a;
        return;
      }
      list += list.empty() ? "" : ", ";
      list += std::string("\"") + a + "\"";
    }
    fail(*v, "must be one of " + list + ", not \"" + v->asString() + "\"");
  }
  const ConfigValue* raw(std::string_view key) const {
    return table_ ? table_->find(key) : nullptr;
  }

  // Reports every key nobody asked for.
  void finish() {
    if (!table_) return;
    for (const auto& [k, v] : table_->asTable()) {
      if (!seen_.count(k)) fail(v, "unknown key in [" + name_ + "]");
    }
  }
  void fail(const ConfigValue& v, std::string reason) {
    errors_.push_back({v.pos(), v.path(), std::move(reason)});
  }

 private:
  const ConfigValue* take(std::string_view key, ConfigType type) {
    seen_.insert(std::string(key));
    const ConfigValue* v = raw(key);
    if (!v) return nullptr;
    if (!v->hasType(type)) {
      fail(*v, std::string("expected ") + configTypeName(type));
      return nullptr;
    }
    return v;
  }

  const ConfigValue* table_;
  std::string name_;
  std::vector<ConfigError>& errors_;
  std::set<std::string, std::less<>> seen_;
};

bool isValidPluginName(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return n.front() >= 'a' && n.front() <= 'z';
}

}  // namespace

bool isLogLevel(std::string_view l) {
  return l == "trace" || l == "debug" || l == "info" || l == "warn" || l == "error" ||
         l == "critical" || l == "off";
}

ParsedToml parseTomlFile(const std::filesystem::path& file) {
  ParsedToml out;
  const std::string name = file.string();
  std::error_code ec;
  if (std::filesystem::exists(file, ec) && !std::filesystem::is_regular_file(file, ec)) {
    out.errors.push_back({{name, 0, 0}, "(file)", "not a regular file"});
    return out;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    out.errors.push_back({{name, 0, 0}, "(file)", "cannot open: " + std::string(
        std::filesystem::exists(file) ? "permission denied or not a file" : "no such file")});
    return out;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    toml::table parsed = toml::parse(buf.str(), name);
    out.root = convert(parsed, {name, 1, 1}, "", name);
  } catch (const toml::parse_error& err) {
    out.errors.push_back(
        {posOf(err.source(), name), "(syntax)", std::string(err.description())});
  }
  return out;
}

LoadedDeployment loadDeployment(const std::filesystem::path& file) {
  LoadedDeployment out;
  out.deployment.file = file;
  ParsedToml parsed = parseTomlFile(file);
  if (!parsed.errors.empty()) {
    out.errors = std::move(parsed.errors);
    return out;
  }
  const ConfigValue& root = parsed.root;
  auto& errors = out.errors;
  Deployment& d = out.deployment;

  // Top level: only the known tables.
  static const std::set<std::string, std::less<>> kSections = {"host", "log", "store", "http",
                                                               "plugins"};
  for (const auto& [k, v] : root.asTable()) {
    if (!kSections.count(k)) {
      errors.push_back({v.pos(), k, "unknown top-level key (expected one of [host], [log], "
                                    "[store], [http], [plugins.<name>])"});
    } else if (!v.isTable()) {
      errors.push_back({v.pos(), k, "expected a table"});
    }
  }
  auto section = [&](const char* name) -> const ConfigValue* {
    const ConfigValue* v = root.find(name);
    return v && v->isTable() ? v : nullptr;
  };

  SectionReader host(section("host"), "host", errors);
  host.str("name", d.host.name);
  host.strings("plugin_dirs", d.host.pluginDirs);
  host.integer("shutdown_timeout_ms", d.host.shutdownTimeoutMs, 0, 3'600'000);
  host.finish();

  SectionReader log(section("log"), "log", errors);
  log.oneOf("level", d.log.level, {"trace", "debug", "info", "warn", "error", "critical", "off"});
  log.oneOf("format", d.log.format, {"text", "json"});
  log.str("file", d.log.file);
  log.finish();

  SectionReader store(section("store"), "store", errors);
  store.str("url", d.store.url);
  if (const auto* u = store.raw("url")) d.store.urlPos = u->pos();
  store.str("password", d.store.password);
  store.oneOf("synchronous", d.store.synchronous, {"normal", "full"});
  store.integer("busy_timeout_ms", d.store.busyTimeoutMs, 0, 600'000);
  store.finish();
  if (const auto* u = store.raw("url"); u && u->isString()) {
    const std::string& url = u->asString();
    if (url.rfind("sqlite://", 0) != 0 && url.rfind("postgresql://", 0) != 0) {
      store.fail(*u, "must start with sqlite:// or postgresql://");
    } else if (url.rfind("postgresql://", 0) == 0) {
      // A password inside the URL would sit in the TOML in clear text.
      std::string rest = url.substr(13);
      auto at = rest.find('@');
      bool inQuery = rest.find("password=") != std::string::npos;
      if (inQuery ||
          (at != std::string::npos && rest.substr(0, at).find(':') != std::string::npos)) {
        store.fail(*u, "the URL holds a password; put it in the environment or a file and "
                       "name it with password = \"env:NAME\" or \"file:PATH\"");
      }
    } else if (url.size() == 9) {
      store.fail(*u, "sqlite:// needs a file path, e.g. sqlite://kefu.db");
    }
  }
  if (const auto* p = store.raw("password"); p && p->isString()) {
    const std::string& ref = p->asString();
    if (ref.rfind("env:", 0) != 0 && ref.rfind("file:", 0) != 0) {
      store.fail(*p, "secrets are never written in the config: use \"env:NAME\" or "
                     "\"file:PATH\"");
    }
  }

  SectionReader http(section("http"), "http", errors);
  http.str("listen", d.http.listen);
  http.integer("threads", d.http.threads, 1, 64);
  http.integer("max_body_bytes", d.http.maxBodyBytes, 1024, int64_t(1) << 30);
  http.str("token_file", d.http.tokenFile);
  http.finish();
  if (const auto* l = http.raw("listen"); l && l->isString()) {
    const std::string& s = l->asString();
    auto colon = s.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < s.size();
    if (ok) {
      for (size_t i = colon + 1; i < s.size(); ++i) ok = ok && std::isdigit(s[i]);
      ok = ok && s.size() - colon - 1 <= 5 && std::stol(s.substr(colon + 1)) <= 65535;
    }
    // The server binds an address, not a name: resolving names is the deployment's job.
    std::string host = ok ? s.substr(0, colon) : "";
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    unsigned char addr[16];
    if (ok && inet_pton(AF_INET, host.c_str(), addr) != 1 &&
        inet_pton(AF_INET6, host.c_str(), addr) != 1) {
      http.fail(*l, "\"" + host + "\" is not an IP address (use e.g. 127.0.0.1 or [::1])");
    } else if (!ok) {
      http.fail(*l, "expected HOST:PORT, e.g. \"127.0.0.1:8080\"");
    }
  }

  // [plugins.<name>] tables: host keys here, plugin keys later against the plugin's info.
  if (const ConfigValue* plugins = section("plugins")) {
    for (const auto& [name, v] : plugins->asTable()) {
      if (!v.isTable()) {
        errors.push_back({v.pos(), v.path(), "expected a table [plugins." + name + "]"});
        continue;
      }
      if (name == "host") {
        // The host registers its own routes and subscriptions under this name.
        errors.push_back({v.pos(), v.path(), "'host' is reserved for the host itself"});
        continue;
      }
      if (!isValidPluginName(name)) {
        errors.push_back({v.pos(), v.path(),
                          "invalid plugin name (lower-case letters, digits, '-', '_')"});
        continue;
      }
      PluginSection ps;
      ps.name = name;
      ps.pos = v.pos();
      ConfigValue::Table own;
      for (const auto& [k, item] : v.asTable()) {
        auto expect = [&](ConfigType t) {
          if (item.hasType(t)) return true;
          errors.push_back({item.pos(), item.path(), std::string("expected ") +
                                                         configTypeName(t)});
          return false;
        };
        if (k == "enabled") {
          if (expect(ConfigType::kBool)) ps.enabled = item.asBool();
        } else if (k == "required") {
          if (expect(ConfigType::kBool)) ps.required = item.asBool();
        } else if (k == "log_level") {
          if (expect(ConfigType::kString)) {
            if (isLogLevel(item.asString())) {
              ps.logLevel = item.asString();
            } else {
              errors.push_back({item.pos(), item.path(),
                                "must be one of trace, debug, info, warn, error, critical, off"});
            }
          }
        } else if (k == "file") {
          if (expect(ConfigType::kString)) ps.file = item.asString();
        } else {
          own.emplace(k, item);
        }
      }
      ps.table = ConfigValue(std::move(own), v.pos(), v.path());
      d.plugins.push_back(std::move(ps));
    }
  }
  return out;
}

}  // namespace kefu::core
