// BIP-340 Schnorr keys and signatures over secp256k1, through libsecp256k1.
//
// This is the only place in TraceLedger that calls secp256k1_*. All
// operations share one context, created on first use and randomized with
// OS entropy (side-channel blinding); using it concurrently is safe because
// it is never modified after creation.
//
// Key ids: the first 8 bytes of the BIP-340 tagged hash
// SHA256(SHA256(tag)||SHA256(tag)||pubkey32) with tag "TraceLedger/keyid",
// written as 16 lowercase hex digits. See docs/FORMAT.md.
#ifndef TRACELEDGER_WALLET_KEY_H_
#define TRACELEDGER_WALLET_KEY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace traceledger::wallet {

using Signature = std::array<uint8_t, 64>;

// An x-only public key (BIP-340). Holds the 32 serialized bytes and the
// parsed point, so verification does not re-parse it.
class PublicKey {
 public:
  // Returns nullopt unless `bytes` is 32 bytes encoding an x coordinate on
  // the curve.
  static std::optional<PublicKey> Parse(std::span<const uint8_t> bytes);
  // Same, from 64 hex digits.
  static std::optional<PublicKey> FromHex(std::string_view hex);

  const std::array<uint8_t, 32>& bytes() const { return bytes_; }
  std::string Hex() const;
  // 16 lowercase hex digits; see the header comment.
  std::string KeyId() const;

  // Verifies a BIP-340 signature over a message of any length.
  bool Verify(std::span<const uint8_t> msg, std::span<const uint8_t> sig64) const;

  friend bool operator==(const PublicKey& a, const PublicKey& b) { return a.bytes_ == b.bytes_; }

 private:
  PublicKey() = default;
  std::array<uint8_t, 32> bytes_{};
  std::array<uint8_t, 64> parsed_{};  // secp256k1_xonly_pubkey, opaque here
  friend class SecretKey;
};

// A secp256k1 secret key. The secret bytes (and the cached keypair) are
// wiped on destruction and on move-from.
class SecretKey {
 public:
  // Fresh key from the OS CSPRNG (OpenSSL RAND_bytes).
  static SecretKey Generate();
  // Returns nullopt unless `bytes` is 32 bytes in [1, n-1].
  static std::optional<SecretKey> FromBytes(std::span<const uint8_t> bytes);

  SecretKey(const SecretKey& other);
  SecretKey& operator=(const SecretKey& other);
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  ~SecretKey();

  const PublicKey& Public() const { return public_; }
  // The 32 secret bytes; handle with care (used by the keystore only).
  const std::array<uint8_t, 32>& bytes() const { return secret_; }

  // BIP-340 signature over `msg` (any length). aux_rand32 is the BIP-340
  // auxiliary randomness; when null, 32 fresh random bytes are used.
  Signature Sign(std::span<const uint8_t> msg, const std::array<uint8_t, 32>* aux_rand32 = nullptr) const;

 private:
  SecretKey() = default;
  void Wipe();
  std::array<uint8_t, 32> secret_{};
  std::array<uint8_t, 96> keypair_{};  // secp256k1_keypair, opaque here
  PublicKey public_;
};

// BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || msg).
std::array<uint8_t, 32> TaggedHash(std::string_view tag, std::span<const uint8_t> msg);

}  // namespace traceledger::wallet

#endif  // TRACELEDGER_WALLET_KEY_H_
