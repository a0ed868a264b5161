// Customs risk flags (api/risk.h): each flag, its level, and its absence.
#include "api/risk.h"

#include <gtest/gtest.h>

namespace traceledger::api {
namespace {

// A clean shipment: one inspected lot, origin matching, merchant grade A.
RiskInput Clean() {
  RiskInput in{.shipment = "S1", .origin_country = "CN", .merchant = "acme",
               .credit = CreditSummary{.grade = "A", .list = "red"}};
  in.lots.push_back(RiskLot{.gtin = "09501101530003", .lot = "L1", .product_origin_country = "CN",
                            .inspections_passed = 1, .clone_incidents = 0});
  return in;
}

std::vector<std::string> Codes(const RiskAssessment& a) {
  std::vector<std::string> out;
  for (const auto& f : a.flags) out.push_back(f.code);
  return out;
}

const RiskFlag* Find(const RiskAssessment& a, std::string_view code) {
  for (const auto& f : a.flags) {
    if (f.code == code) return &f;
  }
  return nullptr;
}

TEST(Risk, CleanShipmentIsLowWithoutFlags) {
  RiskAssessment a = AssessRisk(Clean());
  EXPECT_EQ(a.level, RiskLevel::kLow);
  EXPECT_TRUE(a.flags.empty()) << ::testing::PrintToString(Codes(a));
  EXPECT_EQ(RiskLevelName(a.level), "low");
}

TEST(Risk, NotRatedMerchantIsNoFlag) {
  RiskInput in = Clean();
  in.credit.reset();
  EXPECT_TRUE(AssessRisk(in).flags.empty());
}

TEST(Risk, MerchantGrades) {
  for (const char* grade : {"A", "B"}) {
    RiskInput in = Clean();
    in.credit->grade = grade;
    EXPECT_EQ(Find(AssessRisk(in), "merchant_grade_low"), nullptr) << grade;
  }
  RiskInput c = Clean();
  c.credit->grade = "C";
  RiskAssessment ac = AssessRisk(c);
  ASSERT_NE(Find(ac, "merchant_grade_low"), nullptr);
  EXPECT_EQ(Find(ac, "merchant_grade_low")->level, RiskLevel::kMedium);
  EXPECT_EQ(ac.level, RiskLevel::kMedium);
  EXPECT_NE(Find(ac, "merchant_grade_low")->reason.find("grade C"), std::string::npos);
  RiskInput d = Clean();
  d.credit->grade = "D";
  EXPECT_EQ(Find(AssessRisk(d), "merchant_grade_low")->level, RiskLevel::kHigh);
}

TEST(Risk, BlackList) {
  RiskInput in = Clean();
  in.credit->list = "black";
  RiskAssessment a = AssessRisk(in);
  ASSERT_NE(Find(a, "merchant_black_listed"), nullptr);
  EXPECT_EQ(a.level, RiskLevel::kHigh);
  EXPECT_EQ(Find(a, "merchant_black_listed")->subject, "merchant");
  in.credit->list = "red";
  EXPECT_EQ(Find(AssessRisk(in), "merchant_black_listed"), nullptr);
}

TEST(Risk, FailedInspectionOfALotOrTheShipment) {
  RiskInput in = Clean();
  in.lots[0].inspections_failed = 1;
  RiskAssessment a = AssessRisk(in);
  ASSERT_NE(Find(a, "inspection_failed"), nullptr);
  EXPECT_EQ(Find(a, "inspection_failed")->subject, "09501101530003/L1");
  EXPECT_EQ(a.level, RiskLevel::kHigh);
  RiskInput s = Clean();
  s.shipment_inspections_failed = 2;
  RiskAssessment b = AssessRisk(s);
  ASSERT_NE(Find(b, "inspection_failed"), nullptr);
  EXPECT_EQ(Find(b, "inspection_failed")->subject, "shipment");
}

TEST(Risk, MissingInspectionUnlessTheShipmentWasInspected) {
  RiskInput in = Clean();
  in.lots[0].inspections_passed = 0;
  RiskAssessment a = AssessRisk(in);
  ASSERT_NE(Find(a, "inspection_missing"), nullptr);
  EXPECT_EQ(Find(a, "inspection_missing")->level, RiskLevel::kMedium);
  in.shipment_inspections_passed = 1;
  EXPECT_EQ(Find(AssessRisk(in), "inspection_missing"), nullptr);
}

TEST(Risk, CloneIncidents) {
  RiskInput in = Clean();
  in.lots[0].clone_incidents = 3;
  RiskAssessment a = AssessRisk(in);
  ASSERT_NE(Find(a, "clone_incidents"), nullptr);
  EXPECT_EQ(a.level, RiskLevel::kHigh);
  EXPECT_NE(Find(a, "clone_incidents")->reason.find("3 code(s)"), std::string::npos);
  in.lots[0].clone_incidents.reset();  // unknown: no flag
  EXPECT_EQ(Find(AssessRisk(in), "clone_incidents"), nullptr);
}

TEST(Risk, OriginMismatch) {
  RiskInput in = Clean();
  in.origin_country = "VN";
  RiskAssessment a = AssessRisk(in);
  ASSERT_NE(Find(a, "origin_mismatch"), nullptr);
  EXPECT_EQ(a.level, RiskLevel::kMedium);
  EXPECT_NE(Find(a, "origin_mismatch")->reason.find("origin VN"), std::string::npos);
  in.lots[0].product_origin_country = "";  // product unknown: nothing to compare
  EXPECT_EQ(Find(AssessRisk(in), "origin_mismatch"), nullptr);
}

TEST(Risk, RevokedCodesAndRecall) {
  RiskInput in = Clean();
  in.lots[0].revoked_codes = 5;
  RiskAssessment a = AssessRisk(in);
  ASSERT_NE(Find(a, "codes_revoked"), nullptr);
  EXPECT_EQ(a.level, RiskLevel::kMedium);
  in.lots[0].recalled = true;
  RiskAssessment b = AssessRisk(in);
  ASSERT_NE(Find(b, "lot_recalled"), nullptr);
  EXPECT_EQ(b.level, RiskLevel::kHigh);
  EXPECT_EQ(Codes(b), (std::vector<std::string>{"lot_recalled", "codes_revoked"}));
}

}  // namespace
}  // namespace traceledger::api
