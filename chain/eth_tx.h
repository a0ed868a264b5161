// Ethereum accounts and transactions, signed locally: addresses (with
// EIP-55 checksums), EIP-1559 (type 2) transactions, and legacy
// transactions with EIP-155 replay protection for chains without EIP-1559.
// Pure functions of their inputs; the signature comes from wallet/eth_key.h
// and Keccak-256 from chain/keccak.h.
//
// Amounts are uint64_t wei: enough for fees up to 18 ETH per gas and values
// up to 18 ETH, which is all anchoring needs (it sends value 0). A decoded
// transaction whose amounts do not fit is rejected (kUnsupported).
#ifndef TRACELEDGER_CHAIN_ETH_TX_H_
#define TRACELEDGER_CHAIN_ETH_TX_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/hash.h"
#include "util/result.h"
#include "wallet/eth_key.h"
#include "wallet/key.h"

namespace traceledger::chain {

using EthAddress = std::array<uint8_t, 20>;

// The last 20 bytes of Keccak-256(X || Y).
EthAddress EthAddressOf(const wallet::EcdsaPublicKey& key);
EthAddress EthAddressOf(const wallet::SecretKey& key);

// "0x" + 40 lowercase hex digits.
std::string EthAddressHex(const EthAddress& a);
// EIP-55 mixed-case checksum form ("0xf39Fd6e5…").
std::string EthAddressChecksum(const EthAddress& a);
// Accepts "0x" + 40 hex digits. All-lowercase and all-uppercase digits are
// taken as they are; mixed case must be a correct EIP-55 checksum (a typo
// in a checksummed address is caught rather than sending to it).
std::optional<EthAddress> ParseEthAddress(std::string_view text);

// "0x" + lowercase hex, for Ethereum-facing values (hashes, calldata, raw
// transactions); and its strict inverse ("0x" required, even length).
std::string PrefixedHex(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> ParsePrefixedHex(std::string_view text);

enum class EthTxType {
  kLegacy,   // EIP-155: rlp([nonce, gasPrice, gas, to, value, data, v, r, s])
  kEip1559,  // 0x02 || rlp([chainId, nonce, tip, feeCap, gas, to, value, data, [], yParity, r, s])
};

std::string_view EthTxTypeName(EthTxType t);  // "legacy", "eip1559"

struct EthTx {
  EthTxType type = EthTxType::kEip1559;
  uint64_t chain_id = 0;
  uint64_t nonce = 0;
  uint64_t gas_price = 0;                 // legacy only
  uint64_t max_priority_fee_per_gas = 0;  // EIP-1559 only
  uint64_t max_fee_per_gas = 0;           // EIP-1559 only
  uint64_t gas_limit = 0;
  std::optional<EthAddress> to;  // nullopt: contract creation
  uint64_t value = 0;
  std::vector<uint8_t> data;
  // Access lists are not supported (always empty).

  friend bool operator==(const EthTx&, const EthTx&) = default;
};

// The bytes whose Keccak-256 is signed: for legacy,
// rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0]) (EIP-155);
// for EIP-1559, 0x02 || rlp([chainId, nonce, tip, feeCap, gas, to, value,
// data, []]).
std::vector<uint8_t> EthSigningPayload(const EthTx& tx);
Hash EthSigningHash(const EthTx& tx);

struct SignedEthTx {
  EthTx tx;
  wallet::RecoverableSignature signature;
  std::vector<uint8_t> raw;  // what eth_sendRawTransaction takes
  Hash hash;                 // Keccak-256(raw): the transaction hash
  EthAddress from;
};

// REQUIRES: tx.chain_id > 0 and, for legacy, chain_id < 2^62 (so v fits).
SignedEthTx SignEthTx(const EthTx& tx, const wallet::SecretKey& key);

enum class EthTxErrorCode {
  kMalformed,     // not RLP, wrong field count or types, non-canonical integers
  kUnsupported,   // another transaction type, a non-empty access list, amounts over 64 bits,
                  // or a legacy transaction without EIP-155 replay protection
  kBadSignature,  // r, s or v out of range, high s, or no key recovers
};

struct EthTxError {
  EthTxErrorCode code;
  std::string message;
};

// Parses a raw signed transaction of either type, recovers its sender and
// computes its hash. The re-encoding of the result is byte-identical to
// `raw` (the decoder accepts only canonical RLP).
[[nodiscard]] Result<SignedEthTx, EthTxError> DecodeSignedEthTx(std::span<const uint8_t> raw);

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_ETH_TX_H_
