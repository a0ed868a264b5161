// Traceability codes: the text printed in each item's QR code, a GS1
// Digital Link 1.2 URI carrying the issuer's BIP-340 signature:
//
//   https://{resolver}/01/{GTIN-14}/10/{lot}/21/{serial}?91={key id}&92={signature}
//
// The signature covers (GTIN-14, lot, serial) only — not the resolver — so a
// code verifies offline with nothing but the issuer's public key, and keeps
// verifying if the resolver moves. Byte-exact rules: docs/FORMAT.md §14.
//
// Everything here is pure: parsing and formatting are functions of their
// inputs; signing takes the key; randomness for serials and PINs is passed
// in as bytes.
#ifndef TRACELEDGER_QRCODE_CODE_H_
#define TRACELEDGER_QRCODE_CODE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::qrcode {

// Why a code's text is not a well-formed code. Stable names (ReasonName in
// verify.h) are what the CLI and the HTTP API report.
enum class CodeError {
  kTooLong,              // more than kMaxCodeChars characters
  kBadCharacter,         // a character no URI may hold (space, control, non-ASCII, ...)
  kNotHttps,             // not an https:// URI
  kBadHost,              // missing or malformed host[:port], or user info
  kFragment,             // a '#' fragment
  kMissingGtin,          // no /01/{GTIN} in the path
  kBadGtin,              // the GTIN is not 8, 12, 13 or 14 digits
  kBadCheckDigit,        // the GTIN's GS1 check digit is wrong
  kMissingLot,           // no /10/{lot} qualifier
  kMissingSerial,        // no /21/{serial} qualifier
  kQualifierOrder,       // qualifiers not in the order 10 then 21
  kUnexpectedPath,       // other path segments after the GTIN
  kBadPercentEscape,     // '%' not followed by two hex digits
  kUnencodedCharacter,   // a reserved CSET 82 character written raw
  kOutsideCset82,        // a value character outside GS1's CSET 82
  kEmptyValue,           // an empty lot or serial
  kValueTooLong,         // a lot or serial longer than 20 characters
  kBadQuery,             // a query parameter without '=' or empty
  kUnexpectedAttribute,  // a query parameter other than 91 and 92
  kDuplicateAttribute,   // 91 or 92 given twice
  kMissingKeyId,         // no 91=
  kBadKeyId,             // 91 is not 16 lowercase hex digits
  kMissingSignature,     // no 92=
  kBadBase64,            // 92 is not unpadded base64url
  kBadSignatureLength,   // 92 does not decode to 64 bytes (truncated or padded)
};

struct CodeParseError {
  CodeError code;
  std::string message;  // names the part at fault, e.g. "lot: 'ü' at ..."
};

inline constexpr size_t kMaxCodeChars = 2048;
inline constexpr size_t kMaxValueChars = 20;  // GS1 AI (10) and (21)

// The decoded content of a code.
struct Code {
  std::string resolver;  // host[:port][/path prefix], as written
  std::string gtin;      // 14 digits, check digit valid
  std::string lot;       // decoded AI (10) value
  std::string serial;    // decoded AI (21) value
  std::string key_id;    // 16 lowercase hex digits
  wallet::Signature signature{};
};

// Parses a code's text (FORMAT.md §14.2). Accepts GTIN-8/12/13 (padded to
// 14 digits) and percent-encoded forms of any value character; returns
// the first problem found otherwise.
[[nodiscard]] Result<Code, CodeParseError> ParseCode(std::string_view text);

// The canonical text of a code: GTIN-14, values percent-encoded exactly
// where FORMAT.md §14.1 says, signature in unpadded base64url.
// REQUIRES: the fields are valid (IsValidCodeValue, 14-digit GTIN).
std::string FormatCode(const Code& code);

// Checks a resolver given for issuance: host[:port][/prefix] with the same
// rules ParseCode applies. Returns the problem, if any.
std::optional<std::string> ResolverProblem(std::string_view resolver);

// True for a lot or serial that a code can carry: 1..20 CSET 82 characters.
bool IsValidCodeValue(std::string_view value);

// GTIN-8/12/13/14 digits to GTIN-14 (left-padded with zeros); nullopt for
// any other length or a non-digit. Does not check the check digit.
std::optional<std::string> PadGtin(std::string_view digits);

// The 32 bytes the issuer signs: the BIP-340 tagged hash, tag
// "TraceLedger/code", of  gtin(14) || u8 len(lot) || lot || u8 len(serial) || serial.
// REQUIRES: lot and serial at most 255 bytes.
std::array<uint8_t, 32> CodeDigest(std::string_view gtin14, std::string_view lot, std::string_view serial);

// Signs (gtin, lot, serial) with `key` and fills code.key_id/signature.
// aux_rand32 as in SecretKey::Sign (null: fresh OS randomness).
void SignCode(Code& code, const wallet::SecretKey& key, const std::array<uint8_t, 32>* aux_rand32 = nullptr);

// True when the code's signature verifies under `key` (the key id is not
// compared here).
bool VerifyCodeSignature(const Code& code, const wallet::PublicKey& key);

// ------------------------------------------------------------ serials, PINs

// Crockford base32 digits: 0-9 A-Z without I L O U.
inline constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

inline constexpr size_t kSerialChars = 16;  // 80 bits
inline constexpr size_t kSerialRandomBytes = 10;
// A serial from 10 random bytes: 16 Crockford base32 characters.
std::string SerialFromRandom(std::span<const uint8_t, kSerialRandomBytes> random);

inline constexpr size_t kPinChars = 12;  // 60 bits
inline constexpr size_t kPinRandomBytes = 8;
// A PIN from 8 random bytes: 12 Crockford base32 characters (the low 60
// bits of the big-endian value).
std::string PinFromRandom(std::span<const uint8_t, kPinRandomBytes> random);
// "K7QM-3XRT-9HVA": the PIN in groups of four, as printed.
std::string GroupPin(std::string_view pin);
// What a person typed, back to the 12-character PIN: case-insensitive,
// hyphens and spaces dropped, I and L read as 1, O as 0. nullopt unless
// exactly 12 Crockford characters remain.
std::optional<std::string> NormalizePin(std::string_view typed);

// The committed PIN hash: the first 16 bytes of the tagged hash, tag
// "TraceLedger/pin", of  salt(16) || gtin(14) || u8 len(serial) || serial || pin(12).
std::array<uint8_t, 16> PinHash(std::span<const uint8_t, 16> salt, std::string_view gtin14,
                                std::string_view serial, std::string_view pin);

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_CODE_H_
