// A small Prometheus registry and its text exposition (format 0.0.4).
//
// Three kinds of series:
//   - counter families with labels (CounterFamily::Inc): a lookup of the
//     label values under a shared lock, then one relaxed atomic add; a new
//     label combination takes the exclusive lock once;
//   - gauges and counters whose value is read by a callback at scrape time
//     (ledger height, scans recorded by another service, ...);
//   - histogram families with fixed buckets and labels (HistogramFamily).
// Everything is thread-safe; counting a request whose label combination
// exists takes a shared (reader) lock and relaxed atomic adds, so worker
// threads do not serialize on it.
//
// Render() writes every family in registration order: "# HELP", "# TYPE",
// then one line per series, label values escaped (\\, \", \n) and series
// sorted by label values, so the text is deterministic.
//
// NodeMetrics (below) is the node's set: HTTP requests by route pattern,
// method and status, request latency by route, records ingested, ledger
// height and tree size, scans, codes verified, process start time, and
// GET /metrics.
#ifndef TRACELEDGER_API_METRICS_H_
#define TRACELEDGER_API_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/http.h"

namespace traceledger::api {

// "a\"b" -> a\"b: the escaping of a label value in the exposition format.
std::string EscapeLabelValue(std::string_view value);
// Escaping of HELP text (\\ and \n).
std::string EscapeHelp(std::string_view help);
// A number as the exposition format writes it: integers without a
// fraction, +Inf/-Inf/NaN by name, else shortest round-trip decimal.
std::string FormatMetricValue(double value);

using LabelValues = std::vector<std::string>;

class CounterFamily {
 public:
  CounterFamily(std::vector<std::string> label_names) : label_names_(std::move(label_names)) {}

  // REQUIRES: values.size() == the number of label names.
  void Inc(const LabelValues& values, uint64_t n = 1);
  uint64_t Value(const LabelValues& values) const;  // 0 when never incremented
  // (label values, value), sorted by label values.
  std::vector<std::pair<LabelValues, uint64_t>> Snapshot() const;
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::vector<std::string> label_names_;
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<std::atomic<uint64_t>>> series_;  // GUARDED_BY(mu_)
};

class HistogramFamily {
 public:
  // `bounds`: the buckets' upper bounds, ascending (+Inf is implicit).
  HistogramFamily(std::vector<std::string> label_names, std::vector<double> bounds);

  void Observe(const LabelValues& values, double value);

  struct Series {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Series Get(const LabelValues& values) const;  // zeros when never observed
  std::vector<std::pair<LabelValues, Series>> Snapshot() const;
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  struct Cells {
    explicit Cells(size_t n) : buckets(n) {}
    std::vector<std::atomic<uint64_t>> buckets;  // non-cumulative, last is +Inf
    std::atomic<double> sum{0};
    std::atomic<uint64_t> count{0};
  };
  Series Read(const Cells& cells) const;

  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<Cells>> series_;  // GUARDED_BY(mu_)
};

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsRegistry {
 public:
  // Names must match [a-zA-Z_:][a-zA-Z0-9_:]* and be unique (REQUIRES;
  // checked with a std::invalid_argument, a programming error). The
  // returned family lives as long as the registry.
  CounterFamily& AddCounter(std::string name, std::string help, std::vector<std::string> label_names);
  HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                std::vector<double> bounds);
  // A series without labels whose value `read` gives at scrape time.
  // kCounter or kGauge. `read` must be thread-safe.
  void AddCallback(std::string name, std::string help, MetricType type, std::function<double()> read);

  // The exposition text (Content-Type kMetricsContentType).
  std::string Render() const;

 private:
  struct Family {
    std::string name, help;
    MetricType type;
    std::unique_ptr<CounterFamily> counter;
    std::unique_ptr<HistogramFamily> histogram;
    std::function<double()> read;
  };
  Family& Add(std::string name, std::string help, MetricType type);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;  // GUARDED_BY(mu_)
};

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Latency buckets, seconds: 0.5 ms .. 10 s.
inline const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                               0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

struct NodeMetricsOptions {
  // Ledger tip (nullopt height: empty ledger). Read at scrape time.
  std::function<std::optional<uint64_t>()> height;
  std::function<uint64_t()> tree_size;
  double start_time_s = 0;  // process start, Unix seconds
};

// The node's metrics:
//   traceledger_http_requests_total{route,method,status}   counter
//   traceledger_http_request_duration_seconds{route}       histogram
//   traceledger_records_ingested_total{outcome,code}       counter
//       outcome accepted (code "") or rejected (code: the reject code)
//   traceledger_ledger_height, traceledger_ledger_tree_size gauges
//   traceledger_scans_recorded_total, traceledger_codes_verified_total
//   process_start_time_seconds                              gauge
// Observe() is for ServerOptions::on_request; Register adds GET /metrics.
class NodeMetrics {
 public:
  explicit NodeMetrics(NodeMetricsOptions options);

  // One answered request. The route is the pattern ("" when none matched:
  // counted as route "unmatched", so scanners of random paths cannot grow
  // the label set). Answers of POST /v1/records are counted as ingested
  // records (their JSON body says which were accepted or why rejected).
  void Observe(const HttpRequest& request, const HttpResponse& response, std::string_view route, double seconds);

  // Counters fed by other services, read at scrape time (thread-safe
  // callbacks): web's scans_recorded(), customs' codes_verified(). Each at
  // most once; until called, the series is not exported.
  void AddScansRecorded(std::function<uint64_t()> read);
  void AddCodesVerified(std::function<uint64_t()> read);

  void Register(HttpServer& server);
  HttpResponse Scrape(const HttpRequest& request) const;

  MetricsRegistry& registry() { return registry_; }
  const CounterFamily& requests() const { return *requests_; }
  const CounterFamily& ingested() const { return *ingested_; }

 private:
  void CountIngest(const HttpResponse& response);

  MetricsRegistry registry_;
  CounterFamily* requests_;
  HistogramFamily* latency_;
  CounterFamily* ingested_;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_METRICS_H_
