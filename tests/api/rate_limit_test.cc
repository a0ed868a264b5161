// The per-client token buckets (api/rate_limit.h), driven by an injected
// clock: refill, Retry-After, independence of clients, the memory bound.
#include "api/rate_limit.h"

#include <gtest/gtest.h>

#include <string>

namespace traceledger::api {
namespace {

TEST(RateLimiter, BurstThenRefill) {
  RateLimiter limiter({.rate_per_s = 2, .burst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("a", 100.0).allowed) << i;
  RateDecision refused = limiter.Take("a", 100.0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);  // half a second, rounded up
  EXPECT_FALSE(limiter.Take("a", 100.4).allowed);
  EXPECT_TRUE(limiter.Take("a", 100.5).allowed);
  EXPECT_FALSE(limiter.Take("a", 100.5).allowed);
  // Another client has its own bucket.
  EXPECT_TRUE(limiter.Take("b", 100.5).allowed);
  // A long pause refills to the burst, not beyond.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("a", 1000.0).allowed);
  EXPECT_FALSE(limiter.Take("a", 1000.0).allowed);
}

TEST(RateLimiter, RetryAfterCountsWholeSeconds) {
  RateLimiter limiter({.rate_per_s = 0.1, .burst = 1});
  EXPECT_TRUE(limiter.Take("a", 0).allowed);
  EXPECT_EQ(limiter.Take("a", 0).retry_after_s, 10);
  EXPECT_EQ(limiter.Take("a", 2.5).retry_after_s, 8);
  // A clock going backwards does not mint tokens.
  EXPECT_FALSE(limiter.Take("a", 1.0).allowed);
  EXPECT_TRUE(limiter.Take("a", 10.0).allowed);
}

TEST(RateLimiter, DisabledAllowsEverything) {
  RateLimiter limiter({.rate_per_s = 0, .burst = 1});
  EXPECT_FALSE(limiter.enabled());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Take("a", 0).allowed);
  EXPECT_EQ(limiter.clients(), 0u);
}

TEST(RateLimiter, MemoryIsBounded) {
  RateLimiter limiter({.rate_per_s = 1, .burst = 5, .max_clients = 160});
  // Active clients (each took a token, so none is idle): the bound holds.
  for (int i = 0; i < 10'000; ++i) {
    ASSERT_TRUE(limiter.Take("client-" + std::to_string(i), 1.0 + i * 1e-6).allowed);
    ASSERT_LE(limiter.clients(), 160u);
  }
  // Idle buckets go first: after a pause everyone has refilled.
  limiter.Take("fresh", 1000.0);
  EXPECT_LE(limiter.clients(), 160u);
}

TEST(RateLimiter, RateLimitedAnswer) {
  HttpResponse r = RateLimited({.allowed = false, .retry_after_s = 7}, "scan");
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("\"code\":\"rate_limited\""), std::string::npos);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(r.headers[0].second, "7");
}

}  // namespace
}  // namespace traceledger::api
