// SPDX-License-Identifier: Apache-2.0
//
// SDK version of the Kefu plugin API.
//
// A plugin records the SDK version it was compiled against in its entry descriptor
// (see plugin.h). The host loads it only when:
//   * the MAJOR versions are equal: a major release may change any type or interface;
//   * the plugin's MINOR is not newer than the host's: minor releases only add (new
//     interfaces, new virtual functions appended to interfaces that only the host
//     implements, new fields appended to the entry descriptor), so an older plugin still
//     works with a newer host;
//   * PATCH is ignored: patch releases change no declaration.
#pragma once

#define KEFU_SDK_VERSION_MAJOR 1
#define KEFU_SDK_VERSION_MINOR 0
#define KEFU_SDK_VERSION_PATCH 0

#define KEFU_STRINGIFY_IMPL(x) #x
#define KEFU_STRINGIFY(x) KEFU_STRINGIFY_IMPL(x)
#define KEFU_SDK_VERSION_STRING                                                   \
  KEFU_STRINGIFY(KEFU_SDK_VERSION_MAJOR)                                          \
  "." KEFU_STRINGIFY(KEFU_SDK_VERSION_MINOR) "." KEFU_STRINGIFY(KEFU_SDK_VERSION_PATCH)

// Every SDK type lives in an inline namespace named after the major version, so that types
// of two majors never mix silently in one program (a test or tool linking both fails to
// link); the host itself refuses another major by the descriptor check.
#define KEFU_SDK_NAMESPACE_BEGIN \
  namespace kefu {               \
  inline namespace sdk1 {
#define KEFU_SDK_NAMESPACE_END \
  }                            \
  }

// The C++ standard library flavour a plugin was built with. Plugins and host exchange
// std:: types, so they must agree on it (see sdk-docs/abi-policy.md).
#if defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI
#define KEFU_TOOLCHAIN_STDLIB "libstdc++-cxx11"
#elif defined(__GLIBCXX__)
#define KEFU_TOOLCHAIN_STDLIB "libstdc++-old"
#elif defined(_LIBCPP_VERSION)
#define KEFU_TOOLCHAIN_STDLIB "libc++"
#else
#define KEFU_TOOLCHAIN_STDLIB "unknown"
#endif
