// The seam between the credit evaluation (ledger/credit, issue 6) and the
// pages and views that show a merchant's standing (consumer page, customs
// provenance, risk flags). Those take a CreditLookup; the node wires it to
// the evaluation. A lookup that returns nullopt means "not rated" and the
// views say so instead of inventing a grade.
#ifndef TRACELEDGER_API_CREDIT_VIEW_H_
#define TRACELEDGER_API_CREDIT_VIEW_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace traceledger::api {

struct CreditSummary {
  std::string grade;        // "A", "B", "C" or "D"
  std::string list;         // "red", "black" or "" (on neither list)
  int64_t score = 0;        // the evaluation's total, for display only
  int64_t policy_version = 0;
  uint64_t as_of_height = 0;  // the block height the evaluation is at
};

// Thread-safe; called from HTTP worker threads.
using CreditLookup = std::function<std::optional<CreditSummary>(std::string_view merchant)>;

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_CREDIT_VIEW_H_
