#include "chain/witness.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "chain/proof.h"
#include "chain/store.h"
#include "tests/chain/store_fixture.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

using testing::AppendBlocks;
using testing::ScratchDir;

constexpr const char* kOrigin = "example.com/log";
constexpr const char* kWitnessName = "witness.example/w1";

TEST(CosignatureTest, KeyIdIsTheDocumentedHash) {
  std::array<uint8_t, 32> sk{};
  sk[31] = 3;
  // python3: sha256(b"example.com/log\n\xffTraceLedger/cosignature/bip340/v1" + pk)[:4]
  EXPECT_EQ(CosignatureKeyId("example.com/log", wallet::SecretKey::FromBytes(sk)->Public()), 0x6c7c5944u);
}

TEST(CosignatureTest, MessageIsHeaderTimeLineAndCheckpointText) {
  EXPECT_EQ(CosignatureMessage(1679315147, "o\n3\nroot\n"), "cosignature/v1\ntime 1679315147\no\n3\nroot\n");
}

TEST(CosignatureTest, CosignVerifyAndTamper) {
  const wallet::SecretKey w = wallet::SecretKey::Generate();
  SignedNote note{.text = "o\n3\nTHITEBcB8sjDQnFtd0vnnKVmj9qGEXnkF6thgtF3R/0=\n", .signatures = {}};
  note.signatures.push_back(Cosign(kWitnessName, w, note.text, 1700000000));
  ASSERT_EQ(note.signatures[0].signature.size(), 72u);
  auto t = VerifyCosignature(note, kWitnessName, w.Public());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, 1700000000u);
  SignedNote later = note;
  later.signatures[0].signature[7] ^= 1;  // the timestamp is signed
  EXPECT_EQ(VerifyCosignature(later, kWitnessName, w.Public()).error().code, NoteErrorCode::kBadSignature);
  SignedNote other_text = note;
  other_text.text[0] = 'p';
  EXPECT_EQ(VerifyCosignature(other_text, kWitnessName, w.Public()).error().code,
            NoteErrorCode::kBadSignature);
  EXPECT_EQ(VerifyCosignature(note, "other", w.Public()).error().code, NoteErrorCode::kNoSignature);
  // A note signature by the same key is not a cosignature (other key id).
  SignedNote plain{.text = note.text, .signatures = {SignNote(kWitnessName, w, note.text)}};
  EXPECT_EQ(VerifyCosignature(plain, kWitnessName, w.Public()).error().code, NoteErrorCode::kNoSignature);
}

TEST(QuorumTest, CountsDistinctKeysThatCosigned) {
  const wallet::SecretKey a = wallet::SecretKey::Generate(), b = wallet::SecretKey::Generate(),
                          c = wallet::SecretKey::Generate();
  SignedNote note{.text = "o\n1\nTHITEBcB8sjDQnFtd0vnnKVmj9qGEXnkF6thgtF3R/0=\n", .signatures = {}};
  note.signatures.push_back(Cosign("a", a, note.text, 1));
  note.signatures.push_back(Cosign("a2", a, note.text, 1));  // same key, other name
  NoteSignature bad = Cosign("b", b, note.text, 1);
  bad.signature[20] ^= 1;
  note.signatures.push_back(bad);
  WitnessPolicy policy{
      .witnesses = {{"a", a.Public()}, {"a2", a.Public()}, {"b", b.Public()}, {"c", c.Public()}},
      .quorum = 2};
  QuorumReport r = CountCosignatures(note, policy);
  EXPECT_EQ(r.cosigned_by, (std::vector<std::string>{"a", "a2"}));
  EXPECT_EQ(r.bad, (std::vector<std::string>{"b"}));
  EXPECT_EQ(r.distinct_keys, 1u);
  EXPECT_FALSE(r.witnessed);
  note.signatures.push_back(Cosign("c", c, note.text, 2));
  r = CountCosignatures(note, policy);
  EXPECT_EQ(r.distinct_keys, 2u);
  EXPECT_TRUE(r.witnessed);
  policy.quorum = 0;
  EXPECT_FALSE(CountCosignatures(note, policy).witnessed) << "a quorum of 0 witnesses nothing";
}

// A log (store + operator key) and a witness over a state file.
class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto s = Store::Open(StoreOptions{.path = "log", .in_memory = true});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    auto f = Store::Open(StoreOptions{.path = "fork", .in_memory = true});
    ASSERT_TRUE(f.ok());
    fork_ = std::move(f).value();
    OpenWitness();
  }

  void OpenWitness(std::function<bool(std::string_view)> fault = nullptr) {
    witness_.reset();
    WitnessOptions options{.name = kWitnessName,
                           .logs = {WitnessedLog{.origin = kOrigin, .keys = {log_key_.Public()}}},
                           .state_path = dir_.path() + "/state",
                           .clock_s = [] { return uint64_t{1700000000}; },
                           .fault_point = std::move(fault)};
    auto w = Witness::Open(std::move(options), witness_key_);
    ASSERT_TRUE(w.ok()) << w.error().message;
    witness_ = std::move(w).value();
  }

  // A checkpoint of `store` at its current size, signed by `key`.
  SignedNote CheckpointOf(const Store& store, const wallet::SecretKey& key,
                          const std::string& origin = kOrigin) {
    Checkpoint c{
        .origin = origin, .size = store.tip()->frontier.size(), .root = store.tip()->frontier.Root()};
    return SignedNote{.text = c.Text(), .signatures = {SignNote(origin, key, c.Text())}};
  }

  std::string Body(const Store& store, uint64_t old_size, const SignedNote& note) {
    StoreNodeSource nodes(store);
    auto proof = ConsistencyProof(nodes, old_size, store.tip()->frontier.size());
    EXPECT_TRUE(proof.ok());
    return AddCheckpointBody(old_size, *proof, note);
  }

  // Submits and expects a cosignature that verifies on `note`.
  void ExpectCosigned(const std::string& body, SignedNote note) {
    auto r = witness_->AddCheckpoint(body);
    ASSERT_TRUE(r.ok()) << WitnessErrorCodeName(r.error().code) << ": " << r.error().message;
    auto lines = ParseSignatureLines(*r);
    ASSERT_TRUE(lines.ok()) << *r;
    ASSERT_EQ(lines->size(), 1u);
    note.AddSignatures(*lines);
    auto t = VerifyCosignature(note, kWitnessName, witness_key_.Public());
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(*t, 1700000000u);
  }

  void ExpectRefused(const std::string& body, WitnessErrorCode code) {
    auto r = witness_->AddCheckpoint(body);
    ASSERT_FALSE(r.ok()) << "cosigned";
    EXPECT_EQ(WitnessErrorCodeName(r.error().code), WitnessErrorCodeName(code)) << r.error().message;
  }

  ScratchDir dir_;
  std::unique_ptr<Store> store_, fork_;
  wallet::SecretKey log_key_ = wallet::SecretKey::Generate();
  wallet::SecretKey witness_key_ = wallet::SecretKey::Generate();
  std::unique_ptr<Witness> witness_;
};

TEST_F(WitnessTest, CosignsConsistentCheckpointsInOrder) {
  AppendBlocks(*store_, {10}, log_key_);
  ExpectCosigned(Body(*store_, 0, CheckpointOf(*store_, log_key_)), CheckpointOf(*store_, log_key_));
  AppendBlocks(*store_, {7, 20}, log_key_);
  SignedNote cp = CheckpointOf(*store_, log_key_);
  ExpectCosigned(Body(*store_, 10, cp), cp);
  EXPECT_EQ(witness_->Latest(kOrigin)->size, 37u);
  // The same checkpoint again (old = size, same root) is cosigned again.
  ExpectCosigned(Body(*store_, 37, cp), cp);
  // State survives a restart.
  OpenWitness();
  EXPECT_EQ(witness_->Latest(kOrigin)->size, 37u);
  EXPECT_EQ(witness_->Latest(kOrigin)->root, store_->tip()->frontier.Root());
}

TEST_F(WitnessTest, RefusesAForkedCheckpoint) {
  AppendBlocks(*store_, {10}, log_key_);
  ExpectCosigned(Body(*store_, 0, CheckpointOf(*store_, log_key_)), CheckpointOf(*store_, log_key_));
  // The fork: other entries from index 4 on, same size and more.
  AppendBlocks(*fork_, {4}, log_key_);
  std::vector<std::string> entries;
  for (int i = 0; i < 10; ++i) entries.push_back("fork" + std::to_string(i));
  MerkleFrontier f = fork_->tip()->frontier;
  for (const auto& e : entries) f.AppendLeaf(LeafHash(e));
  BlockHeader h{.height = 1,
                .prev_hash = fork_->tip()->block_hash,
                .tree_size = f.size(),
                .root = f.Root(),
                .timestamp_ms = 1,
                .record_count = 10,
                .signer = log_key_.Public().bytes()};
  ASSERT_TRUE(fork_->AppendBlock(SignedBlock::Seal(h, log_key_), entries, f, WriteSet(), false).ok());
  const SignedNote forked = CheckpointOf(*fork_, log_key_);  // size 14
  // Its own proof from 10 does not lead to the cosigned root: 422.
  ExpectRefused(Body(*fork_, 10, forked), WitnessErrorCode::kBadProof);
  // Same size, other root: 409.
  Checkpoint same_size{.origin = kOrigin, .size = 10, .root = Sha256(std::string_view("x"))};
  SignedNote same{.text = same_size.Text(), .signatures = {SignNote(kOrigin, log_key_, same_size.Text())}};
  ExpectRefused(AddCheckpointBody(10, {}, same), WitnessErrorCode::kConflict);
  EXPECT_EQ(witness_->Latest(kOrigin)->size, 10u);
}

TEST_F(WitnessTest, AnswersEachProtocolErrorAsSpecified) {
  AppendBlocks(*store_, {10}, log_key_);
  const SignedNote cp = CheckpointOf(*store_, log_key_);
  ExpectCosigned(Body(*store_, 0, cp), cp);
  AppendBlocks(*store_, {5}, log_key_);
  const SignedNote next = CheckpointOf(*store_, log_key_);
  const std::string good = Body(*store_, 10, next);

  // 409 with the known size.
  auto stale = witness_->AddCheckpoint(Body(*store_, 0, next));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, WitnessErrorCode::kConflict);
  EXPECT_EQ(stale.error().known_size, 10u);
  // 400: old size above the checkpoint's.
  ExpectRefused(AddCheckpointBody(16, {}, next), WitnessErrorCode::kOldSizeTooLarge);
  // 404: unknown origin; 403: not signed by a trusted key.
  ExpectRefused(AddCheckpointBody(10, {}, CheckpointOf(*store_, log_key_, "other.example/log")),
                WitnessErrorCode::kUnknownLog);
  ExpectRefused(Body(*store_, 10, CheckpointOf(*store_, wallet::SecretKey::Generate())),
                WitnessErrorCode::kBadSignature);
  // 422: any flipped bit of the proof, a missing or an extra line.
  StoreNodeSource nodes(*store_);
  std::vector<Hash> proof = *ConsistencyProof(nodes, 10, 15);
  for (size_t k = 0; k < proof.size(); ++k) {
    std::vector<Hash> bad = proof;
    bad[k][k % 32] ^= 0x10;
    ExpectRefused(AddCheckpointBody(10, bad, next), WitnessErrorCode::kBadProof);
  }
  std::vector<Hash> shorter(proof.begin(), proof.end() - 1), longer = proof;
  longer.push_back(proof[0]);
  ExpectRefused(AddCheckpointBody(10, shorter, next), WitnessErrorCode::kBadProof);
  ExpectRefused(AddCheckpointBody(10, longer, next), WitnessErrorCode::kBadProof);
  // 400: malformed bodies.
  for (const std::string& bad :
       {std::string(""), std::string("old 10\n"), std::string("old 010\n\n") + next.Serialize(),
        std::string("new 10\n\n") + next.Serialize(),
        std::string("old 10\nnot-base64\n\n") + next.Serialize(), std::string("old 10\n\nnot a note\n")}) {
    ExpectRefused(bad, WitnessErrorCode::kMalformed);
  }
  std::vector<Hash> too_many(kMaxProofLines + 1);
  ExpectRefused(AddCheckpointBody(10, too_many, next), WitnessErrorCode::kMalformed);
  // None of it moved the witness.
  EXPECT_EQ(witness_->Latest(kOrigin)->size, 10u);
  ExpectCosigned(good, next);
}

TEST_F(WitnessTest, ADamagedStateFileStopsTheWitness) {
  AppendBlocks(*store_, {3}, log_key_);
  const SignedNote cp = CheckpointOf(*store_, log_key_);
  ExpectCosigned(Body(*store_, 0, cp), cp);
  std::string path = dir_.path() + "/state";
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(35);
    f.put('9');
  }
  WitnessOptions options{.name = kWitnessName, .logs = {}, .state_path = path};
  auto w = Witness::Open(std::move(options), witness_key_);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, WitnessErrorCode::kIo);
}

// A failure at any point of persisting: nothing is cosigned, the witness
// keeps answering from the state it had, and after a restart it holds
// either the old or the new state, never cosigning a fork of what it
// might have acknowledged.
TEST_F(WitnessTest, AFailedPersistCosignsNothingAndARestartNeverCosignsAFork) {
  for (const char* point : {"persist:begin", "persist:temp-synced", "persist:renamed", "persist:done"}) {
    SCOPED_TRACE(point);
    std::error_code ec;
    std::filesystem::remove(dir_.path() + "/state", ec);
    auto s = Store::Open(StoreOptions{.path = std::string("log-") + point, .in_memory = true});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    OpenWitness();
    AppendBlocks(*store_, {8}, log_key_);
    const SignedNote first = CheckpointOf(*store_, log_key_);
    ExpectCosigned(Body(*store_, 0, first), first);

    // The next checkpoint fails while being persisted.
    AppendBlocks(*store_, {8}, log_key_);
    const SignedNote second = CheckpointOf(*store_, log_key_);
    const std::string body = Body(*store_, 8, second);
    OpenWitness([&](std::string_view at) { return at == point; });
    ExpectRefused(body, WitnessErrorCode::kIo);
    EXPECT_EQ(witness_->Latest(kOrigin)->size, 8u) << "memory keeps the acknowledged state";

    // Restart: a fork of size 16 from the first checkpoint.
    OpenWitness();
    const bool persisted = witness_->Latest(kOrigin)->size == 16;
    EXPECT_EQ(persisted,
              std::string_view(point) != "persist:begin" && std::string_view(point) != "persist:temp-synced");
    Checkpoint fork_cp{.origin = kOrigin, .size = 16, .root = Sha256(std::string_view(point))};
    SignedNote fork{.text = fork_cp.Text(), .signatures = {SignNote(kOrigin, log_key_, fork_cp.Text())}};
    StoreNodeSource nodes(*store_);
    auto forked = witness_->AddCheckpoint(AddCheckpointBody(8, *ConsistencyProof(nodes, 8, 16), fork));
    ASSERT_FALSE(forked.ok()) << "a fork was cosigned";
    EXPECT_EQ(forked.error().code, persisted ? WitnessErrorCode::kConflict : WitnessErrorCode::kBadProof);
    // The original goes through whichever state survived.
    ExpectCosigned(Body(*store_, persisted ? 16 : 8, second), second);
  }
}

}  // namespace
}  // namespace traceledger::chain
