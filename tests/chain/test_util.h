// Small helpers for the chain and anchoring tests: bytes from hex literals,
// and a fresh scratch directory per test.
#ifndef TRACELEDGER_TESTS_CHAIN_TEST_UTIL_H_
#define TRACELEDGER_TESTS_CHAIN_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/encoding.h"

namespace traceledger::testing {

inline std::vector<uint8_t> Hex(std::string_view hex) {
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or(std::vector<uint8_t>());
}

// An empty directory for the running test, unique per process and test:
// <gtest temp dir>/<prefix>-<pid>-<test name>.
inline std::filesystem::path FreshTestDir(std::string_view prefix) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                              (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_CHAIN_TEST_UTIL_H_
