// Verifying replicas: a node that mirrors a primary's ledger and trusts
// nothing the primary sends it.
//
// Replica::Apply takes blocks as the primary stored them (header ||
// signature, and the entries' canonical bytes) and verifies each one
// completely before storing it — the chain rules of FORMAT.md §6.3 and
// every record under §7, with the same functions the committer and the
// auditor use (rules.h, CheckBlockSigner) — then stores it through
// Ledger::AppendVerified exactly as the primary stored it: block, entries,
// the facts its records create and the new tip, in one atomic write. So
// reads on a replica answer what they answer on the primary, and `tracectl
// audit` passes on both.
//
// Follower is the loop around it: it polls the primary's tip, fetches
// block ranges through a BlockSource (api/node_service.h implements it over
// HTTP), applies them, retries with back-off while the primary is down,
// and resumes from the local tip after a restart. If the primary ever
// serves two different histories — a block at a height the replica holds
// that differs from the replica's, or a block at the height of a tip it
// announced earlier that differs from that tip — the follower writes the
// evidence to <data>/fork-evidence-<time>.json, persists a halt marker
// (<data>/replica-halted.json) that keeps it halted across restarts until
// an operator removes it, logs an alarm and stops following. Reads of the
// verified history continue.
//
// Transfer format (FORMAT.md §13): a block range is framed in binary —
// EncodeBlockRange / DecodeBlockRange — so the bytes a replica verifies are
// byte for byte the bytes the primary stored.
#ifndef TRACELEDGER_LEDGER_REPLICA_H_
#define TRACELEDGER_LEDGER_REPLICA_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chain/block.h"
#include "chain/checkpoint.h"
#include "chain/store.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/record.h"
#include "util/result.h"
#include "util/thread_pool.h"

namespace traceledger::ledger {

// ------------------------------------------------------------ transfer

// One block as nodes exchange it: the stored block (header || signature,
// chain::kSignedBlockSize bytes) and its entries, in log order.
struct TransferredBlock {
  std::string block;
  std::vector<std::string> entries;
};

// Consecutive blocks starting at height `from`, and the stored block at
// from − 1 (absent when from = 0): the block the range links to, so that a
// replica can compare it with its own without another request.
struct BlockRange {
  uint64_t from = 0;
  std::optional<std::string> link;
  std::vector<TransferredBlock> blocks;
};

// Limits a decoder enforces on untrusted bytes.
inline constexpr uint32_t kMaxRangeBlocks = 1000;
inline constexpr size_t kMaxRangeBytes = size_t{8} << 20;  // a range stops growing past this

// FORMAT.md §13. REQUIRES: every block parses and holds as many entries as
// its record_count says.
std::string EncodeBlockRange(const BlockRange& range);
// Parses a range; returns what is wrong (offset and field) otherwise. At
// most `max_blocks` blocks are accepted.
[[nodiscard]] Result<BlockRange, std::string> DecodeBlockRange(std::string_view bytes,
                                                               uint32_t max_blocks = kMaxRangeBlocks);

// Reads up to `max_blocks` blocks from `from` on, stopping after the block
// that takes the range past `max_bytes` (so at least one block whenever
// `from` is at or below the tip). An empty range when from > tip.
[[nodiscard]] chain::StoreResult<BlockRange> ReadBlockRange(const chain::Store& store, uint64_t from,
                                                            uint32_t max_blocks,
                                                            size_t max_bytes = kMaxRangeBytes);

// A block as JSON: its header fields (hashes and keys in hex), the block
// hash, the signature and the stored form ("block", 384 hex digits).
Json DescribeBlock(const chain::SignedBlock& block);

// ---------------------------------------------------------- verification

enum class ReplicaErrorCode {
  kMalformed,          // the block does not parse, or its entries do not match record_count
  kWrongHeight,        // not the height after the replica's tip (or the previous block)
  kBrokenLink,         // prev_hash is not the hash of the block before it
  kWrongTreeSize,      // first index is not the replica's log size
  kTimestamp,          // block time goes backwards
  kBadBlockSignature,  // the signature does not verify under the header's signer
  kBadSigner,          // the signer is not an active operator key as of the block
  kBadRecord,          // an entry is not a valid record at its index (see reject)
  kWrongRoot,          // the RFC 9162 root after the block differs from the header's
  kStore,              // reading state or storing failed
};
std::string_view ReplicaErrorCodeName(ReplicaErrorCode code);

struct ReplicaError {
  ReplicaErrorCode code = ReplicaErrorCode::kMalformed;
  uint64_t height = 0;            // the block at fault
  std::optional<uint64_t> index;  // kBadRecord: the entry's log index
  std::optional<Reject> reject;   // kBadRecord: why the rules refuse it
  std::string message;

  // "bad_record at height 12: record at index 40: unauthorized: author: ..."
  std::string ToString() const;
};

struct ReplicaOptions {
  size_t threads = 0;  // signature verification pool; 0: one per core
  int64_t max_clock_skew_s = 300;
  bool sync = true;  // fsync the last block stored by each Apply call
};

struct ApplyResult {
  uint64_t blocks = 0;                // verified and stored, from the front
  uint64_t records = 0;               // in those blocks
  std::optional<ReplicaError> error;  // why the next block was refused
};

// Verifies and stores blocks on a mirror ledger (Ledger::OpenMirror).
// Thread-safety: one Apply at a time; reads of the ledger may run
// concurrently.
class Replica {
 public:
  Replica(Ledger& ledger, ReplicaOptions options = {});

  // Verifies `blocks` in order — the first must extend the replica's tip,
  // each next one the block before it — and stores every block that
  // passes, stopping at the first that does not: nothing of that block or
  // the ones after it is stored. Signatures are verified on all cores;
  // rules are applied in log order.
  ApplyResult Apply(std::span<const TransferredBlock> blocks);

 private:
  Ledger& ledger_;
  ReplicaOptions options_;
  ThreadPool pool_;
};

// -------------------------------------------------------------- follower

struct SourceError {
  std::string message;  // transport or protocol failure; the follower retries
};

// The primary, as the follower sees it.
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  // Where the blocks come from (a URL), for logs and evidence.
  virtual std::string Name() const = 0;
  // The primary's last block (stored form), or nullopt when it has none.
  virtual Result<std::optional<std::string>, SourceError> TipBlock() = 0;
  // Up to `max_blocks` blocks from `from` on, and the block at from − 1.
  virtual Result<BlockRange, SourceError> Blocks(uint64_t from, uint32_t max_blocks) = 0;
};

// Two versions of the block at one height, both served by the primary
// (or one stored by the replica after verifying it).
struct ForkEvidence {
  uint64_t height = 0;
  std::string reason;
  std::string first;          // stored block: what the replica holds, or the tip seen earlier
  std::string first_source;   // e.g. "replica's verified ledger"
  std::string second;         // stored block the primary serves now
  std::string second_source;  // e.g. "GET /v1/blocks?from=…"
};

enum class FollowState {
  kStarting,  // no round finished yet
  kSyncing,   // fetching and applying
  kCaughtUp,  // holds the primary's tip
  kBehind,    // the primary's tip is below ours (it lost blocks, or is another lagging node)
  kRetrying,  // the last round failed (primary down, bad block); backing off
  kHalted,    // fork detected: not following, see alarm
};
std::string_view FollowStateName(FollowState state);

struct FollowerStatus {
  FollowState state = FollowState::kStarting;
  std::optional<uint64_t> primary_height;  // highest tip the primary announced
  uint64_t blocks_synced = 0;              // by this follower since it started
  uint64_t records_synced = 0;
  std::string last_error;     // kRetrying: why
  std::string alarm;          // kHalted: why
  std::string evidence_path;  // kHalted: the evidence file
};

// Structured log sink: level ("info", "warn", "error", "alarm"), event
// name, fields.
using LogSink = std::function<void(std::string_view level, std::string_view event, const Json& fields)>;

struct FollowerOptions {
  std::string data_dir;  // evidence files and the halt marker go here
  uint32_t max_blocks_per_fetch = kMaxRangeBlocks;
  int poll_interval_ms = 1000;  // between rounds once caught up
  int min_backoff_ms = 250;     // after a failed round, doubling up to
  int max_backoff_ms = 30'000;
  ReplicaOptions replica;
  std::function<int64_t()> clock_ms;  // Unix ms; default: system clock
  LogSink log;
  // Hook for checkpoint consistency (the proofs branch): called after each
  // round that reached the primary's tip, with the replica's ledger and
  // the source. Returning evidence halts the follower exactly like a
  // forked block: e.g. a checkpoint the primary signed that is not
  // consistent with a checkpoint of our verified history.
  std::function<std::optional<ForkEvidence>(const Ledger& ledger, BlockSource& source)> check_consistency;
};

// Checks a checkpoint the primary serves (a signed note, C2SP
// tlog-checkpoint) against the replica's verified history:
//   kInvalid    it does not parse or is not signed by the operator key of
//               the replica's tip block (not evidence of anything: anyone
//               on the path could have made it up)
//   kAhead      its tree is larger than the replica's: check again later
//   kConsistent its root equals the replica's root at that size
//   kFork       signed by the operator, but over another root than the
//               replica's verified ledger has at that size; `evidence`
//               holds the replica's checkpoint (unsigned: origin, size and
//               its own root) and the primary's signed one.
struct CheckpointCheck {
  enum class Verdict { kInvalid, kAhead, kConsistent, kFork };
  Verdict verdict = Verdict::kInvalid;
  uint64_t size = 0;  // the checkpoint's tree size, once parsed
  std::string message;
  std::optional<ForkEvidence> evidence;  // kFork
};
CheckpointCheck CheckPrimaryCheckpoint(const Ledger& ledger, std::string_view note, std::string_view source);

class Follower {
 public:
  enum class Round { kCaughtUp, kBehind, kRetry, kHalted, kStopped };

  // REQUIRES: ledger.is_mirror(). If the halt marker exists, starts halted.
  Follower(Ledger& ledger, BlockSource& source, FollowerOptions options);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // One round: fetch the primary's tip, check it against what we hold and
  // saw, and fetch, verify and store ranges until we hold that tip.
  Round SyncOnce();
  // Rounds until Stop() or a halt: polls every poll_interval_ms once
  // caught up, backs off after failures.
  void Run();
  // Makes Run (and a SyncOnce in progress, between ranges) return soon.
  // Thread-safe.
  void Stop();

  FollowerStatus status() const;
  bool halted() const;

  static std::string HaltMarkerPath(const std::string& data_dir);

 private:
  Round Fail(std::string message);
  Round Halt(const ForkEvidence& evidence);
  Round CaughtUp();
  void Log(std::string_view level, std::string_view event, const Json& fields) const;
  void SetState(FollowState state);
  bool Sleep(int ms);  // false when stopped

  Ledger& ledger_;
  BlockSource& source_;
  FollowerOptions options_;
  Replica replica_;
  std::optional<std::string> last_seen_tip_;  // stored block; highest announced
  int64_t last_progress_log_ms_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  FollowerStatus status_;  // GUARDED_BY(mu_)
  std::atomic<bool> stop_{false};
};

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_REPLICA_H_
