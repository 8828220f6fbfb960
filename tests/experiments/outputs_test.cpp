// What the experiments write: the verdict table, JSON, CSV and HTML of claims, and their charts as files.
#include "bnlab/experiments/outputs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/one_thread.h"

namespace bnlab::experiments {
namespace {

ClaimResult fake_claim(int number, Verdict v) {
  ClaimResult r;
  r.number = number;
  r.claim = "Claim | with a bar";
  r.measured = "a \"quoted\" measure";
  r.bn = "1 < 2";
  r.no_bn = "3";
  r.judgement = {{{"a test", v != Verdict::NotSupported}}, v};
  plot::Series series;
  series.label = "s";
  series.x = {1, 2};
  series.y = {3, 4};
  plot::LineChart chart{"t", "x", "y", {series}};
  r.charts.push_back({"claim_chart", chart});
  return r;
}

TEST(Outputs, TableJsonCsvAndHtml) {
  const std::vector<ClaimResult> results = {fake_claim(1, Verdict::Supported), fake_claim(2, Verdict::Mixed)};
  const std::string md = verdict_table_markdown(results);
  EXPECT_NE(md.find("| 1 | Claim \\| with a bar |"), std::string::npos);
  EXPECT_NE(md.find("**mixed**"), std::string::npos);
  EXPECT_NE(tests_text(results).find("[yes] a test"), std::string::npos);
  const nlohmann::json j = claims_json(results, {{"seeds", 3}});
  EXPECT_EQ(j["claims"][1]["judgement"]["verdict"], "mixed");
  EXPECT_EQ(j["protocol"]["seeds"], 3);
  EXPECT_NE(claims_csv(results).find("\"a \"\"quoted\"\" measure\""), std::string::npos);
  const std::string html = claims_section_html(results, "note");
  EXPECT_EQ(html.rfind("<section", 0), 0u);
  EXPECT_NE(html.find("1 &lt; 2"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
  EXPECT_NE(html.find("class=\"verdict supported\""), std::string::npos);
  const std::string page = experiments_page("T", "sub", html);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST(Outputs, ChartsAsPngAndSvg) {
  const std::filesystem::path dir = std::filesystem::path(BNLAB_BINARY_DIR) / "tests" / "experiments_charts";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto files = write_charts(dir, fake_claim(1, Verdict::Supported).charts);
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) EXPECT_GT(std::filesystem::file_size(f), 500u) << f;
  EXPECT_EQ(files[0].filename(), "claim_chart.png");
}

}  // namespace
}  // namespace bnlab::experiments
