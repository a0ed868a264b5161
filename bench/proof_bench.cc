// proof_bench: how long RFC 9162 proofs take to generate from the store's
// node hashes on a large log, against the cost of one random read of a
// stored hash measured in the same run (the floor any proof pays).
//
//   proof_bench [--records N] [--block B] [--entry-bytes E] [--proofs P]
//               [--dir PATH] [--keep] [--reuse]
//
// Steps, in one run:
//   a) build: N synthetic entries of E bytes in blocks of B, written with
//      Store::AppendBlock (which also writes the node hashes) without fsync,
//      one BIP-340 block signature per block; records/s;
//   b) reopen the store (the block cache starts empty);
//   c) P random single-hash reads (Store::GetNodes(0, i, 1)): the peer;
//   d) P inclusion proofs for random indexes in the whole tree, P
//      consistency proofs from a random old size to the whole tree, and P
//      between two random sizes; p50 / p99 / max of each, and p50 as a
//      multiple of the peer's p50. Every proof is verified (outside the
//      timing) against roots computed from the node hashes.
// Each operation is timed twice: wall clock, and the calling thread's CPU
// time (CLOCK_THREAD_CPUTIME_ID). On a shared machine the wall-clock tail
// includes time spent waiting for a core; the CPU-time columns do not. The
// 1-minute load average is printed with the results.
// --reuse measures an existing store in --dir (from an earlier --keep run)
// instead of building one, e.g. after its compactions have finished.
// Results are printed as a table, then as one line of JSON.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "chain/block.h"
#include "chain/merkle.h"
#include "chain/proof.h"
#include "chain/store.h"
#include "wallet/key.h"

namespace traceledger::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double LoadAverage() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

// Times fn() in wall-clock and thread-CPU microseconds.
template <typename Fn>
void Time(std::vector<double>& wall, std::vector<double>& cpu, Fn&& fn) {
  const double c0 = ThreadCpuMicros();
  auto t0 = Clock::now();
  fn();
  wall.push_back(Micros(Clock::now() - t0));
  cpu.push_back(ThreadCpuMicros() - c0);
}

struct Stats {
  double p50 = 0, p99 = 0, max = 0;
};

Stats Summarize(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))];
  };
  return Stats{at(0.50), at(0.99), us.back()};
}

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "proof_bench: %s\n", why.c_str());
  std::exit(1);
}

uint64_t ArgU64(int& i, int argc, char** argv) {
  if (i + 1 >= argc) Die(std::string(argv[i]) + " needs a value");
  return std::strtoull(argv[++i], nullptr, 10);
}

int Main(int argc, char** argv) {
  uint64_t records = 10'000'000, block = 100'000, entry_bytes = 64, proofs = 5000;
  std::string dir = "/tmp/traceledger-proof-bench";
  bool keep = false, reuse = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--records") {
      records = ArgU64(i, argc, argv);
    } else if (a == "--block") {
      block = ArgU64(i, argc, argv);
    } else if (a == "--entry-bytes") {
      entry_bytes = ArgU64(i, argc, argv);
    } else if (a == "--proofs") {
      proofs = ArgU64(i, argc, argv);
    } else if (a == "--dir") {
      if (i + 1 >= argc) Die("--dir needs a value");
      dir = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else if (a == "--reuse") {
      reuse = true;
    } else {
      Die("unknown flag " + a);
    }
  }
  if (records < 2 || block == 0 || block > chain::kMaxBlockRecords || entry_bytes < 16 || proofs == 0) {
    Die("need --records >= 2, 1 <= --block <= 1000000, --entry-bytes >= 16, --proofs >= 1");
  }
  const std::string path = dir + "/db";
  if (!reuse) std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // a) build
  const wallet::SecretKey key = wallet::SecretKey::Generate();
  auto build_start = Clock::now();
  if (!reuse) {
    auto opened = chain::Store::Open(chain::StoreOptions{.path = path});
    if (!opened.ok()) Die(opened.error().message);
    chain::Store& store = **opened;
    chain::MerkleFrontier frontier;
    chain::Hash prev{};
    std::vector<std::string> entries;
    for (uint64_t height = 0, done = 0; done < records; ++height) {
      const uint64_t n = std::min(block, records - done);
      entries.clear();
      for (uint64_t k = 0; k < n; ++k) {
        std::string e = "{\"i\":" + std::to_string(done + k) + ",\"pad\":\"";
        e.resize(entry_bytes - 2, 'x');
        e += "\"}";
        frontier.AppendLeaf(chain::LeafHash(e));
        entries.push_back(std::move(e));
      }
      chain::BlockHeader h{.height = height,
                           .prev_hash = prev,
                           .tree_size = frontier.size(),
                           .root = frontier.Root(),
                           .timestamp_ms = height,
                           .record_count = static_cast<uint32_t>(n),
                           .signer = key.Public().bytes()};
      auto r = store.AppendBlock(chain::SignedBlock::Seal(h, key), entries, frontier, chain::WriteSet(),
                                 /*sync=*/false);
      if (!r.ok()) Die(r.error().message);
      prev = h.ComputeHash();
      done += n;
    }
  }
  const double build_s = reuse ? 0.0 : Micros(Clock::now() - build_start) / 1e6;

  // b) reopen
  auto reopened = chain::Store::Open(chain::StoreOptions{.path = path, .create_if_missing = false});
  if (!reopened.ok()) Die(reopened.error().message);
  std::unique_ptr<chain::Store> owned = std::move(reopened).value();
  const chain::Store& store = *owned;
  const uint64_t size = store.tip()->frontier.size();
  const chain::Hash root = store.tip()->frontier.Root();
  chain::StoreNodeSource nodes(store);
  std::mt19937_64 rng(20261121);
  auto below = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };

  // c) the peer: one random stored hash
  std::vector<double> read_us, read_cpu;
  for (uint64_t k = 0; k < proofs; ++k) {
    const uint64_t i = below(size);
    std::optional<chain::StoreResult<std::vector<chain::Hash>>> h;
    Time(read_us, read_cpu, [&] { h = store.GetNodes(0, i, 1); });
    if (!h->ok()) Die(h->error().message);
  }

  // d) proofs
  using ProofHashes = chain::ProofResult<std::vector<chain::Hash>>;
  std::vector<double> inclusion_us, inclusion_cpu, consistency_us, consistency_cpu, pair_us, pair_cpu;
  uint64_t hashes = 0;
  for (uint64_t k = 0; k < proofs; ++k) {
    const uint64_t i = below(size);
    std::optional<ProofHashes> p;
    Time(inclusion_us, inclusion_cpu, [&] { p = chain::InclusionProof(nodes, i, size); });
    if (!p->ok()) Die(p->error().message);
    hashes += (*p)->size();
    auto leaf = store.GetNodes(0, i, 1);
    if (!leaf.ok() || !chain::VerifyInclusion(i, size, (*leaf)[0], **p, root).ok())
      Die("bad inclusion proof");
  }
  for (uint64_t k = 0; k < proofs; ++k) {
    const uint64_t m = 1 + below(size - 1);
    std::optional<ProofHashes> p;
    Time(consistency_us, consistency_cpu, [&] { p = chain::ConsistencyProof(nodes, m, size); });
    if (!p->ok()) Die(p->error().message);
    if (k % 16 == 0) {  // the old root costs a RootAt; check a sample
      auto old_root = chain::RootAt(nodes, m);
      if (!old_root.ok() || !chain::VerifyConsistency(m, size, *old_root, root, **p).ok()) {
        Die("bad consistency proof");
      }
    }
  }
  for (uint64_t k = 0; k < proofs; ++k) {
    uint64_t a = 1 + below(size), b = 1 + below(size);
    if (a > b) std::swap(a, b);
    std::optional<ProofHashes> p;
    Time(pair_us, pair_cpu, [&] { p = chain::ConsistencyProof(nodes, a, b); });
    if (!p->ok()) Die(p->error().message);
  }
  const Stats read = Summarize(read_us), inc = Summarize(inclusion_us), con = Summarize(consistency_us),
              pair = Summarize(pair_us), read_c = Summarize(read_cpu), inc_c = Summarize(inclusion_cpu),
              con_c = Summarize(consistency_cpu), pair_c = Summarize(pair_cpu);

  std::printf("proof_bench: %" PRIu64 " records of %" PRIu64 " bytes in blocks of %" PRIu64 ", %" PRIu64
              " samples each\n",
              records, entry_bytes, block, proofs);
  std::printf("  build (AppendBlock, no fsync)   %8.1f s   %10.0f records/s\n", build_s,
              static_cast<double>(records) / build_s);
  std::printf("  load average (1 min) %.2f on %u cores\n", LoadAverage(),
              std::thread::hardware_concurrency());
  std::printf("  %-34s %9s %9s %9s %9s %9s %9s\n", "operation (microseconds)", "wall p50", "wall p99",
              "wall max", "cpu p50", "cpu p99", "p50/read");
  auto row = [&](const char* name, const Stats& w, const Stats& c) {
    std::printf("  %-34s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", name, w.p50, w.p99, w.max, c.p50, c.p99,
                w.p50 / read.p50);
  };
  row("random stored-hash read (peer)", read, read_c);
  row("inclusion proof, whole tree", inc, inc_c);
  row("consistency proof, m -> whole tree", con, con_c);
  row("consistency proof, random m -> n", pair, pair_c);
  std::printf("  mean inclusion proof length %.1f hashes\n",
              static_cast<double>(hashes) / static_cast<double>(proofs));
  std::printf("{\"records\":%" PRIu64
              ",\"build_s\":%.2f,\"read_p50_us\":%.1f,\"inclusion_p50_us\":%.1f,"
              "\"inclusion_p99_us\":%.1f,\"consistency_p50_us\":%.1f,\"consistency_p99_us\":%.1f,"
              "\"pair_p50_us\":%.1f,\"pair_p99_us\":%.1f,\"inclusion_cpu_p99_us\":%.1f,"
              "\"consistency_cpu_p99_us\":%.1f,\"pair_cpu_p99_us\":%.1f,\"load\":%.2f}\n",
              size, build_s, read.p50, inc.p50, inc.p99, con.p50, con.p99, pair.p50, pair.p99, inc_c.p99,
              con_c.p99, pair_c.p99, LoadAverage());
  owned.reset();
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) { return traceledger::bench::Main(argc, argv); }
