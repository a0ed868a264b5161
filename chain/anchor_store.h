// The anchoring state on disk: its own small LevelDB database (normally
// <data>/anchor), separate from the ledger's, so anchoring never takes the
// ledger's lock and its writes never contend with ingestion. LevelDB stays
// inside anchor_store.cc behind a pimpl.
//
// The store holds opaque values (chain/anchor.cc gives them meaning, and
// FORMAT.md documents them): the queued checkpoint, the pending anchor, and
// an append-only list of receipts numbered from 0. Every Commit is one
// atomic LevelDB WriteBatch written with sync=true (fsync before it
// returns), so after a crash either all of an update is there or none of
// it: in particular a receipt is never recorded without the pending anchor
// it completes being cleared, and the reverse.
//
// After a failed Commit the store refuses every further Commit (kBroken)
// until reopened: after a failed fsync the write may or may not be on disk,
// and reopening reads back whichever it is.
#ifndef TRACELEDGER_CHAIN_ANCHOR_STORE_H_
#define TRACELEDGER_CHAIN_ANCHOR_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "util/result.h"

namespace traceledger::chain {

enum class AnchorStoreErrorCode {
  kIo,       // LevelDB could not read or write (message has the reason)
  kLocked,   // another process has the database open
  kCorrupt,  // a key outside the layout, or LevelDB found corruption
  kBroken,   // an earlier Commit failed; reopen the store
};

struct AnchorStoreError {
  AnchorStoreErrorCode code;
  std::string message;
};

// A change to one stored value: Set(text), Delete(), or (default) none.
struct AnchorValueChange {
  static AnchorValueChange Set(std::string text) { return AnchorValueChange{true, std::move(text)}; }
  static AnchorValueChange Delete() { return AnchorValueChange{true, std::nullopt}; }
  bool changed = false;
  std::optional<std::string> value;  // nullopt with `changed`: delete
};

// What a Commit changes.
struct AnchorStoreUpdate {
  AnchorValueChange queued;
  AnchorValueChange pending;
  std::optional<std::string> append_receipt;
};

struct AnchorStoreSnapshot {
  std::optional<std::string> queued;
  std::optional<std::string> pending;
  uint64_t receipt_count = 0;
  std::optional<std::string> last_receipt;
};

class AnchorStore {
 public:
  // Opens (creating if missing) the database in directory `dir`.
  [[nodiscard]] static Result<std::unique_ptr<AnchorStore>, AnchorStoreError> Open(const std::string& dir);
  ~AnchorStore();
  AnchorStore(const AnchorStore&) = delete;
  AnchorStore& operator=(const AnchorStore&) = delete;

  [[nodiscard]] Result<AnchorStoreSnapshot, AnchorStoreError> Load() const;
  // Receipt number `seq` (0-based); nullopt past the end.
  [[nodiscard]] Result<std::optional<std::string>, AnchorStoreError> Receipt(uint64_t seq) const;
  // Applies `update` atomically and durably. Thread-safe.
  [[nodiscard]] Result<void, AnchorStoreError> Commit(const AnchorStoreUpdate& update);

 private:
  struct Impl;
  explicit AnchorStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_CHAIN_ANCHOR_STORE_H_
