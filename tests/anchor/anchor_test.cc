// Anchoring end to end against a real Anvil node (no mock of the chain):
// every test starts its own node on a free loopback port with --no-mining
// and decides when blocks are mined, so each step of the state machine is
// observed deterministically. Faults are real: a killed and restarted node,
// a transaction dropped from its pool, a base fee raised under a pending
// transaction, a snapshot reverted under a mined one, a foreign transaction
// taking the nonce.
#include "chain/anchor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/jsonrpc_client.h"
#include "chain/anchor_store.h"
#include "chain/eth_rpc.h"
#include "chain/eth_tx.h"
#include "chain/keccak.h"
#include "tests/anchor/anvil.h"
#include "tests/chain/test_util.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

namespace fs = std::filesystem;
using testing::Anvil;
using testing::AnvilOptions;
using testing::Json;

constexpr uint64_t kEther = 1'000'000'000'000'000'000;
constexpr uint64_t kGwei = 1'000'000'000;

// A checkpoint of `size` whose root line is `root_char` repeated (valid
// base64; the root's value does not matter to anchoring).
std::string Checkpoint(uint64_t size, char root_char = 'A') {
  return "traceledger.test/anchor\n" + std::to_string(size) + "\n" + std::string(43, root_char) +
         "=\n\n\u2014 traceledger.test/anchor AAAAAQ==\n";
}

// Passes every call to the real node, except that it can fail
// eth_sendRawTransaction: before forwarding (as if the process died just
// before sending) or after (as if the answer was lost).
class FaultyTransport : public JsonRpcTransport {
 public:
  enum class Fault { kNone, kDropSend, kLoseAnswer };
  explicit FaultyTransport(JsonRpcTransport& real) : real_(real) {}
  Result<std::string, RpcError> Call(std::string_view method, std::string_view params) override {
    if (method == "eth_sendRawTransaction" && fault_ != Fault::kNone) {
      Fault f = fault_.exchange(Fault::kNone);
      if (f == Fault::kLoseAnswer) (void)real_.Call(method, params);
      return RpcError{RpcErrorCode::kUnavailable, "injected: connection lost"};
    }
    return real_.Call(method, params);
  }
  std::string Describe() const override { return real_.Describe(); }
  void Arm(Fault f) { fault_ = f; }

 private:
  JsonRpcTransport& real_;
  std::atomic<Fault> fault_{Fault::kNone};
};

class AnchorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("anchor");
    key_ = std::make_unique<wallet::SecretKey>(wallet::SecretKey::Generate());
    sender_ = EthAddressOf(*key_);
  }
  void TearDown() override {
    anchorer_.reset();
    store_.reset();
    anvil_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Starts the node and connects the client; funds the anchoring key.
  void StartNode(const AnvilOptions& options = {}, bool fund = true) {
    anvil_ = std::make_unique<Anvil>(dir_, options);
    auto started = anvil_->Start();
    ASSERT_TRUE(started.ok()) << started.error();
    Connect();
    if (fund) anvil_->SetBalance(sender_, 100 * kEther);
  }
  void Connect() {
    auto client =
        api::JsonRpcHttpClient::Create(anvil_->url(), {.connect_timeout_ms = 1000, .read_timeout_ms = 10000});
    ASSERT_TRUE(client.ok());
    http_ = std::move(client).value();
    faulty_ = std::make_unique<FaultyTransport>(*http_);
    eth_ = std::make_unique<EthClient>(*faulty_);
  }
  // (Re)opens the store and the anchorer on it, as a restarted process would.
  void OpenAnchorer(AnchorConfig config) {
    anchorer_.reset();
    store_.reset();
    auto store = AnchorStore::Open((dir_ / "anchor").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    config.chain_id = config.chain_id == 0 ? 31337 : config.chain_id;
    auto a = Anchorer::Open(*store_, *eth_, *key_, config);
    ASSERT_TRUE(a.ok()) << a.error().message;
    anchorer_ = std::move(a).value();
  }

  StepReport Step(AnchorPhase expected) {
    auto r = anchorer_->Step();
    EXPECT_TRUE(r.ok()) << AnchorErrorCodeName(r.error().code) << ": " << r.error().message;
    if (!r.ok()) return {};
    EXPECT_EQ(AnchorPhaseName(r->phase), AnchorPhaseName(expected)) << r->message;
    return *r;
  }
  AnchorError StepFails(AnchorErrorCode expected) {
    auto r = anchorer_->Step();
    EXPECT_FALSE(r.ok()) << AnchorPhaseName(r->phase) << ": " << r->message;
    if (r.ok()) return {};
    EXPECT_EQ(AnchorErrorCodeName(r.error().code), AnchorErrorCodeName(expected)) << r.error().message;
    return r.error();
  }
  void RequestOk(const std::string& cp, RequestOutcome expected = RequestOutcome::kQueued) {
    auto r = anchorer_->Request(cp);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(RequestOutcomeName(*r), RequestOutcomeName(expected));
  }
  PendingAnchor Pending() {
    auto state = anchorer_->State();
    EXPECT_TRUE(state.pending.has_value());
    return state.pending.value_or(PendingAnchor{});
  }
  // The node's own view of a transaction (null when unknown).
  Json NodeTx(const Hash& h) {
    return anvil_->Rpc("eth_getTransactionByHash", Json::array({PrefixedHex(h)}));
  }
  Json NodeReceipt(const Hash& h) {
    return anvil_->Rpc("eth_getTransactionReceipt", Json::array({PrefixedHex(h)}));
  }

  VerifyReport Verify(const AnchorReceipt& r, const VerifyOptions& options = {}) {
    auto report = VerifyAnchorReceipt(r, *eth_, options);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : VerifyReport{};
  }

  fs::path dir_;
  std::unique_ptr<wallet::SecretKey> key_;
  EthAddress sender_{};
  std::unique_ptr<Anvil> anvil_;
  std::unique_ptr<api::JsonRpcHttpClient> http_;
  std::unique_ptr<FaultyTransport> faulty_;
  std::unique_ptr<EthClient> eth_;
  std::unique_ptr<AnchorStore> store_;
  std::unique_ptr<Anchorer> anchorer_;
};

// Our Keccak-256 (Crypto++) against the node's (web3_sha3), across the
// 136-byte block boundary.
TEST_F(AnchorTest, KeccakMatchesTheNode) {
  StartNode({}, /*fund=*/false);
  for (size_t n : {0, 1, 55, 135, 136, 137, 272, 1000}) {
    std::vector<uint8_t> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
    EXPECT_EQ(anvil_->Rpc("web3_sha3", Json::array({PrefixedHex(data)})).get<std::string>(),
              PrefixedHex(Keccak256(data)))
        << n << " bytes";
  }
}

TEST_F(AnchorTest, AnchorsEndToEndAndVerifies) {
  StartNode();
  OpenAnchorer({.confirmations = 3});
  const std::string cp = Checkpoint(42);
  RequestOk(cp);
  Step(AnchorPhase::kSent);
  PendingAnchor p = Pending();
  EXPECT_EQ(p.nonce, 0u);
  ASSERT_EQ(p.attempts.size(), 1u);
  EXPECT_EQ(p.type, EthTxType::kEip1559);
  // The node decoded our transaction as we meant it: sender recovered from
  // our signature, data, destination (the sender itself), nonce.
  Json tx = NodeTx(p.attempts[0].tx_hash);
  ASSERT_TRUE(tx.is_object());
  EXPECT_EQ(tx["from"], EthAddressHex(sender_));
  EXPECT_EQ(tx["to"], EthAddressHex(sender_));
  auto summary = ParseCheckpointForAnchor(cp);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(tx["input"], PrefixedHex(AnchorCalldata(42, summary->body_sha256)));
  EXPECT_EQ(tx["type"], "0x2");
  EXPECT_EQ(tx["chainId"], "0x7a69");

  Step(AnchorPhase::kSent);  // not mined yet: nothing changes
  anvil_->Mine(1);
  StepReport mined = Step(AnchorPhase::kMined);
  EXPECT_EQ(mined.confirmations, 1u);
  anvil_->Mine(1);
  EXPECT_EQ(Step(AnchorPhase::kMined).confirmations, 2u);
  anvil_->Mine(1);
  StepReport done = Step(AnchorPhase::kConfirmed);
  ASSERT_TRUE(done.receipt.has_value());
  const AnchorReceipt& r = *done.receipt;
  EXPECT_EQ(r.chain_id, 31337u);
  EXPECT_EQ(r.tx_hash, p.attempts[0].tx_hash);
  EXPECT_EQ(r.block_number, 1u);
  EXPECT_EQ(NodeReceipt(r.tx_hash)["blockHash"], PrefixedHex(r.block_hash));
  EXPECT_EQ(r.tree_size, 42u);
  EXPECT_EQ(r.checkpoint, cp);
  EXPECT_EQ(r.sender, sender_);
  EXPECT_TRUE(CheckAnchorReceipt(r).ok());

  AnchorState state = anchorer_->State();
  EXPECT_FALSE(state.pending.has_value());
  EXPECT_FALSE(state.queued.has_value());
  EXPECT_EQ(state.receipt_count, 1u);
  EXPECT_EQ(state.last_receipt, std::optional<AnchorReceipt>(r));

  VerifyReport v = Verify(r, {.expected_sender = sender_, .checkpoint = cp});
  EXPECT_EQ(VerifyCodeName(v.code), "ok") << v.message;
  EXPECT_EQ(v.confirmations, 3u);

  // Once anchored, asking again does nothing: one transaction in all.
  RequestOk(cp, RequestOutcome::kAlreadyAnchored);
  Step(AnchorPhase::kIdle);
  EXPECT_EQ(anvil_->Nonce(sender_), 1u);
  EXPECT_EQ(anvil_->PoolCount(sender_), 0u);
}

TEST_F(AnchorTest, RequestsAreDedupedSupersededAndConflictsRefused) {
  StartNode();
  OpenAnchorer({.confirmations = 1});
  RequestOk(Checkpoint(10));
  RequestOk(Checkpoint(10), RequestOutcome::kAlreadyQueued);
  RequestOk(Checkpoint(5), RequestOutcome::kSuperseded);
  auto conflict = anchorer_->Request(Checkpoint(10, 'B'));
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.error().code, AnchorErrorCode::kConflict);
  auto bad = anchorer_->Request("not a checkpoint");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, AnchorErrorCode::kBadCheckpoint);
  RequestOk(Checkpoint(12));  // replaces the queued 10
  Step(AnchorPhase::kSent);
  EXPECT_EQ(Pending().tree_size, 12u);
  RequestOk(Checkpoint(12), RequestOutcome::kInProgress);
  RequestOk(Checkpoint(20));  // queued behind the pending one
  anvil_->Mine(1);
  StepReport first = Step(AnchorPhase::kConfirmed);
  EXPECT_EQ(first.receipt->tree_size, 12u);
  Step(AnchorPhase::kSent);
  EXPECT_EQ(Pending().tree_size, 20u);
  EXPECT_EQ(Pending().nonce, 1u);
  anvil_->Mine(1);
  EXPECT_EQ(Step(AnchorPhase::kConfirmed).receipt->nonce, 1u);
  auto late = anchorer_->Request(Checkpoint(20, 'C'));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, AnchorErrorCode::kConflict);
  RequestOk(Checkpoint(12), RequestOutcome::kSuperseded);
  EXPECT_EQ(anchorer_->State().receipt_count, 2u);
}

// "Transaction dropped": the node forgets it; the anchorer sends the very
// same bytes again (same hash), never a second transaction.
TEST_F(AnchorTest, RebroadcastsADroppedTransaction) {
  StartNode();
  OpenAnchorer({.confirmations = 2});
  RequestOk(Checkpoint(7));
  Step(AnchorPhase::kSent);
  const Hash h = Pending().attempts[0].tx_hash;
  anvil_->DropTransaction(h);
  ASSERT_TRUE(NodeTx(h).is_null());
  Step(AnchorPhase::kRebroadcast);
  EXPECT_EQ(Pending().attempts.size(), 1u);
  EXPECT_TRUE(NodeTx(h).is_object());
  anvil_->Mine(2);
  StepReport done = Step(AnchorPhase::kConfirmed);
  EXPECT_EQ(done.receipt->tx_hash, h);
  EXPECT_EQ(anvil_->Nonce(sender_), 1u);
}

// "Node down" and "Anvil restart": the node is stopped with the anchor's
// transaction in its pool and the anchoring process restarts too; the new
// node (same chain, from its --state file, empty pool) gets the same
// transaction again. Then a second restart while it is mined but not yet
// confirmed: the receipt is found again and nothing is resent.
TEST_F(AnchorTest, SurvivesAnvilRestarts) {
  StartNode({.state_file = (dir_ / "anvil-state.json").string()});
  OpenAnchorer({.confirmations = 2});
  RequestOk(Checkpoint(99));
  Step(AnchorPhase::kSent);
  const Hash h = Pending().attempts[0].tx_hash;
  anvil_->Stop();
  AnchorError down = StepFails(AnchorErrorCode::kUnavailable);
  EXPECT_NE(down.message.find(std::to_string(anvil_->port())), std::string::npos) << down.message;
  EXPECT_EQ(Pending().attempts.size(), 1u);  // nothing changed

  OpenAnchorer({.confirmations = 2});  // the anchoring process restarts
  ASSERT_TRUE(anvil_->Start().ok());
  ASSERT_EQ(anvil_->PoolCount(sender_), 0u);  // the restarted node lost its pool
  Step(AnchorPhase::kRebroadcast);
  EXPECT_EQ(Pending().attempts.size(), 1u);
  anvil_->Mine(1);
  EXPECT_EQ(Step(AnchorPhase::kMined).confirmations, 1u);

  anvil_->Stop();
  ASSERT_TRUE(anvil_->Start().ok());
  EXPECT_EQ(anvil_->BlockNumber(), 1u);  // the chain survived in --state
  EXPECT_EQ(Step(AnchorPhase::kMined).confirmations, 1u);
  anvil_->Mine(1);
  StepReport done = Step(AnchorPhase::kConfirmed);
  EXPECT_EQ(done.receipt->tx_hash, h);
  EXPECT_EQ(done.receipt->block_number, 1u);
  EXPECT_EQ(anvil_->Nonce(sender_), 1u);
  EXPECT_EQ(VerifyCodeName(Verify(*done.receipt).code), "ok");
}

// Crash windows around sending: the pending anchor is on disk before the
// transaction leaves. Whether the send never happened or its answer was
// lost, the next step (after a reopen) ends with exactly one transaction.
TEST_F(AnchorTest, LostSendOrLostAnswerNeverDoublesTheAnchor) {
  StartNode();
  OpenAnchorer({.confirmations = 1});
  RequestOk(Checkpoint(3));
  faulty_->Arm(FaultyTransport::Fault::kDropSend);
  StepFails(AnchorErrorCode::kUnavailable);
  const Hash h = Pending().attempts[0].tx_hash;
  EXPECT_TRUE(NodeTx(h).is_null());
  OpenAnchorer({.confirmations = 1});  // as after a crash
  Step(AnchorPhase::kRebroadcast);
  EXPECT_TRUE(NodeTx(h).is_object());
  anvil_->Mine(1);
  EXPECT_EQ(Step(AnchorPhase::kConfirmed).receipt->tx_hash, h);

  RequestOk(Checkpoint(4));
  faulty_->Arm(FaultyTransport::Fault::kLoseAnswer);
  StepFails(AnchorErrorCode::kUnavailable);
  const Hash h2 = Pending().attempts[0].tx_hash;
  EXPECT_TRUE(NodeTx(h2).is_object());  // it did arrive
  OpenAnchorer({.confirmations = 1});
  Step(AnchorPhase::kSent);  // found in the pool: not sent again
  EXPECT_EQ(anvil_->PoolCount(sender_), 1u);
  anvil_->Mine(1);
  EXPECT_EQ(Step(AnchorPhase::kConfirmed).receipt->tx_hash, h2);
  EXPECT_EQ(anvil_->Nonce(sender_), 2u);
}

// "Gas price changes": the base fee jumps to 100 gwei; the node drops the
// transaction it can no longer include; the anchorer replaces it with the
// same nonce and higher fees.
TEST_F(AnchorTest, ReplacesWithBumpedFeesWhenTheBaseFeeRises) {
  StartNode();
  OpenAnchorer({.confirmations = 1});
  RequestOk(Checkpoint(8));
  Step(AnchorPhase::kSent);
  const AnchorAttempt first = Pending().attempts[0];
  EXPECT_LT(first.max_fee_per_gas, 10 * kGwei);
  anvil_->SetNextBlockBaseFee(100 * kGwei);
  anvil_->Mine(1);  // too expensive for our transaction: Anvil drops it
  EXPECT_TRUE(NodeReceipt(first.tx_hash).is_null());
  Step(AnchorPhase::kReplaced);
  PendingAnchor p = Pending();
  ASSERT_EQ(p.attempts.size(), 2u);
  EXPECT_EQ(p.nonce, 0u);
  EXPECT_NE(p.attempts[1].tx_hash, first.tx_hash);
  EXPECT_GE(p.attempts[1].max_fee_per_gas, 175 * kGwei);  // 2 x the next base fee (87.5 gwei)
  EXPECT_GT(p.attempts[1].max_priority_fee_per_gas, first.max_priority_fee_per_gas);
  anvil_->Mine(1);
  StepReport done = Step(AnchorPhase::kConfirmed);
  EXPECT_EQ(done.receipt->tx_hash, p.attempts[1].tx_hash);
  EXPECT_EQ(anvil_->Nonce(sender_), 1u);
  EXPECT_TRUE(NodeReceipt(first.tx_hash).is_null());
  EXPECT_TRUE(CheckAnchorReceipt(*done.receipt).ok());
}

TEST_F(AnchorTest, FeeCapWaitsThenTheOriginalGoesThrough) {
  StartNode();
  OpenAnchorer({.confirmations = 1, .max_fee_per_gas = 20 * kGwei});
  RequestOk(Checkpoint(8));
  Step(AnchorPhase::kSent);
  const Hash h = Pending().attempts[0].tx_hash;
  anvil_->SetNextBlockBaseFee(100 * kGwei);
  StepFails(AnchorErrorCode::kFeeCap);  // would need ~200 gwei
  EXPECT_EQ(Pending().attempts.size(), 1u);
  anvil_->SetNextBlockBaseFee(kGwei);  // the market calms down
  Step(AnchorPhase::kSent);            // still in the pool, fee fine again
  anvil_->Mine(1);
  EXPECT_EQ(Step(AnchorPhase::kConfirmed).receipt->tx_hash, h);
}

// A reorganisation below the confirmation depth: the block holding the
// anchor is replaced (evm_revert, then other blocks); the anchorer notices
// the receipt is gone, rebroadcasts, and confirms in the new chain.
TEST_F(AnchorTest, ReorgBelowTheConfirmationDepth) {
  StartNode();
  OpenAnchorer({.confirmations = 3});
  RequestOk(Checkpoint(5));
  Step(AnchorPhase::kSent);
  const Hash h = Pending().attempts[0].tx_hash;
  std::string snapshot = anvil_->Snapshot();
  anvil_->Mine(2);
  EXPECT_EQ(Step(AnchorPhase::kMined).confirmations, 2u);
  std::string orphaned = NodeReceipt(h)["blockHash"].get<std::string>();
  anvil_->Revert(snapshot);
  anvil_->Mine(2);  // a different block 1 and 2, without our transaction
  ASSERT_TRUE(NodeReceipt(h).is_null());
  Step(AnchorPhase::kRebroadcast);
  anvil_->Mine(3);
  StepReport done = Step(AnchorPhase::kConfirmed);
  EXPECT_EQ(done.receipt->tx_hash, h);
  EXPECT_EQ(done.receipt->block_number, 3u);
  EXPECT_NE(PrefixedHex(done.receipt->block_hash), orphaned);
  EXPECT_EQ(VerifyCodeName(Verify(*done.receipt).code), "ok");
}

// "Replaced" by someone else: another transaction signed with the same key
// takes the nonce. The anchorer looks twice, gives the nonce up, and
// anchors again with the next one.
TEST_F(AnchorTest, ForeignTransactionTakingTheNonceIsDetected) {
  StartNode();
  OpenAnchorer({.confirmations = 1});
  RequestOk(Checkpoint(6));
  Step(AnchorPhase::kSent);
  const AnchorAttempt ours = Pending().attempts[0];
  EthTx foreign;
  foreign.chain_id = 31337;
  foreign.nonce = 0;
  foreign.max_fee_per_gas = 2 * ours.max_fee_per_gas;
  foreign.max_priority_fee_per_gas = 2 * ours.max_priority_fee_per_gas;
  foreign.gas_limit = 21000;
  foreign.to = EthAddress{};
  SignedEthTx other = SignEthTx(foreign, *key_);
  anvil_->Rpc("eth_sendRawTransaction", Json::array({PrefixedHex(other.raw)}));
  anvil_->Mine(1);
  ASSERT_FALSE(NodeReceipt(other.hash).is_null());
  Step(AnchorPhase::kWaiting);
  Step(AnchorPhase::kRestarted);
  EXPECT_TRUE(anchorer_->State().queued.has_value());
  Step(AnchorPhase::kSent);
  EXPECT_EQ(Pending().nonce, 1u);
  anvil_->Mine(1);
  StepReport done = Step(AnchorPhase::kConfirmed);
  EXPECT_EQ(done.receipt->nonce, 1u);
  EXPECT_TRUE(NodeReceipt(ours.tx_hash).is_null());
}

// Chains without EIP-1559 (here Anvil on Berlin rules): EIP-155 legacy.
TEST_F(AnchorTest, LegacyTransactionsOnAChainWithoutBaseFee) {
  StartNode({.hardfork = "berlin"});
  OpenAnchorer({.confirmations = 1});
  RequestOk(Checkpoint(11));
  Step(AnchorPhase::kSent);
  PendingAnchor p = Pending();
  EXPECT_EQ(p.type, EthTxType::kLegacy);
  EXPECT_GE(p.attempts[0].raw[0], 0xc0);  // an RLP list: untyped
  EXPECT_EQ(NodeTx(p.attempts[0].tx_hash)["type"], "0x0");
  anvil_->Mine(1);
  StepReport done = Step(AnchorPhase::kConfirmed);
  EXPECT_EQ(done.receipt->tx_type, EthTxType::kLegacy);
  EXPECT_EQ(VerifyCodeName(Verify(*done.receipt).code), "ok");
}

TEST_F(AnchorTest, ExplicitLegacyOnAnEip1559Chain) {
  StartNode();
  OpenAnchorer({.confirmations = 1, .tx_type = TxTypeChoice::kLegacy});
  RequestOk(Checkpoint(12));
  Step(AnchorPhase::kSent);
  EXPECT_EQ(NodeTx(Pending().attempts[0].tx_hash)["type"], "0x0");
  anvil_->Mine(1);
  EXPECT_EQ(Step(AnchorPhase::kConfirmed).receipt->tx_type, EthTxType::kLegacy);
}

TEST_F(AnchorTest, WrongChainIsRefusedBeforeAnythingIsSent) {
  StartNode();
  OpenAnchorer({.chain_id = 1, .confirmations = 1});
  RequestOk(Checkpoint(1));
  AnchorError e = StepFails(AnchorErrorCode::kWrongChain);
  EXPECT_NE(e.message.find("31337"), std::string::npos) << e.message;
  EXPECT_FALSE(anchorer_->State().pending.has_value());
  EXPECT_EQ(anvil_->Nonce(sender_, "pending"), 0u);
}

TEST_F(AnchorTest, UnfundedKeyIsReportedThenProceedsOnceFunded) {
  StartNode({}, /*fund=*/false);
  OpenAnchorer({.confirmations = 1, .gas_limit = 30000});
  RequestOk(Checkpoint(2));
  AnchorError e = StepFails(AnchorErrorCode::kInsufficientFunds);
  EXPECT_NE(e.message.find(EthAddressChecksum(sender_)), std::string::npos) << e.message;
  anvil_->SetBalance(sender_, kEther);
  Step(AnchorPhase::kRebroadcast);  // the pending transaction, same bytes
  EXPECT_EQ(Pending().attempts.size(), 1u);
  anvil_->Mine(1);
  Step(AnchorPhase::kConfirmed);
}

// A transaction that is mined but fails (here: sent to a contract that
// always reverts) is dropped and not retried, so it cannot burn gas in a
// loop; estimating gas for it fails first, unless a gas limit is given.
TEST_F(AnchorTest, FailedTransactionIsNotRetried) {
  StartNode();
  EthAddress reverter{};
  reverter[19] = 0x42;
  anvil_->Rpc("anvil_setCode", Json::array({EthAddressHex(reverter), "0x60006000fd"}));  // REVERT(0, 0)
  OpenAnchorer({.confirmations = 1, .to = reverter});
  RequestOk(Checkpoint(9));
  StepFails(AnchorErrorCode::kRejected);  // eth_estimateGas: execution reverted
  EXPECT_FALSE(anchorer_->State().pending.has_value());
  OpenAnchorer({.confirmations = 1, .to = reverter, .gas_limit = 60000});
  Step(AnchorPhase::kSent);
  anvil_->Mine(1);
  StepReport failed = Step(AnchorPhase::kFailed);
  EXPECT_NE(failed.message.find("status 0"), std::string::npos) << failed.message;
  AnchorState state = anchorer_->State();
  EXPECT_FALSE(state.pending.has_value());
  EXPECT_FALSE(state.queued.has_value());
  EXPECT_EQ(state.receipt_count, 0u);
  Step(AnchorPhase::kIdle);
  EXPECT_EQ(anvil_->Nonce(sender_), 1u);
}

TEST_F(AnchorTest, PendingAnchorBelongsToItsKey) {
  StartNode();
  OpenAnchorer({.confirmations = 1});
  RequestOk(Checkpoint(2));
  Step(AnchorPhase::kSent);
  anchorer_.reset();
  auto other = Anchorer::Open(*store_, *eth_, wallet::SecretKey::Generate(), {.chain_id = 31337});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, AnchorErrorCode::kWrongKey);
  auto chain = Anchorer::Open(*store_, *eth_, *key_, {.chain_id = 5});
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.error().code, AnchorErrorCode::kWrongChain);
}

// `verify` names each way a receipt can fail against a node.
TEST_F(AnchorTest, VerifyNamesEachFailure) {
  StartNode();
  OpenAnchorer({.confirmations = 2});
  const std::string cp = Checkpoint(30);
  RequestOk(cp);
  std::string before = anvil_->Snapshot();
  Step(AnchorPhase::kSent);
  anvil_->Mine(2);
  const AnchorReceipt r = *Step(AnchorPhase::kConfirmed).receipt;
  auto code = [&](const AnchorReceipt& receipt, const VerifyOptions& options = {}) {
    VerifyReport v = Verify(receipt, options);
    return std::string(VerifyCodeName(v.code)) + ": " + v.message;
  };
  auto starts = [](const std::string& s, std::string_view prefix) {
    return s.substr(0, s.find(':')) == prefix;
  };
  EXPECT_TRUE(starts(code(r), "ok")) << code(r);
  EXPECT_TRUE(starts(code(r, {.min_confirmations = 5}), "too_few_confirmations"))
      << code(r, {.min_confirmations = 5});
  EXPECT_TRUE(starts(code(r, {.expected_sender = EthAddress{}}), "wrong_sender"));
  EXPECT_TRUE(starts(code(r, {.checkpoint = Checkpoint(31)}), "checkpoint_mismatch"));
  AnchorReceipt t = r;
  t.block_hash[5] ^= 1;
  EXPECT_TRUE(starts(code(t), "wrong_block")) << code(t);
  t = r;
  t.block_number = r.block_number + 1;
  EXPECT_TRUE(starts(code(t), "wrong_block")) << code(t);
  t = r;
  t.calldata[30] ^= 1;
  EXPECT_TRUE(starts(code(t), "bad_receipt")) << code(t);
  t = r;
  t.checkpoint = Checkpoint(30, 'Z');
  EXPECT_TRUE(starts(code(t), "bad_receipt")) << code(t);

  // The anchor's block reorganised away, the same transaction mined again
  // later: the receipt names a block that no longer holds it.
  anvil_->Revert(before);
  anvil_->Mine(1);
  EXPECT_TRUE(starts(code(r), "tx_not_found")) << code(r);
  anvil_->Rpc("eth_sendRawTransaction", Json::array({PrefixedHex(r.raw_tx)}));
  EXPECT_TRUE(starts(code(r), "tx_pending")) << code(r);
  anvil_->Mine(3);
  EXPECT_TRUE(starts(code(r), "wrong_block")) << code(r);

  // Another node of the same chain that never saw it; a node of another
  // chain; no node at all.
  Anvil fresh(dir_ / "fresh", {});
  ASSERT_TRUE(fresh.Start().ok());
  auto fresh_rpc = api::JsonRpcHttpClient::Create(fresh.url());
  EthClient fresh_eth(**fresh_rpc);
  auto v = VerifyAnchorReceipt(r, fresh_eth);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(VerifyCodeName(v->code), "tx_not_found");
  Anvil other_chain(dir_ / "other", {.chain_id = 1337});
  ASSERT_TRUE(other_chain.Start().ok());
  auto other_rpc = api::JsonRpcHttpClient::Create(other_chain.url());
  EthClient other_eth(**other_rpc);
  v = VerifyAnchorReceipt(r, other_eth);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(VerifyCodeName(v->code), "wrong_chain");
  fresh.Kill();
  v = VerifyAnchorReceipt(r, fresh_eth);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, AnchorErrorCode::kUnavailable);
}

// Background mode: requests return at once even while the node is down;
// the service retries with back-off and anchors once the node is back.
TEST_F(AnchorTest, ServiceAnchorsInTheBackgroundAcrossANodeOutage) {
  StartNode({.automine = true});
  anvil_->Stop();
  OpenAnchorer({.confirmations = 1});
  std::mutex mu;
  std::vector<std::string> seen;  // phase names and error codes, in order
  AnchorService service(*anchorer_, {.poll_interval = std::chrono::milliseconds(10),
                                     .max_backoff = std::chrono::milliseconds(50),
                                     .on_step = [&](const Result<StepReport, AnchorError>& r) {
                                       std::lock_guard lock(mu);
                                       seen.push_back(r.ok()
                                                          ? std::string(AnchorPhaseName(r->phase))
                                                          : std::string(AnchorErrorCodeName(r.error().code)));
                                     }});
  service.Start();
  auto wait_for = [&](auto done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  };
  auto r = service.Request(Checkpoint(77));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, RequestOutcome::kQueued);
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(mu);
    return std::count(seen.begin(), seen.end(), "unavailable") >= 2;
  }));
  ASSERT_TRUE(anvil_->Start().ok());
  anvil_->SetBalance(sender_, kEther);
  ASSERT_TRUE(wait_for([&] { return anchorer_->State().receipt_count == 1; }));
  service.Stop();
  EXPECT_EQ(anvil_->Nonce(sender_), 1u);
  std::lock_guard lock(mu);
  EXPECT_NE(std::find(seen.begin(), seen.end(), "confirmed"), seen.end());
}

TEST_F(AnchorTest, ServiceRequestsTheLatestCheckpointPeriodically) {
  StartNode({.automine = true});
  OpenAnchorer({.confirmations = 1});
  std::atomic<uint64_t> size{100};
  AnchorService service(*anchorer_,
                        {.poll_interval = std::chrono::milliseconds(10),
                         .latest_checkpoint = [&] { return std::optional<std::string>(Checkpoint(size)); },
                         .request_interval = std::chrono::milliseconds(20)});
  service.Start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (anchorer_->State().receipt_count < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  size = 200;
  while (anchorer_->State().receipt_count < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  service.Stop();
  AnchorState state = anchorer_->State();
  ASSERT_EQ(state.receipt_count, 2u);
  EXPECT_EQ(state.last_receipt->tree_size, 200u);
  EXPECT_EQ(anvil_->Nonce(sender_), 2u);  // an unchanged checkpoint is not anchored twice
}

}  // namespace
}  // namespace traceledger::chain
