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

#include "bench/bench_support.h"
#include "chain/hash.h"
#include "ledger/audit.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "wallet/key.h"

namespace traceledger::bench {
namespace {

constexpr size_t kGenChunk = 32'768;  // records signed per pre-generation round

struct Flags {
  uint64_t records = 1'000'000;
  uint64_t submitters = 64;
  uint64_t batch = 256;
  uint64_t body_bytes = 300;
  std::string dir;
  bool keep = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  FlagParser parser(
      "usage: ingest_bench [--records N] [--submitters T] [--batch B] [--body-bytes S]\n"
      "                    [--dir PATH] [--keep]\n"
      "  --records N     records to ingest (default 1000000)\n"
      "  --submitters T  submitting threads (default 64)\n"
      "  --batch B       records per SubmitBatch call (default 256)\n"
      "  --body-bytes S  canonical body size of each record (default 300)\n"
      "  --dir PATH      working directory (default: a fresh temp dir)\n"
      "  --keep          keep the ledger and the records file\n");
  parser.Count("--records", &f.records);
  parser.Count("--submitters", &f.submitters);
  parser.Count("--batch", &f.batch);
  parser.Count("--body-bytes", &f.body_bytes);
  parser.Text("--dir", &f.dir);
  parser.Switch("--keep", &f.keep);
  parser.Parse(argc, argv);
  return f;
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
  const WorkDir work(f.dir, "traceledger-bench");
  const std::string& dir = work.path();
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
  PrintTable(
      Format("TraceLedger ingest benchmark: %s records, %zu submitters, batch %zu, body %zu B, %u cores",
             Grouped(static_cast<double>(f.records)).c_str(), f.submitters, f.batch, f.body_bytes, cores));
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

  work.CleanUp(f.keep, {ledger_path, records_path});
  const bool ok = ingest.rejected == 0 && audit_facts.ok && audit_plain.ok;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) {
  return traceledger::bench::RunBench("ingest_bench", traceledger::bench::Main, argc, argv);
}
