#include "ledger/record.h"

#include <array>

#include "chain/merkle.h"
#include "ledger/schema.h"
#include "util/encoding.h"

namespace traceledger::ledger {
namespace {

constexpr std::array<std::string_view, kRoleCount> kRoleNames = {"operator", "merchant",  "inspector",
                                                                 "customs",  "regulator", "logistics"};

constexpr std::array<std::string_view, 15> kRejectNames = {
    "malformed",     "schema",       "unknown_key", "key_revoked",       "key_retired",
    "bad_signature", "unauthorized", "not_owner",   "unknown_reference", "duplicate",
    "conflict",      "replay",       "clock",       "unavailable",       "aborted"};

Reject EnvelopeError(std::string field, std::string message) {
  return Reject{RejectCode::kSchema, std::move(field), std::move(message)};
}

}  // namespace

std::string_view KindName(RecordKind kind) { return SchemaFor(kind).name; }

std::optional<RecordKind> KindFromName(std::string_view name) {
  for (const auto& s : AllSchemas()) {
    if (s.name == name) return s.kind;
  }
  return std::nullopt;
}

std::string_view RoleName(Role role) { return kRoleNames[static_cast<size_t>(role)]; }

std::optional<Role> RoleFromName(std::string_view name) {
  for (size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return std::nullopt;
}

std::string_view RejectCodeName(RejectCode code) { return kRejectNames[static_cast<size_t>(code)]; }

std::string Reject::ToString() const {
  std::string out(RejectCodeName(code));
  if (!field.empty()) out += ": " + field;
  out += ": " + message;
  return out;
}

std::string_view Record::Str(std::string_view field) const {
  auto it = body.find(field);
  if (it == body.end() || !it->is_string()) return {};
  return it->get_ref<const std::string&>();
}

Result<Record, Reject> ParseRecord(std::string_view json) {
  if (json.size() > kMaxRecordBytes) {
    return EnvelopeError("", "the record is " + std::to_string(json.size()) + " bytes; at most " +
                                 std::to_string(kMaxRecordBytes) + " are accepted");
  }
  auto parsed = ParseStrictJson(json);
  if (!parsed.ok()) return Reject{RejectCode::kMalformed, "", parsed.error().message};
  Json& doc = *parsed;
  if (!doc.is_object()) return EnvelopeError("", "a record must be a JSON object");

  static constexpr std::string_view kMembers[] = {"v", "kind", "author", "time", "nonce", "body", "sig"};
  for (const auto& [key, _] : doc.items()) {
    bool known = false;
    for (auto m : kMembers) known = known || m == key;
    if (!known) return EnvelopeError(key, "is not a record member");
  }
  Record r;
  auto v = doc.find("v");
  if (v == doc.end() || !v->is_number_integer() || v->get<int64_t>() != 1) {
    return EnvelopeError("v", "must be 1 (the record format version)");
  }
  auto kind = doc.find("kind");
  if (kind == doc.end() || !kind->is_string()) return EnvelopeError("kind", "is required (string)");
  auto k = KindFromName(kind->get_ref<const std::string&>());
  if (!k) return EnvelopeError("kind", "unknown record kind \"" + kind->get<std::string>() + "\"");
  r.kind = *k;

  auto author = doc.find("author");
  if (author == doc.end() || !author->is_string()) return EnvelopeError("author", "is required (key id)");
  r.author = author->get<std::string>();
  if (r.author.size() != 16 || r.author.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return EnvelopeError("author", "must be a key id: 16 lowercase hex digits");
  }
  auto time = doc.find("time");
  if (time == doc.end() || !time->is_number_integer()) {
    return EnvelopeError("time", "is required (integer Unix seconds)");
  }
  r.time = time->get<int64_t>();
  if (r.time < 0) return EnvelopeError("time", "must not be negative");

  if (auto nonce = doc.find("nonce"); nonce != doc.end()) {
    if (!nonce->is_string()) return EnvelopeError("nonce", "must be a string");
    r.nonce = nonce->get<std::string>();
    if (r.nonce.empty() || r.nonce.size() > 64 ||
        r.nonce.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return EnvelopeError("nonce", "must be 1..64 lowercase hex digits");
    }
  }
  auto sig = doc.find("sig");
  if (sig == doc.end() || !sig->is_string()) return EnvelopeError("sig", "is required (128 hex digits)");
  const auto& sig_hex = sig->get_ref<const std::string&>();
  auto sig_bytes = HexDecode(sig_hex);
  if (sig_hex.size() != 128 || !sig_bytes ||
      sig_hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return EnvelopeError("sig", "must be 128 lowercase hex digits (a BIP-340 signature)");
  }
  std::copy(sig_bytes->begin(), sig_bytes->end(), r.sig.begin());

  auto body = doc.find("body");
  if (body == doc.end()) return EnvelopeError("body", "is required");
  if (auto check = ValidateBody(r.kind, *body); !check.ok()) return check.error();

  r.entry = CanonicalJson(doc);
  doc.erase("sig");
  r.id = chain::Sha256(CanonicalJson(doc));
  r.leaf_hash = chain::LeafHash(r.entry);
  r.body = std::move(*body);
  return r;
}

Record SignRecord(RecordKind kind, const Json& body, const wallet::SecretKey& key, int64_t time,
                  std::string nonce) {
  Json doc = {{"v", 1},
              {"kind", std::string(KindName(kind))},
              {"author", key.Public().KeyId()},
              {"time", time},
              {"body", body}};
  if (!nonce.empty()) doc["nonce"] = nonce;
  Record r;
  r.kind = kind;
  r.author = key.Public().KeyId();
  r.time = time;
  r.nonce = std::move(nonce);
  r.body = body;
  r.id = chain::Sha256(CanonicalJson(doc));
  r.sig = key.Sign(r.id);
  doc["sig"] = HexEncode(r.sig);
  r.entry = CanonicalJson(doc);
  r.leaf_hash = chain::LeafHash(r.entry);
  return r;
}

}  // namespace traceledger::ledger
