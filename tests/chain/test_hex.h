// Hex literals in tests: bytes from hex, failing the test on bad input.
#ifndef TRACELEDGER_TESTS_CHAIN_TEST_HEX_H_
#define TRACELEDGER_TESTS_CHAIN_TEST_HEX_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "util/encoding.h"

namespace traceledger::chain::testing {

inline std::vector<uint8_t> Hex(std::string_view hex) {
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or(std::vector<uint8_t>());
}

}  // namespace traceledger::chain::testing

#endif  // TRACELEDGER_TESTS_CHAIN_TEST_HEX_H_
