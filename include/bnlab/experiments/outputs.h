#pragma once
// What the experiments leave in a run directory: charts (PNG and SVG), the verdict table as
// Markdown, JSON and CSV, and HTML. The HTML comes as a <section> that a report page can include,
// and as a self-contained page (no script, no network; charts inlined as base64 PNG) around it.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bnlab/experiments/batch_size_sweep.h"
#include "bnlab/experiments/bn_sync_sweep.h"
#include "bnlab/experiments/claims.h"
#include "bnlab/experiments/notebook_bug.h"

namespace bnlab::experiments {

// dir/<name>.png and .svg for every chart; returns the files written.
std::vector<std::filesystem::path> write_charts(const std::filesystem::path& dir, const std::vector<NamedChart>& charts);

// | # | claim | measured | BN | no BN | verdict |, one row per claim.
std::string verdict_table_markdown(const std::vector<ClaimResult>& results);
// Each claim's tests, one line each: "  [yes] BN reaches 97.0% ... in fewer steps".
std::string tests_text(const std::vector<ClaimResult>& results);
nlohmann::json claims_json(const std::vector<ClaimResult>& results, const nlohmann::json& protocol);
std::string claims_csv(const std::vector<ClaimResult>& results);

std::string claims_section_html(const std::vector<ClaimResult>& results, const std::string& note);
std::string sweep_section_html(const SweepResult& result, const std::string& note);
std::string bn_sync_section_html(const BnSyncResult& result, const std::string& note);
std::string notebook_bug_section_html(const NotebookBugResult& result);
// A whole page around sections.
std::string experiments_page(const std::string& title, const std::string& subtitle, const std::string& sections);

}  // namespace bnlab::experiments
