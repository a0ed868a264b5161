// Strict JSON parsing and RFC 8785 (JCS) canonical serialization.
//
// TraceLedger signs canonical bytes, so every language must be able to
// recompute them. We therefore accept only the I-JSON subset that JCS maps
// unambiguously: strings, integers in [-(2^53-1), 2^53-1], booleans, null,
// arrays and objects; no floats or exponents, no duplicate member names,
// valid UTF-8 only, nesting depth at most 32.
#ifndef TRACELEDGER_LEDGER_CANONICAL_JSON_H_
#define TRACELEDGER_LEDGER_CANONICAL_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/result.h"

namespace traceledger::ledger {

using Json = nlohmann::json;

enum class JsonErrorCode {
  kSyntax,        // not JSON, or trailing garbage
  kFloat,         // a number with a fraction or exponent
  kIntegerRange,  // an integer outside ±(2^53-1)
  kDuplicateKey,  // the same member name twice in one object
  kInvalidUtf8,   // a string that is not valid UTF-8 (or a lone surrogate)
  kTooDeep,       // nesting deeper than kMaxJsonDepth
};

struct JsonError {
  JsonErrorCode code;
  std::string message;  // names the offending member path or byte offset
};

inline constexpr int kMaxJsonDepth = 32;
inline constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// Parses `text` under the rules above.
[[nodiscard]] Result<Json, JsonError> ParseStrictJson(std::string_view text);

// RFC 8785 serialization: object members sorted by their UTF-16 code units,
// no whitespace, strings escaped minimally (\" \\ \b \f \n \r \t, other
// controls as \u00xx lowercase), integers in plain decimal.
// REQUIRES: `value` holds only values ParseStrictJson can produce (no
// floats, integers within range); violating that is a programming error.
std::string CanonicalJson(const Json& value);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_CANONICAL_JSON_H_
