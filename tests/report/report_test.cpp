// The HTML report of a run or a comparison: complete, self-contained, escaped, with diverged runs and
// experiment sections, and refused for a broken run directory.
#include "bnlab/report/report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "bnlab/core/error.h"
#include "bnlab/report/base64.h"
#include "support/image_checks.h"
#include "support/report_dir.h"
#include "support/synthetic_run.h"

namespace bnlab::report {
namespace {

namespace fs = std::filesystem;
using test::read;
using test::ReportTest;

std::string base64_decode(const std::string& text) {
  std::string bytes(text.size() / 4 * 3 + 3, '\0');
  const int n =
      EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                      reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw std::runtime_error("bad base64");
  const size_t padding = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
  bytes.resize(static_cast<size_t>(n) - padding);
  return bytes;
}

// The attributes `attribute` of every `element` in an HTML page, in document order.
std::vector<std::string> attributes(const std::string& html, const char* element, const char* attribute) {
  htmlDocPtr doc = htmlReadMemory(html.data(), static_cast<int>(html.size()), "report.html", "utf-8",
                                  HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
  if (!doc) throw std::runtime_error("report does not parse as HTML");
  std::vector<std::string> values;
  std::vector<xmlNode*> stack{xmlDocGetRootElement(doc)};
  while (!stack.empty()) {
    xmlNode* node = stack.back();
    stack.pop_back();
    for (xmlNode* child = node ? node->last : nullptr; child; child = child->prev) stack.push_back(child);
    if (!node || node->type != XML_ELEMENT_NODE || xmlStrcasecmp(node->name, BAD_CAST element) != 0) continue;
    xmlChar* value = xmlGetProp(node, BAD_CAST attribute);
    values.emplace_back(value ? reinterpret_cast<const char*>(value) : "");
    xmlFree(value);
  }
  xmlFreeDoc(doc);
  return values;
}

TEST_F(ReportTest, ComparisonReportIsSelfContainedAndComplete) {
  test::write_synthetic_comparison(dir_);
  const fs::path out = write_report(dir_);
  EXPECT_EQ(out, dir_ / "report.html");
  const std::string html = read(out);

  for (const char* id :
       {"reading", "metrics", "charts", "predictions", "configuration", "summaries", "history"})
    EXPECT_NE(html.find(fmt::format("<section id=\"{}\">", id)), std::string::npos) << id;
  for (const char* text :
       {"Accuracy Comparison: Model with and without Batch Normalization",
        "Loss Comparison: Model with and without Batch Normalization", "Training history: mlp-bn",
        "Predictions on test images: mlp", "reached 97% validation accuracy first", "Unscaled test accuracy",
        "88.43%", "97.91%",
        "flatten,<wbr>bn,<wbr>dense:256:relu,<wbr>bn,<wbr>dense:128:relu,<wbr>bn,<wbr>dense:10:softmax",
        "Model: &quot;mlp-bn&quot;", "batch_normalization (BatchNormalization)", "123.4 s", "239,818",
        "<td class=\"wrong\">wrong</td>"})
    EXPECT_NE(html.find(text), std::string::npos) << text;

  // Every image is an inline PNG that decodes and is not blank; nothing is fetched from elsewhere.
  const std::vector<std::string> sources = attributes(html, "img", "src");
  EXPECT_EQ(sources.size(), 2u + 2u + 2u);  // two comparisons, two histories, two prediction strips
  for (const std::string& src : sources) {
    const std::string prefix = "data:image/png;base64,";
    ASSERT_EQ(src.rfind(prefix, 0), 0u) << src.substr(0, 60);
    const test::PngStats stats = test::png_stats(base64_decode(src.substr(prefix.size())));
    EXPECT_GT(stats.non_white_fraction, 0.02);
    EXPECT_GT(stats.distinct_colours, 10);
  }
  for (const std::string& href : attributes(html, "a", "href")) EXPECT_EQ(href.rfind("#", 0), 0u) << href;
  EXPECT_TRUE(attributes(html, "script", "src").empty());
  EXPECT_TRUE(attributes(html, "link", "href").empty());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST_F(ReportTest, SingleRunReport) {
  test::write_synthetic_run(dir_, "mlp-bn", 5, false);
  const std::string html = read(write_report(dir_));
  EXPECT_NE(html.find("<title>bnlab run: mlp-bn</title>"), std::string::npos);
  EXPECT_EQ(html.find("Comparison"), std::string::npos);
  EXPECT_EQ(html.find("Unscaled"), std::string::npos);
  EXPECT_EQ(attributes(html, "img", "src").size(), 2u);  // history and predictions
  EXPECT_NE(html.find("<tr class=\"best\"><td>5</td>"), std::string::npos);
}

// A run that diverged: NaN losses in history.csv ("nan") and metrics.json (null, JSON's only way to
// hold NaN). The report still loads and renders.
TEST_F(ReportTest, DivergedRunStillReports) {
  test::write_synthetic_run(dir_, "mlp-bn", 3, false);
  std::ofstream(dir_ / "history.csv", std::ios::trunc)
      << "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n1,0.5,0.85,0.3,0.9,1.0\n2,nan,0.1,nan,0.098,1.0\n"
         "3,nan,0.099,nan,0.098,1.0\n";
  std::ofstream(dir_ / "metrics.json", std::ios::trunc)
      << R"({"model": "mlp-bn", "test": {"loss": null, "accuracy": 0.098}, "valid": {"loss": null, "accuracy": 0.0986}})";
  const RunDir loaded = load_run_dir(dir_);
  ASSERT_TRUE(loaded.runs[0].test);
  EXPECT_TRUE(std::isnan(loaded.runs[0].test->loss));
  EXPECT_DOUBLE_EQ(loaded.runs[0].test->accuracy, 0.098);
  EXPECT_TRUE(std::isnan(loaded.runs[0].history[2].loss));
  const std::string html = read(write_report(dir_));
  EXPECT_NE(html.find("<title>bnlab run: mlp-bn</title>"), std::string::npos);
  EXPECT_EQ(attributes(html, "img", "src").size(), 1u);  // history; this run has no predictions
}

// An experiment run into the run directory (bnlab claims --out RUN/claims) joins its report: its
// section as written, a link in the navigation, folders in name order.
TEST_F(ReportTest, ExperimentSectionsJoinTheReport) {
  test::write_synthetic_run(dir_, "mlp-bn", 3, false);
  fs::create_directories(dir_ / "sweep");
  fs::create_directories(dir_ / "claims");
  fs::create_directories(dir_ / "empty");
  std::ofstream(dir_ / "sweep" / "section.html") << "<section id=\"batch-size-sweep\"><h2>Batch sizes</h2></section>\n";
  std::ofstream(dir_ / "claims" / "section.html") << "<section id=\"claims\"><h2>Claims</h2></section>\n";
  const std::string html = read(write_report(dir_));
  const size_t claims = html.find("<section id=\"claims\">"), sweep = html.find("<section id=\"batch-size-sweep\">");
  ASSERT_NE(claims, std::string::npos);
  ASSERT_NE(sweep, std::string::npos);
  EXPECT_LT(claims, sweep);
  EXPECT_NE(html.find("<a href=\"#experiment-claims\">claims</a>"), std::string::npos);
  EXPECT_EQ(html.find("experiment-empty"), std::string::npos);
}

TEST_F(ReportTest, FileContentsAreEscaped) {
  test::write_synthetic_run(dir_, "mlp", 2, false);
  std::ofstream(dir_ / "summary.txt", std::ios::trunc) << "<script>alert(1)</script>";
  const std::string html = read(write_report(dir_));
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST_F(ReportTest, BrokenRunDirectoryIsAnInputError) {
  test::write_synthetic_comparison(dir_);
  fs::remove(dir_ / "mlp" / "history.csv");
  EXPECT_THROW(write_report(dir_), InputError);
  EXPECT_THROW(write_run_charts(dir_), InputError);
  EXPECT_FALSE(fs::exists(dir_ / "report.html"));
  EXPECT_FALSE(fs::exists(dir_ / "accuracy_comparison.png"));
}

}  // namespace
}  // namespace bnlab::report
