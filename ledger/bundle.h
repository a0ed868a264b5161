// Offline evidence bundles (docs/FORMAT.md "Evidence bundles"): one JSON
// file about one code, lot or shipment holding the relevant records, the
// records that register their authors' keys, an inclusion proof of each
// against one signed (and cosigned) checkpoint, and optionally the anchor
// receipt of that checkpoint.
//
// BuildBundle reads a ledger; VerifyBundle is pure (no I/O, no clock, no
// network) and needs only the bundle bytes and the trusted keys. Every
// failure is reported as a BundleIssue with a stable code and the item at
// fault ("records[3] (index 17)", "checkpoint", "anchor_receipt").
#ifndef TRACELEDGER_LEDGER_BUNDLE_H_
#define TRACELEDGER_LEDGER_BUNDLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/checkpoint.h"
#include "chain/witness.h"
#include "ledger/ledger.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::ledger {

inline constexpr std::string_view kBundleType = "traceledger-evidence-bundle/v1";
inline constexpr size_t kMaxBundleBytes = size_t{64} << 20;

enum class SubjectKind { kCode, kLot, kShipment };
std::string_view SubjectKindName(SubjectKind kind);  // "code", "lot", "shipment"

struct BundleSubject {
  SubjectKind kind = SubjectKind::kCode;
  std::string gtin;      // code, lot
  std::string serial;    // code
  std::string lot;       // lot (for a code: filled in from its issuance)
  std::string shipment;  // shipment

  std::string Describe() const;  // "code 09501101530003 serial ABC123", ...
};

// ---- building ---------------------------------------------------------------

enum class BundleBuildErrorCode {
  kNotFound,         // the subject is not on the ledger
  kBadCheckpoint,    // the checkpoint text does not parse
  kStaleCheckpoint,  // a relevant record lies beyond the checkpoint: sign a newer one
  kBadReceipt,       // the receipt does not parse, disagrees with itself or is for another checkpoint
  kStore,            // reading the ledger failed
};
std::string_view BundleBuildErrorCodeName(BundleBuildErrorCode code);

struct BundleBuildError {
  BundleBuildErrorCode code;
  std::string message;
};

struct BuiltBundle {
  std::string bytes;    // the bundle file (JSON, ends in "\n")
  size_t records = 0;   // how many records it holds
  uint64_t tree_size = 0;
};

// Builds the bundle against `checkpoint` (a signed note of a size the
// ledger holds). `receipt_json` is an anchor receipt file of that
// checkpoint, or empty.
[[nodiscard]] Result<BuiltBundle, BundleBuildError> BuildBundle(const Ledger& ledger,
                                                                 const BundleSubject& subject,
                                                                 const chain::SignedNote& checkpoint,
                                                                 std::string_view receipt_json = {});

// ---- verifying --------------------------------------------------------------

enum class BundleIssueCode {
  kSyntax,               // not a bundle (member named)
  kCheckpointSignature,  // no valid operator signature on the checkpoint
  kBadCosignature,       // a trusted witness's cosignature line does not verify
  kUnknownWitness,       // quorum not met, and some cosignatures are from untrusted keys
  kQuorum,               // fewer distinct trusted witness keys than the quorum
  kBadProof,             // an inclusion proof fails against the checkpoint
  kBadRecord,            // an entry does not parse, is not canonical, or its id is not the one listed
  kUnregisteredKey,      // the author's key is not registered by an earlier record in the bundle
  kKeyRevoked,           // the author's key was revoked by a record in the bundle before this one
  kBadSignature,         // the record's signature does not verify under its author's key
  kOffSubject,           // a record is neither about the subject nor registers an author's key
  kIncomplete,           // the record that defines the subject is missing
  kBadReceipt,           // the anchor receipt does not parse or disagrees with itself
  kReceiptMismatch,      // the anchor receipt is for another checkpoint
};
std::string_view BundleIssueCodeName(BundleIssueCode code);  // "bad_proof", ...

struct BundleIssue {
  BundleIssueCode code;
  std::string item;  // "checkpoint", "records[2] (index 7)", "anchor_receipt", "bundle.records"
  std::string message;
};

struct BundleTrust {
  std::vector<wallet::PublicKey> operator_keys;  // any one must have signed the checkpoint
  chain::WitnessPolicy witnesses;                // quorum 0: witnessing not required
};

struct BundleReport {
  std::optional<BundleSubject> subject;
  std::string origin;
  uint64_t tree_size = 0;
  size_t records = 0;
  std::vector<std::string> cosigned_by;  // trusted witnesses whose cosignature verifies
  bool has_receipt = false;
  std::vector<std::string> unchecked;  // what could not be checked offline, and how to check it
  std::vector<BundleIssue> issues;     // empty: the bundle verifies

  bool ok() const { return issues.empty(); }
};

// Checks everything that can be checked offline; never stops at the first
// issue except when the bundle does not parse (one kSyntax issue).
BundleReport VerifyBundle(std::string_view bytes, const BundleTrust& trust);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_BUNDLE_H_
