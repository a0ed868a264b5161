// Signed checkpoints of the log: C2SP signed-note and tlog-checkpoint with
// BIP-340 signatures (docs/FORMAT.md §11).
//
//   <origin>\n<tree size, decimal>\n<base64 root>\n[<extension>\n...]
//   \n
//   — <key name> <base64(key id (4 bytes) || signature)>\n   (one or more)
//
// Signed-note assigns signature type 0xff to algorithms it has no byte for
// and recommends a longer identifier after it. TraceLedger's note
// signatures are type 0xff + "TraceLedger/note/bip340/v1":
//   key id    = SHA-256(name || 0x0A || 0xff || "TraceLedger/note/bip340/v1" || pk32)[0:4]
//   signature = BIP-340 over TaggedHash("TraceLedger/note/bip340/v1", note text)   (64 bytes)
// The note text is everything before the blank line, final newline
// included. Cosignatures (C2SP tlog-cosignature) are in chain/witness.h.
//
// CheckpointSigner is the operator side: it signs checkpoints of the
// store's tree and never two that are inconsistent, even across crashes,
// because it persists each one (fsync) before returning it and checks every
// new one against the last persisted one with a consistency proof.
#ifndef TRACELEDGER_CHAIN_CHECKPOINT_H_
#define TRACELEDGER_CHAIN_CHECKPOINT_H_

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/hash.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::chain {

class Store;

inline constexpr std::string_view kNoteSignatureType = "TraceLedger/note/bip340/v1";
// Limits a reader applies before looking at a note's contents.
inline constexpr size_t kMaxNoteBytes = 64 * 1024;
inline constexpr size_t kMaxNoteSignatures = 64;

enum class NoteErrorCode {
  kMalformed,       // not a signed note / checkpoint (message names the line and why)
  kNoSignature,     // no signature line from the expected key (name and key id)
  kBadSignature,    // the expected key's signature line does not verify
  kOriginMismatch,  // the checkpoint is for another log
  kInconsistent,    // signer: the new tree is not consistent with the last checkpoint
  kStore,           // signer: reading or persisting failed
};

std::string_view NoteErrorCodeName(NoteErrorCode code);

struct NoteError {
  NoteErrorCode code;
  std::string message;
};

template <typename T>
using NoteResult = Result<T, NoteError>;

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // the bytes after the key id

  // "— <name> <base64(key id || signature)>\n"
  std::string Line() const;
  friend bool operator==(const NoteSignature&, const NoteSignature&) = default;
};

struct SignedNote {
  std::string text;  // ends with '\n'
  std::vector<NoteSignature> signatures;

  std::string Serialize() const;
  // Strict parse of C2SP signed-note: valid UTF-8, no control characters but
  // '\n', text separated from >= 1 signature lines by the last blank line,
  // key names non-empty without spaces or '+', signatures standard base64
  // of >= 5 bytes, at most kMaxNoteBytes and kMaxNoteSignatures.
  static NoteResult<SignedNote> Parse(std::string_view bytes);

  // Adds the signatures not already present (same name, key id and bytes).
  void AddSignatures(const std::vector<NoteSignature>& more);
};

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;

  // The note text: origin, size and root lines, then the extension lines.
  std::string Text() const;
  // Strict parse of a tlog-checkpoint note text: >= 3 lines, each ending in
  // '\n', non-empty origin, size in decimal without leading zeros, root the
  // standard base64 of 32 bytes, non-empty extension lines.
  static NoteResult<Checkpoint> Parse(std::string_view text);
};

// SHA-256(name || 0x0A || 0xff || type || pk)[0:4] as a big-endian u32:
// signed-note's recommended key id for signature type 0xff followed by the
// identifier `type`.
uint32_t SignatureKeyId(std::string_view name, std::string_view type, const wallet::PublicKey& key);
uint32_t NoteKeyId(std::string_view name, const wallet::PublicKey& key);
NoteSignature SignNote(std::string_view name, const wallet::SecretKey& key, std::string_view text);

// Checks `note` against one trusted key, as signed-note prescribes: lines
// from other keys (other name or key id) are ignored; kNoSignature if no
// line is from this key, kBadSignature if one is and does not verify.
[[nodiscard]] NoteResult<void> VerifyNote(const SignedNote& note, std::string_view name,
                                          const wallet::PublicKey& key);

// Parses a signed checkpoint and verifies the log's signature (key name =
// the origin line). With expected_origin set, another origin is
// kOriginMismatch.
[[nodiscard]] NoteResult<Checkpoint> OpenCheckpoint(const SignedNote& note, const wallet::PublicKey& log_key,
                                                    std::string_view expected_origin = {});

// The value stored under 'K' + size: the signer's 32-byte public key, then
// the signed note (with any cosignatures).
struct StoredCheckpoint {
  wallet::PublicKey signer;
  SignedNote note;
  Checkpoint checkpoint;

  std::string Encode() const;
  // Parses and verifies the signer's signature.
  static NoteResult<StoredCheckpoint> Decode(std::string_view value);
};

// "traceledger/" + the first 16 bytes of the genesis block hash in hex: a
// name unique to this log, used when no origin is configured.
[[nodiscard]] NoteResult<std::string> DefaultOrigin(const Store& store);

class CheckpointSigner {
 public:
  // With an empty origin: the last stored checkpoint's, else DefaultOrigin.
  CheckpointSigner(Store& store, wallet::SecretKey key, std::string origin = {});

  // The signed checkpoint of the store's current tree. If the last stored
  // checkpoint already has this size (and root) it is returned as stored,
  // with its cosignatures, and nothing is signed. Otherwise the new one is
  // signed only if the last stored one has this signer's origin, a valid
  // signature, a size not above the tree's, and a root the store proves
  // consistent with the current root (kOriginMismatch / kInconsistent
  // otherwise); it is persisted with fsync before it is returned.
  // Thread-safe.
  [[nodiscard]] NoteResult<StoredCheckpoint> SignCurrent();

  // Adds cosignature lines to the stored checkpoint of size `size` (whose
  // operator signature stays as it is). Thread-safe.
  [[nodiscard]] NoteResult<StoredCheckpoint> AddCosignatures(uint64_t size,
                                                             const std::vector<NoteSignature>& lines);

  const std::string& origin();
  const wallet::PublicKey& public_key() const { return key_.Public(); }

 private:
  NoteResult<void> ResolveOrigin();

  Store& store_;
  wallet::SecretKey key_;
  std::string origin_;
  std::mutex mu_;
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_CHECKPOINT_H_
