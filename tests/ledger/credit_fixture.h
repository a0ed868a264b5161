// Test fixture for merchant credit: a ledger with a regulator, an
// inspector, customs and merchants, a clock the tests move by days, and a
// CreditBook that follows the ledger.
#ifndef TRACELEDGER_TESTS_LEDGER_CREDIT_FIXTURE_H_
#define TRACELEDGER_TESTS_LEDGER_CREDIT_FIXTURE_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/credit.h"
#include "ledger/credit_policy.h"
#include "ledger/schema.h"
#include "tests/ledger/fixture.h"

namespace traceledger::ledger::testing {

class CreditFixture : public LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    samr_ = Register("samr", {"regulator"});
    sgs_ = Register("sgs", {"inspector"});
    customs_ = Register("customs", {"customs"});
  }

  static constexpr int64_t kDayMs = 86'400'000;

  // Moves the clock to `date` (YYYY-MM-DD, 12:00 UTC).
  void SetDate(const std::string& date) { now_ms_ = *ParseDate(date) * kDayMs + kDayMs / 2; }
  void AdvanceDays(int64_t days) { now_ms_ += days * kDayMs; }
  std::string Today() const { return FormatDate(now_ms_ / kDayMs); }

  // A merchant with a licence (valid until 2040) unless `extra` says otherwise.
  Actor Merchant(const std::string& party, Json extra = Json::object()) {
    Json body = {{"licence_sha256", std::string(64, 'a')}, {"licence_expiry", "2040-12-31"}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    return Register(party, {"merchant"}, body);
  }

  Receipt Accept(RecordKind kind, const Json& body, const Actor& author) {
    auto r = Submit(kind, body, author);
    EXPECT_TRUE(r.ok()) << KindName(kind) << " by " << author.party << ": " << r.error().ToString();
    return r.ok() ? *r : Receipt{};
  }

  // A credit event by the regulator.
  Receipt Event(const std::string& merchant, const std::string& event, const std::string& act_end_date,
                Json extra = Json::object()) {
    Json body = {
        {"merchant", merchant}, {"event", event}, {"reason", "test"}, {"act_end_date", act_end_date}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    return Accept(RecordKind::kCreditEvent, body, samr_);
  }

  // Seals a block at the current clock (a throwaway party registration).
  uint64_t Tick() {
    Actor a = Register("tick-" + std::to_string(++ticks_), {"logistics"});
    (void)a;
    return ledger_->tip()->height;
  }

  // The book caught up with the ledger.
  CreditBook& Book() {
    auto r = book_.CatchUp(*ledger_);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return book_;
  }

  CreditEvaluation Eval(const std::string& merchant, std::optional<uint64_t> height = std::nullopt) {
    auto e = Book().Evaluate(merchant, height);
    EXPECT_TRUE(e.has_value()) << merchant << " is not rated";
    return e.value_or(CreditEvaluation{});
  }

  // The contribution of record `id` (hex) with fact `fact`; fails if absent.
  static const CreditContribution* Find(const CreditEvaluation& e, const std::string& id,
                                        const std::string& fact) {
    for (const auto& c : e.contributions) {
      if (c.record == id && c.fact == fact) return &c;
    }
    ADD_FAILURE() << "no contribution " << fact << " of " << id;
    return nullptr;
  }

  static std::string Hex(const Receipt& r) { return chain::HashHex(r.id); }

  static Json DefaultPolicyJson() { return *ParseStrictJson(DefaultCreditPolicyJson()); }

  Actor samr_{"", wallet::SecretKey::Generate()};
  Actor sgs_{"", wallet::SecretKey::Generate()};
  Actor customs_{"", wallet::SecretKey::Generate()};
  CreditBook book_;
  int ticks_ = 0;
};

}  // namespace traceledger::ledger::testing

#endif  // TRACELEDGER_TESTS_LEDGER_CREDIT_FIXTURE_H_
