// SHA-256 (from OpenSSL) and the 32-byte Hash type used throughout the log.
#ifndef TRACELEDGER_CHAIN_HASH_H_
#define TRACELEDGER_CHAIN_HASH_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace traceledger::chain {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::span<const uint8_t> data);
Hash Sha256(std::string_view data);

// Incremental SHA-256 for data that comes in pieces.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  Sha256Hasher& Update(std::span<const uint8_t> data);
  Sha256Hasher& Update(std::string_view data);
  // Returns the digest; the hasher must not be used afterwards.
  Hash Finish();

 private:
  void* ctx_;  // EVP_MD_CTX*, opaque here
};

std::string HashHex(const Hash& h);
// Returns nullopt unless `hex` is exactly 64 hex digits.
std::optional<Hash> HashFromHex(std::string_view hex);

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_HASH_H_
