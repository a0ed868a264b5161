#include "chain/block.h"

#include <cassert>
#include <cstring>

#include "util/encoding.h"

namespace traceledger::chain {
namespace {

constexpr char kMagic[4] = {'T', 'L', 'B', '1'};

}  // namespace

std::string BlockHeader::Serialize() const {
  std::string out(kHeaderSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kMagic, 4);
  PutBigEndian64(height, p + 4);
  std::memcpy(p + 12, prev_hash.data(), 32);
  PutBigEndian64(tree_size, p + 44);
  std::memcpy(p + 52, root.data(), 32);
  PutBigEndian64(timestamp_ms, p + 84);
  PutBigEndian32(record_count, p + 92);
  std::memcpy(p + 96, signer.data(), 32);
  return out;
}

std::optional<BlockHeader> BlockHeader::Parse(std::string_view bytes) {
  if (bytes.size() != kHeaderSize || std::memcmp(bytes.data(), kMagic, 4) != 0) return std::nullopt;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  BlockHeader h;
  h.height = GetBigEndian64(p + 4);
  std::memcpy(h.prev_hash.data(), p + 12, 32);
  h.tree_size = GetBigEndian64(p + 44);
  std::memcpy(h.root.data(), p + 52, 32);
  h.timestamp_ms = GetBigEndian64(p + 84);
  h.record_count = GetBigEndian32(p + 92);
  std::memcpy(h.signer.data(), p + 96, 32);
  if (h.record_count > h.tree_size) return std::nullopt;
  return h;
}

Hash BlockHeader::ComputeHash() const { return Sha256(Serialize()); }

std::string SignedBlock::Serialize() const {
  std::string out = header.Serialize();
  out.append(reinterpret_cast<const char*>(signature.data()), signature.size());
  return out;
}

std::optional<SignedBlock> SignedBlock::Parse(std::string_view bytes) {
  if (bytes.size() != kSignedBlockSize) return std::nullopt;
  auto header = BlockHeader::Parse(bytes.substr(0, kHeaderSize));
  if (!header) return std::nullopt;
  SignedBlock block;
  block.header = *header;
  std::memcpy(block.signature.data(), bytes.data() + kHeaderSize, 64);
  return block;
}

SignedBlock SignedBlock::Seal(const BlockHeader& header, const wallet::SecretKey& key) {
  assert(header.signer == key.Public().bytes());
  SignedBlock block;
  block.header = header;
  Hash h = header.ComputeHash();
  block.signature = key.Sign(h);
  return block;
}

bool SignedBlock::VerifySignature() const {
  auto key = wallet::PublicKey::Parse(header.signer);
  if (!key) return false;
  Hash h = header.ComputeHash();
  return key->Verify(h, signature);
}

}  // namespace traceledger::chain
