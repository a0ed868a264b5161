#include "qrcode/code.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "ledger/schema.h"
#include "util/encoding.h"

namespace traceledger::qrcode {
namespace {

constexpr std::string_view kCodeTag = "TraceLedger/code";
constexpr std::string_view kPinTag = "TraceLedger/pin";

CodeParseError Error(CodeError code, std::string message) { return CodeParseError{code, std::move(message)}; }

bool IsAlnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Characters a GS1 Digital Link value carries unencoded (FORMAT.md §14.1).
bool IsPlainValueChar(char c) { return IsAlnum(c) || c == '-' || c == '.' || c == '_'; }

// RFC 3986 pchar, without '%' (escapes are handled by the caller).
bool IsPathChar(char c) {
  static constexpr std::string_view kExtra = "-._~!$&'()*+,;=:@";
  return IsAlnum(c) || kExtra.find(c) != std::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Describe(char c) {
  auto u = static_cast<unsigned char>(c);
  char buf[16];
  if (u >= 0x21 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02X", u);
  }
  return buf;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// host[:port]: DNS labels (letters, digits, hyphens inside) or IPv4.
std::optional<std::string> HostProblem(std::string_view authority) {
  if (authority.empty()) return "the host is missing";
  if (authority.find('@') != std::string_view::npos) return "user information ('@') is not accepted";
  if (authority.front() == '[') return "IP literals are not accepted";
  std::string_view host = authority;
  if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), IsDigit)) {
      return "port \"" + std::string(port) + "\" is not a number";
    }
    int value = std::stoi(std::string(port));
    if (value < 1 || value > 65535) return "port " + std::string(port) + " is out of range";
  }
  if (host.empty() || host.size() > 253) return "the host must be 1..253 characters";
  for (std::string_view label : Split(host, '.')) {
    if (label.empty() || label.size() > 63)
      return "host \"" + std::string(host) + "\" has an empty or overlong label";
    if (label.front() == '-' || label.back() == '-') {
      return "host label \"" + std::string(label) + "\" starts or ends with '-'";
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') return "host \"" + std::string(host) + "\" has " + Describe(c);
    }
  }
  return std::nullopt;
}

// A path prefix segment (before /01/): non-empty pchars or escapes.
std::optional<std::string> PrefixSegmentProblem(std::string_view segment) {
  if (segment.empty()) return "the path has an empty segment";
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%') {
      if (i + 2 >= segment.size() || HexValue(segment[i + 1]) < 0 || HexValue(segment[i + 2]) < 0) {
        return "broken percent-escape in the path prefix";
      }
      i += 2;
    } else if (!IsPathChar(segment[i])) {
      return "the path prefix has " + Describe(segment[i]);
    }
  }
  return std::nullopt;
}

// Decodes a lot or serial path value (FORMAT.md §14.2 step 6).
Result<std::string, CodeParseError> DecodeValue(std::string_view raw, std::string_view what) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    const std::string where = std::string(what) + ": ";
    if (c == '%') {
      if (i + 2 >= raw.size() || HexValue(raw[i + 1]) < 0 || HexValue(raw[i + 2]) < 0) {
        return Error(CodeError::kBadPercentEscape,
                     where + "'%' at position " + std::to_string(i) + " is not followed by two hex digits");
      }
      char decoded = static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2]));
      if (!ledger::IsCset82(decoded)) {
        return Error(CodeError::kOutsideCset82, where + "%" + std::string(raw.substr(i + 1, 2)) +
                                                    " decodes to " + Describe(decoded) +
                                                    ", outside the GS1 character set (CSET 82)");
      }
      out += decoded;
      i += 2;
    } else if (IsPlainValueChar(c)) {
      out += c;
    } else if (ledger::IsCset82(c)) {
      return Error(CodeError::kUnencodedCharacter,
                   where + Describe(c) + " at position " + std::to_string(i) + " must be percent-encoded");
    } else {
      return Error(CodeError::kOutsideCset82, where + Describe(c) + " at position " + std::to_string(i) +
                                                  " is outside the GS1 character set (CSET 82)");
    }
  }
  if (out.empty()) return Error(CodeError::kEmptyValue, std::string(what) + ": is empty");
  if (out.size() > kMaxValueChars) {
    return Error(CodeError::kValueTooLong, std::string(what) + ": " + std::to_string(out.size()) +
                                               " characters, at most 20 are allowed");
  }
  return out;
}

// Percent-decodes a query value; nullopt on a broken escape.
std::optional<std::string> DecodeQueryValue(std::string_view raw) {
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out += raw[i];
      continue;
    }
    if (i + 2 >= raw.size() || HexValue(raw[i + 1]) < 0 || HexValue(raw[i + 2]) < 0) return std::nullopt;
    out += static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2]));
    i += 2;
  }
  return out;
}

std::string EncodeValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : value) {
    if (IsPlainValueChar(c)) {
      out += c;
    } else {
      auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// Parses the path after the resolver: "01/gtin/10/lot/21/serial" segments.
std::optional<CodeParseError> ParsePath(std::span<const std::string_view> segments, Code& code) {
  if (segments.size() < 2 || segments[1].empty()) return Error(CodeError::kMissingGtin, "no GTIN after /01/");
  std::string_view gtin = segments[1];
  if (!std::all_of(gtin.begin(), gtin.end(), IsDigit)) {
    return Error(CodeError::kBadGtin, "GTIN \"" + std::string(gtin) + "\" has a non-digit");
  }
  auto padded = PadGtin(gtin);
  if (!padded) {
    return Error(CodeError::kBadGtin, "GTIN \"" + std::string(gtin) + "\" has " +
                                          std::to_string(gtin.size()) +
                                          " digits; a GTIN has 8, 12, 13 or 14");
  }
  if (!ledger::IsValidGtin14(*padded)) {
    return Error(CodeError::kBadCheckDigit, "GTIN " + std::string(gtin) + ": check digit is " +
                                                std::string(1, padded->back()) + ", expected " +
                                                std::to_string(ledger::Gs1CheckDigit(padded->substr(0, 13))));
  }
  code.gtin = *padded;

  // Qualifier pairs after the GTIN: exactly 10 then 21.
  std::optional<size_t> lot_at, serial_at;
  std::string_view lot_raw, serial_raw;
  size_t pair = 0;
  for (size_t i = 2; i < segments.size(); i += 2, ++pair) {
    std::string_view ai = segments[i];
    std::string_view value = i + 1 < segments.size() ? segments[i + 1] : std::string_view();
    if (ai == "10" && !lot_at) {
      lot_at = pair;
      lot_raw = value;
    } else if (ai == "21" && !serial_at) {
      serial_at = pair;
      serial_raw = value;
    } else if (ai.empty() && i + 1 == segments.size()) {
      return Error(CodeError::kUnexpectedPath, "the path ends with '/'");
    } else {
      return Error(CodeError::kUnexpectedPath, "path element \"" + std::string(ai) +
                                                   "\" after the GTIN is not /10/{lot} or /21/{serial}");
    }
  }
  if (lot_at && serial_at && *serial_at < *lot_at) {
    return Error(CodeError::kQualifierOrder, "/21/{serial} comes before /10/{lot}; the order is 10 then 21");
  }
  if (!lot_at) return Error(CodeError::kMissingLot, "no /10/{lot} qualifier");
  if (!serial_at) return Error(CodeError::kMissingSerial, "no /21/{serial} qualifier");
  auto lot = DecodeValue(lot_raw, "lot");
  if (!lot.ok()) return lot.error();
  auto serial = DecodeValue(serial_raw, "serial");
  if (!serial.ok()) return serial.error();
  code.lot = std::move(lot).value();
  code.serial = std::move(serial).value();
  return std::nullopt;
}

std::optional<CodeParseError> ParseQuery(std::string_view query, Code& code) {
  std::optional<std::string_view> key_id_raw, sig_raw;
  if (!query.empty()) {
    for (std::string_view param : Split(query, '&')) {
      size_t eq = param.find('=');
      if (param.empty() || eq == std::string_view::npos || eq == 0) {
        return Error(CodeError::kBadQuery,
                     "query parameter \"" + std::string(param) + "\" is not name=value");
      }
      std::string_view name = param.substr(0, eq);
      std::optional<std::string_view>* slot = name == "91" ? &key_id_raw : name == "92" ? &sig_raw : nullptr;
      if (slot == nullptr) {
        return Error(CodeError::kUnexpectedAttribute, "query parameter \"" + std::string(name) +
                                                          "\" is not part of a code (only 91 and 92 are)");
      }
      if (*slot)
        return Error(CodeError::kDuplicateAttribute,
                     "query parameter " + std::string(name) + " appears twice");
      *slot = param.substr(eq + 1);
    }
  }
  if (!key_id_raw) return Error(CodeError::kMissingKeyId, "no key id (91=) in the query");
  if (!sig_raw) return Error(CodeError::kMissingSignature, "no signature (92=) in the query");
  auto key_id = DecodeQueryValue(*key_id_raw);
  if (!key_id) return Error(CodeError::kBadPercentEscape, "91: broken percent-escape");
  if (key_id->size() != 16 || key_id->find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Error(CodeError::kBadKeyId, "91: \"" + *key_id + "\" is not a key id (16 lowercase hex digits)");
  }
  auto sig_text = DecodeQueryValue(*sig_raw);
  if (!sig_text) return Error(CodeError::kBadPercentEscape, "92: broken percent-escape");
  auto sig = Base64UrlDecode(*sig_text);
  if (!sig) return Error(CodeError::kBadBase64, "92: not unpadded base64url");
  if (sig->size() != code.signature.size()) {
    return Error(CodeError::kBadSignatureLength,
                 "92: decodes to " + std::to_string(sig->size()) + " bytes; a signature has 64");
  }
  code.key_id = std::move(*key_id);
  std::copy(sig->begin(), sig->end(), code.signature.begin());
  return std::nullopt;
}

}  // namespace

Result<Code, CodeParseError> ParseCode(std::string_view text) {
  if (text.size() > kMaxCodeChars) {
    return Error(CodeError::kTooLong, "the text is " + std::to_string(text.size()) + " characters; at most " +
                                          std::to_string(kMaxCodeChars) + " are accepted");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (u <= 0x20 || u >= 0x7f) {
      return Error(CodeError::kBadCharacter,
                   Describe(text[i]) + " at position " + std::to_string(i) + " cannot appear in a URI");
    }
  }
  constexpr std::string_view kScheme = "https://";
  if (text.size() < kScheme.size() || !EqualsIgnoreCase(text.substr(0, kScheme.size()), kScheme)) {
    size_t sep = text.find("://");
    return Error(CodeError::kNotHttps,
                 sep == std::string_view::npos
                     ? "not a URI: no scheme"
                     : "scheme \"" + std::string(text.substr(0, sep)) + "\" is not https");
  }
  if (text.find('#') != std::string_view::npos)
    return Error(CodeError::kFragment, "a code has no '#' fragment");
  std::string_view rest = text.substr(kScheme.size());
  size_t query_at = rest.find('?');
  std::string_view query =
      query_at == std::string_view::npos ? std::string_view() : rest.substr(query_at + 1);
  std::string_view before_query = rest.substr(0, query_at);
  size_t path_at = before_query.find('/');
  std::string_view authority = before_query.substr(0, path_at);
  if (auto problem = HostProblem(authority)) return Error(CodeError::kBadHost, *problem);
  std::string_view path =
      path_at == std::string_view::npos ? std::string_view() : before_query.substr(path_at + 1);

  Code code;
  std::vector<std::string_view> segments = path.empty() ? std::vector<std::string_view>() : Split(path, '/');
  auto gtin_at = std::find(segments.begin(), segments.end(), "01");
  if (gtin_at == segments.end()) return Error(CodeError::kMissingGtin, "no /01/{GTIN} in the path");
  for (auto it = segments.begin(); it != gtin_at; ++it) {
    if (auto problem = PrefixSegmentProblem(*it)) return Error(CodeError::kBadHost, *problem);
  }
  // The resolver: host and any path prefix, as written.
  size_t prefix_chars = 0;
  for (auto it = segments.begin(); it != gtin_at; ++it) prefix_chars += it->size() + 1;
  code.resolver = std::string(authority);
  if (prefix_chars > 0) code.resolver += "/" + std::string(path.substr(0, prefix_chars - 1));
  if (auto problem = ParsePath(std::span(gtin_at, segments.end()), code)) return *problem;
  if (auto problem = ParseQuery(query, code)) return *problem;
  return code;
}

std::string FormatCode(const Code& code) {
  std::string out = "https://";
  out += code.resolver;
  out += "/01/";
  out += code.gtin;
  out += "/10/";
  out += EncodeValue(code.lot);
  out += "/21/";
  out += EncodeValue(code.serial);
  out += "?91=";
  out += code.key_id;
  out += "&92=";
  out += Base64UrlEncode(code.signature);
  return out;
}

std::optional<std::string> ResolverProblem(std::string_view resolver) {
  size_t slash = resolver.find('/');
  if (auto problem = HostProblem(resolver.substr(0, slash))) return problem;
  if (slash == std::string_view::npos) return std::nullopt;
  for (std::string_view segment : Split(resolver.substr(slash + 1), '/')) {
    if (auto problem = PrefixSegmentProblem(segment)) return problem;
    if (segment == "01") return "a path prefix segment may not be \"01\" (it starts the GTIN)";
  }
  return std::nullopt;
}

bool IsValidCodeValue(std::string_view value) {
  return !value.empty() && value.size() <= kMaxValueChars &&
         std::all_of(value.begin(), value.end(), ledger::IsCset82);
}

std::optional<std::string> PadGtin(std::string_view digits) {
  if (!std::all_of(digits.begin(), digits.end(), IsDigit)) return std::nullopt;
  if (digits.size() != 8 && digits.size() != 12 && digits.size() != 13 && digits.size() != 14)
    return std::nullopt;
  return std::string(14 - digits.size(), '0') + std::string(digits);
}

std::array<uint8_t, 32> CodeDigest(std::string_view gtin14, std::string_view lot, std::string_view serial) {
  std::vector<uint8_t> msg;
  msg.reserve(gtin14.size() + lot.size() + serial.size() + 2);
  msg.insert(msg.end(), gtin14.begin(), gtin14.end());
  msg.push_back(static_cast<uint8_t>(lot.size()));
  msg.insert(msg.end(), lot.begin(), lot.end());
  msg.push_back(static_cast<uint8_t>(serial.size()));
  msg.insert(msg.end(), serial.begin(), serial.end());
  return wallet::TaggedHash(kCodeTag, msg);
}

void SignCode(Code& code, const wallet::SecretKey& key, const std::array<uint8_t, 32>* aux_rand32) {
  code.key_id = key.Public().KeyId();
  code.signature = key.Sign(CodeDigest(code.gtin, code.lot, code.serial), aux_rand32);
}

bool VerifyCodeSignature(const Code& code, const wallet::PublicKey& key) {
  return key.Verify(CodeDigest(code.gtin, code.lot, code.serial), code.signature);
}

// ------------------------------------------------------------ serials, PINs

std::string SerialFromRandom(std::span<const uint8_t, kSerialRandomBytes> random) {
  // 80 bits, 5 at a time, most significant first.
  std::string out;
  out.reserve(kSerialChars);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : random) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += kCrockford[(buffer >> bits) & 31];
    }
  }
  return out;
}

std::string PinFromRandom(std::span<const uint8_t, kPinRandomBytes> random) {
  uint64_t v = GetBigEndian64(random.data());
  std::string out(kPinChars, '0');
  for (size_t i = kPinChars; i-- > 0;) {
    out[i] = kCrockford[v & 31];
    v >>= 5;
  }
  return out;
}

std::string GroupPin(std::string_view pin) {
  std::string out;
  for (size_t i = 0; i < pin.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    out += pin[i];
  }
  return out;
}

std::optional<std::string> NormalizePin(std::string_view typed) {
  std::string out;
  for (char c : typed) {
    if (c == '-' || c == ' ') continue;
    char u = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (u == 'I' || u == 'L') u = '1';
    if (u == 'O') u = '0';
    if (kCrockford.find(u) == std::string_view::npos) return std::nullopt;
    out += u;
  }
  if (out.size() != kPinChars) return std::nullopt;
  return out;
}

std::array<uint8_t, 16> PinHash(std::span<const uint8_t, 16> salt, std::string_view gtin14,
                                std::string_view serial, std::string_view pin) {
  std::vector<uint8_t> msg(salt.begin(), salt.end());
  msg.insert(msg.end(), gtin14.begin(), gtin14.end());
  msg.push_back(static_cast<uint8_t>(serial.size()));
  msg.insert(msg.end(), serial.begin(), serial.end());
  msg.insert(msg.end(), pin.begin(), pin.end());
  auto digest = wallet::TaggedHash(kPinTag, msg);
  std::array<uint8_t, 16> out;
  std::copy(digest.begin(), digest.begin() + 16, out.begin());
  return out;
}

}  // namespace traceledger::qrcode
