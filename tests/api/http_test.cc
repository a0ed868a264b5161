#include "api/http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
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

// A raw TCP connection to a loopback port, for requests no well-behaved
// client sends.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything the server sends until it closes the connection; nullopt
  // if it is still open after `limit` (a test failure, not a timing).
  std::optional<std::string> ReadUntilClosed(std::chrono::seconds limit) {
    std::string out;
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < give_up) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;  // closed (or reset)
      out.append(buf, static_cast<size_t>(n));
    }
    return std::nullopt;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST(HttpAbuseTest, ASilentClientIsCutOffAfterTheReadTimeoutWhileOthersAreServed) {
  HttpServer server(ServerOptions{.read_timeout_s = 1, .keep_alive_timeout_s = 1, .threads = 2});
  server.Route("GET", "/ok", [](const HttpRequest&) { return JsonOk("{}"); });
  auto port = server.Start();
  ASSERT_TRUE(port.ok()) << port.error();
  // Slowloris: a request line and one header, then silence.
  RawConnection slow(*port);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.Send("GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  HttpClient client("http://127.0.0.1:" + std::to_string(*port));
  auto r = client.Get("/ok");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  auto answer = slow.ReadUntilClosed(std::chrono::seconds(30));
  ASSERT_TRUE(answer.has_value()) << "the server kept a silent client's connection open";
  EXPECT_EQ(answer->find("200 OK"), std::string::npos) << "an incomplete request was answered";
  r = client.Get("/ok");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpAbuseTest, OversizedHeaderLinesAndTargetsAreRefused) {
  HttpServer server(ServerOptions{.keep_alive_timeout_s = 1});
  server.Route("GET", "/ok", [](const HttpRequest&) { return JsonOk("{}"); });
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  {
    RawConnection c(*port);
    ASSERT_TRUE(c.connected());
    c.Send("GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(10'000, 'a') + "\r\n\r\n");
    auto answer = c.ReadUntilClosed(std::chrono::seconds(30));
    ASSERT_TRUE(answer.has_value());
    EXPECT_TRUE(answer->starts_with("HTTP/1.1 400")) << answer->substr(0, 200);
    EXPECT_NE(answer->find("\"code\":\"bad_request\""), std::string::npos) << *answer;
  }
  {
    RawConnection c(*port);
    ASSERT_TRUE(c.connected());
    c.Send("GET /ok?" + std::string(10'000, 'q') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto answer = c.ReadUntilClosed(std::chrono::seconds(30));
    ASSERT_TRUE(answer.has_value());
    EXPECT_TRUE(answer->starts_with("HTTP/1.1 414")) << answer->substr(0, 200);
  }
  HttpClient client("http://127.0.0.1:" + std::to_string(*port));
  auto r = client.Get("/ok");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServerTest, RoutesListsTheTableInRegistrationOrder) {
  HttpServer server(ServerOptions{});
  server.Route("GET", "/a/{x}", [](const HttpRequest&) { return JsonOk("{}"); });
  server.Route("POST", "/b", [](const HttpRequest&) { return JsonOk("{}"); });
  auto routes = server.routes();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].method, "GET");
  EXPECT_EQ(routes[0].pattern, "/a/{x}");
  EXPECT_EQ(routes[1].method, "POST");
  EXPECT_EQ(routes[1].pattern, "/b");
}

}  // namespace
}  // namespace traceledger::api
