// SPDX-License-Identifier: Apache-2.0
//
// Every /api/v1 route of every in-tree plugin, driven in process through the real router.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "kefu/core/host.h"
#include "test_support.h"

TEST_CASE("Without a token every /api/v1 route answers 401", "[http][security]") {
  kefu::test::TempDir dir;
  auto file = dir.write("deploy.toml", std::string("[host]\nplugin_dirs = [\"") +
                                           KEFU_BUILD_PLUGIN_DIR + "\"]\n[log]\nlevel = \"off\"\n"
                                           "[plugins.event-journal]\nenabled = true\n"
                                           "[plugins.system-monitor]\nenabled = true\n"
                                           "[plugins.user-auth]\nenabled = true\n"
                                           "hash_strength = \"minimum\"\n"
                                           "[plugins.routing-acd]\nenabled = true\n"
                                           "[plugins.sim-telephony]\nenabled = true\n");
  kefu::core::HostOptions o;
  o.config = file;
  o.dataDir = dir.path();
  kefu::core::Host host(o);
  std::ostringstream err;
  REQUIRE(host.prepare(kefu::RunMode::kServe, err));
  REQUIRE(host.startPlugins(err));
  REQUIRE(host.setUpHttp(err));

  int checked = 0;
  std::set<std::string> seen;
  for (const auto& route : host.runtime().router().routes()) {
    if (route.pattern.rfind("/api/v1/", 0) != 0) continue;
    // Sign-in is the one call that cannot need a token.
    if (route.pattern == "/api/v1/auth/login") {
      CHECK_FALSE(route.authenticated);
      continue;
    }
    std::string path = route.pattern;
    for (auto pos = path.find('{'); pos != std::string::npos; pos = path.find('{')) {
      path.replace(pos, path.find('}', pos) - pos + 1, "x1");
    }
    for (const std::string& auth : {std::string(), std::string("Bearer not-a-token"),
                                    std::string("bearer ") + std::string(64, 'a')}) {
      kefu::HttpRequest req;
      req.method = route.method;
      req.path = path;
      if (!auth.empty()) req.headers["authorization"] = auth;
      INFO(route.method << " " << path << " [" << auth << "] of " << route.owner);
      CHECK(host.runtime().router().dispatch(req).status == 401);
    }
    ++checked;
    seen.insert(route.method + " " + route.pattern);
  }
  // The host's, the journal's, the monitor's, user-auth's, routing's (call controls among
  // them) and the simulated phone's routes.
  CHECK(checked >= 35);
  for (const char* control : {"answer", "hold", "resume", "hangup", "transfer", "consult",
                              "conference", "monitor", "whisper", "barge"}) {
    CHECK(seen.count(std::string("POST /api/v1/contacts/{id}/") + control));
  }
  CHECK(seen.count("POST /api/v1/sim/calls"));
  CHECK(seen.count("POST /api/v1/sim/calls/{id}/hangup"));
  host.stopPlugins();
}
