#include "base/event_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/atomic_file.h"

namespace hrm {
namespace {

TEST(EventLog, AppendsOneFlushedLinePerEventAndIsolatesATornTail) {
  const std::string path = testing::TempDir() + "/events_torn.jsonl";
  std::filesystem::remove(path);
  {
    EventLog log(path);
    log.Append("eval", {{"step", 4}, {"val_ce", 2.5}});
    // Visible to a reader before the log is closed: nothing is buffered.
    EXPECT_EQ(ReadFile(path), "{\"event\":\"eval\",\"step\":4,\"val_ce\":2.5}\n");
  }
  std::ofstream(path, std::ios::app) << "{\"event\":\"eval\",\"st";  // a crash mid-write
  EventLog(path).Append("started", {{"step", 4}});
  std::ifstream in(path);
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1], "{\"event\":\"eval\",\"st");
  EXPECT_EQ(json::parse(lines[2])["event"], "started");
}

}  // namespace
}  // namespace hrm
