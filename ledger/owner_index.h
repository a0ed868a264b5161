// The owner index: which products, lots, shipments and code issuance
// batches each merchant registered, so a writer can list its own data
// (GET /v1/parties/{party}/products|lots|shipments|codes) without a scan
// of the whole keyspace.
//
// Keys (docs/FORMAT.md, "Owner index"); like every state key they are
// write-once, created by the record that creates the fact they mirror, in
// the same atomic store write, with the value {"seq":N} of that record:
//   og/<party>\0<gtin>               -> {"seq"}   product   (mirrors g/<gtin>)
//   ol/<party>\0<gtin><lot>          -> {"seq"}   lot       (mirrors l/<gtin><lot>)
//   os/<party>\0<shipment>           -> {"seq"}   shipment  (mirrors s/<shipment>)
//   oc/<party>\0<gtin><batch>        -> {"seq"}   code batch (mirrors c/<gtin><batch>)
// gtin is always 14 digits, so what follows it needs no separator. Audit
// checks them like every other fact (Effects lists them).
//
// Stores written before the index existed get it on open
// (BuildOwnerIndex): for each mirrored prefix the two key counts are
// compared, and when they differ every missing entry is written from the
// owner facts (g/, l/, s/, c/ carry owner and seq). Idempotent; an
// interrupted build is finished on the next open.
#ifndef TRACELEDGER_LEDGER_OWNER_INDEX_H_
#define TRACELEDGER_LEDGER_OWNER_INDEX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chain/store.h"
#include "ledger/ledger.h"
#include "ledger/record.h"

namespace traceledger::ledger {

enum class OwnedKind { kProduct, kLot, kShipment, kCodeBatch };
std::string_view OwnedKindName(OwnedKind kind);  // "products", "lots", "shipments", "codes"

namespace keys {
// "og/<party>\0", "ol/<party>\0", "os/<party>\0" or "oc/<party>\0".
std::string OwnedPrefix(OwnedKind kind, std::string_view party);
}  // namespace keys

// The owner index entries a record creates (appended to `out`), given its
// author's party and log index: one for a product, a lot, a shipment, and
// for part 1 of a code issuance. Called from Effects (rules.h).
void OwnerIndexEffects(const Record& record, std::string_view party, uint64_t index,
                       std::vector<std::pair<std::string, std::string>>& out);

// Writes the owner index entries missing from `store` (see above). Returns
// how many were written.
[[nodiscard]] LedgerResult<uint64_t> BuildOwnerIndex(chain::Store& store);

// One owned object: its key within the party's listing (the cursor for
// ?after=) and the record that created it, verified.
struct OwnedItem {
  std::string cursor;  // gtin | gtin:lot | shipment | gtin:batch
  StoredRecord record;
};

struct OwnedPage {
  std::vector<OwnedItem> items;
  std::optional<std::string> next;  // cursor of the last item when more follow
};

// Up to `limit` objects of `kind` that `party` registered, in key order,
// after the cursor `after` ("" for the first page). Every entry is
// re-read: the record must be the one creating the object and its author
// must belong to `party`, else kCorrupt.
[[nodiscard]] LedgerResult<OwnedPage> ListOwned(const Ledger& ledger, std::string_view party, OwnedKind kind,
                                                std::string_view after, size_t limit);

// The index suffix for a cursor ("09501101530003:L1" -> gtin + lot);
// nullopt when the cursor is not of the kind's shape.
std::optional<std::string> CursorToSuffix(OwnedKind kind, std::string_view cursor);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_OWNER_INDEX_H_
