// The `hrm` command line as a user meets it, through the real binary
// (HRM_BINARY): the exit codes README documents, per command; $HRM_STORE as
// --store's default; RUN as a run id or a run directory; defaults that agree
// with the config; help text without artefacts; --json that parses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "base/atomic_file.h"
#include "base/config.h"
#include "base/exit_code.h"
#include "base/run_dir.h"
#include "base/subprocess.h"
#include "store/run_store.h"
#include "store/store_lock.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

const fs::path& Root() {
  static const fs::path root = [] {
    fs::path p = fs::path(testing::TempDir()) / ("hrm_cli_" + std::to_string(getpid()));
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
  }();
  return root;
}

struct Output {
  int rc;
  std::string out, err;
};

// Runs `hrm ARGS` in Root() (so that the default runs/hrm.db lands there)
// with HRM_STORE unset unless `env` sets it, output captured.
Output Hrm(const std::string& args, const std::string& env = "") {
  SpawnOptions o;
  o.argv = {"sh", "-c", "env -u HRM_STORE " + env + " " + HRM_BINARY + " " + args};
  o.cwd = Root().string();
  o.capture = true;
  const Subprocess::Output r = Subprocess(o).Communicate();
  return {r.status.signal == 0 ? r.status.code : -1, r.out, r.err};
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every subcommand `hrm --help` lists.
std::vector<std::string> Subcommands() {
  const Output help = Hrm("--help");
  std::vector<std::string> names;
  std::istringstream lines(help.out);
  bool in_list = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Subcommands:", 0) == 0) {
      in_list = true;
      continue;
    }
    if (in_list && line.rfind("  ", 0) == 0) {
      std::istringstream words(line);
      std::string name;
      words >> name;
      names.push_back(name);
    } else if (in_list && !line.empty()) {
      break;
    }
  }
  return names;
}

const char kGrid[] =
    "name: tiny\n"
    "base: {model: transformer, L: 1, d: 32, heads: 2, seq: 16, batch: 2, steps: 2,\n"
    "       eval_interval: 2, eval_iters: 1, threads: 1}\n"
    "product:\n"
    "  lr: [1.0e-3, 3.0e-3]\n";

std::string WriteGrid(const std::string& name, const std::string& text) {
  const std::string path = (Root() / name).string();
  WriteFileAtomic(path, text);
  return path;
}

// A store that knows one run (of a small config) whose directory holds its
// config.json: enough for status, show and RUN lookups, without training.
struct KnownRun {
  std::string store, id, dir;
};
KnownRun MakeStoreWithRun(const std::string& name) {
  KnownRun k;
  k.store = (Root() / (name + ".db")).string();
  const json config = ResolveConfig({{"model", "transformer"}, {"L", 1}, {"d", 32}});
  k.id = RunId(config);
  k.dir = (Root() / (name + "_run")).string();
  fs::create_directories(k.dir);
  WriteFileAtomic(RunConfigFileName(k.dir), json{{"run_id", k.id}, {"config", config}}.dump());
  auto s = RunStore::Open(k.store);
  const int64_t sweep = s->UpsertSweep({name, "grid.yaml", "", "", {}});
  s->AddRunToSweep(sweep, {{k.id, config, "train", k.dir}, "a λ—label", 0});
  return k;
}

TEST(Cli, UnknownFlagIsAUsageErrorForEveryCommand) {
  const auto commands = Subcommands();
  ASSERT_GE(commands.size(), 10u);
  for (const auto& cmd : commands) {
    const Output o = Hrm(cmd + " --no-such-flag");
    EXPECT_EQ(o.rc, kExitUsage) << cmd << ": " << o.err;
    // A command with a required argument may name that first.
    EXPECT_TRUE(Has(o.err, "--no-such-flag") || Has(o.err, "is required")) << cmd << ": " << o.err;
  }
  EXPECT_TRUE(Has(Hrm("status --no-such-flag").err, "--no-such-flag"));
  EXPECT_EQ(Hrm("no-such-command").rc, kExitUsage);
  EXPECT_EQ(Hrm("").rc, kExitUsage);  // a subcommand is required
}

TEST(Cli, HelpHasADescriptionForEveryOptionAndNoDefaultArtefacts) {
  const Output top = Hrm("--help");
  EXPECT_EQ(top.rc, kExitOk);
  EXPECT_TRUE(Has(top.out, "HRM_STORE")) << top.out;
  EXPECT_TRUE(Has(top.out, "130 interrupted")) << top.out;
  for (const auto& cmd : Subcommands()) {
    const Output help = Hrm(cmd + " --help");
    EXPECT_EQ(help.rc, kExitOk) << cmd;
    // CLI11 prints a negated flag's default as "--no-cache{false}".
    EXPECT_FALSE(std::regex_search(help.out, std::regex(R"(--\S+\{)"))) << cmd << ":\n" << help.out;
    // Options and positionals: the description starts at column 30, on the
    // option's line or, for a long option, on the next.
    std::vector<std::string> lines;
    std::istringstream in(help.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    bool listing = false;
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string& l = lines[i];
      if (l == "Options:" || l == "Positionals:") listing = true;
      if (l.empty() || l.back() == ':') continue;
      if (!listing || l.rfind("  ", 0) != 0 || l[2] == ' ') continue;
      const bool here = l.size() > 30 && l[29] == ' ' && l[30] != ' ';
      const bool next = i + 1 < lines.size() && lines[i + 1].size() > 30 &&
                        lines[i + 1].find_first_not_of(' ') == 30;
      EXPECT_TRUE(here || next) << cmd << ": no description: " << l;
    }
  }
}

TEST(Cli, BadConfigKeyIsAUsageErrorNamingTheKey) {
  for (const std::string cmd : {"params", "flops"}) {
    const Output o = Hrm(cmd + " --set no_such_key=1");
    EXPECT_EQ(o.rc, kExitUsage) << cmd << ": " << o.err;
    EXPECT_TRUE(Has(o.err, "no_such_key")) << cmd << ": " << o.err;
  }
  const Output bad_value = Hrm("params --set d=wide");
  EXPECT_EQ(bad_value.rc, kExitUsage);
  EXPECT_TRUE(Has(bad_value.err, "d")) << bad_value.err;

  const std::string yaml = WriteGrid("bad_config.yaml", "d: 32\nno_such_key: 4\n");
  const Output file = Hrm("params --config " + yaml);
  EXPECT_EQ(file.rc, kExitUsage);
  EXPECT_TRUE(Has(file.err, yaml + ":2:")) << file.err;  // file and line

  const std::string dir = (Root() / "bad_config_run").string();
  const Output train = Hrm("train --no-progress --run-dir " + dir + " --set no_such_key=1");
  EXPECT_EQ(train.rc, kExitUsage) << train.err;
  EXPECT_TRUE(Has(train.err, "no_such_key")) << train.err;
  EXPECT_FALSE(fs::exists(RunConfigFileName(dir)));
}

TEST(Cli, BadGridIsAUsageErrorWithFileAndLineAndWritesNothing) {
  const std::string grid =
      WriteGrid("bad_grid.yaml", "name: bad\nbase: {model: hrm, N: 2, T: 2, K: 9}\n");
  const std::string store = (Root() / "bad_grid.db").string();
  const std::vector<std::string> commands = {"sweep " + grid + " --store " + store,
                                             "sweep " + grid + " --dry-run --json", "grid " + grid,
                                             "flops --grid " + grid};
  for (const std::string& args : commands) {
    const Output o = Hrm(args);
    EXPECT_EQ(o.rc, kExitUsage) << args << ": " << o.err;
    EXPECT_TRUE(Has(o.err, grid + ":2: K:")) << args << ": " << o.err;
  }
  EXPECT_FALSE(fs::exists(store));
  EXPECT_FALSE(fs::exists(Root() / "runs"));
}

TEST(Cli, LockedStoreIsARuntimeError) {
  const std::string grid = WriteGrid("locked.yaml", kGrid);
  const std::string store = (Root() / "locked.db").string();
  auto held = StoreLock::Acquire(store);
  const Output o = Hrm("sweep " + grid + " --store " + store);
  EXPECT_EQ(o.rc, kExitError) << o.err;
  EXPECT_TRUE(Has(o.err, "pid " + std::to_string(getpid()))) << o.err;
}

TEST(Cli, StoresThatAreMissingOrBroken) {
  // A mistyped --store is the user's input: 2, naming the path.
  const std::string missing = (Root() / "no_such.db").string();
  for (const std::string cmd : {"status", "show abc123"}) {
    const Output o = Hrm(cmd + " --store " + missing);
    EXPECT_EQ(o.rc, kExitUsage) << cmd << ": " << o.err;
    EXPECT_TRUE(Has(o.err, missing)) << cmd << ": " << o.err;
  }
  EXPECT_FALSE(fs::exists(missing));
  // A file that is there but is no store cannot be used: a runtime error.
  const std::string junk = (Root() / "junk.db").string();
  WriteFileAtomic(junk, "not a database, not at all; just some text that SQLite refuses\n");
  const Output o = Hrm("status --store " + junk);
  EXPECT_EQ(o.rc, kExitError) << o.err;
  EXPECT_TRUE(Has(o.err, junk)) << o.err;
}

TEST(Cli, UnknownRunIsAUsageErrorForEveryRunCommand) {
  const KnownRun k = MakeStoreWithRun("unknown_run");
  const std::vector<std::string> commands = {"show", "generate", "reproduce",
                                             "export --out " + (Root() / "x").string()};
  for (const std::string& cmd : commands) {
    const Output o = Hrm(cmd + " feedbeef0000 --store " + k.store);
    EXPECT_EQ(o.rc, kExitUsage) << cmd << ": " << o.err;
    EXPECT_TRUE(Has(o.err, "no run feedbeef0000")) << cmd << ": " << o.err;
    EXPECT_TRUE(Has(o.err, k.store)) << cmd << ": " << o.err;
  }
  const std::string not_a_run = (Root() / "empty_dir").string();
  fs::create_directories(not_a_run);
  const Output dir = Hrm("show " + not_a_run + " --store " + k.store);
  EXPECT_EQ(dir.rc, kExitUsage);
  EXPECT_TRUE(Has(dir.err, "not a run directory")) << dir.err;
}

TEST(Cli, HrmStoreIsTheDefaultStoreAndStoreOverridesIt) {
  const KnownRun k = MakeStoreWithRun("env_store");
  const Output status = Hrm("status --json", "HRM_STORE=" + k.store);
  ASSERT_EQ(status.rc, kExitOk) << status.err;
  const json sweeps = json::parse(status.out);
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0]["sweep"], "env_store");
  EXPECT_EQ(sweeps[0]["runs"][0]["run"], k.id);

  // Without HRM_STORE the default is runs/hrm.db (here: missing).
  const Output plain = Hrm("status");
  EXPECT_EQ(plain.rc, kExitUsage);
  EXPECT_TRUE(Has(plain.err, "runs/hrm.db")) << plain.err;
  // --store wins over HRM_STORE.
  const Output both =
      Hrm("status --store " + (Root() / "other.db").string(), "HRM_STORE=" + k.store);
  EXPECT_EQ(both.rc, kExitUsage);
  EXPECT_TRUE(Has(both.err, "other.db")) << both.err;

  EXPECT_TRUE(Has(Hrm("status --help").out, "HRM_STORE"));
}

TEST(Cli, ShowTakesARunIdOrARunDirectory) {
  const KnownRun k = MakeStoreWithRun("show_run");
  const Output by_id = Hrm("show " + k.id + " --json", "HRM_STORE=" + k.store);
  const Output by_dir = Hrm("show " + k.dir + " --json", "HRM_STORE=" + k.store);
  ASSERT_EQ(by_id.rc, kExitOk) << by_id.err;
  ASSERT_EQ(by_dir.rc, kExitOk) << by_dir.err;
  EXPECT_EQ(json::parse(by_id.out)["run"], k.id);
  EXPECT_EQ(by_id.out, by_dir.out);
  const Output text = Hrm("show " + k.dir + " --store " + k.store);
  EXPECT_EQ(text.rc, kExitOk) << text.err;
  EXPECT_TRUE(Has(text.out, "run " + k.id)) << text.out;
}

TEST(Cli, StatusColumnsAreCountedInCodePoints) {
  const KnownRun k = MakeStoreWithRun("status_columns");
  const Output o = Hrm("status --store " + k.store);
  ASSERT_EQ(o.rc, kExitOk) << o.err;
  // The label "a λ—label" is 9 code points (12 bytes), padded to 30: the
  // status column starts where the header's does.
  std::istringstream lines(o.out);
  std::string sweep, header, row;
  std::getline(lines, sweep);
  std::getline(lines, header);
  std::getline(lines, row);
  EXPECT_TRUE(Has(row, "a λ—label" + std::string(21, ' ') + " pending")) << o.out;
  EXPECT_EQ(header.find("status") + (row.size() - header.size()), row.find("pending")) << o.out;
}

TEST(Cli, DefaultsAgreeWithTheConfig) {
  // The config's tokenizer default is byte; so is tokenize's.
  const std::string text = (Root() / "text.txt").string();
  WriteFileAtomic(text, "hé");
  const Output plain = Hrm("tokenize " + text);
  const Output byte = Hrm("tokenize --tokenizer byte " + text);
  ASSERT_EQ(plain.rc, kExitOk) << plain.err;
  EXPECT_EQ(plain.out, "104 195 169\n");
  EXPECT_EQ(plain.out, byte.out);
  // The config's device default is auto; so is generate's.
  EXPECT_EQ(ResolveConfig(json::object())["device"], "auto");
  EXPECT_TRUE(std::regex_search(Hrm("generate --help").out, std::regex(R"(--device TEXT=auto)")));
}

TEST(Cli, SweepDryRunJsonParsesAndWritesNothing) {
  const std::string grid = WriteGrid("dry.yaml", kGrid);
  const std::string store = (Root() / "dry.db").string();
  const Output o = Hrm("sweep " + grid + " --store " + store + " --dry-run --json");
  ASSERT_EQ(o.rc, kExitOk) << o.err;
  const json runs = json::parse(o.out);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0]["config"]["lr"], 1e-3);
  EXPECT_EQ(runs[1]["config"]["lr"], 3e-3);
  EXPECT_EQ(runs[0]["id"], RunId(runs[0]["config"]));
  // The same runs as `hrm grid --json` and the text table.
  EXPECT_EQ(json::parse(Hrm("grid " + grid + " --json").out), runs);
  const Output table = Hrm("sweep " + grid + " --store " + store + " --dry-run");
  EXPECT_TRUE(Has(table.out, runs[1]["id"].get<std::string>())) << table.out;
  EXPECT_TRUE(Has(table.out, "\n2 runs\n")) << table.out;
  EXPECT_FALSE(fs::exists(store));
}

TEST(Cli, ReportJsonParses) {
  const KnownRun k = MakeStoreWithRun("report_json");
  const Output o = Hrm("report table6 --json --store " + k.store);
  ASSERT_EQ(o.rc, kExitOk) << o.err;
  const json t = json::parse(o.out);
  EXPECT_EQ(t["name"], "table6");
  ASSERT_FALSE(t["headers"].empty());
  ASSERT_FALSE(t["rows"].empty());
  for (const auto& row : t["rows"]) EXPECT_EQ(row["cells"].size(), t["headers"].size());
  const Output same = Hrm("report table6 --format json", "HRM_STORE=" + k.store);
  EXPECT_EQ(same.out, o.out);
  // A figure has no JSON form: a usage error.
  EXPECT_EQ(Hrm("report figure3 --json --store " + k.store).rc, kExitUsage);
}

TEST(Cli, TrainStoppedAfterACheckpointExits130AndTheSameCommandFinishes) {
  const std::string yaml = WriteGrid(
      "tiny_train.yaml",
      "model: transformer\nL: 1\nd: 32\nheads: 2\nseq: 16\nbatch: 2\nsteps: 4\nwarmup: 1\n"
      "eval_interval: 2\neval_iters: 1\nthreads: 1\n");
  const std::string dir = (Root() / "stopped_run").string();
  const std::string train = "train --no-progress --run-dir " + dir + " --config " + yaml;
  const Output stopped = Hrm(train + " --stop-after 2");
  EXPECT_EQ(stopped.rc, kExitInterrupted) << stopped.err;
  const Output finished = Hrm(train);
  EXPECT_EQ(finished.rc, kExitOk) << finished.err;
}

}  // namespace
}  // namespace hrm
