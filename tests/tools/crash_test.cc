// Crash recovery: runs tests/tools/ingest_child.cc, kills it with SIGKILL
// at a random moment and checks, from the files it left behind, that
//   - every record it acknowledged is in the ledger (acknowledged = durable),
//   - the ledger passes a full audit (signatures, rules, Merkle roots,
//     index facts), and
//   - no block is partial: the tip's tree size is the sum of the blocks'
//     record counts and no entry lies beyond it.
// Fresh directories test kills at every stage, including ledger creation;
// sequences on one directory test that a restarted writer continues a
// ledger left by a killed one. The anti-counterfeit scan store
// (tests/tools/scan_child.cc) is held to the same promise: every
// acknowledged scan survives SIGKILL.
//
// The kill times come from a seeded RNG. The base seed is printed; set
// TRACELEDGER_CRASH_SEED to replay a run. TRACELEDGER_KEEP_TEMP=1 keeps the
// data directories for inspection.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "chain/hash.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "tests/temp_dir.h"
#include "qrcode/scan_store.h"

extern char** environ;

namespace traceledger::tools {
namespace {

using Clock = std::chrono::steady_clock;

uint64_t BaseSeed() { return traceledger::testing::TestSeed(); }

// splitmix64: derives independent per-trial seeds from the base seed.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t TrialSeed(uint64_t suite, uint64_t param, uint64_t trial) {
  return Mix(Mix(Mix(BaseSeed() ^ suite) ^ param) ^ trial);
}

using traceledger::testing::TempDir;

struct ChildRun {
  std::vector<std::string> acked;  // complete ack lines, in arrival order
  int status = 0;                  // from waitpid
  int64_t ran_ms = 0;              // spawn to kill
};

enum class KillClock {
  kFromSpawn,     // the delay starts at spawn: kills land anywhere, even in Create
  kFromFirstAck,  // the delay starts at the first ack: kills land mid-ingest
};

// Starts `program` (ingest_child or scan_child) on `dir`, lets it run `delay_ms` (counted per
// `clock`), kills it with SIGKILL and returns every complete line it wrote.
ChildRun RunAndKill(const std::string& dir, uint64_t child_seed, int delay_ms, KillClock clock,
                    std::string program = TRACELEDGER_INGEST_CHILD) {
  ChildRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return run;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::string seed_text = std::to_string(child_seed);
  std::vector<char*> argv = {program.data(), const_cast<char*>(dir.c_str()), seed_text.data(), nullptr};
  pid_t pid = 0;
  const auto start = Clock::now();
  int spawned = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    ADD_FAILURE() << "posix_spawn " << program << ": " << std::strerror(spawned);
    return run;
  }

  std::string buffer;
  bool eof = false;
  auto read_some = [&](int timeout_ms) {
    pollfd p{.fd = fds[0], .events = POLLIN, .revents = 0};
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready <= 0) return;
    char chunk[65536];
    ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      eof = true;
    }
  };
  auto deadline = start + std::chrono::milliseconds(delay_ms);
  if (clock == KillClock::kFromFirstAck) {
    // Generous bound: the child needs well under a second to start.
    const auto give_up = start + std::chrono::seconds(60);
    while (!eof && buffer.find('\n') == std::string::npos && Clock::now() < give_up) read_some(100);
    EXPECT_NE(buffer.find('\n'), std::string::npos) << "the child acknowledged nothing within 60 s";
    deadline = Clock::now() + std::chrono::milliseconds(delay_ms);
  }
  while (!eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    read_some(static_cast<int>(left));
  }
  ::kill(pid, SIGKILL);
  run.ran_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  while (!eof) read_some(-1);  // drain what the child wrote before dying
  ::close(fds[0]);
  while (::waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
  }

  // Only complete lines count: a torn last line was never fully reported.
  size_t pos = 0;
  for (size_t nl; (nl = buffer.find('\n', pos)) != std::string::npos; pos = nl + 1) {
    run.acked.push_back(buffer.substr(pos, nl - pos));
  }
  return run;
}

std::string DescribeStatus(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "status " + std::to_string(status);
}

struct LedgerFacts {
  bool exists = false;
  uint64_t height = 0;
  uint64_t records = 0;
};

// Opens the ledger a killed child left in `dir` read-only and checks it
// (see the file comment). `acked` holds every id acknowledged in `dir` so
// far, by this and earlier runs.
LedgerFacts CheckLedger(const std::string& dir, const std::vector<std::string>& acked) {
  LedgerFacts facts;
  auto opened = ledger::Ledger::Open(ledger::LedgerOptions{.path = dir + "/ledger"}, std::nullopt);
  if (!opened.ok()) {
    // Killed before the genesis block was durable: then nothing can have
    // been acknowledged.
    EXPECT_EQ(static_cast<int>(opened.error().code), static_cast<int>(ledger::LedgerErrorCode::kNoGenesis))
        << opened.error().message;
    EXPECT_TRUE(acked.empty()) << acked.size() << " records were acknowledged but there is no ledger: "
                               << opened.error().message;
    return facts;
  }
  const ledger::Ledger& ledger = **opened;
  auto tip = ledger.tip();
  if (!tip) {
    ADD_FAILURE() << "an opened ledger has no tip";
    return facts;
  }
  facts.exists = true;
  facts.height = tip->height;
  facts.records = tip->frontier.size();

  // No partial block: the blocks' counts add up to the tip, each header's
  // tree size is the running sum, and nothing lies beyond the tip.
  uint64_t sum = 0;
  for (uint64_t h = 0; h <= tip->height; ++h) {
    auto block = ledger.GetBlock(h);
    if (!block.ok() || !block->has_value()) {
      ADD_FAILURE() << "block " << h << " of " << tip->height << " is unreadable or missing";
      return facts;
    }
    sum += (*block)->header.record_count;
    EXPECT_EQ((*block)->header.tree_size, sum) << "block " << h;
  }
  EXPECT_EQ(sum, tip->frontier.size()) << "the blocks' record counts do not add up to the tip's tree size";
  auto beyond = ledger.store().GetEntry(tip->frontier.size());
  if (!beyond.ok()) {
    ADD_FAILURE() << beyond.error().message;
  } else {
    EXPECT_FALSE(beyond->has_value())
        << "an entry lies beyond the tip (index " << tip->frontier.size() << ")";
  }
  auto next_block = ledger.GetBlock(tip->height + 1);
  if (!next_block.ok()) {
    ADD_FAILURE() << next_block.error().message;
  } else {
    EXPECT_FALSE(next_block->has_value()) << "a block lies beyond the tip";
  }

  // Acknowledged means durable.
  size_t missing = 0;
  for (const auto& hex : acked) {
    auto id = chain::HashFromHex(hex);
    if (!id) {
      ADD_FAILURE() << "the child wrote a line that is not a record id: \"" << hex << "\"";
      continue;
    }
    auto stored = ledger.GetRecord(*id);
    if (!stored.ok()) {
      ADD_FAILURE() << "GetRecord(" << hex << "): " << stored.error().message;
    } else if (!stored->has_value() && ++missing <= 5) {
      ADD_FAILURE() << "acknowledged record " << hex << " is not in the ledger";
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged records";
  EXPECT_GE(facts.records, acked.size() + 1) << "fewer records than acknowledgements (+ genesis)";

  ledger::AuditReport report = ledger::Audit(ledger.store());
  EXPECT_TRUE(report.ok) << "audit failed at block " << report.bad_height << ": " << report.reason;
  EXPECT_EQ(report.records, facts.records);
  EXPECT_EQ(report.blocks, facts.height + 1);
  return facts;
}

// One trial: run, kill after a random delay in [min_ms, max_ms], check.
// Returns the number of acks.
size_t Trial(const std::string& dir, uint64_t seed, KillClock clock, std::vector<std::string>& acked_so_far,
             const std::string& label, int min_ms = 50, int max_ms = 400) {
  std::mt19937_64 rng(seed);
  const int delay_ms = min_ms + static_cast<int>(rng() % static_cast<uint64_t>(max_ms - min_ms + 1));
  const uint64_t child_seed = rng() % 1'000'000'000;
  SCOPED_TRACE(label + " seed=" + std::to_string(seed) + " delay=" + std::to_string(delay_ms) + "ms");
  ChildRun run = RunAndKill(dir, child_seed, delay_ms, clock);
  EXPECT_TRUE(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL)
      << "the child did not run until the kill: " << DescribeStatus(run.status) << " (its stderr is above)";
  acked_so_far.insert(acked_so_far.end(), run.acked.begin(), run.acked.end());
  LedgerFacts facts = CheckLedger(dir, acked_so_far);
  std::cout << "[ crash    ] " << label << ": seed " << seed << ", killed after " << run.ran_ms << " ms ("
            << (clock == KillClock::kFromSpawn ? "from spawn" : "from first ack") << "), " << run.acked.size()
            << " acked, ledger " << (facts.exists ? "" : "absent ") << "height " << facts.height << " with "
            << facts.records << " records\n";
  return run.acked.size();
}

// Each trial in its own new directory; the delay counts from spawn, so
// some kills land while the ledger is being created.
class CrashFreshDirTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashFreshDirTest, AcknowledgedRecordsSurviveSigkill) {
  TempDir dir;
  std::vector<std::string> acked;
  Trial(dir.path(), TrialSeed(1, static_cast<uint64_t>(GetParam()), 0), KillClock::kFromSpawn, acked,
        "fresh #" + std::to_string(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Trials, CrashFreshDirTest, ::testing::Range(0, 10));

// Several kills on one directory: each restart opens what the last child
// left and keeps ingesting. Every other trial kills mid-ingest for sure.
class CrashSameDirTest : public ::testing::TestWithParam<int> {};

TEST_P(CrashSameDirTest, RestartedWriterContinuesTheLedger) {
  constexpr int kRestarts = 5;
  TempDir dir;
  std::vector<std::string> acked;
  uint64_t previous_records = 0;
  for (int trial = 0; trial < kRestarts; ++trial) {
    const KillClock clock = trial % 2 == 1 ? KillClock::kFromFirstAck : KillClock::kFromSpawn;
    size_t n =
        Trial(dir.path(), TrialSeed(2, static_cast<uint64_t>(GetParam()), static_cast<uint64_t>(trial)),
              clock, acked, "same dir #" + std::to_string(GetParam()) + " run " + std::to_string(trial));
    if (clock == KillClock::kFromFirstAck) {
      EXPECT_GT(n, 0u) << "run " << trial;
    }
    if (HasFailure()) return;
    // The log only grows across restarts.
    auto opened = ledger::Ledger::Open(ledger::LedgerOptions{.path = dir.path() + "/ledger"}, std::nullopt);
    uint64_t records = opened.ok() ? (*opened)->tip()->frontier.size() : 0;
    EXPECT_GE(records, previous_records) << "run " << trial;
    previous_records = records;
  }
}

INSTANTIATE_TEST_SUITE_P(Sequences, CrashSameDirTest, ::testing::Range(0, 3));

// Kills during start-up (1..60 ms: creating the store, writing genesis,
// registering parties), repeatedly on one directory; each restart must
// complete what the last one left half done, and a final run must ingest.
TEST(CrashStartupTest, KillsDuringCreationLeaveARecoverableDirectory) {
  constexpr int kEarlyKills = 6;
  TempDir dir;
  std::vector<std::string> acked;
  for (int trial = 0; trial < kEarlyKills; ++trial) {
    Trial(dir.path(), TrialSeed(3, 0, static_cast<uint64_t>(trial)), KillClock::kFromSpawn, acked,
          "startup run " + std::to_string(trial), /*min_ms=*/1, /*max_ms=*/60);
    if (HasFailure()) return;
  }
  size_t n =
      Trial(dir.path(), TrialSeed(3, 0, kEarlyKills), KillClock::kFromFirstAck, acked, "startup final run");
  EXPECT_GT(n, 0u);
}

// The anti-counterfeit scan store (qrcode/scan_store.h): scan_child
// records scans and prints "<serial> <scan count>" after each returned
// update; after SIGKILL every acknowledged count is in the store (and at
// most the one update in flight beyond it), on every restart.
TEST(CrashScanStoreTest, AcknowledgedScansSurviveSigkill) {
  constexpr int kRuns = 4;
  TempDir dir;
  std::map<std::string, uint64_t> acked;  // highest acknowledged count per serial
  for (int run = 0; run < kRuns; ++run) {
    const uint64_t seed = TrialSeed(4, 0, static_cast<uint64_t>(run));
    std::mt19937_64 rng(seed);
    const int delay_ms = 50 + static_cast<int>(rng() % 400);
    SCOPED_TRACE("scan run " + std::to_string(run) + " seed=" + std::to_string(seed));
    ChildRun child = RunAndKill(dir.path(), seed, delay_ms, KillClock::kFromFirstAck, TRACELEDGER_SCAN_CHILD);
    EXPECT_TRUE(WIFSIGNALED(child.status) && WTERMSIG(child.status) == SIGKILL)
        << DescribeStatus(child.status);
    for (const auto& line : child.acked) {
      std::istringstream words(line);
      std::string serial;
      uint64_t scans = 0;
      ASSERT_TRUE(static_cast<bool>(words >> serial >> scans)) << line;
      acked[serial] = std::max(acked[serial], scans);
    }
    auto store = qrcode::ScanStore::Open(qrcode::ScanStoreOptions{.path = dir.path() + "/scans"});
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (const auto& [serial, count] : acked) {
      auto state = (*store)->Get("09501101530003", serial);
      ASSERT_TRUE(state.ok()) << state.error().message;
      ASSERT_TRUE(state->has_value()) << "acknowledged scans of " << serial << " are gone";
      EXPECT_GE((*state)->scans, count) << serial;
      EXPECT_LE((*state)->scans, count + 1) << serial << ": more scans than were made";
    }
    std::cout << "[ crash    ] scan run " << run << ": killed after " << child.ran_ms << " ms, "
              << child.acked.size() << " acknowledged scans, all present\n";
  }
}

}  // namespace
}  // namespace traceledger::tools
