// EPCIS 2.0 export (ledger/epcis.h): the document's structure field by
// field, for a lot's and a shipment's history.
#include "ledger/epcis.h"

#include <gtest/gtest.h>

#include "tests/ledger/fixture.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using testing::LedgerFixture;

class EpcisTest : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    acme_ = Register("acme", {"merchant"});
    inspector_ = Register("cciq", {"inspector"});
    customs_ = Register("customs-sz", {"customs"});
    carrier_ = Register("carrier", {"logistics"});
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinA), acme_).ok());
    Json lot = LotBody(kGtinA, "L/1");
    lot["expiry_date"] = "2028-11-01";
    ASSERT_TRUE(Submit(RecordKind::kLot, lot, acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kCodeIssuance,
                       {{"gtin", kGtinA}, {"lot", "L/1"}, {"batch", "B1"}, {"part", 1}, {"parts", 1},
                        {"serials", Json::array({"S1", "S2"})}},
                       acme_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kInspection,
                       {{"gtin", kGtinA}, {"lot", "L/1"}, {"standard", "GB 2763-2021"}, {"sample_size", 12},
                        {"result", "non_conformant"}, {"report_sha256", std::string(64, 'a')},
                        {"inspected_on", "2026-11-10"}},
                       inspector_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L/1"), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kCustody,
                       {{"shipment", "SH-1"}, {"from", "acme"}, {"to", "carrier"}, {"location", "Fuzhou port"},
                        {"biz_step", "shipping"}},
                       acme_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kCustomsDecision,
                       {{"shipment", "SH-1"}, {"decision", "held"}, {"reason", "documents"}}, customs_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kCodeRevocation,
                       {{"gtin", kGtinA}, {"lot", "L/1"}, {"serials", Json::array({"S2"})}, {"reason", "lost"}},
                       acme_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kLotRecall, {{"gtin", kGtinA}, {"lot", "L/1"}, {"reason", "failed"}}, acme_).ok());
  }

  Json Document(bool lot) {
    auto history = lot ? ledger_->LotHistory(kGtinA, "L/1") : ledger_->ShipmentHistory("SH-1");
    EXPECT_TRUE(history.ok());
    history_ = *history;
    return BuildEpcisDocument(history_, EpcisOptions{.creation_time_s = 1'795'219'200, .ledger_url = "http://node:8080"});
  }

  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor inspector_ = acme_, customs_ = acme_, carrier_ = acme_;
  std::vector<StoredRecord> history_;
};

TEST_F(EpcisTest, DocumentHeader) {
  Json doc = Document(true);
  ASSERT_TRUE(doc["@context"].is_array());
  EXPECT_EQ(doc["@context"][0], "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld");
  EXPECT_EQ(doc["@context"][1]["tl"], kEpcisLedgerNamespace);
  EXPECT_EQ(doc["type"], "EPCISDocument");
  EXPECT_EQ(doc["schemaVersion"], "2.0");
  EXPECT_EQ(doc["creationDate"], "2026-11-21T00:00:00Z");
  ASSERT_TRUE(doc["epcisBody"]["eventList"].is_array());
}

TEST_F(EpcisTest, LotEventsFieldByField) {
  Json events = Document(true)["epcisBody"]["eventList"];
  // lot, code_issuance, inspection, shipment, code_revocation, lot_recall
  ASSERT_EQ(events.size(), 6u) << events.dump(1);
  ASSERT_EQ(history_.size(), 6u);
  const std::string cls = "https://id.gs1.org/01/09501101530003/10/L%2F1";
  for (size_t i = 0; i < events.size(); ++i) {
    const Json& e = events[i];
    EXPECT_EQ(e["eventTime"], Rfc3339Utc(history_[i].record.time));
    EXPECT_EQ(e["eventTimeZoneOffset"], "+00:00");
    EXPECT_EQ(e["eventID"], EpcisEventId(history_[i].record.id));
    EXPECT_EQ(e["tl:recordId"], history_[i].record.IdHex());
    EXPECT_EQ(e["tl:logIndex"], history_[i].index);
    EXPECT_EQ(e["tl:blockHeight"], history_[i].height);
    EXPECT_EQ(e["tl:record"], "http://node:8080/v1/records/" + history_[i].record.IdHex());
  }
  const Json& lot = events[0];
  EXPECT_EQ(lot["type"], "ObjectEvent");
  EXPECT_EQ(lot["action"], "ADD");
  EXPECT_EQ(lot["bizStep"], "commissioning");
  EXPECT_EQ(lot["disposition"], "active");
  EXPECT_EQ(lot["quantityList"][0]["epcClass"], cls);
  EXPECT_EQ(lot["quantityList"][0]["quantity"], 1000);
  EXPECT_EQ(lot["ilmd"]["cbvmda:lotNumber"], "L/1");
  EXPECT_EQ(lot["ilmd"]["cbvmda:itemExpirationDate"], "2028-11-01");

  const Json& issue = events[1];
  EXPECT_EQ(issue["type"], "ObjectEvent");
  EXPECT_EQ(issue["action"], "ADD");
  EXPECT_EQ(issue["bizStep"], "commissioning");
  EXPECT_EQ(issue["epcList"], Json::array({"https://id.gs1.org/01/09501101530003/21/S1",
                                           "https://id.gs1.org/01/09501101530003/21/S2"}));

  const Json& inspection = events[2];
  EXPECT_EQ(inspection["type"], "ObjectEvent");
  EXPECT_EQ(inspection["action"], "OBSERVE");
  EXPECT_EQ(inspection["bizStep"], "inspecting");
  EXPECT_EQ(inspection["disposition"], "non_conformant");
  EXPECT_EQ(inspection["quantityList"][0]["quantity"], 12);

  const Json& shipment = events[3];
  EXPECT_EQ(shipment["type"], "AggregationEvent");
  EXPECT_EQ(shipment["action"], "ADD");
  EXPECT_EQ(shipment["bizStep"], "shipping");
  EXPECT_EQ(shipment["disposition"], "in_transit");
  EXPECT_EQ(shipment["parentID"], "urn:traceledger:shipment:SH-1");
  EXPECT_EQ(shipment["childQuantityList"][0]["epcClass"], cls);
  EXPECT_EQ(shipment["childQuantityList"][0]["quantity"], 100);
  EXPECT_EQ(shipment["bizTransactionList"][0]["type"], "desadv");

  const Json& revoke = events[4];
  EXPECT_EQ(revoke["action"], "DELETE");
  EXPECT_EQ(revoke["bizStep"], "decommissioning");
  EXPECT_EQ(revoke["disposition"], "inactive");
  EXPECT_EQ(revoke["epcList"], Json::array({"https://id.gs1.org/01/09501101530003/21/S2"}));

  const Json& recall = events[5];
  EXPECT_EQ(recall["action"], "OBSERVE");
  EXPECT_EQ(recall["bizStep"], "holding");
  EXPECT_EQ(recall["disposition"], "recalled");
  EXPECT_EQ(recall["quantityList"][0]["epcClass"], cls);
}

TEST_F(EpcisTest, ShipmentEventsFieldByField) {
  Json events = Document(false)["epcisBody"]["eventList"];
  ASSERT_EQ(events.size(), 3u) << events.dump(1);
  EXPECT_EQ(events[0]["bizStep"], "shipping");
  const Json& custody = events[1];
  EXPECT_EQ(custody["type"], "AggregationEvent");
  EXPECT_EQ(custody["action"], "OBSERVE");
  EXPECT_EQ(custody["bizStep"], "shipping");
  EXPECT_EQ(custody["disposition"], "in_transit");
  EXPECT_EQ(custody["parentID"], "urn:traceledger:shipment:SH-1");
  EXPECT_EQ(custody["readPoint"]["id"], "urn:traceledger:location:Fuzhou%20port");
  EXPECT_EQ(custody["bizLocation"]["id"], "urn:traceledger:location:Fuzhou%20port");
  EXPECT_EQ(custody["sourceList"][0]["type"], "owning_party");
  EXPECT_EQ(custody["sourceList"][0]["source"], "urn:traceledger:party:acme");
  EXPECT_EQ(custody["destinationList"][0]["destination"], "urn:traceledger:party:carrier");
  const Json& held = events[2];
  EXPECT_EQ(held["bizStep"], "holding");
  EXPECT_EQ(held["disposition"], "sellable_not_accessible");
  EXPECT_EQ(held["tl:customsDecision"], "held");
}

TEST(EpcisIds, DeterministicVersion8Uuid) {
  chain::Hash id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i * 17);
  const std::string a = EpcisEventId(id);
  EXPECT_EQ(a, EpcisEventId(id));
  EXPECT_EQ(a, "urn:uuid:00112233-4455-8677-8899-aabbccddeeff");
  id[0] ^= 1;
  EXPECT_NE(EpcisEventId(id), a);
  EXPECT_EQ(Gs1ClassUri("09501101530003", "A B%"), "https://id.gs1.org/01/09501101530003/10/A%20B%25");
  EXPECT_EQ(Rfc3339Utc(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace traceledger::ledger
