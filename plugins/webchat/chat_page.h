// SPDX-License-Identifier: Apache-2.0
//
// The customer's chat page: one self-contained HTML document (no external scripts, styles
// or fonts), served by the webchat plugin at GET /chat.
#pragma once

#include <string>

namespace kefu::webchat {

// The page with `title` (HTML-escaped) in its heading.
std::string chatPage(const std::string& title);

}  // namespace kefu::webchat
