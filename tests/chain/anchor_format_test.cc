// The parts of anchoring that need no node: the anchored value, receipts
// and their self-consistency, the pending-anchor record, the anchor store.
// The state machine itself is tested against a real Anvil node in
// tests/anchor/.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "chain/anchor.h"
#include "chain/anchor_store.h"
#include "chain/eth_tx.h"
#include "chain/keccak.h"
#include "tests/chain/test_util.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

namespace fs = std::filesystem;

const std::string kBody = "example.com/ledger\n42\nq2V3UMoMtj/tj0DpVrOdPhBz0XIrTMZxk7NMyZGyoLU=\n";
const std::string kCheckpoint =
    kBody + "\n\u2014 example.com/ledger Az3grlkAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";

TEST(CheckpointForAnchorTest, BodyIsTheTextBeforeTheBlankLine) {
  auto cp = ParseCheckpointForAnchor(kCheckpoint);
  ASSERT_TRUE(cp.ok()) << cp.error().message;
  EXPECT_EQ(cp->origin, "example.com/ledger");
  EXPECT_EQ(cp->tree_size, 42u);
  EXPECT_EQ(cp->body, kBody);
  EXPECT_EQ(cp->body_sha256, Sha256(kBody));
  // Signatures do not change what is anchored.
  auto unsigned_cp = ParseCheckpointForAnchor(kBody);
  ASSERT_TRUE(unsigned_cp.ok());
  EXPECT_EQ(unsigned_cp->body_sha256, cp->body_sha256);
  auto more_sigs = ParseCheckpointForAnchor(kCheckpoint + "\u2014 witness.example BBBB\n");
  ASSERT_TRUE(more_sigs.ok());
  EXPECT_EQ(more_sigs->body_sha256, cp->body_sha256);
  // Extension lines are part of the body.
  auto ext = ParseCheckpointForAnchor("o\n1\nAAAA\nextension\n");
  ASSERT_TRUE(ext.ok());
  EXPECT_EQ(ext->body, "o\n1\nAAAA\nextension\n");
}

TEST(CheckpointForAnchorTest, RejectsWithTheFieldAtFault) {
  struct Case {
    std::string text;
    std::string needle;
  };
  const Case cases[] = {
      {"", "newline"},
      {"o\n1\nAAAA", "newline"},
      {"o\n1\n", "origin, a tree size and a root"},
      {"\n1\nAAAA\n", "line 1"},
      {"o\n01\nAAAA\n", "line 2"},
      {"o\n-1\nAAAA\n", "line 2"},
      {"o\n\n1\nAAAA\n", "origin, a tree size and a root"},  // the blank line ends the body after "o"
      {"o\n18446744073709551616\nAAAA\n", "64 bits"},
      {"o\n1\nAA*A\n", "line 3"},
      {"o\n1\nAAA\n", "line 3"},
      {"o\n1\nA===\n", "line 3"},
  };
  for (const Case& c : cases) {
    auto r = ParseCheckpointForAnchor(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code, AnchorErrorCode::kBadCheckpoint);
    EXPECT_NE(r.error().message.find(c.needle), std::string::npos) << c.text << " -> " << r.error().message;
  }
  EXPECT_TRUE(ParseCheckpointForAnchor("o\n18446744073709551615\nAAAA\n").ok());
}

TEST(AnchorCalldataTest, Layout) {
  Hash h = Sha256(kBody);
  std::vector<uint8_t> data = AnchorCalldata(42, h);
  ASSERT_EQ(data.size(), kAnchorCalldataSize);
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(data).first(12)), "544c4131000000000000002a");
  EXPECT_EQ(HexEncode(std::span<const uint8_t>(data).subspan(12)), HashHex(h));
}

// The worked example of FORMAT.md §12.4, byte for byte.
TEST(AnchorCalldataTest, FormatDocumentExample) {
  const std::string cp =
      "example.com/log\n42\nq2V3UMoMtj/tj0DpVrOdPhBz0XIrTMZxk7NMyZGyoLU=\n\n\u2014 example.com/log "
      "Az3grlkAAAAA\n";
  auto s = ParseCheckpointForAnchor(cp);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(HashHex(s->body_sha256), "0ba55d8094bb95951070a23f7f0dff8cb82b2a93360aae31f91012c1a97c467d");
  std::vector<uint8_t> data = AnchorCalldata(s->tree_size, s->body_sha256);
  EXPECT_EQ(PrefixedHex(data),
            "0x544c4131000000000000002a0ba55d8094bb95951070a23f7f0dff8cb82b2a93360aae31f91012c1a97c467d");
  auto key = wallet::SecretKey::FromBytes(std::vector<uint8_t>(32, 0x46));
  ASSERT_TRUE(key.has_value());
  EthTx tx{.chain_id = 31337,
           .nonce = 0,
           .max_priority_fee_per_gas = 1'000'000'000,
           .max_fee_per_gas = 3'000'000'000,
           .gas_limit = 22550,
           .to = EthAddressOf(*key),
           .data = data};
  SignedEthTx signed_tx = SignEthTx(tx, *key);
  EXPECT_EQ(EthAddressChecksum(signed_tx.from), "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
  EXPECT_EQ(HashHex(EthSigningHash(tx)), "b65b74c84bf4252fe0b852d64e73a7b8a3844ac68263ded8be0c96bb688f41c8");
  EXPECT_EQ(
      PrefixedHex(signed_tx.raw),
      "0x02f898827a6980843b9aca0084b2d05e00825816949d8a62f656a8d1615c1294fd71e9cfb3e4855a4f80ac544c4131"
      "000000000000002a0ba55d8094bb95951070a23f7f0dff8cb82b2a93360aae31f91012c1a97c467dc001a0daf5776cb8c0"
      "a8a881b68dc829cee7bbd9d19e4dfe08442b376bdbe5c635ff0ba05c95c9f04ee554aaf03eb7ec67eb3e296751d289501d"
      "d23307d43c0de1a58683");
  EXPECT_EQ(PrefixedHex(signed_tx.hash),
            "0x7fc641074f7c19788530bf07b68234d3d249bfdd4d9842eab61db55d7cf70a10");
}

// A receipt as the anchorer would write it, signed with a fresh key.
AnchorReceipt MakeReceipt(const wallet::SecretKey& key) {
  auto cp = ParseCheckpointForAnchor(kCheckpoint);
  EthTx tx{.chain_id = 31337,
           .nonce = 3,
           .max_priority_fee_per_gas = 1'000'000'000,
           .max_fee_per_gas = 2'000'000'000,
           .gas_limit = 22760,
           .to = EthAddressOf(key),
           .data = AnchorCalldata(cp->tree_size, cp->body_sha256)};
  SignedEthTx s = SignEthTx(tx, key);
  AnchorReceipt r;
  r.chain_id = 31337;
  r.tx_hash = s.hash;
  r.block_number = 7;
  r.block_hash = Sha256(std::string_view("block 7"));
  r.confirmations = 3;
  r.sender = s.from;
  r.to = *tx.to;
  r.nonce = 3;
  r.tx_type = EthTxType::kEip1559;
  r.calldata = tx.data;
  r.raw_tx = s.raw;
  r.tree_size = cp->tree_size;
  r.checkpoint_body_sha256 = cp->body_sha256;
  r.checkpoint = kCheckpoint;
  return r;
}

TEST(AnchorReceiptTest, JsonRoundTripAndSelfCheck) {
  auto key = wallet::SecretKey::Generate();
  AnchorReceipt r = MakeReceipt(key);
  ASSERT_TRUE(CheckAnchorReceipt(r).ok()) << CheckAnchorReceipt(r).error().message;
  std::string json = AnchorReceiptToJson(r);
  EXPECT_EQ(json.back(), '\n');
  EXPECT_TRUE(json.starts_with("{\n  \"block_hash\": \"0x")) << json;  // sorted keys, 2-space indent
  auto back = ParseAnchorReceipt(json);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, r);
  EXPECT_EQ(AnchorReceiptToJson(*back), json);
}

TEST(AnchorReceiptTest, SelfCheckNamesTheMismatch) {
  auto key = wallet::SecretKey::Generate();
  const AnchorReceipt good = MakeReceipt(key);
  auto expect_bad = [&](AnchorReceipt r, std::string_view needle) {
    auto check = CheckAnchorReceipt(r);
    ASSERT_FALSE(check.ok()) << needle;
    EXPECT_EQ(check.error().code, AnchorErrorCode::kBadReceipt);
    EXPECT_NE(check.error().message.find(needle), std::string::npos) << check.error().message;
  };
  AnchorReceipt r = good;
  r.tree_size = 43;
  expect_bad(r, "tree_size");
  r = good;
  r.checkpoint = "example.com/ledger\n42\nAAAA\n";
  expect_bad(r, "checkpoint_body_sha256");
  r = good;
  r.calldata[20] ^= 1;
  expect_bad(r, "calldata");
  r = good;
  r.tx_hash[0] ^= 1;
  expect_bad(r, "tx_hash");
  r = good;
  r.sender[0] ^= 1;
  expect_bad(r, "signed by");
  r = good;
  r.chain_id = 1;
  expect_bad(r, "chain");
  r = good;
  r.nonce = 4;
  expect_bad(r, "nonce");
  r = good;
  r.to[19] ^= 1;
  expect_bad(r, "`to`");
  r = good;
  r.tx_type = EthTxType::kLegacy;
  expect_bad(r, "type");
  r = good;
  r.raw_tx.back() ^= 1;  // s changes: another (or no) signer
  auto check = CheckAnchorReceipt(r);
  EXPECT_FALSE(check.ok());
}

TEST(AnchorReceiptTest, ParseNamesTheField) {
  auto key = wallet::SecretKey::Generate();
  std::string json = AnchorReceiptToJson(MakeReceipt(key));
  auto expect_field = [](const std::string& text, std::string_view needle) {
    auto r = ParseAnchorReceipt(text);
    ASSERT_FALSE(r.ok()) << needle;
    EXPECT_EQ(r.error().code, AnchorErrorCode::kBadReceipt);
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  };
  expect_field("not json", "not a JSON object");
  expect_field("[]", "not a JSON object");
  auto replace = [&](std::string_view from, std::string_view to) {
    std::string s = json;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  expect_field(replace("traceledger-anchor-receipt/1", "other/1"), "format");
  expect_field(replace("\"chain_id\": 31337", "\"chain_id\": -1"), "chain_id");
  expect_field(replace("\"chain_id\": 31337", "\"chain_id\": \"31337\""), "chain_id");
  expect_field(replace("\"confirmations\": 3", "\"confirmations\": 0"), "confirmations");
  expect_field(replace("\"tx_type\": \"eip1559\"", "\"tx_type\": \"blob\""), "tx_type");
  expect_field(replace("\"block_number\": 7,", ""), "block_number: missing");
  expect_field(replace("\"tx_hash\": \"0x", "\"tx_hash\": \"0xzz"), "tx_hash");
}

TEST(PendingAnchorTest, JsonRoundTrip) {
  PendingAnchor p;
  p.checkpoint = kCheckpoint;
  p.tree_size = 42;
  p.body_sha256 = Sha256(kBody);
  p.calldata = AnchorCalldata(42, p.body_sha256);
  p.chain_id = 5;
  p.sender[0] = 1;
  p.to[1] = 2;
  p.nonce = 9;
  p.gas_limit = 22760;
  p.type = EthTxType::kLegacy;
  p.attempts.push_back(
      AnchorAttempt{.tx_hash = Sha256(std::string_view("a")), .raw = {1, 2, 3}, .gas_price = 5});
  p.attempts.push_back(AnchorAttempt{.tx_hash = Sha256(std::string_view("b")), .raw = {4}, .gas_price = 6});
  auto back = ParsePendingAnchor(PendingAnchorToJson(p));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, p);
  std::string no_attempts = PendingAnchorToJson(p);
  no_attempts.replace(no_attempts.find("\"attempts\":["), 12, "\"attempts\":[],\"x\":[");
  EXPECT_FALSE(ParsePendingAnchor(no_attempts).ok());
}

class AnchorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("anchor-store");
    fs::remove_all(dir_);  // the store creates it
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(AnchorStoreTest, CommitsAtomicallyAndSurvivesReopen) {
  {
    auto store = AnchorStore::Open(dir_.string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto snap = (*store)->Load();
    ASSERT_TRUE(snap.ok());
    EXPECT_FALSE(snap->queued || snap->pending || snap->last_receipt);
    EXPECT_EQ(snap->receipt_count, 0u);
    ASSERT_TRUE((*store)->Commit({.queued = AnchorValueChange::Set("q1")}).ok());
    ASSERT_TRUE((*store)
                    ->Commit({.queued = AnchorValueChange::Delete(), .pending = AnchorValueChange::Set("p1")})
                    .ok());
    ASSERT_TRUE((*store)->Commit({.pending = AnchorValueChange::Delete(), .append_receipt = "r0"}).ok());
    ASSERT_TRUE((*store)->Commit({.append_receipt = "r1"}).ok());
    // A second process (here: a second open) is refused by LevelDB's lock.
    auto second = AnchorStore::Open(dir_.string());
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, AnchorStoreErrorCode::kLocked);
  }
  auto store = AnchorStore::Open(dir_.string());
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto snap = (*store)->Load();
  ASSERT_TRUE(snap.ok());
  EXPECT_FALSE(snap->queued.has_value());
  EXPECT_FALSE(snap->pending.has_value());
  EXPECT_EQ(snap->receipt_count, 2u);
  EXPECT_EQ(snap->last_receipt, std::optional<std::string>("r1"));
  EXPECT_EQ(*(*store)->Receipt(0), std::optional<std::string>("r0"));
  EXPECT_FALSE((*store)->Receipt(2)->has_value());
}

TEST_F(AnchorStoreTest, StateRecordsDecode) {
  auto store = AnchorStore::Open(dir_.string());
  ASSERT_TRUE(store.ok());
  auto key = wallet::SecretKey::Generate();
  AnchorReceipt r = MakeReceipt(key);
  ASSERT_TRUE(
      (*store)
          ->Commit({.queued = AnchorValueChange::Set(kCheckpoint), .append_receipt = AnchorReceiptToJson(r)})
          .ok());
  auto state = LoadAnchorState(**store);
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->queued, std::optional<std::string>(kCheckpoint));
  EXPECT_EQ(state->receipt_count, 1u);
  EXPECT_EQ(state->last_receipt, std::optional<AnchorReceipt>(r));
  auto again = LoadAnchorReceipt(**store, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, std::optional<AnchorReceipt>(r));
  // A damaged pending record is a storage error, not a crash.
  ASSERT_TRUE((*store)->Commit({.pending = AnchorValueChange::Set("{}")}).ok());
  auto damaged = LoadAnchorState(**store);
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.error().code, AnchorErrorCode::kStorage);
}

}  // namespace
}  // namespace traceledger::chain
