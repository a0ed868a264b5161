#include "api/complaint_service.h"

#include <chrono>

#include "chain/hash.h"
#include "ledger/canonical_json.h"
#include "ledger/record.h"

namespace traceledger::api {
namespace {

using ledger::Json;

HttpResponse JsonBody(const Json& body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump() + "\n";
  return r;
}

HttpResponse FieldError(int status, std::string_view code, const std::string& field, const std::string& message) {
  Json error = {{"code", code}, {"message", field + ": " + message}, {"field", field}};
  return JsonBody(Json{{"error", error}}, status);
}

HttpResponse StoreFailure(const ComplaintError& e) { return JsonError(503, "unavailable", e.message); }

int64_t SystemNowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::optional<ComplaintDecision> ComplaintDecisions::Find(const std::string& complaint_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto tip = ledger_.tip();
  const uint64_t size = tip ? tip->frontier.size() : 0;
  if (size > scanned_) {
    auto scan = ledger_.store().ScanEntries(scanned_, size - scanned_, [this](uint64_t, std::string_view entry) {
      // Cheap filter first: most entries are not credit events.
      if (entry.find("\"credit_event\"") == std::string_view::npos) return true;
      auto record = ledger::ParseRecord(entry);
      if (!record.ok() || record->kind != ledger::RecordKind::kCreditEvent) return true;
      std::string event(record->Str("event"));
      std::string reference(record->Str("reference"));
      if (reference.empty()) return true;
      if (event != "complaint_upheld" && event != "complaint_dismissed") return true;
      decisions_[reference] = ComplaintDecision{event == "complaint_upheld" ? "upheld" : "dismissed",
                                                record->IdHex(), std::string(record->Str("complaint_sha256"))};
      return true;
    });
    // On a read failure keep what we have and retry the rest next time.
    if (scan.ok()) scanned_ = size;
  }
  auto it = decisions_.find(complaint_id);
  if (it == decisions_.end()) return std::nullopt;
  return it->second;
}

ComplaintService::ComplaintService(ComplaintStore& store, const ledger::Ledger& ledger,
                                   ComplaintServiceOptions options)
    : store_(store), ledger_(ledger), options_(std::move(options)), decisions_(ledger) {
  if (!options_.now_s) options_.now_s = SystemNowS;
}

void ComplaintService::Register(HttpServer& server) {
  server.Route("POST", "/v1/complaints", [this](const HttpRequest& r) { return File(r); });
  server.Route("GET", "/v1/complaints/{id}", [this](const HttpRequest& r) { return Show(r); });
}

HttpResponse ComplaintService::File(const HttpRequest& request) {
  if (request.body.size() > options_.max_body_bytes) {
    return JsonError(413, "body_too_large",
                     "body: " + std::to_string(request.body.size()) + " bytes, at most " +
                         std::to_string(options_.max_body_bytes) + " for a complaint");
  }
  std::string type = request.Header("Content-Type");
  if (!type.empty() && !type.starts_with("application/json")) {
    return JsonError(415, "unsupported_media_type", "Content-Type: send application/json, not " + type);
  }
  auto input = ParseComplaintJson(request.body);
  if (!input.ok()) return FieldError(400, "invalid_complaint", input.error().field, input.error().message);
  if (!input->merchant.empty()) {
    auto party = ledger_.GetParty(input->merchant);
    if (!party.ok()) return JsonError(503, "unavailable", party.error().message);
    if (!party->has_value()) {
      return FieldError(422, "unknown_merchant", "merchant", "no party \"" + input->merchant + "\" on the ledger");
    }
  }
  if (!input->code.empty()) {
    auto ref = ParseCodeUri(input->code);
    auto issued = ledger_.GetCode(ref->gtin, ref->serial);
    if (!issued.ok()) return JsonError(503, "unavailable", issued.error().message);
    if (!issued->has_value() || (*issued)->lot() != ref->lot) {
      return FieldError(422, "unknown_code", "code", "no such code was issued on the ledger");
    }
  }
  auto filed = store_.File(*input, options_.now_s());
  if (!filed.ok()) return StoreFailure(filed.error());
  return JsonBody(
      Json{{"complaint", filed->id}, {"status", "received"}, {"complaint_sha256", filed->complaint_sha256}}, 202);
}

std::string ComplaintService::Status(const std::string& complaint_id) {
  auto d = decisions_.Find(complaint_id);
  return d ? d->status : "received";
}

HttpResponse ComplaintService::Show(const HttpRequest& request) {
  const std::string& id = request.path_params.at("id");
  if (!IsComplaintId(id)) return JsonError(400, "bad_request", "id: \"" + id + "\" is not 32 lowercase hex digits");
  auto c = store_.Get(id);
  if (!c.ok()) return StoreFailure(c.error());
  if (!c->has_value()) return JsonError(404, "not_found", "no complaint " + id);
  const Complaint& k = **c;
  Json body = {{"complaint", k.id},
               {"category", k.category},
               {"filed_at", k.filed_at},
               {"complaint_sha256", k.complaint_sha256},
               {"merchant", k.merchant.empty() ? Json(nullptr) : Json(k.merchant)},
               {"code", k.code.empty() ? Json(nullptr) : Json(k.code)}};
  auto d = decisions_.Find(id);
  body["status"] = d ? d->status : "received";
  if (d) {
    Json decision = {{"record", d->record}};
    if (!d->complaint_sha256.empty()) decision["complaint_sha256_matches"] = d->complaint_sha256 == k.complaint_sha256;
    body["decision"] = decision;
  }
  return JsonBody(body);
}

}  // namespace traceledger::api
