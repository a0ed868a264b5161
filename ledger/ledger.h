// Ledger: the write path (validation, group commit) and the verified read
// path over one data directory.
//
// Write path. Submitters call Submit/SubmitBatch from any number of
// threads. Each record is parsed and its signature verified before it is
// queued — in the caller's thread for Submit, on the verification pool (all
// cores) for SubmitBatch. One committer thread drains the queue in arrival
// order, applies the stateful rules (rules.h) against the committed state
// plus the block being built, seals the block with the operator key and
// writes block, entries and state in one atomic, fsync'ed store write. Only
// then are the submitters answered: an acknowledged record is durable. If
// the write fails, nothing is acknowledged and the ledger refuses further
// writes (kUnavailable) until reopened.
//
// Read path. Every lookup through an index re-reads the record it points
// to and checks that it really is what the index claims (id, kind, fields,
// owner); a mismatch is reported as kCorrupt, never served.
#ifndef TRACELEDGER_LEDGER_LEDGER_H_
#define TRACELEDGER_LEDGER_LEDGER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chain/store.h"
#include "ledger/record.h"
#include "util/result.h"
#include "wallet/key.h"

namespace traceledger::ledger {

enum class LedgerErrorCode {
  kStore,        // the store failed (see message)
  kNoGenesis,    // the data directory holds no ledger
  kExists,       // creating a ledger where one exists
  kNotOperator,  // the signing key is not an active operator key
  kCorrupt,      // an index or record failed verification on read
};

struct LedgerError {
  LedgerErrorCode code;
  std::string message;
};

template <typename T>
using LedgerResult = Result<T, LedgerError>;

struct LedgerOptions {
  std::string path;
  bool in_memory = false;
  chain::FaultInjector* faults = nullptr;
  size_t max_block_records = 8192;    // capped at chain::kMaxBlockRecords
  size_t max_queued_records = 65536;  // submitters wait beyond this
  int64_t max_clock_skew_s = 300;
  // Milliseconds since the Unix epoch; defaults to the system clock.
  std::function<int64_t()> clock_ms;
  size_t verify_threads = 0;  // 0: one per core
  bool sync = true;           // fsync each block before acknowledging
  size_t cache_bytes = size_t{32} << 20;
  size_t write_buffer_bytes = size_t{32} << 20;
};

struct Receipt {
  chain::Hash id{};
  uint64_t index = 0;   // position in the log
  uint64_t height = 0;  // block that holds it
};

using SubmitResult = Result<Receipt, Reject>;

struct StoredRecord {
  Record record;
  uint64_t index = 0;
  uint64_t height = 0;
};

class StoreState;  // ledger/state.h
// A serial found on the ledger: the code_issuance part that lists it.
struct IssuedCode {
  std::shared_ptr<const StoredRecord> issuance;
  size_t position = 0;  // its index in issuance->record.body["serials"]

  std::string_view lot() const { return issuance->record.Str("lot"); }
  std::string_view batch() const { return issuance->record.Str("batch"); }
};

// What the ledger says about one serial of a GTIN. Every present member
// names the log index of the record behind it.
struct CodeStatus {
  std::optional<IssuedCode> issued;           // nullopt: never issued
  std::optional<uint64_t> revoked;            // code_revocation listing it
  std::optional<uint64_t> lot_recalled;       // lot_recall of the lot it was issued for
  std::optional<uint64_t> failed_inspection;  // first non_conformant inspection of that lot
};

// A registered key and its life cycle, as of the end of the log.
struct KeyInfo {
  std::string key_id;
  std::string party;
  wallet::PublicKey key;
  uint64_t registered = 0;          // index of the party / key_rotation record
  std::optional<uint64_t> retired;  // key_rotation that retired it
  std::optional<uint64_t> revoked;  // key_revocation
};

struct OperatorIdentity {
  std::string party;  // e.g. "operator"
  std::string name;
};

class Ledger {
 public:
  // Creates a ledger in an empty data directory: block 0 holds the
  // operator's self-signed party registration. kExists if one is there.
  [[nodiscard]] static LedgerResult<std::unique_ptr<Ledger>> Create(const LedgerOptions& options,
                                                                    const wallet::SecretKey& operator_key,
                                                                    const OperatorIdentity& identity);

  // Opens an existing ledger. With a signer it accepts writes (the key must
  // be an active operator key: kNotOperator otherwise); without, it is
  // read-only and every submission gets kUnavailable.
  [[nodiscard]] static LedgerResult<std::unique_ptr<Ledger>> Open(const LedgerOptions& options,
                                                                  std::optional<wallet::SecretKey> signer);

  // Drains the queue (committing what is in it) and closes the store.
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Submits one record (JSON text); blocks until it is durable or rejected.
  SubmitResult Submit(std::string_view json);
  // Submits several; they are committed in order (a later one may depend on
  // an earlier one). Results are in input order.
  std::vector<SubmitResult> SubmitBatch(std::span<const std::string> jsons);
  // Submits records that stand or fall together: all of them are committed
  // in one block, in input order, or none is. Results are in input order.
  // When one record is rejected, it carries its own reason and every other
  // record `aborted` (naming the one at fault); nothing is written. More
  // records than one block may hold (max_block_records) are all `aborted`.
  // A failed write answers every record `unavailable`, as for SubmitBatch.
  std::vector<SubmitResult> SubmitAtomic(std::span<const std::string> jsons);

  const chain::Store& store() const { return *store_; }
  // For chain-level writes other than blocks (checkpoints: chain/checkpoint.h).
  chain::Store& store() { return *store_; }
  std::optional<chain::Tip> tip() const { return store_->tip(); }

  // Verified reads. nullopt when absent; kCorrupt when an index entry does
  // not match the record it points to.
  [[nodiscard]] LedgerResult<std::optional<StoredRecord>> GetRecord(const chain::Hash& id) const;
  [[nodiscard]] LedgerResult<std::optional<StoredRecord>> GetByIndex(uint64_t index) const;
  [[nodiscard]] LedgerResult<std::optional<chain::SignedBlock>> GetBlock(uint64_t height) const;
  [[nodiscard]] LedgerResult<std::optional<StoredRecord>> GetParty(std::string_view party) const;
  [[nodiscard]] LedgerResult<std::optional<StoredRecord>> GetProduct(std::string_view gtin) const;
  [[nodiscard]] LedgerResult<std::optional<StoredRecord>> GetLot(std::string_view gtin,
                                                                 std::string_view lot) const;
  [[nodiscard]] LedgerResult<std::optional<StoredRecord>> GetShipment(std::string_view shipment) const;
  // Every record about the lot / shipment, in log order.
  [[nodiscard]] LedgerResult<std::vector<StoredRecord>> LotHistory(std::string_view gtin,
                                                                   std::string_view lot) const;
  [[nodiscard]] LedgerResult<std::vector<StoredRecord>> ShipmentHistory(std::string_view shipment) const;

  // The code_issuance part listing `serial` for `gtin` (14 digits); nullopt
  // if it was never issued. The record is re-read and must be a
  // code_issuance of that GTIN that lists the serial (else kCorrupt).
  [[nodiscard]] LedgerResult<std::optional<IssuedCode>> GetCode(std::string_view gtin,
                                                                std::string_view serial) const;
  // The code's status: issued (GetCode), revoked, its lot recalled or
  // failed an inspection. Each fact is checked against its record.
  [[nodiscard]] LedgerResult<CodeStatus> GetCodeStatus(std::string_view gtin, std::string_view serial) const;
  // Every part of an issuance batch, in part order; empty if there is none.
  [[nodiscard]] LedgerResult<std::vector<StoredRecord>> GetCodeBatch(std::string_view gtin,
                                                                     std::string_view batch) const;
  // A registered key, checked against the record that registered it.
  [[nodiscard]] LedgerResult<std::optional<KeyInfo>> GetKey(std::string_view key_id) const;

  // Height of the block holding log index `index` (binary search over
  // block headers). REQUIRES: index < tree size.
  [[nodiscard]] LedgerResult<uint64_t> HeightOfIndex(uint64_t index) const;

  // --- Mirrors (verifying replicas, ledger/replica.h) ---

  // Opens a ledger that mirrors another node's: no operator key (every
  // submission gets kUnavailable), created empty when absent (a new
  // replica starts without genesis), and written only through
  // AppendVerified.
  [[nodiscard]] static LedgerResult<std::unique_ptr<Ledger>> OpenMirror(const LedgerOptions& options);
  bool is_mirror() const { return mirror_; }

  // Committed state, as the rules read it (with the cache reads use).
  const StoreState& committed_state() const;

  // Stores a block the caller has verified completely (ledger/replica.h
  // does: signatures, links, roots, rules) exactly as its primary stored
  // it: block, entries, the facts its records create (`facts`, the
  // records' Effects) and the new tip, in one atomic store write; then
  // makes the facts visible to reads. kStore when the store refuses it
  // (it does not extend the tip) or the write failed.
  // REQUIRES: is_mirror(); one caller at a time.
  [[nodiscard]] LedgerResult<void> AppendVerified(const chain::SignedBlock& block,
                                                  std::span<const std::string_view> entries,
                                                  const chain::MerkleFrontier& frontier_after,
                                                  const chain::WriteSet& facts, bool sync);

 private:
  class Committer;
  Ledger(const LedgerOptions& options, std::unique_ptr<chain::Store> store,
         std::optional<wallet::SecretKey> signer);

  // A code_issuance part with its serials indexed (serial -> position).
  struct IndexedPart;
  // The part at log index `index`, through a cache of recently read
  // code_issuance parts: they are large (up to 10,000 serials), and scans
  // of one batch's codes read the same few. Entries never change once
  // committed, so a cached part is never stale.
  [[nodiscard]] LedgerResult<std::shared_ptr<const IndexedPart>> GetIssuancePart(uint64_t index) const;

  LedgerOptions options_;
  std::unique_ptr<chain::Store> store_;
  std::unique_ptr<Committer> committer_;
  bool mirror_ = false;
  mutable std::shared_mutex part_cache_mu_;
  // GUARDED_BY(part_cache_mu_): the cached parts by log index, and their
  // insertion order for eviction (oldest first).
  mutable std::unordered_map<uint64_t, std::shared_ptr<const IndexedPart>> part_cache_;
  mutable std::deque<uint64_t> part_cache_order_;
};

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_LEDGER_H_
