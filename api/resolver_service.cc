#include "api/resolver_service.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "api/resolver_page.h"
#include "ledger/epcis.h"
#include "qrcode/code.h"
#include "qrcode/ledger_lookup.h"
#include "qrcode/verify.h"
#include "util/encoding.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using ledger::StoredRecord;

// A ledger read that failed while building a view (answered 503).
struct Failure {
  std::string message;
};
template <typename T>
using Fallible = Result<T, Failure>;

// "2026-11-21T10:00:00Z".
std::string IsoTime(int64_t unix_s) { return ledger::Rfc3339Utc(unix_s); }

// A map that forgets everything when full: the values are cheap to
// recompute, and a bound matters more than a hit rate under a flood of
// distinct keys.
template <typename V>
class Cache {
 public:
  explicit Cache(size_t max) : max_(max) {}
  std::optional<V> Get(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const std::string& key, V value) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= max_) map_.clear();
    map_.insert_or_assign(key, std::move(value));
  }

 private:
  size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, V> map_;  // GUARDED_BY(mu_)
};

// Issuer keys cached per ledger height (a key can be revoked, so an entry
// is good only while nothing was appended); GTIN owners through
// LedgerIssuerLookup, which caches them for good.
class CachedIssuerLookup : public qrcode::IssuerLookup {
 public:
  CachedIssuerLookup(const ledger::Ledger& ledger, size_t max) : ledger_(ledger), base_(ledger), keys_(max) {}

  Result<std::optional<qrcode::IssuerKey>, std::string> FindKey(std::string_view key_id) const override {
    const uint64_t height = Height();
    const std::string id(key_id);
    if (auto hit = keys_.Get(id); hit && hit->first == height) return hit->second;
    auto found = base_.FindKey(key_id);
    if (found.ok()) keys_.Put(id, {height, *found});
    return found;
  }
  bool KnowsOwners() const override { return true; }
  Result<std::optional<std::string>, std::string> GtinOwner(std::string_view gtin14) const override {
    return base_.GtinOwner(gtin14);
  }
  uint64_t Height() const {
    auto tip = ledger_.tip();
    return tip ? tip->height + 1 : 0;
  }

 private:
  const ledger::Ledger& ledger_;
  qrcode::LedgerIssuerLookup base_;
  mutable Cache<std::pair<uint64_t, std::optional<qrcode::IssuerKey>>> keys_;
};

// The request target without lang= parameters.
std::string WithoutLang(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q));
  std::string_view query = target.substr(q + 1);
  char sep = '?';
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param == "lang" || param.starts_with("lang=")) continue;
    out += sep;
    out += param;
    sep = '&';
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded → the first value of each name.
std::unordered_map<std::string, std::string> ParseForm(std::string_view body) {
  auto decode = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '+') {
        out += ' ';
      } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
        out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
        i += 2;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  std::unordered_map<std::string, std::string> out;
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    size_t eq = pair.find('=');
    out.emplace(decode(pair.substr(0, eq)), eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1)));
  }
  return out;
}

// The path of a code on this resolver: "/01/…/10/…/21/…?91=…&92=…".
std::string CodePath(const qrcode::Code& code) {
  qrcode::Code local = code;
  local.resolver = "x";
  std::string text = qrcode::FormatCode(local);
  return text.substr(std::string_view("https://x").size());
}

void Decorate(HttpResponse& r) {
  r.SetHeader("Vary", "Accept, Accept-Language");
  r.SetHeader("Access-Control-Allow-Origin", "*");
  r.SetHeader("Cache-Control", "no-store");
}

HttpResponse Html(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(body);
  return r;
}

HttpResponse JsonDoc(int status, const Json& doc) {
  return JsonOk(doc.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n", status);
}

Json ErrorJson(std::string_view code, std::string_view message) {
  return Json{{"code", code}, {"message", message}};
}

}  // namespace

std::string NetworkRegion(std::string_view address) {
  std::string text(address);
  unsigned char bytes[16];
  char buf[32];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    std::snprintf(buf, sizeof buf, "N4-%02X%02X", bytes[0], bytes[1]);
    return buf;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, bytes)) {
      std::snprintf(buf, sizeof buf, "N4-%02X%02X", bytes[12], bytes[13]);
    } else {
      std::snprintf(buf, sizeof buf, "N6-%02X%02X%02X%02X", bytes[0], bytes[1], bytes[2], bytes[3]);
    }
    return buf;
  }
  return "";
}

struct ResolverService::Impl {
  Impl(const ledger::Ledger& l, qrcode::ScanStore& s, ResolverOptions o)
      : ledger(l),
        scans(s),
        options(std::move(o)),
        issuers(l, options.max_cached),
        statuses(l),
        scan_limiter(options.scan_limit),
        pin_limiter(options.pin_limit),
        products(options.max_cached),
        party_names(options.max_cached),
        key_parties(options.max_cached),
        lots(options.max_cached) {
    if (!options.clock_s) {
      options.clock_s = [] {
        return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
      };
    }
    if (!options.monotonic_s) options.monotonic_s = MonotonicSeconds;
  }

  const ledger::Ledger& ledger;
  qrcode::ScanStore& scans;
  ResolverOptions options;
  CachedIssuerLookup issuers;
  qrcode::LedgerStatusLookup statuses;
  RateLimiter scan_limiter;
  RateLimiter pin_limiter;
  // Immutable facts: cached for good.
  Cache<std::shared_ptr<const Json>> products;  // gtin → product body (null Json: none)
  Cache<std::string> party_names;               // party → name
  Cache<std::string> key_parties;               // key id → party
  // Per (gtin, lot): the view and the height it was computed at.
  Cache<std::pair<uint64_t, std::shared_ptr<const Json>>> lots;

  std::string Host(const HttpRequest& req) const {
    std::string host = req.Header("Host");
    if (!host.empty() && !qrcode::ResolverProblem(host)) return host;
    return options.resolver;
  }

  std::string Region(const HttpRequest& req) const {
    if (!options.region_header.empty()) {
      std::string value = req.Header(options.region_header);
      for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!value.empty() && !qrcode::RegionProblem(value)) return value;
    }
    return NetworkRegion(req.remote_addr);
  }

  Fallible<std::shared_ptr<const Json>> Product(const std::string& gtin) {
    if (auto hit = products.Get(gtin)) return *hit;
    auto found = ledger.GetProduct(gtin);
    if (!found.ok()) return Failure{found.error().message};
    auto view = std::make_shared<const Json>(found->has_value() ? (*found)->record.body : Json());
    products.Put(gtin, view);
    return view;
  }

  Fallible<std::string> PartyName(const std::string& party) {
    if (party.empty()) return std::string();
    if (auto hit = party_names.Get(party)) return *hit;
    auto found = ledger.GetParty(party);
    if (!found.ok()) return Failure{found.error().message};
    if (!found->has_value()) return std::string();  // not cached: it may be registered later
    std::string name((*found)->record.Str("name"));
    party_names.Put(party, name);
    return name;
  }

  Fallible<std::string> KeyParty(const std::string& key_id) {
    if (auto hit = key_parties.Get(key_id)) return *hit;
    auto found = ledger.GetKey(key_id);
    if (!found.ok()) return Failure{found.error().message};
    if (!found->has_value()) return std::string();
    key_parties.Put(key_id, (*found)->party);
    return (*found)->party;
  }

  // The author's party and its name, added to `out` as <prefix> and <prefix>_name.
  Fallible<bool> AddAuthor(const ledger::Record& r, const std::string& prefix, Json& out) {
    auto party = KeyParty(r.author);
    if (!party.ok()) return party.error();
    auto name = PartyName(*party);
    if (!name.ok()) return name.error();
    out[prefix] = *party;
    out[prefix + "_name"] = *name;
    return true;
  }

  Fallible<Json> Inspection(const StoredRecord& s, std::string_view subject) {
    const ledger::Record& r = s.record;
    Json i = {{"subject", subject},
              {"standard", r.Str("standard")},
              {"result", r.Str("result")},
              {"inspected_on", r.Str("inspected_on")},
              {"sample_size", r.body.value("sample_size", int64_t{0})},
              {"report_sha256", r.Str("report_sha256")},
              {"index", s.index}};
    if (subject == "shipment") i["shipment"] = r.Str("shipment");
    auto added = AddAuthor(r, "inspector", i);
    if (!added.ok()) return added.error();
    return i;
  }

  Fallible<Json> Shipment(const StoredRecord& s, Json& inspections) {
    const ledger::Record& r = s.record;
    const std::string id(r.Str("shipment"));
    Json out = {{"shipment", id},
                {"origin_country", r.Str("origin_country")},
                {"destination", r.Str("destination")},
                {"registered_at", IsoTime(r.time)},
                {"events", Json::array()}};
    if (!r.Str("declaration").empty()) out["declaration"] = r.Str("declaration");
    auto history = ledger.ShipmentHistory(id);
    if (!history.ok()) return Failure{history.error().message};
    for (const StoredRecord& h : *history) {
      const ledger::Record& e = h.record;
      if (e.kind == ledger::RecordKind::kCustody) {
        Json ev = {{"kind", "custody"},
                   {"from", e.Str("from")},
                   {"to", e.Str("to")},
                   {"location", e.Str("location")},
                   {"biz_step", e.Str("biz_step")},
                   {"at", IsoTime(e.time)},
                   {"index", h.index}};
        if (!e.Str("note").empty()) ev["note"] = e.Str("note");
        auto from = PartyName(std::string(e.Str("from")));
        auto to = PartyName(std::string(e.Str("to")));
        if (!from.ok()) return from.error();
        if (!to.ok()) return to.error();
        ev["from_name"] = *from;
        ev["to_name"] = *to;
        out["events"].push_back(std::move(ev));
      } else if (e.kind == ledger::RecordKind::kCustomsDecision) {
        Json ev = {{"kind", "customs_decision"}, {"decision", e.Str("decision")}, {"at", IsoTime(e.time)},
                   {"index", h.index}};
        if (!e.Str("reason").empty()) ev["reason"] = e.Str("reason");
        auto added = AddAuthor(e, "by", ev);
        if (!added.ok()) return added.error();
        out["events"].push_back(std::move(ev));
      } else if (e.kind == ledger::RecordKind::kInspection) {
        auto i = Inspection(h, "shipment");
        if (!i.ok()) return i.error();
        inspections.push_back(std::move(*i));
      }
    }
    return out;
  }

  // {"lot":{…},"inspections":[…],"custody":[…]} of a lot, as of now.
  Fallible<std::shared_ptr<const Json>> LotView(const std::string& gtin, const std::string& lot) {
    const uint64_t height = issuers.Height();
    const std::string key = gtin + lot;
    if (auto hit = lots.Get(key); hit && hit->first == height) return hit->second;
    auto history = ledger.LotHistory(gtin, lot);
    if (!history.ok()) return Failure{history.error().message};
    Json lot_view = Json();
    Json inspections = Json::array();
    Json custody = Json::array();
    Json recall = Json();
    for (const StoredRecord& s : *history) {
      const ledger::Record& r = s.record;
      switch (r.kind) {
        case ledger::RecordKind::kLot:
          lot_view = {{"lot", r.Str("lot")},
                      {"production_date", r.Str("production_date")},
                      {"quantity", r.body.value("quantity", int64_t{0})},
                      {"registered_at", IsoTime(r.time)}};
          if (!r.Str("expiry_date").empty()) lot_view["expiry_date"] = r.Str("expiry_date");
          break;
        case ledger::RecordKind::kInspection: {
          auto i = Inspection(s, "lot");
          if (!i.ok()) return i.error();
          inspections.push_back(std::move(*i));
          break;
        }
        case ledger::RecordKind::kShipment: {
          auto sh = Shipment(s, inspections);
          if (!sh.ok()) return sh.error();
          custody.push_back(std::move(*sh));
          break;
        }
        case ledger::RecordKind::kLotRecall:
          if (recall.is_null()) recall = {{"reason", r.Str("reason")}, {"at", IsoTime(r.time)}, {"index", s.index}};
          break;
        default:
          break;  // code_issuance, code_revocation: the code's status covers them
      }
    }
    if (lot_view.is_object()) lot_view["recall"] = recall;
    auto view = std::make_shared<const Json>(
        Json{{"lot", lot_view}, {"inspections", inspections}, {"custody", custody}});
    lots.Put(key, {height, view});
    return view;
  }

  Json CodeJson(const qrcode::VerifyResult& v) const {
    const qrcode::Code& c = *v.code;
    Json out = {{"text", qrcode::FormatCode(c)},
                {"gtin", c.gtin},
                {"lot", c.lot},
                {"serial", c.serial},
                {"key_id", c.key_id},
                {"resolver", c.resolver},
                {"signature", v.verdict == qrcode::Verdict::kGenuine ? "valid" : std::string(v.ReasonName())},
                {"status", qrcode::StatusName(v.status.status)}};
    if (!v.issuer.empty()) out["issuer"] = v.issuer;
    if (v.key_retired) out["key_retired"] = true;
    if (!v.status.message.empty()) out["status_message"] = v.status.message;
    return out;
  }

  // The 404 / not-genuine document of a code that parsed.
  Json NotGenuine(const qrcode::VerifyResult& v, bool unknown) const {
    const bool never_issued = v.status.status == qrcode::Status::kNeverIssued;
    const std::string reason = never_issued ? "never_issued" : std::string(v.ReasonName());
    const std::string message = never_issued ? v.status.message : v.message;
    Json doc = {{"verdict", "not_genuine"},
                {"reasons", Json::array({{{"code", reason}, {"message", message}}})},
                {"code", CodeJson(v)}};
    if (unknown) doc["error"] = ErrorJson("unknown_code", message);
    return doc;
  }

  // The document of a genuine, issued code; records the scan when `record`.
  Fallible<Json> Genuine(const qrcode::VerifyResult& v, const HttpRequest& req, bool record,
                         std::atomic<uint64_t>& recorded) {
    const qrcode::Code& c = *v.code;
    Json doc = {{"verdict", "genuine"}, {"code", CodeJson(v)}};
    Json reasons = Json::array({{{"code", v.ReasonName()}, {"message", v.message}},
                                {{"code", qrcode::StatusName(v.status.status)}, {"message", v.status.message}}});
    auto product = Product(c.gtin);
    if (!product.ok()) return product.error();
    doc["product"] = **product;
    auto lot = LotView(c.gtin, c.lot);
    if (!lot.ok()) return lot.error();
    doc["lot"] = (*lot)->at("lot");
    doc["inspections"] = (*lot)->at("inspections");
    doc["custody"] = (*lot)->at("custody");

    Json merchant = {{"party", v.issuer}};
    auto name = PartyName(v.issuer);
    if (!name.ok()) return name.error();
    merchant["name"] = *name;
    std::optional<CreditSummary> credit;
    if (options.credit) credit = options.credit(v.issuer);
    merchant["rated"] = credit.has_value();
    merchant["credit"] = credit ? Json{{"grade", credit->grade},
                                       {"list", credit->list},
                                       {"score", credit->score},
                                       {"policy_version", credit->policy_version},
                                       {"as_of_height", credit->as_of_height}}
                                : Json();
    doc["merchant"] = std::move(merchant);

    // Scan statistics: this scan recorded first, so the count includes it.
    const int64_t now = options.clock_s();
    std::optional<qrcode::ScanState> state;
    uint32_t flags = 0;
    std::string scan_error;
    if (record) {
      const std::string region = Region(req);
      std::optional<std::string_view> client;
      if (!req.remote_addr.empty()) client = req.remote_addr;
      auto outcome = scans.RecordScan(c.gtin, c.serial, now, region, client);
      if (outcome.ok()) {
        recorded.fetch_add(1, std::memory_order_relaxed);
        state = outcome->state;
        flags = outcome->flags;
      } else {
        scan_error = outcome.error().message;
      }
    } else {
      auto got = scans.Get(c.gtin, c.serial);
      if (got.ok()) {
        state = got->value_or(qrcode::ScanState{});
        flags = qrcode::CloneFlags(*state, scans.policy());
      } else {
        scan_error = got.error().message;
      }
    }
    Json warnings = Json::array();
    const qrcode::Status status = v.status.status;
    if (status == qrcode::Status::kRevoked) {
      warnings.push_back({{"code", "revoked"}, {"message", v.status.message}});
    }
    const Json& recall = doc["lot"].is_object() ? doc["lot"]["recall"] : Json();
    if (status == qrcode::Status::kLotRecalled || recall.is_object()) {
      Json w = {{"code", "recalled"}, {"message", "lot " + c.lot + " was recalled"}};
      if (recall.is_object()) w["reason"] = recall["reason"];
      warnings.push_back(std::move(w));
    }
    bool failed = status == qrcode::Status::kLotFailedInspection;
    for (const Json& i : doc["inspections"]) failed = failed || i.value("result", "") == "non_conformant";
    if (failed) {
      warnings.push_back({{"code", "failed_inspection"}, {"message", "lot " + c.lot + " failed an inspection"}});
    }
    if (state) {
      doc["scans"] = {{"count", state->scans},
                      {"regions", state->regions.size()},
                      {"first_scan", state->first_scan_s > 0 ? Json(IsoTime(state->first_scan_s)) : Json()},
                      {"recorded", record}};
      if (flags != 0) {
        const std::string since = IsoTime(state->first_scan_s);
        warnings.push_back({{"code", "clone_suspected"},
                            {"flags", qrcode::CloneFlagNames(flags)},
                            {"scans", state->scans},
                            {"regions", state->regions.size()},
                            {"since", since},
                            {"message", "scanned " + std::to_string(state->scans) + " times in " +
                                            std::to_string(state->regions.size()) + " regions since " + since}});
      }
      if (state->consumed) {
        warnings.push_back({{"code", "pin_used"},
                            {"consumed_at", IsoTime(state->consumed_s)},
                            {"message", "the one-time PIN was already used on " + IsoTime(state->consumed_s)}});
      }
    } else {
      doc["scans"] = {{"error", scan_error}, {"recorded", false}};
    }
    doc["pin"] = {{"has_pin", v.status.has_pin}, {"consumed", state && state->consumed}};
    for (const Json& w : warnings) reasons.push_back({{"code", w["code"]}, {"message", w["message"]}});
    doc["reasons"] = std::move(reasons);
    doc["warnings"] = std::move(warnings);
    if (status == qrcode::Status::kRevoked) {
      doc["verdict"] = "not_genuine";
    } else if (!doc["warnings"].empty()) {
      doc["verdict"] = "warning";
    }
    return doc;
  }

  // What the ledger committed for the code's PIN; nullopt when issued without.
  Fallible<std::optional<qrcode::PinCommitment>> Commitment(const qrcode::Code& c) const {
    auto issued = ledger.GetCode(c.gtin, c.serial);
    if (!issued.ok()) return Failure{issued.error().message};
    if (!issued->has_value()) return Failure{"serial " + c.serial + " was never issued"};
    const ledger::Record& part = (*issued)->issuance->record;
    if (!part.body.contains("pin_hashes")) return std::optional<qrcode::PinCommitment>();
    auto salt = HexDecode(part.Str("pin_salt"));
    const Json& hashes = part.body.at("pin_hashes");
    const size_t at = (*issued)->position;
    std::optional<std::vector<uint8_t>> hash;
    if (at < hashes.size() && hashes[at].is_string()) hash = HexDecode(hashes[at].get<std::string>());
    if (!salt || salt->size() != 16 || !hash || hash->size() != 16) {
      return Failure{"the code_issuance record holds no usable PIN commitment for this serial"};
    }
    qrcode::PinCommitment out;
    std::copy(salt->begin(), salt->end(), out.salt.begin());
    std::copy(hash->begin(), hash->end(), out.hash.begin());
    return std::optional<qrcode::PinCommitment>(out);
  }
};

ResolverService::ResolverService(const ledger::Ledger& ledger, qrcode::ScanStore& scans, ResolverOptions options)
    : impl_(std::make_unique<Impl>(ledger, scans, std::move(options))) {}

ResolverService::~ResolverService() = default;

void ResolverService::Register(HttpServer& server) {
  const std::string pattern = "/01/{gtin}/10/{lot}/21/{serial}";
  server.Route("GET", pattern, [this](const HttpRequest& r) { return Resolve(r); });
  server.Route("OPTIONS", pattern, [this](const HttpRequest& r) { return Preflight(r); });
  server.Route("POST", "/v1/pin", [this](const HttpRequest& r) { return CheckPin(r); });
}

HttpResponse ResolverService::Preflight(const HttpRequest&) const {
  HttpResponse r;
  r.status = 204;
  r.content_type = "text/plain";
  r.SetHeader("Allow", "GET, HEAD, OPTIONS");
  r.SetHeader("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
  r.SetHeader("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Type");
  r.SetHeader("Access-Control-Max-Age", "86400");
  Decorate(r);
  return r;
}

HttpResponse ResolverService::Resolve(const HttpRequest& req) {
  Impl& im = *impl_;
  const bool html = PrefersHtml(req.Header("Accept"));
  const PageContext ctx{.lang = ChooseLang(req.Query("lang"), req.Header("Accept-Language")),
                        .self = WithoutLang(req.target)};
  auto answer = [&](HttpResponse r) {
    Decorate(r);
    if (html && r.content_type.starts_with("text/html")) r.SetHeader("Content-Language", std::string(LangTag(ctx.lang)));
    return r;
  };
  auto error = [&](int status, std::string_view code, std::string_view message) {
    return answer(html ? Html(status, RenderErrorPage(status, code, message, ctx)) : JsonError(status, code, message));
  };
  auto document = [&](int status, const Json& doc) {
    return answer(html ? Html(status, RenderCodePage(doc, ctx)) : JsonDoc(status, doc));
  };
  const bool get = req.method == "GET";
  if (get) {
    RateDecision d = im.scan_limiter.Take(req.remote_addr, im.options.monotonic_s());
    if (!d.allowed) return answer(RateLimited(d, "scan"));
  }
  const std::string text = "https://" + im.Host(req) + ctx.self;
  const qrcode::VerifyResult v = qrcode::VerifyCode(text, im.issuers, &im.statuses);
  switch (v.verdict) {
    case qrcode::Verdict::kMalformed:
      return error(400, "bad_link", std::string(v.ReasonName()) + ": " + v.message);
    case qrcode::Verdict::kError:
      return error(503, "unavailable", v.message);
    case qrcode::Verdict::kForged: {
      const bool unknown =
          v.reason == qrcode::Reason::kUnknownKey || v.reason == qrcode::Reason::kGtinNotRegistered;
      return document(unknown ? 404 : 200, im.NotGenuine(v, unknown));
    }
    case qrcode::Verdict::kGenuine:
      break;
  }
  if (v.status.status == qrcode::Status::kNeverIssued) return document(404, im.NotGenuine(v, /*unknown=*/true));
  auto doc = im.Genuine(v, req, /*record=*/get, scans_recorded_);
  if (!doc.ok()) return error(503, "unavailable", doc.error().message);
  return document(200, *doc);
}

HttpResponse ResolverService::CheckPin(const HttpRequest& req) {
  Impl& im = *impl_;
  const bool form = req.Header("Content-Type").starts_with("application/x-www-form-urlencoded");
  // A page answers only the page's own form posted without JavaScript.
  const bool html = form && PrefersHtml(req.Header("Accept"));
  PageContext ctx{.lang = ChooseLang(req.Query("lang"), req.Header("Accept-Language")), .self = "/v1/pin"};
  std::string back;
  auto answer = [&](int status, std::string_view outcome, const Json& body) {
    if (!html) return JsonDoc(status, body);
    std::string detail = body.contains("error") ? body["error"].value("message", "") : "";
    return Html(status, RenderPinPage(outcome, detail, back, ctx));
  };
  auto fail = [&](int status, std::string_view code, std::string_view message) {
    return answer(status, code, Json{{"error", ErrorJson(code, message)}});
  };
  RateDecision d = im.pin_limiter.Take(req.remote_addr, im.options.monotonic_s());
  if (!d.allowed) {
    HttpResponse r = RateLimited(d, "PIN");
    if (html) {
      r.content_type = "text/html; charset=utf-8";
      r.body = RenderPinPage("rate_limited", "", "", ctx);
    }
    return r;
  }

  // The fields, from JSON or from the form.
  std::optional<Json> code_field, pin_field;
  if (form) {
    auto fields = ParseForm(req.body);
    if (auto it = fields.find("code"); it != fields.end()) code_field = it->second;
    if (auto it = fields.find("pin"); it != fields.end()) pin_field = it->second;
  } else {
    Json body = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object()) return fail(400, "bad_json", "the body must be a JSON object {\"code\":…,\"pin\":…}");
    if (body.contains("code")) code_field = body["code"];
    if (body.contains("pin")) pin_field = body["pin"];
  }
  if (!code_field) return fail(400, "missing_code", "code: required, the full text of the item's code (its URI)");
  if (!code_field->is_string()) return fail(400, "bad_code", "code: must be a string");
  if (!pin_field) return fail(400, "missing_pin", "pin: required, the PIN printed under the item's scratch-off");
  if (!pin_field->is_string()) return fail(400, "bad_pin", "pin: must be a string");
  const std::string code_text = code_field->get<std::string>();
  const std::string typed = pin_field->get<std::string>();

  const qrcode::VerifyResult v = qrcode::VerifyCode(code_text, im.issuers, &im.statuses);
  if (v.code) {
    back = CodePath(*v.code);
    ctx.self = back;
  }
  if (v.verdict == qrcode::Verdict::kMalformed) {
    return fail(400, "bad_code", "code: " + std::string(v.ReasonName()) + ": " + v.message);
  }
  if (!qrcode::NormalizePin(typed)) {
    return fail(400, "bad_pin",
                "pin: expected 12 characters of 0-9 and A-Z without I, L, O, U (hyphens and spaces are ignored)");
  }
  if (v.verdict == qrcode::Verdict::kError) return fail(503, "unavailable", v.message);
  if (v.verdict == qrcode::Verdict::kForged) {
    const bool unknown = v.reason == qrcode::Reason::kUnknownKey || v.reason == qrcode::Reason::kGtinNotRegistered;
    if (unknown) return fail(404, "unknown_code", "code: " + v.message);
    return fail(422, "not_genuine", "code: " + v.message);
  }
  if (v.status.status == qrcode::Status::kNeverIssued) return fail(404, "unknown_code", "code: " + v.status.message);
  if (v.status.status == qrcode::Status::kRevoked) return fail(422, "not_genuine", "code: " + v.status.message);
  const qrcode::Code& c = *v.code;
  auto commitment = im.Commitment(c);
  if (!commitment.ok()) return fail(503, "unavailable", commitment.error().message);
  if (!commitment->has_value()) return fail(409, "no_pin", "code: this code was issued without a PIN");
  auto result = im.scans.CheckPin(c.gtin, c.serial, typed, *commitment, im.options.clock_s());
  if (!result.ok()) return fail(503, "unavailable", result.error().message);
  switch (result->outcome) {
    case qrcode::PinOutcome::kConsumed:
    case qrcode::PinOutcome::kAlreadyConsumed: {
      const std::string outcome(qrcode::PinOutcomeName(result->outcome));
      return answer(200, outcome, Json{{"outcome", outcome}, {"consumed_at", IsoTime(result->consumed_s)}});
    }
    case qrcode::PinOutcome::kWrong:
      return answer(200, "wrong", Json{{"outcome", "wrong"}, {"attempts_left", result->attempts_left}});
    case qrcode::PinOutcome::kRateLimited: {
      const int64_t wait = std::max<int64_t>(1, result->retry_after_s - im.options.clock_s());
      HttpResponse r = fail(429, "pin_attempts_exceeded",
                            "too many wrong PINs for this code; retry after " + std::to_string(wait) + " s");
      r.SetHeader("Retry-After", std::to_string(wait));
      return r;
    }
    case qrcode::PinOutcome::kNoPin:
      break;
  }
  return fail(409, "no_pin", "code: this code was issued without a PIN");
}

}  // namespace traceledger::api
