// Test helpers for code built on chain::Store: scratch directories and
// blocks of synthetic entries.
#ifndef TRACELEDGER_TESTS_CHAIN_STORE_FIXTURE_H_
#define TRACELEDGER_TESTS_CHAIN_STORE_FIXTURE_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "chain/block.h"
#include "chain/merkle.h"
#include "chain/store.h"
#include "wallet/key.h"

namespace traceledger::chain::testing {

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = "/tmp/tl-chain-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Appends blocks of the given sizes of entries "<prefix><index>" to
// `store`, extending its tip; returns the leaf hashes of the entries it
// added. Two stores given the same calls hold the same log.
inline std::vector<Hash> AppendBlocks(Store& store, const std::vector<uint32_t>& sizes,
                                      const wallet::SecretKey& key, const std::string& prefix = "e") {
  std::vector<Hash> leaves;
  auto tip = store.tip();
  MerkleFrontier frontier = tip ? tip->frontier : MerkleFrontier();
  Hash prev = tip ? tip->block_hash : Hash{};
  uint64_t height = tip ? tip->height + 1 : 0;
  for (uint32_t count : sizes) {
    std::vector<std::string> entries;
    for (uint32_t k = 0; k < count; ++k) {
      entries.push_back(prefix + std::to_string(frontier.size()));
      leaves.push_back(LeafHash(entries.back()));
      frontier.AppendLeaf(leaves.back());
    }
    BlockHeader h{.height = height,
                  .prev_hash = prev,
                  .tree_size = frontier.size(),
                  .root = frontier.Root(),
                  .timestamp_ms = 1000 * height,
                  .record_count = count,
                  .signer = key.Public().bytes()};
    auto r = store.AppendBlock(SignedBlock::Seal(h, key), entries, frontier, WriteSet(), /*sync=*/false);
    EXPECT_TRUE(r.ok()) << r.error().message;
    prev = h.ComputeHash();
    ++height;
  }
  return leaves;
}

}  // namespace traceledger::chain::testing

#endif  // TRACELEDGER_TESTS_CHAIN_STORE_FIXTURE_H_
