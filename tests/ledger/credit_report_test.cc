#include "ledger/credit_report.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/ledger/credit_fixture.h"

namespace traceledger::ledger {
namespace {

class CreditReportTest : public testing::CreditFixture {
 protected:
  std::string SignedReport() {
    Merchant("acme");
    Event("acme", "penalty", "2026-11-20", {{"severity", "minor"}});
    auto e = Eval("acme");
    auto block = ledger_->GetBlock(e.height);
    EXPECT_TRUE(block.ok() && block->has_value());
    Json body = CreditReportBody(e, Book().History("acme"), (*block)->header, op_.key.Public());
    return CanonicalJson(SignCreditReport(body, op_.key));
  }
};

TEST_F(CreditReportTest, SignedReportVerifiesWithTheOperatorKey) {
  std::string text = SignedReport();
  auto r = VerifyCreditReport(text, op_.key.Public());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["evaluation"]["merchant"], "acme");
  EXPECT_EQ((*r)["evaluation"]["grade"], "B");
  EXPECT_EQ((*r)["block"]["height"], (*r)["evaluation"]["height"]);
  EXPECT_EQ((*r)["format"], "traceledger-credit-report/1");
}

TEST_F(CreditReportTest, AnyChangeBreaksTheSignature) {
  std::string text = SignedReport();
  Json report = *ParseStrictJson(text);
  for (const auto& edit : std::vector<std::function<void(Json&)>>{
           [](Json& j) { j["evaluation"]["grade"] = "A"; },
           [](Json& j) { j["evaluation"]["score"] = j["evaluation"]["score"].get<int64_t>() + 1; },
           [](Json& j) { j["evaluation"]["contributions"].erase(2); },
           [](Json& j) { j["block"]["height"] = 1; },
           [](Json& j) { j["history"] = Json::array(); },
       }) {
    Json tampered = report;
    edit(tampered);
    auto r = VerifyCreditReport(CanonicalJson(tampered), op_.key.Public());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ReportErrorCode::kBadSignature) << r.error().message;
  }
  // Re-serialized (not canonical) text of an untouched report still verifies:
  // the signature covers the canonical form.
  EXPECT_TRUE(VerifyCreditReport(report.dump(2), op_.key.Public()).ok());
}

TEST_F(CreditReportTest, WrongKeyMalformedAndMisshapenReports) {
  std::string text = SignedReport();
  auto other = wallet::SecretKey::Generate();
  auto r = VerifyCreditReport(text, other.Public());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ReportErrorCode::kKeyMismatch);

  // A report re-signed by another key, claiming that key, is refused when
  // the verifier trusts the operator's.
  Json report = *ParseStrictJson(text);
  report.erase("signature");
  report["operator_key"] = other.Public().Hex();
  r = VerifyCreditReport(CanonicalJson(SignCreditReport(report, other)), op_.key.Public());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ReportErrorCode::kKeyMismatch);

  r = VerifyCreditReport("{not json", op_.key.Public());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ReportErrorCode::kMalformed);
  r = VerifyCreditReport("[]", op_.key.Public());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ReportErrorCode::kMalformed);

  Json extra = *ParseStrictJson(text);
  extra["comment"] = "x";
  r = VerifyCreditReport(CanonicalJson(extra), op_.key.Public());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ReportErrorCode::kFormat);
  EXPECT_NE(r.error().message.find("comment"), std::string::npos);

  Json nosig = *ParseStrictJson(text);
  nosig["signature"] = "00";
  r = VerifyCreditReport(CanonicalJson(nosig), op_.key.Public());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ReportErrorCode::kFormat);
  EXPECT_NE(r.error().message.find("signature"), std::string::npos);
}

}  // namespace
}  // namespace traceledger::ledger
