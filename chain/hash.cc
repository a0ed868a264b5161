#include "chain/hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "util/encoding.h"

namespace traceledger::chain {
namespace {

// The SHA-256 implementation, fetched from the default provider once. In
// OpenSSL 3 passing EVP_sha256() to EVP_DigestInit_ex re-runs the implicit
// provider fetch on every call; an explicitly fetched EVP_MD avoids that.
// Thread-safe (function-local static); intentionally never freed.
const EVP_MD* Sha256Md() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(/*ctx=*/nullptr, "SHA256", /*properties=*/nullptr);
    if (fetched == nullptr) std::abort();  // no default provider: unusable build
    return fetched;
  }();
  return md;
}

// OpenSSL digest calls fail only on allocation failure or misuse (Update
// after Finish). Neither is recoverable through a hashing API that returns a
// value, so they end the process rather than yield a wrong digest.
void CheckOpenSsl(int rc) {
  if (rc != 1) std::abort();
}

EVP_MD_CTX* Ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

Hash Sha256(std::span<const uint8_t> data) {
  Hash out{};
  // One-shot SHA256() is not deprecated in OpenSSL 3 (only SHA256_Init and
  // friends are) and skips the EVP context allocation.
  SHA256(data.data(), data.size(), out.data());
  return out;
}

Hash Sha256(std::string_view data) { return Sha256(AsBytes(data)); }

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();
  CheckOpenSsl(EVP_DigestInit_ex(Ctx(ctx_), Sha256Md(), /*impl=*/nullptr));
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(Ctx(ctx_)); }

Sha256Hasher& Sha256Hasher::Update(std::span<const uint8_t> data) {
  CheckOpenSsl(EVP_DigestUpdate(Ctx(ctx_), data.data(), data.size()));
  return *this;
}

Sha256Hasher& Sha256Hasher::Update(std::string_view data) { return Update(AsBytes(data)); }

Hash Sha256Hasher::Finish() {
  Hash out{};
  unsigned int len = 0;
  CheckOpenSsl(EVP_DigestFinal_ex(Ctx(ctx_), out.data(), &len));
  if (len != out.size()) std::abort();
  return out;
}

std::string HashHex(const Hash& h) { return HexEncode(h); }

std::optional<Hash> HashFromHex(std::string_view hex) {
  if (hex.size() != 2 * Hash{}.size()) return std::nullopt;
  std::optional<std::vector<uint8_t>> bytes = HexDecode(hex);
  if (!bytes) return std::nullopt;
  Hash out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace traceledger::chain
