#include "api/rate_limit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace traceledger::api {

RateLimiter::RateLimiter(RateLimitOptions options) : options_(options) {
  options_.burst = std::max(1.0, options_.burst);
  options_.max_clients = std::max<size_t>(kShards, options_.max_clients);
  max_per_shard_ = options_.max_clients / kShards;
}

void RateLimiter::Evict(Shard& shard, double now_s) const {
  // Idle buckets first: a bucket that has refilled to full behaves exactly
  // like a missing one.
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    const double refilled = it->second.tokens + (now_s - it->second.last_s) * options_.rate_per_s;
    it = refilled >= options_.burst ? shard.buckets.erase(it) : std::next(it);
  }
  if (shard.buckets.size() < max_per_shard_) return;
  // Still full (many active clients): forget the least recently seen half.
  std::vector<double> seen;
  seen.reserve(shard.buckets.size());
  for (const auto& [key, b] : shard.buckets) seen.push_back(b.last_s);
  auto mid = seen.begin() + static_cast<std::ptrdiff_t>(seen.size() / 2);
  std::nth_element(seen.begin(), mid, seen.end());
  const double cutoff = *mid;
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    it = it->second.last_s <= cutoff ? shard.buckets.erase(it) : std::next(it);
  }
}

RateDecision RateLimiter::Take(std::string_view client, double now_s) {
  if (!enabled()) return {};
  Shard& shard = shards_[std::hash<std::string_view>{}(client) % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.buckets.find(std::string(client));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) Evict(shard, now_s);
    it = shard.buckets.emplace(std::string(client), Bucket{.tokens = options_.burst, .last_s = now_s}).first;
  }
  Bucket& b = it->second;
  if (now_s > b.last_s) {
    b.tokens = std::min(options_.burst, b.tokens + (now_s - b.last_s) * options_.rate_per_s);
    b.last_s = now_s;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait = (1.0 - b.tokens) / options_.rate_per_s;
  return RateDecision{.allowed = false, .retry_after_s = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait)))};
}

size_t RateLimiter::clients() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

double MonotonicSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

HttpResponse RateLimited(const RateDecision& decision, std::string_view what) {
  HttpResponse r = JsonError(429, "rate_limited",
                             "too many " + std::string(what) + " requests from this client; retry after " +
                                 std::to_string(decision.retry_after_s) + " s");
  r.SetHeader("Retry-After", std::to_string(decision.retry_after_s));
  return r;
}

}  // namespace traceledger::api
