// Customs risk flags for a shipment, as a pure function: the facts the
// provenance view gathered from the ledger (and the merchant's credit and
// the lots' clone incidents from their providers) in, a risk level and the
// reasons for it out. No ledger, clock or I/O here, so every rule is tested
// on plain structs.
//
// Flags (code, level):
//   merchant_black_listed        high    the merchant is on the black list
//   merchant_grade_low           medium  grade C; high for grade D
//   inspection_failed            high    a lot, or the shipment, has a non_conformant inspection
//   inspection_missing           medium  a lot has no inspection, and the shipment has none either
//   clone_incidents              high    codes of a lot were seen cloned (scans in too many places)
//   origin_mismatch              medium  the shipment's origin country differs from a product's
//   codes_revoked                medium  codes of a lot were revoked
//   lot_recalled                 high    a lot was recalled
// The level is the highest of the flags', "low" when there is none.
#ifndef TRACELEDGER_API_RISK_H_
#define TRACELEDGER_API_RISK_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/credit_view.h"

namespace traceledger::api {

enum class RiskLevel { kLow, kMedium, kHigh };
std::string_view RiskLevelName(RiskLevel level);  // "low", "medium", "high"

// Clone incidents recorded for codes of a lot (qrcode/scan_store.h keeps
// them); nullopt when unknown. Thread-safe.
using CloneIncidentLookup = std::function<std::optional<uint64_t>(std::string_view gtin, std::string_view lot)>;

struct RiskLot {
  std::string gtin;
  std::string lot;
  std::string product_origin_country;  // "" when the product is unknown
  uint64_t inspections_passed = 0;
  uint64_t inspections_failed = 0;
  uint64_t revoked_codes = 0;
  bool recalled = false;
  std::optional<uint64_t> clone_incidents;  // nullopt: not known
};

struct RiskInput {
  std::string shipment;
  std::string origin_country;               // the shipment's
  std::string merchant;                     // the shipment's owner
  std::optional<CreditSummary> credit;      // nullopt: not rated (no flag)
  uint64_t shipment_inspections_passed = 0;
  uint64_t shipment_inspections_failed = 0;
  std::vector<RiskLot> lots;
};

struct RiskFlag {
  std::string code;  // e.g. "inspection_missing"
  RiskLevel level = RiskLevel::kLow;
  std::string subject;  // "merchant", "shipment" or "<gtin>/<lot>"
  std::string reason;   // a sentence naming the facts
};

struct RiskAssessment {
  RiskLevel level = RiskLevel::kLow;
  std::vector<RiskFlag> flags;  // merchant flags first, then per lot in input order
};

RiskAssessment AssessRisk(const RiskInput& input);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_RISK_H_
