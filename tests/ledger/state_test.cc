// The write-once fact encoding and the state keyspace helpers.
#include "ledger/state.h"

#include <gtest/gtest.h>

namespace traceledger::ledger {
namespace {

TEST(FactCodecTest, RoundTripsEveryShape) {
  for (const Fact& f : {Fact{.seq = 0}, Fact{.seq = 42, .owner = "acme-tea"},
                        Fact{.seq = 7, .party = "op", .public_key = std::string(64, 'a')},
                        Fact{.seq = static_cast<uint64_t>(kMaxSafeInteger), .owner = "x.y_z-1"}}) {
    std::string encoded = EncodeFact(f);
    // The encoding is the canonical JSON of the same object.
    Json j = {{"seq", f.seq}};
    if (!f.owner.empty()) j["owner"] = f.owner;
    if (!f.party.empty()) j["party"] = f.party;
    if (!f.public_key.empty()) j["public_key"] = f.public_key;
    EXPECT_EQ(encoded, CanonicalJson(j));
    auto decoded = DecodeFact(encoded);
    ASSERT_TRUE(decoded) << encoded;
    EXPECT_EQ(decoded->seq, f.seq);
    EXPECT_EQ(decoded->owner, f.owner);
    EXPECT_EQ(decoded->party, f.party);
    EXPECT_EQ(decoded->public_key, f.public_key);
  }
}

TEST(FactCodecTest, RejectsAnythingTheEncoderWouldNotWrite) {
  for (const char* bad :
       {"", "{}", "{\"seq\":}", "{\"seq\":01}", "{\"seq\":-1}", "{\"seq\":1.0}", "{\"seq\":1} ",
        " {\"seq\":1}", "{\"seq\": 1}", "{\"seq\":9007199254740992}", "{\"seq\":12345678901234567}",
        "{\"seq\":1,\"owner\":\"a\"}", "{\"owner\":\"a\",\"seq\":1,}", "{\"owner\":\"\",\"seq\":1}",
        "{\"owner\":\"A\",\"seq\":1}", "{\"owner\":\"a\\\"b\",\"seq\":1}",
        "{\"party\":\"a\",\"owner\":\"b\",\"seq\":1}", "{\"extra\":\"a\",\"seq\":1}",
        "{\"owner\":\"a\"\"seq\":1}"}) {
    EXPECT_FALSE(DecodeFact(bad)) << bad;
  }
}

TEST(FactCodecTest, SeqCodecIsEightBytesBigEndian) {
  EXPECT_EQ(EncodeSeq(0x0102030405060708ull), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(DecodeSeq(EncodeSeq(123456789)), 123456789u);
  EXPECT_FALSE(DecodeSeq("1234567"));
  EXPECT_FALSE(DecodeSeq("123456789"));
}

TEST(StateKeysTest, HistoryKeysEndInTheirSequenceNumberAndSortByIt) {
  std::string prefix = keys::LotHistoryPrefix("09501101530003", "L1");
  std::string a = keys::WithSeq(prefix, 5), b = keys::WithSeq(prefix, 300);
  EXPECT_LT(a, b);
  EXPECT_EQ(keys::SeqOfHistoryKey(b), 300u);
  // A lot whose number extends another's never shares its history prefix.
  EXPECT_FALSE(keys::WithSeq(keys::LotHistoryPrefix("09501101530003", "L10"), 1).starts_with(prefix));
}

TEST(StateKeysTest, PrintableKeyEscapesBinaryBytes) {
  EXPECT_EQ(PrintableKey(std::string("hl/x\0\x01", 6)), "hl/x\\x00\\x01");
  EXPECT_EQ(PrintableKey("a\\b"), "a\\x5cb");
}

}  // namespace
}  // namespace traceledger::ledger
