// Store: the LevelDB-backed home of the log, and the only code in
// TraceLedger that touches leveldb::. LevelDB stays behind a pimpl.
//
// Keyspace (docs/FORMAT.md, "Store layout"):
//   'B' + height (8 bytes BE)  -> signed block (192 bytes)
//   'E' + index  (8 bytes BE)  -> log entry (a record's canonical bytes)
//   'H' + level (1 byte) + index (8 bytes BE)
//                              -> node hash: root of the perfect subtree of
//                                 leaves [index << level, (index+1) << level),
//                                 for every level that is a multiple of
//                                 kNodeLevelStride (0 = the leaf hashes)
//   'K' + tree size (8 bytes BE)
//                              -> a signed checkpoint of that size
//                                 (chain/checkpoint.h)
//   'M'                        -> tip: height, block hash, Merkle frontier
//   lowercase-prefixed keys    -> owned by higher layers (indexes, state)
//
// AppendBlock writes a block, its entries, the node hashes they complete,
// the new tip and the caller's index/state entries in one LevelDB
// WriteBatch: after a crash either all of it is there or none of it is.
// With sync=true the write is fsync'ed before AppendBlock returns, so a
// caller may acknowledge only then.
//
// Node hashes let proofs (chain/proof.h) reach any node of any perfect
// subtree with one read of at most 2^(kNodeLevelStride-1) consecutive keys.
// A store written before node hashes existed gets them on Open: a one-time
// scan of all entries (see Open).
//
// Thread-safety: all methods may be called concurrently; AppendBlock calls
// must be serialized by the caller (there is one block writer).
#ifndef TRACELEDGER_CHAIN_STORE_H_
#define TRACELEDGER_CHAIN_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chain/block.h"
#include "chain/merkle.h"
#include "util/result.h"

namespace traceledger::chain {

enum class StoreErrorCode {
  kIo,          // the filesystem failed (disk full, I/O error, permissions)
  kLocked,      // another process has the data directory open
  kCorruption,  // LevelDB or a chain record failed its own checks
  kInvalid,     // the caller passed something inconsistent
  kNotFound,    // no data directory and create_if_missing is false
};

struct StoreError {
  StoreErrorCode code;
  std::string message;
};

template <typename T>
using StoreResult = Result<T, StoreError>;

// Lets tests make the filesystem fail under LevelDB (the Env seam).
struct FaultInjector {
  std::atomic<bool> fail_writes{false};  // WritableFile::Append/Flush fail
  std::atomic<bool> fail_syncs{false};   // WritableFile::Sync fails
};

// Node hashes are kept at levels 0, 4, 8, ...: about 1.07 keys per entry.
inline constexpr unsigned kNodeLevelStride = 4;

struct StoreOptions {
  std::string path;
  bool create_if_missing = true;
  // Keep everything in memory (leveldb's MemEnv); `path` is just a name.
  bool in_memory = false;
  // When set, every file LevelDB writes goes through this injector.
  FaultInjector* faults = nullptr;
  size_t cache_bytes = size_t{32} << 20;
  size_t write_buffer_bytes = size_t{32} << 20;
};

struct Tip {
  uint64_t height = 0;
  Hash block_hash{};
  MerkleFrontier frontier;  // over all entries up to and including `height`
};

// Puts and deletes of higher-layer keys, applied atomically with a block.
class WriteSet {
 public:
  void Put(std::string key, std::string value) { puts_.emplace_back(std::move(key), std::move(value)); }
  void Delete(std::string key) { deletes_.push_back(std::move(key)); }
  const std::vector<std::pair<std::string, std::string>>& puts() const { return puts_; }
  const std::vector<std::string>& deletes() const { return deletes_; }
  bool empty() const { return puts_.empty() && deletes_.empty(); }

 private:
  std::vector<std::pair<std::string, std::string>> puts_;
  std::vector<std::string> deletes_;
};

class Store {
 public:
  // Opens (or creates) the store. If the log has entries but no node
  // hashes (a store from before they existed, or an interrupted rebuild),
  // computes them from the entries first, in batches; the last batch is
  // fsync'ed and holds the last leaf's hash, which is what is checked.
  [[nodiscard]] static StoreResult<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The last committed block, or nullopt for a store without genesis.
  // Served from memory; no disk access.
  std::optional<Tip> tip() const;

  // Appends `block` with `entries` (its records' canonical bytes, in log
  // order) and `extra` (higher-layer keys, which must start with a
  // lowercase letter). Checks that the block extends the tip: height is
  // tip+1 (0 for genesis), prev_hash is the tip's hash, record_count equals
  // entries.size() and tree_size/root equal frontier_after's, which must be
  // the tip's frontier extended by these entries. Returns kInvalid when
  // not (nothing is written). Returns kIo when the write failed: then the
  // block may or may not have reached the disk — after a failed fsync it
  // can reappear on reopen, whole — so the caller must not acknowledge it,
  // and this Store refuses every later write until it is reopened.
  [[nodiscard]] StoreResult<void> AppendBlock(const SignedBlock& block,
                                              std::span<const std::string_view> entries,
                                              const MerkleFrontier& frontier_after, const WriteSet& extra,
                                              bool sync);
  [[nodiscard]] StoreResult<void> AppendBlock(const SignedBlock& block,
                                              const std::vector<std::string>& entries,
                                              const MerkleFrontier& frontier_after, const WriteSet& extra,
                                              bool sync) {
    std::vector<std::string_view> views(entries.begin(), entries.end());
    return AppendBlock(block, views, frontier_after, extra, sync);
  }

  // Stores a signed checkpoint of tree size `size` under 'K' + size,
  // replacing one of the same size. kInvalid if size exceeds the tip's tree
  // size. Checkpoint rules (consistency) are the caller's (chain/checkpoint).
  [[nodiscard]] StoreResult<void> PutCheckpoint(uint64_t size, std::string_view value, bool sync);
  [[nodiscard]] StoreResult<std::optional<std::string>> GetCheckpoint(uint64_t size) const;
  // The stored checkpoint with the largest size, with that size.
  [[nodiscard]] StoreResult<std::optional<std::pair<uint64_t, std::string>>> LastCheckpoint() const;

  // Writes higher-layer keys only (no block). Used for scratch state.
  [[nodiscard]] StoreResult<void> Write(const WriteSet& extra, bool sync);

  // Reads. nullopt when absent; kCorruption when a stored block does not
  // parse.
  [[nodiscard]] StoreResult<std::optional<SignedBlock>> GetBlock(uint64_t height) const;
  [[nodiscard]] StoreResult<std::optional<std::string>> GetEntry(uint64_t index) const;
  [[nodiscard]] StoreResult<std::optional<std::string>> Get(std::string_view key) const;

  // Calls fn(key, value) for keys starting with `prefix` in key order,
  // starting at `start` (which must itself start with prefix; empty means
  // prefix), until fn returns false.
  [[nodiscard]] StoreResult<void> Scan(
      std::string_view prefix, std::string_view start,
      const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

  // Calls fn for entries [first, first+count) in order; stops early and
  // returns kCorruption if one is missing.
  [[nodiscard]] StoreResult<void> ScanEntries(
      uint64_t first, uint64_t count,
      const std::function<bool(uint64_t index, std::string_view entry)>& fn) const;

  // `count` consecutive node hashes at `level` from index `first`.
  // kInvalid unless level is a multiple of kNodeLevelStride and count > 0;
  // kCorruption if one is missing, misplaced or not 32 bytes.
  [[nodiscard]] StoreResult<std::vector<Hash>> GetNodes(unsigned level, uint64_t first, uint64_t count) const;

  // Raw access under the chain's own keys, for tamper tests and repair
  // tools: writes or deletes `key` without any check.
  [[nodiscard]] StoreResult<void> RawPutForTesting(std::string_view key, std::string_view value);
  [[nodiscard]] StoreResult<void> RawDeleteForTesting(std::string_view key);

  static std::string BlockKey(uint64_t height);
  static std::string EntryKey(uint64_t index);
  static std::string NodeKey(unsigned level, uint64_t index);
  static std::string CheckpointKey(uint64_t size);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_STORE_H_
