// Per-client rate limiting: one token bucket per client key (an address),
// so a single client cannot flood the scan and PIN routes while everyone
// else is served. A bucket holds up to `burst` tokens and refills at
// `rate_per_s`; a request takes one token or is refused with the seconds
// after which a token will be there (HTTP 429 + Retry-After).
//
// The core is pure: every call takes the time (seconds on a monotonic
// clock), so tests drive it with an injected clock. Memory is bounded:
// at most `max_clients` buckets; when a new client would exceed that, idle
// buckets (refilled to full, so forgetting them changes nothing) are
// evicted first, then the least recently seen half.
//
// Thread-safe: the buckets are sharded by key, one mutex per shard.
#ifndef TRACELEDGER_API_RATE_LIMIT_H_
#define TRACELEDGER_API_RATE_LIMIT_H_

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/http.h"

namespace traceledger::api {

struct RateLimitOptions {
  double rate_per_s = 10;   // refill rate; 0 or less: no limit at all
  double burst = 20;        // bucket size (at least 1)
  size_t max_clients = 100'000;
};

struct RateDecision {
  bool allowed = true;
  int64_t retry_after_s = 0;  // when refused: whole seconds until a token is there (≥ 1)
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitOptions options);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  bool enabled() const { return options_.rate_per_s > 0; }
  const RateLimitOptions& options() const { return options_; }

  // Takes one token from `client`'s bucket at `now_s` (monotonic seconds;
  // a time before the bucket's last one counts as that time).
  RateDecision Take(std::string_view client, double now_s);

  // Buckets held (for tests and metrics).
  size_t clients() const;

 private:
  struct Bucket {
    double tokens = 0;
    double last_s = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;  // GUARDED_BY(mu)
  };
  static constexpr size_t kShards = 16;

  // REQUIRES: shard.mu held. Makes room for one more bucket.
  void Evict(Shard& shard, double now_s) const;

  RateLimitOptions options_;
  size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

// A monotonic clock in seconds, as RateLimiter wants it.
double MonotonicSeconds();

// The 429 answer for a refused request: JsonError "rate_limited" naming
// `what`, with Retry-After.
HttpResponse RateLimited(const RateDecision& decision, std::string_view what);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_RATE_LIMIT_H_
