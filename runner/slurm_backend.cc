// Start() only buffers: the scheduler starts every queued run in one pass,
// and the Reap() that follows turns that pass into one sbatch per world size.
// All that a later runner needs to reattach is on disk (task maps with job
// ids); all that a finished task reports is in its run directory.
#include "runner/slurm_backend.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/atomic_file.h"
#include "base/config.h"
#include "base/exit_code.h"
#include "base/run_dir.h"
#include "base/subprocess.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// SLURM's default MaxArraySize is 1001 (indices 0..1000).
constexpr size_t kMaxArrayTasks = 1000;

// What a run's tasks ask SLURM for, from the run.json the sweep wrote before
// Start(): ranks (world_size) and whether each gets a GPU (device cuda or
// cuda:N, or a sweep with --gpus).
struct TaskShape {
  int ranks = 1;
  bool gpus = false;
  bool operator<(const TaskShape& o) const {
    return ranks != o.ranks ? ranks < o.ranks : gpus < o.gpus;
  }
};

TaskShape ShapeOf(const WorkerSpec& spec, bool sweep_gpus) {
  TaskShape shape{std::max(1, spec.ranks), sweep_gpus};
  try {
    json c = json::parse(ReadFile(GivenConfigFileName(spec.run_dir)));
    shape.ranks = std::max<int>(1, c.value("world_size", 1));
    shape.gpus = sweep_gpus || c.value("device", std::string()).rfind("cuda", 0) == 0;
  } catch (const std::exception&) {
  }
  return shape;
}

// The worker's torch threads (`--set threads=N` in its argv), so that SLURM
// allocates as many CPUs as it will use.
int ThreadsOf(const std::vector<std::string>& argv) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] != "--set" || argv[i + 1].rfind("threads=", 0) != 0) continue;
    try {
      return std::max(1, std::stoi(argv[i + 1].substr(8)));
    } catch (const std::exception&) {
    }
  }
  return 1;
}

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.empty() ? "(no message)" : line;
}

// The K of every sbatch-K.json in the sweep directory, ascending.
std::vector<int> SubmissionNumbers(const std::string& sweep_dir) {
  std::vector<int> out;
  for (const auto& entry : fs::directory_iterator(sweep_dir)) {
    const std::string name = entry.path().filename().string();
    int k = -1;
    char tail[8] = {0};
    if (std::sscanf(name.c_str(), "sbatch-%d.%7s", &k, tail) == 2 && k >= 0 &&
        (std::string(tail) == "json" || std::string(tail) == "sh"))
      out.push_back(k);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

json TaskMap(const SlurmArray& a, const std::string& job_id) {
  json tasks = json::array();
  for (size_t i = 0; i < a.tasks.size(); ++i)
    tasks.push_back({{"index", i},
                     {"run_id", a.tasks[i].run_id},
                     {"run_dir", a.tasks[i].run_dir},
                     {"argv", a.tasks[i].argv}});
  return {{"script", a.script_path()},
          {"job_id", job_id.empty() ? json(nullptr) : json(job_id)},
          {"ranks", a.ranks},
          {"tasks", tasks}};
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

SlurmBackend::SlurmBackend(SlurmBackendOptions options) : options_(std::move(options)) {
  CommandResult r = RunCommand({"sbatch", "--version"});
  if (r.exit_code != 0)
    throw std::runtime_error("--backend slurm: cannot run sbatch (" + FirstLine(r.err) +
                             "): is this a SLURM submit host?");
  fs::create_directories(options_.sweep_dir);
  options_.sweep_dir = fs::absolute(options_.sweep_dir).string();
  workdir_ = fs::current_path().string();
  auto numbers = SubmissionNumbers(options_.sweep_dir);
  next_number_ = numbers.empty() ? 0 : numbers.back() + 1;
}

void SlurmBackend::Start(const WorkerSpec& spec) { buffered_.push_back(spec); }

void SlurmBackend::LoadSubmitted() {
  submitted_.emplace();
  std::set<std::string> job_ids;
  for (int k : SubmissionNumbers(options_.sweep_dir)) {
    const std::string path = options_.sweep_dir + "/sbatch-" + std::to_string(k) + ".json";
    json map;
    try {
      map = json::parse(ReadFile(path));
    } catch (const std::exception&) {
      continue;  // a map whose sbatch never ran, or a torn one: no job to find
    }
    if (!map.value("job_id", json()).is_string()) continue;
    const std::string job_id = map["job_id"];
    job_ids.insert(job_id);
    for (const auto& t : map.value("tasks", json::array()))
      (*submitted_)[t.value("run_id", "")] =
          Task{t.value("run_id", ""), t.value("run_dir", ""),  job_id,
               t.value("index", 0),   map.value("script", ""), ""};
  }
  // Without squeue's answer a live task would be submitted a second time.
  for (int attempt = 0; !Poll(job_ids, &submitted_live_); ++attempt) {
    if (attempt == 4)
      throw std::runtime_error("squeue failed: cannot tell which SLURM tasks of " +
                               options_.sweep_dir + " are still queued or running");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

bool SlurmBackend::Reattach(const WorkerSpec& spec) {
  if (!submitted_) LoadSubmitted();
  auto found = submitted_->find(spec.run_id);
  if (found == submitted_->end()) return false;
  Task t = found->second;
  auto live = submitted_live_.find(t.id());
  // A job id reused after a cluster reset runs some other script.
  if (live == submitted_live_.end() || live->second.command != t.script) return false;
  t.state = live->second.state;
  t.run_dir = spec.run_dir;
  std::cerr << fmt::format("reattached run {} to SLURM task {} ({})\n", spec.run_id, t.id(),
                           t.state);
  tasks_[spec.run_id] = t;
  return true;
}

bool SlurmBackend::Poll(const std::set<std::string>& job_ids,
                        std::map<std::string, QueueEntry>* live) {
  live->clear();
  if (job_ids.empty()) return true;
  std::vector<std::string> ids(job_ids.begin(), job_ids.end());
  CommandResult r = RunCommand(
      {"squeue", "--noheader", "--array", "--jobs=" + Join(ids, ","), "--format=%F|%K|%T|%o"});
  // squeue refuses a list whose every job has left the controller.
  if (r.exit_code != 0 && r.err.find("Invalid job id") != std::string::npos) return true;
  if (r.exit_code != 0) {
    if (!squeue_failing_) std::cerr << "squeue failed (" << FirstLine(r.err) << "); retrying\n";
    squeue_failing_ = true;
    return false;
  }
  squeue_failing_ = false;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string s; f.size() < 3 && std::getline(fields, s, '|');) f.push_back(s);
    std::string command;
    std::getline(fields, command);
    if (f.size() < 3) continue;
    (*live)[f[0] + "_" + f[1]] = QueueEntry{f[2], command};
  }
  return true;
}

std::vector<WorkerExit> SlurmBackend::Submit() {
  std::vector<WorkerExit> failed;
  // One array per world size and GPU use (--ntasks and --gpus-per-task are
  // per job), at most kMaxArrayTasks each.
  std::map<TaskShape, std::vector<WorkerSpec>> by_shape;
  for (auto& spec : buffered_) by_shape[ShapeOf(spec, options_.gpus)].push_back(std::move(spec));
  buffered_.clear();
  for (auto& [shape, specs] : by_shape) {
    for (size_t begin = 0; begin < specs.size(); begin += kMaxArrayTasks) {
      SlurmArray a;
      a.sweep_dir = options_.sweep_dir;
      a.number = next_number_++;
      a.job_name = "hrm-" + fs::path(options_.sweep_dir).filename().string();
      a.workdir = workdir_;
      a.ranks = shape.ranks;
      a.gpus = shape.gpus;
      a.max_parallel = options_.max_parallel;
      a.signal_seconds = options_.signal_seconds;
      a.partition = options_.partition;
      a.time_limit = options_.time_limit;
      a.sbatch_args = options_.sbatch_args;
      const size_t end = std::min(specs.size(), begin + kMaxArrayTasks);
      for (size_t i = begin; i < end; ++i) {
        a.tasks.push_back({specs[i].run_id, specs[i].run_dir, specs[i].argv});
        a.cpus_per_task = std::max(a.cpus_per_task, ThreadsOf(specs[i].argv));
        // A record left by an earlier attempt must not pass for this one's.
        fs::remove(SlurmExitFileName(specs[i].run_dir));
      }
      WriteFileAtomic(a.script_path(), SlurmBatchScript(a));
      WriteFileAtomic(a.map_path(), TaskMap(a, "").dump(2) + "\n");
      CommandResult r = RunCommand({"sbatch", "--parsable", a.script_path()});
      const std::string job_id = r.out.substr(0, r.out.find_first_of(";\n"));
      if (r.exit_code != 0 || job_id.empty() ||
          job_id.find_first_not_of("0123456789") != std::string::npos) {
        const std::string why =
            "sbatch " + a.script_path() + " failed: " + FirstLine(r.err.empty() ? r.out : r.err);
        std::cerr << why << "\n";
        for (const auto& t : a.tasks) failed.push_back({t.run_id, kExitUsage, why});
        continue;
      }
      WriteFileAtomic(a.map_path(), TaskMap(a, job_id).dump(2) + "\n");
      std::cerr << fmt::format("submitted {} as SLURM job {} ({} task{})\n", a.script_path(),
                               job_id, a.tasks.size(), a.tasks.size() == 1 ? "" : "s");
      for (size_t i = 0; i < a.tasks.size(); ++i)
        tasks_[a.tasks[i].run_id] =
            Task{a.tasks[i].run_id, a.tasks[i].run_dir, job_id, int(i), a.script_path(), ""};
    }
  }
  return failed;
}

std::vector<WorkerExit> SlurmBackend::Reap() {
  std::vector<WorkerExit> out = std::move(ended_);
  ended_.clear();
  if (!buffered_.empty()) {
    for (auto& e : Submit()) out.push_back(std::move(e));
    last_poll_ = {};  // see the new tasks at once
  }
  const auto now = std::chrono::steady_clock::now();
  if (tasks_.empty() || now - last_poll_ < options_.poll_interval) return out;
  last_poll_ = now;
  std::set<std::string> job_ids;
  for (const auto& [run, t] : tasks_) job_ids.insert(t.job_id);
  std::map<std::string, QueueEntry> live;
  if (!Poll(job_ids, &live)) return out;
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    Task& t = it->second;
    if (auto q = live.find(t.id()); q != live.end()) {
      t.state = q->second.state;
      ++it;
      continue;
    }
    WorkerExit x{t.run_id, kExitInterrupted,
                 "SLURM task " + t.id() +
                     " left the queue without an exit record: cancelled, timed out or lost "
                     "with its node"};
    std::string record;
    try {
      record = ReadFile(SlurmExitFileName(t.run_dir));
    } catch (const std::exception&) {
    }
    std::istringstream in(record);
    std::string task_id;
    int code = 0;
    if (in >> task_id >> code && task_id == t.id()) {
      x.exit_code = code;
      x.detail = "SLURM task " + t.id();
    }
    out.push_back(std::move(x));
    it = tasks_.erase(it);
  }
  return out;
}

void SlurmBackend::MarkStopped() {
  for (const auto& [run, t] : tasks_) {
    if (!stopped_jobs_.insert(t.job_id).second) continue;
    WriteFileAtomic(SlurmStopPath(options_.sweep_dir, t.job_id),
                    "stopped by hrm sweep (pid " + std::to_string(::getpid()) + ")\n");
  }
}

void SlurmBackend::StopAll() {
  for (const auto& spec : buffered_)
    ended_.push_back({spec.run_id, kExitInterrupted, "not submitted: the sweep was stopped"});
  buffered_.clear();
  if (tasks_.empty()) return;
  MarkStopped();
  std::vector<std::string> ids;
  for (const auto& [run, t] : tasks_) ids.push_back(t.id());
  // Queued tasks go now; running ones checkpoint first (SIGUSR1 to every
  // process of the task; with the stop marker, no self-requeue).
  std::vector<std::string> cancel = {"scancel", "--state=PENDING"};
  cancel.insert(cancel.end(), ids.begin(), ids.end());
  RunCommand(cancel);
  std::vector<std::string> signal = {"scancel", "--state=RUNNING", "--full", "--signal=USR1"};
  signal.insert(signal.end(), ids.begin(), ids.end());
  RunCommand(signal);
  last_poll_ = {};
}

void SlurmBackend::KillAll() {
  for (const auto& spec : buffered_)
    ended_.push_back({spec.run_id, kExitInterrupted, "not submitted: the sweep was killed"});
  buffered_.clear();
  if (tasks_.empty()) return;
  MarkStopped();
  std::vector<std::string> cancel = {"scancel"};
  for (const auto& [run, t] : tasks_) cancel.push_back(t.id());
  RunCommand(cancel);
  last_poll_ = {};
}

}  // namespace hrm
