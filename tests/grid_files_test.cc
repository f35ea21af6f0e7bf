// The experiment grids in grids/: each expands under every profile it names,
// states the paper's experiment at paper scale, and shares runs with the
// grids whose tables read them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "base/flops.h"
#include "base/param_count.h"
#include "runner/grid.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

const fs::path kGrids = fs::path(HRM_SOURCE_DIR) / "grids";

std::vector<ExpandedRun> Expand(const std::string& grid, const std::string& profile) {
  return ExpandGrid(LoadGrid((kGrids / (grid + ".yaml")).string()), profile, {});
}

std::set<std::string> Ids(const std::vector<ExpandedRun>& runs) {
  std::set<std::string> ids;
  for (const auto& r : runs) ids.insert(r.id);
  return ids;
}

// The run of `runs` whose config has every field of `match`.
const ExpandedRun& Find(const std::vector<ExpandedRun>& runs, const json& match) {
  for (const auto& r : runs) {
    bool all = true;
    for (auto it = match.begin(); it != match.end(); ++it)
      all = all && r.config.contains(it.key()) && r.config[it.key()] == it.value();
    if (all) return r;
  }
  ADD_FAILURE() << "no run matches " << match.dump();
  static const ExpandedRun none{};
  return none;
}

double Millions(const json& config) { return CountParams(config).params / 1e6; }

TEST(GridFiles, EveryGridExpandsUnderEveryProfileItNames) {
  int grids = 0;
  for (const auto& entry : fs::directory_iterator(kGrids)) {
    const fs::path path = entry.path();
    if (path.extension() != ".yaml" || path.filename() == "profiles.yaml") continue;
    ++grids;
    SCOPED_TRACE(path.string());
    const Grid grid = LoadGrid(path.string());
    EXPECT_FALSE(grid.profiles.empty());
    std::vector<size_t> counts;
    for (const auto& profile : grid.profiles) {
      SCOPED_TRACE(profile.name);
      std::vector<ExpandedRun> runs;
      ASSERT_NO_THROW(runs = ExpandGrid(grid, profile.name, {}));
      EXPECT_FALSE(runs.empty());
      counts.push_back(runs.size());
    }
    // A profile scales runs; it never merges two of them.
    EXPECT_EQ(std::set<size_t>(counts.begin(), counts.end()).size(), 1u);
  }
  EXPECT_GE(grids, 13);
}

TEST(GridFiles, RunCountsAreThePapers) {
  const std::map<std::string, size_t> expected = {
      {"equal_param", 5},
      {"equal_flops", 4},
      {"long_train", 4},
      {"tf_baseline", 1},
      // K 4 + S 2 + N 4 + T 4 = 14, the base's three entries (K, N, T) one run.
      {"ablation", 12},
      {"unitf", 4},
      {"hpsearch", 16},
      {"multiseed", 6},
      {"m48", 3},
      {"hlrole", 3},
      {"latency", 8},
      {"genspeed", 7}};
  for (const auto& [grid, n] : expected) EXPECT_EQ(Expand(grid, "paper").size(), n) << grid;
}

TEST(GridFiles, ProfilesKeepWhatTheExperimentCompares) {
  for (const char* grid : {"equal_param", "equal_flops", "long_train", "ablation", "unitf",
                           "hpsearch", "multiseed", "m48", "latency", "genspeed"}) {
    const auto paper = Expand(grid, "paper");
    for (const char* profile : {"mini", "smoke"}) {
      const auto small = Expand(grid, profile);
      ASSERT_EQ(small.size(), paper.size()) << grid;
      for (size_t i = 0; i < paper.size(); ++i) {
        for (const char* key : {"protocol", "model", "L", "M", "N", "T", "K", "S", "lr", "seed",
                                "clip_mode", "supervision_reduce"})
          EXPECT_EQ(small[i].config.value(key, json()), paper[i].config.value(key, json()))
              << grid << " " << profile << " run " << i << " " << key;
        // Widths keep their order; warmup keeps its share of the steps.
        for (size_t j = 0; j < paper.size(); ++j)
          if (paper[i].config["d"] < paper[j].config["d"])
            EXPECT_LT(small[i].config["d"], small[j].config["d"]) << grid;
        const double paper_share =
            paper[i].config["warmup"].get<double>() / paper[i].config["steps"].get<double>();
        const double small_share =
            small[i].config["warmup"].get<double>() / small[i].config["steps"].get<double>();
        if (paper[i].config["protocol"] == "train")
          EXPECT_NEAR(small_share, paper_share, std::string(profile) == "smoke" ? 0.3 : 0.01)
              << grid;
      }
    }
  }
}

TEST(GridFiles, PaperScaleMatchesThePapersParameterCounts) {
  // Section 8 of MODEL.md: the paper's counts within 0.5%.
  auto near = [](double got, double paper) { EXPECT_NEAR(got, paper, paper * 0.005); };
  const auto ep = Expand("equal_param", "paper");
  near(Millions(Find(ep, {{"model", "hrm"}, {"N", 2}, {"T", 4}}).config), 1229);
  near(Millions(Find(ep, {{"model", "transformer"}, {"L", 2}}).config), 743);
  near(Millions(Find(ep, {{"model", "transformer"}, {"L", 4}}).config), 1280);
  const auto ef = Expand("equal_flops", "paper");
  near(Millions(Find(ef, {{"model", "hrm"}, {"d", 5120}}).config), 1857);
  near(Millions(Find(ef, {{"model", "hrm"}, {"d", 2048}}).config), 359);
  near(Millions(Find(ef, {{"model", "transformer"}}).config), 3427);
  const auto u = Expand("unitf", "paper");
  near(Millions(Find(u, {{"model", "unitf"}, {"d", 4096}}).config), 474);
  near(Millions(Find(u, {{"model", "unitf"}, {"d", 5760}}).config), 820);
  near(Millions(Find(u, {{"model", "unitf"}, {"d", 7296}}).config), 1218);
  for (const auto& r : ep) EXPECT_EQ(ModelVocab(r.config), 50257);
}

TEST(GridFiles, EqualFlopsHrmRunsCostAtMostTransformerL12) {
  const auto ef = Expand("equal_flops", "paper");
  const double t12 = double(CountTrainFlops(Find(ef, {{"model", "transformer"}}).config).total());
  for (const auto& r : ef) {
    const double ratio = double(CountTrainFlops(r.config).total()) / t12;
    EXPECT_GT(ratio, 0.5) << r.label;
    EXPECT_LE(ratio, 1.0) << r.label;
  }
}

TEST(GridFiles, TablesThatShareRunsShareIds) {
  for (const char* profile : {"paper", "mini", "smoke"}) {
    SCOPED_TRACE(profile);
    const auto ep = Expand("equal_param", profile);
    const std::set<std::string> ep_ids = Ids(ep);
    const std::string hrm12 = Find(ep, {{"model", "hrm"}, {"N", 4}, {"T", 3}}).id;
    // HLRole analyses EqualParam's three HRM runs.
    for (const auto& r : Expand("hlrole", profile)) EXPECT_TRUE(ep_ids.count(r.id)) << r.label;
    // HRM NT=12 is the ablation base, EqualFLOPs' d = 4096 run, UniTF's reference
    // and HPSearch's best.
    EXPECT_EQ(Find(Expand("ablation", profile), {{"K", 2}, {"N", 4}, {"T", 3}, {"S", 1}}).id,
              hrm12);
    EXPECT_TRUE(Ids(Expand("equal_flops", profile)).count(hrm12));
    EXPECT_TRUE(Ids(Expand("unitf", profile)).count(hrm12));
    const auto hp = Expand("hpsearch", profile);
    EXPECT_TRUE(Ids(hp).count(hrm12));
    EXPECT_TRUE(Ids(hp).count(Find(ep, {{"model", "transformer"}, {"L", 4}}).id));
    // MultiSeed's seed 42 runs are HPSearch's lr 1e-4, warmup 1000 runs.
    const std::set<std::string> hp_ids = Ids(hp);
    int shared = 0;
    for (const auto& r : Expand("multiseed", profile)) shared += int(hp_ids.count(r.id));
    EXPECT_EQ(shared, 2);
  }
}

TEST(GridFiles, ProtocolGridsMeasureOneSequenceAtATime) {
  for (const char* grid : {"latency", "genspeed"})
    for (const auto& r : Expand(grid, "paper")) {
      EXPECT_EQ(r.config["protocol"], grid);
      EXPECT_EQ(r.config["batch"], 1);
      EXPECT_EQ(r.config["seq"], 1024);
    }
}

}  // namespace
}  // namespace hrm
