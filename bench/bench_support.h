// Shared plumbing of the benchmarks (bench/*.cc): the raw BIP-340
// verification rate every throughput figure is compared with, the ledger
// objects and custody records the benchmarks ingest or replicate, number
// formatting, memory sampling and the result table.
#ifndef TRACELEDGER_BENCH_BENCH_SUPPORT_H_
#define TRACELEDGER_BENCH_BENCH_SUPPORT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "wallet/key.h"

namespace traceledger::bench {

using Clock = std::chrono::steady_clock;
using ledger::Json;
using ledger::RecordKind;

constexpr size_t kVerifyPairs = 20'000;
constexpr double kVerifySeconds = 3.0;
constexpr int kCarriers = 8;    // logistics parties signing the records
constexpr int kShipments = 16;  // shipments the custody records are about

// Names the program in Die's messages.
void SetProgram(std::string name);
[[noreturn]] void Die(const std::string& message);
// A positive integer flag value, or Die.
uint64_t ParseCount(const std::string& flag, const char* text);

// Minimal command line: "--name VALUE" options and "--name" switches;
// --help/-h prints the usage and exits 0; anything else unknown, or a
// missing value, prints the usage and dies.
class FlagParser {
 public:
  explicit FlagParser(std::string usage) : usage_(std::move(usage)) {}
  // Positive integers (ParseCount).
  void Count(std::string name, uint64_t* out);
  void Text(std::string name, std::string* out);
  void Switch(std::string name, bool* out);
  void Parse(int argc, char** argv) const;

 private:
  struct Option {
    std::string name;
    std::function<void(const std::string& name, const char* value)> set;  // value null for switches
    bool takes_value;
  };
  std::string usage_;
  std::vector<Option> options_;
};

// The benchmark's working directory: `dir` (created if missing), or a
// fresh one under the system temp dir when `dir` is empty.
class WorkDir {
 public:
  WorkDir(const std::string& dir, const std::string& temp_prefix);
  const std::string& path() const { return path_; }
  // Keeps everything when `keep` (and says where); else removes the whole
  // directory if it was fresh, or only `made` (paths inside it) if not.
  void CleanUp(bool keep, const std::vector<std::string>& made) const;

 private:
  std::string path_;
  bool fresh_ = false;
};

// Runs main_fn, reporting an escaped exception as a failure.
int RunBench(const char* program, int (*main_fn)(int, char**), int argc, char** argv);

double Seconds(Clock::duration d);
int64_t NowS();
// "1,234,567"
std::string Grouped(double v);
std::string Format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// ------------------------------------------------------------------ memory

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"); 0 if absent.
uint64_t StatusKb(const char* field);
double Mb(uint64_t kb);
// Resets VmHWM to the current RSS; false where the kernel does not allow it.
bool ResetPeakRss();

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
// Prints "  name  value" on stderr and keeps the row for the final table.
void Report(std::string name, std::string value);
const std::vector<Row>& Rows();
// The table of every reported row on stdout, under `title`.
void PrintTable(const std::string& title);

// -------------------------------------------------------------- raw verify

// --------------------------------------------------------- a) raw verify

struct VerifyResult {
  double per_s = 0;
  uint64_t verified = 0;
  double seconds = 0;
  size_t threads = 0;
};

// ~20,000 pre-signed (message, signature) pairs verified for ~3 s on
// hardware_concurrency threads, through wallet::PublicKey (one call to
// secp256k1_schnorrsig_verify with a pre-parsed key).
VerifyResult MeasureRawVerify();

// ------------------------------------------------------ setup and records

// ------------------------------------------------------ setup and records

struct World {
  wallet::SecretKey operator_key = wallet::SecretKey::Generate();
  std::vector<wallet::SecretKey> carriers;
  std::vector<std::string> carrier_ids;
  std::vector<std::string> shipments;
};

std::string Sign(RecordKind kind, const Json& body, const wallet::SecretKey& key, const std::string& nonce);
// Dies unless the setup record was accepted.
void MustAccept(const ledger::SubmitResult& r, const std::string& what);
// Registers a merchant with a product, a lot and kShipments shipments, and
// kCarriers logistics parties.
void SetUp(ledger::Ledger& ledger, World& w);
// Custody record number i: carrier (i % kCarriers) hands shipment
// (i % kShipments) to the next carrier; the note pads the canonical body
// to `body_bytes` (within the schema's 1..500 characters).
std::string CustodyRecord(const World& w, uint64_t i, size_t body_bytes, int64_t time, size_t* body_size);

}  // namespace traceledger::bench

#endif  // TRACELEDGER_BENCH_BENCH_SUPPORT_H_
