// The merchant credit policy as data: the JSON object a `credit_policy`
// record carries in body.policy (docs/FORMAT.md, "Credit policy").
//
// A policy names, for every kind of fact the evaluation (credit.h) knows,
// which of the five dimensions it affects and by how many points, whether
// it is adverse (counts for `retention.adverse_years` from the end of the
// act) and serious (caps the grade); the dimension weights and base scores;
// the grade thresholds and caps; the red-list entry conditions and the
// black-list repair period. Parsing is strict: every member is required,
// unknown members are refused, and the error names the member.
//
// Until the first credit_policy record, the shipped default policy
// (ledger/default_credit_policy.json, embedded at build time; version 0)
// is in force.
#ifndef TRACELEDGER_LEDGER_CREDIT_POLICY_H_
#define TRACELEDGER_LEDGER_CREDIT_POLICY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/canonical_json.h"
#include "util/result.h"

namespace traceledger::ledger {

enum class Dimension {
  kQualification,            // 资质
  kBusinessBehaviour,        // 经营行为
  kCreditHistory,            // 信用历史
  kPerformanceCapacity,      // 履约能力
  kAssociatedRelationships,  // 关联关系
};
inline constexpr int kDimensionCount = 5;
std::string_view DimensionName(Dimension d);
std::optional<Dimension> DimensionFromName(std::string_view name);

// The facts the evaluation scores; their names are the members of the
// policy's "effects" object.
enum class EffectKey {
  kRegistered,
  kLicenceValid,
  kInspectionConformant,
  kInspectionNonConformant,
  kCustomsHeld,
  kCustomsSeized,
  kCodeRevocationByRegulator,
  kLotRecallByRegulator,
  kLotRecallVoluntary,
  kCloneConfirmed,
  kPenaltyMinor,
  kPenaltyMajor,
  kPenaltySerious,
  kReward,
  kComplaintUpheld,
  kComplaintDismissed,
  kBlackList,
  kCreditRepair,
  kShipmentRegistered,
  kCustomsReleased,
  kAssociatedBlackListed,
};
inline constexpr int kEffectKeyCount = 21;
std::string_view EffectKeyName(EffectKey key);

// Grades: A (best) .. D. Stored as 0..3.
enum class Grade { kA = 0, kB = 1, kC = 2, kD = 3 };
std::string_view GradeName(Grade g);
std::optional<Grade> GradeFromName(std::string_view name);

struct Effect {
  Dimension dimension = Dimension::kCreditHistory;
  int64_t points = 0;     // -100..100
  bool adverse = false;   // counts adverse_years from the act; caps upgrades
  bool serious = false;   // caps the grade at grades.serious_adverse_max
  int64_t max_count = 0;  // 0: every occurrence counts; else at most this many (the latest)
};

struct CreditPolicy {
  int64_t version = 0;  // 0: the shipped default
  int64_t adverse_years = 5;
  int64_t positive_years = 3;
  std::array<int64_t, kDimensionCount> weights{};  // >= 0, sum > 0
  std::array<int64_t, kDimensionCount> base{};     // 0..100
  std::array<Effect, kEffectKeyCount> effects{};
  int64_t a_min = 85, b_min = 70, c_min = 50;  // 100 >= a_min > b_min > c_min >= 0
  int64_t recent_adverse_days = 365;
  Grade recent_adverse_max = Grade::kB;
  Grade serious_adverse_max = Grade::kC;
  Grade red_min_grade = Grade::kA;
  int64_t red_min_rewards = 1;
  int64_t red_min_registered_days = 365;
  int64_t min_repair_days = 365;  // >= 365: one year is the legal minimum

  const Effect& effect(EffectKey k) const { return effects[static_cast<size_t>(k)]; }
};

struct PolicyError {
  std::string field;  // JSON path below body.policy, e.g. ".effects.reward.points"
  std::string message;
};

// Parses body.policy of a credit_policy record of `version`.
[[nodiscard]] Result<CreditPolicy, PolicyError> ParseCreditPolicy(const Json& policy, int64_t version);

// The shipped default (version 0), parsed once from the embedded JSON.
const CreditPolicy& DefaultCreditPolicy();
// The embedded default policy's JSON text.
std::string_view DefaultCreditPolicyJson();

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_CREDIT_POLICY_H_
