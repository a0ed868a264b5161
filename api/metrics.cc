#include "api/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace traceledger::api {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string LabelSet(const std::vector<std::string>& names, const LabelValues& values,
                     std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    out += EscapeLabelValue(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += std::string(extra_name) + "=\"" + std::string(extra_value) + "\"";
  }
  out += '}';
  return out;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void CheckLabels(const std::vector<std::string>& names, const LabelValues& values) {
  if (names.size() != values.size()) throw std::invalid_argument("metrics: wrong number of label values");
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

// --- CounterFamily ---

void CounterFamily::Inc(const LabelValues& values, uint64_t n) {
  CheckLabels(label_names_, values);
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = series_.find(values);
    if (it != series_.end()) {
      it->second->fetch_add(n, std::memory_order_relaxed);
      return;
    }
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto& cell = series_[values];
  if (!cell) cell = std::make_unique<std::atomic<uint64_t>>(0);
  cell->fetch_add(n, std::memory_order_relaxed);
}

uint64_t CounterFamily::Value(const LabelValues& values) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

std::vector<std::pair<LabelValues, uint64_t>> CounterFamily::Snapshot() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<std::pair<LabelValues, uint64_t>> out;
  out.reserve(series_.size());
  for (const auto& [labels, cell] : series_) out.emplace_back(labels, cell->load(std::memory_order_relaxed));
  return out;
}

// --- HistogramFamily ---

HistogramFamily::HistogramFamily(std::vector<std::string> label_names, std::vector<double> bounds)
    : label_names_(std::move(label_names)), bounds_(std::move(bounds)) {
  for (size_t i = 1; i < bounds_.size(); ++i) {
    if (!(bounds_[i - 1] < bounds_[i])) throw std::invalid_argument("metrics: histogram bounds must ascend");
  }
}

void HistogramFamily::Observe(const LabelValues& values, double value) {
  CheckLabels(label_names_, values);
  // The first bucket whose bound is >= value (le is inclusive).
  size_t bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  auto record = [&](Cells& c) {
    c.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    c.sum.fetch_add(value, std::memory_order_relaxed);
    c.count.fetch_add(1, std::memory_order_relaxed);
  };
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = series_.find(values);
    if (it != series_.end()) {
      record(*it->second);
      return;
    }
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  auto& cells = series_[values];
  if (!cells) cells = std::make_unique<Cells>(bounds_.size() + 1);
  record(*cells);
}

HistogramFamily::Series HistogramFamily::Read(const Cells& cells) const {
  Series s;
  uint64_t running = 0;
  for (const auto& b : cells.buckets) {
    running += b.load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  // count is the +Inf bucket, so that a scrape racing an Observe is still
  // self-consistent (count == the last cumulative bucket).
  s.count = running;
  s.sum = cells.sum.load(std::memory_order_relaxed);
  return s;
}

HistogramFamily::Series HistogramFamily::Get(const LabelValues& values) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    Series s;
    s.cumulative.assign(bounds_.size() + 1, 0);
    return s;
  }
  return Read(*it->second);
}

std::vector<std::pair<LabelValues, HistogramFamily::Series>> HistogramFamily::Snapshot() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<std::pair<LabelValues, Series>> out;
  for (const auto& [labels, cells] : series_) out.emplace_back(labels, Read(*cells));
  return out;
}

// --- MetricsRegistry ---

MetricsRegistry::Family& MetricsRegistry::Add(std::string name, std::string help, MetricType type) {
  if (!ValidName(name)) throw std::invalid_argument("metrics: bad metric name " + name);
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) {
    if (f->name == name) throw std::invalid_argument("metrics: duplicate metric " + name);
  }
  auto f = std::make_unique<Family>();
  f->name = std::move(name);
  f->help = std::move(help);
  f->type = type;
  families_.push_back(std::move(f));
  return *families_.back();
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  for (const auto& l : label_names) {
    if (!ValidName(l) || l == "le") throw std::invalid_argument("metrics: bad label name " + l);
  }
  Family& f = Add(std::move(name), std::move(help), MetricType::kCounter);
  f.counter = std::make_unique<CounterFamily>(std::move(label_names));
  return *f.counter;
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> label_names, std::vector<double> bounds) {
  for (const auto& l : label_names) {
    if (!ValidName(l) || l == "le") throw std::invalid_argument("metrics: bad label name " + l);
  }
  Family& f = Add(std::move(name), std::move(help), MetricType::kHistogram);
  f.histogram = std::make_unique<HistogramFamily>(std::move(label_names), std::move(bounds));
  return *f.histogram;
}

void MetricsRegistry::AddCallback(std::string name, std::string help, MetricType type,
                                  std::function<double()> read) {
  if (type == MetricType::kHistogram) throw std::invalid_argument("metrics: a callback is a counter or a gauge");
  Family& f = Add(std::move(name), std::move(help), type);
  f.read = std::move(read);
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f->name + " " + EscapeHelp(f->help) + "\n";
    out += "# TYPE " + f->name + " " + TypeName(f->type) + "\n";
    if (f->counter) {
      for (const auto& [labels, value] : f->counter->Snapshot()) {
        out += f->name + LabelSet(f->counter->label_names(), labels) + " " + std::to_string(value) + "\n";
      }
    } else if (f->histogram) {
      const HistogramFamily& h = *f->histogram;
      for (const auto& [labels, s] : h.Snapshot()) {
        for (size_t i = 0; i < s.cumulative.size(); ++i) {
          std::string le = i < h.bounds().size() ? FormatMetricValue(h.bounds()[i]) : "+Inf";
          out += f->name + "_bucket" + LabelSet(h.label_names(), labels, "le", le) + " " +
                 std::to_string(s.cumulative[i]) + "\n";
        }
        std::string set = LabelSet(h.label_names(), labels);
        out += f->name + "_sum" + set + " " + FormatMetricValue(s.sum) + "\n";
        out += f->name + "_count" + set + " " + std::to_string(s.count) + "\n";
      }
    } else if (f->read) {
      out += f->name + " " + FormatMetricValue(f->read()) + "\n";
    }
  }
  return out;
}

// --- NodeMetrics ---

NodeMetrics::NodeMetrics(NodeMetricsOptions options) {
  requests_ = &registry_.AddCounter("traceledger_http_requests_total",
                                    "HTTP requests answered, by route pattern, method and status.",
                                    {"route", "method", "status"});
  latency_ = &registry_.AddHistogram("traceledger_http_request_duration_seconds",
                                     "Time from routing to the handler's answer, by route pattern.", {"route"},
                                     LatencyBuckets());
  ingested_ = &registry_.AddCounter(
      "traceledger_records_ingested_total",
      "Records submitted over POST /v1/records: accepted, or rejected by reject code.", {"outcome", "code"});
  if (options.height) {
    registry_.AddCallback("traceledger_ledger_height", "Height of the last block (-1: no block yet).",
                          MetricType::kGauge, [h = options.height] {
                            auto v = h();
                            return v ? static_cast<double>(*v) : -1.0;
                          });
  }
  if (options.tree_size) {
    registry_.AddCallback("traceledger_ledger_tree_size", "Records in the log (the Merkle tree size).",
                          MetricType::kGauge, [t = options.tree_size] { return static_cast<double>(t()); });
  }
  registry_.AddCallback("process_start_time_seconds", "Start time of the process since the Unix epoch, seconds.",
                        MetricType::kGauge, [t = options.start_time_s] { return t; });
}

void NodeMetrics::Observe(const HttpRequest& request, const HttpResponse& response, std::string_view route,
                          double seconds) {
  std::string r = route.empty() ? "unmatched" : std::string(route);
  requests_->Inc({r, request.method, std::to_string(response.status)});
  latency_->Observe({r}, seconds);
  if (route == "/v1/records" && request.method == "POST") CountIngest(response);
}

void NodeMetrics::CountIngest(const HttpResponse& response) {
  // 405/413 and other answers not from the handler hold no reject code of
  // the ledger; a 200 single record is one accepted.
  auto j = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  auto reject_code = [](const nlohmann::json& entry) -> std::string {
    const auto& e = entry.find("error");
    if (e == entry.end() || !e->is_object()) return "";
    auto c = e->find("code");
    return c != e->end() && c->is_string() ? c->get<std::string>() : "unknown";
  };
  if (auto results = j.find("results"); results != j.end() && results->is_array()) {
    uint64_t accepted = 0;
    std::map<std::string, uint64_t> rejected;
    for (const auto& r : *results) {
      if (!r.is_object()) continue;
      std::string code = reject_code(r);
      if (code.empty()) {
        ++accepted;
      } else {
        ++rejected[code];
      }
    }
    if (accepted > 0) ingested_->Inc({"accepted", ""}, accepted);
    for (const auto& [code, n] : rejected) ingested_->Inc({"rejected", code}, n);
    return;
  }
  if (response.status == 200 && j.contains("id")) {
    ingested_->Inc({"accepted", ""});
    return;
  }
  std::string code = reject_code(j);
  if (!code.empty()) ingested_->Inc({"rejected", code});
}

void NodeMetrics::AddScansRecorded(std::function<uint64_t()> read) {
  registry_.AddCallback("traceledger_scans_recorded_total", "Code scans recorded by the resolver.",
                        MetricType::kCounter, [r = std::move(read)] { return static_cast<double>(r()); });
}

void NodeMetrics::AddCodesVerified(std::function<uint64_t()> read) {
  registry_.AddCallback("traceledger_codes_verified_total", "Codes checked by batch verification.",
                        MetricType::kCounter, [r = std::move(read)] { return static_cast<double>(r()); });
}

void NodeMetrics::Register(HttpServer& server) {
  server.Route("GET", "/metrics", [this](const HttpRequest& r) { return Scrape(r); });
}

HttpResponse NodeMetrics::Scrape(const HttpRequest&) const {
  HttpResponse r;
  r.content_type = std::string(kMetricsContentType);
  r.body = registry_.Render();
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace traceledger::api
