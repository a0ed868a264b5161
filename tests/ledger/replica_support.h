// Helpers for replication tests that need no HTTP: whole-store
// comparison and key counts (and tests/temp_dir.h).
#ifndef TRACELEDGER_TESTS_LEDGER_REPLICA_SUPPORT_H_
#define TRACELEDGER_TESTS_LEDGER_REPLICA_SUPPORT_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "chain/store.h"
#include "ledger/state.h"
#include "tests/temp_dir.h"

namespace traceledger::testing {

// Every key and value of two stores, compared in order: the first
// difference, or "" when they hold exactly the same.
inline std::string CompareStores(const chain::Store& a, const chain::Store& b) {
  std::vector<std::pair<std::string, std::string>> left;
  auto scan = a.Scan("", "", [&](std::string_view k, std::string_view v) {
    left.emplace_back(k, v);
    return true;
  });
  if (!scan.ok()) return "scan: " + scan.error().message;
  size_t i = 0;
  std::string diff;
  scan = b.Scan("", "", [&](std::string_view k, std::string_view v) {
    if (i >= left.size()) {
      diff = "the second store has an extra key " + ledger::PrintableKey(k);
    } else if (left[i].first != k) {
      diff = "key " + ledger::PrintableKey(left[i].first) + " vs " + ledger::PrintableKey(k);
    } else if (left[i].second != v) {
      diff = "the value of " + ledger::PrintableKey(k) + " differs";
    }
    ++i;
    return diff.empty();
  });
  if (!scan.ok()) return "scan: " + scan.error().message;
  if (diff.empty() && i != left.size())
    diff = "the first store has an extra key " + ledger::PrintableKey(left[i].first);
  return diff;
}

inline size_t CountKeys(const chain::Store& store) {
  size_t n = 0;
  auto scan = store.Scan("", "", [&](std::string_view, std::string_view) {
    ++n;
    return true;
  });
  EXPECT_TRUE(scan.ok());
  return n;
}

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_LEDGER_REPLICA_SUPPORT_H_
