// Helpers shared by the store tests: a temporary directory that cleans up
// after itself, byte-exact file writes, and table dumps for comparing stores.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace hrm::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hrm_store_test_XXXXXX").string();
    if (!::mkdtemp(&tmpl[0])) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline void WriteFile(const std::string& path, const std::string& bytes,
                      std::ios::openmode mode = std::ios::trunc) {
  std::ofstream f(path, std::ios::binary | mode);
  f << bytes;
  if (!f) throw std::runtime_error("cannot write " + path);
}

inline void AppendFile(const std::string& path, const std::string& bytes) {
  WriteFile(path, bytes, std::ios::app);
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// Every row of a query, each as "col|col|...", NULL as "∅".
inline std::vector<std::string> Rows(SQLite::Database& db, const std::string& sql) {
  SQLite::Statement q(db, sql);
  std::vector<std::string> rows;
  while (q.executeStep()) {
    std::string row;
    for (int i = 0; i < q.getColumnCount(); ++i) {
      if (i) row += "|";
      row += q.getColumn(i).isNull() ? std::string("∅") : q.getColumn(i).getString();
    }
    rows.push_back(row);
  }
  return rows;
}

}  // namespace hrm::testing
