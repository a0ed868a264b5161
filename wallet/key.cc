#include "wallet/key.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "util/encoding.h"
#include "wallet/random.h"
#include "wallet/secp256k1_context.h"

namespace traceledger::wallet {
namespace {

using internal::Fatal;

// The opaque libsecp256k1 structs are stored as byte arrays in key.h so that
// its headers do not leak; these keep the two definitions in step.
static_assert(sizeof(secp256k1_xonly_pubkey) == sizeof(std::array<uint8_t, 64>));
static_assert(sizeof(secp256k1_keypair) == sizeof(std::array<uint8_t, 96>));

constexpr std::string_view kKeyIdTag = "TraceLedger/keyid";

// RAII owner of the process-wide context.
class Context {
 public:
  Context() : ctx_(secp256k1_context_create(SECP256K1_CONTEXT_NONE)) {
    if (ctx_ == nullptr) Fatal("secp256k1_context_create failed");
    // Randomization blinds the secret-dependent base-point multiplications
    // against side channels; the seed itself is wiped afterwards.
    std::array<uint8_t, 32> seed;
    RandomBytes(seed);
    int ok = secp256k1_context_randomize(ctx_, seed.data());
    OPENSSL_cleanse(seed.data(), seed.size());
    if (!ok) Fatal("secp256k1_context_randomize failed");
  }
  ~Context() { secp256k1_context_destroy(ctx_); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  const secp256k1_context* get() const { return ctx_; }

 private:
  secp256k1_context* ctx_;
};

const secp256k1_context* Ctx() { return internal::Secp256k1Context(); }

// libsecp256k1 declares some pointer arguments non-null even when the length
// is zero; an empty span may have a null data().
const unsigned char* NonNull(std::span<const uint8_t> bytes) {
  static const unsigned char kEmpty = 0;
  return bytes.data() != nullptr ? bytes.data() : &kEmpty;
}

secp256k1_xonly_pubkey LoadXonly(const std::array<uint8_t, 64>& stored) {
  secp256k1_xonly_pubkey pk;
  std::memcpy(&pk, stored.data(), sizeof(pk));
  return pk;
}

}  // namespace

namespace internal {

[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "traceledger wallet: fatal: %s\n", what);
  std::abort();
}

// The shared context. It is only ever passed as const after construction,
// which libsecp256k1 documents as safe for concurrent use.
const secp256k1_context* Secp256k1Context() {
  static const Context context;
  return context.get();
}

}  // namespace internal

// ---------------------------------------------------------------- PublicKey

std::optional<PublicKey> PublicKey::Parse(std::span<const uint8_t> bytes) {
  if (bytes.size() != 32) return std::nullopt;
  secp256k1_xonly_pubkey pk;
  if (!secp256k1_xonly_pubkey_parse(Ctx(), &pk, bytes.data())) return std::nullopt;
  PublicKey out;
  std::memcpy(out.bytes_.data(), bytes.data(), 32);
  std::memcpy(out.parsed_.data(), &pk, sizeof(pk));
  return out;
}

std::optional<PublicKey> PublicKey::FromHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::optional<std::vector<uint8_t>> bytes = HexDecode(hex);
  if (!bytes) return std::nullopt;
  return Parse(*bytes);
}

std::string PublicKey::Hex() const { return HexEncode(bytes_); }

std::string PublicKey::KeyId() const {
  std::array<uint8_t, 32> hash = TaggedHash(kKeyIdTag, bytes_);
  return HexEncode(std::span<const uint8_t>(hash.data(), 8));
}

bool PublicKey::Verify(std::span<const uint8_t> msg, std::span<const uint8_t> sig64) const {
  if (sig64.size() != 64) return false;
  secp256k1_xonly_pubkey pk = LoadXonly(parsed_);
  return secp256k1_schnorrsig_verify(Ctx(), sig64.data(), NonNull(msg), msg.size(), &pk) == 1;
}

// ---------------------------------------------------------------- SecretKey

SecretKey SecretKey::Generate() {
  std::array<uint8_t, 32> candidate;
  for (;;) {
    RandomBytes(candidate);
    // A uniformly random 32-byte string is out of range with probability
    // about 2^-128, so this loop practically never repeats.
    std::optional<SecretKey> key = FromBytes(candidate);
    if (key) {
      OPENSSL_cleanse(candidate.data(), candidate.size());
      return std::move(*key);
    }
  }
}

std::optional<SecretKey> SecretKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != 32) return std::nullopt;
  // Rejects 0 and values >= the group order n.
  if (!secp256k1_ec_seckey_verify(Ctx(), bytes.data())) return std::nullopt;

  SecretKey key;
  std::memcpy(key.secret_.data(), bytes.data(), 32);
  secp256k1_keypair keypair;
  if (!secp256k1_keypair_create(Ctx(), &keypair, key.secret_.data())) {
    // Unreachable for a key that passed seckey_verify.
    OPENSSL_cleanse(&keypair, sizeof(keypair));
    return std::nullopt;
  }
  std::memcpy(key.keypair_.data(), &keypair, sizeof(keypair));
  OPENSSL_cleanse(&keypair, sizeof(keypair));

  secp256k1_xonly_pubkey xonly;
  secp256k1_keypair loaded;
  std::memcpy(&loaded, key.keypair_.data(), sizeof(loaded));
  int ok = secp256k1_keypair_xonly_pub(Ctx(), &xonly, /*pk_parity=*/nullptr, &loaded);
  OPENSSL_cleanse(&loaded, sizeof(loaded));
  if (!ok) Fatal("secp256k1_keypair_xonly_pub failed");
  if (!secp256k1_xonly_pubkey_serialize(Ctx(), key.public_.bytes_.data(), &xonly)) {
    Fatal("secp256k1_xonly_pubkey_serialize failed");
  }
  std::memcpy(key.public_.parsed_.data(), &xonly, sizeof(xonly));
  return key;
}

SecretKey::SecretKey(const SecretKey& other)
    : secret_(other.secret_), keypair_(other.keypair_), public_(other.public_) {}

SecretKey& SecretKey::operator=(const SecretKey& other) {
  if (this != &other) {
    secret_ = other.secret_;
    keypair_ = other.keypair_;
    public_ = other.public_;
  }
  return *this;
}

SecretKey::SecretKey(SecretKey&& other) noexcept
    : secret_(other.secret_), keypair_(other.keypair_), public_(other.public_) {
  other.Wipe();
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    keypair_ = other.keypair_;
    public_ = other.public_;
    other.Wipe();
  }
  return *this;
}

SecretKey::~SecretKey() { Wipe(); }

void SecretKey::Wipe() {
  // OPENSSL_cleanse cannot be optimized away, unlike memset on a dying object.
  OPENSSL_cleanse(secret_.data(), secret_.size());
  OPENSSL_cleanse(keypair_.data(), keypair_.size());
}

Signature SecretKey::Sign(std::span<const uint8_t> msg, const std::array<uint8_t, 32>* aux_rand32) const {
  // BIP-340 recommends fresh auxiliary randomness: it hardens the nonce
  // against fault and side-channel attacks. A caller-supplied value is for
  // reproducible test vectors.
  std::array<uint8_t, 32> aux;
  if (aux_rand32 != nullptr) {
    aux = *aux_rand32;
  } else {
    RandomBytes(aux);
  }
  secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
  params.ndata = aux.data();

  secp256k1_keypair keypair;
  std::memcpy(&keypair, keypair_.data(), sizeof(keypair));
  Signature sig;
  int ok = secp256k1_schnorrsig_sign_custom(Ctx(), sig.data(), NonNull(msg), msg.size(), &keypair, &params);
  OPENSSL_cleanse(&keypair, sizeof(keypair));
  OPENSSL_cleanse(aux.data(), aux.size());
  // Cannot fail for a valid keypair. A moved-from key (a caller bug) trips
  // libsecp256k1's illegal-argument callback, which aborts, before this.
  if (!ok) Fatal("secp256k1_schnorrsig_sign_custom failed");
  return sig;
}

// ---------------------------------------------------------------- Hashing

std::array<uint8_t, 32> TaggedHash(std::string_view tag, std::span<const uint8_t> msg) {
  std::array<uint8_t, 32> out;
  std::span<const uint8_t> tag_bytes(reinterpret_cast<const uint8_t*>(tag.data()), tag.size());
  if (!secp256k1_tagged_sha256(Ctx(), out.data(), NonNull(tag_bytes), tag_bytes.size(), NonNull(msg),
                               msg.size())) {
    Fatal("secp256k1_tagged_sha256 failed");
  }
  return out;
}

}  // namespace traceledger::wallet
