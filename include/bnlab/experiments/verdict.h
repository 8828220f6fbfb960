#pragma once
// Verdicts on the notebook's claims. Each claim states its tests in advance (claims.h); a verdict only
// counts how many of them came out in the claim's favour on the measured numbers.
#include <string>
#include <vector>

namespace bnlab::experiments {

enum class Verdict { Supported, NotSupported, Mixed };

const char* verdict_name(Verdict v);  // "supported", "not supported", "mixed"

// One stated test of a claim and how it came out: "BN reaches 97% in fewer steps" -> true.
struct Test {
  std::string what;
  bool in_favour = false;
};

struct Judgement {
  std::vector<Test> tests;
  Verdict verdict = Verdict::NotSupported;
};

// Every test in the claim's favour: supported; none: not supported; some: mixed.
Judgement judge(std::vector<Test> tests);

}  // namespace bnlab::experiments
