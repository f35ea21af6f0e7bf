// StoreReader, the read-only API that report and serve share: what it loads
// from a store the runner wrote, that it never waits for the runner nor the
// runner for it, and that it refuses what is not an hrm store.
#include "store/store_reader.h"

#include <gtest/gtest.h>

#include <chrono>

#include "store/run_store.h"
#include "tests/store_test_util.h"

namespace hrm {
namespace {

using testing::TempDir;

// A sweep of two runs written through RunStore, the first with two evaluations.
std::unique_ptr<RunStore> Written(const std::string& path) {
  auto store = RunStore::Open(path);
  const int64_t sweep = store->UpsertSweep({"grid@mini", "grids/grid.yaml", "x", "mini", {}});
  store->AddRunsToSweep(
      sweep,
      {{{"aaaaaaaaaaaa", {{"model", "hrm"}, {"steps", 100}}, "train", ""}, "HRM", 0},
       {{"bbbbbbbbbbbb", {{"model", "transformer"}, {"steps", 100}}, "train", ""}, "TF", 1}});
  store->MarkRunning("aaaaaaaaaaaa", 1, "host");
  store->db().exec(
      "INSERT INTO evals (run_id, step, val_ce, extra) VALUES "
      "('aaaaaaaaaaaa', 50, 4.5, '{\"gate_L_mean\": 0.5}'), ('aaaaaaaaaaaa', 0, 9.0, NULL);"
      "UPDATE runs SET step = 50 WHERE id = 'aaaaaaaaaaaa';"
      "INSERT INTO measurements (run_id, metric, value, extra) VALUES "
      "('bbbbbbbbbbbb', 'latency_ms', 3.5, '{\"seq\":512}')");
  return store;
}

TEST(StoreReader, LoadsSweepsRunsEvaluationsAndMeasurements) {
  TempDir dir;
  auto writer = Written(dir / "hrm.db");
  StoreReader reader(dir / "hrm.db");

  const std::vector<SweepOverview> sweeps = reader.Sweeps();
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0].sweep.name, "grid@mini");
  EXPECT_EQ(sweeps[0].status.Count(RunStatus::kRunning), 1);
  EXPECT_EQ(sweeps[0].status.Count(RunStatus::kPending), 1);
  EXPECT_EQ(sweeps[0].steps_done, 50);
  EXPECT_EQ(sweeps[0].steps_total, 200);
  EXPECT_FALSE(sweeps[0].first_started.empty());

  const std::optional<SweepRecord> sweep = reader.LoadSweep(sweeps[0].sweep.id);
  ASSERT_TRUE(sweep);
  ASSERT_EQ(sweep->runs.size(), 2u);
  const RunRecord& hrm = sweep->runs[0];
  EXPECT_EQ(hrm.label, "HRM");
  EXPECT_EQ(hrm.status, RunStatus::kRunning);
  ASSERT_EQ(hrm.evals.size(), 2u);
  EXPECT_EQ(hrm.evals[0].step, 0);  // by step, whatever the insertion order
  EXPECT_EQ(*hrm.evals[1].val_ce, 4.5);
  EXPECT_TRUE(hrm.evals[1].extra.is_null());  // not asked for
  EXPECT_EQ(reader.LoadSweep(sweeps[0].sweep.id, true)->runs[0].evals[1].extra["gate_L_mean"], 0.5);
  ASSERT_EQ(sweep->runs[1].measurements.size(), 1u);
  EXPECT_EQ(sweep->runs[1].measurements[0].extra["seq"], 512);
  EXPECT_FALSE(reader.LoadSweep(999));

  EXPECT_EQ(reader.FindSweep("grid")->name, "grid@mini");
  EXPECT_EQ(reader.FindSweep("other"), nullptr);
  EXPECT_EQ(reader.EvalExtraKeys(sweeps[0].sweep.id), std::vector<std::string>{"gate_L_mean"});
  const auto gate = reader.EvalValues(sweeps[0].sweep.id, "extra.gate_L_mean");
  ASSERT_EQ(gate.size(), 2u);
  EXPECT_FALSE(gate[0].value);
  EXPECT_EQ(*gate[1].value, 0.5);
  EXPECT_THROW(reader.EvalValues(1, "val_ce; DROP TABLE evals"), StoreError);
  EXPECT_EQ(reader.EvalsAfter("aaaaaaaaaaaa", 0).size(), 1u);
  EXPECT_EQ(reader.SweepsOfRun("aaaaaaaaaaaa").size(), 1u);
  EXPECT_EQ(reader.StatusCounts()["running"], 1);
}

TEST(StoreReader, NeitherWaitsForTheRunnerNorMakesItWait) {
  TempDir dir;
  auto writer = Written(dir / "hrm.db");
  StoreReader reader(dir / "hrm.db");
  const int64_t before = reader.DataVersion();
  // The runner is mid-transaction: the reader sees the last commit at once.
  writer->db().exec("BEGIN IMMEDIATE");
  writer->db().exec("INSERT INTO evals (run_id, step, val_ce) VALUES ('aaaaaaaaaaaa', 100, 4.0)");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(reader.LoadSweep(1)->runs[0].evals.size(), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  writer->db().exec("COMMIT");  // and the runner commits with the reader open
  EXPECT_NE(reader.DataVersion(), before);
  EXPECT_EQ(reader.LoadSweep(1)->runs[0].evals.size(), 3u);
  // A checkpoint of the WAL completes too: the reader holds no snapshot.
  EXPECT_EQ(writer->db().execAndGet("PRAGMA wal_checkpoint(TRUNCATE)").getInt(), 0);
}

TEST(StoreReader, RefusesAMissingOrForeignFile) {
  TempDir dir;
  try {
    StoreReader reader(dir / "missing.db");
    FAIL() << "opened a missing store";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(dir / "missing.db" + ": no such store"), std::string::npos)
        << e.what();
  }
  testing::WriteFile(dir / "text.db", "not a database at all, just some text for SQLite to reject");
  EXPECT_THROW(StoreReader(dir / "text.db").Sweeps(), StoreError);
}

}  // namespace
}  // namespace hrm
