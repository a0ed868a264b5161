// Evidence bundles (ledger/bundle.h): built from a real ledger, verified
// offline, and every tampering rejected with its own issue code.
#include "ledger/bundle.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "chain/anchor.h"
#include "chain/eth_tx.h"
#include "chain/witness.h"
#include "tests/ledger/fixture.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using testing::LedgerFixture;

class BundleTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    acme_ = Register("acme", {"merchant"});
    lab_ = Register("lab", {"inspector"});
    ship_ = Register("shipco", {"logistics"});
    customs_ = Register("customs", {"customs"});
    Accept(RecordKind::kProduct, ProductBody(kGtinA), acme_);
    Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_);
    Accept(RecordKind::kLot, LotBody(kGtinA, "L2"), acme_);
    Accept(RecordKind::kCodeIssuance,
           {{"gtin", kGtinA}, {"lot", "L1"}, {"batch", "B1"}, {"part", 1}, {"parts", 1}, {"serials", {"S1", "S2"}}},
           acme_);
    Accept(RecordKind::kCodeIssuance,
           {{"gtin", kGtinA}, {"lot", "L2"}, {"batch", "B2"}, {"part", 1}, {"parts", 1}, {"serials", {"T1"}}},
           acme_);
    Accept(RecordKind::kInspection, InspectionBody("L1"), lab_);
    Accept(RecordKind::kShipment, ShipmentBody("SH1", kGtinA, "L1"), acme_);
    Accept(RecordKind::kCustody,
           {{"shipment", "SH1"}, {"from", "acme"}, {"to", "shipco"}, {"location", "Fuzhou"}, {"biz_step", "shipping"}},
           ship_);
    Accept(RecordKind::kCustomsDecision, {{"shipment", "SH1"}, {"decision", "released"}}, customs_);
    Accept(RecordKind::kCodeRevocation, {{"gtin", kGtinA}, {"lot", "L1"}, {"serials", {"S2"}}, {"reason", "lost"}},
           acme_);
    Sign();
  }

  static Json InspectionBody(const std::string& lot) {
    return {{"gtin", kGtinA},      {"lot", lot},           {"standard", "GB 2763-2021"},
            {"sample_size", 10},   {"result", "conformant"}, {"report_sha256", std::string(64, 'a')},
            {"inspected_on", "2026-11-10"}};
  }

  void Accept(RecordKind kind, const Json& body, const Actor& author) {
    auto r = Submit(kind, body, author);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  // Signs the current tree and cosigns it by witnesses w1 and w2.
  void Sign() {
    chain::CheckpointSigner signer(ledger_->store(), op_.key, "example.com/trace");
    auto cp = signer.SignCurrent();
    ASSERT_TRUE(cp.ok()) << cp.error().message;
    note_ = cp->note;
    note_.AddSignatures({chain::Cosign("w1", w1_, note_.text, 1'800'000'000),
                         chain::Cosign("w2", w2_, note_.text, 1'800'000'000)});
  }

  std::string Build(const BundleSubject& s, std::string_view receipt = {}) {
    auto b = BuildBundle(*ledger_, s, note_, receipt);
    EXPECT_TRUE(b.ok()) << b.error().message;
    return b.ok() ? b->bytes : std::string();
  }

  BundleTrust Trust(size_t quorum = 2) const {
    return BundleTrust{.operator_keys = {op_.key.Public()},
                       .witnesses = {.witnesses = {{"w1", w1_.Public()}, {"w2", w2_.Public()}}, .quorum = quorum}};
  }

  static BundleSubject Code(const std::string& serial) {
    return {.kind = SubjectKind::kCode, .gtin = kGtinA, .serial = serial, .lot = {}, .shipment = {}};
  }
  static BundleSubject Lot(const std::string& lot) {
    return {.kind = SubjectKind::kLot, .gtin = kGtinA, .serial = {}, .lot = lot, .shipment = {}};
  }
  static BundleSubject Shipment(const std::string& id) {
    return {.kind = SubjectKind::kShipment, .gtin = {}, .serial = {}, .lot = {}, .shipment = id};
  }

  static std::vector<std::string> Kinds(const std::string& bundle) {
    std::vector<std::string> out;
    const Json parsed = Json::parse(bundle);
    for (const auto& r : parsed["records"]) {
      out.push_back(Json::parse(r["entry"].get<std::string>())["kind"].get<std::string>());
    }
    return out;
  }

  // The issue codes of a report, for readable failures.
  static std::string Codes(const BundleReport& r) {
    std::string out;
    for (const auto& i : r.issues) out += std::string(BundleIssueCodeName(i.code)) + " @ " + i.item + ": " + i.message + "\n";
    return out;
  }
  static bool Has(const BundleReport& r, BundleIssueCode code) {
    return std::any_of(r.issues.begin(), r.issues.end(), [&](const auto& i) { return i.code == code; });
  }

  // The position in bundle["records"] of the first record of `kind`.
  static size_t Find(const Json& bundle, const std::string& kind) {
    for (size_t i = 0; i < bundle["records"].size(); ++i) {
      if (Json::parse(bundle["records"][i]["entry"].get<std::string>())["kind"] == kind) return i;
    }
    ADD_FAILURE() << "no " << kind << " record";
    return 0;
  }

  // An anchor receipt (self-consistent, signed by a fresh key) of `checkpoint`.
  static std::string Receipt(const std::string& checkpoint) {
    auto key = wallet::SecretKey::Generate();
    auto cp = chain::ParseCheckpointForAnchor(checkpoint);
    EXPECT_TRUE(cp.ok());
    chain::EthTx tx{.chain_id = 31337,
                    .nonce = 3,
                    .max_priority_fee_per_gas = 1'000'000'000,
                    .max_fee_per_gas = 2'000'000'000,
                    .gas_limit = 22760,
                    .to = chain::EthAddressOf(key),
                    .data = chain::AnchorCalldata(cp->tree_size, cp->body_sha256)};
    chain::SignedEthTx s = chain::SignEthTx(tx, key);
    chain::AnchorReceipt r;
    r.chain_id = 31337;
    r.tx_hash = s.hash;
    r.block_number = 7;
    r.block_hash = chain::Sha256(std::string_view("block 7"));
    r.confirmations = 3;
    r.sender = s.from;
    r.to = *tx.to;
    r.nonce = 3;
    r.calldata = tx.data;
    r.raw_tx = s.raw;
    r.tree_size = cp->tree_size;
    r.checkpoint_body_sha256 = cp->body_sha256;
    r.checkpoint = checkpoint;
    return chain::AnchorReceiptToJson(r);
  }

  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor lab_ = acme_, ship_ = acme_, customs_ = acme_;
  wallet::SecretKey w1_ = wallet::SecretKey::Generate();
  wallet::SecretKey w2_ = wallet::SecretKey::Generate();
  chain::SignedNote note_;
};

TEST_F(BundleTest, CodeBundleVerifiesAndHoldsItsRecordsAndKeys) {
  const std::string b = Build(Code("S2"));
  BundleReport r = VerifyBundle(b, Trust());
  EXPECT_TRUE(r.ok()) << Codes(r);
  EXPECT_EQ(r.cosigned_by.size(), 2u);
  std::vector<std::string> kinds = Kinds(b);
  // genesis operator, acme, lab; product, lot L1, issuance, inspection, revocation.
  EXPECT_EQ(kinds, (std::vector<std::string>{"party", "party", "party", "product", "lot", "code_issuance",
                                             "inspection", "code_revocation"}));
}

TEST_F(BundleTest, LotAndShipmentBundlesVerify) {
  const std::string lot = Build(Lot("L1"));
  BundleReport r = VerifyBundle(lot, Trust());
  EXPECT_TRUE(r.ok()) << Codes(r);
  auto kinds = Kinds(lot);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "shipment"), 1);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "code_issuance"), 1);  // L2's is not there
  const std::string sh = Build(Shipment("SH1"));
  r = VerifyBundle(sh, Trust());
  EXPECT_TRUE(r.ok()) << Codes(r);
  kinds = Kinds(sh);
  for (const char* k : {"shipment", "custody", "customs_decision", "lot", "product"}) {
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), k), 1) << k;
  }
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), "party"), 4);  // operator, acme, shipco, customs
}

TEST_F(BundleTest, BuildRefusesUnknownSubjectsAndStaleCheckpoints) {
  auto missing = BuildBundle(*ledger_, Code("NOPE"), note_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, BundleBuildErrorCode::kNotFound);
  Accept(RecordKind::kInspection, InspectionBody("L1"), lab_);
  auto stale = BuildBundle(*ledger_, Lot("L1"), note_);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, BundleBuildErrorCode::kStaleCheckpoint);
  EXPECT_NE(stale.error().message.find("tracectl checkpoint sign"), std::string::npos);
  EXPECT_TRUE(BuildBundle(*ledger_, Lot("L2"), note_).ok());  // L2 has nothing new
}

TEST_F(BundleTest, ChangedRecordBodyIsRejected) {
  Json b = Json::parse(Build(Code("S1")));
  const size_t i = Find(b, "product");
  std::string entry = b["records"][i]["entry"];
  entry.replace(entry.find("Jasmine tea"), 11, "Oolong teaa");
  b["records"][i]["entry"] = entry;
  BundleReport r = VerifyBundle(b.dump(), Trust());
  EXPECT_TRUE(Has(r, BundleIssueCode::kBadRecord)) << Codes(r);
  EXPECT_TRUE(Has(r, BundleIssueCode::kBadProof)) << Codes(r);
  // With the id updated too, the signature and the proof still fail.
  b["records"][i]["id"] = ParseRecord(entry)->IdHex();
  r = VerifyBundle(b.dump(), Trust());
  EXPECT_FALSE(Has(r, BundleIssueCode::kBadRecord)) << Codes(r);
  EXPECT_TRUE(Has(r, BundleIssueCode::kBadSignature)) << Codes(r);
  EXPECT_TRUE(Has(r, BundleIssueCode::kBadProof)) << Codes(r);
}

TEST_F(BundleTest, FlippedProofNodeAndWrongIndexAreRejected) {
  const Json good = Json::parse(Build(Code("S1")));
  Json b = good;
  std::string h = b["records"][2]["hashes"][0];
  h[0] = h[0] == '0' ? '1' : '0';
  b["records"][2]["hashes"][0] = h;
  BundleReport r = VerifyBundle(b.dump(), Trust());
  ASSERT_EQ(r.issues.size(), 1u) << Codes(r);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kBadProof);
  EXPECT_NE(r.issues[0].item.find("records[2]"), std::string::npos);

  b = good;
  const size_t last = b["records"].size() - 1;
  b["records"][last]["index"] = b["records"][last]["index"].get<uint64_t>() + 1;
  r = VerifyBundle(b.dump(), Trust());
  EXPECT_TRUE(Has(r, BundleIssueCode::kBadProof)) << Codes(r);
}

TEST_F(BundleTest, BadCheckpointSignatureIsRejected) {
  const std::string b = Build(Code("S1"));
  BundleTrust other = Trust();
  other.operator_keys = {wallet::SecretKey::Generate().Public()};
  BundleReport r = VerifyBundle(b, other);
  ASSERT_EQ(r.issues.size(), 1u) << Codes(r);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kCheckpointSignature);

  // The operator's line altered: the note text is re-signed by nobody.
  Json j = Json::parse(b);
  std::string cp = j["checkpoint"];
  const size_t root = cp.find('\n', cp.find('\n') + 1) + 1;  // the root line
  cp[root] = cp[root] == 'A' ? 'B' : 'A';
  j["checkpoint"] = cp;
  r = VerifyBundle(j.dump(), Trust(0));
  EXPECT_TRUE(Has(r, BundleIssueCode::kCheckpointSignature)) << Codes(r);
}

TEST_F(BundleTest, QuorumAndUnknownWitnessesAreRejected) {
  // Only w1 cosigns; w2 is required too.
  chain::CheckpointSigner signer(ledger_->store(), op_.key, "example.com/trace");
  chain::SignedNote only_w1 = signer.SignCurrent()->note;
  only_w1.AddSignatures({chain::Cosign("w1", w1_, only_w1.text, 1'800'000'000)});
  note_ = only_w1;
  BundleReport r = VerifyBundle(Build(Code("S1")), Trust(2));
  ASSERT_EQ(r.issues.size(), 1u) << Codes(r);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kQuorum);
  EXPECT_TRUE(VerifyBundle(Build(Code("S1")), Trust(1)).ok());

  // A cosignature by a key we do not trust, under a trusted name.
  chain::SignedNote foreign = signer.SignCurrent()->note;
  foreign.signatures.resize(1);  // the operator's line only
  foreign.AddSignatures({chain::Cosign("w1", wallet::SecretKey::Generate(), foreign.text, 1'800'000'000)});
  note_ = foreign;
  r = VerifyBundle(Build(Code("S1")), Trust(1));
  ASSERT_EQ(r.issues.size(), 1u) << Codes(r);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kUnknownWitness);
  EXPECT_NE(r.issues[0].message.find("\"w1\""), std::string::npos);
}

TEST_F(BundleTest, RecordFromAnotherSubjectIsRejected) {
  Json b = Json::parse(Build(Code("S1")));
  const Json l2 = Json::parse(Build(Lot("L2")));
  Json foreign = l2["records"][Find(l2, "code_issuance")];  // lists T1, not S1
  Json records = b["records"];
  records.push_back(foreign);
  std::sort(records.begin(), records.end(),
            [](const Json& x, const Json& y) { return x["index"].get<uint64_t>() < y["index"].get<uint64_t>(); });
  b["records"] = records;
  BundleReport r = VerifyBundle(b.dump(), Trust());
  ASSERT_EQ(r.issues.size(), 1u) << Codes(r);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kOffSubject);
}

TEST_F(BundleTest, AuthorKeyNotRegisteredInBundleIsRejected) {
  Json b = Json::parse(Build(Code("S1")));
  Json records = Json::array();
  for (const auto& rec : b["records"]) {
    if (Json::parse(rec["entry"].get<std::string>())["body"].value("party", "") != "acme") records.push_back(rec);
  }
  b["records"] = records;
  BundleReport r = VerifyBundle(b.dump(), Trust());
  EXPECT_TRUE(Has(r, BundleIssueCode::kUnregisteredKey)) << Codes(r);
  for (const auto& i : r.issues) EXPECT_EQ(i.code, BundleIssueCode::kUnregisteredKey) << Codes(r);
}

TEST_F(BundleTest, ReceiptMustBeForTheBundlesCheckpoint) {
  const std::string mine = Receipt(note_.Serialize());
  BundleReport r = VerifyBundle(Build(Code("S1"), mine), Trust());
  EXPECT_TRUE(r.ok()) << Codes(r);
  EXPECT_TRUE(r.has_receipt);
  ASSERT_FALSE(r.unchecked.empty());
  EXPECT_NE(r.unchecked[0].find("tracectl anchor verify"), std::string::npos);

  // A receipt of an earlier checkpoint: the builder refuses it, the
  // verifier names it.
  chain::SignedNote earlier = note_;
  earlier.text = "example.com/trace\n3\n" + note_.text.substr(note_.text.find('\n', note_.text.find('\n') + 1) + 1);
  const std::string other = Receipt(earlier.Serialize());
  auto built = BuildBundle(*ledger_, Code("S1"), note_, other);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().code, BundleBuildErrorCode::kBadReceipt);
  Json b = Json::parse(Build(Code("S1")));
  b["anchor_receipt"] = other;
  r = VerifyBundle(b.dump(), Trust());
  ASSERT_EQ(r.issues.size(), 1u) << Codes(r);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kReceiptMismatch);
}

TEST_F(BundleTest, SyntaxErrorsNameTheMember) {
  BundleReport r = VerifyBundle("{\"type\":\"traceledger-evidence-bundle/v1\"}", Trust());
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kSyntax);
  EXPECT_NE(r.issues[0].message.find("subject"), std::string::npos);
  Json b = Json::parse(Build(Lot("L1")));
  b["records"][0]["hashes"][0] = "zz";
  r = VerifyBundle(b.dump(), Trust());
  ASSERT_EQ(r.issues.size(), 1u);
  EXPECT_EQ(r.issues[0].code, BundleIssueCode::kSyntax);
  EXPECT_NE(r.issues[0].message.find("records[0].hashes"), std::string::npos);
}

}  // namespace
}  // namespace traceledger::ledger
