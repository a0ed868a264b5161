// Test helpers for files: a temporary directory removed at the end of the
// test, and a text file's lines.
#ifndef TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_
#define TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace traceledger::testing {

// A fresh directory /tmp/<prefix>-XXXXXX, removed with its contents.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tl-test") {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The lines of a text file (none if it cannot be read).
inline std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_
