// Audit: re-verifies a ledger from genesis, trusting nothing in the store.
//
// Forward pass, block by block: header parses and links (height, prev_hash,
// first index, non-decreasing time), signer is an active operator key as of
// the block, block signature, every entry is a canonical record whose
// author key was valid at that point, whose signature verifies and which
// passes every rule (rules.h) against the state as of its index, every
// state/index fact the record creates is stored exactly, and the RFC 9162
// root after the block equals the header's. Finally the tip record agrees
// with the last block and nothing lies beyond it.
//
// Fact pass (optional, on by default): the forward pass proved that every
// index/state entry the records create is stored exactly; since facts are
// write-once and never shared between records, the store holds nothing
// more iff it holds as many lowercase keys as the records create. That is
// a cheap count; only when it differs is every entry traced back to the
// record it names, to report the injected or altered one.
//
// Signatures and rules are checked in parallel over windows of records;
// memory is bounded by the window, not by the ledger's size.
#ifndef TRACELEDGER_LEDGER_AUDIT_H_
#define TRACELEDGER_LEDGER_AUDIT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "chain/store.h"
#include "util/result.h"

namespace traceledger::ledger {

class StateReader;  // state.h

struct AuditProgress {
  std::string phase;  // "blocks", "facts", then "tracing" if facts miscount
  uint64_t done = 0;
  uint64_t total = 0;
};

struct AuditOptions {
  size_t threads = 0;  // 0: one per core
  bool check_facts = true;
  int64_t max_clock_skew_s = 300;
  // Called from the auditing thread every window.
  std::function<void(const AuditProgress&)> progress;
};

struct AuditReport {
  bool ok = true;
  // When !ok: the first bad block height (for the fact pass, the height of
  // the record the bad fact names, or the tip height if it names none) and
  // why, e.g. "record at index 17: bad_signature: ...".
  uint64_t bad_height = 0;
  std::string reason;
  uint64_t blocks = 0;
  uint64_t records = 0;
  uint64_t facts = 0;
};

// FORMAT.md §6.3 rule 5: "" when `block`'s signer may seal it, else why
// not. For height > 0 the signer must be an active operator key as of the
// block's first index; block 0 must be sealed by the key its entry 0
// registers (so `state` must then include block 0's facts). Shared by the
// auditor and the replica (replica.h).
std::string CheckBlockSigner(const StateReader& state, const chain::SignedBlock& block);

// Returns the report; a store read error is reported as a failed audit at
// the height being read.
AuditReport Audit(const chain::Store& store, const AuditOptions& options = {});

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_AUDIT_H_
