// Encrypted keystore files: one secret key per file, sealed with
// AES-256-GCM under a key derived from a passphrase with scrypt (both from
// OpenSSL). The file is JSON (format in docs/FORMAT.md), created with mode
// 0600 and written atomically (temp file, fsync, rename). The public key
// and key id are stored in clear and authenticated as GCM associated data,
// so they can be read without the passphrase but not altered unseen.
#ifndef TRACELEDGER_WALLET_KEYSTORE_H_
#define TRACELEDGER_WALLET_KEYSTORE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::wallet {

enum class KeystoreErrorCode {
  kIo,               // cannot read/write the file (message has errno text)
  kNotFound,         // no file at the path
  kExists,           // refusing to overwrite an existing file
  kCorrupt,          // not a keystore: bad JSON, missing field, bad lengths
  kUnsupported,      // unknown version, kdf or cipher, or absurd kdf params
  kWrongPassphrase,  // authentication failed: wrong passphrase or tampering
};

struct KeystoreError {
  KeystoreErrorCode code;
  std::string message;
};

struct KdfParams {
  uint64_t n = uint64_t{1} << 15;  // scrypt cost; power of two
  uint32_t r = 8;
  uint32_t p = 1;
};

struct SaveOptions {
  KdfParams kdf;
  bool overwrite = false;
};

// Writes `key` to `path` encrypted under `passphrase`.
[[nodiscard]] Result<void, KeystoreError> SaveKeystore(const std::string& path, const SecretKey& key,
                                                       std::string_view passphrase,
                                                       const SaveOptions& options = {});

// Reads and decrypts. kWrongPassphrase when authentication fails.
[[nodiscard]] Result<SecretKey, KeystoreError> LoadKeystore(const std::string& path,
                                                            std::string_view passphrase);

// Reads only the clear public key (checked to be a valid point), no
// passphrase needed. Not authenticated until LoadKeystore succeeds.
[[nodiscard]] Result<PublicKey, KeystoreError> ReadKeystorePublicKey(const std::string& path);

}  // namespace traceledger::wallet

#endif  // TRACELEDGER_WALLET_KEYSTORE_H_
