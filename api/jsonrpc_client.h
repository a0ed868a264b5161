// Ethereum JSON-RPC over HTTP: the implementation of chain::JsonRpcTransport
// on top of api/http.h's HttpClient (the only HTTP layer). One POST per
// call, JSON-RPC 2.0 envelope, no batching.
#ifndef TRACELEDGER_API_JSONRPC_CLIENT_H_
#define TRACELEDGER_API_JSONRPC_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/http.h"
#include "chain/eth_rpc.h"
#include "util/result.h"

namespace traceledger::api {

struct JsonRpcClientOptions {
  int connect_timeout_ms = 3000;
  int read_timeout_ms = 15000;
};

class JsonRpcHttpClient : public chain::JsonRpcTransport {
 public:
  // `url` is "http://host:port[/path]" or "https://…" (the path, e.g. a
  // provider's "/v3/<key>", is where requests are posted; default "/").
  // Returns a message naming the URL when it is not of that form.
  [[nodiscard]] static Result<std::unique_ptr<JsonRpcHttpClient>, std::string> Create(
      const std::string& url, JsonRpcClientOptions options = {});

  // Transport failures, HTTP 5xx and 429 are kUnavailable; other non-200
  // statuses, bodies that are not a JSON-RPC 2.0 response to this call's id,
  // or lack both "result" and "error", are kProtocol; an "error" object is
  // kRemote with its code and message. Thread-safe.
  [[nodiscard]] Result<std::string, chain::RpcError> Call(std::string_view method,
                                                          std::string_view params_json) override;
  std::string Describe() const override { return url_; }

 private:
  JsonRpcHttpClient(std::string url, std::string origin, std::string path, JsonRpcClientOptions options);

  std::string url_;
  std::string path_;
  HttpClient http_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_JSONRPC_CLIENT_H_
