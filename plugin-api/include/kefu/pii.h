// SPDX-License-Identifier: Apache-2.0
//
// Masking of personal data: mainland ID-card numbers (18 characters, last may be X; old
// 15-digit cards), mobile numbers (11 digits starting with 1) and bank-card numbers (16 to
// 19 digits).
//
// maskPersonalData() keeps the first 3 and last 4 characters of every digit run that has
// the length of one of those numbers — 11 digits starting with 1, 15 digits, 16 to 19
// digits, or 17 digits plus X — and replaces the rest with '*':
//   maskPersonalData("call 13812345678") == "call 138****5678"
// It goes by shape, so it also masks a policy or order number of the same length, and it
// leaves 12- to 14-digit runs (millisecond timestamps) alone. Use it wherever text leaves
// the system for a role that does not need the numbers, and in logs.
#pragma once

#include <string>
#include <string_view>

#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

inline std::string maskPersonalData(std::string_view text) {
  std::string out(text);
  const size_t n = out.size();
  size_t i = 0;
  while (i < n) {
    if (out[i] < '0' || out[i] > '9') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && out[j] >= '0' && out[j] <= '9') ++j;
    if (j < n && (out[j] == 'X' || out[j] == 'x') && j - i == 17) ++j;
    const size_t len = j - i;
    const bool mobile = len == 11 && out[i] == '1';
    const bool idCard = len == 15 || len == 18;
    const bool bankCard = len >= 16 && len <= 19;
    if (mobile || idCard || bankCard) {
      for (size_t k = i + 3; k + 4 < j; ++k) out[k] = '*';
    }
    i = j;
  }
  return out;
}

KEFU_SDK_NAMESPACE_END
