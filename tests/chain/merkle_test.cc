#include "chain/merkle.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tests/chain/ct_vectors.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

// Perfect-subtree hashes from the same source (NodeHashes()), used to check
// the frontier's contents: level 0 are the leaf hashes.
const char* const kLevel0Hex[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
};
const char* const kLevel1Hex[] = {
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
};
const char* const kLevel2Hex[] = {
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
};

std::vector<Hash> CtLeafHashes() {
  std::vector<Hash> out;
  for (const char* hex : kLeafInputsHex) {
    std::optional<std::vector<uint8_t>> entry = HexDecode(hex);
    EXPECT_TRUE(entry.has_value());
    out.push_back(LeafHash(*entry));
  }
  return out;
}

// The hashes a serialized frontier carries, after the 8-byte size.
std::vector<Hash> SerializedNodes(const MerkleFrontier& f) {
  const std::string bytes = f.Serialize();
  std::vector<Hash> out((bytes.size() - 8) / 32);
  for (size_t i = 0; i < out.size(); ++i) {
    std::copy(bytes.begin() + 8 + 32 * i, bytes.begin() + 8 + 32 * (i + 1), out[i].begin());
  }
  return out;
}

TEST(MerkleTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(HashHex(EmptyRoot()), kRootsHex[0]);
  EXPECT_EQ(MerkleRootOfLeaves({}), EmptyRoot());
  EXPECT_EQ(MerkleFrontier().Root(), EmptyRoot());
}

TEST(MerkleTest, LeafAndNodeHashesMatchCtVectors) {
  const std::vector<Hash> leaves = CtLeafHashes();
  ASSERT_EQ(leaves.size(), std::size(kLevel0Hex));
  for (size_t i = 0; i < leaves.size(); ++i) {
    EXPECT_EQ(HashHex(leaves[i]), kLevel0Hex[i]) << "leaf " << i;
  }
  for (size_t i = 0; i < std::size(kLevel1Hex); ++i) {
    EXPECT_EQ(HashHex(NodeHash(leaves[2 * i], leaves[2 * i + 1])), kLevel1Hex[i]);
  }
  for (size_t i = 0; i < std::size(kLevel2Hex); ++i) {
    EXPECT_EQ(HashHex(NodeHash(H(kLevel1Hex[2 * i]), H(kLevel1Hex[2 * i + 1]))), kLevel2Hex[i]);
  }
}

TEST(MerkleTest, LeafHashIsDomainSeparated) {
  // SHA-256(0x00 || "") differs from SHA-256(""), and a leaf over the 65
  // bytes of a node's preimage tail differs from the node hash.
  EXPECT_NE(LeafHash(std::string_view("")), EmptyRoot());
  const Hash a = Sha256(std::string_view("a"));
  const Hash b = Sha256(std::string_view("b"));
  std::string tail(reinterpret_cast<const char*>(a.data()), a.size());
  tail.append(reinterpret_cast<const char*>(b.data()), b.size());
  EXPECT_NE(LeafHash(tail), NodeHash(a, b));
}

TEST(MerkleTest, LeafHashOfLargeEntryUsesSameDefinition) {
  // Crosses the stack-buffer threshold: must still be SHA-256(0x00 || entry).
  for (size_t n : {1023u, 1024u, 1025u, 5000u}) {
    const std::string entry(n, 'x');
    Sha256Hasher hasher;
    hasher.Update(std::string_view("\0", 1)).Update(entry);
    EXPECT_EQ(LeafHash(entry), hasher.Finish()) << n;
    EXPECT_EQ(
        LeafHash(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(entry.data()), entry.size())),
        LeafHash(entry));
  }
}

TEST(MerkleTest, ReferenceRootsMatchCtVectorsForEveryPrefix) {
  const std::vector<Hash> leaves = CtLeafHashes();
  for (size_t n = 0; n <= leaves.size(); ++n) {
    EXPECT_EQ(HashHex(MerkleRootOfLeaves(std::span(leaves).first(n))), kRootsHex[n]) << "size " << n;
  }
}

TEST(MerkleFrontierTest, RootsMatchCtVectorsForEveryPrefix) {
  const std::vector<Hash> leaves = CtLeafHashes();
  MerkleFrontier frontier;
  EXPECT_EQ(HashHex(frontier.Root()), kRootsHex[0]);
  for (size_t n = 1; n <= leaves.size(); ++n) {
    frontier.AppendLeaf(leaves[n - 1]);
    EXPECT_EQ(frontier.size(), n);
    EXPECT_EQ(HashHex(frontier.Root()), kRootsHex[n]) << "size " << n;
  }
}

TEST(MerkleFrontierTest, NodesMatchCtCompactTrees) {
  // transparency-dev/merkle testonly.CompactTrees(): the perfect subtrees
  // along the right edge, largest first.
  const std::vector<std::vector<const char*>> expected = {
      {},
      {kLevel0Hex[0]},
      {kLevel1Hex[0]},
      {kLevel1Hex[0], kLevel0Hex[2]},
      {kLevel2Hex[0]},
      {kLevel2Hex[0], kLevel0Hex[4]},
      {kLevel2Hex[0], kLevel1Hex[2]},
      {kLevel2Hex[0], kLevel1Hex[2], kLevel0Hex[6]},
      {kRootsHex[8]},
  };
  const std::vector<Hash> leaves = CtLeafHashes();
  MerkleFrontier frontier;
  for (size_t n = 0; n <= leaves.size(); ++n) {
    if (n > 0) frontier.AppendLeaf(leaves[n - 1]);
    const std::vector<Hash> nodes = SerializedNodes(frontier);
    ASSERT_EQ(nodes.size(), expected[n].size()) << "size " << n;
    for (size_t i = 0; i < nodes.size(); ++i) {
      EXPECT_EQ(HashHex(nodes[i]), expected[n][i]) << "size " << n << " node " << i;
    }
  }
}

TEST(MerkleFrontierTest, RootEqualsReferenceForSizes0To300) {
  const std::vector<Hash> leaves = RandomLeaves(300, /*seed=*/9162);
  MerkleFrontier frontier;
  EXPECT_EQ(frontier.Root(), MerkleRootOfLeaves({}));
  for (size_t n = 1; n <= leaves.size(); ++n) {
    frontier.AppendLeaf(leaves[n - 1]);
    ASSERT_EQ(frontier.size(), n);
    ASSERT_EQ(frontier.Root(), MerkleRootOfLeaves(std::span(leaves).first(n))) << "size " << n;
    ASSERT_EQ(SerializedNodes(frontier).size(), static_cast<size_t>(std::popcount(n)));
  }
}

TEST(MerkleFrontierTest, SerializeRoundTripAndResume) {
  const std::vector<Hash> leaves = RandomLeaves(70, /*seed=*/6962);
  MerkleFrontier frontier;
  for (size_t n = 0; n <= 64; ++n) {
    if (n > 0) frontier.AppendLeaf(leaves[n - 1]);
    const std::string bytes = frontier.Serialize();
    ASSERT_EQ(bytes.size(), 8 + 32 * static_cast<size_t>(std::popcount(n)));
    std::optional<MerkleFrontier> back = MerkleFrontier::Deserialize(bytes);
    ASSERT_TRUE(back.has_value()) << "size " << n;
    EXPECT_EQ(*back, frontier);
    EXPECT_EQ(back->size(), n);
    EXPECT_EQ(back->Root(), frontier.Root());
    EXPECT_EQ(back->Serialize(), bytes);
    // A restored frontier keeps growing exactly like the original.
    MerkleFrontier original = frontier;
    for (size_t k = n; k < n + 6; ++k) {
      back->AppendLeaf(leaves[k]);
      original.AppendLeaf(leaves[k]);
    }
    EXPECT_EQ(back->Root(), original.Root());
    EXPECT_EQ(back->Root(), MerkleRootOfLeaves(std::span(leaves).first(n + 6)));
  }
}

TEST(MerkleFrontierTest, SerializedSizeIsBigEndian) {
  MerkleFrontier frontier;
  for (int i = 0; i < 5; ++i) frontier.AppendLeaf(Hash{});
  const std::string bytes = frontier.Serialize();
  EXPECT_EQ(bytes.substr(0, 8), std::string("\0\0\0\0\0\0\0\5", 8));
}

std::string SizePrefix(uint64_t size) {
  uint8_t be[8];
  PutBigEndian64(size, be);
  return std::string(reinterpret_cast<const char*>(be), 8);
}

TEST(MerkleFrontierTest, DeserializeRejectsBadLengths) {
  const std::string hash(32, '\x11');
  EXPECT_FALSE(MerkleFrontier::Deserialize("").has_value());
  EXPECT_FALSE(MerkleFrontier::Deserialize(std::string(7, '\0')).has_value());
  // Size 0 takes no hashes.
  EXPECT_TRUE(MerkleFrontier::Deserialize(SizePrefix(0)).has_value());
  EXPECT_FALSE(MerkleFrontier::Deserialize(SizePrefix(0) + hash).has_value());
  // Size 1 needs exactly one hash.
  EXPECT_FALSE(MerkleFrontier::Deserialize(SizePrefix(1)).has_value());
  EXPECT_FALSE(MerkleFrontier::Deserialize(SizePrefix(1) + hash.substr(0, 31)).has_value());
  EXPECT_TRUE(MerkleFrontier::Deserialize(SizePrefix(1) + hash).has_value());
  EXPECT_FALSE(MerkleFrontier::Deserialize(SizePrefix(1) + hash + "x").has_value());
  EXPECT_FALSE(MerkleFrontier::Deserialize(SizePrefix(1) + hash + hash).has_value());
  // Size 7 = 0b111 needs three.
  EXPECT_FALSE(MerkleFrontier::Deserialize(SizePrefix(7) + hash + hash).has_value());
  EXPECT_TRUE(MerkleFrontier::Deserialize(SizePrefix(7) + hash + hash + hash).has_value());
  // Size 2^64-1 would need 64 hashes.
  EXPECT_FALSE(MerkleFrontier::Deserialize(SizePrefix(~uint64_t{0})).has_value());
  std::string all;
  for (int i = 0; i < 64; ++i) all += hash;
  std::optional<MerkleFrontier> big = MerkleFrontier::Deserialize(SizePrefix(~uint64_t{0}) + all);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->size(), ~uint64_t{0});
}

}  // namespace
}  // namespace traceledger::chain
