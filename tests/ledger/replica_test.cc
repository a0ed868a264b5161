// Replica: verify-then-store of a primary's blocks (ledger/replica.h), and
// the block range transfer framing (FORMAT.md §13).
//
// The primary is the fixture's in-memory ledger; the replica an in-memory
// mirror. Tampered blocks are built from a valid one (sealed with the real
// operator key where the tamper must get past the signature) and must be
// refused with their specific ReplicaErrorCode while nothing is stored.
#include "ledger/replica.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "chain/block.h"
#include "chain/merkle.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "tests/ledger/fixture.h"
#include "tests/ledger/replica_support.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using traceledger::testing::CompareStores;
using traceledger::testing::CountKeys;

class ReplicaTest : public testing::LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    merchant_ = Register("acme", {"merchant"});
    lab_ = Register("lab", {"inspector"});
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinA), merchant_).ok());
    auto mirror =
        Ledger::OpenMirror(LedgerOptions{.path = "mirror-" + std::to_string(counter_++), .in_memory = true});
    ASSERT_TRUE(mirror.ok()) << mirror.error().message;
    mirror_ = std::move(mirror).value();
    replica_ = std::make_unique<Replica>(*mirror_, ReplicaOptions{.threads = 2});
  }

  std::vector<TransferredBlock> PrimaryBlocks(uint64_t from, uint32_t max_blocks = 1000) {
    auto range = ReadBlockRange(ledger_->store(), from, max_blocks);
    EXPECT_TRUE(range.ok()) << range.error().message;
    return range.ok() ? range->blocks : std::vector<TransferredBlock>{};
  }

  uint64_t MirrorNext() const {
    auto tip = mirror_->tip();
    return tip ? tip->height + 1 : 0;
  }

  // Applies every primary block the mirror lacks; expects all stored.
  void SyncAll() {
    auto blocks = PrimaryBlocks(MirrorNext());
    ApplyResult r = replica_->Apply(blocks);
    ASSERT_FALSE(r.error) << r.error->ToString();
    EXPECT_EQ(r.blocks, blocks.size());
  }

  // A valid block extending `tip` (default: the mirror's) with `entries`,
  // sealed by `key` after `edit` changed the header.
  TransferredBlock NextBlock(std::vector<std::string> entries, const wallet::SecretKey& key,
                             const std::function<void(chain::BlockHeader&)>& edit = {},
                             std::optional<chain::Tip> tip = std::nullopt) {
    if (!tip) tip = mirror_->tip();
    chain::MerkleFrontier frontier = tip->frontier;
    for (const auto& e : entries) frontier.AppendLeaf(chain::LeafHash(e));
    chain::BlockHeader h{.height = tip->height + 1,
                         .prev_hash = tip->block_hash,
                         .tree_size = frontier.size(),
                         .root = frontier.Root(),
                         .timestamp_ms = static_cast<uint64_t>(now_ms_.load()),
                         .record_count = static_cast<uint32_t>(entries.size()),
                         .signer = key.Public().bytes()};
    if (edit) edit(h);
    return TransferredBlock{chain::SignedBlock::Seal(h, key).Serialize(), std::move(entries)};
  }

  // The tip after `block` (for building a second block on top of it).
  static chain::Tip TipAfter(const chain::Tip& tip, const TransferredBlock& block) {
    chain::Tip next = tip;
    for (const auto& e : block.entries) next.frontier.AppendLeaf(chain::LeafHash(e));
    auto parsed = chain::SignedBlock::Parse(block.block);
    next.height = parsed->header.height;
    next.block_hash = parsed->header.ComputeHash();
    return next;
  }

  // Expects the blocks refused with `code` (and `reject`), nothing stored.
  void ExpectRefused(const std::vector<TransferredBlock>& blocks, ReplicaErrorCode code,
                     std::optional<RejectCode> reject = std::nullopt) {
    const auto tip_before = mirror_->tip();
    const size_t keys_before = CountKeys(mirror_->store());
    ApplyResult r = replica_->Apply(blocks);
    EXPECT_EQ(r.blocks, 0u);
    ASSERT_TRUE(r.error) << "expected " << ReplicaErrorCodeName(code) << ", got accepted";
    EXPECT_EQ(ReplicaErrorCodeName(r.error->code), ReplicaErrorCodeName(code)) << r.error->ToString();
    EXPECT_EQ(r.error->height, MirrorNext()) << r.error->ToString();
    if (reject) {
      ASSERT_TRUE(r.error->reject) << r.error->ToString();
      EXPECT_EQ(RejectCodeName(r.error->reject->code), RejectCodeName(*reject)) << r.error->ToString();
    }
    ASSERT_TRUE(mirror_->tip().has_value() == tip_before.has_value());
    if (tip_before) {
      EXPECT_EQ(mirror_->tip()->block_hash, tip_before->block_hash);
    }
    EXPECT_EQ(CountKeys(mirror_->store()), keys_before) << "a refused block left keys behind";
  }

  std::string Lot(const std::string& lot) { return Make(RecordKind::kLot, LotBody(kGtinA, lot), merchant_); }

  Actor merchant_{"", wallet::SecretKey::Generate()};
  Actor lab_{"", wallet::SecretKey::Generate()};
  std::unique_ptr<Ledger> mirror_;
  std::unique_ptr<Replica> replica_;
};

TEST_F(ReplicaTest, ReplicatesThePrimaryByteForByte) {
  // Several blocks, applied in two calls.
  ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L1"), merchant_).ok());
  ASSERT_TRUE(Submit(RecordKind::kShipment, ShipmentBody("S1", kGtinA, "L1"), merchant_).ok());
  auto first = PrimaryBlocks(0, 3);
  ASSERT_EQ(first.size(), 3u);
  ApplyResult r = replica_->Apply(first);
  ASSERT_FALSE(r.error) << r.error->ToString();
  EXPECT_EQ(r.blocks, 3u);
  SyncAll();

  EXPECT_EQ(mirror_->tip()->block_hash, ledger_->tip()->block_hash);
  EXPECT_EQ(CompareStores(ledger_->store(), mirror_->store()), "");
  AuditReport audit = Audit(mirror_->store());
  EXPECT_TRUE(audit.ok) << audit.reason;
  // Reads on the mirror see the replicated facts (its caches learned them).
  auto lot = mirror_->GetLot(kGtinA, "L1");
  ASSERT_TRUE(lot.ok()) << lot.error().message;
  EXPECT_TRUE(lot->has_value());
  auto history = mirror_->ShipmentHistory("S1");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 1u);
  // A mirror takes no submissions.
  auto submitted = mirror_->Submit(Lot("L2"));
  ASSERT_FALSE(submitted.ok());
  EXPECT_EQ(RejectCodeName(submitted.error().code), RejectCodeName(RejectCode::kUnavailable));
}

TEST_F(ReplicaTest, AcceptsAValidBlockBuiltByTheTest) {
  // The control for the tamper tests below: the untampered block passes.
  SyncAll();
  ApplyResult r = replica_->Apply(std::vector<TransferredBlock>{NextBlock({Lot("L1"), Lot("L2")}, op_.key)});
  ASSERT_FALSE(r.error) << r.error->ToString();
  EXPECT_EQ(r.blocks, 1u);
  EXPECT_EQ(r.records, 2u);
  AuditReport audit = Audit(mirror_->store());
  EXPECT_TRUE(audit.ok) << audit.reason;
}

TEST_F(ReplicaTest, KeysRegisteredEarlierInTheSameRangeVerify) {
  // Block 1 registers a merchant; block 2 holds its records. Their
  // signatures cannot be pre-verified against committed state, so they are
  // verified in log order.
  SyncAll();
  Actor beta{"beta", wallet::SecretKey::Generate()};
  std::string reg = Make(RecordKind::kParty,
                         {{"party", "beta"},
                          {"name", "Beta Ltd"},
                          {"roles", {"merchant"}},
                          {"public_key", beta.key.Public().Hex()}},
                         op_);
  TransferredBlock b1 = NextBlock({reg}, op_.key);
  TransferredBlock b2 = NextBlock({Make(RecordKind::kProduct, ProductBody(kGtinB), beta)}, op_.key, {},
                                  TipAfter(*mirror_->tip(), b1));
  ApplyResult r = replica_->Apply(std::vector<TransferredBlock>{b1, b2});
  ASSERT_FALSE(r.error) << r.error->ToString();
  EXPECT_EQ(r.blocks, 2u);
  auto product = mirror_->GetProduct(kGtinB);
  ASSERT_TRUE(product.ok()) << product.error().message;
  EXPECT_TRUE(product->has_value());
}

TEST_F(ReplicaTest, FindsABadSignatureUnderAKeyRegisteredInTheRange) {
  // Such signatures are checked after the rules pass; the earliest failure
  // still wins: here the bad signature (index first+1) over the
  // unauthorized record after it (first+2), and block 1 is kept.
  SyncAll();
  const chain::Tip start = *mirror_->tip();
  Actor beta{"beta", wallet::SecretKey::Generate()};
  std::string reg = Make(RecordKind::kParty,
                         {{"party", "beta"},
                          {"name", "Beta Ltd"},
                          {"roles", {"merchant"}},
                          {"public_key", beta.key.Public().Hex()}},
                         op_);
  TransferredBlock b1 = NextBlock({reg}, op_.key);
  TransferredBlock b2 =
      NextBlock({Lot("L1"), WithBadSignature(Make(RecordKind::kProduct, ProductBody(kGtinB), beta)),
                 Make(RecordKind::kProduct, ProductBody(kGtinB), lab_)},
                op_.key, {}, TipAfter(start, b1));
  ApplyResult r = replica_->Apply(std::vector<TransferredBlock>{b1, b2});
  EXPECT_EQ(r.blocks, 1u);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(ReplicaErrorCodeName(r.error->code), ReplicaErrorCodeName(ReplicaErrorCode::kBadRecord));
  ASSERT_TRUE(r.error->reject);
  EXPECT_EQ(RejectCodeName(r.error->reject->code), RejectCodeName(RejectCode::kBadSignature))
      << r.error->ToString();
  EXPECT_EQ(r.error->index, start.frontier.size() + 2);
  EXPECT_EQ(mirror_->tip()->height, start.height + 1);
  auto lot = mirror_->GetLot(kGtinA, "L1");
  ASSERT_TRUE(lot.ok());
  EXPECT_FALSE(lot->has_value());
}

TEST_F(ReplicaTest, RefusesABadBlockSignature) {
  SyncAll();
  TransferredBlock b = NextBlock({Lot("L1")}, op_.key);
  b.block[chain::kHeaderSize + 5] ^= 0x01;
  ExpectRefused({b}, ReplicaErrorCode::kBadBlockSignature);
}

TEST_F(ReplicaTest, RefusesAHeaderChangedAfterSealing) {
  SyncAll();
  TransferredBlock b = NextBlock({Lot("L1")}, op_.key);
  b.block[60] ^= 0x01;  // a byte of the root; the signature no longer matches
  ExpectRefused({b}, ReplicaErrorCode::kBadBlockSignature);
}

TEST_F(ReplicaTest, RefusesAWrongRootEvenWhenSigned) {
  SyncAll();
  ExpectRefused({NextBlock({Lot("L1")}, op_.key, [](chain::BlockHeader& h) { h.root[0] ^= 0x01; })},
                ReplicaErrorCode::kWrongRoot);
}

TEST_F(ReplicaTest, RefusesAWrongTreeSize) {
  SyncAll();
  ExpectRefused({NextBlock({Lot("L1")}, op_.key, [](chain::BlockHeader& h) { h.tree_size += 1; })},
                ReplicaErrorCode::kWrongTreeSize);
}

TEST_F(ReplicaTest, RefusesAnUnauthorizedRecord) {
  // A product signed by the inspection lab, which lacks the merchant role,
  // in a block the operator sealed with the right root.
  SyncAll();
  ExpectRefused({NextBlock({Make(RecordKind::kProduct, ProductBody(kGtinB), lab_)}, op_.key)},
                ReplicaErrorCode::kBadRecord, RejectCode::kUnauthorized);
}

TEST_F(ReplicaTest, RefusesABadRecordSignature) {
  SyncAll();
  ExpectRefused({NextBlock({WithBadSignature(Lot("L1"))}, op_.key)}, ReplicaErrorCode::kBadRecord,
                RejectCode::kBadSignature);
}

TEST_F(ReplicaTest, RefusesAnEntryNotInCanonicalForm) {
  SyncAll();
  ExpectRefused({NextBlock({" " + Lot("L1")}, op_.key)}, ReplicaErrorCode::kBadRecord,
                RejectCode::kMalformed);
}

TEST_F(ReplicaTest, RefusesARecordReplayedWithinTheRange) {
  SyncAll();
  std::string lot = Lot("L1");
  TransferredBlock b1 = NextBlock({lot}, op_.key);
  TransferredBlock b2 = NextBlock({lot}, op_.key, {}, TipAfter(*mirror_->tip(), b1));
  ApplyResult r = replica_->Apply(std::vector<TransferredBlock>{b1, b2});
  EXPECT_EQ(r.blocks, 1u);  // b1 is fine and stored; b2 repeats its record
  ASSERT_TRUE(r.error);
  EXPECT_EQ(ReplicaErrorCodeName(r.error->code), ReplicaErrorCodeName(ReplicaErrorCode::kBadRecord));
  ASSERT_TRUE(r.error->reject);
  EXPECT_EQ(RejectCodeName(r.error->reject->code), RejectCodeName(RejectCode::kReplay));
  EXPECT_EQ(mirror_->tip()->height, ledger_->tip()->height + 1);
}

TEST_F(ReplicaTest, RefusesABrokenLink) {
  SyncAll();
  ExpectRefused({NextBlock({Lot("L1")}, op_.key, [](chain::BlockHeader& h) { h.prev_hash[3] ^= 0x01; })},
                ReplicaErrorCode::kBrokenLink);
}

TEST_F(ReplicaTest, RefusesAWrongHeight) {
  SyncAll();
  ExpectRefused({NextBlock({Lot("L1")}, op_.key, [](chain::BlockHeader& h) { h.height += 1; })},
                ReplicaErrorCode::kWrongHeight);
}

TEST_F(ReplicaTest, RefusesTimeGoingBackwards) {
  SyncAll();
  ExpectRefused({NextBlock({Lot("L1")}, op_.key, [](chain::BlockHeader& h) { h.timestamp_ms -= 1; })},
                ReplicaErrorCode::kTimestamp);
}

TEST_F(ReplicaTest, RefusesASignerWithoutTheOperatorRole) {
  SyncAll();
  ExpectRefused({NextBlock({Lot("L1")}, merchant_.key)}, ReplicaErrorCode::kBadSigner);
  ExpectRefused({NextBlock({Lot("L1")}, wallet::SecretKey::Generate())}, ReplicaErrorCode::kBadSigner);
}

TEST_F(ReplicaTest, RefusesEntriesThatDoNotMatchTheRecordCount) {
  SyncAll();
  TransferredBlock b = NextBlock({Lot("L1"), Lot("L2")}, op_.key);
  b.entries.pop_back();
  ExpectRefused({b}, ReplicaErrorCode::kMalformed);
  TransferredBlock short_block = NextBlock({Lot("L1")}, op_.key);
  short_block.block.resize(100);
  ExpectRefused({short_block}, ReplicaErrorCode::kMalformed);
}

TEST_F(ReplicaTest, RefusesAGenesisNotSealedByTheKeyItRegisters) {
  // Entry 0 is the primary's genesis record, sealed by another key.
  auto genesis = PrimaryBlocks(0, 1);
  ASSERT_EQ(genesis.size(), 1u);
  wallet::SecretKey other = wallet::SecretKey::Generate();
  chain::BlockHeader h = chain::SignedBlock::Parse(genesis[0].block)->header;
  h.signer = other.Public().bytes();
  ExpectRefused({TransferredBlock{chain::SignedBlock::Seal(h, other).Serialize(), genesis[0].entries}},
                ReplicaErrorCode::kBadSigner);
  // The real genesis passes.
  ApplyResult r = replica_->Apply(genesis);
  EXPECT_FALSE(r.error) << r.error->ToString();
}

TEST_F(ReplicaTest, StoresTheVerifiedPrefixOfARangeAndNothingAfterABadBlock) {
  SyncAll();
  const chain::Tip start = *mirror_->tip();
  TransferredBlock good = NextBlock({Lot("L1")}, op_.key);
  chain::Tip after_good = TipAfter(start, good);
  TransferredBlock bad =
      NextBlock({Make(RecordKind::kProduct, ProductBody(kGtinB), lab_)}, op_.key, {}, after_good);
  TransferredBlock later = NextBlock({Lot("L3")}, op_.key, {}, TipAfter(after_good, bad));
  ApplyResult r = replica_->Apply(std::vector<TransferredBlock>{good, bad, later});
  EXPECT_EQ(r.blocks, 1u);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(ReplicaErrorCodeName(r.error->code), ReplicaErrorCodeName(ReplicaErrorCode::kBadRecord));
  EXPECT_EQ(r.error->height, start.height + 2);
  EXPECT_EQ(r.error->index, start.frontier.size() + 1);
  EXPECT_EQ(mirror_->tip()->height, start.height + 1);
  auto lot3 = mirror_->GetLot(kGtinA, "L3");
  ASSERT_TRUE(lot3.ok());
  EXPECT_FALSE(lot3->has_value());
  AuditReport audit = Audit(mirror_->store());
  EXPECT_TRUE(audit.ok) << audit.reason;
}

// ------------------------------------------------------------ framing

TEST_F(ReplicaTest, BlockRangesRoundTrip) {
  ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L1"), merchant_).ok());
  auto range = ReadBlockRange(ledger_->store(), 1, 3);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->blocks.size(), 3u);
  ASSERT_TRUE(range->link.has_value());
  auto block0 = ledger_->GetBlock(0);
  EXPECT_EQ(*range->link, (*block0)->Serialize());
  auto decoded = DecodeBlockRange(EncodeBlockRange(*range));
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->from, 1u);
  EXPECT_EQ(decoded->link, range->link);
  ASSERT_EQ(decoded->blocks.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(decoded->blocks[i].block, range->blocks[i].block);
    EXPECT_EQ(decoded->blocks[i].entries, range->blocks[i].entries);
  }
  // At the tip + 1: no blocks, but the tip as the link.
  const uint64_t next = ledger_->tip()->height + 1;
  auto empty = ReadBlockRange(ledger_->store(), next, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->blocks.empty());
  ASSERT_TRUE(empty->link.has_value());
  EXPECT_EQ(chain::SignedBlock::Parse(*empty->link)->header.height, next - 1);
}

TEST_F(ReplicaTest, BlockRangesStopAtTheByteCapAfterAtLeastOneBlock) {
  ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L1"), merchant_).ok());
  auto one = ReadBlockRange(ledger_->store(), 0, 100, /*max_bytes=*/1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->blocks.size(), 1u);
  auto all = ReadBlockRange(ledger_->store(), 0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->blocks.size(), ledger_->tip()->height + 1);
}

TEST_F(ReplicaTest, DecodingRefusesDamagedRanges) {
  auto range = ReadBlockRange(ledger_->store(), 1, 2);
  ASSERT_TRUE(range.ok());
  const std::string good = EncodeBlockRange(*range);
  ASSERT_TRUE(DecodeBlockRange(good).ok());
  auto expect_error = [](const std::string& bytes, const std::string& needle,
                         uint32_t max = kMaxRangeBlocks) {
    auto r = DecodeBlockRange(bytes, max);
    ASSERT_FALSE(r.ok()) << "decoded a damaged range";
    EXPECT_NE(r.error().find(needle), std::string::npos) << r.error();
  };
  expect_error("XLR1" + good.substr(4), "missing TLR1 header");
  expect_error(good.substr(0, good.size() - 1), "truncated");
  expect_error(good + "x", "bytes after the last block");
  expect_error(good, "at most 1", /*max=*/1);
  std::string bad_flag = good;
  bad_flag[16] = 2;
  expect_error(bad_flag, "link flag");
  // A record count beyond the chain's cap is refused before allocating.
  std::string huge = good;
  const size_t count_at = 17 + chain::kSignedBlockSize + 92;
  huge[count_at] = '\x7f';
  expect_error(huge, "claims");
}

}  // namespace
}  // namespace traceledger::ledger
