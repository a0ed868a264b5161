#include "api/http.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace traceledger::api {
namespace {

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(ServerOptions{.max_body_bytes = 1024});
    server_->Route("GET", "/blocks/{height}", [](const HttpRequest& req) {
      return JsonOk("{\"height\":\"" + req.path_params.at("height") + "\",\"q\":\"" + req.Query("x").value_or("") +
                    "\",\"h\":\"" + req.Header("x-test") + "\"}");
    });
    server_->Route("POST", "/echo", [](const HttpRequest& req) {
      HttpResponse r;
      r.content_type = "text/plain";
      r.body = req.body;
      r.SetHeader("X-Len", std::to_string(req.body.size()));
      return r;
    });
    server_->Route("GET", "/boom", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("secret"); });
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error();
    client_ = std::make_unique<HttpClient>("http://127.0.0.1:" + std::to_string(*port));
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(HttpTest, RoutesPathParamsQueryAndHeaders) {
  auto r = client_->Get("/blocks/42?x=a%20b", {{"X-Test", "yes"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"height":"42","q":"a b","h":"yes"})");
  EXPECT_NE(r->content_type.find("application/json"), std::string::npos);
}

TEST_F(HttpTest, UnknownPathIs404AndWrongMethodIs405) {
  auto r = client_->Get("/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("\"code\":\"not_found\""), std::string::npos);
  r = client_->Post("/blocks/1", "{}", "application/json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 405);
  EXPECT_NE(r->body.find("\"code\":\"method_not_allowed\""), std::string::npos);
}

TEST_F(HttpTest, BodyLimitGives413InOurErrorShape) {
  auto ok = client_->Post("/echo", std::string(1000, 'a'), "text/plain");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.size(), 1000u);
  auto big = client_->Post("/echo", std::string(5000, 'a'), "text/plain");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("\"code\":\"body_too_large\""), std::string::npos);
}

TEST_F(HttpTest, ThrowingHandlerAnswers500WithoutDetail) {
  auto r = client_->Get("/boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("\"code\":\"internal\""), std::string::npos);
  EXPECT_EQ(r->body.find("secret"), std::string::npos);
}

TEST(HttpClientTest, RefusedConnectionIsAConnectError) {
  HttpServer probe(ServerOptions{});
  auto port = probe.Start();
  ASSERT_TRUE(port.ok());
  probe.Stop();  // the port is now (very likely) closed
  HttpClient client("http://127.0.0.1:" + std::to_string(*port), ClientOptions{.connect_timeout_ms = 500});
  auto r = client.Get("/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, HttpErrorCode::kConnect);
}

TEST(HttpServerTest, PortInUseIsAClearError) {
  HttpServer first(ServerOptions{});
  auto port = first.Start();
  ASSERT_TRUE(port.ok());
  HttpServer second(ServerOptions{.port = *port});
  auto again = second.Start();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find(std::to_string(*port)), std::string::npos);
}

}  // namespace
}  // namespace traceledger::api
