// The customs and writers' HTTP service: ledger reads of lots and
// shipments, a writer's own data, shipment provenance with risk flags,
// batch verification of scanned codes and of photos, and EPCIS export.
// Writes stay POST /v1/records (api/node_service.h): every write is a
// signed record, customs clearance decisions included.
//
// Routes (docs/API.md, "Customs and writers"):
//   GET  /v1/lots/{gtin}/{lot}                 the lot record and its history
//   GET  /v1/lots/{gtin}/{lot}/epcis           EPCIS 2.0 JSON-LD (application/ld+json)
//   GET  /v1/shipments/{shipment}              the shipment record and its history
//   GET  /v1/shipments/{shipment}/epcis        EPCIS 2.0 JSON-LD
//   GET  /v1/shipments/{shipment}/provenance   JSON, or HTML when text/html is preferred
//   GET  /v1/parties/{party}                   registration, roles, keys
//   GET  /v1/parties/{party}/{products|lots|shipments|codes}?after=&limit=
//   POST /v1/verify                            {"codes":[…]} (at most max_codes)
//   POST /v1/verify/images                     multipart/form-data photos, or one raw image/* body
//
// Handlers take an HttpRequest and return an HttpResponse; thread-safe.
#ifndef TRACELEDGER_API_CUSTOMS_SERVICE_H_
#define TRACELEDGER_API_CUSTOMS_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/credit_view.h"
#include "api/http.h"
#include "api/risk.h"
#include "ledger/ledger.h"
#include "util/thread_pool.h"

namespace traceledger::qrcode {
class LedgerIssuerLookup;
class LedgerStatusLookup;
struct VerifyResult;
}  // namespace traceledger::qrcode

namespace traceledger::api {

struct CustomsOptions {
  // The merchant's credit for provenance and risk flags; unset or nullopt:
  // "not rated", and no credit flag.
  CreditLookup credit;
  // Clone incidents per lot (the scan store); unset: not checked.
  CloneIncidentLookup clone_incidents;
  size_t max_codes = 10'000;        // codes per POST /v1/verify
  size_t max_images = 16;           // images per POST /v1/verify/images
  size_t default_page = 50;         // items per page of a party listing
  size_t max_page = 200;            // ?limit= above this is capped to it
  size_t verify_threads = 0;        // 0: one per core
  std::string ledger_url;           // EPCIS tl:record base; "" leaves it out
  std::function<int64_t()> clock_s;  // EPCIS creationDate; default: system clock
};

class CustomsService {
 public:
  CustomsService(const ledger::Ledger& ledger, CustomsOptions options);
  ~CustomsService();
  CustomsService(const CustomsService&) = delete;
  CustomsService& operator=(const CustomsService&) = delete;

  // Adds every route. REQUIRES: before server.Start(); outlives the server's use.
  void Register(HttpServer& server);

  HttpResponse Lot(const HttpRequest& request) const;
  HttpResponse LotEpcis(const HttpRequest& request) const;
  HttpResponse Shipment(const HttpRequest& request) const;
  HttpResponse ShipmentEpcis(const HttpRequest& request) const;
  HttpResponse Provenance(const HttpRequest& request) const;
  HttpResponse Party(const HttpRequest& request) const;
  HttpResponse PartyOwned(const HttpRequest& request) const;
  HttpResponse Verify(const HttpRequest& request);
  HttpResponse VerifyImages(const HttpRequest& request);

  // Verifies every text, in parallel on the service's pool; results in
  // input order, as qrcode::VerifyCode with the ledger's lookups gives
  // them. Statuses are looked up grouped by the code_issuance part that
  // lists the code, so each part is read and parsed once per call rather
  // than once per code. Counts into codes_verified().
  std::vector<qrcode::VerifyResult> VerifyTexts(const std::vector<std::string_view>& texts);

  // Codes answered by both verify routes since start (for /metrics).
  uint64_t codes_verified() const { return codes_verified_.load(std::memory_order_relaxed); }

 private:
  HttpResponse Epcis(const std::vector<ledger::StoredRecord>& history) const;

  const ledger::Ledger& ledger_;
  CustomsOptions options_;
  std::unique_ptr<qrcode::LedgerIssuerLookup> issuers_;  // its GTIN owners are cached for good
  std::unique_ptr<qrcode::LedgerStatusLookup> statuses_;
  std::unique_ptr<ThreadPool> pool_;
  std::atomic<uint64_t> codes_verified_{0};
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_CUSTOMS_SERVICE_H_
