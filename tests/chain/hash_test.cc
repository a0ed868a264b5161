#include "chain/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace traceledger::chain {
namespace {

// Known answers from FIPS 180-2 Appendix B / the NIST CSRC SHA-256 examples.
constexpr char kEmptyDigest[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcDigest[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kMsg448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr char kMsg448Digest[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char kMsg896[] =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopq"
    "rsmnopqrstnopqrstu";
constexpr char kMsg896Digest[] = "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
constexpr char kMillionADigest[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, KnownAnswers) {
  EXPECT_EQ(HashHex(Sha256(std::string_view(""))), kEmptyDigest);
  EXPECT_EQ(HashHex(Sha256(std::string_view("abc"))), kAbcDigest);
  EXPECT_EQ(HashHex(Sha256(std::string_view(kMsg448))), kMsg448Digest);
  EXPECT_EQ(HashHex(Sha256(std::string_view(kMsg896))), kMsg896Digest);
  EXPECT_EQ(HashHex(Sha256(std::string(1000000, 'a'))), kMillionADigest);
}

TEST(Sha256Test, SpanAndStringViewAgree) {
  const std::vector<uint8_t> bytes = {'a', 'b', 'c'};
  EXPECT_EQ(Sha256(bytes), Sha256(std::string_view("abc")));
  EXPECT_EQ(HashHex(Sha256(std::span<const uint8_t>())), kEmptyDigest);
}

TEST(Sha256Test, EmbeddedNulBytesAreHashed) {
  const std::string with_nul("a\0b", 3);
  EXPECT_NE(Sha256(with_nul), Sha256(std::string_view("a")));
  EXPECT_NE(Sha256(with_nul), Sha256(std::string_view("ab")));
}

TEST(Sha256HasherTest, EmptyInput) {
  Sha256Hasher hasher;
  EXPECT_EQ(HashHex(hasher.Finish()), kEmptyDigest);
}

TEST(Sha256HasherTest, IncrementalEqualsOneShotForEverySplit) {
  const std::string_view msg(kMsg896);
  const Hash expected = Sha256(msg);
  for (size_t split = 0; split <= msg.size(); ++split) {
    Sha256Hasher hasher;
    hasher.Update(msg.substr(0, split)).Update(msg.substr(split));
    EXPECT_EQ(hasher.Finish(), expected) << "split at " << split;
  }
}

TEST(Sha256HasherTest, MillionAInChunks) {
  const std::string chunk(1000, 'a');
  Sha256Hasher hasher;
  for (int i = 0; i < 1000; ++i) {
    hasher.Update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(chunk.data()), chunk.size()));
  }
  EXPECT_EQ(HashHex(hasher.Finish()), kMillionADigest);
}

TEST(HashHexTest, RoundTrip) {
  const Hash h = Sha256(std::string_view("abc"));
  const std::string hex = HashHex(h);
  EXPECT_EQ(hex.size(), 64u);
  const std::optional<Hash> back = HashFromHex(hex);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, h);
}

TEST(HashHexTest, EncodesLowercase) {
  Hash h{};
  h[0] = 0xAB;
  h[31] = 0xCD;
  EXPECT_EQ(HashHex(h), "ab000000000000000000000000000000000000000000000000000000000000cd");
}

TEST(HashHexTest, AcceptsUppercaseDigits) {
  const std::optional<Hash> h =
      HashFromHex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(HashHex(*h), kAbcDigest);
}

TEST(HashHexTest, RejectsWrongLengthOrNonHex) {
  const std::string good = kAbcDigest;
  EXPECT_FALSE(HashFromHex("").has_value());
  EXPECT_FALSE(HashFromHex(good.substr(0, 62)).has_value());
  EXPECT_FALSE(HashFromHex(good.substr(0, 63)).has_value());
  EXPECT_FALSE(HashFromHex(good + "0").has_value());
  EXPECT_FALSE(HashFromHex(good + "00").has_value());
  std::string bad = good;
  bad[10] = 'g';
  EXPECT_FALSE(HashFromHex(bad).has_value());
  bad = good;
  bad[0] = ' ';
  EXPECT_FALSE(HashFromHex(bad).has_value());
}

}  // namespace
}  // namespace traceledger::chain
