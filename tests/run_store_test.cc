// RunStore on real SQLite files: creation, refusal of files it must not
// touch, migration from schema 1, sweeps and runs, and the status summary.
#include "store/run_store.h"

#include <gtest/gtest.h>

#include <regex>

#include "base/sha256.h"
#include "store/ingest.h"
#include "tests/store_test_util.h"

namespace hrm {
namespace {

using testing::AppendFile;
using testing::ReadFile;
using testing::Rows;
using testing::TempDir;
using testing::WriteFile;

RunStore::SweepEntry Entry(const std::string& id, const std::string& model, int64_t position) {
  RunStore::SweepEntry e;
  e.run.id = id;
  e.run.config = {{"model", model}, {"seed", position}};
  e.run.run_dir = "runs/" + id;
  e.label = model + " #" + std::to_string(position);
  e.position = position;
  return e;
}

std::string Single(SQLite::Database& db, const std::string& sql) {
  return db.execAndGet(sql).getString();
}

// The schema as sqlite_master holds it, comments and layout aside.
std::vector<std::string> SchemaObjects(SQLite::Database& db) {
  std::vector<std::string> out;
  for (std::string row : Rows(db,
                              "SELECT type, name, tbl_name, sql FROM sqlite_master "
                              "ORDER BY type, name")) {
    row = std::regex_replace(row, std::regex("--[^\n]*"), "");
    row = std::regex_replace(row, std::regex("\\s+"), " ");
    out.push_back(row);
  }
  return out;
}

// A store as schema version 1 wrote it, with a few rows.
void MakeVersion1Store(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec(ReadFile(std::string(HRM_SOURCE_DIR) + "/tests/data/store_schema_v1.sql"));
  db.exec(
      "INSERT INTO sweeps VALUES (1, 'old', 'g.yaml', 'abc', 'mini', '[]', 't0', 't0');"
      "INSERT INTO runs (id, config, model, status, attempts, step, created_at, updated_at) "
      "  VALUES ('r1', '{\"model\":\"hrm\"}', 'hrm', 'done', 2, 100, 't0', 't1');"
      "INSERT INTO sweep_runs VALUES (1, 'r1', 'HRM', 0);"
      "INSERT INTO evals (run_id, step, val_ce) VALUES ('r1', 0, 5.5), ('r1', 100, 3.25);"
      "INSERT INTO checkpoints VALUES ('r1', 100, 'ckpt/100.pt', 'ff00');"
      "INSERT INTO measurements VALUES ('r1', 'latency_ms', 1.5, NULL);"
      "INSERT INTO ingest_cursors VALUES ('r1', 'runs/r1/events.jsonl', 512);");
}

TEST(RunStoreTest, CreatesTheCurrentSchemaInWalModeWithForeignKeys) {
  TempDir dir;
  const std::string path = dir / "sub/dir/hrm.db";
  auto store = RunStore::Open(path);
  EXPECT_EQ(Single(store->db(), "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::to_string(RunStore::SchemaVersion()));
  EXPECT_EQ(Single(store->db(), "PRAGMA foreign_keys"), "1");
  EXPECT_EQ(Single(store->db(), "PRAGMA integrity_check"), "ok");
  SQLite::Database other(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(Single(other, "PRAGMA journal_mode"), "wal");  // persistent, seen by any reader
  for (const char* name :
       {"sweeps", "runs", "sweep_runs", "evals", "checkpoints", "measurements", "run_events",
        "ingest_cursors", "last_evals", "final_evals", "sweep_status"})
    EXPECT_EQ(Single(other,
                     std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + name + "'"),
              "1")
        << name;
  // Foreign keys are enforced: an eval of an unknown run is rejected.
  EXPECT_THROW(store->db().exec("INSERT INTO evals (run_id, step) VALUES ('nope', 1)"),
               SQLite::Exception);
}

TEST(RunStoreTest, ReopeningKeepsEverything) {
  TempDir dir;
  const std::string path = dir / "hrm.db";
  int64_t id;
  {
    auto store = RunStore::Open(path);
    id = store->UpsertSweep({"s", "g.yaml", "abc", "mini", {"steps=10"}});
    store->AddRunsToSweep(id, {Entry("a", "hrm", 0), Entry("b", "unitf", 1)});
  }
  auto store = RunStore::Open(path);
  EXPECT_EQ(store->FindSweep("s"), id);
  ASSERT_EQ(store->ListRuns(id).size(), 2u);
  auto ro = RunStore::Open(path, RunStore::Mode::kReadOnly);
  EXPECT_EQ(ro->ListRuns(id).size(), 2u);
}

TEST(RunStoreTest, ReadersSeeTheLastCommitWhileTheWriterIsInATransaction) {
  TempDir dir;
  const std::string path = dir / "hrm.db";
  auto writer = RunStore::Open(path);
  const int64_t s = writer->UpsertSweep({"s", "g.yaml", "x", "", {}});
  writer->AddRunToSweep(s, Entry("a", "hrm", 0));
  SQLite::Transaction open_tx(writer->db(), SQLite::TransactionBehavior::IMMEDIATE);
  writer->db().exec("UPDATE runs SET status = 'done'");
  // A reader (hrm status) neither waits for the writer nor sees uncommitted rows.
  auto reader = RunStore::Open(path, RunStore::Mode::kReadOnly);
  EXPECT_EQ(reader->SweepSummaries()[0].Count(RunStatus::kPending), 1);
  open_tx.commit();
  EXPECT_EQ(reader->SweepSummaries()[0].Count(RunStatus::kDone), 1);
}

TEST(RunStoreTest, RefusesAStoreFromANewerHrmAndLeavesItAlone) {
  TempDir dir;
  const std::string path = dir / "hrm.db";
  RunStore::Open(path);
  const std::string newer = std::to_string(RunStore::SchemaVersion() + 1);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE meta SET value = '" + newer + "' WHERE key = 'schema_version'");
  }
  const std::string before = Sha256File(path);
  for (auto mode : {RunStore::Mode::kReadWrite, RunStore::Mode::kReadOnly}) {
    try {
      RunStore::Open(path, mode);
      FAIL() << "a newer store was opened";
    } catch (const StoreError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find("schema version " + newer + ", newer than this hrm reads (" +
                         std::to_string(RunStore::SchemaVersion()) + ")"),
                std::string::npos)
          << msg;
    }
  }
  EXPECT_EQ(Sha256File(path), before);
}

TEST(RunStoreTest, RefusesFilesThatAreNotHrmStores) {
  TempDir dir;
  const std::string other = dir / "other.db";
  {
    SQLite::Database db(other, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE t (x)");
  }
  try {
    RunStore::Open(other);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(other + " is an SQLite file but not an hrm store"),
              std::string::npos)
        << e.what();
  }
  SQLite::Database db(other, SQLite::OPEN_READONLY);
  EXPECT_EQ(Single(db, "PRAGMA journal_mode"), "delete");  // not switched to WAL

  const std::string text = dir / "notes.txt";
  WriteFile(text, "these are not the tables you are looking for\n");
  try {
    RunStore::Open(text);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("store " + text), std::string::npos) << e.what();
  }
  EXPECT_EQ(ReadFile(text), "these are not the tables you are looking for\n");

  EXPECT_THROW(RunStore::Open(dir / "missing.db", RunStore::Mode::kReadOnly), StoreError);
}

TEST(RunStoreTest, MigratesAVersion1StoreToTheSchemaANewStoreGets) {
  TempDir dir;
  const std::string old_path = dir / "old.db";
  MakeVersion1Store(old_path);
  EXPECT_THROW(RunStore::Open(old_path, RunStore::Mode::kReadOnly), StoreError);  // no upgrade

  auto migrated = RunStore::Open(old_path);
  auto fresh = RunStore::Open(dir / "fresh.db");
  EXPECT_EQ(SchemaObjects(migrated->db()), SchemaObjects(fresh->db()));
  EXPECT_EQ(Single(migrated->db(), "SELECT value FROM meta WHERE key = 'schema_version'"),
            std::to_string(RunStore::SchemaVersion()));
  EXPECT_EQ(Single(migrated->db(), "PRAGMA integrity_check"), "ok");
  EXPECT_TRUE(Rows(migrated->db(), "PRAGMA foreign_key_check").empty());

  // Rows survive; measurements get the new key; cursors start over.
  auto run = migrated->GetRun("r1");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->status, RunStatus::kDone);
  EXPECT_EQ(run->attempts, 2);
  EXPECT_EQ(run->step, 100);
  EXPECT_EQ(Rows(migrated->db(), "SELECT run_id, step, val_ce FROM final_evals"),
            std::vector<std::string>{"r1|100|3.25"});
  EXPECT_EQ(Rows(migrated->db(), "SELECT * FROM measurements"),
            std::vector<std::string>{"r1|latency_ms|1.5|{}"});
  EXPECT_EQ(Rows(migrated->db(), "SELECT * FROM checkpoints"),
            std::vector<std::string>{"r1|100|ckpt/100.pt|ff00"});
  EXPECT_TRUE(Rows(migrated->db(), "SELECT * FROM ingest_cursors").empty());
  auto sweeps = migrated->SweepSummaries();
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0].Count(RunStatus::kDone), 1);
  // The new status is accepted, and foreign keys are on again.
  migrated->SetRunStatus("r1", RunStatus::kInterrupted);
  EXPECT_EQ(Single(migrated->db(), "PRAGMA foreign_keys"), "1");
  migrated.reset();
  EXPECT_EQ(RunStore::Open(old_path, RunStore::Mode::kReadOnly)->GetRun("r1")->status,
            RunStatus::kInterrupted);
}

TEST(RunStoreTest, AFailedMigrationLeavesTheStoreAsItWas) {
  TempDir dir;
  const std::string path = dir / "old.db";
  MakeVersion1Store(path);
  {
    // Version 1 did not enforce foreign keys: an eval of a run that is gone.
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO evals (run_id, step, val_ce) VALUES ('ghost', 5, 1.0)");
  }
  try {
    RunStore::Open(path);
    FAIL() << "migrated a store with a dangling reference";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("table evals has a row whose runs reference is missing"),
              std::string::npos)
        << e.what();
  }
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(Single(db, "SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  EXPECT_EQ(Single(db, "SELECT count(*) FROM sqlite_master WHERE name = 'run_events'"), "0");
  EXPECT_EQ(Single(db, "SELECT count(*) FROM ingest_cursors"), "1");
}

TEST(RunStoreTest, SweepsShareRunsAndRelinkingUpdatesLabels) {
  TempDir dir;
  auto store = RunStore::Open(dir / "hrm.db");
  const int64_t a = store->UpsertSweep({"a", "a.yaml", "sha1", "", {}});
  EXPECT_EQ(store->UpsertSweep({"a", "a.yaml", "sha2", "mini", {"steps=5"}}), a);
  EXPECT_EQ(Rows(store->db(), "SELECT grid_sha256, profile, overrides FROM sweeps"),
            std::vector<std::string>{"sha2|mini|[\"steps=5\"]"});
  const int64_t b = store->UpsertSweep({"b", "b.yaml", "sha3", "", {}});
  EXPECT_NE(a, b);
  EXPECT_EQ(store->FindSweep("nope"), std::nullopt);

  store->AddRunsToSweep(a, {Entry("r2", "unitf", 1), Entry("r1", "hrm", 0)});
  store->MarkRunning("r1", 42, "node1");
  auto shared = Entry("r1", "hrm", 7);
  shared.label = "the HRM run";
  store->AddRunToSweep(b, shared);  // the same run in a second sweep: one row
  EXPECT_EQ(Single(store->db(), "SELECT count(*) FROM runs"), "2");
  EXPECT_EQ(store->GetRun("r1")->status, RunStatus::kRunning);  // a known run keeps its state

  auto in_a = store->ListRuns(a);
  ASSERT_EQ(in_a.size(), 2u);
  EXPECT_EQ(in_a[0].run.id, "r1");
  EXPECT_EQ(in_a[0].run.model, "hrm");
  EXPECT_EQ(in_a[0].run.config["seed"], 0);
  EXPECT_EQ(in_a[0].run.run_dir, "runs/r1");
  EXPECT_EQ(in_a[1].run.id, "r2");
  EXPECT_EQ(in_a[1].label, "unitf #1");
  auto in_b = store->ListRuns(b);
  ASSERT_EQ(in_b.size(), 1u);
  EXPECT_EQ(in_b[0].label, "the HRM run");
  EXPECT_EQ(in_b[0].position, 7);

  auto relabel = Entry("r2", "unitf", 5);
  relabel.label = "UniTF";
  store->AddRunToSweep(a, relabel);
  EXPECT_EQ(store->ListRuns(a)[1].label, "UniTF");
  EXPECT_THROW(store->AddRunToSweep(999, Entry("r3", "hrm", 0)), StoreError);  // no such sweep
  EXPECT_FALSE(store->GetRun("r3"));  // and nothing half-added
}

TEST(RunStoreTest, MarkRunningCountsAttemptsAndSetRunStatusRecordsTheEnd) {
  TempDir dir;
  auto store = RunStore::Open(dir / "hrm.db");
  const int64_t s = store->UpsertSweep({"s", "g.yaml", "x", "", {}});
  store->AddRunToSweep(s, Entry("r1", "hrm", 0));
  EXPECT_EQ(store->GetRun("r1")->status, RunStatus::kPending);
  EXPECT_EQ(store->GetRun("r1")->attempts, 0);

  store->MarkRunning("r1", 1234, "node7");
  auto run = *store->GetRun("r1");
  EXPECT_EQ(run.status, RunStatus::kRunning);
  EXPECT_EQ(run.attempts, 1);
  EXPECT_EQ(run.runner_pid, 1234);
  EXPECT_EQ(run.runner_host, "node7");
  EXPECT_FALSE(run.started_at.empty());
  EXPECT_TRUE(run.finished_at.empty());

  store->SetRunStatus("r1", RunStatus::kPending, "worker killed by signal 9");
  store->MarkRunning("r1", 1234, "node7");
  store->SetRunStatus("r1", RunStatus::kFailed);
  run = *store->GetRun("r1");
  EXPECT_EQ(run.attempts, 2);
  EXPECT_EQ(run.status, RunStatus::kFailed);
  EXPECT_EQ(run.error, "worker killed by signal 9");  // kept: no new message
  EXPECT_FALSE(run.finished_at.empty());

  try {
    store->MarkRunning("nope", 1, "h");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("no run nope"), std::string::npos) << e.what();
  }
  EXPECT_THROW(store->SetRunStatus("nope", RunStatus::kDone), StoreError);
}

TEST(RunStoreTest, RunsLeftRunningAreThoseNotMarkedByThisRunner) {
  TempDir dir;
  const std::string path = dir / "hrm.db";
  {
    auto first = RunStore::Open(path);
    const int64_t s = first->UpsertSweep({"s", "g.yaml", "x", "", {}});
    first->AddRunsToSweep(s, {Entry("a", "hrm", 0), Entry("b", "hrm", 1), Entry("c", "hrm", 2)});
    first->MarkRunning("a", 100, "host1");
    first->MarkRunning("b", 100, "host1");
    first->SetRunStatus("b", RunStatus::kDone);
    EXPECT_TRUE(first->RunsLeftRunning().empty());
  }  // the first runner dies with "a" running
  auto second = RunStore::Open(path);
  second->MarkRunning("c", 100, "host1");  // same pid and host: a restarted container
  auto left = second->RunsLeftRunning();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].id, "a");
  EXPECT_EQ(left[0].runner_pid, 100);
  EXPECT_EQ(left[0].runner_host, "host1");
}

// Writes a run's events.jsonl with evals at the given (step, val_ce) and
// the given last event, and ingests it.
void RecordRun(RunStore& store, const TempDir& dir, const std::string& id,
               const std::vector<std::pair<int, double>>& evals, const std::string& last) {
  const std::string log = dir / (id + ".jsonl");
  WriteFile(log, "{\"event\":\"started\",\"step\":0,\"config_hash\":\"" + id + "\"}\n");
  for (auto [step, ce] : evals)
    AppendFile(log, "{\"event\":\"eval\",\"step\":" + std::to_string(step) +
                        ",\"val_ce\":" + std::to_string(ce) + "}\n");
  if (!last.empty()) AppendFile(log, last + "\n");
  IngestEvents(store, id, log);
}

TEST(RunStoreTest, StatusSummaryCountsRunsAndShowsTheLastEvaluation) {
  TempDir dir;
  auto store = RunStore::Open(dir / "hrm.db");
  const int64_t s = store->UpsertSweep({"s", "g.yaml", "x", "", {}});
  const int64_t t = store->UpsertSweep({"t", "g.yaml", "x", "", {}});
  const int64_t empty = store->UpsertSweep({"empty", "g.yaml", "x", "", {}});
  std::vector<RunStore::SweepEntry> entries;
  for (int i = 0; i < 6; ++i) entries.push_back(Entry("r" + std::to_string(i), "hrm", 5 - i));
  store->AddRunsToSweep(s, entries);
  store->AddRunToSweep(t, Entry("r0", "hrm", 0));
  // r0 done (evals logged out of step order), r1 diverged, r2 failed,
  // r3 running, r4 interrupted, r5 pending.
  RecordRun(*store, dir, "r0", {{0, 5.0}, {200, 3.0}, {100, 4.0}},
            R"({"event":"finished","step":200})");
  RecordRun(*store, dir, "r1", {{0, 5.0}}, R"({"event":"diverged","step":30,"reason":"NaN"})");
  RecordRun(*store, dir, "r2", {}, R"({"event":"error","message":"out of memory"})");
  store->MarkRunning("r3", 1, "h");
  RecordRun(*store, dir, "r3", {{0, 5.5}, {50, 4.5}}, "");
  RecordRun(*store, dir, "r4", {{0, 5.25}}, R"({"event":"interrupted","step":20})");

  auto sweeps = store->SweepSummaries();
  ASSERT_EQ(sweeps.size(), 3u);
  EXPECT_EQ(sweeps[0].name, "s");
  EXPECT_EQ(sweeps[0].total, 6);
  for (RunStatus st : {RunStatus::kPending, RunStatus::kRunning, RunStatus::kInterrupted,
                       RunStatus::kDone, RunStatus::kFailed, RunStatus::kDiverged})
    EXPECT_EQ(sweeps[0].Count(st), 1) << ToString(st);
  EXPECT_EQ(sweeps[1].total, 1);
  EXPECT_EQ(sweeps[1].Count(RunStatus::kDone), 1);
  EXPECT_EQ(sweeps[2].id, empty);
  EXPECT_EQ(sweeps[2].total, 0);

  auto runs = store->RunSummaries(s);
  ASSERT_EQ(runs.size(), 6u);
  // Grid order: r5 has position 0.
  std::vector<std::string> got;
  for (const auto& r : runs)
    got.push_back(r.run_id + " " + ToString(r.status) +
                  " step=" + (r.step ? std::to_string(*r.step) : "-") +
                  " last=" + (r.last_eval_step ? std::to_string(*r.last_eval_step) : "-") + ":" +
                  (r.last_val_ce ? std::to_string(*r.last_val_ce) : "-") +
                  " attempts=" + std::to_string(r.attempts) + " error=" + r.error);
  EXPECT_EQ(got,
            (std::vector<std::string>{"r5 pending step=- last=-:- attempts=0 error=",
                                      "r4 interrupted step=20 last=0:5.250000 attempts=0 error=",
                                      "r3 running step=50 last=50:4.500000 attempts=1 error=",
                                      "r2 failed step=0 last=-:- attempts=0 error=out of memory",
                                      "r1 diverged step=30 last=0:5.000000 attempts=0 error=NaN",
                                      "r0 done step=200 last=200:3.000000 attempts=0 error="}));
  EXPECT_EQ(runs[5].label, "hrm #5");
  EXPECT_EQ(runs[5].model, "hrm");
  // The views agree with the summary.
  EXPECT_EQ(Rows(store->db(), "SELECT run_id, step, val_ce FROM last_evals ORDER BY run_id"),
            (std::vector<std::string>{"r0|200|3.0", "r1|0|5.0", "r3|50|4.5", "r4|0|5.25"}));
  EXPECT_EQ(Rows(store->db(), "SELECT run_id, status FROM final_evals WHERE status = 'done'"),
            std::vector<std::string>{"r0|done"});

  auto history = store->EvalHistory("r0");
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].step, 100);
  EXPECT_EQ(history[1].val_ce, 4.0);
  EXPECT_FALSE(history[1].train_ce);
  EXPECT_TRUE(store->RunSummaries(empty).empty());
}

}  // namespace
}  // namespace hrm
