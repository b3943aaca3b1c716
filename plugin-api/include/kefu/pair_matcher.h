// SPDX-License-Identifier: Apache-2.0
//
// PairMatcher: decides whether two customer questions ask the same thing.
//
// The FAQ bot uses it to score a customer's message against the stored phrasings of its
// answers; `kefu kb eval --task pair-match` measures it on labelled pairs. The in-tree
// provider (plugin faq-bot) learns from labelled pairs (`kefu kb train`) and keeps what it
// learned in the deployment; an insurer may provide its own engine under the same name.
//
//   auto matcher = ctx.services().find<kefu::PairMatcher>();   // in start()
//   double c = matcher->confidence("怎么还款", "如何还款");     // 0..1
//   bool same = c >= matcher->threshold();
//
// Threading: confidence() and threshold() are safe from any thread.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "kefu/version.h"

KEFU_SDK_NAMESPACE_BEGIN

class PairMatcher {
 public:
  static constexpr const char* kInterfaceName = "kefu.PairMatcher/1";
  virtual ~PairMatcher() = default;

  // Confidence in [0, 1] that `a` and `b` have the same intent. Symmetric.
  virtual double confidence(std::string_view a, std::string_view b) const = 0;

  // The configured same-intent threshold: confidence >= threshold means "same".
  virtual double threshold() const = 0;

  // Evaluates the matcher on labelled JSON Lines pair files (`q1`, `q2`, `label` 0/1):
  // writes its figures to `out`, ending with the line "accuracy=<v> AUC=<v>", and reasons
  // for bad input (file and line) to `err`. Returns the process exit code (0 on success).
  // This is what `kefu kb eval --task pair-match --pairs FILE...` runs.
  virtual int evaluatePairs(const std::vector<std::string>& files, std::ostream& out,
                            std::ostream& err) const = 0;
};

KEFU_SDK_NAMESPACE_END
