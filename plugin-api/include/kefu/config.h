// SPDX-License-Identifier: Apache-2.0
//
// ConfigValue: a plugin's view of its own `[plugins.<name>]` table of the deployment file.
//
// The host parses the TOML file, checks every key against the plugin's declared ConfigKey
// list (unknown keys and wrong types never reach the plugin) and hands the table over as a
// tree of ConfigValue. Each value remembers where it was written, so a plugin that rejects a
// value can point the operator at the exact line:
//
//   const kefu::ConfigValue& cfg = ctx.config();
//   int64_t limit = cfg.getInt("max_rows", 1000);
//   if (limit <= 0) return cfg.error("max_rows", "must be positive");
//   // -> "deploy.toml:12:12: plugins.journal.max_rows: must be positive"
//
// ConfigValue is an immutable value; reading it from several threads is safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

// Where a value was written in a configuration file. line and column start at 1; 0 means
// "not from a file" (a default, or a value built in code).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;

  // Returns "file:line:column" or "file" or "<default>".
  std::string toString() const {
    if (file.empty()) return "<default>";
    if (line == 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
};

// The types a configuration key may declare.
enum class ConfigType { kBool, kInt, kFloat, kString, kStringList, kTable, kArray, kAny };

inline const char* configTypeName(ConfigType t) {
  switch (t) {
    case ConfigType::kBool: return "boolean";
    case ConfigType::kInt: return "integer";
    case ConfigType::kFloat: return "float";
    case ConfigType::kString: return "string";
    case ConfigType::kStringList: return "array of strings";
    case ConfigType::kTable: return "table";
    case ConfigType::kArray: return "array";
    case ConfigType::kAny: return "any";
  }
  return "?";
}

class ConfigValue {
 public:
  using Array = std::vector<ConfigValue>;
  using Table = std::map<std::string, ConfigValue, std::less<>>;
  using Storage = std::variant<std::monostate, bool, int64_t, double, std::string, Array, Table>;

  ConfigValue() = default;
  ConfigValue(Storage v, SourcePos pos, std::string keyPath)
      : v_(std::move(v)), pos_(std::move(pos)), path_(std::move(keyPath)) {}

  // Kind tests. A float key accepts integers: isNumber() covers both.
  bool isNull() const { return std::holds_alternative<std::monostate>(v_); }
  bool isBool() const { return std::holds_alternative<bool>(v_); }
  bool isInt() const { return std::holds_alternative<int64_t>(v_); }
  bool isFloat() const { return std::holds_alternative<double>(v_); }
  bool isNumber() const { return isInt() || isFloat(); }
  bool isString() const { return std::holds_alternative<std::string>(v_); }
  bool isArray() const { return std::holds_alternative<Array>(v_); }
  bool isTable() const { return std::holds_alternative<Table>(v_); }
  bool isStringList() const {
    if (!isArray()) return false;
    for (const auto& e : asArray()) {
      if (!e.isString()) return false;
    }
    return true;
  }
  bool hasType(ConfigType t) const {
    switch (t) {
      case ConfigType::kBool: return isBool();
      case ConfigType::kInt: return isInt();
      case ConfigType::kFloat: return isNumber();
      case ConfigType::kString: return isString();
      case ConfigType::kStringList: return isStringList();
      case ConfigType::kTable: return isTable();
      case ConfigType::kArray: return isArray();
      case ConfigType::kAny: return true;
    }
    return false;
  }

  // Accessors. REQUIRES: the value has that kind (checked by the host for declared keys).
  bool asBool() const { return std::get<bool>(v_); }
  int64_t asInt() const { return std::get<int64_t>(v_); }
  double asDouble() const { return isInt() ? double(asInt()) : std::get<double>(v_); }
  const std::string& asString() const { return std::get<std::string>(v_); }
  const Array& asArray() const { return std::get<Array>(v_); }
  const Table& asTable() const { return std::get<Table>(v_); }
  std::vector<std::string> asStringList() const {
    std::vector<std::string> out;
    for (const auto& e : asArray()) out.push_back(e.asString());
    return out;
  }

  // Table look-ups. find() returns nullptr when this is not a table or the key is absent.
  const ConfigValue* find(std::string_view key) const {
    if (!isTable()) return nullptr;
    const auto& t = asTable();
    auto it = t.find(key);
    return it == t.end() ? nullptr : &it->second;
  }
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters with a default for an absent key.
  bool getBool(std::string_view key, bool dflt) const {
    const auto* v = find(key);
    return v && v->isBool() ? v->asBool() : dflt;
  }
  int64_t getInt(std::string_view key, int64_t dflt) const {
    const auto* v = find(key);
    return v && v->isInt() ? v->asInt() : dflt;
  }
  double getDouble(std::string_view key, double dflt) const {
    const auto* v = find(key);
    return v && v->isNumber() ? v->asDouble() : dflt;
  }
  std::string getString(std::string_view key, std::string dflt) const {
    const auto* v = find(key);
    return v && v->isString() ? v->asString() : dflt;
  }
  std::vector<std::string> getStringList(std::string_view key,
                                         std::vector<std::string> dflt = {}) const {
    const auto* v = find(key);
    return v && v->isStringList() ? v->asStringList() : dflt;
  }

  const SourcePos& pos() const { return pos_; }
  // The dotted key path from the file's root, e.g. "plugins.journal.max_rows".
  const std::string& path() const { return path_; }

  // Returns an InvalidArgument status that reads "file:line:col: path: reason", pointing at
  // `key` when present, else at this table.
  Status error(std::string_view key, std::string_view reason) const {
    const ConfigValue* v = find(key);
    const SourcePos& p = v ? v->pos() : pos_;
    std::string keyPath = v ? v->path() : (path_.empty() ? "" : path_ + ".") + std::string(key);
    return Status::invalidArgument(p.toString() + ": " + keyPath + ": " + std::string(reason));
  }
  // Same, pointing at this value itself.
  Status error(std::string_view reason) const {
    return Status::invalidArgument(pos_.toString() + ": " + path_ + ": " + std::string(reason));
  }

 private:
  Storage v_;
  SourcePos pos_;
  std::string path_;
};

// ConfigKey declares one key a plugin accepts in its table. The host rejects keys that no
// ConfigKey names and values of the wrong type, before the plugin is configured.
struct ConfigKey {
  std::string name;
  ConfigType type = ConfigType::kString;
  std::string description;
  bool required = false;
  // The default as the operator would write it in TOML, for docs and
  // `kefu plugins list --json`.
  std::string defaultValue;
};

KEFU_SDK_NAMESPACE_END
