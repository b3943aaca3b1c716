// SPDX-License-Identifier: Apache-2.0
//
// What the integration tests do over and over with the real kefu executable: write a
// deployment, run a command to its end, add users, serve on a free loopback port, sign in and
// call the HTTP API. Only for targets that define KEFU_BINARY and KEFU_BUILD_PLUGIN_DIR.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "process.h"

namespace kefu::test {

using Headers = std::map<std::string, std::string>;

// The head every loopback deployment starts with: the build's plugins, HTTP on a free port
// (`httpExtra` adds keys to [http]) and user-auth with the cheapest hash so tests stay fast.
inline std::string authDeploymentHead(const std::string& httpExtra = "") {
  return std::string("[host]\nplugin_dirs = [\"") + KEFU_BUILD_PLUGIN_DIR + "\"]\n" +
         "[http]\nlisten = \"127.0.0.1:0\"\n" + httpExtra +
         "[plugins.user-auth]\nenabled = true\nrequired = true\nhash_strength = \"minimum\"\n";
}

// `args` followed by the options that point kefu at a deployment and its data directory.
inline std::vector<std::string> withDeployment(std::vector<std::string> args,
                                               const std::filesystem::path& config,
                                               const std::filesystem::path& dataDir) {
  args.insert(args.end(), {"--config", config.string(), "--data-dir", dataDir.string()});
  return args;
}

// How one `kefu` command ended.
struct KefuRun {
  int code;
  std::string out, err;
};

// Runs `kefu args...` to its end; output goes to cli.out and cli.err in `dir`.
inline KefuRun kefuRun(const TempDir& dir, std::vector<std::string> args,
                          const std::string& stdinText = "") {
  using namespace std::chrono_literals;
  args.insert(args.begin(), KEFU_BINARY);
  Process p(args, dir / "cli.out", dir / "cli.err", stdinText);
  auto code = p.wait(60s);
  REQUIRE(code.has_value());
  return {*code, p.out(), p.err()};
}

// The password addUser gives `id`; long enough for the strength rule.
inline std::string testPassword(const std::string& id) { return id + "-password-123"; }

// Adds user `id` with `role` through `kefu user add --password-stdin`.
inline void addUser(const TempDir& dir, const std::filesystem::path& config,
                    const std::string& id, const std::string& role) {
  auto r = kefuRun(dir, withDeployment({"user", "add", "--id", id, "--role", role,
                                        "--password-stdin"},
                                       config, dir.path()),
                   testPassword(id) + "\n");
  INFO(r.err);
  REQUIRE(r.code == 0);
}

// Signs in a user made by addUser; returns the Authorization header to send.
inline Headers signIn(int port, const std::string& id) {
  auto r = http(port, "POST", "/api/v1/auth/login", {},
                nlohmann::json{{"id", id}, {"password", testPassword(id)}}.dump());
  REQUIRE(r.status == 200);
  return {{"Authorization",
           "Bearer " + nlohmann::json::parse(r.body)["token"].get<std::string>()}};
}

// One API call that must answer `expect`; returns the parsed body (null when empty).
inline nlohmann::json call(int port, const std::string& method, const std::string& path,
                           const Headers& auth, const std::string& body, int expect) {
  auto r = http(port, method, path, auth, body);
  INFO(method << " " << path << " " << body << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == expect);
  return r.body.empty() ? nlohmann::json() : nlohmann::json::parse(r.body);
}

// `kefu serve` on a free loopback port; killed when this goes out of scope.
struct KefuServer {
  std::unique_ptr<Process> process;
  int port = 0;
};

// Starts `kefu serve` and waits until it says where it listens; `tag` names its output files.
inline KefuServer serveKefu(const TempDir& dir, const std::filesystem::path& config,
                            const std::string& tag = "") {
  using namespace std::chrono_literals;
  KefuServer s;
  s.process = std::make_unique<Process>(
      withDeployment({KEFU_BINARY, "serve"}, config, dir.path()),
      dir / ("out" + tag), dir / ("err" + tag));
  s.port = s.process->waitForPort(20s);
  INFO(s.process->err());
  REQUIRE(s.port > 0);
  return s;
}

}  // namespace kefu::test
