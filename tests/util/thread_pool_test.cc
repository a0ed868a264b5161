#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace traceledger {
namespace {

// Runs ParallelFor(n) and checks that every index was visited exactly once.
void ExpectEachIndexOnce(ThreadPool& pool, size_t n) {
  std::unique_ptr<std::atomic<int>[]> hits(new std::atomic<int>[n == 0 ? 1 : n]);
  for (size_t i = 0; i < n; ++i) hits[i] = 0;
  std::atomic<size_t> calls{0};
  pool.ParallelFor(n, [&](size_t i) {
    ASSERT_LT(i, n);
    hits[i].fetch_add(1);
    calls.fetch_add(1);
  });
  EXPECT_EQ(calls.load(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n;
}

TEST(ThreadPoolTest, SizeDefaultsToHardware) {
  ThreadPool pool;
  EXPECT_GE(pool.size(), 1u);
  if (std::thread::hardware_concurrency() > 0) {
    EXPECT_EQ(pool.size(), std::thread::hardware_concurrency());
  }
  EXPECT_EQ(ThreadPool(3).size(), 3u);
}

TEST(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  ThreadPool pool(4);
  for (size_t n : {1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4099, 100003}) {
    SCOPED_TRACE(n);
    ExpectEachIndexOnce(pool, n);
  }
}

TEST(ThreadPoolTest, ZeroIterationsCallsNothing) {
  ThreadPool pool(2);
  std::atomic<int> calls{0};
  pool.ParallelFor(0, [&](size_t) { calls.fetch_add(1); });
  EXPECT_EQ(calls.load(), 0);
  // The pool still works afterwards.
  ExpectEachIndexOnce(pool, 10);
}

TEST(ThreadPoolTest, SingleThreadPool) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.size(), 1u);
  for (size_t n : {0, 1, 2, 10, 1000, 10007}) {
    SCOPED_TRACE(n);
    ExpectEachIndexOnce(pool, n);
  }
}

TEST(ThreadPoolTest, ManySequentialCalls) {
  ThreadPool pool(3);
  for (size_t round = 0; round < 500; ++round) ExpectEachIndexOnce(pool, round % 37);
}

TEST(ThreadPoolTest, ConcurrentCallersShareThePool) {
  for (size_t workers : {1, 2, 4}) {
    SCOPED_TRACE(workers);
    ThreadPool pool(workers);
    constexpr int kCallers = 6;
    constexpr int kRounds = 40;
    std::vector<std::thread> callers;
    std::atomic<int> failures{0};
    for (int c = 0; c < kCallers; ++c) {
      callers.emplace_back([&, c] {
        for (int round = 0; round < kRounds; ++round) {
          size_t n = static_cast<size_t>(1 + (c * 131 + round * 17) % 2000);
          std::vector<std::atomic<int>> hits(n);
          pool.ParallelFor(n, [&](size_t i) { hits[i].fetch_add(1); });
          // Each call returns only once its own indices are done.
          for (size_t i = 0; i < n; ++i) {
            if (hits[i].load() != 1) failures.fetch_add(1);
          }
        }
      });
    }
    for (auto& t : callers) t.join();
    EXPECT_EQ(failures.load(), 0);
  }
}

TEST(ThreadPoolTest, WorkIsSpreadOverThreads) {
  // Not a timing assertion: work runs only on the pool's threads and the
  // caller, so at most size() + 1 distinct threads are seen.
  ThreadPool pool(2);
  std::mutex mu;
  std::set<std::thread::id> seen;
  pool.ParallelFor(1000, [&](size_t) {
    std::lock_guard<std::mutex> lock(mu);
    seen.insert(std::this_thread::get_id());
  });
  EXPECT_GE(seen.size(), 1u);
  EXPECT_LE(seen.size(), 3u);
}

TEST(ThreadPoolTest, ConstructAndDestroyRepeatedly) {
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(static_cast<size_t>(1 + i % 4));
    if (i % 2 == 0) ExpectEachIndexOnce(pool, static_cast<size_t>(i));
  }
}

}  // namespace
}  // namespace traceledger
