// Ledger state and indexes: the keyspace the ledger layer keeps in the
// store beside the log, and the StateReader seam the rules read through.
//
// Every state key is write-once: the record that creates a fact writes it,
// stamped with that record's log index ("seq"), and nothing ever rewrites
// it. A later event is a new key (a recall is lr/..., not a flag on l/...).
// So the state as of any log index i is simply "the facts with seq < i",
// which lets the same rules validate a new record against current state and
// re-validate any old record against the final state during audit.
//
// Keys (docs/FORMAT.md, "Store layout"); gtin is always 14 digits, so the
// lot number follows it without a separator; \0 ends variable parts that
// are followed by a sequence number:
//   r/<id 32 bytes>              -> seq (8 bytes BE)     record index
//   k/<key id>                   -> {"party","public_key","seq"}
//   kt/<key id>                  -> {"seq"}              key retired
//   kr/<key id>                  -> {"seq"}              key revoked
//   p/<party>                    -> {"seq"}              party registered
//   pr/<party>\0<role>           -> {"seq"}              role held
//   g/<gtin>                     -> {"owner","seq"}      product
//   l/<gtin><lot>                -> {"owner","seq"}      lot
//   lr/<gtin><lot>               -> {"seq"}              lot recalled
//   c/<gtin><batch>              -> {"owner","seq"}      code issuance batch (part 1)
//   cp/<gtin><batch>\0<lot>\0<parts 4 BE><part 4 BE>
//                                -> {"seq"}              code issuance part
//   ci/<gtin>\0<serial>          -> {"seq"}              code issued
//   cr/<gtin>\0<serial>          -> {"seq"}              code revoked
//   s/<shipment>                 -> {"owner","seq"}      shipment
//   v/<version 8 bytes BE>       -> {"seq"}              credit policy version
//   hl/<gtin><lot>\0<seq 8 BE>   -> ""                   lot history
//   hs/<shipment>\0<seq 8 BE>    -> ""                   shipment history
//   lf/<gtin><lot>\0<seq 8 BE>   -> ""                   lot failed an inspection
//   cb/<record id 32 bytes>      -> {"date","owner","seq"}  black_list credit event
//                                   (owner = merchant, date = listing date)
//   cq/<record id 32 bytes>      -> {"owner","ref","seq"}   repair request
//                                   (owner = merchant, ref = listing id hex)
//   cd/<request id 32 bytes>     -> {"seq"}              repair request decided
//   ca/<listing id 32 bytes>     -> {"seq"}              listing repaired (approved)
#ifndef TRACELEDGER_LEDGER_STATE_H_
#define TRACELEDGER_LEDGER_STATE_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "chain/hash.h"
#include "chain/store.h"
#include "ledger/record.h"

namespace traceledger::ledger {

// Read access to state. Implementations: the committer's overlay (pending
// block over the store) and the store itself during audit.
class StateReader {
 public:
  virtual ~StateReader() = default;
  // The value at `key`, or nullopt if absent. An I/O failure is reported as
  // absent and remembered by the implementation, which then fails the block.
  virtual std::optional<std::string> Get(std::string_view key) const = 0;
};

// Committed state read from the store, with an in-memory cache for the
// small, hot populations every record touches (keys, parties, roles).
// Facts are write-once, so a cached value never goes stale; a cached
// absence is replaced through Written() when the key is committed.
// Thread-safe.
class StoreState : public StateReader {
 public:
  explicit StoreState(const chain::Store& store) : store_(store) {}
  std::optional<std::string> Get(std::string_view key) const override;
  // Call after a commit for each key written.
  void Written(const std::string& key, const std::string& value);
  // True once any read failed; such reads were answered as absent.
  bool io_error() const { return io_error_; }

 private:
  static constexpr size_t kMaxCacheEntries = size_t{1} << 20;
  const chain::Store& store_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::optional<std::string>> cache_;  // GUARDED_BY(mu_)
  mutable std::atomic<bool> io_error_{false};
};

namespace keys {
std::string Record(const chain::Hash& id);
std::string Key(std::string_view key_id);
std::string KeyRetired(std::string_view key_id);
std::string KeyRevoked(std::string_view key_id);
std::string Party(std::string_view party);
std::string PartyRole(std::string_view party, Role role);
std::string Product(std::string_view gtin);
std::string Lot(std::string_view gtin, std::string_view lot);
std::string LotRecalled(std::string_view gtin, std::string_view lot);
std::string CodeBatch(std::string_view gtin, std::string_view batch);
std::string CodeRevoked(std::string_view gtin, std::string_view serial);
std::string CodeIssued(std::string_view gtin, std::string_view serial);
// Every part of a batch sorts under CodePartPrefix(gtin, batch).
std::string CodePartPrefix(std::string_view gtin, std::string_view batch);
std::string CodePart(std::string_view gtin, std::string_view batch, std::string_view lot, uint32_t parts,
                     uint32_t part);
std::string LotFailedPrefix(std::string_view gtin, std::string_view lot);
std::string Shipment(std::string_view shipment);
std::string PolicyVersion(int64_t version);
std::string LotHistoryPrefix(std::string_view gtin, std::string_view lot);
std::string ShipmentHistoryPrefix(std::string_view shipment);
// Credit repair (FORMAT.md §7.4): black listings, repair requests and
// decisions, keyed by the 32-byte record id.
std::string BlackListing(const chain::Hash& record_id);
std::string ListingRepaired(const chain::Hash& listing_id);
std::string RepairRequest(const chain::Hash& record_id);
std::string RepairDecided(const chain::Hash& request_id);
// prefix + 8-byte BE seq.
std::string WithSeq(std::string prefix, uint64_t seq);
// The seq at the end of a history key; REQUIRES key.size() >= 8.
uint64_t SeqOfHistoryKey(std::string_view key);
}  // namespace keys

// A key with its binary parts shown as \xNN, for messages.
std::string PrintableKey(std::string_view key);

// A decoded state fact.
struct Fact {
  uint64_t seq = 0;
  std::string owner;       // products, lots, batches, shipments
  std::string party;       // keys
  std::string public_key;  // keys (hex)
  std::string date;        // black listings: YYYY-MM-DD
  std::string ref;         // repair requests: the listing's record id (hex)
};

std::string EncodeFact(const Fact& fact);
std::optional<Fact> DecodeFact(std::string_view value);
std::string EncodeSeq(uint64_t seq);
std::optional<uint64_t> DecodeSeq(std::string_view value);

// Reads the fact at `key` if it exists as of log index `as_of` (seq <
// as_of). A value that does not decode is returned as a fact with seq 0 and
// no owner or party, so every check that relies on it fails.
std::optional<Fact> FactAsOf(const StateReader& state, const std::string& key, uint64_t as_of);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_STATE_H_
