#include "ledger/replica.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "chain/merkle.h"
#include "chain/proof.h"
#include "ledger/audit.h"
#include "ledger/rules.h"
#include "ledger/state.h"
#include "util/encoding.h"

namespace traceledger::ledger {
namespace {

constexpr char kRangeMagic[4] = {'T', 'L', 'R', '1'};
constexpr size_t kRangeHeaderSize = 4 + 8 + 4 + 1;  // magic, from, block count, link flag
constexpr size_t kRecordCountOffset = 92;           // in a block header (chain/block.h)

void AppendBig64(std::string& out, uint64_t v) {
  uint8_t b[8];
  PutBigEndian64(v, b);
  out.append(reinterpret_cast<const char*>(b), 8);
}

void AppendBig32(std::string& out, uint32_t v) {
  uint8_t b[4];
  PutBigEndian32(v, b);
  out.append(reinterpret_cast<const char*>(b), 4);
}

const uint8_t* Bytes(std::string_view s, size_t at) {
  return reinterpret_cast<const uint8_t*>(s.data()) + at;
}

std::string HexOf(std::string_view bytes) {
  return HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

int64_t SystemClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "2026-11-21T00:00:00.000Z"; `compact` drops the separators for file names.
std::string UtcTime(int64_t ms, bool compact) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, compact ? "%Y%m%dT%H%M%S" : "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// Writes `text` to `path` so that after a crash the file is either absent
// or complete: temporary file, fsync, rename, directory fsync.
bool WriteFileDurably(const std::string& path, const std::string& text, std::string& error) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create " + tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    error = "cannot sync " + tmp + ": " + std::strerror(errno);
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + tmp + ": " + std::strerror(errno);
    return false;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return true;
}

// Pending facts of the blocks being verified, over committed state.
class PendingState : public StateReader {
 public:
  explicit PendingState(const StateReader& base) : base_(base) {}
  std::optional<std::string> Get(std::string_view key) const override {
    if (auto it = pending_.find(std::string(key)); it != pending_.end()) return it->second;
    return base_.Get(key);
  }
  void Put(const std::string& key, const std::string& value) { pending_[key] = value; }

 private:
  const StateReader& base_;
  std::unordered_map<std::string, std::string> pending_;
};

ReplicaError Refuse(ReplicaErrorCode code, uint64_t height, std::string message) {
  return ReplicaError{.code = code, .height = height, .message = std::move(message)};
}

ReplicaError BadRecord(uint64_t height, uint64_t index, Reject reject) {
  std::string message = "record at index " + std::to_string(index) + ": " + reject.ToString();
  return ReplicaError{.code = ReplicaErrorCode::kBadRecord,
                      .height = height,
                      .index = index,
                      .reject = std::move(reject),
                      .message = std::move(message)};
}

// Per entry, from the parallel phase.
struct EntryWork {
  std::optional<Record> record;
  std::optional<Reject> problem;                  // parse or canonical form
  std::optional<wallet::PublicKey> verified_key;  // signature checked with it
};

bool SameHeader(std::string_view a, std::string_view b) {
  return a.size() >= chain::kHeaderSize && b.size() >= chain::kHeaderSize &&
         a.substr(0, chain::kHeaderSize) == b.substr(0, chain::kHeaderSize);
}

std::optional<uint64_t> HeightOf(std::string_view stored_block) {
  auto block = chain::SignedBlock::Parse(stored_block);
  if (!block) return std::nullopt;
  return block->header.height;
}

}  // namespace

// ------------------------------------------------------------ transfer

std::string EncodeBlockRange(const BlockRange& range) {
  std::string out(kRangeMagic, 4);
  AppendBig64(out, range.from);
  AppendBig32(out, static_cast<uint32_t>(range.blocks.size()));
  out.push_back(range.link ? '\x01' : '\x00');
  if (range.link) out += *range.link;
  for (const TransferredBlock& b : range.blocks) {
    out += b.block;
    for (const std::string& e : b.entries) {
      AppendBig32(out, static_cast<uint32_t>(e.size()));
      out += e;
    }
  }
  return out;
}

Result<BlockRange, std::string> DecodeBlockRange(std::string_view bytes, uint32_t max_blocks) {
  if (bytes.size() < kRangeHeaderSize || bytes.substr(0, 4) != std::string_view(kRangeMagic, 4)) {
    return std::string("block range: missing TLR1 header");
  }
  BlockRange range;
  range.from = GetBigEndian64(Bytes(bytes, 4));
  const uint32_t count = GetBigEndian32(Bytes(bytes, 12));
  const uint8_t link = static_cast<uint8_t>(bytes[16]);
  if (count > max_blocks) {
    return "block range: " + std::to_string(count) + " blocks, at most " + std::to_string(max_blocks) +
           " were asked for";
  }
  if (link > 1) return std::string("block range: link flag must be 0 or 1");
  size_t at = kRangeHeaderSize;
  auto need = [&](size_t n, const std::string& what) -> std::optional<std::string> {
    if (bytes.size() - at < n) return "block range: truncated in " + what + " at byte " + std::to_string(at);
    return std::nullopt;
  };
  if (link == 1) {
    if (auto e = need(chain::kSignedBlockSize, "the link block")) return *e;
    range.link = std::string(bytes.substr(at, chain::kSignedBlockSize));
    at += chain::kSignedBlockSize;
  }
  range.blocks.reserve(count);
  for (uint32_t b = 0; b < count; ++b) {
    const std::string what = "block " + std::to_string(b);
    if (auto e = need(chain::kSignedBlockSize, what)) return *e;
    TransferredBlock tb;
    tb.block = std::string(bytes.substr(at, chain::kSignedBlockSize));
    const uint32_t records = GetBigEndian32(Bytes(tb.block, kRecordCountOffset));
    at += chain::kSignedBlockSize;
    if (records > chain::kMaxBlockRecords) {
      return "block range: " + what + " claims " + std::to_string(records) + " records";
    }
    // Each entry takes at least its 4-byte length: bound the allocation.
    tb.entries.reserve(std::min<size_t>(records, (bytes.size() - at) / 4));
    for (uint32_t k = 0; k < records; ++k) {
      if (auto e = need(4, what + " entry " + std::to_string(k))) return *e;
      const uint32_t len = GetBigEndian32(Bytes(bytes, at));
      at += 4;
      if (auto e = need(len, what + " entry " + std::to_string(k))) return *e;
      tb.entries.emplace_back(bytes.substr(at, len));
      at += len;
    }
    range.blocks.push_back(std::move(tb));
  }
  if (at != bytes.size()) {
    return "block range: " + std::to_string(bytes.size() - at) + " bytes after the last block";
  }
  return range;
}

chain::StoreResult<BlockRange> ReadBlockRange(const chain::Store& store, uint64_t from, uint32_t max_blocks,
                                              size_t max_bytes) {
  BlockRange range;
  range.from = from;
  auto tip = store.tip();
  if (!tip || from > tip->height + 1) return range;
  if (from > 0) {
    auto link = store.GetBlock(from - 1);
    if (!link.ok()) return link.error();
    if (!link->has_value()) {
      return chain::StoreError{chain::StoreErrorCode::kCorruption,
                               "block " + std::to_string(from - 1) + " is missing"};
    }
    range.link = (*link)->Serialize();
  }
  const uint64_t last = std::min<uint64_t>(tip->height, from + std::max<uint32_t>(1, max_blocks) - 1);
  if (from > last) return range;
  std::vector<chain::SignedBlock> headers;
  for (uint64_t h = from; h <= last; ++h) {
    auto block = store.GetBlock(h);
    if (!block.ok()) return block.error();
    if (!block->has_value()) {
      return chain::StoreError{chain::StoreErrorCode::kCorruption,
                               "block " + std::to_string(h) + " is missing"};
    }
    headers.push_back(**block);
  }
  // One scan over the entries of all these blocks, cut at a block boundary
  // once the range is past max_bytes.
  size_t bytes = 0;
  size_t b = 0;
  range.blocks.push_back(TransferredBlock{headers[0].Serialize(), {}});
  bytes += chain::kSignedBlockSize;
  const uint64_t first = headers.front().header.first_index();
  const uint64_t total = headers.back().header.tree_size - first;
  auto scan = store.ScanEntries(first, total, [&](uint64_t, std::string_view entry) {
    while (range.blocks.back().entries.size() == headers[b].header.record_count) {
      if (bytes > max_bytes || b + 1 == headers.size()) {
        return false;
      }
      ++b;
      range.blocks.push_back(TransferredBlock{headers[b].Serialize(), {}});
      bytes += chain::kSignedBlockSize;
    }
    range.blocks.back().entries.emplace_back(entry);
    bytes += entry.size() + 4;
    return true;
  });
  if (!scan.ok()) return scan.error();
  if (range.blocks.back().entries.size() != headers[b].header.record_count) {
    return chain::StoreError{chain::StoreErrorCode::kCorruption,
                             "block " + std::to_string(headers[b].header.height) + " is missing entries"};
  }
  return range;
}

Json DescribeBlock(const chain::SignedBlock& block) {
  const chain::BlockHeader& h = block.header;
  const std::string stored = block.Serialize();
  return Json{{"height", h.height},
              {"block_hash", chain::HashHex(h.ComputeHash())},
              {"prev_hash", chain::HashHex(h.prev_hash)},
              {"tree_size", h.tree_size},
              {"root", chain::HashHex(h.root)},
              {"timestamp_ms", h.timestamp_ms},
              {"record_count", h.record_count},
              {"signer", HexEncode(h.signer)},
              {"signature", HexEncode(block.signature)},
              {"block", HexOf(stored)}};
}

// ---------------------------------------------------------- verification

std::string_view ReplicaErrorCodeName(ReplicaErrorCode code) {
  switch (code) {
    case ReplicaErrorCode::kMalformed:
      return "malformed";
    case ReplicaErrorCode::kWrongHeight:
      return "wrong_height";
    case ReplicaErrorCode::kBrokenLink:
      return "broken_link";
    case ReplicaErrorCode::kWrongTreeSize:
      return "wrong_tree_size";
    case ReplicaErrorCode::kTimestamp:
      return "timestamp";
    case ReplicaErrorCode::kBadBlockSignature:
      return "bad_block_signature";
    case ReplicaErrorCode::kBadSigner:
      return "bad_signer";
    case ReplicaErrorCode::kBadRecord:
      return "bad_record";
    case ReplicaErrorCode::kWrongRoot:
      return "wrong_root";
    case ReplicaErrorCode::kStore:
      return "store";
  }
  return "unknown";
}

std::string ReplicaError::ToString() const {
  return std::string(ReplicaErrorCodeName(code)) + " at height " + std::to_string(height) + ": " + message;
}

Replica::Replica(Ledger& ledger, ReplicaOptions options)
    : ledger_(ledger), options_(options), pool_(options.threads) {}

ApplyResult Replica::Apply(std::span<const TransferredBlock> blocks) {
  ApplyResult result;
  if (blocks.empty()) return result;
  const std::optional<chain::Tip> tip = ledger_.tip();
  uint64_t want_height = tip ? tip->height + 1 : 0;
  chain::Hash want_prev = tip ? tip->block_hash : chain::Hash{};
  uint64_t want_first = tip ? tip->frontier.size() : 0;
  uint64_t prev_time = 0;
  if (tip) {
    auto ours = ledger_.GetBlock(tip->height);
    if (!ours.ok() || !ours->has_value()) {
      result.error = Refuse(ReplicaErrorCode::kStore, tip->height, "cannot read the replica's tip block");
      return result;
    }
    prev_time = (*ours)->header.timestamp_ms;
  }

  // 1. Structure, in order (cheap): each block parses, holds the entries
  //    it claims, and extends the one before it. The first that does not
  //    ends the run; the blocks before it are still verified and stored.
  std::vector<chain::SignedBlock> parsed;
  std::optional<ReplicaError> failure;
  for (const TransferredBlock& tb : blocks) {
    auto block = chain::SignedBlock::Parse(tb.block);
    if (!block) {
      failure = Refuse(ReplicaErrorCode::kMalformed, want_height,
                       "not a " + std::to_string(chain::kSignedBlockSize) + "-byte TLB1 block");
      break;
    }
    const chain::BlockHeader& h = block->header;
    if (h.height != want_height) {
      failure = Refuse(
          ReplicaErrorCode::kWrongHeight, want_height,
          "block says height " + std::to_string(h.height) + ", expected " + std::to_string(want_height));
      break;
    }
    if (h.record_count == 0 || h.record_count > chain::kMaxBlockRecords ||
        h.record_count != tb.entries.size()) {
      failure = Refuse(ReplicaErrorCode::kMalformed, h.height,
                       "header says " + std::to_string(h.record_count) + " records, " +
                           std::to_string(tb.entries.size()) + " entries came with it");
      break;
    }
    if (h.prev_hash != want_prev) {
      failure = Refuse(ReplicaErrorCode::kBrokenLink, h.height,
                       h.height == 0 ? "genesis prev_hash is not zero"
                                     : "prev_hash is not the hash of block " + std::to_string(h.height - 1));
      break;
    }
    if (h.first_index() != want_first) {
      failure = Refuse(ReplicaErrorCode::kWrongTreeSize, h.height,
                       "block starts at log index " + std::to_string(h.first_index()) + ", expected " +
                           std::to_string(want_first));
      break;
    }
    if (h.timestamp_ms < prev_time) {
      failure = Refuse(ReplicaErrorCode::kTimestamp, h.height, "timestamp goes backwards");
      break;
    }
    want_height = h.height + 1;
    want_prev = h.ComputeHash();
    want_first = h.tree_size;
    prev_time = h.timestamp_ms;
    parsed.push_back(*block);
  }

  // 2. In parallel: block signatures; every entry parsed, in canonical
  //    form, and its signature checked under the author's key as of the
  //    committed state (step 3 re-checks under the key as of its index
  //    when that differs).
  const StoreState& committed = ledger_.committed_state();
  std::vector<const std::string*> entries;
  for (size_t b = 0; b < parsed.size(); ++b) {
    for (const std::string& e : blocks[b].entries) entries.push_back(&e);
  }
  std::vector<EntryWork> work(entries.size());
  std::vector<char> block_sig_ok(parsed.size(), 0);
  pool_.ParallelFor(parsed.size() + entries.size(), [&](size_t t) {
    if (t < parsed.size()) {
      block_sig_ok[t] = parsed[t].VerifySignature() ? 1 : 0;
      return;
    }
    EntryWork& w = work[t - parsed.size()];
    const std::string& entry = *entries[t - parsed.size()];
    auto record = ParseRecord(entry);
    if (!record.ok()) {
      w.problem = record.error();
      return;
    }
    if (record->entry != entry) {
      w.problem = Reject{RejectCode::kMalformed, "", "entry is not in canonical form"};
      return;
    }
    auto author = ResolveAuthor(*record, committed, UINT64_MAX);
    if (author.ok() && VerifySignature(*record, author->key)) w.verified_key = author->key;
    w.record = std::move(record).value();
  });

  // 3. In log order: signer, author as of the index, every rule, the
  //    facts, the root. A record whose signature step 2 could not check
  //    with the key it has at its index (a key registered inside the range)
  //    is noted, and checked in parallel after this pass.
  struct Verified {
    size_t block = 0;
    chain::MerkleFrontier frontier;
    chain::WriteSet facts;
  };
  struct DeferredSignature {
    size_t block = 0;  // into parsed
    uint32_t entry = 0;
    wallet::PublicKey key;
  };
  std::vector<Verified> verified;
  std::vector<DeferredSignature> deferred;
  std::vector<size_t> first_entry_of;  // into work, per verified-or-failed block
  // Where the failure (if any) of step 3 lies: its block, and the entry
  // whose checks failed (record_count when after the entries; -1 before).
  size_t failed_block = parsed.size();
  int64_t failed_entry = 0;
  PendingState pending(committed);
  chain::MerkleFrontier frontier = tip ? tip->frontier : chain::MerkleFrontier();
  size_t next_entry = 0;
  for (size_t b = 0; b < parsed.size(); ++b) {
    const chain::SignedBlock& block = parsed[b];
    const chain::BlockHeader& h = block.header;
    first_entry_of.push_back(next_entry);
    std::optional<ReplicaError> problem;
    int64_t problem_entry = -1;
    if (!block_sig_ok[b]) {
      problem = Refuse(ReplicaErrorCode::kBadBlockSignature, h.height, "block signature does not verify");
    } else if (h.height > 0) {
      if (std::string p = CheckBlockSigner(pending, block); !p.empty()) {
        problem = Refuse(ReplicaErrorCode::kBadSigner, h.height, p);
      }
    }
    chain::WriteSet facts;
    chain::MerkleFrontier after = frontier;
    for (uint32_t k = 0; k < h.record_count && !problem; ++k) {
      const uint64_t index = h.first_index() + k;
      problem_entry = k;
      EntryWork& w = work[next_entry + k];
      if (w.problem) {
        problem = BadRecord(h.height, index, *w.problem);
        break;
      }
      const Record& record = *w.record;
      auto author = ResolveAuthor(record, pending, index);
      if (!author.ok()) {
        problem = BadRecord(h.height, index, author.error());
        break;
      }
      if (!(w.verified_key && *w.verified_key == author->key)) {
        deferred.push_back(DeferredSignature{.block = b, .entry = k, .key = author->key});
      }
      ValidationContext ctx{.index = index,
                            .ledger_time_s = static_cast<int64_t>(h.timestamp_ms / 1000),
                            .max_clock_skew_s = options_.max_clock_skew_s};
      if (auto ok = CheckRecord(record, *author, pending, ctx); !ok.ok()) {
        problem = BadRecord(h.height, index, ok.error());
        break;
      }
      for (auto& [key, value] : Effects(record, *author, index)) {
        pending.Put(key, value);
        facts.Put(std::move(key), std::move(value));
      }
      after.AppendLeaf(record.leaf_hash);
    }
    if (!problem) problem_entry = h.record_count;
    if (!problem && h.height == 0) {
      if (std::string p = CheckBlockSigner(pending, block); !p.empty()) {
        problem = Refuse(ReplicaErrorCode::kBadSigner, h.height, p);
      }
    }
    if (!problem && (after.size() != h.tree_size || after.Root() != h.root)) {
      problem = Refuse(ReplicaErrorCode::kWrongRoot, h.height,
                       "the Merkle root after the block differs from the header's");
    }
    if (problem) {
      failure = std::move(problem);
      failed_block = b;
      failed_entry = problem_entry;
      break;
    }
    frontier = after;
    verified.push_back(Verified{.block = b, .frontier = after, .facts = std::move(facts)});
    next_entry += h.record_count;
  }
  // The deferred signatures; the first bad one wins if it comes before
  // (or is the record of) the failure above.
  std::vector<char> deferred_ok(deferred.size(), 0);
  pool_.ParallelFor(deferred.size(), [&](size_t i) {
    const DeferredSignature& d = deferred[i];
    deferred_ok[i] = VerifySignature(*work[first_entry_of[d.block] + d.entry].record, d.key) ? 1 : 0;
  });
  for (size_t i = 0; i < deferred.size(); ++i) {
    if (deferred_ok[i]) continue;
    const DeferredSignature& d = deferred[i];
    if (d.block < failed_block || (d.block == failed_block && d.entry <= failed_entry)) {
      const chain::BlockHeader& h = parsed[d.block].header;
      const Record& record = *work[first_entry_of[d.block] + d.entry].record;
      failure = BadRecord(
          h.height, h.first_index() + d.entry,
          Reject{RejectCode::kBadSignature, "sig", "signature does not verify under key " + record.author});
      std::erase_if(verified, [&](const Verified& v) { return v.block >= d.block; });
    }
    break;  // deferred is in log order: the first bad one is the earliest
  }
  if (committed.io_error()) {
    // A failed read was answered as "absent", which may have let a record
    // pass (a replay, a duplicate): store nothing.
    result.error =
        Refuse(ReplicaErrorCode::kStore, parsed.empty() ? want_height : parsed.front().header.height,
               "reading ledger state failed (I/O error); restart the node");
    return result;
  }

  // 4. Store what passed, each block in one atomic write; the last one
  //    synced, which makes the ones before it durable too.
  for (size_t i = 0; i < verified.size(); ++i) {
    const Verified& v = verified[i];
    const TransferredBlock& tb = blocks[v.block];
    std::vector<std::string_view> views(tb.entries.begin(), tb.entries.end());
    const bool sync = options_.sync && i + 1 == verified.size();
    auto stored = ledger_.AppendVerified(parsed[v.block], views, v.frontier, v.facts, sync);
    if (!stored.ok()) {
      result.error = Refuse(ReplicaErrorCode::kStore, parsed[v.block].header.height, stored.error().message);
      return result;
    }
    ++result.blocks;
    result.records += tb.entries.size();
  }
  result.error = std::move(failure);
  return result;
}

// -------------------------------------------------------------- follower

std::string_view FollowStateName(FollowState state) {
  switch (state) {
    case FollowState::kStarting:
      return "starting";
    case FollowState::kSyncing:
      return "syncing";
    case FollowState::kCaughtUp:
      return "caught_up";
    case FollowState::kBehind:
      return "primary_behind";
    case FollowState::kRetrying:
      return "retrying";
    case FollowState::kHalted:
      return "halted";
  }
  return "unknown";
}

CheckpointCheck CheckPrimaryCheckpoint(const Ledger& ledger, std::string_view text, std::string_view source) {
  using Verdict = CheckpointCheck::Verdict;
  CheckpointCheck out;
  auto note = chain::SignedNote::Parse(text);
  if (!note.ok()) {
    out.message = "not a signed note: " + note.error().message;
    return out;
  }
  auto tip = ledger.tip();
  if (!tip) {
    out.verdict = Verdict::kAhead;
    out.message = "the replica holds no blocks yet";
    return out;
  }
  auto block = ledger.GetBlock(tip->height);
  if (!block.ok() || !block->has_value()) {
    out.message = "the replica's tip block is unreadable";
    return out;
  }
  const auto operator_key = wallet::PublicKey::Parse((*block)->header.signer);
  if (!operator_key) {
    out.message = "the tip block's signer is not a public key";
    return out;
  }
  auto cp = chain::OpenCheckpoint(*note, *operator_key);
  if (!cp.ok()) {
    out.message = std::string(chain::NoteErrorCodeName(cp.error().code)) + ": " + cp.error().message;
    return out;
  }
  out.size = cp->size;
  const uint64_t own_size = tip->frontier.size();
  if (cp->size > own_size) {
    out.verdict = Verdict::kAhead;
    out.message = "checkpoint of size " + std::to_string(cp->size) + " is beyond the replica's " +
                  std::to_string(own_size) + " entries";
    return out;
  }
  chain::StoreNodeSource nodes(ledger.store());
  auto root = chain::RootAt(nodes, cp->size);
  if (!root.ok()) {
    out.message = "root at size " + std::to_string(cp->size) + ": " + root.error().message;
    return out;
  }
  if (*root == cp->root) {
    out.verdict = Verdict::kConsistent;
    return out;
  }
  out.verdict = Verdict::kFork;
  out.message = "the primary signed a checkpoint of size " + std::to_string(cp->size) + " with root " +
                chain::HashHex(cp->root) + "; the replica's verified ledger has root " + chain::HashHex(*root) +
                " at that size";
  chain::Checkpoint own{.origin = cp->origin, .size = cp->size, .root = *root, .extensions = {}};
  out.evidence = ForkEvidence{.height = tip->height,
                              .reason = "checkpoint fork: " + out.message,
                              .first = own.Text(),
                              .first_source = "replica's verified ledger (root at tree size " +
                                              std::to_string(cp->size) + ")",
                              .second = note->Serialize(),
                              .second_source = std::string(source)};
  return out;
}

std::string Follower::HaltMarkerPath(const std::string& data_dir) {
  return data_dir + "/replica-halted.json";
}

Follower::Follower(Ledger& ledger, BlockSource& source, FollowerOptions options)
    : ledger_(ledger), source_(source), options_(std::move(options)), replica_(ledger, options_.replica) {
  if (options_.data_dir.empty()) return;
  const std::string marker = HaltMarkerPath(options_.data_dir);
  std::error_code ec;
  if (!std::filesystem::exists(marker, ec)) return;
  status_.state = FollowState::kHalted;
  status_.alarm = "halted by an earlier fork alarm (" + marker + ")";
  std::ifstream in(marker);
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    if (parsed.contains("reason") && parsed["reason"].is_string()) {
      status_.alarm = parsed["reason"].get<std::string>() + " (halted since " +
                      parsed.value("time", std::string("?")) + ")";
    }
    if (parsed.contains("evidence") && parsed["evidence"].is_string()) {
      status_.evidence_path = parsed["evidence"].get<std::string>();
    }
  }
}

Follower::~Follower() { Stop(); }

void Follower::Log(std::string_view level, std::string_view event, const Json& fields) const {
  if (options_.log) options_.log(level, event, fields);
}

void Follower::SetState(FollowState state) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_.state != FollowState::kHalted) status_.state = state;
}

FollowerStatus Follower::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

bool Follower::halted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_.state == FollowState::kHalted;
}

void Follower::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

bool Follower::Sleep(int ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_.load(); });
  return !stop_;
}

Follower::Round Follower::Fail(std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  status_.last_error = std::move(message);
  if (status_.state != FollowState::kHalted) status_.state = FollowState::kRetrying;
  return Round::kRetry;
}

Follower::Round Follower::CaughtUp() {
  if (options_.check_consistency) {
    if (auto evidence = options_.check_consistency(ledger_, source_)) return Halt(*evidence);
  }
  const bool was_caught_up = status().state == FollowState::kCaughtUp;
  SetState(FollowState::kCaughtUp);
  if (!was_caught_up) {
    auto tip = ledger_.tip();
    Log("info", "caught_up",
        {{"height", tip ? tip->height : 0},
         {"tree_size", tip ? tip->frontier.size() : 0},
         {"primary", source_.Name()}});
  }
  return Round::kCaughtUp;
}

Follower::Round Follower::Halt(const ForkEvidence& evidence) {
  const int64_t now = options_.clock_ms ? options_.clock_ms() : SystemClockMs();
  auto describe = [](const std::string& stored, const std::string& source) {
    auto block = chain::SignedBlock::Parse(stored);
    // Checkpoint evidence (CheckPrimaryCheckpoint) is a note, kept as text.
    if (!block && chain::SignedNote::Parse(stored).ok()) return Json{{"source", source}, {"checkpoint", stored}};
    if (!block && chain::Checkpoint::Parse(stored).ok()) return Json{{"source", source}, {"checkpoint", stored}};
    Json j = {{"source", source}, {"block", HexOf(stored)}};
    if (block) j["header"] = DescribeBlock(*block);
    return j;
  };
  Json doc = {{"alarm", "fork"},
              {"primary", source_.Name()},
              {"detected_at", UtcTime(now, /*compact=*/false)},
              {"detected_at_ms", now},
              {"height", evidence.height},
              {"reason", evidence.reason},
              {"first", describe(evidence.first, evidence.first_source)},
              {"second", describe(evidence.second, evidence.second_source)}};
  if (auto tip = ledger_.tip()) {
    doc["replica_tip"] = {{"height", tip->height},
                          {"block_hash", chain::HashHex(tip->block_hash)},
                          {"tree_size", tip->frontier.size()}};
  }
  std::string evidence_path;
  std::string write_error;
  if (!options_.data_dir.empty()) {
    evidence_path = options_.data_dir + "/fork-evidence-" + UtcTime(now, /*compact=*/true) + ".json";
    if (WriteFileDurably(evidence_path, doc.dump(2) + "\n", write_error)) {
      Json marker = {{"halted", "fork"},
                     {"reason", evidence.reason},
                     {"evidence", evidence_path},
                     {"primary", source_.Name()},
                     {"time", UtcTime(now, /*compact=*/false)}};
      WriteFileDurably(HaltMarkerPath(options_.data_dir), marker.dump(2) + "\n", write_error);
    } else {
      evidence_path.clear();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    status_.state = FollowState::kHalted;
    status_.alarm = evidence.reason;
    status_.evidence_path = evidence_path;
  }
  Json fields = {{"message", "ALARM: the primary " + source_.Name() + " serves two different histories: " +
                                 evidence.reason + ". Stopped following; serving the verified history only."},
                 {"height", evidence.height},
                 {"primary", source_.Name()},
                 {"evidence", evidence_path.empty() ? Json(nullptr) : Json(evidence_path)},
                 {"evidence_json", doc}};
  if (!write_error.empty()) fields["evidence_write_error"] = write_error;
  Log("alarm", "fork_detected", fields);
  return Round::kHalted;
}

Follower::Round Follower::SyncOnce() {
  if (halted()) return Round::kHalted;
  if (stop_) return Round::kStopped;
  auto tip_block = source_.TipBlock();
  if (!tip_block.ok()) return Fail("primary unreachable: " + tip_block.error().message);
  std::optional<chain::Tip> ours = ledger_.tip();

  if (!tip_block->has_value()) {
    if (!ours) {
      SetState(FollowState::kCaughtUp);
      return Round::kCaughtUp;
    }
    SetState(FollowState::kBehind);
    return Round::kBehind;
  }
  const std::string& theirs = **tip_block;
  auto their_tip = chain::SignedBlock::Parse(theirs);
  if (!their_tip) return Fail("the primary's tip is not a valid block");
  const uint64_t their_height = their_tip->header.height;

  // The primary may not announce a different block at a height where it
  // announced one before.
  auto check_seen = [&](const std::string& block, const std::string& where) -> bool {
    if (!last_seen_tip_ || HeightOf(*last_seen_tip_) != HeightOf(block)) return true;
    if (SameHeader(*last_seen_tip_, block)) return true;
    Halt(ForkEvidence{.height = *HeightOf(block),
                      .reason = "the primary now serves a block at height " +
                                std::to_string(*HeightOf(block)) +
                                " that differs from the tip it announced there earlier",
                      .first = *last_seen_tip_,
                      .first_source = "GET /v1/tip (earlier)",
                      .second = block,
                      .second_source = where});
    return false;
  };
  if (!check_seen(theirs, "GET /v1/tip")) return Round::kHalted;
  if (!last_seen_tip_ || their_height >= *HeightOf(*last_seen_tip_)) {
    last_seen_tip_ = theirs;
    std::lock_guard<std::mutex> lock(mu_);
    status_.primary_height = their_height;
  }

  // A tip at or below ours must be a block we hold.
  // nullopt when it matches; else how the round ends.
  auto compare_held = [&](const std::string& block, uint64_t height,
                          const std::string& where) -> std::optional<Round> {
    auto held = ledger_.GetBlock(height);
    if (!held.ok()) return Fail("reading our block " + std::to_string(height) + ": " + held.error().message);
    if (!held->has_value()) return Fail("our block " + std::to_string(height) + " is missing");
    const std::string mine = (*held)->Serialize();
    if (SameHeader(mine, block)) return std::nullopt;
    return Halt(ForkEvidence{.height = height,
                             .reason = "the primary serves a block at height " + std::to_string(height) +
                                       " that differs from the one this replica verified and holds",
                             .first = mine,
                             .first_source = "replica's verified ledger",
                             .second = block,
                             .second_source = where});
  };
  if (ours && their_height <= ours->height) {
    if (auto end = compare_held(theirs, their_height, "GET /v1/tip")) return *end;
    if (their_height < ours->height) {
      bool first = status().state != FollowState::kBehind;
      SetState(FollowState::kBehind);
      if (first) {
        Log("warn", "primary_behind",
            {{"primary_height", their_height},
             {"replica_height", ours->height},
             {"primary", source_.Name()}});
      }
      return Round::kBehind;
    }
    return CaughtUp();
  }

  // Fetch, check against what we hold and saw, verify, store.
  SetState(FollowState::kSyncing);
  while (!stop_) {
    ours = ledger_.tip();
    const uint64_t from = ours ? ours->height + 1 : 0;
    if (from > their_height) break;
    const uint32_t want =
        static_cast<uint32_t>(std::min<uint64_t>(options_.max_blocks_per_fetch, their_height - from + 1));
    auto range = source_.Blocks(from, want);
    if (!range.ok())
      return Fail("fetching blocks from " + std::to_string(from) + ": " + range.error().message);
    const std::string where =
        "GET /v1/blocks?from=" + std::to_string(from) + "&count=" + std::to_string(want);
    if (range->from != from || range->blocks.size() > want || range->blocks.empty()) {
      return Fail("the primary answered " + where + " with " + std::to_string(range->blocks.size()) +
                  " blocks from " + std::to_string(range->from));
    }
    if (from > 0) {
      if (!range->link) return Fail("the primary answered " + where + " without the block it links to");
      if (HeightOf(*range->link) != from - 1) return Fail("the primary's link block has the wrong height");
      if (auto end = compare_held(*range->link, from - 1, where + " (link)")) return *end;
      if (!check_seen(*range->link, where + " (link)")) return Round::kHalted;
    }
    for (const TransferredBlock& b : range->blocks) {
      if (!check_seen(b.block, where)) return Round::kHalted;
    }
    ApplyResult applied = replica_.Apply(range->blocks);
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_.blocks_synced += applied.blocks;
      status_.records_synced += applied.records;
    }
    if (applied.error) {
      const ReplicaError& e = *applied.error;
      Json fields = {{"height", e.height},
                     {"code", ReplicaErrorCodeName(e.code)},
                     {"reason", e.message},
                     {"primary", source_.Name()}};
      if (e.reject) {
        fields["reject"] = RejectCodeName(e.reject->code);
        fields["field"] = e.reject->field;
      }
      if (e.index) fields["index"] = *e.index;
      Log("error", "block_rejected", fields);
      return Fail("block " + std::to_string(e.height) + " refused: " + e.ToString());
    }
    const int64_t now = options_.clock_ms ? options_.clock_ms() : SystemClockMs();
    if (now - last_progress_log_ms_ >= 2000) {
      last_progress_log_ms_ = now;
      auto tip = ledger_.tip();
      Log("info", "synced",
          {{"height", tip ? tip->height : 0},
           {"tree_size", tip ? tip->frontier.size() : 0},
           {"primary_height", their_height}});
    }
  }
  if (stop_) return Round::kStopped;
  return CaughtUp();
}

void Follower::Run() {
  if (halted()) {
    FollowerStatus s = status();
    Log("alarm", "halted",
        {{"message", "ALARM: not following " + source_.Name() + ": " + s.alarm +
                         ". Investigate the evidence, then remove " + HaltMarkerPath(options_.data_dir) +
                         " to resume."},
         {"evidence", s.evidence_path}});
    return;
  }
  int backoff = options_.min_backoff_ms;
  while (!stop_) {
    switch (SyncOnce()) {
      case Round::kCaughtUp:
      case Round::kBehind:
        backoff = options_.min_backoff_ms;
        if (!Sleep(options_.poll_interval_ms)) return;
        break;
      case Round::kRetry: {
        FollowerStatus s = status();
        Log("warn", "retrying", {{"reason", s.last_error}, {"retry_in_ms", backoff}});
        if (!Sleep(backoff)) return;
        backoff = std::min(backoff * 2, options_.max_backoff_ms);
        break;
      }
      case Round::kHalted:
      case Round::kStopped:
        return;
    }
  }
}

}  // namespace traceledger::ledger
