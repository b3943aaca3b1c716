// SPDX-License-Identifier: Apache-2.0
//
// hello: the smallest plugin that shows every way a plugin reaches the host. It reads and
// checks one config key, serves GET /api/v1/hello, adds `kefu hello greet --name X` and
// publishes "hello.greeted" for every greeting, so a journal or an audit trail sees it.
//
// It uses nothing but the SDK headers, so it builds against an installed Kefu with
// find_package(Kefu) and no other dependency (see CMakeLists.txt and README.md).
#include <string>

#include "kefu/sdk.h"

namespace {

constexpr const char* kDefaultGreeting = "你好";

class HelloPlugin : public kefu::Plugin {
 public:
  // configure() runs for `kefu check` and `kefu plugins list` too, so it only reads config
  // and registers; it writes nothing and opens nothing.
  kefu::Status configure(kefu::HostContext& ctx) override {
    ctx_ = &ctx;
    const kefu::ConfigValue& cfg = ctx.config();
    // The host has already refused a greeting that is not a string; what a string may
    // contain is ours to check. error() names file, line and key for the operator.
    greeting_ = cfg.getString("greeting", kDefaultGreeting);
    if (greeting_.empty()) return cfg.error("greeting", "must not be empty");

    // Routes are authenticated unless RouteOptions says otherwise: the host answers 401
    // before this handler runs, so req.principal is always set here.
    kefu::Status s = ctx.http().add("GET", "/api/v1/hello", [this](const kefu::HttpRequest& req) {
      auto it = req.query.find("name");
      std::string name = it != req.query.end() ? it->second : req.principal.id;
      return kefu::HttpResponse::json(
          200, "{\"message\":\"" + kefu::jsonEscape(greet(name)) + "\"}");
    });
    if (!s.ok()) return s;

    // The host adds --config, --data-dir and --plugin-dir; we declare only our own option.
    return ctx.cli().add({{"hello", "greet"},
                          "Print a greeting and publish hello.greeted",
                          {{"--name", "Who to greet", /*required=*/true}},
                          [this](const kefu::CliArgs& args, kefu::CliIo& io) {
                            io.out << greet(args.get("--name")) << "\n";
                            return 0;
                          }});
  }

  // Nothing to begin or end: no sessions, subscriptions or timers. The host withdraws the
  // route and the command by itself when the plugin stops.
  kefu::Status start() override { return {}; }
  void stop() override {}

 private:
  // Called from HTTP worker threads concurrently: it only reads greeting_, which is fixed
  // after configure(), and publish() is safe from any thread.
  std::string greet(const std::string& name) {
    kefu::Event event;
    event.topic = "hello.greeted";
    // The journal stores every event; mask any phone or ID number typed in as a name.
    event.payload = "{\"name\":\"" + kefu::jsonEscape(kefu::maskPersonalData(name)) + "\"}";
    ctx_->events().publish(std::move(event));
    return greeting_ + "，" + name;
  }

  kefu::HostContext* ctx_ = nullptr;
  std::string greeting_;
};

kefu::PluginInfo helloInfo() {
  kefu::PluginInfo info;
  info.description = "Sample plugin: greets over HTTP and the CLI";
  info.kinds = {"sample"};
  // The default is written as in TOML, with quotes, because that is how it is shown.
  info.configKeys = {{"greeting", kefu::ConfigType::kString, "Put before the name", false,
                      std::string("\"") + kDefaultGreeting + "\""}};
  return info;
}

}  // namespace

// The name must match the file name kefu-hello.so and the [plugins.hello] table.
KEFU_PLUGIN(HelloPlugin, "hello", "0.1.0", helloInfo)
