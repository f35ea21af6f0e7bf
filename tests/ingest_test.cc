// IngestEvents on real logs and a real store: every event kind, idempotence,
// every truncation of a log's tail, a crash and resume in the same log.
#include "store/ingest.h"

#include <gtest/gtest.h>

#include "base/event_log.h"
#include "tests/store_test_util.h"

namespace hrm {
namespace {

using testing::AppendFile;
using testing::Rows;
using testing::TempDir;
using testing::WriteFile;

// A log with every event kind, as a worker writes it (one object a line).
const std::string kLog =
    R"({"event":"started","provenance":{"device":"cpu","git_commit":"abc123","git_dirty":false,"host":"node1","libtorch":"1.13.1"},"step":0,"time":"2026-01-01T00:00:00Z"})"
    "\n"
    R"({"event":"eval","gate_L_mean":0.5,"grad_norm":null,"lr":0.0,"step":0,"tokens":0,"train_ce":null,"val_ce":5.5,"wall_s":0.25,"zL_norm":12.0})"
    "\n"
    R"({"event":"eval","gate_L_mean":0.25,"grad_norm":1.5,"lr":0.001,"step":50,"tokens":51200,"train_ce":4.75,"val_ce":4.5,"wall_s":10.5,"zL_norm":11.0})"
    "\n"
    R"({"event":"checkpoint","path":"ckpt-50.pt","sha256":"aa11","step":50})"
    "\n"
    R"({"event":"measurement","metric":"latency_ms","seq":128,"value":1.25})"
    "\n"
    R"({"event":"measurement","metric":"latency_ms","seq":512,"value":4.5})"
    "\n"
    R"({"event":"eval","gate_L_mean":0.125,"grad_norm":0.75,"lr":0.0001,"step":100,"tokens":102400,"train_ce":4.0,"val_ce":3.875,"wall_s":21.0,"zL_norm":10.0})"
    "\n"
    R"({"event":"finished","step":100,"time":"2026-01-01T00:10:00Z"})"
    "\n";

// Everything the store holds about a run, without its id and without
// updated_at (the ingest time).
std::vector<std::string> Dump(RunStore& store, const std::string& id) {
  std::vector<std::string> out;
  const std::string where = " WHERE run_id = '" + id + "'";
  for (const std::string& sql :
       {"SELECT step, val_ce, train_ce, lr, grad_norm, tokens, wall_s, extra FROM evals" + where +
            " ORDER BY step",
        "SELECT step, path, sha256 FROM checkpoints" + where + " ORDER BY step",
        "SELECT metric, value, extra FROM measurements" + where + " ORDER BY metric, extra",
        "SELECT log_offset, event, step, time, body FROM run_events" + where +
            " ORDER BY log_offset",
        "SELECT offset, line FROM ingest_cursors" + where,
        "SELECT status, attempts, step, error, provenance, started_at, finished_at FROM runs "
        "WHERE id = '" +
            id + "'"})
    for (const std::string& row : Rows(store.db(), sql)) out.push_back(row);
  return out;
}

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = RunStore::Open(dir_ / "hrm.db");
    sweep_ = store_->UpsertSweep({"s", "g.yaml", "x", "", {}});
  }
  std::string AddRun(const std::string& id) {
    RunStore::SweepEntry e;
    e.run.id = id;
    e.run.config = {{"model", "hrm"}};
    store_->AddRunToSweep(sweep_, e);
    return dir_ / (id + ".jsonl");
  }
  TempDir dir_;
  std::unique_ptr<RunStore> store_;
  int64_t sweep_ = 0;
};

TEST_F(IngestTest, RecordsEveryEventKind) {
  const std::string log = AddRun("r1");
  WriteFile(log, kLog);
  IngestResult got = IngestEvents(*store_, "r1", log);
  EXPECT_EQ(got.lines, 8);
  EXPECT_EQ(got.evals, 3);
  EXPECT_EQ(got.checkpoints, 1);
  EXPECT_EQ(got.measurements, 2);
  EXPECT_EQ(got.run_events, 2);
  EXPECT_TRUE(got.warnings.empty());

  auto evals = store_->EvalHistory("r1");
  ASSERT_EQ(evals.size(), 3u);
  EXPECT_EQ(evals[0].val_ce, 5.5);
  EXPECT_FALSE(evals[0].train_ce);  // null in the log
  EXPECT_FALSE(evals[0].grad_norm);
  EXPECT_EQ(evals[1].step, 50);
  EXPECT_EQ(evals[1].train_ce, 4.75);
  EXPECT_EQ(evals[1].lr, 0.001);
  EXPECT_EQ(evals[1].grad_norm, 1.5);
  EXPECT_EQ(evals[1].tokens, 51200);
  EXPECT_EQ(evals[1].wall_s, 10.5);
  EXPECT_EQ(evals[1].extra, (json{{"gate_L_mean", 0.25}, {"zL_norm", 11.0}}));
  EXPECT_EQ(Rows(store_->db(), "SELECT step, path, sha256 FROM checkpoints"),
            std::vector<std::string>{"50|ckpt-50.pt|aa11"});
  EXPECT_EQ(
      Rows(store_->db(), "SELECT metric, value, extra FROM measurements ORDER BY value"),
      (std::vector<std::string>{"latency_ms|1.25|{\"seq\":128}", "latency_ms|4.5|{\"seq\":512}"}));
  auto run = *store_->GetRun("r1");
  EXPECT_EQ(run.status, RunStatus::kDone);
  EXPECT_EQ(run.step, 100);
  EXPECT_EQ(run.provenance["git_commit"], "abc123");
  EXPECT_EQ(run.provenance["libtorch"], "1.13.1");
  EXPECT_EQ(run.started_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(run.finished_at, "2026-01-01T00:10:00Z");
  EXPECT_EQ(Rows(store_->db(), "SELECT event, step FROM run_events ORDER BY log_offset"),
            (std::vector<std::string>{"started|0", "finished|100"}));
  EXPECT_EQ(Rows(store_->db(), "SELECT offset, line FROM ingest_cursors"),
            std::vector<std::string>{std::to_string(kLog.size()) + "|8"});
}

TEST_F(IngestTest, ASecondIngestAndAFullReplayAddNothing) {
  const std::string log = AddRun("r1");
  WriteFile(log, kLog);
  IngestEvents(*store_, "r1", log);
  const auto once = Dump(*store_, "r1");
  IngestResult again = IngestEvents(*store_, "r1", log);
  EXPECT_EQ(again.lines, 0);
  EXPECT_EQ(Dump(*store_, "r1"), once);
  // Without its cursor the whole log is read again, and still adds nothing.
  store_->db().exec("DELETE FROM ingest_cursors");
  IngestResult replay = IngestEvents(*store_, "r1", log);
  EXPECT_EQ(replay.lines, 8);
  EXPECT_EQ(replay.evals + replay.checkpoints + replay.measurements + replay.run_events, 0);
  EXPECT_EQ(Dump(*store_, "r1"), once);
  EXPECT_EQ(store_->db().execAndGet("PRAGMA integrity_check").getString(), "ok");
}

// As ninja's build log tests do: cut the log after every byte, ingest, then
// let the writer finish and ingest again. The store must end as a clean
// ingest leaves it, and hold after the first ingest exactly what a clean
// ingest of the complete lines gives.
TEST_F(IngestTest, EveryTruncationOfTheTailIsSkippedThenReadWhenComplete) {
  const std::string clean_log = AddRun("clean");
  WriteFile(clean_log, kLog);
  IngestEvents(*store_, "clean", clean_log);
  const auto clean = Dump(*store_, "clean");

  for (size_t cut = 0; cut <= kLog.size(); ++cut) {
    const std::string id = "cut" + std::to_string(cut);
    const std::string log = AddRun(id);
    WriteFile(log, kLog.substr(0, cut));
    IngestResult first = IngestEvents(*store_, id, log);
    EXPECT_TRUE(first.warnings.empty()) << "cut at " << cut << ": " << first.warnings[0];

    const std::string lines_id = "lines" + std::to_string(cut);
    const std::string lines_log = AddRun(lines_id);
    WriteFile(lines_log, cut == 0 ? "" : kLog.substr(0, kLog.rfind('\n', cut - 1) + 1));
    IngestEvents(*store_, lines_id, lines_log);
    EXPECT_EQ(Dump(*store_, id), Dump(*store_, lines_id)) << "cut at " << cut;

    AppendFile(log, kLog.substr(cut));
    IngestResult second = IngestEvents(*store_, id, log);
    EXPECT_TRUE(second.warnings.empty()) << "cut at " << cut;
    ASSERT_EQ(Dump(*store_, id), clean) << "cut at " << cut;
  }
  EXPECT_EQ(store_->db().execAndGet("PRAGMA integrity_check").getString(), "ok");
}

std::string Line(const std::string& event, json fields) {
  fields["event"] = event;
  return fields.dump() + "\n";
}

json Started(int step, const std::string& host) {
  return {{"step", step},
          {"time", "2026-01-01T0" + std::to_string(step / 50) + ":00:00Z"},
          {"provenance", {{"host", host}}}};
}

json Eval(int step, double wall_s) {
  return {{"step", step}, {"val_ce", 5.0 - step / 100.0}, {"wall_s", wall_s}, {"gate_L_mean", 0.5}};
}

// A worker crashes mid-line; a new one resumes from the step-50 checkpoint
// and appends to the same log, starting a fresh line (as EventLog does) or
// not. Either way the torn record is the only loss, with a warning, and the
// replayed evals add nothing: the first row of each step wins.
TEST_F(IngestTest, AResumedRunKeepsTheFirstEvalOfEachStep) {
  for (const std::string separator : {"\n", ""}) {
    const std::string id = separator.empty() ? "glued" : "fresh_line";
    const std::string log = AddRun(id);
    WriteFile(log,
              Line("started", Started(0, "node1")) + Line("eval", Eval(0, 0.5)) +
                  Line("eval", Eval(50, 10.0)) +
                  Line("checkpoint", {{"step", 50}, {"path", "ckpt-50.pt"}, {"sha256", "aa"}}) +
                  Line("eval", Eval(100, 20.0)) + R"({"event":"eval","step":150,"val_)");
    IngestResult before = IngestEvents(*store_, id, log);
    EXPECT_EQ(before.evals, 3);
    EXPECT_TRUE(before.warnings.empty());

    AppendFile(log,
               separator + Line("started", Started(50, "node2")) + Line("eval", Eval(100, 99.0)) +
                   Line("checkpoint", {{"step", 100}, {"path", "ckpt-100.pt"}, {"sha256", "bb"}}) +
                   Line("eval", Eval(150, 110.0)) +
                   Line("finished", {{"step", 150}, {"time", "2026-01-01T05:00:00Z"}}));
    IngestResult after = IngestEvents(*store_, id, log);
    EXPECT_EQ(after.evals, 1) << id;  // only step 150
    ASSERT_EQ(after.warnings.size(), 1u) << id;
    EXPECT_EQ(after.warnings[0],
              log + ":6: " +
                  (separator.empty() ? "a line torn by a crash runs into the next record: kept "
                                       "the record from byte 33 of the line"
                                     : "not a JSON object (a line torn by a crash?): skipped"));

    std::vector<std::string> steps_and_wall;
    for (const auto& e : store_->EvalHistory(id))
      steps_and_wall.push_back(std::to_string(e.step) + "@" + std::to_string(int(*e.wall_s)));
    EXPECT_EQ(steps_and_wall, (std::vector<std::string>{"0@0", "50@10", "100@20", "150@110"}));
    auto run = *store_->GetRun(id);
    EXPECT_EQ(run.status, RunStatus::kDone);
    EXPECT_EQ(run.step, 150);
    EXPECT_EQ(run.provenance["host"], "node2");  // the latest start; both are in run_events
    EXPECT_EQ(Rows(store_->db(),
                   "SELECT json_extract(body, '$.provenance.host') FROM run_events "
                   "WHERE event = 'started' AND run_id = '" +
                       id + "' ORDER BY log_offset"),
              (std::vector<std::string>{"node1", "node2"}));
    EXPECT_EQ(Rows(store_->db(), "SELECT step, sha256 FROM checkpoints WHERE run_id = '" + id +
                                     "' ORDER BY step"),
              (std::vector<std::string>{"50|aa", "100|bb"}));

    // A clean ingest of the final file gives the same rows.
    const std::string copy = AddRun(id + "_copy");
    WriteFile(copy, testing::ReadFile(log));
    IngestEvents(*store_, id + "_copy", copy);
    EXPECT_EQ(Dump(*store_, id), Dump(*store_, id + "_copy"));
  }
}

// The same through the worker's own writer, reopened after a crash.
TEST_F(IngestTest, EventLogReopenedAfterACrashLosesOnlyTheTornRecord) {
  const std::string log = AddRun("r1");
  {
    EventLog w(log);
    w.Append("started", Started(0, "node1"));
    w.Append("eval", Eval(0, 0.5));
  }
  AppendFile(log, R"({"event":"eval","step":50,"val_)");
  IngestEvents(*store_, "r1", log);
  {
    EventLog w(log);
    w.Append("started", Started(0, "node2"));
    w.Append("eval", Eval(0, 0.7));
    w.Append("eval", Eval(50, 9.0));
    w.Append("finished", {{"step", 50}});
  }
  IngestResult got = IngestEvents(*store_, "r1", log);
  EXPECT_EQ(got.evals, 1);
  EXPECT_EQ(got.run_events, 2);
  EXPECT_EQ(got.warnings.size(), 1u);
  EXPECT_EQ(store_->EvalHistory("r1").size(), 2u);
  EXPECT_EQ(store_->GetRun("r1")->status, RunStatus::kDone);
  EXPECT_EQ(store_->GetRun("r1")->provenance["host"], "node2");
}

TEST_F(IngestTest, LifecycleEventsSetTheRunStatus) {
  struct Case {
    std::string last;
    RunStatus status;
    std::string error;
  };
  const std::vector<Case> cases = {
      {R"({"event":"diverged","step":7,"reason":"non-finite loss","train_ce":null})",
       RunStatus::kDiverged, "non-finite loss"},
      {R"({"event":"error","message":"CUDA out of memory"})", RunStatus::kFailed,
       "CUDA out of memory"},
      {R"({"event":"interrupted","step":7})", RunStatus::kInterrupted, ""},
      {R"({"event":"error","message":"boom"})"
       "\n"
       R"({"event":"started","step":5})",
       RunStatus::kRunning, "boom"},
  };
  int n = 0;
  for (const Case& c : cases) {
    const std::string id = "r" + std::to_string(n++);
    const std::string log = AddRun(id);
    WriteFile(log, R"({"event":"started","step":0})"
                   "\n" +
                       c.last + "\n");
    IngestEvents(*store_, id, log);
    auto run = *store_->GetRun(id);
    EXPECT_EQ(run.status, c.status) << c.last;
    EXPECT_EQ(run.error, c.error) << c.last;
    // A start clears the end time of an earlier attempt.
    EXPECT_EQ(run.finished_at.empty(),
              c.status == RunStatus::kInterrupted || c.status == RunStatus::kRunning)
        << c.last;
  }
}

TEST_F(IngestTest, BadLinesAreSkippedWithWarningsNamingFileAndLine) {
  const std::string log = AddRun("r1");
  WriteFile(log, R"({"event":"started","step":0,"config_hash":"someone-else"})"
                 "\n"
                 "not json at all\n"
                 "\n"
                 R"([1,2,3])"
                 "\n"
                 R"({"step":3})"
                 "\n"
                 R"({"event":"eval","val_ce":1.0})"
                 "\n"
                 R"({"event":"eval","step":10,"val_ce":"nan","tokens":1.5})"
                 "\n"
                 R"({"event":"teleported","step":11})"
                 "\n"
                 R"({"event":"checkpoint","step":12})"
                 "\n"
                 R"({"event":"measurement","value":3})"
                 "\n"
                 R"({"event":"eval","step":20,"val_ce":2.0})"
                 "\n");
  IngestResult got = IngestEvents(*store_, "r1", log);
  const std::string p = log + ":";
  EXPECT_EQ(got.warnings,
            (std::vector<std::string>{
                p + "1: config_hash someone-else is not run r1: a log of another run?",
                p + "2: not a JSON object (a line torn by a crash?): skipped",
                p + "4: not a JSON object (a line torn by a crash?): skipped",
                p + "5: no \"event\" field: skipped",
                p + "6: eval without a step: skipped",
                p + "7: field 'val_ce' is not a number: stored as NULL",
                p + "7: field 'tokens' is not an integer: stored as NULL",
                p + "8: unknown event 'teleported': kept in run_events only",
                p + "9: checkpoint without a step or path: skipped",
                p + "10: measurement without a metric: skipped",
            }));
  EXPECT_EQ(Rows(store_->db(), "SELECT step, val_ce, tokens FROM evals ORDER BY step"),
            (std::vector<std::string>{"10|∅|∅", "20|2.0|∅"}));
  EXPECT_EQ(Rows(store_->db(), "SELECT event FROM run_events ORDER BY log_offset"),
            (std::vector<std::string>{"started", "teleported"}));
  EXPECT_EQ(store_->GetRun("r1")->step, 20);
}

TEST_F(IngestTest, AReplacedLogIsReadAgainWithoutDuplicates) {
  const std::string log = AddRun("r1");
  WriteFile(log, kLog);
  IngestEvents(*store_, "r1", log);
  const auto before = Dump(*store_, "r1");
  // Shorter than the cursor: cut or replaced.
  WriteFile(log, R"({"event":"eval","step":100,"val_ce":9.0})"
                 "\n"
                 R"({"event":"eval","step":150,"val_ce":3.0})"
                 "\n");
  IngestResult got = IngestEvents(*store_, "r1", log);
  ASSERT_EQ(got.warnings.size(), 1u);
  EXPECT_NE(got.warnings[0].find(log + ": no longer matches what was ingested"), std::string::npos);
  EXPECT_EQ(got.evals, 1);  // step 150; step 100 keeps its first row
  auto evals = store_->EvalHistory("r1");
  ASSERT_EQ(evals.size(), 4u);
  EXPECT_EQ(evals[2].val_ce, 3.875);
  EXPECT_EQ(evals[3].step, 150);
}

TEST_F(IngestTest, CheckpointsRewrittenAtAStepKeepTheNewestFile) {
  const std::string log = AddRun("r1");
  WriteFile(log, R"({"event":"checkpoint","step":50,"path":"a.pt","sha256":"11"})"
                 "\n"
                 R"({"event":"checkpoint","step":50,"path":"a.pt","sha256":"22"})"
                 "\n");
  EXPECT_EQ(IngestEvents(*store_, "r1", log).checkpoints, 2);
  store_->db().exec("DELETE FROM ingest_cursors");
  EXPECT_EQ(IngestEvents(*store_, "r1", log).checkpoints, 2);  // a replay passes through "11"
  EXPECT_EQ(Rows(store_->db(), "SELECT step, path, sha256 FROM checkpoints"),
            std::vector<std::string>{"50|a.pt|22"});
}

TEST_F(IngestTest, AMissingLogAddsNothingAndAnUnknownRunIsAnError) {
  const std::string log = AddRun("r1");
  IngestResult got = IngestEvents(*store_, "r1", log);
  EXPECT_EQ(got.lines, 0);
  EXPECT_EQ(store_->GetRun("r1")->status, RunStatus::kPending);
  WriteFile(log, kLog);
  try {
    IngestEvents(*store_, "ghost", log);
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("no run ghost"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(store_->path()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hrm
