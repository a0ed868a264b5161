// The ledger's validation rules: a pure function of (record, log index,
// ledger time, state as of that index). No clock, disk or randomness here;
// the committer and the auditor supply them, so both apply the very same
// rules (see state.h for why "state as of an index" is cheap).
//
// Order of checks, and so which reason a bad record gets first:
//   1. author key known, not revoked, not retired    (ResolveAuthor)
//   2. signature                                     (caller, in parallel)
//   3. replay, clock, role, references, ownership    (CheckRecord)
#ifndef TRACELEDGER_LEDGER_RULES_H_
#define TRACELEDGER_LEDGER_RULES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ledger/record.h"
#include "ledger/state.h"
#include "wallet/key.h"

namespace traceledger::ledger {

struct Author {
  std::string party;
  wallet::PublicKey key;
};

struct ValidationContext {
  uint64_t index = 0;         // the record's position in the log
  int64_t ledger_time_s = 0;  // the sealing block's timestamp, seconds
  int64_t max_clock_skew_s = 300;
};

// Finds the author's key as of `index`. The genesis record (index 0)
// authors itself: it must be a party registration holding the operator role
// whose public_key is the author's key.
[[nodiscard]] Result<Author, Reject> ResolveAuthor(const Record& record, const StateReader& state,
                                                   uint64_t index);

bool VerifySignature(const Record& record, const wallet::PublicKey& key);

// Every stateful rule for a record whose author was resolved and whose
// signature verified.
[[nodiscard]] Result<void, Reject> CheckRecord(const Record& record, const Author& author,
                                               const StateReader& state, const ValidationContext& context);

// The state and index entries an accepted record creates (all write-once;
// see state.h), including its r/ record index.
std::vector<std::pair<std::string, std::string>> Effects(const Record& record, const Author& author,
                                                         uint64_t index);

// True if `party` holds `role` as of `index`.
bool HasRole(const StateReader& state, std::string_view party, Role role, uint64_t index);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_RULES_H_
