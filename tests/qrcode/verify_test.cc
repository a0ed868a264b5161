// Verification (qrcode/verify.h) against a real in-memory ledger: a round
// trip of thousands of issued codes, forgeries, key rotation, every ledger
// status, offline keys and the JSON shape.
#include "qrcode/verify.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "qrcode/issuance.h"
#include "qrcode/ledger_lookup.h"
#include "tests/ledger/fixture.h"
#include "tests/util/temp_files.h"
#include "util/encoding.h"

namespace traceledger::qrcode {
namespace {

using ledger::Json;
using ledger::RecordKind;
using ledger::testing::Actor;

class VerifyTest : public ledger::testing::LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    acme_ = Register("acme", {"merchant"});
    globex_ = Register("globex", {"merchant"});
    lab_ = Register("lab", {"inspector"});
    samr_ = Register("samr", {"regulator"});
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinA), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinB), globex_).ok());
    for (const char* lot : {"L1", "L2", "L3"})
      ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, lot), acme_).ok());
    issuers_ = std::make_unique<LedgerIssuerLookup>(*ledger_);
    statuses_ = std::make_unique<LedgerStatusLookup>(*ledger_);
  }

  // Issues `count` codes for lot `lot` through IssueCodes; returns the URIs
  // from the JSONL manifest.
  std::vector<std::string> Issue(const std::string& lot, const std::string& batch, uint64_t count,
                                 const wallet::SecretKey& key) {
    IssueRequest request{.gtin = kGtinA,
                         .lot = lot,
                         .batch = batch,
                         .count = count,
                         .out_dir = dir_.path(),
                         .time_s = now_ms_ / 1000};
    auto summary = IssueCodes(*ledger_, key, request);
    EXPECT_TRUE(summary.ok()) << summary.error().message;
    std::vector<std::string> uris;
    if (!summary.ok()) return uris;
    std::ifstream in(summary->jsonl_path);
    std::string line;
    while (std::getline(in, line)) uris.push_back(Json::parse(line).at("uri").get<std::string>());
    return uris;
  }

  VerifyResult Verify(const std::string& text) { return VerifyCode(text, *issuers_, statuses_.get()); }

  static void ExpectVerdict(const VerifyResult& r, Verdict verdict, Reason reason) {
    EXPECT_EQ(VerdictName(r.verdict), VerdictName(verdict)) << r.text << "\n" << r.message;
    EXPECT_EQ(static_cast<int>(r.reason), static_cast<int>(reason))
        << r.ReasonName() << ": " << r.text << "\n"
        << r.message;
  }

  // A code for (gtin, lot, serial) signed by `key`, as text.
  static std::string Signed(const std::string& gtin, const std::string& lot, const std::string& serial,
                            const wallet::SecretKey& key) {
    Code code{.resolver = "id.traceledger.example", .gtin = gtin, .lot = lot, .serial = serial};
    SignCode(code, key);
    return FormatCode(code);
  }

  traceledger::testing::TempDir dir_{"tl-verify-test"};
  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor globex_ = acme_, lab_ = acme_, samr_ = acme_;
  std::unique_ptr<LedgerIssuerLookup> issuers_;
  std::unique_ptr<LedgerStatusLookup> statuses_;
};

TEST_F(VerifyTest, ThousandsOfIssuedCodesVerifyGenuineAndValid) {
  std::vector<std::string> uris = Issue("L1", "B1", 12'500, acme_.key);
  ASSERT_EQ(uris.size(), 12'500u);
  for (const auto& uri : uris) {
    VerifyResult r = Verify(uri);
    ASSERT_EQ(r.verdict, Verdict::kGenuine) << uri << "\n" << r.message;
    ASSERT_EQ(r.status.status, Status::kValid) << uri << "\n" << r.status.message;
    ASSERT_TRUE(r.Good());
    EXPECT_EQ(r.issuer, "acme");
    EXPECT_EQ(r.status.batch, "B1");
    EXPECT_FALSE(r.status.has_pin);
  }
}

TEST_F(VerifyTest, ForgeriesAreRejected) {
  std::vector<std::string> uris = Issue("L1", "B1", 3, acme_.key);
  ASSERT_EQ(uris.size(), 3u);
  Code a = *ParseCode(uris[0]);
  Code b = *ParseCode(uris[1]);

  // Another merchant re-signs acme's code with its own registered key.
  ExpectVerdict(Verify(Signed(a.gtin, a.lot, a.serial, globex_.key)), Verdict::kForged,
                Reason::kOtherMerchantKey);
  // Serials swapped between two codes: each signature now covers another serial.
  Code swapped = a;
  swapped.serial = b.serial;
  ExpectVerdict(Verify(FormatCode(swapped)), Verdict::kForged, Reason::kBadSignature);
  // A signature copied onto a new serial.
  Code copied = a;
  copied.serial = "FAKE000000000001";
  ExpectVerdict(Verify(FormatCode(copied)), Verdict::kForged, Reason::kBadSignature);
  // Another lot with a copied signature.
  Code relotted = a;
  relotted.lot = "L2";
  ExpectVerdict(Verify(FormatCode(relotted)), Verdict::kForged, Reason::kBadSignature);
  // A key nobody registered.
  wallet::SecretKey stranger = wallet::SecretKey::Generate();
  ExpectVerdict(Verify(Signed(a.gtin, a.lot, a.serial, stranger)), Verdict::kForged, Reason::kUnknownKey);
  // A key id that exists, with a signature by another key.
  Code lying = *ParseCode(Signed(a.gtin, a.lot, a.serial, stranger));
  lying.key_id = acme_.key.Public().KeyId();
  ExpectVerdict(Verify(FormatCode(lying)), Verdict::kForged, Reason::kBadSignature);
  // A GTIN no one registered (valid check digit).
  ExpectVerdict(Verify(Signed("00000000000017", "L1", "S1", acme_.key)), Verdict::kForged,
                Reason::kGtinNotRegistered);
  // Malformed text is reported as such, with the text.
  VerifyResult junk = Verify("hello,world");
  ExpectVerdict(junk, Verdict::kMalformed, Reason::kMalformed);
  EXPECT_EQ(junk.malformed, CodeError::kNotHttps);
  EXPECT_EQ(junk.text, "hello,world");
}

TEST_F(VerifyTest, RetiredKeysStillVerifyRevokedOnesDoNot) {
  std::vector<std::string> old_codes = Issue("L1", "B1", 2, acme_.key);
  wallet::SecretKey next = wallet::SecretKey::Generate();
  const std::string old_id = acme_.key.Public().KeyId();
  ASSERT_TRUE(Submit(RecordKind::kKeyRotation,
                     {{"party", "acme"}, {"public_key", next.Public().Hex()}, {"retire_key_id", old_id}}, op_)
                  .ok());
  std::vector<std::string> new_codes = Issue("L2", "B2", 2, next);
  for (const auto& uri : old_codes) {
    VerifyResult r = Verify(uri);
    ExpectVerdict(r, Verdict::kGenuine, Reason::kGenuine);
    EXPECT_TRUE(r.key_retired);
    EXPECT_EQ(r.status.status, Status::kValid);
  }
  for (const auto& uri : new_codes) ExpectVerdict(Verify(uri), Verdict::kGenuine, Reason::kGenuine);
  // The retired key cannot issue anew (the ledger refuses its records)...
  IssueRequest request{.gtin = kGtinA,
                       .lot = "L3",
                       .batch = "B3",
                       .count = 1,
                       .out_dir = dir_.path(),
                       .time_s = now_ms_ / 1000};
  auto refused = IssueCodes(*ledger_, acme_.key, request);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, IssueErrorCode::kRejected);
  ASSERT_TRUE(refused.error().reject.has_value());
  EXPECT_EQ(refused.error().reject->code, ledger::RejectCode::kKeyRetired);
  // ...and once revoked, its codes are forged.
  ASSERT_TRUE(
      Submit(RecordKind::kKeyRevocation, {{"party", "acme"}, {"key_id", old_id}, {"reason", "leaked"}}, op_)
          .ok());
  for (const auto& uri : old_codes) ExpectVerdict(Verify(uri), Verdict::kForged, Reason::kKeyRevoked);
  for (const auto& uri : new_codes) ExpectVerdict(Verify(uri), Verdict::kGenuine, Reason::kGenuine);
}

TEST_F(VerifyTest, EveryLedgerStatus) {
  std::vector<std::string> l1 = Issue("L1", "B1", 3, acme_.key);
  std::vector<std::string> l2 = Issue("L2", "B2", 1, acme_.key);
  std::vector<std::string> l3 = Issue("L3", "B3", 1, acme_.key);
  auto status = [&](const std::string& uri) {
    VerifyResult r = Verify(uri);
    EXPECT_EQ(r.verdict, Verdict::kGenuine) << r.message;
    return r.status.status;
  };
  EXPECT_EQ(status(l1[0]), Status::kValid);

  Code revoked = *ParseCode(l1[1]);
  ASSERT_TRUE(Submit(RecordKind::kCodeRevocation,
                     {{"gtin", kGtinA}, {"lot", "L1"}, {"serials", {revoked.serial}}, {"reason", "damaged"}},
                     acme_)
                  .ok());
  EXPECT_EQ(status(l1[1]), Status::kRevoked);
  EXPECT_EQ(status(l1[0]), Status::kValid);

  ASSERT_TRUE(
      Submit(RecordKind::kLotRecall, {{"gtin", kGtinA}, {"lot", "L2"}, {"reason", "residue"}}, samr_).ok());
  EXPECT_EQ(status(l2[0]), Status::kLotRecalled);

  ASSERT_TRUE(Submit(RecordKind::kInspection,
                     {{"gtin", kGtinA},
                      {"lot", "L3"},
                      {"standard", "GB 2763-2021"},
                      {"sample_size", 5},
                      {"result", "non_conformant"},
                      {"report_sha256", std::string(64, 'a')},
                      {"inspected_on", "2026-11-05"}},
                     lab_)
                  .ok());
  EXPECT_EQ(status(l3[0]), Status::kLotFailedInspection);

  // Genuinely signed but never issued; or issued for another lot.
  EXPECT_EQ(status(Signed(kGtinA, "L1", "NEVERISSUED00001", acme_.key)), Status::kNeverIssued);
  Code other_lot = *ParseCode(l1[2]);
  EXPECT_EQ(status(Signed(kGtinA, "L3", other_lot.serial, acme_.key)), Status::kNeverIssued);

  // Only genuine and valid is Good().
  EXPECT_TRUE(Verify(l1[0]).Good());
  EXPECT_FALSE(Verify(l1[1]).Good());
}

TEST_F(VerifyTest, OfflineWithTheIssuerKeyOnly) {
  std::vector<std::string> uris = Issue("L1", "B1", 2, acme_.key);
  KeyListLookup offline({acme_.key.Public()});
  VerifyResult r = VerifyCode(uris[0], offline);
  ExpectVerdict(r, Verdict::kGenuine, Reason::kGenuine);
  EXPECT_EQ(r.status.status, Status::kNotChecked);
  EXPECT_TRUE(r.Good());
  // Owners are unknown offline: a registered key of another merchant
  // verifies its own signature, but a code naming acme's key must be
  // acme's signature.
  KeyListLookup other({globex_.key.Public()});
  ExpectVerdict(VerifyCode(uris[0], other), Verdict::kForged, Reason::kUnknownKey);
  Code tampered = *ParseCode(uris[0]);
  tampered.serial = "0000000000000000";
  ExpectVerdict(VerifyCode(FormatCode(tampered), offline), Verdict::kForged, Reason::kBadSignature);
}

TEST_F(VerifyTest, JsonCarriesTextVerdictReasonFieldsAndStatus) {
  std::vector<std::string> uris = Issue("L1", "B1", 1, acme_.key);
  Json good = ToJson(Verify(uris[0]));
  EXPECT_EQ(good["text"], uris[0]);
  EXPECT_EQ(good["verdict"], "genuine");
  EXPECT_EQ(good["reason"], "genuine");
  EXPECT_EQ(good["status"], "valid");
  EXPECT_EQ(good["gtin"], kGtinA);
  EXPECT_EQ(good["lot"], "L1");
  EXPECT_EQ(good["issuer"], "acme");
  EXPECT_EQ(good["batch"], "B1");
  Json bad = ToJson(Verify("https://x.example/01/09501101530004/10/L/21/S?91=0123456789abcdef&92=AA"));
  EXPECT_EQ(bad["verdict"], "malformed");
  EXPECT_EQ(bad["reason"], "bad_check_digit");
  EXPECT_EQ(bad["status"], "not_checked");
  EXPECT_FALSE(bad.contains("gtin"));
  // Text that is not UTF-8 still makes a JSON line.
  Json binary = ToJson(Verify(std::string("\xFF\xFEhttps://")));
  EXPECT_EQ(binary["reason"], "bad_character");
  EXPECT_NO_THROW((void)binary.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace
}  // namespace traceledger::qrcode
