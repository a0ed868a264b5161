// Recursive Length Prefix (RLP), Ethereum's serialization for transactions
// (Ethereum Yellow Paper, appendix B). An item is a byte string or a list
// of items; integers are byte strings holding the big-endian value without
// leading zero bytes (zero is the empty string).
//
// The decoder is strict, like the Ethereum clients': it accepts exactly one
// canonical encoding per item and rejects single bytes below 0x80 wrapped
// in a length prefix, long-form lengths that would fit the short form,
// lengths with leading zero bytes, truncation and trailing bytes.
#ifndef TRACELEDGER_CHAIN_RLP_H_
#define TRACELEDGER_CHAIN_RLP_H_

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace traceledger::chain {

struct RlpItem {
  bool is_list = false;
  std::vector<uint8_t> bytes;  // when !is_list
  std::vector<RlpItem> items;  // when is_list

  static RlpItem Bytes(std::span<const uint8_t> b);
  static RlpItem String(std::string_view s);
  // Minimal big-endian bytes; 0 is the empty string.
  static RlpItem Uint(uint64_t v);
  static RlpItem List(std::vector<RlpItem> items);

  friend bool operator==(const RlpItem&, const RlpItem&) = default;
};

std::vector<uint8_t> RlpEncode(const RlpItem& item);

enum class RlpErrorCode {
  kTruncated,     // input ends inside an item or its length
  kNonCanonical,  // a valid but non-minimal encoding (see the header comment)
  kTrailing,      // bytes after the one top-level item
  kTooDeep,       // lists nested deeper than kRlpMaxDepth
  kWrongType,     // a list where a string was expected, or the reverse
  kBadInteger,    // an integer with a leading zero byte, or wider than 64 bits
};

struct RlpError {
  RlpErrorCode code;
  std::string message;
};

inline constexpr int kRlpMaxDepth = 16;

// Decodes exactly one item that spans all of `input`.
[[nodiscard]] Result<RlpItem, RlpError> RlpDecode(std::span<const uint8_t> input);

// The value of an integer item. kWrongType for a list; kBadInteger for a
// leading zero byte or more than 8 bytes. `what` names the field in the
// message.
[[nodiscard]] Result<uint64_t, RlpError> RlpToUint(const RlpItem& item, std::string_view what);

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_RLP_H_
