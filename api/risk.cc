#include "api/risk.h"

#include <algorithm>

namespace traceledger::api {

std::string_view RiskLevelName(RiskLevel level) {
  switch (level) {
    case RiskLevel::kLow:
      return "low";
    case RiskLevel::kMedium:
      return "medium";
    case RiskLevel::kHigh:
      return "high";
  }
  return "low";
}

RiskAssessment AssessRisk(const RiskInput& in) {
  RiskAssessment out;
  auto flag = [&](std::string code, RiskLevel level, std::string subject, std::string reason) {
    out.level = std::max(out.level, level);
    out.flags.push_back(RiskFlag{std::move(code), level, std::move(subject), std::move(reason)});
  };
  if (in.credit) {
    if (in.credit->list == "black") {
      flag("merchant_black_listed", RiskLevel::kHigh, "merchant",
           "merchant " + in.merchant + " is on the black list");
    }
    if (in.credit->grade == "C" || in.credit->grade == "D") {
      flag("merchant_grade_low", in.credit->grade == "D" ? RiskLevel::kHigh : RiskLevel::kMedium, "merchant",
           "merchant " + in.merchant + " has credit grade " + in.credit->grade);
    }
  }
  if (in.shipment_inspections_failed > 0) {
    flag("inspection_failed", RiskLevel::kHigh, "shipment",
         "shipment " + in.shipment + " failed " + std::to_string(in.shipment_inspections_failed) +
             " inspection(s)");
  }
  const bool shipment_inspected = in.shipment_inspections_passed + in.shipment_inspections_failed > 0;
  for (const RiskLot& lot : in.lots) {
    const std::string subject = lot.gtin + "/" + lot.lot;
    const std::string name = "lot " + lot.lot + " of GTIN " + lot.gtin;
    if (lot.recalled) flag("lot_recalled", RiskLevel::kHigh, subject, name + " was recalled");
    if (lot.inspections_failed > 0) {
      flag("inspection_failed", RiskLevel::kHigh, subject,
           name + " failed " + std::to_string(lot.inspections_failed) + " inspection(s)");
    } else if (lot.inspections_passed == 0 && !shipment_inspected) {
      flag("inspection_missing", RiskLevel::kMedium, subject,
           name + " has no inspection on the ledger, and neither has the shipment");
    }
    if (lot.clone_incidents && *lot.clone_incidents > 0) {
      flag("clone_incidents", RiskLevel::kHigh, subject,
           std::to_string(*lot.clone_incidents) + " code(s) of " + name + " show clone incidents");
    }
    if (!lot.product_origin_country.empty() && !in.origin_country.empty() &&
        lot.product_origin_country != in.origin_country) {
      flag("origin_mismatch", RiskLevel::kMedium, subject,
           "the shipment declares origin " + in.origin_country + ", but the product of " + name +
               " is registered with origin " + lot.product_origin_country);
    }
    if (lot.revoked_codes > 0) {
      flag("codes_revoked", RiskLevel::kMedium, subject,
           std::to_string(lot.revoked_codes) + " code(s) of " + name + " were revoked");
    }
  }
  return out;
}

}  // namespace traceledger::api
