// The code format (qrcode/code.h): formatting and parsing GS1 Digital Link
// URIs byte for byte, every malformed input with its own error code, the
// signed digest, serials and PINs.
#include "qrcode/code.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "chain/hash.h"
#include "ledger/schema.h"
#include "qrcode/verify.h"
#include "util/encoding.h"
#include "wallet/key.h"

namespace traceledger::qrcode {
namespace {

constexpr const char* kGtin = "09501101530003";

// BIP-340 tagged hash computed from plain SHA-256, independently of
// wallet::TaggedHash.
std::array<uint8_t, 32> IndependentTaggedHash(std::string_view tag, const std::string& msg) {
  chain::Hash t = chain::Sha256(tag);
  std::string data(reinterpret_cast<const char*>(t.data()), t.size());
  data += data;
  data += msg;
  return chain::Sha256(data);
}

Code SignedCode(const wallet::SecretKey& key, std::string lot = "L2026-11A",
                std::string serial = "0123456789ABCDEF") {
  Code code{.resolver = "id.traceledger.example",
            .gtin = kGtin,
            .lot = std::move(lot),
            .serial = std::move(serial)};
  SignCode(code, key);
  return code;
}

TEST(CodeFormatTest, CanonicalTextByteForByte) {
  wallet::SecretKey key = wallet::SecretKey::Generate();
  Code code = SignedCode(key);
  const std::string text = FormatCode(code);
  EXPECT_EQ(text, "https://id.traceledger.example/01/09501101530003/10/L2026-11A/21/0123456789ABCDEF?91=" +
                      key.Public().KeyId() + "&92=" + Base64UrlEncode(code.signature));
  EXPECT_EQ(Base64UrlEncode(code.signature).size(), 86u);
  auto parsed = ParseCode(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->resolver, "id.traceledger.example");
  EXPECT_EQ(parsed->gtin, kGtin);
  EXPECT_EQ(parsed->lot, "L2026-11A");
  EXPECT_EQ(parsed->serial, "0123456789ABCDEF");
  EXPECT_EQ(parsed->key_id, key.Public().KeyId());
  EXPECT_EQ(parsed->signature, code.signature);
  EXPECT_TRUE(VerifyCodeSignature(*parsed, key.Public()));
}

TEST(CodeFormatTest, EveryReservedCset82CharacterIsPercentEncoded) {
  // All 82 characters: letters, digits and - . _ stay; the other 17 are
  // written %XX with uppercase hex.
  Code code{.resolver = "r.example", .gtin = kGtin, .lot = "!\"%&'()*+,-./:;<=>?", .serial = "_Az09"};
  code.key_id = "0123456789abcdef";
  const std::string text = FormatCode(code);
  EXPECT_NE(text.find("/10/%21%22%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F/21/_Az09?"),
            std::string::npos)
      << text;
  auto parsed = ParseCode(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->lot, code.lot);
  EXPECT_EQ(parsed->serial, code.serial);
  // Every CSET 82 character survives a round trip; nothing else is one.
  int cset = 0;
  for (int c = 0; c < 256; ++c) cset += ledger::IsCset82(static_cast<char>(c)) ? 1 : 0;
  EXPECT_EQ(cset, 82);
}

TEST(CodeFormatTest, ParserAcceptsEquivalentForms) {
  wallet::SecretKey key = wallet::SecretKey::Generate();
  Code code = SignedCode(key, "L/1", "S:2");
  std::string text = FormatCode(code);
  // Lowercase escapes, escaped plain characters, an uppercase scheme and
  // host, a GTIN-13, a path prefix and 92 before 91 all mean the same code.
  std::string variant = text;
  variant.replace(variant.find("%2F"), 3, "%2f");
  variant.replace(variant.find("/10/L"), 5, "/10/%4C");
  variant.replace(0, 8, "HTTPS://");
  variant.replace(variant.find("id.traceledger"), 2, "ID");
  variant.replace(variant.find("/01/0"), 5, "/01/");  // GTIN-13
  variant.insert(variant.find("/01/"), "/gs1/x");
  size_t q = variant.find('?');
  std::string query = variant.substr(q + 1);
  size_t amp = query.find('&');
  variant = variant.substr(0, q + 1) + query.substr(amp + 1) + "&" + query.substr(0, amp);
  auto parsed = ParseCode(variant);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message << "\n" << variant;
  EXPECT_EQ(parsed->gtin, kGtin);
  EXPECT_EQ(parsed->lot, "L/1");
  EXPECT_EQ(parsed->serial, "S:2");
  EXPECT_EQ(parsed->resolver, "ID.traceledger.example/gs1/x");
  EXPECT_TRUE(VerifyCodeSignature(*parsed, key.Public()));
  // GTIN-8 and GTIN-12 are padded too.
  EXPECT_EQ(*PadGtin("96385074"), "00000096385074");
  EXPECT_EQ(*PadGtin("614141000036"), "00614141000036");
  EXPECT_FALSE(PadGtin("1234567890").has_value());
}

struct MalformedCase {
  std::string name;
  std::string text;
  CodeError expected;
};

TEST(CodeParseTest, EveryMalformedInputHasItsOwnCode) {
  wallet::SecretKey key = wallet::SecretKey::Generate();
  const std::string good = FormatCode(SignedCode(key));
  const std::string kid = key.Public().KeyId();
  const std::string sig = good.substr(good.find("&92=") + 4);
  const std::string base = "https://id.traceledger.example/01/09501101530003";
  const std::string query = "?91=" + kid + "&92=" + sig;
  auto replace = [&](std::string from, std::string to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  const std::vector<MalformedCase> cases = {
      {"too long", good + "&" + std::string(kMaxCodeChars, 'a'), CodeError::kTooLong},
      {"space", replace("L2026", "L 2026"), CodeError::kBadCharacter},
      {"non-ascii",
       replace("L2026",
               "L\xC3\xA9"
               "2026"),
       CodeError::kBadCharacter},
      {"http", replace("https://", "http://"), CodeError::kNotHttps},
      {"no scheme", good.substr(8), CodeError::kNotHttps},
      {"user info", replace("https://", "https://user@"), CodeError::kBadHost},
      {"bad port", replace(".example", ".example:99999"), CodeError::kBadHost},
      {"empty host", replace("id.traceledger.example", ""), CodeError::kBadHost},
      {"fragment", good + "#x", CodeError::kFragment},
      {"no gtin", replace("/01/", "/02/"), CodeError::kMissingGtin},
      {"gtin length", replace("09501101530003", "0950110153000"), CodeError::kBadCheckDigit},
      {"gtin 11 digits", replace("09501101530003", "95011015300"), CodeError::kBadGtin},
      {"gtin letters", replace("09501101530003", "0950110153000X"), CodeError::kBadGtin},
      {"check digit", replace("09501101530003", "09501101530004"), CodeError::kBadCheckDigit},
      {"missing lot", base + "/21/0123456789ABCDEF" + query, CodeError::kMissingLot},
      {"missing serial", base + "/10/L2026-11A" + query, CodeError::kMissingSerial},
      {"reordered", base + "/21/0123456789ABCDEF/10/L2026-11A" + query, CodeError::kQualifierOrder},
      {"extra qualifier", base + "/22/V1/10/L2026-11A/21/0123456789ABCDEF" + query,
       CodeError::kUnexpectedPath},
      {"trailing slash", base + "/10/L2026-11A/21/0123456789ABCDEF/" + query, CodeError::kUnexpectedPath},
      {"broken escape", replace("L2026", "L%2"), CodeError::kBadPercentEscape},
      {"non-hex escape", replace("L2026", "L%G12026"), CodeError::kBadPercentEscape},
      {"escape at end", base + "/10/L2026-11A/21/ABC%" + query, CodeError::kBadPercentEscape},
      {"raw reserved", replace("L2026", "L!2026"), CodeError::kUnencodedCharacter},
      {"tilde", replace("L2026", "L~2026"), CodeError::kOutsideCset82},
      {"escaped space", replace("L2026", "L%202026"), CodeError::kOutsideCset82},
      {"escaped non-ascii", replace("L2026", "L%C3%A92026"), CodeError::kOutsideCset82},
      {"empty lot", base + "/10//21/0123456789ABCDEF" + query, CodeError::kEmptyValue},
      {"empty serial", base + "/10/L2026-11A/21" + query, CodeError::kEmptyValue},
      {"overlong lot", replace("L2026-11A", std::string(21, 'L')), CodeError::kValueTooLong},
      {"overlong serial", replace("0123456789ABCDEF", std::string(18, 'S') + "%2F%2F%2F"),
       CodeError::kValueTooLong},
      {"bare query word", good + "&x", CodeError::kBadQuery},
      {"other attribute", good + "&17=261231", CodeError::kUnexpectedAttribute},
      {"91 twice", good + "&91=" + kid, CodeError::kDuplicateAttribute},
      {"no query", base + "/10/L2026-11A/21/0123456789ABCDEF", CodeError::kMissingKeyId},
      {"no 91", replace("?91=" + kid + "&", "?"), CodeError::kMissingKeyId},
      {"no 92", good.substr(0, good.find("&92=")), CodeError::kMissingSignature},
      {"uppercase key id", replace(kid, "ABCDEF0123456789"), CodeError::kBadKeyId},
      {"short key id", replace(kid, kid.substr(1)), CodeError::kBadKeyId},
      {"bad base64", replace(sig, sig.substr(0, 10) + "*" + sig.substr(11)), CodeError::kBadBase64},
      {"padded base64", good + "==", CodeError::kBadBase64},
      {"one char short", good.substr(0, good.size() - 1), CodeError::kBadBase64},
      // 84 characters decode to 63 bytes; 85 cannot be base64url at all.
      {"truncated signature", good.substr(0, good.size() - 2), CodeError::kBadSignatureLength},
      {"longer signature", good + "AAAA", CodeError::kBadSignatureLength},
  };
  std::set<CodeError> seen;
  for (const auto& c : cases) {
    auto parsed = ParseCode(c.text);
    ASSERT_FALSE(parsed.ok()) << c.name << ": parsed\n" << c.text;
    EXPECT_EQ(CodeErrorName(parsed.error().code), CodeErrorName(c.expected))
        << c.name << ": " << parsed.error().message << "\n"
        << c.text;
    EXPECT_FALSE(parsed.error().message.empty()) << c.name;
    seen.insert(c.expected);
  }
  EXPECT_EQ(seen.size(), 25u) << "every CodeError has a case";
}

TEST(CodeParseTest, MessagesNameThePartAtFault) {
  auto parsed = ParseCode("https://r.example/01/09501101530004/10/L/21/S?91=0123456789abcdef&92=AA");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("check digit is 4, expected 3"), std::string::npos)
      << parsed.error().message;
  parsed = ParseCode("https://r.example/01/09501101530003/10/L%7E/21/S?91=0123456789abcdef&92=AA");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("lot"), std::string::npos) << parsed.error().message;
}

// The worked example of docs/FORMAT.md §14.7: secret key 3 (BIP-340 test
// vector 0) and all-zero auxiliary randomness make the signature, and so
// the whole text, reproducible.
TEST(CodeFormatTest, WorkedExampleOfFormatMd) {
  std::array<uint8_t, 32> secret{};
  secret[31] = 3;
  wallet::SecretKey key = *wallet::SecretKey::FromBytes(secret);
  Code code{
      .resolver = "id.traceledger.example", .gtin = kGtin, .lot = "L2026/11A", .serial = "K3M8Q2X7W9R4T6Y1"};
  EXPECT_EQ(HexEncode(CodeDigest(code.gtin, code.lot, code.serial)),
            "6a730d61ee3a4fa3e625ef737699ceb9b84c1b40ca6627edc28e5eb0096264b7");
  const std::array<uint8_t, 32> zero{};
  SignCode(code, key, &zero);
  EXPECT_EQ(FormatCode(code),
            "https://id.traceledger.example/01/09501101530003/10/L2026%2F11A/21/K3M8Q2X7W9R4T6Y1"
            "?91=895f0839a4e714f1&92=r_nhfPHnoFtrCDnm5cJ-EDjWpF_Vcg0oDzSc1HmOk9-"
            "iIq38z2S5ChKoLph4I1zbmyfV5xbX0oHi6FiAtITxpQ");
  std::array<uint8_t, 16> salt;
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(HexEncode(PinHash(salt, kGtin, code.serial, "K7QM3XRT9HVA")), "f0aca2764b2ca98a7507ac00ddf8d07b");
}

TEST(CodeSignatureTest, DigestIsTheDocumentedTaggedHash) {
  // gtin(14) || len(lot) || lot || len(serial) || serial, tag "TraceLedger/code".
  std::string msg = std::string(kGtin) + '\x03' + "L/1" + '\x05' + "S0001";
  EXPECT_EQ(CodeDigest(kGtin, "L/1", "S0001"), IndependentTaggedHash("TraceLedger/code", msg));
  // Lengths keep (lot, serial) unambiguous: "AB"+"C" differs from "A"+"BC".
  EXPECT_NE(CodeDigest(kGtin, "AB", "C"), CodeDigest(kGtin, "A", "BC"));
}

TEST(CodeSignatureTest, SignatureCoversGtinLotAndSerialButNotTheResolver) {
  wallet::SecretKey key = wallet::SecretKey::Generate();
  Code code = SignedCode(key);
  Code moved = code;
  moved.resolver = "codes.elsewhere.example:8443/v2";
  EXPECT_TRUE(VerifyCodeSignature(*ParseCode(FormatCode(moved)), key.Public()));
  for (int field = 0; field < 3; ++field) {
    Code changed = code;
    (field == 0   ? changed.gtin
     : field == 1 ? changed.lot
                  : changed.serial) = field == 0   ? "09501101530010"
                                      : field == 1 ? "L2026-11B"
                                                   : "0123456789ABCDEG";
    EXPECT_FALSE(VerifyCodeSignature(changed, key.Public())) << field;
  }
  EXPECT_FALSE(VerifyCodeSignature(code, wallet::SecretKey::Generate().Public()));
}

TEST(CodeResolverTest, IssuanceResolverIsAHostWithAnOptionalPrefix) {
  EXPECT_FALSE(ResolverProblem("id.traceledger.example").has_value());
  EXPECT_FALSE(ResolverProblem("localhost:8080").has_value());
  EXPECT_FALSE(ResolverProblem("example.com/gs1").has_value());
  for (std::string bad :
       {"", "-x.example", "a..b", "host:0", "host:x", "user@host", "[::1]", "h/01", "h/a b", "h/"}) {
    EXPECT_TRUE(ResolverProblem(bad).has_value()) << bad;
  }
}

TEST(SerialTest, SixteenCrockfordCharactersFromEightyBits) {
  std::array<uint8_t, kSerialRandomBytes> zero{}, ones{};
  ones.fill(0xFF);
  EXPECT_EQ(SerialFromRandom(zero), "0000000000000000");
  EXPECT_EQ(SerialFromRandom(ones), "ZZZZZZZZZZZZZZZZ");
  // 5-bit groups, most significant first.
  std::array<uint8_t, kSerialRandomBytes> counting = {0x08, 0x86, 0x42, 0x98, 0xE8,
                                                      0x48, 0x14, 0xB0, 0x00, 0x01};
  EXPECT_EQ(SerialFromRandom(counting), "1234567890AB0001");
  std::array<uint8_t, kSerialRandomBytes> random;
  for (int i = 0; i < 100; ++i) {
    for (size_t k = 0; k < random.size(); ++k)
      random[k] = static_cast<uint8_t>(i * 37 + static_cast<int>(k) * 11);
    std::string serial = SerialFromRandom(random);
    EXPECT_EQ(serial.size(), kSerialChars);
    EXPECT_TRUE(IsValidCodeValue(serial));
    EXPECT_EQ(serial.find_first_not_of(kCrockford), std::string::npos);
  }
}

TEST(PinTest, TwelveCharactersGroupedAndNormalized) {
  std::array<uint8_t, kPinRandomBytes> bytes = {0xF0, 0, 0, 0, 0, 0, 0, 0x21};
  // The low 60 bits of 0xF000000000000021 are 0x21: "000000000011".
  EXPECT_EQ(PinFromRandom(bytes), "000000000011");
  EXPECT_EQ(GroupPin("K7QM3XRT9HVA"), "K7QM-3XRT-9HVA");
  EXPECT_EQ(*NormalizePin("k7qm-3xrt-9hva"), "K7QM3XRT9HVA");
  EXPECT_EQ(*NormalizePin("I1LO 0000 0000"),
            "11100000"
            "0000");
  EXPECT_FALSE(NormalizePin("K7QM-3XRT-9HV").has_value());   // 11 characters
  EXPECT_FALSE(NormalizePin("K7QM-3XRT-9HVU").has_value());  // U is not Crockford
}

TEST(PinTest, HashIsTheDocumentedTruncatedTaggedHash) {
  std::array<uint8_t, 16> salt;
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(i);
  std::string msg(reinterpret_cast<const char*>(salt.data()), salt.size());
  msg += std::string(kGtin) + '\x04' + "S001" + "K7QM3XRT9HVA";
  auto full = IndependentTaggedHash("TraceLedger/pin", msg);
  std::array<uint8_t, 16> expected;
  std::copy(full.begin(), full.begin() + 16, expected.begin());
  EXPECT_EQ(PinHash(salt, kGtin, "S001", "K7QM3XRT9HVA"), expected);
}

}  // namespace
}  // namespace traceledger::qrcode
