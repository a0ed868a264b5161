#include "chain/keccak.h"

#include <gtest/gtest.h>

#include <string>

#include "chain/hash.h"

namespace traceledger::chain {
namespace {

// Published Keccak-256 digests (the original Keccak padding Ethereum uses).
TEST(Keccak256Test, KnownAnswers) {
  EXPECT_EQ(HashHex(Keccak256(std::string_view(""))),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  EXPECT_EQ(HashHex(Keccak256(std::string_view("abc"))),
            "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
  EXPECT_EQ(HashHex(Keccak256(std::string_view("The quick brown fox jumps over the lazy dog"))),
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

// FIPS 202 SHA3-256 pads differently; mixing the two up is the classic bug.
TEST(Keccak256Test, IsNotSha3) {
  EXPECT_NE(HashHex(Keccak256(std::string_view(""))),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");  // SHA3-256("")
}

TEST(Keccak256Test, SpanAndStringAgree) {
  std::string text(300, 'x');  // more than two 136-byte blocks
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_EQ(Keccak256(bytes), Keccak256(text));
  EXPECT_NE(Keccak256(bytes.first(299)), Keccak256(bytes));
}

}  // namespace
}  // namespace traceledger::chain
