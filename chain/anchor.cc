#include "chain/anchor.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "util/encoding.h"

namespace traceledger::chain {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kReceiptFormat = "traceledger-anchor-receipt/1";
constexpr std::string_view kPendingFormat = "traceledger-anchor-pending/1";

AnchorError Err(AnchorErrorCode code, std::string message) { return AnchorError{code, std::move(message)}; }

AnchorError FromStore(const AnchorStoreError& e) { return Err(AnchorErrorCode::kStorage, e.message); }

AnchorError FromRpc(const RpcError& e, std::string_view node) {
  AnchorErrorCode code =
      e.code == RpcErrorCode::kUnavailable ? AnchorErrorCode::kUnavailable : AnchorErrorCode::kNodeError;
  return Err(code, std::string(node) + ": " + e.message);
}

uint64_t SatAdd(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

// At least 12.5% more, and at least 1 more: above the 10% every client
// demands of a replacement (geth's default price bump).
uint64_t Bump(uint64_t v) { return SatAdd(v, std::max<uint64_t>(v / 8, 1)); }

std::string Gwei(uint64_t wei) {
  std::string whole = std::to_string(wei / 1'000'000'000);
  uint64_t frac = wei % 1'000'000'000;
  if (frac == 0) return whole + " gwei";
  std::string f = std::to_string(frac);
  f.insert(0, 9 - f.size(), '0');
  while (!f.empty() && f.back() == '0') f.pop_back();
  return whole + "." + f + " gwei";
}

std::string ShortHash(const Hash& h) { return PrefixedHex(h); }

// ---------------------------------------------------------------- JSON fields

// Reads members of a JSON object for one record kind, naming the field at
// fault; the first error sticks.
class Fields {
 public:
  Fields(const Json& obj, std::string what) : obj_(obj), what_(std::move(what)) {}

  uint64_t Uint(const char* name) {
    const Json* v = Get(name);
    if (v == nullptr) return 0;
    if (!v->is_number_unsigned()) return Fail(name, "not a non-negative integer"), 0;
    return v->get<uint64_t>();
  }
  std::string String(const char* name) {
    const Json* v = Get(name);
    if (v == nullptr) return {};
    if (!v->is_string()) return Fail(name, "not a string"), std::string();
    return v->get<std::string>();
  }
  std::vector<uint8_t> HexBytes(const char* name) {
    std::string s = String(name);
    if (!ok()) return {};
    auto b = ParsePrefixedHex(s);
    if (!b) return Fail(name, "not 0x-prefixed hex"), std::vector<uint8_t>();
    return *b;
  }
  Hash Hash32(const char* name) {
    std::vector<uint8_t> b = HexBytes(name);
    Hash h{};
    if (!ok()) return h;
    if (b.size() != 32) return Fail(name, "not 32 bytes"), h;
    std::memcpy(h.data(), b.data(), 32);
    return h;
  }
  Hash PlainHash(const char* name) {
    std::string s = String(name);
    Hash h{};
    if (!ok()) return h;
    auto parsed = HashFromHex(s);
    if (!parsed) return Fail(name, "not 64 hex digits"), h;
    return *parsed;
  }
  EthAddress Address(const char* name) {
    std::string s = String(name);
    EthAddress a{};
    if (!ok()) return a;
    auto parsed = ParseEthAddress(s);
    if (!parsed) return Fail(name, "not an address (0x + 40 hex digits, EIP-55 checksum if mixed case)"), a;
    return *parsed;
  }
  EthTxType TxType(const char* name) {
    std::string s = String(name);
    if (!ok()) return EthTxType::kEip1559;
    if (s == EthTxTypeName(EthTxType::kLegacy)) return EthTxType::kLegacy;
    if (s == EthTxTypeName(EthTxType::kEip1559)) return EthTxType::kEip1559;
    Fail(name, "neither \"legacy\" nor \"eip1559\"");
    return EthTxType::kEip1559;
  }
  const Json* Array(const char* name) {
    const Json* v = Get(name);
    if (v != nullptr && !v->is_array()) return Fail(name, "not an array"), nullptr;
    return v;
  }

  bool ok() const { return !error_; }
  void Fail(std::string_view name, std::string_view why) {
    if (!error_)
      error_ = Err(AnchorErrorCode::kBadReceipt, what_ + ": " + std::string(name) + ": " + std::string(why));
  }
  const AnchorError& error() const { return *error_; }

 private:
  const Json* Get(const char* name) {
    if (error_) return nullptr;
    auto it = obj_.find(name);
    if (it == obj_.end()) return Fail(name, "missing"), nullptr;
    return &*it;
  }

  const Json& obj_;
  std::string what_;
  std::optional<AnchorError> error_;
};

Result<Json, AnchorError> ParseObject(std::string_view text, std::string_view what, std::string_view format) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Err(AnchorErrorCode::kBadReceipt, std::string(what) + ": not a JSON object");
  }
  auto it = j.find("format");
  if (it == j.end() || !it->is_string() || it->get<std::string>() != format) {
    return Err(AnchorErrorCode::kBadReceipt,
               std::string(what) + ": format: expected \"" + std::string(format) + "\"");
  }
  return j;
}

Json AttemptToJson(const AnchorAttempt& a) {
  return {{"tx_hash", PrefixedHex(a.tx_hash)},
          {"raw_tx", PrefixedHex(a.raw)},
          {"gas_price", a.gas_price},
          {"max_fee_per_gas", a.max_fee_per_gas},
          {"max_priority_fee_per_gas", a.max_priority_fee_per_gas}};
}

// ---------------------------------------------------------------- sending

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool Contains(const std::string& lower, std::initializer_list<std::string_view> needles) {
  return std::any_of(needles.begin(), needles.end(),
                     [&](std::string_view n) { return lower.find(n) != std::string::npos; });
}

}  // namespace

// ---------------------------------------------------------------- names

std::string_view AnchorErrorCodeName(AnchorErrorCode code) {
  switch (code) {
    case AnchorErrorCode::kBadCheckpoint:
      return "bad_checkpoint";
    case AnchorErrorCode::kConflict:
      return "conflict";
    case AnchorErrorCode::kBadReceipt:
      return "bad_receipt";
    case AnchorErrorCode::kStorage:
      return "storage";
    case AnchorErrorCode::kUnavailable:
      return "unavailable";
    case AnchorErrorCode::kNodeError:
      return "node_error";
    case AnchorErrorCode::kWrongChain:
      return "wrong_chain";
    case AnchorErrorCode::kWrongKey:
      return "wrong_key";
    case AnchorErrorCode::kRejected:
      return "rejected";
    case AnchorErrorCode::kInsufficientFunds:
      return "insufficient_funds";
    case AnchorErrorCode::kFeeCap:
      return "fee_cap";
  }
  return "unknown";
}

std::string_view VerifyCodeName(VerifyCode code) {
  switch (code) {
    case VerifyCode::kOk:
      return "ok";
    case VerifyCode::kBadReceipt:
      return "bad_receipt";
    case VerifyCode::kCheckpointMismatch:
      return "checkpoint_mismatch";
    case VerifyCode::kWrongSender:
      return "wrong_sender";
    case VerifyCode::kWrongChain:
      return "wrong_chain";
    case VerifyCode::kTxNotFound:
      return "tx_not_found";
    case VerifyCode::kTxPending:
      return "tx_pending";
    case VerifyCode::kWrongBlock:
      return "wrong_block";
    case VerifyCode::kTxFailed:
      return "tx_failed";
    case VerifyCode::kBlockNotCanonical:
      return "block_not_canonical";
    case VerifyCode::kCalldataMismatch:
      return "calldata_mismatch";
    case VerifyCode::kTooFewConfirmations:
      return "too_few_confirmations";
  }
  return "unknown";
}

std::string_view RequestOutcomeName(RequestOutcome o) {
  switch (o) {
    case RequestOutcome::kQueued:
      return "queued";
    case RequestOutcome::kAlreadyQueued:
      return "already_queued";
    case RequestOutcome::kInProgress:
      return "in_progress";
    case RequestOutcome::kAlreadyAnchored:
      return "already_anchored";
    case RequestOutcome::kSuperseded:
      return "superseded";
  }
  return "unknown";
}

std::string_view AnchorPhaseName(AnchorPhase p) {
  switch (p) {
    case AnchorPhase::kIdle:
      return "idle";
    case AnchorPhase::kSent:
      return "sent";
    case AnchorPhase::kRebroadcast:
      return "rebroadcast";
    case AnchorPhase::kReplaced:
      return "replaced";
    case AnchorPhase::kMined:
      return "mined";
    case AnchorPhase::kReorged:
      return "reorged";
    case AnchorPhase::kWaiting:
      return "waiting";
    case AnchorPhase::kRestarted:
      return "restarted";
    case AnchorPhase::kFailed:
      return "failed";
    case AnchorPhase::kConfirmed:
      return "confirmed";
  }
  return "unknown";
}

// ---------------------------------------------------------------- the value

Result<CheckpointSummary, AnchorError> ParseCheckpointForAnchor(std::string_view text) {
  auto bad = [](const std::string& message) {
    return Err(AnchorErrorCode::kBadCheckpoint, "checkpoint: " + message);
  };
  CheckpointSummary out;
  size_t sep = text.find("\n\n");
  if (sep != std::string_view::npos) {
    out.body = std::string(text.substr(0, sep + 1));
  } else if (!text.empty() && text.back() == '\n') {
    out.body = std::string(text);
  } else {
    return bad("does not end with a newline");
  }
  std::vector<std::string_view> lines;
  std::string_view rest = out.body;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return bad("needs an origin, a tree size and a root hash line");
  if (lines[0].empty()) return bad("line 1 (origin) is empty");
  out.origin = std::string(lines[0]);
  std::string_view size = lines[1];
  if (size.empty() || size.size() > 20 || size.find_first_not_of("0123456789") != std::string_view::npos ||
      (size.size() > 1 && size[0] == '0')) {
    return bad("line 2 (tree size) \"" + std::string(size) +
               "\" is not a decimal number without leading zeros");
  }
  uint64_t n = 0;
  for (char c : size) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (n > (std::numeric_limits<uint64_t>::max() - d) / 10) return bad("line 2 (tree size) exceeds 64 bits");
    n = n * 10 + d;
  }
  out.tree_size = n;
  std::string_view root = lines[2];
  size_t pad = root.size() - std::min(root.size(), root.find_last_not_of('=') + 1);
  if (root.empty() || root.size() % 4 != 0 || pad > 2 ||
      root.substr(0, root.size() - pad)
              .find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") !=
          std::string_view::npos) {
    return bad("line 3 (root hash) is not standard base64");
  }
  out.body_sha256 = Sha256(out.body);
  return out;
}

std::vector<uint8_t> AnchorCalldata(uint64_t tree_size, const Hash& body_sha256) {
  std::vector<uint8_t> out(kAnchorMagic.begin(), kAnchorMagic.end());
  uint8_t size[8];
  PutBigEndian64(tree_size, size);
  out.insert(out.end(), size, size + 8);
  out.insert(out.end(), body_sha256.begin(), body_sha256.end());
  return out;
}

// ---------------------------------------------------------------- records

std::string AnchorReceiptToJson(const AnchorReceipt& r) {
  Json j = {{"format", kReceiptFormat},
            {"chain_id", r.chain_id},
            {"tx_hash", PrefixedHex(r.tx_hash)},
            {"block_number", r.block_number},
            {"block_hash", PrefixedHex(r.block_hash)},
            {"confirmations", r.confirmations},
            {"sender", EthAddressHex(r.sender)},
            {"to", EthAddressHex(r.to)},
            {"nonce", r.nonce},
            {"tx_type", EthTxTypeName(r.tx_type)},
            {"calldata", PrefixedHex(r.calldata)},
            {"raw_tx", PrefixedHex(r.raw_tx)},
            {"tree_size", r.tree_size},
            {"checkpoint_body_sha256", HashHex(r.checkpoint_body_sha256)},
            {"checkpoint", r.checkpoint}};
  return j.dump(2) + "\n";
}

Result<AnchorReceipt, AnchorError> ParseAnchorReceipt(std::string_view json) {
  auto j = ParseObject(json, "receipt", kReceiptFormat);
  if (!j.ok()) return j.error();
  Fields f(*j, "receipt");
  AnchorReceipt r;
  r.chain_id = f.Uint("chain_id");
  r.tx_hash = f.Hash32("tx_hash");
  r.block_number = f.Uint("block_number");
  r.block_hash = f.Hash32("block_hash");
  uint64_t confirmations = f.Uint("confirmations");
  if (f.ok() && (confirmations == 0 || confirmations > std::numeric_limits<uint32_t>::max())) {
    f.Fail("confirmations", "must be between 1 and 2^32-1");
  }
  r.confirmations = static_cast<uint32_t>(confirmations);
  r.sender = f.Address("sender");
  r.to = f.Address("to");
  r.nonce = f.Uint("nonce");
  r.tx_type = f.TxType("tx_type");
  r.calldata = f.HexBytes("calldata");
  r.raw_tx = f.HexBytes("raw_tx");
  r.tree_size = f.Uint("tree_size");
  r.checkpoint_body_sha256 = f.PlainHash("checkpoint_body_sha256");
  r.checkpoint = f.String("checkpoint");
  if (!f.ok()) return f.error();
  return r;
}

Result<void, AnchorError> CheckAnchorReceipt(const AnchorReceipt& r) {
  auto bad = [](const std::string& m) { return Err(AnchorErrorCode::kBadReceipt, "receipt: " + m); };
  auto cp = ParseCheckpointForAnchor(r.checkpoint);
  if (!cp.ok()) return bad(cp.error().message);
  if (cp->tree_size != r.tree_size) {
    return bad("tree_size " + std::to_string(r.tree_size) + " is not the checkpoint's (" +
               std::to_string(cp->tree_size) + ")");
  }
  if (cp->body_sha256 != r.checkpoint_body_sha256)
    return bad("checkpoint_body_sha256 is not the checkpoint body's");
  if (r.calldata != AnchorCalldata(r.tree_size, r.checkpoint_body_sha256)) {
    return bad("calldata is not \"TLA1\" || tree_size || checkpoint_body_sha256");
  }
  auto tx = DecodeSignedEthTx(r.raw_tx);
  if (!tx.ok()) return bad("raw_tx: " + tx.error().message);
  if (tx->hash != r.tx_hash) return bad("tx_hash is not Keccak-256(raw_tx)");
  if (tx->from != r.sender) return bad("raw_tx is signed by " + EthAddressHex(tx->from) + ", not by sender");
  if (tx->tx.chain_id != r.chain_id) return bad("raw_tx is for chain " + std::to_string(tx->tx.chain_id));
  if (tx->tx.nonce != r.nonce) return bad("raw_tx has nonce " + std::to_string(tx->tx.nonce));
  if (tx->tx.type != r.tx_type) return bad("raw_tx is of type " + std::string(EthTxTypeName(tx->tx.type)));
  if (tx->tx.to != std::optional<EthAddress>(r.to)) return bad("raw_tx is not sent to `to`");
  if (tx->tx.data != r.calldata) return bad("raw_tx data is not calldata");
  return {};
}

std::string PendingAnchorToJson(const PendingAnchor& p) {
  Json attempts = Json::array();
  for (const auto& a : p.attempts) attempts.push_back(AttemptToJson(a));
  Json j = {{"format", kPendingFormat},
            {"checkpoint", p.checkpoint},
            {"tree_size", p.tree_size},
            {"checkpoint_body_sha256", HashHex(p.body_sha256)},
            {"calldata", PrefixedHex(p.calldata)},
            {"chain_id", p.chain_id},
            {"sender", EthAddressHex(p.sender)},
            {"to", EthAddressHex(p.to)},
            {"nonce", p.nonce},
            {"gas_limit", p.gas_limit},
            {"tx_type", EthTxTypeName(p.type)},
            {"attempts", attempts}};
  return j.dump();
}

Result<PendingAnchor, AnchorError> ParsePendingAnchor(std::string_view json) {
  auto j = ParseObject(json, "pending anchor", kPendingFormat);
  if (!j.ok()) return j.error();
  Fields f(*j, "pending anchor");
  PendingAnchor p;
  p.checkpoint = f.String("checkpoint");
  p.tree_size = f.Uint("tree_size");
  p.body_sha256 = f.PlainHash("checkpoint_body_sha256");
  p.calldata = f.HexBytes("calldata");
  p.chain_id = f.Uint("chain_id");
  p.sender = f.Address("sender");
  p.to = f.Address("to");
  p.nonce = f.Uint("nonce");
  p.gas_limit = f.Uint("gas_limit");
  p.type = f.TxType("tx_type");
  const Json* attempts = f.Array("attempts");
  if (!f.ok()) return f.error();
  for (const Json& a : *attempts) {
    if (!a.is_object()) return Err(AnchorErrorCode::kBadReceipt, "pending anchor: attempts: not an object");
    Fields af(a, "pending anchor attempt");
    AnchorAttempt at;
    at.tx_hash = af.Hash32("tx_hash");
    at.raw = af.HexBytes("raw_tx");
    at.gas_price = af.Uint("gas_price");
    at.max_fee_per_gas = af.Uint("max_fee_per_gas");
    at.max_priority_fee_per_gas = af.Uint("max_priority_fee_per_gas");
    if (!af.ok()) return af.error();
    p.attempts.push_back(std::move(at));
  }
  if (p.attempts.empty()) return Err(AnchorErrorCode::kBadReceipt, "pending anchor: attempts: empty");
  return p;
}

Result<AnchorState, AnchorError> LoadAnchorState(const AnchorStore& store) {
  auto snap = store.Load();
  if (!snap.ok()) return FromStore(snap.error());
  AnchorState state;
  state.queued = snap->queued;
  state.receipt_count = snap->receipt_count;
  if (snap->pending) {
    auto p = ParsePendingAnchor(*snap->pending);
    if (!p.ok()) return Err(AnchorErrorCode::kStorage, "anchor store: " + p.error().message);
    state.pending = std::move(p).value();
  }
  if (snap->last_receipt) {
    auto r = ParseAnchorReceipt(*snap->last_receipt);
    if (!r.ok()) return Err(AnchorErrorCode::kStorage, "anchor store: " + r.error().message);
    state.last_receipt = std::move(r).value();
  }
  return state;
}

Result<std::optional<AnchorReceipt>, AnchorError> LoadAnchorReceipt(const AnchorStore& store, uint64_t seq) {
  auto text = store.Receipt(seq);
  if (!text.ok()) return FromStore(text.error());
  if (!text->has_value()) return std::optional<AnchorReceipt>();
  auto r = ParseAnchorReceipt(**text);
  if (!r.ok()) return Err(AnchorErrorCode::kStorage, "anchor store: " + r.error().message);
  return std::optional<AnchorReceipt>(std::move(r).value());
}

// ---------------------------------------------------------------- verification

Result<VerifyReport, AnchorError> VerifyAnchorReceipt(const AnchorReceipt& r, EthClient& node,
                                                      const VerifyOptions& options) {
  const std::string where = node.transport().Describe();
  auto verdict = [](VerifyCode code, std::string message, uint64_t confirmations = 0) {
    return VerifyReport{code, std::move(message), confirmations};
  };
  // 1. The receipt alone: everything it claims about its own bytes.
  if (auto self = CheckAnchorReceipt(r); !self.ok())
    return verdict(VerifyCode::kBadReceipt, self.error().message);
  if (options.checkpoint) {
    auto cp = ParseCheckpointForAnchor(*options.checkpoint);
    if (!cp.ok()) return Err(AnchorErrorCode::kBadCheckpoint, cp.error().message);
    if (cp->body_sha256 != r.checkpoint_body_sha256) {
      return verdict(VerifyCode::kCheckpointMismatch,
                     "the receipt anchors checkpoint body " + HashHex(r.checkpoint_body_sha256) +
                         " (tree size " + std::to_string(r.tree_size) + "), not the given checkpoint's " +
                         HashHex(cp->body_sha256) + " (tree size " + std::to_string(cp->tree_size) + ")");
    }
  }
  if (options.expected_sender && *options.expected_sender != r.sender) {
    return verdict(VerifyCode::kWrongSender, "the transaction is signed by " + EthAddressChecksum(r.sender) +
                                                 ", not by the expected anchor address " +
                                                 EthAddressChecksum(*options.expected_sender));
  }
  // 2. The chain.
  auto chain_id = node.ChainId();
  if (!chain_id.ok()) return FromRpc(chain_id.error(), where);
  if (*chain_id != r.chain_id) {
    return verdict(VerifyCode::kWrongChain, "the node serves chain " + std::to_string(*chain_id) +
                                                ", the receipt is for chain " + std::to_string(r.chain_id));
  }
  auto rec = node.TransactionReceipt(r.tx_hash);
  if (!rec.ok()) return FromRpc(rec.error(), where);
  if (!rec->has_value()) {
    auto tx = node.TransactionByHash(r.tx_hash);
    if (!tx.ok()) return FromRpc(tx.error(), where);
    if (tx->has_value() && !(*tx)->block_hash) {
      return verdict(VerifyCode::kTxPending,
                     "transaction " + ShortHash(r.tx_hash) + " is known but not mined");
    }
    return verdict(VerifyCode::kTxNotFound, "the node has no mined transaction " + ShortHash(r.tx_hash));
  }
  const EthReceipt& got = **rec;
  if (got.block_number != r.block_number || got.block_hash != r.block_hash) {
    return verdict(VerifyCode::kWrongBlock, "transaction " + ShortHash(r.tx_hash) + " is in block " +
                                                std::to_string(got.block_number) + " (" +
                                                ShortHash(got.block_hash) + "), the receipt says block " +
                                                std::to_string(r.block_number) + " (" +
                                                ShortHash(r.block_hash) + ")");
  }
  if (!got.success) {
    return verdict(VerifyCode::kTxFailed, "transaction " + ShortHash(r.tx_hash) + " failed (status 0)");
  }
  auto block = node.BlockByNumber(r.block_number);
  if (!block.ok()) return FromRpc(block.error(), where);
  if (!block->has_value() || (*block)->hash != r.block_hash) {
    return verdict(VerifyCode::kBlockNotCanonical,
                   "the canonical block " + std::to_string(r.block_number) + " is " +
                       (block->has_value() ? ShortHash((*block)->hash) : std::string("missing")) + ", not " +
                       ShortHash(r.block_hash));
  }
  auto tx = node.TransactionByHash(r.tx_hash);
  if (!tx.ok()) return FromRpc(tx.error(), where);
  if (!tx->has_value()) {
    return verdict(VerifyCode::kTxNotFound,
                   "the node has a receipt but no transaction " + ShortHash(r.tx_hash));
  }
  if ((*tx)->input != r.calldata) {
    return verdict(VerifyCode::kCalldataMismatch, "transaction " + ShortHash(r.tx_hash) + " carries data " +
                                                      PrefixedHex((*tx)->input) +
                                                      ", not the receipt's calldata");
  }
  if ((*tx)->from != r.sender || got.from != r.sender) {
    return verdict(VerifyCode::kWrongSender, "the node says transaction " + ShortHash(r.tx_hash) +
                                                 " is from " + EthAddressChecksum((*tx)->from) + ", not " +
                                                 EthAddressChecksum(r.sender));
  }
  auto head = node.BlockNumber();
  if (!head.ok()) return FromRpc(head.error(), where);
  uint64_t confirmations = *head >= r.block_number ? *head - r.block_number + 1 : 0;
  uint32_t needed = options.min_confirmations != 0 ? options.min_confirmations : r.confirmations;
  if (confirmations < needed) {
    return verdict(VerifyCode::kTooFewConfirmations,
                   "block " + std::to_string(r.block_number) + " has " + std::to_string(confirmations) +
                       " confirmation(s), " + std::to_string(needed) + " required",
                   confirmations);
  }
  return verdict(VerifyCode::kOk,
                 "checkpoint of tree size " + std::to_string(r.tree_size) + " anchored by " +
                     EthAddressChecksum(r.sender) + " in transaction " + ShortHash(r.tx_hash) + ", block " +
                     std::to_string(r.block_number) + " (" + ShortHash(r.block_hash) + ") of chain " +
                     std::to_string(r.chain_id) + ", " + std::to_string(confirmations) + " confirmation(s)",
                 confirmations);
}

// ---------------------------------------------------------------- Anchorer

Anchorer::Anchorer(AnchorStore& store, EthClient& node, wallet::SecretKey key, AnchorConfig config)
    : store_(store), node_(node), key_(std::move(key)), config_(config), sender_(EthAddressOf(key_)) {}

Result<std::unique_ptr<Anchorer>, AnchorError> Anchorer::Open(AnchorStore& store, EthClient& node,
                                                              wallet::SecretKey key, AnchorConfig config) {
  if (config.chain_id == 0) return Err(AnchorErrorCode::kWrongChain, "anchor: a chain id is required");
  if (config.confirmations == 0) config.confirmations = 1;
  auto state = LoadAnchorState(store);
  if (!state.ok()) return state.error();
  std::unique_ptr<Anchorer> a(new Anchorer(store, node, std::move(key), config));
  if (state->pending) {
    if (state->pending->sender != a->sender_) {
      return Err(AnchorErrorCode::kWrongKey, "anchor: the pending anchor (nonce " +
                                                 std::to_string(state->pending->nonce) + ") was sent by " +
                                                 EthAddressChecksum(state->pending->sender) +
                                                 ", this key is " + EthAddressChecksum(a->sender_));
    }
    if (state->pending->chain_id != config.chain_id) {
      return Err(AnchorErrorCode::kWrongChain, "anchor: the pending anchor is on chain " +
                                                   std::to_string(state->pending->chain_id) + ", not " +
                                                   std::to_string(config.chain_id));
    }
  }
  a->queued_ = std::move(state->queued);
  a->pending_ = std::move(state->pending);
  a->receipt_count_ = state->receipt_count;
  a->last_receipt_ = std::move(state->last_receipt);
  return a;
}

AnchorState Anchorer::State() const {
  std::lock_guard lock(mu_);
  return AnchorState{queued_, pending_, receipt_count_, last_receipt_};
}

Result<void, AnchorError> Anchorer::Persist(const AnchorStoreUpdate& update) {
  // REQUIRES: mu_ held.
  if (broken_) return Err(AnchorErrorCode::kStorage, "anchor store: an earlier write failed; reopen");
  auto r = store_.Commit(update);
  if (!r.ok()) {
    broken_ = true;
    return FromStore(r.error());
  }
  return {};
}

Result<RequestOutcome, AnchorError> Anchorer::Request(std::string_view checkpoint) {
  auto cp = ParseCheckpointForAnchor(checkpoint);
  if (!cp.ok()) return cp.error();
  std::lock_guard lock(mu_);
  // Compare with what is anchored, pending and queued, largest tree first
  // wins: anchoring a checkpoint commits to every earlier tree state too.
  struct Known {
    const char* what;
    uint64_t size;
    Hash body;
  };
  std::vector<Known> known;
  if (last_receipt_)
    known.push_back({"anchored", last_receipt_->tree_size, last_receipt_->checkpoint_body_sha256});
  if (pending_) known.push_back({"being anchored", pending_->tree_size, pending_->body_sha256});
  std::optional<CheckpointSummary> queued;
  if (queued_) {
    auto q = ParseCheckpointForAnchor(*queued_);
    if (q.ok()) {
      queued = *q;
      known.push_back({"queued", q->tree_size, q->body_sha256});
    }
  }
  for (const Known& k : known) {
    if (k.size == cp->tree_size && k.body != cp->body_sha256) {
      return Err(AnchorErrorCode::kConflict, "checkpoint: another checkpoint of tree size " +
                                                 std::to_string(cp->tree_size) + " is already " + k.what +
                                                 " (body " + HashHex(k.body) +
                                                 "); two different trees of one size "
                                                 "mean a forked log");
    }
  }
  if (last_receipt_ && last_receipt_->checkpoint_body_sha256 == cp->body_sha256)
    return RequestOutcome::kAlreadyAnchored;
  if (pending_ && pending_->body_sha256 == cp->body_sha256) return RequestOutcome::kInProgress;
  if (queued && queued->body_sha256 == cp->body_sha256) return RequestOutcome::kAlreadyQueued;
  for (const Known& k : known) {
    if (k.size > cp->tree_size) return RequestOutcome::kSuperseded;
  }
  auto persisted = Persist(AnchorStoreUpdate{.queued = AnchorValueChange::Set(std::string(checkpoint))});
  if (!persisted.ok()) return persisted.error();
  queued_ = std::string(checkpoint);
  return RequestOutcome::kQueued;
}

Result<StepReport, AnchorError> Anchorer::Step() {
  std::lock_guard step_lock(step_mu_);
  {
    std::lock_guard lock(mu_);
    if (broken_) return Err(AnchorErrorCode::kStorage, "anchor store: an earlier write failed; reopen");
  }
  return StepImpl();
}

Result<StepReport, AnchorError> Anchorer::StepImpl() {
  const std::string where = node_.transport().Describe();
  std::optional<PendingAnchor> pending;
  std::optional<std::string> queued;
  {
    std::lock_guard lock(mu_);
    pending = pending_;
    queued = queued_;
  }
  if (!pending && !queued) return StepReport{AnchorPhase::kIdle, "nothing to anchor"};
  // Every step first checks that the node still serves the configured
  // chain: an RPC URL pointed elsewhere (or a node restarted on another
  // chain) must not receive our transactions.
  auto chain_id = node_.ChainId();
  if (!chain_id.ok()) return FromRpc(chain_id.error(), where);
  if (*chain_id != config_.chain_id) {
    return Err(AnchorErrorCode::kWrongChain, where + " serves chain " + std::to_string(*chain_id) +
                                                 ", the anchor is configured for chain " +
                                                 std::to_string(config_.chain_id));
  }
  if (pending) return Advance(*pending);
  return Start(*queued);
}

Result<Anchorer::Fees, AnchorError> Anchorer::MarketFees(EthTxType type) {
  const std::string where = node_.transport().Describe();
  Fees fees;
  // The base fee the next block will charge: the "pending" block's where
  // the node gives one, else the latest block's.
  auto pending = node_.BlockByTag(kPending);
  if (!pending.ok() && pending.error().code == RpcErrorCode::kUnavailable)
    return FromRpc(pending.error(), where);
  if (pending.ok() && pending->has_value()) {
    fees.base_fee = (*pending)->base_fee_per_gas;
  } else {
    auto latest = node_.BlockByTag(kLatest);
    if (!latest.ok()) return FromRpc(latest.error(), where);
    if (latest->has_value()) fees.base_fee = (*latest)->base_fee_per_gas;
  }
  if (type == EthTxType::kEip1559) {
    if (!fees.base_fee) {
      return Err(AnchorErrorCode::kNodeError,
                 where + ": blocks have no base fee (no EIP-1559); use legacy transactions");
    }
    auto tip = node_.MaxPriorityFeePerGas();
    if (tip.ok()) {
      fees.priority_fee = *tip;
    } else if (tip.error().code == RpcErrorCode::kRemote) {
      fees.priority_fee = config_.fallback_priority_fee;  // method not supported
    } else {
      return FromRpc(tip.error(), where);
    }
  } else {
    auto price = node_.GasPrice();
    if (!price.ok()) return FromRpc(price.error(), where);
    fees.gas_price = *price;
  }
  return fees;
}

AnchorAttempt Anchorer::SignAttempt(const PendingAnchor& p, uint64_t gas_price, uint64_t max_fee,
                                    uint64_t priority) const {
  EthTx tx;
  tx.type = p.type;
  tx.chain_id = p.chain_id;
  tx.nonce = p.nonce;
  tx.gas_price = gas_price;
  tx.max_fee_per_gas = max_fee;
  tx.max_priority_fee_per_gas = priority;
  tx.gas_limit = p.gas_limit;
  tx.to = p.to;
  tx.value = 0;
  tx.data = p.calldata;
  SignedEthTx signed_tx = SignEthTx(tx, key_);
  return AnchorAttempt{.tx_hash = signed_tx.hash,
                       .raw = std::move(signed_tx.raw),
                       .gas_price = gas_price,
                       .max_fee_per_gas = max_fee,
                       .max_priority_fee_per_gas = priority};
}

Result<StepReport, AnchorError> Anchorer::Start(const std::string& checkpoint) {
  const std::string where = node_.transport().Describe();
  auto cp = ParseCheckpointForAnchor(checkpoint);
  if (!cp.ok()) return cp.error();  // Request validated it; only a damaged store gets here
  PendingAnchor p;
  p.checkpoint = checkpoint;
  p.tree_size = cp->tree_size;
  p.body_sha256 = cp->body_sha256;
  p.calldata = AnchorCalldata(cp->tree_size, cp->body_sha256);
  p.chain_id = config_.chain_id;
  p.sender = sender_;
  p.to = config_.to.value_or(sender_);
  // The next nonce, counting our own transactions still in the pool.
  auto nonce = node_.TransactionCount(sender_, kPending);
  if (!nonce.ok()) return FromRpc(nonce.error(), where);
  p.nonce = *nonce;
  if (config_.tx_type == TxTypeChoice::kAuto) {
    auto latest = node_.BlockByTag(kLatest);
    if (!latest.ok()) return FromRpc(latest.error(), where);
    bool has_base_fee = latest->has_value() && (*latest)->base_fee_per_gas.has_value();
    p.type = has_base_fee ? EthTxType::kEip1559 : EthTxType::kLegacy;
  } else {
    p.type = config_.tx_type == TxTypeChoice::kLegacy ? EthTxType::kLegacy : EthTxType::kEip1559;
  }
  if (config_.gas_limit) {
    p.gas_limit = *config_.gas_limit;
  } else {
    auto gas = node_.EstimateGas(sender_, p.to, p.calldata);
    if (!gas.ok()) {
      if (gas.error().code == RpcErrorCode::kRemote &&
          Contains(Lower(gas.error().message), {"insufficient funds"})) {
        return Err(AnchorErrorCode::kInsufficientFunds,
                   "anchor: " + EthAddressChecksum(sender_) + " cannot pay for gas: " + gas.error().message);
      }
      if (gas.error().code == RpcErrorCode::kRemote) {
        // The node says the transaction would fail: retrying will not help.
        return Err(AnchorErrorCode::kRejected,
                   where + " cannot estimate gas (would the transaction fail?): " + gas.error().message);
      }
      return FromRpc(gas.error(), where);
    }
    p.gas_limit = *gas;
  }
  auto fees = MarketFees(p.type);
  if (!fees.ok()) return fees.error();
  const uint64_t cap = config_.max_fee_per_gas;
  AnchorAttempt attempt;
  if (p.type == EthTxType::kEip1559) {
    // 2 x base fee + tip: stays includable through six full blocks of
    // base-fee growth (12.5% each); unused fee is never charged.
    uint64_t max_fee = std::min(SatAdd(SatAdd(*fees->base_fee, *fees->base_fee), fees->priority_fee), cap);
    if (max_fee < *fees->base_fee) {
      return Err(AnchorErrorCode::kFeeCap, "anchor: base fee " + Gwei(*fees->base_fee) +
                                               " is above the cap " + Gwei(cap) + "; waiting");
    }
    attempt = SignAttempt(p, 0, max_fee, std::min(fees->priority_fee, max_fee));
  } else {
    if (fees->gas_price > cap) {
      return Err(AnchorErrorCode::kFeeCap, "anchor: gas price " + Gwei(fees->gas_price) +
                                               " is above the cap " + Gwei(cap) + "; waiting");
    }
    attempt = SignAttempt(p, fees->gas_price, 0, 0);
  }
  p.attempts.push_back(std::move(attempt));
  {
    // Persist before sending: from here on, a crash or a lost answer
    // leads to the same transaction being looked for and rebroadcast,
    // never to a second one with another nonce. The queued checkpoint is
    // consumed in the same write (unless Request replaced it meanwhile).
    std::lock_guard lock(mu_);
    AnchorStoreUpdate update{.pending = AnchorValueChange::Set(PendingAnchorToJson(p))};
    bool consume = queued_ == checkpoint;
    if (consume) update.queued = AnchorValueChange::Delete();
    auto persisted = Persist(update);
    if (!persisted.ok()) return persisted.error();
    pending_ = p;
    if (consume) queued_.reset();
  }
  nonce_taken_seen_ = 0;
  return Broadcast(p, AnchorPhase::kSent, /*may_replace=*/true);
}

Result<StepReport, AnchorError> Anchorer::Broadcast(const PendingAnchor& p, AnchorPhase phase,
                                                    bool may_replace) {
  const std::string where = node_.transport().Describe();
  const AnchorAttempt& a = p.attempts.back();
  std::string what = "transaction " + ShortHash(a.tx_hash) + " (nonce " + std::to_string(p.nonce) +
                     ", tree size " + std::to_string(p.tree_size) + ")";
  auto sent = node_.SendRawTransaction(a.raw);
  if (sent.ok()) {
    if (*sent != a.tx_hash) {
      return Err(AnchorErrorCode::kNodeError, where + " reports hash " + ShortHash(*sent) + " for " + what);
    }
    const char* how = phase == AnchorPhase::kRebroadcast ? " sent again (the node had lost it)"
                      : phase == AnchorPhase::kReplaced  ? " sent with higher fees"
                                                         : " sent";
    return StepReport{phase, what + how};
  }
  if (sent.error().code != RpcErrorCode::kRemote) return FromRpc(sent.error(), where);
  // The node refused. Clients word these differently (geth, Besu,
  // Nethermind, Anvil), so match the phrases all of them use.
  std::string msg = sent.error().message;
  std::string lower = Lower(msg);
  if (Contains(lower,
               {"already known", "already imported", "known transaction", "alreadyknown", "already in"})) {
    return StepReport{phase, what + ": the node already has it"};
  }
  if (Contains(lower, {"nonce too low", "nonce is too low", "oldnonce", "nonce has already been used"})) {
    return StepReport{AnchorPhase::kWaiting,
                      what + ": the node says the nonce is used; looking for receipts"};
  }
  if (Contains(lower, {"underpriced", "fee too low", "less than block base fee", "max fee per gas less than",
                       "gas price too low", "feetoolow", "gas price below"})) {
    if (may_replace) return Replace(p, "the node refused " + what + ": " + msg);
    return StepReport{AnchorPhase::kWaiting,
                      "the node refused " + what + ": " + msg + "; bumping again next step"};
  }
  if (Contains(lower, {"insufficient funds"})) {
    return Err(AnchorErrorCode::kInsufficientFunds,
               "anchor: " + EthAddressChecksum(sender_) + " cannot pay for " + what + ": " + msg);
  }
  return Err(AnchorErrorCode::kRejected, where + " refused " + what + ": " + msg);
}

Result<StepReport, AnchorError> Anchorer::Replace(const PendingAnchor& p, const std::string& why) {
  auto fees = MarketFees(p.type);
  if (!fees.ok()) return fees.error();
  const AnchorAttempt& last = p.attempts.back();
  const uint64_t cap = config_.max_fee_per_gas;
  AnchorAttempt attempt;
  if (p.type == EthTxType::kEip1559) {
    uint64_t base = fees->base_fee.value_or(0);
    uint64_t tip = std::max(fees->priority_fee, Bump(last.max_priority_fee_per_gas));
    uint64_t max_fee = std::max(SatAdd(SatAdd(base, base), tip), Bump(last.max_fee_per_gas));
    if (max_fee > cap) {
      return Err(AnchorErrorCode::kFeeCap, "anchor: replacing needs a max fee of " + Gwei(max_fee) +
                                               ", above the cap " + Gwei(cap) + " (" + why + "); waiting");
    }
    attempt = SignAttempt(p, 0, max_fee, std::min(tip, max_fee));
  } else {
    uint64_t price = std::max({fees->gas_price, fees->base_fee.value_or(0), Bump(last.gas_price)});
    if (price > cap) {
      return Err(AnchorErrorCode::kFeeCap, "anchor: replacing needs a gas price of " + Gwei(price) +
                                               ", above the cap " + Gwei(cap) + " (" + why + "); waiting");
    }
    attempt = SignAttempt(p, price, 0, 0);
  }
  PendingAnchor next = p;
  next.attempts.push_back(std::move(attempt));
  {
    // The new attempt is on disk before it is sent; every attempt stays
    // listed, since any of them may still be the one that gets mined.
    std::lock_guard lock(mu_);
    auto persisted = Persist(AnchorStoreUpdate{.pending = AnchorValueChange::Set(PendingAnchorToJson(next))});
    if (!persisted.ok()) return persisted.error();
    pending_ = next;
  }
  return Broadcast(next, AnchorPhase::kReplaced, /*may_replace=*/false);
}

Result<StepReport, AnchorError> Anchorer::Confirm(const PendingAnchor& p, const AnchorAttempt& attempt,
                                                  const EthReceipt& rec) {
  AnchorReceipt r;
  r.chain_id = p.chain_id;
  r.tx_hash = attempt.tx_hash;
  r.block_number = rec.block_number;
  r.block_hash = rec.block_hash;
  r.confirmations = config_.confirmations;
  r.sender = p.sender;
  r.to = p.to;
  r.nonce = p.nonce;
  r.tx_type = p.type;
  r.calldata = p.calldata;
  r.raw_tx = attempt.raw;
  r.tree_size = p.tree_size;
  r.checkpoint_body_sha256 = p.body_sha256;
  r.checkpoint = p.checkpoint;
  {
    // One write: the receipt appears exactly when the pending anchor goes.
    std::lock_guard lock(mu_);
    auto persisted = Persist(
        AnchorStoreUpdate{.pending = AnchorValueChange::Delete(), .append_receipt = AnchorReceiptToJson(r)});
    if (!persisted.ok()) return persisted.error();
    pending_.reset();
    last_receipt_ = r;
    ++receipt_count_;
  }
  StepReport report{AnchorPhase::kConfirmed, "confirmed transaction " + ShortHash(r.tx_hash) + " in block " +
                                                 std::to_string(r.block_number) + " (" +
                                                 std::to_string(config_.confirmations) +
                                                 " confirmations), tree size " + std::to_string(r.tree_size)};
  report.confirmations = config_.confirmations;
  report.receipt = std::move(r);
  return report;
}

Result<StepReport, AnchorError> Anchorer::GiveUpNonce(const PendingAnchor& p, AnchorPhase phase,
                                                      const std::string& why) {
  // The nonce is consumed without an anchor: drop the pending anchor, in
  // the same write as queueing its checkpoint again (kRestarted: a foreign
  // transaction took the nonce; unless a newer checkpoint is queued, which
  // covers it). A failed transaction (kFailed) is not retried: it would
  // most likely fail again, paying gas each time.
  std::lock_guard lock(mu_);
  AnchorStoreUpdate update{.pending = AnchorValueChange::Delete()};
  bool requeue = phase == AnchorPhase::kRestarted && !queued_.has_value();
  if (requeue) update.queued = AnchorValueChange::Set(p.checkpoint);
  auto persisted = Persist(update);
  if (!persisted.ok()) return persisted.error();
  pending_.reset();
  if (requeue) queued_ = p.checkpoint;
  nonce_taken_seen_ = 0;
  return StepReport{phase,
                    why + (phase == AnchorPhase::kRestarted ? "; the checkpoint is queued again"
                                                            : "; not retried: request it again once fixed")};
}

Result<StepReport, AnchorError> Anchorer::Advance(const PendingAnchor& p) {
  const std::string where = node_.transport().Describe();
  // The confirmed nonce count is read before the receipts: if it shows the
  // nonce used and no receipt names one of our attempts afterwards, the
  // transaction that used it was not ours (or a reorg is under way, hence
  // the repeated observation before giving the nonce up).
  auto used = node_.TransactionCount(p.sender, kLatest);
  if (!used.ok()) return FromRpc(used.error(), where);
  for (auto it = p.attempts.rbegin(); it != p.attempts.rend(); ++it) {
    auto rec = node_.TransactionReceipt(it->tx_hash);
    if (!rec.ok()) return FromRpc(rec.error(), where);
    if (!rec->has_value()) continue;
    nonce_taken_seen_ = 0;
    const EthReceipt& got = **rec;
    if (!got.success) {
      return GiveUpNonce(p, AnchorPhase::kFailed,
                         "transaction " + ShortHash(it->tx_hash) + " failed (status 0) in block " +
                             std::to_string(got.block_number) +
                             " (does --to revert? is the gas limit too low?)");
    }
    auto block = node_.BlockByNumber(got.block_number);
    if (!block.ok()) return FromRpc(block.error(), where);
    if (!block->has_value() || (*block)->hash != got.block_hash) {
      return StepReport{AnchorPhase::kReorged, "block " + std::to_string(got.block_number) + " (" +
                                                   ShortHash(got.block_hash) + ") of transaction " +
                                                   ShortHash(it->tx_hash) +
                                                   " is no longer canonical; waiting"};
    }
    auto head = node_.BlockNumber();
    if (!head.ok()) return FromRpc(head.error(), where);
    uint64_t confirmations = *head >= got.block_number ? *head - got.block_number + 1 : 0;
    if (confirmations >= config_.confirmations) return Confirm(p, *it, got);
    StepReport report{AnchorPhase::kMined, "transaction " + ShortHash(it->tx_hash) + " is in block " +
                                               std::to_string(got.block_number) + ", " +
                                               std::to_string(confirmations) + " of " +
                                               std::to_string(config_.confirmations) + " confirmations"};
    report.confirmations = confirmations;
    return report;
  }
  if (*used > p.nonce) {
    if (++nonce_taken_seen_ < config_.nonce_taken_polls) {
      return StepReport{
          AnchorPhase::kWaiting,
          "nonce " + std::to_string(p.nonce) + " is used but no receipt for our transactions is visible yet"};
    }
    return GiveUpNonce(p, AnchorPhase::kRestarted,
                       "nonce " + std::to_string(p.nonce) +
                           " was used by a transaction that is not one of ours (" +
                           std::to_string(p.attempts.size()) + " attempt(s)); is the key used elsewhere?");
  }
  nonce_taken_seen_ = 0;
  const AnchorAttempt& last = p.attempts.back();
  auto fees = MarketFees(p.type);
  if (!fees.ok()) return fees.error();
  if (p.type == EthTxType::kEip1559 && fees->base_fee && last.max_fee_per_gas < *fees->base_fee) {
    return Replace(
        p, "max fee " + Gwei(last.max_fee_per_gas) + " is below the base fee " + Gwei(*fees->base_fee));
  }
  if (p.type == EthTxType::kLegacy) {
    uint64_t floor = fees->base_fee.value_or(fees->gas_price);
    if (last.gas_price < floor) {
      return Replace(p, "gas price " + Gwei(last.gas_price) + " is below the market's " + Gwei(floor));
    }
  }
  auto known = node_.TransactionByHash(last.tx_hash);
  if (!known.ok()) return FromRpc(known.error(), where);
  if (known->has_value()) {
    return StepReport{AnchorPhase::kSent, "transaction " + ShortHash(last.tx_hash) + " (nonce " +
                                              std::to_string(p.nonce) + ") is waiting to be mined"};
  }
  // Not mined, not in the pool: dropped, evicted, or the node restarted.
  // Send the same bytes again (same hash: no second anchor is possible).
  return Broadcast(p, AnchorPhase::kRebroadcast, /*may_replace=*/true);
}

// ---------------------------------------------------------------- AnchorService

AnchorService::AnchorService(Anchorer& anchorer, AnchorServiceOptions options)
    : anchorer_(anchorer), options_(std::move(options)) {}

AnchorService::~AnchorService() { Stop(); }

void AnchorService::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void AnchorService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<RequestOutcome, AnchorError> AnchorService::Request(std::string_view checkpoint) {
  auto r = anchorer_.Request(checkpoint);
  if (r.ok() && *r == RequestOutcome::kQueued) {
    {
      std::lock_guard lock(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  }
  return r;
}

void AnchorService::Run() {
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds backoff{0};
  Clock::time_point next_request = Clock::now();
  for (;;) {
    if (options_.latest_checkpoint && Clock::now() >= next_request) {
      if (auto cp = options_.latest_checkpoint()) (void)anchorer_.Request(*cp);
      next_request = Clock::now() + options_.request_interval;
    }
    Result<StepReport, AnchorError> r = anchorer_.Step();
    if (options_.on_step) options_.on_step(r);
    std::chrono::milliseconds delay = options_.poll_interval;
    if (!r.ok()) {
      if (r.error().code == AnchorErrorCode::kStorage) return;  // needs a reopen; nothing to retry
      backoff = backoff.count() == 0 ? options_.poll_interval : std::min(backoff * 2, options_.max_backoff);
      delay = backoff;
    } else {
      backoff = std::chrono::milliseconds{0};
      // After progress that may have unblocked more work, step again at once.
      if (r->phase == AnchorPhase::kConfirmed || r->phase == AnchorPhase::kRestarted)
        delay = std::chrono::milliseconds{0};
    }
    if (options_.latest_checkpoint) {
      auto until_request = std::chrono::duration_cast<std::chrono::milliseconds>(next_request - Clock::now());
      delay = std::max(std::chrono::milliseconds{0}, std::min(delay, until_request));
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, delay, [&] { return stop_ || wake_; });
    wake_ = false;
    if (stop_) return;
  }
}

}  // namespace traceledger::chain
