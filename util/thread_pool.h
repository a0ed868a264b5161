// ThreadPool: a fixed set of worker threads that run index-parallel loops.
// Used to verify signatures on all cores during ingest and audit.
//
// Thread-safety: ParallelFor may be called from several threads at once; the
// calls share the workers and each returns when its own indices are done.
#ifndef TRACELEDGER_UTIL_THREAD_POOL_H_
#define TRACELEDGER_UTIL_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace traceledger {

class ThreadPool {
 public:
  // threads == 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  // Runs fn(i) for every i in [0, n), spread over the workers and the calling
  // thread, and returns when all are done. fn must not throw.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

 private:
  struct Job;
  void WorkerLoop();
  static void RunChunks(Job& job);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> jobs_;  // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;
};

}  // namespace traceledger

#endif  // TRACELEDGER_UTIL_THREAD_POOL_H_
