// Searches: sampled trials (determinism, rounding, every malformed block),
// successive-halving decisions as pure logic, and `hrm sweep` of sha and
// asha searches end to end with the real binary, a real SQLite store and
// kill -9 at the worst moments.
#include "runner/search.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "base/file_lock.h"
#include "base/subprocess.h"
#include "runner/grid.h"
#include "runner/halving.h"
#include "store/store_lock.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string TempPath(const std::string& name) {
  const fs::path dir =
      fs::path(testing::TempDir()) / ("hrm_search_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string WriteGrid(const std::string& dir, const std::string& text) {
  const std::string path = dir + "/grid.yaml";
  std::ofstream(path) << text;
  return path;
}

std::vector<ExpandedRun> Expand(const std::string& text, const std::string& name = "expand",
                                const std::vector<std::string>& sets = {}) {
  return ExpandGrid(LoadGrid(WriteGrid(TempPath(name), text)), "", sets);
}

std::vector<std::string> Ids(const std::vector<ExpandedRun>& runs) {
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(r.id);
  return ids;
}

std::string SampledGrid(const std::string& sampler, int trials, int seed) {
  return "base: {model: hrm, N: 2, T: 2, K: 2, d: 32, seq: 32, batch: 4, steps: 24}\n"
         "search:\n"
         "  sampler: " +
         sampler +
         "\n"
         "  trials: " +
         std::to_string(trials) +
         "\n"
         "  seed: " +
         std::to_string(seed) +
         "\n"
         "  space:\n"
         "    lr: {loguniform: [1.0e-4, 1.0e-2], digits: 3}\n"
         "    warmup: {int: [0, 8]}\n"
         "    grad_clip: {uniform: [0.5, 2.0], digits: 2}\n"
         "    eval_iters: 2\n";
}

TEST(SearchSpace, SameSeedSameTrialsAndIdsAnotherSeedOthers) {
  for (const char* sampler : {"random", "sobol"}) {
    const auto a = Expand(SampledGrid(sampler, 8, 7), "a");
    const auto b = Expand(SampledGrid(sampler, 8, 7), "b");
    const auto c = Expand(SampledGrid(sampler, 8, 8), "c");
    ASSERT_EQ(a.size(), 8u) << sampler;
    EXPECT_EQ(Ids(a), Ids(b)) << sampler;
    const std::vector<std::string> ids_a = Ids(a);
    std::set<std::string> common;
    for (const auto& id : Ids(c))
      if (std::count(ids_a.begin(), ids_a.end(), id)) common.insert(id);
    EXPECT_TRUE(common.empty()) << sampler;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].trial, int(i));
      EXPECT_EQ(a[i].config["eval_iters"], 2);  // fixed values reach every trial
      const double lr = a[i].config["lr"];
      EXPECT_GE(lr, 1e-4);
      EXPECT_LE(lr, 1e-2);
      const int64_t warmup = a[i].config["warmup"];
      EXPECT_GE(warmup, 0);
      EXPECT_LE(warmup, 8);
    }
  }
}

TEST(SearchSpace, TrialIDependsOnlyOnSeedAndI) {
  // Counter-based: drawing more trials leaves the first ones as they were.
  for (const char* sampler : {"random", "sobol"}) {
    const auto few = Ids(Expand(SampledGrid(sampler, 4, 3), "few"));
    const auto many = Ids(Expand(SampledGrid(sampler, 16, 3), "many"));
    EXPECT_EQ(few, std::vector<std::string>(many.begin(), many.begin() + 4)) << sampler;
  }
}

TEST(SearchSpace, SobolSpreadsTrialsOverTheSpace) {
  // 16 Sobol points put one trial into each quarter of lr's log range 4
  // times; random draws are allowed to cluster.
  const auto runs = Expand(SampledGrid("sobol", 16, 0), "sobol");
  std::map<int, int> quarters;
  for (const auto& r : runs)
    quarters[int(std::floor((std::log10(r.config["lr"].get<double>()) + 4) / 0.5))]++;
  EXPECT_EQ(quarters.size(), 4u);
  for (const auto& [q, n] : quarters) EXPECT_EQ(n, 4) << "quarter " << q;
}

TEST(SearchSpace, RoundingGivesShortValuesAndStableHashes) {
  EXPECT_EQ(RoundSignificant(0.000123456, 3), 0.000123);
  EXPECT_EQ(RoundSignificant(1.23456, 2), 1.2);
  for (const auto& r : Expand(SampledGrid("random", 12, 5), "round")) {
    const double lr = r.config["lr"], clip = r.config["grad_clip"];
    EXPECT_EQ(RoundSignificant(lr, 3), lr);
    EXPECT_EQ(RoundSignificant(clip, 2), clip);
    EXPECT_LE(ShowValue(r.config["lr"]).size(), 9u) << ShowValue(r.config["lr"]);
    // The config as written and read back (JSON text) has the same id.
    EXPECT_EQ(RunId(ResolveConfig(json::parse(r.config.dump()))), r.id);
  }
}

TEST(SearchSpace, GridSamplerIsTheProductAndCombinesWithRunsSeedsAndSet) {
  const std::string runs =
      "base: {d: 32, seq: 32, batch: 4, steps: 24}\n"
      "runs:\n"
      "  - {label: \"HRM {lr} {warmup}\", model: hrm, N: 2, T: 2, K: 2}\n"
      "  - {label: \"T-L2 {lr} {warmup}\", model: transformer, L: 2}\n"
      "seeds: [1, 2]\n";
  const auto searched = Expand(runs +
                                   "search:\n"
                                   "  sampler: grid\n"
                                   "  space: {lr: {choice: [1.0e-3, 3.0e-3]}, "
                                   "warmup: {choice: [2, 4, 6]}}\n",
                               "searched", {"eval_interval=4"});
  const auto product = Expand(runs + "product: {lr: [1.0e-3, 3.0e-3], warmup: [2, 4, 6]}\n",
                              "product", {"eval_interval=4"});
  ASSERT_EQ(searched.size(), 2u * 2u * 6u);
  const std::vector<std::string> ids_s = Ids(searched), ids_p = Ids(product);
  std::set<std::string> a(ids_s.begin(), ids_s.end()), b(ids_p.begin(), ids_p.end());
  EXPECT_EQ(a, b);
  // Brackets: one per (run entry, seed), each holding its 6 trials.
  std::map<std::string, int> brackets;
  for (const auto& r : searched) {
    brackets[r.bracket]++;
    EXPECT_EQ(r.config["eval_interval"], 4);
  }
  EXPECT_EQ(brackets.size(), 4u);
  for (const auto& [b, n] : brackets) EXPECT_EQ(n, 6);
}

TEST(SearchSpace, HpsearchShaIsThePapersSpaceAsAShaSearchUnderEveryProfile) {
  const Grid grid = LoadGrid(HRM_SOURCE_DIR "/grids/hpsearch_sha.yaml");
  ASSERT_TRUE(grid.search);
  const std::map<std::string, std::vector<int64_t>> rungs = {
      {"paper", {500, 1500, 4500, 10000}}, {"mini", {25, 75, 225, 300}}, {"smoke", {3, 6}}};
  for (const auto& [profile, expected] : rungs) {
    const auto runs = ExpandGrid(grid, profile, {});
    ASSERT_EQ(runs.size(), 18u) << profile;  // 9 trials × (HRM NT=12, T-L4)
    const SearchPlan plan = PlanSearch(*grid.search, runs);
    EXPECT_EQ(plan.rungs, expected) << profile;
    std::map<std::string, std::set<std::string>> models;  // bracket -> models
    for (const auto& r : runs) models[r.bracket].insert(r.config["model"].get<std::string>());
    EXPECT_EQ(models.size(), 2u) << profile;
    for (const auto& [b, m] : models) EXPECT_EQ(m.size(), 1u) << profile;
    for (const auto& r : runs) {
      EXPECT_GE(r.config["lr"].get<double>(), 1e-5);
      EXPECT_LE(r.config["lr"].get<double>(), 1e-3);
    }
  }
}

struct BadCase {
  std::string search;  // the block, from line 2 of the file
  std::string error;   // expected in what(): "LINE: key: reason"
};

TEST(SearchSpace, EveryMalformedBlockIsRejectedWithFileLineAndKey) {
  const std::vector<BadCase> cases = {
      {"search: 3\n", ":2: search: expected a mapping"},
      {"search: {trials: 4, space: {lr: {uniform: [1.0e-4, 1.0e-3]}}, colour: red}\n",
       ":2: search.colour: unknown key"},
      {"search: {sampler: tpe, trials: 4, space: {lr: {uniform: [1.0e-4, 1.0e-3]}}}\n",
       ":2: search.sampler: expected random, sobol or grid"},
      {"search: {space: {lr: {uniform: [1.0e-4, 1.0e-3]}}}\n", ":2: search.trials: missing"},
      {"search: {trials: 0, space: {lr: {uniform: [1.0e-4, 1.0e-3]}}}\n",
       ":2: search.trials: must be >= 1"},
      {"search: {trials: many, space: {lr: {uniform: [1.0e-4, 1.0e-3]}}}\n",
       ":2: search.trials: expected an integer (got many)"},
      {"search: {trials: 4, seed: -1, space: {lr: {uniform: [1.0e-4, 1.0e-3]}}}\n",
       ":2: search.seed: must be >= 0"},
      {"search: {trials: 4}\n", ":2: search.space: missing"},
      {"search: {trials: 4, space: {}}\n", ":2: search.space: empty space"},
      {"search: {trials: 4, space: {lr: 1.0e-3}}\n", ":2: search.space: no key varies"},
      {"search:\n  trials: 4\n  space:\n    depth: {int: [1, 4]}\n", ":5: depth: unknown key"},
      {"search:\n  trials: 4\n  space:\n    lr: {uniform: [1.0e-3]}\n",
       ":5: lr.uniform: expected [low, high]"},
      {"search:\n  trials: 4\n  space:\n    lr: {uniform: [1.0e-3, 1.0e-4]}\n",
       ":5: lr.uniform: low must be below high"},
      {"search:\n  trials: 4\n  space:\n    lr: {loguniform: [0, 1.0e-3]}\n",
       ":5: lr.loguniform: bounds must be positive"},
      {"search:\n  trials: 4\n  space:\n    lr: {uniform: [-1.0, 1.0e-3]}\n", ":5: lr:"},
      {"search:\n  trials: 4\n  space:\n    warmup: {uniform: [0, 10]}\n",
       ":5: warmup: uniform draws real numbers; warmup is not a real-valued key"},
      {"search:\n  trials: 4\n  space:\n    lr: {int: [1, 4]}\n",
       ":5: lr: int draws integers; lr is not an integer key"},
      {"search:\n  trials: 4\n  space:\n    warmup: {int: [8, 2]}\n",
       ":5: warmup.int: low is above high"},
      {"search:\n  trials: 4\n  space:\n    model: {choice: [hrm, rnn]}\n", ":5: model:"},
      {"search:\n  trials: 4\n  space:\n    warmup: {choice: [2, 2]}\n",
       ":5: warmup.choice: 2 given twice"},
      {"search:\n  trials: 4\n  space:\n    warmup: {choice: []}\n",
       ":5: warmup.choice: expected a non-empty list"},
      {"search:\n  trials: 4\n  space:\n    lr: {normal: [0, 1]}\n",
       ":5: lr: unknown distribution normal"},
      {"search:\n  trials: 4\n  space:\n    lr: [1.0e-3, 2.0e-3]\n", ":5: lr: expected a value or"},
      {"search:\n  trials: 4\n  space:\n    lr: {uniform: [1.0e-4, 1.0e-3], choice: [1]}\n",
       ":5: lr: give one distribution"},
      {"search:\n  trials: 4\n  space:\n    warmup: {int: [0, 4], digits: 2}\n",
       ":5: warmup.digits: only uniform and loguniform values are rounded"},
      {"search:\n  trials: 4\n  space:\n    lr: {uniform: [1.0e-4, 1.0e-3], digits: 0}\n",
       ":5: lr.digits: must be >= 1"},
      {"search:\n  sampler: grid\n  trials: 4\n  space:\n    warmup: {choice: [1, 2]}\n",
       ":4: search.trials: the grid sampler takes every point"},
      {"search:\n  sampler: grid\n  space:\n    lr: {uniform: [1.0e-4, 1.0e-3]}\n",
       ":5: lr: the grid sampler takes choice lists only"},
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}}\n"
       "  scheduler: {type: hyperband, min_steps: 4}\n",
       ":5: scheduler.type: expected sha or asha"},
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}}\n"
       "  scheduler: {type: sha}\n",
       ":5: scheduler.min_steps: give the first rung"},
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}}\n"
       "  scheduler: {type: sha, min_steps: 4, reduction_factor: 1}\n",
       ":5: scheduler.reduction_factor: must be >= 2"},
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}}\n"
       "  scheduler: {type: sha, min_steps: 4, metric: accuracy}\n",
       ":5: scheduler.metric: expected val_ce or train_ce"},
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}}\n"
       "  scheduler: {type: sha, min_steps: 4, patience: 2}\n",
       ":5: scheduler.patience: unknown key"},
      // Found once the trials are expanded: the rungs against the schedule.
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}}\n"
       "  scheduler: {type: sha, min_steps: 24}\n",
       ":5: scheduler.min_steps: the first rung (step 24) is not below steps (24)"},
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}}\n"
       "  scheduler: {type: sha, min_steps: 3}\n",
       ":5: scheduler.min_steps: rung at step 3 falls between evaluations (eval_interval 4)"},
      {"search:\n  trials: 4\n  space: {lr: {uniform: [1.0e-4, 1.0e-3]}, steps: {choice: [24, "
       "48]}}\n  scheduler: {type: sha, min_steps: 4}\n",
       ":5: scheduler: trials differ in steps"},
      // Sampled values go through the same checks as grid values.
      {"search:\n  trials: 4\n  space: {K: {int: [1, 9]}}\n", ":4: K: gradient window exceeds"},
  };
  const std::string head =
      "base: {model: hrm, N: 2, T: 2, K: 2, d: 32, seq: 32, batch: 4, steps: 24, "
      "eval_interval: 4}\n";
  int i = 0;
  for (const auto& c : cases) {
    const std::string dir = TempPath("bad" + std::to_string(i++));
    const std::string path = WriteGrid(dir, head + c.search);
    try {
      Grid g = LoadGrid(path);
      auto runs = ExpandGrid(g, "", {});
      if (g.search) PlanSearch(*g.search, runs);
      ADD_FAILURE() << "accepted:\n" << c.search;
    } catch (const GridError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(path + c.error, 0), 0u)
          << "got:      " << e.what() << "\nexpected: " << path << c.error;
    }
  }
}

// --- Successive halving as logic -----------------------------------------

std::vector<HalvingTrial> Trials(const std::vector<std::vector<double>>& metrics,
                                 const std::vector<int64_t>& rungs) {
  std::vector<HalvingTrial> out;
  for (size_t i = 0; i < metrics.size(); ++i) {
    HalvingTrial t{"t" + std::to_string(i), "b", int64_t(i), false, {}};
    for (size_t k = 0; k < metrics[i].size(); ++k) t.metric[rungs[k]] = metrics[i][k];
    out.push_back(t);
  }
  return out;
}

// Runs Results/Decisions to a fixed point, as Search::Advance does.
std::vector<RungRow> Settle(const Halving& h, const std::vector<HalvingTrial>& trials,
                            std::vector<RungRow> rows, bool idle) {
  for (;;) {
    auto results = h.Results(trials, rows);
    rows.insert(rows.end(), results.begin(), results.end());
    auto decisions = h.Decisions(trials, rows, idle);
    if (decisions.empty()) return rows;
    for (const auto& d : decisions)
      for (auto& r : rows)
        if (r.run_id == d.run_id && r.rung == d.rung) r = d;
  }
}

std::map<std::pair<std::string, int64_t>, std::string> DecisionMap(
    const std::vector<RungRow>& rows) {
  std::map<std::pair<std::string, int64_t>, std::string> out;
  for (const auto& r : rows) out[{r.run_id, r.rung}] = r.decision;
  return out;
}

TEST(Halving, RungsAreMinStepsTimesEtaToTheKThenSteps) {
  EXPECT_EQ(RungSteps(25, 3, 300), (std::vector<int64_t>{25, 75, 225, 300}));
  EXPECT_EQ(RungSteps(4, 2, 16), (std::vector<int64_t>{4, 8, 16}));
}

TEST(Halving, ShaWaitsForTheWholeRungThenPromotesTheBestThird) {
  const std::vector<int64_t> rungs = {4, 12, 36};
  Halving h("sha", 3, rungs);
  // Six trials at rung 0; trial 5 has not reported yet.
  auto trials = Trials({{3.0}, {2.0}, {2.5}, {4.0}, {1.0}, {}}, rungs);
  auto rows = Settle(h, trials, {}, false);
  EXPECT_EQ(rows.size(), 5u);
  for (const auto& r : rows) EXPECT_EQ(r.decision, "");
  EXPECT_EQ(h.Target(trials[5], rows), 4);
  EXPECT_EQ(h.Target(trials[4], rows), std::nullopt);  // waits for the rung
  trials[5].metric[4] = 2.0;                           // ties with trial 1: grid order breaks it
  rows = Settle(h, trials, rows, false);
  auto d = DecisionMap(rows);
  EXPECT_EQ((d[{"t4", 0}]), "promoted");
  EXPECT_EQ((d[{"t1", 0}]), "promoted");
  EXPECT_EQ((d[{"t5", 0}]), "stopped");
  for (const char* t : {"t0", "t2", "t3"}) EXPECT_EQ((d[{t, 0}]), "stopped");
  EXPECT_EQ(h.Target(trials[4], rows), 12);
  EXPECT_EQ(h.Target(trials[0], rows), std::nullopt);
  // Rung 1 keeps max(1, 2/3) = 1; the top rung is never decided.
  trials[4].metric[12] = 0.9;
  trials[1].metric[12] = 0.8;
  rows = Settle(h, trials, rows, false);
  d = DecisionMap(rows);
  EXPECT_EQ((d[{"t1", 1}]), "promoted");
  EXPECT_EQ((d[{"t4", 1}]), "stopped");
  EXPECT_EQ(h.Target(trials[1], rows), 36);
  trials[1].metric[36] = 0.5;
  rows = Settle(h, trials, rows, false);
  EXPECT_EQ((DecisionMap(rows)[{"t1", 2}]), "");
  EXPECT_EQ(h.Target(trials[1], rows), std::nullopt);
}

TEST(Halving, ShaIsTheSameWhateverTheOrderResultsArrive) {
  const std::vector<int64_t> rungs = {4, 12, 36};
  Halving h("sha", 3, rungs);
  const std::vector<std::vector<double>> m = {{3, 2, 1},     {2, 1.5, 1}, {5, 1, 1},
                                              {1, 3, 1},     {4, 4, 1},   {6, 1, 1},
                                              {2.2, 0.5, 1}, {7, 7, 1},   {0.5, 2, 1}};
  auto all = Settle(h, Trials(m, rungs), {}, false);
  // Results arriving one at a time, in reverse order, decide the same.
  auto trials = Trials(m, rungs);
  std::vector<HalvingTrial> arriving = trials;
  for (auto& t : arriving) t.metric.clear();
  std::vector<RungRow> rows;
  for (size_t step = 0; step < 3; ++step)
    for (size_t i = trials.size(); i-- > 0;) {
      const int64_t at = rungs[step];
      arriving[i].metric[at] = trials[i].metric[at];
      rows = Settle(h, arriving, rows, false);
    }
  EXPECT_EQ(DecisionMap(rows), DecisionMap(all));
  int promoted0 = 0;
  for (const auto& r : all) promoted0 += r.rung == 0 && r.decision == "promoted";
  EXPECT_EQ(promoted0, 3);
}

TEST(Halving, AshaPromotesAsSoonAsATrialIsInTheTopThirdAndStopsTheRestWhenIdle) {
  const std::vector<int64_t> rungs = {4, 12, 36};
  Halving h("asha", 3, rungs);
  auto trials = Trials({{3.0}, {1.0}, {2.0}, {}, {}, {}}, rungs);
  auto rows = Settle(h, trials, {}, false);
  auto d = DecisionMap(rows);
  EXPECT_EQ((d[{"t1", 0}]), "promoted");  // best of 3 reported: promoted at once
  EXPECT_EQ(rows[0].among + rows[1].among + rows[2].among, 3);
  EXPECT_EQ(h.Target(trials[1], rows), 12);
  EXPECT_EQ(h.Target(trials[0], rows), std::nullopt);  // waits, may still be promoted
  trials[3].metric[4] = 0.5;
  trials[4].metric[4] = 5;
  trials[5].metric[4] = 6;
  rows = Settle(h, trials, rows, false);
  d = DecisionMap(rows);
  EXPECT_EQ((d[{"t3", 0}]), "promoted");  // 6 reported: the best 2 are t3 and t1
  EXPECT_EQ((d[{"t2", 0}]), "");
  // Promoted trials report at rung 1; only 2 results there: quota 0. Idle:
  // rung 0's rest is stopped, rung 1 sends its best on.
  trials[1].metric[12] = 0.7;
  trials[3].metric[12] = 0.6;
  rows = Settle(h, trials, rows, true);
  d = DecisionMap(rows);
  for (const char* t : {"t0", "t2", "t4", "t5"}) EXPECT_EQ((d[{t, 0}]), "stopped") << t;
  EXPECT_EQ((d[{"t3", 1}]), "promoted");
  EXPECT_EQ((d[{"t1", 1}]), "stopped");
  EXPECT_EQ(h.Target(trials[3], rows), 36);
}

TEST(Halving, ADivergedTrialRanksLastAndDoesNotBlockItsRung) {
  const std::vector<int64_t> rungs = {4, 12};
  Halving h("sha", 2, rungs);
  auto trials = Trials({{1.0}, {}, {2.0}, {3.0}}, rungs);
  trials[1].ended = true;
  auto rows = Settle(h, trials, {}, false);
  auto d = DecisionMap(rows);
  EXPECT_EQ((d[{"t0", 0}]), "promoted");
  EXPECT_EQ((d[{"t2", 0}]), "promoted");
  EXPECT_EQ((d[{"t1", 0}]), "stopped");
}

TEST(Halving, AshaHandsOutAPromotedTrialBeforeTrialsWaitingToStart) {
  // The runner pushes what Advance returns to the front of its queue and
  // fills every free slot from the front: a promoted trial takes the next
  // free slot, ahead of trials that have not started.
  std::string text =
      SampledGrid("sobol", 6, 2) + "  scheduler: {type: asha, min_steps: 4, reduction_factor: 3}\n";
  text.replace(text.find("steps: 24}"), 10, "steps: 24, eval_interval: 4}");
  const std::string dir = TempPath("asha_order");
  const Grid grid = LoadGrid(WriteGrid(dir, text));
  const auto runs = ExpandGrid(grid, "", {});
  auto store = RunStore::Open(dir + "/hrm.db");
  const int64_t sweep = store->UpsertSweep({"asha_order", "grid.yaml", "-", "", {}});
  std::vector<RunStore::SweepEntry> entries;
  for (const auto& r : runs)
    entries.push_back({{r.id, r.config, "train", ""}, r.label, r.position});
  store->AddRunsToSweep(sweep, entries);
  Search search(PlanSearch(*grid.search, runs), *store, sweep);
  std::vector<std::string> ids = Ids(runs);
  EXPECT_EQ(search.Advance({}), ids);  // every trial to its first rung, in grid order
  EXPECT_EQ(search.StopAfter(ids[0]), 4);
  // Trials 0-2 reported at step 4 (trial 1 best); 3-5 wait to start.
  const double val[] = {3.0, 1.0, 2.0};
  for (int i = 0; i < 3; ++i)
    store->db().exec("INSERT INTO evals (run_id, step, val_ce) VALUES ('" + ids[i] + "', 4, " +
                     std::to_string(val[i]) + ")");
  const auto work = search.Advance({ids[3], ids[4], ids[5]});  // queued
  EXPECT_EQ(work, std::vector<std::string>{ids[1]});
  EXPECT_EQ(search.StopAfter(ids[1]), 12);
  EXPECT_EQ(search.StopAfter(ids[3]), 4);
  // Without a queue, the promoted trial still comes first.
  EXPECT_EQ(search.Advance({}).front(), ids[1]);
  EXPECT_EQ(store->RungResults(sweep).size(), 3u);
}

// --- `hrm sweep` of a search, end to end ------------------------------------

const char* kShaGrid = R"(name: searchtest
base: {model: hrm, N: 2, T: 2, K: 2, d: 32, seq: 32, batch: 4, steps: 24, eval_interval: 4,
       eval_iters: 2, log_interval: 100}
search:
  sampler: sobol
  trials: 6
  seed: 1
  space:
    lr: {loguniform: [1.0e-3, 3.0e-2], digits: 2}
    warmup: {int: [0, 4]}
  scheduler: {type: sha, min_steps: 4, reduction_factor: 3, metric: val_ce}
)";

struct Dirs {
  std::string root, grid, store;
};

Dirs Fresh(const std::string& name, const std::string& grid = kShaGrid) {
  Dirs d;
  d.root = TempPath(name);
  d.grid = WriteGrid(d.root, grid);
  d.store = d.root + "/hrm.db";
  return d;
}

// Starts `args` (base/subprocess) with its output appended to `log` and the
// extra "NAME=VALUE" environment; the test reaps it with Wait or kills it.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log,
            const std::vector<std::string>& extra_env = {}) {
  SpawnOptions o;
  o.argv = args;
  o.output_file = log;
  o.new_process_group = false;
  for (const std::string& e : extra_env)
    o.env[e.substr(0, e.find('='))] = e.substr(e.find('=') + 1);
  Subprocess child(o);
  const pid_t pid = child.pid();
  child.Release();
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<std::string> SweepArgs(const Dirs& d, int slots = 2) {
  return {HRM_BINARY,  "sweep", d.grid, "--store", d.store, "--slots", std::to_string(slots),
          "--threads", "1"};
}

int RunSweep(const Dirs& d, int slots = 2, const std::vector<std::string>& env = {}) {
  return Wait(Spawn(SweepArgs(d, slots), d.root + "/sweep.log", env));
}

std::string Log(const Dirs& d) {
  std::ifstream in(d.root + "/sweep.log");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> Rows(const std::string& store, const std::string& sql) {
  SQLite::Database db(store, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, sql);
  std::vector<std::string> rows;
  while (q.executeStep()) {
    std::string r;
    for (int i = 0; i < q.getColumnCount(); ++i) r += q.getColumn(i).getString() + "|";
    rows.push_back(r);
  }
  return rows;
}

std::string Scalar(const std::string& store, const std::string& sql) {
  SQLite::Database db(store, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getString();
}

// Every eval row but wall time, and every rung result and decision but times.
std::vector<std::string> EvalRows(const std::string& store) {
  return Rows(store,
              "SELECT run_id, step, val_ce, train_ce, lr, grad_norm, tokens FROM evals "
              "ORDER BY run_id, step");
}
std::vector<std::string> DecisionRows(const std::string& store) {
  return Rows(store,
              "SELECT run_id, bracket, rung, step, metric, decision, among FROM rung_results "
              "ORDER BY run_id, rung");
}

// Each run directory's events, parsed.
std::map<std::string, std::vector<json>> Events(const Dirs& d) {
  std::map<std::string, std::vector<json>> out;
  if (!fs::exists(d.root + "/runs")) return out;
  for (const auto& e : fs::directory_iterator(d.root + "/runs")) {
    std::ifstream in(e.path() / "events.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object()) out[e.path().filename()].push_back(j);
    }
  }
  return out;
}

// Waits until `count` run directories have an event matching `match`;
// returns the first such directory.
template <class F>
std::string WaitFor(const Dirs& d, F match, int count = 1, double seconds = 180) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    std::vector<std::string> hits;
    for (const auto& [run, events] : Events(d))
      for (const auto& e : events)
        if (match(e)) {
          hits.push_back(d.root + "/runs/" + run);
          break;
        }
    if (int(hits.size()) >= count) return hits.front();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "no such event within " << seconds << " s";
  return "";
}

bool Started(const json& e, int64_t step) {
  return e.value("event", "") == "started" && e.value("step", int64_t(-1)) == step;
}

// A start from scratch (not a resume, which may be from a step-0 checkpoint
// when the worker was stopped before its first step).
bool StartedFromScratch(const json& e) {
  return e.value("event", "") == "started" && e.value("step", int64_t(-1)) == 0 &&
         !e.value("resumed", false);
}

// No trial trained from scratch twice: once a trial has a checkpoint, it is
// never started from step 0 again. (A worker a killed runner left behind is
// stopped with SIGKILL, its checkpoint being the resume point; one killed
// before its first checkpoint rightly starts from scratch once more.)
void ExpectNoTrialRetrainedFromScratch(const Dirs& d) {
  for (const auto& [run, events] : Events(d)) {
    int from_zero = 0;
    bool checkpointed = false;
    for (const auto& e : events) {
      if (StartedFromScratch(e)) {
        ++from_zero;
        EXPECT_FALSE(checkpointed) << run << " started from scratch after a checkpoint";
      }
      checkpointed = checkpointed || e.value("event", "") == "checkpoint";
    }
    EXPECT_GE(from_zero, 1) << run;
  }
}

struct Reference {
  std::vector<std::string> evals, decisions;
  Dirs dirs;
};

const Reference& ShaReference() {
  static const Reference ref = [] {
    Dirs d = Fresh("sha_reference");
    EXPECT_EQ(RunSweep(d), 0) << Log(d);
    return Reference{EvalRows(d.store), DecisionRows(d.store), d};
  }();
  return ref;
}

// Runs `hrm ARGS...` to the end; returns its exit code, output in *out.
int Hrm(const std::vector<std::string>& args, const std::string& dir, std::string* out) {
  std::vector<std::string> argv = {HRM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string log = dir + "/hrm_out.log";
  fs::remove(log);
  const int rc = Wait(Spawn(argv, log));
  std::ifstream in(log);
  *out = std::string(std::istreambuf_iterator<char>(in), {});
  return rc;
}

TEST(SearchSweep, BestPrintsTheWinnersValuesAsSetArguments) {
  const Dirs& d = ShaReference().dirs;
  const std::string winner = Scalar(d.store, "SELECT run_id FROM rung_results WHERE rung = 2");
  const json config =
      json::parse(Scalar(d.store, "SELECT config FROM runs WHERE id = '" + winner + "'"));
  std::string out;
  ASSERT_EQ(Hrm({"best", "searchtest", "--store", d.store}, d.root, &out), 0) << out;
  EXPECT_NE(out.find("(run " + winner + ")"), std::string::npos) << out;
  EXPECT_NE(
      out.find("--set lr=" + config["lr"].dump() + " --set warmup=" + config["warmup"].dump()),
      std::string::npos)
      << out;
  ASSERT_EQ(Hrm({"best", "search", "--store", d.store, "--json"}, d.root, &out), 0) << out;
  const json j = json::parse(out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["run"], winner);
  SQLite::Database db(d.store, SQLite::OPEN_READONLY);
  EXPECT_EQ(j[0]["val_ce"].get<double>(),
            db.execAndGet("SELECT val_ce FROM evals WHERE run_id = '" + winner + "' AND step = 24")
                .getDouble());
  // The --set values give back the winner's run id.
  std::vector<std::string> sets = j[0]["sets"];
  json given = json::object();
  for (const auto& [k, v] : config.items())
    if (FindKey(k) && FindKey(k)->identity) given[k] = v;
  ApplyOverrides(given, sets);
  EXPECT_EQ(RunId(ResolveConfig(given)), winner);
  EXPECT_EQ(Hrm({"best", "nosuch", "--store", d.store}, d.root, &out), 2);
  EXPECT_NE(out.find("no sweep nosuch (have searchtest)"), std::string::npos) << out;
}

TEST(SearchSweep, ReportSearchShowsTrialsRungsAndPlots) {
  const Dirs& d = ShaReference().dirs;
  const std::string winner = Scalar(d.store, "SELECT run_id FROM rung_results WHERE rung = 2");
  std::string out;
  ASSERT_EQ(Hrm({"report", "search", "searchtest", "--store", d.store}, d.root, &out), 0) << out;
  // Rank 1 is the trial that reached the top; every rung has its section.
  EXPECT_NE(out.find("| 1 "), std::string::npos) << out;
  EXPECT_LT(out.find(winner), out.find("| 2 ")) << out;
  for (const char* rung : {"rung 0 (step 4)", "rung 1 (step 12)", "rung 2 (step 24)"})
    EXPECT_NE(out.find(rung), std::string::npos) << out;
  ASSERT_EQ(
      Hrm({"report", "search", "searchtest", "--store", d.store, "--format", "svg"}, d.root, &out),
      0);
  size_t lines = 0;
  for (size_t at = out.find("<polyline"); at != std::string::npos;
       at = out.find("<polyline", at + 1))
    ++lines;
  EXPECT_EQ(lines, 6u);  // one per trial
  ASSERT_EQ(
      Hrm({"report", "search", "searchtest", "--store", d.store, "--format", "html"}, d.root, &out),
      0);
  size_t svgs = 0;
  for (size_t at = out.find("<svg"); at != std::string::npos; at = out.find("<svg", at + 1)) ++svgs;
  EXPECT_EQ(svgs, 3u);  // parallel coordinates + a scatter per searched key (lr, warmup)
  ASSERT_EQ(
      Hrm({"report", "search", "searchtest", "--store", d.store, "--format", "csv"}, d.root, &out),
      0);
  EXPECT_NE(out.find("rank,trial,run,lr,warmup,step,val_ce,status"), std::string::npos) << out;
  EXPECT_EQ(Hrm({"report", "search", "--store", d.store}, d.root, &out), 2);
}

TEST(SearchSweep, DryRunListsTheTrialsAndRungsAndWritesNothing) {
  Dirs d = Fresh("dry");
  std::vector<std::string> args = SweepArgs(d);
  args.push_back("--dry-run");
  ASSERT_EQ(Wait(Spawn(args, d.root + "/sweep.log")), 0) << Log(d);
  const std::string out = Log(d);
  for (const auto& r : ExpandGrid(LoadGrid(d.grid), "", {}))
    EXPECT_NE(out.find(r.id), std::string::npos) << out;
  EXPECT_NE(out.find("search: 6 trials (sobol, seed 1) in 1 bracket; sha (η = 3, val_ce) at "
                     "rungs 4, 12, 24"),
            std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(d.store));
}

TEST(SearchSweep, ShaPromotesTheBestThirdAndTheWinnerEqualsAStraightRunBitForBit) {
  const Reference& ref = ShaReference();
  // 6 trials at step 4, 2 at step 12, 1 at 24.
  ASSERT_EQ(ref.decisions.size(), 9u);
  Dirs d = Fresh("sha_check");
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(DecisionRows(d.store), ref.decisions);
  EXPECT_EQ(EvalRows(d.store), ref.evals);
  EXPECT_EQ(Rows(d.store,
                 "SELECT rung, decision, count(*) FROM rung_results GROUP BY rung, decision "
                 "ORDER BY rung, decision"),
            (std::vector<std::string>{"0|promoted|2|", "0|stopped|4|", "1|promoted|1|",
                                      "1|stopped|1|", "2||1|"}));
  // Stopped trials trained to their rung only; 52 steps in all, not 6 × 24.
  EXPECT_EQ(
      Scalar(d.store, "SELECT sum(m) FROM (SELECT max(step) AS m FROM evals GROUP BY run_id)"),
      "52");
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM runs WHERE status = 'done'"), "1");
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM search_decisions WHERE sweep = 'searchtest'"),
            "9");
  // Promoted trials resumed from their checkpoints: no trial started over.
  ExpectNoTrialRetrainedFromScratch(d);
  const std::string winner = Scalar(d.store, "SELECT run_id FROM rung_results WHERE rung = 2");
  int resumed = 0;
  const auto events = Events(d);
  for (const auto& e : events.at(winner)) resumed += Started(e, 4) + Started(e, 12);
  EXPECT_EQ(resumed, 2);

  // The same config trained straight through: every eval row bit-identical.
  const std::string straight = d.root + "/straight";
  ASSERT_EQ(
      Wait(Spawn({HRM_BINARY, "train", "--run-dir", straight, "--config",
                  d.root + "/runs/" + winner + "/run.json", "--set", "threads=1", "--no-progress"},
                 d.root + "/straight.log")),
      0);
  std::vector<std::string> straight_rows;
  std::ifstream in(straight + "/events.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    json e = json::parse(line);
    if (e["event"] != "eval") continue;
    char row[256];
    std::snprintf(row, sizeof row, "%s|%lld|%.17g|%.17g|%.17g|%.17g|", winner.c_str(),
                  (long long)e["step"].get<int64_t>(), e["val_ce"].get<double>(),
                  e["train_ce"].is_null() ? 0.0 : e["train_ce"].get<double>(),
                  e["lr"].get<double>(), e["grad_norm"].get<double>());
    straight_rows.push_back(row);
  }
  std::vector<std::string> search_rows;
  {
    SQLite::Database db(d.store, SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT step, val_ce, coalesce(train_ce, 0), lr, grad_norm FROM "
                        "evals WHERE run_id = ? ORDER BY step");
    q.bind(1, winner);
    while (q.executeStep()) {
      char row[256];
      std::snprintf(row, sizeof row, "%s|%lld|%.17g|%.17g|%.17g|%.17g|", winner.c_str(),
                    (long long)q.getColumn(0).getInt64(), q.getColumn(1).getDouble(),
                    q.getColumn(2).getDouble(), q.getColumn(3).getDouble(),
                    q.getColumn(4).getDouble());
      search_rows.push_back(row);
    }
  }
  EXPECT_EQ(search_rows, straight_rows);
  EXPECT_EQ(search_rows.size(), 7u);  // steps 0, 4, ..., 24

  // The same command again trains nothing and decides nothing new.
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(DecisionRows(d.store), ref.decisions);
  EXPECT_EQ(Scalar(d.store, "SELECT sum(attempts) FROM runs"), "9");
}

TEST(SearchSweep, ShaDecidesTheSameWhateverTheSlotCount) {
  Dirs d = Fresh("sha_one_slot");
  ASSERT_EQ(RunSweep(d, 1), 0) << Log(d);
  EXPECT_EQ(DecisionRows(d.store), ShaReference().decisions);
  EXPECT_EQ(EvalRows(d.store), ShaReference().evals);
}

void ExpectSameSearchAfterRerun(const Dirs& d) {
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(DecisionRows(d.store), ShaReference().decisions);
  EXPECT_EQ(EvalRows(d.store), ShaReference().evals);
  EXPECT_EQ(Scalar(d.store, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM runs"), "6");
  ExpectNoTrialRetrainedFromScratch(d);
}

TEST(SearchSweep, KillNineBetweenARungResultAndItsDecision) {
  Dirs d = Fresh("kill_after_results");
  EXPECT_EQ(RunSweep(d, 2, {"HRM_SEARCH_FAULT=after_results"}), 128 + SIGKILL) << Log(d);
  // Killed with the rung's results written and none of its decisions.
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM rung_results WHERE rung = 0"), "6");
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM rung_results WHERE decision IS NOT NULL"), "0");
  ExpectSameSearchAfterRerun(d);
}

TEST(SearchSweep, KillNineRightAfterADecision) {
  Dirs d = Fresh("kill_after_decisions");
  EXPECT_EQ(RunSweep(d, 2, {"HRM_SEARCH_FAULT=after_decisions"}), 128 + SIGKILL) << Log(d);
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM rung_results WHERE decision IS NOT NULL"), "6");
  ExpectSameSearchAfterRerun(d);
}

TEST(SearchSweep, KillNineWhileTrialsPauseAndWhilePromotedTrialsTrain) {
  // While rung 0 fills (some trials paused, others training) ...
  Dirs d = Fresh("kill_rung0");
  pid_t runner = Spawn(SweepArgs(d), d.root + "/sweep.log");
  WaitFor(d, [](const json& e) { return e.value("event", "") == "interrupted"; });
  ::kill(runner, SIGKILL);
  Wait(runner);
  ExpectSameSearchAfterRerun(d);
  // ... and while a promoted trial trains on from its checkpoint.
  Dirs p = Fresh("kill_rung1");
  runner = Spawn(SweepArgs(p), p.root + "/sweep.log");
  WaitFor(p, [](const json& e) { return e.value("event", "") == "eval" && e["step"] == 8; });
  ::kill(runner, SIGKILL);
  Wait(runner);
  ExpectSameSearchAfterRerun(p);
}

TEST(SearchSweep, KilledWorkerOfAPromotedTrialIsRetriedFromItsCheckpoint) {
  Dirs d = Fresh("kill_worker");
  pid_t runner = Spawn(SweepArgs(d), d.root + "/sweep.log");
  const std::string run_dir = WaitFor(d, [](const json& e) { return Started(e, 4); });
  pid_t worker = 0;
  std::sscanf(FileLock::Holder(run_dir + "/worker.lock").c_str(), "pid %d", &worker);
  ASSERT_GT(worker, 0);
  ::kill(worker, SIGKILL);
  ASSERT_EQ(Wait(runner), 0) << Log(d);
  EXPECT_EQ(DecisionRows(d.store), ShaReference().decisions);
  EXPECT_EQ(EvalRows(d.store), ShaReference().evals);
  ExpectNoTrialRetrainedFromScratch(d);
}

TEST(SearchSweep, WithoutASchedulerEveryTrialTrainsToTheEndOnce) {
  std::string grid = kShaGrid;
  grid.replace(grid.find("  scheduler:"), std::string::npos, "");
  grid.replace(grid.find("trials: 6"), 9, "trials: 2");
  Dirs d = Fresh("no_scheduler", grid);
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM runs WHERE status = 'done'"), "2");
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM rung_results"), "0");
  EXPECT_EQ(Scalar(d.store, "SELECT json_extract(spec, '$.sampler') FROM searches"), "sobol");
  ASSERT_EQ(RunSweep(d), 0) << Log(d);
  EXPECT_EQ(Scalar(d.store, "SELECT sum(attempts) FROM runs"), "2");
}

TEST(SearchSweep, SecondRunnerOnTheSameStoreIsRefused) {
  Dirs d = Fresh("second_runner");
  auto held = StoreLock::Acquire(d.store);
  EXPECT_EQ(RunSweep(d), 1);  // a store another runner holds: a runtime error
  EXPECT_NE(Log(d).find("pid " + std::to_string(::getpid())), std::string::npos) << Log(d);
  EXPECT_FALSE(fs::exists(d.root + "/runs"));
}

TEST(SearchSweep, AshaPromotesBeforeTheRungIsCompleteAndKeepsEverySlotBusy) {
  std::string grid = kShaGrid;
  grid.replace(grid.find("type: sha"), 9, "type: asha");
  grid.replace(grid.find("trials: 6"), 9, "trials: 9");
  Dirs d = Fresh("asha", grid);
  ASSERT_EQ(RunSweep(d, 2), 0) << Log(d);
  // Some trial went on to rung 1 while rung 0 still had trials to report.
  EXPECT_NE(Scalar(d.store,
                   "SELECT count(*) FROM rung_results WHERE rung = 0 AND decision = 'promoted' "
                   "AND among < 9"),
            "0");
  // Every rung-0 result was decided; the best third of them (3) were
  // promoted (and maybe others that led while fewer had reported); some
  // trial reached the top.
  EXPECT_EQ(Scalar(d.store, "SELECT count(*) FROM rung_results WHERE rung = 0"), "9");
  EXPECT_EQ(Scalar(d.store,
                   "SELECT count(*) FROM rung_results WHERE rung = 0 AND decision IS "
                   "NULL"),
            "0");
  EXPECT_EQ(Scalar(d.store,
                   "SELECT group_concat(decision) FROM (SELECT decision FROM "
                   "rung_results WHERE rung = 0 ORDER BY metric LIMIT 3)"),
            "promoted,promoted,promoted");
  EXPECT_NE(Scalar(d.store, "SELECT count(*) FROM runs WHERE status = 'done'"), "0");
  ExpectNoTrialRetrainedFromScratch(d);
}

}  // namespace
}  // namespace hrm
