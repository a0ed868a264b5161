#include "ledger/credit.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/audit.h"
#include "ledger/credit_policy.h"
#include "ledger/replica.h"
#include "ledger/schema.h"
#include "tests/ledger/credit_fixture.h"
#include "tests/temp_dir.h"

namespace traceledger::ledger {
namespace {

using testing::Actor;
using testing::CreditFixture;

int64_t Dim(const CreditEvaluation& e, Dimension d) { return e.dimensions[static_cast<size_t>(d)]; }

// ---- Policy parsing ------------------------------------------------------

TEST(CreditPolicyTest, DefaultPolicyParsesAsVersionZero) {
  const CreditPolicy& p = DefaultCreditPolicy();
  EXPECT_EQ(p.version, 0);
  EXPECT_EQ(p.adverse_years, 5);
  EXPECT_EQ(p.min_repair_days, 365);
  EXPECT_EQ(p.effect(EffectKey::kPenaltyMajor).points, -30);
  EXPECT_TRUE(p.effect(EffectKey::kBlackList).serious);
  EXPECT_EQ(p.effect(EffectKey::kReward).max_count, 2);
}

struct PolicyCase {
  std::string what;
  std::function<void(Json&)> edit;
  std::string field;
};

TEST(CreditPolicyTest, StrictParsingNamesTheField) {
  const std::vector<PolicyCase> cases = {
      {"missing section", [](Json& p) { p.erase("black_list"); }, ".black_list"},
      {"unknown section", [](Json& p) { p["bonus"] = 1; }, ".bonus"},
      {"unknown effect", [](Json& p) { p["effects"]["bribe"] = p["effects"]["reward"]; }, ".effects.bribe"},
      {"missing effect", [](Json& p) { p["effects"].erase("reward"); }, ".effects.reward"},
      {"points out of range", [](Json& p) { p["effects"]["reward"]["points"] = 101; },
       ".effects.reward.points"},
      {"points not integer", [](Json& p) { p["effects"]["reward"]["points"] = "10"; },
       ".effects.reward.points"},
      {"unknown dimension", [](Json& p) { p["effects"]["reward"]["dimension"] = "luck"; },
       ".effects.reward.dimension"},
      {"adverse but positive", [](Json& p) { p["effects"]["penalty_minor"]["points"] = 5; },
       ".effects.penalty_minor.points"},
      {"serious without adverse", [](Json& p) { p["effects"]["reward"]["serious"] = true; },
       ".effects.reward.serious"},
      {"black_list not adverse", [](Json& p) { p["effects"]["black_list"]["adverse"] = false; },
       ".effects.black_list.serious"},
      {"unknown effect member", [](Json& p) { p["effects"]["reward"]["bonus"] = 1; },
       ".effects.reward.bonus"},
      {"max_count zero", [](Json& p) { p["effects"]["reward"]["max_count"] = 0; },
       ".effects.reward.max_count"},
      {"retention below 5 years", [](Json& p) { p["retention"]["adverse_years"] = 4; },
       ".retention.adverse_years"},
      {"repair before a year", [](Json& p) { p["black_list"]["min_repair_days"] = 364; },
       ".black_list.min_repair_days"},
      {"thresholds out of order", [](Json& p) { p["grades"]["b_min"] = 85; }, ".grades.b_min"},
      {"bad grade", [](Json& p) { p["grades"]["recent_adverse_max"] = "E"; }, ".grades.recent_adverse_max"},
      {"all weights zero",
       [](Json& p) {
         for (auto& [k, v] : p["weights"].items()) v = 0;
       },
       ".weights"},
      {"missing weight", [](Json& p) { p["weights"].erase("credit_history"); }, ".weights.credit_history"},
      {"not an object", [](Json& p) { p = Json::array(); }, ""},
  };
  for (const auto& c : cases) {
    Json p = *ParseStrictJson(DefaultCreditPolicyJson());
    c.edit(p);
    auto r = ParseCreditPolicy(p, 1);
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.error().field, c.field) << c.what << ": " << r.error().message;
  }
  // The edge values themselves are fine.
  Json p = *ParseStrictJson(DefaultCreditPolicyJson());
  p["retention"]["adverse_years"] = 5;
  p["black_list"]["min_repair_days"] = 365;
  p["effects"]["reward"]["points"] = 100;
  EXPECT_TRUE(ParseCreditPolicy(p, 1).ok());
}

TEST(CreditDatesTest, AddYearsAndFormat) {
  EXPECT_EQ(FormatDate(*ParseDate("2026-11-21")), "2026-11-21");
  EXPECT_EQ(FormatDate(AddYears(*ParseDate("2026-11-20"), 5)), "2031-11-20");
  EXPECT_EQ(FormatDate(AddYears(*ParseDate("2028-02-29"), 1)), "2029-03-01");
  EXPECT_EQ(FormatDate(AddYears(*ParseDate("2028-02-29"), 4)), "2032-02-29");
  EXPECT_EQ(FormatDate(DayOfUnixSeconds(1'795'219'200)), "2026-11-21");
  EXPECT_EQ(DayOfUnixSeconds(-1), -1);
}

// ---- Rules ---------------------------------------------------------------

class CreditRulesTest : public CreditFixture {};

TEST_F(CreditRulesTest, PolicyThatDoesNotParseIsRejectedWithItsField) {
  Json policy = DefaultPolicyJson();
  policy["effects"]["reward"]["points"] = 500;
  ExpectReject(Submit(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", policy}}, samr_),
               RejectCode::kSchema, "body.policy.effects.reward.points");
  policy = DefaultPolicyJson();
  policy.erase("red_list");
  ExpectReject(Submit(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", policy}}, samr_),
               RejectCode::kSchema, "body.policy.red_list");
  Accept(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", DefaultPolicyJson()}}, samr_);
}

TEST_F(CreditRulesTest, CreditEventFieldsBelongToTheirEvents) {
  Merchant("acme");
  Json body = {{"merchant", "acme"},
               {"event", "penalty"},
               {"reason", "x"},
               {"act_end_date", "2026-11-01"},
               {"complaint_sha256", std::string(64, 'b')}};
  ExpectReject(Submit(RecordKind::kCreditEvent, body, samr_), RejectCode::kSchema, "body.complaint_sha256");
  body["event"] = "complaint_upheld";
  Accept(RecordKind::kCreditEvent, body, samr_);
  body = {
      {"merchant", "acme"}, {"event", "repair_approved"}, {"reason", "x"}, {"act_end_date", "2026-11-01"}};
  ExpectReject(Submit(RecordKind::kCreditEvent, body, samr_), RejectCode::kSchema, "body.listing");
  body["listing"] = std::string(64, 'c');
  ExpectReject(Submit(RecordKind::kCreditEvent, body, samr_), RejectCode::kSchema, "body.request");
  body = {{"merchant", "acme"},
          {"event", "reward"},
          {"reason", "x"},
          {"act_end_date", "2026-11-01"},
          {"listing", std::string(64, 'c')}};
  ExpectReject(Submit(RecordKind::kCreditEvent, body, samr_), RejectCode::kSchema, "body.listing");
}

TEST_F(CreditRulesTest, BlackListIsDatedByItsOwnTimeAndMayNotBeBackDated) {
  Merchant("acme");
  Json body = {
      {"merchant", "acme"}, {"event", "black_list"}, {"reason", "fraud"}, {"act_end_date", "2026-11-01"}};
  auto backdated = SignRecord(RecordKind::kCreditEvent, body, samr_.key, now_ms_ / 1000 - 86401, NextNonce());
  ExpectReject(ledger_->Submit(backdated.entry), RejectCode::kClock, "time");
  auto day_behind =
      SignRecord(RecordKind::kCreditEvent, body, samr_.key, now_ms_ / 1000 - 86400, NextNonce());
  ASSERT_TRUE(ledger_->Submit(day_behind.entry).ok());
  auto e = Eval("acme");
  ASSERT_EQ(e.listings.size(), 1u);
  EXPECT_EQ(e.listings[0].listed_on, "2026-11-20");
}

TEST_F(CreditRulesTest, RepairRequestsAreTheMerchantsOwn) {
  Actor acme = Merchant("acme");
  Actor globex = Merchant("globex");
  Receipt listing = Event("acme", "black_list", "2026-11-20");
  Json body = {{"merchant", "acme"},
               {"event", "repair_request"},
               {"reason", "fixed"},
               {"act_end_date", "2026-11-21"},
               {"listing", Hex(listing)}};
  ExpectReject(Submit(RecordKind::kCreditEvent, body, globex), RejectCode::kUnauthorized, "body.merchant");
  ExpectReject(Submit(RecordKind::kCreditEvent, body, samr_), RejectCode::kUnauthorized, "author");
  Json other = body;
  other["merchant"] = "globex";
  ExpectReject(Submit(RecordKind::kCreditEvent, other, globex), RejectCode::kNotOwner, "body.listing");
  Json unknown = body;
  unknown["listing"] = std::string(64, 'd');
  ExpectReject(Submit(RecordKind::kCreditEvent, unknown, acme), RejectCode::kUnknownReference,
               "body.listing");
  Accept(RecordKind::kCreditEvent, body, acme);
}

// ---- Retention -----------------------------------------------------------

TEST_F(CreditRulesTest, AdverseRecordCountsFiveYearsFromTheEndOfTheAct) {
  Merchant("acme");
  Receipt penalty = Event("acme", "penalty", "2026-11-20", {{"severity", "major"}});
  SetDate("2031-11-19");  // the day before five years
  uint64_t before = Tick();
  SetDate("2031-11-20");  // the anniversary: no longer counts
  uint64_t on = Tick();
  SetDate("2031-11-21");  // the day after
  uint64_t after = Tick();

  auto e = Eval("acme", before);
  const auto* c = Find(e, Hex(penalty), "penalty_major");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->counted);
  EXPECT_EQ(c->points, -30);
  EXPECT_EQ(Dim(e, Dimension::kCreditHistory), 50);

  for (uint64_t h : {on, after}) {
    auto later = Eval("acme", h);
    c = Find(later, Hex(penalty), "penalty_major");
    ASSERT_NE(c, nullptr);
    EXPECT_FALSE(c->counted);
    EXPECT_EQ(c->points, 0);
    EXPECT_EQ(c->note, "retention ended on 2031-11-20");
    EXPECT_EQ(Dim(later, Dimension::kCreditHistory), 80);
  }
}

// ---- Grades --------------------------------------------------------------

TEST_F(CreditRulesTest, BaselineGradesAndCaps) {
  Merchant("acme");
  auto e = Eval("acme");
  EXPECT_EQ(Dim(e, Dimension::kQualification), 100);
  EXPECT_EQ(e.score, 83);
  EXPECT_EQ(e.grade, Grade::kB);
  EXPECT_EQ(e.policy_version, 0);

  Event("acme", "reward", "2026-11-20");
  e = Eval("acme");
  EXPECT_EQ(e.score, 86);
  EXPECT_EQ(e.grade, Grade::kA);
  EXPECT_EQ(e.list, "");  // registered today: not yet on the red list

  // A minor complaint: the score stays high, the recent-adverse cap applies.
  Event("acme", "complaint_upheld", "2026-11-20", {{"complaint_sha256", std::string(64, 'e')}});
  e = Eval("acme");
  EXPECT_EQ(e.score, 84);
  EXPECT_EQ(e.score_grade, Grade::kB);
  Event("acme", "reward", "2026-11-21");
  e = Eval("acme");
  EXPECT_EQ(e.score_grade, Grade::kA);
  EXPECT_EQ(e.grade, Grade::kB);
  ASSERT_EQ(e.caps.size(), 1u);
  EXPECT_EQ(e.caps[0], "an adverse record within the last 365 days");

  // 365 days after the complaint's act the cap is gone (upgrade).
  SetDate("2027-11-19");
  EXPECT_EQ(Eval("acme", Tick()).grade, Grade::kB);
  SetDate("2027-11-20");
  EXPECT_EQ(Eval("acme", Tick()).grade, Grade::kA);

  // A serious penalty caps at C (downgrade) on top of the points.
  Event("acme", "penalty", "2027-11-01", {{"severity", "serious"}});
  e = Eval("acme");
  EXPECT_EQ(e.grade, Grade::kC);
}

TEST_F(CreditRulesTest, RewardsCountUpToMaxCountLatestFirst) {
  Merchant("acme");
  Receipt r1 = Event("acme", "reward", "2026-11-01");
  Receipt r2 = Event("acme", "reward", "2026-11-02");
  Receipt r3 = Event("acme", "reward", "2026-11-03");
  auto e = Eval("acme");
  EXPECT_FALSE(Find(e, Hex(r1), "reward")->counted);
  EXPECT_EQ(Find(e, Hex(r1), "reward")->note, "beyond the 2 latest that count");
  EXPECT_TRUE(Find(e, Hex(r2), "reward")->counted);
  EXPECT_TRUE(Find(e, Hex(r3), "reward")->counted);
  EXPECT_EQ(Dim(e, Dimension::kCreditHistory), 100);
}

TEST_F(CreditRulesTest, LicenceExpiryAndMissingLicence) {
  Register("bare", {"merchant"});
  Merchant("acme", {{"licence_expiry", "2027-01-01"}});
  auto bare = Eval("bare");
  EXPECT_EQ(Dim(bare, Dimension::kQualification), 40);
  EXPECT_EQ(bare.contributions[1].note, "no licence on record");
  SetDate("2027-01-01");
  EXPECT_EQ(Dim(Eval("acme", Tick()), Dimension::kQualification), 100);
  SetDate("2027-01-02");
  auto e = Eval("acme", Tick());
  EXPECT_EQ(Dim(e, Dimension::kQualification), 40);
  EXPECT_EQ(e.contributions[1].note, "licence expired on 2027-01-01");
}

TEST_F(CreditRulesTest, BusinessBehaviourAndPerformanceFollowTheGoods) {
  Actor acme = Merchant("acme");
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme);
  Receipt ship = Accept(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), acme);
  Receipt released =
      Accept(RecordKind::kCustomsDecision, {{"shipment", "SH-1"}, {"decision", "released"}}, customs_);
  Receipt failed = Accept(RecordKind::kInspection,
                          {{"gtin", kGtinA},
                           {"lot", "L1"},
                           {"standard", "GB 2763-2021"},
                           {"sample_size", 5},
                           {"result", "non_conformant"},
                           {"report_sha256", std::string(64, 'f')},
                           {"inspected_on", "2026-11-20"}},
                          sgs_);
  Receipt recall =
      Accept(RecordKind::kLotRecall, {{"gtin", kGtinA}, {"lot", "L1"}, {"reason", "residue"}}, samr_);
  auto e = Eval("acme");
  EXPECT_EQ(Find(e, Hex(ship), "shipment_registered")->points, 2);
  EXPECT_EQ(Find(e, Hex(released), "customs_released")->points, 2);
  EXPECT_EQ(Find(e, Hex(failed), "inspection_non_conformant")->points, -25);
  EXPECT_EQ(Find(e, Hex(recall), "lot_recall_by_regulator")->points, -20);
  EXPECT_EQ(Dim(e, Dimension::kBusinessBehaviour), 35);
  EXPECT_EQ(Dim(e, Dimension::kPerformanceCapacity), 64);
  EXPECT_EQ(Find(e, Hex(failed), "inspection_non_conformant")->date, "2026-11-20");
}

TEST_F(CreditRulesTest, RedListNeedsAYearRewardsAndNoAdverseRecord) {
  Merchant("acme");
  Event("acme", "reward", "2026-11-21");
  AdvanceDays(364);
  EXPECT_EQ(Eval("acme", Tick()).list, "");
  AdvanceDays(1);
  auto e = Eval("acme", Tick());
  EXPECT_EQ(e.grade, Grade::kA);
  EXPECT_EQ(e.list, "red");
  EXPECT_EQ(Book().RedList().size(), 1u);
  Event("acme", "complaint_upheld", Today());
  e = Eval("acme");
  EXPECT_EQ(e.list, "");
  EXPECT_TRUE(Book().RedList().empty());
}

// ---- Black list and repair ----------------------------------------------

class BlackListTest : public CreditFixture {
 protected:
  void SetUp() override {
    CreditFixture::SetUp();
    acme_ = Merchant("acme");
    listing_ = Event("acme", "black_list", "2026-11-20", {{"severity", "serious"}});
  }
  Receipt Request() {
    return Accept(RecordKind::kCreditEvent,
                  {{"merchant", "acme"},
                   {"event", "repair_request"},
                   {"reason", "rectified"},
                   {"act_end_date", Today()},
                   {"listing", Hex(listing_)}},
                  acme_);
  }
  Json Decision(const std::string& event, const Receipt& request) {
    return {{"merchant", "acme"},      {"event", event},           {"reason", "reviewed"},
            {"act_end_date", Today()}, {"listing", Hex(listing_)}, {"request", Hex(request)}};
  }
  Actor acme_{"", wallet::SecretKey::Generate()};
  Receipt listing_;
};

TEST_F(BlackListTest, ListedMerchantIsGradeD) {
  auto e = Eval("acme");
  EXPECT_EQ(e.list, "black");
  EXPECT_EQ(e.grade, Grade::kD);
  EXPECT_EQ(e.score, 59);
  ASSERT_EQ(e.listings.size(), 1u);
  EXPECT_EQ(e.listings[0].status, "active");
  EXPECT_EQ(e.listings[0].listed_on, "2026-11-21");
  EXPECT_EQ(e.listings[0].lapses_on, "2031-11-20");
  auto list = Book().BlackList();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].merchant, "acme");
  EXPECT_EQ(list[0].since, "2026-11-21");
}

TEST_F(BlackListTest, RepairApprovedOnlyAfterOneYear) {
  Receipt request = Request();
  SetDate("2027-11-20");  // 364 days on the list
  auto early = Submit(RecordKind::kCreditEvent, Decision("repair_approved", request), samr_);
  ExpectReject(early, RejectCode::kConflict, "body.request");
  EXPECT_NE(early.error().message.find("from 2027-11-21"), std::string::npos) << early.error().message;
  EXPECT_EQ(Eval("acme", Tick()).list, "black");
  SetDate("2027-11-21");  // one year
  Receipt approval = Accept(RecordKind::kCreditEvent, Decision("repair_approved", request), samr_);
  auto e = Eval("acme");
  EXPECT_EQ(e.list, "");
  ASSERT_EQ(e.listings.size(), 1u);
  EXPECT_EQ(e.listings[0].status, "repaired");
  EXPECT_EQ(e.listings[0].repaired_by, Hex(approval));
  EXPECT_EQ(e.listings[0].repaired_on, "2027-11-21");
  EXPECT_FALSE(Find(e, Hex(listing_), "black_list")->counted);
  EXPECT_TRUE(Book().BlackList().empty());
  // The listing is repaired: no further request or approval for it.
  ExpectReject(Submit(RecordKind::kCreditEvent, Decision("repair_approved", request), samr_),
               RejectCode::kConflict, "body.listing");
}

TEST_F(BlackListTest, RepairRefusedKeepsTheListingAndDecidesTheRequest) {
  Receipt request = Request();
  SetDate("2028-01-01");
  Accept(RecordKind::kCreditEvent, Decision("repair_refused", request), samr_);
  EXPECT_EQ(Eval("acme").list, "black");
  ExpectReject(Submit(RecordKind::kCreditEvent, Decision("repair_approved", request), samr_),
               RejectCode::kConflict, "body.request");
  Receipt again = Request();
  Accept(RecordKind::kCreditEvent, Decision("repair_approved", again), samr_);
  EXPECT_EQ(Eval("acme").list, "");
}

TEST_F(BlackListTest, StricterPolicyDelaysTheRepairsEffect) {
  Json policy = DefaultPolicyJson();
  policy["black_list"]["min_repair_days"] = 500;
  Accept(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", policy}}, samr_);
  Receipt request = Request();
  SetDate("2027-11-21");
  Accept(RecordKind::kCreditEvent, Decision("repair_approved", request), samr_);
  auto e = Eval("acme");
  EXPECT_EQ(e.list, "black");  // 365 days: the rules allow it, the policy wants 500
  EXPECT_EQ(e.listings[0].status, "active");
}

TEST_F(BlackListTest, ListingLapsesWithItsRetention) {
  SetDate("2031-11-19");
  EXPECT_EQ(Eval("acme", Tick()).list, "black");
  SetDate("2031-11-21");
  auto e = Eval("acme", Tick());
  EXPECT_EQ(e.list, "");
  EXPECT_EQ(e.listings[0].status, "lapsed");
}

TEST_F(BlackListTest, AssociationPropagatesAndEndsWithTheListing) {
  // Sister shares acme's legal representative; sub is controlled by acme;
  // peer shares sub's controlling party; other is unrelated.
  Merchant("sister");
  Merchant("sub", {{"controlling_party", "acme"}});
  Merchant("other");
  // acme itself was registered without a legal representative: register a
  // second pair that shares one.
  Merchant("rep-a", {{"legal_representative", "lr-7f3a"}});
  Merchant("rep-b", {{"legal_representative", "lr-7f3a"}});
  Event("rep-a", "black_list", "2026-11-20");
  for (const char* affected : {"sub", "rep-b"}) {
    auto e = Eval(affected);
    SCOPED_TRACE(affected);
    EXPECT_EQ(Dim(e, Dimension::kAssociatedRelationships), 50);
    ASSERT_EQ(e.associated.size(), 1u);
    EXPECT_EQ(e.list, "");
  }
  EXPECT_EQ(Eval("sub").associated[0], "acme");
  EXPECT_EQ(Eval("rep-b").associated[0], "rep-a");
  EXPECT_TRUE(Eval("other").associated.empty());
  EXPECT_TRUE(Eval("sister").associated.empty());

  // Acme's listing is repaired: sub is no longer affected.
  Receipt request = Request();
  SetDate("2027-11-21");
  Accept(RecordKind::kCreditEvent, Decision("repair_approved", request), samr_);
  auto sub = Eval("sub");
  EXPECT_TRUE(sub.associated.empty());
  EXPECT_EQ(Dim(sub, Dimension::kAssociatedRelationships), 100);
  EXPECT_EQ(Eval("rep-b").associated.size(), 1u);
  // rep-a's listing lapses: rep-b is no longer affected.
  SetDate("2031-11-20");
  EXPECT_TRUE(Eval("rep-b", Tick()).associated.empty());
}

TEST_F(BlackListTest, AuditReverifiesRepairsAndComplaintsWithTheirFacts) {
  // A complaint decided on the ledger carries only the complaint's hash:
  // erasing the complainant's contact (off the ledger) leaves nothing here
  // to change, and the complaint still counts.
  Receipt complaint =
      Event("acme", "complaint_upheld", "2026-11-20",
            {{"reference", "c0ffee00c0ffee00c0ffee00c0ffee00"}, {"complaint_sha256", std::string(64, '7')}});
  Receipt request = Request();
  Accept(RecordKind::kCreditEvent, Decision("repair_refused", request), samr_);
  SetDate("2027-12-01");
  Receipt again = Request();
  Accept(RecordKind::kCreditEvent, Decision("repair_approved", again), samr_);
  AuditReport report = Audit(ledger_->store());
  EXPECT_TRUE(report.ok) << report.reason;
  EXPECT_GT(report.facts, 0u);
  auto e = Eval("acme");
  EXPECT_TRUE(Find(e, Hex(complaint), "complaint_upheld")->counted);
  EXPECT_EQ(e.list, "");
}

// ---- Determinism and history --------------------------------------------

class CreditDeterminismTest : public CreditFixture {};

TEST_F(CreditDeterminismTest, PolicyChangeAppliesFromItsHeightOnly) {
  Merchant("acme");
  Receipt penalty = Event("acme", "penalty", "2026-11-20");
  Json policy = DefaultPolicyJson();
  policy["effects"]["penalty_major"]["points"] = -60;
  Receipt published = Accept(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", policy}}, samr_);
  auto before = Eval("acme", published.height - 1);
  auto after = Eval("acme", published.height);
  EXPECT_EQ(before.policy_version, 0);
  EXPECT_EQ(Find(before, Hex(penalty), "penalty_major")->points, -30);
  EXPECT_EQ(after.policy_version, 1);
  EXPECT_EQ(Find(after, Hex(penalty), "penalty_major")->points, -60);
  auto history = Book().History("acme");
  ASSERT_GE(history.size(), 3u);
  EXPECT_EQ(history.front().policy_version, 0);
  EXPECT_EQ(history.back().policy_version, 1);
  EXPECT_EQ(history.back().height, published.height);
}

TEST_F(CreditDeterminismTest, IncrementalAndFromScratchAgreeAtEveryHeight) {
  Actor acme = Merchant("acme", {{"legal_representative", "lr-1"}});
  Actor beta = Merchant("beta", {{"legal_representative", "lr-1"}, {"licence_expiry", "2027-06-30"}});
  Merchant("gamma", {{"controlling_party", "acme"}});
  std::vector<std::string> merchants = {"acme", "beta", "gamma", "samr"};
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme);
  (void)Book();  // the incremental book follows block by block from here
  for (int round = 0; round < 6; ++round) {
    AdvanceDays(97);
    Event("beta", round % 2 == 0 ? "reward" : "complaint_upheld", Today());
    (void)Book();
    Accept(RecordKind::kShipment, ShipmentBody("SH-" + std::to_string(round), kGtinA, "L1"), acme);
    Accept(RecordKind::kCustomsDecision,
           {{"shipment", "SH-" + std::to_string(round)}, {"decision", round == 3 ? "held" : "released"}},
           customs_);
    (void)Book();
    if (round == 2) {
      Json policy = DefaultPolicyJson();
      policy["effects"]["complaint_upheld"]["points"] = -15;
      Accept(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", policy}}, samr_);
    }
    if (round == 3) Event("acme", "black_list", Today());
  }
  (void)Book();
  CreditBook scratch;
  ASSERT_TRUE(scratch.CatchUp(*ledger_).ok());
  // A third book fed through AddBlock with every record (not just the kinds
  // the evaluation reads), read through the verified read path.
  CreditBook fed;
  const uint64_t tip = ledger_->tip()->height;
  for (uint64_t h = 0; h <= tip; ++h) {
    auto block = ledger_->GetBlock(h);
    ASSERT_TRUE(block.ok() && block->has_value());
    std::vector<Record> records;
    for (uint64_t i = (*block)->header.first_index(); i < (*block)->header.tree_size; ++i) {
      records.push_back((*ledger_->GetByIndex(i))->record);
    }
    fed.AddBlock(h, static_cast<int64_t>((*block)->header.timestamp_ms), (*block)->header.first_index(),
                 records);
  }
  ASSERT_EQ(scratch.next_height(), tip + 1);
  ASSERT_EQ(fed.next_height(), tip + 1);
  int rated = 0;
  for (uint64_t h = 0; h <= tip; ++h) {
    for (const auto& m : merchants) {
      auto a = book_.Evaluate(m, h);
      auto b = scratch.Evaluate(m, h);
      auto c = fed.Evaluate(m, h);
      ASSERT_EQ(a.has_value(), b.has_value()) << m << " at " << h;
      ASSERT_EQ(a.has_value(), c.has_value()) << m << " at " << h;
      if (!a) continue;
      ++rated;
      EXPECT_EQ(*a, *b) << m << " at " << h;
      EXPECT_EQ(*a, *c) << m << " at " << h;
      EXPECT_EQ(EvaluationToJson(*a).dump(), EvaluationToJson(*c).dump());
    }
  }
  EXPECT_GT(rated, 50);
  EXPECT_FALSE(book_.Evaluate("samr").has_value());  // not a merchant: not rated
  for (const auto& m : merchants) {
    EXPECT_EQ(book_.History(m), scratch.History(m)) << m;
    EXPECT_EQ(book_.History(m), fed.History(m)) << m;
  }
  EXPECT_EQ(book_.BlackList(), fed.BlackList());
  ASSERT_EQ(book_.BlackList().size(), 1u);
  // History shows the listing and the later policy.
  auto gamma = book_.History("gamma");
  bool affected = false;
  for (const auto& entry : gamma) affected = affected || entry.score < gamma.front().score;
  EXPECT_TRUE(affected);
}

// The primary's committed blocks, served in-process to a follower.
class StoreSource : public BlockSource {
 public:
  explicit StoreSource(const Ledger& primary) : primary_(primary) {}
  std::string Name() const override { return "in-process primary"; }
  Result<std::optional<std::string>, SourceError> TipBlock() override {
    auto tip = primary_.tip();
    if (!tip) return std::optional<std::string>();
    auto block = primary_.store().GetBlock(tip->height);
    if (!block.ok() || !block->has_value()) return SourceError{"tip block unreadable"};
    return std::optional<std::string>((*block)->Serialize());
  }
  Result<BlockRange, SourceError> Blocks(uint64_t from, uint32_t max_blocks) override {
    auto range = ReadBlockRange(primary_.store(), from, max_blocks);
    if (!range.ok()) return SourceError{range.error().message};
    return *range;
  }

 private:
  const Ledger& primary_;
};

TEST_F(CreditDeterminismTest, ReplayedIntoAFreshStoreGivesTheSameGradesAndExplanations) {
  Actor acme = Merchant("acme", {{"legal_representative", "lr-9"}});
  Merchant("beta", {{"legal_representative", "lr-9"}});
  Accept(RecordKind::kProduct, ProductBody(kGtinA), acme);
  Accept(RecordKind::kLot, LotBody(kGtinA, "L1"), acme);
  Accept(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), acme);
  Accept(RecordKind::kCustomsDecision, {{"shipment", "SH-1"}, {"decision", "held"}}, customs_);
  Receipt listing = Event("acme", "black_list", "2026-11-20");
  AdvanceDays(400);
  Receipt request = Accept(RecordKind::kCreditEvent,
                           {{"merchant", "acme"},
                            {"event", "repair_request"},
                            {"reason", "fixed"},
                            {"act_end_date", Today()},
                            {"listing", Hex(listing)}},
                           acme);
  Json policy = DefaultPolicyJson();
  policy["effects"]["customs_held"]["points"] = -20;
  Accept(RecordKind::kCreditPolicy, {{"version", 1}, {"policy", policy}}, samr_);
  Accept(RecordKind::kCreditEvent,
         {{"merchant", "acme"},
          {"event", "repair_approved"},
          {"reason", "ok"},
          {"act_end_date", Today()},
          {"listing", Hex(listing)},
          {"request", Hex(request)}},
         samr_);
  Event("beta", "reward", Today());

  // A verifying replica stores the primary's blocks in a fresh store.
  ::traceledger::testing::TempDir dir;
  auto mirror = Ledger::OpenMirror(LedgerOptions{.path = dir.Sub("mirror"), .in_memory = true});
  ASSERT_TRUE(mirror.ok()) << mirror.error().message;
  StoreSource source(*ledger_);
  Follower follower(**mirror, source, FollowerOptions{.data_dir = dir.path()});
  for (int i = 0; i < 10; ++i) {
    if ((*mirror)->tip() && (*mirror)->tip()->height == ledger_->tip()->height) break;
    (void)follower.SyncOnce();
  }
  ASSERT_TRUE((*mirror)->tip().has_value());
  ASSERT_EQ((*mirror)->tip()->height, ledger_->tip()->height);

  CreditBook replayed;
  ASSERT_TRUE(replayed.CatchUp(**mirror).ok());
  const uint64_t tip = ledger_->tip()->height;
  int compared = 0;
  for (uint64_t h = 0; h <= tip; ++h) {
    for (const char* m : {"acme", "beta"}) {
      auto a = Book().Evaluate(m, h);
      auto b = replayed.Evaluate(m, h);
      ASSERT_EQ(a.has_value(), b.has_value()) << m << " at " << h;
      if (!a) continue;
      EXPECT_EQ(EvaluationToJson(*a).dump(), EvaluationToJson(*b).dump()) << m << " at " << h;
      ++compared;
    }
  }
  EXPECT_GT(compared, 10);
  EXPECT_EQ(Book().History("acme"), replayed.History("acme"));
  EXPECT_EQ(Book().History("beta"), replayed.History("beta"));
  // The replay covers the interesting states: listed, then repaired.
  auto h = replayed.History("acme");
  bool black = false;
  for (const auto& e : h) black = black || e.list == "black";
  EXPECT_TRUE(black);
  EXPECT_EQ(h.back().list, "");
}

TEST_F(CreditDeterminismTest, HistoryShowsTimeDrivenChanges) {
  Merchant("acme");
  Event("acme", "penalty", "2026-11-20", {{"severity", "minor"}});
  SetDate("2032-06-01");
  Tick();
  auto history = Book().History("acme");
  // Registered (83), the penalty (80; the recent-adverse cap changes no
  // grade here), and the end of its retention (83 again), dated by the first
  // block on or after 2031-11-20.
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].score, 83);
  EXPECT_EQ(history[1].score, 80);
  EXPECT_EQ(history[1].grade, Grade::kB);
  EXPECT_EQ(history[2].score, 83);
  EXPECT_EQ(history[2].date, "2032-06-01");
}

}  // namespace
}  // namespace traceledger::ledger
