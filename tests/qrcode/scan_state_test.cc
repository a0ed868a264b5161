// The anti-counterfeit core (qrcode/scan_state.h): clone rules at their
// threshold edges, client repeats and retention, PIN consume / warn /
// rate-limit, and the state's encoding; then the LevelDB-backed ScanStore.
#include "qrcode/scan_state.h"

#include <gtest/gtest.h>

#include <string>

#include "qrcode/code.h"
#include "qrcode/scan_store.h"

namespace traceledger::qrcode {
namespace {

constexpr const char* kGtin = "09501101530003";

ScanState Scans(ScanState s, int n, const ClonePolicy& p, const std::string& region = "", int64_t t0 = 1000) {
  for (int i = 0; i < n; ++i)
    s = ApplyScan(std::move(s), ScanInput{.now_s = t0 + i, .region = region}, p).state;
  return s;
}

TEST(CloneRulesTest, ManyScansFlagsOnlyAboveTheThreshold) {
  ClonePolicy p{.max_scans = 3};
  ScanState s = Scans({}, 3, p);
  EXPECT_EQ(s.scans, 3u);
  EXPECT_EQ(CloneFlags(s, p), 0u) << "exactly max_scans is still normal";
  ScanOutcome fourth = ApplyScan(s, ScanInput{.now_s = 2000}, p);
  EXPECT_EQ(fourth.flags, kManyScans);
  EXPECT_EQ(CloneFlagNames(fourth.flags), "many_scans");
  EXPECT_EQ(fourth.state.first_scan_s, 1000);
  EXPECT_EQ(fourth.state.last_scan_s, 2000);
}

TEST(CloneRulesTest, ManyRegionsCountsDistinctKnownRegions) {
  ClonePolicy p{.max_scans = 100, .max_regions = 2};
  ScanState s;
  for (const char* region : {"CN-44", "CN-44", "", "CN-31", "CN-31", ""}) {
    s = ApplyScan(std::move(s), ScanInput{.now_s = 5, .region = region}, p).state;
  }
  EXPECT_EQ(s.regions, (std::vector<std::string>{"CN-44", "CN-31"}));
  EXPECT_EQ(CloneFlags(s, p), 0u);
  ScanOutcome third = ApplyScan(s, ScanInput{.now_s = 6, .region = "US-CA"}, p);
  EXPECT_EQ(third.flags, kManyRegions);
  // The remembered list saturates; the flag stays.
  ClonePolicy small{.max_scans = 100, .max_regions = 1, .max_tracked_regions = 2};
  ScanState t;
  for (const char* region : {"A", "B", "C", "D"})
    t = ApplyScan(std::move(t), ScanInput{.region = region}, small).state;
  EXPECT_EQ(t.regions.size(), 2u);
  EXPECT_EQ(CloneFlags(t, small), kManyRegions);
}

TEST(CloneRulesTest, ScansAfterConsumption) {
  ClonePolicy p{.max_scans = 100, .max_scans_after_consumption = 1};
  ScanState s = Scans({}, 2, p);
  s = ApplyPinAttempt(std::move(s), /*correct=*/true, 1100, p).state;
  ASSERT_TRUE(s.consumed);
  ScanOutcome first = ApplyScan(s, ScanInput{.now_s = 1200}, p);
  EXPECT_EQ(first.flags, 0u);
  EXPECT_EQ(first.state.scans_after_consumption, 1u);
  ScanOutcome second = ApplyScan(first.state, ScanInput{.now_s = 1300}, p);
  EXPECT_EQ(second.flags, kScannedAfterConsumption);
}

TEST(CloneRulesTest, RepeatScansByAKnownClientDoNotCountUntilRetentionEnds) {
  ClonePolicy p{.max_scans = 2, .client_retention_s = 100};
  ClientTag me = {1, 2, 3, 4, 5, 6, 7, 8};
  ClientTag other = {8, 7, 6, 5, 4, 3, 2, 1};
  ScanState s;
  for (int i = 0; i < 10; ++i) s = ApplyScan(std::move(s), ScanInput{.now_s = 10 + i, .client = me}, p).state;
  EXPECT_EQ(s.scans, 10u);
  EXPECT_EQ(s.counted_scans, 1u);
  EXPECT_EQ(CloneFlags(s, p), 0u);
  s = ApplyScan(std::move(s), ScanInput{.now_s = 30, .client = other}, p).state;
  s = ApplyScan(std::move(s), ScanInput{.now_s = 31}, p).state;  // no client: counts
  EXPECT_EQ(s.counted_scans, 3u);
  EXPECT_EQ(CloneFlags(s, p), kManyScans);
  // `me` was last seen at 19: at 119 it is forgotten (last_seen + retention
  // <= now) and counts again; `other` (30) is still remembered at 129.
  ScanState later = ApplyScan(s, ScanInput{.now_s = 118, .client = me}, p).state;
  EXPECT_EQ(later.counted_scans, 3u);
  later = ApplyScan(s, ScanInput{.now_s = 119, .client = me}, p).state;
  EXPECT_EQ(later.counted_scans, 4u);
  EXPECT_EQ(later.clients.size(), 2u);
  // Capacity: the least recently seen client is dropped first.
  ClonePolicy two{.max_scans = 100, .max_tracked_clients = 2};
  ScanState c;
  for (uint8_t k = 1; k <= 3; ++k) {
    c = ApplyScan(std::move(c), ScanInput{.now_s = k, .client = ClientTag{k}}, two).state;
  }
  ASSERT_EQ(c.clients.size(), 2u);
  EXPECT_EQ(c.clients[0].tag, ClientTag{2});
  EXPECT_EQ(c.clients[1].tag, ClientTag{3});
}

TEST(PinRulesTest, FirstCorrectPinConsumesLaterOnesAreWarned) {
  ClonePolicy p;
  PinResult first = ApplyPinAttempt({}, true, 500, p);
  EXPECT_EQ(first.outcome, PinOutcome::kConsumed);
  EXPECT_EQ(first.consumed_s, 500);
  PinResult again = ApplyPinAttempt(first.state, true, 900, p);
  EXPECT_EQ(again.outcome, PinOutcome::kAlreadyConsumed);
  EXPECT_EQ(again.consumed_s, 500);
  EXPECT_EQ(again.state.pin_attempts_after_consumption, 1u);
  EXPECT_EQ(PinOutcomeName(again.outcome), "already_consumed");
}

TEST(PinRulesTest, WrongPinsAreRateLimitedPerWindow) {
  ClonePolicy p{.max_wrong_pins = 3, .wrong_pin_window_s = 600};
  ScanState s;
  for (uint32_t k = 1; k <= 3; ++k) {
    PinResult r = ApplyPinAttempt(std::move(s), false, 1000 + k, p);
    EXPECT_EQ(r.outcome, PinOutcome::kWrong);
    EXPECT_EQ(r.attempts_left, 3 - k);
    s = std::move(r.state);
  }
  // Locked: even the right PIN is refused unchecked, and changes nothing.
  PinResult locked = ApplyPinAttempt(s, true, 1599, p);
  EXPECT_EQ(locked.outcome, PinOutcome::kRateLimited);
  EXPECT_EQ(locked.retry_after_s, 1601);  // the window began at the first wrong PIN
  EXPECT_EQ(locked.state, s);
  EXPECT_FALSE(locked.state.consumed);
  EXPECT_EQ(ApplyPinAttempt(s, true, 1600, p).outcome, PinOutcome::kRateLimited);
  // At window start + window, attempts are accepted again.
  PinResult open = ApplyPinAttempt(s, true, 1601, p);
  EXPECT_EQ(open.outcome, PinOutcome::kConsumed);
  EXPECT_EQ(open.state.wrong_pins, 0u);
}

TEST(PinRulesTest, PinMatchesWhatWasCommitted) {
  std::array<uint8_t, 16> salt{};
  salt[0] = 7;
  auto hash = PinHash(salt, kGtin, "S1", "K7QM3XRT9HVA");
  EXPECT_TRUE(PinMatches(salt, kGtin, "S1", "k7qm-3xrt-9hva", hash));
  EXPECT_FALSE(PinMatches(salt, kGtin, "S2", "K7QM3XRT9HVA", hash));
  EXPECT_FALSE(PinMatches(salt, kGtin, "S1", "K7QM3XRT9HVB", hash));
  EXPECT_FALSE(PinMatches(salt, kGtin, "S1", "not a pin", hash));
  salt[0] = 8;
  EXPECT_FALSE(PinMatches(salt, kGtin, "S1", "K7QM3XRT9HVA", hash));
}

TEST(ScanStateEncodingTest, RoundTripAndStrictDecoding) {
  ScanState s{.scans = 9,
              .counted_scans = 7,
              .first_scan_s = 100,
              .last_scan_s = 200,
              .regions = {"CN-44", "US-CA"},
              .consumed = true,
              .consumed_s = 150,
              .scans_after_consumption = 2,
              .pin_attempts_after_consumption = 1,
              .wrong_pins = 2,
              .wrong_pin_window_start_s = 120,
              .clients = {SeenClient{{1, 2, 3, 4, 5, 6, 7, 8}, 190}}};
  std::string bytes = EncodeScanState(s);
  auto back = DecodeScanState(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(DecodeScanState(bytes + "x").has_value());
  EXPECT_FALSE(DecodeScanState(bytes.substr(0, bytes.size() - 1)).has_value());
  std::string bad_version = bytes;
  bad_version[0] = 2;
  EXPECT_FALSE(DecodeScanState(bad_version).has_value());
  EXPECT_FALSE(DecodeScanState("").has_value());
}

TEST(ScanStateEncodingTest, RegionsAreCoarseCodesOnly) {
  for (std::string ok : {"", "CN", "CN-44", "US-CA", "1234567890ABCDEF"})
    EXPECT_FALSE(RegionProblem(ok)) << ok;
  for (std::string bad : {"cn-44", "Shenzhen Futian", "CN_44", "1234567890ABCDEFG", "192.168.1.1"}) {
    EXPECT_TRUE(RegionProblem(bad)) << bad;
  }
}

// ---------------------------------------------------------------- ScanStore

class ScanStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = "scans-" + std::to_string(counter_++);
    options_.in_memory = true;
    options_.policy = ClonePolicy{.max_scans = 3,
                                  .max_regions = 1,
                                  .max_wrong_pins = 2,
                                  .wrong_pin_window_s = 60,
                                  .client_retention_s = 1000};
    options_.salt_rotation_s = 500;
    auto store = ScanStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
  }
  inline static int counter_ = 0;
  ScanStoreOptions options_;
  std::unique_ptr<ScanStore> store_;
};

TEST_F(ScanStoreTest, ScansAccumulatePerCode) {
  for (int i = 0; i < 4; ++i) {
    auto r = store_->RecordScan(kGtin, "S1", 100 + i, "CN-44");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->state.scans, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(r->flags, i == 3 ? uint32_t{kManyScans} : 0u);
  }
  auto other = store_->RecordScan(kGtin, "S2", 200, "US-CA");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->state.scans, 1u);
  auto s1 = store_->Get(kGtin, "S1");
  ASSERT_TRUE(s1.ok() && s1->has_value());
  EXPECT_EQ((*s1)->first_scan_s, 100);
  EXPECT_EQ((*s1)->regions, std::vector<std::string>{"CN-44"});
  EXPECT_FALSE(store_->Get(kGtin, "S3")->has_value());
  auto bad = store_->RecordScan(kGtin, "S1", 300, "Shenzhen");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ScanStoreErrorCode::kInvalid);
  EXPECT_EQ((*store_->Get(kGtin, "S1"))->scans, 4u) << "a refused scan changes nothing";
}

TEST_F(ScanStoreTest, ClientIdsAreKeptOnlyAsRotatingSaltedHashes) {
  const std::string ip = "203.0.113.7";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->RecordScan(kGtin, "S1", 100 + i, "", ip).ok());
  auto state = store_->Get(kGtin, "S1");
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->scans, 5u);
  EXPECT_EQ((*state)->counted_scans, 1u);
  ASSERT_EQ((*state)->clients.size(), 1u);
  const std::string stored = EncodeScanState(**state);
  EXPECT_EQ(stored.find(ip), std::string::npos);
  // The next salt epoch (every 500 s) gives the same client another tag.
  auto next_epoch = store_->RecordScan(kGtin, "S1", 600, "", ip);
  ASSERT_TRUE(next_epoch.ok());
  EXPECT_EQ(next_epoch->state.counted_scans, 2u);
  EXPECT_EQ(next_epoch->state.clients.size(), 2u);
  EXPECT_NE(next_epoch->state.clients[0].tag, next_epoch->state.clients[1].tag);
  // Retention (1000 s): a sweep forgets both tags once they are old.
  auto swept = store_->ForgetExpiredClients(1104);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(*swept, 1u);
  EXPECT_EQ((*store_->Get(kGtin, "S1"))->clients.size(), 1u);
  swept = store_->ForgetExpiredClients(1600);
  ASSERT_TRUE(swept.ok());
  EXPECT_TRUE((*store_->Get(kGtin, "S1"))->clients.empty());
  EXPECT_TRUE(store_->PurgeSalts(5000).ok());
  EXPECT_FALSE(store_->RecordScan(kGtin, "S1", 700, "", "").ok()) << "an empty client id is refused";
}

TEST_F(ScanStoreTest, PinConsumeWarnAndRateLimit) {
  PinCommitment commitment;
  commitment.salt[3] = 9;
  commitment.hash = PinHash(commitment.salt, kGtin, "S1", "K7QM3XRT9HVA");
  auto check = [&](const std::string& pin, int64_t now) {
    auto r = store_->CheckPin(kGtin, "S1", pin, commitment, now);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->outcome : PinOutcome::kNoPin;
  };
  EXPECT_EQ(check("0000-0000-0000", 10), PinOutcome::kWrong);
  EXPECT_EQ(check("K7QM-3XRT-9HVA", 11), PinOutcome::kConsumed);
  EXPECT_EQ(check("k7qm3xrt9hva", 12), PinOutcome::kAlreadyConsumed);
  // Two wrong PINs in the 60 s window opened at 10: the third attempt is refused.
  EXPECT_EQ(check("0000-0000-0001", 13), PinOutcome::kWrong);
  EXPECT_EQ(check("K7QM-3XRT-9HVA", 69), PinOutcome::kRateLimited);
  EXPECT_EQ(check("K7QM-3XRT-9HVA", 70), PinOutcome::kAlreadyConsumed);
  auto no_pin = store_->CheckPin(kGtin, "S2", "K7QM-3XRT-9HVA", std::nullopt, 14);
  ASSERT_TRUE(no_pin.ok());
  EXPECT_EQ(no_pin->outcome, PinOutcome::kNoPin);
  EXPECT_FALSE(store_->Get(kGtin, "S2")->has_value());
  // Scans after consumption are counted.
  auto scan = store_->RecordScan(kGtin, "S1", 20, "");
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->state.scans_after_consumption, 1u);
}

}  // namespace
}  // namespace traceledger::qrcode
