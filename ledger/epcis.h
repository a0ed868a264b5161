// EPCIS 2.0 export: a lot's or a shipment's ledger records as a GS1 EPCIS
// 2.0 JSON-LD document (EPCISDocument), for trading partners and
// authorities whose systems speak EPCIS rather than our record format.
//
// A pure function of the records and the options (no clock: the document's
// creationDate is passed in). docs/FORMAT.md, "EPCIS export", has the
// mapping table; in short, per record kind:
//   lot              ObjectEvent ADD      commissioning / active        quantityList (lot class)
//   code_issuance    ObjectEvent ADD      commissioning / active        epcList (serial instances)
//   code_revocation  ObjectEvent DELETE   decommissioning / inactive    epcList
//   lot_recall       ObjectEvent OBSERVE  holding / recalled            quantityList
//   inspection       ObjectEvent OBSERVE (lot) or AggregationEvent OBSERVE (shipment),
//                    inspecting / conformant | non_conformant
//   shipment         AggregationEvent ADD shipping / in_transit         parentID + childQuantityList
//   custody          AggregationEvent OBSERVE, the record's biz_step, sourceList/destinationList
//   customs_decision AggregationEvent OBSERVE released: entering_exiting / in_transit,
//                    held: holding / sellable_not_accessible, seized: holding / non_sellable_other
// Other kinds (parties, keys, products, credit) are not events and are
// skipped. Class URIs are GS1 Digital Link https://id.gs1.org/01/{gtin}/10/{lot},
// instances https://id.gs1.org/01/{gtin}/21/{serial}. Every event's eventID
// is urn:uuid:<a version-8 UUID made from the first 16 bytes of the ledger
// record id>, and its extension members tl:recordId, tl:logIndex,
// tl:blockHeight (and tl:record, the record's URL, when a ledger URL is
// given) point back at the ledger record it came from.
#ifndef TRACELEDGER_LEDGER_EPCIS_H_
#define TRACELEDGER_LEDGER_EPCIS_H_

#include <cstdint>
#include <span>
#include <string>

#include "ledger/canonical_json.h"
#include "ledger/ledger.h"

namespace traceledger::ledger {

inline constexpr const char* kEpcisContext = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
// The namespace of our extension members ("tl:").
inline constexpr const char* kEpcisLedgerNamespace = "https://traceledger.org/ns/epcis#";

struct EpcisOptions {
  int64_t creation_time_s = 0;  // the document's creationDate (Unix seconds, UTC)
  // Base URL of the node serving the records ("http://host:8080"); when
  // set, each event's tl:record is <ledger_url>/v1/records/<id>.
  std::string ledger_url;
};

// The EPCIS document for `records` (a lot's or shipment's history, in log
// order); events come out in the same order. Records of kinds that are not
// events are skipped.
Json BuildEpcisDocument(std::span<const StoredRecord> records, const EpcisOptions& options);

// "2026-11-21T00:00:00Z" for a Unix time.
std::string Rfc3339Utc(int64_t unix_seconds);
// https://id.gs1.org/01/{gtin}/10/{lot} (lot percent-encoded as GS1 Digital Link requires).
std::string Gs1ClassUri(std::string_view gtin, std::string_view lot);
// https://id.gs1.org/01/{gtin}/21/{serial}.
std::string Gs1InstanceUri(std::string_view gtin, std::string_view serial);
// urn:uuid:… derived from the record id (deterministic).
std::string EpcisEventId(const chain::Hash& record_id);

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_EPCIS_H_
