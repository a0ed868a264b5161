#include "chain/merkle.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "util/encoding.h"

namespace traceledger::chain {
namespace {

// RFC 9162 §2.1.1 domain separation: leaves and interior nodes are hashed
// with different prefixes so a leaf can never be passed off as a node
// (second-preimage attack on the tree).
constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// Entries up to this size are prefixed in a stack buffer and hashed in one
// shot; larger ones go through the incremental hasher instead of a copy.
constexpr size_t kStackLeafMax = 1024;

constexpr size_t kSizeBytes = 8;

// Largest power of two strictly smaller than n. REQUIRES: n >= 2.
size_t SplitPoint(size_t n) { return std::bit_floor(n - 1); }

}  // namespace

Hash LeafHash(std::span<const uint8_t> entry) {
  if (entry.size() <= kStackLeafMax) {
    std::array<uint8_t, 1 + kStackLeafMax> buf;
    buf[0] = kLeafPrefix;
    if (!entry.empty()) std::memcpy(buf.data() + 1, entry.data(), entry.size());
    return Sha256(std::span<const uint8_t>(buf.data(), 1 + entry.size()));
  }
  const uint8_t prefix[1] = {kLeafPrefix};
  Sha256Hasher hasher;
  hasher.Update(prefix).Update(entry);
  return hasher.Finish();
}

Hash LeafHash(std::string_view entry) {
  return LeafHash(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(entry.data()), entry.size()));
}

Hash NodeHash(const Hash& left, const Hash& right) {
  std::array<uint8_t, 1 + 2 * sizeof(Hash)> buf;
  buf[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buf.begin() + 1);
  std::copy(right.begin(), right.end(), buf.begin() + 1 + left.size());
  return Sha256(buf);
}

Hash EmptyRoot() { return Sha256(std::span<const uint8_t>()); }

Hash MerkleRootOfLeaves(std::span<const Hash> leaf_hashes) {
  const size_t n = leaf_hashes.size();
  if (n == 0) return EmptyRoot();
  if (n == 1) return leaf_hashes[0];
  const size_t k = SplitPoint(n);
  return NodeHash(MerkleRootOfLeaves(leaf_hashes.first(k)), MerkleRootOfLeaves(leaf_hashes.subspan(k)));
}

// nodes_ mirrors the binary representation of size_: appending a leaf is
// incrementing a binary counter, where each carry merges the two rightmost
// perfect subtrees of equal size into one of twice the size.
// REQUIRES: size() < 2^64 - 1 (unreachable in practice).
void MerkleFrontier::AppendLeaf(const Hash& leaf_hash) {
  AppendLeaf(leaf_hash, [](unsigned, uint64_t, const Hash&) {});
}

// The RFC's recursive split always puts the largest perfect subtree on the
// left, so the root is the right-to-left fold of the frontier: the smallest
// subtree is the rightmost child at the bottom of the right spine.
Hash MerkleFrontier::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  Hash acc = nodes_.back();
  for (size_t i = nodes_.size() - 1; i-- > 0;) acc = NodeHash(nodes_[i], acc);
  return acc;
}

std::string MerkleFrontier::Serialize() const {
  std::string out(kSizeBytes + nodes_.size() * sizeof(Hash), '\0');
  uint8_t size_be[kSizeBytes];
  PutBigEndian64(size_, size_be);
  std::memcpy(out.data(), size_be, kSizeBytes);
  char* p = out.data() + kSizeBytes;
  for (const Hash& h : nodes_) {
    std::memcpy(p, h.data(), h.size());
    p += h.size();
  }
  return out;
}

std::optional<MerkleFrontier> MerkleFrontier::Deserialize(std::string_view bytes) {
  if (bytes.size() < kSizeBytes) return std::nullopt;
  uint8_t size_be[kSizeBytes];
  std::memcpy(size_be, bytes.data(), kSizeBytes);
  const uint64_t size = GetBigEndian64(size_be);
  const size_t count = static_cast<size_t>(std::popcount(size));
  if (bytes.size() != kSizeBytes + count * sizeof(Hash)) return std::nullopt;
  MerkleFrontier frontier;
  frontier.size_ = size;
  frontier.nodes_.resize(count);
  const char* p = bytes.data() + kSizeBytes;
  for (Hash& h : frontier.nodes_) {
    std::memcpy(h.data(), p, h.size());
    p += h.size();
  }
  return frontier;
}

}  // namespace traceledger::chain
