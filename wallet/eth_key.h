// ECDSA over secp256k1 with public-key recovery, as Ethereum transactions
// use it, through libsecp256k1's recovery module. The keys are the same
// SecretKey as for BIP-340 (wallet/key.h), so an anchoring key lives in an
// ordinary keystore file (wallet/keystore.h).
//
// Only the curve operations are here: the Ethereum address is the last 20
// bytes of Keccak-256 over the 64-byte public key, and Keccak comes from the
// chain layer (chain/eth_tx.h, EthAddressOf), which is the only layer that
// sees Crypto++.
#ifndef TRACELEDGER_WALLET_ETH_KEY_H_
#define TRACELEDGER_WALLET_ETH_KEY_H_

#include <array>
#include <cstdint>
#include <optional>

#include "wallet/key.h"

namespace traceledger::wallet {

// An uncompressed public key without its 0x04 prefix: X || Y, 32 bytes each,
// big-endian. This is the form Ethereum hashes into an address.
using EcdsaPublicKey = std::array<uint8_t, 64>;

// A signature (r, s) and the recovery id: the parity of the y coordinate
// of the point R, which Ethereum calls yParity (v = 27 + id, or
// 35 + 2 * chain_id + id under EIP-155). Produced signatures always have
// a "low" s (s <= n/2, EIP-2) and a recovery id of 0 or 1.
struct RecoverableSignature {
  std::array<uint8_t, 32> r{};
  std::array<uint8_t, 32> s{};
  uint8_t recovery_id = 0;
};

EcdsaPublicKey EcdsaPublicKeyOf(const SecretKey& key);

// Signs a 32-byte digest with a deterministic RFC 6979 nonce, so the same
// key and digest always give the same signature (what the published
// EIP-155 example expects).
RecoverableSignature SignRecoverable(const SecretKey& key, const std::array<uint8_t, 32>& digest);

// The public key that produced `sig` over `digest`. Returns nullopt when r
// or s is zero or not below the group order, s is high (EIP-2: such
// signatures are malleable copies and Ethereum rejects them), the recovery
// id is not 0 or 1, or no point recovers.
std::optional<EcdsaPublicKey> RecoverPublicKey(const std::array<uint8_t, 32>& digest,
                                               const RecoverableSignature& sig);

}  // namespace traceledger::wallet

#endif  // TRACELEDGER_WALLET_ETH_KEY_H_
