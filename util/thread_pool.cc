#include "util/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>

namespace traceledger {

struct ThreadPool::Job {
  size_t n = 0;
  size_t chunk = 1;
  const std::function<void(size_t)>* fn = nullptr;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  int active = 0;  // workers inside RunChunks; GUARDED_BY(mu)
  std::mutex mu;
  std::condition_variable cv;
};

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    workers_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "tl-pool");
      WorkerLoop();
    });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::RunChunks(Job& job) {
  for (;;) {
    size_t begin = job.next.fetch_add(job.chunk);
    if (begin >= job.n) return;
    size_t end = std::min(job.n, begin + job.chunk);
    for (size_t i = begin; i < end; ++i) (*job.fn)(i);
    if (job.done.fetch_add(end - begin) + (end - begin) == job.n) {
      std::lock_guard<std::mutex> lock(job.mu);
      job.cv.notify_all();
    }
  }
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    Job* job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = jobs_.front();
      // Leave the job queued while it has unclaimed chunks so that every
      // worker can join in; the first worker to find it exhausted removes it.
      if (job->next.load() >= job->n) {
        jobs_.pop_front();
        continue;
      }
      std::lock_guard<std::mutex> job_lock(job->mu);
      ++job->active;
    }
    RunChunks(*job);
    // After this unlock the job may be destroyed by its owner.
    std::lock_guard<std::mutex> job_lock(job->mu);
    --job->active;
    job->cv.notify_all();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  Job job;
  job.n = n;
  job.fn = &fn;
  // Small chunks keep the cores balanced; 4 chunks per thread is enough.
  job.chunk = std::max<size_t>(1, n / ((workers_.size() + 1) * 4));
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(&job);
  }
  cv_.notify_all();
  RunChunks(job);
  {
    std::unique_lock<std::mutex> lock(job.mu);
    job.cv.wait(lock, [&] { return job.done.load() == job.n; });
  }
  // Take the job off the queue so no new worker picks it up, then wait for
  // the workers still inside it before the stack frame goes away.
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.erase(std::remove(jobs_.begin(), jobs_.end(), &job), jobs_.end());
  }
  std::unique_lock<std::mutex> lock(job.mu);
  job.cv.wait(lock, [&] { return job.active == 0; });
}

}  // namespace traceledger
