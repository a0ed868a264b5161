// Merchant credit: grades, red and black lists, and the records behind
// them, as a deterministic function of the ledger (docs/FORMAT.md §18).
//
// A CreditBook is fed the committed blocks in order (AddBlock, or CatchUp
// from a Ledger) and keeps, per merchant, the facts that the credit policy
// scores: its registration, the inspections, customs decisions, revocations
// and recalls about its goods, the credit events about it, its shipments,
// its black listings and repairs. Evaluate(merchant, height) is then a pure
// function of (the records in blocks 0..height, the policy in force at
// height, the date of block `height`): no clock, no disk, no randomness. So
// a book fed the same blocks gives the same answer at every height, whether
// it was kept incrementally or rebuilt from scratch.
//
// The "as of" date of an evaluation at height H is the UTC date of block
// H's timestamp. The policy in force at H is the last credit_policy record
// in blocks 0..H, or the shipped default (version 0) before the first one.
#ifndef TRACELEDGER_LEDGER_CREDIT_H_
#define TRACELEDGER_LEDGER_CREDIT_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chain/hash.h"
#include "ledger/credit_policy.h"
#include "ledger/ledger.h"
#include "ledger/record.h"

namespace traceledger::ledger {

// One record's part in an evaluation.
struct CreditContribution {
  std::string record;  // record id, hex
  uint64_t index = 0;  // log index
  uint64_t height = 0;
  std::string kind;  // record kind, e.g. "credit_event"
  std::string fact;  // the policy effect it is scored as, e.g. "penalty_major"
  Dimension dimension = Dimension::kCreditHistory;
  int64_t points = 0;  // what it adds to its dimension (0 when not counted)
  bool counted = false;
  std::string date;  // the date retention runs from (end of the act)
  std::string note;  // why it does not count, or what it refers to
  friend bool operator==(const CreditContribution&, const CreditContribution&) = default;
};

struct BlackListingState {
  std::string record;     // the black_list credit_event
  std::string listed_on;  // its date
  std::string act_end_date;
  std::string lapses_on;    // act_end_date + retention.adverse_years
  std::string status;       // "active", "repaired" or "lapsed"
  std::string repaired_by;  // the repair_approved record, when repaired
  std::string repaired_on;
  friend bool operator==(const BlackListingState&, const BlackListingState&) = default;
};

struct CreditEvaluation {
  std::string merchant;
  uint64_t height = 0;
  std::string as_of;  // YYYY-MM-DD of block `height`
  int64_t policy_version = 0;
  std::array<int64_t, kDimensionCount> dimensions{};  // 0..100 each
  int64_t score = 0;                                  // weighted, 0..100
  Grade score_grade = Grade::kD;                      // from the thresholds alone
  Grade grade = Grade::kD;                            // after the caps
  std::string list;                                   // "black", "red" or ""
  std::vector<std::string> caps;                      // why grade is below score_grade
  std::vector<CreditContribution> contributions;      // in log order
  std::vector<BlackListingState> listings;
  std::vector<std::string> associated;  // black-listed merchants it is associated with

  friend bool operator==(const CreditEvaluation&, const CreditEvaluation&) = default;
};

struct CreditHistoryEntry {
  uint64_t height = 0;
  std::string date;
  Grade grade = Grade::kD;
  std::string list;
  int64_t score = 0;
  int64_t policy_version = 0;
  friend bool operator==(const CreditHistoryEntry&, const CreditHistoryEntry&) = default;
};

struct CreditListEntry {
  std::string merchant;
  Grade grade = Grade::kD;
  int64_t score = 0;
  std::string since;  // black: date of the earliest active listing; red: ""
  friend bool operator==(const CreditListEntry&, const CreditListEntry&) = default;
};

// Thread-safe: one writer (AddBlock / CatchUp) and any number of readers.
class CreditBook {
 public:
  CreditBook();
  ~CreditBook();
  CreditBook(const CreditBook&) = delete;
  CreditBook& operator=(const CreditBook&) = delete;

  // Consumes block `height` (REQUIRES: height == next_height()) whose
  // records, in log order, start at log index `first_index`. Records of
  // kinds the evaluation does not use may be omitted.
  void AddBlock(uint64_t height, int64_t timestamp_ms, uint64_t first_index, std::span<const Record> records);

  // Feeds every committed block after the last one consumed, up to the
  // ledger's tip (or `up_to_height`). Returns the number of blocks consumed.
  // Reads raw entries and parses only the kinds the evaluation uses.
  [[nodiscard]] LedgerResult<uint64_t> CatchUp(const Ledger& ledger,
                                               std::optional<uint64_t> up_to_height = std::nullopt);

  // The next height AddBlock expects (0 for an empty book).
  uint64_t next_height() const;

  // The evaluation at `height` (default: the last block consumed); nullopt
  // when the party does not hold the merchant role there, or the height was
  // not consumed yet.
  std::optional<CreditEvaluation> Evaluate(std::string_view merchant,
                                           std::optional<uint64_t> height = std::nullopt) const;

  // The merchant's grade over time: the evaluation at each height where a
  // record about it, a policy, a listing of an associated merchant or a
  // date threshold (retention end, licence expiry, ...) may change it,
  // keeping the entries where grade, list, score or policy changed.
  std::vector<CreditHistoryEntry> History(std::string_view merchant) const;

  // Merchants on the black or red list at `height` (default: the last),
  // ordered by party id.
  std::vector<CreditListEntry> BlackList(std::optional<uint64_t> height = std::nullopt) const;
  std::vector<CreditListEntry> RedList(std::optional<uint64_t> height = std::nullopt) const;

  // Every merchant known, ordered by party id.
  std::vector<std::string> Merchants() const;
  // The date (YYYY-MM-DD) of block `height`; "" if not consumed.
  std::string DateOf(uint64_t height) const;

 private:
  struct Data;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Data> data_;  // GUARDED_BY(mu_)
  mutable std::mutex red_cache_mu_;
  mutable std::optional<uint64_t> red_cache_height_;  // GUARDED_BY(red_cache_mu_)
  mutable std::vector<CreditListEntry> red_cache_;    // GUARDED_BY(red_cache_mu_)
};

// JSON forms (docs/FORMAT.md §18.4), shared by the CLI, the HTTP API and
// the signed report.
Json EvaluationToJson(const CreditEvaluation& e);
Json HistoryToJson(const std::vector<CreditHistoryEntry>& history);
Json ListToJson(const std::vector<CreditListEntry>& list);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_CREDIT_H_
