#include "bnlab/experiments/outputs.h"

#include <fmt/format.h>

#include "bnlab/plot/line_chart.h"
#include "bnlab/report/base64.h"
#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStyle = R"css(
body { margin: 0; background: #f4f6f9; color: #1d2430;
       font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
header { background: #1d2430; color: #fff; padding: 28px 32px 20px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: #c9d1dc; }
main { max-width: 1120px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 10px; padding: 18px 24px 22px; margin: 22px 0; }
h2 { margin: 0 0 12px; font-size: 20px; }
h3 { margin: 18px 0 8px; font-size: 16px; }
table { border-collapse: collapse; margin: 4px 0; font-size: 13.5px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #dde2e8; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.verdict { font-weight: 650; white-space: nowrap; }
.supported { color: #2ca02c; } .not-supported { color: #d62728; } .mixed { color: #b8860b; }
figure { margin: 10px 0 18px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #dde2e8; border-radius: 6px; }
figcaption, .note { color: #5b6574; font-size: 13px; }
ul.tests li { margin: 3px 0; }
)css";

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string verdict_class(Verdict v) {
  return v == Verdict::Supported ? "supported" : v == Verdict::Mixed ? "mixed" : "not-supported";
}

std::string figure(const plot::LineChart& chart) {
  constexpr plot::Size kSize{1000, 600};
  return fmt::format("<figure><img src=\"data:image/png;base64,{}\" width=\"{}\" height=\"{}\" alt=\"{}\">"
                     "<figcaption>{}</figcaption></figure>\n",
                     report::base64_encode(plot::render_line_chart(chart, plot::ImageFormat::Png, kSize)), kSize.width,
                     kSize.height, escape(chart.title), escape(chart.title));
}

std::string tests_html(const Judgement& j) {
  std::string s = "<ul class=\"tests\">\n";
  for (const Test& t : j.tests)
    s += fmt::format("<li><b class=\"{}\">{}</b> {}</li>\n", t.in_favour ? "supported" : "not-supported",
                     t.in_favour ? "yes" : "no", escape(t.what));
  return s + "</ul>\n";
}

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

nlohmann::json judgement_json(const Judgement& j) {
  nlohmann::json tests = nlohmann::json::array();
  for (const Test& t : j.tests) tests.push_back({{"test", t.what}, {"in_favour", t.in_favour}});
  return {{"verdict", verdict_name(j.verdict)}, {"tests", tests}};
}

std::string csv_field(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string sweep_table(const SweepResult& r) {
  std::string s = fmt::format(
      "<table>\n<tr><th>model</th><th>batch</th><th>s/epoch</th><th>steps to {0}</th><th>epochs to {0}</th>"
      "<th>seconds to {0}</th><th>final val accuracy</th><th>gradient variance at init</th>"
      "<th>after training</th></tr>\n",
      detail::pct(r.target, 0));
  for (const SweepPoint& p : r.points) {
    const bool any = p.reached > 0;
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3g}</td>"
        "<td>{:.3g}</td></tr>\n",
        p.model, p.batch_size, p.seconds_per_epoch.mean,
        any ? fmt::format("{:.0f} ({}/{})", p.steps_to_target.mean, p.reached, p.final_accuracy.n) : "not reached",
        any ? fmt::format("{:.2f}", p.epochs_to_target.mean) : "-", any ? fmt::format("{:.1f}", p.seconds_to_target.mean) : "-",
        escape(detail::pct(p.final_accuracy)), p.noise_at_init.mean, p.noise_at_end.mean);
  }
  return s + "</table>\n";
}

}  // namespace

std::vector<fs::path> write_charts(const fs::path& dir, const std::vector<NamedChart>& charts) {
  std::vector<fs::path> written;
  for (const NamedChart& c : charts)
    for (const char* ext : {".png", ".svg"}) {
      const fs::path out = dir / (c.name + ext);
      plot::render_line_chart(c.chart, out);
      written.push_back(out);
    }
  return written;
}

std::string verdict_table_markdown(const std::vector<ClaimResult>& results) {
  std::string s = "| # | claim | measured | BN | no BN | verdict |\n|---|---|---|---|---|---|\n";
  for (const ClaimResult& r : results)
    s += fmt::format("| {} | {} | {} | {} | {} | **{}** |\n", r.number, markdown_cell(r.claim), markdown_cell(r.measured),
                     markdown_cell(r.bn), markdown_cell(r.no_bn), verdict_name(r.judgement.verdict));
  return s;
}

std::string tests_text(const std::vector<ClaimResult>& results) {
  std::string s;
  for (const ClaimResult& r : results) {
    s += fmt::format("{}. {}: {}\n", r.number, r.claim, verdict_name(r.judgement.verdict));
    for (const Test& t : r.judgement.tests) s += fmt::format("   [{}] {}\n", t.in_favour ? "yes" : "no ", t.what);
  }
  return s;
}

nlohmann::json claims_json(const std::vector<ClaimResult>& results, const nlohmann::json& protocol) {
  nlohmann::json claims = nlohmann::json::array();
  for (const ClaimResult& r : results)
    claims.push_back({{"number", r.number}, {"claim", r.claim}, {"measured", r.measured}, {"bn", r.bn},
                      {"no_bn", r.no_bn}, {"judgement", judgement_json(r.judgement)}, {"seconds", r.seconds},
                      {"data", r.data}});
  return {{"protocol", protocol}, {"claims", claims}};
}

std::string claims_csv(const std::vector<ClaimResult>& results) {
  std::string s = "number,claim,measured,bn,no_bn,verdict,seconds\n";
  for (const ClaimResult& r : results)
    s += fmt::format("{},{},{},{},{},{},{:.1f}\n", r.number, csv_field(r.claim), csv_field(r.measured), csv_field(r.bn),
                     csv_field(r.no_bn), verdict_name(r.judgement.verdict), r.seconds);
  return s;
}

std::string claims_section_html(const std::vector<ClaimResult>& results, const std::string& note) {
  std::string s = "<section id=\"claims\">\n<h2>The notebook's claims, measured</h2>\n";
  s += fmt::format("<p class=\"note\">{}</p>\n", escape(note));
  s += "<table>\n<tr><th>#</th><th>claim</th><th>measured</th><th>BN</th><th>no BN</th><th>verdict</th></tr>\n";
  for (const ClaimResult& r : results)
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"verdict {}\">{}</td></tr>\n",
                     r.number, escape(r.claim), escape(r.measured), escape(r.bn), escape(r.no_bn),
                     verdict_class(r.judgement.verdict), verdict_name(r.judgement.verdict));
  s += "</table>\n";
  for (const ClaimResult& r : results) {
    s += fmt::format("<h3>{}. {}: <span class=\"{}\">{}</span> <span class=\"note\">({:.0f}s)</span></h3>\n", r.number,
                     escape(r.claim), verdict_class(r.judgement.verdict), verdict_name(r.judgement.verdict), r.seconds);
    s += tests_html(r.judgement);
    for (const NamedChart& c : r.charts) s += figure(c.chart);
  }
  return s + "</section>\n";
}

std::string sweep_section_html(const SweepResult& result, const std::string& note) {
  std::string s = "<section id=\"batch-size-sweep\">\n<h2>Batch sizes (the notebook's Q3)</h2>\n";
  s += fmt::format("<p class=\"note\">{}</p>\n", escape(note));
  s += sweep_table(result);
  s += fmt::format("<h3>Larger batches give smoother gradients: <span class=\"{}\">{}</span></h3>\n",
                   verdict_class(result.smoother.verdict), verdict_name(result.smoother.verdict));
  s += tests_html(result.smoother);
  s += fmt::format("<h3>Larger batches converge faster: <span class=\"{}\">{}</span></h3>\n",
                   verdict_class(result.faster.verdict), verdict_name(result.faster.verdict));
  s += tests_html(result.faster);
  for (const NamedChart& c : result.charts) s += figure(c.chart);
  return s + "</section>\n";
}

std::string bn_sync_section_html(const BnSyncResult& result, const std::string& note) {
  std::string s = "<section id=\"bn-sync-sweep\">\n<h2>Synchronised BatchNorm at small per-rank batches</h2>\n";
  s += fmt::format("<p class=\"note\">{}</p>\n<p>Rule: {}</p>\n", escape(note), escape(result.rule));
  for (const auto& [model, judgement] : result.verdicts) {
    s += fmt::format("<h3>{}: <span class=\"{}\">{}</span></h3>\n", escape(model), verdict_class(judgement.verdict),
                     verdict_name(judgement.verdict));
    s += tests_html(judgement);
  }
  s += "<table>\n<tr><th>model</th><th>variant</th><th>per-rank batch</th><th>global batch</th><th>steps</th>"
       "<th>test accuracy</th><th>mismatch (points)</th><th>ms per step</th></tr>\n";
  for (const BnSyncCell& c : result.cells)
    s += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:+.2f}</td>"
                     "<td>{:.2f}</td></tr>\n",
                     escape(c.model), variant_name(c.variant), c.per_rank_batch, c.global_batch, c.steps,
                     escape(c.test_accuracy.n > 1 ? detail::pct(c.test_accuracy) : detail::pct(c.test_accuracy.mean)),
                     100 * c.mismatch.mean, 1e3 * c.seconds_per_step.mean);
  s += "</table>\n";
  for (const NamedChart& c : result.charts) s += figure(c.chart);
  return s + "</section>\n";
}

std::string notebook_bug_section_html(const NotebookBugResult& result) {
  std::string s = "<section id=\"notebook-bug\">\n<h2>The notebook's evaluation bug, replayed</h2>\n";
  s += "<p class=\"note\">Each hypothesis is a guess at how the notebook's data were split and scaled; the "
       "notebook's models were trained under each and compared with the figures it logged. Distances are mean "
       "absolute differences over every logged validation accuracy and both test accuracies (and log10 losses).</p>\n";
  s += "<pre>" + escape(notebook_bug_table(result)) + "</pre>\n";
  const HypothesisResult& best = result.hypotheses[result.closest];
  s += fmt::format("<p>Closest: <b>{}</b>: {}; {} the notebook's steps per epoch.</p>\n", escape(best.hypothesis.name),
                   escape(best.hypothesis.description), best.steps_match ? "with" : "without");
  for (const NamedChart& c : result.charts) s += figure(c.chart);
  return s + "</section>\n";
}

std::string experiments_page(const std::string& title, const std::string& subtitle, const std::string& sections) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{0}</title>\n"
      "<style>{1}</style>\n</head>\n<body>\n<header><h1>{0}</h1><p>{2}</p></header>\n<main>\n{3}</main>\n</body>\n</html>\n",
      escape(title), kStyle, escape(subtitle), sections);
}

}  // namespace bnlab::experiments
