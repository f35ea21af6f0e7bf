#include "runner/grid.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace hrm {
namespace {

// This process's temp folder: ctest runs each test as its own process, side
// by side, and they must not write each other's grid files.
std::string Dir() {
  static const std::string dir = [] {
    const std::string d = testing::TempDir() + "grid_test_" + std::to_string(::getpid()) + "/";
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes text (a leading newline dropped, so line 1 is the first line shown)
// to a temp file and returns its path.
std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = Dir() + name;
  std::ofstream(path) << (text[0] == '\n' ? text.substr(1) : text);
  return path;
}

std::vector<ExpandedRun> Expand(const std::string& text, const std::string& profile = "",
                                const std::vector<std::string>& sets = {}) {
  return ExpandGrid(LoadGrid(WriteFile("grid.yaml", text)), profile, sets);
}

// The GridError message of loading and expanding text.
std::string ErrorOf(const std::string& text, const std::string& profile = "",
                    const std::vector<std::string>& sets = {}) {
  try {
    Expand(text, profile, sets);
  } catch (const GridError& e) {
    return e.what();
  }
  return "(no error)";
}

// "file:line" of the test grid, and the same followed by ": " to start a message.
std::string Loc(int line) { return Dir() + "grid.yaml:" + std::to_string(line); }
std::string At(int line) { return Loc(line) + ": "; }

std::string Example() { return std::string(HRM_SOURCE_DIR) + "/grids/example.yaml"; }

TEST(Grid, ExampleExpandsRunsZipProductExcludeAndSeeds) {
  const auto runs = ExpandGrid(LoadGrid(Example()), "", {});
  // HRM: 2 (N,T) pairs x 2 lr x 2 seeds; Transformer: 1 lr (3e-4 excluded) x 2 seeds.
  ASSERT_EQ(runs.size(), 10u);
  std::set<std::string> ids;
  std::map<std::string, int> per_label;
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].position, int(i));
    EXPECT_EQ(runs[i].id, RunId(runs[i].config));
    ids.insert(runs[i].id);
    per_label[runs[i].label]++;
    const json& c = runs[i].config;
    if (c["model"] == "transformer") EXPECT_DOUBLE_EQ(c["lr"].get<double>(), 6e-4);
  }
  EXPECT_EQ(ids.size(), runs.size());
  EXPECT_EQ(per_label, (std::map<std::string, int>{
                           {"HRM (N=2,T=4)", 4}, {"HRM (N=4,T=3)", 4}, {"Transformer L=2", 2}}));
  // Order: entries as written, zip pairs, then lr, then seeds varying fastest.
  EXPECT_EQ(runs[0].config["N"], 2);
  EXPECT_EQ(runs[0].config["T"], 4);
  EXPECT_EQ(runs[0].config["seed"], 42);
  EXPECT_EQ(runs[1].config["seed"], 1337);
  EXPECT_DOUBLE_EQ(runs[1].config["lr"].get<double>(), 3e-4);
  EXPECT_DOUBLE_EQ(runs[2].config["lr"].get<double>(), 6e-4);
  EXPECT_EQ(runs[4].config["N"], 4);
  EXPECT_EQ(runs[4].config["T"], 3);
  // K = max(1, round(0.17 * M)): M = 8 -> 1, M = 12 -> 2.
  EXPECT_EQ(runs[0].config["M"], 8);
  EXPECT_EQ(runs[0].config["K"], 1);
  EXPECT_EQ(runs[4].config["M"], 12);
  EXPECT_EQ(runs[4].config["K"], 2);
}

TEST(Grid, ProfilesScaleSizesAndKeepTheExperiment) {
  const Grid grid = LoadGrid(Example());
  const auto mini = ExpandGrid(grid, "", {});  // default_profile: mini
  const auto paper = ExpandGrid(grid, "paper", {});
  const auto smoke = ExpandGrid(grid, "smoke", {});
  ASSERT_EQ(paper.size(), mini.size());
  ASSERT_EQ(smoke.size(), mini.size());
  for (size_t i = 0; i < mini.size(); ++i) {
    const json& p = paper[i].config;
    for (const auto* other : {&mini[i], &smoke[i]}) {
      for (const char* k : {"model", "N", "T", "M", "K", "S", "L", "seed", "lr", "min_lr"})
        EXPECT_EQ(p.value(k, json()), other->config.value(k, json())) << k;
      EXPECT_EQ(paper[i].label, other->label);
      EXPECT_NE(paper[i].id, other->id);
    }
    EXPECT_EQ(p["d"], 4096);
    EXPECT_EQ(p["seq"], 1024);
    EXPECT_EQ(p["world_size"], 6);
    EXPECT_EQ(p["eval_iters"], 200);
    EXPECT_EQ(mini[i].config["d"], 64);
    EXPECT_EQ(mini[i].config["steps"], 60);
    EXPECT_EQ(mini[i].config["world_size"], 1);
    EXPECT_EQ(smoke[i].config["d"], 32);
    EXPECT_EQ(smoke[i].config["steps"], 4);
  }
}

TEST(Grid, ProfileMapsPaperWidthsToMachineWidths) {
  const std::string grid = R"(
base: {model: unitf, M: 12, K: 2}
profiles:
  mini:
    d: {4096: 128, 5760: 192, 7296: 256}
    init_width_ref: {4096: 128}
runs:
  - {d: 4096}
  - {d: 5760}
  - {d: 7296}
)";
  const auto runs = Expand(grid, "mini");
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].config["d"], 128);
  EXPECT_EQ(runs[1].config["d"], 192);
  EXPECT_EQ(runs[2].config["d"], 256);
  EXPECT_EQ(runs[2].config["heads"], 4);
  EXPECT_EQ(runs[0].config["init_width_ref"], 128);  // mapped from its default 4096
  EXPECT_EQ(runs[0].label, "unitf d=128");
  EXPECT_EQ(Expand(grid).at(1).config["d"], 5760);  // no default profile: the grid's values

  // A width the profile does not map, and a single value that would merge runs.
  EXPECT_EQ(ErrorOf(grid + "  - {d: 2048}\n", "mini"),
            At(4) + "d: profile mini has no entry for 2048 (run at " + Loc(10) + ")");
  EXPECT_EQ(ErrorOf(R"(
profiles:
  mini: {d: 128}
runs: [{d: 4096}, {d: 5760}]
)",
                    "mini"),
            At(2) +
                "d: profile mini sets one value but the runs use 4096, 5760; map each value "
                "instead, {paper: machine}");
}

TEST(Grid, ProfilesMayComeFromAFileBesideTheGrid) {
  WriteFile("profiles.yaml", "mini: {steps: 30}\nsmoke: {steps: 3}\n");
  EXPECT_EQ(Expand("profiles: profiles.yaml\ndefault_profile: mini\n").at(0).config["steps"], 30);
  EXPECT_EQ(Expand("profiles: profiles.yaml\n", "smoke").at(0).config["steps"], 3);
  // Errors in the profiles file name that file.
  WriteFile("bad_profiles.yaml", "mini: {steps: 30}\nsmoke: {steps: 3, lr: 1.0}\n");
  EXPECT_EQ(
      ErrorOf("profiles: bad_profiles.yaml\n")
          .rfind(Dir() + "bad_profiles.yaml:2: lr: a profile may not change it", 0),
      0u);
}

TEST(Grid, OverridesApplyAfterExpansion) {
  const Grid grid = LoadGrid(Example());
  const auto runs = ExpandGrid(grid, "mini", {"steps=7", "K_frac=0.5"});
  ASSERT_EQ(runs.size(), 10u);
  for (const auto& r : runs) {
    EXPECT_EQ(r.config["steps"], 7);  // wins over the profile's 60
    if (r.config["model"] == "hrm") EXPECT_EQ(r.config["K"], r.config["M"].get<int64_t>() / 2);
  }
  // --set K replaces the grid's K_frac.
  EXPECT_EQ(ExpandGrid(grid, "", {"K=3"}).at(0).config["K"], 3);
  // An override that breaks a run names the override.
  try {
    ExpandGrid(grid, "", {"K=9"});
    FAIL();
  } catch (const GridError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--set K=9: K: gradient window exceeds the M = 8 steps of a pass (got 9)");
  }
  EXPECT_EQ(ExpandGrid(grid, "", {"L=3"}).back().config["L"], 3);  // the Transformer's key only
  try {
    ExpandGrid(LoadGrid(WriteFile("hrm_only.yaml", "base: {model: hrm}\n")), "", {"L=3"});
    FAIL();
  } catch (const GridError& e) {
    EXPECT_EQ(std::string(e.what()), "--set L=3: L: no run of this grid has this key");
  }
  try {
    ExpandGrid(grid, "", {"depth=3"});
    FAIL();
  } catch (const GridError& e) {
    EXPECT_EQ(std::string(e.what()), "--set depth=3: depth: unknown key");
  }
}

TEST(Grid, DuplicatesMergeAndIdsAgreeAcrossGrids) {
  const auto runs = Expand(R"(
runs:
  - {label: first, model: transformer, L: 2}
  - {label: second, model: transformer, L: 2, lr: 1.0e-3}
  - {label: third, model: transformer, L: 3}
)");
  ASSERT_EQ(runs.size(), 2u);  // lr 1e-3 is the default: the same run as "first"
  EXPECT_EQ(runs[0].label, "first");
  EXPECT_EQ(runs[1].label, "third");
  EXPECT_EQ(runs[1].position, 1);

  // The same config reached through a product in another grid has the same id.
  const auto other = ExpandGrid(
      LoadGrid(WriteFile("other.yaml", "base: {model: transformer}\nproduct: {L: [3, 5]}\n")), "",
      {});
  ASSERT_EQ(other.size(), 2u);
  EXPECT_EQ(other[0].id, runs[1].id);
  EXPECT_NE(other[1].id, runs[1].id);
}

TEST(Grid, LabelsFillPlaceholdersFromTheResolvedConfig) {
  const auto runs = Expand(R"(
base: {label: "NT={M} K={K} ({K_frac}) lr={lr} d={d}"}
runs:
  - {N: 2, T: 4, K_frac: 0.5, lr: 3.0e-4}
)");
  EXPECT_EQ(runs.at(0).label, "NT=8 K=4 (0.5) lr=0.0003 d=128");
  EXPECT_EQ(ErrorOf("runs:\n  - {label: \"x {depth}\"}\n"),
            At(2) + "label: placeholder {depth} names no key of this run");
}

TEST(Grid, BadGridsNameFileLineAndKey) {
  EXPECT_EQ(ErrorOf("base: {d: 64}\nsweep: 3\n"), At(2) + "sweep: unknown key");
  EXPECT_EQ(ErrorOf("base:\n  d: 64\n  depth: 3\n"), At(3) + "depth: unknown key");
  EXPECT_EQ(ErrorOf("runs:\n  - {model: hrm}\n  - {model: hrm,\n     N: two}\n"),
            At(4) + "N: expected an integer (got two)");
  EXPECT_EQ(ErrorOf("base: {lr: [1, 2]}\n"), At(1) + "lr: expected a single value");
  EXPECT_EQ(ErrorOf("product:\n  lr: []\n"), At(2) + "lr: empty axis");
  EXPECT_EQ(ErrorOf("product:\n  lr: 0.1\n"), At(2) + "lr: expected a list of values");
  EXPECT_EQ(ErrorOf("seeds: []\n"), At(1) + "seed: empty axis");
  EXPECT_EQ(ErrorOf("zip:\n  - N: [2, 4]\n    T: [4, 3, 2]\n"),
            At(3) + "T: zip lists of unequal length (N has 2 values, T has 3)");
  EXPECT_EQ(ErrorOf("product: {lr: [0.1]}\nzip: {lr: [0.2], warmup: [5]}\n"),
            At(2) + "lr: axis given twice");
  EXPECT_EQ(ErrorOf("base: {N: 2, T: 4}\nruns:\n  - {K: 2}\n  - {K: 9}\n"),
            At(4) + "K: gradient window exceeds the M = 8 steps of a pass (got 9)");
  EXPECT_EQ(ErrorOf("base: {model: transformer}\nruns:\n  - {K_frac: 0.5}\n"),
            At(3) + "K_frac: not a key of model transformer (got 0.5)");
  EXPECT_EQ(ErrorOf("runs:\n  - {K_frac: 1.5}\n"), At(2) + "K_frac: must be in (0, 1] (got 1.5)");
  EXPECT_EQ(ErrorOf("runs:\n  - {model: transformer}\nzip: {N: [2], T: [4]}\n"),
            At(3) + "N: not a key of model transformer (got 2)");
  EXPECT_EQ(ErrorOf("exclude:\n  - {lr: 0.5}\n"), At(2) + "exclude: matches no run");
  EXPECT_EQ(ErrorOf("product: {lr: [0.5]}\nexclude:\n  - {lr: 0.5}\n"),
            At(3) + "exclude: leaves no run");
  EXPECT_EQ(ErrorOf("base: {d: 64}\nbase: {d: 32}\n"), At(2) + "base: given twice");
  EXPECT_EQ(ErrorOf("runs: []\n"), At(1) + "runs: empty list; leave runs out to use base alone");
  EXPECT_EQ(ErrorOf("profiles:\n  mini:\n    lr: 0.1\n"),
            At(3) +
                "lr: a profile may not change it (profiles keep the experiment's model, "
                "N/T/K/S/L, seeds and learning rates)");
  EXPECT_EQ(ErrorOf("profiles:\n  mini: {d: {64: 32, 128: 32}}\n"),
            At(2) + "d: maps 64 and 128 both to 32, which would merge different runs");
  EXPECT_EQ(ErrorOf("base: {d: 64}\nprofiles:\n  mini: {d: 32}\n", "huge"),
            At(2) + "profile: no profile huge (have mini)");
  EXPECT_EQ(ErrorOf("base: {d: 64}\n", "mini"),
            At(1) + "profile: no profile mini (the grid defines none)");
  EXPECT_EQ(ErrorOf("profiles: {mini: {d: 32}}\ndefault_profile: tiny\n"),
            At(2) + "default_profile: no profile tiny");
  EXPECT_EQ(ErrorOf("base: {d: 64\n").rfind(At(2), 0), 0u);  // a YAML syntax error, with its line
}

TEST(Grid, DryRunTableShowsVaryingKeysAndCount) {
  const auto runs = ExpandGrid(LoadGrid(Example()), "", {});
  const std::string table = DryRunTable(runs);
  std::istringstream lines(table);
  std::string header, column;
  std::getline(lines, header);
  std::vector<std::string> columns;
  for (std::istringstream words(header); words >> column;) columns.push_back(column);
  // L (only the Transformer has it), S and steps are the same wherever present.
  EXPECT_EQ(columns, (std::vector<std::string>{"id", "label", "model", "M", "N", "T", "K", "lr",
                                               "min_lr", "seed"}));
  for (const auto& r : runs) EXPECT_NE(table.find(r.id + "  " + r.label), std::string::npos);
  EXPECT_NE(table.find("\n10 runs\n"), std::string::npos);
}

}  // namespace
}  // namespace hrm
