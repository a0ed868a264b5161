#include "api/jsonrpc_client.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace traceledger::api {
namespace {

using Json = nlohmann::json;
using chain::RpcError;
using chain::RpcErrorCode;

RpcError Protocol(const std::string& url, std::string_view method, std::string message) {
  return RpcError{RpcErrorCode::kProtocol, url + " " + std::string(method) + ": " + std::move(message)};
}

}  // namespace

JsonRpcHttpClient::JsonRpcHttpClient(std::string url, std::string origin, std::string path,
                                     JsonRpcClientOptions options)
    : url_(std::move(url)),
      path_(std::move(path)),
      http_(std::move(origin), ClientOptions{.connect_timeout_ms = options.connect_timeout_ms,
                                             .read_timeout_ms = options.read_timeout_ms}) {}

Result<std::unique_ptr<JsonRpcHttpClient>, std::string> JsonRpcHttpClient::Create(
    const std::string& url, JsonRpcClientOptions options) {
  size_t scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return std::string("RPC URL \"" + url + "\": must start with http:// or https://");
  }
  size_t path_start = url.find('/', scheme_end + 3);
  std::string origin = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (origin.size() == scheme_end + 3) return std::string("RPC URL \"" + url + "\": no host");
  return std::unique_ptr<JsonRpcHttpClient>(new JsonRpcHttpClient(url, origin, path, options));
}

Result<std::string, RpcError> JsonRpcHttpClient::Call(std::string_view method, std::string_view params_json) {
  uint64_t id = next_id_.fetch_add(1);
  Json params = Json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded() || !params.is_array()) {
    return Protocol(url_, method, "params are not a JSON array");  // a caller bug, reported rather than sent
  }
  Json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", std::string(method)}, {"params", params}};
  auto response = http_.Post(path_, request.dump(), "application/json");
  if (!response.ok()) {
    RpcErrorCode code = response.error().code == HttpErrorCode::kProtocol ? RpcErrorCode::kProtocol
                                                                          : RpcErrorCode::kUnavailable;
    return RpcError{code, std::string(method) + ": " + response.error().message};
  }
  if (response->status >= 500 || response->status == 429) {  // overloaded or rate-limited: retry later
    return RpcError{RpcErrorCode::kUnavailable,
                    url_ + " " + std::string(method) + ": HTTP " + std::to_string(response->status)};
  }
  Json body = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  // Some nodes answer JSON-RPC errors with a 4xx status and a JSON-RPC body;
  // read the body whenever it is one.
  if (body.is_discarded() || !body.is_object()) {
    return Protocol(url_, method, "HTTP " + std::to_string(response->status) + ", body is not a JSON object");
  }
  if (auto err = body.find("error"); err != body.end() && !err->is_null()) {
    std::string message = "error";
    int64_t code = 0;
    if (err->is_object()) {
      if (auto m = err->find("message"); m != err->end() && m->is_string()) message = m->get<std::string>();
      if (auto c = err->find("code"); c != err->end() && c->is_number_integer()) code = c->get<int64_t>();
    }
    return RpcError{RpcErrorCode::kRemote,
                    std::string(method) + ": " + message + " (code " + std::to_string(code) + ")", code};
  }
  if (response->status != 200) return Protocol(url_, method, "HTTP " + std::to_string(response->status));
  auto rid = body.find("id");
  if (rid == body.end() || !rid->is_number_unsigned() || rid->get<uint64_t>() != id) {
    return Protocol(url_, method, "response id does not match the request's");
  }
  auto result = body.find("result");
  if (result == body.end()) return Protocol(url_, method, "response has neither result nor error");
  return result->dump();
}

}  // namespace traceledger::api
