#include "api/credit_service.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <variant>

#include "chain/hash.h"
#include "ledger/credit_report.h"

namespace traceledger::api {
namespace {

using ledger::Json;

bool IsPartyId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '.' || c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

// The disclosure category (PRODUCT.md: subject, business, regulatory,
// service, reward/punishment, complaint) of a scored fact.
std::string_view CategoryOf(std::string_view fact) {
  if (fact == "registered" || fact == "licence_valid" || fact == "associated_black_listed") return "subject";
  if (fact == "shipment_registered" || fact == "customs_released") return "business";
  if (fact == "inspection_conformant" || fact == "lot_recall_voluntary") return "service";
  if (fact == "complaint_upheld" || fact == "complaint_dismissed") return "complaint";
  if (fact == "reward" || fact == "black_list" || fact == "credit_repair" || fact.starts_with("penalty_")) {
    return "reward_punishment";
  }
  return "regulatory";
}

std::string Str(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  return j.dump();
}

}  // namespace

CreditService::CreditService(const ledger::Ledger& ledger, ledger::CreditBook& book,
                             CreditServiceOptions options)
    : ledger_(ledger), book_(book), options_(std::move(options)) {}

void CreditService::Register(HttpServer& server) {
  // Lists first: "/v1/credit/lists/red" would otherwise read as the history
  // of a merchant called "lists".
  server.Route("GET", "/v1/credit/lists/{list}", [this](const HttpRequest& r) { return List(r); });
  server.Route("GET", "/v1/credit/{merchant}", [this](const HttpRequest& r) { return Profile(r); });
  server.Route("GET", "/v1/credit/{merchant}/history", [this](const HttpRequest& r) { return History(r); });
  server.Route("GET", "/v1/credit/{merchant}/report", [this](const HttpRequest& r) { return Report(r); });
}

std::optional<HttpResponse> CreditService::Refresh() const {
  auto r = book_.CatchUp(ledger_);
  if (!r.ok()) return JsonError(500, "ledger_unreadable", r.error().message);
  return std::nullopt;
}

namespace {

// The merchant path parameter and the optional ?height, checked; or the
// error response.
struct Subject {
  std::string merchant;
  std::optional<uint64_t> height;
};

std::variant<Subject, HttpResponse> ParseSubject(const HttpRequest& r, const ledger::CreditBook& book,
                                                 bool with_merchant) {
  Subject s;
  if (with_merchant) {
    auto it = r.path_params.find("merchant");
    s.merchant = it == r.path_params.end() ? std::string() : it->second;
    if (!IsPartyId(s.merchant)) {
      return JsonError(400, "invalid_merchant",
                       "merchant: \"" + s.merchant + "\" is not a party id ([a-z0-9][a-z0-9._-]*, 1..64)");
    }
  }
  if (auto h = r.Query("height")) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
    if (h->empty() || ec != std::errc() || end != h->data() + h->size()) {
      return JsonError(400, "invalid_height", "height: \"" + *h + "\" is not a block height");
    }
    if (v >= book.next_height()) {
      return JsonError(404, "unknown_height", "height: " + *h + " is above the tip");
    }
    s.height = v;
  }
  return s;
}

HttpResponse NotRated(const std::string& merchant) {
  return JsonError(
      404, "not_rated",
      "no merchant \"" + merchant + "\" is rated at that height (unregistered, or not a merchant)");
}

}  // namespace

HttpResponse CreditService::Profile(const HttpRequest& request) const {
  if (auto err = Refresh()) return *err;
  auto parsed = ParseSubject(request, book_, /*with_merchant=*/true);
  if (auto* resp = std::get_if<HttpResponse>(&parsed)) return *resp;
  const Subject& s = std::get<Subject>(parsed);
  auto e = book_.Evaluate(s.merchant, s.height);
  if (!e) return NotRated(s.merchant);
  Json out = ledger::EvaluationToJson(*e);
  Json subject = {{"party", e->merchant}};
  auto party = ledger_.GetParty(e->merchant);
  if (!party.ok()) return JsonError(500, "ledger_unreadable", party.error().message);
  if (party->has_value()) {
    const Json& body = (*party)->record.body;
    for (const char* k : {"name", "country", "licence_sha256", "licence_expiry", "legal_representative",
                          "controlling_party"}) {
      if (body.contains(k)) subject[k] = body[k];
    }
    subject["registration"] = (*party)->record.IdHex();
    subject["registered_at_height"] = (*party)->height;
  }
  subject["associated_black_listed"] = e->associated;
  Json disclosure = {
      {"subject", subject},       {"business", Json::array()},          {"regulatory", Json::array()},
      {"service", Json::array()}, {"reward_punishment", Json::array()}, {"complaint", Json::array()}};
  for (const auto& c : out["contributions"]) {
    std::string_view category = CategoryOf(c["fact"].get<std::string>());
    if (category == "subject") continue;  // the subject object shows these
    disclosure[std::string(category)].push_back(c);
  }
  disclosure["reward_punishment_listings"] = out["listings"];
  out["disclosure"] = std::move(disclosure);
  return JsonOk(out.dump());
}

HttpResponse CreditService::History(const HttpRequest& request) const {
  if (auto err = Refresh()) return *err;
  auto parsed = ParseSubject(request, book_, /*with_merchant=*/true);
  if (auto* resp = std::get_if<HttpResponse>(&parsed)) return *resp;
  const Subject& s = std::get<Subject>(parsed);
  if (!book_.Evaluate(s.merchant)) return NotRated(s.merchant);
  return JsonOk(
      Json{{"merchant", s.merchant}, {"history", ledger::HistoryToJson(book_.History(s.merchant))}}.dump());
}

HttpResponse CreditService::List(const HttpRequest& request) const {
  if (auto err = Refresh()) return *err;
  auto it = request.path_params.find("list");
  const std::string list = it == request.path_params.end() ? std::string() : it->second;
  if (list != "red" && list != "black") {
    return JsonError(404, "unknown_list", "list: \"" + list + "\" is neither red nor black");
  }
  auto parsed = ParseSubject(request, book_, /*with_merchant=*/false);
  if (auto* resp = std::get_if<HttpResponse>(&parsed)) return *resp;
  const Subject& s = std::get<Subject>(parsed);
  const uint64_t next = book_.next_height();
  if (next == 0) return JsonOk(Json{{"list", list}, {"merchants", Json::array()}}.dump());
  const uint64_t height = s.height.value_or(next - 1);
  auto entries = list == "red" ? book_.RedList(height) : book_.BlackList(height);
  return JsonOk(Json{{"list", list},
                     {"height", height},
                     {"as_of", book_.DateOf(height)},
                     {"merchants", ledger::ListToJson(entries)}}
                    .dump());
}

HttpResponse CreditService::Report(const HttpRequest& request) const {
  if (auto err = Refresh()) return *err;
  auto parsed = ParseSubject(request, book_, /*with_merchant=*/true);
  if (auto* resp = std::get_if<HttpResponse>(&parsed)) return *resp;
  const Subject& s = std::get<Subject>(parsed);
  if (!options_.signer) {
    return JsonError(503, "no_signer", "this node does not hold the operator key and cannot sign reports");
  }
  auto e = book_.Evaluate(s.merchant, s.height);
  if (!e) return NotRated(s.merchant);
  auto block = ledger_.GetBlock(e->height);
  if (!block.ok()) return JsonError(500, "ledger_unreadable", block.error().message);
  if (!block->has_value())
    return JsonError(500, "ledger_unreadable", "block " + std::to_string(e->height) + " is missing");
  std::vector<ledger::CreditHistoryEntry> history;
  for (const auto& h : book_.History(s.merchant)) {
    if (h.height <= e->height) history.push_back(h);
  }
  Json report = ledger::SignCreditReport(
      ledger::CreditReportBody(*e, history, (*block)->header, options_.signer->Public()), *options_.signer);
  HttpResponse resp;
  if (PrefersHtml(request.Header("Accept"))) {
    resp.content_type = "text/html; charset=utf-8";
    resp.body = CreditReportHtml(report);
  } else {
    resp.body = ledger::CanonicalJson(report);
  }
  resp.SetHeader("Vary", "Accept");
  resp.SetHeader("Cache-Control", "no-store");
  return resp;
}

CreditLookup MakeCreditLookup(const ledger::CreditBook& book) {
  return [&book](std::string_view merchant) -> std::optional<CreditSummary> {
    auto e = book.Evaluate(merchant);
    if (!e) return std::nullopt;
    return CreditSummary{.grade = std::string(ledger::GradeName(e->grade)),
                         .list = e->list,
                         .score = e->score,
                         .policy_version = e->policy_version,
                         .as_of_height = e->height};
  };
}

CreditLookup MakeCreditLookup(const ledger::Ledger& ledger, ledger::CreditBook& book) {
  CreditLookup inner = MakeCreditLookup(book);
  return [&ledger, &book, inner](std::string_view merchant) {
    (void)book.CatchUp(ledger);  // on a read failure, answer from what the book has
    return inner(merchant);
  };
}

CreditFollower::CreditFollower(const ledger::Ledger& ledger, ledger::CreditBook& book, int interval_ms)
    : ledger_(ledger), book_(book), interval_ms_(interval_ms) {
  thread_ = std::thread([this] {
    // Credit is background work: lower this thread's priority only (on
    // Linux a thread id is a process id for setpriority). Failure is fine.
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      const auto start = std::chrono::steady_clock::now();
      (void)book_.CatchUp(ledger_);  // a failed read is retried on the next round
      busy_us_ +=
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
              .count();
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stop_; });
    }
  });
}

CreditFollower::~CreditFollower() { Stop(); }

void CreditFollower::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string CreditReportHtml(const Json& report) {
  const Json& e = report["evaluation"];
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  h += "<title>Credit report: " + HtmlEscape(Str(e["merchant"])) + "</title>";
  h += "<style>body{font-family:sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:1em 0}"
       "td,th{border:1px solid #999;padding:.25em .5em;text-align:left;font-size:.9em}"
       "pre{white-space:pre-wrap;word-break:break-all;font-size:.75em;border:1px solid #ccc;padding:.5em}"
       ".grade{font-size:2em;font-weight:bold}@media print{pre{font-size:.6em}}</style></head><body>\n";
  h += "<h1>Merchant credit report</h1>\n";
  h += "<p>Merchant <b>" + HtmlEscape(Str(e["merchant"])) + "</b> &mdash; grade <span class=\"grade\">" +
      HtmlEscape(Str(e["grade"])) + "</span> (score " + HtmlEscape(Str(e["score"])) + ", policy version " +
      HtmlEscape(Str(e["policy_version"])) +
       "), list: " + HtmlEscape(e["list"].get<std::string>().empty() ? std::string("none") : Str(e["list"])) +
       "</p>\n";
  h += "<p>As of " + HtmlEscape(Str(e["as_of"])) + ", ledger height " + HtmlEscape(Str(report["block"]["height"])) +
       ", block " + HtmlEscape(Str(report["block"]["hash"])) + "</p>\n";
  h += "<h2>Dimensions</h2><table><tr><th>dimension</th><th>score</th></tr>";
  for (const auto& [name, value] : e["dimensions"].items()) {
    h += "<tr><td>" + HtmlEscape(name) + "</td><td>" + HtmlEscape(Str(value)) + "</td></tr>";
  }
  h += "</table>\n";
  if (!e["caps"].empty()) {
    h += "<h2>Grade caps</h2><ul>";
    for (const auto& c : e["caps"]) h += "<li>" + HtmlEscape(Str(c)) + "</li>";
    h += "</ul>\n";
  }
  h += "<h2>Records behind the "
       "grade</h2><table><tr><th>record</th><th>kind</th><th>fact</th><th>dimension</th>"
       "<th>points</th><th>date</th><th>counted</th><th>note</th></tr>";
  for (const auto& c : e["contributions"]) {
    h += "<tr><td>" + HtmlEscape(Str(c["record"]).substr(0, 16)) + "&hellip;</td><td>" + HtmlEscape(Str(c["kind"])) +
         "</td><td>" + HtmlEscape(Str(c["fact"])) + "</td><td>" + HtmlEscape(Str(c["dimension"])) + "</td><td>" +
        HtmlEscape(Str(c["points"])) + "</td><td>" + HtmlEscape(Str(c["date"])) + "</td><td>" +
         (c["counted"].get<bool>() ? "yes" : "no") + "</td><td>" +
        HtmlEscape(c.contains("note") ? Str(c["note"]) : std::string()) + "</td></tr>";
  }
  h += "</table>\n<h2>Grade history</h2><table><tr><th>height</th><th>date</th><th>grade</th><th>list</th>"
       "<th>score</th></tr>";
  for (const auto& entry : report["history"]) {
    h += "<tr><td>" + HtmlEscape(Str(entry["height"])) + "</td><td>" + HtmlEscape(Str(entry["date"])) + "</td><td>" +
        HtmlEscape(Str(entry["grade"])) + "</td><td>" + HtmlEscape(Str(entry["list"])) + "</td><td>" +
        HtmlEscape(Str(entry["score"])) + "</td></tr>";
  }
  h += "</table>\n<h2>Signature</h2><p>Signed by operator key <code>" + HtmlEscape(Str(report["operator_key"])) +
       "</code>. Verify offline: save the JSON below as a file and run <code>tracectl credit verify-report "
       "FILE "
       "--operator-key KEY</code>.</p>\n<pre>" +
      HtmlEscape(ledger::CanonicalJson(report)) + "</pre>\n</body></html>\n";
  return h;
}

}  // namespace traceledger::api
