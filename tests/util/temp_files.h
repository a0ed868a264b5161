// Test helpers for files: a temporary directory removed at the end of the
// test, and a text file's lines.
#ifndef TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_
#define TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/temp_dir.h"  // TempDir

namespace traceledger::testing {

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
