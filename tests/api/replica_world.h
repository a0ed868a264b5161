// Replication test support: primaries built fast, served over real HTTP on
// a free loopback port, and whole-store comparisons.
//
// A primary holds genesis, a merchant with a product, a lot and a shipment,
// and two carriers (5 setup records), then custody records handing the
// shipment between the carriers. Records are signed in parallel; the
// ledger runs with sync = false and a fixed clock, and seals at most
// `max_block_records` records per block (1 gives one block per record).
#ifndef TRACELEDGER_TESTS_API_REPLICA_WORLD_H_
#define TRACELEDGER_TESTS_API_REPLICA_WORLD_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/node_service.h"
#include "chain/hash.h"
#include "chain/store.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "tests/ledger/replica_support.h"
#include "util/thread_pool.h"
#include "wallet/key.h"

namespace traceledger::testing {

using ledger::Json;

// 2026-11-21T00:00:00Z: the primaries' fixed clock.
inline constexpr int64_t kWorldEpochMs = 1'795'219'200'000;

class ReplicaWorld {
 public:
  static constexpr const char* kGtin = "09501101530003";
  static constexpr const char* kShipment = "SHP-1";

  ReplicaWorld() = default;
  ReplicaWorld(const ReplicaWorld&) = delete;
  ReplicaWorld& operator=(const ReplicaWorld&) = delete;

  const wallet::SecretKey& operator_key() const { return operator_; }

  ledger::LedgerOptions Options(const std::string& path, size_t max_block_records = 1) const {
    return ledger::LedgerOptions{.path = path,
                                 .max_block_records = max_block_records,
                                 .clock_ms = [] { return kWorldEpochMs; },
                                 .sync = false};
  }

  // A new primary at `path` with the setup records (one block each).
  std::unique_ptr<ledger::Ledger> Create(const std::string& path, size_t max_block_records = 1) const {
    auto created = ledger::Ledger::Create(Options(path, max_block_records), operator_,
                                          ledger::OperatorIdentity{.party = "operator", .name = "Operator"});
    EXPECT_TRUE(created.ok()) << created.error().message;
    if (!created.ok()) return nullptr;
    std::unique_ptr<ledger::Ledger> ledger = std::move(created).value();
    auto party = [&](const std::string& id, const char* role, const wallet::SecretKey& key) {
      return Sign(
          ledger::RecordKind::kParty,
          {{"party", id}, {"name", id + " Ltd"}, {"roles", {role}}, {"public_key", key.Public().Hex()}},
          operator_, "setup-" + id);
    };
    std::vector<std::string> setup = {
        party("acme", "merchant", merchant_),
        party("carrier-a", "logistics", carriers_[0]),
        party("carrier-b", "logistics", carriers_[1]),
        Sign(ledger::RecordKind::kProduct,
             {{"gtin", kGtin},
              {"name", "Jasmine tea"},
              {"brand", "Acme"},
              {"origin_country", "CN"},
              {"production_site", "Fuzhou plant 2"},
              {"manufacturer", "Acme Tea Co."}},
             merchant_, "setup-product"),
        Sign(ledger::RecordKind::kLot,
             {{"gtin", kGtin}, {"lot", "LOT-1"}, {"production_date", "2026-11-01"}, {"quantity", 1000}},
             merchant_, "setup-lot"),
        Sign(ledger::RecordKind::kShipment,
             {{"shipment", kShipment},
              {"lots", Json::array({{{"gtin", kGtin}, {"lot", "LOT-1"}, {"quantity", 100}}})},
              {"origin_country", "CN"},
              {"destination", "Qianhai bonded zone"}},
             merchant_, "setup-shipment"),
    };
    for (const std::string& r : setup) {
      auto result = ledger->Submit(r);
      EXPECT_TRUE(result.ok()) << result.error().ToString();
    }
    return ledger;
  }

  // Opens an existing primary with the operator key.
  std::unique_ptr<ledger::Ledger> Open(const std::string& path, size_t max_block_records = 1) const {
    auto opened = ledger::Ledger::Open(Options(path, max_block_records), operator_);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  // Custody records number first … first+n−1, signed in parallel; `tag`
  // goes into every note, so two histories built with different tags
  // differ from their first record on.
  std::vector<std::string> Custody(uint64_t first, uint64_t n, const std::string& tag) const {
    std::vector<std::string> out(n);
    ThreadPool pool;
    pool.ParallelFor(n, [&](size_t k) {
      const uint64_t i = first + k;
      const int c = static_cast<int>(i % 2);
      char nonce[17];
      std::snprintf(nonce, sizeof nonce, "%016" PRIx64, i);
      out[k] = ledger::SignRecord(ledger::RecordKind::kCustody,
                                  {{"shipment", kShipment},
                                   {"from", c == 0 ? "carrier-a" : "carrier-b"},
                                   {"to", c == 0 ? "carrier-b" : "carrier-a"},
                                   {"location", "Yard 7, Qianhai"},
                                   {"biz_step", "transporting"},
                                   {"note", tag + " #" + std::to_string(i)}},
                                  carriers_[c], kWorldEpochMs / 1000, nonce)
                   .entry;
    });
    return out;
  }

  // Submits `records` from two threads (so pre-verification overlaps
  // committing) and expects every one accepted.
  static void SubmitAll(ledger::Ledger& ledger, const std::vector<std::string>& records) {
    constexpr size_t kChunk = 4096;
    std::atomic<size_t> next{0};
    std::atomic<size_t> rejected{0};
    std::string first_reject;
    std::mutex mu;
    auto worker = [&] {
      for (;;) {
        size_t start = next.fetch_add(kChunk);
        if (start >= records.size()) return;
        size_t n = std::min(kChunk, records.size() - start);
        auto results = ledger.SubmitBatch(std::span<const std::string>(records.data() + start, n));
        for (const auto& r : results) {
          if (r.ok()) continue;
          if (rejected.fetch_add(1) == 0) {
            std::lock_guard<std::mutex> lock(mu);
            first_reject = r.error().ToString();
          }
        }
      }
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    EXPECT_EQ(rejected.load(), 0u) << "first reject: " << first_reject;
  }

 private:
  std::string Sign(ledger::RecordKind kind, const Json& body, const wallet::SecretKey& key,
                   const std::string& nonce_text) const {
    // Nonces are hex: hash the label.
    std::string nonce = chain::HashHex(chain::Sha256(nonce_text)).substr(0, 32);
    return ledger::SignRecord(kind, body, key, kWorldEpochMs / 1000, nonce).entry;
  }

  wallet::SecretKey operator_ = wallet::SecretKey::Generate();
  wallet::SecretKey merchant_ = wallet::SecretKey::Generate();
  wallet::SecretKey carriers_[2] = {wallet::SecretKey::Generate(), wallet::SecretKey::Generate()};
};

// A ledger served by the node routes on a free loopback port.
class ServedLedger {
 public:
  explicit ServedLedger(ledger::Ledger& ledger, api::NodeOptions options = {})
      : service_(ledger, std::move(options)),
        server_(api::ServerOptions{.max_body_bytes = size_t{16} << 20}) {
    service_.Register(server_);
    auto port = server_.Start();
    EXPECT_TRUE(port.ok()) << (port.ok() ? "" : port.error());
    url_ = "http://127.0.0.1:" + std::to_string(port.ok() ? *port : 0);
  }
  ~ServedLedger() { server_.Stop(); }

  const std::string& url() const { return url_; }

 private:
  api::NodeService service_;
  api::HttpServer server_;
  std::string url_;
};

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_API_REPLICA_WORLD_H_
