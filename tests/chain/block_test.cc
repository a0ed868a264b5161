#include "chain/block.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "chain/hash.h"
#include "util/encoding.h"
#include "wallet/key.h"

namespace traceledger::chain {
namespace {

// A header whose every field has distinct, recognisable bytes, so a field
// written at the wrong offset or in the wrong byte order shows up.
BlockHeader DistinctHeader() {
  BlockHeader h;
  h.height = 0x0102030405060708;
  for (size_t i = 0; i < 32; ++i) h.prev_hash[i] = static_cast<uint8_t>(0x10 + i);
  h.tree_size = 0x1112131415161718;
  for (size_t i = 0; i < 32; ++i) h.root[i] = static_cast<uint8_t>(0x40 + i);
  h.timestamp_ms = 0x2122232425262728;
  h.record_count = 0x31323334;
  for (size_t i = 0; i < 32; ++i) h.signer[i] = static_cast<uint8_t>(0x80 + i);
  return h;
}

// A header sealed by `key`, as the committer builds one.
BlockHeader HeaderFor(const wallet::SecretKey& key, uint64_t height) {
  BlockHeader h;
  h.height = height;
  h.prev_hash = Sha256("previous block");
  h.tree_size = 1000 + height;
  h.root = Sha256("root");
  h.timestamp_ms = 1'795'219'200'000;
  h.record_count = 7;
  h.signer = key.Public().bytes();
  return h;
}

uint8_t Byte(const std::string& s, size_t offset) { return static_cast<uint8_t>(s[offset]); }

TEST(BlockHeaderTest, SerializesToTheDocumentedLayout) {
  const BlockHeader h = DistinctHeader();
  const std::string bytes = h.Serialize();
  ASSERT_EQ(bytes.size(), kHeaderSize);
  ASSERT_EQ(bytes.size(), 128u);

  // offset 0, 4 bytes: magic "TLB1".
  EXPECT_EQ(bytes.substr(0, 4), "TLB1");
  // offset 4, 8 bytes: height, big-endian.
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(Byte(bytes, 4 + i), 0x01 + i) << "height byte " << i;
  // offset 12, 32 bytes: prev_hash.
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(Byte(bytes, 12 + i), 0x10 + i) << "prev_hash byte " << i;
  // offset 44, 8 bytes: tree_size, big-endian.
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(Byte(bytes, 44 + i), 0x11 + i) << "tree_size byte " << i;
  // offset 52, 32 bytes: root.
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(Byte(bytes, 52 + i), 0x40 + i) << "root byte " << i;
  // offset 84, 8 bytes: timestamp_ms, big-endian.
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(Byte(bytes, 84 + i), 0x21 + i) << "timestamp byte " << i;
  // offset 92, 4 bytes: record_count, big-endian.
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(Byte(bytes, 92 + i), 0x31 + i) << "record_count byte " << i;
  // offset 96, 32 bytes: signer.
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(Byte(bytes, 96 + i), 0x80 + i) << "signer byte " << i;
}

TEST(BlockHeaderTest, SerializesAHandWrittenHeaderExactly) {
  // The whole 128 bytes written out by hand from the layout comment.
  const std::string expected_hex =
      "544c4231"                                                           // "TLB1"
      "0000000000000005"                                                   // height 5
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"   // prev_hash
      "0000000000000102"                                                   // tree_size 258
      "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"   // root
      "0000019a8f3c5800"                                                   // timestamp_ms
      "00000003"                                                           // record_count 3
      "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";  // signer
  BlockHeader h;
  h.height = 5;
  h.prev_hash.fill(0xaa);
  h.tree_size = 258;
  h.root.fill(0xbb);
  h.timestamp_ms = 0x0000019a8f3c5800;
  h.record_count = 3;
  h.signer.fill(0xcc);
  const std::string bytes = h.Serialize();
  EXPECT_EQ(HexEncode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}), expected_hex);
  EXPECT_EQ(h.ComputeHash(), Sha256(bytes));
  EXPECT_EQ(h.first_index(), 255u);
}

TEST(BlockHeaderTest, GenesisHasZeroPrevHash) {
  BlockHeader h;
  h.tree_size = 1;
  h.record_count = 1;
  const std::string bytes = h.Serialize();
  EXPECT_EQ(bytes.substr(12, 32), std::string(32, '\0'));
  EXPECT_EQ(h.first_index(), 0u);
}

TEST(BlockHeaderTest, ParseRoundTrips) {
  const BlockHeader h = DistinctHeader();
  auto parsed = BlockHeader::Parse(h.Serialize());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, h);
  EXPECT_EQ(parsed->Serialize(), h.Serialize());
  EXPECT_EQ(parsed->ComputeHash(), h.ComputeHash());

  BlockHeader zero;  // all fields zero: record_count == tree_size == 0
  auto parsed_zero = BlockHeader::Parse(zero.Serialize());
  ASSERT_TRUE(parsed_zero.has_value());
  EXPECT_EQ(*parsed_zero, zero);
}

TEST(BlockHeaderTest, ParseRejectsWrongSize) {
  const std::string bytes = DistinctHeader().Serialize();
  EXPECT_FALSE(BlockHeader::Parse("").has_value());
  EXPECT_FALSE(BlockHeader::Parse(bytes.substr(0, 127)).has_value());
  EXPECT_FALSE(BlockHeader::Parse(bytes + '\0').has_value());
  EXPECT_FALSE(BlockHeader::Parse(bytes + std::string(64, '\0')).has_value());
}

TEST(BlockHeaderTest, ParseRejectsWrongMagic) {
  const std::string good = DistinctHeader().Serialize();
  for (size_t i = 0; i < 4; ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);  // "tLB1", "TlB1", ...
    EXPECT_FALSE(BlockHeader::Parse(bad).has_value()) << "magic byte " << i;
  }
  std::string old = good;
  old[3] = '0';  // "TLB0"
  EXPECT_FALSE(BlockHeader::Parse(old).has_value());
}

TEST(BlockHeaderTest, ParseRejectsRecordCountAboveTreeSize) {
  BlockHeader h = DistinctHeader();
  h.tree_size = 10;
  h.record_count = 10;
  EXPECT_TRUE(BlockHeader::Parse(h.Serialize()).has_value());
  h.record_count = 11;
  EXPECT_FALSE(BlockHeader::Parse(h.Serialize()).has_value());
  h.tree_size = 0;
  h.record_count = 1;
  EXPECT_FALSE(BlockHeader::Parse(h.Serialize()).has_value());
  h.tree_size = 0xffffffff;
  h.record_count = 0xffffffff;
  EXPECT_TRUE(BlockHeader::Parse(h.Serialize()).has_value());
}

TEST(BlockHeaderTest, HashCoversEveryField) {
  const BlockHeader base = DistinctHeader();
  const Hash base_hash = base.ComputeHash();
  auto differs = [&](BlockHeader changed, const char* field) {
    EXPECT_NE(changed.ComputeHash(), base_hash) << field;
  };
  BlockHeader h = base;
  h.height ^= 1;
  differs(h, "height");
  h = base;
  h.prev_hash[31] ^= 1;
  differs(h, "prev_hash");
  h = base;
  h.tree_size ^= 1;
  differs(h, "tree_size");
  h = base;
  h.root[0] ^= 1;
  differs(h, "root");
  h = base;
  h.timestamp_ms ^= 1;
  differs(h, "timestamp_ms");
  h = base;
  h.record_count ^= 1;
  differs(h, "record_count");
  h = base;
  h.signer[5] ^= 1;
  differs(h, "signer");
}

TEST(BlockSealTest, SerializesHeaderThenSignature) {
  const auto key = wallet::SecretKey::Generate();
  const SignedBlock block = SignedBlock::Seal(HeaderFor(key, 3), key);
  const std::string bytes = block.Serialize();
  ASSERT_EQ(bytes.size(), kSignedBlockSize);
  ASSERT_EQ(bytes.size(), 192u);
  EXPECT_EQ(bytes.substr(0, kHeaderSize), block.header.Serialize());
  EXPECT_EQ(bytes.substr(kHeaderSize),
            std::string(reinterpret_cast<const char*>(block.signature.data()), 64));
}

TEST(BlockSealTest, ParseRoundTrips) {
  const auto key = wallet::SecretKey::Generate();
  const SignedBlock block = SignedBlock::Seal(HeaderFor(key, 9), key);
  auto parsed = SignedBlock::Parse(block.Serialize());
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->header, block.header);
  EXPECT_EQ(parsed->signature, block.signature);
  EXPECT_TRUE(parsed->VerifySignature());
}

TEST(BlockSealTest, ParseRejectsWrongSizeOrBadHeader) {
  const auto key = wallet::SecretKey::Generate();
  const std::string bytes = SignedBlock::Seal(HeaderFor(key, 1), key).Serialize();
  EXPECT_FALSE(SignedBlock::Parse("").has_value());
  EXPECT_FALSE(SignedBlock::Parse(bytes.substr(0, kHeaderSize)).has_value());  // header only
  EXPECT_FALSE(SignedBlock::Parse(bytes.substr(0, 191)).has_value());
  EXPECT_FALSE(SignedBlock::Parse(bytes + '\0').has_value());
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_FALSE(SignedBlock::Parse(bad_magic).has_value());
  BlockHeader bad_count = HeaderFor(key, 1);
  bad_count.record_count = static_cast<uint32_t>(bad_count.tree_size + 1);
  EXPECT_FALSE(SignedBlock::Parse(SignedBlock::Seal(bad_count, key).Serialize()).has_value());
}

TEST(BlockSealTest, SealThenVerify) {
  const auto key = wallet::SecretKey::Generate();
  for (uint64_t height : {0, 1, 2, 1000}) {
    SignedBlock block = SignedBlock::Seal(HeaderFor(key, height), key);
    EXPECT_EQ(block.header, HeaderFor(key, height));
    EXPECT_TRUE(block.VerifySignature()) << "height " << height;
    // The signature is a BIP-340 signature over the block hash.
    EXPECT_TRUE(key.Public().Verify(block.header.ComputeHash(), block.signature));
  }
}

TEST(BlockSealTest, SignatureByAnotherKeyFails) {
  const auto key = wallet::SecretKey::Generate();
  const auto other = wallet::SecretKey::Generate();
  SignedBlock block = SignedBlock::Seal(HeaderFor(key, 4), key);
  // Claim the other key as signer: the signature no longer matches.
  block.header.signer = other.Public().bytes();
  EXPECT_FALSE(block.VerifySignature());
  // Replace the signature with one by the other key over the original hash.
  SignedBlock forged = SignedBlock::Seal(HeaderFor(key, 4), key);
  forged.signature = other.Sign(forged.header.ComputeHash());
  EXPECT_FALSE(forged.VerifySignature());
}

TEST(BlockSealTest, SignerThatIsNotACurvePointFails) {
  const auto key = wallet::SecretKey::Generate();
  SignedBlock block = SignedBlock::Seal(HeaderFor(key, 2), key);
  block.header.signer.fill(0);  // x = 0 is not on secp256k1
  EXPECT_FALSE(block.VerifySignature());
  block.header.signer.fill(0xff);  // x >= p
  EXPECT_FALSE(block.VerifySignature());
  SignedBlock unsigned_block;  // zero signer, zero signature
  EXPECT_FALSE(unsigned_block.VerifySignature());
}

TEST(BlockSealTest, EveryFlippedBitFailsVerification) {
  const auto key = wallet::SecretKey::Generate();
  const SignedBlock block = SignedBlock::Seal(HeaderFor(key, 42), key);
  const std::string good = block.Serialize();
  ASSERT_TRUE(SignedBlock::Parse(good)->VerifySignature());
  int parse_rejects = 0;
  for (size_t byte = 0; byte < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[byte] = static_cast<char>(bad[byte] ^ (1 << bit));
      auto parsed = SignedBlock::Parse(bad);
      if (!parsed) {
        ++parse_rejects;  // magic, or record_count above tree_size
        continue;
      }
      EXPECT_FALSE(parsed->VerifySignature()) << "byte " << byte << " bit " << bit;
    }
  }
  // The 32 magic bits at least are rejected by Parse itself.
  EXPECT_GE(parse_rejects, 32);
}

TEST(BlockSealTest, FlippedBitInTheStructFailsVerification) {
  const auto key = wallet::SecretKey::Generate();
  const SignedBlock good = SignedBlock::Seal(HeaderFor(key, 8), key);
  for (size_t i = 0; i < 64; ++i) {
    SignedBlock bad = good;
    bad.signature[i] ^= 0x80;
    EXPECT_FALSE(bad.VerifySignature()) << "signature byte " << i;
  }
  for (int bit = 0; bit < 64; ++bit) {
    SignedBlock bad = good;
    bad.header.height ^= uint64_t{1} << bit;
    EXPECT_FALSE(bad.VerifySignature()) << "height bit " << bit;
    bad = good;
    bad.header.timestamp_ms ^= uint64_t{1} << bit;
    EXPECT_FALSE(bad.VerifySignature()) << "timestamp bit " << bit;
    bad = good;
    bad.header.tree_size ^= uint64_t{1} << bit;
    EXPECT_FALSE(bad.VerifySignature()) << "tree_size bit " << bit;
  }
}

}  // namespace
}  // namespace traceledger::chain
