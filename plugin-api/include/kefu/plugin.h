// SPDX-License-Identifier: Apache-2.0
//
// Plugin: the interface every Kefu plugin implements, and the entry descriptor the host
// reads from the plugin's shared library.
//
// A plugin is a shared library named kefu-<name>.so that exports one C symbol,
// `kefu_plugin_v1`, produced by KEFU_PLUGIN():
//
//   class JournalPlugin : public kefu::Plugin { ... };
//
//   static kefu::PluginInfo journalInfo() {
//     kefu::PluginInfo info;
//     info.description = "Stores every event of the bus";
//     info.kinds = {"journal"};
//     info.configKeys = {{"retention_days", kefu::ConfigType::kInt, "Days to keep", false, "90"}};
//     return info;
//   }
//   KEFU_PLUGIN(JournalPlugin, "event-journal", "1.2.0", journalInfo)
//
// Lifecycle, driven by the host in dependency order (stop in reverse order):
//   configure(ctx)  read and validate config, register services, routes, CLI commands.
//                   Must not write state or open connections: `kefu check` runs it too.
//   [migrations()]  the host applies them between configure and start.
//   start()         begin work: open sessions, subscribe, set timers.
//   stop()          end work; called only after a successful start(). Must not throw.
// A failed Status or an exception from configure() or start() marks the plugin failed; the
// host names it with its file and the reason and goes on without it, unless the deployment
// marks it `required`, in which case the host refuses to start.
//
// Threading: the host calls these functions from one thread, never concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kefu/config.h"
#include "kefu/export.h"
#include "kefu/host_context.h"
#include "kefu/status.h"
#include "kefu/store.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

// How far a plugin is along; shown in `kefu plugins list` (operators can refuse alpha).
enum class Maturity { kStable, kBeta, kAlpha };

// What a plugin is, read by the host before it creates an instance.
struct PluginInfo {
  std::string description;
  // Domain kinds it provides: "channel", "router", "qa", "wfm", "knowledge", "emergency",
  // "journal", "monitor", ...
  std::vector<std::string> kinds;
  // Interface names it provides through the ServiceRegistry ("kefu.Router/1").
  std::vector<std::string> provides;
  // Plugin names, interface names or kinds it needs. Each must be provided by an enabled
  // plugin that runs, or this plugin fails with a message naming the missing dependency.
  std::vector<std::string> depends;
  // Every key its [plugins.<name>] table may hold.
  std::vector<ConfigKey> configKeys;
  Maturity maturity = Maturity::kStable;
  // True if it stores or shows ID-card, mobile or bank-card numbers.
  bool handlesPersonalData = false;
};

class Plugin {
 public:
  virtual ~Plugin() = default;

  virtual Status configure(HostContext& ctx) = 0;

  // Schema steps for this plugin's tables, oldest first. Called after configure().
  virtual std::vector<Migration> migrations() const { return {}; }

  virtual Status start() = 0;

  virtual void stop() = 0;
};

KEFU_SDK_NAMESPACE_END

// The entry descriptor. Its layout is C and only ever grows at the end (struct_size tells
// the host how much of it a plugin filled). The host reads the C fields and checks the SDK
// version before it calls any of the C++ functions.
extern "C" {
struct KefuPluginDescriptorV1 {
  uint32_t struct_size;
  uint32_t sdk_major;
  uint32_t sdk_minor;
  uint32_t sdk_patch;
  const char* name;
  const char* version;
  const char* toolchain;
  const kefu::PluginInfo* (*info)();
  kefu::Plugin* (*create)();
  void (*destroy)(kefu::Plugin*);
};
}

#define KEFU_PLUGIN_ENTRY_SYMBOL "kefu_plugin_v1"

// Declares the plugin's entry symbol. `PluginClass` needs a default constructor; `infoFn`
// is a function returning kefu::PluginInfo. `name` and `version` are string literals;
// `version` follows semantic versioning.
#define KEFU_PLUGIN(PluginClass, name, version, infoFn)                                 \
  extern "C" KEFU_EXPORT const KefuPluginDescriptorV1* kefu_plugin_v1() {               \
    static const KefuPluginDescriptorV1 descriptor = {                                  \
        sizeof(KefuPluginDescriptorV1),                                                 \
        KEFU_SDK_VERSION_MAJOR,                                                         \
        KEFU_SDK_VERSION_MINOR,                                                         \
        KEFU_SDK_VERSION_PATCH,                                                         \
        name,                                                                           \
        version,                                                                        \
        KEFU_TOOLCHAIN_STDLIB,                                                          \
        []() -> const ::kefu::PluginInfo* {                                             \
          static const ::kefu::PluginInfo kefuInfo = infoFn();                            \
          return &kefuInfo;                                                             \
        },                                                                              \
        []() -> ::kefu::Plugin* { return new PluginClass(); },                          \
        [](::kefu::Plugin* p) { delete p; },                                            \
    };                                                                                  \
    return &descriptor;                                                                 \
  }
