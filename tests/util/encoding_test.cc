#include "util/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace traceledger {
namespace {

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Deterministic pseudo-random bytes (no randomness in tests).
std::vector<uint8_t> Pattern(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<uint8_t>(x);
  }
  return out;
}

// ---------------------------------------------------------------- Hex

TEST(HexTest, Encode) {
  EXPECT_EQ(HexEncode({}), "");
  EXPECT_EQ(HexEncode(Bytes("foobar")), "666f6f626172");
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  std::string hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(0x9f * 2, 6), "9fa0a1");
  EXPECT_EQ(hex.substr(496), "f8f9fafbfcfdfeff");
}

TEST(HexTest, Decode) {
  EXPECT_EQ(HexDecode(""), std::vector<uint8_t>{});
  EXPECT_EQ(HexDecode("666f6f626172"), Bytes("foobar"));
  EXPECT_EQ(HexDecode("DEADbeef"), (std::vector<uint8_t>{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_EQ(HexDecode("00ff"), (std::vector<uint8_t>{0x00, 0xff}));
}

TEST(HexTest, RoundTrip) {
  for (size_t n = 0; n < 100; ++n) {
    std::vector<uint8_t> data = Pattern(n, static_cast<uint32_t>(n));
    EXPECT_EQ(HexDecode(HexEncode(data)), data) << n;
  }
}

TEST(HexTest, RejectsOddLengthAndBadCharacters) {
  EXPECT_FALSE(HexDecode("0"));
  EXPECT_FALSE(HexDecode("abc"));
  EXPECT_FALSE(HexDecode("0g"));
  EXPECT_FALSE(HexDecode("g0"));
  EXPECT_FALSE(HexDecode("zz"));
  EXPECT_FALSE(HexDecode(" 00"));
  EXPECT_FALSE(HexDecode("00 "));
  EXPECT_FALSE(HexDecode("0x00"));
  EXPECT_FALSE(HexDecode("-1"));
  EXPECT_FALSE(HexDecode(std::string("0\0", 2)));
  EXPECT_FALSE(HexDecode("\xff\xff"));
  // Characters adjacent to the valid ranges.
  for (char c : std::string("/:@G`g")) {
    EXPECT_FALSE(HexDecode(std::string(1, c) + "0")) << c;
    EXPECT_FALSE(HexDecode("0" + std::string(1, c))) << c;
  }
}

// ---------------------------------------------------------------- Base64url

TEST(Base64UrlTest, Rfc4648Vectors) {
  // RFC 4648 §10, with padding stripped (§5 alphabet is identical for these).
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64UrlEncode(Bytes(plain)), encoded) << plain;
    EXPECT_EQ(Base64UrlDecode(encoded), Bytes(plain)) << encoded;
  }
}

TEST(Base64UrlTest, UsesUrlSafeAlphabet) {
  // Symbols 62 and 63 are '-' and '_' in base64url ('+' and '/' in base64).
  EXPECT_EQ(Base64UrlEncode(std::vector<uint8_t>{0xfb, 0xef, 0xbe}), "----");
  EXPECT_EQ(Base64UrlEncode(std::vector<uint8_t>{0xff, 0xff, 0xff}), "____");
  EXPECT_EQ(Base64UrlDecode("-_-_"), (std::vector<uint8_t>{0xfb, 0xff, 0xbf}));
  EXPECT_FALSE(Base64UrlDecode("+/+/"));
  EXPECT_FALSE(Base64UrlDecode("++++"));
  EXPECT_FALSE(Base64UrlDecode("////"));
}

TEST(Base64UrlTest, RoundTrip) {
  for (size_t n = 0; n < 200; ++n) {
    std::vector<uint8_t> data = Pattern(n, static_cast<uint32_t>(n) + 7);
    std::string encoded = Base64UrlEncode(data);
    EXPECT_EQ(encoded.size(), (n * 4 + 2) / 3) << n;
    EXPECT_EQ(encoded.find('='), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(encoded), data) << n;
  }
}

TEST(Base64UrlTest, RejectsPadding) {
  EXPECT_FALSE(Base64UrlDecode("Zg=="));
  EXPECT_FALSE(Base64UrlDecode("Zg="));
  EXPECT_FALSE(Base64UrlDecode("Zm8="));
  EXPECT_FALSE(Base64UrlDecode("Zm9vYg=="));
  EXPECT_FALSE(Base64UrlDecode("===="));
  EXPECT_FALSE(Base64UrlDecode("="));
}

TEST(Base64UrlTest, RejectsCharactersOutsideAlphabet) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v!"));
  EXPECT_FALSE(Base64UrlDecode("Zm 9v"));
  EXPECT_FALSE(Base64UrlDecode("Zm9v\n"));
  EXPECT_FALSE(Base64UrlDecode("Zm.v"));
  EXPECT_FALSE(Base64UrlDecode(std::string("Zm9\0", 4)));
  EXPECT_FALSE(Base64UrlDecode("Zm9\xc3\xa9"));
}

TEST(Base64UrlTest, RejectsLengthOneModFour) {
  EXPECT_FALSE(Base64UrlDecode("Z"));
  EXPECT_FALSE(Base64UrlDecode("Zm9vY"));
  EXPECT_FALSE(Base64UrlDecode("Zm9vYmFyA"));
}

TEST(Base64UrlTest, RejectsNonZeroTrailingBits) {
  // "Zg" is the canonical encoding of "f"; "Zh".."Zv" set unused low bits.
  EXPECT_TRUE(Base64UrlDecode("Zg"));
  EXPECT_FALSE(Base64UrlDecode("Zh"));
  EXPECT_FALSE(Base64UrlDecode("Zv"));
  EXPECT_FALSE(Base64UrlDecode("Z_"));
  // "Zm8" encodes "fo"; the last symbol carries 2 unused bits.
  EXPECT_TRUE(Base64UrlDecode("Zm8"));
  EXPECT_FALSE(Base64UrlDecode("Zm9"));
  EXPECT_FALSE(Base64UrlDecode("Zm-"));
  EXPECT_FALSE(Base64UrlDecode("Zm9vYh"));
}

// ---------------------------------------------------------------- Big-endian

TEST(BigEndianTest, SixtyFour) {
  uint8_t buf[8];
  PutBigEndian64(0x0102030405060708ull, buf);
  EXPECT_EQ(HexEncode(buf), "0102030405060708");
  EXPECT_EQ(GetBigEndian64(buf), 0x0102030405060708ull);
  PutBigEndian64(0, buf);
  EXPECT_EQ(HexEncode(buf), "0000000000000000");
  PutBigEndian64(UINT64_MAX, buf);
  EXPECT_EQ(HexEncode(buf), "ffffffffffffffff");
  EXPECT_EQ(GetBigEndian64(buf), UINT64_MAX);
  const uint8_t high[8] = {0x80, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(GetBigEndian64(high), 0x8000000000000001ull);
}

TEST(BigEndianTest, ThirtyTwo) {
  uint8_t buf[4];
  PutBigEndian32(0xdeadbeefu, buf);
  EXPECT_EQ(HexEncode(buf), "deadbeef");
  EXPECT_EQ(GetBigEndian32(buf), 0xdeadbeefu);
  PutBigEndian32(1, buf);
  EXPECT_EQ(HexEncode(buf), "00000001");
  const uint8_t high[4] = {0x80, 0, 0, 0x7f};
  EXPECT_EQ(GetBigEndian32(high), 0x8000007fu);
}

TEST(BigEndianTest, RoundTrip) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 32,
                     uint64_t{0x1234567890abcdef}, UINT64_MAX - 1}) {
    uint8_t buf[8];
    PutBigEndian64(v, buf);
    EXPECT_EQ(GetBigEndian64(buf), v);
    uint8_t buf32[4];
    PutBigEndian32(static_cast<uint32_t>(v), buf32);
    EXPECT_EQ(GetBigEndian32(buf32), static_cast<uint32_t>(v));
  }
}

TEST(BigEndianTest, WritesOnlyItsBytes) {
  uint8_t buf[10] = {0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0xbb};
  PutBigEndian64(UINT64_MAX, buf + 1);
  EXPECT_EQ(buf[0], 0xaa);
  EXPECT_EQ(buf[9], 0xbb);
}

// RFC 4648 §10 test vectors, standard alphabet with padding.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(plain.data()), plain.size());
    EXPECT_EQ(Base64Encode(bytes), encoded);
    auto back = Base64Decode(encoded);
    ASSERT_TRUE(back.has_value()) << encoded;
    EXPECT_EQ(std::string(back->begin(), back->end()), plain);
  }
  const uint8_t high[] = {0xfb, 0xff};
  EXPECT_EQ(Base64Encode(high), "+/8=");
}

TEST(Base64Test, DecodeIsStrict) {
  for (const char* bad : {"Zg", "Zg=", "Zg===", "Z===", "Zh==", "Zm9", "-_8=", "Zm=v", "Zm9v\n", "Zm 9"}) {
    EXPECT_FALSE(Base64Decode(bad).has_value()) << bad;
  }
}

TEST(ParseDecimalTest, AcceptsOnlyCanonicalU64) {
  EXPECT_EQ(ParseDecimal("0"), std::optional<uint64_t>(0));
  EXPECT_EQ(ParseDecimal("20852163"), std::optional<uint64_t>(20852163));
  EXPECT_EQ(ParseDecimal("18446744073709551615"), std::optional<uint64_t>(UINT64_MAX));
  for (const char* bad : {"", "00", "01", "-1", "+1", "1 ", " 1", "1e3", "18446744073709551616", "0x10"}) {
    EXPECT_FALSE(ParseDecimal(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace traceledger
