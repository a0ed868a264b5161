#include "ledger/ledger.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "chain/merkle.h"
#include "ledger/owner_index.h"
#include "ledger/rules.h"
#include "ledger/state.h"
#include "util/encoding.h"
#include "util/thread_pool.h"

namespace traceledger::ledger {
namespace {

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LedgerError StoreFailure(const chain::StoreError& e) {
  return LedgerError{LedgerErrorCode::kStore, e.message};
}

Reject Unavailable(std::string message) { return Reject{RejectCode::kUnavailable, "", std::move(message)}; }

Reject Aborted(std::string message) { return Reject{RejectCode::kAborted, "", std::move(message)}; }

// The block being built, over committed state. Used by the committer only.
class Overlay : public StateReader {
 public:
  explicit Overlay(const StoreState& base) : base_(base) {}
  std::optional<std::string> Get(std::string_view key) const override {
    auto it = pending_.find(key);  // heterogeneous: no string is built per lookup
    if (it != pending_.end()) return it->second;
    return base_.Get(key);
  }
  void Put(const std::string& key, const std::string& value) { pending_[key] = value; }
  // Takes back a Put of a key that was absent before it (facts are
  // write-once, so every Put is of such a key): undoes an atomic group.
  void Erase(const std::string& key) { pending_.erase(key); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  const StoreState& base_;
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> pending_;
};

}  // namespace

// Completion of one Submit/SubmitBatch call: the committer writes each
// result in place, and the last one wakes the caller.
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> pending{0};

  void Done() {
    if (pending.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mu);
      cv.notify_all();
    }
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return pending.load() == 0; });
  }
};

// One queued submission, owned by the calling thread, which waits until
// every one of its submissions is finished; the committer only borrows it.
// Freeing the parsed records in the thread that made them keeps that work
// off the single committer thread.
struct Submission {
  Record record;
  std::optional<wallet::PublicKey> verified_key;  // signature checked with it
  SubmitResult* result = nullptr;
  Completion* completion = nullptr;
  // On the first submission of an atomic group: the group's size. The
  // group is queued contiguously and never split across blocks.
  size_t atomic_size = 0;

  // The submission must not be touched after this: its owner may free it.
  void Finish(SubmitResult r) {
    *result = std::move(r);
    completion->Done();
  }
};

class Ledger::Committer {
 public:
  Committer(const LedgerOptions& options, chain::Store& store, std::optional<wallet::SecretKey> signer)
      : options_(options),
        store_(store),
        state_(store),
        signer_(std::move(signer)),
        pool_(options.verify_threads) {
    if (auto tip = store_.tip()) {
      auto block = store_.GetBlock(tip->height);
      if (block.ok() && block->has_value()) last_timestamp_ms_ = (*block)->header.timestamp_ms;
    }
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tl-committer");
      Loop();
    });
  }

  ~Committer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    thread_.join();
  }

  const StoreState& state() const { return state_; }
  StoreState& state() { return state_; }

  // Parses and pre-verifies into `sub`; returns the reject, if any.
  std::optional<Reject> Prepare(std::string_view json, Submission& sub) const {
    auto record = ParseRecord(json);
    if (!record.ok()) return record.error();
    sub.record = std::move(record).value();
    // Resolve against committed state; a key registered in a block not yet
    // committed is resolved (and the signature checked) by the committer.
    // UINT64_MAX: as of the end of the committed log (facts are stamped).
    auto author = ResolveAuthor(sub.record, state_, UINT64_MAX);
    if (author.ok()) {
      if (!VerifySignature(sub.record, author->key)) {
        return Reject{RejectCode::kBadSignature, "sig",
                      "signature does not verify under key " + sub.record.author};
      }
      sub.verified_key = author->key;
    }
    return std::nullopt;
  }

  SubmitResult Submit(std::string_view json) {
    Submission sub;
    if (auto reject = Prepare(json, sub)) return *reject;
    SubmitResult result = Unavailable("not processed");
    Completion completion;
    completion.pending = 1;
    sub.result = &result;
    sub.completion = &completion;
    Submission* one[] = {&sub};
    Enqueue(one);
    completion.Wait();
    return result;
  }

  std::vector<SubmitResult> SubmitBatch(std::span<const std::string> jsons) {
    const size_t n = jsons.size();
    std::vector<SubmitResult> results(n, Unavailable("not processed"));
    std::vector<Submission> subs(n);
    std::vector<char> prepared(n, 0);
    pool_.ParallelFor(n, [&](size_t i) {
      if (auto reject = Prepare(jsons[i], subs[i])) {
        results[i] = std::move(*reject);
      } else {
        prepared[i] = 1;
      }
    });
    Completion completion;
    std::vector<Submission*> queued;
    for (size_t i = 0; i < n; ++i) {
      if (!prepared[i]) continue;
      subs[i].result = &results[i];
      subs[i].completion = &completion;
      queued.push_back(&subs[i]);
    }
    if (queued.empty()) return results;
    completion.pending = queued.size();
    Enqueue(queued);
    completion.Wait();
    return results;
  }

  std::vector<SubmitResult> SubmitAtomic(std::span<const std::string> jsons) {
    const size_t n = jsons.size();
    std::vector<SubmitResult> results(n, Unavailable("not processed"));
    if (n == 0) return results;
    if (n > BlockCapacity()) {
      for (auto& r : results) {
        r = Aborted("an atomic submission of " + std::to_string(n) + " records exceeds the " +
                    std::to_string(BlockCapacity()) + " records one block may hold");
      }
      return results;
    }
    std::vector<Submission> subs(n);
    std::vector<std::optional<Reject>> rejects(n);
    pool_.ParallelFor(n, [&](size_t i) { rejects[i] = Prepare(jsons[i], subs[i]); });
    for (size_t i = 0; i < n; ++i) {
      if (!rejects[i]) continue;
      for (size_t k = 0; k < n; ++k) {
        if (rejects[k]) results[k] = *rejects[k];
      }
      AbortGroup(results, i, *rejects[i], [&](size_t k) { return rejects[k].has_value(); });
      return results;
    }
    Completion completion;
    std::vector<Submission*> queued(n);
    for (size_t i = 0; i < n; ++i) {
      subs[i].result = &results[i];
      subs[i].completion = &completion;
      queued[i] = &subs[i];
    }
    subs[0].atomic_size = n;
    completion.pending = n;
    Enqueue(queued);
    completion.Wait();
    return results;
  }

 private:
  size_t BlockCapacity() const {
    return std::min(std::max<size_t>(1, options_.max_block_records), size_t{chain::kMaxBlockRecords});
  }

  // Answers an atomic group whose record `failed` was rejected with
  // `reject`: that record (and any other for which has_own(k) is true, whose
  // result is already set) keeps its own reason, every other is aborted.
  template <typename HasOwn>
  static void AbortGroup(std::vector<SubmitResult>& results, size_t failed, const Reject& reject,
                         HasOwn has_own) {
    const std::string why = "not committed: record " + std::to_string(failed + 1) + " of " +
                            std::to_string(results.size()) + " in this atomic submission was rejected (" +
                            reject.ToString() + ")";
    for (size_t k = 0; k < results.size(); ++k) {
      if (k == failed) {
        results[k] = reject;
      } else if (!has_own(k)) {
        results[k] = Aborted(why);
      }
    }
  }

  void Enqueue(std::span<Submission* const> subs) {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [&] { return queued_ < options_.max_queued_records || stopping_; });
    if (stopping_) {
      for (Submission* s : subs) s->Finish(Unavailable("the ledger is shutting down"));
      return;
    }
    queued_ += subs.size();
    for (Submission* s : subs) queue_.push_back(s);
    queue_cv_.notify_one();
  }

  void Loop() {
    for (;;) {
      std::vector<Submission*> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        // Whole atomic groups only; a group never exceeds the capacity.
        const size_t capacity = BlockCapacity();
        size_t n = 0;
        while (n < queue_.size()) {
          size_t group = std::max<size_t>(1, queue_[n]->atomic_size);
          if (n > 0 && n + group > capacity) break;
          n += group;
          if (n >= capacity) break;
        }
        batch.reserve(n);
        for (size_t i = 0; i < n; ++i) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
        queued_ -= n;
      }
      space_cv_.notify_all();
      CommitBatch(batch);
    }
  }

  // Checks that the node's key may seal the block starting at `first_index`.
  std::optional<std::string> SignerProblem(const StateReader& state, uint64_t first_index) const {
    if (!signer_) return "this node is read-only (no operator key)";
    Record probe;
    probe.author = signer_->Public().KeyId();
    auto author = ResolveAuthor(probe, state, first_index);
    if (!author.ok()) return "operator key: " + author.error().message;
    if (!HasRole(state, author->party, Role::kOperator, first_index)) {
      return "key " + probe.author + " belongs to " + author->party + ", which is not an operator";
    }
    return std::nullopt;
  }

  void CommitBatch(const std::vector<Submission*>& batch) {
    if (broken_) {
      for (Submission* s : batch) s->Finish(Unavailable(broken_reason_));
      return;
    }
    std::optional<chain::Tip> tip = store_.tip();
    const uint64_t height = tip ? tip->height + 1 : 0;
    const uint64_t first_index = tip ? tip->frontier.size() : 0;
    chain::MerkleFrontier frontier = tip ? tip->frontier : chain::MerkleFrontier();
    // Block time never goes backwards, whatever the wall clock does.
    const int64_t now_ms = std::max<int64_t>(options_.clock_ms ? options_.clock_ms() : SystemClockMs(),
                                             static_cast<int64_t>(last_timestamp_ms_));

    if (height > 0) {
      if (auto problem = SignerProblem(state_, first_index)) {
        for (Submission* s : batch) s->Finish(Unavailable(*problem));
        return;
      }
    }

    Overlay overlay(state_);
    std::vector<std::pair<std::string, std::string>> effects;  // the block's facts, in order
    std::vector<std::string_view> entries;
    std::vector<Submission*> accepted;
    std::optional<wallet::PublicKey> genesis_key;
    // Validates `s` at the next index against the block so far; on success
    // adds it to the block and returns nullopt.
    auto apply = [&](Submission* s) -> std::optional<Reject> {
      const uint64_t index = first_index + entries.size();
      auto author = ResolveAuthor(s->record, overlay, index);
      if (!author.ok()) return author.error();
      if (!s->verified_key || !(*s->verified_key == author->key)) {
        if (!VerifySignature(s->record, author->key)) {
          return Reject{RejectCode::kBadSignature, "sig",
                        "signature does not verify under key " + s->record.author};
        }
      }
      ValidationContext ctx{
          .index = index, .ledger_time_s = now_ms / 1000, .max_clock_skew_s = options_.max_clock_skew_s};
      if (auto ok = CheckRecord(s->record, *author, overlay, ctx); !ok.ok()) return ok.error();
      if (index == 0) genesis_key = author->key;
      for (auto& effect : Effects(s->record, *author, index)) {
        overlay.Put(effect.first, effect.second);
        effects.push_back(std::move(effect));
      }
      frontier.AppendLeaf(s->record.leaf_hash);
      entries.push_back(s->record.entry);
      accepted.push_back(s);
      return std::nullopt;
    };
    for (size_t b = 0; b < batch.size();) {
      const size_t group = std::max<size_t>(1, batch[b]->atomic_size);
      if (group == 1) {
        if (auto reject = apply(batch[b])) batch[b]->Finish(std::move(*reject));
        ++b;
        continue;
      }
      // An atomic group: all of it joins the block, or none of it does.
      const size_t effects_before = effects.size();
      const size_t entries_before = entries.size();
      const chain::MerkleFrontier frontier_before = frontier;
      std::optional<std::pair<size_t, Reject>> failure;
      for (size_t k = 0; k < group && !failure; ++k) {
        if (auto reject = apply(batch[b + k])) failure.emplace(k, std::move(*reject));
      }
      if (failure) {
        for (size_t e = effects_before; e < effects.size(); ++e) overlay.Erase(effects[e].first);
        effects.resize(effects_before);
        entries.resize(entries_before);
        accepted.resize(entries_before);
        frontier = frontier_before;
        if (entries.empty()) genesis_key.reset();
        std::vector<SubmitResult> results(group, Unavailable("not processed"));
        AbortGroup(results, failure->first, failure->second, [](size_t) { return false; });
        for (size_t k = 0; k < group; ++k) batch[b + k]->Finish(std::move(results[k]));
      }
      b += group;
    }
    chain::WriteSet writes;
    for (auto& [key, value] : effects) writes.Put(std::move(key), std::move(value));
    effects.clear();
    if (state_.io_error()) {
      Fail("reading ledger state failed; restart the node");
      for (Submission* s : accepted) s->Finish(Unavailable(broken_reason_));
      return;
    }
    if (accepted.empty()) return;
    if (height == 0 && !(genesis_key && signer_ && *genesis_key == signer_->Public())) {
      for (Submission* s : accepted) s->Finish(Unavailable("genesis must be sealed by the key it registers"));
      return;
    }

    chain::BlockHeader header{.height = height,
                              .prev_hash = tip ? tip->block_hash : chain::Hash{},
                              .tree_size = frontier.size(),
                              .root = frontier.Root(),
                              .timestamp_ms = static_cast<uint64_t>(now_ms),
                              .record_count = static_cast<uint32_t>(entries.size()),
                              .signer = signer_->Public().bytes()};
    chain::SignedBlock block = chain::SignedBlock::Seal(header, *signer_);
    auto written = store_.AppendBlock(block, entries, frontier, writes, options_.sync);
    if (!written.ok()) {
      Fail("storing block " + std::to_string(height) + " failed: " + written.error().message +
           " (its records were not acknowledged; they may be present after a restart)");
      for (Submission* s : accepted) s->Finish(Unavailable(broken_reason_));
      return;
    }
    last_timestamp_ms_ = header.timestamp_ms;
    for (const auto& [key, value] : writes.puts()) state_.Written(key, value);
    for (size_t i = 0; i < accepted.size(); ++i) {
      Receipt receipt{.id = accepted[i]->record.id, .index = first_index + i, .height = height};
      accepted[i]->Finish(receipt);
    }
  }

  void Fail(std::string reason) {
    broken_ = true;
    broken_reason_ = "ledger unavailable: " + std::move(reason);
  }

  const LedgerOptions& options_;
  chain::Store& store_;
  StoreState state_;
  std::optional<wallet::SecretKey> signer_;
  ThreadPool pool_;

  std::mutex mu_;
  std::condition_variable queue_cv_;
  std::condition_variable space_cv_;
  std::deque<Submission*> queue_;  // GUARDED_BY(mu_)
  size_t queued_ = 0;              // GUARDED_BY(mu_)
  bool stopping_ = false;          // GUARDED_BY(mu_)

  // Committer thread only.
  uint64_t last_timestamp_ms_ = 0;
  bool broken_ = false;
  std::string broken_reason_;
  std::thread thread_;
};

Ledger::Ledger(const LedgerOptions& options, std::unique_ptr<chain::Store> store,
               std::optional<wallet::SecretKey> signer)
    : options_(options), store_(std::move(store)) {
  committer_ = std::make_unique<Committer>(options_, *store_, std::move(signer));
}

Ledger::~Ledger() { committer_.reset(); }

namespace {

LedgerResult<std::unique_ptr<chain::Store>> OpenStore(const LedgerOptions& options, bool create) {
  auto store = chain::Store::Open(chain::StoreOptions{.path = options.path,
                                                      .create_if_missing = create,
                                                      .in_memory = options.in_memory,
                                                      .faults = options.faults,
                                                      .cache_bytes = options.cache_bytes,
                                                      .write_buffer_bytes = options.write_buffer_bytes});
  if (!store.ok()) {
    if (store.error().code == chain::StoreErrorCode::kNotFound) {
      return LedgerError{LedgerErrorCode::kNoGenesis, "no ledger at " + options.path + " (run init first)"};
    }
    return StoreFailure(store.error());
  }
  // Stores from before the owner index get it now (ledger/owner_index.h).
  if ((*store)->tip()) {
    if (auto built = BuildOwnerIndex(**store); !built.ok()) return built.error();
  }
  return std::move(store).value();
}

}  // namespace

LedgerResult<std::unique_ptr<Ledger>> Ledger::Create(const LedgerOptions& options,
                                                     const wallet::SecretKey& operator_key,
                                                     const OperatorIdentity& identity) {
  auto store = OpenStore(options, /*create=*/true);
  if (!store.ok()) return store.error();
  if ((*store)->tip())
    return LedgerError{LedgerErrorCode::kExists, "a ledger already exists at " + options.path};
  std::unique_ptr<Ledger> ledger(new Ledger(options, std::move(store).value(), operator_key));
  Json body = {{"party", identity.party},
               {"name", identity.name},
               {"roles", Json::array({"operator"})},
               {"public_key", operator_key.Public().Hex()}};
  int64_t now_s = (options.clock_ms ? options.clock_ms() : SystemClockMs()) / 1000;
  Record genesis = SignRecord(RecordKind::kParty, body, operator_key, now_s);
  auto result = ledger->Submit(genesis.entry);
  if (!result.ok()) {
    return LedgerError{LedgerErrorCode::kStore, "writing genesis failed: " + result.error().ToString()};
  }
  return ledger;
}

LedgerResult<std::unique_ptr<Ledger>> Ledger::Open(const LedgerOptions& options,
                                                   std::optional<wallet::SecretKey> signer) {
  auto store = OpenStore(options, /*create=*/false);
  if (!store.ok()) return store.error();
  auto tip = (*store)->tip();
  if (!tip)
    return LedgerError{LedgerErrorCode::kNoGenesis, "no ledger at " + options.path + " (run init first)"};
  if (signer) {
    StoreState state(**store);
    Record probe;
    probe.author = signer->Public().KeyId();
    auto author = ResolveAuthor(probe, state, tip->frontier.size());
    if (!author.ok() || !HasRole(state, author->party, Role::kOperator, tip->frontier.size())) {
      return LedgerError{LedgerErrorCode::kNotOperator,
                         "key " + probe.author + " is not an active operator key of this ledger"};
    }
  }
  return std::unique_ptr<Ledger>(new Ledger(options, std::move(store).value(), std::move(signer)));
}

LedgerResult<std::unique_ptr<Ledger>> Ledger::OpenMirror(const LedgerOptions& options) {
  auto store = OpenStore(options, /*create=*/true);
  if (!store.ok()) return store.error();
  std::unique_ptr<Ledger> ledger(new Ledger(options, std::move(store).value(), std::nullopt));
  ledger->mirror_ = true;
  return ledger;
}

const StoreState& Ledger::committed_state() const { return committer_->state(); }

LedgerResult<void> Ledger::AppendVerified(const chain::SignedBlock& block,
                                          std::span<const std::string_view> entries,
                                          const chain::MerkleFrontier& frontier_after,
                                          const chain::WriteSet& facts, bool sync) {
  if (!mirror_)
    return LedgerError{LedgerErrorCode::kStore, "only a mirror ledger stores blocks it did not seal"};
  auto written = store_->AppendBlock(block, entries, frontier_after, facts, sync);
  if (!written.ok()) return StoreFailure(written.error());
  for (const auto& [key, value] : facts.puts()) committer_->state().Written(key, value);
  return {};
}

SubmitResult Ledger::Submit(std::string_view json) { return committer_->Submit(json); }

std::vector<SubmitResult> Ledger::SubmitBatch(std::span<const std::string> jsons) {
  return committer_->SubmitBatch(jsons);
}

std::vector<SubmitResult> Ledger::SubmitAtomic(std::span<const std::string> jsons) {
  return committer_->SubmitAtomic(jsons);
}

LedgerResult<std::optional<chain::SignedBlock>> Ledger::GetBlock(uint64_t height) const {
  auto block = store_->GetBlock(height);
  if (!block.ok()) return StoreFailure(block.error());
  return *block;
}

LedgerResult<uint64_t> Ledger::HeightOfIndex(uint64_t index) const {
  auto tip = store_->tip();
  if (!tip || index >= tip->frontier.size()) {
    return LedgerError{LedgerErrorCode::kCorrupt,
                       "log index " + std::to_string(index) + " is beyond the tip"};
  }
  // First block whose tree_size exceeds index.
  uint64_t lo = 0, hi = tip->height;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    auto block = GetBlock(mid);
    if (!block.ok()) return block.error();
    if (!block->has_value()) {
      return LedgerError{LedgerErrorCode::kCorrupt, "block " + std::to_string(mid) + " is missing"};
    }
    if ((*block)->header.tree_size > index) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

LedgerResult<std::optional<StoredRecord>> Ledger::GetByIndex(uint64_t index) const {
  auto entry = store_->GetEntry(index);
  if (!entry.ok()) return StoreFailure(entry.error());
  if (!entry->has_value()) return std::optional<StoredRecord>();
  auto record = ParseRecord(**entry);
  if (!record.ok() || record->entry != **entry) {
    return LedgerError{LedgerErrorCode::kCorrupt, "entry " + std::to_string(index) +
                                                      " is not a canonical record" +
                                                      (record.ok() ? "" : ": " + record.error().ToString())};
  }
  auto height = HeightOfIndex(index);
  if (!height.ok()) return height.error();
  return std::optional<StoredRecord>(StoredRecord{std::move(record).value(), index, *height});
}

LedgerResult<std::optional<StoredRecord>> Ledger::GetRecord(const chain::Hash& id) const {
  auto raw = store_->Get(keys::Record(id));
  if (!raw.ok()) return StoreFailure(raw.error());
  if (!raw->has_value()) return std::optional<StoredRecord>();
  auto seq = DecodeSeq(**raw);
  if (!seq)
    return LedgerError{LedgerErrorCode::kCorrupt,
                       "record index entry for " + chain::HashHex(id) + " is damaged"};
  auto stored = GetByIndex(*seq);
  if (!stored.ok()) return stored.error();
  if (!stored->has_value() || (*stored)->record.id != id) {
    return LedgerError{LedgerErrorCode::kCorrupt, "record index entry for " + chain::HashHex(id) +
                                                      " points at entry " + std::to_string(*seq) +
                                                      ", which is another record"};
  }
  return stored;
}

namespace {

// The party that authored `record`, per the key facts.
std::string AuthorParty(const StateReader& state, const Record& record) {
  auto fact = FactAsOf(state, keys::Key(record.author), UINT64_MAX);
  return fact ? fact->party : std::string();
}

bool ReferencesLot(const Record& r, std::string_view gtin, std::string_view lot) {
  if (r.kind == RecordKind::kShipment) {
    for (const auto& l : r.body.at("lots")) {
      if (l.at("gtin") == gtin && l.at("lot") == lot) return true;
    }
    return false;
  }
  return r.Str("gtin") == gtin && r.Str("lot") == lot;
}

}  // namespace

namespace {

// Fetches the record that created the fact at `key` and checks it with
// `matches`; any disagreement is corruption, never served.
template <typename Matches>
LedgerResult<std::optional<StoredRecord>> LookupFact(const Ledger& ledger, const std::string& key,
                                                     std::string_view what, Matches matches) {
  auto raw = ledger.store().Get(key);
  if (!raw.ok()) return StoreFailure(raw.error());
  if (!raw->has_value()) return std::optional<StoredRecord>();
  auto fact = DecodeFact(**raw);
  if (!fact) return LedgerError{LedgerErrorCode::kCorrupt, std::string(what) + " index entry is damaged"};
  auto stored = ledger.GetByIndex(fact->seq);
  if (!stored.ok()) return stored.error();
  if (!stored->has_value() || !matches((*stored)->record, *fact)) {
    return LedgerError{LedgerErrorCode::kCorrupt, std::string(what) + " index entry points at entry " +
                                                      std::to_string(fact->seq) +
                                                      ", which does not create it"};
  }
  return stored;
}

}  // namespace

LedgerResult<std::optional<StoredRecord>> Ledger::GetParty(std::string_view party) const {
  return LookupFact(*this, keys::Party(party), "party", [&](const Record& r, const Fact&) {
    return r.kind == RecordKind::kParty && r.Str("party") == party;
  });
}

LedgerResult<std::optional<StoredRecord>> Ledger::GetProduct(std::string_view gtin) const {
  const auto& state = committer_->state();
  return LookupFact(*this, keys::Product(gtin), "product", [&](const Record& r, const Fact& f) {
    return r.kind == RecordKind::kProduct && r.Str("gtin") == gtin && AuthorParty(state, r) == f.owner;
  });
}

LedgerResult<std::optional<StoredRecord>> Ledger::GetLot(std::string_view gtin, std::string_view lot) const {
  const auto& state = committer_->state();
  return LookupFact(*this, keys::Lot(gtin, lot), "lot", [&](const Record& r, const Fact& f) {
    return r.kind == RecordKind::kLot && r.Str("gtin") == gtin && r.Str("lot") == lot &&
           AuthorParty(state, r) == f.owner;
  });
}

LedgerResult<std::optional<StoredRecord>> Ledger::GetShipment(std::string_view shipment) const {
  const auto& state = committer_->state();
  return LookupFact(*this, keys::Shipment(shipment), "shipment", [&](const Record& r, const Fact& f) {
    return r.kind == RecordKind::kShipment && r.Str("shipment") == shipment &&
           AuthorParty(state, r) == f.owner;
  });
}

namespace {

template <typename Fetch, typename Matches>
LedgerResult<std::vector<StoredRecord>> ListHistory(const chain::Store& store, const std::string& prefix,
                                                    std::string_view what, Fetch fetch, Matches matches) {
  std::vector<uint64_t> seqs;
  bool bad_key = false;
  auto scan = store.Scan(prefix, {}, [&](std::string_view key, std::string_view) {
    if (key.size() != prefix.size() + 8) {
      bad_key = true;
      return false;
    }
    seqs.push_back(keys::SeqOfHistoryKey(key));
    return true;
  });
  if (!scan.ok()) return StoreFailure(scan.error());
  if (bad_key)
    return LedgerError{LedgerErrorCode::kCorrupt, std::string(what) + " history has a damaged key"};
  std::vector<StoredRecord> out;
  for (uint64_t seq : seqs) {
    auto stored = fetch(seq);
    if (!stored.ok()) return stored.error();
    if (!stored->has_value() || !matches((*stored)->record)) {
      return LedgerError{LedgerErrorCode::kCorrupt, std::string(what) + " history lists entry " +
                                                        std::to_string(seq) + ", which is not about it"};
    }
    out.push_back(std::move(**stored));
  }
  return out;
}

}  // namespace

LedgerResult<std::vector<StoredRecord>> Ledger::LotHistory(std::string_view gtin,
                                                           std::string_view lot) const {
  return ListHistory(
      *store_, keys::LotHistoryPrefix(gtin, lot), "lot", [&](uint64_t seq) { return GetByIndex(seq); },
      [&](const Record& r) { return ReferencesLot(r, gtin, lot); });
}

LedgerResult<std::vector<StoredRecord>> Ledger::ShipmentHistory(std::string_view shipment) const {
  return ListHistory(
      *store_, keys::ShipmentHistoryPrefix(shipment), "shipment",
      [&](uint64_t seq) { return GetByIndex(seq); },
      [&](const Record& r) { return r.Str("shipment") == shipment; });
}

struct Ledger::IndexedPart {
  std::shared_ptr<const StoredRecord> stored;
  // Views into stored->record.body["serials"], which never changes.
  std::unordered_map<std::string_view, size_t> positions;
};

LedgerResult<std::shared_ptr<const Ledger::IndexedPart>> Ledger::GetIssuancePart(uint64_t index) const {
  // 128 parts hold 1,280,000 codes: random scans of a ledger of a million
  // codes then parse and index each part once, not once per scan (a miss
  // re-reads and re-checks a record of up to ~700 KB). Memory: ~1.5 MB per
  // cached part (~2.5 MB with PIN hashes), only for parts actually read.
  constexpr size_t kCachedParts = 128;
  {
    std::shared_lock<std::shared_mutex> lock(part_cache_mu_);
    auto it = part_cache_.find(index);
    if (it != part_cache_.end()) return it->second;
  }
  auto stored = GetByIndex(index);
  if (!stored.ok()) return stored.error();
  if (!stored->has_value()) {
    return LedgerError{LedgerErrorCode::kCorrupt, "log entry " + std::to_string(index) + " is missing"};
  }
  auto part = std::make_shared<IndexedPart>();
  part->stored = std::make_shared<const StoredRecord>(std::move(**stored));
  const Record& r = part->stored->record;
  if (r.kind != RecordKind::kCodeIssuance) return std::shared_ptr<const IndexedPart>(std::move(part));
  const Json& serials = r.body.at("serials");
  part->positions.reserve(serials.size());
  for (size_t i = 0; i < serials.size(); ++i) {
    part->positions.emplace(serials[i].get_ref<const std::string&>(), i);  // first one wins
  }
  std::unique_lock<std::shared_mutex> lock(part_cache_mu_);
  auto [it, inserted] = part_cache_.emplace(index, std::move(part));
  if (inserted) {
    part_cache_order_.push_back(index);
    if (part_cache_order_.size() > kCachedParts) {
      part_cache_.erase(part_cache_order_.front());
      part_cache_order_.pop_front();
    }
  }
  return it->second;
}

LedgerResult<std::optional<IssuedCode>> Ledger::GetCode(std::string_view gtin,
                                                        std::string_view serial) const {
  const std::string key = keys::CodeIssued(gtin, serial);
  auto raw = store_->Get(key);
  if (!raw.ok()) return StoreFailure(raw.error());
  if (!raw->has_value()) return std::optional<IssuedCode>();
  auto fact = DecodeFact(**raw);
  if (!fact)
    return LedgerError{LedgerErrorCode::kCorrupt, "code index entry " + PrintableKey(key) + " is damaged"};
  auto part = GetIssuancePart(fact->seq);
  if (!part.ok()) return part.error();
  const Record& r = (*part)->stored->record;
  if (r.kind == RecordKind::kCodeIssuance && r.Str("gtin") == gtin) {
    auto at = (*part)->positions.find(serial);
    if (at != (*part)->positions.end()) {
      return std::optional<IssuedCode>(IssuedCode{.issuance = (*part)->stored, .position = at->second});
    }
  }
  return LedgerError{LedgerErrorCode::kCorrupt, "code index entry " + PrintableKey(key) +
                                                    " points at entry " + std::to_string(fact->seq) +
                                                    ", which does not issue it"};
}

LedgerResult<CodeStatus> Ledger::GetCodeStatus(std::string_view gtin, std::string_view serial) const {
  CodeStatus status;
  auto issued = GetCode(gtin, serial);
  if (!issued.ok()) return issued.error();
  if (!issued->has_value()) return status;
  status.issued = std::move(**issued);
  const std::string lot(status.issued->lot());

  auto revoked = LookupFact(*this, keys::CodeRevoked(gtin, serial), "code revocation",
                            [&](const Record& r, const Fact&) {
                              if (r.kind != RecordKind::kCodeRevocation || r.Str("gtin") != gtin)
                                return false;
                              for (const auto& s : r.body.at("serials")) {
                                if (s.get_ref<const std::string&>() == serial) return true;
                              }
                              return false;
                            });
  if (!revoked.ok()) return revoked.error();
  if (revoked->has_value()) status.revoked = (*revoked)->index;

  auto recalled =
      LookupFact(*this, keys::LotRecalled(gtin, lot), "lot recall", [&](const Record& r, const Fact&) {
        return r.kind == RecordKind::kLotRecall && r.Str("gtin") == gtin && r.Str("lot") == lot;
      });
  if (!recalled.ok()) return recalled.error();
  if (recalled->has_value()) status.lot_recalled = (*recalled)->index;

  // The first failed inspection is enough; it is checked like a history entry.
  const std::string prefix = keys::LotFailedPrefix(gtin, lot);
  std::optional<uint64_t> first_failure;
  bool bad_key = false;
  auto scan = store_->Scan(prefix, {}, [&](std::string_view key, std::string_view value) {
    bad_key = key.size() != prefix.size() + 8 || !value.empty();
    if (!bad_key) first_failure = keys::SeqOfHistoryKey(key);
    return false;
  });
  if (!scan.ok()) return StoreFailure(scan.error());
  if (bad_key)
    return LedgerError{LedgerErrorCode::kCorrupt, "failed-inspection index of lot " + lot + " is damaged"};
  if (first_failure) {
    auto stored = GetByIndex(*first_failure);
    if (!stored.ok()) return stored.error();
    const bool matches = stored->has_value() && (*stored)->record.kind == RecordKind::kInspection &&
                         (*stored)->record.Str("gtin") == gtin && (*stored)->record.Str("lot") == lot &&
                         (*stored)->record.Str("result") == "non_conformant";
    if (!matches) {
      return LedgerError{LedgerErrorCode::kCorrupt, "failed-inspection index of lot " + lot +
                                                        " lists entry " + std::to_string(*first_failure) +
                                                        ", which is no failed inspection of it"};
    }
    status.failed_inspection = first_failure;
  }
  return status;
}

LedgerResult<std::vector<StoredRecord>> Ledger::GetCodeBatch(std::string_view gtin,
                                                             std::string_view batch) const {
  const std::string prefix = keys::CodePartPrefix(gtin, batch);
  // Part keys end in <parts 4 BE><part 4 BE>; collect the indices by part.
  std::vector<std::pair<uint32_t, uint64_t>> parts;
  bool bad = false;
  auto scan = store_->Scan(prefix, {}, [&](std::string_view key, std::string_view value) {
    auto fact = DecodeFact(value);
    if (key.size() < prefix.size() + 10 || !fact) {
      bad = true;
      return false;
    }
    parts.emplace_back(GetBigEndian32(reinterpret_cast<const uint8_t*>(key.data() + key.size() - 4)),
                       fact->seq);
    return true;
  });
  if (!scan.ok()) return StoreFailure(scan.error());
  if (bad)
    return LedgerError{LedgerErrorCode::kCorrupt,
                       "part index of batch " + std::string(batch) + " is damaged"};
  std::sort(parts.begin(), parts.end());
  std::vector<StoredRecord> out;
  for (const auto& [part, seq] : parts) {
    auto stored = GetByIndex(seq);
    if (!stored.ok()) return stored.error();
    const bool matches = stored->has_value() && (*stored)->record.kind == RecordKind::kCodeIssuance &&
                         (*stored)->record.Str("gtin") == gtin && (*stored)->record.Str("batch") == batch &&
                         (*stored)->record.body.at("part").get<int64_t>() == part;
    if (!matches) {
      return LedgerError{LedgerErrorCode::kCorrupt, "part index of batch " + std::string(batch) +
                                                        " lists entry " + std::to_string(seq) +
                                                        ", which is not that part"};
    }
    out.push_back(std::move(**stored));
  }
  return out;
}

LedgerResult<std::optional<KeyInfo>> Ledger::GetKey(std::string_view key_id) const {
  auto registered = LookupFact(*this, keys::Key(key_id), "key", [&](const Record& r, const Fact& f) {
    if (r.kind != RecordKind::kParty && r.kind != RecordKind::kKeyRotation) return false;
    auto key = wallet::PublicKey::FromHex(r.Str("public_key"));
    return key && key->KeyId() == key_id && r.Str("party") == f.party && r.Str("public_key") == f.public_key;
  });
  if (!registered.ok()) return registered.error();
  if (!registered->has_value()) return std::optional<KeyInfo>();
  const Record& r = (*registered)->record;
  KeyInfo info{.key_id = std::string(key_id),
               .party = std::string(r.Str("party")),
               .key = *wallet::PublicKey::FromHex(r.Str("public_key")),
               .registered = (*registered)->index};
  auto retired =
      LookupFact(*this, keys::KeyRetired(key_id), "key retirement", [&](const Record& rec, const Fact&) {
        return rec.kind == RecordKind::kKeyRotation && rec.Str("retire_key_id") == key_id;
      });
  if (!retired.ok()) return retired.error();
  if (retired->has_value()) info.retired = (*retired)->index;
  auto revoked =
      LookupFact(*this, keys::KeyRevoked(key_id), "key revocation", [&](const Record& rec, const Fact&) {
        return rec.kind == RecordKind::kKeyRevocation && rec.Str("key_id") == key_id;
      });
  if (!revoked.ok()) return revoked.error();
  if (revoked->has_value()) info.revoked = (*revoked)->index;
  return std::optional<KeyInfo>(std::move(info));
}

}  // namespace traceledger::ledger
