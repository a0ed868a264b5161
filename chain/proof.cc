#include "chain/proof.h"

#include <algorithm>
#include <array>
#include <bit>

#include "chain/merkle.h"
#include "chain/store.h"

namespace traceledger::chain {
namespace {

// Largest power of two strictly smaller than n. REQUIRES: n >= 2.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

unsigned Log2(uint64_t power_of_two) { return static_cast<unsigned>(std::countr_zero(power_of_two)); }

ProofError Error(ProofErrorCode code, std::string message) { return ProofError{code, std::move(message)}; }

// MTH(D[begin:end]) for a range the RFC's recursion produces: begin is a
// multiple of the smallest power of two >= end - begin, so the range is
// the perfect subtrees of the binary decomposition of its size, largest
// (leftmost) first, folded from the right (as MerkleFrontier::Root).
// REQUIRES: begin < end.
ProofResult<Hash> RangeHash(NodeSource& nodes, uint64_t begin, uint64_t end) {
  std::array<Hash, 64> parts;
  size_t count = 0;
  for (uint64_t pos = begin; pos < end;) {
    const uint64_t width = std::bit_floor(end - pos);
    auto node = nodes.Node(Log2(width), pos >> Log2(width));
    if (!node.ok()) return node.error();
    parts[count++] = *node;
    pos += width;
  }
  Hash acc = parts[count - 1];
  for (size_t i = count - 1; i-- > 0;) acc = NodeHash(parts[i], acc);
  return acc;
}

// Walks PATH(index, D[0:size]) top-down, calling fn(begin, end) for each
// subtree hash the proof holds (root-level sibling first).
template <typename Fn>
void WalkInclusion(uint64_t index, uint64_t size, Fn&& fn) {
  uint64_t lo = 0, n = size, m = index;
  while (n > 1) {
    const uint64_t k = SplitPoint(n);
    if (m < k) {
      fn(lo + k, lo + n);
      n = k;
    } else {
      fn(lo, lo + k);
      lo += k;
      m -= k;
      n -= k;
    }
  }
}

// Walks SUBPROOF(old, D[0:new], true) top-down, as WalkInclusion.
// REQUIRES: 0 < old_size < new_size.
template <typename Fn>
void WalkConsistency(uint64_t old_size, uint64_t new_size, Fn&& fn) {
  uint64_t lo = 0, m = old_size, n = new_size;
  bool whole_old_tree = true;  // the RFC's flag b
  while (m != n) {
    const uint64_t k = SplitPoint(n);
    if (m <= k) {
      fn(lo + k, lo + n);
      n = k;
    } else {
      fn(lo, lo + k);
      lo += k;
      m -= k;
      n -= k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) fn(lo, lo + m);
}

template <typename Walk>
ProofResult<std::vector<Hash>> Collect(NodeSource& nodes, Walk&& walk) {
  std::vector<Hash> path;
  std::optional<ProofError> failed;
  walk([&](uint64_t begin, uint64_t end) {
    if (failed) return;
    auto h = RangeHash(nodes, begin, end);
    if (!h.ok()) {
      failed = h.error();
      return;
    }
    path.push_back(*h);
  });
  if (failed) return *failed;
  std::reverse(path.begin(), path.end());
  return path;
}

// The loop shared by RFC 9162 §2.1.3.2 (step 4) and §2.1.4.2 (step 6):
// for each hash c, on_left(c) when c is a left sibling (fn odd or fn ==
// sn), else on_right(c), shifting fn and sn as the RFC says. False if the
// path is longer or shorter than (fn, sn) allow.
template <typename Left, typename Right>
bool Climb(std::span<const Hash> path, uint64_t fn, uint64_t sn, Left&& on_left, Right&& on_right) {
  for (const Hash& c : path) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      on_left(c);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      on_right(c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0;
}

std::string Count(size_t got, size_t want) {
  return "the proof has " + std::to_string(got) + " hashes, " + std::to_string(want) + " expected";
}

}  // namespace

std::string_view ProofErrorCodeName(ProofErrorCode code) {
  switch (code) {
    case ProofErrorCode::kIndexOutOfRange:
      return "index_out_of_range";
    case ProofErrorCode::kSizeOutOfRange:
      return "size_out_of_range";
    case ProofErrorCode::kBadNodeCount:
      return "bad_node_count";
    case ProofErrorCode::kRootMismatch:
      return "root_mismatch";
    case ProofErrorCode::kOldRootMismatch:
      return "old_root_mismatch";
    case ProofErrorCode::kNewRootMismatch:
      return "new_root_mismatch";
    case ProofErrorCode::kStore:
      return "store";
  }
  return "unknown";
}

ProofResult<Hash> LeafVectorSource::Node(unsigned level, uint64_t index) {
  const uint64_t width = uint64_t{1} << level;
  if (level >= 63 || index > (leaves_.size() >> level) || (index + 1) * width > leaves_.size()) {
    return Error(ProofErrorCode::kSizeOutOfRange, "node beyond the leaves");
  }
  return MerkleRootOfLeaves(leaves_.subspan(index * width, width));
}

StoreNodeSource::StoreNodeSource(const Store& store)
    : store_(store), size_(store.tip() ? store.tip()->frontier.size() : 0) {}

ProofResult<const StoreNodeSource::Tile*> StoreNodeSource::GetTile(unsigned level, uint64_t index) {
  for (const Tile& t : tiles_) {
    if (t.level == level && t.index == index) return &t;
  }
  constexpr uint64_t kTileWidth = uint64_t{1} << kNodeLevelStride;
  constexpr size_t kCachedTiles = 32;
  const uint64_t first = index * kTileWidth;
  const uint64_t available = size_ >> level;
  if (first >= available) return Error(ProofErrorCode::kStore, "node beyond the log");
  auto read = store_.GetNodes(level, first, std::min(kTileWidth, available - first));
  if (!read.ok()) return Error(ProofErrorCode::kStore, read.error().message);
  if (tiles_.size() == kCachedTiles) tiles_.erase(tiles_.begin());
  tiles_.push_back(Tile{level, index, std::move(read).value()});
  return &tiles_.back();
}

ProofResult<Hash> StoreNodeSource::Node(unsigned level, uint64_t index) {
  const unsigned stored = level - level % kNodeLevelStride;
  const unsigned up = level - stored;
  const uint64_t first = index << up;
  auto tile = GetTile(stored, first >> kNodeLevelStride);
  if (!tile.ok()) return tile.error();
  const std::vector<Hash>& hashes = (*tile)->hashes;
  const size_t offset = first & ((uint64_t{1} << kNodeLevelStride) - 1);
  const size_t width = size_t{1} << up;
  if (offset + width > hashes.size()) return Error(ProofErrorCode::kStore, "node beyond the log");
  // Combine pairwise, level by level.
  std::array<Hash, size_t{1} << (kNodeLevelStride - 1)> work;
  if (width == 1) return hashes[offset];
  for (size_t i = 0; i < width / 2; ++i)
    work[i] = NodeHash(hashes[offset + 2 * i], hashes[offset + 2 * i + 1]);
  for (size_t w = width / 2; w > 1; w /= 2) {
    for (size_t i = 0; i < w / 2; ++i) work[i] = NodeHash(work[2 * i], work[2 * i + 1]);
  }
  return work[0];
}

ProofResult<Hash> RootAt(NodeSource& nodes, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return RangeHash(nodes, 0, size);
}

ProofResult<std::vector<Hash>> InclusionProof(NodeSource& nodes, uint64_t index, uint64_t size) {
  if (index >= size) {
    return Error(ProofErrorCode::kIndexOutOfRange,
                 "index " + std::to_string(index) + " is not below tree size " + std::to_string(size));
  }
  return Collect(nodes, [&](auto&& fn) { WalkInclusion(index, size, fn); });
}

ProofResult<std::vector<Hash>> ConsistencyProof(NodeSource& nodes, uint64_t old_size, uint64_t new_size) {
  if (old_size > new_size) {
    return Error(ProofErrorCode::kSizeOutOfRange, "old size " + std::to_string(old_size) +
                                                      " is larger than new size " + std::to_string(new_size));
  }
  if (old_size == 0 || old_size == new_size) return std::vector<Hash>();
  return Collect(nodes, [&](auto&& fn) { WalkConsistency(old_size, new_size, fn); });
}

size_t InclusionProofLength(uint64_t index, uint64_t size) {
  size_t n = 0;
  WalkInclusion(index, size, [&](uint64_t, uint64_t) { ++n; });
  return n;
}

size_t ConsistencyProofLength(uint64_t old_size, uint64_t new_size) {
  if (old_size == 0 || old_size >= new_size) return 0;
  size_t n = 0;
  WalkConsistency(old_size, new_size, [&](uint64_t, uint64_t) { ++n; });
  return n;
}

ProofResult<void> VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                  std::span<const Hash> proof, const Hash& root) {
  if (index >= size) {
    return Error(ProofErrorCode::kIndexOutOfRange,
                 "index " + std::to_string(index) + " is not below tree size " + std::to_string(size));
  }
  const size_t want = InclusionProofLength(index, size);
  if (proof.size() != want) return Error(ProofErrorCode::kBadNodeCount, Count(proof.size(), want));
  // RFC 9162 §2.1.3.2.
  Hash r = leaf_hash;
  if (!Climb(
          proof, index, size - 1, [&](const Hash& p) { r = NodeHash(p, r); },
          [&](const Hash& p) { r = NodeHash(r, p); })) {
    return Error(ProofErrorCode::kBadNodeCount, "the proof does not fit the path");
  }
  if (r != root) {
    return Error(ProofErrorCode::kRootMismatch, "the path leads to " + HashHex(r) + ", not the root " +
                                                    HashHex(root) + " of size " + std::to_string(size));
  }
  return {};
}

ProofResult<void> VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                                    const Hash& new_root, std::span<const Hash> proof) {
  if (old_size > new_size) {
    return Error(ProofErrorCode::kSizeOutOfRange, "old size " + std::to_string(old_size) +
                                                      " is larger than new size " + std::to_string(new_size));
  }
  const size_t want = ConsistencyProofLength(old_size, new_size);
  if (proof.size() != want) return Error(ProofErrorCode::kBadNodeCount, Count(proof.size(), want));
  if (old_size == 0) return {};
  if (old_size == new_size) {
    if (old_root != new_root) {
      return Error(ProofErrorCode::kNewRootMismatch,
                   "same size " + std::to_string(new_size) + " with two different roots");
    }
    return {};
  }
  // RFC 9162 §2.1.4.2.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) path.push_back(old_root);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  if (!Climb(
          std::span<const Hash>(path).subspan(1), fn, sn,
          [&](const Hash& c) {
            fr = NodeHash(c, fr);
            sr = NodeHash(c, sr);
          },
          [&](const Hash& c) { sr = NodeHash(sr, c); })) {
    return Error(ProofErrorCode::kBadNodeCount, "the proof does not fit the path");
  }
  if (fr != old_root) {
    return Error(ProofErrorCode::kOldRootMismatch,
                 "the proof leads to " + HashHex(fr) + ", not the old root " + HashHex(old_root));
  }
  if (sr != new_root) {
    return Error(ProofErrorCode::kNewRootMismatch,
                 "the proof leads to " + HashHex(sr) + ", not the new root " + HashHex(new_root));
  }
  return {};
}

}  // namespace traceledger::chain
