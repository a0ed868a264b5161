#include "chain/keccak.h"

#include <crypto++/keccak.h>

namespace traceledger::chain {

Hash Keccak256(std::span<const uint8_t> data) {
  // Keccak_256 is Crypto++'s Keccak with the original 0x01 padding
  // (its SHA3_256 is the FIPS 202 variant, which Ethereum does not use).
  CryptoPP::Keccak_256 keccak;
  static_assert(CryptoPP::Keccak_256::DIGESTSIZE == sizeof(Hash));
  Hash out;
  keccak.CalculateDigest(out.data(), data.data(), data.size());
  return out;
}

Hash Keccak256(std::string_view data) {
  return Keccak256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
}

}  // namespace traceledger::chain
