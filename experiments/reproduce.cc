#include "experiments/reproduce.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "base/atomic_file.h"
#include "base/event_log.h"
#include "base/exit_code.h"
#include "base/run_dir.h"
#include "base/subprocess.h"
#include "base/token_data.h"
#include "experiments/provenance.h"
#include "experiments/run_model.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// val_ce by step; a step evaluated again after a resume keeps its last row.
std::map<int64_t, double> ValCe(const std::vector<json>& events) {
  std::map<int64_t, double> out;
  for (const auto& e : events)
    if (e["event"] == "eval" && e.contains("val_ce") && e["val_ce"].is_number())
      out[e["step"].get<int64_t>()] = e["val_ce"].get<double>();
  return out;
}

std::string SelfExe() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "hrm" : p.string();
}

// Runs argv to its end in our process group, so that a terminal's Ctrl-C reaches it too (we
// ignore it meanwhile); returns its exit code (128 + signal if killed). With
// `stdout_to_stderr` its output goes to our stderr, keeping our stdout for JSON.
int RunChild(const std::vector<std::string>& argv, bool stdout_to_stderr) {
  SpawnOptions o;
  o.argv = argv;
  o.new_process_group = false;
  struct sigaction ignore = {}, old_int;
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGINT, &ignore, &old_int);
  int code = kExitError;
  std::fflush(stdout);
  const int saved_stdout = stdout_to_stderr ? ::dup(1) : -1;
  if (saved_stdout >= 0) ::dup2(2, 1);  // the child inherits our fd 1
  try {
    code = Subprocess(o).Wait().code;
  } catch (const std::exception& e) {
    std::cerr << "hrm reproduce: " << e.what() << "\n";
  }
  if (saved_stdout >= 0) {
    ::dup2(saved_stdout, 1);
    ::close(saved_stdout);
  }
  sigaction(SIGINT, &old_int, nullptr);
  return code;
}

// Flat YAML that ReadConfigYaml reads back: JSON scalars are YAML scalars.
std::string ToYaml(const json& given) {
  std::string out;
  for (const auto& [k, v] : given.items()) out += k + ": " + v.dump() + "\n";
  return out;
}

std::string Show(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

int ReproduceMain(const ReproduceArgs& args) {
  json run, given, recorded;
  std::vector<json> events;  // of the recorded run
  try {
    run = ReadRunConfig(args.run_dir);
    // The config as the sweep gave it (run.json) reproduces the same run id;
    // without one, the resolved config does too.
    const std::string run_json = GivenConfigFileName(args.run_dir);
    given = fs::exists(run_json) ? json::parse(ReadFile(run_json)) : run["config"];
    events = ReadEventLog(EventLogFileName(args.run_dir));
    for (const auto& e : events)
      if (e["event"] == "started" && e.contains("provenance")) {
        recorded = e["provenance"];
        break;
      }
  } catch (const std::exception& e) {
    std::cerr << "hrm reproduce: " << e.what() << "\n";
    return kExitUsage;
  }
  if (recorded.is_null()) {
    std::cerr << "hrm reproduce: " << EventLogFileName(args.run_dir)
              << ": no started event: the run never trained\n";
    return kExitUsage;
  }
  json meta = json::object();
  try {
    meta = ReadDataMeta(run.value("data_dir", ""));
  } catch (const std::exception&) {  // data not on this machine: warned below
  }
  const json now = CollectProvenance(recorded.value("device", "cpu"), meta);

  const std::string out_dir = args.out_dir.empty() ? args.run_dir + "-reproduce" : args.out_dir;
  const std::string yaml = (fs::path(out_dir) / "reproduce.yaml").string();
  const std::string commit = recorded.value("git_commit", "");
  json report = {{"run_id", run["run_id"]},
                 {"recorded", recorded},
                 {"checkout", "git checkout " + commit + " && make build"},
                 {"command", {SelfExe(), "train", "--run-dir", out_dir, "--config", yaml}},
                 {"config_file", yaml},
                 {"config", given},
                 {"warnings", json::array()}};
  if (!args.json)
    std::cout << "# run " << Show(run["run_id"]) << ", recorded by commit " << commit
              << (recorded.value("git_dirty", false) ? " (with uncommitted changes)" : "")
              << ", libtorch " << Show(recorded.value("libtorch", json("?"))) << ", device "
              << Show(recorded.value("device", json("?"))) << ", host "
              << Show(recorded.value("host", json("?"))) << "\n"
              << "git checkout " << commit << " && make build\n"
              << SelfExe() << " train --run-dir " << out_dir << " --config " << yaml << "\n"
              << "# " << yaml << ":\n"
              << ToYaml(given);

  auto say = [&](const std::string& warning) {
    std::cerr << "warning: " << warning << "\n";
    report["warnings"].push_back(warning);
  };
  auto warn = [&](const std::string& what, const json& was, const json& is) {
    if (was != is)
      say(what + " differs: the run recorded " + Show(was) + ", this build has " + Show(is));
  };
  // `now` is this binary's own commit, stamped when it was built.
  warn("git commit", recorded.value("git_commit", json()), now["git_commit"]);
  if (now["git_dirty"] == true) say("this hrm was built from a tree with uncommitted changes");
  warn("libtorch", recorded.value("libtorch", json()), now["libtorch"]);
  if (meta.empty())
    say("the run's data (" + run.value("data_dir", std::string("?")) + ") is not on this machine");
  else
    warn("data checksums", recorded.value("data_sha256", json()), now["data_sha256"]);
  if (!args.run) {
    if (args.json) std::cout << report.dump(2) << "\n";
    return kExitOk;
  }

  try {
    fs::create_directories(out_dir);
    WriteFileAtomic(yaml, ToYaml(given));
  } catch (const std::exception& e) {
    std::cerr << "hrm reproduce: " << e.what() << "\n";
    return kExitError;
  }
  // The printed command itself, as a child: a multi-rank run's launcher
  // starts its ranks by re-running its own command line. Ctrl-C reaches the
  // child too; it checkpoints and exits 130, which is passed on.
  if (int rc = RunChild({SelfExe(), "train", "--run-dir", out_dir, "--config", yaml}, args.json);
      rc != kExitOk)
    return rc;

  const auto was = ValCe(events);
  const auto is = ValCe(ReadEventLog(EventLogFileName(out_dir)));
  int same = 0, compared = 0;
  double worst = 0;
  report["evals"] = json::array();
  if (!args.json) std::printf("%8s %14s %14s %s\n", "step", "recorded", "reproduced", "");
  for (const auto& [step, ce] : was) {
    auto it = is.find(step);
    if (it == is.end()) continue;
    ++compared;
    same += it->second == ce;
    worst = std::max(worst, std::abs(it->second - ce));
    report["evals"].push_back({{"step", step},
                               {"recorded", ce},
                               {"reproduced", it->second},
                               {"identical", it->second == ce}});
    if (!args.json)
      std::printf("%8lld %14.8f %14.8f %s\n", (long long)step, ce, it->second,
                  it->second == ce ? "identical" : "differs");
  }
  report["reproduced"] = compared > 0 && same == compared;
  if (args.json) {
    std::cout << report.dump(2) << "\n";
    return report["reproduced"] == true ? kExitOk : kExitError;
  }
  if (compared > 0 && same == compared) {
    std::printf("reproduced: %d of %d evaluations bit-identical\n", same, compared);
    return kExitOk;
  }
  std::printf("not reproduced: %d of %d evaluations identical, max |delta val_ce| %.3g\n", same,
              compared, worst);
  return kExitError;
}

}  // namespace hrm
