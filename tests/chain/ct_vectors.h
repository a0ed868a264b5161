// Certificate Transparency reference leaves and roots, and random leaves,
// shared by the Merkle and proof tests.
#ifndef TRACELEDGER_TESTS_CHAIN_CT_VECTORS_H_
#define TRACELEDGER_TESTS_CHAIN_CT_VECTORS_H_

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <vector>

#include "chain/hash.h"

namespace traceledger::chain {

// A hash from 64 hex digits; fails the test otherwise.
inline Hash H(const char* hex) {
  std::optional<Hash> h = HashFromHex(hex);
  EXPECT_TRUE(h.has_value()) << hex;
  return h.value_or(Hash{});
}

// n pseudo-random leaf hashes.
inline std::vector<Hash> RandomLeaves(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<Hash> out(n);
  for (Hash& h : out) {
    for (uint8_t& b : h) b = static_cast<uint8_t>(rng());
  }
  return out;
}

// The Certificate Transparency reference vectors (RFC 6962 hashing, which
// RFC 9162 §2.1 keeps unchanged), as published in transparency-dev/merkle
// testonly/constants.go (LeafInputs, RootHashes, CompactTrees) and in the
// original certificate-transparency C++ merkle_tree_test.cc.
inline const char* const kLeafInputsHex[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
};

// kRootsHex[n] is the root of the tree over the first n leaves.
inline const char* const kRootsHex[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

}  // namespace traceledger::chain

#endif  // TRACELEDGER_TESTS_CHAIN_CT_VECTORS_H_
