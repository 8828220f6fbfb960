#include "bnlab/experiments/verdict.h"

#include <algorithm>

namespace bnlab::experiments {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Supported:
      return "supported";
    case Verdict::NotSupported:
      return "not supported";
    case Verdict::Mixed:
      return "mixed";
  }
  return "?";
}

Judgement judge(std::vector<Test> tests) {
  const auto yes = std::count_if(tests.begin(), tests.end(), [](const Test& t) { return t.in_favour; });
  Judgement j;
  j.verdict = yes == 0 ? Verdict::NotSupported
              : yes == static_cast<long>(tests.size()) ? Verdict::Supported
                                                        : Verdict::Mixed;
  j.tests = std::move(tests);
  return j;
}

}  // namespace bnlab::experiments
