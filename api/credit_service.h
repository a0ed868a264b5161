// Merchant credit over HTTP (docs/API.md, "Merchant credit"): the public
// disclosure of grades, lists and signed reports, over a CreditBook that
// follows the ledger.
//
// Routes:
//   GET /v1/credit/lists/{red|black}   the list at the tip (?height=H)
//   GET /v1/credit/{merchant}          profile: grade, list, dimensions, the
//                                      six disclosure categories and the
//                                      records behind the grade (?height=H)
//   GET /v1/credit/{merchant}/history  grade over time
//   GET /v1/credit/{merchant}/report   signed report (JSON); printable HTML
//                                      when the client prefers text/html
// Errors: 400 invalid_merchant / invalid_height, 404 not_rated /
// unknown_height / unknown_list, 503 no_signer (report on a node without
// the operator key), 500 ledger_unreadable.
//
// Handlers are plain functions of HttpRequest; thread-safe.
#ifndef TRACELEDGER_API_CREDIT_SERVICE_H_
#define TRACELEDGER_API_CREDIT_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/credit_view.h"
#include "api/http.h"
#include "ledger/credit.h"
#include "ledger/ledger.h"
#include "wallet/key.h"

namespace traceledger::api {

struct CreditServiceOptions {
  // The operator key that signs reports; without it /report answers 503.
  std::optional<wallet::SecretKey> signer;
};

class CreditService {
 public:
  // `book` is brought up to the ledger's tip before each answer (cheap
  // when a CreditFollower keeps it current). Both must outlive the service.
  CreditService(const ledger::Ledger& ledger, ledger::CreditBook& book, CreditServiceOptions options);

  // REQUIRES: before server.Start().
  void Register(HttpServer& server);

  HttpResponse Profile(const HttpRequest& request) const;
  HttpResponse History(const HttpRequest& request) const;
  HttpResponse List(const HttpRequest& request) const;
  HttpResponse Report(const HttpRequest& request) const;

 private:
  // Catches the book up; an error response when the ledger cannot be read.
  std::optional<HttpResponse> Refresh() const;

  const ledger::Ledger& ledger_;
  ledger::CreditBook& book_;
  CreditServiceOptions options_;
};

// The CreditLookup the consumer page and customs views take: the grade at
// the book's last block. Thread-safe; the book must outlive it.
CreditLookup MakeCreditLookup(const ledger::CreditBook& book);
// Same, bringing the book up to the ledger's tip first (cheap when it is
// current), for a node without a CreditFollower. Both must outlive it.
CreditLookup MakeCreditLookup(const ledger::Ledger& ledger, ledger::CreditBook& book);

// Keeps a book at the ledger's tip from a background thread, polling every
// `interval_ms`; ingest never waits for it, and the thread runs at a lower
// scheduling priority (nice +10) so that it yields the cores to ingest.
// Stops on destruction.
class CreditFollower {
 public:
  CreditFollower(const ledger::Ledger& ledger, ledger::CreditBook& book, int interval_ms = 100);
  ~CreditFollower();
  CreditFollower(const CreditFollower&) = delete;
  CreditFollower& operator=(const CreditFollower&) = delete;
  void Stop();
  // Wall time spent catching up so far, in seconds.
  double busy_seconds() const { return static_cast<double>(busy_us_.load()) / 1e6; }

 private:
  const ledger::Ledger& ledger_;
  ledger::CreditBook& book_;
  int interval_ms_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::atomic<int64_t> busy_us_{0};
  std::thread thread_;
};

// The report as a printable, self-contained HTML page (every value escaped;
// the signed JSON is embedded verbatim for offline verification).
std::string CreditReportHtml(const ledger::Json& report);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_CREDIT_SERVICE_H_
