// The body schema of every record kind, as data: one table drives body
// validation, the CLI's per-kind flags and help, and docs/FORMAT.md.
//
// Bodies are closed objects: a member not in the table is rejected, so a
// signer and a verifier can never disagree about what was signed.
#ifndef TRACELEDGER_LEDGER_SCHEMA_H_
#define TRACELEDGER_LEDGER_SCHEMA_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "ledger/record.h"

namespace traceledger::ledger {

enum class FieldType {
  kText,         // UTF-8 text, length in code points within [min, max]
  kId,           // identifier: [A-Za-z0-9._:/-], 1..max bytes
  kPartyId,      // party id: [a-z0-9][a-z0-9._-]*, 1..64 bytes
  kGtin,         // 14 digits with a valid GS1 check digit
  kLotNumber,    // GS1 AI (10) value: CSET 82, 1..20 characters
  kSerial,       // GS1 AI (21) value: CSET 82, 1..20 characters
  kCountry,      // ISO 3166-1 alpha-2, two uppercase letters
  kDate,         // YYYY-MM-DD, a real calendar date
  kSha256,       // 64 lowercase hex digits
  kPublicKey,    // 64 lowercase hex digits, a valid x-only secp256k1 key
  kKeyId,        // 16 lowercase hex digits
  kInteger,      // integer in [min, max]
  kEnum,         // one of `choices`
  kEnumArray,    // array of distinct `choices`, length in [min, max]
  kSha256Array,  // array of distinct kSha256, length in [min, max]
  kSerialArray,  // array of distinct kSerial, length in [min, max]
  kHex128,       // 32 lowercase hex digits (16 bytes: a salt)
  kHex128Array,  // array of kHex128 (repeats allowed), length in [min, max]
  kLotRefArray,  // array of {"gtin","lot","quantity"}, length in [min, max]
  kObject,       // any strict-JSON object (credit policy), keys [a-z0-9_]
};

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required;
  int64_t min = 0;  // length or value bound, per type
  int64_t max = 0;
  std::span<const std::string_view> choices = {};
  std::string_view help = {};
};

struct KindSchema {
  RecordKind kind;
  std::string_view name;  // as in the envelope's "kind"
  std::string_view help;
  std::span<const FieldSpec> fields;
};

std::span<const KindSchema> AllSchemas();
const KindSchema& SchemaFor(RecordKind kind);

// Checks `body` against the kind's table; the reject names "body.<field>".
[[nodiscard]] Result<void, Reject> ValidateBody(RecordKind kind, const Json& body);

// True for the 82 characters of GS1's CSET 82 (GS1 General Specifications
// figure 7.11-1): A-Z a-z 0-9 and ! " % & ' ( ) * + , - . / : ; < = > ? _
bool IsCset82(char c);

// Most serials one code_issuance part lists (FORMAT.md §4.5).
inline constexpr int64_t kMaxSerialsPerPart = 10'000;
// Most parts one issuance batch has.
inline constexpr int64_t kMaxIssuanceParts = 1'000;

// GS1 check digit over the first n-1 digits of an all-digit string.
int Gs1CheckDigit(std::string_view digits_without_check);
// True for a 14-digit string whose last digit is its GS1 check digit.
bool IsValidGtin14(std::string_view gtin);

// Days since 1970-01-01 for a valid YYYY-MM-DD date; nullopt otherwise.
std::optional<int64_t> ParseDate(std::string_view date);
// YYYY-MM-DD of a day number (days since 1970-01-01; proleptic Gregorian).
std::string FormatDate(int64_t days);
// The UTC day of a Unix time in seconds (floor division).
int64_t DayOfUnixSeconds(int64_t seconds);
// The same month and day `years` later; 29 February becomes 1 March when
// the target year is not a leap year.
int64_t AddYears(int64_t days, int years);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_SCHEMA_H_
