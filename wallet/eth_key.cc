#include "wallet/eth_key.h"

#include <openssl/crypto.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <cstring>

#include "wallet/secp256k1_context.h"

namespace traceledger::wallet {
namespace {

using internal::Fatal;

const secp256k1_context* Ctx() { return internal::Secp256k1Context(); }

EcdsaPublicKey SerializeUncompressed(const secp256k1_pubkey& pk) {
  unsigned char out[65];
  size_t len = sizeof(out);
  if (!secp256k1_ec_pubkey_serialize(Ctx(), out, &len, &pk, SECP256K1_EC_UNCOMPRESSED) || len != 65) {
    Fatal("secp256k1_ec_pubkey_serialize failed");
  }
  EcdsaPublicKey key;
  std::memcpy(key.data(), out + 1, 64);  // drop the 0x04 prefix
  return key;
}

}  // namespace

EcdsaPublicKey EcdsaPublicKeyOf(const SecretKey& key) {
  secp256k1_pubkey pk;
  // The secret was range-checked when the SecretKey was made.
  if (!secp256k1_ec_pubkey_create(Ctx(), &pk, key.bytes().data())) Fatal("secp256k1_ec_pubkey_create failed");
  return SerializeUncompressed(pk);
}

RecoverableSignature SignRecoverable(const SecretKey& key, const std::array<uint8_t, 32>& digest) {
  // libsecp256k1's default nonce is RFC 6979 and its signatures are always
  // low-s. The recovery id is 2 or 3 only when r overflowed the group order
  // (probability below 2^-127); Ethereum cannot express that, so in that
  // case sign again with extra nonce data, which gives another nonce.
  for (uint32_t attempt = 0;; ++attempt) {
    std::array<uint8_t, 32> extra{};
    std::memcpy(extra.data(), &attempt, sizeof(attempt));
    secp256k1_ecdsa_recoverable_signature sig;
    if (!secp256k1_ecdsa_sign_recoverable(Ctx(), &sig, digest.data(), key.bytes().data(),
                                          secp256k1_nonce_function_rfc6979,
                                          attempt == 0 ? nullptr : extra.data())) {
      Fatal("secp256k1_ecdsa_sign_recoverable failed");
    }
    unsigned char compact[64];
    int recid = -1;
    if (!secp256k1_ecdsa_recoverable_signature_serialize_compact(Ctx(), compact, &recid, &sig)) {
      Fatal("secp256k1_ecdsa_recoverable_signature_serialize_compact failed");
    }
    OPENSSL_cleanse(&sig, sizeof(sig));
    if (recid != 0 && recid != 1) continue;
    RecoverableSignature out;
    std::memcpy(out.r.data(), compact, 32);
    std::memcpy(out.s.data(), compact + 32, 32);
    out.recovery_id = static_cast<uint8_t>(recid);
    return out;
  }
}

std::optional<EcdsaPublicKey> RecoverPublicKey(const std::array<uint8_t, 32>& digest,
                                               const RecoverableSignature& sig) {
  if (sig.recovery_id > 1) return std::nullopt;
  unsigned char compact[64];
  std::memcpy(compact, sig.r.data(), 32);
  std::memcpy(compact + 32, sig.s.data(), 32);
  // parse_compact rejects r or s >= n; zero values are rejected by recover.
  secp256k1_ecdsa_recoverable_signature rsig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(Ctx(), &rsig, compact, sig.recovery_id)) {
    return std::nullopt;
  }
  // EIP-2: s must be in the lower half. normalize() returns 1 when it had to
  // lower s, i.e. when the input was high.
  secp256k1_ecdsa_signature plain;
  if (!secp256k1_ecdsa_recoverable_signature_convert(Ctx(), &plain, &rsig)) return std::nullopt;
  if (secp256k1_ecdsa_signature_normalize(Ctx(), nullptr, &plain)) return std::nullopt;
  secp256k1_pubkey pk;
  if (!secp256k1_ecdsa_recover(Ctx(), &pk, &rsig, digest.data())) return std::nullopt;
  return SerializeUncompressed(pk);
}

}  // namespace traceledger::wallet
