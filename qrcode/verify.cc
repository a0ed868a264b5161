#include "qrcode/verify.h"

#include <array>

namespace traceledger::qrcode {
namespace {

constexpr std::array<std::string_view, 4> kVerdictNames = {"genuine", "forged", "malformed", "error"};

constexpr std::array<std::string_view, 25> kCodeErrorNames = {"too_long",
                                                              "bad_character",
                                                              "not_https",
                                                              "bad_host",
                                                              "fragment",
                                                              "missing_gtin",
                                                              "bad_gtin",
                                                              "bad_check_digit",
                                                              "missing_lot",
                                                              "missing_serial",
                                                              "qualifier_order",
                                                              "unexpected_path",
                                                              "bad_percent_escape",
                                                              "unencoded_character",
                                                              "outside_cset82",
                                                              "empty_value",
                                                              "value_too_long",
                                                              "bad_query",
                                                              "unexpected_attribute",
                                                              "duplicate_attribute",
                                                              "missing_key_id",
                                                              "bad_key_id",
                                                              "missing_signature",
                                                              "bad_base64",
                                                              "bad_signature_length"};

constexpr std::array<std::string_view, 8> kReasonNames = {
    "genuine",     "malformed",          "bad_signature",       "unknown_key",
    "key_revoked", "other_merchant_key", "gtin_not_registered", "lookup_failed"};

constexpr std::array<std::string_view, 6> kStatusNames = {
    "not_checked", "valid", "revoked", "lot_recalled", "lot_failed_inspection", "never_issued"};

VerifyResult& Conclude(VerifyResult& r, Verdict verdict, Reason reason, std::string message) {
  r.verdict = verdict;
  r.reason = reason;
  r.message = std::move(message);
  return r;
}

}  // namespace

std::string_view VerdictName(Verdict verdict) { return kVerdictNames[static_cast<size_t>(verdict)]; }
std::string_view CodeErrorName(CodeError error) { return kCodeErrorNames[static_cast<size_t>(error)]; }
std::string_view StatusName(Status status) { return kStatusNames[static_cast<size_t>(status)]; }

std::string_view VerifyResult::ReasonName() const {
  if (reason == Reason::kMalformed && malformed) return CodeErrorName(*malformed);
  return kReasonNames[static_cast<size_t>(reason)];
}

Result<std::optional<IssuerKey>, std::string> KeyListLookup::FindKey(std::string_view key_id) const {
  for (const auto& key : keys_) {
    if (key.KeyId() == key_id) return std::optional<IssuerKey>(IssuerKey{.key = key});
  }
  return std::optional<IssuerKey>();
}

VerifyResult VerifyCode(std::string_view text, const IssuerLookup& issuers, const StatusLookup* status) {
  VerifyResult r;
  r.text = std::string(text);
  auto parsed = ParseCode(text);
  if (!parsed.ok()) {
    r.malformed = parsed.error().code;
    Conclude(r, Verdict::kMalformed, Reason::kMalformed, parsed.error().message);
    return r;
  }
  r.code = std::move(parsed).value();
  const Code& code = *r.code;

  auto found = issuers.FindKey(code.key_id);
  if (!found.ok()) return Conclude(r, Verdict::kError, Reason::kLookupFailed, "key lookup: " + found.error());
  if (!found->has_value()) {
    return Conclude(
        r, Verdict::kForged, Reason::kUnknownKey,
        "key " + code.key_id +
            (issuers.KnowsOwners() ? " is not a registered key" : " is not one of the given issuer keys"));
  }
  const IssuerKey& issuer = **found;
  r.issuer = issuer.party;
  r.key_retired = issuer.retired;
  if (!VerifyCodeSignature(code, issuer.key)) {
    return Conclude(r, Verdict::kForged, Reason::kBadSignature,
                    "the signature does not verify under key " + code.key_id);
  }
  if (issuer.revoked) {
    return Conclude(r, Verdict::kForged, Reason::kKeyRevoked, "key " + code.key_id + " has been revoked");
  }
  if (issuers.KnowsOwners()) {
    auto owner = issuers.GtinOwner(code.gtin);
    if (!owner.ok())
      return Conclude(r, Verdict::kError, Reason::kLookupFailed, "GTIN lookup: " + owner.error());
    if (!owner->has_value()) {
      return Conclude(r, Verdict::kForged, Reason::kGtinNotRegistered,
                      "GTIN " + code.gtin + " is not registered by any party");
    }
    if (**owner != issuer.party) {
      return Conclude(r, Verdict::kForged, Reason::kOtherMerchantKey,
                      "key " + code.key_id + " belongs to \"" + issuer.party + "\", but GTIN " + code.gtin +
                          " belongs to \"" + **owner + "\"");
    }
  }
  Conclude(r, Verdict::kGenuine, Reason::kGenuine,
           issuer.party.empty() ? "signed by key " + code.key_id
                                : "signed by \"" + issuer.party + "\" (key " + code.key_id +
                                      (issuer.retired ? ", since retired" : "") + ")");
  if (status != nullptr) LookUpStatus(r, *status);
  return r;
}

void LookUpStatus(VerifyResult& r, const StatusLookup& status) {
  if (r.verdict != Verdict::kGenuine || !r.code) return;
  auto info = status.CodeStatus(*r.code);
  if (!info.ok()) {
    Conclude(r, Verdict::kError, Reason::kLookupFailed, "status lookup: " + info.error());
    return;
  }
  r.status = std::move(info).value();
}

ledger::Json ToJson(const VerifyResult& r) {
  ledger::Json out = {{"text", r.text},
                      {"verdict", std::string(VerdictName(r.verdict))},
                      {"reason", std::string(r.ReasonName())},
                      {"message", r.message},
                      {"status", std::string(StatusName(r.status.status))}};
  if (r.code) {
    out["gtin"] = r.code->gtin;
    out["lot"] = r.code->lot;
    out["serial"] = r.code->serial;
    out["key_id"] = r.code->key_id;
    out["resolver"] = r.code->resolver;
  }
  if (!r.issuer.empty()) out["issuer"] = r.issuer;
  if (r.status.status != Status::kNotChecked) {
    out["status_message"] = r.status.message;
    if (!r.status.batch.empty()) {
      out["batch"] = r.status.batch;
      out["issuance_index"] = r.status.issuance_index;
      out["has_pin"] = r.status.has_pin;
    }
  }
  return out;
}

}  // namespace traceledger::qrcode
