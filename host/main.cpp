// SPDX-License-Identifier: Apache-2.0
//
// The kefu executable: built-in commands (serve, check, plugins list, --version) plus the
// commands that enabled plugins register.
#include <algorithm>
#include <cstring>
#include <iomanip>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "kefu/core/host.h"
#include "kefu/core/http_server.h"
#include "kefu/version.h"

namespace {

using kefu::core::Host;
using kefu::core::HostOptions;

// Options every command that reads a deployment shares.
struct CommonOptions {
  std::string config;
  std::string dataDir = ".";
  std::vector<std::string> pluginDirs;

  void addTo(CLI::App* cmd, bool configRequired = true) {
    auto* c = cmd->add_option("--config,-c", config, "Deployment file (TOML)");
    if (configRequired) c->required();
    cmd->add_option("--data-dir", dataDir,
                    "Directory for state; relative paths in the config resolve against it")
        ->capture_default_str();
    cmd->add_option("--plugin-dir", pluginDirs,
                    "Extra directory searched for kefu-<name>.so before the configured ones");
  }
  HostOptions hostOptions() const {
    HostOptions o;
    o.config = config;
    o.dataDir = dataDir;
    for (const auto& d : pluginDirs) o.pluginDirs.emplace_back(d);
    return o;
  }
};

// Exit codes of every command: 0 fine, 1 something could not run (a plugin, a port),
// 2 the deployment or the command line is wrong.
int runCheck(const CommonOptions& common) {
  Host host(common.hostOptions());
  if (!host.prepare(kefu::RunMode::kCheck, std::cerr)) return host.errors().empty() ? 1 : 2;
  int failed = 0;
  std::string enabled;
  for (const auto& r : host.plugins().records()) {
    if (!r->enabled) continue;
    if (r->state == kefu::core::PluginState::kFailed) {
      std::cerr << common.config << ": plugin '" << r->name << "' (" << r->file.string()
                << "): " << r->error << "\n";
      ++failed;
    } else {
      enabled += (enabled.empty() ? "" : ", ") + r->name;
    }
  }
  if (failed) {
    std::cerr << "kefu: " << failed << " enabled plugin" << (failed == 1 ? "" : "s")
              << " cannot run\n";
    return 1;
  }
  std::cout << common.config << ": OK (plugins enabled: " << (enabled.empty() ? "none" : enabled)
            << ")\n";
  return 0;
}

int runPluginsList(const CommonOptions& common, bool json) {
  HostOptions o = common.hostOptions();
  o.inspectDisabled = true;
  Host host(o);
  if (!host.prepare(kefu::RunMode::kCheck, std::cerr) && !host.errors().empty()) return 2;
  if (json) {
    std::cout << nlohmann::json::parse(host.pluginsJson()).dump(2) << "\n";
    return 0;
  }
  // A fixed-width table: NAME VERSION API KIND FILE STATE, then the reasons for failures.
  std::vector<std::array<std::string, 6>> rows;
  rows.push_back({"NAME", "VERSION", "API", "KIND", "FILE", "STATE"});
  for (const auto& r : host.plugins().records()) {
    std::string kinds;
    if (const auto* info = r->info()) {
      for (const auto& k : info->kinds) kinds += (kinds.empty() ? "" : ",") + k;
    }
    auto dash = [](std::string s) { return s.empty() ? std::string("-") : s; };
    rows.push_back({r->name, dash(r->version()), dash(r->library.sdkVersion()), dash(kinds),
                    dash(r->file.string()), kefu::core::pluginStateName(r->state)});
  }
  std::array<size_t, 6> width{};
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      std::cout << row[i];
      if (i + 1 < row.size()) std::cout << std::string(width[i] - row[i].size() + 2, ' ');
    }
    std::cout << "\n";
  }
  for (const auto& r : host.plugins().records()) {
    if (!r->error.empty()) std::cout << "\n" << r->name << ": " << r->error << "\n";
  }
  return 0;
}

int runServe(const CommonOptions& common, const std::optional<std::string>& listen) {
  // A bad --listen is a usage error: refuse it before anything is opened or started.
  if (listen) {
    std::string h;
    unsigned short p;
    auto s = kefu::core::parseListen(*listen, h, p);
    if (!s.ok()) {
      std::cerr << "kefu: --listen: " << s.message() << "\n";
      return 2;
    }
  }
  HostOptions o = common.hostOptions();
  o.listen = listen.value_or("");
  Host host(o);
  if (!host.prepare(kefu::RunMode::kServe, std::cerr)) return 2;
  if (!host.lockDataDir(std::cerr)) return 1;
  if (!host.startPlugins(std::cerr)) return 1;
  return host.serve(std::cout, std::cerr);
}

// Finds the value of `--name VALUE` or `--name=VALUE` in argv.
std::vector<std::string> scanOption(int argc, char** argv, const std::string& name) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == name && i + 1 < argc) {
      out.emplace_back(argv[++i]);
    } else if (a.rfind(name + "=", 0) == 0) {
      out.push_back(a.substr(name.size() + 1));
    }
  }
  return out;
}

// Commands that run without a deployment: when no --config is given, the host writes a
// throw-away one in a temporary directory that enables just the plugins the command needs,
// and runs the plugin's command on it. `words` are what the user types after `kefu`,
// `command` the words the plugin registered.
struct StandaloneCommand {
  std::vector<std::string> words;
  std::vector<std::string> plugins;
  std::vector<std::string> command;
};

const std::vector<StandaloneCommand>& standaloneCommands() {
  static const std::vector<StandaloneCommand> kCommands = {
      {{"bench", "routing"}, {"routing-acd"}, {"routing", "bench"}},
      {{"report"}, {"call-analytics"}, {"report"}},
      // gen-calls lives in the replay plugin, which needs the router factory of routing-acd.
      {{"gen-calls"}, {"replay", "routing-acd"}, {"gen-calls"}},
      // Planning commands that read and write files only; publish and adherence need the
      // deployment's store, so they keep --config.
      {{"wfm", "staff"}, {"wfm"}, {"wfm", "staff"}},
      {{"wfm", "forecast"}, {"wfm"}, {"wfm", "forecast"}},
      {{"wfm", "accuracy"}, {"wfm"}, {"wfm", "accuracy"}},
      {{"wfm", "schedule"}, {"wfm"}, {"wfm", "schedule"}},
  };
  return kCommands;
}

// "kefu report, kefu gen-calls, ..." for the commands that start with `word` (all if empty).
std::string standaloneList(const std::string& word = "") {
  std::string out;
  for (const auto& c : standaloneCommands()) {
    if (!word.empty() && c.words.front() != word) continue;
    out += out.empty() ? "kefu" : ", kefu";
    for (const auto& w : c.words) out += " " + w;
  }
  return out;
}

int runStandalone(const StandaloneCommand& cmd, int argc, char** argv);

// A command that an enabled plugin registered, e.g. `kefu journal tail --config F`.
// `standalone`: the command also runs without --config (see runStandalone()).
int runPluginCommand(int argc, char** argv, bool standalone = false) {
  CommonOptions common;
  auto configs = scanOption(argc, argv, "--config");
  if (configs.empty()) configs = scanOption(argc, argv, "-c");
  if (configs.empty()) {
    // A word some config-free commands start with (`kefu wfm --help`): its help comes from
    // a throw-away deployment of their plugins; its other commands need the deployment.
    StandaloneCommand group{{argv[1]}, {}, {argv[1]}};
    for (const auto& c : standaloneCommands()) {
      if (c.words.front() != group.words.front()) continue;
      for (const auto& p : c.plugins) {
        if (std::find(group.plugins.begin(), group.plugins.end(), p) == group.plugins.end()) {
          group.plugins.push_back(p);
        }
      }
    }
    if (!group.plugins.empty() && !standalone) {
      bool help = false;
      for (int i = 2; i < argc; ++i) {
        help |= std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0;
      }
      if (help) return runStandalone(group, argc, argv);
      if (argc == 2) {
        // `kefu wfm` alone: its help, and the exit code of a missing command.
        char flag[] = "--help";
        char* withHelp[] = {argv[0], argv[1], flag};
        runStandalone(group, 3, withHelp);
        return 2;
      }
      std::cerr << "kefu: 'kefu " << argv[1] << (argc > 2 ? std::string(" ") + argv[2] : "")
                << "' needs --config FILE (a deployment that enables the plugin); these run "
                   "without it: "
                << standaloneList(argv[1]) << "\n";
      return 2;
    }
    std::cerr << "kefu: unknown command '" << argv[1]
              << "'. Commands of plugins need --config FILE to find the plugin that provides "
                 "them; run 'kefu --help' for the built-in commands.\n";
    return 2;
  }
  common.config = configs.back();
  if (auto d = scanOption(argc, argv, "--data-dir"); !d.empty()) common.dataDir = d.back();
  common.pluginDirs = scanOption(argc, argv, "--plugin-dir");

  Host host(common.hostOptions());
  if (!host.prepare(kefu::RunMode::kCommand, std::cerr)) return 2;

  // Build the command tree from the plugins' registrations.
  CLI::App app{"Kefu customer-service center"};
  app.require_subcommand(1);
  struct Bound {
    std::string owner;
    const kefu::CliCommand* command;
    CLI::App* app;
    std::map<std::string, CLI::Option*> options;
    std::map<std::string, std::vector<std::string>> values;
    // The command's own copy of the common options: CLI11 writes them at parse time (the
    // values used are the ones parsed before the deployment was loaded).
    CommonOptions common;
  };
  std::vector<std::unique_ptr<Bound>> bound;
  if (standalone) {
    app.footer("These run without --config: " + standaloneList() + ".");
  }
  for (const auto& entry : host.runtime().cli().entries()) {
    CLI::App* parent = &app;
    for (size_t i = 0; i < entry.command.path.size(); ++i) {
      const std::string& word = entry.command.path[i];
      CLI::App* sub = nullptr;
      try {
        sub = parent->get_subcommand(word);
      } catch (const CLI::OptionNotFound&) {
        sub = parent->add_subcommand(word, i + 1 == entry.command.path.size()
                                               ? entry.command.help
                                               : "Commands of plugin '" + entry.owner + "'");
        if (i == 0 && entry.command.path.size() > 1 && !standaloneList(word).empty()) {
          sub->footer("These run without --config: " + standaloneList(word) +
                      "; the others need the deployment's --config.");
        }
      }
      parent = sub;
    }
    auto b = std::make_unique<Bound>();
    b->owner = entry.owner;
    b->command = &entry.command;
    b->app = parent;
    b->common.addTo(parent, !standalone);
    for (const auto& opt : entry.command.options) {
      CLI::Option* o;
      if (opt.flag) {
        o = parent->add_flag(opt.name, opt.help);
      } else {
        o = parent->add_option(opt.name, b->values[opt.name], opt.help);
        o->expected(1, opt.multiple ? 1 << 20 : 1);
        if (!opt.defaultValue.empty()) o->default_str(opt.defaultValue);
      }
      if (opt.required) o->required();
      b->options[opt.name] = o;
    }
    bound.push_back(std::move(b));
  }
  // A command word no enabled plugin registered: say so instead of CLI11's generic error.
  bool known = std::any_of(host.runtime().cli().entries().begin(),
                           host.runtime().cli().entries().end(),
                           [&](const auto& e) { return e.command.path.front() == argv[1]; });
  if (!known) {
    std::cerr << "kefu: no enabled plugin of " << common.config << " provides the command '"
              << argv[1] << "'; run 'kefu plugins list --config " << common.config
              << "' to see which plugins are enabled\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other command-line mistake exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }

  for (const auto& b : bound) {
    if (!b->app->parsed()) continue;
    kefu::CliArgs args;
    for (const auto& opt : b->command->options) {
      CLI::Option* o = b->options[opt.name];
      if (o->count() > 0 && opt.flag) {
        // CLI11 lets a flag take a value (--flag=no); the last one given counts, as for
        // the host's own flags, so that --flag=false is not read as --flag.
        bool on = false;
        try {
          on = o->as<bool>();
        } catch (const CLI::Error&) {
          std::cerr << "kefu: " << opt.name << " is a flag: give it alone, or =true or =false "
                    << "(got '" << o->results().back() << "')\n";
          return 2;
        }
        if (on) args.values[opt.name] = {};
      } else if (o->count() > 0) {
        args.values[opt.name] = b->values[opt.name];
      } else if (!opt.flag && !opt.defaultValue.empty()) {
        args.values[opt.name] = {opt.defaultValue};
      }
    }
    if (!host.startPlugins(std::cerr)) return 1;
    kefu::CliIo io{std::cin, std::cout, std::cerr};
    int code = 1;
    try {
      code = b->command->run(args, io);
    } catch (const std::exception& e) {
      std::cerr << "kefu: the command of plugin '" << b->owner << "' failed: " << e.what()
                << "\n";
    }
    host.stopPlugins();
    return code;
  }
  std::cerr << app.help();
  return 2;
}

const StandaloneCommand* findStandalone(int argc, char** argv) {
  for (const auto& c : standaloneCommands()) {
    if (static_cast<size_t>(argc) <= c.words.size()) continue;
    bool match = true;
    for (size_t i = 0; i < c.words.size() && match; ++i) match = c.words[i] == argv[i + 1];
    if (match) return &c;
  }
  return nullptr;
}

int runStandalone(const StandaloneCommand& cmd, int argc, char** argv) {
  int rest = 1 + static_cast<int>(cmd.words.size());
  bool hasConfig = !scanOption(argc, argv, "--config").empty() ||
                   !scanOption(argc, argv, "-c").empty();
  std::vector<std::string> args = {argv[0]};
  args.insert(args.end(), cmd.command.begin(), cmd.command.end());
  std::filesystem::path dir;
  if (!hasConfig) {
    char pattern[] = "/tmp/kefu-run-XXXXXX";
    if (!mkdtemp(pattern)) {
      std::cerr << "kefu: cannot create a temporary directory\n";
      return 1;
    }
    dir = pattern;
    std::ofstream toml(dir / "deployment.toml");
    toml << "[log]\nlevel = \"warn\"\n";
    for (const auto& p : cmd.plugins) toml << "[plugins." << p << "]\nenabled = true\n";
    toml.close();
    args.insert(args.end(), {"--config", (dir / "deployment.toml").string(), "--data-dir",
                             dir.string()});
  }
  for (int i = rest; i < argc; ++i) args.emplace_back(argv[i]);
  std::vector<char*> raw;
  for (auto& a : args) raw.push_back(a.data());
  int code = runPluginCommand(static_cast<int>(raw.size()), raw.data(), true);
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return code;
}

bool isBuiltin(const std::string& w) {
  return w.empty() || w[0] == '-' || w == "serve" || w == "check" || w == "plugins" ||
         w == "version" || w == "help";
}

}  // namespace

int main(int argc, char** argv) {
  std::string first = argc > 1 ? argv[1] : "";
  // Threads created from here on inherit the blocked mask; serve waits for the signals.
  if (first == "serve") Host::blockShutdownSignals();
  if (const auto* standalone = findStandalone(argc, argv)) {
    return runStandalone(*standalone, argc, argv);
  }
  if (!isBuiltin(first)) return runPluginCommand(argc, argv);

  CLI::App app{"Kefu: customer-service center for insurers (host " KEFU_VERSION ", SDK "
               KEFU_SDK_VERSION_STRING ")"};
  app.set_version_flag("--version", std::string("kefu ") + KEFU_VERSION + " (SDK " +
                                        KEFU_SDK_VERSION_STRING ")");
  app.require_subcommand(1);
  app.footer("Plugins add further commands; see them with 'kefu <command> --config F --help'.\n"
             "These run without --config: " + standaloneList() +
             " ('kefu wfm --help' lists the wfm commands).");

  CommonOptions common;
  std::optional<std::string> listen;
  bool json = false;

  auto* version = app.add_subcommand("version", "Print the version");
  auto* serve = app.add_subcommand("serve", "Run the host until SIGTERM or SIGINT");
  common.addTo(serve);
  serve->add_option("--listen", listen, "HOST:PORT to listen on (overrides [http] listen)");
  auto* check = app.add_subcommand("check", "Validate a deployment without starting it");
  common.addTo(check);
  auto* plugins = app.add_subcommand("plugins", "Inspect plugins");
  plugins->require_subcommand(1);
  auto* list = plugins->add_subcommand("list", "List plugins with their state");
  common.addTo(list);
  list->add_flag("--json", json, "Print JSON instead of a table");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other command-line mistake exits 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (version->parsed()) {
    std::cout << "kefu " << KEFU_VERSION << " (SDK " << KEFU_SDK_VERSION_STRING << ")\n";
    return 0;
  }
  if (check->parsed()) return runCheck(common);
  if (list->parsed()) return runPluginsList(common, json);
  if (serve->parsed()) return runServe(common, listen);
  return 2;
}
