// SPDX-License-Identifier: Apache-2.0
//
// One configurable plugin compiled into several test .so files. Compile definitions pick
// its name, dependencies, SDK version and the step at which it misbehaves:
//   TEST_PLUGIN_NAME       plugin name (string literal)
//   TEST_PLUGIN_DEPENDS    comma-separated dependency list in braces, e.g. {"lc-a"}
//   TEST_FAIL_AT           0 none, 1 configure returns an error, 2 start throws
//   TEST_SDK_MAJOR/MINOR   override the SDK version recorded in the descriptor
//   TEST_NO_ENTRY          build without the entry symbol
//
// Each lifecycle call is appended to the file named by the `record_file` key, so tests can
// check the order in which the host drives plugins.
#include <fstream>
#include <stdexcept>

#include "kefu/sdk.h"

#ifdef TEST_SDK_MAJOR
#undef KEFU_SDK_VERSION_MAJOR
#define KEFU_SDK_VERSION_MAJOR TEST_SDK_MAJOR
#endif
#ifdef TEST_SDK_MINOR
#undef KEFU_SDK_VERSION_MINOR
#define KEFU_SDK_VERSION_MINOR TEST_SDK_MINOR
#endif
#ifndef TEST_PLUGIN_DEPENDS
#define TEST_PLUGIN_DEPENDS {}
#endif
#ifndef TEST_FAIL_AT
#define TEST_FAIL_AT 0
#endif

namespace {

class TestPlugin : public kefu::Plugin {
 public:
  kefu::Status configure(kefu::HostContext& ctx) override {
    ctx_ = &ctx;
    recordFile_ = ctx.config().getString("record_file", "");
    record("configure");
    if (ctx.config().getInt("answer", 42) != 42) {
      return ctx.config().error("answer", "must be 42");
    }
    if (TEST_FAIL_AT == 1) return kefu::Status::invalidArgument("refusing to configure");
    kefu::RouteOptions open;
    open.authenticated = false;
    return ctx.http().add("GET", std::string("/test/") + TEST_PLUGIN_NAME,
                          [](const kefu::HttpRequest&) {
                            return kefu::HttpResponse::json(200, "{\"ok\":true}");
                          },
                          open);
  }

  std::vector<kefu::Migration> migrations() const override {
    std::string table = std::string("t_") + TEST_PLUGIN_NAME;
    for (auto& c : table) c = c == '-' ? '_' : c;
    return {{1, "one table", "CREATE TABLE " + table + " (id INTEGER PRIMARY KEY)", ""}};
  }

  kefu::Status start() override {
    record("start");
    if (TEST_FAIL_AT == 2) throw std::runtime_error("boom in start");
    return {};
  }

  void stop() override { record("stop"); }

 private:
  void record(const char* step) {
    if (recordFile_.empty()) return;
    std::ofstream out(ctx_->resolvePath(recordFile_), std::ios::app);
    out << TEST_PLUGIN_NAME << " " << step << "\n";
  }

  kefu::HostContext* ctx_ = nullptr;
  std::string recordFile_;
};

[[maybe_unused]] kefu::PluginInfo info() {
#ifdef TEST_INFO_THROWS
  throw std::runtime_error("no info today");
#endif
  kefu::PluginInfo i;
  i.description = "test plugin";
  i.kinds = {"test"};
  i.provides = {std::string("test.") + TEST_PLUGIN_NAME};
  i.depends = TEST_PLUGIN_DEPENDS;
  i.configKeys = {{"record_file", kefu::ConfigType::kString, "lifecycle log", false, ""},
                  {"answer", kefu::ConfigType::kInt, "must be 42", false, "42"}};
  return i;
}

}  // namespace

#ifndef TEST_NO_ENTRY
KEFU_PLUGIN(TestPlugin, TEST_PLUGIN_NAME, "9.8.7", info)
#else
// Exported, but not the entry symbol: the host must call this "not a plugin".
extern "C" KEFU_EXPORT int kefu_something_else() { return 1; }
#endif
