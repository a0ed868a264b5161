#include "ledger/rules.h"

#include <initializer_list>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "ledger/credit_policy.h"
#include "ledger/schema.h"
#include "ledger/owner_index.h"

namespace traceledger::ledger {
namespace {

// A decoded k/ fact with its parsed key. Parsing an x-only key costs a
// square root and the key id a hash; authors are few and sign many records,
// so decoded facts are memoized by their stored bytes. The memo holds the
// result of a pure function of those bytes, so it cannot change a verdict.
struct KeyFact {
  uint64_t seq;
  std::string party;
  std::string key_id;
  wallet::PublicKey key;
};

std::optional<KeyFact> DecodeKeyFact(const std::string& raw) {
  static std::shared_mutex mu;
  static std::unordered_map<std::string, KeyFact> memo;  // GUARDED_BY(mu)
  {
    std::shared_lock<std::shared_mutex> lock(mu);
    if (auto it = memo.find(raw); it != memo.end()) return it->second;
  }
  auto fact = DecodeFact(raw);
  if (!fact) return std::nullopt;
  auto key = wallet::PublicKey::FromHex(fact->public_key);
  if (!key) return std::nullopt;
  KeyFact decoded{fact->seq, fact->party, key->KeyId(), *key};
  std::unique_lock<std::shared_mutex> lock(mu);
  if (memo.size() >= (size_t{1} << 16)) memo.clear();
  memo.emplace(raw, decoded);
  return decoded;
}

Reject Fail(RejectCode code, std::string field, std::string message) {
  return Reject{code, std::move(field), std::move(message)};
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool HasAnyRole(const StateReader& state, std::string_view party, std::initializer_list<Role> roles,
                uint64_t index) {
  for (Role r : roles) {
    if (HasRole(state, party, r, index)) return true;
  }
  return false;
}

Result<void, Reject> RequireRole(const StateReader& state, const Author& author, RecordKind kind,
                                 std::initializer_list<Role> roles, uint64_t index) {
  if (HasAnyRole(state, author.party, roles, index)) return {};
  std::string names;
  for (Role r : roles) names += (names.empty() ? "" : " or ") + std::string(RoleName(r));
  return Fail(RejectCode::kUnauthorized, "author",
              "party " + Quote(author.party) + " lacks the " + names + " role needed for a " +
                  std::string(KindName(kind)) + " record");
}

Result<void, Reject> RequireParty(const StateReader& state, std::string_view party, std::string field,
                                  uint64_t index) {
  if (FactAsOf(state, keys::Party(party), index)) return {};
  return Fail(RejectCode::kUnknownReference, std::move(field), "no party " + Quote(party) + " is registered");
}

// The lot must exist; returns its fact.
Result<Fact, Reject> RequireLot(const StateReader& state, std::string_view gtin, std::string_view lot,
                                const std::string& field, uint64_t index) {
  auto fact = FactAsOf(state, keys::Lot(gtin, lot), index);
  if (!fact) {
    return Fail(RejectCode::kUnknownReference, field,
                "no lot " + Quote(lot) + " of GTIN " + std::string(gtin) + " is registered");
  }
  return *fact;
}

Result<void, Reject> RequireOwner(const Fact& fact, const Author& author, const std::string& field,
                                  std::string_view what) {
  if (fact.owner == author.party) return {};
  return Fail(RejectCode::kNotOwner, field,
              std::string(what) + " belongs to " + Quote(fact.owner) + ", not to " + Quote(author.party));
}

// Code revocations and lot recalls: the issuing merchant or a regulator.
Result<void, Reject> RequireIssuerOrRegulator(const StateReader& state, const Author& author, RecordKind kind,
                                              const Fact& lot, uint64_t index) {
  if (HasRole(state, author.party, Role::kRegulator, index)) return {};
  if (!HasRole(state, author.party, Role::kMerchant, index)) {
    return RequireRole(state, author, kind, {Role::kMerchant, Role::kRegulator}, index);
  }
  return RequireOwner(lot, author, "body.lot", "the lot");
}

Result<void, Reject> CheckParty(const Record& r, const StateReader& state, uint64_t index) {
  std::string_view party = r.Str("party");
  if (FactAsOf(state, keys::Party(party), index)) {
    return Fail(RejectCode::kDuplicate, "body.party", "party " + Quote(party) + " is already registered");
  }
  auto key = wallet::PublicKey::FromHex(r.Str("public_key"));
  if (FactAsOf(state, keys::Key(key->KeyId()), index)) {
    return Fail(RejectCode::kDuplicate, "body.public_key",
                "key id " + key->KeyId() + " is already registered");
  }
  if (auto c = r.Str("controlling_party"); !c.empty()) {
    if (auto ok = RequireParty(state, c, "body.controlling_party", index); !ok.ok()) return ok;
  }
  return {};
}

Result<void, Reject> CheckKeyChange(const Record& r, const StateReader& state, uint64_t index) {
  std::string_view party = r.Str("party");
  if (auto ok = RequireParty(state, party, "body.party", index); !ok.ok()) return ok;
  auto existing_key = [&](std::string_view key_id, const std::string& field) -> Result<void, Reject> {
    auto fact = FactAsOf(state, keys::Key(key_id), index);
    if (!fact)
      return Fail(RejectCode::kUnknownReference, field, "no key " + std::string(key_id) + " is registered");
    if (fact->party != party) {
      return Fail(
          RejectCode::kNotOwner, field,
          "key " + std::string(key_id) + " belongs to " + Quote(fact->party) + ", not " + Quote(party));
    }
    if (FactAsOf(state, keys::KeyRevoked(key_id), index)) {
      return Fail(RejectCode::kConflict, field, "key " + std::string(key_id) + " is already revoked");
    }
    return {};
  };
  if (r.kind == RecordKind::kKeyRotation) {
    auto key = wallet::PublicKey::FromHex(r.Str("public_key"));
    if (FactAsOf(state, keys::Key(key->KeyId()), index)) {
      return Fail(RejectCode::kDuplicate, "body.public_key",
                  "key id " + key->KeyId() + " is already registered");
    }
    if (auto old = r.Str("retire_key_id"); !old.empty()) {
      if (auto ok = existing_key(old, "body.retire_key_id"); !ok.ok()) return ok;
      if (FactAsOf(state, keys::KeyRetired(old), index)) {
        return Fail(RejectCode::kConflict, "body.retire_key_id",
                    "key " + std::string(old) + " is already retired");
      }
    }
    return {};
  }
  return existing_key(r.Str("key_id"), "body.key_id");
}

Result<void, Reject> CheckShipmentLots(const Record& r, const Author& author, const StateReader& state,
                                       uint64_t index) {
  const Json& lots = r.body.at("lots");
  for (size_t i = 0; i < lots.size(); ++i) {
    std::string path = "body.lots[" + std::to_string(i) + "].lot";
    const auto& gtin = lots[i].at("gtin").get_ref<const std::string&>();
    const auto& lot = lots[i].at("lot").get_ref<const std::string&>();
    auto fact = RequireLot(state, gtin, lot, path, index);
    if (!fact.ok()) return fact.error();
    if (auto ok = RequireOwner(*fact, author, path, "lot " + Quote(lot)); !ok.ok()) return ok;
    if (FactAsOf(state, keys::LotRecalled(gtin, lot), index)) {
      return Fail(RejectCode::kConflict, path, "lot " + Quote(lot) + " has been recalled");
    }
  }
  return {};
}

// A code_issuance part: the author's own, unrecalled lot; part 1 opens the
// batch, part k > 1 continues the same batch, lot and parts count right
// after part k-1; no serial was issued before for the GTIN.
Result<void, Reject> CheckCodeIssuance(const Record& r, const Author& a, const StateReader& state,
                                       uint64_t index) {
  const std::string_view gtin = r.Str("gtin");
  const std::string_view lot = r.Str("lot");
  const std::string_view batch = r.Str("batch");
  auto lot_fact = RequireLot(state, gtin, lot, "body.lot", index);
  if (!lot_fact.ok()) return lot_fact.error();
  if (auto ok = RequireOwner(*lot_fact, a, "body.lot", "the lot"); !ok.ok()) return ok;
  if (FactAsOf(state, keys::LotRecalled(gtin, lot), index)) {
    return Fail(RejectCode::kConflict, "body.lot", "lot " + Quote(lot) + " has been recalled");
  }
  const auto part = static_cast<uint32_t>(r.body.at("part").get<int64_t>());
  const auto parts = static_cast<uint32_t>(r.body.at("parts").get<int64_t>());
  auto batch_fact = FactAsOf(state, keys::CodeBatch(gtin, batch), index);
  if (part == 1) {
    if (batch_fact) {
      return Fail(RejectCode::kDuplicate, "body.batch",
                  "batch " + Quote(batch) + " was already issued for this GTIN");
    }
  } else {
    if (!batch_fact) {
      return Fail(RejectCode::kUnknownReference, "body.batch",
                  "batch " + Quote(batch) + " has no part 1 on the ledger");
    }
    if (auto ok = RequireOwner(*batch_fact, a, "body.batch", "batch " + Quote(batch)); !ok.ok()) return ok;
    if (FactAsOf(state, keys::CodePart(gtin, batch, lot, parts, part), index)) {
      return Fail(RejectCode::kDuplicate, "body.part",
                  "part " + std::to_string(part) + " of batch " + Quote(batch) + " is already on the ledger");
    }
    if (!FactAsOf(state, keys::CodePart(gtin, batch, lot, parts, part - 1), index)) {
      return Fail(RejectCode::kConflict, "body.part",
                  "part " + std::to_string(part) + " of batch " + Quote(batch) + " must follow part " +
                      std::to_string(part - 1) + " of the same batch, lot " + Quote(lot) + " and parts " +
                      std::to_string(parts));
    }
  }
  const Json& serials = r.body.at("serials");
  for (size_t k = 0; k < serials.size(); ++k) {
    const auto& serial = serials[k].get_ref<const std::string&>();
    if (FactAsOf(state, keys::CodeIssued(gtin, serial), index)) {
      return Fail(RejectCode::kDuplicate, "body.serials[" + std::to_string(k) + "]",
                  "serial " + Quote(serial) + " was already issued for GTIN " + std::string(gtin));
    }
  }
  return {};
}

// Looks up the shipment a record refers to by body.shipment.
Result<Fact, Reject> RequireShipment(const Record& r, const StateReader& state, uint64_t index) {
  auto fact = FactAsOf(state, keys::Shipment(r.Str("shipment")), index);
  if (!fact) {
    return Fail(RejectCode::kUnknownReference, "body.shipment",
                "no shipment " + Quote(r.Str("shipment")) + " is registered");
  }
  return *fact;
}

// A credit_event. repair_request is the merchant's own (about itself); every
// other event is a regulator's. black_list fixes the listing date as the
// record's own time, which may not be back-dated by more than a day;
// repair_approved needs at least one year on the black list (FORMAT.md §7.4).
Result<void, Reject> CheckCreditEvent(const Record& r, const Author& a, const StateReader& state, uint64_t i,
                                      int64_t ledger_time_s) {
  std::string_view merchant = r.Str("merchant");
  std::string_view event = r.Str("event");
  if (event == "repair_request") {
    if (auto ok = RequireRole(state, a, r.kind, {Role::kMerchant}, i); !ok.ok()) return ok;
    if (merchant != a.party) {
      return Fail(RejectCode::kUnauthorized, "body.merchant",
                  "a merchant may request credit repair only for itself, not for " + Quote(merchant));
    }
  } else {
    if (auto ok = RequireRole(state, a, r.kind, {Role::kRegulator}, i); !ok.ok()) return ok;
    if (auto ok = RequireParty(state, merchant, "body.merchant", i); !ok.ok()) return ok;
    if (!HasRole(state, merchant, Role::kMerchant, i)) {
      return Fail(RejectCode::kUnknownReference, "body.merchant",
                  "party " + Quote(merchant) + " is not a merchant");
    }
    if (merchant == a.party) {
      return Fail(RejectCode::kUnauthorized, "author", "a party may not record credit events about itself");
    }
  }
  if (event == "black_list" && r.time < ledger_time_s - 86400) {
    return Fail(
        RejectCode::kClock, "time",
        "a black_list event is dated by its time, which may be at most one day behind the ledger clock");
  }
  if (!r.body.contains("listing")) return {};
  // repair_request / repair_approved / repair_refused
  auto listing_id = chain::HashFromHex(r.Str("listing"));
  auto listing = FactAsOf(state, keys::BlackListing(*listing_id), i);
  if (!listing) {
    return Fail(RejectCode::kUnknownReference, "body.listing",
                "record " + std::string(r.Str("listing")) + " is not a black_list event on the ledger");
  }
  if (listing->owner != merchant) {
    return Fail(RejectCode::kNotOwner, "body.listing",
                "that black listing is of " + Quote(listing->owner) + ", not of " + Quote(merchant));
  }
  if (FactAsOf(state, keys::ListingRepaired(*listing_id), i)) {
    return Fail(RejectCode::kConflict, "body.listing", "that black listing was already repaired");
  }
  if (event == "repair_request") return {};
  auto request_id = chain::HashFromHex(r.Str("request"));
  auto request = FactAsOf(state, keys::RepairRequest(*request_id), i);
  if (!request) {
    return Fail(RejectCode::kUnknownReference, "body.request",
                "record " + std::string(r.Str("request")) + " is not a repair_request on the ledger");
  }
  if (request->owner != merchant || request->ref != r.Str("listing")) {
    return Fail(RejectCode::kNotOwner, "body.request",
                "that repair request is of " + Quote(request->owner) + " for listing " + request->ref);
  }
  if (FactAsOf(state, keys::RepairDecided(*request_id), i)) {
    return Fail(RejectCode::kConflict, "body.request", "that repair request was already decided");
  }
  if (event == "repair_approved") {
    auto listed = ParseDate(listing->date);
    const int64_t today = DayOfUnixSeconds(ledger_time_s);
    if (!listed || today < AddYears(*listed, 1)) {
      const std::string from = listed ? FormatDate(AddYears(*listed, 1)) : std::string("(unknown)");
      return Fail(RejectCode::kConflict, "body.request",
                  Quote(merchant) + " is on the black list since " + listing->date +
                      "; a repair may be approved only after one year, from " + from + " (ledger date " +
                      FormatDate(today) + ")");
    }
  }
  return {};
}

Result<void, Reject> CheckByKind(const Record& r, const Author& a, const StateReader& state, uint64_t index,
                                 int64_t ledger_time_s) {
  const uint64_t i = index;
  switch (r.kind) {
    case RecordKind::kParty:
      if (auto ok = RequireRole(state, a, r.kind, {Role::kOperator}, i); !ok.ok()) return ok;
      return CheckParty(r, state, i);
    case RecordKind::kKeyRotation:
    case RecordKind::kKeyRevocation:
      if (auto ok = RequireRole(state, a, r.kind, {Role::kOperator}, i); !ok.ok()) return ok;
      return CheckKeyChange(r, state, i);
    case RecordKind::kRoleGrant: {
      if (auto ok = RequireRole(state, a, r.kind, {Role::kOperator}, i); !ok.ok()) return ok;
      if (auto ok = RequireParty(state, r.Str("party"), "body.party", i); !ok.ok()) return ok;
      Role role = *RoleFromName(r.Str("role"));
      if (HasRole(state, r.Str("party"), role, i)) {
        return Fail(RejectCode::kConflict, "body.role",
                    "party " + Quote(r.Str("party")) + " already holds role " + std::string(RoleName(role)));
      }
      return {};
    }
    case RecordKind::kProduct:
      if (auto ok = RequireRole(state, a, r.kind, {Role::kMerchant}, i); !ok.ok()) return ok;
      if (auto fact = FactAsOf(state, keys::Product(r.Str("gtin")), i)) {
        return Fail(RejectCode::kDuplicate, "body.gtin",
                    "GTIN " + std::string(r.Str("gtin")) + " is already registered by " + Quote(fact->owner));
      }
      return {};
    case RecordKind::kLot: {
      if (auto ok = RequireRole(state, a, r.kind, {Role::kMerchant}, i); !ok.ok()) return ok;
      auto product = FactAsOf(state, keys::Product(r.Str("gtin")), i);
      if (!product) {
        return Fail(RejectCode::kUnknownReference, "body.gtin",
                    "no product with GTIN " + std::string(r.Str("gtin")) + " is registered");
      }
      if (auto ok = RequireOwner(*product, a, "body.gtin", "the product"); !ok.ok()) return ok;
      if (FactAsOf(state, keys::Lot(r.Str("gtin"), r.Str("lot")), i)) {
        return Fail(
            RejectCode::kDuplicate, "body.lot",
            "lot " + Quote(r.Str("lot")) + " of GTIN " + std::string(r.Str("gtin")) + " already exists");
      }
      return {};
    }
    case RecordKind::kCodeIssuance:
      if (auto ok = RequireRole(state, a, r.kind, {Role::kMerchant}, i); !ok.ok()) return ok;
      return CheckCodeIssuance(r, a, state, i);
    case RecordKind::kShipment:
      if (auto ok = RequireRole(state, a, r.kind, {Role::kMerchant}, i); !ok.ok()) return ok;
      if (FactAsOf(state, keys::Shipment(r.Str("shipment")), i)) {
        return Fail(RejectCode::kDuplicate, "body.shipment",
                    "shipment " + Quote(r.Str("shipment")) + " already exists");
      }
      return CheckShipmentLots(r, a, state, i);
    case RecordKind::kCustody: {
      if (auto ok = RequireRole(state, a, r.kind, {Role::kMerchant, Role::kLogistics}, i); !ok.ok())
        return ok;
      auto shipment = RequireShipment(r, state, i);
      if (!shipment.ok()) return shipment.error();
      if (!HasRole(state, a.party, Role::kLogistics, i)) {
        if (auto ok = RequireOwner(*shipment, a, "body.shipment", "the shipment"); !ok.ok()) return ok;
      }
      if (auto ok = RequireParty(state, r.Str("from"), "body.from", i); !ok.ok()) return ok;
      return RequireParty(state, r.Str("to"), "body.to", i);
    }
    case RecordKind::kInspection: {
      if (auto ok = RequireRole(state, a, r.kind, {Role::kInspector}, i); !ok.ok()) return ok;
      Result<Fact, Reject> subject = r.body.contains("shipment")
                                         ? RequireShipment(r, state, i)
                                         : RequireLot(state, r.Str("gtin"), r.Str("lot"), "body.lot", i);
      if (!subject.ok()) return subject.error();
      if (subject->owner == a.party) {
        return Fail(RejectCode::kUnauthorized, "author",
                    "a party may not record an inspection of its own goods");
      }
      return {};
    }
    case RecordKind::kCustomsDecision: {
      if (auto ok = RequireRole(state, a, r.kind, {Role::kCustoms}, i); !ok.ok()) return ok;
      auto shipment = RequireShipment(r, state, i);
      if (!shipment.ok()) return shipment.error();
      if (shipment->owner == a.party) {
        return Fail(RejectCode::kUnauthorized, "author", "a party may not clear its own shipment");
      }
      return {};
    }
    case RecordKind::kCreditEvent:
      return CheckCreditEvent(r, a, state, i, ledger_time_s);
    case RecordKind::kCreditPolicy: {
      if (auto ok = RequireRole(state, a, r.kind, {Role::kRegulator}, i); !ok.ok()) return ok;
      int64_t version = r.body.at("version").get<int64_t>();
      if (FactAsOf(state, keys::PolicyVersion(version), i)) {
        return Fail(RejectCode::kDuplicate, "body.version",
                    "policy version " + std::to_string(version) + " exists");
      }
      if (version > 1 && !FactAsOf(state, keys::PolicyVersion(version - 1), i)) {
        return Fail(
            RejectCode::kConflict, "body.version",
            "policy versions are consecutive; version " + std::to_string(version - 1) + " is missing");
      }
      if (auto policy = ParseCreditPolicy(r.body.at("policy"), version); !policy.ok()) {
        return Fail(RejectCode::kSchema, "body.policy" + policy.error().field, policy.error().message);
      }
      return {};
    }
    case RecordKind::kCodeRevocation:
    case RecordKind::kLotRecall: {
      auto lot = RequireLot(state, r.Str("gtin"), r.Str("lot"), "body.lot", i);
      if (!lot.ok()) {
        if (auto ok = RequireRole(state, a, r.kind, {Role::kMerchant, Role::kRegulator}, i); !ok.ok())
          return ok;
        return lot.error();
      }
      if (auto ok = RequireIssuerOrRegulator(state, a, r.kind, *lot, i); !ok.ok()) return ok;
      if (r.kind == RecordKind::kLotRecall) {
        if (FactAsOf(state, keys::LotRecalled(r.Str("gtin"), r.Str("lot")), i)) {
          return Fail(RejectCode::kConflict, "body.lot",
                      "lot " + Quote(r.Str("lot")) + " is already recalled");
        }
        return {};
      }
      const Json& serials = r.body.at("serials");
      for (size_t s = 0; s < serials.size(); ++s) {
        const auto& serial = serials[s].get_ref<const std::string&>();
        if (!FactAsOf(state, keys::CodeIssued(r.Str("gtin"), serial), i)) {
          return Fail(RejectCode::kUnknownReference, "body.serials[" + std::to_string(s) + "]",
                      "serial " + Quote(serial) + " was never issued for GTIN " + std::string(r.Str("gtin")));
        }
        if (FactAsOf(state, keys::CodeRevoked(r.Str("gtin"), serial), i)) {
          return Fail(RejectCode::kConflict, "body.serials[" + std::to_string(s) + "]",
                      "serial " + Quote(serial) + " is already revoked");
        }
      }
      return {};
    }
  }
  return Fail(RejectCode::kSchema, "kind", "unhandled record kind");
}

}  // namespace

bool HasRole(const StateReader& state, std::string_view party, Role role, uint64_t index) {
  return FactAsOf(state, keys::PartyRole(party, role), index).has_value();
}

Result<Author, Reject> ResolveAuthor(const Record& r, const StateReader& state, uint64_t index) {
  if (index == 0) {
    // Genesis: the operator's own registration, signed by the key it registers.
    if (r.kind != RecordKind::kParty) {
      return Fail(RejectCode::kUnauthorized, "kind", "the first record must register the operator");
    }
    bool operator_role = false;
    for (const auto& role : r.body.at("roles")) operator_role = operator_role || role == "operator";
    if (!operator_role) {
      return Fail(RejectCode::kUnauthorized, "body.roles", "the first party must hold the operator role");
    }
    auto key = wallet::PublicKey::FromHex(r.Str("public_key"));
    if (key->KeyId() != r.author) {
      return Fail(RejectCode::kUnauthorized, "author",
                  "the genesis record must be signed by the key it registers");
    }
    return Author{std::string(r.Str("party")), *key};
  }
  auto raw = state.Get(keys::Key(r.author));
  if (!raw) return Fail(RejectCode::kUnknownKey, "author", "key " + r.author + " is not registered");
  std::optional<KeyFact> fact = DecodeKeyFact(*raw);
  if (!fact || fact->key_id != r.author) {
    return Fail(RejectCode::kUnknownKey, "author",
                "stored key " + r.author + " is damaged or does not match its id");
  }
  if (fact->seq >= index)
    return Fail(RejectCode::kUnknownKey, "author", "key " + r.author + " is not registered");
  if (FactAsOf(state, keys::KeyRevoked(r.author), index)) {
    return Fail(RejectCode::kKeyRevoked, "author", "key " + r.author + " has been revoked");
  }
  if (FactAsOf(state, keys::KeyRetired(r.author), index)) {
    return Fail(RejectCode::kKeyRetired, "author",
                "key " + r.author + " was rotated out and signs nothing new");
  }
  return Author{fact->party, fact->key};
}

bool VerifySignature(const Record& r, const wallet::PublicKey& key) { return key.Verify(r.id, r.sig); }

Result<void, Reject> CheckRecord(const Record& r, const Author& author, const StateReader& state,
                                 const ValidationContext& ctx) {
  if (auto raw = state.Get(keys::Record(r.id))) {
    auto seq = DecodeSeq(*raw);
    if (!seq || *seq < ctx.index) {
      return Fail(RejectCode::kReplay, "", "record " + r.IdHex() + " was already accepted");
    }
  }
  if (r.time > ctx.ledger_time_s + ctx.max_clock_skew_s) {
    return Fail(RejectCode::kClock, "time",
                "is " + std::to_string(r.time - ctx.ledger_time_s) + " s ahead of the ledger clock (max " +
                    std::to_string(ctx.max_clock_skew_s) + ")");
  }
  if (ctx.index == 0) return {};  // genesis: ResolveAuthor checked it all
  return CheckByKind(r, author, state, ctx.index, ctx.ledger_time_s);
}

std::vector<std::pair<std::string, std::string>> Effects(const Record& r, const Author& author,
                                                         uint64_t index) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back(keys::Record(r.id), EncodeSeq(index));
  const std::string stamp = EncodeFact(Fact{.seq = index});
  const std::string owned = EncodeFact(Fact{.seq = index, .owner = author.party});
  auto lot_history = [&](std::string_view gtin, std::string_view lot) {
    out.emplace_back(keys::WithSeq(keys::LotHistoryPrefix(gtin, lot), index), "");
  };
  auto shipment_history = [&](std::string_view shipment) {
    out.emplace_back(keys::WithSeq(keys::ShipmentHistoryPrefix(shipment), index), "");
  };
  auto add_key = [&](std::string_view party, std::string_view public_key) {
    auto key = wallet::PublicKey::FromHex(public_key);
    out.emplace_back(
        keys::Key(key->KeyId()),
        EncodeFact(Fact{.seq = index, .party = std::string(party), .public_key = std::string(public_key)}));
  };
  switch (r.kind) {
    case RecordKind::kParty:
      out.emplace_back(keys::Party(r.Str("party")), stamp);
      for (const auto& role : r.body.at("roles")) {
        out.emplace_back(keys::PartyRole(r.Str("party"), *RoleFromName(role.get<std::string>())), stamp);
      }
      add_key(r.Str("party"), r.Str("public_key"));
      break;
    case RecordKind::kKeyRotation:
      add_key(r.Str("party"), r.Str("public_key"));
      if (auto old = r.Str("retire_key_id"); !old.empty()) out.emplace_back(keys::KeyRetired(old), stamp);
      break;
    case RecordKind::kKeyRevocation:
      out.emplace_back(keys::KeyRevoked(r.Str("key_id")), stamp);
      break;
    case RecordKind::kRoleGrant:
      out.emplace_back(keys::PartyRole(r.Str("party"), *RoleFromName(r.Str("role"))), stamp);
      break;
    case RecordKind::kProduct:
      out.emplace_back(keys::Product(r.Str("gtin")), owned);
      break;
    case RecordKind::kLot:
      out.emplace_back(keys::Lot(r.Str("gtin"), r.Str("lot")), owned);
      lot_history(r.Str("gtin"), r.Str("lot"));
      break;
    case RecordKind::kCodeIssuance: {
      const std::string_view gtin = r.Str("gtin");
      const auto part = static_cast<uint32_t>(r.body.at("part").get<int64_t>());
      const auto parts = static_cast<uint32_t>(r.body.at("parts").get<int64_t>());
      if (part == 1) out.emplace_back(keys::CodeBatch(gtin, r.Str("batch")), owned);
      out.emplace_back(keys::CodePart(gtin, r.Str("batch"), r.Str("lot"), parts, part), stamp);
      const Json& serials = r.body.at("serials");
      out.reserve(out.size() + serials.size() + 1);
      for (const auto& serial : serials) {
        out.emplace_back(keys::CodeIssued(gtin, serial.get_ref<const std::string&>()), stamp);
      }
      lot_history(gtin, r.Str("lot"));
      break;
    }
    case RecordKind::kShipment:
      out.emplace_back(keys::Shipment(r.Str("shipment")), owned);
      shipment_history(r.Str("shipment"));
      for (const auto& lot : r.body.at("lots")) {
        lot_history(lot.at("gtin").get_ref<const std::string&>(),
                    lot.at("lot").get_ref<const std::string&>());
      }
      break;
    case RecordKind::kCustody:
    case RecordKind::kCustomsDecision:
      shipment_history(r.Str("shipment"));
      break;
    case RecordKind::kInspection:
      if (r.body.contains("shipment")) {
        shipment_history(r.Str("shipment"));
      } else {
        lot_history(r.Str("gtin"), r.Str("lot"));
        if (r.Str("result") == "non_conformant") {
          out.emplace_back(keys::WithSeq(keys::LotFailedPrefix(r.Str("gtin"), r.Str("lot")), index), "");
        }
      }
      break;
    case RecordKind::kCreditEvent: {
      std::string_view event = r.Str("event");
      if (event == "black_list") {
        out.emplace_back(keys::BlackListing(r.id),
                         EncodeFact(Fact{.seq = index,
                                         .owner = std::string(r.Str("merchant")),
                                         .date = FormatDate(DayOfUnixSeconds(r.time))}));
      } else if (event == "repair_request") {
        out.emplace_back(keys::RepairRequest(r.id), EncodeFact(Fact{.seq = index,
                                                                    .owner = std::string(r.Str("merchant")),
                                                                    .ref = std::string(r.Str("listing"))}));
      } else if (event == "repair_approved" || event == "repair_refused") {
        out.emplace_back(keys::RepairDecided(*chain::HashFromHex(r.Str("request"))), stamp);
        if (event == "repair_approved") {
          out.emplace_back(keys::ListingRepaired(*chain::HashFromHex(r.Str("listing"))), stamp);
        }
      }
      break;
    }
    case RecordKind::kCreditPolicy:
      out.emplace_back(keys::PolicyVersion(r.body.at("version").get<int64_t>()), stamp);
      break;
    case RecordKind::kCodeRevocation:
      for (const auto& serial : r.body.at("serials")) {
        out.emplace_back(keys::CodeRevoked(r.Str("gtin"), serial.get_ref<const std::string&>()), stamp);
      }
      lot_history(r.Str("gtin"), r.Str("lot"));
      break;
    case RecordKind::kLotRecall:
      out.emplace_back(keys::LotRecalled(r.Str("gtin"), r.Str("lot")), stamp);
      lot_history(r.Str("gtin"), r.Str("lot"));
      break;
  }
  OwnerIndexEffects(r, author.party, index, out);  // og/ ol/ os/ oc/ (ledger/owner_index.h)
  return out;
}

}  // namespace traceledger::ledger
