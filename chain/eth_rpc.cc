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

// Reads fields of one JSON-RPC result object. Each reader returns a value
// (a default one after an error); the first error, naming the method and
// the field, sticks and is reported by error().
class Reader {
 public:
  Reader(std::string_view method, const Json& obj) : method_(method), obj_(obj) {}

  uint64_t Uint(const char* field) { return Quantity(At(field), field); }
  std::optional<uint64_t> OptUint(const char* field) {
    if (At(field).is_null()) return std::nullopt;
    return Uint(field);
  }
  Hash Hash32(const char* field) {
    std::vector<uint8_t> b = Bytes(field);
    Hash h{};
    if (error_) return h;
    if (b.size() != 32) return Fail(field, "not 32 bytes"), h;
    std::memcpy(h.data(), b.data(), 32);
    return h;
  }
  std::optional<Hash> OptHash32(const char* field) {
    if (At(field).is_null()) return std::nullopt;
    return Hash32(field);
  }
  EthAddress Address(const char* field) {
    const Json& v = At(field);
    auto a = v.is_string() ? ParseEthAddress(v.get<std::string>()) : std::nullopt;
    if (!a) return Fail(field, "not an address"), EthAddress{};
    return *a;
  }
  std::optional<EthAddress> OptAddress(const char* field) {
    if (At(field).is_null()) return std::nullopt;
    return Address(field);
  }
  std::vector<uint8_t> Bytes(const char* field) {
    const Json& v = At(field);
    auto b = v.is_string() ? ParsePrefixedHex(v.get<std::string>()) : std::nullopt;
    if (!b) return Fail(field, "not 0x-prefixed hex bytes"), std::vector<uint8_t>();
    return *b;
  }

  bool ok() const { return !error_; }
  const RpcError& error() const { return *error_; }

 private:
  uint64_t Quantity(const Json& v, std::string_view field) {
    if (!v.is_string()) return Fail(field, "not a hex quantity"), 0;
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() < 3 || s[0] != '0' || s[1] != 'x')
      return Fail(field, "\"" + s + "\" is not a hex quantity"), 0;
    size_t i = 2;
    while (i + 1 < s.size() && s[i] == '0') ++i;  // tolerate leading zeros
    if (s.size() - i > 16) return Fail(field, s + " exceeds 64 bits"), 0;
    uint64_t out = 0;
    for (; i < s.size(); ++i) {
      auto digit = HexDecode(std::string("0") + s[i]);
      if (!digit) return Fail(field, "\"" + s + "\" is not a hex quantity"), 0;
      out = (out << 4) | (*digit)[0];
    }
    return out;
  }
  const Json& At(const char* field) const {
    static const Json kNull;
    if (!obj_.is_object()) return kNull;
    auto it = obj_.find(field);
    return it == obj_.end() ? kNull : *it;
  }
  void Fail(std::string_view field, const std::string& why) {
    if (!error_) error_ = Protocol(method_, std::string(field) + ": " + why);
  }

  std::string_view method_;
  const Json& obj_;
  std::optional<RpcError> error_;
};

// The result of a call that answers an object or null (nullopt); anything
// else is a kProtocol error naming `what` was expected.
Result<std::optional<Json>, RpcError> ObjectCall(JsonRpcTransport& t, std::string_view method,
                                                 const Json& params, std::string_view what) {
  auto j = CallJson(t, method, params);
  if (!j.ok()) return j.error();
  if (j->is_null()) return std::optional<Json>();
  if (!j->is_object()) return Protocol(method, "result is neither null nor " + std::string(what));
  return std::optional<Json>(std::move(j).value());
}

// The result of a call that answers one value (`read` picks it from
// {"result": value}).
template <typename T, typename Read>
Result<T, RpcError> ValueCall(JsonRpcTransport& t, std::string_view method, const Json& params, Read read) {
  auto j = CallJson(t, method, params);
  if (!j.ok()) return j.error();
  Json wrapper = {{"result", *j}};
  Reader r(method, wrapper);
  T value = read(r);
  if (!r.ok()) return r.error();
  return value;
}

Result<uint64_t, RpcError> QuantityCall(JsonRpcTransport& t, std::string_view method, const Json& params) {
  return ValueCall<uint64_t>(t, method, params, [](Reader& r) { return r.Uint("result"); });
}

Result<std::optional<EthBlock>, RpcError> Block(JsonRpcTransport& t, const Json& which) {
  constexpr std::string_view kMethod = "eth_getBlockByNumber";
  auto j = ObjectCall(t, kMethod, Json::array({which, false}), "a block object");
  if (!j.ok()) return j.error();
  if (!j->has_value()) return std::optional<EthBlock>();
  Reader r(kMethod, **j);
  // A "pending" block may come without a hash; it is only read for its fee.
  EthBlock b{.number = r.Uint("number"),
             .hash = r.OptHash32("hash").value_or(Hash{}),
             .base_fee_per_gas = r.OptUint("baseFeePerGas")};
  if (!r.ok()) return r.error();
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
  return ValueCall<Hash>(transport_, "eth_sendRawTransaction", Json::array({PrefixedHex(raw)}),
                         [](Reader& r) { return r.Hash32("result"); });
}

Result<std::optional<EthTxInfo>, RpcError> EthClient::TransactionByHash(const Hash& h) {
  constexpr std::string_view kMethod = "eth_getTransactionByHash";
  auto j = ObjectCall(transport_, kMethod, Json::array({PrefixedHex(h)}), "a transaction object");
  if (!j.ok()) return j.error();
  if (!j->has_value()) return std::optional<EthTxInfo>();
  Reader r(kMethod, **j);
  EthTxInfo info{.hash = r.Hash32("hash"),
                 .from = r.Address("from"),
                 .to = r.OptAddress("to"),
                 .nonce = r.Uint("nonce"),
                 .input = r.Bytes("input"),
                 .block_hash = r.OptHash32("blockHash"),
                 .block_number = r.OptUint("blockNumber")};
  if (!r.ok()) return r.error();
  return std::optional<EthTxInfo>(std::move(info));
}

Result<std::optional<EthReceipt>, RpcError> EthClient::TransactionReceipt(const Hash& h) {
  constexpr std::string_view kMethod = "eth_getTransactionReceipt";
  auto j = ObjectCall(transport_, kMethod, Json::array({PrefixedHex(h)}), "a receipt object");
  if (!j.ok()) return j.error();
  if (!j->has_value()) return std::optional<EthReceipt>();
  Reader r(kMethod, **j);
  EthReceipt rec{.tx_hash = r.Hash32("transactionHash"),
                 .block_hash = r.Hash32("blockHash"),
                 .block_number = r.Uint("blockNumber"),
                 .success = false,
                 .from = r.Address("from")};
  uint64_t status = r.Uint("status");
  if (!r.ok()) return r.error();
  if (status > 1) return Protocol(kMethod, "status: neither 0x0 nor 0x1");
  rec.success = status == 1;
  return std::optional<EthReceipt>(rec);
}

}  // namespace traceledger::chain
