// The stateful rules (ledger/rules.h), end to end through a real in-memory
// LevelDB ledger: every record kind accepted on its happy path, and every
// authorization, reference, ownership, replay and clock rule rejected with
// its specific code and field, changing nothing.
#include "ledger/rules.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "chain/hash.h"
#include "ledger/canonical_json.h"
#include "ledger/credit_policy.h"
#include "tests/ledger/fixture.h"
#include "util/encoding.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using testing::LedgerFixture;

const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

class RulesTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    acme_ = Register("acme", {"merchant"});
    globex_ = Register("globex", {"merchant"});
    sgs_ = Register("sgs", {"inspector"});
    customs_ = Register("customs-qh", {"customs"});
    samr_ = Register("samr", {"regulator"});
    sf_ = Register("sf-express", {"logistics"});
  }

  // --- bodies -------------------------------------------------------------
  static Json PartyBody(const std::string& party, const wallet::SecretKey& key,
                        std::vector<std::string> roles = {"merchant"}) {
    return {{"party", party}, {"name", party + " Ltd"}, {"roles", roles}, {"public_key", key.Public().Hex()}};
  }
  // A one-part batch; its serials default to <batch>-1 and <batch>-2.
  static Json IssuanceBody(const std::string& gtin, const std::string& lot, const std::string& batch,
                           std::vector<std::string> serials = {}) {
    if (serials.empty()) serials = {batch + "-1", batch + "-2"};
    return {{"gtin", gtin}, {"lot", lot}, {"batch", batch}, {"part", 1}, {"parts", 1}, {"serials", serials}};
  }
  static Json CustodyBody(const std::string& shipment, const std::string& from, const std::string& to) {
    return {{"shipment", shipment},
            {"from", from},
            {"to", to},
            {"location", "Fuzhou port"},
            {"biz_step", "shipping"}};
  }
  static Json LotInspectionBody(const std::string& gtin, const std::string& lot) {
    return {{"gtin", gtin},
            {"lot", lot},
            {"standard", "GB 2763-2021"},
            {"sample_size", 12},
            {"result", "conformant"},
            {"report_sha256", kShaB},
            {"inspected_on", "2026-11-10"}};
  }
  static Json ShipmentInspectionBody(const std::string& shipment) {
    return {{"shipment", shipment},       {"standard", "GB 7718-2011"}, {"sample_size", 5},
            {"result", "non_conformant"}, {"report_sha256", kShaA},     {"inspected_on", "2026-11-12"}};
  }
  static Json CustomsBody(const std::string& shipment, const std::string& decision = "released") {
    return {{"shipment", shipment}, {"decision", decision}};
  }
  static Json CreditBody(const std::string& merchant, const std::string& event = "penalty") {
    return {{"merchant", merchant},
            {"event", event},
            {"reason", "false origin claim"},
            {"act_end_date", "2026-10-31"}};
  }
  static Json PolicyBody(int64_t version) {
    // The shipped default: the rules refuse a policy that does not parse.
    return {{"version", version}, {"policy", *ParseStrictJson(DefaultCreditPolicyJson())}};
  }
  static Json RevocationBody(const std::string& gtin, const std::string& lot,
                             std::vector<std::string> serials) {
    return {{"gtin", gtin}, {"lot", lot}, {"serials", serials}, {"reason", "labels stolen"}};
  }
  static Json RecallBody(const std::string& gtin, const std::string& lot) {
    return {{"gtin", gtin}, {"lot", lot}, {"reason", "pesticide residue"}};
  }
  static Json RoleGrantBody(const std::string& party, const std::string& role) {
    return {{"party", party}, {"role", role}};
  }
  static Json RotationBody(const std::string& party, const wallet::SecretKey& new_key,
                           const std::string& retire_key_id = "") {
    Json body = {{"party", party}, {"public_key", new_key.Public().Hex()}};
    if (!retire_key_id.empty()) body["retire_key_id"] = retire_key_id;
    return body;
  }
  static Json KeyRevocationBody(const std::string& party, const std::string& key_id) {
    return {{"party", party}, {"key_id", key_id}, {"reason", "key compromised"}};
  }

  // --- helpers ------------------------------------------------------------
  Receipt Accept(RecordKind kind, const Json& body, const Actor& author) {
    auto r = Submit(kind, body, author);
    EXPECT_TRUE(r.ok()) << KindName(kind) << " by " << author.party << ": " << r.error().ToString();
    return r.ok() ? *r : Receipt{};
  }

  struct TipSnapshot {
    uint64_t height = 0;
    chain::Hash hash{};
    uint64_t size = 0;
    friend bool operator==(const TipSnapshot&, const TipSnapshot&) = default;
  };
  TipSnapshot Snapshot() const {
    auto tip = ledger_->tip();
    EXPECT_TRUE(tip.has_value());
    if (!tip) return {};
    return {tip->height, tip->block_hash, tip->frontier.size()};
  }

  // Submits and expects the rejection, and that the log did not change.
  void Rejected(RecordKind kind, const Json& body, const Actor& author, RejectCode code,
                const std::string& field) {
    SCOPED_TRACE(std::string(KindName(kind)) + " by " + author.party);
    TipSnapshot before = Snapshot();
    ExpectReject(Submit(kind, body, author), code, field);
    EXPECT_EQ(Snapshot(), before) << "a rejected record changed the log";
  }
  void RejectedEntry(const std::string& entry, RejectCode code, const std::string& field) {
    TipSnapshot before = Snapshot();
    ExpectReject(ledger_->Submit(entry), code, field);
    EXPECT_EQ(Snapshot(), before) << "a rejected record changed the log";
  }

  // acme: product A with lot L1 (and optionally a shipment SH-1 of it).
  void AcmeGoods(bool shipment = false) {
    Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
    Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_);
    if (shipment) Accept(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), acme_);
  }

  // An envelope claiming `author_key_id` but signed by `signer`.
  std::string Forged(RecordKind kind, const Json& body, const std::string& author_key_id,
                     const wallet::SecretKey& signer) {
    Json doc = {{"v", 1},
                {"kind", std::string(KindName(kind))},
                {"author", author_key_id},
                {"time", now_ms_ / 1000},
                {"nonce", NextNonce()},
                {"body", body}};
    chain::Hash id = chain::Sha256(CanonicalJson(doc));
    doc["sig"] = HexEncode(signer.Sign(id));
    return CanonicalJson(doc);
  }

  std::vector<RecordKind> Kinds(const std::vector<StoredRecord>& records) {
    std::vector<RecordKind> out;
    for (const auto& r : records) out.push_back(r.record.kind);
    return out;
  }

  // Assigned in SetUp (Actor has no default constructor).
  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor globex_ = acme_, sgs_ = acme_, customs_ = acme_, samr_ = acme_, sf_ = acme_;
};

// ---------------------------------------------------------------------------
// Happy paths.

TEST_F(RulesTest, OperatorRecordsAccepted) {
  wallet::SecretKey key = wallet::SecretKey::Generate();
  Accept(RecordKind::kParty, PartyBody("initech", key, {"merchant", "logistics"}), op_);
  Json full = PartyBody("initech-sub", wallet::SecretKey::Generate());
  full["country"] = "FR";
  full["controlling_party"] = "initech";
  full["licence_sha256"] = kShaA;
  full["licence_expiry"] = "2030-01-01";
  Accept(RecordKind::kParty, full, op_);
  Accept(RecordKind::kRoleGrant, RoleGrantBody("initech", "inspector"), op_);
  wallet::SecretKey second = wallet::SecretKey::Generate();
  Accept(RecordKind::kKeyRotation, RotationBody("initech", second), op_);
  Accept(RecordKind::kKeyRevocation, KeyRevocationBody("initech", key.Public().KeyId()), op_);
  // The granted role is usable at once; the remaining key signs.
  Actor initech{"initech", second};
  Accept(RecordKind::kProduct, ProductBody(kGtinB), initech);
  EXPECT_TRUE(HasRole(StoreState(ledger_->store()), "initech", Role::kInspector, UINT64_MAX));
}

TEST_F(RulesTest, EveryMerchantKindAccepted) {
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  Json lot = LotBody(kGtinA, "L1");
  lot["expiry_date"] = "2028-11-01";
  Accept(RecordKind::kLot, lot, acme_);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L2"), acme_);
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), acme_);
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B2"), acme_);
  Json shipment = ShipmentBody("SH-1", kGtinA, "L1");
  shipment["lots"].push_back({{"gtin", kGtinA}, {"lot", "L2"}, {"quantity", 7}});
  shipment["declaration"] = "531620261100001";
  shipment["documents"] = {kShaA, kShaB};
  Accept(RecordKind::kShipment, shipment, acme_);
  Accept(RecordKind::kCustody, CustodyBody("SH-1", "acme", "sf-express"), acme_);      // owner merchant
  Accept(RecordKind::kCustody, CustodyBody("SH-1", "sf-express", "customs-qh"), sf_);  // logistics
}

TEST_F(RulesTest, InspectorCustomsRegulatorKindsAccepted) {
  AcmeGoods(/*shipment=*/true);
  Accept(RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), sgs_);
  Accept(RecordKind::kInspection, ShipmentInspectionBody("SH-1"), sgs_);
  Accept(RecordKind::kCustomsDecision, CustomsBody("SH-1", "held"), customs_);
  Accept(RecordKind::kCustomsDecision, CustomsBody("SH-1", "released"), customs_);
  for (std::string event :
       {"penalty", "reward", "complaint_upheld", "complaint_dismissed", "credit_repair"}) {
    Accept(RecordKind::kCreditEvent, CreditBody("acme", event), samr_);
  }
  Accept(RecordKind::kCreditPolicy, PolicyBody(1), samr_);
  Accept(RecordKind::kCreditPolicy, PolicyBody(2), samr_);
}

TEST_F(RulesTest, RevocationAndRecallByOwnerAndByRegulator) {
  AcmeGoods();
  Accept(RecordKind::kLot, LotBody(kGtinA, "L2"), acme_);
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1", {"S1", "S2", "S3"}), acme_);
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L2", "B2", {"S9"}), acme_);
  Accept(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S1", "S2"}), acme_);
  Accept(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S3"}), samr_);
  Accept(RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), acme_);
  Accept(RecordKind::kLotRecall, RecallBody(kGtinA, "L2"), samr_);
  // Revoking codes of a recalled lot is still allowed.
  Accept(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L2", {"S9"}), samr_);
}

TEST_F(RulesTest, BatchMayDependOnEarlierRecordsInIt) {
  wallet::SecretKey key = wallet::SecretKey::Generate();
  Actor initech{"initech", key};
  std::vector<std::string> batch = {
      Make(RecordKind::kParty, PartyBody("initech", key), op_),
      Make(RecordKind::kProduct, ProductBody(kGtinB), initech),
      Make(RecordKind::kLot, LotBody(kGtinB, "X1"), initech),
  };
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& r : results) EXPECT_TRUE(r.ok()) << r.error().ToString();
  if (results[0].ok() && results[2].ok()) {
    EXPECT_EQ(results[2]->index, results[0]->index + 2);
  }
}

// ---------------------------------------------------------------------------
// Author keys and signatures.

TEST_F(RulesTest, UnknownKey) {
  Actor stranger{"acme", wallet::SecretKey::Generate()};
  Rejected(RecordKind::kProduct, ProductBody(kGtinA), stranger, RejectCode::kUnknownKey, "author");
  // Even an operator-kind record.
  Rejected(RecordKind::kParty, PartyBody("initech", wallet::SecretKey::Generate()), stranger,
           RejectCode::kUnknownKey, "author");
}

TEST_F(RulesTest, RevokedKeySignsNothingButEarlierRecordsStay) {
  Receipt product = Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  Accept(RecordKind::kKeyRevocation, KeyRevocationBody("acme", acme_.key.Public().KeyId()), op_);
  Rejected(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_, RejectCode::kKeyRevoked, "author");
  Rejected(RecordKind::kProduct, ProductBody(kGtinB), acme_, RejectCode::kKeyRevoked, "author");

  auto got = ledger_->GetProduct(kGtinA);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->record.id, product.id);
  auto by_id = ledger_->GetRecord(product.id);
  ASSERT_TRUE(by_id.ok());
  ASSERT_TRUE(by_id->has_value());
  EXPECT_EQ((*by_id)->index, product.index);

  // A new key for the party works, and owns the party's goods.
  wallet::SecretKey fresh = wallet::SecretKey::Generate();
  Accept(RecordKind::kKeyRotation, RotationBody("acme", fresh), op_);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), Actor{"acme", fresh});
  // Revoking twice is a conflict; rotating in a revoked key is a duplicate.
  Rejected(RecordKind::kKeyRevocation, KeyRevocationBody("acme", acme_.key.Public().KeyId()), op_,
           RejectCode::kConflict, "body.key_id");
  Rejected(RecordKind::kKeyRotation, RotationBody("acme", acme_.key), op_, RejectCode::kDuplicate,
           "body.public_key");
}

TEST_F(RulesTest, RetiredKeyAfterRotation) {
  wallet::SecretKey next = wallet::SecretKey::Generate();
  Accept(RecordKind::kKeyRotation, RotationBody("acme", next, acme_.key.Public().KeyId()), op_);
  Rejected(RecordKind::kProduct, ProductBody(kGtinA), acme_, RejectCode::kKeyRetired, "author");
  Actor acme_next{"acme", next};
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_next);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_next);
  // Retiring it again is a conflict.
  Rejected(RecordKind::kKeyRotation,
           RotationBody("acme", wallet::SecretKey::Generate(), acme_.key.Public().KeyId()), op_,
           RejectCode::kConflict, "body.retire_key_id");
  // A revoked-and-retired key reports revoked first.
  Accept(RecordKind::kKeyRevocation, KeyRevocationBody("acme", acme_.key.Public().KeyId()), op_);
  Rejected(RecordKind::kProduct, ProductBody(kGtinB), acme_, RejectCode::kKeyRevoked, "author");
}

TEST_F(RulesTest, KeyChangesTakeEffectWithinOneBatch) {
  // Both records were signed while acme's key was active; the rules apply
  // the rotation and the revocation at their log positions.
  wallet::SecretKey next = wallet::SecretKey::Generate();
  std::vector<std::string> batch = {
      Make(RecordKind::kKeyRotation, RotationBody("acme", next, acme_.key.Public().KeyId()), op_),
      Make(RecordKind::kProduct, ProductBody(kGtinA), acme_),
      Make(RecordKind::kKeyRevocation, KeyRevocationBody("globex", globex_.key.Public().KeyId()), op_),
      Make(RecordKind::kProduct, ProductBody(kGtinB), globex_),
      Make(RecordKind::kProduct, ProductBody(kGtinA), Actor{"acme", next}),
  };
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_TRUE(results[0].ok());
  ExpectReject(results[1], RejectCode::kKeyRetired, "author");
  EXPECT_TRUE(results[2].ok());
  ExpectReject(results[3], RejectCode::kKeyRevoked, "author");
  EXPECT_TRUE(results[4].ok()) << results[4].error().ToString();
}

TEST_F(RulesTest, RotationWithoutRetiringKeepsBothKeys) {
  wallet::SecretKey second = wallet::SecretKey::Generate();
  Accept(RecordKind::kKeyRotation, RotationBody("acme", second), op_);
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), Actor{"acme", second});
}

TEST_F(RulesTest, KeyChangeReferences) {
  wallet::SecretKey k = wallet::SecretKey::Generate();
  Rejected(RecordKind::kKeyRotation, RotationBody("nobody", k), op_, RejectCode::kUnknownReference,
           "body.party");
  Rejected(RecordKind::kKeyRotation, RotationBody("acme", k, "0123456789abcdef"), op_,
           RejectCode::kUnknownReference, "body.retire_key_id");
  Rejected(RecordKind::kKeyRotation, RotationBody("acme", k, globex_.key.Public().KeyId()), op_,
           RejectCode::kNotOwner, "body.retire_key_id");
  Rejected(RecordKind::kKeyRotation, RotationBody("acme", globex_.key), op_, RejectCode::kDuplicate,
           "body.public_key");
  Rejected(RecordKind::kKeyRevocation, KeyRevocationBody("acme", "0123456789abcdef"), op_,
           RejectCode::kUnknownReference, "body.key_id");
  Rejected(RecordKind::kKeyRevocation, KeyRevocationBody("nobody", acme_.key.Public().KeyId()), op_,
           RejectCode::kUnknownReference, "body.party");
}

TEST_F(RulesTest, KeyRevocationOfAnotherPartysKey) {
  Rejected(RecordKind::kKeyRevocation, KeyRevocationBody("acme", globex_.key.Public().KeyId()), op_,
           RejectCode::kNotOwner, "body.key_id");
  // globex's key still signs.
  Accept(RecordKind::kProduct, ProductBody(kGtinB), globex_);
}

TEST_F(RulesTest, TamperedSignature) {
  std::string entry = Make(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  size_t at = entry.find("\"sig\":\"");
  ASSERT_NE(at, std::string::npos);
  at += 7 + 20;
  entry[at] = entry[at] == '0' ? '1' : '0';
  RejectedEntry(entry, RejectCode::kBadSignature, "sig");
  EXPECT_FALSE(ledger_->GetProduct(kGtinA)->has_value());
}

TEST_F(RulesTest, TamperedBody) {
  // Changing the body changes the id, so the signature no longer matches.
  std::string entry = Make(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  entry.replace(entry.find("Acme Tea Co."), 12, "Fake Tea Co.");
  RejectedEntry(entry, RejectCode::kBadSignature, "sig");
}

TEST_F(RulesTest, SignedByAnotherKeyClaimingTheAuthor) {
  // globex signs a product but claims acme's key.
  RejectedEntry(Forged(RecordKind::kProduct, ProductBody(kGtinA), acme_.key.Public().KeyId(), globex_.key),
                RejectCode::kBadSignature, "sig");
  // A merchant forging the operator's key id to register itself a role.
  RejectedEntry(
      Forged(RecordKind::kRoleGrant, RoleGrantBody("acme", "regulator"), op_.key.Public().KeyId(), acme_.key),
      RejectCode::kBadSignature, "sig");
  EXPECT_FALSE(HasRole(StoreState(ledger_->store()), "acme", Role::kRegulator, UINT64_MAX));
  // The same forgery inside a batch, after the claimed key was registered in it.
  wallet::SecretKey key = wallet::SecretKey::Generate();
  std::vector<std::string> batch = {
      Make(RecordKind::kParty, PartyBody("initech", key), op_),
      Forged(RecordKind::kProduct, ProductBody(kGtinB), key.Public().KeyId(), acme_.key),
  };
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok());
  ExpectReject(results[1], RejectCode::kBadSignature, "sig");
  EXPECT_FALSE(ledger_->GetProduct(kGtinB)->has_value());
}

// ---------------------------------------------------------------------------
// Roles.

TEST_F(RulesTest, EveryKindRejectsAuthorLackingTheRole) {
  AcmeGoods(/*shipment=*/true);
  struct Case {
    RecordKind kind;
    Json body;
    Actor* author;
  };
  wallet::SecretKey k = wallet::SecretKey::Generate();
  std::vector<Case> cases = {
      {RecordKind::kParty, PartyBody("initech", k), &acme_},
      {RecordKind::kKeyRotation, RotationBody("acme", k), &acme_},
      {RecordKind::kKeyRevocation, KeyRevocationBody("globex", globex_.key.Public().KeyId()), &acme_},
      {RecordKind::kRoleGrant, RoleGrantBody("acme", "regulator"), &acme_},
      {RecordKind::kRoleGrant, RoleGrantBody("samr", "operator"), &samr_},
      {RecordKind::kProduct, ProductBody(kGtinB), &sgs_},
      {RecordKind::kProduct, ProductBody(kGtinB), &op_},
      {RecordKind::kProduct, ProductBody(kGtinB), &samr_},
      {RecordKind::kProduct, ProductBody(kGtinB), &sf_},
      {RecordKind::kLot, LotBody(kGtinA, "L9"), &sgs_},
      {RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), &sgs_},
      {RecordKind::kShipment, ShipmentBody("SH-9", kGtinA, "L1"), &customs_},
      {RecordKind::kCustody, CustodyBody("SH-1", "acme", "sf-express"), &sgs_},
      {RecordKind::kCustody, CustodyBody("SH-1", "acme", "sf-express"), &customs_},
      {RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), &acme_},
      {RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), &globex_},
      {RecordKind::kInspection, ShipmentInspectionBody("SH-1"), &customs_},
      {RecordKind::kCustomsDecision, CustomsBody("SH-1"), &acme_},
      {RecordKind::kCustomsDecision, CustomsBody("SH-1"), &sgs_},
      {RecordKind::kCreditEvent, CreditBody("acme", "reward"), &acme_},
      {RecordKind::kCreditEvent, CreditBody("globex", "penalty"), &acme_},
      {RecordKind::kCreditEvent, CreditBody("acme", "penalty"), &sgs_},
      {RecordKind::kCreditPolicy, PolicyBody(1), &acme_},
      {RecordKind::kCreditPolicy, PolicyBody(1), &op_},
      {RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S1"}), &sgs_},
      {RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S1"}), &customs_},
      {RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), &customs_},
      {RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), &sf_},
      {RecordKind::kLotRecall, RecallBody(kGtinA, "L404"), &sgs_},  // role first, then the reference
  };
  for (auto& c : cases) Rejected(c.kind, c.body, *c.author, RejectCode::kUnauthorized, "author");
  // Nothing of it took effect.
  EXPECT_FALSE(ledger_->GetParty("initech")->has_value());
  EXPECT_FALSE(ledger_->GetProduct(kGtinB)->has_value());
  EXPECT_FALSE(HasRole(StoreState(ledger_->store()), "acme", Role::kRegulator, UINT64_MAX));
  auto history = ledger_->LotHistory(kGtinA, "L1");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);  // lot, shipment
}

TEST_F(RulesTest, InspectorMayNotInspectItsOwnGoods) {
  Actor dual = Register("dual", {"merchant", "inspector"});
  Accept(RecordKind::kProduct, ProductBody(kGtinB), dual);
  Accept(RecordKind::kLot, LotBody(kGtinB, "D1"), dual);
  Accept(RecordKind::kShipment, ShipmentBody("SH-D", kGtinB, "D1"), dual);
  Rejected(RecordKind::kInspection, LotInspectionBody(kGtinB, "D1"), dual, RejectCode::kUnauthorized,
           "author");
  Rejected(RecordKind::kInspection, ShipmentInspectionBody("SH-D"), dual, RejectCode::kUnauthorized,
           "author");
  // It may inspect someone else's goods.
  AcmeGoods(/*shipment=*/true);
  Accept(RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), dual);
  Accept(RecordKind::kInspection, ShipmentInspectionBody("SH-1"), dual);
}

TEST_F(RulesTest, InspectionNeedsAnExistingSubject) {
  Rejected(RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), sgs_, RejectCode::kUnknownReference,
           "body.lot");
  Rejected(RecordKind::kInspection, ShipmentInspectionBody("SH-404"), sgs_, RejectCode::kUnknownReference,
           "body.shipment");
}

TEST_F(RulesTest, CustomsMayNotClearItsOwnShipment) {
  Actor broker = Register("broker", {"customs", "merchant"});
  Accept(RecordKind::kProduct, ProductBody(kGtinB), broker);
  Accept(RecordKind::kLot, LotBody(kGtinB, "K1"), broker);
  Accept(RecordKind::kShipment, ShipmentBody("SH-K", kGtinB, "K1"), broker);
  Rejected(RecordKind::kCustomsDecision, CustomsBody("SH-K"), broker, RejectCode::kUnauthorized, "author");
  // Another customs party may; and the broker may clear others' shipments.
  Accept(RecordKind::kCustomsDecision, CustomsBody("SH-K"), customs_);
  AcmeGoods(/*shipment=*/true);
  Accept(RecordKind::kCustomsDecision, CustomsBody("SH-1", "seized"), broker);
  Rejected(RecordKind::kCustomsDecision, CustomsBody("SH-404"), customs_, RejectCode::kUnknownReference,
           "body.shipment");
}

TEST_F(RulesTest, CreditEventRules) {
  Actor reg_merchant = Register("reg-merchant", {"regulator", "merchant"});
  Rejected(RecordKind::kCreditEvent, CreditBody("reg-merchant", "reward"), reg_merchant,
           RejectCode::kUnauthorized, "author");
  Rejected(RecordKind::kCreditEvent, CreditBody("reg-merchant", "credit_repair"), reg_merchant,
           RejectCode::kUnauthorized, "author");
  Accept(RecordKind::kCreditEvent, CreditBody("reg-merchant"), samr_);
  Accept(RecordKind::kCreditEvent, CreditBody("acme"), reg_merchant);
  // About a party that is not a merchant, or no party at all.
  Rejected(RecordKind::kCreditEvent, CreditBody("sgs"), samr_, RejectCode::kUnknownReference,
           "body.merchant");
  Rejected(RecordKind::kCreditEvent, CreditBody("samr"), samr_, RejectCode::kUnknownReference,
           "body.merchant");
  Rejected(RecordKind::kCreditEvent, CreditBody("nobody"), samr_, RejectCode::kUnknownReference,
           "body.merchant");
  // Once granted the merchant role, sgs can be rated.
  Accept(RecordKind::kRoleGrant, RoleGrantBody("sgs", "merchant"), op_);
  Accept(RecordKind::kCreditEvent, CreditBody("sgs"), samr_);
}

// ---------------------------------------------------------------------------
// References and ownership.

TEST_F(RulesTest, LotNeedsOwnProduct) {
  Rejected(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_, RejectCode::kUnknownReference, "body.gtin");
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  Rejected(RecordKind::kLot, LotBody(kGtinA, "L1"), globex_, RejectCode::kNotOwner, "body.gtin");
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_);
}

TEST_F(RulesTest, Duplicates) {
  AcmeGoods(/*shipment=*/true);
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), acme_);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L2"), acme_);

  Rejected(RecordKind::kProduct, ProductBody(kGtinA), acme_, RejectCode::kDuplicate, "body.gtin");
  Rejected(RecordKind::kProduct, ProductBody(kGtinA), globex_, RejectCode::kDuplicate, "body.gtin");
  Json lot = LotBody(kGtinA, "L1");
  lot["quantity"] = 5;
  Rejected(RecordKind::kLot, lot, acme_, RejectCode::kDuplicate, "body.lot");
  Rejected(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L2"), acme_, RejectCode::kDuplicate,
           "body.shipment");
  Rejected(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), globex_, RejectCode::kDuplicate,
           "body.shipment");
  // A batch id is unique per GTIN, across lots.
  Rejected(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L2", "B1"), acme_, RejectCode::kDuplicate,
           "body.batch");
  Rejected(RecordKind::kParty, PartyBody("acme", wallet::SecretKey::Generate()), op_, RejectCode::kDuplicate,
           "body.party");
  Rejected(RecordKind::kParty, PartyBody("initech", acme_.key), op_, RejectCode::kDuplicate,
           "body.public_key");
  Rejected(RecordKind::kParty, PartyBody("operator", wallet::SecretKey::Generate(), {"operator"}), op_,
           RejectCode::kDuplicate, "body.party");
  // The same lot number under another GTIN is another lot.
  Accept(RecordKind::kProduct, ProductBody(kGtinB), acme_);
  Accept(RecordKind::kLot, LotBody(kGtinB, "L1"), acme_);
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinB, "L1", "B1"), acme_);
}

TEST_F(RulesTest, DuplicatesWithinOneBatch) {
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  std::vector<std::string> batch = {
      Make(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_),
      Make(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_),  // another nonce: not a replay
  };
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].ok());
  ExpectReject(results[1], RejectCode::kDuplicate, "body.lot");
}

TEST_F(RulesTest, ShipmentLotsMustBeOwnRegisteredLots) {
  AcmeGoods();
  Accept(RecordKind::kProduct, ProductBody(kGtinB), globex_);
  Accept(RecordKind::kLot, LotBody(kGtinB, "G1"), globex_);
  Rejected(RecordKind::kShipment, ShipmentBody("SH-G", kGtinA, "L1"), globex_, RejectCode::kNotOwner,
           "body.lots[0].lot");
  Json mixed = ShipmentBody("SH-M", kGtinA, "L1");
  mixed["lots"].push_back({{"gtin", kGtinB}, {"lot", "G1"}, {"quantity", 1}});
  Rejected(RecordKind::kShipment, mixed, acme_, RejectCode::kNotOwner, "body.lots[1].lot");
  Rejected(RecordKind::kShipment, ShipmentBody("SH-U", kGtinA, "L404"), acme_, RejectCode::kUnknownReference,
           "body.lots[0].lot");
  EXPECT_FALSE(ledger_->GetShipment("SH-M")->has_value());
}

TEST_F(RulesTest, CodeIssuanceNeedsOwnLot) {
  AcmeGoods();
  Rejected(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), globex_, RejectCode::kNotOwner,
           "body.lot");
  Rejected(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L404", "B1"), acme_,
           RejectCode::kUnknownReference, "body.lot");
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), acme_);
}

TEST_F(RulesTest, RecalledLot) {
  AcmeGoods();
  Accept(RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), acme_);
  Rejected(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), acme_, RejectCode::kConflict,
           "body.lot");
  Rejected(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), acme_, RejectCode::kConflict,
           "body.lots[0].lot");
  Rejected(RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), acme_, RejectCode::kConflict, "body.lot");
  Rejected(RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), samr_, RejectCode::kConflict, "body.lot");
  // Inspecting a recalled lot is still recorded.
  Accept(RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), sgs_);
}

TEST_F(RulesTest, RevocationAndRecallByOtherMerchant) {
  AcmeGoods();
  Rejected(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S1"}), globex_, RejectCode::kNotOwner,
           "body.lot");
  Rejected(RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), globex_, RejectCode::kNotOwner, "body.lot");
  Rejected(RecordKind::kLotRecall, RecallBody(kGtinA, "L404"), acme_, RejectCode::kUnknownReference,
           "body.lot");
  Rejected(RecordKind::kLotRecall, RecallBody(kGtinA, "L404"), samr_, RejectCode::kUnknownReference,
           "body.lot");
  Rejected(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L404", {"S1"}), samr_,
           RejectCode::kUnknownReference, "body.lot");
}

TEST_F(RulesTest, RevokeSameSerialTwice) {
  AcmeGoods();
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1", {"S1", "S2", "S3"}), acme_);
  Accept(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S1", "S2"}), acme_);
  Rejected(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S3", "S2"}), acme_,
           RejectCode::kConflict, "body.serials[1]");
  Rejected(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S1"}), samr_, RejectCode::kConflict,
           "body.serials[0]");
  // S3 was not revoked by the rejected record.
  Accept(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S3"}), acme_);
}

TEST_F(RulesTest, CustodyRules) {
  AcmeGoods(/*shipment=*/true);
  Rejected(RecordKind::kCustody, CustodyBody("SH-1", "acme", "sf-express"), globex_, RejectCode::kNotOwner,
           "body.shipment");
  Rejected(RecordKind::kCustody, CustodyBody("SH-404", "acme", "sf-express"), acme_,
           RejectCode::kUnknownReference, "body.shipment");
  Rejected(RecordKind::kCustody, CustodyBody("SH-404", "acme", "sf-express"), sf_,
           RejectCode::kUnknownReference, "body.shipment");
  Rejected(RecordKind::kCustody, CustodyBody("SH-1", "nobody", "sf-express"), acme_,
           RejectCode::kUnknownReference, "body.from");
  Rejected(RecordKind::kCustody, CustodyBody("SH-1", "acme", "nobody"), acme_, RejectCode::kUnknownReference,
           "body.to");
  Rejected(RecordKind::kCustody, CustodyBody("SH-1", "sf-express", "nobody"), sf_,
           RejectCode::kUnknownReference, "body.to");
  // Logistics needs no ownership.
  Accept(RecordKind::kCustody, CustodyBody("SH-1", "acme", "sf-express"), sf_);
}

TEST_F(RulesTest, PartyReferences) {
  Json body = PartyBody("initech", wallet::SecretKey::Generate());
  body["controlling_party"] = "nobody";
  Rejected(RecordKind::kParty, body, op_, RejectCode::kUnknownReference, "body.controlling_party");
  body["controlling_party"] = "acme";
  Accept(RecordKind::kParty, body, op_);
}

TEST_F(RulesTest, PolicyVersions) {
  Rejected(RecordKind::kCreditPolicy, PolicyBody(2), samr_, RejectCode::kConflict, "body.version");
  Accept(RecordKind::kCreditPolicy, PolicyBody(1), samr_);
  Rejected(RecordKind::kCreditPolicy, PolicyBody(1), samr_, RejectCode::kDuplicate, "body.version");
  Rejected(RecordKind::kCreditPolicy, PolicyBody(3), samr_, RejectCode::kConflict, "body.version");
  Accept(RecordKind::kCreditPolicy, PolicyBody(2), samr_);
  Rejected(RecordKind::kCreditPolicy, PolicyBody(2), samr_, RejectCode::kDuplicate, "body.version");
  Rejected(RecordKind::kCreditPolicy, PolicyBody(1), samr_, RejectCode::kDuplicate, "body.version");
  Accept(RecordKind::kCreditPolicy, PolicyBody(3), samr_);
}

TEST_F(RulesTest, RoleGrants) {
  Rejected(RecordKind::kRoleGrant, RoleGrantBody("acme", "merchant"), op_, RejectCode::kConflict,
           "body.role");
  Rejected(RecordKind::kRoleGrant, RoleGrantBody("nobody", "merchant"), op_, RejectCode::kUnknownReference,
           "body.party");
  Accept(RecordKind::kRoleGrant, RoleGrantBody("acme", "logistics"), op_);
  Rejected(RecordKind::kRoleGrant, RoleGrantBody("acme", "logistics"), op_, RejectCode::kConflict,
           "body.role");
  // With logistics, acme may record custody of globex's shipment.
  Accept(RecordKind::kProduct, ProductBody(kGtinB), globex_);
  Accept(RecordKind::kLot, LotBody(kGtinB, "G1"), globex_);
  Accept(RecordKind::kShipment, ShipmentBody("SH-G", kGtinB, "G1"), globex_);
  Accept(RecordKind::kCustody, CustodyBody("SH-G", "globex", "acme"), acme_);
}

// ---------------------------------------------------------------------------
// Replay and clock.

TEST_F(RulesTest, ReplayOfTheSameRecord) {
  std::string entry = Make(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  auto first = ledger_->Submit(entry);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  RejectedEntry(entry, RejectCode::kReplay, "");
  // Operator records too.
  std::string party = Make(RecordKind::kParty, PartyBody("initech", wallet::SecretKey::Generate()), op_);
  ASSERT_TRUE(ledger_->Submit(party).ok());
  RejectedEntry(party, RejectCode::kReplay, "");
}

TEST_F(RulesTest, ReplayWithAFreshSignature) {
  // Same envelope (time, nonce), signed again: a new signature, same id.
  Record a = SignRecord(RecordKind::kProduct, ProductBody(kGtinA), acme_.key, now_ms_ / 1000, "aa");
  Record b = SignRecord(RecordKind::kProduct, ProductBody(kGtinA), acme_.key, now_ms_ / 1000, "aa");
  ASSERT_NE(a.entry, b.entry);
  ASSERT_TRUE(ledger_->Submit(a.entry).ok());
  RejectedEntry(b.entry, RejectCode::kReplay, "");
}

TEST_F(RulesTest, ReplayWithinOneBatch) {
  std::string entry = Make(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  TipSnapshot before = Snapshot();
  std::vector<std::string> batch = {entry, entry, Make(RecordKind::kProduct, ProductBody(kGtinB), acme_)};
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_EQ(results.size(), 3u);
  ASSERT_TRUE(results[0].ok()) << results[0].error().ToString();
  ExpectReject(results[1], RejectCode::kReplay);
  ASSERT_TRUE(results[2].ok()) << results[2].error().ToString();
  EXPECT_EQ(Snapshot().size, before.size + 2);
  EXPECT_EQ(results[2]->index, results[0]->index + 1);  // the replay took no log position
}

TEST_F(RulesTest, ConcurrentReplaysAcceptExactlyOne) {
  const std::string entry = Make(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  constexpr int kThreads = 8;
  std::vector<SubmitResult> results(kThreads, SubmitResult(Reject{}));
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[static_cast<size_t>(i)] = ledger_->Submit(entry); });
  }
  for (auto& t : threads) t.join();
  int accepted = 0;
  for (const auto& r : results) {
    if (r.ok()) {
      ++accepted;
    } else {
      EXPECT_EQ(r.error().code, RejectCode::kReplay) << r.error().ToString();
    }
  }
  EXPECT_EQ(accepted, 1);
}

TEST_F(RulesTest, BatchResultsKeepInputOrder) {
  std::string bad_sig = Make(RecordKind::kProduct, ProductBody(kGtinB), acme_);
  size_t at = bad_sig.find("\"sig\":\"") + 7;
  bad_sig[at] = bad_sig[at] == 'a' ? 'b' : 'a';
  std::vector<std::string> batch = {
      Make(RecordKind::kProduct, ProductBody(kGtinA), acme_),
      bad_sig,                                                 // rejected before queueing
      "{\"v\":1}",                                             // not a record
      Make(RecordKind::kLot, LotBody(kGtinA, "L1"), globex_),  // rules reject
      Make(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_),
  };
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_EQ(results.size(), 5u);
  ASSERT_TRUE(results[0].ok()) << results[0].error().ToString();
  ExpectReject(results[1], RejectCode::kBadSignature, "sig");
  ExpectReject(results[2], RejectCode::kSchema);
  ExpectReject(results[3], RejectCode::kNotOwner, "body.gtin");
  ASSERT_TRUE(results[4].ok()) << results[4].error().ToString();
  EXPECT_EQ(results[4]->index, results[0]->index + 1);
}

TEST_F(RulesTest, RecordFromTheFuture) {
  const int64_t now_s = now_ms_ / 1000;
  Record ahead = SignRecord(RecordKind::kProduct, ProductBody(kGtinA), acme_.key, now_s + 301, NextNonce());
  RejectedEntry(ahead.entry, RejectCode::kClock, "time");
  Record edge = SignRecord(RecordKind::kProduct, ProductBody(kGtinB), acme_.key, now_s + 300, NextNonce());
  auto accepted = ledger_->Submit(edge.entry);
  EXPECT_TRUE(accepted.ok()) << accepted.error().ToString();
  // Old records are fine.
  Record old =
      SignRecord(RecordKind::kLot, LotBody(kGtinB, "OLD"), acme_.key, now_s - 86400 * 365, NextNonce());
  EXPECT_TRUE(ledger_->Submit(old.entry).ok());
  // Once the ledger clock catches up, the same record is accepted.
  now_ms_ += 2'000;
  auto later = ledger_->Submit(ahead.entry);
  EXPECT_TRUE(later.ok()) << later.error().ToString();
}

TEST_F(RulesTest, RejectedRecordChangesNothing) {
  AcmeGoods(/*shipment=*/true);
  TipSnapshot before = Snapshot();
  auto lot_before = ledger_->LotHistory(kGtinA, "L1");
  auto ship_before = ledger_->ShipmentHistory("SH-1");
  ASSERT_TRUE(lot_before.ok() && ship_before.ok());

  Rejected(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_, RejectCode::kDuplicate, "body.lot");
  Rejected(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), globex_, RejectCode::kNotOwner,
           "body.lot");
  Rejected(RecordKind::kCustody, CustodyBody("SH-1", "acme", "nobody"), acme_, RejectCode::kUnknownReference,
           "body.to");
  Rejected(RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), acme_, RejectCode::kUnauthorized,
           "author");
  // A whole batch of rejects writes no block.
  std::vector<std::string> bad = {Make(RecordKind::kProduct, ProductBody(kGtinA), globex_),
                                  Make(RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), globex_)};
  for (const auto& r : ledger_->SubmitBatch(bad)) EXPECT_FALSE(r.ok());
  EXPECT_EQ(Snapshot(), before);

  auto lot_after = ledger_->LotHistory(kGtinA, "L1");
  auto ship_after = ledger_->ShipmentHistory("SH-1");
  ASSERT_TRUE(lot_after.ok() && ship_after.ok());
  EXPECT_EQ(lot_after->size(), lot_before->size());
  EXPECT_EQ(ship_after->size(), ship_before->size());
  auto lot = ledger_->GetLot(kGtinA, "L1");
  ASSERT_TRUE(lot.ok() && lot->has_value());
  EXPECT_EQ((*lot)->record.author, acme_.key.Public().KeyId());

  // Later valid records are still accepted, at the next position.
  Receipt next = Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), acme_);
  EXPECT_EQ(next.index, before.size);
  EXPECT_EQ(next.height, before.height + 1);
}

// ---------------------------------------------------------------------------
// Reads.

TEST_F(RulesTest, LookupsReturnTheCreatingRecord) {
  Receipt product = Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  Receipt lot = Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_);
  Receipt shipment = Accept(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), acme_);
  auto expect_at = [](const LedgerResult<std::optional<StoredRecord>>& got, const Receipt& receipt,
                      RecordKind kind) {
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_TRUE(got->has_value());
    const StoredRecord& s = **got;
    EXPECT_EQ(s.record.id, receipt.id);
    EXPECT_EQ(s.record.kind, kind);
    EXPECT_EQ(s.index, receipt.index);
    EXPECT_EQ(s.height, receipt.height);
    EXPECT_EQ(s.record.leaf_hash, chain::LeafHash(s.record.entry));
  };
  expect_at(ledger_->GetProduct(kGtinA), product, RecordKind::kProduct);
  expect_at(ledger_->GetLot(kGtinA, "L1"), lot, RecordKind::kLot);
  expect_at(ledger_->GetShipment("SH-1"), shipment, RecordKind::kShipment);
  expect_at(ledger_->GetRecord(lot.id), lot, RecordKind::kLot);
  expect_at(ledger_->GetByIndex(shipment.index), shipment, RecordKind::kShipment);

  auto party = ledger_->GetParty("acme");
  ASSERT_TRUE(party.ok() && party->has_value());
  EXPECT_EQ((*party)->record.kind, RecordKind::kParty);
  EXPECT_EQ((*party)->record.Str("public_key"), acme_.key.Public().Hex());
  EXPECT_EQ((*party)->record.author, op_.key.Public().KeyId());
  auto genesis = ledger_->GetParty("operator");
  ASSERT_TRUE(genesis.ok() && genesis->has_value());
  EXPECT_EQ((*genesis)->index, 0u);
  EXPECT_EQ((*genesis)->height, 0u);

  // Absent things are absent, not errors.
  EXPECT_FALSE(ledger_->GetProduct(kGtinB)->has_value());
  EXPECT_FALSE(ledger_->GetLot(kGtinA, "L2")->has_value());
  EXPECT_FALSE(ledger_->GetLot(kGtinB, "L1")->has_value());
  EXPECT_FALSE(ledger_->GetShipment("SH-2")->has_value());
  EXPECT_FALSE(ledger_->GetParty("nobody")->has_value());
  EXPECT_FALSE(ledger_->GetRecord(chain::Sha256("nothing"))->has_value());
}

TEST_F(RulesTest, ReceiptsOfABatchShareABlock) {
  std::vector<std::string> batch = {Make(RecordKind::kProduct, ProductBody(kGtinA), acme_),
                                    Make(RecordKind::kProduct, ProductBody(kGtinB), globex_)};
  auto results = ledger_->SubmitBatch(batch);
  ASSERT_TRUE(results[0].ok() && results[1].ok());
  EXPECT_EQ(results[1]->index, results[0]->index + 1);
  auto a = ledger_->GetProduct(kGtinA);
  auto b = ledger_->GetProduct(kGtinB);
  ASSERT_TRUE(a.ok() && a->has_value() && b.ok() && b->has_value());
  EXPECT_EQ((*a)->height, results[0]->height);
  EXPECT_EQ((*b)->height, results[1]->height);
  EXPECT_EQ((*b)->record.author, globex_.key.Public().KeyId());
}

TEST_F(RulesTest, LotHistoryInLogOrder) {
  AcmeGoods();
  Accept(RecordKind::kLot, LotBody(kGtinA, "L2"), acme_);  // another lot: not in L1's history
  Receipt issuance = Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1", {"S1"}), acme_);
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L2", "B2"), acme_);
  Json shipment = ShipmentBody("SH-1", kGtinA, "L1");
  shipment["lots"].push_back({{"gtin", kGtinA}, {"lot", "L2"}, {"quantity", 3}});
  Receipt ship = Accept(RecordKind::kShipment, shipment, acme_);
  Receipt inspection = Accept(RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), sgs_);
  Accept(RecordKind::kInspection, ShipmentInspectionBody("SH-1"), sgs_);  // shipment subject: not lot history
  Accept(RecordKind::kCreditEvent, CreditBody("acme"), samr_);
  Receipt revocation = Accept(RecordKind::kCodeRevocation, RevocationBody(kGtinA, "L1", {"S1"}), samr_);
  Receipt recall = Accept(RecordKind::kLotRecall, RecallBody(kGtinA, "L1"), acme_);

  auto history = ledger_->LotHistory(kGtinA, "L1");
  ASSERT_TRUE(history.ok()) << history.error().message;
  EXPECT_EQ(Kinds(*history), (std::vector<RecordKind>{RecordKind::kLot, RecordKind::kCodeIssuance,
                                                      RecordKind::kShipment, RecordKind::kInspection,
                                                      RecordKind::kCodeRevocation, RecordKind::kLotRecall}));
  ASSERT_EQ(history->size(), 6u);
  auto lot = ledger_->GetLot(kGtinA, "L1");
  ASSERT_TRUE(lot.ok() && lot->has_value());
  EXPECT_EQ((*history)[0].index, (*lot)->index);
  EXPECT_EQ((*history)[1].record.id, issuance.id);
  EXPECT_EQ((*history)[2].record.id, ship.id);
  EXPECT_EQ((*history)[3].record.id, inspection.id);
  EXPECT_EQ((*history)[4].record.id, revocation.id);
  EXPECT_EQ((*history)[5].record.id, recall.id);
  EXPECT_EQ((*history)[5].index, recall.index);
  EXPECT_EQ((*history)[5].height, recall.height);
  for (size_t i = 1; i < history->size(); ++i) EXPECT_LT((*history)[i - 1].index, (*history)[i].index);

  // L2: lot, its issuance, and the shared shipment.
  auto other = ledger_->LotHistory(kGtinA, "L2");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Kinds(*other),
            (std::vector<RecordKind>{RecordKind::kLot, RecordKind::kCodeIssuance, RecordKind::kShipment}));
  // Unknown lot: empty.
  auto none = ledger_->LotHistory(kGtinB, "L1");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(RulesTest, LotHistoryDoesNotMixPrefixLots) {
  // "L1" is a prefix of "L10": their histories must stay apart.
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L10"), acme_);
  Accept(RecordKind::kLotRecall, RecallBody(kGtinA, "L10"), acme_);
  auto l1 = ledger_->LotHistory(kGtinA, "L1");
  auto l10 = ledger_->LotHistory(kGtinA, "L10");
  ASSERT_TRUE(l1.ok() && l10.ok());
  EXPECT_EQ(Kinds(*l1), (std::vector<RecordKind>{RecordKind::kLot}));
  EXPECT_EQ(Kinds(*l10), (std::vector<RecordKind>{RecordKind::kLot, RecordKind::kLotRecall}));
  // And L1 is not recalled.
  Accept(RecordKind::kCodeIssuance, IssuanceBody(kGtinA, "L1", "B1"), acme_);
}

TEST_F(RulesTest, ShipmentHistoryInLogOrder) {
  AcmeGoods();
  Receipt ship = Accept(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), acme_);
  Accept(RecordKind::kShipment, ShipmentBody("SH-10", kGtinA, "L1"), acme_);  // prefix-sharing id
  Receipt custody1 = Accept(RecordKind::kCustody, CustodyBody("SH-1", "acme", "sf-express"), acme_);
  Accept(RecordKind::kInspection, LotInspectionBody(kGtinA, "L1"), sgs_);  // lot subject: not here
  Receipt inspection = Accept(RecordKind::kInspection, ShipmentInspectionBody("SH-1"), sgs_);
  Receipt custody2 = Accept(RecordKind::kCustody, CustodyBody("SH-1", "sf-express", "customs-qh"), sf_);
  Accept(RecordKind::kCustody, CustodyBody("SH-10", "acme", "sf-express"), acme_);
  Receipt decision = Accept(RecordKind::kCustomsDecision, CustomsBody("SH-1", "released"), customs_);

  auto history = ledger_->ShipmentHistory("SH-1");
  ASSERT_TRUE(history.ok()) << history.error().message;
  EXPECT_EQ(Kinds(*history),
            (std::vector<RecordKind>{RecordKind::kShipment, RecordKind::kCustody, RecordKind::kInspection,
                                     RecordKind::kCustody, RecordKind::kCustomsDecision}));
  ASSERT_EQ(history->size(), 5u);
  std::vector<Receipt> expected = {ship, custody1, inspection, custody2, decision};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*history)[i].record.id, expected[i].id) << i;
    EXPECT_EQ((*history)[i].index, expected[i].index) << i;
    EXPECT_EQ((*history)[i].height, expected[i].height) << i;
  }
  auto other = ledger_->ShipmentHistory("SH-10");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(Kinds(*other), (std::vector<RecordKind>{RecordKind::kShipment, RecordKind::kCustody}));
  auto none = ledger_->ShipmentHistory("SH-404");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace traceledger::ledger
