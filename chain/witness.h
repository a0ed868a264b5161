// Witness cosignatures (C2SP tlog-cosignature v1 with BIP-340), the
// witness's side of C2SP tlog-witness add-checkpoint, and quorums.
//
// Cosignature (docs/FORMAT.md §11.3), signature type 0xff +
// "TraceLedger/cosignature/bip340/v1":
//   key id  = SHA-256(name || 0x0A || 0xff || "TraceLedger/cosignature/bip340/v1" || pk32)[0:4]
//   message = "cosignature/v1\ntime <T>\n" || checkpoint note text
//   line    = — <name> base64(key id || BE64(T) || BIP-340 signature over
//             TaggedHash("TraceLedger/cosignature/bip340/v1", message))
//
// Witness keeps, per log (origin), the size and root of the last
// checkpoint it cosigned, in one state file replaced atomically (write a
// temporary file, fsync, rename, fsync the directory) before a cosignature
// is returned; checking the old size and persisting happen under one lock.
// So it never cosigns two inconsistent checkpoints of a log, even when
// killed at any point: a cosignature it returned is always for the
// persisted state or an earlier consistent one.
#ifndef TRACELEDGER_CHAIN_WITNESS_H_
#define TRACELEDGER_CHAIN_WITNESS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/checkpoint.h"
#include "chain/hash.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::chain {

inline constexpr std::string_view kCosignatureType = "TraceLedger/cosignature/bip340/v1";
// tlog-witness: a client sends at most 63 consistency proof lines.
inline constexpr size_t kMaxProofLines = 63;

uint32_t CosignatureKeyId(std::string_view name, const wallet::PublicKey& key);
std::string CosignatureMessage(uint64_t timestamp, std::string_view checkpoint_text);
NoteSignature Cosign(std::string_view name, const wallet::SecretKey& key, std::string_view checkpoint_text,
                     uint64_t timestamp);
// The timestamp of `note`'s cosignature line from (name, key): kNoSignature
// if there is none, kBadSignature if it does not verify.
[[nodiscard]] NoteResult<uint64_t> VerifyCosignature(const SignedNote& note, std::string_view name,
                                                     const wallet::PublicKey& key);

struct WitnessKey {
  std::string name;
  wallet::PublicKey key;
};

struct WitnessPolicy {
  std::vector<WitnessKey> witnesses;
  size_t quorum = 0;
};

struct QuorumReport {
  std::vector<std::string> cosigned_by;  // names whose cosignature verifies
  std::vector<std::string> bad;          // names whose cosignature line does not verify
  size_t distinct_keys = 0;              // distinct public keys among cosigned_by
  bool witnessed = false;                // distinct_keys >= quorum (and quorum > 0)
};

// Counts the configured witnesses whose cosignature on `note` verifies;
// two names with one key count once.
QuorumReport CountCosignatures(const SignedNote& note, const WitnessPolicy& policy);


// The stored checkpoint (chain/checkpoint.h) with the largest tree size
// whose cosignatures meet `policy` (CountCosignatures(...).witnessed); with
// quorum 0, simply the latest stored checkpoint. nullopt when none
// qualifies. kStore when the store cannot be read, kMalformed when a stored
// checkpoint does not decode (the message names its size).
[[nodiscard]] NoteResult<std::optional<StoredCheckpoint>> LatestWitnessedCheckpoint(const Store& store,
                                                                                  const WitnessPolicy& policy);

// ---- The witness ----------------------------------------------------------

enum class WitnessErrorCode {
  kMalformed,        // 400: the body is not old-size line, proof lines, blank line, checkpoint
  kOldSizeTooLarge,  // 400: old size above the checkpoint's size
  kUnknownLog,       // 404: the origin is not one this witness follows
  kBadSignature,     // 403: no trusted log key signed the checkpoint
  kConflict,         // 409: old size is not the last cosigned size (known_size says which),
                     //      or the same size with another root
  kBadProof,         // 422: the consistency proof does not verify
  kIo,               // 500: the state could not be persisted; nothing was cosigned
};

std::string_view WitnessErrorCodeName(WitnessErrorCode code);

struct WitnessError {
  WitnessErrorCode code;
  std::string message;
  uint64_t known_size = 0;  // for kConflict: the last cosigned size
};

struct WitnessedLog {
  std::string origin;
  std::vector<wallet::PublicKey> keys;  // trusted log keys; key name = origin
};

struct WitnessOptions {
  std::string name;  // the witness's key name, e.g. "customs.example/w1"
  std::vector<WitnessedLog> logs;
  std::string state_path;  // the state file; its directory must exist
  // Unix seconds for cosignature timestamps; defaults to the system clock.
  std::function<uint64_t()> clock_s;
  // Fault seam for tests: called at "persist:begin", "persist:temp-synced",
  // "persist:renamed" and "persist:done"; returning true makes the
  // persist fail there (as an I/O error would). A hook may also end the
  // process (tools/tracewitness.cc does, for crash tests).
  std::function<bool(std::string_view point)> fault_point;
};

struct WitnessedState {
  uint64_t size = 0;
  Hash root{};
};

class Witness {
 public:
  // Loads the state file (absent: nothing cosigned yet). kIo if it cannot
  // be read or does not parse: a witness that lost its state must not
  // start, or it could cosign a fork.
  [[nodiscard]] static Result<std::unique_ptr<Witness>, WitnessError> Open(WitnessOptions options,
                                                                           wallet::SecretKey key);

  // Handles a tlog-witness add-checkpoint request body. Returns the
  // response body (one cosignature line) or the error the protocol
  // prescribes. Thread-safe; requests are handled one at a time.
  [[nodiscard]] Result<std::string, WitnessError> AddCheckpoint(std::string_view body);

  std::optional<WitnessedState> Latest(const std::string& origin) const;
  const std::string& name() const { return options_.name; }
  const wallet::PublicKey& public_key() const { return key_.Public(); }

 private:
  Witness(WitnessOptions options, wallet::SecretKey key)
      : options_(std::move(options)), key_(std::move(key)) {}
  Result<void, WitnessError> Persist(const std::map<std::string, WitnessedState>& state);

  WitnessOptions options_;
  wallet::SecretKey key_;
  mutable std::mutex mu_;
  std::map<std::string, WitnessedState> state_;  // GUARDED_BY(mu_)
};

// The add-checkpoint request body for a checkpoint and a consistency proof
// from old_size.
std::string AddCheckpointBody(uint64_t old_size, const std::vector<Hash>& proof,
                              const SignedNote& checkpoint);

// Parses a witness's 200 response: its signature lines.
[[nodiscard]] NoteResult<std::vector<NoteSignature>> ParseSignatureLines(std::string_view body);

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_WITNESS_H_
