// Reports against a real SQLite store (created from store/schema.sql, in WAL
// mode like the runner's, with a writer connection open) filled with known
// rows: exact tables for seed aggregation, deltas, aggregations, expanded
// rows, status markers and missing rows; the CLI logic; and report.html in
// headless Chromium.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "base/config.h"
#include "base/exit_code.h"
#include "report/figures.h"
#include "report/paper_report.h"
#include "report/paper_tables.h"
#include "report/report_command.h"
#include "report/table_builder.h"
#include "runner/grid.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A temporary store with the real schema and helpers that insert rows.
class ReportStore {
 public:
  ReportStore() {
    std::string tmpl = (fs::temp_directory_path() / "hrm_report_test_XXXXXX").string();
    if (!::mkdtemp(&tmpl[0])) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    path_ = (dir_ / "hrm.db").string();
    db_ = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db_->exec("PRAGMA journal_mode = WAL");
    db_->exec("PRAGMA synchronous = OFF");  // test rows need not survive a power cut
    db_->exec(Slurp(std::string(HRM_SOURCE_DIR) + "/store/schema.sql"));
  }
  ~ReportStore() {
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Dir(const std::string& name) const { return (dir_ / name).string(); }
  SQLite::Database& db() { return *db_; }

  int64_t Sweep(const std::string& name, const std::string& profile = "mini",
                const std::string& updated = "2026-01-01T00:00:00Z") {
    SQLite::Statement q(*db_,
                        "INSERT INTO sweeps (name, grid_path, grid_sha256, profile, created_at, "
                        "updated_at) VALUES (?, ?, 'x', ?, ?, ?)");
    const std::string stem = name.substr(0, name.find('@'));
    q.bind(1, name);
    q.bind(2, "/repo/grids/" + stem + ".yaml");
    q.bind(3, profile);
    q.bind(4, updated);
    q.bind(5, updated);
    q.exec();
    return db_->getLastInsertRowid();
  }

  // Adds a run of `given` (resolved, small, 100 steps) to a sweep; returns its id.
  std::string Run(int64_t sweep, json given, const std::string& status = "done") {
    const json defaults = {{"d", 64}, {"steps", 100}, {"eval_interval", 50}};
    for (auto it = defaults.begin(); it != defaults.end(); ++it)
      if (!given.contains(it.key())) given[it.key()] = it.value();
    const json config = ResolveConfig(given);
    return Resolved(sweep, config, "run " + RunId(config), status);
  }

  // Adds a resolved config to a sweep under `label`; returns its id.
  std::string Resolved(int64_t sweep, const json& config, const std::string& label,
                       const std::string& status = "done") {
    const std::string id = RunId(config);
    SQLite::Statement r(*db_,
                        "INSERT OR IGNORE INTO runs (id, config, model, status, created_at, "
                        "updated_at) VALUES (?, ?, ?, ?, 't', 't')");
    r.bind(1, id);
    r.bind(2, config.dump());
    r.bind(3, config["model"].get<std::string>());
    r.bind(4, status);
    r.exec();
    SQLite::Statement s(*db_,
                        "INSERT INTO sweep_runs (sweep_id, run_id, label, position) VALUES "
                        "(?, ?, ?, (SELECT COUNT(*) FROM sweep_runs WHERE sweep_id = ?))");
    s.bind(1, sweep);
    s.bind(2, id);
    s.bind(3, label);
    s.bind(4, sweep);
    s.exec();
    return id;
  }

  void Eval(const std::string& run, int64_t step, double val_ce, double grad_norm = 1.0) {
    SQLite::Statement q(*db_,
                        "INSERT INTO evals (run_id, step, val_ce, train_ce, grad_norm) VALUES "
                        "(?, ?, ?, ?, ?)");
    q.bind(1, run);
    q.bind(2, step);
    q.bind(3, val_ce);
    q.bind(4, val_ce + 0.1);
    q.bind(5, grad_norm);
    q.exec();
  }

  // A finished run's curve: 10 at step 0, then `final` + 1, `final`.
  std::string Trained(int64_t sweep, json given, double final, const std::string& status = "done") {
    const std::string id = Run(sweep, std::move(given), status);
    Eval(id, 0, 10.0);
    Eval(id, 50, final + 1.0);
    Eval(id, 100, final);
    return id;
  }

  void Measure(const std::string& run, const std::string& metric, double value,
               const json& extra = json::object()) {
    SQLite::Statement q(
        *db_, "INSERT INTO measurements (run_id, metric, value, extra) VALUES (?, ?, ?, ?)");
    q.bind(1, run);
    q.bind(2, metric);
    q.bind(3, value);
    q.bind(4, extra.dump());
    q.exec();
  }

 private:
  fs::path dir_;
  std::string path_;
  std::unique_ptr<SQLite::Database> db_;
};

json Hrm(int n, int t) { return {{"model", "hrm"}, {"N", n}, {"T", t}}; }
json With(json a, const json& b) {
  a.update(b);
  return a;
}
json Tf(int l) { return {{"model", "transformer"}, {"L", l}}; }

Table Build(const std::string& name, StoreReader& store, bool published = false) {
  const TableSpec* spec = FindPaperTable(name);
  if (!spec) throw std::runtime_error("no table " + name);
  BuildOptions o;
  o.published = published;
  return BuildTable(*spec, store, o);
}

TEST(ReportTableTest, EqualParamWithSeedsDeltasMissingAndDivergedRows) {
  ReportStore s;
  const int64_t sw = s.Sweep("equal_param@mini");
  s.Trained(sw, Hrm(2, 4), 4.0);
  s.Trained(sw, Hrm(4, 3), 4.1);
  s.Trained(sw, With(Hrm(4, 3), {{"seed", 1337}}), 4.3);
  // HRM (N=2,T=2) has no run. Transformer L=2 diverged after its step-50 eval.
  const std::string l2 = s.Run(sw, Tf(2), "diverged");
  s.Eval(l2, 0, 10.0);
  s.Eval(l2, 50, 5.0);
  s.Trained(sw, Tf(4), 4.5);

  StoreReader store(s.path());
  const std::string expected =
      "## Table 6: EqualParam — HRM vs Transformer at equal stored parameters\n"
      "\n" +
      FindPaperTable("table6")->caption +
      "\n\n"
      "| Model           | Params | Params (paper) |        val CE | val CE (paper) | Δ vs T-L4 | "
      "Δ vs T-L4 (paper) |\n"
      "|:----------------|-------:|---------------:|--------------:|---------------:|----------:|--"
      "----------------:|\n"
      "| HRM (N=2,T=4)   |   267K |          1229M |         4.000 |          4.239 |    -0.500 |  "
      "          -0.323 |\n"
      "| HRM (N=4,T=3)   |   267K |          1229M | 4.200 ± 0.100 |          4.284 |    -0.300 |  "
      "          -0.278 |\n"
      "| HRM (N=2,T=2)   |      — |          1229M |             — |          4.450 |         — |  "
      "          -0.112 |\n"
      "| Transformer L=2 |   148K |           743M |        5.000† |          4.509 |   +0.500† |  "
      "          -0.053 |\n"
      "| Transformer L=4 |   279K |          1280M |         4.500 |          4.562 |         — |  "
      "               — |\n"
      "\n"
      "- x ± s: mean ± standard deviation (population) over seeds.\n"
      "- † a run diverged (NaN/inf loss or exploding gradient norm); its value is the last one "
      "before.\n"
      "- (paper): the value the paper prints, at the paper's scale.\n"
      "- Data: sweep equal_param@mini, 5 runs (4 done, 1 diverged).\n";
  EXPECT_EQ(RenderMarkdown(Build("table6", store, /*published=*/true)), expected);
}

TEST(ReportTableTest, MultiSeedMeanAndPopulationStdOverSeedsAsCsv) {
  ReportStore s;
  const int64_t sw = s.Sweep("multiseed@mini");
  // The paper's Table 15 values: its mean and std (numpy's population std) follow.
  const double tl4[] = {4.702, 4.698, 4.692}, hrm[] = {4.909, 4.892, 4.889};
  const int seeds[] = {42, 1337, 2024};
  for (int i = 0; i < 3; ++i) {
    s.Trained(sw, With(Tf(4), {{"seed", seeds[i]}}), tl4[i]);
    s.Trained(sw, With(Hrm(4, 3), {{"seed", seeds[i]}}), hrm[i]);
  }
  StoreReader store(s.path());
  EXPECT_EQ(RenderCsv(Build("table15", store)),
            "Model,seed=42,seed=1337,seed=2024,mean,std\r\n"
            "T-L4,4.702,4.698,4.692,4.697,0.004\r\n"
            "HRM NT=12,4.909,4.892,4.889,4.897,0.009\r\n");
}

TEST(ReportTableTest, HpsearchAggregationsReproduceThePapersTable14FromItsTable13) {
  ReportStore s;
  const int64_t sw = s.Sweep("hpsearch@mini");
  const double lrs[] = {1e-3, 6e-4, 3e-4, 1e-4};
  const double hrm[4][2] = {{4.308, 4.485}, {4.381, 4.367}, {4.920, 4.950}, {5.616, 5.727}};
  const double tl4[4][2] = {{4.543, 4.545}, {4.687, 4.706}, {4.997, 5.092}, {5.799, 5.765}};
  for (int i = 0; i < 4; ++i)
    for (int w = 0; w < 2; ++w) {
      const int warmup = w == 0 ? 10 : 5;
      s.Trained(sw, With(Hrm(4, 3), {{"lr", lrs[i]}, {"warmup", warmup}}), hrm[i][w]);
      s.Trained(sw, With(Tf(4), {{"lr", lrs[i]}, {"warmup", warmup}}), tl4[i][w]);
    }
  StoreReader store(s.path());
  EXPECT_EQ(RenderCsv(Build("table14", store)),
            "Aggregation,HRM NT=12,T-L4,HRM advantage\r\n"
            "Best (top-1),4.308,4.543,+0.235\r\n"
            "Top-2 mean,4.338,4.544,+0.207\r\n"
            "Median,4.703,4.852,+0.149\r\n"
            "Worst,5.727,5.799,+0.072\r\n");
  // Table 13: by learning rate (highest first), then val CE; a section per model.
  const std::string t13 = RenderCsv(Build("table13", store, /*published=*/true));
  EXPECT_NE(t13.find("section,Config,lr,warmup,warmup (paper),val CE,val CE (paper)\r\n"
                     "HRM NT=12 (1229M),HRM #1,0.001,10,1000,4.308,4.308\r\n"
                     "HRM NT=12 (1229M),HRM #2,0.001,5,500,4.485,4.485\r\n"
                     "HRM NT=12 (1229M),HRM #3,0.0006,5,500,4.367,4.367\r\n"
                     "HRM NT=12 (1229M),HRM #4,0.0006,10,1000,4.381,4.381\r\n"),
            std::string::npos)
      << t13;
  EXPECT_NE(t13.find("T-L4 (1280M),T-L4 #8,0.0001,10,1000,5.799,5.799\r\n"), std::string::npos)
      << t13;
}

TEST(ReportTableTest, AblationBlocksCompareWithTheirOwnBaseAndExpandS) {
  ReportStore s;
  const int64_t sw = s.Sweep("ablation@mini");
  auto abl = [](int n, int t, int k, int sp) { return With(Hrm(n, t), {{"K", k}, {"S", sp}}); };
  s.Trained(sw, abl(4, 3, 1, 1), 4.25);
  s.Trained(sw, abl(4, 3, 2, 1), 4.20);  // the base of every block
  s.Trained(sw, abl(4, 3, 8, 1), 4.05);
  s.Trained(sw, abl(4, 3, 2, 3), 4.90);
  s.Trained(sw, abl(4, 3, 2, 2), 4.30);
  s.Run(sw, abl(1, 3, 1, 1), "pending");
  const std::string n2 = s.Run(sw, abl(2, 3, 1, 1), "running");
  s.Eval(n2, 0, 10.0);
  s.Eval(n2, 50, 4.6);
  s.Run(sw, abl(8, 3, 4, 1), "failed");
  StoreReader store(s.path());
  EXPECT_EQ(RenderCsv(Build("table11", store)),
            "section,Config,K/M,val CE,Δ vs base\r\n"
            "\"K ablation (N=4, T=3, S=1)\",K=1,8%,4.250,+0.050\r\n"
            "\"K ablation (N=4, T=3, S=1)\",K=2 (base),17%,4.200,—\r\n"
            "\"K ablation (N=4, T=3, S=1)\",K=4,—,—,—\r\n"
            "\"K ablation (N=4, T=3, S=1)\",K=8,67%,4.050,-0.150\r\n"
            "\"S ablation (N=4, T=3, K=2)\",S=1,17%,4.200,—\r\n"
            "\"S ablation (N=4, T=3, K=2)\",S=2,17%,4.300,+0.100\r\n"
            "\"S ablation (N=4, T=3, K=2)\",S=3,17%,4.900,+0.700\r\n"
            "\"N ablation (T=3, S=1, K/M ≈ 17%)\",\"N=1 (M=3, K=1)\",33%,pending,—\r\n"
            "\"N ablation (T=3, S=1, K/M ≈ 17%)\",\"N=2 (M=6, K=1)\",17%,4.600*,+0.400*\r\n"
            "\"N ablation (T=3, S=1, K/M ≈ 17%)\",\"N=4 (M=12, K=2, base)\",17%,4.200,—\r\n"
            "\"N ablation (T=3, S=1, K/M ≈ 17%)\",\"N=8 (M=24, K=4)\",17%,failed,—\r\n"
            "\"T ablation (N=4, S=1, K=2)\",T=1 (M=4),—,—,—\r\n"
            "\"T ablation (N=4, S=1, K=2)\",T=2 (M=8),—,—,—\r\n"
            "\"T ablation (N=4, S=1, K=2)\",\"T=3 (M=12, base)\",17%,4.200,—\r\n"
            "\"T ablation (N=4, S=1, K=2)\",T=6 (M=24),—,—,—\r\n");
}

TEST(ReportTableTest, StepColumnsReadFractionsOfEachRunsSteps) {
  ReportStore s;
  const int64_t sw = s.Sweep("m48@mini");
  // 100 steps evaluated every 20: @3k of 10k = step 30 -> nearest 20 (ties take the earlier),
  // @5k = 50 -> 40 or 60 -> 40, @7k = 70 -> 60, @10k = final.
  const std::string a = s.Run(sw, With(Hrm(8, 6), {{"K", 16}, {"eval_interval", 20}}));
  for (int step = 0; step <= 100; step += 20)
    s.Eval(a, step, 10.0 - step / 20.0, 0.5 + step / 100.0);
  // A running run has no value at points it has not reached yet.
  const std::string b = s.Run(sw, With(Hrm(12, 4), {{"K", 12}, {"eval_interval", 20}}), "running");
  for (int step = 0; step <= 40; step += 20) s.Eval(b, step, 9.0 - step / 20.0);
  StoreReader store(s.path());
  const std::string csv = RenderCsv(Build("table22", store));
  EXPECT_NE(csv.find("\"HRM N=8,T=6\",48,33%,9.000,8.000,7.000,5.000,1.500\r\n"), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\"HRM N=12,T=4\",48,25%,8.000,running,running,7.000*,1.000*\r\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("UniTF flat M=48,—,—,—,—,—,—,—\r\n"), std::string::npos) << csv;
}

TEST(ReportTableTest, MeasurementsRatiosAndSweepOverridesAsTex) {
  ReportStore s;
  const int64_t lat = s.Sweep("latency@mini");
  const int64_t eq = s.Sweep("equal_param@mini");
  const std::string tl4 = s.Run(lat, Tf(4));
  s.Measure(tl4, "latency_ms", 10.0, {{"seq", 64}});
  s.Measure(tl4, "peak_mem_mb", 100.0);
  const std::string h = s.Run(lat, Hrm(2, 4));
  s.Measure(h, "latency_ms", 25.0, {{"seq", 64}});
  s.Measure(h, "peak_mem_mb", 90.4);
  s.Trained(eq, Tf(4), 4.5);
  s.Trained(eq, Hrm(2, 4), 4.25);
  StoreReader store(s.path());
  const std::string tex = RenderTex(Build("table20", store));
  const std::string head =
      "% Table 20: The compute–memory trade-off (hrm report table20)\n"
      "\\begin{table}[ht]\n\\centering\n\\small\n"
      "\\caption{Table 20: The compute--memory trade-off. One row per model";
  EXPECT_EQ(tex.substr(0, head.size()), head);
  EXPECT_NE(tex.find("M = N$\\cdot$T for HRM"), std::string::npos) << tex;
  const size_t label = tex.find("\\label{");
  ASSERT_NE(label, std::string::npos) << tex;
  EXPECT_EQ(
      tex.substr(label),
      "\\label{tab:table20}\n"
      "\\begin{tabular}{lrrrrrr}\n"
      "\\toprule\n"
      "Model & Params & KV sets/token & Latency (ms) & Latency ratio & Peak mem (MB) & val CE "
      "\\\\\n"
      "\\midrule\n"
      "TF L=4 & 279K & 4 & 10.0 & 1.00$\\times$ & 100 & 4.500 \\\\\n"
      "HRM N=2,T=4 & 267K & 8 & 25.0 & 2.50$\\times$ & 90 & 4.250 \\\\\n"
      "HRM N=4,T=3 & --- & --- & --- & --- & --- & --- \\\\\n"
      "\\bottomrule\n"
      "\\end{tabular}\n"
      "\\par\\smallskip\\footnotesize\n"
      "Paper: its HRM NT=12 val CE (4.233) is the EqualFLOPs run; here both HRM rows read the "
      "equal\\_param sweep.\\\\\n"
      "Paper: its KV-cache and ratio cells were lost in the text rendering; the values here "
      "follow from its Eq. 6--7 and latencies.\\\\\n"
      "Data: sweep equal\\_param@mini, 2 runs (2 done).\\\\\n"
      "Data: sweep latency@mini, 2 runs (2 done).\\\\\n"
      "\\end{table}\n");
}

TEST(ReportTableTest, SeveralConfigsForOneRowAreFlaggedNotMerged) {
  ReportStore s;
  const int64_t sw = s.Sweep("equal_param@mini");
  s.Trained(sw, Tf(4), 4.5);
  s.Trained(sw, With(Tf(4), {{"lr", 3e-4}}), 4.7);
  StoreReader store(s.path());
  const std::string md = RenderMarkdown(Build("table6", store));
  EXPECT_NE(md.find("| Transformer L=4 |   279K | 2 configs |         — |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("\"N configs\": several configurations match the row"), std::string::npos);
}

TEST(ReportTableTest, EmptyStoreGivesEveryTableWithDashesAndHowToFillIt) {
  ReportStore s;
  StoreReader store(s.path());
  for (const auto& spec : PaperTables()) {
    const Table t = BuildTable(spec, store, BuildOptions{});
    EXPECT_FALSE(t.rows.empty()) << spec.name;
    for (const auto& r : t.rows)
      EXPECT_EQ(r.cells.size(), r.section ? 1u : t.headers.size()) << spec.name;
  }
  const std::string csv = RenderCsv(Build("table7", store, true));
  EXPECT_NE(csv.find("\r\nHRM (d=5120),—,1857M,—,4.165,—,-1.231\r\n"), std::string::npos) << csv;
  EXPECT_NE(
      RenderMarkdown(Build("table7", store)).find("No sweep of grid equal_flops in this store yet"),
      std::string::npos);
}

TEST(ReportTableTest, WeightMemoryTableIsTheAnalyticFormula) {
  ReportStore s;
  StoreReader store(s.path());
  EXPECT_EQ(RenderCsv(Build("table19", store, true)),
            "Model,Blocks,Blocks (paper),Block params,Block params (paper),bf16 weights,"
            "bf16 weights (paper),Block applications,Block applications (paper),"
            "Saving vs TF L=12,Saving vs TF L=12 (paper)\r\n"
            "TF L=4,4 independent,4 indep.,1.07B,1.07B,2.1 GB,2.1 GB,4,4,—,—\r\n"
            "TF L=12,12 independent,12 indep.,3.22B,3.22B,6.4 GB,6.4 GB,12,12,—,—\r\n"
            "\"HRM (any N, T)\",3 shared,3 shared,0.81B,0.81B,1.6 GB,1.6 GB,"
            "\"1 + M + N (17 at N=4, T=3)\",,4.0× fewer,\r\n");
}

TEST(ReportTableTest, StepTraceReadsPerStepMeasurements) {
  ReportStore s;
  const int64_t sw = s.Sweep("hlrole@mini");
  const std::string run = s.Run(sw, Hrm(4, 3));
  for (int i = 0; i < 12; ++i) {
    s.Measure(run, "trace.h_fired", (i + 1) % 3 == 0 ? 1 : 0, {{"step", i}});
    s.Measure(run, "trace.gate_mean", 0.25 + i / 100.0, {{"step", i}});
    s.Measure(run, "trace.cos_lh", i / 20.0, {{"step", i}});
  }
  StoreReader store(s.path());
  const std::string csv = RenderCsv(Build("table18", store));
  EXPECT_NE(
      csv.find("Step,H fired,gate g_L,‖z_L‖,‖z_H‖,\"cos(z_L, z_H)\"\r\n0,,0.250,—,—,0.000\r\n"),
      std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\r\n11,✓,0.360,—,—,0.550\r\n"), std::string::npos) << csv;
}

TEST(ReportTableTest, SlowModuleAnalysesFallBackToTheTrainedEqualParamRuns) {
  ReportStore s;
  const int64_t sw = s.Sweep("equal_param@mini");
  const std::string run = s.Trained(sw, Hrm(2, 2), 4.3);
  s.Measure(run, "ce_normal", 4.3);
  s.Measure(run, "ce_h_frozen", 5.25, {{"time", "2026-01-01T00:00:00Z"}});
  StoreReader store(s.path());
  const std::string csv = RenderCsv(Build("table17", store));
  EXPECT_NE(csv.find("\r\n\"HRM NT=4 (N=2,T=2)\",4.300,5.250,+0.950\r\n"), std::string::npos)
      << csv;
  EXPECT_NE(RenderMarkdown(Build("table17", store))
                .find("- Data: sweep equal_param@mini, 1 run (1 done)."),
            std::string::npos);
}

TEST(ReportTableTest, NewestSweepOfAGridUnlessAProfileIsChosen) {
  ReportStore s;
  const int64_t mini = s.Sweep("equal_param@mini", "mini", "2026-01-01T00:00:00Z");
  const int64_t smoke = s.Sweep("equal_param@smoke", "smoke", "2026-01-02T00:00:00Z");
  s.Sweep("equal_param_v2@mini", "mini", "2026-01-03T00:00:00Z");  // another grid
  s.Trained(mini, Tf(4), 4.5);
  s.Trained(smoke, With(Tf(4), {{"d", 32}}), 6.5);
  {
    StoreReader store(s.path());
    EXPECT_EQ(store.FindSweep("equal_param")->name, "equal_param@smoke");
    EXPECT_EQ(store.FindSweep("hpsearch"), nullptr);
  }
  StoreReader store(s.path(), "mini");
  EXPECT_EQ(store.FindSweep("equal_param")->name, "equal_param@mini");
}

TEST(ReportCommandTest, NamesFormatsAndStoreErrors) {
  ReportStore s;
  const int64_t sw = s.Sweep("genspeed@mini");
  const std::string run = s.Run(sw, Tf(4));
  s.Measure(run, "tok_per_s", 300.0, {{"batch", 1}, {"new_tokens", 128}, {"prompt", 64}});
  s.Measure(run, "tok_per_s_cached", 900.0, {{"batch", 1}, {"new_tokens", 128}, {"prompt", 64}});
  std::ostringstream out, err;
  ReportOptions o;
  o.store = s.path();
  o.name = "genspeed";
  o.format = "csv";
  o.published = false;
  ASSERT_EQ(RunReport(o, out, err), kExitOk) << err.str();
  EXPECT_NE(out.str().find("T-L4,279K,300.0,—,—,1.00×,900.0\r\n"), std::string::npos) << out.str();

  o.name = "table99";
  EXPECT_EQ(RunReport(o, out, err), kExitUsage);
  EXPECT_NE(err.str().find("no table or figure called table99"), std::string::npos);
  EXPECT_NE(err.str().find("table22  m48"), std::string::npos) << err.str();

  o.name = "figure3";
  EXPECT_EQ(RunReport(o, out, err), kExitUsage);  // figures are svg or html
  o.name = "table6";
  o.store = s.Dir("missing.db");
  err.str("");
  EXPECT_EQ(RunReport(o, out, err), kExitUsage);
  EXPECT_NE(err.str().find(s.Dir("missing.db") + ": no such store"), std::string::npos)
      << err.str();

  o.store = s.path();
  o.name.clear();
  o.paper = true;
  EXPECT_EQ(RunReport(o, out, err), kExitUsage);  // --paper needs --out
  o.out = s.Dir("report");
  out.str("");
  ASSERT_EQ(RunReport(o, out, err), kExitOk) << err.str();
  EXPECT_NE(out.str().find("wrote 54 files"), std::string::npos) << out.str();
  for (const char* f : {"table6.md", "table6.csv", "table6.tex", "table22.md", "figure3.svg",
                        "figure4.svg", "report.html"})
    EXPECT_TRUE(fs::exists(s.Dir("report/") + f)) << f;
}

TEST(ReportFigureTest, OneCurvePerConfigurationAveragedOverSeeds) {
  ReportStore s;
  const int64_t sw = s.Sweep("hpsearch@mini");
  s.Trained(sw, With(Hrm(4, 3), {{"lr", 1e-3}}), 4.0);
  s.Trained(sw, With(Hrm(4, 3), {{"lr", 1e-3}, {"seed", 7}}), 4.4);
  s.Trained(sw, With(Hrm(4, 3), {{"lr", 3e-4}}), 4.6);
  s.Trained(sw, Tf(4), 4.8);
  StoreReader store(s.path());
  const Figure f = BuildFigure(*FindPaperFigure("figure3"), store);
  ASSERT_EQ(f.svgs.size(), 2u);
  auto count = [](const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t i = 0; (i = s.find(what, i)) != std::string::npos; ++i) ++n;
    return n;
  };
  EXPECT_EQ(count(f.svgs[0], "<polyline"), 2u);
  EXPECT_EQ(count(f.svgs[1], "<polyline"), 1u);
  EXPECT_NE(f.svgs[0].find("lr=0.001, warmup=20"), std::string::npos);
  // The seed mean at the last step (4.2) lies between the two curves' ends.
  EXPECT_NE(FigureSvg(f).find("<title>Figure 3"), std::string::npos);
}

// The paper tables' rows and the grids (grids/*.yaml) are written apart: a
// row whose match finds no run, or several configs, reads "—" or "N configs"
// forever. Every grid expanded at the mini profile, with a value for every
// evaluation and measurement, must fill every cell the paper printed.
TEST(ReportGridTest, EveryCellThePaperPrintedIsFilledFromTheGridsAtTheMiniProfile) {
  ReportStore s;
  const std::string grids = std::string(HRM_SOURCE_DIR) + "/grids";
  std::set<std::string> read;
  for (const auto& spec : PaperTables()) {
    for (std::string sweeps = spec.sweep; !sweeps.empty();) {
      read.insert(sweeps.substr(0, sweeps.find('|')));
      sweeps = sweeps.find('|') == std::string::npos ? "" : sweeps.substr(sweeps.find('|') + 1);
    }
    for (const auto& row : spec.rows) read.insert(row.sweep);
    for (const auto& col : spec.columns) read.insert(col.sweep);
  }
  read.erase("");
  std::set<std::string> filled;  // a config in two grids is one run, filled once
  for (const std::string& grid : read) {
    ASSERT_TRUE(fs::exists(grids + "/" + grid + ".yaml")) << grid;
    const int64_t sweep = s.Sweep(grid + "@mini");
    for (const auto& run : ExpandGrid(LoadGrid(grids + "/" + grid + ".yaml"), "mini", {})) {
      const std::string id = s.Resolved(sweep, run.config, run.label);
      if (!filled.insert(id).second) continue;
      const std::string protocol = run.config.value("protocol", "train");
      const double level = 4 + double(run.position) / 10;
      if (protocol == "train") {
        const int64_t steps = run.config["steps"], every = run.config["eval_interval"];
        for (int64_t step = 0; step <= steps; step += every)
          s.Eval(id, step, level + 1.0 - double(step) / double(steps));
        if (run.config["model"] == "hrm") {
          s.Measure(id, "ce_normal", level);
          s.Measure(id, "ce_h_frozen", level + 1);
          for (int i = 0; i < run.config["M"].get<int>(); ++i)
            for (const char* m : {"trace.h_fired", "trace.gate_mean", "trace.zl_norm",
                                  "trace.zh_norm", "trace.cos_lh"})
              s.Measure(id, m, 0.5, {{"step", i}});
        }
      }
      for (const char* m :
           {"latency_ms", "peak_mem_mb", "tok_per_s", "ms_per_tok", "tok_per_s_cached"})
        if (protocol != "train") s.Measure(id, m, level);
    }
  }
  StoreReader store(s.path());
  BuildOptions with_paper;
  for (const auto& spec : PaperTables()) {
    const Table t = BuildTable(spec, store, with_paper);
    for (const auto& row : t.rows) {
      if (row.section) continue;
      for (size_t i = 1; i + 1 < t.headers.size(); ++i) {
        if (t.published[i] || !t.published[i + 1]) continue;
        const std::string& paper = row.cells[i + 1];
        const std::string& measured = row.cells[i];
        if (paper.empty() || paper == "—") continue;
        EXPECT_TRUE(measured != "—" && measured != "varies" &&
                    measured.find(" configs") == std::string::npos)
            << spec.name << " row " << row.cells[0] << " column " << t.headers[i] << ": "
            << measured << " (paper " << paper << ")";
      }
    }
  }
}

// Headless Chromium (Debian's chromium) loads `html` and returns the DOM it
// built; console messages it logged (errors, warnings, failed loads) go to
// `console`.
std::string LoadInChromium(const std::string& html_path, const std::string& profile_dir,
                           std::vector<std::string>* console) {
  const std::string log = profile_dir + ".log", dom = profile_dir + ".dom";
  const std::string cmd =
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir=" +
      profile_dir + " --enable-logging=stderr --v=0 --dump-dom file://" + html_path +
      " < /dev/null > " + dom + " 2> " + log;  // no terminal to stop on
  const int rc = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd << "\n" << Slurp(log);
  std::istringstream lines(Slurp(log));
  for (std::string line; std::getline(lines, line);)
    if (std::regex_search(line, std::regex(":CONSOLE[:(]"))) console->push_back(line);
  return Slurp(dom);
}

bool HaveChromium() { return std::system("command -v chromium > /dev/null 2>&1") == 0; }

TEST(ReportHtmlTest, ChromiumConsoleDetectionCatchesAnInjectedError) {
  ASSERT_TRUE(HaveChromium()) << "chromium not installed: make deps installs it";
  ReportStore s;
  const std::string page = s.Dir("bad.html");
  std::ofstream(page) << "<!doctype html><title>t</title><p>x</p>"
                         "<script>console.error('injected-error'); missingFunction();</script>";
  std::vector<std::string> console;
  LoadInChromium(page, s.Dir("chromium-bad"), &console);
  ASSERT_EQ(console.size(), 2u);
  EXPECT_NE(console[0].find("injected-error"), std::string::npos);
  EXPECT_NE(console[1].find("missingFunction is not defined"), std::string::npos);
}

TEST(ReportHtmlTest, PaperReportOpensInChromiumWithEveryTableAndCurve) {
  ASSERT_TRUE(HaveChromium()) << "chromium not installed: make deps installs it";
  ReportStore s;
  const int64_t eq = s.Sweep("equal_param@mini"), flops = s.Sweep("equal_flops@mini");
  const int64_t hp = s.Sweep("hpsearch@mini"), lat = s.Sweep("latency@mini");
  s.Trained(eq, Hrm(2, 4), 4.2);
  s.Trained(eq, Tf(4), 4.5);
  s.Trained(flops, Hrm(4, 3), 4.3);
  s.Trained(flops, Tf(12), 5.4);
  s.Trained(hp, With(Hrm(4, 3), {{"lr", 3e-4}}), 4.4);
  s.Trained(hp, With(Tf(4), {{"lr", 3e-4}}), 4.6);
  s.Measure(s.Run(lat, Tf(4)), "latency_ms", 10.0);
  StoreReader store(s.path());
  const auto files = WritePaperReport(store, s.Dir("report"), BuildOptions{});
  ASSERT_EQ(files.back(), s.Dir("report/report.html"));

  std::vector<std::string> console;
  const std::string dom = LoadInChromium(files.back(), s.Dir("chromium"), &console);
  EXPECT_TRUE(console.empty()) << console.front();
  size_t tables = 0, svgs = 0;
  for (size_t i = 0; (i = dom.find("<table>", i)) != std::string::npos; ++i) ++tables;
  for (size_t i = 0; (i = dom.find("<svg ", i)) != std::string::npos; ++i) ++svgs;
  EXPECT_EQ(tables, PaperTables().size());
  EXPECT_EQ(svgs, 3u);  // Figure 3's two panels and Figure 4
  for (const auto& t : PaperTables())
    EXPECT_NE(dom.find("<section id=\"" + t.name + "\">"), std::string::npos) << t.name;
  for (const auto& f : PaperFigures())
    EXPECT_NE(dom.find("<section id=\"" + f.name + "\">"), std::string::npos) << f.name;
  EXPECT_NE(dom.find("<polyline"), std::string::npos);
}

}  // namespace
}  // namespace hrm
