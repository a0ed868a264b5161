// The JSON-RPC transport's mapping of answers to errors, against a real
// HTTP server on loopback (api/http.h) that answers what each test needs.
#include "api/jsonrpc_client.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "api/http.h"

namespace traceledger::api {
namespace {

using Json = nlohmann::json;
using chain::RpcErrorCode;

class JsonRpcClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(ServerOptions{});
    server_->Route("POST", "/v3/secret", [this](const HttpRequest& req) {
      std::lock_guard lock(mu_);
      last_request_ = Json::parse(req.body);
      return answer_(last_request_);
    });
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error();
    url_ = "http://127.0.0.1:" + std::to_string(*port) + "/v3/secret";
    auto client = JsonRpcHttpClient::Create(url_, {.connect_timeout_ms = 1000, .read_timeout_ms = 5000});
    ASSERT_TRUE(client.ok()) << client.error();
    client_ = std::move(client).value();
  }
  void TearDown() override { server_->Stop(); }

  void Answer(std::function<HttpResponse(const Json&)> answer) {
    std::lock_guard lock(mu_);
    answer_ = std::move(answer);
  }
  static HttpResponse Body(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }

  std::mutex mu_;
  std::function<HttpResponse(const Json&)> answer_;
  Json last_request_;
  std::unique_ptr<HttpServer> server_;
  std::string url_;
  std::unique_ptr<JsonRpcHttpClient> client_;
};

TEST_F(JsonRpcClientTest, SendsAJsonRpc2RequestToThePathAndReturnsTheResult) {
  Answer([](const Json& req) {
    return Body(200, Json{{"jsonrpc", "2.0"}, {"id", req["id"]}, {"result", {{"number", "0x1"}}}}.dump());
  });
  auto r = client_->Call("eth_getBlockByNumber", R"(["latest",false])");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, R"({"number":"0x1"})");
  EXPECT_EQ(last_request_["jsonrpc"], "2.0");
  EXPECT_EQ(last_request_["method"], "eth_getBlockByNumber");
  EXPECT_EQ(last_request_["params"], Json::parse(R"(["latest",false])"));
  EXPECT_EQ(client_->Describe(), url_);
}

TEST_F(JsonRpcClientTest, ErrorObjectIsRemoteWithCodeAndMessage) {
  Answer([](const Json& req) {
    return Body(200, Json{{"jsonrpc", "2.0"},
                          {"id", req["id"]},
                          {"error", {{"code", -32000}, {"message", "nonce too low"}}}}
                         .dump());
  });
  auto r = client_->Call("eth_sendRawTransaction", R"(["0x00"])");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RpcErrorCode::kRemote);
  EXPECT_EQ(r.error().rpc_code, -32000);
  EXPECT_NE(r.error().message.find("nonce too low"), std::string::npos);
  // Some nodes put the JSON-RPC error in a 4xx answer: still kRemote.
  Answer([](const Json& req) {
    return Body(400,
                Json{{"jsonrpc", "2.0"}, {"id", req["id"]}, {"error", {{"code", -32602}, {"message", "bad"}}}}
                    .dump());
  });
  r = client_->Call("eth_chainId", "[]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RpcErrorCode::kRemote);
}

TEST_F(JsonRpcClientTest, OverloadIsUnavailableAndNonsenseIsProtocol) {
  struct Case {
    std::function<HttpResponse(const Json&)> answer;
    RpcErrorCode code;
    const char* what;
  };
  const Case cases[] = {
      {[](const Json&) { return Body(503, "busy"); }, RpcErrorCode::kUnavailable, "503"},
      {[](const Json&) { return Body(429, "slow down"); }, RpcErrorCode::kUnavailable, "429"},
      {[](const Json&) { return Body(200, "<html>"); }, RpcErrorCode::kProtocol, "not JSON"},
      {[](const Json&) { return Body(404, R"({"x":1})"); }, RpcErrorCode::kProtocol, "404 object"},
      {[](const Json& req) {
         return Body(200, Json{{"jsonrpc", "2.0"}, {"id", req["id"]}}.dump());
       },
       RpcErrorCode::kProtocol, "no result"},
      {[](const Json& req) {
         return Body(200,
                     Json{{"jsonrpc", "2.0"}, {"id", req["id"].get<uint64_t>() + 1}, {"result", 1}}.dump());
       },
       RpcErrorCode::kProtocol, "other id"},
  };
  for (const Case& c : cases) {
    Answer(c.answer);
    auto r = client_->Call("eth_chainId", "[]");
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.error().code, c.code) << c.what << ": " << r.error().message;
  }
}

TEST_F(JsonRpcClientTest, RefusedConnectionIsUnavailable) {
  server_->Stop();
  auto r = client_->Call("eth_chainId", "[]");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RpcErrorCode::kUnavailable);
}

TEST(JsonRpcClientCreateTest, RejectsUrlsItCannotUse) {
  EXPECT_FALSE(JsonRpcHttpClient::Create("ftp://example.com").ok());
  EXPECT_FALSE(JsonRpcHttpClient::Create("127.0.0.1:8545").ok());
  EXPECT_FALSE(JsonRpcHttpClient::Create("http://").ok());
  EXPECT_TRUE(JsonRpcHttpClient::Create("https://mainnet.example/v3/key").ok());
}

}  // namespace
}  // namespace traceledger::api
