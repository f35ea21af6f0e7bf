// The live view of a sweep: runs done of total, each running run's step and
// last val CE, and an ETA. Redraws in place on a terminal; on a pipe or log
// file prints a line when something changes, at most every few seconds.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "store/records.h"

namespace hrm {

class Progress {
 public:
  Progress(std::string sweep, int total);
  void Update(const std::vector<RunSummary>& runs);
  void Finish(const std::vector<RunSummary>& runs);

 private:
  std::string Render(const std::vector<RunSummary>& runs, bool final) const;
  std::string sweep_;
  int total_;
  bool tty_;
  int drawn_lines_ = 0;
  std::string last_;
  std::chrono::steady_clock::time_point start_, last_print_;
  int done_at_start_ = -1;
};

}  // namespace hrm
