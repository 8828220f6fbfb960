// Claim 3, regularisation: the train/validation gap with and without BN, with and without Dropout,
// on a training set small enough to overfit.
#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

std::string with_dropout(bool bn, double rate) {
  const std::string d = fmt::format("dropout:{:g}", rate);
  return bn ? fmt::format("flatten,bn,dense:256:relu,bn,{0},dense:128:relu,bn,{0},dense:10:softmax", d)
            : fmt::format("flatten,dense:256:relu,{0},dense:128:relu,{0},dense:10:softmax", d);
}

GapMeasure run_variant(const RegularisationConfig& c, const std::string& label, const std::string& model,
                       const Dataset& train, const Dataset& valid, Progress& progress) {
  const int64_t per_epoch = steps_for_epochs(train, c.budget.batch_size, 1.0);
  const std::vector<RunTrace> runs = over_seeds(c.budget, [&](uint64_t seed) {
    TrainSpec s = base_spec(c.budget, model, seed);
    s.steps = steps_for_epochs(train, c.budget.batch_size, c.epochs);
    s.eval_every = per_epoch;
    s.eval_train = true;
    RunTrace t = train_new_model(s, train, valid);
    progress.done(fmt::format("{} seed {}", label, seed),
                  fmt::format("train {} / validation {}", pct(t.last().train_accuracy), pct(t.last().val_accuracy)));
    return t;
  });
  GapMeasure g;
  g.gap = spread(each(runs, [](const RunTrace& t) { return t.last().train_accuracy - t.last().val_accuracy; }));
  g.loss_gap = spread(each(runs, [](const RunTrace& t) { return t.last().val_loss - t.last().train_loss; }));
  g.train_accuracy = spread(each(runs, [](const RunTrace& t) { return t.last().train_accuracy; }));
  g.val_accuracy = spread(each(runs, [](const RunTrace& t) { return t.last().val_accuracy; }));
  g.epochs = each(runs.front().evaluations, [](const Evaluation& e) { return e.epoch; });
  for (size_t i = 0; i < g.epochs.size(); ++i)
    g.gap_curve.push_back(spread(each(runs, [&](const RunTrace& t) {
                                   const Evaluation& e = t.evaluations[std::min(i, t.evaluations.size() - 1)];
                                   return e.train_accuracy - e.val_accuracy;
                                 })).mean);
  return g;
}

std::string gap_figure(const GapMeasure& g) {
  return fmt::format("gap {:.2f} ± {:.2f} points (train {}, val {})", 100 * g.gap.mean, 100 * g.gap.sd,
                     pct(g.train_accuracy.mean), pct(g.val_accuracy.mean));
}

nlohmann::json gap_json(const GapMeasure& g) {
  return {{"accuracy_gap", to_json(g.gap)}, {"loss_gap", to_json(g.loss_gap)},
          {"train_accuracy", to_json(g.train_accuracy)}, {"val_accuracy", to_json(g.val_accuracy)},
          {"epochs", g.epochs}, {"gap_curve", g.gap_curve}};
}

// Two tenths of a point: below that a gap difference is a few validation images.
constexpr double kMinGapEffect = 0.002;

}  // namespace

RegularisationMeasure measure_regularisation(const RegularisationConfig& c, const Dataset& train, const Dataset& valid,
                                             const Log& log) {
  const Dataset data = first(train, c.budget.train_size);
  Progress progress(log, "3/7 regularisation", 4 * c.budget.seeds);
  RegularisationMeasure m;
  m.bn = run_variant(c, "mlp-bn", "mlp-bn", data, valid, progress);
  m.no_bn = run_variant(c, "mlp", "mlp", data, valid, progress);
  m.bn_dropout = run_variant(c, "mlp-bn + dropout", with_dropout(true, c.dropout), data, valid, progress);
  m.no_bn_dropout = run_variant(c, "mlp + dropout", with_dropout(false, c.dropout), data, valid, progress);
  return m;
}

Judgement judge_regularisation(const RegularisationMeasure& m) {
  return judge({{"without Dropout, BN's train/validation accuracy gap is smaller",
                 compare(m.bn.gap, m.no_bn.gap, kMinGapEffect) == Direction::Lower},
                {"with Dropout, BN's train/validation accuracy gap is smaller",
                 compare(m.bn_dropout.gap, m.no_bn_dropout.gap, kMinGapEffect) == Direction::Lower}});
}

ClaimResult report_regularisation(const RegularisationMeasure& m) {
  ClaimResult r;
  r.number = 3;
  r.claim = "Reduces overfitting, even without Dropout";
  r.measured = "train minus validation accuracy at the end (inference mode), on a small training subset; without "
               "and with Dropout";
  r.bn = fmt::format("{}; with Dropout {}", gap_figure(m.bn), gap_figure(m.bn_dropout));
  r.no_bn = fmt::format("{}; with Dropout {}", gap_figure(m.no_bn), gap_figure(m.no_bn_dropout));
  r.judgement = judge_regularisation(m);

  plot::LineChart chart{"Claim 3: train minus validation accuracy (mean over seeds)", "Epoch",
                        "Accuracy gap (train - validation)", {}};
  chart.series.push_back(line("With BN", m.bn.epochs, m.bn.gap_curve, kBlue));
  chart.series.push_back(line("Without BN", m.no_bn.epochs, m.no_bn.gap_curve, kOrange));
  chart.series.push_back(line("With BN + Dropout", m.bn_dropout.epochs, m.bn_dropout.gap_curve, kBlue, plot::Dash::Dashed));
  chart.series.push_back(
      line("Without BN + Dropout", m.no_bn_dropout.epochs, m.no_bn_dropout.gap_curve, kOrange, plot::Dash::Dashed));
  r.charts.push_back({"claim3_regularisation", chart});
  r.data = {{"bn", gap_json(m.bn)},
            {"no_bn", gap_json(m.no_bn)},
            {"bn_dropout", gap_json(m.bn_dropout)},
            {"no_bn_dropout", gap_json(m.no_bn_dropout)}};
  return r;
}

}  // namespace bnlab::experiments
