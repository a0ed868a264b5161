// resolver_bench: the Digital Link resolver under load — wrk (Debian) at 64
// connections against random codes of a ledger holding N codes (default
// 1,000,000), for the JSON scan lookup and for the consumer page, each
// beside nginx (Debian) serving a static file of the same size on the same
// machine in the same run. The figure of merit is the ratio of requests per
// second (resolver / nginx); p99 latencies are reported for both.
//
//   resolver_bench [--codes N] [--pins] [--connections C] [--seconds S]
//                  [--http-threads T] [--sample K] [--dir PATH] [--keep]
//
// Steps, in one run:
//   a) an on-disk ledger (operator, merchant, product, lot, an inspection)
//      and N codes issued through qrcode::IssueCodes (10,000 per part);
//   b) a ResolverService (rate limits off, scans recorded with sync=false
//      as traced does) on an HttpServer with T worker threads;
//   b') the handler alone, without sockets, for ~2 s per kind on one thread;
//   c) K codes drawn at random from the manifest (default 100,000) are the
//      request paths; a wrk Lua script picks one at random per request;
//   (T defaults to 64, one per wrk connection: traced --http-threads 64)
//   d) wrk runs S seconds each: resolver JSON, nginx file of the JSON's
//      size, resolver page (Accept: text/html), nginx file of the page's size.
// Results are printed as a table, then as one line of JSON.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/resolver_service.h"
#include "bench/bench_support.h"
#include "qrcode/issuance.h"
#include "qrcode/ledger_lookup.h"
#include "qrcode/scan_store.h"

namespace traceledger::bench {
namespace {

struct Flags {
  uint64_t codes = 1'000'000;
  bool pins = false;
  uint64_t connections = 64;
  uint64_t seconds = 10;
  uint64_t http_threads = 64;  // one per connection: httplib serves a keep-alive connection on one thread
  uint64_t sample = 100'000;
  std::string dir;
  bool keep = false;
};

struct WrkResult {
  double per_s = 0;
  double p99_ms = 0;
  uint64_t non_2xx = 0;
  std::string raw;
};

std::string RunCommand(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) Die("cannot run: " + command);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

double ToMs(double v, const std::string& unit) {
  if (unit == "us") return v / 1000;
  if (unit == "s") return v * 1000;
  return v;
}

WrkResult Wrk(const Flags& f, const std::string& url, const std::string& script) {
  std::string cmd = "wrk -t2 -c" + std::to_string(f.connections) + " -d" + std::to_string(f.seconds) +
                    "s --latency --timeout 10s" + (script.empty() ? "" : " -s " + script) + " " + url + " 2>&1";
  WrkResult r;
  r.raw = RunCommand(cmd);
  std::smatch m;
  if (std::regex_search(r.raw, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) r.per_s = std::stod(m[1]);
  if (std::regex_search(r.raw, m, std::regex(R"(\n\s+99%\s+([0-9.]+)(us|ms|s))"))) r.p99_ms = ToMs(std::stod(m[1]), m[2]);
  if (std::regex_search(r.raw, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))"))) r.non_2xx = std::stoull(m[1]);
  if (r.per_s <= 0) Die("wrk printed no rate:\n" + r.raw);
  return r;
}

int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Die("no free port");
  }
  ::close(s);
  return ntohs(a.sin_port);
}

// nginx serving `www` on a free loopback port, as the current user.
class Nginx {
 public:
  Nginx(const std::string& prefix, const std::string& www) : prefix_(prefix) {
    port_ = FreePort();
    std::filesystem::create_directories(prefix + "/logs");
    std::ofstream(prefix + "/nginx.conf")
        << "worker_processes auto;\npid " << prefix << "/nginx.pid;\nerror_log " << prefix
        << "/logs/error.log;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n"
        << "  client_body_temp_path " << prefix << "/tmp-body;\n  proxy_temp_path " << prefix << "/tmp-proxy;\n"
        << "  fastcgi_temp_path " << prefix << "/tmp-fcgi;\n  uwsgi_temp_path " << prefix << "/tmp-uwsgi;\n"
        << "  scgi_temp_path " << prefix << "/tmp-scgi;\n  keepalive_requests 1000000;\n"
        << "  server { listen 127.0.0.1:" << port_ << "; root " << www << "; }\n}\n";
    std::string out = RunCommand("nginx -p " + prefix + " -c " + prefix + "/nginx.conf 2>&1");
    for (int i = 0; i < 100 && !std::filesystem::exists(prefix + "/nginx.pid"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!std::filesystem::exists(prefix + "/nginx.pid")) Die("nginx did not start: " + out);
  }
  ~Nginx() { RunCommand("nginx -p " + prefix_ + " -c " + prefix_ + "/nginx.conf -s stop 2>&1"); }
  int port() const { return port_; }

 private:
  std::string prefix_;
  int port_ = 0;
};

int Main(int argc, char** argv) {
  SetProgram("resolver_bench");
  Flags f;
  FlagParser parser(
      "usage: resolver_bench [--codes N] [--pins] [--connections C] [--seconds S] [--http-threads T] "
      "[--sample K] [--dir PATH] [--keep]");
  parser.Count("--codes", &f.codes);
  parser.Switch("--pins", &f.pins);
  parser.Count("--connections", &f.connections);
  parser.Count("--seconds", &f.seconds);
  parser.Count("--http-threads", &f.http_threads);
  parser.Count("--sample", &f.sample);
  parser.Text("--dir", &f.dir);
  parser.Switch("--keep", &f.keep);
  parser.Parse(argc, argv);
  if (RunCommand("command -v wrk").empty() || RunCommand("command -v nginx").empty()) {
    Die("wrk and nginx are needed (Debian packages wrk, nginx)");
  }
  WorkDir dir(f.dir, "tl-resolver-bench");
  const std::string work = dir.path();

  // a) the ledger and its codes.
  World w;
  auto created = ledger::Ledger::Create(ledger::LedgerOptions{.path = work + "/ledger"}, w.operator_key,
                                        ledger::OperatorIdentity{.party = "operator", .name = "Operator"});
  if (!created.ok()) Die(created.error().message);
  std::unique_ptr<ledger::Ledger> ledger = std::move(created).value();
  const wallet::SecretKey merchant = wallet::SecretKey::Generate();
  const wallet::SecretKey lab = wallet::SecretKey::Generate();
  const std::string gtin = "09501101530003";
  MustAccept(ledger->Submit(Sign(RecordKind::kParty,
                                 {{"party", "acme"}, {"name", "Acme Trading Ltd"}, {"roles", {"merchant"}},
                                  {"public_key", merchant.Public().Hex()}},
                                 w.operator_key, "0000000000000001")),
             "merchant");
  MustAccept(ledger->Submit(Sign(RecordKind::kParty,
                                 {{"party", "lab"}, {"name", "Lab Ltd"}, {"roles", {"inspector"}},
                                  {"public_key", lab.Public().Hex()}},
                                 w.operator_key, "0000000000000002")),
             "inspector");
  MustAccept(ledger->Submit(Sign(RecordKind::kProduct,
                                 {{"gtin", gtin}, {"name", "Jasmine tea"}, {"brand", "Acme"},
                                  {"origin_country", "CN"}, {"origin_region", "Fujian"},
                                  {"production_site", "Fuzhou plant 2"}, {"manufacturer", "Acme Tea Co."}},
                                 merchant, "0000000000000003")),
             "product");
  MustAccept(ledger->Submit(Sign(RecordKind::kLot,
                                 {{"gtin", gtin}, {"lot", "L1"}, {"production_date", "2026-11-01"},
                                  {"quantity", 1'000'000'000}},
                                 merchant, "0000000000000004")),
             "lot");
  MustAccept(ledger->Submit(Sign(RecordKind::kInspection,
                                 {{"gtin", gtin}, {"lot", "L1"}, {"standard", "GB 2763-2021"}, {"sample_size", 20},
                                  {"result", "conformant"}, {"report_sha256", std::string(64, 'a')},
                                  {"inspected_on", "2026-11-10"}},
                                 lab, "0000000000000005")),
             "inspection");
  std::filesystem::create_directories(work + "/out");
  const auto issue_start = Clock::now();
  auto issued = qrcode::IssueCodes(*ledger, merchant,
                                   qrcode::IssueRequest{.gtin = gtin,
                                                        .lot = "L1",
                                                        .batch = "B1",
                                                        .count = f.codes,
                                                        .pins = f.pins,
                                                        .out_dir = work + "/out",
                                                        .time_s = NowS()});
  if (!issued.ok()) Die("issue: " + issued.error().message);
  Report("codes on the ledger", Grouped(static_cast<double>(f.codes)) + (f.pins ? " (with PINs)" : ""));
  Report("issuance parts", Grouped(static_cast<double>(issued->parts.size())));
  Report("issuance time", Format("%.1f s", Seconds(Clock::now() - issue_start)));

  // c) the sample of request paths.
  std::vector<std::string> paths;
  {
    std::ifstream in(issued->jsonl_path);
    std::string line;
    std::mt19937_64 rng(42);
    uint64_t seen = 0;
    while (std::getline(in, line)) {
      std::string uri = Json::parse(line).at("uri").get<std::string>();
      std::string path = uri.substr(uri.find("/01/"));
      ++seen;
      if (paths.size() < f.sample) {
        paths.push_back(path);
      } else if (uint64_t j = rng() % seen; j < f.sample) {
        paths[j] = path;  // reservoir sampling: uniform over all codes
      }
    }
  }
  {
    std::ofstream out(work + "/paths.txt");
    for (const auto& p : paths) out << p << "\n";
  }
  for (const char* kind : {"json", "html"}) {
    const bool html = std::string(kind) == "html";
    std::ofstream(work + "/" + kind + ".lua")
        << "local paths = {}\nfor line in io.lines(\"" << work << "/paths.txt\") do paths[#paths + 1] = line end\n"
        << "math.randomseed(os.time())\nrequest = function()\n"
        << "  return wrk.format(\"GET\", paths[math.random(#paths)], {[\"Accept\"] = \""
        << (html ? "text/html" : "application/json") << "\"})\nend\n";
  }

  // b) the resolver.
  auto scans = qrcode::ScanStore::Open(qrcode::ScanStoreOptions{.path = work + "/scans", .sync = false});
  if (!scans.ok()) Die(scans.error().message);
  api::ResolverService service(*ledger, **scans,
                               api::ResolverOptions{.scan_limit = {.rate_per_s = 0}, .pin_limit = {.rate_per_s = 0}});
  api::ServerOptions server_options;
  server_options.threads = f.http_threads;
  api::HttpServer server(server_options);
  service.Register(server);
  auto port = server.Start();
  if (!port.ok()) Die(port.error());
  const std::string base = "http://127.0.0.1:" + std::to_string(*port);

  // Raw BIP-340 verification on all cores: every lookup needs one.
  {
    VerifyResult raw = MeasureRawVerify();
    Report("raw BIP-340 verify", Format("%s/s on %zu threads (%.1f us per core)", Grouped(raw.per_s).c_str(),
                                        raw.threads, 1e6 * static_cast<double>(raw.threads) / raw.per_s));
  }
  // The verification alone (signature and ledger status), the floor of a
  // lookup: what tracectl verify does per code.
  {
    qrcode::LedgerIssuerLookup issuers(*ledger);
    qrcode::LedgerStatusLookup statuses(*ledger);
    const auto start = Clock::now();
    uint64_t calls = 0;
    while (Clock::now() - start < std::chrono::seconds(2)) {
      if (!qrcode::VerifyCode("https://h" + paths[calls % paths.size()], issuers, &statuses).Good()) {
        Die("not genuine: " + paths[calls % paths.size()]);
      }
      ++calls;
    }
    Report("VerifyCode alone", Format("%.1f us per code (1 thread)",
                                      Seconds(Clock::now() - start) * 1e6 / static_cast<double>(calls)));
  }
  // The handler alone, without sockets: one thread, the sampled codes in
  // turn (the cost per lookup that the HTTP layer adds to).
  for (const char* accept : {"application/json", "text/html"}) {
    const auto start = Clock::now();
    uint64_t calls = 0;
    while (Clock::now() - start < std::chrono::seconds(2)) {
      api::HttpRequest req;
      req.method = "GET";
      req.target = paths[calls % paths.size()];
      req.remote_addr = "10.0.0.1";
      req.headers = {{"Accept", accept}, {"Host", "127.0.0.1"}};
      if (service.Resolve(req).status != 200) Die("the handler does not answer 200 for " + req.target);
      ++calls;
    }
    const double us = Seconds(Clock::now() - start) * 1e6 / static_cast<double>(calls);
    Report(std::string("handler alone, ") + accept, Format("%.1f us per lookup (1 thread)", us));
  }

  // Sizes of one answer of each kind, for nginx's files.
  api::HttpClient client(base);
  auto json_answer = client.Get(paths[0], {{"Accept", "application/json"}});
  auto html_answer = client.Get(paths[0], {{"Accept", "text/html"}});
  if (!json_answer.ok() || json_answer->status != 200 || !html_answer.ok() || html_answer->status != 200) {
    Die("the resolver does not answer 200 for " + paths[0]);
  }
  const std::string www = work + "/www";
  std::filesystem::create_directories(www);
  std::ofstream(www + "/doc.json") << std::string(json_answer->body.size(), 'x');
  std::ofstream(www + "/page.html") << std::string(html_answer->body.size(), 'x');
  Report("JSON answer", Grouped(static_cast<double>(json_answer->body.size())) + " bytes");
  Report("page answer", Grouped(static_cast<double>(html_answer->body.size())) + " bytes");
  auto nginx = std::make_unique<Nginx>(work + "/nginx", www);
  const std::string nginx_base = "http://127.0.0.1:" + std::to_string(nginx->port());

  // d) wrk, side by side.
  Report("wrk", Format("%llu connections, 2 threads, %llu s each, %zu sampled codes",
                       static_cast<unsigned long long>(f.connections), static_cast<unsigned long long>(f.seconds),
                       paths.size()));
  WrkResult rj = Wrk(f, base, work + "/json.lua");
  WrkResult nj = Wrk(f, nginx_base + "/doc.json", "");
  WrkResult rh = Wrk(f, base, work + "/html.lua");
  WrkResult nh = Wrk(f, nginx_base + "/page.html", "");
  if (rj.non_2xx > 0 || rh.non_2xx > 0) Die(Format("resolver answered %llu non-2xx", static_cast<unsigned long long>(rj.non_2xx + rh.non_2xx)));
  auto row = [](const char* name, const WrkResult& r) {
    Report(name, Format("%s req/s, p99 %.2f ms", Grouped(r.per_s).c_str(), r.p99_ms));
  };
  row("resolver JSON", rj);
  row("nginx, file of the JSON's size", nj);
  Report("ratio JSON", Format("%.3f of nginx", rj.per_s / nj.per_s));
  row("resolver page", rh);
  row("nginx, file of the page's size", nh);
  Report("ratio page", Format("%.3f of nginx", rh.per_s / nh.per_s));
  Report("scans recorded", Grouped(static_cast<double>(service.scans_recorded())));
  Report("peak RSS", Format("%.0f MB", Mb(StatusKb("VmHWM"))));
  server.Stop();
  nginx.reset();  // before the cleanup removes its pid file
  PrintTable("resolver_bench");
  Json j = {{"codes", f.codes},
            {"pins", f.pins},
            {"connections", f.connections},
            {"resolver_json_rps", rj.per_s},
            {"resolver_json_p99_ms", rj.p99_ms},
            {"nginx_json_rps", nj.per_s},
            {"nginx_json_p99_ms", nj.p99_ms},
            {"ratio_json", rj.per_s / nj.per_s},
            {"resolver_page_rps", rh.per_s},
            {"resolver_page_p99_ms", rh.p99_ms},
            {"nginx_page_rps", nh.per_s},
            {"nginx_page_p99_ms", nh.p99_ms},
            {"ratio_page", rh.per_s / nh.per_s}};
  std::printf("%s\n", j.dump().c_str());
  ledger.reset();
  std::vector<std::string> made;
  for (const char* name : {"ledger", "out", "scans", "www", "nginx", "paths.txt", "json.lua", "html.lua"}) {
    made.push_back(work + "/" + name);  // full paths: CleanUp removes them as given
  }
  dir.CleanUp(f.keep, made);
  return 0;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) { return traceledger::bench::RunBench("resolver_bench", traceledger::bench::Main, argc, argv); }
