// Byte/text encodings used by every layer: lowercase hex and unpadded
// base64url (RFC 4648 §5). Decoders are strict: they reject odd lengths,
// characters outside the alphabet, padding, and non-canonical trailing bits.
#ifndef TRACELEDGER_UTIL_ENCODING_H_
#define TRACELEDGER_UTIL_ENCODING_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace traceledger {

std::string HexEncode(std::span<const uint8_t> bytes);
// Accepts lowercase and uppercase digits. Returns nullopt on odd length or a
// non-hex character.
std::optional<std::vector<uint8_t>> HexDecode(std::string_view hex);

std::string Base64UrlEncode(std::span<const uint8_t> bytes);
// Unpadded base64url only. Returns nullopt on '=' padding, characters
// outside [A-Za-z0-9-_], a length of 1 mod 4, or non-zero unused bits.
std::optional<std::vector<uint8_t>> Base64UrlDecode(std::string_view text);

// Standard base64 with padding (RFC 4648 §4), as C2SP signed notes use it.
std::string Base64Encode(std::span<const uint8_t> bytes);
// Strict: returns nullopt unless the length is a multiple of 4, every
// character is in [A-Za-z0-9+/], '=' appears only as the 0-2 characters of
// padding the length requires, and the unused bits are zero.
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);

// ASCII decimal digits only: no sign, no leading zeros ("0" alone is 0),
// at most 2^64 - 1. Returns nullopt otherwise.
std::optional<uint64_t> ParseDecimal(std::string_view text);

// Big-endian fixed-width integer encoding.
void PutBigEndian64(uint64_t v, uint8_t out[8]);
uint64_t GetBigEndian64(const uint8_t in[8]);
void PutBigEndian32(uint32_t v, uint8_t out[4]);
uint32_t GetBigEndian32(const uint8_t in[4]);

}  // namespace traceledger

#endif  // TRACELEDGER_UTIL_ENCODING_H_
