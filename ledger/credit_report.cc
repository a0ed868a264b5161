#include "ledger/credit_report.h"

#include "util/encoding.h"

namespace traceledger::ledger {
namespace {

ReportError Format(std::string message) { return ReportError{ReportErrorCode::kFormat, std::move(message)}; }

bool IsLowerHex(const Json& v, size_t len) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() != len) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string_view ReportErrorCodeName(ReportErrorCode code) {
  switch (code) {
    case ReportErrorCode::kMalformed:
      return "malformed";
    case ReportErrorCode::kFormat:
      return "format";
    case ReportErrorCode::kKeyMismatch:
      return "key_mismatch";
    case ReportErrorCode::kBadSignature:
      return "bad_signature";
  }
  return "unknown";
}

Json CreditReportBody(const CreditEvaluation& evaluation, const std::vector<CreditHistoryEntry>& history,
                      const chain::BlockHeader& block, const wallet::PublicKey& operator_key) {
  return {{"format", std::string(kCreditReportFormat)},
          {"block",
           {{"height", block.height},
            {"hash", chain::HashHex(block.ComputeHash())},
            {"tree_size", block.tree_size},
            {"root", chain::HashHex(block.root)},
            {"timestamp_ms", block.timestamp_ms}}},
          {"evaluation", EvaluationToJson(evaluation)},
          {"history", HistoryToJson(history)},
          {"operator_key", operator_key.Hex()}};
}

std::array<uint8_t, 32> CreditReportDigest(const Json& body) {
  const std::string canonical = CanonicalJson(body);
  return wallet::TaggedHash(
      kCreditReportTag,
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(canonical.data()), canonical.size()));
}

Json SignCreditReport(Json body, const wallet::SecretKey& key) {
  auto digest = CreditReportDigest(body);
  body["signature"] = HexEncode(key.Sign(digest));
  return body;
}

Result<Json, ReportError> VerifyCreditReport(std::string_view text, const wallet::PublicKey& operator_key) {
  auto parsed = ParseStrictJson(text);
  if (!parsed.ok())
    return ReportError{ReportErrorCode::kMalformed, "not strict JSON: " + parsed.error().message};
  Json report = std::move(parsed).value();
  if (!report.is_object()) return ReportError{ReportErrorCode::kMalformed, "a report is a JSON object"};
  for (const auto& [key, _] : report.items()) {
    if (key != "format" && key != "block" && key != "evaluation" && key != "history" &&
        key != "operator_key" && key != "signature") {
      return Format(key + ": is not a member of a credit report");
    }
  }
  auto fmt = report.find("format");
  if (fmt == report.end() || *fmt != kCreditReportFormat) {
    return Format("format: must be \"" + std::string(kCreditReportFormat) + "\"");
  }
  if (!report.contains("block") || !report["block"].is_object()) return Format("block: must be an object");
  if (!report.contains("evaluation") || !report["evaluation"].is_object()) {
    return Format("evaluation: must be an object");
  }
  if (!report.contains("history") || !report["history"].is_array())
    return Format("history: must be an array");
  if (!report.contains("operator_key") || !IsLowerHex(report["operator_key"], 64)) {
    return Format("operator_key: must be 64 lowercase hex digits");
  }
  if (!report.contains("signature") || !IsLowerHex(report["signature"], 128)) {
    return Format("signature: must be 128 lowercase hex digits");
  }
  if (report["operator_key"].get<std::string>() != operator_key.Hex()) {
    return ReportError{ReportErrorCode::kKeyMismatch, "signed by " +
                                                          report["operator_key"].get<std::string>() +
                                                          ", not by the trusted key " + operator_key.Hex()};
  }
  auto sig = HexDecode(report["signature"].get<std::string>());
  Json body = report;
  body.erase("signature");
  auto digest = CreditReportDigest(body);
  if (!sig || !operator_key.Verify(digest, *sig)) {
    return ReportError{ReportErrorCode::kBadSignature,
                       "the signature does not verify: the report was altered"};
  }
  return report;
}

}  // namespace traceledger::ledger
