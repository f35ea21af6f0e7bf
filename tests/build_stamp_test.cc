// cmake/build_stamp.cmake, the step every build runs: it writes the commit and
// dirty flag of the source tree, and rewrites nothing while they are unchanged
// (so an unchanged stamp relinks nothing). Run on a real scratch git repository.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "base/atomic_file.h"
#include "base/subprocess.h"

namespace hrm {
namespace {

namespace fs = std::filesystem;

// Runs a command line (parsed by sh); returns its stdout and stderr.
std::string Shell(const std::string& cmd) {
  SpawnOptions o;
  o.argv = {"sh", "-c", cmd + " 2>&1"};
  o.capture = true;
  const Subprocess::Output r = Subprocess(o).Communicate();
  EXPECT_EQ(r.status.code, 0) << cmd << "\n" << r.out;
  return r.out;
}

class BuildStamp : public testing::Test {
 protected:
  void SetUp() override {
    repo_ = fs::path(testing::TempDir()) / "hrm_stamp_repo";
    fs::remove_all(repo_);
    fs::create_directories(repo_);
    out_ = (repo_.parent_path() / "hrm_stamp_out.cc").string();
    fs::remove(out_);
  }
  void TearDown() override { fs::remove_all(repo_); }
  std::string Git(const std::string& args) {
    return Shell("git -C " + repo_.string() + " -c user.name=t -c user.email=t@t " + args);
  }
  std::string Stamp() {
    Shell("cmake -DSRC=" + repo_.string() + " -DOUT=" + out_ +
          " -DVERSION=1.2.3 -P " HRM_SOURCE_DIR "/cmake/build_stamp.cmake");
    return ReadFile(out_);
  }
  int64_t MtimeNs() {
    struct stat st;
    EXPECT_EQ(::stat(out_.c_str(), &st), 0);
    return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  }
  fs::path repo_;
  std::string out_;
};

TEST_F(BuildStamp, WritesCommitAndDirtyFlagAndRewritesOnlyOnChange) {
  // Not a git checkout: the commit is unknown, the flag -1.
  std::string s = Stamp();
  EXPECT_NE(s.find("BuildCommit() { return \"unknown\"; }"), std::string::npos) << s;
  EXPECT_NE(s.find("BuildDirty() { return -1; }"), std::string::npos) << s;
  EXPECT_NE(s.find("ProjectVersion() { return \"1.2.3\"; }"), std::string::npos) << s;

  Git("init -q");
  WriteFileAtomic((repo_ / "a.txt").string(), "one\n");
  Git("add a.txt");
  Git("commit -qm one");
  const std::string head = Git("rev-parse HEAD").substr(0, 40);
  s = Stamp();
  EXPECT_NE(s.find("BuildCommit() { return \"" + head + "\"; }"), std::string::npos) << s;
  EXPECT_NE(s.find("BuildDirty() { return 0; }"), std::string::npos) << s;

  // Unchanged: the file is not rewritten (its mtime stays).
  const int64_t before = MtimeNs();
  Stamp();
  EXPECT_EQ(MtimeNs(), before);

  // An untracked file does not make the tree dirty; an edited tracked one does.
  WriteFileAtomic((repo_ / "untracked.txt").string(), "x\n");
  EXPECT_NE(Stamp().find("BuildDirty() { return 0; }"), std::string::npos);
  WriteFileAtomic((repo_ / "a.txt").string(), "two\n");
  EXPECT_NE(Stamp().find("BuildDirty() { return 1; }"), std::string::npos);
  Git("commit -qam two");
  s = Stamp();
  EXPECT_EQ(s.find(head), std::string::npos) << s;
  EXPECT_NE(s.find("BuildCommit() { return \"" + Git("rev-parse HEAD").substr(0, 40)),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("BuildDirty() { return 0; }"), std::string::npos) << s;
}

}  // namespace
}  // namespace hrm
