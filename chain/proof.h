// RFC 9162 §2.1.3 inclusion proofs and §2.1.4 consistency proofs over the
// log's Merkle tree (chain/merkle.h): generation from any source of
// perfect-subtree hashes, and verification.
//
// Generation never recomputes the tree from its leaves: it asks a
// NodeSource for the hashes of perfect subtrees ("nodes") and combines
// O(log n) of them. StoreNodeSource reads them from the store, which keeps
// every 4th level of the tree (chain/store.h); LeafVectorSource computes
// them from a vector of leaf hashes (tests, small trees).
//
// Verification is pure (no I/O, no clock) and tells why a proof fails with
// a ProofErrorCode. Both follow the RFC's algorithms exactly; the proofs are
// byte-compatible with Certificate Transparency and C2SP tlog-witness
// consistency proofs.
#ifndef TRACELEDGER_CHAIN_PROOF_H_
#define TRACELEDGER_CHAIN_PROOF_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/hash.h"
#include "util/result.h"

namespace traceledger::chain {

class Store;

enum class ProofErrorCode {
  kIndexOutOfRange,  // inclusion: leaf index >= tree size
  kSizeOutOfRange,   // consistency: old size > new size; generation: size beyond the log
  kBadNodeCount,     // more or fewer hashes than (index, size) / (old, new) require
  kRootMismatch,     // inclusion: the path does not lead to the root
  kOldRootMismatch,  // consistency: the proof does not lead to the old root
  kNewRootMismatch,  // consistency: the proof does not lead to the new root
  kStore,            // generation: a node hash could not be read
};

// Stable lowercase names ("bad_node_count", ...) used by the CLI and docs.
std::string_view ProofErrorCodeName(ProofErrorCode code);

struct ProofError {
  ProofErrorCode code;
  std::string message;
};

template <typename T>
using ProofResult = Result<T, ProofError>;

// Hashes of perfect subtrees. Node (level, index) is the root of the 2^level
// leaves [index << level, (index + 1) << level).
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // REQUIRES: the subtree lies within the log ((index + 1) << level <= size).
  virtual ProofResult<Hash> Node(unsigned level, uint64_t index) = 0;
};

// Nodes computed from leaf hashes held in memory; O(2^level) per node.
class LeafVectorSource : public NodeSource {
 public:
  explicit LeafVectorSource(std::span<const Hash> leaves) : leaves_(leaves) {}
  ProofResult<Hash> Node(unsigned level, uint64_t index) override;

 private:
  std::span<const Hash> leaves_;
};

// Nodes read from the store's node hashes (levels 0, 4, 8, ...), combining
// at most 8 stored hashes per node. Reads whole tiles (the 16 consecutive
// stored hashes of a level that one node at the next stored level covers,
// or fewer at the right edge) and keeps the last few, so a proof costs
// about one read per 4 tree levels. Serves the log as of construction (the
// store's tip then); nodes are write-once, so later appends do not matter.
// Not thread-safe; make one per thread.
class StoreNodeSource : public NodeSource {
 public:
  explicit StoreNodeSource(const Store& store);
  ProofResult<Hash> Node(unsigned level, uint64_t index) override;

 private:
  struct Tile {
    unsigned level;
    uint64_t index;
    std::vector<Hash> hashes;
  };
  ProofResult<const Tile*> GetTile(unsigned level, uint64_t index);

  const Store& store_;
  uint64_t size_;
  std::vector<Tile> tiles_;  // most recently read, at most kCachedTiles
};

// MTH(D[0:size]) (EmptyRoot() for 0).
[[nodiscard]] ProofResult<Hash> RootAt(NodeSource& nodes, uint64_t size);

// RFC 9162 §2.1.3.1 PATH(index, D[0:size]), leaf-level sibling first.
// kIndexOutOfRange unless index < size. The caller guarantees that size is
// within the log the source holds.
[[nodiscard]] ProofResult<std::vector<Hash>> InclusionProof(NodeSource& nodes, uint64_t index, uint64_t size);

// RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]); empty when old_size is
// 0 or equals new_size (as C2SP tlog-witness requires). kSizeOutOfRange if
// old_size > new_size.
[[nodiscard]] ProofResult<std::vector<Hash>> ConsistencyProof(NodeSource& nodes, uint64_t old_size,
                                                              uint64_t new_size);

// Number of hashes a valid proof has. REQUIRES: index < size; old <= new.
size_t InclusionProofLength(uint64_t index, uint64_t size);
size_t ConsistencyProofLength(uint64_t old_size, uint64_t new_size);

// RFC 9162 §2.1.3.2. Checks, in order: index < size (kIndexOutOfRange), the
// number of hashes (kBadNodeCount), the root (kRootMismatch).
[[nodiscard]] ProofResult<void> VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                                std::span<const Hash> proof, const Hash& root);

// RFC 9162 §2.1.4.2. Checks, in order: old <= new (kSizeOutOfRange), the
// number of hashes (kBadNodeCount; none when old is 0 or old == new), then
// for old == new that the roots are equal (kNewRootMismatch), else the
// old root (kOldRootMismatch) and the new root (kNewRootMismatch). With
// old_size 0 every tree is consistent and old_root is not looked at.
[[nodiscard]] ProofResult<void> VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                                                  const Hash& new_root, std::span<const Hash> proof);

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_PROOF_H_
