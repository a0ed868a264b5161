// The Digital Link resolver, consumer page and PIN check
// (api/resolver_service.h) on a real server on a loopback port over a real
// ledger: every route on the happy path and on malformed input, content
// negotiation, HEAD/OPTIONS/CORS, escaping, rate limits, PIN consumption,
// clone warnings, and the page's size.
#include "api/resolver_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "api/resolver_page.h"
#include "tests/api/http_answer.h"
#include "tests/api/resolver_world.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using testing::ResolverWorld;

constexpr const char* kBrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

using traceledger::testing::Answer;

// The codes of a resolver answer's warnings, in order.
std::vector<std::string> Warnings(const Answer& a) {
  std::vector<std::string> out;
  if (a.json.is_object() && a.json.contains("warnings"))
    for (const auto& w : a.json["warnings"]) out.push_back(w.value("code", ""));
  return out;
}

class ResolverTest : public ResolverWorld {
 protected:
  Answer Send(const std::string& method, const std::string& target,
              std::vector<std::pair<std::string, std::string>> headers = {}, const std::string& body = "",
              const std::string& content_type = "") {
    return traceledger::testing::ToAnswer(client_->Send(method, target, body, content_type, headers));
  }
  Answer Get(const std::string& uri, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Send("GET", Path(uri), std::move(headers));
  }
  Answer Page(const std::string& uri, const std::string& accept_language = "en") {
    return Get(uri, {{"Accept", kBrowserAccept}, {"Accept-Language", accept_language}});
  }
  Answer Pin(const Json& body) { return Send("POST", "/v1/pin", {}, body.dump(), "application/json"); }
};

TEST_F(ResolverTest, GenuineCodeAnswersTheWholeDocument) {
  credit_["acme"] = CreditSummary{.grade = "A", .list = "red", .score = 95, .policy_version = 1, .as_of_height = 7};
  Answer a = Get(good_[0].uri);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_TRUE(a.content_type.starts_with("application/json")) << a.content_type;
  const Json& d = a.json;
  EXPECT_EQ(d["verdict"], "genuine");
  EXPECT_EQ(d["reasons"][0]["code"], "genuine");
  EXPECT_EQ(d["code"]["gtin"], kGtinA);
  EXPECT_EQ(d["code"]["lot"], "L1");
  EXPECT_EQ(d["code"]["serial"], Serial(good_[0].uri));
  EXPECT_EQ(d["code"]["status"], "valid");
  EXPECT_EQ(d["code"]["issuer"], "acme");
  EXPECT_EQ(d["product"]["name"], "Jasmine tea");
  EXPECT_EQ(d["product"]["origin_country"], "CN");
  EXPECT_EQ(d["product"]["origin_region"], "Fujian");
  EXPECT_EQ(d["product"]["production_site"], "Fuzhou plant 2");
  EXPECT_EQ(d["product"]["manufacturer"], "Acme Tea Co.");
  EXPECT_EQ(d["lot"]["production_date"], "2026-11-01");
  EXPECT_EQ(d["lot"]["expiry_date"], "2028-11-01");
  EXPECT_TRUE(d["lot"]["recall"].is_null());
  ASSERT_EQ(d["inspections"].size(), 1u);
  EXPECT_EQ(d["inspections"][0]["result"], "conformant");
  EXPECT_EQ(d["inspections"][0]["inspector"], "lab");
  EXPECT_EQ(d["inspections"][0]["inspector_name"], "lab Ltd");
  ASSERT_EQ(d["custody"].size(), 1u);
  EXPECT_EQ(d["custody"][0]["shipment"], "S1");
  ASSERT_EQ(d["custody"][0]["events"].size(), 2u);
  EXPECT_EQ(d["custody"][0]["events"][0]["kind"], "custody");
  EXPECT_EQ(d["custody"][0]["events"][0]["to_name"], "carrier Ltd");
  EXPECT_EQ(d["custody"][0]["events"][1]["kind"], "customs_decision");
  EXPECT_EQ(d["custody"][0]["events"][1]["decision"], "released");
  EXPECT_EQ(d["merchant"]["party"], "acme");
  EXPECT_EQ(d["merchant"]["name"], "acme Ltd");
  EXPECT_EQ(d["merchant"]["credit"]["grade"], "A");
  EXPECT_EQ(d["merchant"]["credit"]["list"], "red");
  EXPECT_EQ(d["scans"]["count"], 1);
  EXPECT_EQ(d["scans"]["regions"], 1);
  EXPECT_TRUE(d["warnings"].empty());
  EXPECT_EQ(d["pin"]["has_pin"], true);
  EXPECT_EQ(d["pin"]["consumed"], false);
  EXPECT_EQ(a.Header("Vary"), "Accept, Accept-Language");
  EXPECT_EQ(a.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(service_->scans_recorded(), 1u);
  // Same code again: counted.
  EXPECT_EQ(Get(good_[0].uri).json["scans"]["count"], 2);
  EXPECT_EQ(service_->scans_recorded(), 2u);
}

TEST_F(ResolverTest, UnratedMerchantSaysSo) {
  Answer a = Get(good_[0].uri);
  EXPECT_EQ(a.json["merchant"]["rated"], false);
  EXPECT_TRUE(a.json["merchant"]["credit"].is_null());
  Answer page = Page(good_[0].uri);
  EXPECT_NE(page.body.find("not rated"), std::string::npos);
}

TEST_F(ResolverTest, StatusesBecomeVerdictsAndWarnings) {
  Answer revoked = Get(good_[3].uri);
  EXPECT_EQ(revoked.status, 200);
  EXPECT_EQ(revoked.json["verdict"], "not_genuine");
  EXPECT_EQ(Warnings(revoked), std::vector<std::string>{"revoked"});

  Answer recalled = Get(recalled_[0].uri);
  EXPECT_EQ(recalled.status, 200);
  EXPECT_EQ(recalled.json["verdict"], "warning");
  EXPECT_EQ(Warnings(recalled), std::vector<std::string>{"recalled"});
  EXPECT_EQ(recalled.json["lot"]["recall"]["reason"], "mislabelled allergens");

  Answer failed = Get(failed_[0].uri);
  EXPECT_EQ(failed.json["verdict"], "warning");
  EXPECT_EQ(Warnings(failed), std::vector<std::string>{"failed_inspection"});
}

TEST_F(ResolverTest, ForgedAndUnknownCodesAreNotGenuine) {
  Answer tampered = Get(Tampered(good_[0].uri));
  EXPECT_EQ(tampered.status, 200);
  EXPECT_EQ(tampered.json["verdict"], "not_genuine");
  EXPECT_EQ(tampered.json["reasons"][0]["code"], "bad_signature");
  EXPECT_FALSE(tampered.json.contains("product"));

  Answer never = Get(NeverIssued());
  EXPECT_EQ(never.status, 404);
  EXPECT_EQ(never.ErrorCode(), "unknown_code");
  EXPECT_EQ(never.json["verdict"], "not_genuine");
  EXPECT_EQ(never.json["reasons"][0]["code"], "never_issued");

  Answer unknown = Get(UnknownKey());
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.ErrorCode(), "unknown_code");
  EXPECT_EQ(unknown.json["reasons"][0]["code"], "unknown_key");

  Answer page = Page(UnknownKey());
  EXPECT_EQ(page.status, 404);
  EXPECT_TRUE(page.content_type.starts_with("text/html")) << page.content_type;
  EXPECT_NE(page.body.find("data-verdict=\"not_genuine\""), std::string::npos);
  EXPECT_NE(page.body.find("Not genuine"), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/v1/complaints\""), std::string::npos);  // report it
  // Nothing of it was recorded as a scan.
  EXPECT_EQ(service_->scans_recorded(), 0u);
  // A revoked code (issued, so its scans count) offers no PIN form.
  EXPECT_EQ(Page(good_[3].uri).body.find("action=\"/v1/pin\""), std::string::npos);
}

TEST_F(ResolverTest, MalformedLinksAre400WithTheReason) {
  std::string path = Path(good_[0].uri);
  std::string bad_digit = path;
  bad_digit[17] = bad_digit[17] == '3' ? '4' : '3';  // the GTIN's check digit (/01/ + 13 digits)
  Answer a = Send("GET", bad_digit);
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(a.ErrorCode(), "bad_link");
  EXPECT_NE(a.json["error"]["message"].get<std::string>().find("bad_check_digit"), std::string::npos) << a.body;

  Answer no_sig = Send("GET", path.substr(0, path.find("&92=")));
  EXPECT_EQ(no_sig.status, 400);
  EXPECT_EQ(no_sig.ErrorCode(), "bad_link");
  EXPECT_NE(no_sig.body.find("missing_signature"), std::string::npos) << no_sig.body;

  Answer extra = Send("GET", path + "&93=x");
  EXPECT_EQ(extra.status, 400);
  EXPECT_NE(extra.body.find("unexpected_attribute"), std::string::npos) << extra.body;

  Answer page = Send("GET", bad_digit, {{"Accept", kBrowserAccept}});
  EXPECT_EQ(page.status, 400);
  EXPECT_TRUE(page.content_type.starts_with("text/html"));
  EXPECT_NE(page.body.find("Not genuine"), std::string::npos);
  EXPECT_NE(page.body.find("bad_link"), std::string::npos);
  // Not a resolver path at all: the server's 404.
  EXPECT_EQ(Send("GET", "/01/" + std::string(kGtinA)).status, 404);
}

TEST_F(ResolverTest, EncodedSlashInALotResolves) {
  ASSERT_NE(slash_[0].uri.find("L2026%2F11A"), std::string::npos) << slash_[0].uri;
  Answer a = Get(slash_[0].uri);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["code"]["lot"], "L2026/11A");
  EXPECT_EQ(a.json["verdict"], "genuine");
}

TEST_F(ResolverTest, ContentNegotiationAndLanguage) {
  Answer json = Get(good_[0].uri, {{"Accept", "*/*"}});
  EXPECT_TRUE(json.content_type.starts_with("application/json"));
  Answer explicit_json = Get(good_[0].uri, {{"Accept", "application/json, text/html;q=0.5"}});
  EXPECT_TRUE(explicit_json.content_type.starts_with("application/json"));

  Answer en = Page(good_[0].uri, "en-US,en;q=0.9");
  ASSERT_EQ(en.status, 200);
  EXPECT_EQ(en.content_type, "text/html; charset=utf-8");
  EXPECT_NE(en.body.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(en.body.find(">Genuine</h1>"), std::string::npos);
  EXPECT_NE(en.body.find("Jasmine tea"), std::string::npos);
  EXPECT_NE(en.body.find("Fuzhou plant 2"), std::string::npos);
  EXPECT_NE(en.body.find("carrier Ltd"), std::string::npos);
  EXPECT_EQ(en.Header("Content-Language"), "en");

  Answer zh = Page(good_[0].uri, "zh-CN,zh;q=0.9,en;q=0.8");
  EXPECT_NE(zh.body.find("<html lang=\"zh-CN\">"), std::string::npos);
  EXPECT_NE(zh.body.find(">正品</h1>"), std::string::npos);

  // ?lang= overrides Accept-Language and is not part of the code.
  Answer forced = Send("GET", Path(good_[0].uri) + "&lang=zh-CN", {{"Accept", kBrowserAccept}, {"Accept-Language", "en"}});
  ASSERT_EQ(forced.status, 200) << forced.body;
  EXPECT_NE(forced.body.find(">正品</h1>"), std::string::npos);
  // The switch links keep the code and set lang.
  EXPECT_NE(forced.body.find("&amp;lang=en\""), std::string::npos);
}

TEST_F(ResolverTest, PageIsSelfContainedAndSmall) {
  Answer page = Page(good_[0].uri);
  ASSERT_EQ(page.status, 200);
  EXPECT_LT(page.body.size(), 100u * 1024u);
  EXPECT_EQ(page.body.find("http://"), std::string::npos);
  EXPECT_EQ(page.body.find("<link"), std::string::npos);
  EXPECT_EQ(page.body.find("src="), std::string::npos);
  EXPECT_NE(page.body.find("name=\"viewport\""), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/v1/pin\""), std::string::npos);          // has a PIN
  EXPECT_NE(page.body.find("action=\"/v1/complaints\""), std::string::npos);   // complaint form
  Answer no_pin = Page(failed_[0].uri);
  EXPECT_EQ(no_pin.body.find("action=\"/v1/pin\""), std::string::npos);
}

TEST_F(ResolverTest, LedgerStringsAreEscaped) {
  Answer page = Page(hostile_[0].uri);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body.find("<script>alert(1)</script>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;tea&quot;"), std::string::npos);
  // JSON carries it as data.
  EXPECT_EQ(Get(hostile_[0].uri).json["product"]["name"], "<script>alert(1)</script> & \"tea\"");
}

TEST_F(ResolverTest, HeadAndOptions) {
  Answer head = Send("HEAD", Path(good_[0].uri));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(service_->scans_recorded(), 0u);  // HEAD records nothing

  Answer options = Send("OPTIONS", Path(good_[0].uri),
                        {{"Origin", "https://shop.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.Header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(options.Header("Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(options.Header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_NE(options.Header("Access-Control-Allow-Headers").find("Accept"), std::string::npos);
  EXPECT_EQ(service_->scans_recorded(), 0u);
  EXPECT_EQ(Get(good_[0].uri).json["scans"]["count"], 1);
  // A method the route does not take.
  EXPECT_EQ(Send("DELETE", Path(good_[0].uri)).status, 405);
}

TEST_F(ResolverTest, PinIsConsumedOnceThenReportedUsed) {
  const std::string uri = good_[1].uri;
  ASSERT_FALSE(good_[1].pin.empty());
  Answer wrong = Pin({{"code", uri}, {"pin", "0000-0000-0000"}});
  EXPECT_EQ(wrong.status, 200) << wrong.body;
  EXPECT_EQ(wrong.json["outcome"], "wrong");
  EXPECT_EQ(wrong.json["attempts_left"], 4);

  Answer first = Pin({{"code", uri}, {"pin", good_[1].pin}});
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json["outcome"], "consumed");
  Answer again = Pin({{"code", uri}, {"pin", good_[1].pin}});
  EXPECT_EQ(again.json["outcome"], "already_consumed");

  Answer scan = Get(uri);
  EXPECT_EQ(scan.json["verdict"], "warning");
  EXPECT_EQ(Warnings(scan), std::vector<std::string>{"pin_used"});
  EXPECT_EQ(scan.json["pin"]["consumed"], true);
  Answer page = Page(uri);
  EXPECT_NE(page.body.find("data-warning=\"pin_used\""), std::string::npos);
}

TEST_F(ResolverTest, PinFormWithoutJavaScriptGetsAPage) {
  std::string body = "code=";
  for (char c : good_[2].uri) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      body += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      body += buf;
    }
  }
  body += "&pin=" + good_[2].pin;
  Answer a = Send("POST", "/v1/pin", {{"Accept", kBrowserAccept}, {"Accept-Language", "zh-CN"}}, body,
                  "application/x-www-form-urlencoded");
  EXPECT_EQ(a.status, 200) << a.body;
  EXPECT_TRUE(a.content_type.starts_with("text/html"));
  EXPECT_NE(a.body.find("data-outcome=\"consumed\""), std::string::npos) << a.body;
  EXPECT_NE(a.body.find("href=\"/01/"), std::string::npos);  // back to the code's page
}

TEST_F(ResolverTest, PinErrorsNameTheField) {
  EXPECT_EQ(Send("POST", "/v1/pin", {}, "not json", "application/json").ErrorCode(), "bad_json");
  Answer missing_code = Pin({{"pin", "x"}});
  EXPECT_EQ(missing_code.status, 400);
  EXPECT_EQ(missing_code.ErrorCode(), "missing_code");
  EXPECT_EQ(Pin({{"code", 5}, {"pin", "x"}}).ErrorCode(), "bad_code");
  EXPECT_EQ(Pin({{"code", good_[0].uri}}).ErrorCode(), "missing_pin");
  EXPECT_EQ(Pin({{"code", good_[0].uri}, {"pin", 7}}).ErrorCode(), "bad_pin");
  Answer short_pin = Pin({{"code", good_[0].uri}, {"pin", "12345"}});
  EXPECT_EQ(short_pin.status, 400);
  EXPECT_EQ(short_pin.ErrorCode(), "bad_pin");
  Answer bad_code = Pin({{"code", "https://x/01/123"}, {"pin", good_[0].pin}});
  EXPECT_EQ(bad_code.status, 400);
  EXPECT_EQ(bad_code.ErrorCode(), "bad_code");
  Answer unknown = Pin({{"code", NeverIssued()}, {"pin", good_[0].pin}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.ErrorCode(), "unknown_code");
  Answer forged = Pin({{"code", Tampered(good_[0].uri)}, {"pin", good_[0].pin}});
  EXPECT_EQ(forged.status, 422);
  EXPECT_EQ(forged.ErrorCode(), "not_genuine");
  Answer revoked = Pin({{"code", good_[3].uri}, {"pin", good_[3].pin}});
  EXPECT_EQ(revoked.status, 422);
  EXPECT_EQ(revoked.ErrorCode(), "not_genuine");
  Answer no_pin = Pin({{"code", failed_[0].uri}, {"pin", "0000-0000-0000"}});
  EXPECT_EQ(no_pin.status, 409);
  EXPECT_EQ(no_pin.ErrorCode(), "no_pin");
}

TEST_F(ResolverTest, WrongPinsAreRefusedPerCode) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Pin({{"code", good_[0].uri}, {"pin", "0000-0000-0000"}}).json["outcome"], "wrong");
  }
  Answer refused = Pin({{"code", good_[0].uri}, {"pin", good_[0].pin}});
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.ErrorCode(), "pin_attempts_exceeded");
  EXPECT_EQ(refused.Header("Retry-After"), "3600");
}

TEST_F(ResolverTest, ConcurrentScansAndWritesLoseNothing) {
  // 8 scanners on one code and on the others, while a writer appends
  // inspections of the scanned lot: every scan counted once, and the lot's
  // view shows every inspection once the writes are acknowledged.
  constexpr int kScanners = 8, kScansEach = 25, kInspections = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kScanners; ++t) {
    threads.emplace_back([&, t] {
      HttpClient client(url_);
      for (int i = 0; i < kScansEach; ++i) {
        const std::string& uri = (i % 2 == 0) ? good_[0].uri : good_[t % 3].uri;
        auto r = client.Get(Path(uri));
        if (!r.ok() || r->status != 200) failures.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < kInspections; ++i) {
    EXPECT_TRUE(Submit(ledger::RecordKind::kInspection, Inspection("L1", "conformant"), lab_).ok());
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(service_->scans_recorded(), static_cast<uint64_t>(kScanners * kScansEach));
  uint64_t total = 0;
  for (int k = 0; k < 3; ++k) {
    auto state = scans_->Get(kGtinA, Serial(good_[k].uri));
    ASSERT_TRUE(state.ok());
    if (state->has_value()) total += (*state)->scans;
  }
  EXPECT_EQ(total, static_cast<uint64_t>(kScanners * kScansEach));
  Answer after = Get(good_[0].uri);
  EXPECT_EQ(after.json["inspections"].size(), 1u + kInspections);  // the fixture's one, then these
}

class RateLimitedResolverTest : public ResolverTest {
 protected:
  ResolverOptions Options() override {
    ResolverOptions o = ResolverTest::Options();
    o.scan_limit = {.rate_per_s = 1, .burst = 2};
    o.pin_limit = {.rate_per_s = 0.1, .burst = 1};
    return o;
  }
};

TEST_F(RateLimitedResolverTest, ScansAndPinsGet429WithRetryAfter) {
  EXPECT_EQ(Get(good_[0].uri).status, 200);
  EXPECT_EQ(Get(good_[0].uri).status, 200);
  Answer limited = Get(good_[0].uri);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.ErrorCode(), "rate_limited");
  EXPECT_EQ(limited.Header("Retry-After"), "1");
  EXPECT_EQ(service_->scans_recorded(), 2u);
  // HEAD is not limited (and records nothing).
  EXPECT_EQ(Send("HEAD", Path(good_[0].uri)).status, 200);
  mono_s_ = mono_s_ + 1.0;
  EXPECT_EQ(Get(good_[0].uri).status, 200);

  EXPECT_EQ(Pin({{"code", good_[0].uri}, {"pin", "0000-0000-0000"}}).status, 200);
  Answer pin_limited = Pin({{"code", good_[0].uri}, {"pin", good_[0].pin}});
  EXPECT_EQ(pin_limited.status, 429);
  EXPECT_EQ(pin_limited.ErrorCode(), "rate_limited");
  EXPECT_EQ(pin_limited.Header("Retry-After"), "10");
}

class CloneResolverTest : public ResolverTest {
 protected:
  qrcode::ClonePolicy Policy() override { return {.max_scans = 3, .max_regions = 2}; }
};

TEST_F(CloneResolverTest, ManyRegionsRaiseTheCloneWarning) {
  Answer a;
  for (const char* region : {"CN-44", "CN-11", "US-CA"}) a = Get(good_[0].uri, {{"X-Region", region}});
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.json["verdict"], "warning");
  EXPECT_EQ(Warnings(a), std::vector<std::string>{"clone_suspected"});
  EXPECT_EQ(a.json["scans"]["regions"], 3);
  const std::string message = a.json["warnings"][0]["message"];
  EXPECT_EQ(message, "scanned 3 times in 3 regions since 2026-11-21T00:00:00Z");
  Answer page = Get(good_[0].uri, {{"Accept", kBrowserAccept}, {"Accept-Language", "en"}, {"X-Region", "US-CA"}});
  EXPECT_NE(page.body.find("scanned 4 times in 3 regions since 2026-11-21"), std::string::npos) << page.body;
  // A bad header value falls back to the network prefix.
  Answer fallback = Get(good_[1].uri, {{"X-Region", "not a region!"}});
  EXPECT_EQ(fallback.json["scans"]["regions"], 1);
}

// --- the pure parts ---

TEST(ResolverPage, PrefersHtml) {
  EXPECT_TRUE(PrefersHtml(kBrowserAccept));
  EXPECT_TRUE(PrefersHtml("text/html"));
  EXPECT_FALSE(PrefersHtml(""));
  EXPECT_FALSE(PrefersHtml("*/*"));
  EXPECT_FALSE(PrefersHtml("application/json"));
  EXPECT_FALSE(PrefersHtml("text/html;q=0.5, application/json"));
  EXPECT_TRUE(PrefersHtml("text/*, application/json;q=0.4"));
}

TEST(ResolverPage, ChooseLang) {
  EXPECT_EQ(ChooseLang(std::nullopt, ""), Lang::kEn);
  EXPECT_EQ(ChooseLang(std::nullopt, "zh-CN,zh;q=0.9,en;q=0.8"), Lang::kZh);
  EXPECT_EQ(ChooseLang(std::nullopt, "en;q=0.9, zh;q=0.5"), Lang::kEn);
  EXPECT_EQ(ChooseLang(std::nullopt, "fr, zh-TW;q=0.3"), Lang::kZh);
  EXPECT_EQ(ChooseLang(std::string("en"), "zh-CN"), Lang::kEn);
  EXPECT_EQ(ChooseLang(std::string("zh-cn"), "en"), Lang::kZh);
  EXPECT_EQ(ChooseLang(std::string("xx"), "zh"), Lang::kZh);
}

TEST(ResolverPage, HtmlEscape) { EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"); }

TEST(ResolverPage, NetworkRegion) {
  EXPECT_EQ(NetworkRegion("192.168.3.4"), "N4-C0A8");
  EXPECT_EQ(NetworkRegion("::ffff:10.1.2.3"), "N4-0A01");
  EXPECT_EQ(NetworkRegion("2001:db8::1"), "N6-20010DB8");
  EXPECT_EQ(NetworkRegion("nonsense"), "");
  EXPECT_FALSE(qrcode::RegionProblem(NetworkRegion("2001:db8::1")));
}

}  // namespace
}  // namespace traceledger::api
