// verify_bench: batch verification of scanned codes (POST /v1/verify,
// api/customs_service.h) on a ledger holding N codes, beside the raw
// signature rate of the same machine and the one-code-at-a-time path of
// `tracectl verify`, in the same run.
//
//   verify_bench [--codes N] [--sample S] [--dir PATH] [--keep]
//
// Steps:
//   a) raw BIP-340 verification on all cores (MeasureRawVerify): the
//      hardware bound, since every code costs one signature check;
//   b) set-up, not timed: a ledger with N codes (default 1,000,000) in
//      code_issuance parts of 10,000, and S (default 20,000) of them chosen
//      at random and signed as code texts;
//   c) sequential: qrcode::VerifyCode with the ledger lookups, one code at
//      a time on one thread (what `tracectl verify` does per text);
//   d) handler: CustomsService::Verify called directly with requests of
//      10,000 codes (parsing, verification on the pool, answer JSON);
//   e) HTTP: the same requests POSTed to a real server on loopback.
// Prints codes/s for c, d, e and the ratios d/c and e/a.
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "api/customs_service.h"
#include "bench/bench_support.h"
#include "qrcode/code.h"
#include "qrcode/ledger_lookup.h"
#include "qrcode/verify.h"

namespace traceledger::bench {
namespace {

constexpr size_t kPartSerials = 10'000;
constexpr size_t kRequestCodes = 10'000;
constexpr const char* kGtin = "09501101530003";

std::string SerialOf(uint64_t i) { return Format("S%09llu", static_cast<unsigned long long>(i)); }

int Main(int argc, char** argv) {
  uint64_t codes = 1'000'000, sample = 20'000;
  std::string dir;
  bool keep = false;
  FlagParser flags("verify_bench [--codes N] [--sample S] [--dir PATH] [--keep]");
  flags.Count("--codes", &codes);
  flags.Count("--sample", &sample);
  flags.Text("--dir", &dir);
  flags.Switch("--keep", &keep);
  flags.Parse(argc, argv);
  WorkDir work(dir, "verify-bench");

  VerifyResult raw = MeasureRawVerify();
  Report("a) raw BIP-340 verify", Format("%s/s on %zu threads", Grouped(raw.per_s).c_str(), raw.threads));

  auto start = Clock::now();
  const std::string path = work.path() + "/ledger";
  const wallet::SecretKey op = wallet::SecretKey::Generate();
  auto created = ledger::Ledger::Create(ledger::LedgerOptions{.path = path, .sync = false}, op,
                                        ledger::OperatorIdentity{.party = "operator", .name = "Operator"});
  if (!created.ok()) Die(created.error().message);
  std::unique_ptr<ledger::Ledger> ledger = std::move(created).value();
  const wallet::SecretKey merchant = wallet::SecretKey::Generate();
  int nonce = 0;
  auto next = [&] { return Format("%08x", nonce++); };
  MustAccept(ledger->Submit(Sign(RecordKind::kParty,
                                 {{"party", "acme"},
                                  {"name", "Acme"},
                                  {"roles", Json::array({"merchant"})},
                                  {"public_key", merchant.Public().Hex()}},
                                 op, next())),
             "party");
  MustAccept(ledger->Submit(Sign(RecordKind::kProduct,
                                 {{"gtin", kGtin},
                                  {"name", "Jasmine tea"},
                                  {"brand", "Acme"},
                                  {"origin_country", "CN"},
                                  {"production_site", "Fuzhou"},
                                  {"manufacturer", "Acme Tea Co."}},
                                 merchant, next())),
             "product");
  MustAccept(ledger->Submit(Sign(RecordKind::kLot,
                                 {{"gtin", kGtin}, {"lot", "LOT-1"}, {"production_date", "2026-11-01"},
                                  {"quantity", 1'000'000'000}},
                                 merchant, next())),
             "lot");
  const uint64_t parts = (codes + kPartSerials - 1) / kPartSerials;
  for (uint64_t p = 0; p < parts; ++p) {
    Json serials = Json::array();
    for (uint64_t i = p * kPartSerials; i < std::min(codes, (p + 1) * kPartSerials); ++i) serials.push_back(SerialOf(i));
    MustAccept(ledger->Submit(Sign(RecordKind::kCodeIssuance,
                                   {{"gtin", kGtin}, {"lot", "LOT-1"}, {"batch", "B1"}, {"part", p + 1},
                                    {"parts", parts}, {"serials", std::move(serials)}},
                                   merchant, next())),
               "code_issuance part");
  }
  std::mt19937_64 rng(42);
  std::vector<std::string> texts;
  texts.reserve(sample);
  for (uint64_t i = 0; i < sample; ++i) {
    qrcode::Code c{.resolver = "id.traceledger.example", .gtin = kGtin, .lot = "LOT-1",
                   .serial = SerialOf(rng() % codes)};
    qrcode::SignCode(c, merchant);
    texts.push_back(qrcode::FormatCode(c));
  }
  Report("b) set-up (not timed)", Format("%s codes in %llu parts, %s sampled, %.1f s", Grouped(double(codes)).c_str(),
                                         static_cast<unsigned long long>(parts), Grouped(double(sample)).c_str(),
                                         Seconds(Clock::now() - start)));

  // c) one at a time, one thread.
  double seq_per_s = 0;
  {
    qrcode::LedgerIssuerLookup issuers(*ledger);
    qrcode::LedgerStatusLookup statuses(*ledger);
    const size_t n = std::min<size_t>(texts.size(), 2'000);
    uint64_t good = 0;
    auto t0 = Clock::now();
    for (size_t i = 0; i < n; ++i) good += qrcode::VerifyCode(texts[i], issuers, &statuses).Good() ? 1 : 0;
    const double s = Seconds(Clock::now() - t0);
    if (good != n) Die("sequential: " + std::to_string(n - good) + " codes not genuine and valid");
    seq_per_s = double(n) / s;
    Report("c) sequential VerifyCode", Format("%s codes/s (%zu codes)", Grouped(seq_per_s).c_str(), n));
  }

  std::vector<std::string> bodies;
  for (size_t i = 0; i < texts.size(); i += kRequestCodes) {
    Json codes_json = Json::array();
    for (size_t j = i; j < std::min(texts.size(), i + kRequestCodes); ++j) codes_json.push_back(texts[j]);
    bodies.push_back(Json{{"codes", codes_json}}.dump());
  }
  api::CustomsService service(*ledger, api::CustomsOptions{});
  double handler_per_s = 0;
  {
    auto t0 = Clock::now();
    for (const auto& body : bodies) {
      api::HttpRequest req;
      req.method = "POST";
      req.body = body;
      api::HttpResponse resp = service.Verify(req);
      if (resp.status != 200) Die("handler: HTTP " + std::to_string(resp.status) + " " + resp.body.substr(0, 200));
    }
    handler_per_s = double(texts.size()) / Seconds(Clock::now() - t0);
    Report("d) CustomsService::Verify", Format("%s codes/s (%zu requests of <= %zu)", Grouped(handler_per_s).c_str(),
                                               bodies.size(), kRequestCodes));
  }
  double http_per_s = 0;
  {
    api::HttpServer server(api::ServerOptions{.port = 0, .max_body_bytes = size_t{16} << 20});
    service.Register(server);
    auto port = server.Start();
    if (!port.ok()) Die(port.error());
    api::HttpClient client("http://127.0.0.1:" + std::to_string(*port));
    auto t0 = Clock::now();
    for (const auto& body : bodies) {
      auto r = client.Post("/v1/verify", body, "application/json");
      if (!r.ok() || r->status != 200) Die("HTTP: request failed");
    }
    http_per_s = double(texts.size()) / Seconds(Clock::now() - t0);
    server.Stop();
    Report("e) POST /v1/verify over loopback", Format("%s codes/s", Grouped(http_per_s).c_str()));
  }
  Report("d / c (batch vs one at a time)", Format("%.2fx", handler_per_s / seq_per_s));
  Report("e / a (HTTP batch vs raw signature rate)", Format("%.2f", http_per_s / raw.per_s));
  Report("codes_verified()", std::to_string(service.codes_verified()));
  PrintTable("verify_bench");
  std::printf("{\"codes\":%llu,\"sample\":%llu,\"raw_verify_per_s\":%.0f,\"sequential_per_s\":%.0f,"
              "\"handler_per_s\":%.0f,\"http_per_s\":%.0f}\n",
              static_cast<unsigned long long>(codes), static_cast<unsigned long long>(sample), raw.per_s, seq_per_s,
              handler_per_s, http_per_s);
  ledger.reset();
  work.CleanUp(keep, {path});
  return 0;
}

}  // namespace
}  // namespace traceledger::bench

int main(int argc, char** argv) { return traceledger::bench::RunBench("verify_bench", traceledger::bench::Main, argc, argv); }
