// The GS1 Digital Link resolver: what a phone opens when it scans an item's
// code, and the one-time PIN check.
//
//   GET|HEAD /01/{gtin}/10/{lot}/21/{serial}?91=…&92=…[&lang=en|zh-CN]
//   OPTIONS  the same path (CORS preflight: 204)
//   POST     /v1/pin   {"code":"<code URI>","pin":"…"}  (or the page's form, urlencoded)
//
// A request's path and query are the code (qrcode/code.h): parsed, verified
// (qrcode/verify.h against the ledger) and, when genuine, answered with one
// JSON document (docs/API.md): verdict genuine | warning | not_genuine with
// its reasons, the code's fields, product, lot, inspections, the custody
// timeline of the shipments carrying the lot, the merchant with its credit
// grade (CreditLookup; absent → "not rated"), scan statistics, warnings and
// the PIN state. Browsers (Accept preferring text/html) get the consumer
// page rendered from that document (resolver_page.h). Answers:
//   200  a code that parsed and whose key is known (genuine, warning, or not
//        genuine: bad signature, revoked key, another merchant's key, revoked code)
//   400  bad_link: not a well-formed code (message names the part and why)
//   404  unknown_code: well-formed but never issued, or an unknown key or
//        GTIN (the body still says verdict not_genuine)
//   429  rate_limited (Retry-After), per client address
//   503  unavailable: a ledger read failed
// Every answer carries Vary: Accept, Accept-Language and
// Access-Control-Allow-Origin: *.
//
// Scans. Each GET of a code whose signature verifies and that was issued is
// recorded once in the ScanStore (HEAD and OPTIONS record nothing): region
// from a configured trusted header, else a coarse network prefix of the
// client's address ("N4-C0A8" = 192.168.0.0/16, "N6-20010DB8" = a /32);
// client id = the remote address, kept only as the store's salted hash.
// Forged codes are not recorded, so a forger cannot inflate a genuine
// code's clone statistics with bad signatures.
//
// Caching. Products, party names and the party of a key never change (facts
// are write-once) and are cached for good; a lot's view (dates, inspections,
// shipments, custody, recall) and issuer keys (which can be revoked) are
// cached per ledger height. A code's status (revoked, recalled, issued) is
// read on every request.
//
// Thread-safe: handlers are called from the server's worker threads.
#ifndef TRACELEDGER_API_RESOLVER_SERVICE_H_
#define TRACELEDGER_API_RESOLVER_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "api/credit_view.h"
#include "api/http.h"
#include "api/rate_limit.h"
#include "ledger/ledger.h"
#include "qrcode/scan_store.h"

namespace traceledger::api {

struct ResolverOptions {
  // A header set by a trusted front end (CDN, load balancer) holding the
  // client's coarse region, e.g. "X-Region: CN-44"; "" to ignore headers
  // and use the network prefix. Values failing qrcode::RegionProblem are
  // ignored.
  std::string region_header;
  // The resolver host used to rebuild a code's text when the request's Host
  // header is not a usable host (the signature does not cover it).
  std::string resolver = "id.traceledger.example";
  RateLimitOptions scan_limit{.rate_per_s = 20, .burst = 60};
  RateLimitOptions pin_limit{.rate_per_s = 0.2, .burst = 10};
  CreditLookup credit;  // empty: every merchant "not rated"
  // Unix seconds, for scans and PINs; default the system clock.
  std::function<int64_t()> clock_s;
  // Monotonic seconds, for the rate limits; default MonotonicSeconds.
  std::function<double()> monotonic_s;
  size_t max_cached = 65'536;  // entries per cache (cleared when full)
};

class ResolverService {
 public:
  // `ledger` and `scans` must outlive this service.
  ResolverService(const ledger::Ledger& ledger, qrcode::ScanStore& scans, ResolverOptions options);
  ~ResolverService();
  ResolverService(const ResolverService&) = delete;
  ResolverService& operator=(const ResolverService&) = delete;

  // Adds the resolver and PIN routes. REQUIRES: before server.Start().
  void Register(HttpServer& server);

  HttpResponse Resolve(const HttpRequest& request);
  HttpResponse Preflight(const HttpRequest& request) const;
  HttpResponse CheckPin(const HttpRequest& request);

  // Scans recorded since start (for /metrics).
  uint64_t scans_recorded() const { return scans_recorded_.load(std::memory_order_relaxed); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> scans_recorded_{0};
};

// The coarse region of a client address: "N4-" and the first two bytes of
// an IPv4 address in hex, "N6-" and the first four of an IPv6 one (an
// IPv4-mapped IPv6 address counts as IPv4); "" when it does not parse.
std::string NetworkRegion(std::string_view address);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_RESOLVER_SERVICE_H_
