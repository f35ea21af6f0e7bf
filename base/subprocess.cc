// Everything the child needs (argv, envp, the executable's path, open file descriptors) is
// built before it exists; posix_spawn then starts it, or fork + execve when it must die with
// us. Reaping is by pid only, polled, so a child never depends on SIGCHLD handling.
#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace hrm {
namespace {

using Clock = std::chrono::steady_clock;

// Signals hrm handles or ignores somewhere: the child starts with their defaults.
constexpr int kDefaulted[] = {SIGINT, SIGTERM, SIGUSR1, SIGHUP, SIGPIPE, SIGCHLD};

std::runtime_error StartError(const std::string& what, const std::string& why) {
  return std::runtime_error("cannot start " + what + ": " + why);
}

// argv0 when it names a path, else the first executable file of that name on PATH.
std::string Executable(const std::string& argv0) {
  if (argv0.find('/') != std::string::npos) return argv0;
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (size_t start = 0; start <= dirs.size();) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const std::string candidate = dir + "/" + argv0;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  throw StartError(argv0, "not found on PATH");
}

// This process's environment with options.env set and options.unset_env removed.
std::vector<std::string> ChildEnvironment(const SpawnOptions& options) {
  std::set<std::string> drop(options.unset_env.begin(), options.unset_env.end());
  for (const auto& [name, value] : options.env) drop.insert(name);
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (drop.count(eq ? std::string(*e, size_t(eq - *e)) : std::string(*e)) == 0)
      env.emplace_back(*e);
  }
  for (const auto& [name, value] : options.env) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// File descriptors closed when this goes out of scope.
struct Fds {
  std::vector<int> fds;
  int Add(int fd) {
    if (fd >= 0) fds.push_back(fd);
    return fd;
  }
  ~Fds() {
    for (int fd : fds) ::close(fd);
  }
};

// In the child: makes `fd` the descriptor `target`, inherited by exec.
void MoveTo(int fd, int target) {
  if (fd == target)
    ::fcntl(fd, F_SETFD, 0);
  else
    ::dup2(fd, target);
}

// In the child: reports errno to the parent and exits.
[[noreturn]] void ChildFails(int report_fd) {
  const int err = errno;
  (void)!::write(report_fd, &err, sizeof err);
  ::_exit(127);
}

ExitStatus FromWaitStatus(int status) {
  ExitStatus s;
  if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
    s.code = 128 + s.signal;
  } else {
    s.code = WEXITSTATUS(status);
  }
  return s;
}

// Everything the child needs, built before it exists.
struct ChildSetup {
  const char* exe = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;  // nullptr: ours
  int fds[3] = {-1, -1, -1};  // become the child's 0, 1, 2; -1: ours
  bool group = true;
};

// posix_spawn: glibc starts the child with clone(CLONE_VM | CLONE_VFORK), so neither this
// process's memory map is copied nor its atfork handlers run, whatever its size.
pid_t SpawnChild(const ChildSetup& c, const std::string& name) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  for (int target = 0; target < 3; ++target)
    if (c.fds[target] >= 0) posix_spawn_file_actions_adddup2(&fa, c.fds[target], target);
  if (c.cwd != nullptr) posix_spawn_file_actions_addchdir_np(&fa, c.cwd);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  for (int sig : kDefaulted) sigaddset(&defaults, sig);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (c.group) {
    posix_spawnattr_setpgroup(&attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = -1;
  const int err = posix_spawn(&pid, c.exe, &fa, &attr, c.argv, c.envp);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (err != 0) throw StartError(name, std::strerror(err));
  return pid;
}

// fork + execve, for a child that must die with its parent: posix_spawn cannot set
// PR_SET_PDEATHSIG. The child makes only async-signal-safe calls; signals are blocked around
// fork so that none of our handlers runs in it; a failed exec sends its errno back through a
// close-on-exec pipe, whose end-of-file tells us that the exec happened.
pid_t ForkChild(const ChildSetup& c, const std::string& name) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0)
    throw StartError(name, std::string("pipe: ") + std::strerror(errno));
  struct sigaction defaults = {};
  defaults.sa_handler = SIG_DFL;
  sigemptyset(&defaults.sa_mask);
  sigset_t all, none, saved;
  sigfillset(&all);
  sigemptyset(&none);
  const pid_t parent = ::getpid();

  pthread_sigmask(SIG_SETMASK, &all, &saved);
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (int sig : kDefaulted) ::sigaction(sig, &defaults, nullptr);
    if (c.group) ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    for (int target = 0; target < 3; ++target)
      if (c.fds[target] >= 0) MoveTo(c.fds[target], target);
    if (c.cwd != nullptr && ::chdir(c.cwd) != 0) ChildFails(report[1]);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(c.exe, c.argv, c.envp);
    ChildFails(report[1]);
  }
  const int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    throw StartError(name, std::string("fork: ") + std::strerror(fork_errno));
  }
  int err = 0;
  ssize_t n;
  while ((n = ::read(report[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n > 0) {  // the exec failed and the child has exited: reap it
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    throw StartError(name, std::strerror(err));
  }
  return pid;
}

}  // namespace

std::string ExitStatus::Describe() const {
  if (signal == 0) return "exited with code " + std::to_string(code);
  return "was killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
}

Subprocess::Subprocess(const SpawnOptions& options) {
  if (options.argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  if (options.capture && !options.output_file.empty())
    throw std::invalid_argument("Subprocess: both capture and output_file");
  const std::string& name = options.argv[0];
  const std::string exe = options.executable.empty() ? Executable(name) : options.executable;
  std::vector<std::string> args = options.argv, env = ChildEnvironment(options);
  std::vector<char*> argv = CStrings(args), envp = CStrings(env);
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();

  Fds child_ends;  // ours to close once the child has them
  const int devnull = child_ends.Add(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull < 0) throw StartError(name, std::string("/dev/null: ") + std::strerror(errno));
  int output = -1;
  if (!options.output_file.empty()) {
    output = child_ends.Add(
        ::open(options.output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (output < 0)
      throw StartError(name,
                       options.output_file + ": cannot open for writing: " + std::strerror(errno));
  }
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  Fds ours;  // read ends, ours unless handed to this object
  auto make_pipe = [&](int p[2]) {
    if (::pipe2(p, O_CLOEXEC) != 0) throw StartError(name, std::string("pipe: ") + strerror(errno));
    ours.Add(p[0]);
    child_ends.Add(p[1]);
  };
  if (options.capture) {
    make_pipe(out_pipe);
    make_pipe(err_pipe);
  }
  if (cwd != nullptr && ::access(cwd, X_OK) != 0)
    throw StartError(name, "cannot enter " + options.cwd + ": " + std::strerror(errno));

  ChildSetup setup;
  setup.exe = exe.c_str();
  setup.argv = argv.data();
  setup.envp = envp.data();
  setup.cwd = cwd;
  setup.fds[0] = devnull;
  setup.fds[1] = output >= 0 ? output : out_pipe[1];
  setup.fds[2] = output >= 0 ? output : err_pipe[1];
  setup.group = options.new_process_group;
  pid_ = options.die_with_parent ? ForkChild(setup, name) : SpawnChild(setup, name);
  group_ = options.new_process_group;
  if (options.capture) {  // hand the read ends over to this object
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    ours.fds.clear();
  }
}

Subprocess::~Subprocess() { Reset(); }

void Subprocess::Reset() {
  if (pid_ > 0 && !status_) {
    Signal(SIGKILL);
    Wait();
  }
  CloseFds();
  pid_ = -1;
  status_.reset();
}

Subprocess::Subprocess(Subprocess&& other) noexcept { *this = std::move(other); }

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    Reset();
    pid_ = std::exchange(other.pid_, -1);
    group_ = other.group_;
    status_ = std::exchange(other.status_, std::nullopt);
    out_fd_ = std::exchange(other.out_fd_, -1);
    err_fd_ = std::exchange(other.err_fd_, -1);
  }
  return *this;
}

void Subprocess::CloseFds() {
  for (int* fd : {&out_fd_, &err_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

std::optional<ExitStatus> Subprocess::Poll() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (got == 0) return std::nullopt;
  // got < 0 (ECHILD): reaped elsewhere, which only SIGCHLD set to SIG_IGN does.
  status_ = got > 0 ? FromWaitStatus(status) : ExitStatus{-1, 0};
  return status_;
}

ExitStatus Subprocess::Wait() {
  if (status_ || pid_ <= 0) return status_.value_or(ExitStatus{-1, 0});
  int status = 0;
  pid_t got;
  while ((got = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  status_ = got > 0 ? FromWaitStatus(status) : ExitStatus{-1, 0};
  return *status_;
}

void Subprocess::Signal(int sig) {
  if (pid_ <= 0) return;
  if (group_)
    ::kill(-pid_, sig);
  else if (!status_)  // once reaped, the pid may belong to another process
    ::kill(pid_, sig);
}

ExitStatus Subprocess::Stop(Duration grace, int sig) {
  if (pid_ <= 0) return status_.value_or(ExitStatus{-1, 0});
  if (!Poll()) {
    Signal(sig);
    Signal(SIGCONT);
    const auto kill_at = Clock::now() + grace;
    while (!Poll() && Clock::now() < kill_at)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!Poll()) {
      Signal(SIGKILL);
      Wait();
    }
  }
  if (group_) Signal(SIGKILL);  // what the leader left behind
  return *status_;
}

Subprocess::Output Subprocess::Communicate(Duration timeout, Duration grace) {
  Output r;
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    int wait_ms = -1;
    if (timeout != Duration::zero()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        r.timed_out = true;
        break;
      }
      wait_ms = int(std::min<int64_t>(left, 1 << 30));
    }
    const int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, size_t(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;  // closed below
      }
    }
  }
  CloseFds();
  if (r.timed_out) {
    r.status = Stop(grace);
    return r;
  }
  // Both pipes closed; a child that closed them early can still run past the deadline.
  while (timeout != Duration::zero() && !Poll()) {
    if (Clock::now() >= deadline) {
      r.timed_out = true;
      r.status = Stop(grace);
      return r;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.status = Wait();
  return r;
}

CommandResult RunCommand(const std::vector<std::string>& argv, Subprocess::Duration timeout) {
  SpawnOptions options;
  options.argv = argv;
  options.capture = true;
  CommandResult r;
  try {
    Subprocess child(options);
    Subprocess::Output o = child.Communicate(timeout);
    r.exit_code = o.status.code;
    r.out = std::move(o.out);
    r.err = std::move(o.err);
    r.timed_out = o.timed_out;
  } catch (const std::runtime_error& e) {
    r.exit_code = 127;
    r.err = e.what();
  }
  return r;
}

}  // namespace hrm
