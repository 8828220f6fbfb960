#include "bnlab/report/report.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "bnlab/core/error.h"
#include "bnlab/io/atomic_file.h"
#include "bnlab/plot/line_chart.h"
#include "bnlab/plot/output.h"
#include "bnlab/plot/prediction_strip.h"
#include "bnlab/report/base64.h"
#include "bnlab/report/reading.h"
#include "report/format.h"

namespace bnlab::report {

namespace {

using detail::percent;
using detail::thousands;

namespace fs = std::filesystem;

constexpr const char* kStyle = R"css(
:root { --ink: #1d2430; --muted: #5b6574; --line: #dde2e8; --panel: #ffffff; --page: #f4f6f9;
        --accent: #1f77b4; --good: #2ca02c; --bad: #d62728; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
       font: 15px/1.55 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
header { background: #1d2430; color: #fff; padding: 28px 32px 20px; }
header h1 { margin: 0 0 4px; font-size: 26px; font-weight: 650; }
header p { margin: 0; color: #c9d1dc; }
nav { margin-top: 14px; display: flex; flex-wrap: wrap; gap: 6px 18px; }
nav a { color: #9fd0ff; text-decoration: none; font-size: 14px; }
nav a:hover { text-decoration: underline; }
main { max-width: 1120px; margin: 0 auto; padding: 8px 24px 40px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
          padding: 18px 24px 22px; margin: 22px 0; }
h2 { margin: 0 0 12px; font-size: 20px; }
h3 { margin: 18px 0 8px; font-size: 16px; }
ul.reading { margin: 0; padding-left: 20px; }
ul.reading li { margin: 5px 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 4px 0; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #eef1f5; font-weight: 600; white-space: normal; vertical-align: bottom; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; overflow-wrap: break-word; }
table.wide { width: 100%; }
table.wide th { text-align: left; }
table.compact { font-size: 13.5px; }
table.compact th, table.compact td { padding: 4px 8px; }
tbody tr:nth-child(even) { background: #f8f9fb; }
tr.best td { font-weight: 700; background: #e8f3ea; }
.scroll { overflow-x: auto; }
figure { margin: 10px 0 18px; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.note { color: var(--muted); font-size: 13px; }
td.verdict { font-weight: 650; white-space: nowrap; }
.supported { color: #2ca02c; } .not-supported { color: #d62728; } .mixed { color: #b8860b; }
pre { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px; padding: 12px;
      overflow-x: auto; font: 12.5px/1.4 "DejaVu Sans Mono", Menlo, Consolas, monospace; margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
.stack > div + div { margin-top: 8px; }
.right { color: var(--good); font-weight: 600; }
.wrong { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); font-size: 13px; }
footer { text-align: center; color: var(--muted); font-size: 13px; padding: 0 0 30px; }
)css";

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string loss(double value) { return fmt::format("{:.4f}", value); }

std::string png_figure(const std::string& png, std::optional<plot::Size> size, const std::string& alt,
                       const std::string& caption) {
  const std::string dimensions =
      size ? fmt::format(" width=\"{}\" height=\"{}\"", size->width, size->height) : "";
  return fmt::format(
      "<figure><img src=\"data:image/png;base64,{}\"{} alt=\"{}\">"
      "<figcaption>{}</figcaption></figure>\n",
      base64_encode(png), dimensions, escape(alt), escape(caption));
}

std::string chart_figure(const plot::LineChart& chart, const std::string& caption) {
  constexpr plot::Size kSize{1000, 600};
  return png_figure(plot::render_line_chart(chart, plot::ImageFormat::Png, kSize), kSize, chart.title,
                    caption);
}

std::string section(const char* id, const char* title, const std::string& body) {
  return fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", id, title, body);
}

std::string heading(const Run& run, const std::vector<Run>& runs) {
  const std::string variant = variant_label(run, runs);
  return variant == run.model
             ? escape(run.model)
             : fmt::format("{} <span class=\"note\">({})</span>", escape(run.model), escape(variant));
}

// ---- sections -------------------------------------------------------------------------------------

std::string reading_section(const RunDir& run_dir) {
  std::string body = "<ul class=\"reading\">\n";
  for (const std::string& sentence : describe(run_dir))
    body += fmt::format("<li>{}</li>\n", escape(sentence));
  return section("reading", "What the numbers say", body + "</ul>\n");
}

// One row per metric, one column per model: two models side by side read best this way round.
std::string metrics_section(const RunDir& run_dir) {
  const std::vector<Run>& runs = run_dir.runs;
  const auto dash = [] { return std::string("&ndash;"); };
  std::vector<std::pair<std::string, std::function<std::string(const Run&)>>> rows = {
      {"Epochs", [](const Run& r) { return std::to_string(r.history.back().epoch); }},
      {"Test accuracy", [&](const Run& r) { return r.test ? percent(r.test->accuracy) : dash(); }},
      {"Test loss", [&](const Run& r) { return r.test ? loss(r.test->loss) : dash(); }}};
  const bool any_unscaled =
      std::any_of(runs.begin(), runs.end(), [](const Run& r) { return r.test_unscaled.has_value(); });
  if (any_unscaled) {
    rows.emplace_back("Unscaled test accuracy*", [&](const Run& r) {
      return r.test_unscaled ? percent(r.test_unscaled->accuracy) : dash();
    });
    rows.emplace_back("Unscaled test loss*",
                      [&](const Run& r) { return r.test_unscaled ? loss(r.test_unscaled->loss) : dash(); });
  }
  rows.emplace_back("Validation accuracy",
                    [&](const Run& r) { return r.valid ? percent(r.valid->accuracy) : dash(); });
  rows.emplace_back("Validation loss", [&](const Run& r) { return r.valid ? loss(r.valid->loss) : dash(); });
  rows.emplace_back("Best validation accuracy (epoch)", [](const Run& r) {
    const EpochRecord& best = best_validation_epoch(r);
    return fmt::format("{} ({})", percent(best.val_accuracy), best.epoch);
  });
  rows.emplace_back("Training time", [&](const Run& r) {
    return r.train_seconds ? fmt::format("{:.1f} s", *r.train_seconds) : dash();
  });
  rows.emplace_back("Parameters (trainable)", [&](const Run& r) {
    return r.params ? fmt::format("{} ({})", thousands(r.params->total), thousands(r.params->trainable))
                    : dash();
  });

  std::string body = "<div class=\"scroll\"><table>\n<thead><tr><th></th>";
  for (const Run& r : runs) body += fmt::format("<th>{}</th>", heading(r, runs));
  body += "</tr></thead>\n<tbody>\n";
  for (const auto& [label, cell] : rows) {
    body += fmt::format("<tr><td>{}</td>", label);
    for (const Run& r : runs) body += fmt::format("<td>{}</td>", cell(r));
    body += "</tr>\n";
  }
  body += "</tbody></table></div>\n";
  if (any_unscaled)
    body +=
        "<p class=\"note\">* The test set evaluated without dividing the pixels by 255, as the notebook did "
        "by "
        "mistake; the model was trained on inputs in 0&ndash;1.</p>\n";
  return section("metrics", "Test metrics", body);
}

std::string charts_section(const RunDir& run_dir) {
  std::string body;
  if (run_dir.comparison) {
    body += chart_figure(accuracy_comparison_chart(run_dir.runs),
                         "Training (solid) and validation (dashed) accuracy per epoch.");
    body += chart_figure(loss_comparison_chart(run_dir.runs),
                         "Training (solid) and validation (dashed) loss per epoch.");
  }
  for (const Run& r : run_dir.runs)
    body += chart_figure(history_chart(r),
                         fmt::format("Every column of {}/history.csv.", r.dir.filename().string()));
  return section("charts", "Charts", body);
}

std::string predictions_table(const Predictions& predictions) {
  std::string body =
      "<div class=\"scroll\"><table>\n<thead><tr><th>Index</th><th>Predicted</th><th>Actual</th>"
      "<th>Probability of predicted</th><th>Result</th></tr></thead>\n<tbody>\n";
  for (const PredictionSample& s : predictions.samples) {
    const bool right = s.predicted == s.actual;
    body += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4f}</td><td class=\"{}\">{}</td></tr>\n",
                        s.index, s.predicted, s.actual, s.probabilities[s.predicted],
                        right ? "right" : "wrong", right ? "right" : "wrong");
  }
  return body + "</tbody></table></div>\n";
}

std::string predictions_section(const RunDir& run_dir) {
  std::string body;
  bool any = false;
  for (const Run& r : run_dir.runs) {
    const std::optional<plot::PredictionStrip> strip = prediction_strip(r);
    if (!strip) continue;
    any = true;
    body += fmt::format("<h3>{}</h3>\n", heading(r, run_dir.runs));
    // No width/height attributes: the strip's size follows from its panel count.
    body += png_figure(
        plot::render_prediction_strip(*strip, plot::ImageFormat::Png), std::nullopt, strip->title,
        "Each panel: the image, predicted and actual label, and the probabilities of the classes.");
    body += predictions_table(*r.predictions);
  }
  if (!any) body = "<p class=\"note\">metrics.json has no predictions.</p>\n";
  return section("predictions", "Predictions", body);
}

// Lets a long model spec wrap between its layers rather than inside a layer's name.
std::string breakable_at_commas(const std::string& text) {
  std::string out;
  for (char c : escape(text)) {
    out += c;
    if (c == ',') out += "<wbr>";
  }
  return out;
}

std::string configuration_section(const RunDir& run_dir) {
  const std::vector<Run>& runs = run_dir.runs;
  std::vector<std::string> keys;
  for (const Run& r : runs)
    for (const auto& [key, value] : r.config)
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  std::string body = "<div class=\"scroll\"><table class=\"wide\">\n<thead><tr><th>Setting</th>";
  for (const Run& r : runs) body += fmt::format("<th>{}</th>", escape(r.model));
  body += "</tr></thead>\n<tbody>\n";
  for (const std::string& key : keys) {
    body += fmt::format("<tr><td>{}</td>", escape(key));
    for (const Run& r : runs) {
      const auto it =
          std::find_if(r.config.begin(), r.config.end(), [&](const auto& e) { return e.first == key; });
      body += fmt::format("<td class=\"text\">{}</td>",
                          it == r.config.end() ? "&ndash;" : breakable_at_commas(it->second));
    }
    body += "</tr>\n";
  }
  body += "</tbody></table></div>\n";
  if (run_dir.wall_seconds)
    body += fmt::format("<p class=\"note\">Wall-clock time of the whole comparison: {:.1f} s.</p>\n",
                        *run_dir.wall_seconds);
  return section("configuration", "Configuration", body);
}

std::string summaries_section(const RunDir& run_dir) {
  // One above the other: Keras summaries are up to ~100 characters wide.
  std::string body = "<div class=\"stack\">\n";
  for (const Run& r : run_dir.runs)
    body +=
        fmt::format("<div><h3>{}</h3>\n<pre>{}</pre></div>\n", heading(r, run_dir.runs), escape(r.summary));
  return section("summaries", "Model summaries", body + "</div>\n");
}

std::string history_table(const Run& run) {
  const bool timed = std::all_of(run.history.begin(), run.history.end(),
                                 [](const EpochRecord& e) { return std::isfinite(e.seconds); });
  const int best = best_validation_epoch(run).epoch;
  std::string body =
      "<div class=\"scroll\"><table "
      "class=\"compact\">\n<thead><tr><th>Epoch</th><th>Loss</th><th>Accuracy</th>"
      "<th>Val. loss</th><th>Val. accuracy</th>";
  if (timed) body += "<th>Seconds</th>";
  body += "</tr></thead>\n<tbody>\n";
  for (const EpochRecord& e : run.history) {
    body += fmt::format("<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                        e.epoch == best ? " class=\"best\"" : "", e.epoch, loss(e.loss), percent(e.accuracy),
                        loss(e.val_loss), percent(e.val_accuracy));
    if (timed) body += fmt::format("<td>{:.1f}</td>", e.seconds);
    body += "</tr>\n";
  }
  return body + "</tbody></table></div>\n";
}

std::string history_section(const RunDir& run_dir) {
  std::string body =
      "<p class=\"note\">The row in bold is the epoch with the best validation accuracy.</p>\n<div "
      "class=\"grid\">\n";
  for (const Run& r : run_dir.runs)
    body += fmt::format("<div><h3>{}</h3>\n{}</div>\n", heading(r, run_dir.runs), history_table(r));
  return section("history", "Training history", body + "</div>\n");
}

std::string page_title(const RunDir& run_dir) {
  if (!run_dir.comparison) return fmt::format("bnlab run: {}", run_dir.runs.front().model);
  std::vector<std::string> names;
  for (const Run& r : run_dir.runs) names.push_back(r.model);
  return fmt::format("bnlab comparison: {}", fmt::join(names, " vs "));
}

std::string experiment_links(const RunDir& run_dir) {
  std::string links;
  for (const auto& [name, section_html] : run_dir.experiment_sections)
    links += fmt::format("<a href=\"#experiment-{0}\">{0}</a>", escape(name));
  return links;
}

}  // namespace

std::string report_html(const RunDir& run_dir) {
  const std::string title = page_title(run_dir);
  std::string subtitle = run_dir.dir.string();
  if (!run_dir.dataset.empty()) subtitle += " · dataset " + run_dir.dataset;
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n<style>{1}</style>\n</head>\n<body>\n"
      "<header><h1>{0}</h1><p>{2}</p>\n<nav><a href=\"#reading\">Reading</a><a href=\"#metrics\">Test "
      "metrics</a>"
      "<a href=\"#charts\">Charts</a><a href=\"#predictions\">Predictions</a><a "
      "href=\"#configuration\">Configuration</a>"
      "<a href=\"#summaries\">Model summaries</a><a href=\"#history\">Training "
      "history</a>{3}</nav></header>\n<main>\n",
      escape(title), kStyle, escape(subtitle), experiment_links(run_dir));
  html += reading_section(run_dir);
  html += metrics_section(run_dir);
  html += charts_section(run_dir);
  html += predictions_section(run_dir);
  html += configuration_section(run_dir);
  html += summaries_section(run_dir);
  html += history_section(run_dir);
  // Experiments run into this directory: their own self-contained sections, as written.
  for (const auto& [name, section_html] : run_dir.experiment_sections)
    html += fmt::format("<div class=\"experiment\" id=\"experiment-{}\">\n{}</div>\n", escape(name), section_html);
  html += "</main>\n<footer>Written by bnlab " BNLAB_VERSION "</footer>\n</body>\n</html>\n";
  return html;
}

fs::path write_report(const fs::path& run_dir) {
  const RunDir loaded = load_run_dir(run_dir);
  const fs::path out = run_dir / "report.html";
  write_file_atomic(out, report_html(loaded));  // whole or not at all
  return out;
}

}  // namespace bnlab::report
