// Test helpers for files: a temporary directory removed at the end of the
// test, a text file's lines, and whole files read and written.
#ifndef TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_
#define TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
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

// A file's bytes ("" if it cannot be read).
inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Replaces a file's contents with `text`.
inline void WriteAll(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_UTIL_TEMP_FILES_H_
