#include "chain/rlp.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/chain/test_util.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

using testing::Hex;

std::string Enc(const RlpItem& item) { return HexEncode(RlpEncode(item)); }

RlpItem S(std::string_view s) { return RlpItem::String(s); }
RlpItem L(std::vector<RlpItem> items) { return RlpItem::List(std::move(items)); }

// Round trip: encode gives `hex`, decoding `hex` gives the item back.
void ExpectVector(const RlpItem& item, std::string_view hex) {
  EXPECT_EQ(Enc(item), hex);
  auto decoded = RlpDecode(Hex(hex));
  ASSERT_TRUE(decoded.ok()) << hex << ": " << decoded.error().message;
  EXPECT_EQ(*decoded, item) << hex;
}

// Vectors from ethereum/tests RLPTests/rlptest.json (the Ethereum wiki's
// examples among them).
TEST(RlpTest, EthereumTestVectors) {
  ExpectVector(S(""), "80");
  ExpectVector(RlpItem::Bytes(std::vector<uint8_t>{0x00}), "00");
  ExpectVector(RlpItem::Bytes(std::vector<uint8_t>{0x01}), "01");
  ExpectVector(RlpItem::Bytes(std::vector<uint8_t>{0x7f}), "7f");
  ExpectVector(S("dog"), "83646f67");
  ExpectVector(
      S("Lorem ipsum dolor sit amet, consectetur adipisicing eli"),
      "b74c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963"
      "696e6720656c69");
  ExpectVector(
      S("Lorem ipsum dolor sit amet, consectetur adipisicing elit"),
      "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e736563746574757220616469706973"
      "6963696e6720656c6974");
  ExpectVector(RlpItem::Uint(0), "80");
  ExpectVector(RlpItem::Uint(1), "01");
  ExpectVector(RlpItem::Uint(16), "10");
  ExpectVector(RlpItem::Uint(79), "4f");
  ExpectVector(RlpItem::Uint(127), "7f");
  ExpectVector(RlpItem::Uint(128), "8180");
  ExpectVector(RlpItem::Uint(1000), "8203e8");
  ExpectVector(RlpItem::Uint(100000), "830186a0");
  ExpectVector(RlpItem::Bytes(Hex("102030405060708090a0b0c0d0e0f2")), "8f102030405060708090a0b0c0d0e0f2");
  ExpectVector(L({}), "c0");
  ExpectVector(L({S("dog"), S("god"), S("cat")}), "cc83646f6783676f6483636174");
  ExpectVector(L({S("zw"), L({RlpItem::Uint(4)}), RlpItem::Uint(1)}), "c6827a77c10401");
  std::vector<RlpItem> eleven;
  for (int i = 0; i < 11; ++i) eleven.push_back(S(i % 3 == 0 ? "asdf" : i % 3 == 1 ? "qwer" : "zxcv"));
  ExpectVector(
      L(eleven),
      "f784617364668471776572847a78637684617364668471776572847a78637684617364668471776572847a78637684617"
      "364668471776572");
  RlpItem abc = L({S("asdf"), S("qwer"), S("zxcv")});
  ExpectVector(
      L({abc, abc, abc, abc}),
      "f840cf84617364668471776572847a786376cf84617364668471776572847a786376cf84617364668471776572847a7863"
      "76cf84617364668471776572847a786376");
  ExpectVector(L({L({L({}), L({})}), L({})}), "c4c2c0c0c0");
  ExpectVector(L({L({}), L({L({})}), L({L({}), L({L({})})})}), "c7c0c1c0c3c0c1c0");
  ExpectVector(L({L({S("key1"), S("val1")}), L({S("key2"), S("val2")}), L({S("key3"), S("val3")}),
                  L({S("key4"), S("val4")})}),
               "ecca846b6579318476616c31ca846b6579328476616c32ca846b6579338476616c33ca846b6579348476616c34");
}

TEST(RlpTest, LongStringOf1024Bytes) {
  std::string text(1024, 'a');
  std::vector<uint8_t> enc = RlpEncode(S(text));
  ASSERT_EQ(enc.size(), 1027u);
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(enc).first(3)), "b90400");
  auto back = RlpDecode(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->bytes.size(), 1024u);
}

// ethereum/tests RLPTests/invalidRLPTest.json, each with the reason.
TEST(RlpTest, RejectsInvalidEncodingsWithTheReason) {
  struct Case {
    const char* hex;
    RlpErrorCode code;
  };
  const Case cases[] = {
      {"bf0f000000000000021111", RlpErrorCode::kTruncated},  // int32Overflow
      {"ff0f000000000000021111", RlpErrorCode::kTruncated},  // int32Overflow2
      {"f80180", RlpErrorCode::kNonCanonical},               // wrongSizeList
      {"f80100", RlpErrorCode::kNonCanonical},               // wrongSizeList2
      {"b9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df0",
       RlpErrorCode::kNonCanonical},          // incorrectLengthInArray
      {"8100", RlpErrorCode::kNonCanonical},  // bytesShouldBeSingleByte00
      {"8101", RlpErrorCode::kNonCanonical},  // bytesShouldBeSingleByte01
      {"817f", RlpErrorCode::kNonCanonical},  // bytesShouldBeSingleByte7F
      {"b800", RlpErrorCode::kNonCanonical},  // leadingZerosInLongLengthArray2
      {"f800", RlpErrorCode::kNonCanonical},  // leadingZerosInLongLengthList2
      {"b81000112233445566778899aabbccddeeff", RlpErrorCode::kNonCanonical},  // nonOptimalLongLengthArray1
      {"b801ff", RlpErrorCode::kNonCanonical},                                // nonOptimalLongLengthArray2
      {"f810000102030405060708090a0b0c0d0e0f", RlpErrorCode::kNonCanonical},  // nonOptimalLongLengthList1
      {"f803112233", RlpErrorCode::kNonCanonical},                            // nonOptimalLongLengthList2
      {"", RlpErrorCode::kTruncated},
      {"83646f", RlpErrorCode::kTruncated},
      {"c3646f", RlpErrorCode::kTruncated},  // list payload shorter than its header says
      {"83646f6700", RlpErrorCode::kTrailing},
      {"c2c200", RlpErrorCode::kTruncated},  // child runs past its parent list
  };
  for (const Case& c : cases) {
    auto r = RlpDecode(Hex(c.hex));
    ASSERT_FALSE(r.ok()) << c.hex;
    EXPECT_EQ(r.error().code, c.code) << c.hex << ": " << r.error().message;
  }
  // leadingZerosInLongLength*1: a zero byte starts the length.
  std::vector<uint8_t> lead = Hex("b90040");
  lead.resize(3 + 64, 0x01);
  EXPECT_EQ(RlpDecode(lead).error().code, RlpErrorCode::kNonCanonical);
  // randomRLP: a list whose first child claims more than there is.
  auto random = RlpDecode(
      Hex("f861f83eb9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df027b90015002d5ef832"
          "5ae4d0"
          "34df55d4b58d0dfba64d61ddd17be00000b9001a00dae30907045a2f66fa36f2bb8aa9029cbb0b8a7b3b5c435ab331"));
  EXPECT_FALSE(random.ok());
}

TEST(RlpTest, NestingIsBounded) {
  RlpItem deep = L({});
  for (int i = 0; i < kRlpMaxDepth; ++i) deep = L({deep});
  auto r = RlpDecode(RlpEncode(deep));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RlpErrorCode::kTooDeep);
  RlpItem ok = L({});
  for (int i = 0; i < kRlpMaxDepth - 1; ++i) ok = L({ok});
  EXPECT_TRUE(RlpDecode(RlpEncode(ok)).ok());
}

TEST(RlpTest, Integers) {
  EXPECT_EQ(Enc(RlpItem::Uint(1024)), "820400");
  EXPECT_EQ(Enc(RlpItem::Uint(UINT64_MAX)), "88ffffffffffffffff");
  auto v = RlpToUint(*RlpDecode(Hex("88ffffffffffffffff")), "x");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, UINT64_MAX);
  EXPECT_EQ(*RlpToUint(S(""), "x"), 0u);
  EXPECT_EQ(RlpToUint(RlpItem::Bytes(Hex("0001")), "x").error().code, RlpErrorCode::kBadInteger);
  EXPECT_EQ(RlpToUint(RlpItem::Bytes(Hex("010000000000000000")), "x").error().code,
            RlpErrorCode::kBadInteger);
  auto list = RlpToUint(L({}), "nonce");
  EXPECT_EQ(list.error().code, RlpErrorCode::kWrongType);
  EXPECT_NE(list.error().message.find("nonce"), std::string::npos);
}

}  // namespace
}  // namespace traceledger::chain
