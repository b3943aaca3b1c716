// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "kefu/core/logging.h"
#include "test_support.h"

TEST_CASE("JSON log lines are valid JSON and mask personal numbers", "[logging][security]") {
  kefu::test::TempDir dir;
  kefu::core::LogOptions o;
  o.level = "info";
  o.json = true;
  o.file = dir / "logs/kefu.log";
  kefu::core::initLogging(o);
  auto log = kefu::core::getLogger("logtest", "debug");
  log->debug("customer \"Li\" called from 13912345678 about card 6222021234567890123");
  log->trace("not written at debug level");
  log->flush();

  std::string text = kefu::test::readFile(dir / "logs/kefu.log");
  INFO(text);
  REQUIRE(text.find('\n') == text.size() - 1);  // one line
  auto j = nlohmann::json::parse(text);
  CHECK(j["level"] == "debug");
  CHECK(j["logger"] == "logtest");
  CHECK(j["msg"] == "customer \"Li\" called from 139****5678 about card 622************0123");
  CHECK(text.find("13912345678") == std::string::npos);

  // Back to plain stderr logging for the other tests.
  kefu::core::initLogging({});
}
