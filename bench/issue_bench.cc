// issue_bench: how fast `codes issue` turns a lot into printable codes —
// serials, BIP-340 signatures, the manifest (CSV + JSONL, fsync'ed), the
// code_issuance parts and their atomic, durable ledger commit — measured
// against the raw BIP-340 signing rate on all cores (the hardware limit:
// every code needs one signature).
//
//   issue_bench [--codes N] [--pins] [--threads T] [--dir PATH] [--keep]
//
// Steps, in one run:
//   a) raw sign: 32-byte digests signed for ~3 s on hardware_concurrency
//      threads through wallet::SecretKey::Sign (auxiliary randomness drawn
//      in bulk, as issuance does);
//   b) a durable on-disk ledger (sync = true) with an operator, a merchant,
//      a product and a lot;
//   c) qrcode::IssueCodes for N codes (default 1,000,000) into PATH/out,
//      timed as a whole and per phase (from its progress and step hooks);
//   d) raw sign again; ratio = issuance rate / the higher raw rate.
// Results are printed as a table, then as one line of JSON.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "qrcode/issuance.h"
#include "util/thread_pool.h"
#include "wallet/key.h"
#include "wallet/random.h"

namespace traceledger::bench {
namespace {

using Clock = std::chrono::steady_clock;
using ledger::Json;
using ledger::RecordKind;

constexpr double kSignSeconds = 3.0;
constexpr size_t kSignChunk = 20'000;
constexpr const char* kGtin = "09501101530003";

struct Flags {
  uint64_t codes = 1'000'000;
  bool pins = false;
  size_t threads = 0;
  std::string dir;
  bool keep = false;
};

void Usage() {
  std::puts(
      "usage: issue_bench [--codes N] [--pins] [--threads T] [--dir PATH] [--keep]\n"
      "  --codes N     codes to issue (default 1000000)\n"
      "  --pins        give every code a one-time PIN\n"
      "  --threads T   signing threads for issuance (default: one per core)\n"
      "  --dir PATH    work directory (default: a fresh one under /tmp)\n"
      "  --keep        keep the work directory");
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--codes") {
      f.codes = ParseCount(a, value().c_str());
    } else if (a == "--threads") {
      f.threads = ParseCount(a, value().c_str());
    } else if (a == "--dir") {
      f.dir = value();
    } else if (a == "--pins") {
      f.pins = true;
    } else if (a == "--keep") {
      f.keep = true;
    } else if (a == "--help" || a == "-h") {
      Usage();
      std::exit(0);
    } else {
      Die("unknown flag " + a + " (see --help)");
    }
  }
  if (f.codes < 1 || f.codes > qrcode::kMaxIssueCount)
    Die("--codes must be 1.." + std::to_string(qrcode::kMaxIssueCount));
  return f;
}

uint64_t PeakRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// Signatures per second on every core, for about kSignSeconds.
double MeasureRawSign() {
  ThreadPool pool;
  wallet::SecretKey key = wallet::SecretKey::Generate();
  std::vector<std::array<uint8_t, 32>> digests(kSignChunk), aux(kSignChunk);
  for (size_t i = 0; i < kSignChunk; ++i) wallet::RandomBytes(digests[i]);
  uint64_t signed_count = 0;
  const auto start = Clock::now();
  do {
    wallet::RandomBytes(std::span<uint8_t>(aux[0].data(), aux.size() * 32));
    pool.ParallelFor(kSignChunk, [&](size_t i) {
      wallet::Signature sig = key.Sign(digests[i], &aux[i]);
      digests[i][0] ^= sig[0];  // keep the work observable
    });
    signed_count += kSignChunk;
  } while (Seconds(Clock::now() - start) < kSignSeconds);
  return static_cast<double>(signed_count) / Seconds(Clock::now() - start);
}

void MustAccept(const ledger::SubmitResult& r, const char* what) {
  if (!r.ok()) Die(std::string(what) + " rejected: " + r.error().ToString());
}

int Main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::string dir = f.dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/issue-bench-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) Die(std::string("mkdtemp: ") + std::strerror(errno));
    dir = tmpl;
  }
  std::filesystem::create_directories(dir + "/out");
  std::printf("issue_bench: %llu codes%s, %u cores, work directory %s\n",
              static_cast<unsigned long long>(f.codes), f.pins ? " with PINs" : "", cores, dir.c_str());

  std::printf("raw BIP-340 signing on %u threads ...\n", cores);
  const double raw_before = MeasureRawSign();

  wallet::SecretKey op = wallet::SecretKey::Generate();
  wallet::SecretKey merchant = wallet::SecretKey::Generate();
  auto created =
      ledger::Ledger::Create(ledger::LedgerOptions{.path = dir + "/ledger"}, op,
                             ledger::OperatorIdentity{.party = "operator", .name = "Bench operator"});
  if (!created.ok()) Die(created.error().message);
  std::unique_ptr<ledger::Ledger> ledger = std::move(created).value();
  const int64_t now_s = static_cast<int64_t>(std::time(nullptr));
  auto sign = [&](RecordKind kind, const Json& body, const wallet::SecretKey& key) {
    return ledger::SignRecord(kind, body, key, now_s, wallet::RandomHex(16)).entry;
  };
  MustAccept(ledger->Submit(sign(RecordKind::kParty,
                                 {{"party", "acme"},
                                  {"name", "Acme"},
                                  {"roles", {"merchant"}},
                                  {"public_key", merchant.Public().Hex()}},
                                 op)),
             "party");
  MustAccept(ledger->Submit(sign(RecordKind::kProduct,
                                 {{"gtin", kGtin},
                                  {"name", "Tea"},
                                  {"brand", "Acme"},
                                  {"origin_country", "CN"},
                                  {"production_site", "Fuding"},
                                  {"manufacturer", "Acme"}},
                                 merchant)),
             "product");
  MustAccept(
      ledger->Submit(sign(
          RecordKind::kLot,
          {{"gtin", kGtin}, {"lot", "L1"}, {"production_date", "2026-11-01"}, {"quantity", 1}}, merchant)),
      "lot");

  std::printf("issuing ...\n");
  const auto start = Clock::now();
  Clock::time_point signed_at{}, manifest_at{}, pending_at{}, committed_at{}, renamed_at{};
  qrcode::IssueOptions options{.threads = f.threads};
  options.progress = [&](const qrcode::IssueProgress& p) {
    if (p.phase == "signing" && p.done == p.total) signed_at = Clock::now();
  };
  options.after_step = [&](std::string_view step) {
    auto now = Clock::now();
    if (step == "manifest") manifest_at = now;
    if (step == "pending") pending_at = now;
    if (step == "committed") committed_at = now;
    if (step == "renamed") renamed_at = now;
  };
  qrcode::IssueRequest request{.gtin = kGtin,
                               .lot = "L1",
                               .batch = "BENCH",
                               .count = f.codes,
                               .pins = f.pins,
                               .out_dir = dir + "/out",
                               .time_s = now_s};
  auto summary = qrcode::IssueCodes(*ledger, merchant, request, options);
  const double total_s = Seconds(Clock::now() - start);
  if (!summary.ok()) Die("issuance failed: " + summary.error().message);
  const uint64_t peak_kb = PeakRssKb();

  std::printf("raw BIP-340 signing again ...\n");
  const double raw_after = MeasureRawSign();
  const double raw = std::max(raw_before, raw_after);
  const double rate = static_cast<double>(f.codes) / total_s;

  uint64_t manifest_bytes = 0;
  for (const auto& path : {summary->csv_path, summary->jsonl_path})
    manifest_bytes += std::filesystem::file_size(path);
  struct Phase {
    const char* name;
    double seconds;
  };
  const Phase phases[] = {
      {"serials, signing, manifest written", Seconds(signed_at - start)},
      {"manifest fsync'ed", Seconds(manifest_at - signed_at)},
      {"parts built and signed, marker", Seconds(pending_at - manifest_at)},
      {"ledger commit (validate, one block, fsync)", Seconds(committed_at - pending_at)},
      {"rename, directory fsync", Seconds(renamed_at - committed_at)},
  };

  std::printf("\n%-46s %14s\n", "measure", "value");
  std::printf("%-46s %14.0f\n", "raw BIP-340 signing, before (sig/s)", raw_before);
  std::printf("%-46s %14.0f\n", "raw BIP-340 signing, after (sig/s)", raw_after);
  std::printf("%-46s %14.2f\n", "issuance, total (s)", total_s);
  for (const auto& p : phases) std::printf("  %-44s %14.2f\n", p.name, p.seconds);
  std::printf("%-46s %14.0f\n", "issuance rate (codes/s)", rate);
  std::printf("%-46s %14.3f\n", "issuance rate / raw signing rate", rate / raw);
  std::printf("%-46s %14zu\n", "code_issuance parts (one block)", summary->parts.size());
  std::printf("%-46s %14.1f\n", "manifest size (MB, CSV + JSONL)", static_cast<double>(manifest_bytes) / 1e6);
  std::printf("%-46s %14.1f\n", "peak RSS (MB)", static_cast<double>(peak_kb) / 1024.0);

  Json out = {{"codes", f.codes},
              {"pins", f.pins},
              {"cores", cores},
              {"raw_sign_per_s_before", static_cast<int64_t>(raw_before)},
              {"raw_sign_per_s_after", static_cast<int64_t>(raw_after)},
              {"issue_ms", static_cast<int64_t>(total_s * 1000)},
              {"issue_codes_per_s", static_cast<int64_t>(rate)},
              {"ratio_permille", static_cast<int64_t>(rate / raw * 1000)},
              {"parts", summary->parts.size()},
              {"manifest_bytes", manifest_bytes},
              {"peak_rss_kb", peak_kb}};
  std::printf("%s\n", out.dump().c_str());

  ledger.reset();
  if (!f.keep && f.dir.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) {
  traceledger::bench::ProgramName() = "issue_bench";
  try {
    return traceledger::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "issue_bench: %s\n", e.what());
    return 1;
  }
}
