// SPDX-License-Identifier: Apache-2.0
#define BOOST_DLL_USE_STD_FS
#include "kefu/core/plugin_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

namespace kefu::core {

const char* loadErrorName(LoadError e) {
  switch (e) {
    case LoadError::kNone: return "none";
    case LoadError::kNotFound: return "not_found";
    case LoadError::kOpenFailed: return "open_failed";
    case LoadError::kNotAPlugin: return "not_a_plugin";
    case LoadError::kBadDescriptor: return "bad_descriptor";
    case LoadError::kIncompatibleSdk: return "incompatible_sdk";
    case LoadError::kIncompatibleToolchain: return "incompatible_toolchain";
    case LoadError::kNameMismatch: return "name_mismatch";
  }
  return "?";
}

std::string PluginLibrary::sdkVersion() const {
  if (!descriptor) return "";
  return std::to_string(descriptor->sdk_major) + "." + std::to_string(descriptor->sdk_minor) +
         "." + std::to_string(descriptor->sdk_patch);
}

namespace {
OpenResult fail(const std::filesystem::path& file, LoadError e, const std::string& why) {
  OpenResult r;
  r.library.file = file;
  r.error = e;
  r.message = file.string() + ": " + why;
  return r;
}
}  // namespace

OpenResult openPlugin(const std::filesystem::path& file, const std::string& expectedName) {
  std::error_code fsErr;
  if (!std::filesystem::is_regular_file(file, fsErr)) {
    return fail(file, LoadError::kNotFound, "no such plugin file");
  }

  // Open it. RTLD_LOCAL keeps one plugin's symbols from satisfying another's.
  auto lib = std::make_shared<boost::dll::shared_library>();
  boost::dll::fs::error_code ec;
  lib->load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    // dlerror() usually starts with the path; the message names the file once already.
    const char* dl = dlerror();
    std::string why = dl ? std::string(dl) : ec.message();
    std::string prefix = file.string() + ": ";
    if (why.rfind(prefix, 0) == 0) why = why.substr(prefix.size());
    return fail(file, LoadError::kOpenFailed, "cannot load: " + why);
  }
  if (!lib->has(KEFU_PLUGIN_ENTRY_SYMBOL)) {
    return fail(file, LoadError::kNotAPlugin,
                "not a Kefu plugin (no " KEFU_PLUGIN_ENTRY_SYMBOL " entry symbol; declare it "
                "with KEFU_PLUGIN)");
  }

  // Read only the C part of the descriptor until the versions are known to agree.
  auto entry = lib->get<const KefuPluginDescriptorV1*()>(KEFU_PLUGIN_ENTRY_SYMBOL);
  const KefuPluginDescriptorV1* d = entry();
  // Later SDK minors may append fields; a descriptor needs only the fields of 1.0.
  constexpr uint32_t kMinSize = offsetof(KefuPluginDescriptorV1, destroy) + sizeof(void*);
  if (!d || d->struct_size < kMinSize || !d->name || !d->version ||
      !d->toolchain || !d->info || !d->create || !d->destroy) {
    return fail(file, LoadError::kBadDescriptor, "incomplete plugin descriptor");
  }
  std::string name = d->name, version = d->version;
  std::string pluginSdk = std::to_string(d->sdk_major) + "." + std::to_string(d->sdk_minor);
  std::string hostSdk = std::to_string(KEFU_SDK_VERSION_MAJOR) + "." +
                        std::to_string(KEFU_SDK_VERSION_MINOR);
  if (d->sdk_major != KEFU_SDK_VERSION_MAJOR) {
    return fail(file, LoadError::kIncompatibleSdk,
                "plugin '" + name + "' " + version + " was built for Kefu SDK " + pluginSdk +
                    "; this host provides SDK " + hostSdk +
                    " (the major versions must match: rebuild the plugin against SDK " +
                    std::to_string(KEFU_SDK_VERSION_MAJOR) + ".x)");
  }
  if (d->sdk_minor > KEFU_SDK_VERSION_MINOR) {
    return fail(file, LoadError::kIncompatibleSdk,
                "plugin '" + name + "' " + version + " needs Kefu SDK " + pluginSdk +
                    "; this host provides only SDK " + hostSdk + " (upgrade the host)");
  }
  if (std::string(d->toolchain) != KEFU_TOOLCHAIN_STDLIB) {
    return fail(file, LoadError::kIncompatibleToolchain,
                "plugin '" + name + "' was built with the C++ library '" + d->toolchain +
                    "', the host with '" KEFU_TOOLCHAIN_STDLIB "'");
  }
  if (!expectedName.empty() && name != expectedName) {
    return fail(file, LoadError::kNameMismatch,
                "the file declares plugin '" + name + "', expected '" + expectedName + "'");
  }

  OpenResult r;
  r.library.file = file;
  r.library.descriptor = d;
  try {
    r.library.info = d->info();
  } catch (const std::exception& e) {
    return fail(file, LoadError::kBadDescriptor, std::string("plugin info threw: ") + e.what());
  } catch (...) {
    return fail(file, LoadError::kBadDescriptor, "plugin info threw");
  }
  r.library.handle = std::shared_ptr<void>(lib, lib.get());
  if (!r.library.info) return fail(file, LoadError::kBadDescriptor, "plugin info is null");
  return r;
}

std::map<std::string, std::filesystem::path> scanPluginDirs(
    const std::vector<std::filesystem::path>& dirs, std::vector<std::string>* shadowed) {
  std::map<std::string, std::filesystem::path> out;
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string fn = f.filename().string();
      if (fn.size() <= 8 || fn.rfind("kefu-", 0) != 0 || f.extension() != ".so") continue;
      std::string name = fn.substr(5, fn.size() - 8);
      auto [it, inserted] = out.emplace(name, f);
      if (!inserted && shadowed) {
        shadowed->push_back(f.string() + " is shadowed by " + it->second.string());
      }
    }
  }
  return out;
}

std::filesystem::path defaultPluginDir() {
  std::filesystem::path exe = boost::dll::program_location();
  return (exe.parent_path().parent_path() / "lib" / "kefu" / "plugins").lexically_normal();
}

}  // namespace kefu::core
