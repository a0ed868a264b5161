#include "chain/rlp.h"

#include <utility>

namespace traceledger::chain {
namespace {

// Big-endian bytes of v without leading zeros (empty for 0).
std::vector<uint8_t> MinimalBigEndian(uint64_t v) {
  std::vector<uint8_t> out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    auto byte = static_cast<uint8_t>(v >> shift);
    if (byte != 0 || !out.empty()) out.push_back(byte);
  }
  return out;
}

// The prefix for a payload of `length` bytes: `short_base` + length below
// 56 bytes, else `short_base` + 55 + (bytes of length) and the length.
void AppendHeader(uint8_t short_base, size_t length, std::vector<uint8_t>& out) {
  if (length < 56) {
    out.push_back(static_cast<uint8_t>(short_base + length));
    return;
  }
  std::vector<uint8_t> len = MinimalBigEndian(length);
  out.push_back(static_cast<uint8_t>(short_base + 55 + len.size()));
  out.insert(out.end(), len.begin(), len.end());
}

void Encode(const RlpItem& item, std::vector<uint8_t>& out) {
  if (!item.is_list) {
    if (item.bytes.size() == 1 && item.bytes[0] < 0x80) {
      out.push_back(item.bytes[0]);
      return;
    }
    AppendHeader(0x80, item.bytes.size(), out);
    out.insert(out.end(), item.bytes.begin(), item.bytes.end());
    return;
  }
  std::vector<uint8_t> payload;
  for (const RlpItem& child : item.items) Encode(child, payload);
  AppendHeader(0xc0, payload.size(), out);
  out.insert(out.end(), payload.begin(), payload.end());
}

RlpError Err(RlpErrorCode code, std::string message) { return RlpError{code, std::move(message)}; }

class Decoder {
 public:
  explicit Decoder(std::span<const uint8_t> in) : in_(in) {}

  Result<RlpItem, RlpError> Item(int depth) {
    if (pos_ >= in_.size()) return Err(RlpErrorCode::kTruncated, At("item expected, input ended"));
    size_t start = pos_;
    uint8_t b = in_[pos_++];
    if (b < 0x80) return RlpItem{.bytes = {b}};
    bool is_list = b >= 0xc0;
    uint8_t base = is_list ? 0xc0 : 0x80;
    size_t length = 0;
    if (b - base < 56) {
      length = static_cast<size_t>(b - base);
    } else {
      size_t len_bytes = static_cast<size_t>(b - base - 55);
      if (in_.size() - pos_ < len_bytes)
        return Err(RlpErrorCode::kTruncated, At("length runs past the input", start));
      if (in_[pos_] == 0)
        return Err(RlpErrorCode::kNonCanonical, At("length has a leading zero byte", start));
      if (len_bytes > sizeof(size_t))
        return Err(RlpErrorCode::kTruncated, At("length exceeds the input", start));
      for (size_t i = 0; i < len_bytes; ++i) length = (length << 8) | in_[pos_++];
      if (length < 56) return Err(RlpErrorCode::kNonCanonical, At("long-form length below 56", start));
    }
    if (in_.size() - pos_ < length)
      return Err(RlpErrorCode::kTruncated, At("payload runs past the input", start));
    std::span<const uint8_t> payload = in_.subspan(pos_, length);
    pos_ += length;
    if (!is_list) {
      if (length == 1 && payload[0] < 0x80) {
        return Err(RlpErrorCode::kNonCanonical, At("single byte below 0x80 has a length prefix", start));
      }
      return RlpItem{.bytes = std::vector<uint8_t>(payload.begin(), payload.end())};
    }
    if (depth + 1 > kRlpMaxDepth) return Err(RlpErrorCode::kTooDeep, At("lists nested too deeply", start));
    Decoder inner(payload);
    inner.offset_ = offset_ + (pos_ - length);
    RlpItem list{.is_list = true};
    while (inner.pos_ < payload.size()) {
      auto child = inner.Item(depth + 1);
      if (!child.ok()) return child.error();
      list.items.push_back(std::move(child).value());
    }
    return list;
  }

  bool AtEnd() const { return pos_ == in_.size(); }
  size_t pos() const { return pos_; }

 private:
  std::string At(std::string_view what, size_t at = SIZE_MAX) const {
    size_t where = offset_ + (at == SIZE_MAX ? pos_ : at);
    return "rlp: " + std::string(what) + " (at byte " + std::to_string(where) + ")";
  }

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  size_t offset_ = 0;  // of in_ within the top-level input, for messages
};

}  // namespace

RlpItem RlpItem::Bytes(std::span<const uint8_t> b) { return RlpItem{.bytes = {b.begin(), b.end()}}; }

RlpItem RlpItem::String(std::string_view s) { return RlpItem{.bytes = {s.begin(), s.end()}}; }

RlpItem RlpItem::Uint(uint64_t v) { return RlpItem{.bytes = MinimalBigEndian(v)}; }

RlpItem RlpItem::List(std::vector<RlpItem> items) {
  return RlpItem{.is_list = true, .items = std::move(items)};
}

std::vector<uint8_t> RlpEncode(const RlpItem& item) {
  std::vector<uint8_t> out;
  Encode(item, out);
  return out;
}

Result<RlpItem, RlpError> RlpDecode(std::span<const uint8_t> input) {
  Decoder decoder(input);
  auto item = decoder.Item(0);
  if (!item.ok()) return item;
  if (!decoder.AtEnd()) {
    return Err(RlpErrorCode::kTrailing, "rlp: " + std::to_string(input.size() - decoder.pos()) +
                                            " bytes after the item (at byte " +
                                            std::to_string(decoder.pos()) + ")");
  }
  return item;
}

Result<uint64_t, RlpError> RlpToUint(const RlpItem& item, std::string_view what) {
  if (item.is_list) return Err(RlpErrorCode::kWrongType, std::string(what) + ": is a list, not an integer");
  if (item.bytes.size() > 8) {
    return Err(RlpErrorCode::kBadInteger, std::string(what) + ": integer wider than 64 bits");
  }
  if (!item.bytes.empty() && item.bytes[0] == 0) {
    return Err(RlpErrorCode::kBadInteger, std::string(what) + ": integer has a leading zero byte");
  }
  uint64_t v = 0;
  for (uint8_t b : item.bytes) v = (v << 8) | b;
  return v;
}

}  // namespace traceledger::chain
