#include "ledger/credit.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "chain/store.h"
#include "ledger/schema.h"
#include "wallet/key.h"

namespace traceledger::ledger {
namespace {

enum class RepairAction : uint8_t { kRequest, kApproved, kRefused };

constexpr uint32_t RoleBit(Role r) { return uint32_t{1} << static_cast<int>(r); }

// Kinds the evaluation reads; the others are skipped unparsed by CatchUp.
bool IsCreditRelevant(RecordKind kind) {
  switch (kind) {
    case RecordKind::kParty:
    case RecordKind::kKeyRotation:
    case RecordKind::kRoleGrant:
    case RecordKind::kLot:
    case RecordKind::kShipment:
    case RecordKind::kInspection:
    case RecordKind::kCustomsDecision:
    case RecordKind::kCreditEvent:
    case RecordKind::kCreditPolicy:
    case RecordKind::kCodeRevocation:
    case RecordKind::kLotRecall:
      return true;
    default:
      return false;
  }
}

// The envelope's kind from a canonical entry without parsing it: in JCS
// order "kind" follows "body", so the last `"kind":"` is the envelope's (a
// quote inside a string value is escaped and cannot match).
std::optional<RecordKind> PeekKind(std::string_view entry) {
  static constexpr std::string_view kTag = "\"kind\":\"";
  size_t at = entry.rfind(kTag);
  if (at == std::string_view::npos) return std::nullopt;
  size_t start = at + kTag.size();
  size_t end = entry.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  return KindFromName(entry.substr(start, end - start));
}

// A committed entry decoded for the book without re-validating it (the
// ledger did when it was appended): kind, author, time, body and id. The id
// is SHA-256 of the entry with its "sig" member cut out, which is the JCS
// text of the unsigned envelope (FORMAT.md §3: "sig" is never the first
// member, and JCS has no other separators). nullopt if the entry does not
// have that shape; the caller then falls back to ParseRecord.
std::optional<Record> DecodeCommitted(std::string_view entry, RecordKind kind) {
  static constexpr std::string_view kSig = ",\"sig\":\"";
  const size_t at = entry.rfind(kSig);
  const size_t end = at + kSig.size() + 128;
  if (at == std::string_view::npos || end >= entry.size() || entry[end] != '"') return std::nullopt;
  Json j = Json::parse(entry, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto author = j.find("author");
  auto time = j.find("time");
  auto body = j.find("body");
  if (author == j.end() || !author->is_string() || time == j.end() || !time->is_number_integer() ||
      body == j.end() || !body->is_object()) {
    return std::nullopt;
  }
  Record r;
  r.kind = kind;
  r.author = author->get<std::string>();
  r.time = time->get<int64_t>();
  r.body = std::move(*body);
  chain::Sha256Hasher hasher;
  hasher.Update(entry.substr(0, at)).Update(entry.substr(end + 1));
  r.id = hasher.Finish();
  return r;
}

int64_t Clamp(int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(hi, v)); }

}  // namespace

struct CreditBook::Data {
  struct Item {
    uint64_t index;
    uint64_t height;
    chain::Hash id;
    RecordKind kind;
    EffectKey effect;
    int64_t act_day;  // retention runs from here
  };
  struct Listing {
    uint64_t index;
    uint64_t height;
    chain::Hash id;
    int64_t listed_day;
    int64_t act_end_day;
  };
  struct Repair {
    uint64_t index;
    uint64_t height;
    chain::Hash id;
    RepairAction action;
    chain::Hash listing;
  };
  struct Party {
    std::string party;
    uint64_t index = 0;
    uint64_t height = 0;
    chain::Hash id{};
    int64_t reg_day = 0;
    uint32_t roles = 0;  // as of the last block consumed
    std::optional<uint64_t> merchant_since;
    bool has_licence = false;
    std::optional<int64_t> licence_expiry_day;
    std::string legal_rep;
    std::string controlling;
    std::vector<Item> items;
    std::vector<Listing> listings;
    std::vector<Repair> repairs;
  };
  struct Policy {
    uint64_t height;
    CreditPolicy policy;
  };

  std::vector<int64_t> block_days;  // by height
  std::vector<Party> parties;
  std::unordered_map<std::string, uint32_t> party_ids;
  std::unordered_map<std::string, uint32_t> key_party;
  std::unordered_map<std::string, uint32_t> lot_owner;  // gtin + lot
  std::unordered_map<std::string, uint32_t> shipment_owner;
  std::unordered_map<std::string, std::vector<uint32_t>> by_legal_rep;
  std::unordered_map<std::string, std::vector<uint32_t>> by_controller;
  std::vector<Policy> policies;  // in height order

  const CreditPolicy& PolicyAt(uint64_t height) const {
    const CreditPolicy* p = &DefaultCreditPolicy();
    for (const auto& pol : policies) {
      if (pol.height > height) break;
      p = &pol.policy;
    }
    return *p;
  }

  const Party* Find(std::string_view party) const {
    auto it = party_ids.find(std::string(party));
    return it == party_ids.end() ? nullptr : &parties[it->second];
  }

  std::optional<uint32_t> AuthorParty(const Record& r) const {
    auto it = key_party.find(r.author);
    if (it == key_party.end()) return std::nullopt;
    return it->second;
  }

  void AddItem(uint32_t owner, const Record& r, uint64_t index, uint64_t height, EffectKey effect,
               int64_t act_day) {
    parties[owner].items.push_back(Item{index, height, r.id, r.kind, effect, act_day});
  }

  void Consume(const Record& r, uint64_t index, uint64_t height) {
    const int64_t today = block_days[height];
    auto owner_of = [&](const std::unordered_map<std::string, uint32_t>& map,
                        const std::string& key) -> std::optional<uint32_t> {
      auto it = map.find(key);
      if (it == map.end()) return std::nullopt;
      return it->second;
    };
    auto lot_key = [](std::string_view gtin, std::string_view lot) {
      return std::string(gtin) + std::string(lot);
    };
    switch (r.kind) {
      case RecordKind::kParty: {
        Party p;
        p.party = std::string(r.Str("party"));
        p.index = index;
        p.height = height;
        p.id = r.id;
        p.reg_day = today;
        for (const auto& role : r.body.at("roles")) {
          if (auto rr = RoleFromName(role.get<std::string>())) p.roles |= RoleBit(*rr);
        }
        if (p.roles & RoleBit(Role::kMerchant)) p.merchant_since = height;
        p.has_licence = !r.Str("licence_sha256").empty();
        if (auto expiry = r.Str("licence_expiry"); !expiry.empty()) p.licence_expiry_day = ParseDate(expiry);
        p.legal_rep = std::string(r.Str("legal_representative"));
        p.controlling = std::string(r.Str("controlling_party"));
        const auto id = static_cast<uint32_t>(parties.size());
        if (!p.legal_rep.empty()) by_legal_rep[p.legal_rep].push_back(id);
        if (!p.controlling.empty()) by_controller[p.controlling].push_back(id);
        if (auto key = wallet::PublicKey::FromHex(r.Str("public_key"))) key_party[key->KeyId()] = id;
        party_ids[p.party] = id;
        parties.push_back(std::move(p));
        return;
      }
      case RecordKind::kKeyRotation: {
        auto it = party_ids.find(std::string(r.Str("party")));
        auto key = wallet::PublicKey::FromHex(r.Str("public_key"));
        if (it != party_ids.end() && key) key_party[key->KeyId()] = it->second;
        return;
      }
      case RecordKind::kRoleGrant: {
        auto it = party_ids.find(std::string(r.Str("party")));
        auto role = RoleFromName(r.Str("role"));
        if (it == party_ids.end() || !role) return;
        Party& p = parties[it->second];
        p.roles |= RoleBit(*role);
        if (*role == Role::kMerchant && !p.merchant_since) p.merchant_since = height;
        return;
      }
      case RecordKind::kLot:
        if (auto author = AuthorParty(r)) lot_owner[lot_key(r.Str("gtin"), r.Str("lot"))] = *author;
        return;
      case RecordKind::kShipment:
        if (auto author = AuthorParty(r)) {
          shipment_owner[std::string(r.Str("shipment"))] = *author;
          AddItem(*author, r, index, height, EffectKey::kShipmentRegistered, today);
        }
        return;
      case RecordKind::kInspection: {
        auto owner = r.body.contains("shipment") ? owner_of(shipment_owner, std::string(r.Str("shipment")))
                                                 : owner_of(lot_owner, lot_key(r.Str("gtin"), r.Str("lot")));
        if (!owner) return;
        auto day = ParseDate(r.Str("inspected_on"));
        AddItem(*owner, r, index, height,
                r.Str("result") == "conformant" ? EffectKey::kInspectionConformant
                                                : EffectKey::kInspectionNonConformant,
                day ? *day : today);
        return;
      }
      case RecordKind::kCustomsDecision: {
        auto owner = owner_of(shipment_owner, std::string(r.Str("shipment")));
        if (!owner) return;
        std::string_view d = r.Str("decision");
        EffectKey e = d == "released" ? EffectKey::kCustomsReleased
                      : d == "held"   ? EffectKey::kCustomsHeld
                                      : EffectKey::kCustomsSeized;
        AddItem(*owner, r, index, height, e, today);
        return;
      }
      case RecordKind::kCodeRevocation:
      case RecordKind::kLotRecall: {
        auto owner = owner_of(lot_owner, lot_key(r.Str("gtin"), r.Str("lot")));
        auto author = AuthorParty(r);
        if (!owner || !author) return;
        const bool by_regulator = *author != *owner && (parties[*author].roles & RoleBit(Role::kRegulator));
        if (r.kind == RecordKind::kCodeRevocation) {
          // A merchant revoking its own codes (damaged labels) is housekeeping.
          if (by_regulator) AddItem(*owner, r, index, height, EffectKey::kCodeRevocationByRegulator, today);
        } else {
          AddItem(*owner, r, index, height,
                  by_regulator ? EffectKey::kLotRecallByRegulator : EffectKey::kLotRecallVoluntary, today);
        }
        return;
      }
      case RecordKind::kCreditEvent: {
        auto it = party_ids.find(std::string(r.Str("merchant")));
        if (it == party_ids.end()) return;
        const uint32_t m = it->second;
        auto act = ParseDate(r.Str("act_end_date"));
        const int64_t act_day = act ? *act : today;
        std::string_view event = r.Str("event");
        std::string_view severity = r.Str("severity");
        if (event == "penalty") {
          AddItem(m, r, index, height,
                  severity == "minor"     ? EffectKey::kPenaltyMinor
                  : severity == "serious" ? EffectKey::kPenaltySerious
                                          : EffectKey::kPenaltyMajor,
                  act_day);
        } else if (event == "reward") {
          AddItem(m, r, index, height, EffectKey::kReward, act_day);
        } else if (event == "complaint_upheld") {
          AddItem(m, r, index, height, EffectKey::kComplaintUpheld, act_day);
        } else if (event == "complaint_dismissed") {
          AddItem(m, r, index, height, EffectKey::kComplaintDismissed, act_day);
        } else if (event == "credit_repair") {
          AddItem(m, r, index, height, EffectKey::kCreditRepair, act_day);
        } else if (event == "clone_confirmed") {
          AddItem(m, r, index, height, EffectKey::kCloneConfirmed, act_day);
        } else if (event == "black_list") {
          AddItem(m, r, index, height, EffectKey::kBlackList, act_day);
          parties[m].listings.push_back(Listing{index, height, r.id, DayOfUnixSeconds(r.time), act_day});
        } else {
          RepairAction action = event == "repair_request"    ? RepairAction::kRequest
                                : event == "repair_approved" ? RepairAction::kApproved
                                                             : RepairAction::kRefused;
          auto listing = chain::HashFromHex(r.Str("listing"));
          parties[m].repairs.push_back(
              Repair{index, height, r.id, action, listing ? *listing : chain::Hash{}});
        }
        return;
      }
      case RecordKind::kCreditPolicy: {
        const int64_t version = r.body.at("version").get<int64_t>();
        auto policy = ParseCreditPolicy(r.body.at("policy"), version);
        // The rules refuse a policy that does not parse; one on a ledger
        // written before they did is ignored (the previous policy stays).
        if (policy.ok()) policies.push_back(Policy{height, *policy});
        return;
      }
      default:
        return;
    }
  }

  // The listing's state at (height, day) under `policy`.
  BlackListingState ListingState(const Party& p, const Listing& l, uint64_t height, int64_t day,
                                 const CreditPolicy& policy) const {
    BlackListingState s;
    s.record = chain::HashHex(l.id);
    s.listed_on = FormatDate(l.listed_day);
    s.act_end_date = FormatDate(l.act_end_day);
    const int64_t lapse = AddYears(l.act_end_day, static_cast<int>(policy.adverse_years));
    s.lapses_on = FormatDate(lapse);
    s.status = "active";
    for (const auto& rep : p.repairs) {
      if (rep.height > height) break;
      if (rep.action != RepairAction::kApproved || rep.listing != l.id) continue;
      const int64_t approved_day = block_days[rep.height];
      if (approved_day - l.listed_day < policy.min_repair_days) continue;  // not yet effective
      s.status = "repaired";
      s.repaired_by = chain::HashHex(rep.id);
      s.repaired_on = FormatDate(approved_day);
      break;
    }
    if (s.status == "active" && day >= lapse) s.status = "lapsed";
    return s;
  }

  bool BlackListed(const Party& p, uint64_t height, int64_t day, const CreditPolicy& policy) const {
    for (const auto& l : p.listings) {
      if (l.height > height) break;
      if (ListingState(p, l, height, day, policy).status == "active") return true;
    }
    return false;
  }

  // Merchants associated with p: same legal representative, same
  // controlling party, p's controlling party, or controlled by p.
  std::vector<uint32_t> Associates(const Party& p, uint32_t self) const {
    std::set<uint32_t> out;
    auto add_all = [&](const std::unordered_map<std::string, std::vector<uint32_t>>& map,
                       const std::string& key) {
      if (key.empty()) return;
      auto it = map.find(key);
      if (it == map.end()) return;
      out.insert(it->second.begin(), it->second.end());
    };
    add_all(by_legal_rep, p.legal_rep);
    add_all(by_controller, p.controlling);
    add_all(by_controller, p.party);
    if (!p.controlling.empty()) {
      if (auto it = party_ids.find(p.controlling); it != party_ids.end()) out.insert(it->second);
    }
    out.erase(self);
    return {out.begin(), out.end()};
  }

  std::optional<CreditEvaluation> Evaluate(std::string_view merchant, uint64_t height) const {
    if (height >= block_days.size()) return std::nullopt;
    auto it = party_ids.find(std::string(merchant));
    if (it == party_ids.end()) return std::nullopt;
    const uint32_t self = it->second;
    const Party& p = parties[self];
    if (p.height > height || !p.merchant_since || *p.merchant_since > height) return std::nullopt;
    const int64_t day = block_days[height];
    const CreditPolicy& policy = PolicyAt(height);

    CreditEvaluation e;
    e.merchant = p.party;
    e.height = height;
    e.as_of = FormatDate(day);
    e.policy_version = policy.version;
    std::array<int64_t, kDimensionCount> sums{};
    auto add = [&](CreditContribution c) {
      if (c.counted) sums[static_cast<size_t>(c.dimension)] += c.points;
      e.contributions.push_back(std::move(c));
    };
    auto contribution = [&](const chain::Hash& id, uint64_t index, uint64_t h, RecordKind kind, EffectKey key,
                            int64_t act_day) {
      const Effect& eff = policy.effect(key);
      CreditContribution c;
      c.record = chain::HashHex(id);
      c.index = index;
      c.height = h;
      c.kind = std::string(KindName(kind));
      c.fact = std::string(EffectKeyName(key));
      c.dimension = eff.dimension;
      c.points = eff.points;
      c.counted = true;
      c.date = FormatDate(act_day);
      return c;
    };

    // Qualification: the registration and its licence.
    add(contribution(p.id, p.index, p.height, RecordKind::kParty, EffectKey::kRegistered, p.reg_day));
    {
      auto c = contribution(p.id, p.index, p.height, RecordKind::kParty, EffectKey::kLicenceValid, p.reg_day);
      if (!p.has_licence) {
        c.counted = false;
        c.note = "no licence on record";
      } else if (p.licence_expiry_day && *p.licence_expiry_day < day) {
        c.counted = false;
        c.note = "licence expired on " + FormatDate(*p.licence_expiry_day);
      }
      if (!c.counted) c.points = 0;
      add(std::move(c));
    }

    // Black listings first: their state decides whether the black_list
    // items count.
    bool black = false;
    int64_t black_since = 0;
    std::map<chain::Hash, std::string> listing_status;
    for (const auto& l : p.listings) {
      if (l.height > height) break;
      auto s = ListingState(p, l, height, day, policy);
      listing_status[l.id] = s.status;
      if (s.status == "active") {
        black_since = black ? std::min(black_since, l.listed_day) : l.listed_day;
        black = true;
      }
      e.listings.push_back(std::move(s));
    }

    // Items: counted while within retention; max_count keeps the latest.
    struct Scored {
      CreditContribution c;
      EffectKey key;
    };
    std::vector<Scored> items;
    for (const auto& item : p.items) {
      if (item.height > height) break;
      auto c = contribution(item.id, item.index, item.height, item.kind, item.effect, item.act_day);
      const Effect& eff = policy.effect(item.effect);
      const int64_t years = eff.adverse ? policy.adverse_years : policy.positive_years;
      const int64_t ends = AddYears(item.act_day, static_cast<int>(years));
      if (day >= ends) {
        c.counted = false;
        c.note = "retention ended on " + FormatDate(ends);
      } else if (item.effect == EffectKey::kBlackList) {
        const std::string& status = listing_status[item.id];
        if (status != "active") {
          c.counted = false;
          c.note = "listing " + status;
        }
      }
      items.push_back(Scored{std::move(c), item.effect});
    }
    std::array<int64_t, kEffectKeyCount> seen{};
    for (size_t k = items.size(); k-- > 0;) {
      auto& [c, key] = items[k];
      if (!c.counted) continue;
      const Effect& eff = policy.effect(key);
      if (eff.max_count > 0 && ++seen[static_cast<size_t>(key)] > eff.max_count) {
        c.counted = false;
        c.note = "beyond the " + std::to_string(eff.max_count) + " latest that count";
      }
    }
    bool adverse = false;
    bool serious = false;
    bool recent_adverse = false;
    int64_t rewards = 0;
    for (size_t k = 0; k < items.size(); ++k) {
      auto& [c, key] = items[k];
      const Effect& eff = policy.effect(key);
      if (!c.counted) {
        c.points = 0;
      } else {
        if (eff.adverse) {
          adverse = true;
          serious = serious || eff.serious;
          if (day - p.items[k].act_day < policy.recent_adverse_days) recent_adverse = true;
        }
        if (key == EffectKey::kReward) ++rewards;
      }
      add(std::move(c));
    }

    // Associated relationships: black-listed associates.
    for (uint32_t other : Associates(p, self)) {
      const Party& o = parties[other];
      if (o.height > height) continue;
      for (const auto& l : o.listings) {
        if (l.height > height) break;
        if (ListingState(o, l, height, day, policy).status != "active") continue;
        auto c = contribution(l.id, l.index, l.height, RecordKind::kCreditEvent,
                              EffectKey::kAssociatedBlackListed, l.listed_day);
        c.note = "associated merchant " + o.party + " is on the black list";
        add(std::move(c));
        e.associated.push_back(o.party);
        break;
      }
    }

    int64_t weighted = 0;
    int64_t total_weight = 0;
    for (int d = 0; d < kDimensionCount; ++d) {
      const auto i = static_cast<size_t>(d);
      e.dimensions[i] = Clamp(policy.base[i] + sums[i], 0, 100);
      weighted += policy.weights[i] * e.dimensions[i];
      total_weight += policy.weights[i];
    }
    e.score = weighted / total_weight;
    e.score_grade = e.score >= policy.a_min   ? Grade::kA
                    : e.score >= policy.b_min ? Grade::kB
                    : e.score >= policy.c_min ? Grade::kC
                                              : Grade::kD;
    e.grade = e.score_grade;
    auto cap = [&](Grade max, const std::string& why) {
      if (static_cast<int>(e.grade) < static_cast<int>(max)) {
        e.grade = max;
        e.caps.push_back(why);
      }
    };
    if (black) cap(Grade::kD, "on the black list since " + FormatDate(black_since));
    if (serious) cap(policy.serious_adverse_max, "a serious adverse record within retention");
    if (recent_adverse) {
      cap(policy.recent_adverse_max,
          "an adverse record within the last " + std::to_string(policy.recent_adverse_days) + " days");
    }
    if (black) {
      e.list = "black";
    } else if (static_cast<int>(e.grade) <= static_cast<int>(policy.red_min_grade) && !adverse &&
               rewards >= policy.red_min_rewards && day - p.reg_day >= policy.red_min_registered_days) {
      e.list = "red";
    }
    return e;
  }

  // First height whose date is >= day (block_days is non-decreasing in
  // practice; a lower date later is tolerated by taking the first match).
  std::optional<uint64_t> FirstHeightOnOrAfter(int64_t day) const {
    auto it = std::lower_bound(block_days.begin(), block_days.end(), day);
    if (it == block_days.end()) return std::nullopt;
    return static_cast<uint64_t>(it - block_days.begin());
  }
};

CreditBook::CreditBook() : data_(std::make_unique<Data>()) {}
CreditBook::~CreditBook() = default;

uint64_t CreditBook::next_height() const {
  std::shared_lock lock(mu_);
  return data_->block_days.size();
}

void CreditBook::AddBlock(uint64_t height, int64_t timestamp_ms, uint64_t first_index,
                          std::span<const Record> records) {
  std::unique_lock lock(mu_);
  if (height != data_->block_days.size()) return;
  int64_t day = DayOfUnixSeconds(timestamp_ms >= 0 ? timestamp_ms / 1000 : -((-timestamp_ms + 999) / 1000));
  data_->block_days.push_back(day);
  for (size_t i = 0; i < records.size(); ++i) data_->Consume(records[i], first_index + i, height);
}

LedgerResult<uint64_t> CreditBook::CatchUp(const Ledger& ledger, std::optional<uint64_t> up_to_height) {
  auto tip = ledger.tip();
  if (!tip) return uint64_t{0};
  uint64_t last = tip->height;
  if (up_to_height) last = std::min(last, *up_to_height);
  uint64_t consumed = 0;
  for (uint64_t h = next_height(); h <= last; ++h) {
    auto block = ledger.store().GetBlock(h);
    if (!block.ok()) return LedgerError{LedgerErrorCode::kStore, block.error().message};
    if (!block->has_value()) {
      return LedgerError{LedgerErrorCode::kCorrupt, "block " + std::to_string(h) + " is missing"};
    }
    const chain::BlockHeader& header = (*block)->header;
    std::vector<Record> records;
    std::vector<uint64_t> indexes;
    std::optional<LedgerError> failure;
    auto scanned = ledger.store().ScanEntries(
        header.first_index(), header.record_count, [&](uint64_t index, std::string_view entry) {
          auto kind = PeekKind(entry);
          if (kind && !IsCreditRelevant(*kind)) return true;
          if (kind) {
            if (auto decoded = DecodeCommitted(entry, *kind)) {
              records.push_back(std::move(*decoded));
              indexes.push_back(index);
              return true;
            }
          }
          auto record = ParseRecord(entry);
          if (!record.ok()) {
            failure =
                LedgerError{LedgerErrorCode::kCorrupt, "entry " + std::to_string(index) +
                                                           " is not a record: " + record.error().ToString()};
            return false;
          }
          if (!IsCreditRelevant(record->kind)) return true;
          records.push_back(std::move(record).value());
          indexes.push_back(index);
          return true;
        });
    if (failure) return *failure;
    if (!scanned.ok()) return LedgerError{LedgerErrorCode::kStore, scanned.error().message};
    {
      std::unique_lock lock(mu_);
      if (h != data_->block_days.size()) continue;
      const int64_t ms = static_cast<int64_t>(header.timestamp_ms);
      data_->block_days.push_back(DayOfUnixSeconds(ms / 1000));
      for (size_t i = 0; i < records.size(); ++i) data_->Consume(records[i], indexes[i], h);
    }
    ++consumed;
  }
  return consumed;
}

std::optional<CreditEvaluation> CreditBook::Evaluate(std::string_view merchant,
                                                     std::optional<uint64_t> height) const {
  std::shared_lock lock(mu_);
  if (data_->block_days.empty()) return std::nullopt;
  return data_->Evaluate(merchant, height.value_or(data_->block_days.size() - 1));
}

std::vector<CreditHistoryEntry> CreditBook::History(std::string_view merchant) const {
  std::shared_lock lock(mu_);
  const Data& d = *data_;
  std::vector<CreditHistoryEntry> out;
  const Data::Party* p = d.Find(merchant);
  if (!p || d.block_days.empty()) return out;
  const uint64_t tip = d.block_days.size() - 1;
  std::set<uint64_t> heights;
  if (p->merchant_since) heights.insert(*p->merchant_since);
  auto add_day = [&](int64_t day) {
    if (auto h = d.FirstHeightOnOrAfter(day)) heights.insert(*h);
  };
  // Thresholds under every policy version the book holds (cheap, and a
  // superset of the ones that matter).
  std::vector<const CreditPolicy*> policies{&DefaultCreditPolicy()};
  for (const auto& pol : d.policies) {
    policies.push_back(&pol.policy);
    heights.insert(pol.height);
  }
  for (const CreditPolicy* pol : policies) {
    for (const auto& item : p->items) {
      const Effect& eff = pol->effect(item.effect);
      add_day(
          AddYears(item.act_day, static_cast<int>(eff.adverse ? pol->adverse_years : pol->positive_years)));
      if (eff.adverse) add_day(item.act_day + pol->recent_adverse_days);
    }
    for (const auto& l : p->listings) add_day(AddYears(l.act_end_day, static_cast<int>(pol->adverse_years)));
    add_day(p->reg_day + pol->red_min_registered_days);
  }
  if (p->licence_expiry_day) add_day(*p->licence_expiry_day + 1);
  for (const auto& item : p->items) heights.insert(item.height);
  for (const auto& l : p->listings) heights.insert(l.height);
  for (const auto& r : p->repairs) heights.insert(r.height);
  for (uint32_t other : d.Associates(*p, d.party_ids.at(p->party))) {
    const Data::Party& o = d.parties[other];
    heights.insert(o.height);
    for (const auto& l : o.listings) {
      heights.insert(l.height);
      for (const CreditPolicy* pol : policies)
        add_day(AddYears(l.act_end_day, static_cast<int>(pol->adverse_years)));
    }
    for (const auto& r : o.repairs) heights.insert(r.height);
  }
  heights.insert(tip);
  for (uint64_t h : heights) {
    if (h > tip) continue;
    auto e = d.Evaluate(merchant, h);
    if (!e) continue;
    CreditHistoryEntry entry{h, e->as_of, e->grade, e->list, e->score, e->policy_version};
    if (!out.empty() && out.back().grade == entry.grade && out.back().list == entry.list &&
        out.back().score == entry.score && out.back().policy_version == entry.policy_version) {
      continue;
    }
    out.push_back(std::move(entry));
  }
  return out;
}

namespace {
std::vector<CreditListEntry> Sorted(std::vector<CreditListEntry> v) {
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.merchant < b.merchant; });
  return v;
}
}  // namespace

std::vector<CreditListEntry> CreditBook::BlackList(std::optional<uint64_t> height) const {
  std::shared_lock lock(mu_);
  const Data& d = *data_;
  std::vector<CreditListEntry> out;
  if (d.block_days.empty()) return out;
  const uint64_t h = std::min<uint64_t>(height.value_or(d.block_days.size() - 1), d.block_days.size() - 1);
  for (const auto& p : d.parties) {
    if (p.listings.empty()) continue;  // only a listing puts a merchant there
    auto e = d.Evaluate(p.party, h);
    if (!e || e->list != "black") continue;
    std::string since;
    for (const auto& l : e->listings) {
      if (l.status == "active" && (since.empty() || l.listed_on < since)) since = l.listed_on;
    }
    out.push_back(CreditListEntry{p.party, e->grade, e->score, since});
  }
  return Sorted(std::move(out));
}

std::vector<CreditListEntry> CreditBook::RedList(std::optional<uint64_t> height) const {
  std::shared_lock lock(mu_);
  const Data& d = *data_;
  std::vector<CreditListEntry> out;
  if (d.block_days.empty()) return out;
  const uint64_t h = std::min<uint64_t>(height.value_or(d.block_days.size() - 1), d.block_days.size() - 1);
  // Every merchant is evaluated: remember the answer for the height (the
  // blocks up to h never change once consumed).
  {
    std::lock_guard<std::mutex> cache_lock(red_cache_mu_);
    if (red_cache_height_ == h) return red_cache_;
  }
  for (const auto& p : d.parties) {
    if (!p.merchant_since) continue;
    auto e = d.Evaluate(p.party, h);
    if (!e || e->list != "red") continue;
    out.push_back(CreditListEntry{p.party, e->grade, e->score, ""});
  }
  out = Sorted(std::move(out));
  std::lock_guard<std::mutex> cache_lock(red_cache_mu_);
  red_cache_height_ = h;
  red_cache_ = out;
  return out;
}

std::vector<std::string> CreditBook::Merchants() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& p : data_->parties) {
    if (p.merchant_since) out.push_back(p.party);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string CreditBook::DateOf(uint64_t height) const {
  std::shared_lock lock(mu_);
  if (height >= data_->block_days.size()) return {};
  return FormatDate(data_->block_days[height]);
}

Json EvaluationToJson(const CreditEvaluation& e) {
  Json dims = Json::object();
  for (int d = 0; d < kDimensionCount; ++d) {
    dims[std::string(DimensionName(static_cast<Dimension>(d)))] = e.dimensions[static_cast<size_t>(d)];
  }
  Json contributions = Json::array();
  for (const auto& c : e.contributions) {
    Json j = {
        {"record", c.record}, {"index", c.index},     {"height", c.height},
        {"kind", c.kind},     {"fact", c.fact},       {"dimension", std::string(DimensionName(c.dimension))},
        {"points", c.points}, {"counted", c.counted}, {"date", c.date}};
    if (!c.note.empty()) j["note"] = c.note;
    contributions.push_back(std::move(j));
  }
  Json listings = Json::array();
  for (const auto& l : e.listings) {
    Json j = {{"record", l.record},
              {"listed_on", l.listed_on},
              {"act_end_date", l.act_end_date},
              {"lapses_on", l.lapses_on},
              {"status", l.status}};
    if (!l.repaired_by.empty()) {
      j["repaired_by"] = l.repaired_by;
      j["repaired_on"] = l.repaired_on;
    }
    listings.push_back(std::move(j));
  }
  return {{"merchant", e.merchant},
          {"height", e.height},
          {"as_of", e.as_of},
          {"policy_version", e.policy_version},
          {"dimensions", dims},
          {"score", e.score},
          {"score_grade", std::string(GradeName(e.score_grade))},
          {"grade", std::string(GradeName(e.grade))},
          {"list", e.list},
          {"caps", e.caps},
          {"contributions", contributions},
          {"listings", listings},
          {"associated", e.associated}};
}

Json HistoryToJson(const std::vector<CreditHistoryEntry>& history) {
  Json out = Json::array();
  for (const auto& h : history) {
    out.push_back({{"height", h.height},
                   {"date", h.date},
                   {"grade", std::string(GradeName(h.grade))},
                   {"list", h.list},
                   {"score", h.score},
                   {"policy_version", h.policy_version}});
  }
  return out;
}

Json ListToJson(const std::vector<CreditListEntry>& list) {
  Json out = Json::array();
  for (const auto& m : list) {
    Json j = {{"merchant", m.merchant}, {"grade", std::string(GradeName(m.grade))}, {"score", m.score}};
    if (!m.since.empty()) j["since"] = m.since;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace traceledger::ledger
