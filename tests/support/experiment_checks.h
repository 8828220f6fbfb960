#pragma once
// What the experiments' tests share: a quiet log, spreads built by hand, a tiny budget, the progress
// lines of a run, and the check that a claim's result renders.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bnlab/experiments/claims.h"
#include "bnlab/plot/line_chart.h"

namespace bnlab::testing {

using experiments::Budget;
using experiments::ClaimResult;
using experiments::Log;
using experiments::NamedChart;
using experiments::Spread;

inline const Log kQuiet = [](const std::string&) {};

// A spread of n seeds around `mean`, `sd` either side.
inline Spread spread_at(double mean, double sd = 0.001, int n = 3) { return {mean, sd, mean - sd, mean + sd, n, 0}; }

// 3 seeds on all the data, batches of 32, learning rate 3e-3.
inline Budget tiny_budget() { return {3, 0, 32, 3e-3}; }

// Collects the progress lines, to check that every run reports.
struct Lines {
  std::vector<std::string> lines;
  Log log() {
    return [this](const std::string& line) { lines.push_back(line); };
  }
};

// The verdict table's row and the charts of a claim's result (its data: each claim's own test).
inline void expect_renders(const ClaimResult& r, int number, size_t charts) {
  EXPECT_EQ(r.number, number);
  EXPECT_FALSE(r.claim.empty());
  EXPECT_FALSE(r.bn.empty());
  EXPECT_FALSE(r.no_bn.empty());
  EXPECT_FALSE(r.judgement.tests.empty());
  ASSERT_EQ(r.charts.size(), charts);
  for (const NamedChart& c : r.charts) {
    EXPECT_FALSE(c.chart.series.empty()) << c.name;
    EXPECT_GT(plot::render_line_chart(c.chart, plot::ImageFormat::Png).size(), 1000u) << c.name;
  }
}

}  // namespace bnlab::testing
