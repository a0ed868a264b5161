// Complaint intake over HTTP (issue 6, item 5):
//   POST /v1/complaints        file a complaint (JSON, api/complaint_store.h)
//                              → 202 {"complaint":id,"status":"received","complaint_sha256":…}
//   GET  /v1/complaints/{id}   its public, non-personal view
//
// Errors: 400 invalid_complaint (with "field"), 413 body_too_large,
// 415 unsupported_media_type, 422 unknown_merchant / unknown_code (the
// ledger holds no such party or code), 400 bad_request (malformed id),
// 404 not_found, 503 unavailable (a store failed).
//
// A complaint's status comes from the ledger: "received" until a
// credit_event whose body.reference is the complaint id and whose
// body.event is complaint_upheld or complaint_dismissed exists, then
// "upheld" or "dismissed" (the last such record wins). The service finds
// those records by reading the log incrementally (only entries appended
// since its last look), so a lookup costs O(new entries).
#ifndef TRACELEDGER_API_COMPLAINT_SERVICE_H_
#define TRACELEDGER_API_COMPLAINT_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/complaint_store.h"
#include "api/http.h"
#include "ledger/ledger.h"

namespace traceledger::api {

struct ComplaintDecision {
  std::string status;            // "upheld" or "dismissed"
  std::string record;            // id of the deciding credit_event
  std::string complaint_sha256;  // as the record states it ("" when absent)
};

// The regulators' decisions on complaints, read from the log.
class ComplaintDecisions {
 public:
  explicit ComplaintDecisions(const ledger::Ledger& ledger) : ledger_(ledger) {}
  // Reads entries appended since the last call, then answers. nullopt:
  // undecided.
  std::optional<ComplaintDecision> Find(const std::string& complaint_id);

 private:
  const ledger::Ledger& ledger_;
  std::mutex mu_;
  uint64_t scanned_ = 0;                                 // GUARDED_BY(mu_)
  std::map<std::string, ComplaintDecision> decisions_;  // GUARDED_BY(mu_)
};

struct ComplaintServiceOptions {
  size_t max_body_bytes = 16 * 1024;
  std::function<int64_t()> now_s;  // default: the system clock
};

class ComplaintService {
 public:
  // REQUIRES: store and ledger outlive the service.
  ComplaintService(ComplaintStore& store, const ledger::Ledger& ledger, ComplaintServiceOptions options = {});

  void Register(HttpServer& server);
  HttpResponse File(const HttpRequest& request);
  HttpResponse Show(const HttpRequest& request);

  // "received", "upheld" or "dismissed".
  std::string Status(const std::string& complaint_id);

 private:
  ComplaintStore& store_;
  const ledger::Ledger& ledger_;
  ComplaintServiceOptions options_;
  ComplaintDecisions decisions_;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_COMPLAINT_SERVICE_H_
