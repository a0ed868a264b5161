// ingest_bench: how fast TraceLedger ingests and audits, and what that
// costs in memory, measured against the raw speed of BIP-340 verification
// (the work every record needs at least once).
//
//   ingest_bench [--records N] [--submitters T] [--batch B] [--body-bytes S]
//                [--dir PATH] [--keep]
//
// Steps, in one run:
//   a) raw verify: ~20,000 pre-signed (message, signature) pairs verified
//      for ~3 s on hardware_concurrency threads, through wallet::PublicKey
//      (one call to secp256k1_schnorrsig_verify with a pre-parsed key);
//   b) pre-generate N custody records (~S-byte canonical bodies) on a
//      handful of shipments, signed in parallel by several logistics keys,
//      streamed to a file one per line (so RSS stays low); timed apart;
//   c) ingest: T threads read the file and call SubmitBatch with B records
//      each on a durable ledger (sync = true); records/s and memory;
//   d) ingest rate / raw verify rate;
//   e) close the ledger and time Ledger::Open;
//   f) Audit with the fact pass on, then off; records/s and memory.
// Results are printed as a table, then as one line of JSON.
//
// Memory: VmHWM is a process-wide high-water mark, so each measured phase
// first resets it (writing 5 to /proc/self/clear_refs, Linux >= 4.0) and a
// watcher thread also samples VmRSS every 20 ms during the phase.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "chain/hash.h"
#include "ledger/audit.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "wallet/key.h"

namespace traceledger::bench {
namespace {

using Clock = std::chrono::steady_clock;
using ledger::Json;
using ledger::RecordKind;

constexpr size_t kVerifyPairs = 20'000;
constexpr double kVerifySeconds = 3.0;
constexpr int kCarriers = 8;          // logistics parties signing the records
constexpr int kShipments = 16;        // shipments the custody records are about
constexpr size_t kGenChunk = 32'768;  // records signed per pre-generation round

struct Flags {
  uint64_t records = 1'000'000;
  size_t submitters = 64;
  size_t batch = 256;
  size_t body_bytes = 300;
  std::string dir;
  bool keep = false;
};

void Usage() {
  std::fprintf(stderr,
               "usage: ingest_bench [--records N] [--submitters T] [--batch B] [--body-bytes S]\n"
               "                    [--dir PATH] [--keep]\n"
               "  --records N     records to ingest (default 1000000)\n"
               "  --submitters T  submitting threads (default 64)\n"
               "  --batch B       records per SubmitBatch call (default 256)\n"
               "  --body-bytes S  canonical body size of each record (default 300)\n"
               "  --dir PATH      working directory (default: a fresh temp dir)\n"
               "  --keep          keep the ledger and the records file\n");
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--records") {
      f.records = ParseCount(arg, value());
    } else if (arg == "--submitters") {
      f.submitters = ParseCount(arg, value());
    } else if (arg == "--batch") {
      f.batch = ParseCount(arg, value());
    } else if (arg == "--body-bytes") {
      f.body_bytes = ParseCount(arg, value());
    } else if (arg == "--dir") {
      f.dir = value();
    } else if (arg == "--keep") {
      f.keep = true;
    } else if (arg == "--help" || arg == "-h") {
      Usage();
      std::exit(0);
    } else {
      Usage();
      Die("unknown flag " + arg);
    }
  }
  return f;
}

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "1,234,567"
std::string Grouped(double v) {
  std::string digits = std::to_string(std::llround(v));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  return buf;
}

// ------------------------------------------------------------------ memory

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"); 0 if absent.
uint64_t StatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t len = std::strlen(field);
  while (std::getline(in, line)) {
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
      return std::strtoull(line.c_str() + len + 1, nullptr, 10);
    }
  }
  return 0;
}

double Mb(uint64_t kb) { return static_cast<double>(kb) / 1024.0; }

// Resets VmHWM to the current RSS; false where the kernel does not allow it.
bool ResetPeakRss() {
  {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    if (!out.good()) return false;
  }
  return StatusKb("VmHWM") <= StatusKb("VmRSS") + 1024;
}

// Samples VmRSS every 20 ms on its own thread; optionally calls `tick`
// every `tick_every` (progress lines).
class RssWatcher {
 public:
  explicit RssWatcher(std::function<void()> tick = {},
                      std::chrono::milliseconds tick_every = std::chrono::seconds(3))
      : tick_(std::move(tick)), tick_every_(tick_every), thread_([this] { Loop(); }) {}
  ~RssWatcher() { Stop(); }
  RssWatcher(const RssWatcher&) = delete;
  RssWatcher& operator=(const RssWatcher&) = delete;

  // Stops sampling; returns the largest VmRSS seen, in kB.
  uint64_t Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    return peak_kb_;
  }
  uint64_t peak_kb() const { return peak_kb_.load(); }

 private:
  void Loop() {
    auto next_tick = Clock::now() + tick_every_;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      uint64_t rss = StatusKb("VmRSS");
      if (rss > peak_kb_) peak_kb_ = rss;
      if (tick_ && Clock::now() >= next_tick) {
        lock.unlock();
        tick_();
        lock.lock();
        next_tick += tick_every_;
      }
      if (cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return stop_; })) return;
    }
  }

  std::function<void()> tick_;
  std::chrono::milliseconds tick_every_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> peak_kb_{0};
  std::thread thread_;
};

// ------------------------------------------------------------------ output

struct Row {
  std::string name;
  std::string value;
};
std::vector<Row> g_rows;

void Report(std::string name, std::string value) {
  std::fprintf(stderr, "  %-34s %s\n", name.c_str(), value.c_str());
  g_rows.push_back({std::move(name), std::move(value)});
}

// --------------------------------------------------------- a) raw verify

struct VerifyResult {
  double per_s = 0;
  uint64_t verified = 0;
  double seconds = 0;
  size_t threads = 0;
};

VerifyResult MeasureRawVerify() {
  constexpr int kKeys = 16;
  std::vector<wallet::SecretKey> keys;
  keys.reserve(kKeys);
  for (int i = 0; i < kKeys; ++i) keys.push_back(wallet::SecretKey::Generate());
  struct Pair {
    chain::Hash msg;
    wallet::Signature sig;
    const wallet::PublicKey* key;
  };
  std::vector<Pair> pairs(kVerifyPairs);
  for (size_t i = 0; i < kVerifyPairs; ++i) {
    pairs[i].msg = chain::Sha256("verify-bench-" + std::to_string(i));
    const auto& key = keys[i % kKeys];
    pairs[i].sig = key.Sign(pairs[i].msg);
    pairs[i].key = &key.Public();
  }
  VerifyResult r;
  r.threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<uint64_t> total{0};
  std::atomic<bool> bad{false};
  const auto start = Clock::now();
  const auto stop_at =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(kVerifySeconds));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < r.threads; ++t) {
    threads.emplace_back([&, t] {
      uint64_t n = 0;
      size_t i = t * (kVerifyPairs / r.threads);
      while (Clock::now() < stop_at) {
        for (int k = 0; k < 256; ++k) {
          const Pair& p = pairs[i];
          if (!p.key->Verify(p.msg, p.sig)) bad = true;
          i = i + 1 == kVerifyPairs ? 0 : i + 1;
        }
        n += 256;
      }
      total += n;
    });
  }
  for (auto& t : threads) t.join();
  if (bad) Die("a valid signature failed to verify");
  r.seconds = Seconds(Clock::now() - start);
  r.verified = total;
  r.per_s = static_cast<double>(r.verified) / r.seconds;
  return r;
}

// ------------------------------------------------------ setup and records

struct World {
  wallet::SecretKey operator_key = wallet::SecretKey::Generate();
  std::vector<wallet::SecretKey> carriers;
  std::vector<std::string> carrier_ids;
  std::vector<std::string> shipments;
};

std::string Sign(RecordKind kind, const Json& body, const wallet::SecretKey& key, const std::string& nonce) {
  return ledger::SignRecord(kind, body, key, NowS(), nonce).entry;
}

void MustAccept(const ledger::SubmitResult& r, const std::string& what) {
  if (!r.ok()) Die("setup record " + what + " rejected: " + r.error().ToString());
}

// Registers a merchant with a product, a lot and kShipments shipments, and
// kCarriers logistics parties.
void SetUp(ledger::Ledger& ledger, World& w) {
  int nonce = 0;
  auto next = [&] { return "5e7" + std::to_string(nonce++); };
  auto register_party = [&](const std::string& party, const std::string& role, const wallet::SecretKey& key) {
    Json body = {{"party", party},
                 {"name", party + " Ltd"},
                 {"roles", Json::array({role})},
                 {"public_key", key.Public().Hex()}};
    MustAccept(ledger.Submit(Sign(RecordKind::kParty, body, w.operator_key, next())), party);
  };
  const wallet::SecretKey merchant = wallet::SecretKey::Generate();
  register_party("acme", "merchant", merchant);
  for (int i = 0; i < kCarriers; ++i) {
    w.carriers.push_back(wallet::SecretKey::Generate());
    w.carrier_ids.push_back("carrier-" + std::to_string(i));
    register_party(w.carrier_ids.back(), "logistics", w.carriers.back());
  }
  const std::string gtin = "09501101530003";
  MustAccept(ledger.Submit(Sign(RecordKind::kProduct,
                                {{"gtin", gtin},
                                 {"name", "Jasmine tea"},
                                 {"brand", "Acme"},
                                 {"origin_country", "CN"},
                                 {"production_site", "Fuzhou plant 2"},
                                 {"manufacturer", "Acme Tea Co."}},
                                merchant, next())),
             "product");
  MustAccept(
      ledger.Submit(
          Sign(RecordKind::kLot,
               {{"gtin", gtin}, {"lot", "LOT-1"}, {"production_date", "2026-11-01"}, {"quantity", 1'000'000}},
               merchant, next())),
      "lot");
  for (int i = 0; i < kShipments; ++i) {
    w.shipments.push_back(Format("SHP-%05d", i));
    MustAccept(
        ledger.Submit(Sign(RecordKind::kShipment,
                           {{"shipment", w.shipments.back()},
                            {"lots", Json::array({{{"gtin", gtin}, {"lot", "LOT-1"}, {"quantity", 100}}})},
                            {"origin_country", "CN"},
                            {"destination", "Qianhai bonded zone"}},
                           merchant, next())),
        w.shipments.back());
  }
}

// Custody record number i: carrier (i % kCarriers) hands shipment
// (i % kShipments) to the next carrier; the note pads the canonical body
// to `body_bytes` (within the schema's 1..500 characters).
std::string CustodyRecord(const World& w, uint64_t i, size_t body_bytes, int64_t time, size_t* body_size) {
  static constexpr const char* kSteps[] = {"departing", "arriving", "loading", "unloading", "transporting"};
  static constexpr std::string_view kFiller =
      "Sealed container, temperature log attached, seals intact on handover; ";
  const size_t c = i % kCarriers;
  Json body = {{"shipment", w.shipments[i % kShipments]},
               {"from", w.carrier_ids[c]},
               {"to", w.carrier_ids[(c + 1) % kCarriers]},
               {"location", "Yard " + std::to_string(i % 97) + ", Qianhai"},
               {"biz_step", kSteps[i % std::size(kSteps)]},
               {"note", ""}};
  const size_t bare = ledger::CanonicalJson(body).size();
  const size_t note_len = std::clamp<size_t>(body_bytes > bare ? body_bytes - bare : 1, 1, 500);
  std::string note = "#" + std::to_string(i) + " ";
  while (note.size() < note_len) note += kFiller;
  note.resize(note_len);
  body["note"] = note;
  if (body_size != nullptr) *body_size = ledger::CanonicalJson(body).size();
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%016" PRIx64, i);
  return ledger::SignRecord(RecordKind::kCustody, body, w.carriers[c], time, nonce).entry;
}

struct PregenResult {
  double seconds = 0;
  uint64_t file_bytes = 0;
  size_t body_size = 0;
};

// b) Signs N records in parallel, kGenChunk at a time, into `path`.
PregenResult Pregenerate(const World& w, const Flags& f, const std::string& path) {
  PregenResult r;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) Die("cannot write " + path);
  const size_t threads = std::max(1u, std::thread::hardware_concurrency());
  const int64_t time = NowS();
  std::vector<std::string> chunk;
  CustodyRecord(w, 0, f.body_bytes, time, &r.body_size);
  const auto start = Clock::now();
  auto last_progress = start;
  for (uint64_t first = 0; first < f.records; first += kGenChunk) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kGenChunk, f.records - first));
    chunk.assign(n, {});
    std::vector<std::thread> workers;
    for (size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (size_t k = t; k < n; k += threads)
          chunk[k] = CustodyRecord(w, first + k, f.body_bytes, time, nullptr);
      });
    }
    for (auto& t : workers) t.join();
    for (const auto& line : chunk) {
      out << line << '\n';
      r.file_bytes += line.size() + 1;
    }
    if (Clock::now() - last_progress > std::chrono::seconds(3)) {
      last_progress = Clock::now();
      std::fprintf(stderr, "  pre-generate: %s/%s records signed\n",
                   Grouped(static_cast<double>(first + n)).c_str(),
                   Grouped(static_cast<double>(f.records)).c_str());
    }
  }
  out.flush();
  if (!out) Die("writing " + path + " failed");
  r.seconds = Seconds(Clock::now() - start);
  return r;
}

// --------------------------------------------------------------- c) ingest

struct IngestResult {
  double seconds = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;
  std::string first_reject;
  uint64_t hwm_kb = 0;
  uint64_t rss_peak_kb = 0;
  bool hwm_reset = false;
  uint64_t rss_before_kb = 0;
};

IngestResult Ingest(ledger::Ledger& ledger, const Flags& f, const std::string& path) {
  IngestResult r;
  std::ifstream in(path, std::ios::binary);
  if (!in) Die("cannot read " + path);
  std::mutex in_mu;
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected{0};
  std::mutex reject_mu;
  r.hwm_reset = ResetPeakRss();
  r.rss_before_kb = StatusKb("VmRSS");
  const auto start = Clock::now();
  RssWatcher watcher([&] {
    double secs = Seconds(Clock::now() - start);
    uint64_t done = accepted.load();
    std::fprintf(stderr, "  ingest: %s/%s records, %s records/s, RSS %.0f MB\n",
                 Grouped(static_cast<double>(done)).c_str(), Grouped(static_cast<double>(f.records)).c_str(),
                 Grouped(static_cast<double>(done) / secs).c_str(), Mb(StatusKb("VmRSS")));
  });
  std::vector<std::thread> submitters;
  for (size_t t = 0; t < f.submitters; ++t) {
    submitters.emplace_back([&] {
      std::vector<std::string> batch;
      for (;;) {
        batch.clear();
        {
          std::lock_guard<std::mutex> lock(in_mu);
          std::string line;
          while (batch.size() < f.batch && std::getline(in, line)) batch.push_back(std::move(line));
        }
        if (batch.empty()) return;
        auto results = ledger.SubmitBatch(batch);
        uint64_t ok = 0;
        for (const auto& res : results) {
          if (res.ok()) {
            ++ok;
          } else if (rejected++ == 0) {
            std::lock_guard<std::mutex> lock(reject_mu);
            r.first_reject = res.error().ToString();
          }
        }
        accepted += ok;
      }
    });
  }
  for (auto& t : submitters) t.join();
  r.seconds = Seconds(Clock::now() - start);
  r.rss_peak_kb = watcher.Stop();
  r.hwm_kb = StatusKb("VmHWM");
  r.accepted = accepted;
  r.rejected = rejected;
  return r;
}

// ---------------------------------------------------------------- f) audit

struct AuditResult {
  bool ok = false;
  std::string reason;
  double seconds = 0;
  uint64_t records = 0;
  uint64_t facts = 0;
  uint64_t rss_before_kb = 0;
  uint64_t rss_peak_kb = 0;
  uint64_t hwm_before_kb = 0;
  uint64_t hwm_after_kb = 0;
  bool hwm_reset = false;
};

AuditResult RunAudit(const ledger::Ledger& ledger, bool check_facts) {
  AuditResult r;
  r.hwm_reset = ResetPeakRss();
  r.rss_before_kb = StatusKb("VmRSS");
  r.hwm_before_kb = StatusKb("VmHWM");
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> total{0};
  std::mutex phase_mu;
  std::string phase = "blocks";
  const auto start = Clock::now();
  RssWatcher watcher([&] {
    std::string p;
    {
      std::lock_guard<std::mutex> lock(phase_mu);
      p = phase;
    }
    std::fprintf(stderr, "  audit (%s): %s %s/%s, RSS %.0f MB\n", check_facts ? "facts on" : "facts off",
                 p.c_str(), Grouped(static_cast<double>(done.load())).c_str(),
                 Grouped(static_cast<double>(total.load())).c_str(), Mb(StatusKb("VmRSS")));
  });
  ledger::AuditOptions options{.check_facts = check_facts};
  options.progress = [&](const ledger::AuditProgress& p) {
    done = p.done;
    total = p.total;
    std::lock_guard<std::mutex> lock(phase_mu);
    phase = p.phase;
  };
  ledger::AuditReport report = ledger::Audit(ledger.store(), options);
  r.seconds = Seconds(Clock::now() - start);
  r.rss_peak_kb = watcher.Stop();
  r.hwm_after_kb = StatusKb("VmHWM");
  r.ok = report.ok;
  r.reason = report.reason;
  r.records = report.records;
  r.facts = report.facts;
  return r;
}

std::string AuditRow(const AuditResult& a) {
  return Format("%s in %.2f s = %s records/s (%s index entries)%s", a.ok ? "ok" : "FAILED", a.seconds,
                Grouped(static_cast<double>(a.records) / a.seconds).c_str(),
                Grouped(static_cast<double>(a.facts)).c_str(), a.ok ? "" : (": " + a.reason).c_str());
}

std::string AuditMemoryRow(const AuditResult& a) {
  return Format("VmRSS %.0f MB before, peak %.0f MB sampled (+%.0f MB); VmHWM %.0f -> %.0f MB (+%.0f MB)%s",
                Mb(a.rss_before_kb), Mb(a.rss_peak_kb),
                Mb(a.rss_peak_kb > a.rss_before_kb ? a.rss_peak_kb - a.rss_before_kb : 0),
                Mb(a.hwm_before_kb), Mb(a.hwm_after_kb),
                Mb(a.hwm_after_kb - std::min(a.hwm_after_kb, a.hwm_before_kb)),
                a.hwm_reset ? "" : " (VmHWM not resettable: process-wide peak)");
}

Json AuditJson(const AuditResult& a) {
  return {{"ok", a.ok},
          {"seconds", a.seconds},
          {"records_per_s", static_cast<double>(a.records) / a.seconds},
          {"index_entries", a.facts},
          {"rss_before_mb", Mb(a.rss_before_kb)},
          {"rss_peak_mb", Mb(a.rss_peak_kb)},
          {"vmhwm_growth_mb", Mb(a.hwm_after_kb - std::min(a.hwm_after_kb, a.hwm_before_kb))}};
}

// ------------------------------------------------------------------- main

int Main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  // Working directory.
  bool own_dir = f.dir.empty();
  std::string dir = f.dir;
  if (own_dir) {
    std::string templ = (std::filesystem::temp_directory_path() / "traceledger-bench-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) Die(std::string("mkdtemp: ") + std::strerror(errno));
    dir = templ;
  } else {
    std::filesystem::create_directories(dir);
  }
  const std::string ledger_path = dir + "/ledger";
  const std::string records_path = dir + "/records.jsonl";
  std::fprintf(stderr, "ingest_bench: %s records, %zu submitters, batch %zu, body %zu B, %u cores, dir %s\n",
               Grouped(static_cast<double>(f.records)).c_str(), f.submitters, f.batch, f.body_bytes, cores,
               dir.c_str());

  // a) Raw verification rate.
  std::fprintf(stderr, "a) raw BIP-340 verification, %.0f s on %u threads...\n", kVerifySeconds, cores);
  const VerifyResult verify = MeasureRawVerify();
  Report("raw BIP-340 verify",
         Format("%s verifications/s (%s in %.2f s, %zu threads, %zu pairs)", Grouped(verify.per_s).c_str(),
                Grouped(static_cast<double>(verify.verified)).c_str(), verify.seconds, verify.threads,
                kVerifyPairs));

  // Ledger and the objects the records refer to (not timed).
  const ledger::LedgerOptions options{.path = ledger_path, .sync = true};
  World world;
  auto created = ledger::Ledger::Create(
      options, world.operator_key, ledger::OperatorIdentity{.party = "operator", .name = "Bench operator"});
  if (!created.ok()) Die("create " + ledger_path + ": " + created.error().message);
  std::unique_ptr<ledger::Ledger> ledger = std::move(created).value();
  SetUp(*ledger, world);
  const uint64_t setup_records = ledger->tip()->frontier.size();
  const uint64_t setup_blocks = ledger->tip()->height + 1;

  // b) Pre-generation.
  std::fprintf(stderr, "b) pre-generating and signing %s records...\n",
               Grouped(static_cast<double>(f.records)).c_str());
  const PregenResult pregen = Pregenerate(world, f, records_path);
  Report("pre-generate + sign (not ingest)",
         Format("%s records in %.2f s = %s records/s; file %.1f MB, %.0f B/record, body %zu B",
                Grouped(static_cast<double>(f.records)).c_str(), pregen.seconds,
                Grouped(static_cast<double>(f.records) / pregen.seconds).c_str(),
                static_cast<double>(pregen.file_bytes) / (1024.0 * 1024.0),
                static_cast<double>(pregen.file_bytes) / static_cast<double>(f.records), pregen.body_size));

  // c) Ingest, bracketed by two more raw-verification measurements: the
  // machine is shared, so the ratio uses the rates measured right around
  // the phase — the higher of the two, so that a disturbed measurement (for
  // one, LevelDB still compacting after the ingest) never flatters it.
  const VerifyResult verify_before_ingest = MeasureRawVerify();
  std::fprintf(stderr, "c) ingesting with %zu submitters x SubmitBatch(%zu), sync=true...\n", f.submitters,
               f.batch);
  const IngestResult ingest = Ingest(*ledger, f, records_path);
  const VerifyResult verify_after_ingest = MeasureRawVerify();
  const double verify_around_ingest = std::max(verify_before_ingest.per_s, verify_after_ingest.per_s);
  const double ingest_rate = static_cast<double>(ingest.accepted) / ingest.seconds;
  const auto tip = ledger->tip();
  const uint64_t blocks = tip->height + 1;
  const uint64_t ledger_records = tip->frontier.size();
  Report("ingest (durable, sync=true)",
         Format("%s records in %.2f s = %s records/s; %s rejected%s",
                Grouped(static_cast<double>(ingest.accepted)).c_str(), ingest.seconds,
                Grouped(ingest_rate).c_str(), Grouped(static_cast<double>(ingest.rejected)).c_str(),
                ingest.rejected > 0 ? (" (first: " + ingest.first_reject + ")").c_str() : ""));
  Report("ingest blocks",
         Format("%s blocks sealed, %.0f records/block on average (ledger: %s blocks, %s records)",
                Grouped(static_cast<double>(blocks - setup_blocks)).c_str(),
                static_cast<double>(ledger_records - setup_records) /
                    static_cast<double>(std::max<uint64_t>(1, blocks - setup_blocks)),
                Grouped(static_cast<double>(blocks)).c_str(),
                Grouped(static_cast<double>(ledger_records)).c_str()));
  Report("ingest memory",
         Format("VmHWM %.0f MB%s; VmRSS %.0f MB before, peak %.0f MB sampled", Mb(ingest.hwm_kb),
                ingest.hwm_reset ? " (reset before ingest)" : " (process-wide)", Mb(ingest.rss_before_kb),
                Mb(ingest.rss_peak_kb)));

  // d) Ratio.
  const double ratio = ingest_rate / verify_around_ingest;
  Report("raw verify around ingest",
         Format("%s/s before, %s/s after", Grouped(verify_before_ingest.per_s).c_str(),
                Grouped(verify_after_ingest.per_s).c_str()));
  Report("ingest rate / raw verify rate",
         Format("%.3f (%.1f%% of the higher raw verification rate around ingest)", ratio, 100.0 * ratio));

  // e) Reopen.
  const auto close_start = Clock::now();
  ledger.reset();
  const double close_ms = 1000.0 * Seconds(Clock::now() - close_start);
  const auto open_start = Clock::now();
  auto reopened = ledger::Ledger::Open(options, world.operator_key);
  const double reopen_ms = 1000.0 * Seconds(Clock::now() - open_start);
  if (!reopened.ok()) Die("reopen: " + reopened.error().message);
  ledger = std::move(reopened).value();
  Report("reopen",
         Format("Ledger::Open %.1f ms (with operator key; close took %.1f ms)", reopen_ms, close_ms));

  // f) Audit, with and without the fact pass.
  std::fprintf(stderr, "f) auditing...\n");
  const AuditResult audit_facts = RunAudit(*ledger, /*check_facts=*/true);
  Report("audit (check_facts on)", AuditRow(audit_facts));
  Report("audit memory (facts on)", AuditMemoryRow(audit_facts));
  const AuditResult audit_plain = RunAudit(*ledger, /*check_facts=*/false);
  Report("audit (check_facts off)", AuditRow(audit_plain));
  Report("audit memory (facts off)", AuditMemoryRow(audit_plain));
  ledger.reset();
  const VerifyResult verify_after_audit = MeasureRawVerify();
  const double verify_around_audit = std::max(verify_after_ingest.per_s, verify_after_audit.per_s);
  const double audit_ratio =
      static_cast<double>(audit_facts.records) / audit_facts.seconds / verify_around_audit;
  Report("raw verify after audit", Format("%s/s", Grouped(verify_after_audit.per_s).c_str()));
  Report("audit rate / raw verify rate",
         Format("%.3f with the fact pass, %.3f without (higher raw rate around the audits)", audit_ratio,
                static_cast<double>(audit_plain.records) / audit_plain.seconds / verify_around_audit));

  // Table on stdout, then the summary line.
  std::printf("\nTraceLedger ingest benchmark: %s records, %zu submitters, batch %zu, body %zu B, %u cores\n",
              Grouped(static_cast<double>(f.records)).c_str(), f.submitters, f.batch, f.body_bytes, cores);
  std::printf("%-34s %s\n", "step", "result");
  std::printf("%-34s %s\n", std::string(34, '-').c_str(), std::string(60, '-').c_str());
  for (const auto& row : g_rows) std::printf("%-34s %s\n", row.name.c_str(), row.value.c_str());
  Json summary = {{"records", f.records},
                  {"submitters", f.submitters},
                  {"batch", f.batch},
                  {"body_bytes", pregen.body_size},
                  {"cores", cores},
                  {"raw_verify_per_s", verify.per_s},
                  {"pregen_seconds", pregen.seconds},
                  {"pregen_records_per_s", static_cast<double>(f.records) / pregen.seconds},
                  {"ingest_seconds", ingest.seconds},
                  {"ingest_records_per_s", ingest_rate},
                  {"ingest_accepted", ingest.accepted},
                  {"ingest_rejected", ingest.rejected},
                  {"ingest_vmhwm_mb", Mb(ingest.hwm_kb)},
                  {"ingest_rss_peak_mb", Mb(ingest.rss_peak_kb)},
                  {"blocks", blocks},
                  {"raw_verify_around_ingest_per_s", verify_around_ingest},
                  {"raw_verify_around_audit_per_s", verify_around_audit},
                  {"ingest_to_verify_ratio", ratio},
                  {"audit_to_verify_ratio", audit_ratio},
                  {"reopen_ms", reopen_ms},
                  {"audit_facts", AuditJson(audit_facts)},
                  {"audit_no_facts", AuditJson(audit_plain)}};
  std::printf("%s\n", summary.dump().c_str());
  std::fflush(stdout);

  if (!f.keep) {
    std::error_code ec;
    if (own_dir) {
      std::filesystem::remove_all(dir, ec);
    } else {
      std::filesystem::remove_all(ledger_path, ec);
      std::filesystem::remove(records_path, ec);
    }
  } else {
    std::fprintf(stderr, "kept %s\n", dir.c_str());
  }
  const bool ok = ingest.rejected == 0 && audit_facts.ok && audit_plain.ok;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) {
  traceledger::bench::ProgramName() = "ingest_bench";
  try {
    return traceledger::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ingest_bench: %s\n", e.what());
    return 1;
  }
}
