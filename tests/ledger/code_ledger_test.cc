// Codes on the ledger: code_issuance parts and their rules, SubmitAtomic's
// all-or-nothing blocks, and the verified code reads (GetCode,
// GetCodeStatus, GetCodeBatch, GetKey), through a real in-memory ledger.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "ledger/schema.h"
#include "ledger/state.h"
#include "tests/ledger/fixture.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using testing::LedgerFixture;

class CodeLedgerTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    Populate();
  }
  // acme (merchant) with product A and lots L1, L2; globex, lab, samr.
  void Populate() {
    acme_ = Register("acme", {"merchant"});
    globex_ = Register("globex", {"merchant"});
    lab_ = Register("lab", {"inspector"});
    samr_ = Register("samr", {"regulator"});
    Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
    Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_);
    Accept(RecordKind::kLot, LotBody(kGtinA, "L2"), acme_);
  }

  Receipt Accept(RecordKind kind, const Json& body, const Actor& author) {
    auto r = Submit(kind, body, author);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : Receipt{};
  }

  static Json Part(const std::string& lot, const std::string& batch, int part, int parts,
                   std::vector<std::string> serials) {
    return {{"gtin", kGtinA}, {"lot", lot},     {"batch", batch},
            {"part", part},   {"parts", parts}, {"serials", serials}};
  }

  std::vector<std::string> Serials(const std::string& prefix, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
    return out;
  }

  uint64_t TreeSize() const { return ledger_->tip()->frontier.size(); }

  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor globex_ = acme_, lab_ = acme_, samr_ = acme_;
};

TEST_F(CodeLedgerTest, EverySerialOfABatchCanBeLookedUp) {
  std::vector<std::string> parts = {
      Make(RecordKind::kCodeIssuance, Part("L1", "B1", 1, 2, Serials("A", 5)), acme_),
      Make(RecordKind::kCodeIssuance, Part("L1", "B1", 2, 2, Serials("B", 3)), acme_)};
  auto results = ledger_->SubmitAtomic(parts);
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(results[0].ok()) << results[0].error().ToString();
  ASSERT_TRUE(results[1].ok()) << results[1].error().ToString();
  EXPECT_EQ(results[0]->height, results[1]->height);
  EXPECT_EQ(results[1]->index, results[0]->index + 1);

  for (int part = 0; part < 2; ++part) {
    auto serials = Serials(part == 0 ? "A" : "B", part == 0 ? 5 : 3);
    for (size_t i = 0; i < serials.size(); ++i) {
      auto code = ledger_->GetCode(kGtinA, serials[i]);
      ASSERT_TRUE(code.ok()) << code.error().message;
      ASSERT_TRUE(code->has_value()) << serials[i];
      EXPECT_EQ((*code)->issuance->record.id, results[static_cast<size_t>(part)]->id);
      EXPECT_EQ((*code)->issuance->index, results[static_cast<size_t>(part)]->index);
      EXPECT_EQ((*code)->position, i);
      EXPECT_EQ((*code)->lot(), "L1");
      EXPECT_EQ((*code)->batch(), "B1");
    }
  }
  // Never issued, or issued under another GTIN: absent, not an error.
  EXPECT_FALSE(ledger_->GetCode(kGtinA, "A5")->has_value());
  EXPECT_FALSE(ledger_->GetCode(kGtinB, "A0")->has_value());

  auto batch = ledger_->GetCodeBatch(kGtinA, "B1");
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].record.id, results[0]->id);
  EXPECT_EQ((*batch)[1].record.id, results[1]->id);
  EXPECT_TRUE(ledger_->GetCodeBatch(kGtinA, "B")->empty());  // a prefix of B1 is another batch
  EXPECT_TRUE(ledger_->GetCodeBatch(kGtinA, "B404")->empty());

  AuditReport report = Audit(ledger_->store());
  EXPECT_TRUE(report.ok) << report.reason;
}

TEST_F(CodeLedgerTest, PartsFollowEachOtherInOneBatch) {
  // Part 2 before part 1.
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L1", "B1", 2, 3, {"X1"}), acme_),
               RejectCode::kUnknownReference, "body.batch");
  Accept(RecordKind::kCodeIssuance, Part("L1", "B1", 1, 3, {"S1", "S2"}), acme_);
  // A second part 1 of the same batch id (another lot too).
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L2", "B1", 1, 1, {"S3"}), acme_),
               RejectCode::kDuplicate, "body.batch");
  // Part 3 skipping part 2; part 2 of another lot or parts count.
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L1", "B1", 3, 3, {"S3"}), acme_),
               RejectCode::kConflict, "body.part");
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L2", "B1", 2, 3, {"S3"}), acme_),
               RejectCode::kConflict, "body.part");
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L1", "B1", 2, 4, {"S3"}), acme_),
               RejectCode::kConflict, "body.part");
  Accept(RecordKind::kCodeIssuance, Part("L1", "B1", 2, 3, {"S3"}), acme_);
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L1", "B1", 2, 3, {"S4"}), acme_),
               RejectCode::kDuplicate, "body.part");
  // A serial is never issued twice for a GTIN: not in a later part, not in
  // another batch, not in another lot.
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L1", "B1", 3, 3, {"S4", "S2"}), acme_),
               RejectCode::kDuplicate, "body.serials[1]");
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L2", "B2", 1, 1, {"S5", "S6", "S3"}), acme_),
               RejectCode::kDuplicate, "body.serials[2]");
  Accept(RecordKind::kCodeIssuance, Part("L1", "B1", 3, 3, {"S4"}), acme_);
  // Part beyond parts is a schema error.
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L1", "B1", 4, 3, {"S9"}), acme_), RejectCode::kSchema,
               "body.part");
  // Another merchant cannot issue for acme's lot.
  ExpectReject(Submit(RecordKind::kCodeIssuance, Part("L1", "G1", 1, 1, {"S9"}), globex_),
               RejectCode::kNotOwner, "body.lot");
  EXPECT_EQ(ledger_->GetCodeBatch(kGtinA, "B1")->size(), 3u);
  AuditReport report = Audit(ledger_->store());
  EXPECT_TRUE(report.ok) << report.reason;
}

TEST_F(CodeLedgerTest, PinFieldsComeTogetherAndMatchTheSerials) {
  Json part = Part("L1", "B1", 1, 1, {"S1", "S2"});
  part["pin_hashes"] = {std::string(32, 'a'), std::string(32, 'b')};
  ExpectReject(Submit(RecordKind::kCodeIssuance, part, acme_), RejectCode::kSchema, "body.pin_salt");
  part["pin_salt"] = std::string(32, 'c');
  part["pin_hashes"] = {std::string(32, 'a')};
  ExpectReject(Submit(RecordKind::kCodeIssuance, part, acme_), RejectCode::kSchema, "body.pin_hashes");
  part["pin_hashes"] = {std::string(32, 'a'), std::string(31, 'b')};
  ExpectReject(Submit(RecordKind::kCodeIssuance, part, acme_), RejectCode::kSchema, "body.pin_hashes[1]");
  part.erase("pin_hashes");
  ExpectReject(Submit(RecordKind::kCodeIssuance, part, acme_), RejectCode::kSchema, "body.pin_hashes");
  part["pin_hashes"] = {std::string(32, 'a'), std::string(32, 'b')};
  Accept(RecordKind::kCodeIssuance, part, acme_);
}

TEST_F(CodeLedgerTest, RecordsAboveOneMebibyteAreRejected) {
  // Serials of 20 characters, 10,000 of them with 32-hex PIN hashes, stay
  // below the limit; the limit itself applies to the text.
  std::string big = Make(RecordKind::kCodeIssuance, Part("L1", "B1", 1, 1, {"S1"}), acme_);
  big.insert(big.size() - 1, std::string(kMaxRecordBytes, ' '));
  ExpectReject(ledger_->Submit(big), RejectCode::kSchema, "");
  std::vector<std::string> serials;
  std::vector<std::string> hashes;
  for (int i = 0; i < kMaxSerialsPerPart; ++i) {
    std::string s = std::to_string(i);
    serials.push_back(std::string(20 - s.size(), 'Z') + s);
    hashes.push_back(std::string(32, 'f'));
  }
  Json part = Part("L1", "B1", 1, 1, serials);
  part["pin_salt"] = std::string(32, 'c');
  part["pin_hashes"] = hashes;
  std::string largest = Make(RecordKind::kCodeIssuance, part, acme_);
  EXPECT_LT(largest.size(), kMaxRecordBytes);
  auto r = ledger_->Submit(largest);
  EXPECT_TRUE(r.ok()) << r.error().ToString();
}

TEST_F(CodeLedgerTest, SubmitAtomicIsAllOrNothing) {
  Accept(RecordKind::kCodeIssuance, Part("L2", "OLD", 1, 1, {"TAKEN"}), acme_);
  const uint64_t size_before = TreeSize();
  const uint64_t height_before = ledger_->tip()->height;

  // The third part reuses a serial: it says why; the others are aborted.
  std::vector<std::string> parts = {
      Make(RecordKind::kCodeIssuance, Part("L1", "B1", 1, 3, {"P1"}), acme_),
      Make(RecordKind::kCodeIssuance, Part("L1", "B1", 2, 3, {"P2"}), acme_),
      Make(RecordKind::kCodeIssuance, Part("L1", "B1", 3, 3, {"P3", "TAKEN"}), acme_),
  };
  auto results = ledger_->SubmitAtomic(parts);
  ASSERT_EQ(results.size(), 3u);
  ExpectReject(results[0], RejectCode::kAborted);
  ExpectReject(results[1], RejectCode::kAborted);
  ExpectReject(results[2], RejectCode::kDuplicate, "body.serials[1]");
  EXPECT_NE(results[0].error().message.find("record 3 of 3"), std::string::npos)
      << results[0].error().message;
  EXPECT_EQ(TreeSize(), size_before);
  EXPECT_EQ(ledger_->tip()->height, height_before);
  EXPECT_FALSE(ledger_->GetCode(kGtinA, "P1")->has_value());
  EXPECT_TRUE(ledger_->GetCodeBatch(kGtinA, "B1")->empty());

  // A bad signature is found before anything is queued; same answer shape.
  std::string forged = parts[1];
  size_t at = forged.find("\"sig\":\"") + 7;
  forged[at] = forged[at] == '0' ? '1' : '0';
  std::vector<std::string> with_forgery = {parts[0], forged, parts[2]};
  results = ledger_->SubmitAtomic(with_forgery);
  ExpectReject(results[0], RejectCode::kAborted);
  ExpectReject(results[1], RejectCode::kBadSignature, "sig");
  EXPECT_EQ(TreeSize(), size_before);

  // Fixed, the three parts land together in one block.
  parts[2] = Make(RecordKind::kCodeIssuance, Part("L1", "B1", 3, 3, {"P3"}), acme_);
  results = ledger_->SubmitAtomic(parts);
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(results[0]->height, results[2]->height);
  EXPECT_EQ(results[0]->index, size_before);
  EXPECT_EQ(ledger_->GetCodeBatch(kGtinA, "B1")->size(), 3u);
  AuditReport report = Audit(ledger_->store());
  EXPECT_TRUE(report.ok) << report.reason;
}

TEST_F(CodeLedgerTest, AtomicGroupsStayWholeAmongConcurrentSubmissions) {
  // Small blocks, so that the committer has to cut between submissions.
  LedgerOptions options;
  options.max_block_records = 5;
  OpenFresh(options);
  Populate();
  constexpr int kGroups = 6, kGroupSize = 4;
  std::vector<std::vector<std::string>> groups(kGroups);
  for (int g = 0; g < kGroups; ++g) {
    const std::string batch = "G" + std::to_string(g);
    for (int p = 1; p <= kGroupSize; ++p) {
      groups[g].push_back(Make(RecordKind::kCodeIssuance,
                               Part("L1", batch, p, kGroupSize, {batch + "-" + std::to_string(p)}), acme_));
    }
  }
  std::vector<std::string> singles;
  for (int i = 0; i < 40; ++i)
    singles.push_back(Make(RecordKind::kCreditEvent,
                           {{"merchant", "acme"},
                            {"event", "reward"},
                            {"reason", "test " + std::to_string(i)},
                            {"act_end_date", "2026-11-01"}},
                           samr_));
  std::vector<std::vector<SubmitResult>> group_results(kGroups);
  std::vector<std::thread> threads;
  for (int g = 0; g < kGroups; ++g) {
    threads.emplace_back([&, g] { group_results[g] = ledger_->SubmitAtomic(groups[g]); });
  }
  threads.emplace_back([&] {
    for (size_t i = 0; i < singles.size(); i += 3) {
      auto r = ledger_->SubmitBatch(std::span(singles).subspan(i, std::min<size_t>(3, singles.size() - i)));
      for (const auto& x : r) EXPECT_TRUE(x.ok()) << x.error().ToString();
    }
  });
  for (auto& t : threads) t.join();
  for (int g = 0; g < kGroups; ++g) {
    ASSERT_EQ(group_results[g].size(), static_cast<size_t>(kGroupSize));
    for (int p = 0; p < kGroupSize; ++p) {
      ASSERT_TRUE(group_results[g][p].ok()) << group_results[g][p].error().ToString();
      EXPECT_EQ(group_results[g][p]->height, group_results[g][0]->height) << "group " << g << " was split";
      EXPECT_EQ(group_results[g][p]->index, group_results[g][0]->index + static_cast<uint64_t>(p));
    }
  }
  // A group larger than a block is refused whole.
  std::vector<std::string> too_big;
  for (int p = 1; p <= 6; ++p) {
    too_big.push_back(
        Make(RecordKind::kCodeIssuance, Part("L1", "BIG", p, 6, {"BIG" + std::to_string(p)}), acme_));
  }
  const uint64_t size_before = TreeSize();
  for (const auto& r : ledger_->SubmitAtomic(too_big)) ExpectReject(r, RejectCode::kAborted);
  EXPECT_EQ(TreeSize(), size_before);
  AuditReport report = Audit(ledger_->store());
  EXPECT_TRUE(report.ok) << report.reason;
}

TEST_F(CodeLedgerTest, CodeStatusFollowsRevocationsRecallsAndInspections) {
  Accept(RecordKind::kCodeIssuance, Part("L1", "B1", 1, 1, {"V1", "R1", "R2"}), acme_);
  Accept(RecordKind::kCodeIssuance, Part("L2", "B2", 1, 1, {"C1", "F1"}), acme_);
  auto status = [&](const std::string& serial) {
    auto s = ledger_->GetCodeStatus(kGtinA, serial);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? *s : CodeStatus{};
  };
  CodeStatus valid = status("V1");
  ASSERT_TRUE(valid.issued.has_value());
  EXPECT_FALSE(valid.revoked || valid.lot_recalled || valid.failed_inspection);

  EXPECT_FALSE(status("NEVER").issued.has_value());
  // Revoking a serial that was never issued is refused.
  ExpectReject(
      Submit(RecordKind::kCodeRevocation,
             {{"gtin", kGtinA}, {"lot", "L1"}, {"serials", {"R1", "NEVER"}}, {"reason", "typo"}}, samr_),
      RejectCode::kUnknownReference, "body.serials[1]");
  Receipt revocation =
      Accept(RecordKind::kCodeRevocation,
             {{"gtin", kGtinA}, {"lot", "L1"}, {"serials", {"R1"}}, {"reason", "damaged"}}, acme_);
  EXPECT_EQ(status("R1").revoked, revocation.index);
  EXPECT_FALSE(status("R2").revoked.has_value());

  // A conformant inspection is not a failure; a non-conformant one is.
  Json inspection = {{"gtin", kGtinA},
                     {"lot", "L2"},
                     {"standard", "GB 2763-2021"},
                     {"sample_size", 3},
                     {"result", "conformant"},
                     {"report_sha256", std::string(64, 'a')},
                     {"inspected_on", "2026-11-05"}};
  Accept(RecordKind::kInspection, inspection, lab_);
  EXPECT_FALSE(status("F1").failed_inspection.has_value());
  inspection["result"] = "non_conformant";
  inspection["report_sha256"] = std::string(64, 'b');
  Receipt failed = Accept(RecordKind::kInspection, inspection, lab_);
  inspection["report_sha256"] = std::string(64, 'c');
  Accept(RecordKind::kInspection, inspection, lab_);
  EXPECT_EQ(status("F1").failed_inspection, failed.index);   // the first one
  EXPECT_FALSE(status("V1").failed_inspection.has_value());  // another lot

  Receipt recall =
      Accept(RecordKind::kLotRecall, {{"gtin", kGtinA}, {"lot", "L2"}, {"reason", "residue"}}, samr_);
  EXPECT_EQ(status("C1").lot_recalled, recall.index);
  EXPECT_FALSE(status("V1").lot_recalled.has_value());

  AuditReport report = Audit(ledger_->store());
  EXPECT_TRUE(report.ok) << report.reason;
}

TEST_F(CodeLedgerTest, GetKeyFollowsRotationAndRevocation) {
  const std::string old_id = acme_.key.Public().KeyId();
  auto key = ledger_->GetKey(old_id);
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->party, "acme");
  EXPECT_EQ((*key)->key, acme_.key.Public());
  EXPECT_FALSE((*key)->retired || (*key)->revoked);

  wallet::SecretKey next = wallet::SecretKey::Generate();
  Receipt rotation =
      Accept(RecordKind::kKeyRotation,
             {{"party", "acme"}, {"public_key", next.Public().Hex()}, {"retire_key_id", old_id}}, op_);
  key = ledger_->GetKey(old_id);
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->retired, rotation.index);
  auto new_key = ledger_->GetKey(next.Public().KeyId());
  ASSERT_TRUE(new_key.ok() && new_key->has_value());
  EXPECT_EQ((*new_key)->registered, rotation.index);
  EXPECT_EQ((*new_key)->party, "acme");

  Receipt revocation = Accept(RecordKind::kKeyRevocation,
                              {{"party", "acme"}, {"key_id", old_id}, {"reason", "laptop stolen"}}, op_);
  key = ledger_->GetKey(old_id);
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->revoked, revocation.index);
  EXPECT_FALSE(ledger_->GetKey("0123456789abcdef")->has_value());
}

TEST_F(CodeLedgerTest, DamagedCodeIndexIsCorruptionNotAnAnswer) {
  Accept(RecordKind::kCodeIssuance, Part("L1", "B1", 1, 1, {"S1"}), acme_);
  Receipt other =
      Accept(RecordKind::kLotRecall, {{"gtin", kGtinA}, {"lot", "L2"}, {"reason", "residue"}}, acme_);
  // In-memory ledgers share nothing with a second store: tamper through
  // the ledger's own store handle.
  auto& store = const_cast<chain::Store&>(ledger_->store());
  ASSERT_TRUE(
      store.RawPutForTesting(keys::CodeIssued(kGtinA, "S2"), EncodeFact(Fact{.seq = other.index})).ok());
  auto code = ledger_->GetCode(kGtinA, "S2");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().code, LedgerErrorCode::kCorrupt);
  // The audit finds the stray fact even though no record names it right.
  AuditReport report = Audit(ledger_->store());
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("ci/"), std::string::npos) << report.reason;
}

}  // namespace
}  // namespace traceledger::ledger
