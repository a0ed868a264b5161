// Records: the signed statements the ledger holds.
//
// A record is a JSON object (the "envelope"):
//   {"v":1, "kind":"lot", "author":"<key id>", "time":<unix seconds>,
//    "nonce":"<hex>", "body":{...kind-specific...}, "sig":"<128 hex>"}
// id   = SHA-256(JCS(envelope without "sig"))   — what the author signs
// sig  = BIP-340 signature by the author's key over the 32-byte id
// entry = JCS(envelope with "sig")              — what the log stores
// leaf = SHA-256(0x00 || entry)                  — the RFC 9162 leaf hash
// (docs/FORMAT.md has the byte-exact rules.)
//
// ParseRecord is context-free: JSON strictness, envelope and body schema
// (schema.h), and the derived hashes. Whether the author may sign it is
// decided by rules.h against ledger state.
#ifndef TRACELEDGER_LEDGER_RECORD_H_
#define TRACELEDGER_LEDGER_RECORD_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "chain/hash.h"
#include "ledger/canonical_json.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::ledger {

enum class RecordKind {
  kParty,            // party registration (operator)
  kKeyRotation,      // add a key to a party, optionally retiring one (operator)
  kKeyRevocation,    // revoke a key (operator)
  kRoleGrant,        // grant a role to a party (operator)
  kProduct,          // merchant
  kLot,              // merchant
  kCodeIssuance,     // merchant
  kShipment,         // merchant
  kCustody,          // merchant owning the shipment, or logistics
  kInspection,       // inspector
  kCustomsDecision,  // customs
  kCreditEvent,      // regulator
  kCreditPolicy,     // regulator
  kCodeRevocation,   // issuing merchant or regulator
  kLotRecall,        // issuing merchant or regulator
};
inline constexpr int kRecordKindCount = 15;

std::string_view KindName(RecordKind kind);
std::optional<RecordKind> KindFromName(std::string_view name);

enum class Role { kOperator, kMerchant, kInspector, kCustoms, kRegulator, kLogistics };
inline constexpr int kRoleCount = 6;
std::string_view RoleName(Role role);
std::optional<Role> RoleFromName(std::string_view name);

// Why a record was rejected. The code is stable (scripts and the HTTP API
// rely on CodeName); `field` is the JSON path at fault ("body.gtin").
enum class RejectCode {
  kMalformed,         // not strict JSON (see canonical_json.h)
  kSchema,            // missing/unknown field, wrong type, length, format
  kUnknownKey,        // author key id is not registered
  kKeyRevoked,        // author key was revoked
  kKeyRetired,        // author key was rotated out
  kBadSignature,      // signature does not verify
  kUnauthorized,      // the author's party lacks the role, or acts on itself
  kNotOwner,          // the referenced object belongs to another merchant
  kUnknownReference,  // the referenced party/product/lot/shipment is absent
  kDuplicate,         // the object (GTIN, lot, party, key, ...) already exists
  kConflict,          // state forbids it (already revoked, recalled, ...)
  kReplay,            // this exact record was accepted before
  kClock,             // record time too far ahead of the ledger clock
  kUnavailable,       // the ledger could not make it durable; not accepted
  kAborted,           // not committed: another record of its atomic submission was rejected
};
std::string_view RejectCodeName(RejectCode code);

struct Reject {
  RejectCode code = RejectCode::kSchema;
  std::string field;
  std::string message;

  // "schema: body.gtin: check digit is 3, expected 7"
  std::string ToString() const;
};

struct Record {
  RecordKind kind = RecordKind::kParty;
  std::string author;  // key id (16 hex digits)
  int64_t time = 0;    // author's clock, Unix seconds
  std::string nonce;   // optional, hex
  Json body;
  wallet::Signature sig{};

  chain::Hash id{};   // SHA-256 of the canonical unsigned envelope
  std::string entry;  // canonical bytes of the full envelope
  chain::Hash leaf_hash{};

  std::string IdHex() const { return chain::HashHex(id); }
  // Shorthand for body string fields; "" when absent.
  std::string_view Str(std::string_view field) const;
};

// The largest record text ParseRecord accepts (1 MiB); a larger one is a
// schema reject. A code_issuance part at its limits stays well below it.
inline constexpr size_t kMaxRecordBytes = size_t{1} << 20;

// Parses and checks a record (JSON, envelope, body schema) and computes
// id, entry and leaf hash. Does not check the signature.
[[nodiscard]] Result<Record, Reject> ParseRecord(std::string_view json);

// Builds and signs a record; the result's entry is ready to submit. The
// body is not validated here (ParseRecord(entry) does that).
Record SignRecord(RecordKind kind, const Json& body, const wallet::SecretKey& key, int64_t time,
                  std::string nonce = {});

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_RECORD_H_
