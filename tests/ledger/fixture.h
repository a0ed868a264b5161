// Test fixture: an in-memory (or on-disk) ledger with an operator, and
// helpers to register parties and build signed records of every kind.
#ifndef TRACELEDGER_TESTS_LEDGER_FIXTURE_H_
#define TRACELEDGER_TESTS_LEDGER_FIXTURE_H_

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/record.h"
#include "wallet/key.h"

namespace traceledger::ledger::testing {

// A fixed clock: 2026-11-21T00:00:00Z, advanced by tests as they like.
inline constexpr int64_t kTestEpochMs = 1'795'219'200'000;

// A party with its key.
struct Actor {
  std::string party;
  wallet::SecretKey key;
};

class LedgerFixture : public ::testing::Test {
 protected:
  void SetUp() override { OpenFresh(); }

  // Creates a new in-memory ledger with party "operator".
  void OpenFresh(LedgerOptions options = {}) {
    ledger_.reset();
    if (options.path.empty()) {
      options.path = "mem-" + std::to_string(counter_++);
      options.in_memory = true;
    }
    options.clock_ms = [this] { return now_ms_.load(); };
    options_ = options;
    auto created = Ledger::Create(options, op_.key, OperatorIdentity{.party = op_.party, .name = "Operator"});
    ASSERT_TRUE(created.ok()) << created.error().message;
    ledger_ = std::move(created).value();
  }

  // Signs `body` as `author` (time = the fixture clock, fresh nonce).
  std::string Make(RecordKind kind, const Json& body, const Actor& author) {
    return SignRecord(kind, body, author.key, now_ms_ / 1000, NextNonce()).entry;
  }

  SubmitResult Submit(RecordKind kind, const Json& body, const Actor& author) {
    return ledger_->Submit(Make(kind, body, author));
  }

  // Registers a new party with the roles; fails the test if rejected.
  Actor Register(const std::string& party, std::vector<std::string> roles, Json extra = Json::object()) {
    Actor a{party, wallet::SecretKey::Generate()};
    Json body = {
        {"party", party}, {"name", party + " Ltd"}, {"roles", roles}, {"public_key", a.key.Public().Hex()}};
    for (auto& [k, v] : extra.items()) body[k] = v;
    auto r = Submit(RecordKind::kParty, body, op_);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return a;
  }

 public:
  static Json ProductBody(const std::string& gtin) {
    return {{"gtin", gtin},
            {"name", "Jasmine tea"},
            {"brand", "Acme"},
            {"origin_country", "CN"},
            {"production_site", "Fuzhou plant 2"},
            {"manufacturer", "Acme Tea Co."}};
  }
  static Json LotBody(const std::string& gtin, const std::string& lot) {
    return {{"gtin", gtin}, {"lot", lot}, {"production_date", "2026-11-01"}, {"quantity", 1000}};
  }
  static Json ShipmentBody(const std::string& id, const std::string& gtin, const std::string& lot) {
    return {{"shipment", id},
            {"lots", Json::array({{{"gtin", gtin}, {"lot", lot}, {"quantity", 100}}})},
            {"origin_country", "CN"},
            {"destination", "Qianhai bonded zone"}};
  }

 protected:
  // Expects a rejection with `code` (and field, when given).
  static void ExpectReject(const SubmitResult& r, RejectCode code, const std::string& field = "") {
    ASSERT_FALSE(r.ok()) << "expected " << RejectCodeName(code) << ", got accepted";
    EXPECT_EQ(RejectCodeName(r.error().code), RejectCodeName(code)) << r.error().ToString();
    if (!field.empty()) {
      EXPECT_EQ(r.error().field, field) << r.error().ToString();
    }
  }

  // The record with one hex digit of its signature changed to another hex
  // digit: still well-formed, no longer a valid signature.
  static std::string WithBadSignature(std::string entry) {
    size_t at = entry.find("\"sig\":\"") + 7;
    entry[at] = entry[at] == '0' ? '1' : '0';
    return entry;
  }

  std::string NextNonce() {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(++nonce_));
    return buf;
  }

  // Valid GTIN-14s for tests (check digit computed).
  static constexpr const char* kGtinA = "09501101530003";
  static constexpr const char* kGtinB = "09501101530010";

  inline static std::atomic<int> counter_{0};
  std::atomic<int64_t> now_ms_{kTestEpochMs};
  std::atomic<uint64_t> nonce_{0};
  Actor op_{"operator", wallet::SecretKey::Generate()};
  LedgerOptions options_;
  std::unique_ptr<Ledger> ledger_;
};

}  // namespace traceledger::ledger::testing

#endif  // TRACELEDGER_TESTS_LEDGER_FIXTURE_H_
