// SPDX-License-Identifier: Apache-2.0
//
// KEFU_EXPORT marks the few symbols a plugin makes visible to the host. Build plugins with
// -fvisibility=hidden (the Kefu CMake package does) so nothing else leaks.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define KEFU_EXPORT __attribute__((visibility("default")))
#else
#define KEFU_EXPORT
#endif
