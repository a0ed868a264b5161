#include "chain/eth_tx.h"

#include <cctype>
#include <cstring>
#include <utility>

#include "chain/keccak.h"
#include "chain/rlp.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

constexpr uint8_t kEip1559Type = 0x02;

EthTxError TxErr(EthTxErrorCode code, std::string message) { return EthTxError{code, std::move(message)}; }

RlpItem ToItem(const std::optional<EthAddress>& to) {
  return to ? RlpItem::Bytes(*to) : RlpItem::Bytes(std::span<const uint8_t>());
}

// r and s are 256-bit integers: minimal big-endian in RLP.
RlpItem Uint256Item(const std::array<uint8_t, 32>& v) {
  size_t first = 0;
  while (first < v.size() && v[first] == 0) ++first;
  return RlpItem::Bytes(std::span<const uint8_t>(v).subspan(first));
}

// The fields both types share, in the order the type puts them.
std::vector<RlpItem> UnsignedFields(const EthTx& tx) {
  if (tx.type == EthTxType::kLegacy) {
    return {RlpItem::Uint(tx.nonce), RlpItem::Uint(tx.gas_price), RlpItem::Uint(tx.gas_limit),
            ToItem(tx.to),           RlpItem::Uint(tx.value),     RlpItem::Bytes(tx.data)};
  }
  return {RlpItem::Uint(tx.chain_id),
          RlpItem::Uint(tx.nonce),
          RlpItem::Uint(tx.max_priority_fee_per_gas),
          RlpItem::Uint(tx.max_fee_per_gas),
          RlpItem::Uint(tx.gas_limit),
          ToItem(tx.to),
          RlpItem::Uint(tx.value),
          RlpItem::Bytes(tx.data),
          RlpItem::List({})};
}

std::vector<uint8_t> Typed(uint8_t type, const RlpItem& list) {
  std::vector<uint8_t> out = {type};
  std::vector<uint8_t> body = RlpEncode(list);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::vector<uint8_t> EncodeSigned(const EthTx& tx, const wallet::RecoverableSignature& sig) {
  std::vector<RlpItem> fields = UnsignedFields(tx);
  if (tx.type == EthTxType::kLegacy) {
    fields.push_back(RlpItem::Uint(tx.chain_id * 2 + 35 + sig.recovery_id));
  } else {
    fields.push_back(RlpItem::Uint(sig.recovery_id));
  }
  fields.push_back(Uint256Item(sig.r));
  fields.push_back(Uint256Item(sig.s));
  RlpItem list = RlpItem::List(std::move(fields));
  return tx.type == EthTxType::kLegacy ? RlpEncode(list) : Typed(kEip1559Type, list);
}

Result<uint64_t, EthTxError> Uint(const RlpItem& item, std::string_view what) {
  auto v = RlpToUint(item, what);
  if (v.ok()) return *v;
  if (v.error().code == RlpErrorCode::kBadInteger && !item.bytes.empty() && item.bytes[0] != 0) {
    return TxErr(EthTxErrorCode::kUnsupported, "transaction " + v.error().message);
  }
  return TxErr(EthTxErrorCode::kMalformed, "transaction " + v.error().message);
}

Result<std::array<uint8_t, 32>, EthTxError> Uint256(const RlpItem& item, std::string_view what) {
  if (item.is_list || item.bytes.size() > 32 || (!item.bytes.empty() && item.bytes[0] == 0)) {
    return TxErr(EthTxErrorCode::kMalformed,
                 "transaction " + std::string(what) + ": not a canonical integer of at most 256 bits");
  }
  std::array<uint8_t, 32> out{};
  std::memcpy(out.data() + 32 - item.bytes.size(), item.bytes.data(), item.bytes.size());
  return out;
}

Result<std::optional<EthAddress>, EthTxError> To(const RlpItem& item) {
  if (item.is_list || (item.bytes.size() != 0 && item.bytes.size() != 20)) {
    return TxErr(EthTxErrorCode::kMalformed, "transaction to: neither empty nor 20 bytes");
  }
  if (item.bytes.empty()) return std::optional<EthAddress>();
  EthAddress a;
  std::memcpy(a.data(), item.bytes.data(), 20);
  return std::optional<EthAddress>(a);
}

Result<std::vector<uint8_t>, EthTxError> Data(const RlpItem& item) {
  if (item.is_list) return TxErr(EthTxErrorCode::kMalformed, "transaction data: is a list");
  return item.bytes;
}

// Fills everything of `out` but the signature from `fields` (of a type
// already checked to have the right count).
Result<EthTx, EthTxError> ParseFields(EthTxType type, const std::vector<RlpItem>& f) {
  EthTx tx;
  tx.type = type;
  size_t i = 0;
  auto next_uint = [&](uint64_t& slot, std::string_view what) -> Result<void, EthTxError> {
    auto v = Uint(f[i++], what);
    if (!v.ok()) return v.error();
    slot = *v;
    return {};
  };
  Result<void, EthTxError> r;
  if (type == EthTxType::kEip1559) {
    if (!(r = next_uint(tx.chain_id, "chainId")).ok()) return r.error();
  }
  if (!(r = next_uint(tx.nonce, "nonce")).ok()) return r.error();
  if (type == EthTxType::kEip1559) {
    if (!(r = next_uint(tx.max_priority_fee_per_gas, "maxPriorityFeePerGas")).ok()) return r.error();
    if (!(r = next_uint(tx.max_fee_per_gas, "maxFeePerGas")).ok()) return r.error();
  } else {
    if (!(r = next_uint(tx.gas_price, "gasPrice")).ok()) return r.error();
  }
  if (!(r = next_uint(tx.gas_limit, "gas")).ok()) return r.error();
  auto to = To(f[i++]);
  if (!to.ok()) return to.error();
  tx.to = *to;
  if (!(r = next_uint(tx.value, "value")).ok()) return r.error();
  auto data = Data(f[i++]);
  if (!data.ok()) return data.error();
  tx.data = std::move(data).value();
  if (type == EthTxType::kEip1559) {
    const RlpItem& access = f[i++];
    if (!access.is_list) return TxErr(EthTxErrorCode::kMalformed, "transaction accessList: not a list");
    if (!access.items.empty())
      return TxErr(EthTxErrorCode::kUnsupported, "transaction accessList: not empty");
  }
  return tx;
}

}  // namespace

EthAddress EthAddressOf(const wallet::EcdsaPublicKey& key) {
  Hash h = Keccak256(key);
  EthAddress a;
  std::memcpy(a.data(), h.data() + 12, 20);
  return a;
}

EthAddress EthAddressOf(const wallet::SecretKey& key) { return EthAddressOf(wallet::EcdsaPublicKeyOf(key)); }

std::string EthAddressHex(const EthAddress& a) { return "0x" + HexEncode(a); }

std::string EthAddressChecksum(const EthAddress& a) {
  // EIP-55: hex digit i is upper case when nibble i of
  // Keccak-256(lowercase hex without 0x) is 8 or more.
  std::string hex = HexEncode(a);
  Hash h = Keccak256(hex);
  for (size_t i = 0; i < hex.size(); ++i) {
    uint8_t nibble = (i % 2 == 0) ? (h[i / 2] >> 4) : (h[i / 2] & 0x0f);
    if (nibble >= 8) hex[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(hex[i])));
  }
  return "0x" + hex;
}

std::optional<EthAddress> ParseEthAddress(std::string_view text) {
  if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return std::nullopt;
  std::string_view digits = text.substr(2);
  auto bytes = HexDecode(digits);
  if (!bytes) return std::nullopt;
  EthAddress a;
  std::memcpy(a.data(), bytes->data(), 20);
  bool has_lower = false, has_upper = false;
  for (char c : digits) {
    has_lower |= (c >= 'a' && c <= 'f');
    has_upper |= (c >= 'A' && c <= 'F');
  }
  if (has_lower && has_upper && EthAddressChecksum(a).substr(2) != digits) return std::nullopt;
  return a;
}

std::string PrefixedHex(std::span<const uint8_t> bytes) { return "0x" + HexEncode(bytes); }

std::optional<std::vector<uint8_t>> ParsePrefixedHex(std::string_view text) {
  if (text.size() < 2 || text[0] != '0' || text[1] != 'x') return std::nullopt;
  return HexDecode(text.substr(2));
}

std::string_view EthTxTypeName(EthTxType t) { return t == EthTxType::kLegacy ? "legacy" : "eip1559"; }

std::vector<uint8_t> EthSigningPayload(const EthTx& tx) {
  std::vector<RlpItem> fields = UnsignedFields(tx);
  if (tx.type == EthTxType::kLegacy) {
    fields.push_back(RlpItem::Uint(tx.chain_id));
    fields.push_back(RlpItem::Uint(0));
    fields.push_back(RlpItem::Uint(0));
    return RlpEncode(RlpItem::List(std::move(fields)));
  }
  return Typed(kEip1559Type, RlpItem::List(std::move(fields)));
}

Hash EthSigningHash(const EthTx& tx) { return Keccak256(EthSigningPayload(tx)); }

SignedEthTx SignEthTx(const EthTx& tx, const wallet::SecretKey& key) {
  SignedEthTx out;
  out.tx = tx;
  out.signature = wallet::SignRecoverable(key, EthSigningHash(tx));
  out.raw = EncodeSigned(tx, out.signature);
  out.hash = Keccak256(out.raw);
  out.from = EthAddressOf(key);
  return out;
}

Result<SignedEthTx, EthTxError> DecodeSignedEthTx(std::span<const uint8_t> raw) {
  if (raw.empty()) return TxErr(EthTxErrorCode::kMalformed, "transaction: empty");
  EthTxType type;
  std::span<const uint8_t> body = raw;
  if (raw[0] >= 0xc0) {
    type = EthTxType::kLegacy;
  } else if (raw[0] == kEip1559Type) {
    type = EthTxType::kEip1559;
    body = raw.subspan(1);
  } else if (raw[0] <= 0x7f) {
    return TxErr(EthTxErrorCode::kUnsupported,
                 "transaction type " + std::to_string(raw[0]) + " is not supported");
  } else {
    return TxErr(EthTxErrorCode::kMalformed, "transaction: neither a typed envelope nor an RLP list");
  }
  auto decoded = RlpDecode(body);
  if (!decoded.ok()) return TxErr(EthTxErrorCode::kMalformed, "transaction " + decoded.error().message);
  if (!decoded->is_list) return TxErr(EthTxErrorCode::kMalformed, "transaction: not an RLP list");
  const std::vector<RlpItem>& f = decoded->items;
  size_t expected = type == EthTxType::kLegacy ? 9 : 12;
  if (f.size() != expected) {
    return TxErr(EthTxErrorCode::kMalformed, "transaction: " + std::to_string(f.size()) +
                                                 " fields, expected " + std::to_string(expected));
  }
  auto tx = ParseFields(type, f);
  if (!tx.ok()) return tx.error();
  SignedEthTx out;
  out.tx = std::move(tx).value();
  auto v = Uint(f[expected - 3], type == EthTxType::kLegacy ? "v" : "yParity");
  if (!v.ok()) return v.error();
  if (type == EthTxType::kLegacy) {
    if (*v == 27 || *v == 28) {
      return TxErr(EthTxErrorCode::kUnsupported,
                   "transaction v: no EIP-155 replay protection (v = 27 or 28)");
    }
    if (*v < 37)
      return TxErr(EthTxErrorCode::kBadSignature, "transaction v: " + std::to_string(*v) + " is invalid");
    out.tx.chain_id = (*v - 35) / 2;
    out.signature.recovery_id = static_cast<uint8_t>((*v - 35) % 2);
  } else {
    if (*v > 1) return TxErr(EthTxErrorCode::kBadSignature, "transaction yParity: must be 0 or 1");
    out.signature.recovery_id = static_cast<uint8_t>(*v);
  }
  auto r = Uint256(f[expected - 2], "r");
  if (!r.ok()) return r.error();
  auto s = Uint256(f[expected - 1], "s");
  if (!s.ok()) return s.error();
  out.signature.r = *r;
  out.signature.s = *s;
  auto pub = wallet::RecoverPublicKey(EthSigningHash(out.tx), out.signature);
  if (!pub) {
    return TxErr(EthTxErrorCode::kBadSignature,
                 "transaction signature: r or s out of range, high s, or no key recovers");
  }
  out.from = EthAddressOf(*pub);
  out.raw.assign(raw.begin(), raw.end());
  out.hash = Keccak256(raw);
  return out;
}

}  // namespace traceledger::chain
