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

// The lines a reader passes on: text, offset, line number.
struct Lines {
  std::vector<std::string> text;
  std::vector<int64_t> offset, line;
  EventLogReader::LineFn Fn() {
    return [this](std::string_view t, int64_t o, int64_t l) {
      text.emplace_back(t);
      offset.push_back(o);
      line.push_back(l);
    };
  }
};

std::string FreshLog(const std::string& name, const std::string& content) {
  const std::string path = testing::TempDir() + "/events_" + name + ".jsonl";
  std::filesystem::remove(path);
  std::ofstream(path) << content;
  return path;
}

TEST(EventLogReader, AMissingOrEmptyLogHasNoLines) {
  const std::string missing = testing::TempDir() + "/events_missing.jsonl";
  std::filesystem::remove(missing);
  EventLogReader absent(missing);
  EXPECT_FALSE(absent.exists());
  EXPECT_TRUE(absent.AtEnd());
  Lines got;
  absent.ReadLines(got.Fn());
  EXPECT_TRUE(got.text.empty());
  EXPECT_TRUE(ReadEventLog(missing).empty());

  const std::string empty = FreshLog("empty", "");
  EventLogReader reader(empty);
  EXPECT_TRUE(reader.exists());
  EXPECT_TRUE(reader.AtEnd());
  reader.ReadLines(got.Fn());
  EXPECT_TRUE(got.text.empty());
  EXPECT_EQ(reader.cursor().offset, 0);
  EXPECT_TRUE(ReadEventLog(empty).empty());
}

TEST(EventLogReader, LeavesAPartialLastLineForALaterRead) {
  const std::string a = R"({"event":"started","step":0})", b = R"({"event":"eval","step":4})";
  const std::string path = FreshLog("partial", a + "\n" + b + "\n" + R"({"event":"ev)");
  Lines got;
  EventLogCursor cursor;
  {
    EventLogReader reader(path);
    reader.ReadLines(got.Fn());
    cursor = reader.cursor();
  }
  ASSERT_EQ(got.text, (std::vector<std::string>{a, b}));
  EXPECT_EQ(got.offset, (std::vector<int64_t>{0, int64_t(a.size() + 1)}));
  EXPECT_EQ(got.line, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(cursor.offset, int64_t(a.size() + b.size() + 2));
  EXPECT_EQ(cursor.line, 2);

  // The writer completes the line: a read from the cursor passes on just that line.
  std::ofstream(path, std::ios::app) << R"(al","step":8})"
                                     << "\n";
  EventLogReader again(path);
  ASSERT_TRUE(again.Seek(cursor));
  EXPECT_FALSE(again.AtEnd());
  Lines more;
  again.ReadLines(more.Fn());
  EXPECT_EQ(more.text, (std::vector<std::string>{R"({"event":"eval","step":8})"}));
  EXPECT_EQ(more.offset, (std::vector<int64_t>{cursor.offset}));
  EXPECT_EQ(more.line, (std::vector<int64_t>{3}));
  EXPECT_TRUE(again.AtEnd());
  EXPECT_EQ(ReadEventLog(path).size(), 3u);
}

TEST(EventLogReader, ACursorTheLogNoLongerMatchesRestartsFromTheStart) {
  const std::string path = FreshLog("cut", "{\"event\":\"a\"}\n{\"event\":\"b\"}\n");
  EventLogReader reader(path);
  EXPECT_FALSE(reader.Seek({1000, 9}));  // past the end: cut short
  EXPECT_EQ(reader.cursor().offset, 0);
  EXPECT_EQ(reader.cursor().line, 0);
  EXPECT_FALSE(reader.Seek({5, 1}));  // inside a line: replaced
  EXPECT_EQ(reader.cursor().offset, 0);
  EXPECT_TRUE(reader.Seek({14, 1}));  // just past line 1
  Lines got;
  reader.ReadLines(got.Fn());
  EXPECT_EQ(got.text, (std::vector<std::string>{"{\"event\":\"b\"}"}));
  EXPECT_EQ(got.line, (std::vector<int64_t>{2}));
}

TEST(EventLogReader, ALineLongerThanAReadBlockComesWhole) {
  const std::string big(3 << 20, 'x');  // 3 MiB: spans four 1 MiB blocks
  const std::string path = FreshLog("big", json{{"event", "eval"}, {"blob", big}}.dump() + "\n" +
                                               R"({"event":"finished"})" + "\n");
  const std::vector<json> events = ReadEventLog(path);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["blob"], big);
  EXPECT_EQ(events[1]["event"], "finished");
}

TEST(EventLogReader, ReadEventLogSkipsTornForeignAndBlankLinesAsIngestDoes) {
  const std::string path =
      FreshLog("mixed", std::string(R"({"event":"started","step":0})") + "\n" + "not json\n" +
                            R"({"step":3})" + "\n\n" + R"(["event"])" + "\n" +
                            R"({"event":"eval","st{"event":"started","step":4})" + "\n" +
                            R"({"event":"finished","step":8})");  // the last: torn, no newline
  const std::vector<json> events = ReadEventLog(path);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["event"], "started");
  EXPECT_EQ(events[1], json::parse(R"({"event":"started","step":4})"));  // the glued record

  EXPECT_EQ(ParseEventLine("not json").skipped, "not a JSON object (a line torn by a crash?)");
  EXPECT_EQ(ParseEventLine(R"({"step":3})").skipped, "no \"event\" field");
  EXPECT_EQ(ParseEventLine(R"({"event":3})").skipped, "no \"event\" field");
  const EventLine blank = ParseEventLine("  \r");
  EXPECT_TRUE(blank.event.is_null());
  EXPECT_TRUE(blank.skipped.empty());
  const EventLine glued = ParseEventLine(R"({"event":"eval","st{"event":"started","step":4})");
  EXPECT_EQ(glued.glued_at, 19u);
  EXPECT_EQ(glued.event["step"], 4);
}

TEST(UtcNow, IsIso8601InUtc) {
  const std::string now = UtcNow();
  ASSERT_EQ(now.size(), 20u) << now;
  EXPECT_EQ(now[4], '-');
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now.back(), 'Z');
}

}  // namespace
}  // namespace hrm
