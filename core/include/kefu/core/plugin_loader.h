// SPDX-License-Identifier: Apache-2.0
//
// Finding plugin files and opening them safely.
//
// openPlugin() reads the entry descriptor and checks it before any C++ code of the plugin
// runs beyond its static initialisers: the symbol must exist, the descriptor must be large
// enough, the SDK major must equal the host's and its minor must not be newer, and the
// standard library flavour must match. Each refusal has its own code and a message naming
// the file and both versions.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kefu/plugin.h"

namespace kefu::core {

enum class LoadError {
  kNone,
  kNotFound,            // no such file
  kOpenFailed,          // dlopen refused it (missing dependency, not an ELF, wrong arch)
  kNotAPlugin,          // no kefu_plugin_v1 symbol
  kBadDescriptor,       // descriptor too small or with null fields
  kIncompatibleSdk,     // SDK major differs, or minor newer than the host's
  kIncompatibleToolchain,
  kNameMismatch,        // the file name says another plugin than the descriptor
};

const char* loadErrorName(LoadError e);

struct PluginLibrary {
  std::filesystem::path file;
  // Keeps the shared object mapped; everything taken from it must be released first.
  std::shared_ptr<void> handle;
  const KefuPluginDescriptorV1* descriptor = nullptr;
  const PluginInfo* info = nullptr;

  std::string sdkVersion() const;
};

struct OpenResult {
  PluginLibrary library;
  LoadError error = LoadError::kNone;
  std::string message;  // "<file>: <reason>" when error != kNone
};

// Opens `file` and validates its descriptor. When `expectedName` is not empty the
// descriptor's name must equal it.
OpenResult openPlugin(const std::filesystem::path& file, const std::string& expectedName = "");

// Maps plugin names to files: every kefu-<name>.so in `dirs`, first directory first. A name
// found again in a later directory is reported in `shadowed` and ignored.
std::map<std::string, std::filesystem::path> scanPluginDirs(
    const std::vector<std::filesystem::path>& dirs, std::vector<std::string>* shadowed = nullptr);

// The plugin directory of an installed or built host: <exe dir>/../lib/kefu/plugins.
std::filesystem::path defaultPluginDir();

}  // namespace kefu::core
