// The write pipeline (group commit, ordering, durability failures) and the
// ledger's lifecycle (create, open, read-only, reopen).
#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <thread>

#include "ledger/audit.h"
#include "tests/ledger/fixture.h"
#include "tests/util/temp_files.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using testing::LedgerFixture;

class TempDir : public traceledger::testing::TempDir {
 public:
  TempDir() : traceledger::testing::TempDir("tl-ledger-test") {}
};

class PipelineTest : public LedgerFixture {
 protected:
  // A merchant with one shipment that custody records can refer to.
  void SetUpShipment() {
    merchant_ = Register("acme", {"merchant"});
    carrier_ = Register("carrier", {"logistics"});
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinA), *merchant_).ok());
    ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L1"), *merchant_).ok());
    ASSERT_TRUE(Submit(RecordKind::kShipment, ShipmentBody("S1", kGtinA, "L1"), *merchant_).ok());
  }
  std::string Custody(int n) {
    return Make(RecordKind::kCustody,
                {{"shipment", "S1"},
                 {"from", "acme"},
                 {"to", "carrier"},
                 {"location", "dock " + std::to_string(n)},
                 {"biz_step", "shipping"}},
                *carrier_);
  }
  std::optional<Actor> merchant_, carrier_;
};

TEST_F(PipelineTest, ConcurrentSubmittersAreAllDurableOnceAndGroupedIntoBlocks) {
  SetUpShipment();
  const uint64_t height_before = ledger_->tip()->height;
  constexpr int kThreads = 16, kPerThread = 60;
  std::vector<std::vector<std::string>> records(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) records[t].push_back(Custody(t * 1000 + i));
  }
  std::vector<std::vector<SubmitResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Half single submissions, half small batches.
        if (i % 2 == 0) {
          results[t].push_back(ledger_->Submit(records[t][i]));
        } else {
          auto batch = ledger_->SubmitBatch(std::span(&records[t][i], 1));
          results[t].push_back(std::move(batch[0]));
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  std::set<uint64_t> indexes;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      ASSERT_TRUE(results[t][i].ok()) << results[t][i].error().ToString();
      EXPECT_TRUE(indexes.insert(results[t][i]->index).second) << "index handed out twice";
      auto stored = ledger_->GetRecord(results[t][i]->id);
      ASSERT_TRUE(stored.ok());
      ASSERT_TRUE(stored->has_value());
      EXPECT_EQ((*stored)->record.entry, records[t][i]);
      EXPECT_EQ((*stored)->height, results[t][i]->height);
    }
  }
  const uint64_t blocks = ledger_->tip()->height - height_before;
  EXPECT_LT(blocks, static_cast<uint64_t>(kThreads * kPerThread)) << "no two records ever shared a block";
  EXPECT_EQ(Audit(ledger_->store()).reason, "");
}

TEST_F(PipelineTest, BatchIsCommittedInOrderSoLaterRecordsMaySeeEarlierOnes) {
  // The merchant's key is registered in the same batch that it then signs in:
  // its signature can only be checked by the committer.
  Actor m{"late", wallet::SecretKey::Generate()};
  std::vector<std::string> batch = {
      Make(RecordKind::kParty,
           {{"party", "late"},
            {"name", "Late Co"},
            {"roles", {"merchant"}},
            {"public_key", m.key.Public().Hex()}},
           op_),
      Make(RecordKind::kProduct, ProductBody(kGtinB), m),
      Make(RecordKind::kLot, LotBody(kGtinB, "X1"), m),
  };
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_EQ(results.size(), 3u);
  for (auto& r : results) ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_LT(results[0]->index, results[1]->index);
  EXPECT_LT(results[1]->index, results[2]->index);
  EXPECT_EQ(results[0]->height, results[2]->height) << "one batch, one block";
}

TEST_F(PipelineTest, BadRecordsInABatchAreRejectedAloneAndChangeNothing) {
  SetUpShipment();
  auto tip_before = ledger_->tip();
  std::string forged = WithBadSignature(Custody(1));
  std::vector<std::string> batch = {Custody(2), forged, "{not json", Custody(3)};
  auto results = ledger_->SubmitBatch(batch);
  EXPECT_TRUE(results[0].ok());
  ExpectReject(results[1], RejectCode::kBadSignature, "sig");
  ExpectReject(results[2], RejectCode::kMalformed);
  EXPECT_TRUE(results[3].ok());
  EXPECT_EQ(ledger_->tip()->frontier.size(), tip_before->frontier.size() + 2);
}

TEST_F(PipelineTest, KeyRegisteredInTheSameBatchWithABadSignatureIsRejected) {
  Actor m{"late", wallet::SecretKey::Generate()};
  std::string product = WithBadSignature(Make(RecordKind::kProduct, ProductBody(kGtinB), m));
  std::vector<std::string> batch = {Make(RecordKind::kParty,
                                         {{"party", "late"},
                                          {"name", "Late Co"},
                                          {"roles", {"merchant"}},
                                          {"public_key", m.key.Public().Hex()}},
                                         op_),
                                    product};
  auto results = ledger_->SubmitBatch(batch);
  EXPECT_TRUE(results[0].ok());
  ExpectReject(results[1], RejectCode::kBadSignature, "sig");
}

TEST_F(PipelineTest, BlockTimeNeverGoesBackwards) {
  SetUpShipment();
  now_ms_ += 60'000;
  ASSERT_TRUE(ledger_->Submit(Custody(1)).ok());
  uint64_t t1 = (*ledger_->GetBlock(ledger_->tip()->height))->header.timestamp_ms;
  now_ms_ -= 30'000;  // the wall clock steps back
  ASSERT_TRUE(ledger_->Submit(Custody(2)).ok());
  uint64_t t2 = (*ledger_->GetBlock(ledger_->tip()->height))->header.timestamp_ms;
  EXPECT_GE(t2, t1);
}

TEST(LedgerLifecycleTest, CreateOpenReopenAndReadOnly) {
  TempDir dir;
  LedgerOptions options{.path = dir.path() + "/ledger"};
  wallet::SecretKey op = wallet::SecretKey::Generate();
  wallet::SecretKey stranger = wallet::SecretKey::Generate();

  auto missing = Ledger::Open(options, op);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, LedgerErrorCode::kNoGenesis);

  chain::Hash product_id;
  {
    auto created = Ledger::Create(options, op, OperatorIdentity{.party = "op", .name = "Op"});
    ASSERT_TRUE(created.ok()) << created.error().message;
    auto& ledger = *created.value();
    Actor m{"acme", wallet::SecretKey::Generate()};
    ASSERT_TRUE(ledger
                    .Submit(SignRecord(RecordKind::kParty,
                                       {{"party", "acme"},
                                        {"name", "Acme"},
                                        {"roles", {"merchant"}},
                                        {"public_key", m.key.Public().Hex()}},
                                       op, 1)
                                .entry)
                    .ok());
    auto product = ledger.Submit(
        SignRecord(RecordKind::kProduct, LedgerFixture::ProductBody("09501101530003"), m.key, 1).entry);
    ASSERT_TRUE(product.ok());
    product_id = product->id;
  }
  auto again = Ledger::Create(options, op, OperatorIdentity{.party = "op", .name = "Op"});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, LedgerErrorCode::kExists);

  auto not_operator = Ledger::Open(options, stranger);
  ASSERT_FALSE(not_operator.ok());
  EXPECT_EQ(not_operator.error().code, LedgerErrorCode::kNotOperator);

  auto read_only = Ledger::Open(options, std::nullopt);
  ASSERT_TRUE(read_only.ok());
  EXPECT_EQ((*read_only)->tip()->height, 2u);
  auto found = (*read_only)->GetProduct("09501101530003");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->record.id, product_id);
  auto refused =
      (*read_only)
          ->Submit(
              SignRecord(RecordKind::kRoleGrant, {{"party", "acme"}, {"role", "logistics"}}, op, 1).entry);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, RejectCode::kUnavailable);
}

TEST(LedgerDurabilityTest, FailedSyncAcknowledgesNothingAndRefusesFurtherWrites) {
  TempDir dir;
  chain::FaultInjector faults;
  LedgerOptions options{.path = dir.path() + "/ledger", .faults = &faults};
  wallet::SecretKey op = wallet::SecretKey::Generate();
  uint64_t size_before = 0;
  {
    auto created = Ledger::Create(options, op, OperatorIdentity{.party = "op", .name = "Op"});
    ASSERT_TRUE(created.ok());
    auto& ledger = *created.value();
    size_before = ledger.tip()->frontier.size();
    faults.fail_syncs = true;
    auto grant = SignRecord(RecordKind::kParty,
                            {{"party", "acme"},
                             {"name", "Acme"},
                             {"roles", {"merchant"}},
                             {"public_key", wallet::SecretKey::Generate().Public().Hex()}},
                            op, 1);
    auto r = ledger.Submit(grant.entry);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, RejectCode::kUnavailable);
    faults.fail_syncs = false;
    // The ledger stays down: it cannot know what reached the disk.
    auto later = ledger.Submit(
        SignRecord(RecordKind::kRoleGrant, {{"party", "op"}, {"role", "regulator"}}, op, 1).entry);
    ASSERT_FALSE(later.ok());
    EXPECT_EQ(later.error().code, RejectCode::kUnavailable);
  }
  options.faults = nullptr;
  auto reopened = Ledger::Open(options, op);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  // The unacknowledged block may or may not have reached the disk, but if it
  // did it is whole, and the ledger verifies either way.
  uint64_t size_after = (*reopened)->tip()->frontier.size();
  EXPECT_TRUE(size_after == size_before || size_after == size_before + 1);
  EXPECT_TRUE(Audit((*reopened)->store()).ok);
  EXPECT_TRUE(
      (*reopened)
          ->Submit(SignRecord(RecordKind::kRoleGrant, {{"party", "op"}, {"role", "regulator"}}, op, 2).entry)
          .ok());
}

}  // namespace
}  // namespace traceledger::ledger
