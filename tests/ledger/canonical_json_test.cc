#include "ledger/canonical_json.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace traceledger::ledger {
namespace {

// Parses `text`, which must be accepted, and returns its canonical form.
std::string Canon(std::string_view text) {
  Result<Json, JsonError> parsed = ParseStrictJson(text);
  EXPECT_TRUE(parsed.ok()) << "input: " << text << "\nerror: " << parsed.error().message;
  if (!parsed.ok()) return "<parse failed>";
  return CanonicalJson(*parsed);
}

// Parses `text`, which must be rejected, and returns the error.
JsonError Reject(std::string_view text) {
  Result<Json, JsonError> parsed = ParseStrictJson(text);
  EXPECT_FALSE(parsed.ok()) << "accepted: " << text;
  if (parsed.ok()) return JsonError{JsonErrorCode::kSyntax, "<accepted>"};
  return parsed.error();
}

JsonErrorCode RejectCode(std::string_view text) { return Reject(text).code; }

std::string Nested(int depth, std::string_view open, std::string_view close) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += open;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

// {"a":{"a":...1...}} with `depth` objects.
std::string NestedObjects(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  for (int i = 0; i < depth; ++i) s += "}";
  return s;
}

// ---------------------------------------------------------------------------
// RFC 8785 known answers.

TEST(CanonicalJsonTest, Rfc8785SortingExample) {
  // RFC 8785 §3.2.3, with the expected order given there:
  // "\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33".
  const std::string input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  const std::string expected =
      "{\"\\r\":\"Carriage Return\","
      "\"1\":\"One\","
      "\"\xC2\x80\":\"Control\","
      "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\","
      "\"\xE2\x82\xAC\":\"Euro Sign\","
      "\"\xF0\x9F\x98\x80\":\"Emoji: Grinning Face\","
      "\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}";
  EXPECT_EQ(Canon(input), expected);
}

TEST(CanonicalJsonTest, Rfc8785MainExampleWithIntegers) {
  // RFC 8785 §3.2.4 (and Appendix) example; its "numbers" array holds floats,
  // which our subset rejects, so it is checked both ways.
  const std::string rfc_input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(RejectCode(rfc_input), JsonErrorCode::kFloat);

  const std::string input = R"({
    "numbers": [333333333, -1, 0, 9007199254740991],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  const std::string expected = R"({"literals":[null,true,false],"numbers":[333333333,-1,0,9007199254740991],)"
                               "\"string\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
  EXPECT_EQ(Canon(input), expected);
}

TEST(CanonicalJsonTest, StringEscapes) {
  EXPECT_EQ(Canon(R"("\"")"), R"("\"")");
  EXPECT_EQ(Canon(R"("\\")"), R"("\\")");
  EXPECT_EQ(Canon(R"("\b\f\n\r\t")"), R"("\b\f\n\r\t")");
  EXPECT_EQ(Canon(R"("\u0008\u000C\u000A\u000D\u0009")"), R"("\b\f\n\r\t")");
  // Other controls as \u00xx with lowercase hex.
  EXPECT_EQ(Canon(R"("\u0000\u0001\u000b\u000E\u001F")"), R"("\u0000\u0001\u000b\u000e\u001f")");
  // Everything else literal: space, '/', DEL, non-ASCII, U+2028.
  EXPECT_EQ(Canon(R"("\u0020\/\u007f")"), "\" /\x7F\"");
  EXPECT_EQ(Canon(R"("/")"), R"("/")");
  EXPECT_EQ(Canon(R"("\u00e9\u2028\uFFFF")"), "\"\xC3\xA9\xE2\x80\xA8\xEF\xBF\xBF\"");
  EXPECT_EQ(Canon("\"\xC3\xA9\""), "\"\xC3\xA9\"");
  EXPECT_EQ(Canon(R"("\u0041\u0062c")"), R"("Abc")");
  // A NUL in the middle of a value and in a member name.
  EXPECT_EQ(Canon(R"({"a\u0000b":"x\u0000y"})"), R"({"a\u0000b":"x\u0000y"})");
}

TEST(CanonicalJsonTest, LiteralsIntegersAndWhitespace) {
  EXPECT_EQ(Canon("null"), "null");
  EXPECT_EQ(Canon(" true "), "true");
  EXPECT_EQ(Canon("\t\r\nfalse\n"), "false");
  EXPECT_EQ(Canon("0"), "0");
  EXPECT_EQ(Canon("-0"), "0");
  EXPECT_EQ(Canon("42"), "42");
  EXPECT_EQ(Canon("-42"), "-42");
  EXPECT_EQ(Canon("9007199254740991"), "9007199254740991");
  EXPECT_EQ(Canon("-9007199254740991"), "-9007199254740991");
  EXPECT_EQ(Canon(R"("")"), R"("")");
  EXPECT_EQ(Canon("{ }"), "{}");
  EXPECT_EQ(Canon("[ ]"), "[]");
}

TEST(CanonicalJsonTest, NestedObjectsAndArrays) {
  EXPECT_EQ(Canon(R"( { "b" : [ 1 , { "z" : null , "y" : [ ] } ] , "a" : { "d" : {}, "c" : "x" } } )"),
            R"({"a":{"c":"x","d":{}},"b":[1,{"y":[],"z":null}]})");
  // Arrays keep their order; only object members are sorted.
  EXPECT_EQ(Canon(R"([3, 1, 2, "b", "a"])"), R"([3,1,2,"b","a"])");
  // Sorting is by code units, so upper case precedes lower case and
  // "a" precedes "a\u0000" precedes "aa".
  EXPECT_EQ(Canon(R"({"b":1,"B":2,"aa":3,"a":4,"a\u0000":5,"":6})"),
            R"({"":6,"B":2,"a":4,"a\u0000":5,"aa":3,"b":1})");
}

TEST(CanonicalJsonTest, ValuesBuiltInCode) {
  Json j;
  j["gtin"] = "09506000134352";
  j["qty"] = 12;
  j["neg"] = -7;
  j["big"] = uint64_t{9007199254740991};
  j["list"] = Json::array({1, "two", nullptr, false});
  j["obj"] = Json::object();
  EXPECT_EQ(CanonicalJson(j),
            R"({"big":9007199254740991,"gtin":"09506000134352","list":[1,"two",null,false],)"
            R"("neg":-7,"obj":{},"qty":12})");
  // An integral double is written as the integer RFC 8785 gives for it.
  EXPECT_EQ(CanonicalJson(Json(3.0)), "3");
  EXPECT_EQ(CanonicalJson(Json(-0.0)), "0");
}

TEST(CanonicalJsonDeathTest, FractionalDoubleViolatesRequires) {
  EXPECT_DEATH(CanonicalJson(Json(1.5)), "");
  EXPECT_DEATH(CanonicalJson(Json(int64_t{1} << 53)), "");
}

// Reference UTF-16 conversion for the sort property test below.
std::u16string ToUtf16(const std::u32string& s) {
  std::u16string out;
  for (char32_t cp : s) {
    if (cp < 0x10000) {
      out.push_back(static_cast<char16_t>(cp));
    } else {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    }
  }
  return out;
}

std::string ToUtf8(const std::u32string& s) {
  std::string out;
  for (char32_t cp : s) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

TEST(CanonicalJsonTest, MemberOrderIsUtf16OrderForRandomKeys) {
  // Code points chosen around the places where UTF-8 (code point) order and
  // UTF-16 order disagree: U+E000..U+FFFF sort after surrogate pairs.
  const char32_t pool[] = {U'a',   U'z',   0x7F,   0x80,    0xE9,    0x7FF,   0x800,   0xD7FF,
                           0xE000, 0xFB33, 0xFFFF, 0x10000, 0x1F600, 0x1F601, 0x2F800, 0x10FFFF};
  std::mt19937 rng(8785);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::u32string> keys;
    Json object = Json::object();
    const int count = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < count; ++i) {
      std::u32string key;
      const size_t len = rng() % 4;
      for (size_t k = 0; k < len; ++k) key.push_back(pool[rng() % std::size(pool)]);
      if (object.contains(ToUtf8(key))) continue;
      object[ToUtf8(key)] = i;
      keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end(),
              [](const std::u32string& x, const std::u32string& y) { return ToUtf16(x) < ToUtf16(y); });
    std::string expected = "{";
    for (size_t i = 0; i < keys.size(); ++i) {
      if (i > 0) expected += ',';
      expected += '"' + ToUtf8(keys[i]) + "\":" + object[ToUtf8(keys[i])].dump();
    }
    expected += '}';
    ASSERT_EQ(CanonicalJson(object), expected) << "round " << round;
  }
}

TEST(CanonicalJsonTest, CanonicalFormIsAFixedPoint) {
  const std::string inputs[] = {
      R"({"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7})",
      R"({ "b" : [ 1 , { "z" : null , "y" : [ ] } ] , "a" : { "d" : {}, "c" : "x\u0001\n" } })",
      R"([-9007199254740991, 9007199254740991, 0, -0, "\/\\\""])",
      R"({"body":{"gtin":"09506000134352","lot":"L-1","qty":3},"type":"ship","v":1})",
      R"("\uffff\ud800\udc00\u007f")",
      Nested(32, "[", "]"),
      "true",
  };
  for (const std::string& input : inputs) {
    const std::string once = Canon(input);
    EXPECT_EQ(Canon(once), once) << input;
  }
}

// ---------------------------------------------------------------------------
// Rejections, one code at a time.

TEST(ParseStrictJsonTest, RejectsFloats) {
  EXPECT_EQ(RejectCode("1.0"), JsonErrorCode::kFloat);
  EXPECT_EQ(RejectCode("1e3"), JsonErrorCode::kFloat);
  EXPECT_EQ(RejectCode("1E3"), JsonErrorCode::kFloat);
  EXPECT_EQ(RejectCode("1e2"), JsonErrorCode::kFloat);
  EXPECT_EQ(RejectCode("-0.5"), JsonErrorCode::kFloat);
  EXPECT_EQ(RejectCode("0.0"), JsonErrorCode::kFloat);
  EXPECT_EQ(RejectCode("2e-3"), JsonErrorCode::kFloat);
  EXPECT_EQ(RejectCode("1e400"), JsonErrorCode::kFloat);  // overflows a double
  EXPECT_EQ(RejectCode("[1, 2.5]"), JsonErrorCode::kFloat);
  const JsonError e = Reject(R"({"body":{"price":1.25}})");
  EXPECT_EQ(e.code, JsonErrorCode::kFloat);
  EXPECT_NE(e.message.find("body.price"), std::string::npos) << e.message;
}

TEST(ParseStrictJsonTest, RejectsIntegersOutsideSafeRange) {
  EXPECT_EQ(RejectCode("9007199254740992"), JsonErrorCode::kIntegerRange);   // 2^53
  EXPECT_EQ(RejectCode("-9007199254740992"), JsonErrorCode::kIntegerRange);  // -(2^53)
  EXPECT_EQ(RejectCode("9223372036854775807"), JsonErrorCode::kIntegerRange);
  EXPECT_EQ(RejectCode("-9223372036854775808"), JsonErrorCode::kIntegerRange);
  EXPECT_EQ(RejectCode("18446744073709551615"), JsonErrorCode::kIntegerRange);
  EXPECT_EQ(RejectCode("18446744073709551616"), JsonErrorCode::kIntegerRange);  // 2^64
  EXPECT_EQ(RejectCode("-18446744073709551616"), JsonErrorCode::kIntegerRange);
  EXPECT_EQ(RejectCode("1" + std::string(400, '0')), JsonErrorCode::kIntegerRange);
  const JsonError e = Reject(R"({"items":[1,{"qty":9007199254740992}]})");
  EXPECT_EQ(e.code, JsonErrorCode::kIntegerRange);
  EXPECT_NE(e.message.find("items[1].qty"), std::string::npos) << e.message;
}

TEST(ParseStrictJsonTest, AcceptsSafeRangeBoundaries) {
  Result<Json, JsonError> max = ParseStrictJson("9007199254740991");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->get<int64_t>(), kMaxSafeInteger);
  Result<Json, JsonError> min = ParseStrictJson("-9007199254740991");
  ASSERT_TRUE(min.ok());
  EXPECT_EQ(min->get<int64_t>(), -kMaxSafeInteger);
}

TEST(ParseStrictJsonTest, RejectsDuplicateKeys) {
  JsonError e = Reject(R"({"a":1,"a":1})");
  EXPECT_EQ(e.code, JsonErrorCode::kDuplicateKey);
  EXPECT_NE(e.message.find('a'), std::string::npos) << e.message;

  e = Reject(R"({"body":{"gtin":"1","lot":"x","gtin":"2"}})");
  EXPECT_EQ(e.code, JsonErrorCode::kDuplicateKey);
  EXPECT_NE(e.message.find("body.gtin"), std::string::npos) << e.message;

  e = Reject(R"({"items":[{"x":1},{"y":{"x":1,"x":2}}]})");
  EXPECT_EQ(e.code, JsonErrorCode::kDuplicateKey);
  EXPECT_NE(e.message.find("items[1].y.x"), std::string::npos) << e.message;

  // The same name written two ways is still a duplicate.
  EXPECT_EQ(RejectCode(R"({"\u00e9":1,"é":2})"), JsonErrorCode::kDuplicateKey);
  EXPECT_EQ(RejectCode(R"({"a":1,"\u0061":2})"), JsonErrorCode::kDuplicateKey);
  // Equal names in different objects are fine.
  EXPECT_EQ(Canon(R"({"a":{"a":1},"b":{"a":2}})"), R"({"a":{"a":1},"b":{"a":2}})");
}

TEST(ParseStrictJsonTest, RejectsNestingDeeperThan32) {
  EXPECT_EQ(Canon(Nested(32, "[", "]")), Nested(32, "[", "]"));
  EXPECT_EQ(Canon(NestedObjects(32)), NestedObjects(32));
  EXPECT_EQ(RejectCode(Nested(33, "[", "]")), JsonErrorCode::kTooDeep);
  EXPECT_EQ(RejectCode(NestedObjects(33)), JsonErrorCode::kTooDeep);
  EXPECT_EQ(RejectCode("{\"a\":" + Nested(32, "[", "]") + "}"), JsonErrorCode::kTooDeep);
  EXPECT_EQ(RejectCode(Nested(100000, "[", "]")), JsonErrorCode::kTooDeep);
  // Depth counts nesting, not total containers.
  std::string wide = "[";
  for (int i = 0; i < 100; ++i) {
    if (i > 0) wide += ',';
    wide += Nested(32 - 1, "[", "]");
  }
  wide += "]";
  EXPECT_TRUE(ParseStrictJson(wide).ok());
}

TEST(ParseStrictJsonTest, RejectsInvalidUtf8) {
  EXPECT_EQ(RejectCode("\"\xFF\""), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode("\"\x80\""), JsonErrorCode::kInvalidUtf8);              // lone continuation
  EXPECT_EQ(RejectCode("\"\xC3\""), JsonErrorCode::kInvalidUtf8);              // truncated
  EXPECT_EQ(RejectCode("\"\xC3"), JsonErrorCode::kInvalidUtf8);                // truncated at end
  EXPECT_EQ(RejectCode("\"\xE2\x82\""), JsonErrorCode::kInvalidUtf8);          // truncated 3-byte
  EXPECT_EQ(RejectCode("\"\xC0\xAF\""), JsonErrorCode::kInvalidUtf8);          // overlong '/'
  EXPECT_EQ(RejectCode("\"\xC1\xBF\""), JsonErrorCode::kInvalidUtf8);          // overlong
  EXPECT_EQ(RejectCode("\"\xE0\x80\xAF\""), JsonErrorCode::kInvalidUtf8);      // overlong 3-byte
  EXPECT_EQ(RejectCode("\"\xF0\x80\x80\xAF\""), JsonErrorCode::kInvalidUtf8);  // overlong 4-byte
  EXPECT_EQ(RejectCode("\"\xED\xA0\x80\""), JsonErrorCode::kInvalidUtf8);      // U+D800 as UTF-8
  EXPECT_EQ(RejectCode("\"\xED\xBF\xBF\""), JsonErrorCode::kInvalidUtf8);      // U+DFFF as UTF-8
  EXPECT_EQ(RejectCode("\"\xF4\x90\x80\x80\""), JsonErrorCode::kInvalidUtf8);  // U+110000
  EXPECT_EQ(RejectCode("\"\xF5\x80\x80\x80\""), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode("{\"k\xFE\":1}"), JsonErrorCode::kInvalidUtf8);  // in a member name
  EXPECT_EQ(RejectCode("[1]\xFF"), JsonErrorCode::kInvalidUtf8);        // outside strings
  const JsonError e = Reject("[\"ok\",\"ab\xC0\xAF\"]");
  EXPECT_NE(e.message.find("byte offset 9"), std::string::npos) << e.message;
  // Boundaries that are valid.
  EXPECT_EQ(Canon("\"\xED\x9F\xBF\xEE\x80\x80\xF4\x8F\xBF\xBF\xF0\x90\x80\x80\""),
            "\"\xED\x9F\xBF\xEE\x80\x80\xF4\x8F\xBF\xBF\xF0\x90\x80\x80\"");
}

TEST(ParseStrictJsonTest, RejectsLoneSurrogateEscapes) {
  EXPECT_EQ(RejectCode(R"("\ud800")"), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode(R"("\uDBFF")"), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode(R"("\udc00")"), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode(R"("\ud800x")"), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode(R"("\ud800\u0041")"), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode(R"("\ud800\ud800")"), JsonErrorCode::kInvalidUtf8);
  EXPECT_EQ(RejectCode(R"("\ude00\ud83d")"), JsonErrorCode::kInvalidUtf8);  // reversed pair
  EXPECT_EQ(RejectCode(R"({"\ud800":1})"), JsonErrorCode::kInvalidUtf8);
  // An escaped backslash followed by "ud800" is plain text, not an escape.
  EXPECT_EQ(Canon(R"("\\ud800")"), R"("\\ud800")");
  // A proper pair decodes to the supplementary character.
  EXPECT_EQ(Canon(R"("\ud83d\ude00")"), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(Canon(R"("\uDBFF\uDFFF")"), "\"\xF4\x8F\xBF\xBF\"");
}

TEST(ParseStrictJsonTest, RejectsSyntaxErrors) {
  EXPECT_EQ(RejectCode(""), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("   "), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("{"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("[1,]"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode(R"({"a":1,})"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode(R"({"a" 1})"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode(R"({a:1})"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("'a'"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("nul"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("True"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("01"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("+1"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("NaN"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("\"\x01\""), JsonErrorCode::kSyntax);  // raw control character
  EXPECT_EQ(RejectCode(R"("\x")"), JsonErrorCode::kSyntax);   // bad escape
  EXPECT_EQ(RejectCode(R"("\u12")"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("\"\\\xC3\xA9\""), JsonErrorCode::kSyntax);  // backslash + é
  EXPECT_EQ(RejectCode("/* c */ 1"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("\xEF\xBB\xBF{}"), JsonErrorCode::kSyntax);  // byte order mark
  // nlohmann stops at a NUL byte; what follows must not slip through.
  EXPECT_EQ(RejectCode(std::string("{}\0", 3)), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode(std::string("{}\0garbage", 10)), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode(std::string("[1\0]", 4)), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode(std::string("\"a\0\"", 4)), JsonErrorCode::kSyntax);
  // Trailing garbage.
  EXPECT_EQ(RejectCode(R"({"a":1}x)"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("{} {}"), JsonErrorCode::kSyntax);
  EXPECT_EQ(RejectCode("1 2"), JsonErrorCode::kSyntax);
  // The message carries the byte offset of the offending character.
  JsonError e = Reject("[1,]");
  EXPECT_NE(e.message.find("byte offset 3"), std::string::npos) << e.message;
  e = Reject(R"({"a":1}x)");
  EXPECT_NE(e.message.find("byte offset 7"), std::string::npos) << e.message;
}

TEST(ParseStrictJsonTest, ParsedValueTypes) {
  Result<Json, JsonError> parsed =
      ParseStrictJson(R"({"s":"x","i":-3,"u":3,"b":true,"n":null,"a":[],"o":{}})");
  ASSERT_TRUE(parsed.ok());
  const Json& j = *parsed;
  EXPECT_TRUE(j.at("s").is_string());
  EXPECT_TRUE(j.at("i").is_number_integer());
  EXPECT_EQ(j.at("i").get<int64_t>(), -3);
  EXPECT_TRUE(j.at("u").is_number_integer());
  EXPECT_EQ(j.at("u").get<int64_t>(), 3);
  EXPECT_TRUE(j.at("b").get<bool>());
  EXPECT_TRUE(j.at("n").is_null());
  EXPECT_TRUE(j.at("a").is_array());
  EXPECT_TRUE(j.at("o").is_object());
  // Same value as nlohmann's own parser produces.
  EXPECT_EQ(j, Json::parse(R"({"s":"x","i":-3,"u":3,"b":true,"n":null,"a":[],"o":{}})"));
}

}  // namespace
}  // namespace traceledger::ledger
