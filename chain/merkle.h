// The RFC 9162 §2.1 Merkle tree over log entries:
//   MTH({})        = SHA-256()
//   leaf hash      = SHA-256(0x00 || entry)
//   node hash      = SHA-256(0x01 || left || right)
//   MTH(D[n])      = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of
//                    two smaller than n.
// MerkleFrontier keeps only the roots of the perfect subtrees along the
// right edge (at most 64 hashes), so a log of any size is extended and its
// root computed in O(log n) memory.
#ifndef TRACELEDGER_CHAIN_MERKLE_H_
#define TRACELEDGER_CHAIN_MERKLE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chain/hash.h"

namespace traceledger::chain {

Hash LeafHash(std::span<const uint8_t> entry);
Hash LeafHash(std::string_view entry);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// Reference implementation straight from the RFC's recursive definition,
// over leaf hashes. O(n) memory; for tests and small trees.
Hash MerkleRootOfLeaves(std::span<const Hash> leaf_hashes);

class MerkleFrontier {
 public:
  MerkleFrontier() = default;

  uint64_t size() const { return size_; }
  void AppendLeaf(const Hash& leaf_hash);
  // Same, and calls on_node(level, index, hash) for every perfect subtree
  // the leaf completes, bottom-up: the leaf itself (level 0, index =
  // size() before the call), then each merge (level l covers leaves
  // [index << l, (index + 1) << l)).
  template <typename OnNode>
  void AppendLeaf(const Hash& leaf_hash, OnNode&& on_node) {
    const uint64_t leaf_index = size_;
    on_node(0u, leaf_index, leaf_hash);
    Hash carry = leaf_hash;
    unsigned level = 0;
    for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
      carry = NodeHash(nodes_.back(), carry);
      nodes_.pop_back();
      ++level;
      on_node(level, leaf_index >> level, carry);
    }
    nodes_.push_back(carry);
    ++size_;
  }
  // Root of the tree of size(); EmptyRoot() when empty.
  Hash Root() const;

  // Serialized as 8-byte big-endian size followed by popcount(size) hashes,
  // largest subtree first.
  std::string Serialize() const;
  // Returns nullopt if the bytes are not a valid serialization.
  static std::optional<MerkleFrontier> Deserialize(std::string_view bytes);

  friend bool operator==(const MerkleFrontier&, const MerkleFrontier&) = default;

 private:
  uint64_t size_ = 0;
  // Subtree roots, largest (leftmost) first; one per set bit of size_.
  std::vector<Hash> nodes_;
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_MERKLE_H_
