// Anchoring: committing checkpoints to an EVM chain, and checking such
// commitments afterwards.
//
// What is anchored (FORMAT.md §12.1): the SHA-256 of a checkpoint's body (the
// signed-note text before the blank line that starts the signatures), with
// the tree size, in the calldata of a transaction signed locally by the
// anchoring key and sent through any Ethereum JSON-RPC node. The node needs
// no key and is not trusted: it can delay or refuse, never forge.
//
// Anchorer is the state machine (ARCHITECTURE.md §13.2). It persists every
// decision in an AnchorStore before acting on it, so that a crash, a node
// restart, a dropped or replaced transaction, a fee change or a shallow
// reorganisation never leads to two anchors of one checkpoint, nor to two
// transactions with different nonces in flight:
//
//   Request(checkpoint) ── queued ──► Step: nonce (pending count), fees,
//   gas; sign; persist "pending {nonce, attempts:[raw tx, fees]}"; send
//        │
//        ▼  every later Step, until confirmed:
//   a receipt for any attempt? ── canonical and N deep ──► persist receipt,
//        │                        clear pending (one write) ──► next queued
//        │ no
//   nonce used by someone else (twice in a row)? ──► give the nonce up,
//        │                                           queue the checkpoint again
//        │ no
//   fee below the current base fee? ──► same nonce, bumped fees: persist the
//        │                               new attempt, then send it
//   in the node's pool? ──► wait;  else rebroadcast the last attempt
//
// Anchorer does its network I/O in Step(), which the caller drives: a test
// or the CLI calls it in a loop; AnchorService calls it on its own thread
// with back-off, so ingestion never waits for a chain.
#ifndef TRACELEDGER_CHAIN_ANCHOR_H_
#define TRACELEDGER_CHAIN_ANCHOR_H_

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "chain/anchor_store.h"
#include "chain/eth_rpc.h"
#include "chain/eth_tx.h"
#include "chain/hash.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::chain {

enum class AnchorErrorCode {
  kBadCheckpoint,      // Request: the text is not a checkpoint (field named)
  kConflict,           // Request: a different checkpoint of the same tree size is anchored, pending or queued
  kBadReceipt,         // a receipt file that does not parse or does not agree with itself
  kStorage,            // the anchor store failed; the anchorer stops until reopened
  kUnavailable,        // the node did not answer; retry later
  kNodeError,          // the node answered something malformed or an unexpected error
  kWrongChain,         // the node's chain id is not the configured one
  kWrongKey,           // the pending anchor was sent by another key
  kRejected,           // the node refused the transaction for a reason retrying will not fix
  kInsufficientFunds,  // the sender cannot pay for gas: fund it
  kFeeCap,             // the fee the chain needs is above the configured cap: waiting
};

std::string_view AnchorErrorCodeName(AnchorErrorCode code);  // "bad_checkpoint", ...

struct AnchorError {
  AnchorErrorCode code;
  std::string message;
};

// ------------------------------------------------------------- the value

// The part of a checkpoint anchoring uses. `body` is the note text before
// the signatures: everything up to and including the first "\n" that is
// followed by "\n" (or the whole text when it has no signatures).
struct CheckpointSummary {
  std::string origin;
  uint64_t tree_size = 0;
  std::string body;
  Hash body_sha256{};
};

// Checks the C2SP checkpoint shape of the body: an origin line, a decimal
// tree size without leading zeros, a base64 line (of a 32-byte root), then
// optional extension lines, each ending in "\n". Signatures are not checked
// (that is the verifier's job with the operator's and witnesses' keys).
[[nodiscard]] Result<CheckpointSummary, AnchorError> ParseCheckpointForAnchor(std::string_view text);

// Calldata: "TLA1" (54 4c 41 31) || tree size (8 bytes, big-endian) ||
// SHA-256(body) (32 bytes): 44 bytes.
inline constexpr std::array<uint8_t, 4> kAnchorMagic = {'T', 'L', 'A', '1'};
inline constexpr size_t kAnchorCalldataSize = 44;
std::vector<uint8_t> AnchorCalldata(uint64_t tree_size, const Hash& body_sha256);

// ------------------------------------------------------------- records

// One signed transaction for the pending anchor's nonce. Replacements add
// attempts; any of them may be the one that is mined.
struct AnchorAttempt {
  Hash tx_hash{};
  std::vector<uint8_t> raw;
  uint64_t gas_price = 0;                 // legacy
  uint64_t max_fee_per_gas = 0;           // EIP-1559
  uint64_t max_priority_fee_per_gas = 0;  // EIP-1559

  friend bool operator==(const AnchorAttempt&, const AnchorAttempt&) = default;
};

struct PendingAnchor {
  std::string checkpoint;
  uint64_t tree_size = 0;
  Hash body_sha256{};
  std::vector<uint8_t> calldata;
  uint64_t chain_id = 0;
  EthAddress sender{};
  EthAddress to{};
  uint64_t nonce = 0;
  uint64_t gas_limit = 0;
  EthTxType type = EthTxType::kEip1559;
  std::vector<AnchorAttempt> attempts;  // oldest first; never empty

  friend bool operator==(const PendingAnchor&, const PendingAnchor&) = default;
};

// The receipt file (FORMAT.md §12.3): everything needed to check the anchor
// against any node, without the anchor store.
struct AnchorReceipt {
  uint64_t chain_id = 0;
  Hash tx_hash{};
  uint64_t block_number = 0;
  Hash block_hash{};
  uint32_t confirmations = 0;  // the depth the anchorer waited for
  EthAddress sender{};
  EthAddress to{};
  uint64_t nonce = 0;
  EthTxType tx_type = EthTxType::kEip1559;
  std::vector<uint8_t> calldata;
  std::vector<uint8_t> raw_tx;
  uint64_t tree_size = 0;
  Hash checkpoint_body_sha256{};
  std::string checkpoint;

  friend bool operator==(const AnchorReceipt&, const AnchorReceipt&) = default;
};

// JSON object with sorted keys, 2-space indented, ending in "\n".
std::string AnchorReceiptToJson(const AnchorReceipt& r);
// kBadReceipt naming the field when a member is missing, of the wrong type
// or badly encoded, or the "format" is not ours.
[[nodiscard]] Result<AnchorReceipt, AnchorError> ParseAnchorReceipt(std::string_view json);
// Checks a receipt against itself, without a node: the checkpoint parses
// and gives tree_size and checkpoint_body_sha256; calldata is theirs; raw_tx
// decodes, hashes to tx_hash, is signed by sender, and carries chain_id,
// nonce, to, tx_type and calldata. kBadReceipt naming the first mismatch.
[[nodiscard]] Result<void, AnchorError> CheckAnchorReceipt(const AnchorReceipt& r);

std::string PendingAnchorToJson(const PendingAnchor& p);
[[nodiscard]] Result<PendingAnchor, AnchorError> ParsePendingAnchor(std::string_view json);

// What the anchor store holds, decoded.
struct AnchorState {
  std::optional<std::string> queued;
  std::optional<PendingAnchor> pending;
  uint64_t receipt_count = 0;
  std::optional<AnchorReceipt> last_receipt;
};
[[nodiscard]] Result<AnchorState, AnchorError> LoadAnchorState(const AnchorStore& store);
[[nodiscard]] Result<std::optional<AnchorReceipt>, AnchorError> LoadAnchorReceipt(const AnchorStore& store,
                                                                                  uint64_t seq);

// ------------------------------------------------------------- verification

enum class VerifyCode {
  kOk,
  kBadReceipt,           // the receipt disagrees with itself (CheckAnchorReceipt)
  kCheckpointMismatch,   // the receipt anchors another checkpoint than the one given
  kWrongSender,          // signed by another address than the expected one
  kWrongChain,           // the node serves another chain
  kTxNotFound,           // the node does not know the transaction
  kTxPending,            // known but not mined
  kWrongBlock,           // mined in another block than the receipt says (a reorganisation)
  kTxFailed,             // mined with status 0
  kBlockNotCanonical,    // the canonical block at that height has another hash
  kCalldataMismatch,     // the node's transaction carries other data
  kTooFewConfirmations,  // fewer blocks on top than required
};

std::string_view VerifyCodeName(VerifyCode code);  // "ok", "bad_receipt", ...

struct VerifyOptions {
  uint32_t min_confirmations = 0;  // 0: the receipt's own `confirmations`
  std::optional<EthAddress> expected_sender;
  std::optional<std::string> checkpoint;  // must have the receipt's body
};

struct VerifyReport {
  VerifyCode code = VerifyCode::kOk;
  std::string message;         // says precisely what failed, or what was verified
  uint64_t confirmations = 0;  // when the block was found
};

// Checks a receipt against the chain `node` serves. The error is only for a
// node that could not be asked (kUnavailable) or answered nonsense
// (kNodeError); every verdict, good or bad, is a VerifyReport.
[[nodiscard]] Result<VerifyReport, AnchorError> VerifyAnchorReceipt(const AnchorReceipt& receipt,
                                                                    EthClient& node,
                                                                    const VerifyOptions& options = {});

// ------------------------------------------------------------- the anchorer

enum class TxTypeChoice { kAuto, kEip1559, kLegacy };  // kAuto: EIP-1559 if blocks have a base fee

struct AnchorConfig {
  uint64_t chain_id = 0;         // required: the node must report this chain id
  uint32_t confirmations = 6;    // blocks on top of (and including) the anchor's block; >= 1
  std::optional<EthAddress> to;  // default: the sender itself (a 0-value self-transfer)
  TxTypeChoice tx_type = TxTypeChoice::kAuto;
  std::optional<uint64_t> gas_limit;               // default: eth_estimateGas
  uint64_t max_fee_per_gas = 500'000'000'000;      // cap (wei per gas, 500 gwei); also caps legacy gas price
  uint64_t fallback_priority_fee = 1'000'000'000;  // when eth_maxPriorityFeePerGas is not supported
  // Polls in a row that must see the nonce used, with no receipt for any of
  // our attempts, before the nonce is given up as taken by a foreign
  // transaction (more than one: a receipt may lag the nonce by a poll).
  int nonce_taken_polls = 2;
};

enum class RequestOutcome {
  kQueued,  // will be anchored (replaces an older queued checkpoint)
  kAlreadyQueued,
  kInProgress,       // this checkpoint is the pending anchor
  kAlreadyAnchored,  // the last receipt is for this checkpoint
  kSuperseded,       // a larger tree is already anchored, pending or queued: ignored
};

std::string_view RequestOutcomeName(RequestOutcome o);

enum class AnchorPhase {
  kIdle,         // nothing queued or pending
  kSent,         // a transaction is in the node's pool, waiting to be mined
  kRebroadcast,  // the node had lost it (dropped, restarted); sent again, same bytes
  kReplaced,     // fees bumped: a new attempt with the same nonce was sent
  kMined,        // in a block, fewer than N confirmations
  kReorged,      // the receipt's block is no longer canonical; waiting
  kWaiting,      // nonce used but receipt not seen yet, or a replacement refused: next step decides
  kRestarted,    // the nonce was taken by a foreign transaction: the checkpoint is queued again
  kFailed,       // mined but failed (status 0, e.g. --to a contract that reverts): dropped, not retried
  kConfirmed,    // N confirmations: receipt stored (StepReport::receipt)
};

std::string_view AnchorPhaseName(AnchorPhase p);

struct StepReport {
  AnchorPhase phase = AnchorPhase::kIdle;
  std::string message;
  uint64_t confirmations = 0;            // kMined
  std::optional<AnchorReceipt> receipt;  // kConfirmed
};

class Anchorer {
 public:
  // Loads the state from `store`. kWrongKey if a pending anchor was signed
  // by another key, kWrongChain if it is for another chain id than
  // config.chain_id, kStorage / kBadReceipt on unreadable state.
  // `store` and `node` must outlive the Anchorer.
  [[nodiscard]] static Result<std::unique_ptr<Anchorer>, AnchorError> Open(AnchorStore& store,
                                                                           EthClient& node,
                                                                           wallet::SecretKey key,
                                                                           AnchorConfig config);

  // Queues `checkpoint` to be anchored: persisted, no network. Thread-safe;
  // never waits for Step.
  [[nodiscard]] Result<RequestOutcome, AnchorError> Request(std::string_view checkpoint);

  // One round of the state machine (a few RPC calls). Errors leave the state
  // as it was (except kStorage, after which every call fails); call again
  // later. REQUIRES: not called concurrently with itself.
  [[nodiscard]] Result<StepReport, AnchorError> Step();

  const EthAddress& sender() const { return sender_; }
  const AnchorConfig& config() const { return config_; }
  AnchorState State() const;

 private:
  struct Fees {
    std::optional<uint64_t> base_fee;
    uint64_t priority_fee = 0;
    uint64_t gas_price = 0;
  };
  enum class SendResult { kAccepted, kKnown, kNonceTooLow, kUnderpriced, kInsufficientFunds, kOther };

  Anchorer(AnchorStore& store, EthClient& node, wallet::SecretKey key, AnchorConfig config);

  Result<StepReport, AnchorError> StepImpl();
  Result<StepReport, AnchorError> Start(const std::string& checkpoint);
  Result<StepReport, AnchorError> Advance(const PendingAnchor& p);
  Result<StepReport, AnchorError> Replace(const PendingAnchor& p, const std::string& why);
  Result<StepReport, AnchorError> Broadcast(const PendingAnchor& p, AnchorPhase phase, bool may_replace);
  Result<StepReport, AnchorError> Confirm(const PendingAnchor& p, const AnchorAttempt& attempt,
                                          const EthReceipt& rec);
  Result<StepReport, AnchorError> GiveUpNonce(const PendingAnchor& p, AnchorPhase phase,
                                              const std::string& why);
  Result<Fees, AnchorError> MarketFees(EthTxType type);
  AnchorAttempt SignAttempt(const PendingAnchor& p, uint64_t gas_price, uint64_t max_fee,
                            uint64_t priority) const;
  Result<void, AnchorError> Persist(const AnchorStoreUpdate& update);

  AnchorStore& store_;
  EthClient& node_;
  const wallet::SecretKey key_;
  const AnchorConfig config_;
  const EthAddress sender_;

  std::mutex step_mu_;        // one Step at a time
  int nonce_taken_seen_ = 0;  // guarded by step_mu_

  mutable std::mutex mu_;  // guards the in-memory mirror of the store below
  std::optional<std::string> queued_;
  std::optional<PendingAnchor> pending_;
  uint64_t receipt_count_ = 0;
  std::optional<AnchorReceipt> last_receipt_;
  bool broken_ = false;
};

// Runs an Anchorer on its own thread: Step every poll interval while there
// is work, with exponential back-off after errors, and waits (or until
// Request/Wake) while idle. Optionally asks `latest_checkpoint` every
// `request_interval` and requests what it returns ("periodically").
struct AnchorServiceOptions {
  std::chrono::milliseconds poll_interval{2000};
  std::chrono::milliseconds max_backoff{60000};
  std::function<std::optional<std::string>()> latest_checkpoint;  // may be empty
  std::chrono::milliseconds request_interval{600000};
  // Called on the service thread after every step (logs, metrics, tests).
  std::function<void(const Result<StepReport, AnchorError>&)> on_step;
};

class AnchorService {
 public:
  AnchorService(Anchorer& anchorer, AnchorServiceOptions options);
  ~AnchorService();  // Stop()
  AnchorService(const AnchorService&) = delete;
  AnchorService& operator=(const AnchorService&) = delete;

  void Start();
  // Returns after the step in progress (if any) ends; at most the node
  // client's timeouts.
  void Stop();
  // Anchorer::Request, then wakes the thread. Never waits on the network.
  [[nodiscard]] Result<RequestOutcome, AnchorError> Request(std::string_view checkpoint);

 private:
  void Run();

  Anchorer& anchorer_;
  AnchorServiceOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  bool wake_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_ANCHOR_H_
