#include "chain/store.h"

#include <fcntl.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/helpers/memenv.h>
#include <leveldb/write_batch.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "util/encoding.h"

namespace traceledger::chain {
namespace {

constexpr char kBlockPrefix = 'B';
constexpr char kEntryPrefix = 'E';
constexpr char kNodePrefix = 'H';
constexpr char kCheckpointPrefix = 'K';
constexpr std::string_view kMetaKey = "M";
// Leaves per batch when node hashes are built for an existing log.
constexpr uint64_t kRebuildBatchLeaves = 65536;

std::string NumberKey(char prefix, uint64_t n) {
  std::string key(9, '\0');
  key[0] = prefix;
  PutBigEndian64(n, reinterpret_cast<uint8_t*>(key.data() + 1));
  return key;
}

leveldb::Slice ToSlice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }
std::string_view ToView(const leveldb::Slice& s) { return std::string_view(s.data(), s.size()); }

StoreError FromStatus(const leveldb::Status& s, std::string_view what) {
  StoreErrorCode code = StoreErrorCode::kIo;
  if (s.IsCorruption()) code = StoreErrorCode::kCorruption;
  if (s.IsInvalidArgument()) code = StoreErrorCode::kNotFound;
  std::string text = s.ToString();
  // LevelDB reports a held LOCK file as "IO error: lock <path>: ...".
  if (s.IsIOError() && text.starts_with("IO error: lock ")) code = StoreErrorCode::kLocked;
  return StoreError{code, std::string(what) + ": " + text};
}

// A WritableFile that fails on command, for disk-full / I/O-error tests.
class FaultyWritableFile : public leveldb::WritableFile {
 public:
  FaultyWritableFile(leveldb::WritableFile* base, FaultInjector* faults) : base_(base), faults_(faults) {}
  ~FaultyWritableFile() override { delete base_; }
  leveldb::Status Append(const leveldb::Slice& data) override {
    if (faults_->fail_writes) return leveldb::Status::IOError("injected write failure");
    return base_->Append(data);
  }
  leveldb::Status Close() override { return base_->Close(); }
  leveldb::Status Flush() override {
    if (faults_->fail_writes) return leveldb::Status::IOError("injected write failure");
    return base_->Flush();
  }
  leveldb::Status Sync() override {
    if (faults_->fail_syncs) return leveldb::Status::IOError("injected sync failure");
    return base_->Sync();
  }

 private:
  leveldb::WritableFile* base_;
  FaultInjector* faults_;
};

// Reads table files with pread(2) instead of LevelDB's default mmap(2).
// Why: every mapped page a read touches counts in the process's resident
// set, so a full audit (or a long ingest, through compactions) of a large
// ledger would grow RSS with the ledger's size. With pread, table data
// lives only in LevelDB's block cache, whose size we set.
class PreadFile : public leveldb::RandomAccessFile {
 public:
  PreadFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PreadFile() override { ::close(fd_); }
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result, char* scratch) const override {
    ssize_t got = ::pread(fd_, scratch, n, static_cast<off_t>(offset));
    *result = leveldb::Slice(scratch, got < 0 ? 0 : static_cast<size_t>(got));
    if (got < 0) return leveldb::Status::IOError(name_, std::strerror(errno));
    return leveldb::Status::OK();
  }

 private:
  std::string name_;
  int fd_;
};

class PreadEnv : public leveldb::EnvWrapper {
 public:
  explicit PreadEnv(leveldb::Env* base) : EnvWrapper(base) {}
  leveldb::Status NewRandomAccessFile(const std::string& name, leveldb::RandomAccessFile** result) override {
    int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *result = nullptr;
      if (errno == ENOENT) return leveldb::Status::NotFound(name, std::strerror(errno));
      return leveldb::Status::IOError(name, std::strerror(errno));
    }
    *result = new PreadFile(name, fd);
    return leveldb::Status::OK();
  }
};

class FaultyEnv : public leveldb::EnvWrapper {
 public:
  FaultyEnv(leveldb::Env* base, FaultInjector* faults) : EnvWrapper(base), faults_(faults) {}
  leveldb::Status NewWritableFile(const std::string& name, leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewWritableFile(name, result);
    if (s.ok()) *result = new FaultyWritableFile(*result, faults_);
    return s;
  }
  leveldb::Status NewAppendableFile(const std::string& name, leveldb::WritableFile** result) override {
    leveldb::Status s = target()->NewAppendableFile(name, result);
    if (s.ok()) *result = new FaultyWritableFile(*result, faults_);
    return s;
  }

 private:
  FaultInjector* faults_;
};

bool IsHigherLayerKey(std::string_view key) { return !key.empty() && key[0] >= 'a' && key[0] <= 'z'; }

StoreError HigherLayerKeyError() {
  return StoreError{StoreErrorCode::kInvalid, "higher-layer key must start with a lowercase letter"};
}

// Adds the write set to `batch`; false if a key is not a higher-layer key.
bool AddHigherLayerKeys(const WriteSet& extra, leveldb::WriteBatch& batch) {
  for (const auto& [key, value] : extra.puts()) {
    if (!IsHigherLayerKey(key)) return false;
    batch.Put(ToSlice(key), ToSlice(value));
  }
  for (const auto& key : extra.deletes()) {
    if (!IsHigherLayerKey(key)) return false;
    batch.Delete(ToSlice(key));
  }
  return true;
}

std::string EncodeTip(const Tip& tip) {
  std::string out(8, '\0');
  PutBigEndian64(tip.height, reinterpret_cast<uint8_t*>(out.data()));
  out.append(reinterpret_cast<const char*>(tip.block_hash.data()), 32);
  out += tip.frontier.Serialize();
  return out;
}

// Adds to `batch` the node hashes at stored levels that appending
// `leaf_hash` to `frontier` completes, and appends it.
void AppendLeafAndNodes(MerkleFrontier& frontier, const Hash& leaf_hash, leveldb::WriteBatch& batch) {
  frontier.AppendLeaf(leaf_hash, [&](unsigned level, uint64_t index, const Hash& hash) {
    if (level % kNodeLevelStride != 0) return;
    batch.Put(ToSlice(Store::NodeKey(level, index)),
              leveldb::Slice(reinterpret_cast<const char*>(hash.data()), hash.size()));
  });
}

std::optional<Tip> DecodeTip(std::string_view bytes) {
  if (bytes.size() < 40) return std::nullopt;
  Tip tip;
  tip.height = GetBigEndian64(reinterpret_cast<const uint8_t*>(bytes.data()));
  std::memcpy(tip.block_hash.data(), bytes.data() + 8, 32);
  auto frontier = MerkleFrontier::Deserialize(bytes.substr(40));
  if (!frontier) return std::nullopt;
  tip.frontier = std::move(*frontier);
  return tip;
}

}  // namespace

struct Store::Impl {
  // Declaration order matters for destruction: db before env/cache/filter.
  std::unique_ptr<leveldb::Env> mem_env;
  std::unique_ptr<leveldb::Env> pread_env;
  std::unique_ptr<leveldb::Env> faulty_env;
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::DB> db;

  mutable std::mutex mu;
  std::optional<Tip> tip;  // GUARDED_BY(mu)
  // Set by the first failed write. LevelDB makes only failed syncs sticky;
  // after a failed log append its log may have lost its framing, and later
  // writes could make the whole store unreadable on reopen. So after any
  // failure this store writes nothing more until it is reopened.
  std::atomic<bool> failed{false};

  StoreResult<void> Commit(leveldb::WriteBatch& batch, bool sync, const std::string& what) {
    if (failed) return StoreError{StoreErrorCode::kIo, what + ": an earlier write failed; reopen the store"};
    leveldb::WriteOptions wo;
    wo.sync = sync;
    leveldb::Status s = db->Write(wo, &batch);
    if (!s.ok()) {
      failed = true;
      return FromStatus(s, what);
    }
    return {};
  }

  StoreResult<std::optional<std::string>> Get(std::string_view key) const {
    std::string value;
    leveldb::Status s = db->Get(leveldb::ReadOptions(), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromStatus(s, "read");
    return std::optional<std::string>(std::move(value));
  }

  // Computes node hashes from the entries when the last leaf's is missing.
  StoreResult<void> BuildMissingNodes() {
    if (!tip || tip->frontier.size() == 0) return {};
    const uint64_t size = tip->frontier.size();
    auto last = Get(NodeKey(0, size - 1));
    if (!last.ok()) return last.error();
    if (last->has_value()) return {};
    MerkleFrontier frontier;
    leveldb::WriteBatch batch;
    leveldb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(ro));
    it->Seek(ToSlice(EntryKey(0)));
    for (uint64_t i = 0; i < size; ++i, it->Next()) {
      if (!it->Valid() || ToView(it->key()) != EntryKey(i)) {
        if (!it->status().ok()) return FromStatus(it->status(), "build node hashes");
        return StoreError{StoreErrorCode::kCorruption,
                          "build node hashes: entry " + std::to_string(i) + " is missing"};
      }
      AppendLeafAndNodes(frontier, LeafHash(ToView(it->value())), batch);
      const bool final_leaf = i + 1 == size;
      if (final_leaf || frontier.size() % kRebuildBatchLeaves == 0) {
        auto written = Commit(batch, /*sync=*/final_leaf, "build node hashes");
        if (!written.ok()) return written;
        batch.Clear();
      }
    }
    return {};
  }
};

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

std::string Store::BlockKey(uint64_t height) { return NumberKey(kBlockPrefix, height); }
std::string Store::EntryKey(uint64_t index) { return NumberKey(kEntryPrefix, index); }
std::string Store::CheckpointKey(uint64_t size) { return NumberKey(kCheckpointPrefix, size); }

std::string Store::NodeKey(unsigned level, uint64_t index) {
  std::string key(10, '\0');
  key[0] = kNodePrefix;
  key[1] = static_cast<char>(level);
  PutBigEndian64(index, reinterpret_cast<uint8_t*>(key.data() + 2));
  return key;
}

StoreResult<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  leveldb::Options opts;
  opts.create_if_missing = options.create_if_missing;
  opts.paranoid_checks = true;
  leveldb::Env* env = leveldb::Env::Default();
  if (options.in_memory) {
    impl->mem_env.reset(leveldb::NewMemEnv(env));
    env = impl->mem_env.get();
  } else {
    impl->pread_env = std::make_unique<PreadEnv>(env);
    env = impl->pread_env.get();
  }
  if (options.faults != nullptr) {
    impl->faulty_env = std::make_unique<FaultyEnv>(env, options.faults);
    env = impl->faulty_env.get();
  }
  opts.env = env;
  impl->cache.reset(leveldb::NewLRUCache(options.cache_bytes));
  opts.block_cache = impl->cache.get();
  impl->filter.reset(leveldb::NewBloomFilterPolicy(10));
  opts.filter_policy = impl->filter.get();
  opts.write_buffer_size = options.write_buffer_bytes;
  // Larger tables keep the file count (and open-file churn) low for big logs.
  opts.max_file_size = size_t{16} << 20;

  // LevelDB would create the directory (or fail on its LOCK file) before
  // noticing that there is no database; say plainly that there is none.
  if (!options.in_memory && !options.create_if_missing &&
      !std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT")) {
    return StoreError{StoreErrorCode::kNotFound, "no database at " + options.path};
  }
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(opts, options.path, &db);
  if (!s.ok()) return FromStatus(s, "open " + options.path);
  impl->db.reset(db);

  auto meta = impl->Get(kMetaKey);
  if (!meta.ok()) return meta.error();
  if (meta->has_value()) {
    auto tip = DecodeTip(**meta);
    if (!tip) return StoreError{StoreErrorCode::kCorruption, "tip record (key 'M') does not parse"};
    impl->tip = std::move(*tip);
  }
  auto built = impl->BuildMissingNodes();
  if (!built.ok()) return built.error();
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

std::optional<Tip> Store::tip() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->tip;
}

StoreResult<void> Store::AppendBlock(const SignedBlock& block, std::span<const std::string_view> entries,
                                     const MerkleFrontier& frontier_after, const WriteSet& extra, bool sync) {
  const BlockHeader& h = block.header;
  std::optional<Tip> current = tip();
  uint64_t want_height = current ? current->height + 1 : 0;
  Hash want_prev = current ? current->block_hash : Hash{};
  uint64_t size_before = current ? current->frontier.size() : 0;
  if (h.height != want_height) {
    return StoreError{StoreErrorCode::kInvalid, "block height " + std::to_string(h.height) +
                                                    " does not extend tip (want " +
                                                    std::to_string(want_height) + ")"};
  }
  if (h.prev_hash != want_prev)
    return StoreError{StoreErrorCode::kInvalid, "prev_hash is not the tip's hash"};
  if (h.record_count != entries.size()) {
    return StoreError{StoreErrorCode::kInvalid, "record_count differs from the number of entries"};
  }
  if (frontier_after.size() != size_before + entries.size() || h.tree_size != frontier_after.size() ||
      h.root != frontier_after.Root()) {
    return StoreError{StoreErrorCode::kInvalid, "tree_size/root do not match the log after the block"};
  }
  // The root must cover exactly these entries: never store a block whose
  // header commits to a log other than the one stored.
  // Recomputing the frontier also yields the node hashes the block completes.
  leveldb::WriteBatch batch;
  MerkleFrontier extended = current ? current->frontier : MerkleFrontier();
  for (const auto& entry : entries) AppendLeafAndNodes(extended, LeafHash(entry), batch);
  if (!(extended == frontier_after)) {
    return StoreError{StoreErrorCode::kInvalid, "the Merkle root does not cover the block's entries"};
  }

  batch.Put(ToSlice(BlockKey(h.height)), ToSlice(block.Serialize()));
  for (size_t i = 0; i < entries.size(); ++i) {
    batch.Put(ToSlice(EntryKey(size_before + i)), ToSlice(entries[i]));
  }
  if (!AddHigherLayerKeys(extra, batch)) return HigherLayerKeyError();
  Tip next{.height = h.height, .block_hash = h.ComputeHash(), .frontier = frontier_after};
  batch.Put(ToSlice(kMetaKey), ToSlice(EncodeTip(next)));

  auto written = impl_->Commit(batch, sync, "append block " + std::to_string(h.height));
  if (!written.ok()) return written;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->tip = std::move(next);
  return {};
}

StoreResult<void> Store::Write(const WriteSet& extra, bool sync) {
  leveldb::WriteBatch batch;
  if (!AddHigherLayerKeys(extra, batch)) return HigherLayerKeyError();
  return impl_->Commit(batch, sync, "write");
}

StoreResult<void> Store::PutCheckpoint(uint64_t size, std::string_view value, bool sync) {
  std::optional<Tip> current = tip();
  const uint64_t tree_size = current ? current->frontier.size() : 0;
  if (size > tree_size) {
    return StoreError{StoreErrorCode::kInvalid, "checkpoint of size " + std::to_string(size) +
                                                    " is beyond the log (size " + std::to_string(tree_size) +
                                                    ")"};
  }
  leveldb::WriteBatch batch;
  batch.Put(ToSlice(CheckpointKey(size)), ToSlice(value));
  return impl_->Commit(batch, sync, "store checkpoint " + std::to_string(size));
}

StoreResult<std::optional<std::string>> Store::GetCheckpoint(uint64_t size) const {
  return impl_->Get(CheckpointKey(size));
}

StoreResult<std::optional<std::pair<uint64_t, std::string>>> Store::LastCheckpoint() const {
  using Found = std::optional<std::pair<uint64_t, std::string>>;
  std::unique_ptr<leveldb::Iterator> it(impl_->db->NewIterator(leveldb::ReadOptions()));
  // The last 'K' key sorts right before the first key >= "L".
  const char next_prefix[1] = {kCheckpointPrefix + 1};
  it->Seek(leveldb::Slice(next_prefix, 1));
  if (it->Valid()) {
    it->Prev();
  } else {
    it->SeekToLast();
  }
  if (!it->status().ok()) return FromStatus(it->status(), "read last checkpoint");
  if (!it->Valid()) return Found();
  std::string_view key = ToView(it->key());
  if (key.empty() || key[0] != kCheckpointPrefix) return Found();
  if (key.size() != 9) {
    return StoreError{StoreErrorCode::kCorruption,
                      "checkpoint key of " + std::to_string(key.size()) + " bytes"};
  }
  uint64_t size = GetBigEndian64(reinterpret_cast<const uint8_t*>(key.data() + 1));
  return Found(std::pair{size, std::string(ToView(it->value()))});
}

StoreResult<std::vector<Hash>> Store::GetNodes(unsigned level, uint64_t first, uint64_t count) const {
  if (level % kNodeLevelStride != 0 || level >= 64 || count == 0) {
    return StoreError{StoreErrorCode::kInvalid, "no node hashes are kept at level " + std::to_string(level)};
  }
  std::vector<Hash> out(count);
  auto missing = [&](uint64_t index) {
    return StoreError{StoreErrorCode::kCorruption, "node hash at level " + std::to_string(level) + " index " +
                                                       std::to_string(index) + " is missing or damaged"};
  };
  if (count == 1) {
    auto value = impl_->Get(NodeKey(level, first));
    if (!value.ok()) return value.error();
    if (!value->has_value() || (*value)->size() != sizeof(Hash)) return missing(first);
    std::memcpy(out[0].data(), (*value)->data(), sizeof(Hash));
    return out;
  }
  std::unique_ptr<leveldb::Iterator> it(impl_->db->NewIterator(leveldb::ReadOptions()));
  std::string key = NodeKey(level, first);
  it->Seek(ToSlice(key));
  for (uint64_t i = 0; i < count; ++i, it->Next()) {
    PutBigEndian64(first + i, reinterpret_cast<uint8_t*>(key.data() + 2));
    if (!it->Valid() || ToView(it->key()) != key || it->value().size() != sizeof(Hash)) {
      if (!it->status().ok()) return FromStatus(it->status(), "read node hashes");
      return missing(first + i);
    }
    std::memcpy(out[i].data(), it->value().data(), sizeof(Hash));
  }
  return out;
}

StoreResult<std::optional<SignedBlock>> Store::GetBlock(uint64_t height) const {
  auto raw = impl_->Get(BlockKey(height));
  if (!raw.ok()) return raw.error();
  if (!raw->has_value()) return std::optional<SignedBlock>();
  auto block = SignedBlock::Parse(**raw);
  if (!block) {
    return StoreError{StoreErrorCode::kCorruption, "block " + std::to_string(height) + " does not parse"};
  }
  return std::optional<SignedBlock>(*block);
}

StoreResult<std::optional<std::string>> Store::GetEntry(uint64_t index) const {
  return impl_->Get(EntryKey(index));
}

StoreResult<std::optional<std::string>> Store::Get(std::string_view key) const { return impl_->Get(key); }

StoreResult<void> Store::Scan(std::string_view prefix, std::string_view start,
                              const std::function<bool(std::string_view, std::string_view)>& fn) const {
  leveldb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(impl_->db->NewIterator(ro));
  it->Seek(ToSlice(start.empty() ? prefix : start));
  for (; it->Valid(); it->Next()) {
    std::string_view key = ToView(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, ToView(it->value()))) break;
  }
  if (!it->status().ok()) return FromStatus(it->status(), "scan");
  return {};
}

StoreResult<void> Store::ScanEntries(uint64_t first, uint64_t count,
                                     const std::function<bool(uint64_t, std::string_view)>& fn) const {
  if (count == 0) return {};
  leveldb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(impl_->db->NewIterator(ro));
  std::string key = EntryKey(first);
  it->Seek(ToSlice(key));
  for (uint64_t i = first; i < first + count; ++i, it->Next()) {
    if (!it->Valid() || ToView(it->key()) != EntryKey(i)) {
      if (!it->status().ok()) return FromStatus(it->status(), "scan entries");
      return StoreError{StoreErrorCode::kCorruption, "entry " + std::to_string(i) + " is missing"};
    }
    if (!fn(i, ToView(it->value()))) break;
  }
  if (!it->status().ok()) return FromStatus(it->status(), "scan entries");
  return {};
}

StoreResult<void> Store::RawPutForTesting(std::string_view key, std::string_view value) {
  leveldb::WriteOptions wo;
  leveldb::Status s = impl_->db->Put(wo, ToSlice(key), ToSlice(value));
  if (!s.ok()) return FromStatus(s, "raw put");
  return {};
}

StoreResult<void> Store::RawDeleteForTesting(std::string_view key) {
  leveldb::WriteOptions wo;
  leveldb::Status s = impl_->db->Delete(wo, ToSlice(key));
  if (!s.ok()) return FromStatus(s, "raw delete");
  return {};
}

}  // namespace traceledger::chain
