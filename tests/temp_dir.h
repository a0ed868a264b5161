// Shared by the test suites: temporary directories and the seed of
// randomized tests.
#ifndef TRACELEDGER_TESTS_TEMP_DIR_H_
#define TRACELEDGER_TESTS_TEMP_DIR_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <system_error>

namespace traceledger::testing {

// A fresh directory under the system temp dir, removed at the end — or
// kept, and named on stdout, when TRACELEDGER_KEEP_TEMP is set and not "0".
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "traceledger-test") {
    std::string templ = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(templ.data()) == nullptr) ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    path_ = templ;
  }
  ~TempDir() {
    const char* keep = std::getenv("TRACELEDGER_KEEP_TEMP");
    if (keep != nullptr && *keep != '\0' && *keep != '0') {
      std::cout << "[ temp     ] kept " << path_ << "\n";
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }
  std::string operator/(const std::string& name) const { return Sub(name); }

 private:
  std::string path_;
};

// The seed of this test process's randomized choices (kill points):
// TRACELEDGER_CRASH_SEED, or fresh from the OS. Printed once, with how to
// replay it.
inline uint64_t TestSeed() {
  static const uint64_t seed = [] {
    uint64_t s = 0;
    if (const char* env = std::getenv("TRACELEDGER_CRASH_SEED"); env != nullptr && *env != '\0') {
      s = std::strtoull(env, nullptr, 10);
    } else {
      std::random_device rd;
      s = (uint64_t{rd()} << 32) ^ rd();
    }
    std::cout << "[ seed     ] " << s << " (replay with TRACELEDGER_CRASH_SEED=" << s << ")\n";
    return s;
  }();
  return seed;
}

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_TEMP_DIR_H_
