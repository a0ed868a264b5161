#include "chain/store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "chain/block.h"
#include "chain/merkle.h"
#include "wallet/key.h"

namespace traceledger::chain {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kEpochMs = 1'795'219'200'000;

// A scratch directory under /tmp, removed with everything in it. The
// template avoids the substring "lock" (see IoErrorUnderPathNamedLike...).
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = "/tmp/tl-store-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A block ready for AppendBlock.
struct PendingBlock {
  SignedBlock block;
  std::vector<std::string> entries;
  MerkleFrontier frontier;
  WriteSet extra;
};

std::string Describe(const StoreError& e) { return e.message; }

// The storage environments every store test runs on.
enum class Env { kMemory, kDisk };

std::string EnvName(const ::testing::TestParamInfo<Env>& info) {
  return info.param == Env::kMemory ? "InMemory" : "OnDisk";
}

void PrintTo(Env env, std::ostream* os) { *os << (env == Env::kMemory ? "in-memory" : "on-disk"); }

class StoreTest : public ::testing::TestWithParam<Env> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed";
    path_ = dir_.path() + "/db";
  }

  bool on_disk() const { return GetParam() == Env::kDisk; }

  StoreOptions Options(FaultInjector* faults = nullptr) const {
    return StoreOptions{.path = path_, .in_memory = !on_disk(), .faults = faults};
  }

  // Opens the store under test; fails the test if it does not open.
  std::unique_ptr<Store> OpenStore(FaultInjector* faults = nullptr) {
    auto store = Store::Open(Options(faults));
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : Describe(store.error()));
    if (!store.ok()) return nullptr;
    return std::move(store).value();
  }

  // The block that correctly extends `store`'s tip with `entries`.
  PendingBlock NextBlock(const Store& store, std::vector<std::string> entries) const {
    auto tip = store.tip();
    PendingBlock p;
    p.frontier = tip ? tip->frontier : MerkleFrontier();
    for (const auto& e : entries) p.frontier.AppendLeaf(LeafHash(e));
    BlockHeader h{.height = tip ? tip->height + 1 : 0,
                  .prev_hash = tip ? tip->block_hash : Hash{},
                  .tree_size = p.frontier.size(),
                  .root = p.frontier.Root(),
                  .timestamp_ms = kEpochMs + (tip ? tip->height + 1 : 0) * 1000,
                  .record_count = static_cast<uint32_t>(entries.size()),
                  .signer = key_.Public().bytes()};
    p.block = SignedBlock::Seal(h, key_);
    p.entries = std::move(entries);
    return p;
  }

  // Re-signs after a test edits the header.
  void Reseal(PendingBlock& p) const { p.block = SignedBlock::Seal(p.block.header, key_); }

  static StoreResult<void> Append(Store& store, const PendingBlock& p, bool sync = false) {
    return store.AppendBlock(p.block, p.entries, p.frontier, p.extra, sync);
  }

  // Entries named after their log index, so a misplaced one is obvious.
  std::vector<std::string> MakeEntries(size_t n) {
    std::vector<std::string> out;
    for (size_t i = 0; i < n; ++i) out.push_back("{\"entry\":" + std::to_string(next_entry_++) + "}");
    return out;
  }

  // Appends a block of `n` entries and one index key per entry; returns it.
  PendingBlock AppendOk(Store& store, size_t n, bool sync = false) {
    const uint64_t first = store.tip() ? store.tip()->frontier.size() : 0;
    PendingBlock p = NextBlock(store, MakeEntries(n));
    for (size_t i = 0; i < n; ++i) p.extra.Put("x/" + std::to_string(first + i), p.entries[i]);
    auto r = Append(store, p, sync);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : Describe(r.error()));
    return p;
  }

  // After a rejected or failed append of `p`: the tip is `before` and none
  // of the block, its entries or its higher-layer keys are readable.
  static void ExpectNothingWritten(const Store& store, const std::optional<Tip>& before,
                                   const PendingBlock& p) {
    auto tip = store.tip();
    ASSERT_EQ(tip.has_value(), before.has_value());
    if (before) {
      EXPECT_EQ(tip->height, before->height);
      EXPECT_EQ(tip->block_hash, before->block_hash);
      EXPECT_EQ(tip->frontier, before->frontier);
    }
    auto block = store.GetBlock(p.block.header.height);
    ASSERT_TRUE(block.ok()) << Describe(block.error());
    if (before && p.block.header.height <= before->height) {
      // A block at that height exists already; it must not be this one.
      ASSERT_TRUE(block->has_value());
      EXPECT_NE((*block)->header, p.block.header);
    } else {
      EXPECT_FALSE(block->has_value()) << "block " << p.block.header.height << " was written";
    }
    const uint64_t size_before = before ? before->frontier.size() : 0;
    for (uint64_t i = size_before; i < size_before + p.entries.size() + 1; ++i) {
      auto entry = store.GetEntry(i);
      ASSERT_TRUE(entry.ok());
      EXPECT_FALSE(entry->has_value()) << "entry " << i << " was written";
    }
    for (const auto& [key, value] : p.extra.puts()) {
      if (key.empty()) continue;
      if (key[0] >= 'a' && key[0] <= 'z') {
        auto got = store.Get(key);
        ASSERT_TRUE(got.ok());
        EXPECT_FALSE(got->has_value()) << "key " << key << " was written";
      }
    }
  }

  static void ExpectCode(const StoreResult<void>& r, StoreErrorCode code) {
    ASSERT_FALSE(r.ok()) << "expected an error";
    EXPECT_EQ(r.error().code, code) << Describe(r.error());
  }

  // Reseals `p` (so only the tampered field is wrong) and expects the append
  // to be refused as kInvalid with nothing written.
  void ExpectInvalidAfterReseal(Store& store, const std::optional<Tip>& before, PendingBlock& p) {
    Reseal(p);
    ExpectCode(Append(store, p), StoreErrorCode::kInvalid);
    ExpectNothingWritten(store, before, p);
  }

  void FailThirdAppend(Store& store, std::atomic<bool>& fault, std::optional<Tip>& before,
                       PendingBlock& failed);

  ScratchDir dir_;
  std::string path_;
  wallet::SecretKey key_ = wallet::SecretKey::Generate();
  uint64_t next_entry_ = 0;
};

INSTANTIATE_TEST_SUITE_P(StoreEnvs, StoreTest, ::testing::Values(Env::kMemory, Env::kDisk), EnvName);

TEST(StoreKeysTest, BlockAndEntryKeysArePrefixPlusBigEndian) {
  EXPECT_EQ(Store::BlockKey(0), std::string("B\0\0\0\0\0\0\0\0", 9));
  EXPECT_EQ(Store::BlockKey(0x0102030405060708), std::string("B\x01\x02\x03\x04\x05\x06\x07\x08", 9));
  EXPECT_EQ(Store::EntryKey(258), std::string("E\0\0\0\0\0\0\x01\x02", 9));
  // Big-endian keys sort numerically.
  EXPECT_LT(Store::EntryKey(255), Store::EntryKey(256));
  EXPECT_LT(Store::BlockKey(1), Store::BlockKey(uint64_t{1} << 40));
}

TEST_P(StoreTest, EmptyStoreHasNoTip) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->tip().has_value());
  auto block = store->GetBlock(0);
  ASSERT_TRUE(block.ok());
  EXPECT_FALSE(block->has_value());
  auto entry = store->GetEntry(0);
  ASSERT_TRUE(entry.ok());
  EXPECT_FALSE(entry->has_value());
  auto meta = store->Get("M");
  ASSERT_TRUE(meta.ok());
  EXPECT_FALSE(meta->has_value());
}

TEST_P(StoreTest, AppendsGenesisThenMoreBlocks) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<PendingBlock> blocks;
  std::vector<std::string> all_entries;
  for (size_t n : {1, 3, 1, 5, 2}) {
    blocks.push_back(AppendOk(*store, n));
    const PendingBlock& p = blocks.back();
    all_entries.insert(all_entries.end(), p.entries.begin(), p.entries.end());
    auto tip = store->tip();
    ASSERT_TRUE(tip.has_value());
    EXPECT_EQ(tip->height, blocks.size() - 1);
    EXPECT_EQ(tip->block_hash, p.block.header.ComputeHash());
    EXPECT_EQ(tip->frontier, p.frontier);
    EXPECT_EQ(tip->frontier.size(), all_entries.size());
  }
  EXPECT_EQ(blocks[0].block.header.prev_hash, Hash{});
  for (size_t h = 0; h < blocks.size(); ++h) {
    auto block = store->GetBlock(h);
    ASSERT_TRUE(block.ok());
    ASSERT_TRUE(block->has_value());
    EXPECT_EQ((*block)->header, blocks[h].block.header);
    EXPECT_EQ((*block)->signature, blocks[h].block.signature);
    EXPECT_TRUE((*block)->VerifySignature());
    if (h > 0) {
      EXPECT_EQ((*block)->header.prev_hash, blocks[h - 1].block.header.ComputeHash());
    }
  }
  for (size_t i = 0; i < all_entries.size(); ++i) {
    auto entry = store->GetEntry(i);
    ASSERT_TRUE(entry.ok());
    ASSERT_TRUE(entry->has_value());
    EXPECT_EQ(**entry, all_entries[i]);
    auto index_key = store->Get("x/" + std::to_string(i));
    ASSERT_TRUE(index_key.ok());
    ASSERT_TRUE(index_key->has_value());
    EXPECT_EQ(**index_key, all_entries[i]);
  }
  // The tip frontier is the RFC 9162 tree over every entry.
  std::vector<Hash> leaves;
  for (const auto& e : all_entries) leaves.push_back(LeafHash(e));
  EXPECT_EQ(store->tip()->frontier.Root(), MerkleRootOfLeaves(leaves));
}

TEST_P(StoreTest, AppendAppliesHigherLayerDeletes) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  AppendOk(*store, 2);
  PendingBlock p = NextBlock(*store, MakeEntries(1));
  p.extra.Delete("x/0");
  p.extra.Put("y/new", "v");
  ASSERT_TRUE(Append(*store, p).ok());
  EXPECT_FALSE(store->Get("x/0")->has_value());
  EXPECT_TRUE(store->Get("x/1")->has_value());
  EXPECT_EQ(store->Get("y/new")->value_or(""), "v");
}

TEST_P(StoreTest, ReopenRestoresTipExactly) {
  if (!on_disk()) GTEST_SKIP() << "an in-memory store does not outlive its Store";
  std::optional<Tip> saved;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    for (size_t n : {1, 4, 7, 2}) AppendOk(*store, n, /*sync=*/true);
    saved = store->tip();
  }
  ASSERT_TRUE(saved.has_value());
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto tip = store->tip();
    ASSERT_TRUE(tip.has_value());
    EXPECT_EQ(tip->height, saved->height);
    EXPECT_EQ(tip->block_hash, saved->block_hash);
    EXPECT_EQ(tip->frontier, saved->frontier);
    EXPECT_EQ(tip->frontier.Root(), saved->frontier.Root());
    // The reopened store extends the chain where it left off.
    AppendOk(*store, 3, /*sync=*/true);
    EXPECT_EQ(store->tip()->height, saved->height + 1);
    saved = store->tip();
    // Damage the tip block: the tip comes from 'M' alone, so reopening
    // does not read (or rescan) the blocks and still succeeds.
    ASSERT_TRUE(store->RawPutForTesting(Store::BlockKey(saved->height), "not a block").ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto tip = store->tip();
  ASSERT_TRUE(tip.has_value());
  EXPECT_EQ(tip->height, saved->height);
  EXPECT_EQ(tip->block_hash, saved->block_hash);
  EXPECT_EQ(tip->frontier, saved->frontier);
  auto block = store->GetBlock(saved->height);
  ASSERT_FALSE(block.ok());
  EXPECT_EQ(block.error().code, StoreErrorCode::kCorruption);
}

TEST_P(StoreTest, DamagedTipRecordFailsOpen) {
  if (!on_disk()) GTEST_SKIP() << "an in-memory store does not outlive its Store";
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    AppendOk(*store, 2, /*sync=*/true);
    ASSERT_TRUE(store->RawPutForTesting("M", "short").ok());
  }
  auto store = Store::Open(Options());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, StoreErrorCode::kCorruption) << Describe(store.error());
}

TEST_P(StoreTest, RejectsWrongHeight) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  {
    PendingBlock p = NextBlock(*store, MakeEntries(1));
    p.block.header.height = 1;  // genesis must be 0
    ExpectInvalidAfterReseal(*store, std::nullopt, p);
  }
  AppendOk(*store, 1);
  AppendOk(*store, 2);
  for (uint64_t height : {uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{100}}) {
    const auto before = store->tip();
    PendingBlock p = NextBlock(*store, MakeEntries(2));
    p.block.header.height = height;
    ExpectInvalidAfterReseal(*store, before, p);
  }
  AppendOk(*store, 1);  // the right height still goes in
  EXPECT_EQ(store->tip()->height, 2u);
}

TEST_P(StoreTest, RejectsWrongPrevHash) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  {
    PendingBlock p = NextBlock(*store, MakeEntries(1));
    p.block.header.prev_hash[0] = 1;  // genesis links to 32 zero bytes
    ExpectInvalidAfterReseal(*store, std::nullopt, p);
  }
  PendingBlock genesis = AppendOk(*store, 1);
  PendingBlock one = AppendOk(*store, 1);
  const auto before = store->tip();
  for (const Hash& wrong : {Hash{}, genesis.block.header.ComputeHash(), Sha256("elsewhere")}) {
    PendingBlock p = NextBlock(*store, MakeEntries(1));
    p.block.header.prev_hash = wrong;
    ExpectInvalidAfterReseal(*store, before, p);
  }
  PendingBlock p = NextBlock(*store, MakeEntries(1));
  p.block.header.prev_hash[31] ^= 1;
  ExpectInvalidAfterReseal(*store, before, p);
  EXPECT_EQ(store->tip()->block_hash, one.block.header.ComputeHash());
}

TEST_P(StoreTest, RejectsRecordCountMismatch) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  AppendOk(*store, 1);
  const auto before = store->tip();
  {
    // Header claims 2, three entries passed (frontier and root over three).
    PendingBlock p = NextBlock(*store, MakeEntries(3));
    p.block.header.record_count = 2;
    ExpectInvalidAfterReseal(*store, before, p);
  }
  {
    // Header claims 4.
    PendingBlock p = NextBlock(*store, MakeEntries(3));
    p.block.header.record_count = 4;
    ExpectInvalidAfterReseal(*store, before, p);
  }
  {
    // Header and frontier for three entries, only two passed.
    PendingBlock p = NextBlock(*store, MakeEntries(3));
    p.entries.pop_back();
    ExpectCode(Append(*store, p), StoreErrorCode::kInvalid);
    ExpectNothingWritten(*store, before, p);
  }
}

TEST_P(StoreTest, RejectsTreeSizeOrRootMismatch) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  AppendOk(*store, 2);
  AppendOk(*store, 3);
  const auto before = store->tip();
  {
    PendingBlock p = NextBlock(*store, MakeEntries(2));
    p.block.header.tree_size += 1;
    ExpectInvalidAfterReseal(*store, before, p);
  }
  {
    PendingBlock p = NextBlock(*store, MakeEntries(2));
    p.block.header.root[7] ^= 0x40;
    ExpectInvalidAfterReseal(*store, before, p);
  }
  {
    // frontier_after does not extend the tip: a fresh tree of the two
    // entries (size 2, not tip+2), header consistent with it.
    PendingBlock p = NextBlock(*store, MakeEntries(2));
    p.frontier = MerkleFrontier();
    for (const auto& e : p.entries) p.frontier.AppendLeaf(LeafHash(e));
    p.block.header.tree_size = p.frontier.size();
    p.block.header.root = p.frontier.Root();
    ExpectInvalidAfterReseal(*store, before, p);
  }
  {
    // Same entries, but the frontier lacks the second one.
    PendingBlock p = NextBlock(*store, MakeEntries(2));
    p.frontier = before->frontier;
    p.frontier.AppendLeaf(LeafHash(p.entries[0]));
    p.block.header.tree_size = p.frontier.size();
    p.block.header.root = p.frontier.Root();
    ExpectInvalidAfterReseal(*store, before, p);
  }
  AppendOk(*store, 2);  // the consistent block still goes in
}

// The header's root (and frontier_after) must be the tip's tree extended by
// exactly these entries; a root over other entries of the same count would
// commit the block to a log it does not store.
TEST_P(StoreTest, RejectsRootThatDoesNotCoverTheEntries) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  AppendOk(*store, 2);
  AppendOk(*store, 3);
  const auto before = store->tip();
  PendingBlock p = NextBlock(*store, MakeEntries(2));
  p.frontier = before->frontier;
  p.frontier.AppendLeaf(LeafHash("{\"other\":1}"));
  p.frontier.AppendLeaf(LeafHash("{\"other\":2}"));
  p.block.header.tree_size = p.frontier.size();
  p.block.header.root = p.frontier.Root();
  ExpectInvalidAfterReseal(*store, before, p);
}

TEST_P(StoreTest, RejectsHigherLayerKeysNotStartingWithALowercaseLetter) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  AppendOk(*store, 1);
  const auto before = store->tip();
  const std::vector<std::string> bad_keys = {
      "",   "M",  "Mx", Store::BlockKey(0),    Store::EntryKey(0), "Xa/1", "0abc", "/a",
      "`a", "{a", "~a", std::string("\0a", 2), "\xc3\xa9t\xc3\xa9"};
  for (const auto& bad : bad_keys) {
    SCOPED_TRACE("put key '" + bad + "'");
    PendingBlock p = NextBlock(*store, MakeEntries(1));
    p.extra.Put("a/good", "1");  // a valid key in the same write set
    p.extra.Put(bad, "clobbered");
    p.extra.Put("z/good", "2");
    ExpectCode(Append(*store, p), StoreErrorCode::kInvalid);
    ExpectNothingWritten(*store, before, p);
  }
  for (const auto& bad : bad_keys) {
    SCOPED_TRACE("delete key '" + bad + "'");
    PendingBlock p = NextBlock(*store, MakeEntries(1));
    p.extra.Put("a/good", "1");
    p.extra.Delete(bad);
    ExpectCode(Append(*store, p), StoreErrorCode::kInvalid);
    ExpectNothingWritten(*store, before, p);
  }
  // The chain's own keys are intact.
  auto genesis = store->GetBlock(0);
  ASSERT_TRUE(genesis.ok());
  ASSERT_TRUE(genesis->has_value());
  EXPECT_TRUE((*genesis)->VerifySignature());
  EXPECT_TRUE(store->GetEntry(0)->has_value());
  // Lowercase a..z all pass.
  PendingBlock p = NextBlock(*store, MakeEntries(1));
  p.extra.Put("a", "1");
  p.extra.Put("z", "2");
  ASSERT_TRUE(Append(*store, p).ok());
  EXPECT_EQ(store->Get("a")->value_or(""), "1");
  EXPECT_EQ(store->Get("z")->value_or(""), "2");
}

TEST_P(StoreTest, GetBlockAndGetEntry) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  PendingBlock b0 = AppendOk(*store, 2);
  PendingBlock b1 = AppendOk(*store, 3);
  auto got = store->GetBlock(1);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->Serialize(), b1.block.Serialize());
  auto raw = store->Get(Store::BlockKey(1));
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw->has_value());
  EXPECT_EQ(**raw, b1.block.Serialize());  // stored as header || signature
  EXPECT_EQ(raw->value().size(), kSignedBlockSize);
  // Absent heights and indexes are not errors.
  for (uint64_t h : {uint64_t{2}, uint64_t{1000}, UINT64_MAX}) {
    auto absent = store->GetBlock(h);
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value());
  }
  EXPECT_EQ(store->GetEntry(4)->value_or(""), b1.entries[2]);
  EXPECT_EQ(store->GetEntry(0)->value_or(""), b0.entries[0]);
  for (uint64_t i : {uint64_t{5}, uint64_t{6}, UINT64_MAX}) {
    auto absent = store->GetEntry(i);
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value());
  }
  // Get reads any key, including the chain's.
  EXPECT_EQ(store->Get(Store::EntryKey(1))->value_or(""), b0.entries[1]);
  EXPECT_TRUE(store->Get("M")->has_value());
  EXPECT_FALSE(store->Get("x/nothing")->has_value());
}

TEST_P(StoreTest, GetBlockThatDoesNotParseIsCorruption) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  PendingBlock b0 = AppendOk(*store, 1);
  std::string bytes = b0.block.Serialize();
  const std::vector<std::string> damaged = {"", bytes.substr(0, 191), bytes + "x", "XLB1" + bytes.substr(4),
                                            bytes.substr(0, kHeaderSize)};
  for (const auto& bad : damaged) {
    ASSERT_TRUE(store->RawPutForTesting(Store::BlockKey(0), bad).ok());
    auto got = store->GetBlock(0);
    ASSERT_FALSE(got.ok()) << "accepted " << bad.size() << " bytes";
    EXPECT_EQ(got.error().code, StoreErrorCode::kCorruption);
  }
  // A well-formed but wrongly-signed block still parses: the store does
  // not verify signatures, the auditor does.
  std::string flipped = bytes;
  flipped[kHeaderSize + 5] ^= 1;
  ASSERT_TRUE(store->RawPutForTesting(Store::BlockKey(0), flipped).ok());
  auto got = store->GetBlock(0);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_FALSE((*got)->VerifySignature());
}

TEST_P(StoreTest, WriteAndScanHigherLayerKeys) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  AppendOk(*store, 2);  // adds x/0, x/1
  WriteSet w;
  for (const char* k : {"a/3", "a/1", "a/2", "ab", "b/1", "a/"}) w.Put(k, std::string("v") + k);
  ASSERT_TRUE(store->Write(w, /*sync=*/false).ok());
  EXPECT_EQ(store->Get("a/2")->value_or(""), "va/2");

  auto scan = [&](std::string_view prefix, std::string_view start, size_t limit = 1000) {
    std::vector<std::string> seen;
    auto r = store->Scan(prefix, start, [&](std::string_view key, std::string_view value) {
      EXPECT_EQ(value, "v" + std::string(key)) << key;
      seen.emplace_back(key);
      return seen.size() < limit;
    });
    EXPECT_TRUE(r.ok());
    return seen;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(scan("a/", ""), (V{"a/", "a/1", "a/2", "a/3"}));
  EXPECT_EQ(scan("a/", "a/2"), (V{"a/2", "a/3"}));
  EXPECT_EQ(scan("a/", "a/25"), (V{"a/3"}));
  EXPECT_EQ(scan("a", ""), (V{"a/", "a/1", "a/2", "a/3", "ab"}));
  EXPECT_EQ(scan("a/", "", 2), (V{"a/", "a/1"}));  // fn returning false stops
  EXPECT_EQ(scan("c/", ""), V{});
  EXPECT_EQ(scan("b/", ""), V{"b/1"});
  EXPECT_EQ(scan("ab", ""), V{"ab"});

  WriteSet del;
  del.Delete("a/2");
  del.Delete("a/never");
  ASSERT_TRUE(store->Write(del, /*sync=*/true).ok());
  EXPECT_FALSE(store->Get("a/2")->has_value());
  EXPECT_EQ(scan("a/", ""), (V{"a/", "a/1", "a/3"}));
  // Write leaves the chain alone.
  EXPECT_EQ(store->tip()->height, 0u);
  EXPECT_TRUE(store->GetBlock(0)->has_value());
}

TEST_P(StoreTest, WriteRejectsKeysNotStartingWithALowercaseLetter) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  PendingBlock genesis = AppendOk(*store, 1);
  const std::string block_value = genesis.block.Serialize();
  for (const std::string& bad : {std::string(), std::string("M"), Store::BlockKey(0), Store::EntryKey(0),
                                 std::string("Xa"), std::string("~a")}) {
    SCOPED_TRACE("key '" + bad + "'");
    WriteSet put;
    put.Put("a/good", "1");
    put.Put(bad, "clobbered");
    ExpectCode(store->Write(put, /*sync=*/false), StoreErrorCode::kInvalid);
    WriteSet del;
    del.Put("a/good", "1");
    del.Delete(bad);
    ExpectCode(store->Write(del, /*sync=*/false), StoreErrorCode::kInvalid);
    EXPECT_FALSE(store->Get("a/good")->has_value());
  }
  EXPECT_EQ(store->Get(Store::BlockKey(0))->value_or(""), block_value);
  EXPECT_EQ(store->GetEntry(0)->value_or(""), genesis.entries[0]);
  EXPECT_EQ(store->tip()->height, 0u);
}

TEST_P(StoreTest, ScanEntries) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<std::string> all;
  for (size_t n : {1, 4, 3}) {
    PendingBlock p = AppendOk(*store, n);
    all.insert(all.end(), p.entries.begin(), p.entries.end());
  }
  auto collect = [&](uint64_t first, uint64_t count, size_t limit,
                     std::vector<std::pair<uint64_t, std::string>>& seen) {
    return store->ScanEntries(first, count, [&](uint64_t index, std::string_view entry) {
      seen.emplace_back(index, std::string(entry));
      return seen.size() < limit;
    });
  };
  {
    std::vector<std::pair<uint64_t, std::string>> seen;
    ASSERT_TRUE(collect(0, all.size(), 1000, seen).ok());
    ASSERT_EQ(seen.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(seen[i].first, i);
      EXPECT_EQ(seen[i].second, all[i]);
    }
  }
  {
    std::vector<std::pair<uint64_t, std::string>> seen;
    ASSERT_TRUE(collect(2, 3, 1000, seen).ok());
    ASSERT_EQ(seen.size(), 3u);
    EXPECT_EQ(seen[0], (std::pair<uint64_t, std::string>{2, all[2]}));
    EXPECT_EQ(seen[2], (std::pair<uint64_t, std::string>{4, all[4]}));
  }
  {
    std::vector<std::pair<uint64_t, std::string>> seen;
    ASSERT_TRUE(collect(1, 6, 2, seen).ok());  // stops when fn returns false
    EXPECT_EQ(seen.size(), 2u);
  }
  {
    std::vector<std::pair<uint64_t, std::string>> seen;
    ASSERT_TRUE(collect(3, 0, 1000, seen).ok());
    EXPECT_TRUE(seen.empty());
    ASSERT_TRUE(collect(1000, 0, 1000, seen).ok());
    EXPECT_TRUE(seen.empty());
  }
  {
    // A range past the end: the missing entry is corruption, after the
    // entries before it were delivered.
    std::vector<std::pair<uint64_t, std::string>> seen;
    auto r = collect(all.size() - 2, 4, 1000, seen);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StoreErrorCode::kCorruption);
    EXPECT_EQ(seen.size(), 2u);
  }
  {
    std::vector<std::pair<uint64_t, std::string>> seen;
    auto r = collect(all.size(), 1, 1000, seen);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, StoreErrorCode::kCorruption);
    EXPECT_TRUE(seen.empty());
  }
}

TEST_P(StoreTest, ScanEntriesOnEmptyStore) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  int calls = 0;
  auto fn = [&](uint64_t, std::string_view) { return ++calls, true; };
  EXPECT_TRUE(store->ScanEntries(0, 0, fn).ok());
  auto r = store->ScanEntries(0, 1, fn);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, StoreErrorCode::kCorruption);
  EXPECT_EQ(calls, 0);
}

TEST_P(StoreTest, OpeningTwiceIsLocked) {
  if (!on_disk()) GTEST_SKIP() << "each in-memory store has its own environment";
  auto first = OpenStore();
  ASSERT_NE(first, nullptr);
  AppendOk(*first, 1);
  auto second = Store::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, StoreErrorCode::kLocked) << Describe(second.error());
  // The first store is unaffected; after it closes the directory opens.
  AppendOk(*first, 1);
  first.reset();
  auto third = OpenStore();
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(third->tip()->height, 1u);
}

TEST_P(StoreTest, MissingDirectoryWithoutCreateIsNotFound) {
  // The data directory is missing; its parent exists.
  StoreOptions options = Options();
  options.create_if_missing = false;
  auto store = Store::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, StoreErrorCode::kNotFound) << Describe(store.error());
  if (on_disk()) {
    EXPECT_FALSE(fs::exists(path_)) << "a failed open left a directory behind";
  }
  // Asking again gives the same answer.
  auto again = Store::Open(options);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, StoreErrorCode::kNotFound) << Describe(again.error());
}

TEST_P(StoreTest, MissingParentDirectoryWithoutCreateIsNotFound) {
  // The data directory and its parent are missing.
  StoreOptions options = Options();
  options.path = dir_.path() + "/missing/db";
  options.create_if_missing = false;
  auto store = Store::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, StoreErrorCode::kNotFound) << Describe(store.error());
}

TEST_P(StoreTest, ExistingStoreOpensWithoutCreate) {
  if (!on_disk()) GTEST_SKIP() << "an in-memory store does not outlive its Store";
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    AppendOk(*store, 2, /*sync=*/true);
  }
  StoreOptions options = Options();
  options.create_if_missing = false;
  auto store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << Describe(store.error());
  EXPECT_EQ((*store)->tip()->frontier.size(), 2u);
}

// Two good blocks, then a third appended while `fault` is set: kIo, and
// nothing of it applied in this process.
void StoreTest::FailThirdAppend(Store& store, std::atomic<bool>& fault, std::optional<Tip>& before,
                                PendingBlock& failed) {
  AppendOk(store, 2, /*sync=*/true);
  AppendOk(store, 3, /*sync=*/true);
  before = store.tip();
  failed = NextBlock(store, MakeEntries(4));
  failed.extra.Put("x/failed", "1");
  fault = true;
  ExpectCode(Append(store, failed, /*sync=*/true), StoreErrorCode::kIo);
  fault = false;
  ExpectNothingWritten(store, before, failed);
}

TEST_P(StoreTest, FailedWriteLeavesPreviousTip) {
  FaultInjector faults;
  std::optional<Tip> before;
  PendingBlock failed;
  {
    auto store = OpenStore(&faults);
    ASSERT_NE(store, nullptr);
    FailThirdAppend(*store, faults.fail_writes, before, failed);
  }
  if (!on_disk()) return;
  auto store = OpenStore();  // no faults
  ASSERT_NE(store, nullptr);
  ExpectNothingWritten(*store, before, failed);
  // The chain goes on from the previous tip.
  ASSERT_TRUE(Append(*store, failed, /*sync=*/true).ok());
  EXPECT_EQ(store->tip()->height, before->height + 1);
}

// A failed fsync: AppendBlock reports kIo, so the caller acknowledges
// nothing, and the store writes nothing more. LevelDB may already have put
// the block in its log, so after a restart the block is either absent or
// there whole — never partial, and the tip always names a stored block.
TEST_P(StoreTest, FailedSyncLeavesPreviousTipOrTheWholeBlock) {
  FaultInjector faults;
  std::optional<Tip> before;
  PendingBlock failed;
  {
    auto store = OpenStore(&faults);
    ASSERT_NE(store, nullptr);
    FailThirdAppend(*store, faults.fail_syncs, before, failed);
    PendingBlock next = NextBlock(*store, MakeEntries(1));
    ExpectCode(Append(*store, next, /*sync=*/true), StoreErrorCode::kIo);  // sticky
  }
  if (!on_disk()) return;
  auto store = OpenStore();  // no faults
  ASSERT_NE(store, nullptr);
  if (store->tip()->height == before->height) {
    ExpectNothingWritten(*store, before, failed);
    return;
  }
  ASSERT_EQ(store->tip()->height, before->height + 1);
  EXPECT_EQ(store->tip()->frontier, failed.frontier);
  for (uint64_t i = 0; i < 4; ++i) {
    auto e = store->GetEntry(before->frontier.size() + i);
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e->has_value());
  }
  auto x = store->Get("x/failed");
  ASSERT_TRUE(x.ok());
  EXPECT_TRUE(x->has_value());
}

// After a failed write the store either refuses further appends or keeps
// them readable: every block it acknowledged must be there after a restart.
// (The failed write must not leave the log in a state that makes later
// acknowledged blocks, or the whole store, unreadable.)
TEST_P(StoreTest, AppendsAfterAFailedWriteSurviveReopen) {
  FaultInjector faults;
  std::optional<Tip> acknowledged;
  {
    auto store = OpenStore(&faults);
    ASSERT_NE(store, nullptr);
    AppendOk(*store, 2, /*sync=*/true);
    acknowledged = store->tip();
    PendingBlock failed = NextBlock(*store, MakeEntries(4));
    faults.fail_writes = true;
    ExpectCode(Append(*store, failed, /*sync=*/true), StoreErrorCode::kIo);
    faults.fail_writes = false;  // the disk recovers (space freed)
    // Enough further blocks to fill more than one 32 KiB log block.
    for (int i = 0; i < 200; ++i) {
      PendingBlock p = NextBlock(*store, MakeEntries(5));
      auto r = Append(*store, p, /*sync=*/true);
      if (!r.ok()) {
        EXPECT_EQ(r.error().code, StoreErrorCode::kIo) << Describe(r.error());
        break;
      }
      acknowledged = store->tip();
    }
  }
  if (!on_disk()) return;
  auto store = Store::Open(Options());
  ASSERT_TRUE(store.ok()) << "store with " << acknowledged->height + 1
                          << " acknowledged blocks no longer opens: " << Describe(store.error());
  ASSERT_TRUE((*store)->tip().has_value());
  EXPECT_EQ((*store)->tip()->height, acknowledged->height);
  EXPECT_EQ((*store)->tip()->block_hash, acknowledged->block_hash);
}

TEST_P(StoreTest, UnsyncedAppendIsUnaffectedBySyncFaults) {
  FaultInjector faults;
  auto store = OpenStore(&faults);
  ASSERT_NE(store, nullptr);
  AppendOk(*store, 1, /*sync=*/true);
  faults.fail_syncs = true;
  AppendOk(*store, 2, /*sync=*/false);  // no fsync asked, none failed
  EXPECT_EQ(store->tip()->height, 1u);
}

// On disk only: the classification of a real filesystem error must not
// depend on the directory's name.
TEST(StoreErrorTest, IoErrorUnderAPathNamedLikeLockIsStillIo) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  for (const char* name : {"plainfile", "blocks"}) {
    const std::string file = dir.path() + "/" + name;
    std::ofstream(file) << "a regular file, not a directory";
    // The data directory would be inside a regular file: ENOTDIR.
    auto store = Store::Open(StoreOptions{.path = file + "/db"});
    ASSERT_FALSE(store.ok()) << name;
    EXPECT_EQ(store.error().code, StoreErrorCode::kIo) << name << ": " << Describe(store.error());
  }
}

}  // namespace
}  // namespace traceledger::chain
