// replica_bench: how fast a verifying replica syncs from its primary, with
// full verification, against the raw speed of BIP-340 verification on all
// cores measured in the same run.
//
//   replica_bench [--records N] [--block-records B] [--fetch-blocks F]
//                 [--body-bytes S] [--dir PATH] [--keep] [--audit]
//
// Steps, in one run:
//   a) raw verify: as in ingest_bench (bench_support.h), all cores;
//   b) primary: N custody records (~S-byte bodies, signed in parallel) on
//      an on-disk ledger sealing B records per block (sync = false; not the
//      measured figure);
//   c) the primary is served by the node routes (api/node_service.h) on a
//      loopback port;
//   d) sync: a fresh on-disk replica (Ledger::OpenMirror) follows it
//      (ledger::Follower over api::HttpBlockSource) until it holds the
//      primary's tip, F blocks per fetch: every block signature, signer,
//      link and root, every record's canonical form, signature and rules,
//      stored block by block with the last block of each fetch fsync'ed;
//   e) raw verify again; ratio = sync rate / the higher of the two raw
//      rates around the sync;
//   f) the replica's store equals the primary's (tip hash); with --audit,
//      a full audit of the replica.
// Primary and replica share the machine (and its cores), as on a one-box
// loopback test. Results are printed as a table, then as one line of JSON.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/node_service.h"
#include "bench/bench_support.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "ledger/replica.h"
#include "util/thread_pool.h"

namespace traceledger::bench {
namespace {

constexpr size_t kSignChunk = 32'768;  // records signed and submitted per round

struct Flags {
  uint64_t records = 200'000;
  uint64_t block_records = 1000;
  uint64_t fetch_blocks = ledger::kMaxRangeBlocks;
  uint64_t body_bytes = 300;
  std::string dir;
  bool keep = false;
  bool audit = false;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  FlagParser parser(
      "usage: replica_bench [--records N] [--block-records B] [--fetch-blocks F] [--body-bytes S]\n"
      "                     [--dir PATH] [--keep] [--audit]\n"
      "  --records N        records on the primary (default 200000)\n"
      "  --block-records B  records per block on the primary (default 1000)\n"
      "  --fetch-blocks F   blocks per fetch, at most 1000 (default 1000; the primary also caps\n"
      "                     a fetch at 8 MiB)\n"
      "  --body-bytes S     canonical body size of each record (default 300)\n"
      "  --dir PATH         working directory (default: a fresh temp dir)\n"
      "  --keep             keep both ledgers\n"
      "  --audit            audit the replica afterwards\n");
  parser.Count("--records", &f.records);
  parser.Count("--block-records", &f.block_records);
  parser.Count("--fetch-blocks", &f.fetch_blocks);
  parser.Count("--body-bytes", &f.body_bytes);
  parser.Text("--dir", &f.dir);
  parser.Switch("--keep", &f.keep);
  parser.Switch("--audit", &f.audit);
  parser.Parse(argc, argv);
  f.fetch_blocks = std::min<uint64_t>(f.fetch_blocks, ledger::kMaxRangeBlocks);
  return f;
}

// b) Fills the primary: records signed on all cores, kSignChunk at a time,
// each chunk submitted with SubmitBatch. Returns the body size.
size_t FillPrimary(ledger::Ledger& primary, const World& w, const Flags& f) {
  ThreadPool pool;
  size_t body_size = 0;
  CustodyRecord(w, 0, f.body_bytes, NowS(), &body_size);
  const int64_t time = NowS();
  std::vector<std::string> chunk;
  auto last_progress = Clock::now();
  for (uint64_t first = 0; first < f.records; first += kSignChunk) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kSignChunk, f.records - first));
    chunk.assign(n, {});
    pool.ParallelFor(n,
                     [&](size_t k) { chunk[k] = CustodyRecord(w, first + k, f.body_bytes, time, nullptr); });
    auto results = primary.SubmitBatch(chunk);
    for (const auto& r : results) {
      if (!r.ok()) Die("primary rejected a record: " + r.error().ToString());
    }
    if (Clock::now() - last_progress > std::chrono::seconds(3)) {
      last_progress = Clock::now();
      std::fprintf(stderr, "  primary: %s/%s records\n", Grouped(static_cast<double>(first + n)).c_str(),
                   Grouped(static_cast<double>(f.records)).c_str());
    }
  }
  return body_size;
}

int Main(int argc, char** argv) {
  const Flags f = ParseFlags(argc, argv);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const WorkDir work(f.dir, "traceledger-replica-bench");
  const std::string& dir = work.path();
  const std::string primary_path = dir + "/primary";
  const std::string replica_dir = dir + "/replica";
  std::filesystem::create_directories(replica_dir);
  std::fprintf(stderr,
               "replica_bench: %s records, %zu per block, fetch %zu blocks, body %zu B, %u cores, dir %s\n",
               Grouped(static_cast<double>(f.records)).c_str(), f.block_records, f.fetch_blocks, f.body_bytes,
               cores, dir.c_str());

  // a) Raw verification rate.
  std::fprintf(stderr, "a) raw BIP-340 verification, %.0f s on %u threads...\n", kVerifySeconds, cores);
  const VerifyResult verify = MeasureRawVerify();
  Report("raw BIP-340 verify",
         Format("%s verifications/s (%s in %.2f s, %zu threads)", Grouped(verify.per_s).c_str(),
                Grouped(static_cast<double>(verify.verified)).c_str(), verify.seconds, verify.threads));

  // b) The primary.
  std::fprintf(stderr, "b) building the primary...\n");
  World world;
  auto created = ledger::Ledger::Create(
      ledger::LedgerOptions{.path = primary_path, .max_block_records = f.block_records, .sync = false},
      world.operator_key, ledger::OperatorIdentity{.party = "operator", .name = "Bench operator"});
  if (!created.ok()) Die("create " + primary_path + ": " + created.error().message);
  std::unique_ptr<ledger::Ledger> primary = std::move(created).value();
  SetUp(*primary, world);
  const auto build_start = Clock::now();
  const size_t body_size = FillPrimary(*primary, world, f);
  const double build_seconds = Seconds(Clock::now() - build_start);
  const chain::Tip primary_tip = *primary->tip();
  const uint64_t records = primary_tip.frontier.size();
  const uint64_t blocks = primary_tip.height + 1;
  Report("primary (setup, not measured)",
         Format("%s records in %s blocks (%.0f records/block), built in %.1f s; body %zu B",
                Grouped(static_cast<double>(records)).c_str(), Grouped(static_cast<double>(blocks)).c_str(),
                static_cast<double>(records) / static_cast<double>(blocks), build_seconds, body_size));

  // c) Served on loopback.
  api::NodeService service(*primary, api::NodeOptions{});
  api::HttpServer server(api::ServerOptions{});
  service.Register(server);
  auto port = server.Start();
  if (!port.ok()) Die(port.error());
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);

  // d) Sync, bracketed by raw verification measurements.
  const VerifyResult verify_before = MeasureRawVerify();
  std::fprintf(stderr, "d) replica syncing from %s...\n", url.c_str());
  auto mirror = ledger::Ledger::OpenMirror(ledger::LedgerOptions{.path = replica_dir + "/ledger"});
  if (!mirror.ok()) Die("open replica: " + mirror.error().message);
  api::HttpBlockSource source(url);
  ledger::Follower follower(
      **mirror, source,
      ledger::FollowerOptions{.data_dir = replica_dir,
                              .max_blocks_per_fetch = static_cast<uint32_t>(f.fetch_blocks)});
  const bool hwm_reset = ResetPeakRss();
  const uint64_t rss_before = StatusKb("VmRSS");
  const auto sync_start = Clock::now();
  RssWatcher watcher([&] {
    auto tip = (*mirror)->tip();
    const uint64_t done = tip ? tip->frontier.size() : 0;
    std::fprintf(stderr, "  sync: %s/%s records, %s records/s, RSS %.0f MB\n",
                 Grouped(static_cast<double>(done)).c_str(), Grouped(static_cast<double>(records)).c_str(),
                 Grouped(static_cast<double>(done) / Seconds(Clock::now() - sync_start)).c_str(),
                 Mb(StatusKb("VmRSS")));
  });
  const ledger::Follower::Round round = follower.SyncOnce();
  const double sync_seconds = Seconds(Clock::now() - sync_start);
  const uint64_t rss_peak = watcher.Stop();
  const VerifyResult verify_after = MeasureRawVerify();
  if (round != ledger::Follower::Round::kCaughtUp)
    Die("sync did not finish: " + follower.status().last_error);
  const ledger::FollowerStatus status = follower.status();
  const double sync_rate = static_cast<double>(status.records_synced) / sync_seconds;
  const double verify_around = std::max(verify_before.per_s, verify_after.per_s);
  const double ratio = sync_rate / verify_around;
  Report("replica sync (full verification)",
         Format("%s records in %s blocks in %.2f s = %s records/s (%s blocks/s)",
                Grouped(static_cast<double>(status.records_synced)).c_str(),
                Grouped(static_cast<double>(status.blocks_synced)).c_str(), sync_seconds,
                Grouped(sync_rate).c_str(),
                Grouped(static_cast<double>(status.blocks_synced) / sync_seconds).c_str()));
  Report("sync memory", Format("VmRSS %.0f MB before, peak %.0f MB sampled%s", Mb(rss_before), Mb(rss_peak),
                               hwm_reset ? "" : " (VmHWM not resettable)"));
  Report("raw verify around sync", Format("%s/s before, %s/s after", Grouped(verify_before.per_s).c_str(),
                                          Grouped(verify_after.per_s).c_str()));
  Report("sync rate / raw verify rate",
         Format("%.3f (%.1f%% of the higher raw verification rate around the sync)", ratio, 100.0 * ratio));

  // f) Same ledger.
  const bool same = (*mirror)->tip()->block_hash == primary_tip.block_hash;
  Report("replica tip", same ? "equals the primary's" : "DIFFERS from the primary's");
  bool audit_ok = true;
  if (f.audit) {
    const auto audit_start = Clock::now();
    ledger::AuditReport report = ledger::Audit((*mirror)->store());
    audit_ok = report.ok;
    Report("replica audit",
           Format("%s in %.2f s%s", report.ok ? "ok" : "FAILED", Seconds(Clock::now() - audit_start),
                  report.ok ? "" : (": " + report.reason).c_str()));
  }
  server.Stop();

  PrintTable(Format(
      "TraceLedger replica sync benchmark: %s records, %zu per block, fetch %zu blocks, body %zu B, %u cores",
      Grouped(static_cast<double>(records)).c_str(), f.block_records, f.fetch_blocks, body_size, cores));
  Json summary = {{"records", records},
                  {"blocks", blocks},
                  {"block_records", f.block_records},
                  {"fetch_blocks", f.fetch_blocks},
                  {"body_bytes", body_size},
                  {"cores", cores},
                  {"raw_verify_per_s", verify.per_s},
                  {"raw_verify_around_sync_per_s", verify_around},
                  {"sync_seconds", sync_seconds},
                  {"sync_records_per_s", sync_rate},
                  {"sync_blocks_per_s", static_cast<double>(status.blocks_synced) / sync_seconds},
                  {"sync_to_verify_ratio", ratio},
                  {"sync_rss_peak_mb", Mb(rss_peak)},
                  {"replica_equals_primary", same}};
  std::printf("%s\n", summary.dump().c_str());
  std::fflush(stdout);

  mirror->reset();
  primary.reset();
  work.CleanUp(f.keep, {primary_path, replica_dir});
  return same && audit_ok ? 0 : 1;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) {
  return traceledger::bench::RunBench("replica_bench", traceledger::bench::Main, argc, argv);
}
