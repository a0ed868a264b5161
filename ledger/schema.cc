#include "ledger/schema.h"

#include <array>
#include <cstdio>
#include <set>

namespace traceledger::ledger {
namespace {

using FT = FieldType;

constexpr std::string_view kRoleChoices[] = {"operator", "merchant",  "inspector",
                                             "customs",  "regulator", "logistics"};
constexpr std::string_view kInspectionResults[] = {"conformant", "non_conformant"};
constexpr std::string_view kCustomsDecisions[] = {"released", "held", "seized"};
constexpr std::string_view kCreditEvents[] = {
    "penalty",         "reward",     "complaint_upheld", "complaint_dismissed", "credit_repair",
    "clone_confirmed", "black_list", "repair_request",   "repair_approved",     "repair_refused"};
constexpr std::string_view kSeverities[] = {"minor", "major", "serious"};
// CBV 2.0 business steps that a custody handover can stand for.
constexpr std::string_view kCustodySteps[] = {"shipping",  "receiving",    "departing",
                                              "arriving",  "storing",      "loading",
                                              "unloading", "transporting", "entering_exiting"};

constexpr int64_t kMaxQuantity = 1'000'000'000;

constexpr FieldSpec kPartyFields[] = {
    {"party", FT::kPartyId, true, 1, 64, {}, "party id, e.g. acme-trading"},
    {"name", FT::kText, true, 1, 200, {}, "legal or display name"},
    {"roles", FT::kEnumArray, true, 1, 6, kRoleChoices, "roles held"},
    {"public_key", FT::kPublicKey, true, 0, 0, {}, "x-only secp256k1 key, 64 hex"},
    {"country", FT::kCountry, false, 0, 0, {}, "ISO 3166-1 alpha-2"},
    {"licence_sha256", FT::kSha256, false, 0, 0, {}, "SHA-256 of the business licence"},
    {"licence_expiry", FT::kDate, false, 0, 0, {}, "licence expiry date"},
    {"legal_representative",
     FT::kId,
     false,
     1,
     64,
     {},
     "pseudonymous id of the legal representative (a hash, never a name)"},
    {"controlling_party", FT::kPartyId, false, 1, 64, {}, "party id of the controlling party"},
};
constexpr FieldSpec kKeyRotationFields[] = {
    {"party", FT::kPartyId, true, 1, 64, {}, "party whose key changes"},
    {"public_key", FT::kPublicKey, true, 0, 0, {}, "new x-only key, 64 hex"},
    {"retire_key_id", FT::kKeyId, false, 0, 0, {}, "key id that stops signing new records"},
};
constexpr FieldSpec kKeyRevocationFields[] = {
    {"party", FT::kPartyId, true, 1, 64, {}, "party owning the key"},
    {"key_id", FT::kKeyId, true, 0, 0, {}, "key id to revoke"},
    {"reason", FT::kText, true, 1, 500, {}, "why"},
};
constexpr FieldSpec kRoleGrantFields[] = {
    {"party", FT::kPartyId, true, 1, 64, {}, "party receiving the role"},
    {"role", FT::kEnum, true, 0, 0, kRoleChoices, "role granted"},
};
constexpr FieldSpec kProductFields[] = {
    {"gtin", FT::kGtin, true, 0, 0, {}, "GTIN-14 with check digit"},
    {"name", FT::kText, true, 1, 200, {}, "product name"},
    {"brand", FT::kText, true, 1, 100, {}, "brand"},
    {"origin_country", FT::kCountry, true, 0, 0, {}, "ISO 3166-1 alpha-2"},
    {"origin_region", FT::kText, false, 1, 100, {}, "region of origin"},
    {"production_site", FT::kText, true, 1, 200, {}, "production site"},
    {"manufacturer", FT::kText, true, 1, 200, {}, "manufacturer"},
    {"category", FT::kText, false, 1, 100, {}, "product category"},
};
constexpr FieldSpec kLotFields[] = {
    {"gtin", FT::kGtin, true, 0, 0, {}, "product GTIN-14"},
    {"lot", FT::kLotNumber, true, 1, 20, {}, "lot number (GS1 AI 10)"},
    {"production_date", FT::kDate, true, 0, 0, {}, "YYYY-MM-DD"},
    {"expiry_date", FT::kDate, false, 0, 0, {}, "YYYY-MM-DD"},
    {"quantity", FT::kInteger, true, 1, kMaxQuantity, {}, "items in the lot"},
};
constexpr FieldSpec kCodeIssuanceFields[] = {
    {"gtin", FT::kGtin, true, 0, 0, {}, "product GTIN-14"},
    {"lot", FT::kLotNumber, true, 1, 20, {}, "lot number"},
    {"batch", FT::kId, true, 1, 64, {}, "issuance batch id, unique per GTIN"},
    {"part", FT::kInteger, true, 1, kMaxIssuanceParts, {}, "this record's part number, 1..parts"},
    {"parts", FT::kInteger, true, 1, kMaxIssuanceParts, {}, "number of parts of the batch"},
    {"serials", FT::kSerialArray, true, 1, kMaxSerialsPerPart, {}, "serials issued by this part"},
    {"pin_salt", FT::kHex128, false, 0, 0, {}, "per-batch salt of the PIN hashes (with pin_hashes)"},
    {"pin_hashes",
     FT::kHex128Array,
     false,
     1,
     kMaxSerialsPerPart,
     {},
     "salted hash of each serial's one-time PIN, parallel to serials"},
};
constexpr FieldSpec kShipmentFields[] = {
    {"shipment", FT::kId, true, 1, 64, {}, "shipment id"},
    {"lots", FT::kLotRefArray, true, 1, 1000, {}, "[{gtin, lot, quantity}]"},
    {"origin_country", FT::kCountry, true, 0, 0, {}, "ISO 3166-1 alpha-2"},
    {"destination", FT::kText, true, 1, 200, {}, "destination bonded zone"},
    {"declaration", FT::kId, false, 1, 64, {}, "customs declaration number"},
    {"documents", FT::kSha256Array, false, 0, 100, {}, "SHA-256 of shipping documents"},
};
constexpr FieldSpec kCustodyFields[] = {
    {"shipment", FT::kId, true, 1, 64, {}, "shipment id"},
    {"from", FT::kPartyId, true, 1, 64, {}, "party handing over"},
    {"to", FT::kPartyId, true, 1, 64, {}, "party taking over"},
    {"location", FT::kText, true, 1, 200, {}, "where"},
    {"biz_step", FT::kEnum, true, 0, 0, kCustodySteps, "CBV business step"},
    {"note", FT::kText, false, 1, 500, {}, "free text"},
};
constexpr FieldSpec kInspectionFields[] = {
    {"gtin", FT::kGtin, false, 0, 0, {}, "lot subject: GTIN-14 (with lot)"},
    {"lot", FT::kLotNumber, false, 1, 20, {}, "lot subject: lot number (with gtin)"},
    {"shipment", FT::kId, false, 1, 64, {}, "shipment subject (instead of gtin+lot)"},
    {"standard", FT::kText, true, 1, 100, {}, "standard applied, e.g. GB 2763-2021"},
    {"sample_size", FT::kInteger, true, 1, kMaxQuantity, {}, "items sampled"},
    {"result", FT::kEnum, true, 0, 0, kInspectionResults, "conformant or non_conformant"},
    {"report_sha256", FT::kSha256, true, 0, 0, {}, "SHA-256 of the report document"},
    {"inspected_on", FT::kDate, true, 0, 0, {}, "YYYY-MM-DD"},
};
constexpr FieldSpec kCustomsDecisionFields[] = {
    {"shipment", FT::kId, true, 1, 64, {}, "shipment id"},
    {"decision", FT::kEnum, true, 0, 0, kCustomsDecisions, "released, held or seized"},
    {"reason", FT::kText, false, 1, 500, {}, "reason (expected for held/seized)"},
};
constexpr FieldSpec kCreditEventFields[] = {
    {"merchant", FT::kPartyId, true, 1, 64, {}, "merchant party id"},
    {"event", FT::kEnum, true, 0, 0, kCreditEvents, "event kind"},
    {"severity", FT::kEnum, false, 0, 0, kSeverities, "minor, major or serious"},
    {"reason", FT::kText, true, 1, 1000, {}, "what happened"},
    {"act_end_date", FT::kDate, true, 0, 0, {}, "end of the act (starts retention)"},
    {"reference", FT::kId, false, 1, 64, {}, "case or complaint reference"},
    {"complaint_sha256",
     FT::kSha256,
     false,
     0,
     0,
     {},
     "SHA-256 of the complaint's canonical document (complaint_upheld / complaint_dismissed)"},
    {"listing", FT::kSha256, false, 0, 0, {}, "repair_*: record id of the black_list event"},
    {"request", FT::kSha256, false, 0, 0, {}, "repair_approved / repair_refused: record id of the request"},
};
constexpr FieldSpec kCreditPolicyFields[] = {
    {"version", FT::kInteger, true, 1, 1'000'000, {}, "policy version, +1 each time"},
    {"policy", FT::kObject, true, 0, 0, {}, "policy parameters: a JSON object, member names [a-z0-9_]"},
};
constexpr FieldSpec kCodeRevocationFields[] = {
    {"gtin", FT::kGtin, true, 0, 0, {}, "product GTIN-14"},
    {"lot", FT::kLotNumber, true, 1, 20, {}, "lot number"},
    {"serials", FT::kSerialArray, true, 1, 10000, {}, "serials revoked"},
    {"reason", FT::kText, true, 1, 500, {}, "why"},
};
constexpr FieldSpec kLotRecallFields[] = {
    {"gtin", FT::kGtin, true, 0, 0, {}, "product GTIN-14"},
    {"lot", FT::kLotNumber, true, 1, 20, {}, "lot number"},
    {"reason", FT::kText, true, 1, 500, {}, "why"},
};

constexpr KindSchema kSchemas[kRecordKindCount] = {
    {RecordKind::kParty, "party", "register a party and its first key (operator)", kPartyFields},
    {RecordKind::kKeyRotation, "key_rotation", "add a key to a party (operator)", kKeyRotationFields},
    {RecordKind::kKeyRevocation, "key_revocation", "revoke a key (operator)", kKeyRevocationFields},
    {RecordKind::kRoleGrant, "role_grant", "grant a role to a party (operator)", kRoleGrantFields},
    {RecordKind::kProduct, "product", "register a product (merchant)", kProductFields},
    {RecordKind::kLot, "lot", "register a production lot (merchant)", kLotFields},
    {RecordKind::kCodeIssuance, "code_issuance", "commit a batch of serialized codes (merchant)",
     kCodeIssuanceFields},
    {RecordKind::kShipment, "shipment", "register a shipment (merchant)", kShipmentFields},
    {RecordKind::kCustody, "custody", "record a custody handover (merchant or logistics)", kCustodyFields},
    {RecordKind::kInspection, "inspection", "record an inspection report (inspector)", kInspectionFields},
    {RecordKind::kCustomsDecision, "customs_decision", "release, hold or seize a shipment (customs)",
     kCustomsDecisionFields},
    {RecordKind::kCreditEvent, "credit_event", "record a merchant credit event (regulator)",
     kCreditEventFields},
    {RecordKind::kCreditPolicy, "credit_policy", "publish a credit policy version (regulator)",
     kCreditPolicyFields},
    {RecordKind::kCodeRevocation, "code_revocation", "revoke codes (issuing merchant or regulator)",
     kCodeRevocationFields},
    {RecordKind::kLotRecall, "lot_recall", "recall a lot (issuing merchant or regulator)", kLotRecallFields},
};

Reject SchemaError(std::string_view field, std::string message) {
  return Reject{RejectCode::kSchema, "body." + std::string(field), std::move(message)};
}

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '/' || c == '-';
}

bool IsLowerHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Counts code points; the JSON parser already guaranteed valid UTF-8.
size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::optional<Reject> CheckString(const FieldSpec& f, std::string_view name, std::string_view s);

// "'#'" for printable ASCII, "U+00E9" otherwise, for the code point that
// starts at s[i]. The parser guaranteed valid UTF-8, and messages must stay
// valid UTF-8 too (they travel in JSON).
std::string DescribeCodePoint(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  uint32_t cp = c;
  int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if (extra > 0) cp = c & (0x3F >> extra);
  for (int k = 1; k <= extra && i + static_cast<size_t>(k) < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0x3F);
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", cp);
  return buf;
}

// C0 and C1 controls and DEL: U+0000..U+001F, U+007F, U+0080..U+009F
// (the latter encoded as C2 80..C2 9F).
bool HasControlCharacter(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return true;
  }
  return false;
}

std::optional<Reject> CheckCset82(std::string_view name, std::string_view s, int64_t max,
                                  std::string_view what) {
  if (s.empty() || static_cast<int64_t>(s.size()) > max) {
    return SchemaError(name, std::string(what) + " must be 1.." + std::to_string(max) + " characters");
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (!IsCset82(s[i])) {
      return SchemaError(name, std::string(what) + " has " + DescribeCodePoint(s, i) + " at byte " +
                                   std::to_string(i) + ", outside the GS1 character set (CSET 82)");
    }
  }
  return std::nullopt;
}

std::optional<Reject> CheckString(const FieldSpec& f, std::string_view name, std::string_view s) {
  switch (f.type) {
    case FT::kText: {
      size_t n = CodePoints(s);
      if (static_cast<int64_t>(n) < f.min || static_cast<int64_t>(n) > f.max) {
        return SchemaError(name, "must be " + std::to_string(f.min) + ".." + std::to_string(f.max) +
                                     " characters, got " + std::to_string(n));
      }
      if (HasControlCharacter(s)) return SchemaError(name, "must not contain control characters");
      return std::nullopt;
    }
    case FT::kId:
      if (s.empty() || static_cast<int64_t>(s.size()) > f.max) {
        return SchemaError(name, "must be 1.." + std::to_string(f.max) + " characters");
      }
      for (char c : s) {
        if (!IsIdChar(c)) return SchemaError(name, "may contain only A-Z a-z 0-9 . _ : / -");
      }
      return std::nullopt;
    case FT::kPartyId:
      if (s.empty() || s.size() > 64) return SchemaError(name, "must be 1..64 characters");
      for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '.' || c == '_' || c == '-'));
        if (!ok) return SchemaError(name, "must match [a-z0-9][a-z0-9._-]*");
      }
      return std::nullopt;
    case FT::kGtin:
      if (s.size() != 14 || s.find_first_not_of("0123456789") != std::string_view::npos) {
        return SchemaError(name, "must be exactly 14 digits (GTIN-14; pad shorter GTINs with zeros)");
      }
      if (!IsValidGtin14(s)) {
        return SchemaError(name, "check digit is " + std::string(1, s.back()) + ", expected " +
                                     std::to_string(Gs1CheckDigit(s.substr(0, 13))));
      }
      return std::nullopt;
    case FT::kLotNumber:
      return CheckCset82(name, s, 20, "lot number");
    case FT::kSerial:
      return CheckCset82(name, s, 20, "serial");
    case FT::kCountry:
      if (s.size() != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z') {
        return SchemaError(name, "must be an ISO 3166-1 alpha-2 code like CN or FR");
      }
      return std::nullopt;
    case FT::kDate:
      if (!ParseDate(s)) return SchemaError(name, "must be a calendar date YYYY-MM-DD");
      return std::nullopt;
    case FT::kSha256:
      if (!IsLowerHex(s, 64)) return SchemaError(name, "must be 64 lowercase hex digits (SHA-256)");
      return std::nullopt;
    case FT::kPublicKey:
      if (!IsLowerHex(s, 64)) return SchemaError(name, "must be 64 lowercase hex digits");
      if (!wallet::PublicKey::FromHex(s)) return SchemaError(name, "is not a valid secp256k1 x-only key");
      return std::nullopt;
    case FT::kKeyId:
      if (!IsLowerHex(s, 16)) return SchemaError(name, "must be 16 lowercase hex digits (a key id)");
      return std::nullopt;
    case FT::kHex128:
      if (!IsLowerHex(s, 32)) return SchemaError(name, "must be 32 lowercase hex digits (16 bytes)");
      return std::nullopt;
    case FT::kEnum:
      for (auto c : f.choices) {
        if (c == s) return std::nullopt;
      }
      {
        std::string list;
        for (auto c : f.choices) list += (list.empty() ? "" : ", ") + std::string(c);
        return SchemaError(name, "must be one of: " + list);
      }
    default:
      return SchemaError(name, "internal: not a string type");
  }
}

bool IsStringType(FT t) {
  switch (t) {
    case FT::kInteger:
    case FT::kEnumArray:
    case FT::kSha256Array:
    case FT::kSerialArray:
    case FT::kHex128Array:
    case FT::kLotRefArray:
    case FT::kObject:
      return false;
    default:
      return true;
  }
}

std::optional<Reject> CheckArrayLength(const FieldSpec& f, std::string_view name, const Json& v) {
  if (!v.is_array()) return SchemaError(name, "must be an array");
  auto n = static_cast<int64_t>(v.size());
  if (n < f.min || n > f.max) {
    return SchemaError(name, "must have " + std::to_string(f.min) + ".." + std::to_string(f.max) +
                                 " elements, got " + std::to_string(n));
  }
  return std::nullopt;
}

std::optional<Reject> CheckStringArray(const FieldSpec& f, std::string_view name, const Json& v,
                                       FT element_type, bool distinct) {
  if (auto r = CheckArrayLength(f, name, v)) return r;
  FieldSpec element = f;
  element.type = element_type;
  std::set<std::string_view> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string path = std::string(name) + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) return SchemaError(path, "must be a string");
    const auto& s = v[i].get_ref<const std::string&>();
    if (auto r = CheckString(element, path, s)) return r;
    if (distinct && !seen.insert(s).second) return SchemaError(path, "repeats \"" + s + "\"");
  }
  return std::nullopt;
}

std::optional<Reject> CheckLotRefs(const FieldSpec& f, std::string_view name, const Json& v) {
  if (auto r = CheckArrayLength(f, name, v)) return r;
  static constexpr FieldSpec kGtin{"gtin", FT::kGtin, true};
  static constexpr FieldSpec kLot{"lot", FT::kLotNumber, true, 1, 20};
  std::set<std::string> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string path = std::string(name) + "[" + std::to_string(i) + "]";
    const Json& e = v[i];
    if (!e.is_object()) return SchemaError(path, "must be an object {gtin, lot, quantity}");
    for (const auto& [key, _] : e.items()) {
      if (key != "gtin" && key != "lot" && key != "quantity") {
        return SchemaError(path + "." + key, "is not a member of a lot reference");
      }
    }
    auto g = e.find("gtin");
    auto l = e.find("lot");
    auto q = e.find("quantity");
    if (g == e.end() || !g->is_string()) return SchemaError(path + ".gtin", "is required (string)");
    if (auto r = CheckString(kGtin, path + ".gtin", g->get_ref<const std::string&>())) return r;
    if (l == e.end() || !l->is_string()) return SchemaError(path + ".lot", "is required (string)");
    if (auto r = CheckString(kLot, path + ".lot", l->get_ref<const std::string&>())) return r;
    if (q == e.end() || !q->is_number_integer())
      return SchemaError(path + ".quantity", "is required (integer)");
    int64_t qty = q->get<int64_t>();
    if (qty < 1 || qty > kMaxQuantity) {
      return SchemaError(path + ".quantity", "must be 1.." + std::to_string(kMaxQuantity));
    }
    if (!seen.insert(g->get<std::string>() + "/" + l->get<std::string>()).second) {
      return SchemaError(path, "lists the same lot twice");
    }
  }
  return std::nullopt;
}

// Policy values: objects whose member names match [a-z0-9_]{1,64}, nested
// (through objects and arrays) at most 8 deep.
std::optional<Reject> CheckPolicyValue(const std::string& path, const Json& v, int depth) {
  if (!v.is_object() && !v.is_array()) return std::nullopt;
  if (depth > 8) return SchemaError(path, "nests too deep (max 8)");
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (auto r = CheckPolicyValue(path + "[" + std::to_string(i) + "]", v[i], depth + 1)) return r;
    }
    return std::nullopt;
  }
  for (const auto& [key, value] : v.items()) {
    std::string member = path + "." + key;
    if (key.empty() || key.size() > 64 ||
        key.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
      return SchemaError(member, "member names must match [a-z0-9_]{1,64}");
    }
    if (auto r = CheckPolicyValue(member, value, depth + 1)) return r;
  }
  return std::nullopt;
}

std::optional<Reject> CheckPolicyObject(std::string_view name, const Json& v) {
  if (!v.is_object()) return SchemaError(name, "must be an object");
  return CheckPolicyValue(std::string(name), v, 1);
}

std::optional<Reject> CheckField(const FieldSpec& f, const Json& v) {
  std::string_view name = f.name;
  if (IsStringType(f.type)) {
    if (!v.is_string()) return SchemaError(name, "must be a string");
    return CheckString(f, name, v.get_ref<const std::string&>());
  }
  switch (f.type) {
    case FT::kInteger: {
      if (!v.is_number_integer()) return SchemaError(name, "must be an integer");
      int64_t n = v.get<int64_t>();
      if (n < f.min || n > f.max) {
        return SchemaError(name, "must be in " + std::to_string(f.min) + ".." + std::to_string(f.max) +
                                     ", got " + std::to_string(n));
      }
      return std::nullopt;
    }
    case FT::kEnumArray:
      return CheckStringArray(f, name, v, FT::kEnum, /*distinct=*/true);
    case FT::kSha256Array:
      return CheckStringArray(f, name, v, FT::kSha256, /*distinct=*/true);
    case FT::kSerialArray:
      return CheckStringArray(f, name, v, FT::kSerial, /*distinct=*/true);
    case FT::kHex128Array:
      return CheckStringArray(f, name, v, FT::kHex128, /*distinct=*/false);
    case FT::kLotRefArray:
      return CheckLotRefs(f, name, v);
    case FT::kObject:
      return CheckPolicyObject(name, v);
    default:
      return SchemaError(name, "internal: unhandled type");
  }
}

// Rules that tie several fields of one body together.
std::optional<Reject> CheckCrossField(RecordKind kind, const Json& body) {
  auto str = [&](const char* k) -> std::string {
    auto it = body.find(k);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  switch (kind) {
    case RecordKind::kLot: {
      std::string expiry = str("expiry_date");
      if (!expiry.empty() && *ParseDate(expiry) < *ParseDate(str("production_date"))) {
        return SchemaError("expiry_date", "is before production_date");
      }
      return std::nullopt;
    }
    case RecordKind::kInspection: {
      bool lot_subject = body.contains("gtin") || body.contains("lot");
      bool shipment_subject = body.contains("shipment");
      if (lot_subject && shipment_subject) {
        return SchemaError("shipment", "give either gtin+lot or shipment, not both");
      }
      if (!lot_subject && !shipment_subject) {
        return SchemaError("shipment", "a subject is required: gtin+lot or shipment");
      }
      if (lot_subject && !body.contains("gtin")) return SchemaError("gtin", "is required with lot");
      if (lot_subject && !body.contains("lot")) return SchemaError("lot", "is required with gtin");
      return std::nullopt;
    }
    case RecordKind::kCreditEvent: {
      const std::string event = str("event");
      const bool complaint = event == "complaint_upheld" || event == "complaint_dismissed";
      const bool request = event == "repair_request";
      const bool decision = event == "repair_approved" || event == "repair_refused";
      if (body.contains("complaint_sha256") && !complaint) {
        return SchemaError("complaint_sha256", "is only for complaint_upheld and complaint_dismissed");
      }
      if ((request || decision) != body.contains("listing")) {
        return SchemaError("listing",
                           request || decision
                               ? "is required for repair_request, repair_approved and repair_refused"
                               : "is only for repair_request, repair_approved and repair_refused");
      }
      if (decision != body.contains("request")) {
        return SchemaError("request", decision ? "is required for repair_approved and repair_refused"
                                               : "is only for repair_approved and repair_refused");
      }
      return std::nullopt;
    }
    case RecordKind::kCustody:
      if (str("from") == str("to")) return SchemaError("to", "must differ from from");
      return std::nullopt;
    case RecordKind::kCodeIssuance: {
      if (body.at("part").get<int64_t>() > body.at("parts").get<int64_t>()) {
        return SchemaError("part", "is greater than parts");
      }
      bool has_salt = body.contains("pin_salt");
      auto hashes = body.find("pin_hashes");
      if (has_salt != (hashes != body.end())) {
        return SchemaError(has_salt ? "pin_hashes" : "pin_salt", "is required with the other PIN field");
      }
      if (hashes != body.end() && hashes->size() != body.at("serials").size()) {
        return SchemaError("pin_hashes", "must have one element per serial (" +
                                             std::to_string(body.at("serials").size()) + "), got " +
                                             std::to_string(hashes->size()));
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

bool IsCset82(char c) {
  static constexpr std::string_view kExtra = "!\"%&'()*+,-./:;<=>?_";
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         (c != '\0' && kExtra.find(c) != std::string_view::npos);
}

std::span<const KindSchema> AllSchemas() { return kSchemas; }

const KindSchema& SchemaFor(RecordKind kind) { return kSchemas[static_cast<int>(kind)]; }

Result<void, Reject> ValidateBody(RecordKind kind, const Json& body) {
  if (!body.is_object()) return Reject{RejectCode::kSchema, "body", "must be an object"};
  const KindSchema& schema = SchemaFor(kind);
  for (const auto& [key, value] : body.items()) {
    bool known = false;
    for (const auto& f : schema.fields) known = known || f.name == key;
    if (!known) {
      return SchemaError(key, "is not a field of a " + std::string(schema.name) + " record");
    }
  }
  for (const auto& f : schema.fields) {
    auto it = body.find(f.name);
    if (it == body.end()) {
      if (f.required) return SchemaError(f.name, "is required");
      continue;
    }
    if (auto r = CheckField(f, *it)) return *r;
  }
  if (auto r = CheckCrossField(kind, body)) return *r;
  return {};
}

int Gs1CheckDigit(std::string_view digits) {
  // Weights 3,1,3,1... from the rightmost digit.
  int sum = 0;
  int weight = 3;
  for (size_t i = digits.size(); i-- > 0;) {
    sum += (digits[i] - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10;
}

bool IsValidGtin14(std::string_view gtin) {
  if (gtin.size() != 14 || gtin.find_first_not_of("0123456789") != std::string_view::npos) return false;
  return Gs1CheckDigit(gtin.substr(0, 13)) == gtin[13] - '0';
}

std::optional<int64_t> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1900 || m < 1 || m > 12 || d < 1) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int max_day = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d > max_day) return std::nullopt;
  // Days from civil (Howard Hinnant's algorithm).
  int yy = m <= 2 ? y - 1 : y;
  int era = yy / 400;
  int yoe = yy - era * 400;
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + doe - 719468;
}

namespace {
struct Civil {
  int64_t y;
  int m;
  int d;
};
// Civil from days (Howard Hinnant's algorithm), the inverse of ParseDate's.
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return Civil{yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
}  // namespace

std::string FormatDate(int64_t days) {
  Civil c = CivilFromDays(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d", static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

int64_t DayOfUnixSeconds(int64_t seconds) {
  return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
}

int64_t AddYears(int64_t days, int years) {
  Civil c = CivilFromDays(days);
  const int64_t y = c.y + years;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (c.m == 2 && c.d == 29 && !leap) return DaysFromCivil(y, 3, 1);
  return DaysFromCivil(y, c.m, c.d);
}

}  // namespace traceledger::ledger
