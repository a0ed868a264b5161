// The owner index (ledger/owner_index.h): written with the facts, listed
// per party with pagination, verified on read and by audit, and built on
// open for a store that lacks it.
#include "ledger/owner_index.h"

#include <gtest/gtest.h>

#include "ledger/audit.h"
#include "ledger/state.h"
#include "tests/ledger/fixture.h"
#include "tests/temp_dir.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using testing::LedgerFixture;

class OwnerIndexTest : public LedgerFixture {
 protected:
  // acme: products A and B, lots A/L1, A/L2, B/L1, shipment S1, code batch
  // B1 of A/L1; beta: nothing of its own.
  void Populate() {
    acme_ = Register("acme", {"merchant"});
    beta_ = Register("beta", {"merchant"});
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinA), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinB), acme_).ok());
    for (auto [gtin, lot] : {std::pair{kGtinA, "L2"}, std::pair{kGtinA, "L1"}, std::pair{kGtinB, "L1"}}) {
      ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(gtin, lot), acme_).ok());
    }
    ASSERT_TRUE(Submit(RecordKind::kShipment, ShipmentBody("S1", kGtinA, "L1"), acme_).ok());
    Json issuance = {{"gtin", kGtinA}, {"lot", "L1"}, {"batch", "B1"}, {"part", 1}, {"parts", 1},
                     {"serials", Json::array({"S0001", "S0002"})}};
    ASSERT_TRUE(Submit(RecordKind::kCodeIssuance, issuance, acme_).ok());
  }

  std::vector<std::string> Cursors(OwnedKind kind, std::string_view party, std::string_view after = "",
                                   size_t limit = 100, std::optional<std::string>* next = nullptr) {
    auto page = ListOwned(*ledger_, party, kind, after, limit);
    EXPECT_TRUE(page.ok()) << page.error().message;
    std::vector<std::string> out;
    if (!page.ok()) return out;
    for (const auto& item : page->items) out.push_back(item.cursor);
    if (next) *next = page->next;
    return out;
  }

  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor beta_ = acme_;
};

TEST_F(OwnerIndexTest, ListsEachKindOfTheOwnerOnly) {
  Populate();
  EXPECT_EQ(Cursors(OwnedKind::kProduct, "acme"), (std::vector<std::string>{kGtinA, kGtinB}));
  EXPECT_EQ(Cursors(OwnedKind::kLot, "acme"),
            (std::vector<std::string>{std::string(kGtinA) + ":L1", std::string(kGtinA) + ":L2",
                                      std::string(kGtinB) + ":L1"}));
  EXPECT_EQ(Cursors(OwnedKind::kShipment, "acme"), (std::vector<std::string>{"S1"}));
  EXPECT_EQ(Cursors(OwnedKind::kCodeBatch, "acme"), (std::vector<std::string>{std::string(kGtinA) + ":B1"}));
  EXPECT_TRUE(Cursors(OwnedKind::kProduct, "beta").empty());
  EXPECT_TRUE(Cursors(OwnedKind::kLot, "nobody").empty());
  // The item is the record that created the object.
  auto page = ListOwned(*ledger_, "acme", OwnedKind::kShipment, "", 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items[0].record.record.kind, RecordKind::kShipment);
  EXPECT_EQ(page->items[0].record.record.Str("shipment"), "S1");
}

TEST_F(OwnerIndexTest, PagesFollowTheCursor) {
  Populate();
  std::optional<std::string> next;
  auto first = Cursors(OwnedKind::kLot, "acme", "", 2, &next);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next, first.back());
  auto second = Cursors(OwnedKind::kLot, "acme", *next, 2, &next);
  EXPECT_EQ(second, (std::vector<std::string>{std::string(kGtinB) + ":L1"}));
  EXPECT_FALSE(next.has_value());
  // Exactly a page full: no next.
  Cursors(OwnedKind::kProduct, "acme", "", 2, &next);
  EXPECT_FALSE(next.has_value());
}

TEST_F(OwnerIndexTest, CursorShapes) {
  EXPECT_EQ(CursorToSuffix(OwnedKind::kLot, "09501101530003:L1"), "09501101530003L1");
  EXPECT_EQ(CursorToSuffix(OwnedKind::kCodeBatch, "09501101530003:B:1"), "09501101530003B:1");
  EXPECT_FALSE(CursorToSuffix(OwnedKind::kLot, "0950110153000:L1"));
  EXPECT_FALSE(CursorToSuffix(OwnedKind::kLot, "09501101530003L1"));
  EXPECT_FALSE(CursorToSuffix(OwnedKind::kProduct, "0950110153000x"));
  EXPECT_EQ(CursorToSuffix(OwnedKind::kShipment, "S1"), "S1");
  EXPECT_FALSE(CursorToSuffix(OwnedKind::kShipment, ""));
}

TEST_F(OwnerIndexTest, WrittenWithTheFactAndAudited) {
  Populate();
  auto raw = ledger_->store().Get(keys::OwnedPrefix(OwnedKind::kProduct, "acme") + kGtinA);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->has_value());
  auto product = ledger_->GetProduct(kGtinA);
  ASSERT_TRUE(product.ok() && product->has_value());
  EXPECT_EQ(**raw, EncodeFact(Fact{.seq = (*product)->index}));
  AuditReport report = Audit(ledger_->store(), AuditOptions{});
  EXPECT_TRUE(report.ok) << report.reason;
}

TEST_F(OwnerIndexTest, AuditNamesAMissingOrForgedEntry) {
  Populate();
  const std::string key = keys::OwnedPrefix(OwnedKind::kLot, "acme") + kGtinA + "L1";
  ASSERT_TRUE(ledger_->store().RawDeleteForTesting(key).ok());
  AuditReport missing = Audit(ledger_->store(), AuditOptions{});
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.reason.find("is missing"), std::string::npos) << missing.reason;
  // A forged entry: beta "owns" acme's shipment.
  auto lot = ledger_->GetLot(kGtinA, "L1");
  ASSERT_TRUE(lot.ok() && lot->has_value());
  ASSERT_TRUE(ledger_->store().RawPutForTesting(key, EncodeFact(Fact{.seq = (*lot)->index})).ok());
  EXPECT_TRUE(Audit(ledger_->store(), AuditOptions{}).ok);
  auto shipment = ledger_->GetShipment("S1");
  ASSERT_TRUE(shipment.ok() && shipment->has_value());
  const std::string forged = keys::OwnedPrefix(OwnedKind::kShipment, "beta") + "S1";
  ASSERT_TRUE(ledger_->store().RawPutForTesting(forged, EncodeFact(Fact{.seq = (*shipment)->index})).ok());
  auto page = ListOwned(*ledger_, "beta", OwnedKind::kShipment, "", 10);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.error().code, LedgerErrorCode::kCorrupt);
  AuditReport forged_report = Audit(ledger_->store(), AuditOptions{});
  EXPECT_FALSE(forged_report.ok);
}

TEST_F(OwnerIndexTest, BuiltOnOpenForAStoreWithoutIt) {
  traceledger::testing::TempDir dir;
  OpenFresh(LedgerOptions{.path = dir.path() + "/ledger"});
  Populate();
  // Take the index away, as a store written before it existed lacks it.
  std::vector<std::string> index_keys;
  for (const char* prefix : {"og/", "ol/", "os/", "oc/"}) {
    ASSERT_TRUE(ledger_->store()
                    .Scan(prefix, {}, [&](std::string_view key, std::string_view) {
                      index_keys.emplace_back(key);
                      return true;
                    })
                    .ok());
  }
  EXPECT_EQ(index_keys.size(), 2u + 3u + 1u + 1u);
  for (const auto& key : index_keys) ASSERT_TRUE(ledger_->store().RawDeleteForTesting(key).ok());
  EXPECT_TRUE(Cursors(OwnedKind::kLot, "acme").empty());
  ledger_.reset();

  auto store = chain::Store::Open(chain::StoreOptions{.path = dir.path() + "/ledger", .create_if_missing = false});
  ASSERT_TRUE(store.ok());
  auto built = BuildOwnerIndex(**store);
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ(*built, index_keys.size());
  auto again = BuildOwnerIndex(**store);  // idempotent: nothing left to write
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
  ASSERT_TRUE((*store)->RawDeleteForTesting(index_keys.front()).ok());
  store->reset();

  // Ledger::Open builds what is missing.
  options_.path = dir.path() + "/ledger";
  auto opened = Ledger::Open(options_, std::nullopt);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  ledger_ = std::move(opened).value();
  EXPECT_EQ(Cursors(OwnedKind::kProduct, "acme"), (std::vector<std::string>{kGtinA, kGtinB}));
  EXPECT_EQ(Cursors(OwnedKind::kLot, "acme").size(), 3u);
  AuditReport report = Audit(ledger_->store(), AuditOptions{});
  EXPECT_TRUE(report.ok) << report.reason;
}

}  // namespace
}  // namespace traceledger::ledger
