#include "api/http.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

namespace traceledger::api {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

struct RouteEntry {
  std::string method;
  std::string pattern;
  std::vector<std::string> segments;  // "{name}" or a literal
  Handler handler;
};

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsParam(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches path segments against a route; fills params on success.
bool MatchRoute(const RouteEntry& route, const std::vector<std::string>& parts,
                std::map<std::string, std::string>& params) {
  if (route.segments.size() != parts.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (IsParam(seg)) {
      found[seg.substr(1, seg.size() - 2)] = parts[i];
    } else if (seg != parts[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

void ToHttplib(const HttpResponse& in, httplib::Response& out) {
  out.status = in.status;
  for (const auto& [name, value] : in.headers) out.set_header(name, value);
  out.set_content(in.body, in.content_type);
}

HttpResponse FromHttplib(const httplib::Response& in) {
  HttpResponse out;
  out.status = in.status;
  out.body = in.body;
  out.content_type = in.get_header_value("Content-Type");
  for (const auto& [name, value] : in.headers) out.headers.emplace_back(name, value);
  return out;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<std::pair<std::string, double>> QualityList(std::string_view header) {
  std::vector<std::pair<std::string, double>> out;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    double q = 1.0;
    size_t semi = item.find(';');
    std::string_view value = Trim(item.substr(0, semi));
    while (semi != std::string_view::npos) {
      std::string_view rest = item.substr(semi + 1);
      size_t next = rest.find(';');
      std::string_view param = Trim(rest.substr(0, next));
      if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        std::string number(param.substr(2));
        char* end = nullptr;
        double parsed = std::strtod(number.c_str(), &end);
        q = end != number.c_str() && parsed >= 0 && parsed <= 1 ? parsed : 0;
      }
      semi = next == std::string_view::npos ? std::string_view::npos : semi + 1 + next;
    }
    if (!value.empty()) out.emplace_back(LowerAscii(value), q);
  }
  return out;
}

namespace {

// Quality of a media type under an Accept list: the most specific match.
double MediaQuality(const std::vector<std::pair<std::string, double>>& accept, std::string_view type) {
  const std::string family = std::string(type.substr(0, type.find('/'))) + "/*";
  double exact = -1, partial = -1, any = -1;
  for (const auto& [value, q] : accept) {
    if (value == type) exact = std::max(exact, q);
    if (value == family) partial = std::max(partial, q);
    if (value == "*/*") any = std::max(any, q);
  }
  if (exact >= 0) return exact;
  if (partial >= 0) return partial;
  return std::max(any, 0.0);
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

std::optional<std::string> HttpRequest::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

HttpResponse& HttpResponse::SetHeader(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) {
      v = std::move(value);
      return *this;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

bool PrefersHtml(std::string_view accept) {
  if (Trim(accept).empty()) return false;
  const auto list = QualityList(accept);
  const double html = std::max(MediaQuality(list, "text/html"), MediaQuality(list, "application/xhtml+xml"));
  const double json = MediaQuality(list, "application/json");
  return html > json;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

HttpResponse JsonError(int status, std::string_view code, std::string_view message) {
  nlohmann::json j = {{"error", {{"code", code}, {"message", message}}}};
  HttpResponse r;
  r.status = status;
  r.body = j.dump() + "\n";
  return r;
}

HttpResponse JsonOk(std::string body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct HttpServer::Impl {
  ServerOptions options;
  httplib::Server server;
  std::vector<RouteEntry> routes;
  std::thread thread;
  int port = 0;
  int listen_fd = -1;  // the listening socket, once created
  bool started = false;

  HttpResponse Dispatch(const httplib::Request& raw, std::string& route_out, HttpRequest& req) {
    req.method = raw.method;
    req.path = raw.path;
    req.target = raw.target;
    req.body = raw.body;
    req.remote_addr = raw.remote_addr;
    for (const auto& [k, v] : raw.params) req.query.emplace(k, v);
    for (const auto& [k, v] : raw.headers) req.headers.emplace_back(k, v);
    for (const auto& [k, f] : raw.files) req.form.push_back(FormPart{f.name, f.filename, f.content_type, f.content});
    // Segments are split on the path as received and decoded one by one,
    // so that an encoded '/' (%2F, e.g. in a GS1 lot number) stays inside
    // its segment instead of adding one.
    std::vector<std::string> parts = SplitPath(std::string_view(raw.target).substr(0, raw.target.find('?')));
    for (std::string& part : parts) part = httplib::detail::decode_url(part, /*convert_plus_to_space=*/false);
    bool path_known = false;
    for (const RouteEntry& route : routes) {
      std::map<std::string, std::string> params;
      if (!MatchRoute(route, parts, params)) continue;
      path_known = true;
      if (route.method != raw.method && !(raw.method == "HEAD" && route.method == "GET")) continue;
      route_out = route.pattern;
      req.path_params = std::move(params);
      HttpResponse resp = route.handler(req);
      return resp;
    }
    if (path_known) return JsonError(405, "method_not_allowed", "method " + raw.method + " is not allowed here");
    return JsonError(404, "not_found", "no such path: " + raw.path);
  }
};

HttpServer::HttpServer(ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Route(std::string method, std::string pattern, Handler handler) {
  RouteEntry e{std::move(method), pattern, SplitPath(pattern), std::move(handler)};
  impl_->routes.push_back(std::move(e));
}

Result<int, std::string> HttpServer::Start() {
  Impl& im = *impl_;
  httplib::Server& s = im.server;
  const ServerOptions& o = im.options;
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, which would let
  // a second node bind the same port and silently take half the traffic.
  s.set_socket_options([&im](socket_t sock) {
    im.listen_fd = sock;
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof(yes));
  });
  s.set_payload_max_length(o.max_body_bytes);
  s.set_read_timeout(o.read_timeout_s, 0);
  s.set_write_timeout(o.write_timeout_s, 0);
  s.set_keep_alive_timeout(o.keep_alive_timeout_s);
  // Answers are written in two sends (headers, body): without TCP_NODELAY,
  // Nagle's algorithm holds the body until the client's delayed ACK, ~40 ms
  // per keep-alive request.
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(100);
  size_t threads = std::max<size_t>(1, o.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // One catch-all handler per method; routing is ours (httplib 0.11 has no
  // path parameters, and 405 needs the whole table).
  auto handle = [&im](const httplib::Request& raw, httplib::Response& out) {
    auto start = std::chrono::steady_clock::now();
    std::string route;
    HttpRequest req;
    HttpResponse resp;
    try {
      resp = im.Dispatch(raw, route, req);
    } catch (...) {
      resp = JsonError(500, "internal", "internal error");
    }
    ToHttplib(resp, out);
    if (im.options.on_request) {
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      im.options.on_request(req, resp, route, secs);
    }
  };
  const std::string all = R"(/.*)";
  s.Get(all, handle);
  s.Post(all, handle);
  s.Put(all, handle);
  s.Delete(all, handle);
  s.Options(all, handle);
  s.Patch(all, handle);
  s.set_exception_handler([](const httplib::Request&, httplib::Response& out, std::exception_ptr) {
    ToHttplib(JsonError(500, "internal", "internal error"), out);
  });
  // httplib answers oversized bodies and unparsable requests itself; give
  // those answers our error shape.
  s.set_error_handler([](const httplib::Request&, httplib::Response& out) {
    if (!out.body.empty()) return;
    std::string code = out.status == 413 ? "body_too_large" : out.status == 400 ? "bad_request" : "error";
    std::string message = out.status == 413 ? "request body is too large"
                          : out.status == 400 ? "malformed HTTP request"
                                              : "HTTP status " + std::to_string(out.status);
    ToHttplib(JsonError(out.status, code, message), out);
  });
  int port = o.port == 0 ? s.bind_to_any_port(o.host) : (s.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) {
    return std::string("cannot listen on ") + o.host + ":" + std::to_string(o.port) +
           ": address in use, not available on this machine, or not permitted";
  }
  // httplib listens with a backlog of 5: a burst of new connections (64
  // benchmark clients reconnecting) overflows it and the dropped SYNs are
  // retried after a second. Listening again on a listening socket only
  // changes its backlog.
  if (im.listen_fd >= 0) ::listen(im.listen_fd, SOMAXCONN);
  im.port = port;
  im.started = true;
  im.thread = std::thread([&s] { s.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs; wait for it so that a
  // Stop right after Start cannot leave the thread listening forever.
  while (!s.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port;
}

void HttpServer::Stop() {
  Impl& im = *impl_;
  if (!im.started) return;
  im.server.stop();
  if (im.thread.joinable()) im.thread.join();
  im.started = false;
}

int HttpServer::port() const { return impl_->port; }

std::vector<RouteInfo> HttpServer::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(impl_->routes.size());
  for (const RouteEntry& r : impl_->routes) out.push_back(RouteInfo{r.method, r.pattern});
  return out;
}

HttpClient::HttpClient(std::string base_url, ClientOptions options)
    : base_url_(std::move(base_url)), options_(options) {}

HttpClient::~HttpClient() = default;

Result<HttpResponse, HttpError> HttpClient::Get(const std::string& target,
                                                const std::vector<std::pair<std::string, std::string>>& headers) const {
  return Send("GET", target, "", "", headers);
}

Result<HttpResponse, HttpError> HttpClient::Post(const std::string& target, const std::string& body,
                                                 const std::string& content_type,
                                                 const std::vector<std::pair<std::string, std::string>>& headers) const {
  return Send("POST", target, body, content_type, headers);
}

Result<HttpResponse, HttpError> HttpClient::Send(const std::string& method, const std::string& target,
                                                 const std::string& body, const std::string& content_type,
                                                 const std::vector<std::pair<std::string, std::string>>& headers) const {
  httplib::Client cli(base_url_);
  if (!cli.is_valid()) return HttpError{HttpErrorCode::kConnect, "bad URL: " + base_url_};
  cli.set_connection_timeout(std::chrono::milliseconds(options_.connect_timeout_ms));
  cli.set_read_timeout(std::chrono::milliseconds(options_.read_timeout_ms));
  cli.set_write_timeout(std::chrono::milliseconds(options_.read_timeout_ms));
  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    res = cli.Get(target, h);
  } else if (method == "HEAD") {
    res = cli.Head(target, h);
  } else if (method == "POST") {
    res = cli.Post(target, h, body, content_type);
  } else if (method == "PUT") {
    res = cli.Put(target, h, body, content_type);
  } else if (method == "DELETE") {
    res = cli.Delete(target, h, body, content_type);
  } else if (method == "OPTIONS") {
    res = cli.Options(target, h);
  } else {
    return HttpError{HttpErrorCode::kProtocol, "unsupported method " + method};
  }
  if (!res) {
    httplib::Error e = res.error();
    std::string what = base_url_ + target + ": " + httplib::to_string(e);
    if (e == httplib::Error::Read || e == httplib::Error::Write) {
      return HttpError{HttpErrorCode::kTimeout, what};
    }
    if (e == httplib::Error::Connection || e == httplib::Error::ConnectionTimeout ||
        e == httplib::Error::BindIPAddress || e == httplib::Error::SSLConnection) {
      return HttpError{HttpErrorCode::kConnect, what};
    }
    return HttpError{HttpErrorCode::kProtocol, what};
  }
  return FromHttplib(*res);
}

}  // namespace traceledger::api
