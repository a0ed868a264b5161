// Keccak-256, the hash Ethereum uses for addresses, transaction hashes and
// signing hashes, from Crypto++ (libcrypto++), which no other header sees.
//
// This is the original Keccak submission with padding byte 0x01, NOT the
// FIPS 202 SHA3-256 (padding 0x06): the two give different digests for
// every input. Keccak-256("") = c5d24601…5d85a470.
#ifndef TRACELEDGER_CHAIN_KECCAK_H_
#define TRACELEDGER_CHAIN_KECCAK_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "chain/hash.h"

namespace traceledger::chain {

Hash Keccak256(std::span<const uint8_t> data);
Hash Keccak256(std::string_view data);

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_KECCAK_H_
