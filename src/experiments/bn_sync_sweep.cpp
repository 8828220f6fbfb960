#include "bnlab/experiments/bn_sync_sweep.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <thread>

#include "bnlab/core/error.h"
#include "bnlab/core/threads.h"
#include "bnlab/dist/thread_group.h"
#include "experiments/common.h"

namespace bnlab::experiments {
namespace {

using namespace detail;

// Evaluation needs no gradients, so it runs in large batches whatever the training batch.
constexpr int kEvalBatch = 500;
constexpr SyncVariant kVariants[] = {SyncVariant::Global, SyncVariant::Local, SyncVariant::Control};

// One seed of one cell, as the lead rank measured it.
struct SeedFigures {
  double test_accuracy = NAN, mismatch = NAN, seconds_per_step = NAN;
  int64_t steps = 0;
  bool diverged = false;
};

// The first images of data that make whole global batches, so that no shard is ever short of the
// rows BatchNorm needs (a partial last batch could leave a rank one row).
Dataset whole_batches(const Dataset& data, int64_t size, int global_batch) {
  const Dataset head = first(data, size);
  const int64_t rows = head.size() / global_batch * global_batch;
  if (rows == 0)
    throw InputError(fmt::format("bn-sync sweep: {} training images make no global batch of {}", head.size(),
                                 global_batch));
  return rows == head.size() ? head : head.slice(0, rows, fmt::format(" ({} whole batches)", rows / global_batch));
}

SeedFigures train_seed(const BnSyncConfig& c, const SweepRanks& ranks, const std::string& model, SyncVariant v,
                       int per_rank_batch, uint64_t seed, const Dataset& train, const Dataset& test,
                       const Dataset& mismatch_data) {
  const int global_batch = ranks.size * per_rank_batch;
  SeedFigures out;
  ranks.run([&](int rank, Communicator& comm) {
    TrainSpec s;
    s.model = variant_spec(model, v);
    s.lr = c.lr;
    s.seed = seed;
    Sequential net = build_model(s, train);
    FitOptions o;
    const int64_t per_epoch = train.size() / global_batch;  // whole batches only
    o.epochs = static_cast<int>((c.steps + per_epoch - 1) / per_epoch);
    o.max_steps = c.steps;
    o.batch_size = global_batch;
    o.seed = seed;
    o.ranks = &comm;
    o.bn_sync = v == SyncVariant::Local ? BatchNormSync::Local : BatchNormSync::Global;
    const Stopwatch watch;
    bool diverged = false;
    try {
      net.fit(train, o);
    } catch (const TrainingStopped& stopped) {
      if (stopped.reason != TrainingStopped::Reason::NonFinite) throw;
      diverged = true;  // on every rank alike: the loss and gradients are the ranks' sums
    }
    if (rank != ranks.lead_rank) return;
    out.steps = c.steps;
    out.seconds_per_step = watch.seconds() / out.steps;
    out.diverged = diverged;
    if (diverged) return;
    out.test_accuracy = net.evaluate(test, kEvalBatch).accuracy;
    // Both modes on the same images: whole batches of the rows normalised in training.
    const int normalised_rows = v == SyncVariant::Global ? global_batch : per_rank_batch;
    const int64_t rows = std::max<int64_t>(1, mismatch_data.size() / normalised_rows) * normalised_rows;
    const Dataset images = first(mismatch_data, rows);
    out.mismatch = evaluate_with_batch_statistics(net, images, normalised_rows).accuracy -
                   net.evaluate(images, kEvalBatch).accuracy;
  });
  return out;
}

BnSyncCell run_cell(const BnSyncConfig& c, const SweepRanks& ranks, const std::string& model, SyncVariant v,
                    int per_rank_batch, const Dataset& train, const Dataset& test, const Dataset& mismatch_data,
                    Progress& progress) {
  BnSyncCell cell;
  cell.model = model;
  cell.variant = v;
  cell.per_rank_batch = per_rank_batch;
  cell.global_batch = ranks.size * per_rank_batch;
  const Dataset data = whole_batches(train, c.train_size, cell.global_batch);
  cell.train_images = data.size();
  std::vector<SeedFigures> seeds;
  for (int seed = 1; seed <= c.seeds; ++seed) {
    seeds.push_back(train_seed(c, ranks, model, v, per_rank_batch, seed, data, test, mismatch_data));
    const SeedFigures& f = seeds.back();
    progress.done(fmt::format("{} {} per-rank batch {} seed {}", model, variant_name(v), per_rank_batch, seed),
                  f.diverged ? std::string("diverged")
                             : fmt::format("test {}, mismatch {:+.2f} points, {:.2f} ms/step", pct(f.test_accuracy),
                                           100 * f.mismatch, 1e3 * f.seconds_per_step));
  }
  cell.steps = seeds.front().steps;
  cell.test_accuracy = spread(each(seeds, [](const SeedFigures& f) { return f.test_accuracy; }));
  cell.mismatch = spread(each(seeds, [](const SeedFigures& f) { return f.mismatch; }));
  cell.seconds_per_step = spread(each(seeds, [](const SeedFigures& f) { return f.seconds_per_step; }));
  for (const SeedFigures& f : seeds) cell.diverged += f.diverged;
  return cell;
}

const BnSyncCell* find_cell(const std::vector<BnSyncCell>& cells, const std::string& model, SyncVariant v, int b) {
  for (const BnSyncCell& cell : cells)
    if (cell.model == model && cell.variant == v && cell.per_rank_batch == b) return &cell;
  return nullptr;
}

std::vector<int> batches_of(const std::vector<BnSyncCell>& cells, const std::string& model) {
  std::vector<int> out;
  for (const BnSyncCell& cell : cells)
    if (cell.model == model && std::find(out.begin(), out.end(), cell.per_rank_batch) == out.end())
      out.push_back(cell.per_rank_batch);
  std::sort(out.begin(), out.end());
  return out;
}

std::string variant_label(const std::string& model, SyncVariant v) {
  return v == SyncVariant::Control ? control_name(model) : variant_name(v);
}

// One chart of a figure against log2(per-rank batch): a line per model and variant.
plot::LineChart per_batch_chart(const BnSyncResult& r, const std::vector<std::string>& models, const std::string& title,
                                const std::string& ylabel, double scale, Spread BnSyncCell::*field) {
  plot::LineChart chart{title, "log2(per-rank batch)", ylabel, {}};
  const plot::Rgb colours[] = {kBlue, kOrange, kGreen};
  for (size_t m = 0; m < models.size(); ++m)
    for (size_t k = 0; k < std::size(kVariants); ++k) {
      std::vector<double> x, y;
      for (int b : batches_of(r.cells, models[m])) {
        x.push_back(std::log2(b));
        y.push_back(scale * (find_cell(r.cells, models[m], kVariants[k], b)->*field).mean);
      }
      chart.series.push_back(line(fmt::format("{} {}", models[m], variant_label(models[m], kVariants[k])), x, y,
                                  colours[k], m == 0 ? plot::Dash::Solid : plot::Dash::Dashed));
    }
  return chart;
}

// "97.12 ± 0.10%" over seeds; "97.12%" from one seed, whose spread is not measured.
std::string accuracy_text(const Spread& s) { return s.n > 1 ? pct(s) : pct(s.mean); }

std::string ranks_text(const BnSyncResult& r) {
  return fmt::format("{} {}", r.ranks, r.emulated ? "emulated ranks (threads of one process, one thread each)"
                                                   : "processes (MPI ranks)");
}

}  // namespace

SweepRanks emulated_ranks(int n) {
  SweepRanks ranks;
  ranks.size = n;
  ranks.emulated = true;
  ranks.run = [n](const std::function<void(int, Communicator&)>& rank_fn) {
    ThreadGroup group(n);
    std::vector<std::exception_ptr> failed(n);
    std::vector<std::thread> threads;
    for (int r = 0; r < n; ++r)
      threads.emplace_back([&, r] {
        set_num_threads(1);
        try {
          rank_fn(r, group.communicator(r));
        } catch (...) {
          failed[r] = std::current_exception();
        }
      });
    for (std::thread& t : threads) t.join();
    for (const std::exception_ptr& e : failed)
      if (e) std::rethrow_exception(e);
  };
  return ranks;
}

SweepRanks process_ranks(Communicator& world) {
  SweepRanks ranks;
  ranks.size = world.size();
  ranks.emulated = false;
  ranks.run = [&world](const std::function<void(int, Communicator&)>& rank_fn) { rank_fn(world.rank(), world); };
  return ranks;
}

const char* variant_name(SyncVariant v) {
  switch (v) {
    case SyncVariant::Global: return "bn global";
    case SyncVariant::Local: return "bn local";
    case SyncVariant::Control: return "control";
  }
  return "?";
}

std::string variant_spec(const std::string& model, SyncVariant v) {
  const bool control = v == SyncVariant::Control;
  if (model == "mlp-bn")
    return control ? "flatten,ln,dense:256:relu,ln,dense:128:relu,ln,dense:10:softmax" : "mlp-bn";
  if (model == "cnn-bn")
    return fmt::format("conv:32:3,{0},relu,maxpool:2,conv:64:3,{0},relu,maxpool:2,flatten,dense:10:softmax",
                       control ? "gn:8" : "bn");
  throw InputError(fmt::format("--models: the bn-sync sweep knows mlp-bn and cnn-bn, got '{}'", model));
}

std::string control_name(const std::string& model) { return model == "cnn-bn" ? "groupnorm" : "layernorm"; }

BnSyncResult run_bn_sync_sweep(const BnSyncConfig& c, const SweepRanks& ranks, const Dataset& train,
                               const Dataset& test, const Log& log) {
  const Stopwatch watch;
  std::vector<int> batches = c.per_rank_batches;
  std::sort(batches.begin(), batches.end());
  const Dataset test_data = first(test, c.test_size);
  const Dataset mismatch_data = first(train, c.mismatch_size);  // cut per cell to whole batches
  Progress progress(log, "bn-sync sweep",
                    static_cast<int>(c.models.size() * batches.size() * std::size(kVariants)) * c.seeds);
  BnSyncResult r;
  r.ranks = ranks.size;
  r.emulated = ranks.emulated;
  r.rule = bn_sync_rule(c);
  for (const std::string& model : c.models)
    for (int b : batches)
      for (SyncVariant v : kVariants)
        r.cells.push_back(run_cell(c, ranks, model, v, b, train, test_data, mismatch_data, progress));
  for (const std::string& model : c.models) r.verdicts.emplace_back(model, judge_bn_sync(c, r.cells, model));
  const std::string on = ranks_text(r);
  r.charts = {
      {"bn_sync_test_accuracy", per_batch_chart(r, c.models, "Test accuracy (inference mode) on " + on,
                                                "Test accuracy, % (mean over seeds)", 100, &BnSyncCell::test_accuracy)},
      {"bn_sync_mismatch", per_batch_chart(r, c.models, "Train/inference mismatch on " + on,
                                           "Training-mode minus inference-mode accuracy, points", 100,
                                           &BnSyncCell::mismatch)},
      {"bn_sync_ms_per_step", per_batch_chart(r, c.models, "Time per training step on " + on,
                                              "ms per step (mean over seeds)", 1e3, &BnSyncCell::seconds_per_step)}};
  r.seconds = watch.seconds();
  return r;
}

std::string bn_sync_rule(const BnSyncConfig& c) {
  return fmt::format(
      "Synchronised BatchNorm keeps small per-rank batches trainable: at the smallest per-rank batch, global BN's "
      "mean test accuracy beats local BN's by at least {:.1f} points and its train/inference mismatch is smaller in "
      "size; at the largest per-rank batch the two agree within {:.1f} points. All three: supported; none: not "
      "supported; some: mixed.",
      100 * c.min_gain, 100 * c.max_gap);
}

Judgement judge_bn_sync(const BnSyncConfig& c, const std::vector<BnSyncCell>& cells, const std::string& model) {
  const std::vector<int> batches = batches_of(cells, model);
  if (batches.empty()) throw std::invalid_argument("judge_bn_sync: no cells of " + model);
  const int small = batches.front(), large = batches.back();
  const BnSyncCell& gs = *find_cell(cells, model, SyncVariant::Global, small);
  const BnSyncCell& ls = *find_cell(cells, model, SyncVariant::Local, small);
  const BnSyncCell& gl = *find_cell(cells, model, SyncVariant::Global, large);
  const BnSyncCell& ll = *find_cell(cells, model, SyncVariant::Local, large);
  const double gain = gs.test_accuracy.mean - ls.test_accuracy.mean;
  const double gap = gl.test_accuracy.mean - ll.test_accuracy.mean;
  return judge({
      {fmt::format("{}: at per-rank batch {}, global BN's test accuracy ({}) beats local BN's ({}) by at least {:.1f} "
                   "points ({:+.2f})",
                   model, small, pct(gs.test_accuracy.mean), pct(ls.test_accuracy.mean), 100 * c.min_gain, 100 * gain),
       gain >= c.min_gain},
      {fmt::format("{}: at per-rank batch {}, global BN's train/inference mismatch ({:+.2f} points) is smaller in "
                   "size than local BN's ({:+.2f})",
                   model, small, 100 * gs.mismatch.mean, 100 * ls.mismatch.mean),
       std::fabs(gs.mismatch.mean) < std::fabs(ls.mismatch.mean)},
      {fmt::format("{}: at per-rank batch {}, global and local BN's test accuracies ({} and {}) agree within {:.1f} "
                   "points",
                   model, large, pct(gl.test_accuracy.mean), pct(ll.test_accuracy.mean), 100 * c.max_gap),
       std::fabs(gap) <= c.max_gap},
  });
}

nlohmann::json bn_sync_json(const BnSyncConfig& c, const BnSyncResult& r) {
  nlohmann::json cells = nlohmann::json::array();
  for (const BnSyncCell& cell : r.cells)
    cells.push_back({{"model", cell.model},
                     {"variant", variant_name(cell.variant)},
                     {"normalisation", variant_label(cell.model, cell.variant)},
                     {"per_rank_batch", cell.per_rank_batch},
                     {"global_batch", cell.global_batch},
                     {"steps", cell.steps},
                     {"epochs", static_cast<double>(cell.steps) * cell.global_batch / cell.train_images},
                     {"test_accuracy", to_json(cell.test_accuracy)},
                     {"mismatch", to_json(cell.mismatch)},
                     {"seconds_per_step", to_json(cell.seconds_per_step)},
                     {"diverged_seeds", cell.diverged}});
  nlohmann::json verdicts = nlohmann::json::object();
  for (const auto& [model, j] : r.verdicts) {
    nlohmann::json tests = nlohmann::json::array();
    for (const Test& t : j.tests) tests.push_back({{"test", t.what}, {"in_favour", t.in_favour}});
    verdicts[model] = {{"verdict", verdict_name(j.verdict)}, {"tests", tests}};
  }
  return {{"config",
           {{"models", c.models}, {"per_rank_batches", c.per_rank_batches}, {"seeds", c.seeds}, {"steps", c.steps},
            {"train_size", c.train_size}, {"mismatch_size", c.mismatch_size}, {"test_size", c.test_size}, {"lr", c.lr},
            {"min_gain", c.min_gain}, {"max_gap", c.max_gap}}},
          {"ranks", r.ranks},
          {"emulated_ranks", r.emulated},
          {"rule", r.rule},
          {"seconds", r.seconds},
          {"cells", cells},
          {"verdicts", verdicts}};
}

std::string bn_sync_csv(const BnSyncResult& r) {
  std::string s = "model,variant,normalisation,per_rank_batch,global_batch,steps,test_accuracy,test_accuracy_sd,"
                  "mismatch,mismatch_sd,ms_per_step,diverged_seeds\n";
  for (const BnSyncCell& cell : r.cells)
    s += fmt::format("{},{},{},{},{},{},{:.5f},{:.5f},{:.5f},{:.5f},{:.4f},{}\n", cell.model, variant_name(cell.variant),
                     variant_label(cell.model, cell.variant), cell.per_rank_batch, cell.global_batch, cell.steps,
                     cell.test_accuracy.mean, cell.test_accuracy.sd, cell.mismatch.mean, cell.mismatch.sd,
                     1e3 * cell.seconds_per_step.mean, cell.diverged);
  return s;
}

std::string bn_sync_table_markdown(const BnSyncResult& r) {
  std::string s;
  for (const auto& [model, judgement] : r.verdicts) {
    const std::string control = control_name(model);
    s += fmt::format("{} on {}:\n\n", model, ranks_text(r));
    s += fmt::format("| per-rank batch | global batch | test accuracy: bn global | bn local | {0} | mismatch (points): "
                     "bn global | bn local | ms/step: bn global | bn local | {0} |\n",
                     control);
    s += "|---|---|---|---|---|---|---|---|---|---|\n";
    for (int b : batches_of(r.cells, model)) {
      const BnSyncCell& g = *find_cell(r.cells, model, SyncVariant::Global, b);
      const BnSyncCell& l = *find_cell(r.cells, model, SyncVariant::Local, b);
      const BnSyncCell& k = *find_cell(r.cells, model, SyncVariant::Control, b);
      s += fmt::format("| {} | {} | {} | {} | {} | {:+.2f} | {:+.2f} | {:.2f} | {:.2f} | {:.2f} |\n", b, g.global_batch,
                       accuracy_text(g.test_accuracy), accuracy_text(l.test_accuracy), accuracy_text(k.test_accuracy),
                       100 * g.mismatch.mean,
                       100 * l.mismatch.mean, 1e3 * g.seconds_per_step.mean, 1e3 * l.seconds_per_step.mean,
                       1e3 * k.seconds_per_step.mean);
    }
    s += fmt::format("\nVerdict: **{}**\n", verdict_name(judgement.verdict));
    for (const Test& t : judgement.tests) s += fmt::format("- [{}] {}\n", t.in_favour ? "yes" : "no", t.what);
    s += "\n";
  }
  return s;
}

}  // namespace bnlab::experiments
