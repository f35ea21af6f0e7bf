// Child processes: the one way hrm starts, signals, stops and reaps them (workers, SLURM client
// commands, data-parallel ranks, `hrm reproduce`'s training run, and the tests' children).
//
// Every child gets stdin from /dev/null, default dispositions for the signals hrm handles
// (SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGPIPE, SIGCHLD) and an empty signal mask; by default it
// leads its own process group, so a terminal's Ctrl-C reaches only hrm, which decides, and a
// signal from hrm reaches the child and everything it started. A child is reaped only by its
// own pid (never waitpid(-1)), so children started elsewhere in the process are left alone.
//
// Why not Boost.Process (the design card's package), checked against Boost 1.81 as installed:
// - v2 (boost/process/v2): in the forked child, default_launcher calls
//   ctx.notify_fork(fork_child) (posix/default_launcher.hpp:399), which takes asio's
//   registered_descriptors_mutex_ (asio/detail/impl/epoll_reactor.ipp:130): a lock between fork
//   and exec in a process that runs libtorch threads. When execve fails it calls ::exit
//   (default_launcher.hpp:411), which runs this process's atexit handlers and static
//   destructors in the child; a probe (a thread allocating in a loop, an atexit handler that
//   prints its pid, then a launch of /nonexistent) printed the handler's line from the child's
//   pid. Its std::filesystem mode does not compile without extra includes (detail/config.hpp:107
//   names boost::optional, environment.hpp:1364 boost's remove_pointer, neither included), and
//   Boost.Filesystem 1.81's library is not installed. exit_code() of a child killed by SIGTERM
//   reads 15, the same as one that exited 15.
// - v1 (boost/process): cannot stop gracefully (terminate is SIGKILL: detail/posix/
//   terminate.hpp:24, group terminate: group_handle.hpp:72); `std_out > path` opens without
//   O_APPEND or O_TRUNC (detail/posix/file_descriptor.hpp:76), so a resumed worker's log is
//   overwritten from byte 0 (probe: "second\nine of an earlier attempt"); wait_for takes
//   SIGCHLD with sigtimedwait and calls the old handler with a pid as the signal number
//   (detail/posix/wait_for_exit.hpp:112-117). Appending, the death signal, signal defaults,
//   timeouts and stopping a group would all be our own handlers, leaving Boost only a fork +
//   execve (detail/posix/executor.hpp:413-434), which copies our memory map (see below).
// So children start with posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK): no copy of our
// memory map, no atfork handlers), except one that must die with its parent: posix_spawn cannot
// set PR_SET_PDEATHSIG (data-parallel ranks must not outlive a killed launcher), so that one is
// fork + execve as ninja does it, everything built before fork and only async-signal-safe calls
// in the child. fork's cost grows with our resident memory: starting /bin/true from a process
// with 256 MiB resident took 89 ms by fork against 5 ms by posix_spawn (noisy shared machine),
// which is why fork is not the default; the rank launcher forks before any training.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hrm {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0]: a path, or a name looked up on PATH
  std::string executable;                  // run this file instead of argv[0]'s
  std::map<std::string, std::string> env;  // set in the child (this process's env otherwise)
  std::vector<std::string> unset_env;      // names removed from the child's environment
  std::string cwd;                         // the child's working directory; empty: ours
  std::string output_file;                 // stdout and stderr appended here (created 0644);
                                           // empty: ours, unless capture
  bool capture = false;                    // stdout and stderr to pipes (Communicate)
  bool new_process_group = true;           // leads its own process group
  bool die_with_parent = false;            // SIGKILLed when the thread that started it
                                           // ends (the main thread: when we die)
};

// How a child ended.
struct ExitStatus {
  int code = 0;    // its exit code, or 128 + the signal that killed it
  int signal = 0;  // that signal; 0 when it exited
  // "exited with code 3" or "was killed by signal 9 (Killed)".
  std::string Describe() const;
};

// One started child. Destroying it while the child runs kills the child's group (SIGKILL) and
// reaps it: no child outlives its handle unless Release()d.
class Subprocess {
 public:
  using Duration = std::chrono::milliseconds;

  // Starts the child. Throws std::runtime_error naming argv[0] (or the output file) when it
  // cannot be started; nothing is left running then.
  explicit Subprocess(const SpawnOptions& options);
  ~Subprocess();
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // The exit status once the child has ended (it is then reaped), nullopt while it runs.
  std::optional<ExitStatus> Poll();
  // Blocks until the child ends.
  ExitStatus Wait();
  // Sends sig to the child's process group when it leads one, else to the child. Harmless once
  // it has been reaped (the group's other members, if any, still get it).
  void Signal(int sig);
  // Sends sig (and SIGCONT, so that a stopped child acts on it), waits up to `grace`, then
  // SIGKILLs the group; returns how the child ended. When it leads a group, what is left of
  // the group is killed too, so nothing it started outlives Stop.
  ExitStatus Stop(Duration grace, int sig = 15 /* SIGTERM */);

  // With capture: reads stdout and stderr (through poll, so that a child filling one pipe
  // cannot block us on the other) until both close, then waits. After `timeout` (zero: none)
  // the child is stopped as Stop(grace) does and timed_out is set.
  struct Output {
    std::string out, err;
    ExitStatus status;
    bool timed_out = false;
  };
  Output Communicate(Duration timeout = Duration::zero(), Duration grace = Duration(2000));

  // Forgets the child: it is neither killed nor reaped by this handle.
  void Release() { pid_ = -1; }

 private:
  void Reset();  // kills and reaps a running child, closes the pipes
  void CloseFds();
  pid_t pid_ = -1;
  bool group_ = false;
  std::optional<ExitStatus> status_;
  int out_fd_ = -1, err_fd_ = -1;  // capture pipes' read ends
};

// Runs argv to its end with stdin from /dev/null and stdout and stderr captured, in its own
// process group (a terminal's Ctrl-C meant for hrm does not kill it mid-way). exit_code 127
// with the reason in err when it cannot be started; after `timeout` (zero: none) it is stopped
// and exit_code is 128 + the signal.
struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
  bool timed_out = false;
};
CommandResult RunCommand(const std::vector<std::string>& argv,
                         Subprocess::Duration timeout = Subprocess::Duration::zero());

}  // namespace hrm
