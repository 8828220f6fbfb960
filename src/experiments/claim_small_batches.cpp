// Claim 6, small-batch dependency: BatchNorm, LayerNorm and Batch Renormalization at batch sizes 2
// to 256, the same number of steps at every size, and what inference makes of tiny training batches.
#include <algorithm>
#include <cmath>

#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

struct SeedResult {
  double accuracy = NAN, batch_stats_accuracy = NAN;
};

SeedResult run_one(const SmallBatchConfig& c, const std::string& label, const std::string& model, int batch, uint64_t seed,
                   const Dataset& data, const Dataset& valid, Progress& progress, bool batch_stats) {
  TrainSpec s = base_spec(c.budget, model, seed);
  s.batch_size = batch;
  s.steps = c.steps;
  Sequential net = build_model(s, data);
  const RunTrace t = run_training(net, s, data, valid);
  SeedResult r;
  r.accuracy = t.last().val_accuracy;
  if (batch_stats) r.batch_stats_accuracy = evaluate_with_batch_statistics(net, valid, batch).accuracy;
  progress.done(fmt::format("{} batch {} seed {}", label, batch, seed),
                "validation " + pct(r.accuracy) +
                    (batch_stats ? fmt::format(" (with batch statistics {})", pct(r.batch_stats_accuracy)) : ""));
  return r;
}

BatchPoint run_batch(const SmallBatchConfig& c, int batch, const Dataset& train, const Dataset& valid, Progress& progress) {
  // The three models at every seed: independent runs.
  const std::vector<SeedResult> runs = in_parallel(3 * c.budget.seeds, [&](int i) {
    const uint64_t s = i / 3 + 1;
    if (i % 3 == 0) return run_one(c, "BatchNorm", "mlp-bn", batch, s, train, valid, progress, true);
    if (i % 3 == 1) return run_one(c, "LayerNorm", ln_model_spec(), batch, s, train, valid, progress, false);
    return run_one(c, "Batch Renorm", renorm_model_spec(), batch, s, train, valid, progress, true);
  });
  std::vector<SeedResult> bn, ln, renorm;
  for (size_t i = 0; i < runs.size(); ++i) (i % 3 == 0 ? bn : i % 3 == 1 ? ln : renorm).push_back(runs[i]);
  auto acc = [](const std::vector<SeedResult>& v) { return spread(each(v, [](const SeedResult& r) { return r.accuracy; })); };
  auto stats = [](const std::vector<SeedResult>& v) {
    return spread(each(v, [](const SeedResult& r) { return r.batch_stats_accuracy; }));
  };
  BatchPoint p;
  p.batch_size = batch;
  p.bn = acc(bn);
  p.ln = acc(ln);
  p.renorm = acc(renorm);
  p.bn_batch_stats = stats(bn);
  p.renorm_batch_stats = stats(renorm);
  std::vector<double> diff, mismatch;
  for (size_t i = 0; i < bn.size(); ++i) {
    diff.push_back(bn[i].accuracy - ln[i].accuracy);
    mismatch.push_back(std::fabs(bn[i].batch_stats_accuracy - bn[i].accuracy));
  }
  p.bn_minus_ln = spread(diff);
  p.bn_mismatch = spread(mismatch);
  return p;
}

const BatchPoint& reference(const SmallBatchMeasure& m) {
  const auto it = std::find_if(m.points.begin(), m.points.end(),
                               [&](const BatchPoint& p) { return p.batch_size == m.reference_batch; });
  return it == m.points.end() ? m.points.back() : *it;
}

// One point of validation accuracy.
constexpr double kMinAccuracyEffect = 0.01;

nlohmann::json point_json(const BatchPoint& p) {
  return {{"batch_size", p.batch_size},       {"bn", to_json(p.bn)},
          {"ln", to_json(p.ln)},              {"renorm", to_json(p.renorm)},
          {"bn_batch_stats", to_json(p.bn_batch_stats)}, {"renorm_batch_stats", to_json(p.renorm_batch_stats)},
          {"bn_minus_ln", to_json(p.bn_minus_ln)}, {"bn_mismatch", to_json(p.bn_mismatch)}};
}

}  // namespace

std::string ln_model_spec() { return "flatten,ln,dense:256:relu,ln,dense:128:relu,ln,dense:10:softmax"; }

std::string renorm_model_spec() {
  return "flatten,bn:renorm,dense:256:relu,bn:renorm,dense:128:relu,bn:renorm,dense:10:softmax";
}

SmallBatchMeasure measure_small_batches(const SmallBatchConfig& c, const Dataset& train, const Dataset& valid,
                                        const Log& log) {
  // An even number of samples: with even batch sizes no epoch ends on a batch of one, which BN
  // cannot normalise.
  const Dataset full = first(train, c.budget.train_size);
  const Dataset data = first(full, full.size() / 2 * 2);
  std::vector<int> sizes = c.batch_sizes;
  std::sort(sizes.begin(), sizes.end());
  Progress progress(log, "6/7 small batches", 3 * c.budget.seeds * static_cast<int>(sizes.size()));
  SmallBatchMeasure m;
  m.reference_batch = c.reference_batch;
  for (int batch : sizes) m.points.push_back(run_batch(c, batch, data, valid, progress));
  return m;
}

Judgement judge_small_batches(const SmallBatchMeasure& m) {
  const BatchPoint& small = m.points.front();
  const BatchPoint& ref = reference(m);
  return judge({{fmt::format("BN falls further behind LayerNorm at batch {} ({:+.2f} points) than at batch {} ({:+.2f})",
                             small.batch_size, 100 * small.bn_minus_ln.mean, ref.batch_size, 100 * ref.bn_minus_ln.mean),
                 compare(small.bn_minus_ln, ref.bn_minus_ln, kMinAccuracyEffect) == Direction::Lower},
                {fmt::format("BN's inference (moving statistics) strays further from training (batch statistics) at "
                             "batch {} ({:.2f} points) than at batch {} ({:.2f})",
                             small.batch_size, 100 * small.bn_mismatch.mean, ref.batch_size, 100 * ref.bn_mismatch.mean),
                 compare(small.bn_mismatch, ref.bn_mismatch, kMinAccuracyEffect) == Direction::Higher}});
}

ClaimResult report_small_batches(const SmallBatchMeasure& m) {
  ClaimResult r;
  r.number = 6;
  r.claim = "Needs a sufficiently large mini-batch";
  r.measured = "validation accuracy (inference mode) after the same number of steps at each batch size; BN vs "
               "LayerNorm and Batch Renormalization";
  const BatchPoint& small = m.points.front();
  const BatchPoint& ref = reference(m);
  r.bn = fmt::format("batch {}: {} (batch statistics {}); batch {}: {} (batch statistics {})", small.batch_size,
                     pct(small.bn), pct(small.bn_batch_stats.mean), ref.batch_size, pct(ref.bn),
                     pct(ref.bn_batch_stats.mean));
  r.no_bn = fmt::format("LayerNorm: batch {}: {}; batch {}: {}. Renorm: batch {}: {}", small.batch_size, pct(small.ln),
                        ref.batch_size, pct(ref.ln), small.batch_size, pct(small.renorm));
  r.judgement = judge_small_batches(m);

  plot::LineChart chart{"Claim 6: validation accuracy against the training batch size (mean over seeds)",
                        "log2(batch size)", "Validation accuracy", {}};
  const std::vector<double> x = each(m.points, [](const BatchPoint& p) { return std::log2(p.batch_size); });
  auto means = [&](Spread BatchPoint::*field) { return each(m.points, [&](const BatchPoint& p) { return (p.*field).mean; }); };
  chart.series.push_back(line("BatchNorm", x, means(&BatchPoint::bn), kBlue));
  chart.series.push_back(line("BatchNorm, batch statistics", x, means(&BatchPoint::bn_batch_stats), kBlue, plot::Dash::Dashed));
  chart.series.push_back(line("LayerNorm", x, means(&BatchPoint::ln), kGreen));
  chart.series.push_back(line("Batch Renorm", x, means(&BatchPoint::renorm), kRed));
  chart.series.push_back(
      line("Batch Renorm, batch statistics", x, means(&BatchPoint::renorm_batch_stats), kRed, plot::Dash::Dashed));
  r.charts.push_back({"claim6_small_batches", chart});
  nlohmann::json points = nlohmann::json::array();
  for (const BatchPoint& p : m.points) points.push_back(point_json(p));
  r.data = {{"reference_batch", m.reference_batch}, {"points", points}};
  return r;
}

}  // namespace bnlab::experiments
