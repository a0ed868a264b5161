// Signed merchant credit reports (docs/FORMAT.md §18.5): a bank verifies
// one offline with the operator's public key and nothing else.
//
// A report is a JSON object
//   {"format":"traceledger-credit-report/1","block":{...},"evaluation":{...},
//    "history":[...],"operator_key":"<64 hex>","signature":"<128 hex>"}
// signed with BIP-340 over
//   TaggedHash("TraceLedger/credit-report", JCS(report without "signature")).
#ifndef TRACELEDGER_LEDGER_CREDIT_REPORT_H_
#define TRACELEDGER_LEDGER_CREDIT_REPORT_H_

#include <string>
#include <string_view>

#include "chain/block.h"
#include "ledger/canonical_json.h"
#include "ledger/credit.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::ledger {

inline constexpr std::string_view kCreditReportFormat = "traceledger-credit-report/1";
inline constexpr std::string_view kCreditReportTag = "TraceLedger/credit-report";

enum class ReportErrorCode {
  kMalformed,     // not strict JSON, or not an object
  kFormat,        // a member is missing, unknown or of the wrong shape (field named)
  kKeyMismatch,   // operator_key is not the key the verifier trusts
  kBadSignature,  // the signature does not verify: the report was altered
};
std::string_view ReportErrorCodeName(ReportErrorCode code);

struct ReportError {
  ReportErrorCode code;
  std::string message;
};

// The unsigned report: the evaluation at `block`'s height with the grade
// history, bound to the block by its height, hash, tree size and root.
// REQUIRES: evaluation.height == block.height.
Json CreditReportBody(const CreditEvaluation& evaluation, const std::vector<CreditHistoryEntry>& history,
                      const chain::BlockHeader& block, const wallet::PublicKey& operator_key);

// The 32 bytes that are signed: TaggedHash(kCreditReportTag, JCS(body)).
std::array<uint8_t, 32> CreditReportDigest(const Json& body);

// body + "signature"; the result's JCS text is the report file.
Json SignCreditReport(Json body, const wallet::SecretKey& key);

// Checks a report file's text against the trusted operator key; returns
// the parsed report.
[[nodiscard]] Result<Json, ReportError> VerifyCreditReport(std::string_view text,
                                                           const wallet::PublicKey& operator_key);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_CREDIT_REPORT_H_
