// The HTTP layer: a server and a client over cpp-httplib, which no other
// header sees. Handlers take and return plain structs, so the service code
// above (routes, pages, replication, witnesses) is testable without sockets
// and the library could be swapped without touching it.
//
// Errors have one JSON shape everywhere: {"error":{"code":"...","message":"..."}}
// (JsonError). The server installs an exception handler: a handler that
// throws answers 500 "internal" with no detail, never a crash or a trace.
#ifndef TRACELEDGER_API_HTTP_H_
#define TRACELEDGER_API_HTTP_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.h"

namespace traceledger::api {

// A file or field of a multipart/form-data body (RFC 7578), as the server
// parsed it; the request's body is then empty.
struct FormPart {
  std::string name;
  std::string filename;      // "" for a plain field
  std::string content_type;  // "" when the part named none
  std::string content;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path, without the query string
  std::string target;  // the request target as received (path?query, still percent-encoded)
  std::multimap<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> path_params;   // from {name} segments of the route
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<FormPart> form;  // multipart/form-data parts (by field name; body order within a name)
  std::string remote_addr;

  // Case-insensitive; "" when absent (first value when repeated).
  std::string Header(std::string_view name) const;
  std::optional<std::string> Query(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  HttpResponse& SetHeader(std::string name, std::string value);
};

// {"error":{"code":code,"message":message}} with the given status.
HttpResponse JsonError(int status, std::string_view code, std::string_view message);
HttpResponse JsonOk(std::string body, int status = 200);

// Content negotiation and escaping, for the routes that answer HTML to
// browsers and JSON to API clients.
// The entries of an Accept-style header (Accept, Accept-Language):
// (lowercased value, q), in header order; a malformed q counts as 0.
std::vector<std::pair<std::string, double>> QualityList(std::string_view header);
// True when Accept gives text/html (or application/xhtml+xml) a higher
// quality than application/json, counting */* and type/* wildcards; false
// for an absent Accept (API clients get JSON by default).
bool PrefersHtml(std::string_view accept);
// & < > " ' as character references.
std::string HtmlEscape(std::string_view text);

using Handler = std::function<HttpResponse(const HttpRequest&)>;

// One entry of a server's route table, as registered.
struct RouteInfo {
  std::string method;
  std::string pattern;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (see HttpServer::port())
  size_t max_body_bytes = size_t{1} << 20;  // larger bodies: 413
  int read_timeout_s = 10;                  // headers and body
  int write_timeout_s = 10;
  int keep_alive_timeout_s = 5;
  size_t threads = 8;
  // Called once per answered request (after the handler), e.g. for logs
  // and metrics; route is the pattern that matched ("" if none).
  std::function<void(const HttpRequest&, const HttpResponse&, std::string_view route, double seconds)> on_request;
};

// Routes are patterns of literal segments and {name} segments, which match
// one non-empty segment and land in HttpRequest::path_params, e.g.
// "/blocks/{height}". A request for a known path with another method gets
// 405, an unknown path 404, both as JsonError.
class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();  // stops the server
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // REQUIRES: before Start.
  void Route(std::string method, std::string pattern, Handler handler);

  // Binds and starts serving on a background thread. Returns the bound
  // port, or a message naming the address and the reason (in use, no
  // permission, bad address).
  [[nodiscard]] Result<int, std::string> Start();
  // Stops accepting, lets in-flight requests finish, joins. Idempotent.
  void Stop();
  int port() const;
  // The route table in registration order (HEAD is implied by GET).
  std::vector<RouteInfo> routes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

enum class HttpErrorCode {
  kConnect,   // could not connect (refused, unreachable, bad host)
  kTimeout,   // connected but no complete answer in time
  kProtocol,  // malformed response
};

struct HttpError {
  HttpErrorCode code;
  std::string message;
};

struct ClientOptions {
  int connect_timeout_ms = 3000;
  int read_timeout_ms = 30000;
};

// A blocking client for one origin ("http://127.0.0.1:8545"). Any status
// is a successful exchange; only transport failures are errors. Thread
// safe: each call uses its own connection.
class HttpClient {
 public:
  explicit HttpClient(std::string base_url, ClientOptions options = {});
  ~HttpClient();

  [[nodiscard]] Result<HttpResponse, HttpError> Get(
      const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  [[nodiscard]] Result<HttpResponse, HttpError> Post(
      const std::string& target, const std::string& body, const std::string& content_type,
      const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  [[nodiscard]] Result<HttpResponse, HttpError> Send(const std::string& method, const std::string& target,
                                                     const std::string& body, const std::string& content_type,
                                                     const std::vector<std::pair<std::string, std::string>>& headers) const;
  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  ClientOptions options_;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_HTTP_H_
