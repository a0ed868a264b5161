#include "ledger/audit.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <vector>

#include "chain/checkpoint.h"
#include "chain/merkle.h"
#include "chain/proof.h"
#include "ledger/record.h"
#include "ledger/rules.h"
#include "ledger/state.h"
#include "util/encoding.h"
#include "util/thread_pool.h"

namespace traceledger::ledger {
namespace {

constexpr size_t kWindowRecords = 8192;
constexpr size_t kWindowFacts = 16384;

struct BlockInWindow {
  uint64_t height = 0;
  chain::SignedBlock block;
  size_t first_entry = 0;  // into the window's entry vector
  std::string problem;     // from reading/header checks done in parallel
};

// A node hash the store must hold, and the block that completed it.
struct ExpectedNode {
  uint64_t index = 0;
  chain::Hash hash{};
  uint64_t height = 0;
};

struct EntryCheck {
  chain::Hash leaf{};
  std::string problem;
  uint64_t facts = 0;  // index/state entries the record creates
};

}  // namespace

std::string CheckBlockSigner(const StateReader& state, const chain::SignedBlock& block) {
  auto key = wallet::PublicKey::Parse(block.header.signer);
  if (!key) return "signer is not a valid public key";
  const std::string key_id = key->KeyId();
  const uint64_t first = block.header.first_index();
  if (block.header.height == 0) {
    auto fact = FactAsOf(state, keys::Key(key_id), 1);
    if (!fact || fact->seq != 0) return "genesis block is not sealed by the genesis key";
    return {};
  }
  Record probe;
  probe.author = key_id;
  auto author = ResolveAuthor(probe, state, first);
  if (!author.ok()) return "signer: " + author.error().message;
  if (!HasRole(state, author->party, Role::kOperator, first)) {
    return "signer " + key_id + " belongs to " + author->party + ", not an operator";
  }
  return {};
}

namespace {

// The checks that need no other entry: parse, canonical form, author,
// signature, rules as of `index`, and the facts it must have created.
std::string CheckEntry(const StateReader& state, std::string_view entry, uint64_t index,
                       int64_t ledger_time_s, int64_t skew, uint64_t& facts) {
  auto record = ParseRecord(entry);
  if (!record.ok()) return record.error().ToString();
  if (record->entry != entry) return "not stored in canonical form";
  auto author = ResolveAuthor(*record, state, index);
  if (!author.ok()) return author.error().ToString();
  if (!VerifySignature(*record, author->key)) return "bad_signature: sig: does not verify";
  ValidationContext ctx{.index = index, .ledger_time_s = ledger_time_s, .max_clock_skew_s = skew};
  if (auto ok = CheckRecord(*record, *author, state, ctx); !ok.ok()) return ok.error().ToString();
  auto effects = Effects(*record, *author, index);
  facts = effects.size();
  for (const auto& [key, value] : effects) {
    auto stored = state.Get(key);
    if (!stored) return "index/state entry " + PrintableKey(key) + " is missing";
    if (*stored != value)
      return "index/state entry " + PrintableKey(key) + " differs from what the record creates";
  }
  return {};
}

class Auditor {
 public:
  Auditor(const chain::Store& store, const AuditOptions& options)
      : store_(store), options_(options), state_(store), pool_(options.threads) {}

  AuditReport Run() {
    auto tip = store_.tip();
    if (!tip) return Failed(0, "the store holds no ledger (no genesis block)");
    tip_ = *tip;
    if (!ForwardPass()) return report_;
    if (!CheckTip()) return report_;
    if (!CheckCheckpoints()) return report_;
    if (options_.check_facts && !FactPass()) return report_;
    return report_;
  }

 private:
  AuditReport Failed(uint64_t height, std::string reason) {
    report_.ok = false;
    report_.bad_height = height;
    report_.reason = std::move(reason);
    return report_;
  }

  void Progress(const char* phase, uint64_t done, uint64_t total) {
    if (options_.progress) options_.progress(AuditProgress{phase, done, total});
  }

  // Reads blocks from `next_height_` until the window is full. Returns the
  // height at which reading failed and why, if it did.
  std::optional<std::pair<uint64_t, std::string>> ReadWindow(std::vector<BlockInWindow>& blocks,
                                                             std::vector<std::string>& entries) {
    while (next_height_ <= tip_.height && entries.size() < kWindowRecords) {
      const uint64_t h = next_height_;
      auto block = store_.GetBlock(h);
      if (!block.ok()) return std::pair{h, block.error().message};
      if (!block->has_value()) return std::pair{h, "block is missing"};
      const chain::BlockHeader& header = (*block)->header;
      if (header.height != h) return std::pair{h, "header says height " + std::to_string(header.height)};
      if (header.first_index() != expected_index_) {
        return std::pair{h, "block starts at log index " + std::to_string(header.first_index()) +
                                ", expected " + std::to_string(expected_index_)};
      }
      if (header.record_count == 0 || header.record_count > chain::kMaxBlockRecords) {
        return std::pair{h, "implausible record_count " + std::to_string(header.record_count)};
      }
      BlockInWindow b{.height = h, .block = **block, .first_entry = entries.size()};
      auto scan =
          store_.ScanEntries(header.first_index(), header.record_count, [&](uint64_t, std::string_view e) {
            entries.emplace_back(e);
            return true;
          });
      if (!scan.ok()) return std::pair{h, scan.error().message};
      expected_index_ += header.record_count;
      blocks.push_back(std::move(b));
      ++next_height_;
    }
    return std::nullopt;
  }

  bool ForwardPass() {
    chain::MerkleFrontier frontier;
    chain::Hash prev_hash{};
    uint64_t prev_time = 0;
    for (;;) {
      std::vector<BlockInWindow> blocks;
      std::vector<std::string> entries;
      auto read_error = ReadWindow(blocks, entries);
      if (blocks.empty() && !read_error) break;

      // Parallel: block signatures and signers, then every entry.
      std::vector<EntryCheck> checks(entries.size());
      std::vector<size_t> block_of(entries.size());
      for (size_t b = 0; b < blocks.size(); ++b) {
        size_t end = b + 1 < blocks.size() ? blocks[b + 1].first_entry : entries.size();
        for (size_t e = blocks[b].first_entry; e < end; ++e) block_of[e] = b;
      }
      pool_.ParallelFor(blocks.size() + entries.size(), [&](size_t t) {
        if (t < blocks.size()) {
          BlockInWindow& b = blocks[t];
          if (!b.block.VerifySignature()) {
            b.problem = "block signature does not verify";
          } else {
            b.problem = CheckBlockSigner(state_, b.block);
          }
          return;
        }
        size_t e = t - blocks.size();
        const BlockInWindow& b = blocks[block_of[e]];
        uint64_t index = b.block.header.first_index() + (e - b.first_entry);
        checks[e].leaf = chain::LeafHash(entries[e]);
        checks[e].problem =
            CheckEntry(state_, entries[e], index, static_cast<int64_t>(b.block.header.timestamp_ms / 1000),
                       options_.max_clock_skew_s, checks[e].facts);
      });

      // Sequential: links, entries in order, roots, node hashes.
      std::map<unsigned, std::vector<ExpectedNode>> nodes;
      for (size_t bi = 0; bi < blocks.size(); ++bi) {
        const BlockInWindow& b = blocks[bi];
        const chain::BlockHeader& h = b.block.header;
        if (h.prev_hash != prev_hash) {
          Failed(b.height, "prev_hash does not match the hash of block " + std::to_string(b.height - 1));
          return false;
        }
        if (h.timestamp_ms < prev_time) {
          Failed(b.height, "timestamp goes backwards");
          return false;
        }
        if (!b.problem.empty()) {
          Failed(b.height, b.problem);
          return false;
        }
        for (uint32_t k = 0; k < h.record_count; ++k) {
          const EntryCheck& c = checks[b.first_entry + k];
          if (!c.problem.empty()) {
            Failed(b.height, "record at index " + std::to_string(h.first_index() + k) + ": " + c.problem);
            return false;
          }
          frontier.AppendLeaf(c.leaf, [&](unsigned level, uint64_t index, const chain::Hash& hash) {
            if (level % chain::kNodeLevelStride == 0) nodes[level].push_back({index, hash, b.height});
          });
          expected_facts_ += c.facts;
        }
        if (frontier.size() != h.tree_size || frontier.Root() != h.root) {
          Failed(b.height, "Merkle root after the block differs from the header's");
          return false;
        }
        prev_hash = h.ComputeHash();
        prev_time = h.timestamp_ms;
        ++report_.blocks;
        report_.records += h.record_count;
      }
      if (!CheckNodes(nodes)) return false;
      if (state_.io_error()) {
        Failed(blocks.empty() ? 0 : blocks.back().height, "reading state failed (I/O error)");
        return false;
      }
      if (read_error) {
        Failed(read_error->first, read_error->second);
        return false;
      }
      Progress("blocks", report_.records, tip_.frontier.size());
    }
    final_hash_ = prev_hash;
    final_frontier_ = frontier;
    return true;
  }

  // The store holds exactly these node hashes, consecutively (a scan, so a
  // stray key between two of them is found too).
  bool CheckNodes(const std::map<unsigned, std::vector<ExpectedNode>>& nodes) {
    for (const auto& [level, expected] : nodes) {
      size_t k = 0;
      std::optional<std::string> problem;
      auto scan = store_.Scan("H", chain::Store::NodeKey(level, expected[0].index),
                              [&](std::string_view key, std::string_view value) {
                                const ExpectedNode& e = expected[k];
                                if (key != chain::Store::NodeKey(level, e.index)) {
                                  problem = "node hash at level " + std::to_string(level) + " index " +
                                            std::to_string(e.index) + " is missing";
                                } else if (value.size() != e.hash.size() ||
                                           std::memcmp(value.data(), e.hash.data(), e.hash.size()) != 0) {
                                  problem = "node hash at level " + std::to_string(level) + " index " +
                                            std::to_string(e.index) + " differs from the entries'";
                                }
                                return !problem && ++k < expected.size();
                              });
      if (!scan.ok()) {
        Failed(expected[k].height, scan.error().message);
        return false;
      }
      if (!problem && k < expected.size()) {
        problem = "node hash at level " + std::to_string(level) + " index " +
                  std::to_string(expected[k].index) + " is missing";
      }
      if (problem) {
        Failed(expected[std::min(k, expected.size() - 1)].height, *problem);
        return false;
      }
    }
    return true;
  }

  // Every stored checkpoint: a key of 9 bytes, a size within the log, a
  // note that parses and verifies under its recorded signer, that signer an
  // operator key as of that size, and the root of the log at that size.
  bool CheckCheckpoints() {
    std::optional<std::string> problem;
    chain::StoreNodeSource nodes(store_);
    auto scan = store_.Scan("K", {}, [&](std::string_view key, std::string_view value) {
      const std::string what = "checkpoint " + PrintableKey(key);
      if (key.size() != 9) {
        problem = what + ": malformed key";
        return false;
      }
      const uint64_t size = GetBigEndian64(reinterpret_cast<const uint8_t*>(key.data() + 1));
      auto stored = chain::StoredCheckpoint::Decode(value);
      if (!stored.ok()) {
        problem = what + ": " + stored.error().message;
        return false;
      }
      if (stored->checkpoint.size != size || size > tip_.frontier.size() || size == 0) {
        problem = what + ": size " + std::to_string(stored->checkpoint.size) + " does not fit the log";
        return false;
      }
      auto root = chain::RootAt(nodes, size);
      if (!root.ok() || *root != stored->checkpoint.root) {
        problem = what + ": root differs from the log's at size " + std::to_string(size);
        return false;
      }
      Record probe;
      probe.author = stored->signer.KeyId();
      auto author = ResolveAuthor(probe, state_, size);
      if (!author.ok() || !HasRole(state_, author->party, Role::kOperator, size)) {
        problem = what + ": signer " + probe.author + " is not an operator key";
        return false;
      }
      return true;
    });
    if (!scan.ok()) problem = scan.error().message;
    if (problem) {
      Failed(tip_.height, *problem);
      return false;
    }
    return true;
  }

  bool CheckTip() {
    if (report_.blocks != tip_.height + 1 || final_hash_ != tip_.block_hash ||
        !(final_frontier_ == tip_.frontier)) {
      Failed(tip_.height, "the stored tip does not match the last block");
      return false;
    }
    // Nothing but the chain's own keys may sit in its keyspace: exactly the
    // blocks 0..tip under 'B', entries 0..size-1 under 'E' (the forward
    // pass read those contiguously), the tip 'M', then lowercase keys.
    uint64_t blocks_seen = 0;
    bool stray_block = false;
    auto blocks = store_.Scan("B", {}, [&](std::string_view key, std::string_view) {
      stray_block = key != chain::Store::BlockKey(blocks_seen);
      ++blocks_seen;
      return !stray_block;
    });
    if (!blocks.ok() || stray_block || blocks_seen != tip_.height + 1) {
      Failed(tip_.height,
             "the block keyspace holds keys other than blocks 0.." + std::to_string(tip_.height));
      return false;
    }
    // Between the layout's ranges: 'B' blocks, 'E' entries, 'H' node
    // hashes level by level (the forward pass read each level's range
    // [0, size >> level) contiguously), 'K' checkpoints (checked one by
    // one), 'M', lowercase keys.
    const uint64_t size = tip_.frontier.size();
    auto after_nodes = [](char c) { return c == 'K' || c == 'M' || (c >= 'a' && c <= 'z'); };
    struct Gap {
      std::string from;                   // seek here
      std::function<bool(char)> allowed;  // first byte of the next key
      std::string exact;                  // or, when set, exactly this key
    };
    std::vector<Gap> gaps = {
        {"", [](char c) { return c == 'B'; }, {}},
        {"C", [](char c) { return c == 'E' || c == 'H' || c == 'K' || c == 'M' || (c >= 'a' && c <= 'z'); },
         size > 0 ? chain::Store::EntryKey(0) : std::string()},
        {chain::Store::EntryKey(size),
         [](char c) { return c == 'H' || c == 'K' || c == 'M' || (c >= 'a' && c <= 'z'); },
         {}},
        {"H", after_nodes, size > 0 ? chain::Store::NodeKey(0, 0) : std::string()},
    };
    for (unsigned level = 0; level < 64 && (size >> level) > 0; level += chain::kNodeLevelStride) {
      const unsigned next_level = level + chain::kNodeLevelStride;
      const bool more = next_level < 64 && (size >> next_level) > 0;
      gaps.push_back({chain::Store::NodeKey(level, size >> level), after_nodes,
                      more ? chain::Store::NodeKey(next_level, 0) : std::string()});
    }
    gaps.push_back({"L", [](char c) { return c == 'M' || (c >= 'a' && c <= 'z'); }, {}});
    gaps.push_back({"M\x01", [](char c) { return c >= 'a' && c <= 'z'; }, {}});
    gaps.push_back({"{", [](char) { return false; }, {}});
    for (const auto& gap : gaps) {
      std::optional<std::string> next;
      auto scan = store_.Scan("", gap.from, [&](std::string_view key, std::string_view) {
        next = std::string(key);
        return false;
      });
      const bool ok = gap.exact.empty() ? !next || (!next->empty() && gap.allowed((*next)[0]))
                                        : next && *next == gap.exact;
      if (!scan.ok() || !ok) {
        Failed(tip_.height, "unexpected key " + PrintableKey(next.value_or("")) + " in the store");
        return false;
      }
    }
    return true;
  }

  // Height of the block holding `index` (binary search); tip height if none.
  uint64_t HeightOf(uint64_t index) {
    uint64_t lo = 0, hi = tip_.height;
    while (lo < hi) {
      uint64_t mid = lo + (hi - lo) / 2;
      auto block = store_.GetBlock(mid);
      if (!block.ok() || !block->has_value()) return tip_.height;
      if ((*block)->header.tree_size > index) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  // Which record must have created this fact, by the key's own claim.
  std::optional<uint64_t> ClaimedSeq(std::string_view key, std::string_view value) {
    if (key.starts_with("r/")) return DecodeSeq(value);
    if (key.starts_with("hl/") || key.starts_with("hs/") || key.starts_with("lf/")) {
      if (key.size() < 12 || !value.empty()) return std::nullopt;
      return keys::SeqOfHistoryKey(key);
    }
    auto fact = DecodeFact(value);
    if (!fact) return std::nullopt;
    return fact->seq;
  }

  std::string CheckFact(const std::string& key, const std::string& value, std::optional<uint64_t> seq) {
    if (!seq) return "index/state entry " + PrintableKey(key) + " is damaged";
    if (*seq >= tip_.frontier.size())
      return "index/state entry " + PrintableKey(key) + " names a record beyond the tip";
    auto entry = store_.GetEntry(*seq);
    if (!entry.ok() || !entry->has_value()) return "log entry " + std::to_string(*seq) + " is unreadable";
    auto record = ParseRecord(**entry);
    if (!record.ok()) return "log entry " + std::to_string(*seq) + ": " + record.error().ToString();
    auto author = ResolveAuthor(*record, state_, *seq);
    if (!author.ok()) return "log entry " + std::to_string(*seq) + ": " + author.error().ToString();
    for (const auto& [k, v] : Effects(*record, *author, *seq)) {
      if (k == key) {
        if (v == value) return {};
        break;
      }
    }
    return "index/state entry " + PrintableKey(key) + " was not created by the record it names (entry " +
           std::to_string(*seq) + ")";
  }

  // The forward pass proved that every index/state entry the records create
  // is stored exactly. Facts are write-once and no two records create the
  // same key (the rules reject that), so the store holds nothing else iff
  // it holds exactly as many such keys as the records create: a count.
  // Only when the count differs is every entry traced to its record, to
  // name the intruder.
  bool FactPass() {
    uint64_t stored = 0;
    auto count = store_.Scan("", "a", [&](std::string_view key, std::string_view) {
      if (key[0] > 'z') return false;
      if (++stored % (1 << 20) == 0) Progress("facts", stored, expected_facts_);
      return true;
    });
    if (!count.ok()) {
      Failed(tip_.height, count.error().message);
      return false;
    }
    report_.facts = stored;
    Progress("facts", stored, expected_facts_);
    if (stored == expected_facts_) return true;
    if (TraceFacts()) {
      Failed(tip_.height, "the store holds " + std::to_string(stored) +
                              " index/state entries, the records create " + std::to_string(expected_facts_));
    }
    return false;
  }

  // Traces every index/state entry back to the record it claims; returns
  // true if none is wrong (reporting is then left to the caller).
  bool TraceFacts() {
    report_.facts = 0;
    std::vector<std::pair<std::string, std::string>> window;
    std::optional<std::pair<uint64_t, std::string>> failure;
    auto check_window = [&]() {
      std::vector<std::optional<uint64_t>> seqs(window.size());
      std::vector<std::string> problems(window.size());
      pool_.ParallelFor(window.size(), [&](size_t i) {
        seqs[i] = ClaimedSeq(window[i].first, window[i].second);
        problems[i] = CheckFact(window[i].first, window[i].second, seqs[i]);
      });
      for (size_t i = 0; i < window.size(); ++i) {
        if (problems[i].empty()) continue;
        uint64_t height = seqs[i] && *seqs[i] < tip_.frontier.size() ? HeightOf(*seqs[i]) : tip_.height;
        if (!failure || height < failure->first) failure = std::pair{height, problems[i]};
      }
      report_.facts += window.size();
      window.clear();
      Progress("tracing", report_.facts, 0);
    };
    auto scan = store_.Scan("", "a", [&](std::string_view key, std::string_view value) {
      if (key[0] > 'z') return false;
      window.emplace_back(std::string(key), std::string(value));
      if (window.size() >= kWindowFacts) check_window();
      return true;
    });
    if (!window.empty()) check_window();
    if (!scan.ok()) {
      Failed(tip_.height, scan.error().message);
      return false;
    }
    if (failure) {
      Failed(failure->first, failure->second);
      return false;
    }
    return true;
  }

  const chain::Store& store_;
  const AuditOptions& options_;
  StoreState state_;
  ThreadPool pool_;
  AuditReport report_;
  chain::Tip tip_;
  uint64_t next_height_ = 0;
  uint64_t expected_index_ = 0;
  chain::Hash final_hash_{};
  uint64_t expected_facts_ = 0;
  chain::MerkleFrontier final_frontier_;
};

}  // namespace

AuditReport Audit(const chain::Store& store, const AuditOptions& options) {
  Auditor auditor(store, options);
  return auditor.Run();
}

}  // namespace traceledger::ledger
