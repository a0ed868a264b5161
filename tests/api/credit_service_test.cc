// The credit routes (api/credit_service.h): handlers called directly, and
// the same routes on a real server on a loopback port.
#include "api/credit_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "ledger/credit_report.h"
#include "tests/ledger/credit_fixture.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using ledger::RecordKind;

class CreditServiceTest : public ledger::testing::CreditFixture {
 protected:
  void SetUp() override {
    CreditFixture::SetUp();
    Merchant("acme");
    Merchant("globex");
    listing_ = Event("globex", "black_list", "2026-11-20");
    Event("acme", "complaint_upheld", "2026-11-20", {{"complaint_sha256", std::string(64, 'a')}});
    Event("acme", "reward", "2026-11-20");
    service_ = std::make_unique<CreditService>(*ledger_, book_, CreditServiceOptions{.signer = op_.key});
    unsigned_service_ = std::make_unique<CreditService>(*ledger_, book_, CreditServiceOptions{});
  }

  static HttpRequest Req(std::map<std::string, std::string> params, std::string query_height = "",
                         std::string accept = "") {
    HttpRequest r;
    r.method = "GET";
    r.path_params = std::move(params);
    if (!query_height.empty()) r.query.emplace("height", query_height);
    if (!accept.empty()) r.headers.emplace_back("Accept", accept);
    return r;
  }
  static std::string Code(const HttpResponse& r) {
    auto j = Json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }

  ledger::Receipt listing_;
  std::unique_ptr<CreditService> service_;
  std::unique_ptr<CreditService> unsigned_service_;
};

TEST_F(CreditServiceTest, ProfileHasTheSixCategoriesAndTheRecordsBehindTheGrade) {
  auto r = service_->Profile(Req({{"merchant", "acme"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["grade"], "B");
  EXPECT_EQ(j["list"], "");
  EXPECT_EQ(j["policy_version"], 0);
  for (const char* category :
       {"subject", "business", "regulatory", "service", "reward_punishment", "complaint"}) {
    EXPECT_TRUE(j["disclosure"].contains(category)) << category;
  }
  EXPECT_EQ(j["disclosure"]["subject"]["party"], "acme");
  EXPECT_EQ(j["disclosure"]["subject"]["name"], "acme Ltd");
  ASSERT_EQ(j["disclosure"]["complaint"].size(), 1u);
  EXPECT_EQ(j["disclosure"]["complaint"][0]["fact"], "complaint_upheld");
  ASSERT_EQ(j["disclosure"]["reward_punishment"].size(), 1u);
  EXPECT_EQ(j["disclosure"]["reward_punishment"][0]["fact"], "reward");
  EXPECT_EQ(j["contributions"].size(), 4u);

  auto black = Json::parse(service_->Profile(Req({{"merchant", "globex"}})).body);
  EXPECT_EQ(black["list"], "black");
  EXPECT_EQ(black["grade"], "D");
  EXPECT_EQ(black["disclosure"]["reward_punishment_listings"][0]["record"], Hex(listing_));
}

TEST_F(CreditServiceTest, ProfileErrors) {
  auto r = service_->Profile(Req({{"merchant", "nobody"}}));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "not_rated");
  r = service_->Profile(Req({{"merchant", "samr"}}));  // a regulator, not a merchant
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "not_rated");
  r = service_->Profile(Req({{"merchant", "Acme!"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "invalid_merchant");
  r = service_->Profile(Req({{"merchant", "acme"}}, "x1"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "invalid_height");
  r = service_->Profile(Req({{"merchant", "acme"}}, "-1"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "invalid_height");
  r = service_->Profile(Req({{"merchant", "acme"}}, "999999"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "unknown_height");
  // At the height of acme's registration: rated, before the complaint.
  const uint64_t registered = ledger_->GetParty("acme")->value().height;
  r = service_->Profile(Req({{"merchant", "acme"}}, std::to_string(registered)));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body)["contributions"].size(), 2u);
  r = service_->Profile(Req({{"merchant", "acme"}}, std::to_string(registered - 1)));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "not_rated");
}

TEST_F(CreditServiceTest, ListsAndHistory) {
  auto r = service_->List(Req({{"list", "black"}}));
  ASSERT_EQ(r.status, 200);
  Json j = Json::parse(r.body);
  ASSERT_EQ(j["merchants"].size(), 1u);
  EXPECT_EQ(j["merchants"][0]["merchant"], "globex");
  EXPECT_EQ(j["merchants"][0]["since"], "2026-11-21");
  r = service_->List(Req({{"list", "red"}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Json::parse(r.body)["merchants"].empty());
  r = service_->List(Req({{"list", "grey"}}));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "unknown_list");
  r = service_->List(Req({{"list", "black"}}, std::to_string(listing_.height - 1)));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(Json::parse(r.body)["merchants"].empty());

  r = service_->History(Req({{"merchant", "acme"}}));
  ASSERT_EQ(r.status, 200);
  j = Json::parse(r.body);
  EXPECT_EQ(j["merchant"], "acme");
  ASSERT_GE(j["history"].size(), 2u);
  EXPECT_EQ(j["history"][0]["grade"], "B");
  r = service_->History(Req({{"merchant", "nobody"}}));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "not_rated");
}

TEST_F(CreditServiceTest, SignedReportJsonAndHtml) {
  auto r = unsigned_service_->Report(Req({{"merchant", "acme"}}));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(Code(r), "no_signer");
  r = service_->Report(Req({{"merchant", "nobody"}}));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "not_rated");

  r = service_->Report(Req({{"merchant", "acme"}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  auto verified = ledger::VerifyCreditReport(r.body, op_.key.Public());
  ASSERT_TRUE(verified.ok()) << verified.error().message;
  EXPECT_EQ((*verified)["evaluation"]["merchant"], "acme");

  r = service_->Report(Req({{"merchant", "acme"}}, "", "text/html,application/xhtml+xml,*/*;q=0.8"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("Merchant credit report"), std::string::npos);
  EXPECT_NE(r.body.find("verify-report"), std::string::npos);
  // JSON preferred over HTML by q-value.
  r = service_->Report(Req({{"merchant", "acme"}}, "", "text/html;q=0.5, application/json"));
  EXPECT_EQ(r.content_type, "application/json");
}

TEST(CreditReportHtmlTest, EveryValueIsEscaped) {
  Json report = {{"format", "traceledger-credit-report/1"},
                 {"block", {{"height", 3}, {"hash", "<b>h</b>"}}},
                 {"evaluation",
                  {{"merchant", "<script>alert(1)</script>"},
                   {"grade", "A\"B"},
                   {"score", 1},
                   {"policy_version", 0},
                   {"list", "<i>"},
                   {"as_of", "2026-11-21"},
                   {"dimensions", {{"q&a", 1}}},
                   {"caps", {"<cap>"}},
                   {"contributions",
                    {{{"record", "<rec>"},
                      {"kind", "k"},
                      {"fact", "f"},
                      {"dimension", "d"},
                      {"points", 1},
                      {"date", "x"},
                      {"counted", true},
                      {"note", "'n'"}}}}}},
                 {"history", Json::array()},
                 {"operator_key", "<key>"},
                 {"signature", "s"}};
  std::string html = CreditReportHtml(report);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<cap>"), std::string::npos);
  EXPECT_EQ(html.find("<key>"), std::string::npos);
  EXPECT_EQ(html.find("<i>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("A&quot;B"), std::string::npos);
  EXPECT_NE(html.find("q&amp;a"), std::string::npos);
  EXPECT_NE(html.find("&#39;n&#39;"), std::string::npos);
}

TEST_F(CreditServiceTest, LookupAndFollower) {
  CreditLookup lookup = MakeCreditLookup(book_);
  (void)Book();
  auto acme = lookup("acme");
  ASSERT_TRUE(acme.has_value());
  EXPECT_EQ(acme->grade, "B");
  EXPECT_EQ(acme->list, "");
  EXPECT_EQ(acme->as_of_height, ledger_->tip()->height);
  EXPECT_EQ(lookup("globex")->list, "black");
  EXPECT_FALSE(lookup("nobody").has_value());

  // A follower brings a fresh book to the tip without being asked.
  ledger::CreditBook followed;
  CreditFollower follower(*ledger_, followed, /*interval_ms=*/10);
  const uint64_t tip = ledger_->tip()->height;
  for (int i = 0; i < 1000 && followed.next_height() <= tip; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  follower.Stop();
  EXPECT_EQ(followed.next_height(), tip + 1);
  EXPECT_EQ(followed.Evaluate("acme"), book_.Evaluate("acme"));
}

TEST_F(CreditServiceTest, RoutesOnARealServer) {
  HttpServer server(ServerOptions{});
  service_->Register(server);
  auto port = server.Start();
  ASSERT_TRUE(port.ok()) << port.error();
  HttpClient client("http://127.0.0.1:" + std::to_string(*port));
  auto get = [&](const std::string& target) {
    auto r = client.Get(target);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : HttpResponse{};
  };
  auto r = get("/v1/credit/acme");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body)["merchant"], "acme");
  r = get("/v1/credit/lists/black");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body)["merchants"][0]["merchant"], "globex");
  r = get("/v1/credit/lists/grey");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "unknown_list");
  r = get("/v1/credit/acme/history");
  EXPECT_EQ(r.status, 200);
  r = get("/v1/credit/acme/report");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(ledger::VerifyCreditReport(r.body, op_.key.Public()).ok());
  r = get("/v1/credit/nobody");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "not_rated");
  r = get("/v1/credit/acme?height=abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "invalid_height");
  auto post = client.Post("/v1/credit/acme", "{}", "application/json");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 405);
  server.Stop();
}

}  // namespace
}  // namespace traceledger::api
