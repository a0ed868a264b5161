// GET /openapi.json serves api/openapi.json byte for byte, as compiled in.
// (tests/tools/ops_cli_test.cc checks it against traced's route table.)
#include "api/openapi.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

namespace traceledger::api {
namespace {

TEST(OpenApiTest, ServesTheSourceDocumentAsJson) {
  std::ifstream in(TRACELEDGER_OPENAPI_JSON, std::ios::binary);
  const std::string source(std::istreambuf_iterator<char>(in), {});
  ASSERT_FALSE(source.empty());
  EXPECT_EQ(OpenApiDocument(), source);
  HttpServer server(ServerOptions{});
  AddOpenApiRoute(server);
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  HttpClient client("http://127.0.0.1:" + std::to_string(*port));
  auto r = client.Get("/openapi.json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->content_type.find("application/json"), std::string::npos);
  EXPECT_EQ(r->body, source);
  auto doc = nlohmann::json::parse(r->body, nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_TRUE(doc["components"]["schemas"].contains("Error"));
}

}  // namespace
}  // namespace traceledger::api
