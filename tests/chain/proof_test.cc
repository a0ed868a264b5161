#include "chain/proof.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <bit>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "chain/block.h"
#include "chain/merkle.h"
#include "chain/store.h"
#include "tests/chain/ct_vectors.h"
#include "tests/chain/store_fixture.h"
#include "util/encoding.h"
#include "wallet/key.h"

namespace traceledger::chain {
namespace {

using testing::AppendBlocks;
using testing::ScratchDir;

std::vector<Hash> CtLeaves() {
  std::vector<Hash> out;
  for (const char* hex : kLeafInputsHex) out.push_back(LeafHash(*HexDecode(hex)));
  return out;
}

// RFC 9162 §2.1.3.1 and §2.1.4.1 written as the RFC's recursion over leaf
// hashes, independent of the iterative code under test.
std::vector<Hash> ReferencePath(uint64_t m, std::span<const Hash> d) {
  if (d.size() <= 1) return {};
  const uint64_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> out;
  if (m < k) {
    out = ReferencePath(m, d.first(k));
    out.push_back(MerkleRootOfLeaves(d.subspan(k)));
  } else {
    out = ReferencePath(m - k, d.subspan(k));
    out.push_back(MerkleRootOfLeaves(d.first(k)));
  }
  return out;
}

std::vector<Hash> ReferenceSubproof(uint64_t m, std::span<const Hash> d, bool b) {
  if (m == d.size()) {
    if (b) return {};
    return {MerkleRootOfLeaves(d)};
  }
  const uint64_t k = std::bit_floor(d.size() - 1);
  std::vector<Hash> out;
  if (m <= k) {
    out = ReferenceSubproof(m, d.first(k), b);
    out.push_back(MerkleRootOfLeaves(d.subspan(k)));
  } else {
    out = ReferenceSubproof(m - k, d.subspan(k), false);
    out.push_back(MerkleRootOfLeaves(d.first(k)));
  }
  return out;
}

std::vector<Hash> ReferenceConsistency(uint64_t m, std::span<const Hash> d) {
  if (m == 0 || m == d.size()) return {};
  return ReferenceSubproof(m, d, true);
}

Hash RootOf(std::span<const Hash> leaves, uint64_t n) { return MerkleRootOfLeaves(leaves.first(n)); }

// --- Published vectors ------------------------------------------------------

void ExpectHashes(const ProofResult<std::vector<Hash>>& proof, const std::vector<const char*>& want) {
  ASSERT_TRUE(proof.ok()) << proof.error().message;
  ASSERT_EQ(proof->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(HashHex((*proof)[i]), want[i]) << "hash " << i;
}

// transparency-dev/merkle proof/verify_test.go (inclusionProofs,
// consistencyProofs), from the original CT C++ merkle_tree_test.cc; leaf
// numbers there are 1-based.
TEST(ProofVectorsTest, InclusionProofsMatchCtVectors) {
  const std::vector<Hash> leaves = CtLeaves();
  LeafVectorSource source(leaves);
  struct Vector {
    uint64_t index, size;
    std::vector<const char*> path;
  };
  const std::vector<Vector> vectors = {
      {0, 1, {}},
      {0,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {5,
       8,
       {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
      {1,
       5,
       {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE("index " + std::to_string(v.index) + " size " + std::to_string(v.size));
    auto proof = InclusionProof(source, v.index, v.size);
    ASSERT_NO_FATAL_FAILURE(ExpectHashes(proof, v.path));
    EXPECT_TRUE(VerifyInclusion(v.index, v.size, leaves[v.index], *proof, H(kRootsHex[v.size])).ok());
  }
}

TEST(ProofVectorsTest, ConsistencyProofsMatchCtVectors) {
  const std::vector<Hash> leaves = CtLeaves();
  LeafVectorSource source(leaves);
  struct Vector {
    uint64_t old_size, new_size;
    std::vector<const char*> path;
  };
  const std::vector<Vector> vectors = {
      {1, 1, {}},
      {1,
       8,
       {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
      {6,
       8,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
      {2,
       5,
       {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
      {6,
       7,
       {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE("sizes " + std::to_string(v.old_size) + " -> " + std::to_string(v.new_size));
    auto proof = ConsistencyProof(source, v.old_size, v.new_size);
    ASSERT_NO_FATAL_FAILURE(ExpectHashes(proof, v.path));
    EXPECT_TRUE(
        VerifyConsistency(v.old_size, v.new_size, H(kRootsHex[v.old_size]), H(kRootsHex[v.new_size]), *proof)
            .ok());
  }
}

// The edge cases of verify_test.go's TestVerifyConsistency.
TEST(ProofVectorsTest, TrivialConsistencyCases) {
  const Hash a = Sha256(std::string_view("a")), b = Sha256(std::string_view("b"));
  const std::vector<Hash> none, one = {EmptyRoot()};
  EXPECT_TRUE(VerifyConsistency(0, 0, a, a, none).ok());
  EXPECT_TRUE(VerifyConsistency(0, 1, a, b, none).ok());
  EXPECT_TRUE(VerifyConsistency(1, 1, b, b, none).ok());
  EXPECT_EQ(VerifyConsistency(1, 1, a, b, none).error().code, ProofErrorCode::kNewRootMismatch);
  EXPECT_EQ(VerifyConsistency(1, 0, a, b, none).error().code, ProofErrorCode::kSizeOutOfRange);
  EXPECT_EQ(VerifyConsistency(2, 1, a, b, none).error().code, ProofErrorCode::kSizeOutOfRange);
  EXPECT_EQ(VerifyConsistency(1, 2, a, b, none).error().code, ProofErrorCode::kBadNodeCount);
  EXPECT_EQ(VerifyConsistency(0, 0, a, a, one).error().code, ProofErrorCode::kBadNodeCount);
  EXPECT_EQ(VerifyConsistency(0, 1, a, a, one).error().code, ProofErrorCode::kBadNodeCount);
  EXPECT_EQ(VerifyConsistency(1, 1, a, a, one).error().code, ProofErrorCode::kBadNodeCount);
}

TEST(ProofVectorsTest, TrivialInclusionCases) {
  const Hash a = Sha256(std::string_view("a"));
  const std::vector<Hash> none;
  EXPECT_EQ(VerifyInclusion(0, 0, a, none, a).error().code, ProofErrorCode::kIndexOutOfRange);
  EXPECT_EQ(VerifyInclusion(1, 1, a, none, a).error().code, ProofErrorCode::kIndexOutOfRange);
  EXPECT_EQ(VerifyInclusion(2, 1, a, none, a).error().code, ProofErrorCode::kIndexOutOfRange);
  EXPECT_TRUE(VerifyInclusion(0, 1, a, none, a).ok());
  EXPECT_EQ(VerifyInclusion(0, 1, a, none, EmptyRoot()).error().code, ProofErrorCode::kRootMismatch);
  LeafVectorSource empty({});
  EXPECT_EQ(InclusionProof(empty, 0, 0).error().code, ProofErrorCode::kIndexOutOfRange);
  EXPECT_EQ(ConsistencyProof(empty, 1, 0).error().code, ProofErrorCode::kSizeOutOfRange);
  EXPECT_EQ(*RootAt(empty, 0), EmptyRoot());
}

// --- Every index and size pair against the reference ------------------------

constexpr uint64_t kExhaustiveLeaves = 100;

TEST(ProofExhaustiveTest, EveryInclusionProofMatchesTheReferenceAndVerifies) {
  const std::vector<Hash> leaves = RandomLeaves(kExhaustiveLeaves, /*seed=*/9162);
  LeafVectorSource source(leaves);
  for (uint64_t n = 1; n <= kExhaustiveLeaves; ++n) {
    const Hash root = RootOf(leaves, n);
    ASSERT_EQ(*RootAt(source, n), root) << "size " << n;
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(source, i, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, ReferencePath(i, std::span(leaves).first(n))) << "index " << i << " size " << n;
      ASSERT_EQ(proof->size(), InclusionProofLength(i, n));
      auto verified = VerifyInclusion(i, n, leaves[i], *proof, root);
      ASSERT_TRUE(verified.ok()) << "index " << i << " size " << n << ": " << verified.error().message;
    }
  }
}

TEST(ProofExhaustiveTest, EveryConsistencyProofMatchesTheReferenceAndVerifies) {
  const std::vector<Hash> leaves = RandomLeaves(kExhaustiveLeaves, /*seed=*/6962);
  LeafVectorSource source(leaves);
  std::vector<Hash> roots;
  for (uint64_t n = 0; n <= kExhaustiveLeaves; ++n) roots.push_back(RootOf(leaves, n));
  for (uint64_t n = 0; n <= kExhaustiveLeaves; ++n) {
    for (uint64_t m = 0; m <= n; ++m) {
      auto proof = ConsistencyProof(source, m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, ReferenceConsistency(m, std::span(leaves).first(n))) << m << " -> " << n;
      ASSERT_EQ(proof->size(), ConsistencyProofLength(m, n));
      auto verified = VerifyConsistency(m, n, roots[m], roots[n], *proof);
      ASSERT_TRUE(verified.ok()) << m << " -> " << n << ": " << verified.error().message;
    }
  }
}

// --- Corrupted proofs --------------------------------------------------------

// An RFC 9162 proof binds the index and the root, not the tree size alone:
// two sizes whose paths take the same left/right turns give the same root
// from the same hashes (e.g. index 0 in sizes 3 and 4). Only a checkpoint,
// which signs size and root together, pins the size; proof files are
// checked against one (chain/checkpoint.h, tracectl verify-proof). These
// give the sequence of turns the RFC's verification loops take.
std::vector<int> InclusionShape(uint64_t index, uint64_t size) {
  std::vector<int> turns;
  uint64_t fn = index, sn = size - 1;
  while (sn != 0) {
    if ((fn & 1) != 0 || fn == sn) {
      turns.push_back(1);
      while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      turns.push_back(0);
    }
    fn >>= 1, sn >>= 1;
  }
  return turns;
}

std::vector<int> ConsistencyShape(uint64_t m, uint64_t n) {
  std::vector<int> turns = {std::has_single_bit(m) ? 1 : 0};
  uint64_t fn = m - 1, sn = n - 1;
  while ((fn & 1) != 0) fn >>= 1, sn >>= 1;
  while (sn != 0) {
    if ((fn & 1) != 0 || fn == sn) {
      turns.push_back(1);
      while ((fn & 1) == 0 && fn != 0) fn >>= 1, sn >>= 1;
    } else {
      turns.push_back(0);
    }
    fn >>= 1, sn >>= 1;
  }
  return turns;
}

// What a verifier must answer for a proof checked with the wrong index or
// size: out of range, a count mismatch when the path length differs, else
// a root mismatch.
ProofErrorCode ExpectedInclusionFailure(uint64_t index, uint64_t size, size_t proof_size) {
  if (index >= size) return ProofErrorCode::kIndexOutOfRange;
  if (InclusionProofLength(index, size) != proof_size) return ProofErrorCode::kBadNodeCount;
  return ProofErrorCode::kRootMismatch;
}

void ExpectInclusionFails(uint64_t index, uint64_t size, const Hash& leaf, const std::vector<Hash>& proof,
                          const Hash& root, ProofErrorCode want, const std::string& what) {
  auto r = VerifyInclusion(index, size, leaf, proof, root);
  ASSERT_FALSE(r.ok()) << what << " verified";
  EXPECT_EQ(ProofErrorCodeName(r.error().code), ProofErrorCodeName(want))
      << what << ": " << r.error().message;
}

TEST(ProofCorruptionTest, EveryCorruptedInclusionProofIsRejected) {
  const std::vector<Hash> leaves = RandomLeaves(64, /*seed=*/1);
  const std::vector<Hash> other = RandomLeaves(64, /*seed=*/2);
  LeafVectorSource source(leaves), other_source(other);
  for (uint64_t n = 1; n <= 64; ++n) {
    const Hash root = RootOf(leaves, n);
    for (uint64_t i = 0; i < n; ++i) {
      SCOPED_TRACE("index " + std::to_string(i) + " size " + std::to_string(n));
      const std::vector<Hash> proof = *InclusionProof(source, i, n);
      const Hash& leaf = leaves[i];
      for (uint64_t wrong : {i + 1, i - 1, i ^ 2, i + n}) {
        if (wrong == i || wrong > 1000) continue;
        ExpectInclusionFails(wrong, n, leaf, proof, root, ExpectedInclusionFailure(wrong, n, proof.size()),
                             "index " + std::to_string(wrong));
      }
      for (uint64_t wrong : {n + 1, n - 1, n * 2, n / 2}) {
        if (wrong == n) continue;
        if (i < wrong && InclusionShape(i, wrong) == InclusionShape(i, n)) {
          EXPECT_TRUE(VerifyInclusion(i, wrong, leaf, proof, root).ok()) << "same turns, size " << wrong;
          continue;
        }
        ExpectInclusionFails(i, wrong, leaf, proof, root, ExpectedInclusionFailure(i, wrong, proof.size()),
                             "size " + std::to_string(wrong));
      }
      for (size_t k = 0; k < proof.size(); ++k) {
        for (int bit : {0, 7, 255}) {
          std::vector<Hash> bad = proof;
          bad[k][bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
          ExpectInclusionFails(i, n, leaf, bad, root, ProofErrorCode::kRootMismatch,
                               "bit " + std::to_string(bit) + " of node " + std::to_string(k));
        }
        std::vector<Hash> removed = proof;
        removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(k));
        ExpectInclusionFails(i, n, leaf, removed, root, ProofErrorCode::kBadNodeCount, "node removed");
      }
      for (size_t k = 0; k <= proof.size(); ++k) {
        std::vector<Hash> added = proof;
        added.insert(added.begin() + static_cast<std::ptrdiff_t>(k), root);
        ExpectInclusionFails(i, n, leaf, added, root, ProofErrorCode::kBadNodeCount, "node added");
      }
      ExpectInclusionFails(i, n, other[i], proof, root, ProofErrorCode::kRootMismatch, "another leaf");
      ExpectInclusionFails(i, n, leaf, proof, RootOf(other, n), ProofErrorCode::kRootMismatch,
                           "another root");
      if (n > 1) {
        const std::vector<Hash> foreign = *InclusionProof(other_source, i, n);
        ExpectInclusionFails(i, n, leaf, foreign, root, ProofErrorCode::kRootMismatch,
                             "another tree's proof");
      }
    }
  }
}

void ExpectConsistencyFails(uint64_t m, uint64_t n, const Hash& old_root, const Hash& new_root,
                            const std::vector<Hash>& proof, std::vector<ProofErrorCode> allowed,
                            const std::string& what) {
  auto r = VerifyConsistency(m, n, old_root, new_root, proof);
  ASSERT_FALSE(r.ok()) << what << " verified";
  bool expected = false;
  for (auto code : allowed) expected = expected || code == r.error().code;
  EXPECT_TRUE(expected) << what << ": got " << ProofErrorCodeName(r.error().code) << ": "
                        << r.error().message;
}

// A root or node error shows up at the old or the new root, depending on
// which of the two recomputed hashes the damaged value feeds.
const std::vector<ProofErrorCode> kEitherRoot = {ProofErrorCode::kOldRootMismatch,
                                                 ProofErrorCode::kNewRootMismatch};

std::vector<ProofErrorCode> ExpectedConsistencyFailure(uint64_t m, uint64_t n, size_t proof_size) {
  if (m > n) return {ProofErrorCode::kSizeOutOfRange};
  if (ConsistencyProofLength(m, n) != proof_size) return {ProofErrorCode::kBadNodeCount};
  return kEitherRoot;
}

TEST(ProofCorruptionTest, EveryCorruptedConsistencyProofIsRejected) {
  const std::vector<Hash> leaves = RandomLeaves(64, /*seed=*/3);
  const std::vector<Hash> other = RandomLeaves(64, /*seed=*/4);
  LeafVectorSource source(leaves), other_source(other);
  std::vector<Hash> roots, other_roots;
  for (uint64_t n = 0; n <= 64; ++n)
    roots.push_back(RootOf(leaves, n)), other_roots.push_back(RootOf(other, n));
  for (uint64_t n = 2; n <= 64; ++n) {
    for (uint64_t m = 1; m < n; ++m) {
      SCOPED_TRACE("sizes " + std::to_string(m) + " -> " + std::to_string(n));
      const std::vector<Hash> proof = *ConsistencyProof(source, m, n);
      ASSERT_FALSE(proof.empty());
      for (uint64_t wrong : {m + 1, m - 1, m ^ 2}) {
        if (wrong == m || wrong == 0 || wrong == n) continue;
        ExpectConsistencyFails(wrong, n, roots[m], roots[n], proof,
                               ExpectedConsistencyFailure(wrong, n, proof.size()), "old size");
      }
      for (uint64_t wrong : {n + 1, n - 1, n * 2, n / 2}) {
        if (wrong == n || wrong == m) continue;
        if (m < wrong && ConsistencyShape(m, wrong) == ConsistencyShape(m, n)) {
          EXPECT_TRUE(VerifyConsistency(m, wrong, roots[m], roots[n], proof).ok()) << "same turns";
          continue;
        }
        ExpectConsistencyFails(m, wrong, roots[m], roots[n], proof,
                               ExpectedConsistencyFailure(m, wrong, proof.size()), "new size");
      }
      ExpectConsistencyFails(m, n, roots[n], roots[m], proof, kEitherRoot, "swapped roots");
      ExpectConsistencyFails(m, n, roots[m], other_roots[n], proof, {ProofErrorCode::kNewRootMismatch},
                             "another new root");
      ExpectConsistencyFails(m, n, other_roots[m], roots[n], proof, kEitherRoot, "another old root");
      ExpectConsistencyFails(m, n, roots[m], roots[n], {}, {ProofErrorCode::kBadNodeCount}, "empty proof");
      for (size_t k = 0; k < proof.size(); ++k) {
        for (int bit : {0, 100, 255}) {
          std::vector<Hash> bad = proof;
          bad[k][bit / 8] ^= static_cast<uint8_t>(1 << (bit % 8));
          ExpectConsistencyFails(m, n, roots[m], roots[n], bad, kEitherRoot,
                                 "bit " + std::to_string(bit) + " of node " + std::to_string(k));
        }
        std::vector<Hash> removed = proof;
        removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(k));
        ExpectConsistencyFails(m, n, roots[m], roots[n], removed, {ProofErrorCode::kBadNodeCount}, "removed");
      }
      for (size_t k = 0; k <= proof.size(); ++k) {
        std::vector<Hash> added = proof;
        added.insert(added.begin() + static_cast<std::ptrdiff_t>(k), roots[m]);
        ExpectConsistencyFails(m, n, roots[m], roots[n], added, {ProofErrorCode::kBadNodeCount}, "added");
      }
      const std::vector<Hash> foreign = *ConsistencyProof(other_source, m, n);
      ExpectConsistencyFails(m, n, roots[m], roots[n], foreign, kEitherRoot, "another tree's proof");
    }
  }
}

// --- Proofs from the store's node hashes ------------------------------------

const std::vector<uint32_t> kBlockSizes = {1, 3, 16, 2, 7, 40, 1, 30};  // 100 leaves

TEST(StoreProofTest, EveryProofFromStoredNodesEqualsTheReference) {
  auto store = Store::Open(StoreOptions{.path = "proofs", .in_memory = true});
  ASSERT_TRUE(store.ok());
  const std::vector<Hash> leaves = AppendBlocks(**store, kBlockSizes, wallet::SecretKey::Generate());
  ASSERT_EQ(leaves.size(), 100u);
  LeafVectorSource reference(leaves);
  StoreNodeSource stored(**store);
  for (uint64_t n = 0; n <= leaves.size(); ++n) {
    ASSERT_EQ(*RootAt(stored, n), RootOf(leaves, n)) << "size " << n;
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_EQ(*InclusionProof(stored, i, n), *InclusionProof(reference, i, n)) << i << " in " << n;
    }
    for (uint64_t m = 0; m <= n; ++m) {
      ASSERT_EQ(*ConsistencyProof(stored, m, n), *ConsistencyProof(reference, m, n)) << m << " -> " << n;
    }
  }
}

TEST(StoreProofTest, NodeHashesAreStoredAtEveryFourthLevel) {
  auto store = Store::Open(StoreOptions{.path = "levels", .in_memory = true});
  ASSERT_TRUE(store.ok());
  const std::vector<Hash> leaves = AppendBlocks(**store, {300}, wallet::SecretKey::Generate());
  LeafVectorSource reference(leaves);
  // Level 0: the 300 leaf hashes; level 4: 18 nodes of 16; level 8: one of 256.
  for (auto [level, count] : {std::pair{0u, 300u}, {4u, 18u}, {8u, 1u}}) {
    auto nodes = (*store)->GetNodes(level, 0, count);
    ASSERT_TRUE(nodes.ok()) << nodes.error().message;
    for (uint64_t i = 0; i < count; ++i) EXPECT_EQ((*nodes)[i], *reference.Node(level, i));
    auto beyond = (*store)->GetNodes(level, count, 1);
    ASSERT_FALSE(beyond.ok());
    EXPECT_EQ(beyond.error().code, StoreErrorCode::kCorruption);
    auto present = (*store)->Get(Store::NodeKey(level + 1, 0));
    ASSERT_TRUE(present.ok());
    EXPECT_FALSE(present->has_value()) << "level " << level + 1 << " is not kept";
  }
  auto odd = (*store)->GetNodes(3, 0, 1);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code, StoreErrorCode::kInvalid);
}

TEST(StoreProofTest, DamagedNodeHashIsAStoreErrorNotAWrongProof) {
  auto store = Store::Open(StoreOptions{.path = "damaged", .in_memory = true});
  ASSERT_TRUE(store.ok());
  AppendBlocks(**store, {40}, wallet::SecretKey::Generate());
  ASSERT_TRUE((*store)->RawPutForTesting(Store::NodeKey(0, 5), "short").ok());
  StoreNodeSource stored(**store);
  auto proof = InclusionProof(stored, 4, 40);
  ASSERT_FALSE(proof.ok());
  EXPECT_EQ(proof.error().code, ProofErrorCode::kStore);
}

TEST(StoreProofTest, OpenBuildsMissingNodeHashesOfAnOlderStore) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string path = dir.path() + "/db";
  std::vector<Hash> leaves;
  {
    auto store = Store::Open(StoreOptions{.path = path});
    ASSERT_TRUE(store.ok());
    leaves = AppendBlocks(**store, kBlockSizes, wallet::SecretKey::Generate());
    // A store from before node hashes: none under 'H'.
    std::vector<std::string> keys;
    ASSERT_TRUE((*store)
                    ->Scan("H", {},
                           [&](std::string_view key, std::string_view) {
                             keys.emplace_back(key);
                             return true;
                           })
                    .ok());
    ASSERT_EQ(keys.size(), 100u + 6u);  // 100 leaves, 6 nodes of 16
    for (const auto& key : keys) ASSERT_TRUE((*store)->RawDeleteForTesting(key).ok());
  }
  auto store = Store::Open(StoreOptions{.path = path, .create_if_missing = false});
  ASSERT_TRUE(store.ok()) << store.error().message;
  LeafVectorSource reference(leaves);
  StoreNodeSource stored(**store);
  for (uint64_t i = 0; i < leaves.size(); ++i) {
    ASSERT_EQ(*InclusionProof(stored, i, leaves.size()), *InclusionProof(reference, i, leaves.size()));
  }
  EXPECT_EQ(*ConsistencyProof(stored, 37, 100), *ConsistencyProof(reference, 37, 100));
}

TEST(StoreProofTest, CheckpointsAreKeptBySizeAndTheLastIsFound) {
  auto store = Store::Open(StoreOptions{.path = "checkpoints", .in_memory = true});
  ASSERT_TRUE(store.ok());
  auto none = (*store)->LastCheckpoint();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  AppendBlocks(**store, {10}, wallet::SecretKey::Generate());
  ASSERT_TRUE((*store)->PutCheckpoint(3, "three", false).ok());
  ASSERT_TRUE((*store)->PutCheckpoint(10, "ten", false).ok());
  ASSERT_TRUE((*store)->PutCheckpoint(7, "seven", false).ok());
  auto beyond = (*store)->PutCheckpoint(11, "eleven", false);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.error().code, StoreErrorCode::kInvalid);
  auto last = (*store)->LastCheckpoint();
  ASSERT_TRUE(last.ok());
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->first, 10u);
  EXPECT_EQ((*last)->second, "ten");
  EXPECT_EQ(*(*store)->GetCheckpoint(7), std::optional<std::string>("seven"));
  EXPECT_FALSE((*store)->GetCheckpoint(8)->has_value());
  // Lowercase keys after 'K' do not confuse the search for the last one.
  WriteSet extra;
  extra.Put("zzz", "x");
  ASSERT_TRUE((*store)->Write(extra, false).ok());
  EXPECT_EQ((*(*store)->LastCheckpoint())->first, 10u);
}

}  // namespace
}  // namespace traceledger::chain
