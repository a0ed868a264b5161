#include "wallet/keystore.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "util/encoding.h"
#include "wallet/random.h"

namespace traceledger::wallet {
namespace {

using Json = nlohmann::json;

constexpr int kVersion = 1;
constexpr std::string_view kKdfName = "scrypt";
constexpr std::string_view kCipherName = "aes-256-gcm";
constexpr std::string_view kAadPrefix = "TraceLedger keystore v1\n";

constexpr size_t kSaltSize = 16;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kKeySize = 32;
constexpr size_t kSecretSize = 32;

// Limits on scrypt parameters. A keystore file is untrusted input and its
// parameters are applied before the passphrase can be checked, so they bound
// the memory and time a hostile file can make us spend.
constexpr uint64_t kMaxScryptN = uint64_t{1} << 20;
constexpr uint64_t kMaxScryptRp = uint64_t{1} << 10;
constexpr uint64_t kMaxScryptMemory = uint64_t{1} << 30;  // 128 * r * n bytes

// A keystore is a few hundred bytes; anything much larger is not one.
constexpr off_t kMaxFileSize = off_t{64} * 1024;

using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

KeystoreError Error(KeystoreErrorCode code, const std::string& path, std::string_view what) {
  return KeystoreError{code, path + ": " + std::string(what)};
}

// kIo with the errno text. When reading, ENOENT is kNotFound instead.
KeystoreError ErrnoError(const std::string& path, std::string_view what, int err, bool reading = false) {
  KeystoreErrorCode code = reading && err == ENOENT ? KeystoreErrorCode::kNotFound : KeystoreErrorCode::kIo;
  return Error(code, path, std::string(what) + ": " + std::strerror(err));
}

// Wipes a buffer of key material when it goes out of scope, on every path.
template <size_t N>
class SecretBuffer {
 public:
  SecretBuffer() = default;
  ~SecretBuffer() { OPENSSL_cleanse(bytes_.data(), N); }
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;
  uint8_t* data() { return bytes_.data(); }
  static constexpr size_t size() { return N; }
  std::span<const uint8_t> span() const { return bytes_; }

 private:
  std::array<uint8_t, N> bytes_{};
};

// Returns nullopt if the scrypt parameters are acceptable, else the reason.
[[nodiscard]] std::optional<std::string> CheckKdfParams(const KdfParams& kdf) {
  if (kdf.n < 2 || (kdf.n & (kdf.n - 1)) != 0) return "kdf.n must be a power of two >= 2";
  if (kdf.n > kMaxScryptN) return "kdf.n exceeds 2^20";
  if (kdf.r == 0 || kdf.p == 0) return "kdf.r and kdf.p must be positive";
  if (uint64_t{kdf.r} * kdf.p > kMaxScryptRp) return "kdf.r * kdf.p exceeds 1024";
  if (128 * uint64_t{kdf.r} * kdf.n > kMaxScryptMemory) return "kdf needs more than 1 GiB";
  return std::nullopt;
}

// REQUIRES: CheckKdfParams(kdf) succeeded.
// Returns false only if OpenSSL fails (e.g. out of memory).
[[nodiscard]] bool DeriveKey(std::string_view passphrase, std::span<const uint8_t> salt, const KdfParams& kdf,
                             SecretBuffer<kKeySize>& key) {
  // OpenSSL needs V (128*r*(n+2)) and B (128*r*p) bytes; allow exactly that
  // plus slack, since its default cap (32 MiB) is below the default n.
  uint64_t maxmem = 128 * uint64_t{kdf.r} * (kdf.n + 2) + 128 * uint64_t{kdf.r} * kdf.p + (uint64_t{1} << 20);
  const char* pass = passphrase.data() != nullptr ? passphrase.data() : "";
  return EVP_PBE_scrypt(pass, passphrase.size(), salt.data(), salt.size(), kdf.n, kdf.r, kdf.p, maxmem,
                        key.data(), key.size()) == 1;
}

std::string AssociatedData(std::string_view key_id, std::string_view public_key_hex) {
  std::string aad(kAadPrefix);
  aad += key_id;
  aad += '\n';
  aad += public_key_hex;
  return aad;
}

// AES-256-GCM encryption of a 32-byte secret. Returns false on an OpenSSL
// failure.
[[nodiscard]] bool Seal(const SecretBuffer<kKeySize>& key, std::span<const uint8_t> nonce,
                        std::string_view aad, std::span<const uint8_t> plaintext,
                        std::vector<uint8_t>& ciphertext, std::array<uint8_t, kTagSize>& tag) {
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return false;
  int len = 0;
  ciphertext.assign(plaintext.size(), 0);
  const auto* aad_bytes = reinterpret_cast<const unsigned char*>(aad.data());
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.span().data(), nonce.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad_bytes, static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), ciphertext.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      static_cast<size_t>(len) != plaintext.size() ||
      EVP_EncryptFinal_ex(ctx.get(), ciphertext.data() + len, &len) != 1 || len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()), tag.data()) != 1) {
    return false;
  }
  return true;
}

enum class OpenResult { kOk, kAuthFailed, kError };

// AES-256-GCM decryption and authentication. On kOk, `plaintext` holds
// ciphertext.size() bytes; on any other result its contents are wiped.
[[nodiscard]] OpenResult Open(const SecretBuffer<kKeySize>& key, std::span<const uint8_t> nonce,
                              std::string_view aad, std::span<const uint8_t> ciphertext,
                              std::array<uint8_t, kTagSize> tag, SecretBuffer<kSecretSize>& plaintext) {
  if (ciphertext.size() != plaintext.size()) return OpenResult::kError;
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (!ctx) return OpenResult::kError;
  int len = 0;
  const auto* aad_bytes = reinterpret_cast<const unsigned char*>(aad.data());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.span().data(), nonce.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad_bytes, static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plaintext.data(), &len, ciphertext.data(),
                        static_cast<int>(ciphertext.size())) != 1 ||
      static_cast<size_t>(len) != ciphertext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()), tag.data()) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return OpenResult::kError;
  }
  // The tag is checked here; the plaintext must not be used unless it passes.
  if (EVP_DecryptFinal_ex(ctx.get(), plaintext.data() + len, &len) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return OpenResult::kAuthFailed;
  }
  return OpenResult::kOk;
}

// ---------------------------------------------------------------- Files

// Reads the whole file. kNotFound if it does not exist, kIo on other errors,
// kCorrupt if it is implausibly large for a keystore.
Result<std::string, KeystoreError> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(path, "cannot open", errno, /*reading=*/true);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError(path, "cannot stat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(KeystoreErrorCode::kIo, path, "not a regular file");
  }
  if (st.st_size > kMaxFileSize) {
    ::close(fd);
    return Error(KeystoreErrorCode::kCorrupt, path, "file too large to be a keystore");
  }
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError(path, "cannot read", err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > static_cast<size_t>(kMaxFileSize)) {
      ::close(fd);
      return Error(KeystoreErrorCode::kCorrupt, path, "file too large to be a keystore");
    }
  }
  ::close(fd);
  return data;
}

[[nodiscard]] bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Makes a completed rename or link durable by syncing the directory entry.
Result<void, KeystoreError> SyncDirectory(const std::string& dir, const std::string& path) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(path, "cannot open directory " + dir, errno);
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError(path, "cannot fsync directory " + dir, err);
  }
  ::close(fd);
  return {};
}

// Atomically creates or replaces `path` with `contents`, mode 0600. Readers
// see either the old file or the complete new one, never a partial file, and
// after success the new file survives a crash (data, then rename, then
// directory are fsynced). Without `overwrite`, an existing file is never
// replaced: the final step is link(2), which fails atomically with EEXIST.
Result<void, KeystoreError> WriteFileAtomically(const std::string& path, std::string_view contents,
                                                bool overwrite) {
  std::filesystem::path target(path);
  std::string dir = target.parent_path().string();
  if (dir.empty()) dir = ".";
  std::string base = target.filename().string();
  if (base.empty()) return Error(KeystoreErrorCode::kIo, path, "path names a directory");

  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    std::array<uint8_t, 8> suffix;
    RandomBytes(suffix);
    tmp = (std::filesystem::path(dir) / ("." + base + ".tmp-" + HexEncode(suffix))).string();
    // O_EXCL: never follow or reuse a file planted at the temp name. 0600:
    // the secret is encrypted, but the file still should not be readable by
    // other users (offline guessing of the passphrase).
    fd = ::open(tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return ErrnoError(path, "cannot create " + tmp, errno);
  }
  if (fd < 0) return Error(KeystoreErrorCode::kIo, path, "cannot find a free temporary name");

  auto fail = [&](std::string_view what, int err) -> KeystoreError {
    ::unlink(tmp.c_str());
    return ErrnoError(path, what, err);
  };
  if (!WriteAll(fd, contents)) {
    int err = errno;
    ::close(fd);
    return fail("cannot write " + tmp, err);
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    return fail("cannot fsync " + tmp, err);
  }
  if (::close(fd) != 0) return fail("cannot close " + tmp, errno);

  if (overwrite) {
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename " + tmp, errno);
  } else {
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      if (err == EEXIST) {
        return Error(KeystoreErrorCode::kExists, path, "file exists; refusing to overwrite");
      }
      return ErrnoError(path, "cannot link " + tmp, err);
    }
    ::unlink(tmp.c_str());
  }
  return SyncDirectory(dir, path);
}

// ---------------------------------------------------------------- Parsing

// The fields of a keystore file, checked for type and length only.
struct ParsedKeystore {
  std::string key_id;
  std::optional<PublicKey> public_key;
  KdfParams kdf;
  std::vector<uint8_t> salt;
  std::vector<uint8_t> nonce;
  std::vector<uint8_t> ciphertext;
  std::array<uint8_t, kTagSize> tag{};
};

// Looks up `name` in `object` as a string of exactly `bytes` bytes in hex.
// `field` is the dotted name used in messages.
Result<std::vector<uint8_t>, KeystoreError> HexField(const std::string& path, const Json& object,
                                                     const char* name, std::string_view field, size_t bytes) {
  auto it = object.find(name);
  if (it == object.end()) {
    return Error(KeystoreErrorCode::kCorrupt, path, "missing field \"" + std::string(field) + "\"");
  }
  if (!it->is_string()) {
    return Error(KeystoreErrorCode::kCorrupt, path, "field \"" + std::string(field) + "\" must be a string");
  }
  const std::string& text = it->get_ref<const std::string&>();
  std::optional<std::vector<uint8_t>> decoded;
  if (text.size() == 2 * bytes) decoded = HexDecode(text);
  if (!decoded) {
    return Error(KeystoreErrorCode::kCorrupt, path,
                 "field \"" + std::string(field) + "\" must be " + std::to_string(2 * bytes) + " hex digits");
  }
  return std::move(*decoded);
}

Result<const Json*, KeystoreError> ObjectField(const std::string& path, const Json& object,
                                               const char* name) {
  auto it = object.find(name);
  if (it == object.end()) {
    return Error(KeystoreErrorCode::kCorrupt, path, "missing field \"" + std::string(name) + "\"");
  }
  if (!it->is_object()) {
    return Error(KeystoreErrorCode::kCorrupt, path, "field \"" + std::string(name) + "\" must be an object");
  }
  return &*it;
}

// Checks a "name" field: kCorrupt if absent or not a string, kUnsupported if
// it is not `expected`.
Result<void, KeystoreError> NameField(const std::string& path, const Json& object, std::string_view field,
                                      std::string_view expected) {
  auto it = object.find("name");
  if (it == object.end() || !it->is_string()) {
    return Error(KeystoreErrorCode::kCorrupt, path, "field \"" + std::string(field) + "\" must be a string");
  }
  if (it->get_ref<const std::string&>() != expected) {
    return Error(KeystoreErrorCode::kUnsupported, path,
                 "unsupported " + std::string(field) + " \"" + it->get<std::string>() + "\" (expected \"" +
                     std::string(expected) + "\")");
  }
  return {};
}

// Reads an unsigned integer field; kCorrupt if absent or not a non-negative
// integer, kUnsupported if above `max`.
Result<uint64_t, KeystoreError> UintField(const std::string& path, const Json& object, const char* name,
                                          std::string_view field, uint64_t max) {
  auto it = object.find(name);
  if (it == object.end()) {
    return Error(KeystoreErrorCode::kCorrupt, path, "missing field \"" + std::string(field) + "\"");
  }
  if (!it->is_number_unsigned()) {
    return Error(KeystoreErrorCode::kCorrupt, path,
                 "field \"" + std::string(field) + "\" must be a non-negative integer");
  }
  uint64_t v = it->get<uint64_t>();
  if (v > max) {
    return Error(KeystoreErrorCode::kUnsupported, path, "field \"" + std::string(field) + "\" is too large");
  }
  return v;
}

// Parses the JSON text and the clear header: version, key_id, public_key.
// The public key must be a valid point whose key id equals key_id. When
// `with_secret_fields`, also parses and range-checks "kdf" and "cipher".
Result<ParsedKeystore, KeystoreError> ParseKeystore(const std::string& path, const std::string& text,
                                                    bool with_secret_fields) {
  Json root = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Error(KeystoreErrorCode::kCorrupt, path, "not valid JSON");
  if (!root.is_object()) return Error(KeystoreErrorCode::kCorrupt, path, "not a JSON object");

  auto version = root.find("version");
  if (version == root.end()) return Error(KeystoreErrorCode::kCorrupt, path, "missing field \"version\"");
  if (!version->is_number_integer()) {
    return Error(KeystoreErrorCode::kCorrupt, path, "field \"version\" must be an integer");
  }
  if (version->get<int64_t>() != kVersion) {
    return Error(KeystoreErrorCode::kUnsupported, path,
                 "unsupported version " + std::to_string(version->get<int64_t>()));
  }

  ParsedKeystore out;
  auto key_id = HexField(path, root, "key_id", "key_id", 8);
  if (!key_id) return key_id.error();
  out.key_id = HexEncode(*key_id);  // canonical lowercase
  auto public_key = HexField(path, root, "public_key", "public_key", 32);
  if (!public_key) return public_key.error();
  out.public_key = PublicKey::Parse(*public_key);
  if (!out.public_key) {
    return Error(KeystoreErrorCode::kCorrupt, path, "field \"public_key\" is not a valid point");
  }
  if (out.public_key->KeyId() != out.key_id) {
    return Error(KeystoreErrorCode::kCorrupt, path, "field \"key_id\" does not match public_key");
  }
  if (!with_secret_fields) return out;

  auto kdf = ObjectField(path, root, "kdf");
  if (!kdf) return kdf.error();
  if (auto name = NameField(path, **kdf, "kdf.name", kKdfName); !name) return name.error();
  auto n = UintField(path, **kdf, "n", "kdf.n", kMaxScryptN);
  if (!n) return n.error();
  auto r = UintField(path, **kdf, "r", "kdf.r", kMaxScryptRp);
  if (!r) return r.error();
  auto p = UintField(path, **kdf, "p", "kdf.p", kMaxScryptRp);
  if (!p) return p.error();
  out.kdf = KdfParams{.n = *n, .r = static_cast<uint32_t>(*r), .p = static_cast<uint32_t>(*p)};
  if (auto bad = CheckKdfParams(out.kdf)) return Error(KeystoreErrorCode::kUnsupported, path, *bad);
  auto salt = HexField(path, **kdf, "salt", "kdf.salt", kSaltSize);
  if (!salt) return salt.error();
  out.salt = std::move(*salt);

  auto cipher = ObjectField(path, root, "cipher");
  if (!cipher) return cipher.error();
  if (auto name = NameField(path, **cipher, "cipher.name", kCipherName); !name) return name.error();
  auto nonce = HexField(path, **cipher, "nonce", "cipher.nonce", kNonceSize);
  if (!nonce) return nonce.error();
  out.nonce = std::move(*nonce);
  auto ciphertext = HexField(path, **cipher, "ciphertext", "cipher.ciphertext", kSecretSize);
  if (!ciphertext) return ciphertext.error();
  out.ciphertext = std::move(*ciphertext);
  auto tag = HexField(path, **cipher, "tag", "cipher.tag", kTagSize);
  if (!tag) return tag.error();
  std::memcpy(out.tag.data(), tag->data(), kTagSize);
  return out;
}

// ParseKeystore, with any library exception (none are expected from the
// non-throwing parse and checked accessors) reported as kCorrupt so that
// nothing escapes the API.
Result<ParsedKeystore, KeystoreError> ParseKeystoreNoThrow(const std::string& path, const std::string& text,
                                                           bool with_secret_fields) {
  try {
    return ParseKeystore(path, text, with_secret_fields);
  } catch (const nlohmann::json::exception& e) {
    return Error(KeystoreErrorCode::kCorrupt, path, std::string("malformed keystore: ") + e.what());
  }
}

}  // namespace

Result<void, KeystoreError> SaveKeystore(const std::string& path, const SecretKey& key,
                                         std::string_view passphrase, const SaveOptions& options) {
  if (auto bad = CheckKdfParams(options.kdf)) {
    return Error(KeystoreErrorCode::kUnsupported, path, *bad);
  }
  // Fail before the expensive KDF in the common case; the atomic link at the
  // end is what actually guarantees no overwrite.
  struct stat st;
  if (!options.overwrite && ::lstat(path.c_str(), &st) == 0) {
    return Error(KeystoreErrorCode::kExists, path, "file exists; refusing to overwrite");
  }

  std::array<uint8_t, kSaltSize> salt;
  std::array<uint8_t, kNonceSize> nonce;
  RandomBytes(salt);
  RandomBytes(nonce);

  SecretBuffer<kKeySize> derived;
  if (!DeriveKey(passphrase, salt, options.kdf, derived)) {
    return Error(KeystoreErrorCode::kIo, path, "scrypt key derivation failed in OpenSSL");
  }

  const PublicKey& pub = key.Public();
  std::string key_id = pub.KeyId();
  std::string public_hex = pub.Hex();
  std::string aad = AssociatedData(key_id, public_hex);
  std::vector<uint8_t> ciphertext;
  std::array<uint8_t, kTagSize> tag;
  if (!Seal(derived, nonce, aad, key.bytes(), ciphertext, tag)) {
    return Error(KeystoreErrorCode::kIo, path, "AES-256-GCM encryption failed in OpenSSL");
  }

  std::string text;
  try {
    // ordered_json keeps the documented field order in the file.
    nlohmann::ordered_json doc = {
        {"version", kVersion},
        {"key_id", key_id},
        {"public_key", public_hex},
        {"kdf",
         {{"name", kKdfName},
          {"n", options.kdf.n},
          {"r", options.kdf.r},
          {"p", options.kdf.p},
          {"salt", HexEncode(salt)}}},
        {"cipher",
         {{"name", kCipherName},
          {"nonce", HexEncode(nonce)},
          {"ciphertext", HexEncode(ciphertext)},
          {"tag", HexEncode(tag)}}},
    };
    text = doc.dump(2) + "\n";
  } catch (const nlohmann::json::exception& e) {
    return Error(KeystoreErrorCode::kIo, path, std::string("cannot serialize: ") + e.what());
  }
  return WriteFileAtomically(path, text, options.overwrite);
}

Result<SecretKey, KeystoreError> LoadKeystore(const std::string& path, std::string_view passphrase) {
  auto text = ReadFile(path);
  if (!text) return text.error();
  auto parsed = ParseKeystoreNoThrow(path, *text, /*with_secret_fields=*/true);
  if (!parsed) return parsed.error();

  SecretBuffer<kKeySize> derived;
  if (!DeriveKey(passphrase, parsed->salt, parsed->kdf, derived)) {
    return Error(KeystoreErrorCode::kIo, path, "scrypt key derivation failed in OpenSSL");
  }
  std::string aad = AssociatedData(parsed->key_id, parsed->public_key->Hex());
  SecretBuffer<kSecretSize> plaintext;
  switch (Open(derived, parsed->nonce, aad, parsed->ciphertext, parsed->tag, plaintext)) {
    case OpenResult::kOk:
      break;
    case OpenResult::kAuthFailed:
      return Error(KeystoreErrorCode::kWrongPassphrase, path,
                   "authentication failed: wrong passphrase or the file was altered");
    case OpenResult::kError:
      return Error(KeystoreErrorCode::kIo, path, "AES-256-GCM decryption failed in OpenSSL");
  }

  std::optional<SecretKey> key = SecretKey::FromBytes(plaintext.span());
  if (!key) {
    return Error(KeystoreErrorCode::kCorrupt, path, "decrypted secret key is out of range");
  }
  // Only someone holding the passphrase can reach this, but a file that
  // decrypts to a different key than it advertises must not be trusted.
  if (!(key->Public() == *parsed->public_key)) {
    return Error(KeystoreErrorCode::kCorrupt, path,
                 "decrypted secret key does not match field \"public_key\"");
  }
  return std::move(*key);
}

Result<PublicKey, KeystoreError> ReadKeystorePublicKey(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return text.error();
  auto parsed = ParseKeystoreNoThrow(path, *text, /*with_secret_fields=*/false);
  if (!parsed) return parsed.error();
  return *parsed->public_key;
}

}  // namespace traceledger::wallet
