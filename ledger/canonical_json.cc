#include "ledger/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

namespace traceledger::ledger {
namespace {

// ---------------------------------------------------------------------------
// UTF-8 and escape pre-scan.

struct Utf8Problem {
  size_t offset;
  const char* what;
};

// Length of the well-formed UTF-8 sequence starting at text[i] whose first
// byte is >= 0x80, or 0 if ill-formed. Follows Unicode Table 3-7, which
// excludes overlong forms, UTF-8-encoded surrogates (ED A0..BF) and code
// points above U+10FFFF.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const auto in = [](uint8_t b, uint8_t lo, uint8_t hi) { return b >= lo && b <= hi; };
  const uint8_t b0 = byte(i);
  const size_t left = text.size() - i;
  if (in(b0, 0xC2, 0xDF)) {
    return left >= 2 && in(byte(i + 1), 0x80, 0xBF) ? 2 : 0;
  }
  if (in(b0, 0xE0, 0xEF)) {
    if (left < 3) return 0;
    const uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) ? 3 : 0;
  }
  if (in(b0, 0xF0, 0xF4)) {
    if (left < 4) return 0;
    const uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80;
    const uint8_t hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return in(byte(i + 1), lo, hi) && in(byte(i + 2), 0x80, 0xBF) && in(byte(i + 3), 0x80, 0xBF) ? 4 : 0;
  }
  return 0;  // 0x80..0xC1 (continuation or overlong lead), 0xF5..0xFF
}

// Value of the four hex digits at text[i..i+4), or -1.
int Hex4(std::string_view text, size_t i) {
  if (text.size() < i + 4) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const char c = text[k];
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return -1;
    }
    v = v * 16 + d;
  }
  return v;
}

// Returns the first byte offset at which `text` is not valid UTF-8, or at
// which a string literal holds a \u escape of an unpaired surrogate. Tracks
// string literals the same way the JSON lexer does; on input that is not
// JSON the tracking may drift, but only after a point where the parser
// would reject the text anyway.
std::optional<Utf8Problem> FindUtf8Problem(std::string_view text) {
  bool in_string = false;
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(text, i);
      if (len == 0) return Utf8Problem{i, "invalid UTF-8"};
      i += len;
      continue;
    }
    if (!in_string) {
      in_string = c == '"';
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = false;
      ++i;
      continue;
    }
    if (c != '\\') {
      ++i;
      continue;
    }
    // An escape. Skip the escaped character only if it is ASCII, so that a
    // (syntactically invalid) backslash before a multi-byte sequence does
    // not hide that sequence from validation.
    if (i + 1 >= text.size() || static_cast<uint8_t>(text[i + 1]) >= 0x80) {
      ++i;
      continue;
    }
    if (text[i + 1] != 'u') {
      i += 2;
      continue;
    }
    const int unit = Hex4(text, i + 2);
    if (unit < 0) {  // malformed escape: the parser reports the syntax error
      i += 2;
      continue;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return Utf8Problem{i, "unpaired low surrogate escape"};
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const bool paired = i + 7 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u';
      const int low = paired ? Hex4(text, i + 8) : -1;
      if (low < 0xDC00 || low > 0xDFFF) {
        return Utf8Problem{i, "unpaired high surrogate escape"};
      }
      i += 12;
      continue;
    }
    i += 6;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// SAX handler that builds the value and enforces the strict subset.

bool HasFractionOrExponent(std::string_view number) {
  return number.find_first_of(".eE") != std::string_view::npos;
}

class StrictJsonBuilder final : public nlohmann::json_sax<Json> {
 public:
  explicit StrictJsonBuilder(Json* root) : root_(root) {}

  const std::optional<JsonError>& error() const { return error_; }

  bool null() override { return AddValue(Json(nullptr)) != nullptr; }
  bool boolean(bool val) override { return AddValue(Json(val)) != nullptr; }

  bool number_integer(number_integer_t val) override {
    if (val < -kMaxSafeInteger || val > kMaxSafeInteger) return IntegerRange();
    return AddValue(Json(val)) != nullptr;
  }

  bool number_unsigned(number_unsigned_t val) override {
    if (val > static_cast<number_unsigned_t>(kMaxSafeInteger)) return IntegerRange();
    return AddValue(Json(val)) != nullptr;
  }

  // The lexer also reports integers that overflow 64 bits as floats; the raw
  // token tells the two apart.
  bool number_float(number_float_t /*val*/, const string_t& raw) override {
    if (!HasFractionOrExponent(raw)) return IntegerRange();
    return Fail(JsonErrorCode::kFloat, "number with a fraction or exponent at " + Path());
  }

  bool string(string_t& val) override { return AddValue(Json(std::move(val))) != nullptr; }

  bool binary(binary_t& /*val*/) override {
    return Fail(JsonErrorCode::kSyntax, "binary value at " + Path());  // not produced for text
  }

  bool start_object(std::size_t /*elements*/) override { return StartContainer(Json::object()); }

  bool key(string_t& val) override {
    Frame& frame = frames_.back();
    auto [it, inserted] = frame.container->get_ref<Json::object_t&>().emplace(std::move(val), nullptr);
    frame.key = &it->first;
    if (!inserted) {
      return Fail(JsonErrorCode::kDuplicateKey, "duplicate member name " + Path());
    }
    frame.slot = &it->second;
    return true;
  }

  bool end_object() override {
    frames_.pop_back();
    return true;
  }

  bool start_array(std::size_t /*elements*/) override { return StartContainer(Json::array()); }

  bool end_array() override {
    frames_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    // Error 406 is a number too large for a double, e.g. 1e400 or an integer
    // with hundreds of digits.
    if (ex.id == 406) {
      if (HasFractionOrExponent(last_token)) {
        return Fail(JsonErrorCode::kFloat, "number with a fraction or exponent at " + Path());
      }
      return IntegerRange();
    }
    // `position` counts the characters read, including the offending one.
    const size_t offset = position > 0 ? position - 1 : 0;
    return Fail(JsonErrorCode::kSyntax,
                "syntax error at byte offset " + std::to_string(offset) + ": " + ex.what());
  }

 private:
  struct Frame {
    Json* container;
    // Objects: the member whose value comes next (set by key()).
    const std::string* key = nullptr;
    Json* slot = nullptr;
  };

  bool IntegerRange() {
    return Fail(JsonErrorCode::kIntegerRange, "integer outside +/-(2^53-1) at " + Path());
  }

  bool Fail(JsonErrorCode code, std::string message) {
    error_ = JsonError{code, std::move(message)};
    return false;
  }

  // Stores `value` where the grammar says the next value goes; returns its
  // new address. Pointers into a parent stay valid while a child is filled
  // because the parent is not modified until the child is complete.
  Json* AddValue(Json&& value) {
    if (frames_.empty()) {
      *root_ = std::move(value);
      return root_;
    }
    Frame& frame = frames_.back();
    if (frame.container->is_array()) {
      auto& array = frame.container->get_ref<Json::array_t&>();
      array.push_back(std::move(value));
      return &array.back();
    }
    *frame.slot = std::move(value);
    return frame.slot;
  }

  bool StartContainer(Json&& empty) {
    if (static_cast<int>(frames_.size()) >= kMaxJsonDepth) {
      return Fail(JsonErrorCode::kTooDeep,
                  "nesting deeper than " + std::to_string(kMaxJsonDepth) + " at " + Path());
    }
    Json* container = AddValue(std::move(empty));
    frames_.push_back(Frame{.container = container});
    return true;
  }

  // Location of the value being processed, e.g. "body.items[2].gtin", or
  // "(root)" for the top-level value. Built only on error.
  std::string Path() const {
    std::string path;
    for (size_t i = 0; i < frames_.size(); ++i) {
      const Frame& frame = frames_[i];
      if (frame.container->is_array()) {
        // Inner frames' current element is the last one added; in the
        // innermost frame the offending element has not been added yet.
        size_t index = frame.container->size();
        if (i + 1 < frames_.size()) --index;
        path += '[';
        path += std::to_string(index);
        path += ']';
      } else if (frame.key != nullptr) {
        if (!path.empty()) path += '.';
        path += *frame.key;
      }
    }
    return path.empty() ? "(root)" : path;
  }

  Json* root_;
  std::vector<Frame> frames_;
  std::optional<JsonError> error_;
};

// ---------------------------------------------------------------------------
// RFC 8785 serialization.

// Decodes the code point at s[i], where s is valid UTF-8 and i is the start
// of a sequence.
char32_t DecodeAt(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<uint8_t>(s[k])); };
  const char32_t b0 = b(i);
  if (b0 < 0x80) return b0;
  if (b0 < 0xE0) return ((b0 & 0x1F) << 6) | (b(i + 1) & 0x3F);
  if (b0 < 0xF0) return ((b0 & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F);
  return ((b0 & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) | (b(i + 3) & 0x3F);
}

// The first UTF-16 code unit of a code point.
char32_t FirstUtf16Unit(char32_t cp) { return cp < 0x10000 ? cp : 0xD800 + ((cp - 0x10000) >> 10); }

// RFC 8785 §3.2.3: member names compare as arrays of UTF-16 code units.
// UTF-8 byte order equals code point order, which differs from UTF-16 order
// only when a supplementary code point (surrogate pair, D800..DBFF first)
// meets a code point in U+E000..U+FFFF at the same position.
bool Utf16Less(const std::string& a, const std::string& b) {
  const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (ib == b.end()) return false;  // b is a prefix of a, or equal
  if (ia == a.end()) return true;   // a is a proper prefix of b
  // Back up to the start of the code point containing the first difference;
  // the prefix is shared, so it starts at the same offset in both.
  size_t pos = static_cast<size_t>(ia - a.begin());
  while (pos > 0 && (static_cast<uint8_t>(a[pos]) & 0xC0) == 0x80) --pos;
  const char32_t ca = DecodeAt(a, pos);
  const char32_t cb = DecodeAt(b, pos);
  const char32_t ua = FirstUtf16Unit(ca);
  const char32_t ub = FirstUtf16Unit(cb);
  if (ua != ub) return ua < ub;
  return ca < cb;  // same high surrogate: low surrogates order like code points
}

bool HasSupplementary(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<uint8_t>(c) >= 0xF0; });
}

constexpr char kLowerHex[] = "0123456789abcdef";

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kLowerHex[c >> 4], kLowerHex[c & 0xF]};
        out->append(esc, sizeof(esc));
        break;
      }
    }
  }
  out->append(s.data() + run_start, s.size() - run_start);
  out->push_back('"');
}

template <typename Int>
void AppendInteger(Int v, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, static_cast<size_t>(end - buf));
}

// Violations of CanonicalJson's REQUIRES end the process: emitting bytes
// that other implementations would canonicalize differently would produce
// signatures nobody else can verify.
[[noreturn]] void OutsideCanonicalSubset() { std::abort(); }

void AppendCanonical(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::null:
      out->append("null");
      return;
    case Json::value_t::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return;
    case Json::value_t::number_integer: {
      const auto v = value.get<Json::number_integer_t>();
      if (v < -kMaxSafeInteger || v > kMaxSafeInteger) OutsideCanonicalSubset();
      AppendInteger(v, out);
      return;
    }
    case Json::value_t::number_unsigned: {
      const auto v = value.get<Json::number_unsigned_t>();
      if (v > static_cast<Json::number_unsigned_t>(kMaxSafeInteger)) OutsideCanonicalSubset();
      AppendInteger(v, out);
      return;
    }
    case Json::value_t::number_float: {
      // An integral double in the safe range serializes per RFC 8785 (ES6
      // Number::toString) as that integer; anything else is outside the subset.
      const double d = value.get<double>();
      if (!(d >= -static_cast<double>(kMaxSafeInteger) && d <= static_cast<double>(kMaxSafeInteger))) {
        OutsideCanonicalSubset();
      }
      const auto i = static_cast<int64_t>(d);
      if (static_cast<double>(i) != d) OutsideCanonicalSubset();
      AppendInteger(i, out);
      return;
    }
    case Json::value_t::string:
      AppendString(value.get_ref<const Json::string_t&>(), out);
      return;
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const Json& element : value.get_ref<const Json::array_t&>()) {
        if (!first) out->push_back(',');
        first = false;
        AppendCanonical(element, out);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::object: {
      // object_t is a std::map ordered by std::string's operator<, i.e. by
      // unsigned bytes, i.e. by code point; that is already UTF-16 order
      // unless some name has a supplementary code point.
      const auto& object = value.get_ref<const Json::object_t&>();
      const bool needs_sort =
          std::any_of(object.begin(), object.end(), [](const auto& m) { return HasSupplementary(m.first); });
      out->push_back('{');
      const auto append_member = [out](const std::string& name, const Json& member_value) {
        AppendString(name, out);
        out->push_back(':');
        AppendCanonical(member_value, out);
      };
      if (!needs_sort) {
        bool first = true;
        for (const auto& [name, member_value] : object) {
          if (!first) out->push_back(',');
          first = false;
          append_member(name, member_value);
        }
      } else {
        std::vector<const Json::object_t::value_type*> members;
        members.reserve(object.size());
        for (const auto& member : object) members.push_back(&member);
        std::sort(members.begin(), members.end(),
                  [](const auto* x, const auto* y) { return Utf16Less(x->first, y->first); });
        for (size_t i = 0; i < members.size(); ++i) {
          if (i > 0) out->push_back(',');
          append_member(members[i]->first, members[i]->second);
        }
      }
      out->push_back('}');
      return;
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      OutsideCanonicalSubset();
  }
  OutsideCanonicalSubset();
}

}  // namespace

// Checks run in this order: the whole text must be UTF-8 without unpaired
// surrogate escapes (kInvalidUtf8), then it is parsed, and the first
// violation in document order is reported. Exceptions (allocation failure)
// are caught and reported as kSyntax so none escapes to callers handling
// untrusted input.
Result<Json, JsonError> ParseStrictJson(std::string_view text) {
  if (std::optional<Utf8Problem> problem = FindUtf8Problem(text)) {
    return JsonError{JsonErrorCode::kInvalidUtf8,
                     std::string(problem->what) + " at byte offset " + std::to_string(problem->offset)};
  }
  // nlohmann treats a NUL byte as the end of the input, which would let
  // anything after it through; NUL is never valid in JSON text (raw control
  // characters are not allowed in strings either).
  if (const size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return JsonError{JsonErrorCode::kSyntax, "NUL byte at byte offset " + std::to_string(nul)};
  }
  // nlohmann silently skips a UTF-8 byte order mark; RFC 8259 §8.1 forbids
  // emitting one and we do not accept it.
  if (text.starts_with("\xEF\xBB\xBF")) {
    return JsonError{JsonErrorCode::kSyntax, "byte order mark at byte offset 0"};
  }
  try {
    Json root;
    StrictJsonBuilder builder(&root);
    const bool ok = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json,
                                    /*strict=*/true);
    if (!ok || builder.error()) {
      if (builder.error()) return *builder.error();
      return JsonError{JsonErrorCode::kSyntax, "rejected by parser"};
    }
    return root;
  } catch (const std::exception& e) {
    return JsonError{JsonErrorCode::kSyntax, std::string("parse failed: ") + e.what()};
  } catch (...) {
    return JsonError{JsonErrorCode::kSyntax, "parse failed"};
  }
}

std::string CanonicalJson(const Json& value) {
  std::string out;
  out.reserve(512);
  AppendCanonical(value, &out);
  return out;
}

}  // namespace traceledger::ledger
