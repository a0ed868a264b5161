// Block headers: the signed, hash-linked spine of the log.
//
// A block appends `record_count` entries to the log. Its header commits to
// the previous header, to the whole log after the block (RFC 9162 tree size
// and root), to the time the operator sealed it, and to the operator key
// that signs it. Header bytes are fixed-size, big-endian (docs/FORMAT.md):
//
//   offset size field
//        0    4 magic "TLB1"
//        4    8 height            (genesis is 0)
//       12   32 prev_hash         (32 zero bytes for genesis)
//       44    8 tree_size         (entries in the log after this block)
//       52   32 root              (RFC 9162 root of those tree_size entries)
//       84    8 timestamp_ms      (Unix time in milliseconds)
//       92    4 record_count      (entries added by this block)
//       96   32 signer            (operator's x-only public key)
//      128                        total
//
// block hash = SHA-256(header bytes); the signature is BIP-340 by `signer`
// over the 32-byte block hash. A stored block is header || signature
// (192 bytes).
#ifndef TRACELEDGER_CHAIN_BLOCK_H_
#define TRACELEDGER_CHAIN_BLOCK_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chain/hash.h"
#include "wallet/key.h"

namespace traceledger::chain {

inline constexpr size_t kHeaderSize = 128;
inline constexpr size_t kSignedBlockSize = kHeaderSize + 64;
// The most records one block may hold. Writers never seal more; auditors
// treat a header claiming more as damaged rather than allocate for it.
inline constexpr uint32_t kMaxBlockRecords = 1'000'000;

struct BlockHeader {
  uint64_t height = 0;
  Hash prev_hash{};
  uint64_t tree_size = 0;
  Hash root{};
  uint64_t timestamp_ms = 0;
  uint32_t record_count = 0;
  std::array<uint8_t, 32> signer{};

  // Index of the first entry this block adds.
  uint64_t first_index() const { return tree_size - record_count; }

  std::string Serialize() const;
  // Returns nullopt unless `bytes` is kHeaderSize long with the right magic
  // and record_count <= tree_size.
  static std::optional<BlockHeader> Parse(std::string_view bytes);
  Hash ComputeHash() const;

  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct SignedBlock {
  BlockHeader header;
  wallet::Signature signature{};

  std::string Serialize() const;
  static std::optional<SignedBlock> Parse(std::string_view bytes);

  // Signs header.ComputeHash() with `key`; REQUIRES: header.signer equals
  // key's public key.
  static SignedBlock Seal(const BlockHeader& header, const wallet::SecretKey& key);
  // True when the signature is a valid BIP-340 signature by header.signer.
  bool VerifySignature() const;
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_BLOCK_H_
