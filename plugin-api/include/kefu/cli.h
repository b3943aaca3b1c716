// SPDX-License-Identifier: Apache-2.0
//
// CLI subcommands that plugins add to the `kefu` executable.
//
// A plugin registers commands while it is configured; `kefu journal tail --config F` then
// loads the deployment, starts its plugins (without opening the HTTP listener), runs the
// handler and stops them again. Every plugin command gets --config and --data-dir from the
// host; declare only your own options:
//
//   ctx.cli().add({{"journal", "tail"}, "Print the newest journal events",
//                  {{"--limit", "How many events", false, false, "20"}},
//                  [this](const kefu::CliArgs& args, kefu::CliIo& io) {
//                    io.out << ...;
//                    return 0;
//                  }});
#pragma once

#include <functional>
#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/status.h"
#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

struct CliOption {
  std::string name;  // "--limit"
  std::string help;
  bool required = false;
  // A flag takes no value (=false, =no, =0: not given); CliArgs::has() tells if it was given.
  bool flag = false;
  // Shown in --help and returned by CliArgs::get() when the option is absent.
  std::string defaultValue;
  // Accepts several values (--pairs a.jsonl b.jsonl).
  bool multiple = false;
};

struct CliArgs {
  std::map<std::string, std::vector<std::string>, std::less<>> values;

  bool has(std::string_view name) const { return values.find(name) != values.end(); }
  // Returns the (last) value of `name`, or `dflt`.
  std::string get(std::string_view name, std::string dflt = {}) const {
    auto it = values.find(name);
    return it == values.end() || it->second.empty() ? dflt : it->second.back();
  }
  std::vector<std::string> getAll(std::string_view name) const {
    auto it = values.find(name);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
};

struct CliIo {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

struct CliCommand {
  // The words after `kefu`, e.g. {"kb", "import"}. The first word must not be a built-in
  // command (serve, check, plugins, version, help). The host adds --config, --data-dir
  // and --plugin-dir to every plugin command.
  std::vector<std::string> path;
  std::string help;
  std::vector<CliOption> options;
  // Returns the process exit code. An exception is reported with the plugin's name and
  // turns into exit code 1.
  std::function<int(const CliArgs&, CliIo&)> run;
};

class CliCommands {
 public:
  virtual ~CliCommands() = default;
  // AlreadyExists, naming the owner, if another plugin registered the same path.
  virtual Status add(CliCommand command) = 0;
};

KEFU_SDK_NAMESPACE_END
