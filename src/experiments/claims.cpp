#include "bnlab/core/stopwatch.h"
#include "bnlab/experiments/claims.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "bnlab/core/error.h"
#include "experiments/common.h"

namespace bnlab::experiments {

ClaimsProtocol ClaimsProtocol::fast() { return ClaimsProtocol{}; }

ClaimsProtocol ClaimsProtocol::full() {
  ClaimsProtocol p;
  constexpr int kSeeds = 5;
  p.valid_size = 0;
  p.convergence.budget.seeds = kSeeds;
  p.convergence.epochs = 10;
  p.convergence.eval_every = 200;
  p.learning_rates.budget = {kSeeds, 0};
  p.learning_rates.epochs = 5;
  p.learning_rates.adam_rates = {1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1};
  p.regularisation.budget = {kSeeds, 10000};
  p.regularisation.epochs = 40;
  p.gradient_flow.budget = {kSeeds, 0};
  p.gradient_flow.epochs = 5;
  p.gradient_flow.record_every = 20;
  p.initialisation.budget = {kSeeds, 0};
  p.initialisation.epochs = 5;
  p.initialisation.scales = {0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0};
  p.small_batches.budget = {kSeeds, 0};
  p.small_batches.batch_sizes = {2, 4, 8, 16, 32, 64, 128, 256};
  p.small_batches.steps = 3000;
  p.overhead.budget.seeds = kSeeds;
  p.overhead.batch_sizes = {16, 32, 64, 128, 256};
  p.overhead.steps = 100;
  p.overhead.windows = 9;
  for (PathNets* n : {&p.covariate_shift.nets, &p.landscape.nets}) {
    n->seeds = kSeeds;
    n->steps = 10000;
    n->record_every = 250;
  }
  return p;
}

void ClaimsProtocol::set_seeds(int seeds) {
  for (Budget* b : {&convergence.budget, &learning_rates.budget, &regularisation.budget, &gradient_flow.budget,
                    &initialisation.budget, &small_batches.budget, &overhead.budget})
    b->seeds = seeds;
  covariate_shift.nets.seeds = landscape.nets.seeds = seeds;
}

void ClaimsProtocol::set_path_steps(int64_t steps) {
  for (PathNets* n : {&covariate_shift.nets, &landscape.nets}) {
    n->steps = steps;
    n->record_every = std::clamp<int64_t>(steps / 4, 1, n->record_every);
  }
}

namespace {

nlohmann::json budget_json(const Budget& b) {
  return {{"seeds", b.seeds}, {"train_size", b.train_size}, {"batch_size", b.batch_size}, {"lr", b.lr}};
}

nlohmann::json nets_json(const PathNets& n) {
  return {{"seeds", n.seeds},           {"steps", n.steps},         {"record_every", n.record_every},
          {"train_size", n.train_size}, {"optimizer", "sgd"},       {"ioffe_batch", n.ioffe_batch},
          {"ioffe_lr", n.ioffe_lr},     {"ioffe_init_sd", n.ioffe_init_sd}, {"mlp_batch", n.mlp_batch},
          {"mlp_lr", n.mlp_lr}};
}

}  // namespace

nlohmann::json protocol_json(const ClaimsProtocol& p) {
  return {{"valid_size", p.valid_size},
          {"convergence", {{"budget", budget_json(p.convergence.budget)}, {"epochs", p.convergence.epochs},
                           {"target", p.convergence.target}, {"eval_every", p.convergence.eval_every}}},
          {"learning_rates", {{"budget", budget_json(p.learning_rates.budget)}, {"epochs", p.learning_rates.epochs},
                              {"sgd_rates", p.learning_rates.sgd_rates}, {"adam_rates", p.learning_rates.adam_rates},
                              {"usable_accuracy", p.learning_rates.usable_accuracy},
                              {"evaluations", p.learning_rates.evaluations}}},
          {"regularisation", {{"budget", budget_json(p.regularisation.budget)}, {"epochs", p.regularisation.epochs},
                              {"dropout", p.regularisation.dropout}}},
          {"gradient_flow", {{"budget", budget_json(p.gradient_flow.budget)}, {"epochs", p.gradient_flow.epochs},
                             {"deep_layers", p.gradient_flow.deep_layers}, {"deep_width", p.gradient_flow.deep_width},
                             {"deep_sgd_lr", p.gradient_flow.deep_sgd_lr}, {"record_every", p.gradient_flow.record_every}}},
          {"initialisation", {{"budget", budget_json(p.initialisation.budget)}, {"epochs", p.initialisation.epochs},
                              {"scales", p.initialisation.scales}}},
          {"small_batches", {{"budget", budget_json(p.small_batches.budget)}, {"batch_sizes", p.small_batches.batch_sizes},
                             {"reference_batch", p.small_batches.reference_batch}, {"steps", p.small_batches.steps}}},
          {"overhead", {{"budget", budget_json(p.overhead.budget)}, {"batch_sizes", p.overhead.batch_sizes},
                        {"steps", p.overhead.steps}, {"windows", p.overhead.windows}, {"min_effect", p.overhead.min_effect}}},
          {"covariate_shift",
           {{"nets", nets_json(p.covariate_shift.nets)}, {"units", p.covariate_shift.units},
            {"probe_size", p.covariate_shift.probe_size},
            {"noise", {{"shift", p.covariate_shift.noise.shift}, {"scale", p.covariate_shift.noise.scale}}},
            {"models", {{"ioffe", {ioffe_spec(Normalisation::None), ioffe_spec(Normalisation::BN),
                                   ioffe_spec(Normalisation::NoisyBN, p.covariate_shift.noise)}},
                        {"mlp", {notebook_mlp_spec(Normalisation::None), notebook_mlp_spec(Normalisation::BN),
                                 notebook_mlp_spec(Normalisation::NoisyBN, p.covariate_shift.noise)}}}}}},
          {"landscape",
           {{"nets", nets_json(p.landscape.nets)}, {"lr_multiples", p.landscape.lr_multiples},
            {"models", {{"ioffe", {ioffe_spec(Normalisation::None), ioffe_spec(Normalisation::BN)}},
                        {"mlp", {notebook_mlp_spec(Normalisation::None), notebook_mlp_spec(Normalisation::BN)}}}}}}};
}

namespace {

std::string no_such_claim(int number) {
  return fmt::format("claims: there is no claim {} ({} to {})", number, kFirstClaim, kLastClaim);
}

std::vector<ClaimResult> run_claim(const ClaimsProtocol& p, int number, const Dataset& train, const Dataset& valid,
                                   const Log& log) {
  switch (number) {
    case 0:
      return report_covariate_shift(measure_covariate_shift(p.covariate_shift, train, valid, log));
    case 8:
      return {report_landscape(measure_landscape(p.landscape, train, valid, log))};
    case 1:
      return {report_convergence(measure_convergence(p.convergence, train, valid, log))};
    case 2:
      return {report_learning_rates(measure_learning_rates(p.learning_rates, train, valid, log))};
    case 3:
      return {report_regularisation(measure_regularisation(p.regularisation, train, valid, log))};
    case 4:
      return {report_gradient_flow(measure_gradient_flow(p.gradient_flow, train, valid, log))};
    case 5:
      return {report_initialisation(measure_initialisation(p.initialisation, train, valid, log))};
    case 6:
      return {report_small_batches(measure_small_batches(p.small_batches, train, valid, log))};
    case 7:
      return {report_overhead(measure_overhead(p.overhead, train, log))};
  }
  throw InputError(no_such_claim(number));
}

}  // namespace

std::vector<ClaimResult> run_claims(const ClaimsProtocol& p, const std::vector<int>& which, const Dataset& train,
                                    const Dataset& valid, const Log& log) {
  std::vector<int> numbers = which;
  std::sort(numbers.begin(), numbers.end());
  numbers.erase(std::unique(numbers.begin(), numbers.end()), numbers.end());
  if (numbers.empty())
    for (int i = kFirstClaim; i <= kLastClaim; ++i) numbers.push_back(i);
  for (int n : numbers)
    if (n < kFirstClaim || n > kLastClaim) throw InputError(no_such_claim(n));
  const Dataset valid_used = detail::first(valid, p.valid_size);
  std::vector<ClaimResult> results;
  for (int n : numbers) {
    const Stopwatch watch;
    for (ClaimResult& r : run_claim(p, n, train, valid_used, log)) {
      r.seconds = watch.seconds();
      log(fmt::format("claim {} ({}): {} in {:.0f}s", r.number, r.claim, verdict_name(r.judgement.verdict), r.seconds));
      results.push_back(std::move(r));
    }
  }
  return results;
}

}  // namespace bnlab::experiments
