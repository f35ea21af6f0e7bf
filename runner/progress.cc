#include "runner/progress.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace hrm {
namespace {

std::string Eta(double seconds) {
  if (seconds < 0) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%dh%02dm%02ds", int(seconds / 3600), int(seconds / 60) % 60,
                int(seconds) % 60);
  return buf;
}

}  // namespace

Progress::Progress(std::string sweep, int total)
    : sweep_(std::move(sweep)),
      total_(total),
      tty_(::isatty(2)),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

std::string Progress::Render(const std::vector<RunSummary>& runs, bool final) const {
  int ended = 0, failed = 0, diverged = 0;
  std::ostringstream running;
  for (const auto& r : runs) {
    if (r.status == RunStatus::kDone || r.status == RunStatus::kDiverged ||
        r.status == RunStatus::kFailed)
      ++ended;
    failed += r.status == RunStatus::kFailed;
    diverged += r.status == RunStatus::kDiverged;
    if (r.status == RunStatus::kRunning && !final) {
      char line[256];
      std::snprintf(line, sizeof line, "  %-12s %-28.28s step %-7s val %s\n", r.run_id.c_str(),
                    r.label.c_str(), r.step ? std::to_string(*r.step).c_str() : "-",
                    r.last_val_ce ? std::to_string(*r.last_val_ce).substr(0, 6).c_str() : "-");
      running << line;
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int finished_here = done_at_start_ >= 0 ? ended - done_at_start_ : 0;
  const double eta =
      finished_here > 0 ? elapsed / finished_here * double(total_ - ended) : -1.0;
  std::ostringstream out;
  out << sweep_ << ": " << ended << "/" << total_ << " ended";
  if (failed) out << ", " << failed << " failed";
  if (diverged) out << ", " << diverged << " diverged";
  out << (final ? "" : " | ETA " + Eta(eta)) << "\n" << running.str();
  return out.str();
}

void Progress::Update(const std::vector<RunSummary>& runs) {
  if (done_at_start_ < 0) {
    done_at_start_ = 0;
    for (const auto& r : runs)
      done_at_start_ += r.status == RunStatus::kDone || r.status == RunStatus::kDiverged ||
                        r.status == RunStatus::kFailed;
  }
  const std::string text = Render(runs, false);
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (text == last_) return;
    for (int i = 0; i < drawn_lines_; ++i) std::fputs("\033[1A\033[2K", stderr);
    std::fputs(text.c_str(), stderr);
    drawn_lines_ = 0;
    for (char c : text) drawn_lines_ += c == '\n';
  } else {
    // Logs get the first line only, when it changes, at most every 10 s.
    const std::string head = text.substr(0, text.find('\n') + 1);
    if (head.substr(0, head.find('|')) == last_.substr(0, last_.find('|')) &&
        now - last_print_ < std::chrono::seconds(10))
      return;
    std::fputs(head.c_str(), stderr);
    last_print_ = now;
  }
  last_ = text;
}

void Progress::Finish(const std::vector<RunSummary>& runs) {
  if (tty_)
    for (int i = 0; i < drawn_lines_; ++i) std::fputs("\033[1A\033[2K", stderr);
  std::fputs(Render(runs, true).c_str(), stderr);
}

}  // namespace hrm
