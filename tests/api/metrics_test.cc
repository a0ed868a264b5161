// The Prometheus registry (api/metrics.h): exposition text, escaping,
// histogram buckets; and the node's metrics over a real server on
// loopback, with the exposition text parsed and values asserted to move.
#include "api/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/node_service.h"
#include "tests/ledger/fixture.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using ledger::RecordKind;

// Parses exposition text into {"name{labels}": value}; fails the test on
// a sample line whose family has no preceding # TYPE, or a malformed line.
std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> out;
  std::map<std::string, std::string> types;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    EXPECT_NE(nl, std::string::npos) << "the text must end with a newline";
    if (nl == std::string::npos) break;
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.starts_with("# TYPE ")) {
      std::string rest = line.substr(7);
      size_t sp = rest.find(' ');
      types[rest.substr(0, sp)] = rest.substr(sp + 1);
      continue;
    }
    if (line.starts_with("# HELP ") || line.empty()) continue;
    size_t sp = line.rfind(' ');
    EXPECT_NE(sp, std::string::npos) << line;
    if (sp == std::string::npos) continue;
    std::string series = line.substr(0, sp);
    std::string name = series.substr(0, series.find('{'));
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (family.ends_with(suffix) && types.count(family.substr(0, family.size() - std::strlen(suffix)))) {
        family = family.substr(0, family.size() - std::strlen(suffix));
      }
    }
    EXPECT_TRUE(types.count(family)) << "no # TYPE before " << line;
    std::string value = line.substr(sp + 1);
    out[series] = value == "+Inf" ? INFINITY : std::stod(value);
  }
  return out;
}

TEST(MetricsRegistryTest, RendersHelpTypeEscapedLabelsAndSortedSeries) {
  MetricsRegistry registry;
  CounterFamily& c = registry.AddCounter("things_total", "Things.\nSecond line \\ here", {"kind"});
  c.Inc({"b"});
  c.Inc({"a\"q\\x\ny"}, 3);
  registry.AddCallback("level", "A gauge.", MetricType::kGauge, [] { return 2.5; });
  EXPECT_EQ(registry.Render(),
            "# HELP things_total Things.\\nSecond line \\\\ here\n"
            "# TYPE things_total counter\n"
            "things_total{kind=\"a\\\"q\\\\x\\ny\"} 3\n"
            "things_total{kind=\"b\"} 1\n"
            "# HELP level A gauge.\n"
            "# TYPE level gauge\n"
            "level 2.5\n");
  EXPECT_EQ(c.Value({"b"}), 1u);
  EXPECT_EQ(c.Value({"nope"}), 0u);
}

TEST(MetricsRegistryTest, HistogramBucketsAreCumulativeWithInclusiveBounds) {
  MetricsRegistry registry;
  HistogramFamily& h = registry.AddHistogram("lat_seconds", "Latency.", {"route"}, {0.1, 1});
  h.Observe({"/x"}, 0.05);
  h.Observe({"/x"}, 0.1);  // le is inclusive
  h.Observe({"/x"}, 0.5);
  h.Observe({"/x"}, 7);
  auto s = h.Get({"/x"});
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 7.65);
  auto m = ParseExposition(registry.Render());
  EXPECT_EQ(m["lat_seconds_bucket{route=\"/x\",le=\"0.1\"}"], 2);
  EXPECT_EQ(m["lat_seconds_bucket{route=\"/x\",le=\"1\"}"], 3);
  EXPECT_EQ(m["lat_seconds_bucket{route=\"/x\",le=\"+Inf\"}"], 4);
  EXPECT_EQ(m["lat_seconds_count{route=\"/x\"}"], 4);
  EXPECT_DOUBLE_EQ(m["lat_seconds_sum{route=\"/x\"}"], 7.65);
}

TEST(MetricsRegistryTest, BadNamesAndDuplicatesAreProgrammingErrors) {
  MetricsRegistry registry;
  registry.AddCounter("a_total", "A.", {});
  EXPECT_THROW(registry.AddCounter("a_total", "again", {}), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("9bad", "digit first", {}), std::invalid_argument);
  EXPECT_THROW(registry.AddCounter("ok_total", "reserved label", {"le"}), std::invalid_argument);
  EXPECT_THROW(registry.AddHistogram("h", "unsorted", {}, {1, 0.5}), std::invalid_argument);
  CounterFamily& c = registry.AddCounter("b_total", "B.", {"x"});
  EXPECT_THROW(c.Inc({}), std::invalid_argument);
}

TEST(MetricsRegistryTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry registry;
  CounterFamily& c = registry.AddCounter("n_total", "N.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 10'000; ++i) c.Inc({std::to_string(i % 4)});
      (void)t;
    });
  }
  for (auto& t : threads) t.join();
  uint64_t total = 0;
  for (const auto& [labels, v] : c.Snapshot()) total += v;
  EXPECT_EQ(total, 80'000u);
  EXPECT_EQ(c.Value({"0"}), 20'000u);
}

TEST(MetricsFormatTest, Numbers) {
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(-1), "-1");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatMetricValue(NAN), "NaN");
}

// The node's metrics on a real server over a real ledger.
class NodeMetricsTest : public ledger::testing::LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    merchant_ = Register("acme", {"merchant"});
    node_ = std::make_unique<NodeService>(*ledger_, NodeOptions{});
    metrics_ = std::make_unique<NodeMetrics>(NodeMetricsOptions{
        .height = [this]() -> std::optional<uint64_t> {
          auto tip = ledger_->tip();
          return tip ? std::optional<uint64_t>(tip->height) : std::nullopt;
        },
        .tree_size = [this]() -> uint64_t { return ledger_->tip() ? ledger_->tip()->frontier.size() : 0; },
        .start_time_s = 1795219200});
    metrics_->AddScansRecorded([this] { return scans_.load(); });
    server_ = std::make_unique<HttpServer>(ServerOptions{
        .on_request = [this](const HttpRequest& req, const HttpResponse& resp, std::string_view route,
                             double s) { metrics_->Observe(req, resp, route, s); }});
    node_->Register(*server_);
    metrics_->Register(*server_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error();
    client_ = std::make_unique<HttpClient>("http://127.0.0.1:" + std::to_string(*port));
  }
  void TearDown() override { server_->Stop(); }

  std::map<std::string, double> Scrape() {
    auto r = client_->Get("/metrics");
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return {};
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->content_type, kMetricsContentType);
    return ParseExposition(r->body);
  }
  int Post(const std::string& body) {
    auto r = client_->Post("/v1/records", body, "application/json");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->status : 0;
  }

  std::optional<ledger::testing::Actor> merchant_;
  std::atomic<uint64_t> scans_{0};
  std::unique_ptr<NodeService> node_;
  std::unique_ptr<NodeMetrics> metrics_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(NodeMetricsTest, RequestsIngestLedgerAndCallbacksMove) {
  auto before = Scrape();
  const double height0 = before["traceledger_ledger_height"];
  const double size0 = before["traceledger_ledger_tree_size"];
  EXPECT_EQ(height0, 1);  // genesis, then the merchant's registration
  EXPECT_EQ(size0, 2);
  EXPECT_EQ(before["process_start_time_seconds"], 1795219200);
  EXPECT_EQ(before["traceledger_scans_recorded_total"], 0);
  EXPECT_EQ(before.count("traceledger_codes_verified_total"), 0u) << "not wired, not exported";

  // One accepted, one rejected for its signature, a batch of one accepted
  // and one replayed.
  std::string product = Make(RecordKind::kProduct, ProductBody(kGtinA), *merchant_);
  EXPECT_EQ(Post(product), 200);
  EXPECT_EQ(Post(WithBadSignature(Make(RecordKind::kProduct, ProductBody(kGtinB), *merchant_))), 403);
  std::string lot = Make(RecordKind::kLot, LotBody(kGtinA, "L1"), *merchant_);
  EXPECT_EQ(Post("[" + lot + "," + product + "]"), 200);
  ASSERT_EQ(client_->Get("/v1/tip")->status, 200);
  ASSERT_EQ(client_->Get("/no/such/path")->status, 404);
  scans_ = 5;

  auto after = Scrape();
  EXPECT_EQ(after["traceledger_records_ingested_total{outcome=\"accepted\",code=\"\"}"], 2);
  EXPECT_EQ(after["traceledger_records_ingested_total{outcome=\"rejected\",code=\"bad_signature\"}"], 1);
  EXPECT_EQ(after["traceledger_records_ingested_total{outcome=\"rejected\",code=\"duplicate\"}"] +
                after["traceledger_records_ingested_total{outcome=\"rejected\",code=\"replay\"}"],
            1);
  EXPECT_EQ(after["traceledger_http_requests_total{route=\"/v1/records\",method=\"POST\",status=\"200\"}"], 2);
  EXPECT_EQ(after["traceledger_http_requests_total{route=\"/v1/records\",method=\"POST\",status=\"403\"}"], 1);
  EXPECT_EQ(after["traceledger_http_requests_total{route=\"/v1/tip\",method=\"GET\",status=\"200\"}"], 1);
  EXPECT_EQ(after["traceledger_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"], 1);
  // The first scrape was counted before this one was rendered.
  EXPECT_EQ(after["traceledger_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"}"], 1);
  EXPECT_EQ(after["traceledger_http_request_duration_seconds_count{route=\"/v1/records\"}"], 3);
  EXPECT_EQ(after["traceledger_http_request_duration_seconds_bucket{route=\"/v1/records\",le=\"+Inf\"}"], 3);
  EXPECT_GT(after["traceledger_http_request_duration_seconds_sum{route=\"/v1/records\"}"], 0);
  EXPECT_EQ(after["traceledger_ledger_tree_size"], size0 + 2);
  EXPECT_GT(after["traceledger_ledger_height"], height0);
  EXPECT_EQ(after["traceledger_scans_recorded_total"], 5);
}

}  // namespace
}  // namespace traceledger::api
