#pragma once
// The HTML report of a run directory (see run.h): one self-contained page, with no script and no
// network access, its charts inlined as base64 PNG data: URIs. Sections: a plain-language
// reading of the numbers (reading.h), test metrics, the charts, predictions, configuration, model
// summaries and the per-epoch history.
#include <filesystem>
#include <string>

#include "bnlab/report/charts.h"
#include "bnlab/report/run.h"

namespace bnlab::report {

std::string report_html(const RunDir& run_dir);

// Writes run_dir/report.html and returns its path. Throws InputError for a missing or malformed
// run directory or an unwritable report.
std::filesystem::path write_report(const std::filesystem::path& run_dir);

}  // namespace bnlab::report
