#include "api/customs_service.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/resolver_page.h"
#include "ledger/canonical_json.h"
#include "ledger/epcis.h"
#include "ledger/owner_index.h"
#include "ledger/schema.h"
#include "ledger/state.h"
#include "qrcode/decode.h"
#include "qrcode/ledger_lookup.h"
#include "qrcode/verify.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using ledger::RecordKind;
using ledger::StoredRecord;

constexpr const char* kLdJson = "application/ld+json";

HttpResponse JsonBody(const Json& body, int status = 200) {
  return JsonOk(body.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n", status);
}

HttpResponse LedgerFailure(const ledger::LedgerError& e) {
  if (e.code == ledger::LedgerErrorCode::kCorrupt) return JsonError(500, "corrupt", e.message);
  return JsonError(503, "unavailable", e.message);
}

std::string Quote(std::string_view s) { return "\"" + ledger::PrintableKey(s) + "\""; }

// --- path parameter checks: the same rules as the record schema ------------

std::optional<HttpResponse> CheckGtin(const std::string& gtin) {
  if (gtin.size() != 14 || gtin.find_first_not_of("0123456789") != std::string::npos) {
    return JsonError(400, "bad_gtin", "gtin: " + Quote(gtin) + " is not 14 digits");
  }
  if (!ledger::IsValidGtin14(gtin)) {
    return JsonError(400, "bad_gtin", "gtin: " + Quote(gtin) + " has a wrong check digit");
  }
  return std::nullopt;
}

std::optional<HttpResponse> CheckLot(const std::string& lot) {
  if (lot.empty() || lot.size() > 20 || !std::all_of(lot.begin(), lot.end(), ledger::IsCset82)) {
    return JsonError(400, "bad_lot", "lot: " + Quote(lot) + " is not 1..20 GS1 CSET 82 characters");
  }
  return std::nullopt;
}

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '/' || c == '-';
}

std::optional<HttpResponse> CheckShipmentId(const std::string& id) {
  if (id.empty() || id.size() > 64 || !std::all_of(id.begin(), id.end(), IsIdChar)) {
    return JsonError(400, "bad_shipment", "shipment: " + Quote(id) + " is not 1..64 of [A-Za-z0-9._:/-]");
  }
  return std::nullopt;
}

std::optional<HttpResponse> CheckPartyId(const std::string& id) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  if (id.empty() || id.size() > 64 || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9')) ||
      !std::all_of(id.begin(), id.end(), ok_char)) {
    return JsonError(400, "bad_party", "party: " + Quote(id) + " is not a party id ([a-z0-9][a-z0-9._-]*, 1..64)");
  }
  return std::nullopt;
}

// --- records as JSON --------------------------------------------------------

// {"id","index","height","kind","record"}. A code_issuance part is
// abridged: its serial list (up to 10,000) is replaced by counts, and the
// whole signed record stays at GET /v1/records/{id}.
Json EntryJson(const StoredRecord& s) {
  Json out = {{"id", s.record.IdHex()},
              {"index", s.index},
              {"height", s.height},
              {"kind", std::string(ledger::KindName(s.record.kind))}};
  if (s.record.kind == RecordKind::kCodeIssuance) {
    const Json& b = s.record.body;
    out["abridged"] = Json{{"gtin", b.at("gtin")},
                           {"lot", b.at("lot")},
                           {"batch", b.at("batch")},
                           {"part", b.at("part")},
                           {"parts", b.at("parts")},
                           {"serials", b.at("serials").size()},
                           {"pins", b.contains("pin_hashes")}};
    return out;
  }
  auto parsed = ledger::ParseStrictJson(s.record.entry);
  out["record"] = parsed.ok() ? std::move(parsed).value() : Json(s.record.entry);
  return out;
}

Json HistoryJson(const std::vector<StoredRecord>& history) {
  Json out = Json::array();
  for (const auto& s : history) out.push_back(EntryJson(s));
  return out;
}

// The party of the key that signed `record`; "" if unknown.
std::string AuthorParty(const ledger::Ledger& ledger, const ledger::Record& record) {
  auto fact = ledger::FactAsOf(ledger.committed_state(), ledger::keys::Key(record.author), UINT64_MAX);
  return fact ? fact->party : std::string();
}

// --- owned listings ---------------------------------------------------------

std::optional<ledger::OwnedKind> OwnedKindFromName(std::string_view name) {
  for (auto kind : {ledger::OwnedKind::kProduct, ledger::OwnedKind::kLot, ledger::OwnedKind::kShipment,
                    ledger::OwnedKind::kCodeBatch}) {
    if (ledger::OwnedKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// A code issuance batch summarized: parts, serials, PINs, revocations.
ledger::LedgerResult<Json> BatchSummary(const ledger::Ledger& ledger, const StoredRecord& first) {
  const ledger::Record& r = first.record;
  const std::string gtin(r.Str("gtin")), lot(r.Str("lot")), batch(r.Str("batch"));
  auto parts = ledger.GetCodeBatch(gtin, batch);
  if (!parts.ok()) return parts.error();
  uint64_t serials = 0;
  for (const auto& part : *parts) serials += part.record.body.at("serials").size();
  // Revocations are few: count the lot's revoked serials that this batch issued.
  auto history = ledger.LotHistory(gtin, lot);
  if (!history.ok()) return history.error();
  uint64_t revoked = 0;
  for (const auto& s : *history) {
    if (s.record.kind != RecordKind::kCodeRevocation) continue;
    for (const auto& serial : s.record.body.at("serials")) {
      auto code = ledger.GetCode(gtin, serial.get_ref<const std::string&>());
      if (!code.ok()) return code.error();
      if (code->has_value() && (*code)->batch() == batch) ++revoked;
    }
  }
  return Json{{"batch", batch},
              {"gtin", gtin},
              {"lot", lot},
              {"parts", r.body.at("parts")},
              {"parts_on_ledger", parts->size()},
              {"serials", serials},
              {"pins", r.body.contains("pin_hashes")},
              {"revoked", revoked},
              {"id", r.IdHex()},
              {"index", first.index},
              {"height", first.height}};
}

// --- provenance -------------------------------------------------------------

struct LotView {
  std::string gtin, lot;
  int64_t quantity = 0;
  std::optional<StoredRecord> lot_record;
  std::optional<StoredRecord> product;
  std::vector<StoredRecord> inspections;
  std::optional<StoredRecord> recall;
  uint64_t revoked = 0;
  std::optional<uint64_t> clone_incidents;
};

struct ProvenanceView {
  StoredRecord shipment;
  std::string merchant, merchant_name;
  std::optional<CreditSummary> credit;
  std::vector<LotView> lots;
  std::vector<StoredRecord> inspections, custody, decisions;
  RiskAssessment risk;
};

ledger::LedgerResult<std::optional<ProvenanceView>> GatherProvenance(const ledger::Ledger& ledger,
                                                                     const CustomsOptions& options,
                                                                     const std::string& id) {
  auto shipment = ledger.GetShipment(id);
  if (!shipment.ok()) return shipment.error();
  if (!shipment->has_value()) return std::optional<ProvenanceView>();
  ProvenanceView v{.shipment = std::move(**shipment)};
  const ledger::Record& sr = v.shipment.record;
  v.merchant = AuthorParty(ledger, sr);
  auto party = ledger.GetParty(v.merchant);
  if (!party.ok()) return party.error();
  if (party->has_value()) v.merchant_name = std::string((*party)->record.Str("name"));
  if (options.credit) v.credit = options.credit(v.merchant);
  auto history = ledger.ShipmentHistory(id);
  if (!history.ok()) return history.error();
  for (auto& s : *history) {
    if (s.record.kind == RecordKind::kInspection) v.inspections.push_back(std::move(s));
    else if (s.record.kind == RecordKind::kCustody) v.custody.push_back(std::move(s));
    else if (s.record.kind == RecordKind::kCustomsDecision) v.decisions.push_back(std::move(s));
  }
  RiskInput risk{.shipment = id,
                 .origin_country = std::string(sr.Str("origin_country")),
                 .merchant = v.merchant,
                 .credit = v.credit};
  for (const auto& inspection : v.inspections) {
    (inspection.record.Str("result") == "conformant" ? risk.shipment_inspections_passed
                                                     : risk.shipment_inspections_failed)++;
  }
  for (const auto& ref : sr.body.at("lots")) {
    LotView lot{.gtin = ref.at("gtin").get<std::string>(),
                .lot = ref.at("lot").get<std::string>(),
                .quantity = ref.at("quantity").get<int64_t>()};
    auto product = ledger.GetProduct(lot.gtin);
    if (!product.ok()) return product.error();
    lot.product = std::move(*product);
    auto lot_history = ledger.LotHistory(lot.gtin, lot.lot);
    if (!lot_history.ok()) return lot_history.error();
    RiskLot rl{.gtin = lot.gtin, .lot = lot.lot};
    if (lot.product) rl.product_origin_country = std::string(lot.product->record.Str("origin_country"));
    for (auto& s : *lot_history) {
      switch (s.record.kind) {
        case RecordKind::kLot:
          lot.lot_record = std::move(s);
          break;
        case RecordKind::kInspection:
          (s.record.Str("result") == "conformant" ? rl.inspections_passed : rl.inspections_failed)++;
          lot.inspections.push_back(std::move(s));
          break;
        case RecordKind::kCodeRevocation:
          lot.revoked += s.record.body.at("serials").size();
          break;
        case RecordKind::kLotRecall:
          lot.recall = std::move(s);
          break;
        default:
          break;
      }
    }
    if (options.clone_incidents) lot.clone_incidents = options.clone_incidents(lot.gtin, lot.lot);
    rl.revoked_codes = lot.revoked;
    rl.recalled = lot.recall.has_value();
    rl.clone_incidents = lot.clone_incidents;
    risk.lots.push_back(std::move(rl));
    v.lots.push_back(std::move(lot));
  }
  v.risk = AssessRisk(risk);
  return std::optional<ProvenanceView>(std::move(v));
}

Json Ref(const StoredRecord& s) { return Json{{"id", s.record.IdHex()}, {"index", s.index}, {"height", s.height}}; }

Json CreditJson(const std::optional<CreditSummary>& c) {
  if (!c) return Json{{"rated", false}, {"text", "not rated"}};
  return Json{{"rated", true},
              {"grade", c->grade},
              {"list", c->list.empty() ? Json(nullptr) : Json(c->list)},
              {"score", c->score},
              {"policy_version", c->policy_version},
              {"as_of_height", c->as_of_height}};
}

Json ProvenanceJson(const ProvenanceView& v) {
  const ledger::Record& sr = v.shipment.record;
  Json lots = Json::array();
  for (const LotView& l : v.lots) {
    Json lot = {{"gtin", l.gtin}, {"lot", l.lot}, {"quantity", l.quantity}};
    if (l.product) {
      const Json& p = l.product->record.body;
      Json product = Ref(*l.product);
      for (const char* k : {"name", "brand", "origin_country", "origin_region", "production_site", "manufacturer",
                            "category"}) {
        if (p.contains(k)) product[k] = p.at(k);
      }
      lot["product"] = product;
    } else {
      lot["product"] = nullptr;
    }
    if (l.lot_record) {
      Json rec = Ref(*l.lot_record);
      const Json& b = l.lot_record->record.body;
      rec["production_date"] = b.at("production_date");
      if (b.contains("expiry_date")) rec["expiry_date"] = b.at("expiry_date");
      rec["quantity"] = b.at("quantity");
      lot["lot_record"] = rec;
    } else {
      lot["lot_record"] = nullptr;
    }
    Json inspections = Json::array();
    for (const auto& s : l.inspections) {
      Json i = Ref(s);
      for (const char* k : {"result", "standard", "sample_size", "inspected_on", "report_sha256"}) i[k] = s.record.body.at(k);
      inspections.push_back(i);
    }
    lot["inspections"] = inspections;
    lot["recalled"] = l.recall ? Ref(*l.recall) : Json(nullptr);
    if (l.recall) lot["recalled"]["reason"] = l.recall->record.Str("reason");
    lot["revoked_codes"] = l.revoked;
    lot["clone_incidents"] = l.clone_incidents ? Json(*l.clone_incidents) : Json(nullptr);
    lots.push_back(lot);
  }
  auto records = [](const std::vector<StoredRecord>& list, std::initializer_list<const char*> fields) {
    Json out = Json::array();
    for (const auto& s : list) {
      Json e = Ref(s);
      e["time"] = ledger::Rfc3339Utc(s.record.time);
      for (const char* k : fields) {
        if (s.record.body.contains(k)) e[k] = s.record.body.at(k);
      }
      out.push_back(e);
    }
    return out;
  };
  Json flags = Json::array();
  for (const RiskFlag& f : v.risk.flags) {
    flags.push_back(Json{{"code", f.code},
                         {"level", std::string(RiskLevelName(f.level))},
                         {"subject", f.subject},
                         {"reason", f.reason}});
  }
  Json shipment = Ref(v.shipment);
  shipment["shipment"] = sr.Str("shipment");
  shipment["time"] = ledger::Rfc3339Utc(sr.time);
  for (const char* k : {"origin_country", "destination", "declaration", "documents"}) {
    if (sr.body.contains(k)) shipment[k] = sr.body.at(k);
  }
  return Json{
      {"shipment", shipment},
      {"origin", Json{{"country", sr.Str("origin_country")}}},
      {"merchant", Json{{"party", v.merchant}, {"name", v.merchant_name}, {"credit", CreditJson(v.credit)}}},
      {"lots", lots},
      {"inspections", records(v.inspections, {"result", "standard", "sample_size", "inspected_on", "report_sha256"})},
      {"custody", records(v.custody, {"from", "to", "location", "biz_step", "note"})},
      {"customs_decisions", records(v.decisions, {"decision", "reason"})},
      {"risk", Json{{"level", std::string(RiskLevelName(v.risk.level))}, {"flags", flags}}},
  };
}

// The page's words in both languages.
struct Words {
  const char* title;
  const char* risk;
  const char* levels[3];
  const char* no_flags;
  const char* origin;
  const char* merchant;
  const char* credit;
  const char* not_rated;
  const char* lots;
  const char* product;
  const char* inspections;
  const char* none;
  const char* custody;
  const char* decisions;
  const char* recalled;
  const char* revoked;
  const char* destination;
};
constexpr Words kEnglish = {"Shipment provenance", "Risk", {"low", "medium", "high"}, "No risk flags.",
                            "Origin", "Merchant", "Credit grade", "not rated", "Lots", "Product",
                            "Inspections", "none", "Custody chain", "Customs decisions", "recalled",
                            "revoked codes", "Destination"};
constexpr Words kChinese = {"货物溯源", "风险", {"低", "中", "高"}, "无风险标记。", "原产地", "商户", "信用等级",
                            "未评级", "批次", "产品", "检验", "无", "监管链", "海关决定", "已召回", "已撤销码",
                            "目的地"};

std::string ProvenanceHtml(const ProvenanceView& v, const std::string& lang) {
  const Words& w = lang == "zh-CN" ? kChinese : kEnglish;
  const ledger::Record& sr = v.shipment.record;
  auto e = [](std::string_view s) { return HtmlEscape(s); };
  const int level = static_cast<int>(v.risk.level);
  static constexpr const char* kColours[] = {"#1b7f3b", "#b26a00", "#b00020"};
  std::string h;
  h += "<!doctype html><html lang=\"" + lang + "\"><head><meta charset=\"utf-8\">";
  h += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
  h += "<title>" + std::string(w.title) + " " + e(sr.Str("shipment")) + "</title><style>";
  h += "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:56rem;padding:1rem;color:#111}";
  h += "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}table{border-collapse:collapse;width:100%}";
  h += "td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}";
  h += ".risk{color:#fff;padding:.6rem 1rem;border-radius:.4rem;font-size:1.2rem}";
  h += "code{font-size:.8rem;word-break:break-all}</style></head><body>";
  h += "<h1>" + std::string(w.title) + ": " + e(sr.Str("shipment")) + "</h1>";
  h += "<p class=\"risk\" id=\"risk\" style=\"background:" + std::string(kColours[level]) + "\">" + w.risk + ": " +
       w.levels[level] + "</p>";
  if (v.risk.flags.empty()) {
    h += "<p>" + std::string(w.no_flags) + "</p>";
  } else {
    h += "<ul id=\"flags\">";
    for (const RiskFlag& f : v.risk.flags) {
      h += "<li><strong>" + e(f.code) + "</strong> (" + w.levels[static_cast<int>(f.level)] + "): " + e(f.reason) +
           "</li>";
    }
    h += "</ul>";
  }
  h += "<table><tr><th>" + std::string(w.origin) + "</th><td>" + e(sr.Str("origin_country")) + "</td></tr>";
  h += "<tr><th>" + std::string(w.destination) + "</th><td>" + e(sr.Str("destination")) + "</td></tr>";
  h += "<tr><th>" + std::string(w.merchant) + "</th><td>" + e(v.merchant_name) + " (" + e(v.merchant) + ")</td></tr>";
  h += "<tr><th>" + std::string(w.credit) + "</th><td>" +
       (v.credit ? e(v.credit->grade) + (v.credit->list.empty() ? "" : " · " + e(v.credit->list)) : std::string(w.not_rated)) +
       "</td></tr></table>";
  h += "<h2>" + std::string(w.lots) + "</h2><table>";
  for (const LotView& l : v.lots) {
    h += "<tr><th>" + e(l.gtin) + " / " + e(l.lot) + " × " + std::to_string(l.quantity) + "</th><td>";
    if (l.product) {
      const ledger::Record& p = l.product->record;
      h += std::string(w.product) + ": " + e(p.Str("name")) + " — " + e(p.Str("manufacturer")) + ", " +
           e(p.Str("production_site")) + ", " + e(p.Str("origin_country")) + "<br>";
    }
    h += std::string(w.inspections) + ": ";
    if (l.inspections.empty()) h += w.none;
    for (const auto& s : l.inspections) {
      h += e(s.record.Str("result")) + " (" + e(s.record.Str("standard")) + ", " + e(s.record.Str("inspected_on")) + ") ";
    }
    if (l.recall) h += "<br><strong>" + std::string(w.recalled) + "</strong>: " + e(l.recall->record.Str("reason"));
    if (l.revoked > 0) h += "<br>" + std::string(w.revoked) + ": " + std::to_string(l.revoked);
    h += "</td></tr>";
  }
  h += "</table><h2>" + std::string(w.inspections) + "</h2><ul>";
  if (v.inspections.empty()) h += "<li>" + std::string(w.none) + "</li>";
  for (const auto& s : v.inspections) {
    h += "<li>" + e(s.record.Str("result")) + " — " + e(s.record.Str("standard")) + ", " +
         e(s.record.Str("inspected_on")) + "</li>";
  }
  h += "</ul><h2>" + std::string(w.custody) + "</h2><ol>";
  for (const auto& s : v.custody) {
    h += "<li>" + ledger::Rfc3339Utc(s.record.time) + " " + e(s.record.Str("biz_step")) + ": " + e(s.record.Str("from")) +
         " → " + e(s.record.Str("to")) + " @ " + e(s.record.Str("location")) + "</li>";
  }
  h += "</ol><h2>" + std::string(w.decisions) + "</h2><ul>";
  if (v.decisions.empty()) h += "<li>" + std::string(w.none) + "</li>";
  for (const auto& s : v.decisions) {
    h += "<li>" + ledger::Rfc3339Utc(s.record.time) + " <strong>" + e(s.record.Str("decision")) + "</strong> " +
         e(s.record.Str("reason")) + "</li>";
  }
  h += "</ul><p><code>" + e(sr.IdHex()) + "</code></p></body></html>\n";
  return h;
}

// --- verification -----------------------------------------------------------

// Key lookups for one request: a key's revocation is a later fact, so
// keys are cached for the span of a request only; GTIN owners never
// change and are cached by the service's LedgerIssuerLookup.
class RequestIssuerCache : public qrcode::IssuerLookup {
 public:
  explicit RequestIssuerCache(const qrcode::IssuerLookup& base) : base_(base) {}
  Result<std::optional<qrcode::IssuerKey>, std::string> FindKey(std::string_view key_id) const override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = keys_.find(std::string(key_id)); it != keys_.end()) return it->second;
    }
    auto found = base_.FindKey(key_id);
    if (!found.ok()) return found;
    std::lock_guard<std::mutex> lock(mu_);
    keys_.emplace(std::string(key_id), *found);
    return found;
  }
  bool KnowsOwners() const override { return base_.KnowsOwners(); }
  Result<std::optional<std::string>, std::string> GtinOwner(std::string_view gtin14) const override {
    return base_.GtinOwner(gtin14);
  }

 private:
  const qrcode::IssuerLookup& base_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::optional<qrcode::IssuerKey>> keys_;  // GUARDED_BY(mu_)
};

struct Tally {
  std::map<std::string, uint64_t> verdicts, statuses;
  uint64_t total = 0, good = 0;
  void Add(const qrcode::VerifyResult& r) {
    ++total;
    good += r.Good() ? 1 : 0;
    ++verdicts[std::string(qrcode::VerdictName(r.verdict))];
    ++statuses[std::string(qrcode::StatusName(r.status.status))];
  }
  Json ToJson() const {
    return Json{{"total", total}, {"good", good}, {"verdicts", verdicts}, {"statuses", statuses}};
  }
};

// The value of `param` in a header like `multipart/form-data; boundary=x`.
std::string HeaderParam(std::string_view header, std::string_view param) {
  size_t at = 0;
  while ((at = header.find(param, at)) != std::string_view::npos) {
    const bool starts = at == 0 || header[at - 1] == ' ' || header[at - 1] == ';';
    if (starts && at + param.size() < header.size() && header[at + param.size()] == '=') {
      std::string_view v = header.substr(at + param.size() + 1);
      if (!v.empty() && v.front() == '"') {
        v.remove_prefix(1);
        return std::string(v.substr(0, v.find('"')));
      }
      return std::string(v.substr(0, v.find_first_of("; ")));
    }
    at += param.size();
  }
  return {};
}

std::string Lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The lot named by the request's path and its history: an error response
// for a bad path or an unknown lot.
Result<std::pair<StoredRecord, std::vector<StoredRecord>>, HttpResponse> LotFromPath(const ledger::Ledger& ledger,
                                                                                    const HttpRequest& request) {
  const std::string& gtin = request.path_params.at("gtin");
  const std::string& lot = request.path_params.at("lot");
  if (auto bad = CheckGtin(gtin)) return *bad;
  if (auto bad = CheckLot(lot)) return *bad;
  auto record = ledger.GetLot(gtin, lot);
  if (!record.ok()) return LedgerFailure(record.error());
  if (!record->has_value()) return JsonError(404, "not_found", "no lot " + Quote(lot) + " of GTIN " + gtin);
  auto history = ledger.LotHistory(gtin, lot);
  if (!history.ok()) return LedgerFailure(history.error());
  return std::pair{std::move(**record), std::move(history).value()};
}

// The same for the shipment named by the path.
Result<std::pair<StoredRecord, std::vector<StoredRecord>>, HttpResponse> ShipmentFromPath(
    const ledger::Ledger& ledger, const HttpRequest& request) {
  const std::string& id = request.path_params.at("shipment");
  if (auto bad = CheckShipmentId(id)) return *bad;
  auto record = ledger.GetShipment(id);
  if (!record.ok()) return LedgerFailure(record.error());
  if (!record->has_value()) return JsonError(404, "not_found", "no shipment " + Quote(id));
  auto history = ledger.ShipmentHistory(id);
  if (!history.ok()) return LedgerFailure(history.error());
  return std::pair{std::move(**record), std::move(history).value()};
}

}  // namespace

CustomsService::CustomsService(const ledger::Ledger& ledger, CustomsOptions options)
    : ledger_(ledger),
      options_(std::move(options)),
      issuers_(std::make_unique<qrcode::LedgerIssuerLookup>(ledger)),
      statuses_(std::make_unique<qrcode::LedgerStatusLookup>(ledger)),
      pool_(std::make_unique<ThreadPool>(options_.verify_threads)) {
  if (!options_.clock_s) {
    options_.clock_s = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

CustomsService::~CustomsService() = default;

void CustomsService::Register(HttpServer& server) {
  struct RouteSpec {
    const char* method;
    const char* pattern;
    HttpResponse (*handler)(CustomsService&, const HttpRequest&);
  };
  static constexpr RouteSpec kRoutes[] = {
      {"GET", "/v1/lots/{gtin}/{lot}", [](CustomsService& s, const HttpRequest& r) { return s.Lot(r); }},
      {"GET", "/v1/lots/{gtin}/{lot}/epcis", [](CustomsService& s, const HttpRequest& r) { return s.LotEpcis(r); }},
      {"GET", "/v1/shipments/{shipment}", [](CustomsService& s, const HttpRequest& r) { return s.Shipment(r); }},
      {"GET", "/v1/shipments/{shipment}/epcis",
       [](CustomsService& s, const HttpRequest& r) { return s.ShipmentEpcis(r); }},
      {"GET", "/v1/shipments/{shipment}/provenance",
       [](CustomsService& s, const HttpRequest& r) { return s.Provenance(r); }},
      {"GET", "/v1/parties/{party}", [](CustomsService& s, const HttpRequest& r) { return s.Party(r); }},
      {"GET", "/v1/parties/{party}/{kind}", [](CustomsService& s, const HttpRequest& r) { return s.PartyOwned(r); }},
      {"POST", "/v1/verify", [](CustomsService& s, const HttpRequest& r) { return s.Verify(r); }},
      {"POST", "/v1/verify/images", [](CustomsService& s, const HttpRequest& r) { return s.VerifyImages(r); }},
  };
  for (const RouteSpec& route : kRoutes) {
    auto handler = route.handler;
    server.Route(route.method, route.pattern, [this, handler](const HttpRequest& r) { return handler(*this, r); });
  }
}

HttpResponse CustomsService::Lot(const HttpRequest& request) const {
  auto found = LotFromPath(ledger_, request);
  if (!found.ok()) return found.error();
  const auto& [record, history] = *found;
  bool recalled = false;
  for (const auto& s : history) recalled = recalled || s.record.kind == RecordKind::kLotRecall;
  return JsonBody(Json{{"gtin", record.record.Str("gtin")},
                       {"lot", record.record.Str("lot")},
                       {"owner", AuthorParty(ledger_, record.record)},
                       {"recalled", recalled},
                       {"record", EntryJson(record)},
                       {"history", HistoryJson(history)}});
}

HttpResponse CustomsService::Shipment(const HttpRequest& request) const {
  auto found = ShipmentFromPath(ledger_, request);
  if (!found.ok()) return found.error();
  const auto& [record, history] = *found;
  return JsonBody(Json{{"shipment", record.record.Str("shipment")},
                       {"owner", AuthorParty(ledger_, record.record)},
                       {"record", EntryJson(record)},
                       {"history", HistoryJson(history)}});
}

HttpResponse CustomsService::Epcis(const std::vector<StoredRecord>& history) const {
  HttpResponse r = JsonBody(ledger::BuildEpcisDocument(
      history, ledger::EpcisOptions{.creation_time_s = options_.clock_s(), .ledger_url = options_.ledger_url}));
  r.content_type = kLdJson;
  return r;
}

HttpResponse CustomsService::LotEpcis(const HttpRequest& request) const {
  auto found = LotFromPath(ledger_, request);
  return found.ok() ? Epcis(found->second) : found.error();
}

HttpResponse CustomsService::ShipmentEpcis(const HttpRequest& request) const {
  auto found = ShipmentFromPath(ledger_, request);
  return found.ok() ? Epcis(found->second) : found.error();
}

HttpResponse CustomsService::Provenance(const HttpRequest& request) const {
  const std::string& id = request.path_params.at("shipment");
  if (auto bad = CheckShipmentId(id)) return *bad;
  auto view = GatherProvenance(ledger_, options_, id);
  if (!view.ok()) return LedgerFailure(view.error());
  if (!view->has_value()) return JsonError(404, "not_found", "no shipment " + Quote(id));
  HttpResponse r;
  if (PrefersHtml(request.Header("Accept"))) {
    const std::string lang(LangTag(ChooseLang(request.Query("lang"), request.Header("Accept-Language"))));
    r.content_type = "text/html; charset=utf-8";
    r.body = ProvenanceHtml(**view, lang);
    r.SetHeader("Content-Language", lang);
  } else {
    r = JsonBody(ProvenanceJson(**view));
  }
  r.SetHeader("Vary", "Accept, Accept-Language");
  return r;
}

HttpResponse CustomsService::Party(const HttpRequest& request) const {
  const std::string& party = request.path_params.at("party");
  if (auto bad = CheckPartyId(party)) return *bad;
  auto record = ledger_.GetParty(party);
  if (!record.ok()) return LedgerFailure(record.error());
  if (!record->has_value()) return JsonError(404, "not_found", "no party " + Quote(party) + " is registered");
  const ledger::StateReader& state = ledger_.committed_state();
  Json roles = Json::array();
  for (int i = 0; i < ledger::kRoleCount; ++i) {
    auto role = static_cast<ledger::Role>(i);
    if (auto fact = ledger::FactAsOf(state, ledger::keys::PartyRole(party, role), UINT64_MAX)) {
      roles.push_back(Json{{"role", std::string(ledger::RoleName(role))}, {"index", fact->seq}});
    }
  }
  // Keys are a small population (one fact per key): filter them by party.
  std::vector<std::string> key_ids;
  auto scan = ledger_.store().Scan("k/", {}, [&](std::string_view key, std::string_view value) {
    auto fact = ledger::DecodeFact(value);
    if (fact && fact->party == party) key_ids.emplace_back(key.substr(2));
    return true;
  });
  if (!scan.ok()) return JsonError(503, "unavailable", scan.error().message);
  Json keys = Json::array();
  for (const auto& key_id : key_ids) {
    auto info = ledger_.GetKey(key_id);
    if (!info.ok()) return LedgerFailure(info.error());
    if (!info->has_value()) continue;
    const ledger::KeyInfo& k = **info;
    Json key = {{"key_id", k.key_id},
                {"public_key", k.key.Hex()},
                {"registered", k.registered},
                {"status", k.revoked ? "revoked" : k.retired ? "retired" : "active"}};
    if (k.retired) key["retired"] = *k.retired;
    if (k.revoked) key["revoked"] = *k.revoked;
    keys.push_back(key);
  }
  return JsonBody(Json{{"party", party}, {"registration", EntryJson(**record)}, {"roles", roles}, {"keys", keys}});
}

HttpResponse CustomsService::PartyOwned(const HttpRequest& request) const {
  const std::string& party = request.path_params.at("party");
  const std::string& kind_name = request.path_params.at("kind");
  auto kind = OwnedKindFromName(kind_name);
  if (!kind) return JsonError(404, "not_found", "no such listing: " + Quote(kind_name) + " (products, lots, shipments, codes)");
  if (auto bad = CheckPartyId(party)) return *bad;
  size_t limit = options_.default_page;
  if (auto text = request.Query("limit")) {
    if (text->empty() || text->size() > 9 || text->find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(*text) == 0) {
      return JsonError(400, "bad_limit", "limit: " + Quote(*text) + " is not a positive number");
    }
    limit = std::min<size_t>(std::stoul(*text), options_.max_page);
  }
  std::string after;
  if (auto text = request.Query("after")) {
    if (!ledger::CursorToSuffix(*kind, *text)) {
      return JsonError(400, "bad_cursor", "after: " + Quote(*text) + " is not a " + kind_name + " cursor (as given in \"next\")");
    }
    after = *text;
  }
  auto registered = ledger_.GetParty(party);
  if (!registered.ok()) return LedgerFailure(registered.error());
  if (!registered->has_value()) return JsonError(404, "not_found", "no party " + Quote(party) + " is registered");
  auto page = ledger::ListOwned(ledger_, party, *kind, after, limit);
  if (!page.ok()) return LedgerFailure(page.error());
  Json items = Json::array();
  for (const auto& item : page->items) {
    if (*kind == ledger::OwnedKind::kCodeBatch) {
      auto summary = BatchSummary(ledger_, item.record);
      if (!summary.ok()) return LedgerFailure(summary.error());
      (*summary)["cursor"] = item.cursor;
      items.push_back(std::move(*summary));
    } else {
      Json e = EntryJson(item.record);
      e["cursor"] = item.cursor;
      items.push_back(std::move(e));
    }
  }
  return JsonBody(Json{{"party", party},
                       {"kind", kind_name},
                       {"limit", limit},
                       {"items", items},
                       {"next", page->next ? Json(*page->next) : Json(nullptr)}});
}

std::vector<qrcode::VerifyResult> CustomsService::VerifyTexts(const std::vector<std::string_view>& texts) {
  RequestIssuerCache issuers(*issuers_);
  std::vector<qrcode::VerifyResult> results(texts.size());
  // The log index of the part that issued each genuine code (its ci/ fact);
  // UINT64_MAX when there is none to read.
  std::vector<uint64_t> part_of(texts.size(), UINT64_MAX);
  pool_->ParallelFor(texts.size(), [&](size_t i) {
    results[i] = qrcode::VerifyCode(texts[i], issuers);
    if (results[i].verdict != qrcode::Verdict::kGenuine) return;
    const qrcode::Code& c = *results[i].code;
    auto raw = ledger_.store().Get(ledger::keys::CodeIssued(c.gtin, c.serial));
    if (raw.ok() && raw->has_value()) {
      if (auto fact = ledger::DecodeFact(**raw)) part_of[i] = fact->seq;
    }
  });
  // Statuses part by part: the ledger keeps the few parts last read parsed,
  // so codes of one part after another cost one parse per part.
  std::vector<size_t> order;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (results[i].verdict == qrcode::Verdict::kGenuine) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return part_of[a] < part_of[b]; });
  std::vector<std::pair<size_t, size_t>> groups;  // [begin, end) in order
  for (size_t k = 0; k < order.size();) {
    size_t end = k + 1;
    // Chunks of one part, so that a batch of one part still uses every thread.
    while (end < order.size() && end - k < 512 && part_of[order[end]] == part_of[order[k]]) ++end;
    groups.emplace_back(k, end);
    k = end;
  }
  pool_->ParallelFor(groups.size(), [&](size_t g) {
    for (size_t k = groups[g].first; k < groups[g].second; ++k) qrcode::LookUpStatus(results[order[k]], *statuses_);
  });
  codes_verified_.fetch_add(results.size(), std::memory_order_relaxed);
  return results;
}

HttpResponse CustomsService::Verify(const HttpRequest& request) {
  Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return JsonError(400, "malformed", "body: not JSON; send {\"codes\":[\"…\",…]}");
  if (!body.is_object() || !body.contains("codes") || !body["codes"].is_array()) {
    return JsonError(400, "schema", "body.codes: required, an array of code texts");
  }
  const Json& codes = body["codes"];
  if (codes.empty()) return JsonError(400, "schema", "body.codes: empty; give 1.." + std::to_string(options_.max_codes) + " codes");
  if (codes.size() > options_.max_codes) {
    return JsonError(413, "too_many_codes",
                     "body.codes: " + std::to_string(codes.size()) + " codes, at most " +
                         std::to_string(options_.max_codes) + " per request");
  }
  for (size_t i = 0; i < codes.size(); ++i) {
    if (!codes[i].is_string()) {
      return JsonError(400, "schema", "body.codes[" + std::to_string(i) + "]: not a string");
    }
  }
  std::vector<std::string_view> texts;
  texts.reserve(codes.size());
  for (const Json& c : codes) texts.emplace_back(c.get_ref<const std::string&>());
  std::vector<qrcode::VerifyResult> results = VerifyTexts(texts);
  Tally tally;
  Json out = Json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    tally.Add(results[i]);
    Json r = qrcode::ToJson(results[i]);
    r["index"] = i;
    out.push_back(std::move(r));
  }
  return JsonBody(Json{{"summary", tally.ToJson()}, {"results", out}});
}

HttpResponse CustomsService::VerifyImages(const HttpRequest& request) {
  const std::string content_type = request.Header("Content-Type");
  const std::string type = Lowercase(content_type.substr(0, content_type.find(';')));
  struct Image {
    std::string name;
    std::string_view bytes;
  };
  std::vector<Image> images;
  if (type == "multipart/form-data") {
    // The server parsed the parts (a malformed body got 400 bad_request there).
    if (HeaderParam(content_type, "boundary").empty()) {
      return JsonError(400, "malformed", "Content-Type: multipart/form-data without a boundary");
    }
    for (const FormPart& part : request.form) {
      if (part.filename.empty() && !Lowercase(part.content_type).starts_with("image/")) continue;  // a plain field
      images.push_back(Image{part.filename.empty() ? part.name : part.filename, part.content});
    }
    if (images.empty()) return JsonError(400, "no_images", "body: the form holds no file");
  } else if (type.starts_with("image/")) {
    if (request.body.empty()) return JsonError(400, "no_images", "body: empty image");
    images.push_back(Image{"body", request.body});
  } else {
    return JsonError(415, "unsupported_media_type",
                     "Content-Type: " + Quote(content_type) + "; send multipart/form-data or one image/* body");
  }
  if (images.size() > options_.max_images) {
    return JsonError(413, "too_many_images",
                     "body: " + std::to_string(images.size()) + " images, at most " +
                         std::to_string(options_.max_images) + " per request");
  }
  // Decode every image in parallel, then verify all their codes as one batch.
  std::vector<std::optional<qrcode::ImageError>> errors(images.size());
  std::vector<std::vector<std::string>> decoded_texts(images.size());
  pool_->ParallelFor(images.size(), [&](size_t i) {
    auto decoded = qrcode::DecodeImageBytes(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(images[i].bytes.data()), images[i].bytes.size()));
    if (!decoded.ok()) {
      errors[i] = decoded.error();
      return;
    }
    for (auto& symbol : *decoded) decoded_texts[i].push_back(std::move(symbol.text));
  });
  std::vector<std::string_view> texts;
  for (const auto& list : decoded_texts) texts.insert(texts.end(), list.begin(), list.end());
  std::vector<qrcode::VerifyResult> results = VerifyTexts(texts);
  Tally total;
  uint64_t image_errors = 0;
  Json answers = Json::array();
  size_t next = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    Json a = {{"image", images[i].name}, {"index", i}};
    Json codes = Json::array();
    if (errors[i]) {
      ++image_errors;
      a["error"] = Json{{"code", std::string(qrcode::ImageErrorCodeName(errors[i]->code))},
                        {"message", errors[i]->message}};
    }
    for (size_t k = 0; k < decoded_texts[i].size(); ++k, ++next) {
      total.Add(results[next]);
      codes.push_back(qrcode::ToJson(results[next]));
    }
    a["codes"] = std::move(codes);
    answers.push_back(std::move(a));
  }
  Json summary = total.ToJson();
  summary["images"] = images.size();
  summary["image_errors"] = image_errors;
  return JsonBody(Json{{"summary", summary}, {"images", answers}});
}

}  // namespace traceledger::api
