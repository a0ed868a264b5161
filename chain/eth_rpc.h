// Ethereum JSON-RPC, as the anchoring code sees it: an abstract transport
// (JsonRpcTransport: one method call in, the JSON result or an error out)
// and a typed client over it (EthClient) for the handful of standard
// eth_* methods anchoring and verification use.
//
// The chain layer does not depend on api/, so the HTTP implementation of
// the transport lives above it (api/jsonrpc_client.h) and is handed in.
// Every answer from the node is untrusted input: EthClient checks the shape
// of each field it reads and reports a malformed answer as kProtocol,
// naming the method and the field.
#ifndef TRACELEDGER_CHAIN_ETH_RPC_H_
#define TRACELEDGER_CHAIN_ETH_RPC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chain/eth_tx.h"
#include "chain/hash.h"
#include "util/result.h"

namespace traceledger::chain {

enum class RpcErrorCode {
  kUnavailable,  // no answer: connection refused or lost, timeout, HTTP 5xx
  kProtocol,     // an answer that is not a JSON-RPC response of the expected shape
  kRemote,       // the node answered with a JSON-RPC error object (rpc_code, message)
};

struct RpcError {
  RpcErrorCode code;
  std::string message;
  int64_t rpc_code = 0;  // the JSON-RPC error code, for kRemote
};

std::string_view RpcErrorCodeName(RpcErrorCode code);  // "unavailable", "protocol", "remote"

// One JSON-RPC endpoint. Implementations must be safe to call from several
// threads at once.
class JsonRpcTransport {
 public:
  virtual ~JsonRpcTransport() = default;
  // Calls `method` with `params_json` (a JSON array, as text) and returns the
  // response's "result" member as JSON text ("null" included).
  [[nodiscard]] virtual Result<std::string, RpcError> Call(std::string_view method,
                                                           std::string_view params_json) = 0;
  // For messages: where the calls go (a URL).
  virtual std::string Describe() const = 0;
};

struct EthBlock {
  uint64_t number = 0;
  Hash hash{};
  std::optional<uint64_t> base_fee_per_gas;  // absent before London / on non-1559 chains
};

struct EthTxInfo {
  Hash hash{};
  EthAddress from{};
  std::optional<EthAddress> to;
  uint64_t nonce = 0;
  std::vector<uint8_t> input;
  std::optional<Hash> block_hash;  // nullopt while pending
  std::optional<uint64_t> block_number;
};

struct EthReceipt {
  Hash tx_hash{};
  Hash block_hash{};
  uint64_t block_number = 0;
  bool success = false;  // status 0x1
  EthAddress from{};
};

// Block tags accepted where a block is named.
inline constexpr std::string_view kLatest = "latest";
inline constexpr std::string_view kPending = "pending";

class EthClient {
 public:
  explicit EthClient(JsonRpcTransport& transport) : transport_(transport) {}

  [[nodiscard]] Result<uint64_t, RpcError> ChainId();      // eth_chainId
  [[nodiscard]] Result<uint64_t, RpcError> BlockNumber();  // eth_blockNumber
  // eth_getBlockByNumber(tag or number, false). nullopt: no such block.
  [[nodiscard]] Result<std::optional<EthBlock>, RpcError> BlockByNumber(uint64_t number);
  [[nodiscard]] Result<std::optional<EthBlock>, RpcError> BlockByTag(std::string_view tag);
  [[nodiscard]] Result<uint64_t, RpcError> TransactionCount(const EthAddress& a, std::string_view tag);
  [[nodiscard]] Result<uint64_t, RpcError> GasPrice();              // eth_gasPrice
  [[nodiscard]] Result<uint64_t, RpcError> MaxPriorityFeePerGas();  // eth_maxPriorityFeePerGas
  [[nodiscard]] Result<uint64_t, RpcError> EstimateGas(const EthAddress& from,
                                                       const std::optional<EthAddress>& to,
                                                       std::span<const uint8_t> data);
  // eth_sendRawTransaction; returns the hash the node computed.
  [[nodiscard]] Result<Hash, RpcError> SendRawTransaction(std::span<const uint8_t> raw);
  // nullopt: the node does not know the transaction.
  [[nodiscard]] Result<std::optional<EthTxInfo>, RpcError> TransactionByHash(const Hash& h);
  // nullopt: not mined (as far as this node's canonical chain goes).
  [[nodiscard]] Result<std::optional<EthReceipt>, RpcError> TransactionReceipt(const Hash& h);

  JsonRpcTransport& transport() { return transport_; }

 private:
  JsonRpcTransport& transport_;
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_ETH_RPC_H_
