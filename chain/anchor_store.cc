#include "chain/anchor_store.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <mutex>
#include <utility>

#include "util/encoding.h"

namespace traceledger::chain {
namespace {

// Layout (FORMAT.md, "Anchor store"): "P" pending anchor, "Q" queued
// checkpoint, "R" + 8-byte big-endian sequence number: receipts.
constexpr std::string_view kPendingKey = "P";
constexpr std::string_view kQueuedKey = "Q";
constexpr char kReceiptPrefix = 'R';

std::string ReceiptKey(uint64_t seq) {
  std::string key(9, '\0');
  key[0] = kReceiptPrefix;
  PutBigEndian64(seq, reinterpret_cast<uint8_t*>(key.data() + 1));
  return key;
}

leveldb::Slice ToSlice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }

AnchorStoreError FromStatus(const leveldb::Status& s, std::string_view what) {
  std::string text = s.ToString();
  AnchorStoreErrorCode code = AnchorStoreErrorCode::kIo;
  if (s.IsCorruption()) code = AnchorStoreErrorCode::kCorrupt;
  if (s.IsIOError() && text.starts_with("IO error: lock ")) code = AnchorStoreErrorCode::kLocked;
  return AnchorStoreError{code, std::string(what) + ": " + text};
}

}  // namespace

struct AnchorStore::Impl {
  std::string dir;
  std::unique_ptr<leveldb::DB> db;
  std::mutex mu;  // serializes Commit, guards the two fields below
  uint64_t receipt_count = 0;
  bool broken = false;

  Result<std::optional<std::string>, AnchorStoreError> Get(std::string_view key) const {
    std::string value;
    leveldb::Status s = db->Get(leveldb::ReadOptions(), ToSlice(key), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromStatus(s, dir);
    return std::optional<std::string>(std::move(value));
  }
};

AnchorStore::AnchorStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AnchorStore::~AnchorStore() = default;

Result<std::unique_ptr<AnchorStore>, AnchorStoreError> AnchorStore::Open(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  leveldb::Options opts;
  opts.create_if_missing = true;
  opts.paranoid_checks = true;
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(opts, dir, &db);
  if (!s.ok()) return FromStatus(s, "opening anchor store " + dir);
  impl->db.reset(db);
  // Every key must be in the layout, and receipts numbered 0..n-1 without
  // gaps: then the count is simply how many there are.
  std::unique_ptr<leveldb::Iterator> it(impl->db->NewIterator(leveldb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key == kPendingKey || key == kQueuedKey) continue;
    if (key.size() != 9 || key[0] != kReceiptPrefix ||
        GetBigEndian64(reinterpret_cast<const uint8_t*>(key.data() + 1)) != impl->receipt_count) {
      return AnchorStoreError{
          AnchorStoreErrorCode::kCorrupt,
          dir + ": unexpected key " +
              HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(key.data()), key.size()))};
    }
    ++impl->receipt_count;
  }
  if (!it->status().ok()) return FromStatus(it->status(), dir);
  return std::unique_ptr<AnchorStore>(new AnchorStore(std::move(impl)));
}

Result<AnchorStoreSnapshot, AnchorStoreError> AnchorStore::Load() const {
  // Under the commit lock, so the snapshot is of one state.
  std::lock_guard lock(impl_->mu);
  AnchorStoreSnapshot snap;
  snap.receipt_count = impl_->receipt_count;
  auto queued = impl_->Get(kQueuedKey);
  if (!queued.ok()) return queued.error();
  snap.queued = std::move(queued).value();
  auto pending = impl_->Get(kPendingKey);
  if (!pending.ok()) return pending.error();
  snap.pending = std::move(pending).value();
  if (snap.receipt_count > 0) {
    auto last = impl_->Get(ReceiptKey(snap.receipt_count - 1));
    if (!last.ok()) return last.error();
    if (!last->has_value()) {
      return AnchorStoreError{AnchorStoreErrorCode::kCorrupt, impl_->dir + ": last receipt is missing"};
    }
    snap.last_receipt = std::move(last).value();
  }
  return snap;
}

Result<std::optional<std::string>, AnchorStoreError> AnchorStore::Receipt(uint64_t seq) const {
  return impl_->Get(ReceiptKey(seq));
}

Result<void, AnchorStoreError> AnchorStore::Commit(const AnchorStoreUpdate& update) {
  std::lock_guard lock(impl_->mu);
  if (impl_->broken) {
    return AnchorStoreError{AnchorStoreErrorCode::kBroken,
                            impl_->dir + ": an earlier write failed; reopen the store"};
  }
  leveldb::WriteBatch batch;
  auto apply = [&](std::string_view key, const AnchorValueChange& change) {
    if (!change.changed) return;
    if (change.value) {
      batch.Put(ToSlice(key), ToSlice(*change.value));
    } else {
      batch.Delete(ToSlice(key));
    }
  };
  apply(kQueuedKey, update.queued);
  apply(kPendingKey, update.pending);
  if (update.append_receipt)
    batch.Put(ToSlice(ReceiptKey(impl_->receipt_count)), ToSlice(*update.append_receipt));
  leveldb::WriteOptions wo;
  wo.sync = true;  // durable before anything that depends on it is sent or reported
  leveldb::Status s = impl_->db->Write(wo, &batch);
  if (!s.ok()) {
    impl_->broken = true;
    return FromStatus(s, "writing anchor store " + impl_->dir);
  }
  if (update.append_receipt) ++impl_->receipt_count;
  return {};
}

}  // namespace traceledger::chain
