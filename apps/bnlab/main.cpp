// bnlab: train neural networks with and without Batch Normalization, and measure what BN does.
// Exit codes: 0 success, 2 bad usage or bad input (one line on stderr), 1 internal error,
// 3 training stopped by a non-finite loss or gradient, 128 + N training stopped by signal N.
// Under mpirun, a rank that fails prints its line (prefixed with its rank unless rank 0) and ends
// every rank with its code (ranks.h).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <exception>

#include "bnlab/core/denormals.h"
#include "bnlab/core/error.h"
#include "bnlab/data/fetch.h"
#include "bnlab/model/fit.h"
#include "cmd_experiments.h"
#include "commands.h"
#include "datasets.h"
#include "ranks.h"

namespace {

using namespace bnlab::cli;

void add_eval_options(CLI::App* cmd, EvalOptions& e) {
  cmd->add_option("checkpoint", e.checkpoint, "model.safetensors written by bnlab train or compare")->required();
  cmd->add_option("--split", e.split, "test, valid or train")->capture_default_str();
  cmd->add_option("--batch-size", e.batch_size, "evaluation batch size")->capture_default_str();
  cmd->add_flag("--unscaled", e.unscaled, "do not divide pixels by 255 (reproduces the notebook's mistake)");
  cmd->add_flag("--json", e.json, "one JSON document on stdout");
  cmd->add_option("--threads", e.threads, "threads (0: one per core)");
  cmd->add_option("--dataset", e.dataset, "dataset (default: the checkpoint's): a known name, an .npz file or an IDX folder");
  cmd->add_option("--data-dir", e.data_dir, "data cache root");
  cmd->add_option("--channels", e.channels, "channel axis of (N, ., ., .) images in an .npz: first, last or auto")->capture_default_str();
  cmd->add_option("--valid", e.valid, "validation images (as the model was trained with)");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bnlab: train MLPs with and without Batch Normalization and measure what BN does", "bnlab"};
  app.require_subcommand(1);
  app.set_version_flag("--version", BNLAB_VERSION);

  DataOptions data_opts;
  bool data_json = false;
  CLI::App* data = app.add_subcommand("data", "fetch or describe a dataset");
  data->require_subcommand(1);
  CLI::App* fetch = data->add_subcommand("fetch", "download, verify (SHA-256) and cache a dataset");
  CLI::App* info = data->add_subcommand("info", "where the files are, counts, label histogram, pixel statistics");
  fetch->add_option("--dataset", data_opts.dataset, "mnist or fashion-mnist")->capture_default_str();
  fetch->add_option("--data-dir", data_opts.data_dir, "cache root (else $BNLAB_DATA, $XDG_CACHE_HOME/bnlab, ~/.cache/bnlab)");
  add_data_options(info, data_opts);
  info->add_flag("--json", data_json, "one JSON document on stdout");

  std::string summary_model = "mlp";
  bool summary_json = false;
  CLI::App* summary = app.add_subcommand("summary", "print a model's Keras-style summary");
  summary->add_option("--model", summary_model, "mlp, mlp-bn or a spec such as flatten,bn,dense:10:softmax")->capture_default_str();
  summary->add_flag("--json", summary_json, "one JSON document on stdout");

  TrainOptions train_opts;
  CLI::App* train = app.add_subcommand("train", "train one model and write a run directory");
  train->add_option("--model", train_opts.model, "mlp, mlp-bn or a spec")->capture_default_str();
  train->add_option("--epochs", train_opts.epochs, "epochs (default: 30 for mlp, 15 for mlp-bn, else 1)");
  train->add_option("--batch-size", train_opts.batch_size, "batch size (default: 32 for mlp, 64 for mlp-bn, else 32)");
  train->add_option("--lr", train_opts.lr, "learning rate")->capture_default_str();
  train->add_option("--optimizer", train_opts.optimizer, "adam or sgd")->capture_default_str();
  train->add_option("--momentum", train_opts.momentum, "SGD momentum")->capture_default_str();
  train->add_option("--seed", train_opts.seed, "seed for initialisation and data order")
      ->check(kNotNegative)
      ->capture_default_str();
  train->add_option("--threads", train_opts.threads, "threads (0: one per core)")->capture_default_str();
  add_data_options(train, train_opts.data);
  train->add_option("--out", train_opts.out, "run directory (must be new or empty)");
  train->add_option("--init-from", train_opts.init_from, "start from this checkpoint's weights");
  train->add_option("--max-steps", train_opts.max_steps, "stop after this many steps");
  train->add_option("--subset", train_opts.subset, "train on the first N training images only");
  train->add_flag("--no-shuffle", train_opts.no_shuffle, "keep the data order");
  train->add_flag("--json", train_opts.json, "one JSON document (the run's metrics) on stdout");
  train->add_option("--on-nan", train_opts.on_nan, "on a non-finite loss or gradient: stop (default) or skip-batch");
  const char* bn_sync_help =
      "BatchNorm under mpirun -np N: global (the default) normalises with the statistics of the whole global batch, "
      "merged across the processes, so N processes train the model one would; local normalises each process's shard "
      "by itself. Accepted and meaningless in one process";
  train->add_option("--bn-sync", train_opts.bn_sync, bn_sync_help)->capture_default_str();
  CLI::Option* resume = train->add_option("--resume", train_opts.resume,
                                          "continue the stopped run in RUN_DIR with its saved settings (config.json)");
  for (const char* fixed : {"--model", "--epochs", "--batch-size", "--lr", "--optimizer", "--momentum", "--seed",
                            "--threads", "--dataset", "--channels", "--valid", "--out", "--init-from", "--max-steps",
                            "--subset", "--no-shuffle", "--bn-sync"})
    resume->excludes(train->get_option(fixed));

  EvalOptions eval_opts;
  CLI::App* evaluate = app.add_subcommand("evaluate", "evaluate a checkpoint on a split");
  add_eval_options(evaluate, eval_opts);

  PredictOptions predict_opts;
  CLI::App* predict = app.add_subcommand("predict", "class probabilities for chosen images");
  add_eval_options(predict, predict_opts.eval);
  predict->add_option("--indices", predict_opts.indices, "a slice like 5:12 or a list like 5,6,9")->capture_default_str();

  ShowOptions show_opts;
  CLI::App* show = app.add_subcommand("show", "show an image: terminal blocks, or PNG/SVG with --out");
  show->add_option("--index", show_opts.index, "image index")->capture_default_str();
  show->add_option("--split", show_opts.split, "train, valid or test")->capture_default_str();
  show->add_flag("--heatmap", show_opts.heatmap, "annotated pixel heatmap instead of the image");
  show->add_option("--out", show_opts.out, "write a .png or .svg file");
  add_data_options(show, show_opts.data);

  CompareOptions compare_opts;
  CLI::App* compare = app.add_subcommand("compare", "the notebook end to end: mlp vs mlp-bn, or any two models");
  compare->add_option("--out", compare_opts.out, "run directory (default: runs/compare-<time>)");
  compare->add_flag("--quick", compare_opts.quick, "small subset and 2 epochs (a smoke test in seconds)");
  compare->add_flag("--unscaled-test", compare_opts.unscaled_test, "also evaluate on a test set not divided by 255, as the notebook did");
  compare->add_flag("--json", compare_opts.json, "one JSON document on stdout");
  compare->add_option("--seed", compare_opts.seed, "seed")->check(kNotNegative)->capture_default_str();
  compare->add_option("--threads", compare_opts.threads, "threads (0: one per core)");
  compare->add_option("--bn-sync", compare_opts.bn_sync, bn_sync_help)->capture_default_str();
  compare->add_option("--models", compare_opts.models,
                      "the two models: two presets (cnn,cnn-bn) or two values, presets or specs "
                      "(--models SPEC1 SPEC2); the first trains as the notebook's model without BN "
                      "(30 epochs, batch 32), the second as its model with BN (15 epochs, batch 64)")
      ->expected(1, 2)->capture_default_str();
  add_data_options(compare, compare_opts.data);

  BenchOptions bench_opts;
  CLI::App* bench = app.add_subcommand("bench", "time training steps and epochs; GFLOP/s against the sgemm peak");
  bench->add_option("--models", bench_opts.models, "models")->delimiter(',')->capture_default_str();
  bench->add_option("--batch-sizes", bench_opts.batch_sizes, "batch sizes")->delimiter(',')->capture_default_str();
  bench->add_option("--threads", bench_opts.threads, "thread counts (default: 1 and one per core)")->delimiter(',');
  bench->add_option("--steps", bench_opts.steps, "steps per timing window")->capture_default_str();
  bench->add_option("--repeats", bench_opts.repeats, "timing windows (median reported)")->capture_default_str();
  bench->add_option("--epoch-repeats", bench_opts.epoch_repeats, "runs of each fresh epoch workload (mlp at batch 32 and 64, mlp-bn at 64, whatever --models and --batch-sizes "
                    "say), before epochs 10-12 of mlp at 32 and mlp-bn at 64 trained to there; 0 skips both")->capture_default_str();
  bench->add_flag("--plain", bench_opts.plain,
                  "every layer on its own, without the training plan's fused steps (to see what they buy)");
  bench->add_flag("--json", bench_opts.json, "one JSON document on stdout");
  bench->add_option("--data-dir", bench_opts.data_dir, "data cache root");

  ExperimentCommands experiments;
  add_experiment_commands(app, experiments);

  // Every command that trains or evaluates; one setting for the whole process.
  std::optional<std::string> denormals;
  for (CLI::App* cmd : {train, evaluate, predict, compare, bench, experiments.claims_cmd,
                        experiments.sweep_batch_size_cmd, experiments.sweep_bn_sync_cmd, experiments.notebook_bug_cmd})
    cmd->add_option("--denormals", denormals,
                    "subnormal floats: flush (the default, as TensorFlow does) or keep (IEEE, as PyTorch does); "
                    "the default is $BNLAB_DENORMALS when set");

  std::string report_dir;
  CLI::App* report = app.add_subcommand("report", "rebuild charts and report.html of a run directory");
  report->add_option("run_dir", report_dir, "run directory")->required();

  try {
    const auto commands = app.get_subcommands([](const CLI::App*) { return true; });
    const bool known = argc > 1 && std::any_of(commands.begin(), commands.end(), [&](const CLI::App* c) { return c->get_name() == argv[1]; });
    if (argc > 1 && argv[1][0] != '-' && !known)
      throw bnlab::InputError(fmt::format("unknown command '{}' (data, summary, train, evaluate, predict, show, compare, report, bench, claims, sweep, notebook-bug)", argv[1]));
    app.parse(argc, argv);
    bnlab::set_denormals(denormals ? bnlab::parse_denormals(*denormals, "--denormals") : bnlab::default_denormals());
    train_opts.denormals = denormals;
    if (fetch->parsed()) return run_data_fetch(data_opts);
    if (info->parsed()) return run_data_info(data_opts, data_json);
    if (summary->parsed()) return run_summary(summary_model, summary_json);
    if (train->parsed()) return run_train(train_opts);
    if (evaluate->parsed()) return run_evaluate(eval_opts);
    if (predict->parsed()) return run_predict(predict_opts);
    if (show->parsed()) return run_show(show_opts);
    if (compare->parsed()) return run_compare(compare_opts);
    if (report->parsed()) return run_report(report_dir);
    if (bench->parsed()) return run_bench(bench_opts);
    if (const auto code = run_experiment_command(experiments)) return *code;
  } catch (const CLI::CallForHelp&) {
    return app.exit(CLI::CallForHelp());
  } catch (const CLI::CallForAllHelp&) {
    return app.exit(CLI::CallForAllHelp());
  } catch (const CLI::CallForVersion&) {
    fmt::print("{}\n", BNLAB_VERSION);
    return 0;
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "bnlab: {} (see bnlab --help)\n", e.what());
    return 2;
  } catch (const bnlab::InputError& e) {
    fmt::print(stderr, "bnlab: {}{}\n", rank_prefix(), e.what());
    return end_ranks(2);
  } catch (const bnlab::TrainingStopped& e) {
    fmt::print(stderr, "bnlab: {}{}\n", rank_prefix(), e.what());
    return end_ranks(kExitNonFinite);
  } catch (const bnlab::FetchError& e) {
    fmt::print(stderr, "bnlab: {}{}\n", rank_prefix(), e.what());
    return end_ranks(1);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bnlab: {}internal error: {}\n", rank_prefix(), e.what());
    return end_ranks(1);
  }
  return 2;
}
