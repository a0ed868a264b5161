#include "api/resolver_page.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

namespace traceledger::api {
namespace {

using ledger::Json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// --- the words of the page, in both languages ---

struct Words {
  const char* title;
  const char* genuine;
  const char* warning;
  const char* not_genuine;
  const char* genuine_explain;
  const char* warning_explain;
  const char* not_genuine_explain;
  const char* unknown_explain;
  const char* product;
  const char* name;
  const char* brand;
  const char* category;
  const char* origin;
  const char* country;
  const char* region;
  const char* site;
  const char* manufacturer;
  const char* lot;
  const char* lot_number;
  const char* produced;
  const char* expires;
  const char* quantity;
  const char* recall;
  const char* inspections;
  const char* no_inspections;
  const char* conformant;
  const char* non_conformant;
  const char* custody;
  const char* no_custody;
  const char* shipment;
  const char* to;
  const char* customs;
  const char* merchant;
  const char* credit;
  const char* not_rated;
  const char* red_list;
  const char* black_list;
  const char* scans;
  const char* scan_count;
  const char* regions;
  const char* first_scan;
  const char* warnings;
  const char* w_revoked;
  const char* w_recalled;
  const char* w_failed;
  const char* w_clone;  // N, M, date
  const char* w_pin_used;
  const char* pin_title;
  const char* pin_help;
  const char* pin_submit;
  const char* pin_consumed;
  const char* pin_already;
  const char* pin_wrong;
  const char* pin_error;
  const char* complaint_title;
  const char* complaint_category;
  const char* complaint_text;
  const char* complaint_contact;
  const char* complaint_submit;
  const char* complaint_ok;
  const char* complaint_error;
  const char* complaint_nojs;
  const char* cat_counterfeit;
  const char* cat_quality;
  const char* cat_labelling;
  const char* cat_service;
  const char* cat_other;
  const char* code;
  const char* bad_link;
  const char* unavailable;
  const char* back;
};

constexpr Words kEn = {
    .title = "Product check",
    .genuine = "Genuine",
    .warning = "Warning",
    .not_genuine = "Not genuine",
    .genuine_explain = "This code was issued by the brand owner and checks out on the ledger.",
    .warning_explain = "This code was issued by the brand owner, but read the warnings below.",
    .not_genuine_explain = "This code does not check out. Do not trust this item.",
    .unknown_explain = "No such code was ever issued. Do not trust this item.",
    .product = "Product",
    .name = "Name",
    .brand = "Brand",
    .category = "Category",
    .origin = "Origin",
    .country = "Country",
    .region = "Region",
    .site = "Production site",
    .manufacturer = "Manufacturer",
    .lot = "Lot",
    .lot_number = "Lot number",
    .produced = "Produced",
    .expires = "Expires",
    .quantity = "Quantity",
    .recall = "Recalled",
    .inspections = "Inspections",
    .no_inspections = "No inspection recorded.",
    .conformant = "passed",
    .non_conformant = "FAILED",
    .custody = "Custody",
    .no_custody = "No shipment recorded.",
    .shipment = "Shipment",
    .to = "to",
    .customs = "Customs",
    .merchant = "Merchant",
    .credit = "Credit grade",
    .not_rated = "not rated",
    .red_list = "red list (commended)",
    .black_list = "BLACK LIST",
    .scans = "Scans",
    .scan_count = "Times scanned",
    .regions = "Regions",
    .first_scan = "First scan",
    .warnings = "Warnings",
    .w_revoked = "The brand owner revoked this code.",
    .w_recalled = "This lot was recalled.",
    .w_failed = "This lot failed an inspection.",
    .w_clone = "Possible copy: scanned {N} times in {M} regions since {D}.",
    .w_pin_used = "The PIN of this item was already used ({D}). If you did not enter it, this may be a copy.",
    .pin_title = "Check the PIN",
    .pin_help = "Scratch the label and enter the PIN. It can be used once.",
    .pin_submit = "Check PIN",
    .pin_consumed = "PIN correct: this item is registered as yours.",
    .pin_already = "PIN correct, but it was already used before. This may be a copy.",
    .pin_wrong = "Wrong PIN.",
    .pin_error = "The PIN could not be checked.",
    .complaint_title = "Report a problem",
    .complaint_category = "What is wrong",
    .complaint_text = "Describe it",
    .complaint_contact = "Contact (optional)",
    .complaint_submit = "Send report",
    .complaint_ok = "Report received. Reference:",
    .complaint_error = "The report could not be sent.",
    .complaint_nojs = "Reporting a problem needs JavaScript.",
    .cat_counterfeit = "Counterfeit",
    .cat_quality = "Quality",
    .cat_labelling = "Labelling",
    .cat_service = "Service",
    .cat_other = "Other",
    .code = "Code",
    .bad_link = "This is not a valid product code.",
    .unavailable = "The check is unavailable right now. Please try again later.",
    .back = "Back to the product",
};

constexpr Words kZh = {
    .title = "产品验证",
    .genuine = "正品",
    .warning = "警告",
    .not_genuine = "非正品",
    .genuine_explain = "此码由品牌方签发，账本核验通过。",
    .warning_explain = "此码由品牌方签发，但请注意以下警告。",
    .not_genuine_explain = "此码核验未通过，请勿信任此商品。",
    .unknown_explain = "从未签发过此码，请勿信任此商品。",
    .product = "产品",
    .name = "名称",
    .brand = "品牌",
    .category = "类别",
    .origin = "产地",
    .country = "国家",
    .region = "地区",
    .site = "生产地点",
    .manufacturer = "生产商",
    .lot = "批次",
    .lot_number = "批号",
    .produced = "生产日期",
    .expires = "有效期至",
    .quantity = "数量",
    .recall = "已召回",
    .inspections = "检验",
    .no_inspections = "暂无检验记录。",
    .conformant = "合格",
    .non_conformant = "不合格",
    .custody = "流转记录",
    .no_custody = "暂无运输记录。",
    .shipment = "货运",
    .to = "至",
    .customs = "海关",
    .merchant = "商家",
    .credit = "信用等级",
    .not_rated = "未评级",
    .red_list = "红名单（守信）",
    .black_list = "黑名单",
    .scans = "扫码",
    .scan_count = "扫码次数",
    .regions = "地区数",
    .first_scan = "首次扫码",
    .warnings = "警告",
    .w_revoked = "品牌方已作废此码。",
    .w_recalled = "此批次已被召回。",
    .w_failed = "此批次检验不合格。",
    .w_clone = "疑似复制：自{D}起已在{M}个地区被扫码{N}次。",
    .w_pin_used = "此商品的验证码已被使用（{D}）。如非您本人输入，此商品可能是复制品。",
    .pin_title = "验证码核验",
    .pin_help = "刮开标签，输入验证码。验证码仅可使用一次。",
    .pin_submit = "核验",
    .pin_consumed = "验证码正确：此商品已登记为您所有。",
    .pin_already = "验证码正确，但此前已被使用，可能是复制品。",
    .pin_wrong = "验证码错误。",
    .pin_error = "无法核验验证码。",
    .complaint_title = "投诉举报",
    .complaint_category = "问题类型",
    .complaint_text = "问题描述",
    .complaint_contact = "联系方式（可选）",
    .complaint_submit = "提交",
    .complaint_ok = "已收到投诉，编号：",
    .complaint_error = "投诉提交失败。",
    .complaint_nojs = "投诉功能需要启用 JavaScript。",
    .cat_counterfeit = "假冒",
    .cat_quality = "质量",
    .cat_labelling = "标签",
    .cat_service = "服务",
    .cat_other = "其他",
    .code = "码",
    .bad_link = "这不是有效的产品码。",
    .unavailable = "暂时无法核验，请稍后再试。",
    .back = "返回产品页",
};

const Words& W(Lang lang) { return lang == Lang::kZh ? kZh : kEn; }

// Members of a JSON object as text ("" when absent or not a string;
// numbers printed).
std::string Field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  return it->dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string E(std::string_view s) { return HtmlEscape(s); }

std::string Replace(std::string text, std::string_view key, std::string_view value) {
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size())) {
    text.replace(at, key.size(), value);
  }
  return text;
}

// Ledger enum values (CBV business steps, customs decisions) in words.
std::string Term(std::string_view value, Lang lang) {
  static constexpr std::pair<std::string_view, std::string_view> kZhTerms[] = {
      {"shipping", "发运"},   {"receiving", "收货"},     {"departing", "离港"},   {"arriving", "到港"},
      {"storing", "仓储"},    {"loading", "装货"},       {"unloading", "卸货"},   {"transporting", "运输"},
      {"entering_exiting", "出入境"}, {"released", "放行"}, {"held", "扣留"},     {"seized", "查扣"}};
  if (lang == Lang::kZh) {
    for (const auto& [k, v] : kZhTerms) {
      if (k == value) return std::string(v);
    }
  }
  std::string out(value);
  for (char& c : out) c = c == '_' ? ' ' : c;
  return out;
}

// The date part of an ISO 8601 time ("2026-11-21T10:00:00Z" → "2026-11-21").
std::string Day(const std::string& iso) { return iso.substr(0, 10); }

constexpr const char* kStyle =
    "*{box-sizing:border-box}"
    "body{margin:0;font:16px/1.5 system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;"
    "color:#1b1b1b;background:#f4f5f7}"
    "main{max-width:40rem;margin:0 auto;padding:.75rem}"
    "nav{text-align:right;font-size:.9rem}nav a{color:#0b57d0;margin-left:.5rem}"
    ".v{display:flex;align-items:center;gap:.75rem;border-radius:.75rem;padding:1rem;color:#fff;margin:.5rem 0}"
    ".v svg{flex:none;width:3.5rem;height:3.5rem}"
    ".v h1{margin:0;font-size:2rem;line-height:1.1}.v p{margin:.25rem 0 0}"
    ".v-genuine{background:#137333}.v-warning{background:#b06000}.v-not_genuine{background:#a50e0e}"
    "section{background:#fff;border-radius:.75rem;padding:.75rem 1rem;margin:.5rem 0}"
    "h2{font-size:1.1rem;margin:0 0 .5rem}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:0}"
    "dt{color:#555}dd{margin:0;overflow-wrap:anywhere}"
    "ul,ol{margin:0;padding-left:1.2rem}li{margin:.25rem 0}"
    ".warn li{color:#a50e0e;font-weight:600}.bad{color:#a50e0e;font-weight:700}"
    ".muted{color:#666;font-size:.85rem;overflow-wrap:anywhere}"
    "input,select,textarea,button{font:inherit;width:100%;padding:.5rem;margin:.25rem 0;"
    "border:1px solid #999;border-radius:.4rem}"
    "button{background:#0b57d0;color:#fff;border:0}output{display:block;font-weight:600}";

constexpr const char* kIconGenuine =
    "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><circle cx=\"12\" cy=\"12\" r=\"11\" fill=\"#fff\"/>"
    "<path d=\"M6.5 12.5l3.5 3.5 7.5-8\" fill=\"none\" stroke=\"#137333\" stroke-width=\"2.5\"/></svg>";
constexpr const char* kIconWarning =
    "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M12 1.5L23 22H1z\" fill=\"#fff\"/>"
    "<path d=\"M12 8v7M12 17.5v2\" stroke=\"#b06000\" stroke-width=\"2.5\"/></svg>";
constexpr const char* kIconNotGenuine =
    "<svg viewBox=\"0 0 24 24\" aria-hidden=\"true\"><circle cx=\"12\" cy=\"12\" r=\"11\" fill=\"#fff\"/>"
    "<path d=\"M7.5 7.5l9 9M16.5 7.5l-9 9\" stroke=\"#a50e0e\" stroke-width=\"2.5\"/></svg>";

// The forms' script: posts a form as JSON and shows the outcome in its
// <output>; reveals the sections that need it. Messages come from the
// form's data- attributes, so the script holds no words.
constexpr const char* kScript =
    "document.querySelectorAll('[data-js]').forEach(function(s){s.hidden=false});"
    "document.querySelectorAll('form[data-json]').forEach(function(f){"
    "f.addEventListener('submit',function(e){e.preventDefault();var o={};"
    "new FormData(f).forEach(function(v,k){if(v!=='')o[k]=v});var out=f.querySelector('output');"
    "fetch(f.getAttribute('action'),{method:'POST',headers:{'Content-Type':'application/json',"
    "'Accept':'application/json'},body:JSON.stringify(o)}).then(function(r){return r.json()})"
    ".then(function(j){var m;if(j.error){m=f.dataset.error+' ('+j.error.message+')'}"
    "else if(j.complaint){m=f.dataset.ok+' '+j.complaint}"
    "else{m=f.dataset[j.outcome]||f.dataset.error;if(j.attempts_left!==undefined&&j.outcome==='wrong')"
    "m+=' ('+j.attempts_left+')'}out.textContent=m})"
    ".catch(function(){out.textContent=f.dataset.error})})});";

std::string Head(const PageContext& ctx, std::string_view title) {
  std::string out = "<!doctype html><html lang=\"" + std::string(LangTag(ctx.lang)) +
                    "\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    "<meta name=\"referrer\" content=\"no-referrer\"><title>" +
                    E(title) + "</title><style>" + kStyle + "</style></head><body><main>";
  // The language switch: the same request with lang= appended.
  const std::string sep = ctx.self.find('?') == std::string::npos ? "?" : "&";
  out += "<nav><a id=\"lang-en\" hreflang=\"en\" href=\"" + E(ctx.self + sep + "lang=en") +
         "\">English</a><a id=\"lang-zh\" hreflang=\"zh-CN\" href=\"" + E(ctx.self + sep + "lang=zh-CN") +
         "\">中文</a></nav>";
  return out;
}

std::string Tail() { return std::string("</main><script>") + kScript + "</script></body></html>"; }

std::string VerdictBox(std::string_view verdict, std::string_view explain, const Words& w) {
  const char* icon = verdict == "genuine" ? kIconGenuine : verdict == "warning" ? kIconWarning : kIconNotGenuine;
  const char* word = verdict == "genuine" ? w.genuine : verdict == "warning" ? w.warning : w.not_genuine;
  return "<section class=\"v v-" + std::string(verdict) + "\" id=\"verdict\" role=\"status\" data-verdict=\"" +
         std::string(verdict) + "\">" + icon + "<div><h1 id=\"verdict-text\">" + word + "</h1><p>" + E(explain) +
         "</p></div></section>";
}

// <dt>label</dt><dd>value</dd> when value is not empty.
void Row(std::string& out, const char* label, const std::string& value) {
  if (value.empty()) return;
  out += "<dt>";
  out += label;
  out += "</dt><dd>" + E(value) + "</dd>";
}

std::string Warnings(const Json& doc, const Words& w) {
  const Json& list = doc.contains("warnings") ? doc.at("warnings") : Json::array();
  if (!list.is_array() || list.empty()) return "";
  std::string out = "<section id=\"warnings\"><h2>" + std::string(w.warnings) + "</h2><ul class=\"warn\">";
  for (const Json& item : list) {
    const std::string code = Field(item, "code");
    std::string text;
    if (code == "revoked") {
      text = w.w_revoked;
    } else if (code == "recalled") {
      text = w.w_recalled;
    } else if (code == "failed_inspection") {
      text = w.w_failed;
    } else if (code == "clone_suspected") {
      text = Replace(Replace(Replace(w.w_clone, "{N}", Field(item, "scans")), "{M}", Field(item, "regions")),
                     "{D}", Day(Field(item, "since")));
    } else if (code == "pin_used") {
      text = Replace(w.w_pin_used, "{D}", Day(Field(item, "consumed_at")));
    } else {
      text = code;
    }
    out += "<li data-warning=\"" + E(code) + "\">" + E(text);
    const std::string detail = Field(item, "reason");
    if (!detail.empty()) out += " <span class=\"muted\">" + E(detail) + "</span>";
    out += "</li>";
  }
  return out + "</ul></section>";
}

std::string ProductSections(const Json& doc, const Words& w, Lang lang) {
  std::string out;
  const Json& p = doc.contains("product") ? doc.at("product") : Json();
  if (p.is_object()) {
    out += "<section id=\"product\"><h2>" + std::string(w.product) + "</h2><dl>";
    Row(out, w.name, Field(p, "name"));
    Row(out, w.brand, Field(p, "brand"));
    Row(out, w.category, Field(p, "category"));
    out += "</dl></section><section id=\"origin\"><h2>" + std::string(w.origin) + "</h2><dl>";
    Row(out, w.country, Field(p, "origin_country"));
    Row(out, w.region, Field(p, "origin_region"));
    Row(out, w.site, Field(p, "production_site"));
    Row(out, w.manufacturer, Field(p, "manufacturer"));
    out += "</dl></section>";
  }
  const Json& lot = doc.contains("lot") ? doc.at("lot") : Json();
  if (lot.is_object()) {
    out += "<section id=\"lot\"><h2>" + std::string(w.lot) + "</h2><dl>";
    Row(out, w.lot_number, Field(lot, "lot"));
    Row(out, w.produced, Field(lot, "production_date"));
    Row(out, w.expires, Field(lot, "expiry_date"));
    Row(out, w.quantity, Field(lot, "quantity"));
    if (lot.contains("recall") && lot.at("recall").is_object()) {
      out += "<dt class=\"bad\">" + std::string(w.recall) + "</dt><dd class=\"bad\">" +
             E(Day(Field(lot.at("recall"), "at"))) + " " + E(Field(lot.at("recall"), "reason")) + "</dd>";
    }
    out += "</dl></section>";
  }
  if (doc.contains("inspections") && doc.at("inspections").is_array()) {
    out += "<section id=\"inspections\"><h2>" + std::string(w.inspections) + "</h2>";
    const Json& list = doc.at("inspections");
    if (list.empty()) {
      out += "<p class=\"muted\">" + std::string(w.no_inspections) + "</p>";
    } else {
      out += "<ul>";
      for (const Json& i : list) {
        const bool ok = Field(i, "result") == "conformant";
        out += "<li><span class=\"" + std::string(ok ? "" : "bad") + "\">" + (ok ? w.conformant : w.non_conformant) +
               "</span> · " + E(Field(i, "standard")) + " · " + E(Field(i, "inspected_on")) +
               " <span class=\"muted\">" + E(Field(i, "inspector_name")) + "</span></li>";
      }
      out += "</ul>";
    }
    out += "</section>";
  }
  if (doc.contains("custody") && doc.at("custody").is_array()) {
    out += "<section id=\"custody\"><h2>" + std::string(w.custody) + "</h2>";
    const Json& list = doc.at("custody");
    if (list.empty()) out += "<p class=\"muted\">" + std::string(w.no_custody) + "</p>";
    for (const Json& s : list) {
      out += "<p><b>" + std::string(w.shipment) + " " + E(Field(s, "shipment")) + "</b> · " +
             E(Field(s, "origin_country")) + " → " + E(Field(s, "destination")) + "</p><ol>";
      if (s.contains("events") && s.at("events").is_array()) {
        for (const Json& ev : s.at("events")) {
          out += "<li>" + E(Day(Field(ev, "at"))) + " ";
          if (Field(ev, "kind") == "customs_decision") {
            const std::string decision = Field(ev, "decision");
            out += std::string(w.customs) + ": <span class=\"" + (decision == "released" ? "" : "bad") + "\">" +
                   E(Term(decision, lang)) + "</span> " + E(Field(ev, "reason"));
          } else {
            out += E(Term(Field(ev, "biz_step"), lang)) + " · " + E(Field(ev, "from_name")) + " → " + E(Field(ev, "to_name")) +
                   " · " + E(Field(ev, "location"));
          }
          out += "</li>";
        }
      }
      out += "</ol>";
    }
    out += "</section>";
  }
  const Json& m = doc.contains("merchant") ? doc.at("merchant") : Json();
  if (m.is_object()) {
    out += "<section id=\"merchant\"><h2>" + std::string(w.merchant) + "</h2><dl>";
    Row(out, w.name, Field(m, "name"));
    out += "<dt>" + std::string(w.credit) + "</dt><dd id=\"credit\">";
    const Json& c = m.contains("credit") ? m.at("credit") : Json();
    if (c.is_object()) {
      out += "<b>" + E(Field(c, "grade")) + "</b>";
      const std::string list = Field(c, "list");
      if (list == "red") out += " · " + std::string(w.red_list);
      if (list == "black") out += " · <span class=\"bad\">" + std::string(w.black_list) + "</span>";
    } else {
      out += w.not_rated;
    }
    out += "</dd></dl></section>";
  }
  const Json& sc = doc.contains("scans") ? doc.at("scans") : Json();
  if (sc.is_object() && sc.contains("count")) {
    out += "<section id=\"scans\"><h2>" + std::string(w.scans) + "</h2><dl>";
    Row(out, w.scan_count, Field(sc, "count"));
    Row(out, w.regions, Field(sc, "regions"));
    Row(out, w.first_scan, Day(Field(sc, "first_scan")));
    out += "</dl></section>";
  }
  return out;
}

std::string Forms(const Json& doc, const Words& w) {
  std::string out;
  const std::string code = doc.contains("code") ? Field(doc.at("code"), "text") : "";
  const Json& pin = doc.contains("pin") ? doc.at("pin") : Json();
  // No PIN form for a code that is not genuine: /v1/pin refuses those.
  if (pin.is_object() && pin.value("has_pin", false) && Field(doc, "verdict") != "not_genuine") {
    // Without JavaScript this is a plain form post; /v1/pin answers a page.
    out += "<section id=\"pin\"><h2>" + std::string(w.pin_title) + "</h2><p class=\"muted\">" + w.pin_help +
           "</p><form method=\"post\" action=\"/v1/pin\" data-json data-consumed=\"" + E(w.pin_consumed) +
           "\" data-already_consumed=\"" + E(w.pin_already) + "\" data-wrong=\"" + E(w.pin_wrong) +
           "\" data-error=\"" + E(w.pin_error) + "\"><input type=\"hidden\" name=\"code\" value=\"" + E(code) +
           "\"><input name=\"pin\" id=\"pin-input\" required autocomplete=\"off\" autocapitalize=\"characters\" "
           "maxlength=\"20\" placeholder=\"XXXX-XXXX-XXXX\"><button>" +
           w.pin_submit + "</button><output id=\"pin-result\"></output></form></section>";
  }
  const std::string merchant = doc.contains("merchant") ? Field(doc.at("merchant"), "party") : "";
  out += "<section id=\"complaint\" data-js hidden><h2>" + std::string(w.complaint_title) +
         "</h2><form method=\"post\" action=\"/v1/complaints\" data-json data-ok=\"" + E(w.complaint_ok) +
         "\" data-error=\"" + E(w.complaint_error) + "\">";
  if (!code.empty()) out += "<input type=\"hidden\" name=\"code\" value=\"" + E(code) + "\">";
  if (!merchant.empty()) out += "<input type=\"hidden\" name=\"merchant\" value=\"" + E(merchant) + "\">";
  out += "<label>" + std::string(w.complaint_category) + "<select name=\"category\">";
  const std::pair<const char*, const char*> categories[] = {{"counterfeit", w.cat_counterfeit},
                                                            {"quality", w.cat_quality},
                                                            {"labelling", w.cat_labelling},
                                                            {"service", w.cat_service},
                                                            {"other", w.cat_other}};
  for (const auto& [value, label] : categories) {
    out += "<option value=\"" + std::string(value) + "\">" + label + "</option>";
  }
  out += "</select></label><label>" + std::string(w.complaint_text) +
         "<textarea name=\"text\" required maxlength=\"2000\" rows=\"3\"></textarea></label><label>" +
         w.complaint_contact + "<input name=\"contact\" maxlength=\"200\"></label><button>" + w.complaint_submit +
         "</button><output></output></form></section><noscript><p class=\"muted\">" + w.complaint_nojs +
         "</p></noscript>";
  return out;
}

}  // namespace

std::string_view LangTag(Lang lang) { return lang == Lang::kZh ? "zh-CN" : "en"; }

Lang ChooseLang(const std::optional<std::string>& lang_param, std::string_view accept_language) {
  if (lang_param) {
    const std::string p = Lower(*lang_param);
    if (p == "zh" || p == "zh-cn" || p == "zh-hans") return Lang::kZh;
    if (p == "en" || p.starts_with("en-")) return Lang::kEn;
  }
  double zh = -1, en = -1;
  for (const auto& [tag, q] : QualityList(accept_language)) {
    if (q <= 0) continue;
    if (tag == "zh" || tag.starts_with("zh-")) zh = std::max(zh, q);
    if (tag == "en" || tag.starts_with("en-")) en = std::max(en, q);
  }
  return zh > en ? Lang::kZh : Lang::kEn;
}

std::string RenderCodePage(const Json& doc, const PageContext& ctx) {
  const Words& w = W(ctx.lang);
  const std::string verdict = Field(doc, "verdict");
  const bool unknown = doc.contains("error");
  const char* explain = verdict == "genuine"   ? w.genuine_explain
                        : verdict == "warning" ? w.warning_explain
                        : unknown              ? w.unknown_explain
                                               : w.not_genuine_explain;
  std::string out = Head(ctx, w.title);
  out += VerdictBox(verdict, explain, w);
  out += Warnings(doc, w);
  out += ProductSections(doc, w, ctx.lang);
  out += Forms(doc, w);  // a forged code is exactly what a consumer may want to report
  if (doc.contains("code") && doc.at("code").is_object()) {
    const Json& c = doc.at("code");
    out += "<p class=\"muted\">" + std::string(w.code) + ": GTIN " + E(Field(c, "gtin")) + " · " + w.lot + " " +
           E(Field(c, "lot")) + " · SN " + E(Field(c, "serial")) + "</p>";
  }
  return out + Tail();
}

std::string RenderErrorPage(int status, std::string_view code, std::string_view message, const PageContext& ctx) {
  const Words& w = W(ctx.lang);
  std::string out = Head(ctx, w.title);
  if (status >= 500) {
    out += "<section id=\"verdict\" data-verdict=\"unavailable\"><h1 id=\"verdict-text\">" +
           std::string(w.unavailable) + "</h1></section>";
  } else {
    out += VerdictBox("not_genuine", w.bad_link, w);
  }
  out += "<p class=\"muted\">" + E(code) + ": " + E(message) + "</p>";
  return out + Tail();
}

std::string RenderPinPage(std::string_view outcome, std::string_view detail, std::string_view back,
                          const PageContext& ctx) {
  const Words& w = W(ctx.lang);
  const char* text = outcome == "consumed"           ? w.pin_consumed
                     : outcome == "already_consumed" ? w.pin_already
                     : outcome == "wrong"            ? w.pin_wrong
                                                     : w.pin_error;
  std::string out = Head(ctx, w.pin_title);
  out += "<section id=\"pin-result\" data-outcome=\"" + E(outcome) + "\"><h1>" + text + "</h1>";
  if (!detail.empty()) out += "<p class=\"muted\">" + E(detail) + "</p>";
  if (!back.empty()) out += "<p><a href=\"" + E(back) + "\">" + w.back + "</a></p>";
  return out + "</section>" + Tail();
}

}  // namespace traceledger::api
