#include "ledger/credit_policy.h"

#include <cstdlib>
#include <set>

#include "ledger/default_credit_policy_json.h"

namespace traceledger::ledger {
namespace {

constexpr std::string_view kDimensionNames[kDimensionCount] = {"qualification", "business_behaviour",
                                                               "credit_history", "performance_capacity",
                                                               "associated_relationships"};

constexpr std::string_view kEffectNames[kEffectKeyCount] = {
    "registered",
    "licence_valid",
    "inspection_conformant",
    "inspection_non_conformant",
    "customs_held",
    "customs_seized",
    "code_revocation_by_regulator",
    "lot_recall_by_regulator",
    "lot_recall_voluntary",
    "clone_confirmed",
    "penalty_minor",
    "penalty_major",
    "penalty_serious",
    "reward",
    "complaint_upheld",
    "complaint_dismissed",
    "black_list",
    "credit_repair",
    "shipment_registered",
    "customs_released",
    "associated_black_listed",
};

constexpr std::string_view kGradeNames[] = {"A", "B", "C", "D"};

PolicyError Err(const std::string& path, std::string message) {
  return PolicyError{path, std::move(message)};
}

// A closed object: exactly the members in `names`, in any order.
std::optional<PolicyError> CheckMembers(const Json& v, const std::string& path,
                                        std::initializer_list<std::string_view> required,
                                        std::initializer_list<std::string_view> optional = {}) {
  if (!v.is_object()) return Err(path, "must be an object");
  for (const auto& [key, _] : v.items()) {
    bool known = false;
    for (auto n : required) known = known || n == key;
    for (auto n : optional) known = known || n == key;
    if (!known) {
      std::string member = path;
      member += '.';
      member += key;
      return Err(member, "is not a member of this policy object");
    }
  }
  for (auto n : required) {
    if (!v.contains(n)) return Err(path + "." + std::string(n), "is required");
  }
  return std::nullopt;
}

Result<int64_t, PolicyError> Int(const Json& obj, const std::string& path, std::string_view name, int64_t min,
                                 int64_t max) {
  const std::string p = path + "." + std::string(name);
  const Json& v = obj.at(name);
  if (!v.is_number_integer()) return Err(p, "must be an integer");
  int64_t n = v.get<int64_t>();
  if (n < min || n > max) {
    return Err(
        p, "must be in " + std::to_string(min) + ".." + std::to_string(max) + ", got " + std::to_string(n));
  }
  return n;
}

Result<Grade, PolicyError> GradeMember(const Json& obj, const std::string& path, std::string_view name) {
  const std::string p = path + "." + std::string(name);
  const Json& v = obj.at(name);
  if (!v.is_string()) return Err(p, "must be a grade string");
  auto g = GradeFromName(v.get<std::string>());
  if (!g) return Err(p, "must be one of A, B, C, D");
  return *g;
}

Result<bool, PolicyError> Bool(const Json& obj, const std::string& path, std::string_view name) {
  auto it = obj.find(name);
  if (it == obj.end()) return false;
  if (!it->is_boolean()) return Err(path + "." + std::string(name), "must be true or false");
  return it->get<bool>();
}

// Parses {"qualification": n, ...} with every dimension present.
std::optional<PolicyError> PerDimension(const Json& obj, const std::string& path, int64_t max,
                                        std::array<int64_t, kDimensionCount>& out) {
  if (auto e = CheckMembers(obj, path,
                            {kDimensionNames[0], kDimensionNames[1], kDimensionNames[2], kDimensionNames[3],
                             kDimensionNames[4]})) {
    return e;
  }
  for (int d = 0; d < kDimensionCount; ++d) {
    auto n = Int(obj, path, kDimensionNames[d], 0, max);
    if (!n.ok()) return n.error();
    out[static_cast<size_t>(d)] = *n;
  }
  return std::nullopt;
}

}  // namespace

std::string_view DimensionName(Dimension d) { return kDimensionNames[static_cast<int>(d)]; }

std::optional<Dimension> DimensionFromName(std::string_view name) {
  for (int d = 0; d < kDimensionCount; ++d) {
    if (kDimensionNames[d] == name) return static_cast<Dimension>(d);
  }
  return std::nullopt;
}

std::string_view EffectKeyName(EffectKey key) { return kEffectNames[static_cast<int>(key)]; }

std::string_view GradeName(Grade g) { return kGradeNames[static_cast<int>(g)]; }

std::optional<Grade> GradeFromName(std::string_view name) {
  for (int g = 0; g < 4; ++g) {
    if (kGradeNames[g] == name) return static_cast<Grade>(g);
  }
  return std::nullopt;
}

Result<CreditPolicy, PolicyError> ParseCreditPolicy(const Json& policy, int64_t version) {
  CreditPolicy p;
  p.version = version;
  const std::string root;
  if (auto e = CheckMembers(
          policy, root, {"retention", "weights", "base", "effects", "grades", "red_list", "black_list"})) {
    return *e;
  }
  {
    const Json& r = policy.at("retention");
    if (auto e = CheckMembers(r, ".retention", {"adverse_years", "positive_years"})) return *e;
    // Adverse records count five years from the end of the act: a policy
    // may not shorten that (PRODUCT.md, "Merchant credit").
    auto adverse = Int(r, ".retention", "adverse_years", 5, 20);
    if (!adverse.ok()) return adverse.error();
    auto positive = Int(r, ".retention", "positive_years", 1, 20);
    if (!positive.ok()) return positive.error();
    p.adverse_years = *adverse;
    p.positive_years = *positive;
  }
  if (auto e = PerDimension(policy.at("weights"), ".weights", 100, p.weights)) return *e;
  if (p.weights[0] + p.weights[1] + p.weights[2] + p.weights[3] + p.weights[4] == 0) {
    return Err(".weights", "must not all be 0");
  }
  if (auto e = PerDimension(policy.at("base"), ".base", 100, p.base)) return *e;
  {
    const Json& effects = policy.at("effects");
    if (!effects.is_object()) return Err(".effects", "must be an object");
    for (const auto& [key, _] : effects.items()) {
      bool known = false;
      for (auto n : kEffectNames) known = known || n == key;
      if (!known) return Err(".effects." + key, "is not an effect the evaluation knows");
    }
    for (int k = 0; k < kEffectKeyCount; ++k) {
      const std::string path = ".effects." + std::string(kEffectNames[k]);
      if (!effects.contains(kEffectNames[k])) return Err(path, "is required");
      const Json& e = effects.at(kEffectNames[k]);
      if (auto err = CheckMembers(e, path, {"dimension", "points"}, {"adverse", "serious", "max_count"})) {
        return *err;
      }
      Effect effect;
      if (!e.at("dimension").is_string()) return Err(path + ".dimension", "must be a string");
      auto dim = DimensionFromName(e.at("dimension").get<std::string>());
      if (!dim) {
        return Err(path + ".dimension",
                   "must be one of qualification, business_behaviour, credit_history, performance_capacity, "
                   "associated_relationships");
      }
      effect.dimension = *dim;
      auto points = Int(e, path, "points", -100, 100);
      if (!points.ok()) return points.error();
      effect.points = *points;
      auto adverse = Bool(e, path, "adverse");
      if (!adverse.ok()) return adverse.error();
      auto serious = Bool(e, path, "serious");
      if (!serious.ok()) return serious.error();
      effect.adverse = *adverse;
      effect.serious = *serious;
      if (effect.serious && !effect.adverse) return Err(path + ".serious", "requires adverse: true");
      if (effect.adverse && effect.points > 0)
        return Err(path + ".points", "must not be positive for an adverse effect");
      if (e.contains("max_count")) {
        auto max_count = Int(e, path, "max_count", 1, 1'000'000);
        if (!max_count.ok()) return max_count.error();
        effect.max_count = *max_count;
      }
      p.effects[static_cast<size_t>(k)] = effect;
    }
    // Black listing is always adverse: it is what the listing's retention runs on.
    if (!p.effect(EffectKey::kBlackList).adverse) return Err(".effects.black_list.adverse", "must be true");
  }
  {
    const Json& g = policy.at("grades");
    if (auto e = CheckMembers(g, ".grades",
                              {"a_min", "b_min", "c_min", "recent_adverse_days", "recent_adverse_max",
                               "serious_adverse_max"})) {
      return *e;
    }
    auto a = Int(g, ".grades", "a_min", 0, 100);
    if (!a.ok()) return a.error();
    auto b = Int(g, ".grades", "b_min", 0, 100);
    if (!b.ok()) return b.error();
    auto c = Int(g, ".grades", "c_min", 0, 100);
    if (!c.ok()) return c.error();
    if (!(*a > *b)) return Err(".grades.b_min", "must be below a_min");
    if (!(*b > *c)) return Err(".grades.c_min", "must be below b_min");
    p.a_min = *a;
    p.b_min = *b;
    p.c_min = *c;
    auto days = Int(g, ".grades", "recent_adverse_days", 0, 3660);
    if (!days.ok()) return days.error();
    p.recent_adverse_days = *days;
    auto recent = GradeMember(g, ".grades", "recent_adverse_max");
    if (!recent.ok()) return recent.error();
    auto serious = GradeMember(g, ".grades", "serious_adverse_max");
    if (!serious.ok()) return serious.error();
    p.recent_adverse_max = *recent;
    p.serious_adverse_max = *serious;
  }
  {
    const Json& r = policy.at("red_list");
    if (auto e = CheckMembers(r, ".red_list", {"min_grade", "min_rewards", "min_registered_days"})) return *e;
    auto grade = GradeMember(r, ".red_list", "min_grade");
    if (!grade.ok()) return grade.error();
    p.red_min_grade = *grade;
    auto rewards = Int(r, ".red_list", "min_rewards", 0, 1000);
    if (!rewards.ok()) return rewards.error();
    p.red_min_rewards = *rewards;
    auto days = Int(r, ".red_list", "min_registered_days", 0, 36600);
    if (!days.ok()) return days.error();
    p.red_min_registered_days = *days;
  }
  {
    const Json& b = policy.at("black_list");
    if (auto e = CheckMembers(b, ".black_list", {"min_repair_days"})) return *e;
    // At least one year on the black list before a repair takes effect.
    auto days = Int(b, ".black_list", "min_repair_days", 365, 3660);
    if (!days.ok()) return days.error();
    p.min_repair_days = *days;
  }
  return p;
}

std::string_view DefaultCreditPolicyJson() { return kDefaultCreditPolicyJson; }

const CreditPolicy& DefaultCreditPolicy() {
  static const CreditPolicy policy = [] {
    auto json = ParseStrictJson(kDefaultCreditPolicyJson);
    if (!json.ok()) std::abort();  // the build embeds a file the tests parse
    auto parsed = ParseCreditPolicy(*json, 0);
    if (!parsed.ok()) std::abort();
    return *parsed;
  }();
  return policy;
}

}  // namespace traceledger::ledger
