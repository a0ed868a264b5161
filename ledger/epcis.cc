#include "ledger/epcis.h"

#include <ctime>

namespace traceledger::ledger {
namespace {

// Percent-encodes all but RFC 3986 unreserved characters, as GS1 Digital
// Link 1.2 requires of AI values in a URI path.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string ShipmentUri(std::string_view shipment) {
  return "urn:traceledger:shipment:" + PercentEncode(shipment);
}
std::string PartyUri(std::string_view party) { return "urn:traceledger:party:" + std::string(party); }
std::string LocationUri(std::string_view location) {
  return "urn:traceledger:location:" + PercentEncode(location);
}

// The members every event carries.
Json BaseEvent(const char* type, const StoredRecord& s, const EpcisOptions& o, std::string_view action,
               std::string_view biz_step, std::string_view disposition) {
  const Record& r = s.record;
  Json e = Json::object();
  e["type"] = type;
  e["eventTime"] = Rfc3339Utc(r.time);
  e["eventTimeZoneOffset"] = "+00:00";
  e["eventID"] = EpcisEventId(r.id);
  e["tl:recordId"] = r.IdHex();
  e["tl:recordKind"] = std::string(KindName(r.kind));
  e["tl:logIndex"] = s.index;
  e["tl:blockHeight"] = s.height;
  if (!o.ledger_url.empty()) e["tl:record"] = o.ledger_url + "/v1/records/" + r.IdHex();
  e["action"] = action;
  e["bizStep"] = biz_step;
  e["disposition"] = disposition;
  return e;
}

Json QuantityOf(std::string_view gtin, std::string_view lot, int64_t quantity) {
  return Json{{"epcClass", Gs1ClassUri(gtin, lot)}, {"quantity", quantity}, {"uom", "EA"}};
}

Json SerialUris(const Record& r) {
  Json list = Json::array();
  for (const auto& serial : r.body.at("serials")) {
    list.push_back(Gs1InstanceUri(r.Str("gtin"), serial.get_ref<const std::string&>()));
  }
  return list;
}

std::string CustodyDisposition(std::string_view step) {
  if (step == "receiving" || step == "arriving" || step == "storing" || step == "unloading") return "in_progress";
  return "in_transit";
}

// nullopt for kinds that are not events.
std::optional<Json> EventOf(const StoredRecord& s, const EpcisOptions& o) {
  const Record& r = s.record;
  const Json& b = r.body;
  switch (r.kind) {
    case RecordKind::kLot: {
      Json e = BaseEvent("ObjectEvent", s, o, "ADD", "commissioning", "active");
      e["epcList"] = Json::array();
      e["quantityList"] = Json::array({QuantityOf(r.Str("gtin"), r.Str("lot"), b.at("quantity").get<int64_t>())});
      Json ilmd = {{"cbvmda:lotNumber", r.Str("lot")}};
      if (b.contains("expiry_date")) ilmd["cbvmda:itemExpirationDate"] = r.Str("expiry_date");
      ilmd["tl:productionDate"] = r.Str("production_date");
      e["ilmd"] = ilmd;
      return e;
    }
    case RecordKind::kCodeIssuance: {
      Json e = BaseEvent("ObjectEvent", s, o, "ADD", "commissioning", "active");
      e["epcList"] = SerialUris(r);
      e["ilmd"] = Json{{"cbvmda:lotNumber", r.Str("lot")}};
      e["tl:batch"] = r.Str("batch");
      e["tl:part"] = b.at("part");
      e["tl:parts"] = b.at("parts");
      return e;
    }
    case RecordKind::kCodeRevocation: {
      Json e = BaseEvent("ObjectEvent", s, o, "DELETE", "decommissioning", "inactive");
      e["epcList"] = SerialUris(r);
      e["tl:reason"] = r.Str("reason");
      return e;
    }
    case RecordKind::kLotRecall: {
      Json e = BaseEvent("ObjectEvent", s, o, "OBSERVE", "holding", "recalled");
      e["epcList"] = Json::array();
      e["quantityList"] = Json::array({Json{{"epcClass", Gs1ClassUri(r.Str("gtin"), r.Str("lot"))}}});
      e["tl:reason"] = r.Str("reason");
      return e;
    }
    case RecordKind::kInspection: {
      const bool shipment = b.contains("shipment");
      // result: conformant | non_conformant, CBV 2.0 dispositions as they are.
      Json e = BaseEvent(shipment ? "AggregationEvent" : "ObjectEvent", s, o, "OBSERVE", "inspecting",
                         r.Str("result"));
      if (shipment) {
        e["parentID"] = ShipmentUri(r.Str("shipment"));
        e["childEPCs"] = Json::array();
      } else {
        e["epcList"] = Json::array();
        e["quantityList"] = Json::array(
            {QuantityOf(r.Str("gtin"), r.Str("lot"), b.at("sample_size").get<int64_t>())});
      }
      e["tl:standard"] = r.Str("standard");
      e["tl:reportSha256"] = r.Str("report_sha256");
      e["tl:inspectedOn"] = r.Str("inspected_on");
      return e;
    }
    case RecordKind::kShipment: {
      Json e = BaseEvent("AggregationEvent", s, o, "ADD", "shipping", "in_transit");
      e["parentID"] = ShipmentUri(r.Str("shipment"));
      Json children = Json::array();
      for (const auto& lot : b.at("lots")) {
        children.push_back(QuantityOf(lot.at("gtin").get_ref<const std::string&>(),
                                      lot.at("lot").get_ref<const std::string&>(),
                                      lot.at("quantity").get<int64_t>()));
      }
      e["childEPCs"] = Json::array();
      e["childQuantityList"] = children;
      Json transactions = Json::array({Json{{"type", "desadv"}, {"bizTransaction", ShipmentUri(r.Str("shipment"))}}});
      if (b.contains("declaration")) {
        transactions.push_back(
            Json{{"type", "cert"}, {"bizTransaction", "urn:traceledger:declaration:" + PercentEncode(r.Str("declaration"))}});
      }
      e["bizTransactionList"] = transactions;
      e["tl:originCountry"] = r.Str("origin_country");
      e["tl:destination"] = r.Str("destination");
      return e;
    }
    case RecordKind::kCustody: {
      // biz_step: the schema admits CBV 2.0 business steps only.
      Json e = BaseEvent("AggregationEvent", s, o, "OBSERVE", r.Str("biz_step"),
                         CustodyDisposition(r.Str("biz_step")));
      e["parentID"] = ShipmentUri(r.Str("shipment"));
      e["childEPCs"] = Json::array();
      e["readPoint"] = Json{{"id", LocationUri(r.Str("location"))}};
      e["bizLocation"] = Json{{"id", LocationUri(r.Str("location"))}};
      e["sourceList"] = Json::array({Json{{"type", "owning_party"}, {"source", PartyUri(r.Str("from"))}}});
      e["destinationList"] =
          Json::array({Json{{"type", "owning_party"}, {"destination", PartyUri(r.Str("to"))}}});
      e["tl:location"] = r.Str("location");
      return e;
    }
    case RecordKind::kCustomsDecision: {
      const std::string_view decision = r.Str("decision");
      Json e = BaseEvent("AggregationEvent", s, o, "OBSERVE", decision == "released" ? "entering_exiting" : "holding",
                         decision == "released" ? "in_transit"
                         : decision == "held"   ? "sellable_not_accessible"
                                                : "non_sellable_other");
      e["parentID"] = ShipmentUri(r.Str("shipment"));
      e["childEPCs"] = Json::array();
      e["tl:customsDecision"] = decision;
      if (b.contains("reason")) e["tl:reason"] = r.Str("reason");
      return e;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string Rfc3339Utc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Gs1ClassUri(std::string_view gtin, std::string_view lot) {
  return "https://id.gs1.org/01/" + std::string(gtin) + "/10/" + PercentEncode(lot);
}

std::string Gs1InstanceUri(std::string_view gtin, std::string_view serial) {
  return "https://id.gs1.org/01/" + std::string(gtin) + "/21/" + PercentEncode(serial);
}

std::string EpcisEventId(const chain::Hash& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint8_t b[16];
  for (int i = 0; i < 16; ++i) b[i] = id[static_cast<size_t>(i)];
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x80);  // version 8: custom (RFC 9562)
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10
  std::string out = "urn:uuid:";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

Json BuildEpcisDocument(std::span<const StoredRecord> records, const EpcisOptions& options) {
  Json events = Json::array();
  for (const StoredRecord& s : records) {
    if (auto e = EventOf(s, options)) events.push_back(std::move(*e));
  }
  Json doc = Json::object();
  doc["@context"] = Json::array({kEpcisContext, Json{{"tl", kEpcisLedgerNamespace}}});
  doc["type"] = "EPCISDocument";
  doc["schemaVersion"] = "2.0";
  doc["creationDate"] = Rfc3339Utc(options.creation_time_s);
  doc["epcisBody"] = Json{{"eventList", std::move(events)}};
  return doc;
}

}  // namespace traceledger::ledger
