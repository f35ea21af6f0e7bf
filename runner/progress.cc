#include "runner/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

#include "base/text_width.h"

namespace hrm {
namespace {

std::string Eta(double seconds) {
  if (seconds < 0) return "?";
  return fmt::format("{}h{:02}m{:02}s", int(seconds / 3600), int(seconds / 60) % 60,
                     int(seconds) % 60);
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
  std::string running;
  for (const auto& r : runs) {
    if (r.status == RunStatus::kDone || r.status == RunStatus::kDiverged ||
        r.status == RunStatus::kFailed)
      ++ended;
    failed += r.status == RunStatus::kFailed;
    diverged += r.status == RunStatus::kDiverged;
    if (r.status == RunStatus::kRunning && !final) {
      // The label is cut in code points, never inside a character.
      running += fmt::format("  {:<12} {} step {:<7} val {}\n", r.run_id, FitColumn(r.label, 28),
                             r.step ? fmt::format("{}", *r.step) : "-",
                             r.last_val_ce ? fmt::format("{:.4f}", *r.last_val_ce) : "-");
    }
  }
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int finished_here = done_at_start_ >= 0 ? ended - done_at_start_ : 0;
  const double eta = finished_here > 0 ? elapsed / finished_here * double(total_ - ended) : -1.0;
  std::string out = fmt::format("{}: {}/{} ended", sweep_, ended, total_);
  if (failed) out += fmt::format(", {} failed", failed);
  if (diverged) out += fmt::format(", {} diverged", diverged);
  return out + (final ? "" : " | ETA " + Eta(eta)) + "\n" + running;
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
