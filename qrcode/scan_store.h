// ScanStore: the durable home of the anti-counterfeit state (scan_state.h),
// kept outside the hash-chained ledger in its own LevelDB database
// (<data>/scans by convention). Scans are high-volume, mutable and carry
// no evidential weight, so they do not belong in the signed log; losing
// this database loses clone statistics, never a ledger fact.
//
// Every method takes the time; the store adds only what the pure core
// cannot hold: disk, and the random salts of client hashes. The salt
// rotates every `salt_rotation_s` and is deleted once client_retention_s
// has passed, after which no stored client tag can be linked back to a
// client identifier, even by trying them all.
//
// Durability: an update is written (and with sync=true fsync'ed, surviving
// power loss) before the method returns; an acknowledged update survives a
// crash of the process (kill -9) either way. Thread-safe: updates of one
// code are serialized; different codes proceed in parallel.
//
// LevelDB is wrapped here only, behind a pimpl (keyspace: FORMAT.md §15.3).
#ifndef TRACELEDGER_QRCODE_SCAN_STORE_H_
#define TRACELEDGER_QRCODE_SCAN_STORE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "qrcode/scan_state.h"
#include "util/result.h"

namespace traceledger::qrcode {

enum class ScanStoreErrorCode {
  kIo,          // the filesystem failed
  kLocked,      // another process has the directory open
  kCorruption,  // a stored state does not decode
  kInvalid,     // bad input (message names it): a region, a client id
};

struct ScanStoreError {
  ScanStoreErrorCode code;
  std::string message;
};

template <typename T>
using ScanResult = Result<T, ScanStoreError>;

struct ScanStoreOptions {
  std::string path;
  bool in_memory = false;  // LevelDB's MemEnv; path is just a name
  bool sync = true;        // fsync every update (survives power loss)
  ClonePolicy policy;
  int64_t salt_rotation_s = 86400;
};

// What the ledger committed for a code's PIN (code_issuance pin_salt and
// the code's pin_hashes element).
struct PinCommitment {
  std::array<uint8_t, 16> salt{};
  std::array<uint8_t, 16> hash{};
};

class ScanStore {
 public:
  [[nodiscard]] static ScanResult<std::unique_ptr<ScanStore>> Open(const ScanStoreOptions& options);
  ~ScanStore();
  ScanStore(const ScanStore&) = delete;
  ScanStore& operator=(const ScanStore&) = delete;

  const ClonePolicy& policy() const;

  // Records a scan of (gtin, serial) at now_s from `region` (see
  // RegionProblem); `client_id`, if given (e.g. an IP address), is stored
  // only as a salted 8-byte hash. Returns the state after it and its flags.
  [[nodiscard]] ScanResult<ScanOutcome> RecordScan(std::string_view gtin14, std::string_view serial,
                                                   int64_t now_s, std::string_view region,
                                                   std::optional<std::string_view> client_id = std::nullopt);

  // Checks a typed PIN against the ledger's commitment (nullopt: the code
  // has no PIN → kNoPin, nothing stored). The first correct PIN consumes
  // the code; wrong PINs are rate-limited per code.
  [[nodiscard]] ScanResult<PinResult> CheckPin(std::string_view gtin14, std::string_view serial,
                                               std::string_view typed_pin,
                                               const std::optional<PinCommitment>& commitment, int64_t now_s);

  // The state of a code; nullopt if it was never scanned nor PIN-checked.
  [[nodiscard]] ScanResult<std::optional<ScanState>> Get(std::string_view gtin14,
                                                         std::string_view serial) const;

  // Deletes salts past retention. Client tags past retention are dropped
  // from a code's state whenever it is updated; ForgetExpiredClients does it
  // for every code (a sweep; returns how many states changed).
  [[nodiscard]] ScanResult<void> PurgeSalts(int64_t now_s);
  [[nodiscard]] ScanResult<uint64_t> ForgetExpiredClients(int64_t now_s);

 private:
  struct Impl;
  explicit ScanStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_SCAN_STORE_H_
