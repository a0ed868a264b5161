#include "chain/eth_rpc.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

#include "util/encoding.h"

namespace traceledger::chain {
namespace {

using Json = nlohmann::json;

RpcError Protocol(std::string_view method, std::string message) {
  return RpcError{RpcErrorCode::kProtocol, std::string(method) + ": " + std::move(message)};
}

std::string Quantity(uint64_t v) {
  static const char* kDigits = "0123456789abcdef";
  if (v == 0) return "0x0";
  std::string out;
  while (v != 0) {
    out.insert(out.begin(), kDigits[v & 0xf]);
    v >>= 4;
  }
  return "0x" + out;
}

// The parsed result member, or a kProtocol error when it is not JSON.
Result<Json, RpcError> CallJson(JsonRpcTransport& t, std::string_view method, const Json& params) {
  auto text = t.Call(method, params.dump());
  if (!text.ok()) return text.error();
  Json j = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Protocol(method, "result is not JSON");
  return j;
}

// Field readers: each names the method and field at fault.
class Reader {
 public:
  Reader(std::string_view method, const Json& obj) : method_(method), obj_(obj) {}

  Result<uint64_t, RpcError> Uint(const char* field) const { return ParseQuantity(At(field), field); }

  Result<std::optional<uint64_t>, RpcError> OptUint(const char* field) const {
    const Json& v = At(field);
    if (v.is_null()) return std::optional<uint64_t>();
    auto q = ParseQuantity(v, field);
    if (!q.ok()) return q.error();
    return std::optional<uint64_t>(*q);
  }

  Result<Hash, RpcError> Hash32(const char* field) const {
    auto b = Bytes(field);
    if (!b.ok()) return b.error();
    if (b->size() != 32) return Protocol(method_, std::string(field) + ": not 32 bytes");
    Hash h;
    std::memcpy(h.data(), b->data(), 32);
    return h;
  }

  Result<std::optional<Hash>, RpcError> OptHash32(const char* field) const {
    if (At(field).is_null()) return std::optional<Hash>();
    auto h = Hash32(field);
    if (!h.ok()) return h.error();
    return std::optional<Hash>(*h);
  }

  Result<EthAddress, RpcError> Address(const char* field) const {
    const Json& v = At(field);
    auto a = v.is_string() ? ParseEthAddress(v.get<std::string>()) : std::nullopt;
    if (!a) return Protocol(method_, std::string(field) + ": not an address");
    return *a;
  }

  Result<std::optional<EthAddress>, RpcError> OptAddress(const char* field) const {
    if (At(field).is_null()) return std::optional<EthAddress>();
    auto a = Address(field);
    if (!a.ok()) return a.error();
    return std::optional<EthAddress>(*a);
  }

  Result<std::vector<uint8_t>, RpcError> Bytes(const char* field) const {
    const Json& v = At(field);
    auto b = v.is_string() ? ParsePrefixedHex(v.get<std::string>()) : std::nullopt;
    if (!b) return Protocol(method_, std::string(field) + ": not 0x-prefixed hex bytes");
    return *b;
  }

  Result<uint64_t, RpcError> ParseQuantity(const Json& v, std::string_view field) const {
    if (!v.is_string()) return Protocol(method_, std::string(field) + ": not a hex quantity");
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() < 3 || s[0] != '0' || s[1] != 'x') {
      return Protocol(method_, std::string(field) + ": \"" + s + "\" is not a hex quantity");
    }
    size_t i = 2;
    while (i + 1 < s.size() && s[i] == '0') ++i;  // tolerate leading zeros
    if (s.size() - i > 16) return Protocol(method_, std::string(field) + ": " + s + " exceeds 64 bits");
    uint64_t out = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return Protocol(method_, std::string(field) + ": \"" + s + "\" is not a hex quantity");
      out = (out << 4) | static_cast<uint64_t>(d);
    }
    return out;
  }

 private:
  const Json& At(const char* field) const {
    static const Json kNull;
    if (!obj_.is_object()) return kNull;
    auto it = obj_.find(field);
    return it == obj_.end() ? kNull : *it;
  }

  std::string_view method_;
  const Json& obj_;
};

Result<uint64_t, RpcError> QuantityCall(JsonRpcTransport& t, std::string_view method, const Json& params) {
  auto j = CallJson(t, method, params);
  if (!j.ok()) return j.error();
  Json wrapper = {{"result", *j}};
  return Reader(method, wrapper).Uint("result");
}

Result<std::optional<EthBlock>, RpcError> Block(JsonRpcTransport& t, const Json& which) {
  constexpr std::string_view kMethod = "eth_getBlockByNumber";
  auto j = CallJson(t, kMethod, Json::array({which, false}));
  if (!j.ok()) return j.error();
  if (j->is_null()) return std::optional<EthBlock>();
  if (!j->is_object()) return Protocol(kMethod, "result is neither null nor a block object");
  Reader r(kMethod, *j);
  EthBlock b;
  auto number = r.Uint("number");
  if (!number.ok()) return number.error();
  b.number = *number;
  // A "pending" block may come without a hash; it is only read for its fee.
  auto hash = r.OptHash32("hash");
  if (!hash.ok()) return hash.error();
  if (hash->has_value()) b.hash = **hash;
  auto fee = r.OptUint("baseFeePerGas");
  if (!fee.ok()) return fee.error();
  b.base_fee_per_gas = *fee;
  return std::optional<EthBlock>(b);
}

}  // namespace

std::string_view RpcErrorCodeName(RpcErrorCode code) {
  switch (code) {
    case RpcErrorCode::kUnavailable:
      return "unavailable";
    case RpcErrorCode::kProtocol:
      return "protocol";
    case RpcErrorCode::kRemote:
      return "remote";
  }
  return "unknown";
}

Result<uint64_t, RpcError> EthClient::ChainId() {
  return QuantityCall(transport_, "eth_chainId", Json::array());
}

Result<uint64_t, RpcError> EthClient::BlockNumber() {
  return QuantityCall(transport_, "eth_blockNumber", Json::array());
}

Result<std::optional<EthBlock>, RpcError> EthClient::BlockByNumber(uint64_t number) {
  return Block(transport_, Quantity(number));
}

Result<std::optional<EthBlock>, RpcError> EthClient::BlockByTag(std::string_view tag) {
  return Block(transport_, std::string(tag));
}

Result<uint64_t, RpcError> EthClient::TransactionCount(const EthAddress& a, std::string_view tag) {
  return QuantityCall(transport_, "eth_getTransactionCount",
                      Json::array({EthAddressHex(a), std::string(tag)}));
}

Result<uint64_t, RpcError> EthClient::GasPrice() {
  return QuantityCall(transport_, "eth_gasPrice", Json::array());
}

Result<uint64_t, RpcError> EthClient::MaxPriorityFeePerGas() {
  return QuantityCall(transport_, "eth_maxPriorityFeePerGas", Json::array());
}

Result<uint64_t, RpcError> EthClient::EstimateGas(const EthAddress& from, const std::optional<EthAddress>& to,
                                                  std::span<const uint8_t> data) {
  Json call = {{"from", EthAddressHex(from)}, {"data", PrefixedHex(data)}, {"value", "0x0"}};
  if (to) call["to"] = EthAddressHex(*to);
  return QuantityCall(transport_, "eth_estimateGas", Json::array({call}));
}

Result<Hash, RpcError> EthClient::SendRawTransaction(std::span<const uint8_t> raw) {
  constexpr std::string_view kMethod = "eth_sendRawTransaction";
  auto j = CallJson(transport_, kMethod, Json::array({PrefixedHex(raw)}));
  if (!j.ok()) return j.error();
  Json wrapper = {{"result", *j}};
  return Reader(kMethod, wrapper).Hash32("result");
}

Result<std::optional<EthTxInfo>, RpcError> EthClient::TransactionByHash(const Hash& h) {
  constexpr std::string_view kMethod = "eth_getTransactionByHash";
  auto j = CallJson(transport_, kMethod, Json::array({PrefixedHex(h)}));
  if (!j.ok()) return j.error();
  if (j->is_null()) return std::optional<EthTxInfo>();
  if (!j->is_object()) return Protocol(kMethod, "result is neither null nor a transaction object");
  Reader r(kMethod, *j);
  EthTxInfo info;
  auto hash = r.Hash32("hash");
  if (!hash.ok()) return hash.error();
  info.hash = *hash;
  auto from = r.Address("from");
  if (!from.ok()) return from.error();
  info.from = *from;
  auto to = r.OptAddress("to");
  if (!to.ok()) return to.error();
  info.to = *to;
  auto nonce = r.Uint("nonce");
  if (!nonce.ok()) return nonce.error();
  info.nonce = *nonce;
  auto input = r.Bytes("input");
  if (!input.ok()) return input.error();
  info.input = std::move(input).value();
  auto block_hash = r.OptHash32("blockHash");
  if (!block_hash.ok()) return block_hash.error();
  info.block_hash = *block_hash;
  auto block_number = r.OptUint("blockNumber");
  if (!block_number.ok()) return block_number.error();
  info.block_number = *block_number;
  return std::optional<EthTxInfo>(std::move(info));
}

Result<std::optional<EthReceipt>, RpcError> EthClient::TransactionReceipt(const Hash& h) {
  constexpr std::string_view kMethod = "eth_getTransactionReceipt";
  auto j = CallJson(transport_, kMethod, Json::array({PrefixedHex(h)}));
  if (!j.ok()) return j.error();
  if (j->is_null()) return std::optional<EthReceipt>();
  if (!j->is_object()) return Protocol(kMethod, "result is neither null nor a receipt object");
  Reader r(kMethod, *j);
  EthReceipt rec;
  auto tx_hash = r.Hash32("transactionHash");
  if (!tx_hash.ok()) return tx_hash.error();
  rec.tx_hash = *tx_hash;
  auto block_hash = r.Hash32("blockHash");
  if (!block_hash.ok()) return block_hash.error();
  rec.block_hash = *block_hash;
  auto block_number = r.Uint("blockNumber");
  if (!block_number.ok()) return block_number.error();
  rec.block_number = *block_number;
  auto status = r.Uint("status");
  if (!status.ok()) return status.error();
  if (*status > 1) return Protocol(kMethod, "status: neither 0x0 nor 0x1");
  rec.success = *status == 1;
  auto from = r.Address("from");
  if (!from.ok()) return from.error();
  rec.from = *from;
  return std::optional<EthReceipt>(rec);
}

}  // namespace traceledger::chain
