// Code verification as a pure function: the text of one scanned code in, a
// verdict out. The CLI (`tracectl verify`, `tracectl scan`) and the HTTP
// scan service call this same function; only the lookups they pass differ
// (a ledger, or an issuer's public key for offline checks).
//
// Verdicts (FORMAT.md §14.4):
//   genuine    the signature verifies under the key named by 91=, the key is
//              registered and not revoked (a retired key still counts), and
//              its party owns the GTIN (skipped by lookups that do not know
//              owners, i.e. offline keys)
//   forged     bad signature, unknown or revoked key, key of a party that
//              does not own the GTIN, or a GTIN nobody registered
//   malformed  the text is not a well-formed code; `malformed` says why
//   error      a lookup failed (I/O); no verdict could be reached
// A genuine code is then looked up for its status when a StatusLookup is
// given: valid, revoked, lot recalled, lot failed inspection, never issued.
#ifndef TRACELEDGER_QRCODE_VERIFY_H_
#define TRACELEDGER_QRCODE_VERIFY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/canonical_json.h"
#include "qrcode/code.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::qrcode {

enum class Verdict { kGenuine, kForged, kMalformed, kError };

enum class Reason {
  kGenuine,            // all checks passed
  kMalformed,          // see VerifyResult::malformed
  kBadSignature,       // the signature does not verify under the named key
  kUnknownKey,         // 91= names no registered (or given) key
  kKeyRevoked,         // the key was revoked
  kOtherMerchantKey,   // the key's party does not own the GTIN
  kGtinNotRegistered,  // no party registered the GTIN
  kLookupFailed,       // a lookup failed; message says which
};

enum class Status {
  kNotChecked,           // no status lookup given, or the code is not genuine
  kValid,                // issued, and none of the below
  kRevoked,              // a code_revocation lists it
  kLotRecalled,          // the lot it was issued for is recalled
  kLotFailedInspection,  // that lot has a non_conformant inspection
  kNeverIssued,          // no code_issuance lists this serial for this GTIN and lot
};

std::string_view VerdictName(Verdict verdict);
std::string_view CodeErrorName(CodeError error);
std::string_view StatusName(Status status);

// A key as the verifier needs it.
struct IssuerKey {
  wallet::PublicKey key;
  std::string party;  // empty when unknown (offline keys)
  bool revoked = false;
  bool retired = false;  // informational: retired keys still verify old codes
};

// Where issuer keys and GTIN owners come from. Errors are I/O failures.
class IssuerLookup {
 public:
  virtual ~IssuerLookup() = default;
  // The key with this id; nullopt if unknown.
  [[nodiscard]] virtual Result<std::optional<IssuerKey>, std::string> FindKey(
      std::string_view key_id) const = 0;
  // False when owners are unknown (offline keys): the owner check is skipped.
  virtual bool KnowsOwners() const = 0;
  // The party that registered the GTIN; nullopt if none.
  [[nodiscard]] virtual Result<std::optional<std::string>, std::string> GtinOwner(
      std::string_view gtin14) const = 0;
};

struct StatusInfo {
  Status status = Status::kNotChecked;
  std::string message;  // e.g. "revoked by the code_revocation at log index 40"
  // When issued: where.
  std::string batch;
  uint64_t issuance_index = 0;
  bool has_pin = false;
};

// Where code statuses come from. Errors are I/O failures.
class StatusLookup {
 public:
  virtual ~StatusLookup() = default;
  [[nodiscard]] virtual Result<StatusInfo, std::string> CodeStatus(const Code& code) const = 0;
};

// Offline lookup: a fixed set of public keys, owners unknown.
class KeyListLookup : public IssuerLookup {
 public:
  explicit KeyListLookup(std::vector<wallet::PublicKey> keys) : keys_(std::move(keys)) {}
  Result<std::optional<IssuerKey>, std::string> FindKey(std::string_view key_id) const override;
  bool KnowsOwners() const override { return false; }
  Result<std::optional<std::string>, std::string> GtinOwner(std::string_view) const override {
    return std::optional<std::string>();
  }

 private:
  std::vector<wallet::PublicKey> keys_;
};

struct VerifyResult {
  std::string text;  // the input, always
  Verdict verdict = Verdict::kMalformed;
  Reason reason = Reason::kMalformed;
  std::optional<CodeError> malformed;  // set iff reason == kMalformed
  std::string message;
  std::optional<Code> code;  // the parsed fields, when the text parsed
  std::string issuer;        // the key's party, when known
  bool key_retired = false;
  StatusInfo status;

  // The stable reason name: a CodeErrorName when malformed, else e.g.
  // "bad_signature", "genuine".
  std::string_view ReasonName() const;
  // Genuine, and valid when the status was checked.
  bool Good() const {
    return verdict == Verdict::kGenuine &&
           (status.status == Status::kNotChecked || status.status == Status::kValid);
  }
};

// Verifies one code's text. Pure: all it learns comes through the lookups.
VerifyResult VerifyCode(std::string_view text, const IssuerLookup& issuers,
                        const StatusLookup* status = nullptr);

// The status step of VerifyCode on its own: for a genuine code, looks up
// its status into r.status (a failed lookup turns r into verdict error,
// reason lookup_failed); anything else is left as it is. VerifyCode(text,
// issuers, &status) equals VerifyCode(text, issuers) then LookUpStatus —
// which lets a batch look statuses up in an order of its choosing.
void LookUpStatus(VerifyResult& r, const StatusLookup& status);

// {"text","verdict","reason","message","gtin","lot","serial","key_id",
//  "resolver","issuer","status","status_message"} (FORMAT.md §14.4); the
// text is carried as given (invalid UTF-8 replaced by U+FFFD when dumped).
ledger::Json ToJson(const VerifyResult& result);

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_VERIFY_H_
