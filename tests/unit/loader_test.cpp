// SPDX-License-Identifier: Apache-2.0
#include <catch2/catch.hpp>

#include "kefu/core/plugin_loader.h"
#include "test_support.h"

using kefu::core::LoadError;
using kefu::core::openPlugin;

namespace {
std::filesystem::path testPlugin(const std::string& name) {
  return std::filesystem::path(KEFU_TEST_PLUGIN_DIR) / ("kefu-" + name + ".so");
}
}  // namespace

TEST_CASE("A well-formed plugin opens and describes itself", "[loader]") {
  auto r = openPlugin(testPlugin("lc-a"), "lc-a");
  REQUIRE(r.error == LoadError::kNone);
  CHECK(std::string(r.library.descriptor->name) == "lc-a");
  CHECK(std::string(r.library.descriptor->version) == "9.8.7");
  CHECK(r.library.sdkVersion() == KEFU_SDK_VERSION_STRING);
  REQUIRE(r.library.info != nullptr);
  CHECK(r.library.info->kinds == std::vector<std::string>{"test"});
  CHECK(r.library.info->configKeys.size() == 2);
}

TEST_CASE("A plugin built for another SDK major is refused with both versions named",
          "[loader]") {
  auto file = testPlugin("sdk-next-major");
  auto r = openPlugin(file);
  CHECK(r.error == LoadError::kIncompatibleSdk);
  CHECK_THAT(r.message, Catch::StartsWith(file.string() + ": "));
  CHECK_THAT(r.message, Catch::Contains("plugin 'sdk-next-major' 9.8.7"));
  CHECK_THAT(r.message, Catch::Contains("built for Kefu SDK 2.0"));
  CHECK_THAT(r.message, Catch::Contains("this host provides SDK 1.0"));
  CHECK(r.library.info == nullptr);  // nothing C++ was touched
}

TEST_CASE("A plugin that needs a newer SDK minor is refused", "[loader]") {
  auto r = openPlugin(testPlugin("sdk-newer-minor"));
  CHECK(r.error == LoadError::kIncompatibleSdk);
  CHECK_THAT(r.message, Catch::Contains("needs Kefu SDK 1.99"));
  CHECK_THAT(r.message, Catch::Contains("upgrade the host"));
}

TEST_CASE("A plugin whose info function throws is refused without taking the host down",
          "[loader]") {
  auto r = openPlugin(testPlugin("info-throws"));
  CHECK(r.error == LoadError::kBadDescriptor);
  CHECK_THAT(r.message, Catch::Contains("plugin info threw: no info today"));
}

TEST_CASE("A shared library without the entry symbol is not a plugin", "[loader]") {
  auto r = openPlugin(testPlugin("no-entry"));
  CHECK(r.error == LoadError::kNotAPlugin);
  CHECK_THAT(r.message, Catch::Contains("kefu_plugin_v1"));
}

TEST_CASE("Missing files and non-ELF files and name mismatches are refused", "[loader]") {
  kefu::test::TempDir dir;
  SECTION("missing") {
    auto r = openPlugin(dir / "kefu-nothing.so");
    CHECK(r.error == LoadError::kNotFound);
  }
  SECTION("not a shared object") {
    auto file = dir.write("kefu-text.so", "this is not ELF\n");
    auto r = openPlugin(file);
    CHECK(r.error == LoadError::kOpenFailed);
    CHECK_THAT(r.message, Catch::StartsWith(file.string() + ": cannot load: "));
  }
  SECTION("file name says another plugin") {
    auto r = openPlugin(testPlugin("lc-a"), "lc-b");
    CHECK(r.error == LoadError::kNameMismatch);
    CHECK_THAT(r.message, Catch::Contains("declares plugin 'lc-a', expected 'lc-b'"));
  }
}

TEST_CASE("Plugin directories map names to kefu-<name>.so and first directory wins",
          "[loader]") {
  kefu::test::TempDir a, b;
  a.write("kefu-one.so", "");
  a.write("libother.so", "");
  a.write("kefu-two.txt", "");
  b.write("kefu-one.so", "");
  b.write("kefu-three.so", "");
  std::vector<std::string> shadowed;
  auto found = kefu::core::scanPluginDirs({a.path(), b.path(), "/nonexistent"}, &shadowed);
  REQUIRE(found.size() == 2);
  CHECK(found["one"] == a / "kefu-one.so");
  CHECK(found["three"] == b / "kefu-three.so");
  REQUIRE(shadowed.size() == 1);
  CHECK_THAT(shadowed[0], Catch::Contains("shadowed"));
}
