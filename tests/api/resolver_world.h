// A resolver on a real server on a free loopback port, over a real
// in-memory ledger with everything the consumer page shows: a merchant's
// product, lots (good, recalled, failed inspection), an inspection, a
// shipment with custody handovers and a customs release, codes issued
// through qrcode::IssueCodes (with PINs), a revoked code, and a scan store.
// Shared by the resolver tests and the real-browser test.
#ifndef TRACELEDGER_TESTS_API_RESOLVER_WORLD_H_
#define TRACELEDGER_TESTS_API_RESOLVER_WORLD_H_

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/resolver_service.h"
#include "qrcode/code.h"
#include "qrcode/issuance.h"
#include "qrcode/scan_store.h"
#include "tests/ledger/fixture.h"
#include "tests/util/temp_files.h"

namespace traceledger::api::testing {

using ledger::Json;
using ledger::RecordKind;
using ledger::testing::Actor;

class ResolverWorld : public ledger::testing::LedgerFixture {
 protected:
  struct Issued {
    std::string uri;
    std::string pin;  // "" when issued without
  };

  void SetUp() override {
    LedgerFixture::SetUp();
    acme_ = Register("acme", {"merchant"});
    lab_ = Register("lab", {"inspector"});
    carrier_ = Register("carrier", {"logistics"});
    customs_ = Register("customs", {"customs"});
    samr_ = Register("samr", {"regulator"});
    Json product = ProductBody(kGtinA);
    product["origin_region"] = "Fujian";
    ASSERT_TRUE(Submit(RecordKind::kProduct, product, acme_).ok());
    Json hostile = ProductBody(kGtinB);
    hostile["name"] = "<script>alert(1)</script> & \"tea\"";
    ASSERT_TRUE(Submit(RecordKind::kProduct, hostile, acme_).ok());
    for (const char* lot : {"L1", "L2", "L3"}) {
      Json body = LotBody(kGtinA, lot);
      body["expiry_date"] = "2028-11-01";
      ASSERT_TRUE(Submit(RecordKind::kLot, body, acme_).ok());
    }
    ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinB, "X1"), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L2026/11A"), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kInspection, Inspection("L1", "conformant"), lab_).ok());
    ASSERT_TRUE(Submit(RecordKind::kInspection, Inspection("L3", "non_conformant"), lab_).ok());
    ASSERT_TRUE(Submit(RecordKind::kShipment, ShipmentBody("S1", kGtinA, "L1"), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kCustody,
                       {{"shipment", "S1"}, {"from", "acme"}, {"to", "carrier"}, {"location", "Fuzhou port"},
                        {"biz_step", "shipping"}},
                       acme_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kCustomsDecision, {{"shipment", "S1"}, {"decision", "released"}}, customs_).ok());

    good_ = Issue(kGtinA, "L1", "B1", 4, /*pins=*/true);
    recalled_ = Issue(kGtinA, "L2", "B2", 1, false);
    failed_ = Issue(kGtinA, "L3", "B3", 1, false);
    hostile_ = Issue(kGtinB, "X1", "B4", 1, false);
    slash_ = Issue(kGtinA, "L2026/11A", "B5", 1, false);
    ASSERT_EQ(good_.size(), 4u);
    ASSERT_TRUE(Submit(RecordKind::kLotRecall, {{"gtin", kGtinA}, {"lot", "L2"}, {"reason", "mislabelled allergens"}},
                       acme_)
                    .ok());
    // good_[3] is revoked.
    const std::string revoked_serial = Serial(good_[3].uri);
    ASSERT_TRUE(Submit(RecordKind::kCodeRevocation,
                       {{"gtin", kGtinA}, {"lot", "L1"}, {"serials", {revoked_serial}}, {"reason", "labels stolen"}},
                       acme_)
                    .ok());
    StartServer();
  }

  void TearDown() override {
    StopServer();
    LedgerFixture::TearDown();
  }

  virtual ResolverOptions Options() {
    return ResolverOptions{.region_header = "X-Region",
                           .scan_limit = {.rate_per_s = 0},
                           .pin_limit = {.rate_per_s = 0},
                           .credit = [this](std::string_view merchant) -> std::optional<CreditSummary> {
                             auto it = credit_.find(std::string(merchant));
                             if (it == credit_.end()) return std::nullopt;
                             return it->second;
                           },
                           .clock_s = [this] { return now_ms_.load() / 1000; },
                           .monotonic_s = [this] { return mono_s_.load(); }};
  }
  virtual qrcode::ClonePolicy Policy() { return {}; }

  void StartServer() {
    auto store = qrcode::ScanStore::Open(
        qrcode::ScanStoreOptions{.path = "scans-" + std::to_string(counter_++), .in_memory = true, .policy = Policy()});
    ASSERT_TRUE(store.ok()) << store.error().message;
    scans_ = std::move(store).value();
    service_ = std::make_unique<ResolverService>(*ledger_, *scans_, Options());
    server_ = std::make_unique<HttpServer>(ServerOptions{});
    service_->Register(*server_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error();
    url_ = "http://127.0.0.1:" + std::to_string(*port);
    client_ = std::make_unique<HttpClient>(url_);
  }
  void StopServer() {
    if (server_) server_->Stop();
    server_.reset();
    service_.reset();
    scans_.reset();
  }

  std::vector<Issued> Issue(const std::string& gtin, const std::string& lot, const std::string& batch, uint64_t count,
                            bool pins) {
    qrcode::IssueRequest request{.gtin = gtin,
                                 .lot = lot,
                                 .batch = batch,
                                 .count = count,
                                 .pins = pins,
                                 .out_dir = dir_.path(),
                                 .time_s = now_ms_ / 1000};
    auto summary = qrcode::IssueCodes(*ledger_, acme_.key, request);
    EXPECT_TRUE(summary.ok()) << summary.error().message;
    std::vector<Issued> out;
    if (!summary.ok()) return out;
    for (const auto& line : traceledger::testing::ReadLines(summary->jsonl_path)) {
      Json j = Json::parse(line);
      out.push_back({j.at("uri").get<std::string>(), j.value("pin", "")});
    }
    return out;
  }

  static Json Inspection(const std::string& lot, const std::string& result) {
    return {{"gtin", kGtinA},
            {"lot", lot},
            {"standard", "GB 2763-2021"},
            {"sample_size", 20},
            {"result", result},
            {"report_sha256", std::string(64, 'a')},
            {"inspected_on", "2026-11-10"}};
  }

  // The path and query of a code URI: what a phone requests.
  static std::string Path(const std::string& uri) { return uri.substr(uri.find("/01/")); }
  static std::string Serial(const std::string& uri) {
    auto code = qrcode::ParseCode(uri);
    return code.ok() ? code->serial : "";
  }
  // A code acme signs for a serial it never issued.
  std::string NeverIssued() const {
    qrcode::Code code;
    code.resolver = "id.traceledger.example";
    code.gtin = kGtinA;
    code.lot = "L1";
    code.serial = "NEVER1SSUED";
    qrcode::SignCode(code, acme_.key);
    return qrcode::FormatCode(code);
  }
  // A code signed by a key nobody registered.
  static std::string UnknownKey() {
    qrcode::Code code;
    code.resolver = "id.traceledger.example";
    code.gtin = kGtinA;
    code.lot = "L1";
    code.serial = "FORGED1";
    qrcode::SignCode(code, wallet::SecretKey::Generate());
    return qrcode::FormatCode(code);
  }
  // A genuine code with one signature character changed.
  static std::string Tampered(std::string uri) {
    char& c = uri[uri.size() - 10];
    c = c == 'A' ? 'B' : 'A';
    return uri;
  }

  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor lab_ = acme_, carrier_ = acme_, customs_ = acme_, samr_ = acme_;
  std::vector<Issued> good_, recalled_, failed_, hostile_, slash_;
  std::map<std::string, CreditSummary> credit_;
  std::atomic<double> mono_s_{1000.0};
  traceledger::testing::TempDir dir_{"tl-resolver-test"};
  std::unique_ptr<qrcode::ScanStore> scans_;
  std::unique_ptr<ResolverService> service_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::string url_;
};

}  // namespace traceledger::api::testing

#endif  // TRACELEDGER_TESTS_API_RESOLVER_WORLD_H_
