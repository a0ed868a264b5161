// traced: the TraceLedger node. A primary (the default) opens the ledger
// with the operator key and accepts writes; `--follow URL` makes a
// verifying replica of the primary at URL (ledger/replica.h), which needs no
// key, serves every read and refuses writes. Routes: docs/API.md.
//
// Logs are one JSON object per line on stderr:
//   {"time":"2026-11-21T00:00:00.000Z","level":"info","event":"listening",...}
// A primary can also publish checkpoints (--checkpoint-interval: sign the
// current tree and ask the witnesses of --witnesses to cosign it) and
// anchor them on an EVM chain (--anchor-rpc: the latest stored checkpoint
// that meets the witness quorum, every --anchor-interval). Both run on
// their own threads, off the ingest path, and log each outcome.
// SIGTERM or SIGINT stops the node gracefully: stop anchoring and
// publishing, stop following, stop accepting, let in-flight requests (writes included) finish, close the
// ledger. Exit codes: 0 after a graceful stop, 2 bad flags, 3 when the data
// directory or the listen address is unusable.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/credit_service.h"
#include "api/complaint_service.h"
#include "api/complaint_store.h"
#include "api/http.h"
#include "api/jsonrpc_client.h"
#include "api/metrics.h"
#include "api/customs_service.h"
#include "api/node_service.h"
#include "api/openapi.h"
#include "api/resolver_service.h"
#include "api/witness_service.h"
#include "chain/anchor.h"
#include "chain/anchor_store.h"
#include "chain/eth_rpc.h"
#include "chain/witness.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/replica.h"
#include "qrcode/scan_store.h"
#include "tools/cli_support.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

enum class Level { kDebug, kInfo, kWarn, kError, kAlarm };

std::optional<Level> LevelFromName(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "info") return Level::kInfo;
  if (name == "warn") return Level::kWarn;
  if (name == "error") return Level::kError;
  if (name == "alarm") return Level::kAlarm;
  return std::nullopt;
}

// One JSON object per line on stderr; lines from several threads never
// interleave.
class Logger {
 public:
  explicit Logger(Level threshold) : threshold_(threshold) {}

  void Log(std::string_view level, std::string_view event, const Json& fields) {
    Level l = LevelFromName(level).value_or(Level::kInfo);
    if (l < threshold_) return;
    // time, level and event first, then the fields.
    std::string text = "{\"time\":" + Dump(Now()) + ",\"level\":" + Dump(std::string(level)) +
                       ",\"event\":" + Dump(std::string(event));
    if (fields.is_object()) {
      for (const auto& [k, v] : fields.items()) {
        if (k == "time" || k == "level" || k == "event") continue;
        text += "," + Dump(k) + ":" + Dump(v);
      }
    }
    text += "}\n";
    std::lock_guard<std::mutex> lock(mu_);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }

 private:
  static std::string Dump(const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); }

  static std::string Now() {
    int64_t ms = NowMs();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[40];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
  }

  Level threshold_;
  std::mutex mu_;
};

struct Flags {
  std::string data = "traceledger-data";
  std::string listen = "127.0.0.1:8080";
  std::string follow;
  std::string passphrase_file;
  std::string log_level = "info";
  uint32_t fetch_blocks = ledger::kMaxRangeBlocks;
  int poll_ms = 1000;
  size_t http_threads = 64;
  int read_timeout_s = 5;
  bool access_log = false;
  bool print_routes = false;
  // Checkpoints and witnesses (primary only).
  double checkpoint_interval_s = 0;  // 0: no checkpoints
  std::string witnesses_file;
  std::optional<size_t> quorum;
  // Anchoring (primary only).
  std::string anchor_rpc;
  std::string anchor_key;  // default <data>/anchor.key
  std::string anchor_passphrase_file;
  uint64_t anchor_chain_id = 0;
  uint32_t anchor_confirmations = 6;
  double anchor_interval_s = 600;
  int anchor_poll_ms = 2000;
  // --- web flags ---
  bool no_resolver = false;
  std::string scan_region_header;
  double scan_rate = 20, scan_burst = 60;  // per client; rate 0: unlimited
  double pin_rate = 0.2, pin_burst = 10;
  // --- end web flags ---
};

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

// Calls `fn` now and then every `interval` on its own thread until Stop.
class Periodic {
 public:
  Periodic() = default;
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void Start(std::chrono::milliseconds interval, std::function<void()> fn) {
    thread_ = std::thread([this, interval, fn = std::move(fn)] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_) {
        lock.unlock();
        fn();
        lock.lock();
        cv_.wait_for(lock, interval, [this] { return stop_; });
      }
    });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

Json WitnessOutcomes(const api::PublishReport& report) {
  Json out = Json::array();
  for (const auto& w : report.witnesses) {
    Json j = {{"name", w.name}, {"cosigned", w.cosigned}};
    if (!w.error.empty()) j["error"] = w.error;
    out.push_back(j);
  }
  return out;
}

// "host:port" with a port in 0..65535 (0: any free port).
std::optional<std::pair<std::string, int>> ParseListen(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  int p = std::stoi(port);
  if (p > 65535) return std::nullopt;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return std::pair{host, p};
}

// Why `data` cannot hold a node's files (missing, not a directory, not
// writable); nullopt when it can.
std::optional<std::string> DataDirProblem(const std::string& data) {
  std::error_code ec;
  auto status = std::filesystem::status(data, ec);
  if (!std::filesystem::exists(status)) {
    return data + " does not exist (run tracectl init first, or --follow a primary)";
  }
  if (!std::filesystem::is_directory(status)) return data + " is not a directory";
  // Probe by creating a file: permission bits do not tell (root, ACLs,
  // read-only mounts).
  std::string probe = data + "/.traced-write-probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return data + " is not writable: " + std::strerror(errno);
  ::close(fd);
  ::unlink(probe.c_str());
  return std::nullopt;
}

// Waits for SIGTERM or SIGINT, which every thread has blocked (so only
// this sigwait sees them).
int WaitForStopSignal(const sigset_t& signals) {
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  return sig;
}

int Run(const Flags& f, Logger& log, const sigset_t& stop_signals) {
  const double start_time_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto fail = [&](int code, const std::string& event, const std::string& message) {
    log.Log("error", event, {{"message", message}});
    return code;
  };
  auto listen = ParseListen(f.listen);
  if (!listen) return fail(kExitUsage, "bad_flags", "--listen: \"" + f.listen + "\" is not HOST:PORT");
  const bool replica = !f.follow.empty();
  if (replica && !(f.follow.starts_with("http://") || f.follow.starts_with("https://"))) {
    return fail(kExitUsage, "bad_flags", "--follow: \"" + f.follow + "\" is not an http:// or https:// URL");
  }
  if (replica && !f.passphrase_file.empty()) {
    return fail(kExitUsage, "bad_flags", "--passphrase-file: a replica holds no key; drop it or --follow");
  }
  const bool checkpoints = f.checkpoint_interval_s > 0;
  const bool anchoring = !f.anchor_rpc.empty();
  if (replica && (checkpoints || anchoring || !f.witnesses_file.empty())) {
    return fail(kExitUsage, "bad_flags",
                "--checkpoint-interval, --witnesses and --anchor-rpc are for a primary; a replica signs nothing");
  }
  if (!checkpoints && (!f.witnesses_file.empty() || f.quorum)) {
    return fail(kExitUsage, "bad_flags", "--witnesses / --quorum: need --checkpoint-interval SECONDS above 0");
  }
  if (anchoring && !checkpoints) {
    return fail(kExitUsage, "bad_flags",
                "--anchor-rpc: needs --checkpoint-interval SECONDS above 0 (it anchors the node's checkpoints)");
  }
  if (!anchoring && (!f.anchor_key.empty() || f.anchor_chain_id != 0)) {
    return fail(kExitUsage, "bad_flags", "--anchor-key / --anchor-chain-id: need --anchor-rpc URL");
  }
  if (anchoring && f.anchor_chain_id == 0) {
    return fail(kExitUsage, "bad_flags", "--anchor-chain-id: required with --anchor-rpc (the chain the node must serve)");
  }
  api::WitnessConfig witnesses;
  if (!f.witnesses_file.empty()) {
    std::string text;
    try {
      text = ReadFileOrThrow(f.witnesses_file);
    } catch (const CliError& e) {
      return fail(kExitUsage, "bad_flags", std::string("--witnesses: ") + e.what());
    }
    auto parsed = api::ParseWitnessConfig(text);
    if (!parsed.ok()) return fail(kExitUsage, "bad_flags", "--witnesses: " + f.witnesses_file + ": " + parsed.error());
    witnesses = std::move(parsed).value();
  }
  if (f.quorum) {
    if (*f.quorum > witnesses.witnesses.size()) {
      return fail(kExitUsage, "bad_flags",
                  "--quorum: " + std::to_string(*f.quorum) + " exceeds the " +
                      std::to_string(witnesses.witnesses.size()) + " witnesses configured");
    }
    witnesses.quorum = *f.quorum;
  }
  DataDir dir{f.data};
  log.Log("info", "starting",
          {{"role", replica ? "replica" : "primary"},
           {"data", f.data},
           {"listen", f.listen},
           {"primary", replica ? Json(f.follow) : Json(nullptr)}});

  // The ledger first: it locks the data directory.
  std::unique_ptr<ledger::Ledger> ledger;
  if (replica) {
    std::error_code ec;
    std::filesystem::create_directories(f.data, ec);
    if (ec || !std::filesystem::is_directory(f.data)) {
      return fail(kExitFailure, "data_dir_unusable",
                  "--data: cannot use " + f.data + " as a directory" + (ec ? ": " + ec.message() : ""));
    }
    // The mirror's own verification pool stays idle (it takes no
    // submissions); the replica verifies on the Follower's pool.
    auto opened =
        ledger::Ledger::OpenMirror(ledger::LedgerOptions{.path = dir.LedgerPath(), .verify_threads = 1});
    if (!opened.ok()) return fail(kExitFailure, "data_dir_unusable", opened.error().message);
    ledger = std::move(opened).value();
  } else {
    // Before asking for the key's passphrase: is there a usable directory
    // and a ledger in it?
    if (auto why = DataDirProblem(f.data)) return fail(kExitFailure, "data_dir_unusable", "--data: " + *why);
    if (!std::filesystem::exists(std::filesystem::path(dir.LedgerPath()) / "CURRENT")) {
      return fail(
          kExitFailure, "data_dir_unusable",
          "--data: no ledger at " + dir.LedgerPath() + " (run tracectl init first, or --follow a primary)");
    }
    try {
      ledger = OpenLedger(dir, /*with_signer=*/true, f.passphrase_file);
    } catch (const CliError& e) {
      return fail(e.exit_code, "startup_failed", e.what());
    }
  }
  {
    auto tip = ledger->tip();
    log.Log("info", "ledger_opened",
            {{"path", dir.LedgerPath()},
             {"height", tip ? Json(tip->height) : Json(nullptr)},
             {"tree_size", tip ? tip->frontier.size() : 0}});
  }

  std::unique_ptr<api::HttpBlockSource> source;
  std::unique_ptr<api::CheckpointWatcher> watcher;
  std::unique_ptr<ledger::Follower> follower;
  if (replica) {
    source = std::make_unique<api::HttpBlockSource>(f.follow);
    ledger::LogSink sink = [&log](std::string_view level, std::string_view event, const Json& fields) {
      log.Log(level, event, fields);
    };
    watcher = std::make_unique<api::CheckpointWatcher>(f.follow, sink);
    follower = std::make_unique<ledger::Follower>(
        *ledger, *source,
        ledger::FollowerOptions{.data_dir = f.data,
                                .max_blocks_per_fetch = f.fetch_blocks,
                                .poll_interval_ms = f.poll_ms,
                                .log = sink,
                                .check_consistency = [&watcher](const ledger::Ledger& l, ledger::BlockSource&) {
                                  return watcher->Check(l);
                                }});
  }

  // Checkpoints: signed with the operator key, cosigned by the witnesses.
  std::unique_ptr<chain::CheckpointSigner> signer;
  std::unique_ptr<api::CheckpointPublisher> publisher;
  if (checkpoints) {
    try {
      signer = std::make_unique<chain::CheckpointSigner>(
          ledger->store(), LoadKey(dir.OperatorKeyPath(), f.passphrase_file, "TRACELEDGER_OPERATOR_PASSPHRASE"));
    } catch (const CliError& e) {
      return fail(e.exit_code, "startup_failed", e.what());
    }
    publisher = std::make_unique<api::CheckpointPublisher>(
        ledger->store(), *signer,
        api::PublisherOptions{.witnesses = witnesses.witnesses, .quorum = witnesses.quorum, .client = {}});
    if (witnesses.witnesses.empty() || witnesses.quorum == 0) {
      log.Log("warn", "no_witness_quorum",
              {{"message", "checkpoints are signed but no witness quorum is configured (--witnesses, --quorum)"}});
    }
  }
  // The checkpoint to anchor: the latest stored one that meets the quorum.
  const chain::WitnessPolicy policy = witnesses.Policy();
  auto latest_witnessed = [&ledger, &log, policy]() -> std::optional<std::string> {
    auto latest = chain::LatestWitnessedCheckpoint(ledger->store(), policy);
    if (!latest.ok()) {
      log.Log("error", "anchor_checkpoint_unreadable", {{"message", latest.error().message}});
      return std::nullopt;
    }
    if (!latest->has_value()) return std::nullopt;
    return (*latest)->note.Serialize();
  };
  std::unique_ptr<chain::AnchorStore> anchor_store;
  std::unique_ptr<api::JsonRpcHttpClient> anchor_transport;
  std::unique_ptr<chain::EthClient> anchor_node;
  std::unique_ptr<chain::Anchorer> anchorer;
  if (anchoring) {
    auto transport = api::JsonRpcHttpClient::Create(f.anchor_rpc);
    if (!transport.ok()) return fail(kExitUsage, "bad_flags", "--anchor-rpc: " + transport.error());
    anchor_transport = std::move(transport).value();
    auto store = chain::AnchorStore::Open(f.data + "/anchor");
    if (!store.ok()) return fail(kExitFailure, "data_dir_unusable", store.error().message);
    anchor_store = std::move(store).value();
    anchor_node = std::make_unique<chain::EthClient>(*anchor_transport);
    try {
      wallet::SecretKey key =
          LoadKey(f.anchor_key.empty() ? f.data + "/anchor.key" : f.anchor_key, f.anchor_passphrase_file,
                  "TRACELEDGER_ANCHOR_PASSPHRASE");
      auto opened = chain::Anchorer::Open(
          *anchor_store, *anchor_node, std::move(key),
          chain::AnchorConfig{.chain_id = f.anchor_chain_id, .confirmations = f.anchor_confirmations});
      if (!opened.ok()) return fail(kExitFailure, "startup_failed", "anchoring: " + opened.error().message);
      anchorer = std::move(opened).value();
    } catch (const CliError& e) {
      return fail(e.exit_code, "startup_failed", e.what());
    }
    if (policy.quorum == 0) {
      log.Log("warn", "anchoring_unwitnessed",
              {{"message", "no witness quorum configured: the latest checkpoint is anchored as it is"}});
    }
  }

  api::NodeService service(*ledger, api::NodeOptions{.primary_url = f.follow,
                                                      .follower = follower.get(),
                                                      .anchorer = anchorer.get()});
  std::unique_ptr<api::NodeMetrics> metrics;  // set before Start (ops block)
  api::HttpServer server(
      api::ServerOptions{.host = listen->first,
                         .port = listen->second,
                         .max_body_bytes = size_t{16} << 20,
                         .read_timeout_s = f.read_timeout_s,
                         .threads = f.http_threads,
                         .on_request = [&log, &metrics, access = f.access_log](
                                           const api::HttpRequest& req, const api::HttpResponse& resp,
                                           std::string_view route, double seconds) {
                           if (metrics) metrics->Observe(req, resp, route, seconds);
                           log.Log(resp.status >= 500 ? "warn" : access ? "info" : "debug", "request",
                                   {{"method", req.method},
                                    {"target", req.target},
                                    {"route", route},
                                    {"status", resp.status},
                                    {"ms", static_cast<int64_t>(seconds * 1000.0)},
                                    {"remote", req.remote_addr}});
                         }});
  service.Register(server);
  // --- credit routes ---
  // Merchant credit (api/credit_service.h): a follower thread (nice +10)
  // keeps the book at the tip as blocks commit, so ingest never waits for
  // it; lookups also catch up first, so an answer is never behind the
  // ledger. Reports are signed with the operator key on a primary; a
  // replica answers them 503.
  ledger::CreditBook credit_book;
  std::optional<api::CreditFollower> credit_follower;
  credit_follower.emplace(*ledger, credit_book);
  std::optional<wallet::SecretKey> credit_signer;
  if (!replica) {
    try {
      credit_signer = LoadKey(dir.OperatorKeyPath(), f.passphrase_file, "TRACELEDGER_OPERATOR_PASSPHRASE");
    } catch (const CliError& e) {
      log.Log("warn", "credit_reports_unsigned", {{"message", e.what()}});
    }
  }
  api::CreditService credit_service(*ledger, credit_book,
                                    api::CreditServiceOptions{.signer = std::move(credit_signer)});
  credit_service.Register(server);
  // The consumer page (below) and the customs views take
  // api::MakeCreditLookup(*ledger, credit_book).
  // --- end credit routes ---
  // --- web routes ---
  // The Digital Link resolver, consumer page and PIN check over the scan
  // store <data>/scans (sync=false: a kill -9 loses nothing acknowledged;
  // only a power loss may lose the last scans, which are statistics).
  std::unique_ptr<qrcode::ScanStore> scan_store;
  std::unique_ptr<api::ResolverService> resolver;
  if (!f.no_resolver) {
    auto opened = qrcode::ScanStore::Open(qrcode::ScanStoreOptions{.path = f.data + "/scans", .sync = false});
    if (!opened.ok()) return fail(kExitFailure, "data_dir_unusable", "scans: " + opened.error().message);
    scan_store = std::move(opened).value();
    resolver = std::make_unique<api::ResolverService>(
        *ledger, *scan_store,
        api::ResolverOptions{.region_header = f.scan_region_header,
                             .scan_limit = {.rate_per_s = f.scan_rate, .burst = f.scan_burst},
                             .pin_limit = {.rate_per_s = f.pin_rate, .burst = f.pin_burst},
                             .credit = api::MakeCreditLookup(*ledger, credit_book)});
    resolver->Register(server);
  }
  // --- end web routes ---
  // --- customs routes ---
  // Ledger reads, a writer's own data, provenance, batch verification,
  // EPCIS export (api/customs_service.h), with the merchants' credit.
  // No clone-incident provider yet: the scan store keeps no per-lot
  // counts, so provenance reports clone incidents as unknown.
  api::CustomsOptions customs_options;
  customs_options.credit = api::MakeCreditLookup(*ledger, credit_book);
  api::CustomsService customs(*ledger, std::move(customs_options));
  customs.Register(server);
  // --- end customs routes ---
  // --- ops routes ---
  metrics = std::make_unique<api::NodeMetrics>(api::NodeMetricsOptions{
      .height = [&ledger]() -> std::optional<uint64_t> {
        auto tip = ledger->tip();
        return tip ? std::optional<uint64_t>(tip->height) : std::nullopt;
      },
      .tree_size = [&ledger]() -> uint64_t {
        auto tip = ledger->tip();
        return tip ? tip->frontier.size() : 0;
      },
      .start_time_s = start_time_s});
  metrics->Register(server);
  if (resolver) metrics->AddScansRecorded([&resolver] { return resolver->scans_recorded(); });
  metrics->AddCodesVerified([&customs] { return customs.codes_verified(); });
  api::AddOpenApiRoute(server);
  auto complaint_store = api::ComplaintStore::Open(
      api::ComplaintStoreOptions{.path = f.data + "/complaints", .key_path = f.data + "/complaints.key"});
  if (!complaint_store.ok()) {
    return fail(kExitFailure, "data_dir_unusable", "complaints: " + complaint_store.error().message);
  }
  api::ComplaintService complaints(**complaint_store, *ledger);
  complaints.Register(server);
  // --- end ops routes ---
  if (f.print_routes) {
    // The route table as built (tests/tools/ops_cli_test.cc checks it
    // against api/openapi.json); nothing is served.
    Json routes = Json::array();
    for (const api::RouteInfo& r : server.routes()) routes.push_back({{"method", r.method}, {"pattern", r.pattern}});
    std::printf("%s\n", routes.dump().c_str());
    return kExitOk;
  }
  auto port = server.Start();
  if (!port.ok()) return fail(kExitFailure, "listen_failed", "--listen: " + port.error());
  log.Log("info", "listening", {{"host", listen->first}, {"port", *port}});

  std::thread follow_thread;
  if (follower) follow_thread = std::thread([&] { follower->Run(); });

  Periodic publishing;
  if (publisher) {
    publishing.Start(Millis(f.checkpoint_interval_s), [&log, &publisher, last_size = std::optional<uint64_t>()]() mutable {
      auto report = publisher->PublishOnce();
      if (!report.ok()) {
        log.Log("error", "checkpoint_failed",
                {{"code", chain::NoteErrorCodeName(report.error().code)}, {"message", report.error().message}});
        return;
      }
      const chain::Checkpoint& c = report->checkpoint.checkpoint;
      const bool news = last_size != c.size;
      last_size = c.size;
      log.Log(news ? "info" : "debug", "checkpoint_published",
              {{"tree_size", c.size},
               {"root", chain::HashHex(c.root)},
               {"witnessed", report->quorum.witnessed},
               {"cosigned_by", report->quorum.cosigned_by},
               {"witnesses", WitnessOutcomes(*report)}});
    });
  }
  std::unique_ptr<chain::AnchorService> anchor_service;
  if (anchorer) {
    anchor_service = std::make_unique<chain::AnchorService>(
        *anchorer,
        chain::AnchorServiceOptions{
            .poll_interval = std::chrono::milliseconds(f.anchor_poll_ms),
            .max_backoff = std::chrono::milliseconds(60'000),
            .latest_checkpoint = latest_witnessed,
            .request_interval = Millis(f.anchor_interval_s),
            .on_step = [&log](const Result<chain::StepReport, chain::AnchorError>& step) {
              if (!step.ok()) {
                log.Log("warn", "anchor_error",
                        {{"code", chain::AnchorErrorCodeName(step.error().code)}, {"message", step.error().message}});
                return;
              }
              if (step->receipt) {
                const chain::AnchorReceipt& r = *step->receipt;
                log.Log("info", "anchor_confirmed",
                        {{"tree_size", r.tree_size},
                         {"tx_hash", chain::PrefixedHex(r.tx_hash)},
                         {"block_number", r.block_number},
                         {"chain_id", r.chain_id},
                         {"confirmations", r.confirmations}});
                return;
              }
              log.Log(step->phase == chain::AnchorPhase::kIdle ? "debug" : "info", "anchor_step",
                      {{"phase", chain::AnchorPhaseName(step->phase)},
                       {"message", step->message},
                       {"confirmations", step->confirmations}});
            }});
    anchor_service->Start();
  }
  log.Log("info", "verifiability",
          {{"checkpoint_interval_s", checkpoints ? Json(f.checkpoint_interval_s) : Json(nullptr)},
           {"witnesses", witnesses.witnesses.size()},
           {"quorum", witnesses.quorum},
           {"anchoring", anchoring}});

  int sig = WaitForStopSignal(stop_signals);
  log.Log("info", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  if (anchor_service) anchor_service->Stop();
  publishing.Stop();
  if (follower) {
    follower->Stop();
    follow_thread.join();
  }
  server.Stop();   // in-flight requests, writes included, finish first
  credit_follower.reset();  // reads the ledger: stopped before it closes
  ledger.reset();  // commits what is queued, closes the store
  log.Log("info", "stopped", Json::object());
  return kExitOk;
}

int Main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so that every thread
  // inherits the mask and only WaitForStopSignal receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App app{"traced — the TraceLedger node: a primary, or with --follow a verifying replica"};
  Flags f;
  if (const char* d = std::getenv("TRACELEDGER_DATA"); d != nullptr && *d != '\0') f.data = d;
  app.add_option("--data,-d", f.data, "data directory (env TRACED_DATA, else TRACELEDGER_DATA)")
      ->envname("TRACED_DATA")
      ->capture_default_str();
  app.add_option("--listen", f.listen, "HOST:PORT to serve HTTP on (port 0: any free port)")
      ->envname("TRACED_ADDR")
      ->capture_default_str();
  app.add_option("--follow", f.follow, "run as a verifying replica of the primary at this URL")
      ->envname("TRACED_FOLLOW");
  app.add_option("--passphrase-file", f.passphrase_file,
                 "primary: read the operator key's passphrase from this file (else "
                 "TRACELEDGER_OPERATOR_PASSPHRASE / TRACELEDGER_PASSPHRASE, else a prompt)")
      ->envname("TRACED_PASSPHRASE_FILE");
  app.add_option("--log-level", f.log_level, "debug, info, warn or error")
      ->envname("TRACED_LOG_LEVEL")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_flag("--access-log", f.access_log, "log every request at level info (else at debug)")
      ->envname("TRACED_ACCESS_LOG");
  app.add_option("--read-timeout", f.read_timeout_s,
                 "seconds a client may stay silent while sending a request (per read)")
      ->envname("TRACED_READ_TIMEOUT")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_flag("--print-routes", f.print_routes,
               "print the route table as JSON on stdout and exit without serving (for the OpenAPI check)");
  app.add_option("--fetch-blocks", f.fetch_blocks, "replica: blocks per fetch")
      ->check(CLI::Range(1u, ledger::kMaxRangeBlocks))
      ->capture_default_str();
  app.add_option("--poll-ms", f.poll_ms, "replica: milliseconds between polls once caught up")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
  app.add_option("--http-threads", f.http_threads, "HTTP worker threads")
      ->envname("TRACED_HTTP_THREADS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--checkpoint-interval", f.checkpoint_interval_s,
                 "primary: sign a checkpoint of the log and ask the witnesses to cosign it every this many "
                 "seconds (0: never)")
      ->check(CLI::Range(0.0, 86400.0 * 7))
      ->capture_default_str();
  app.add_option("--witnesses", f.witnesses_file,
                 "primary: witnesses.json (the format of tracectl checkpoint witness) naming the witnesses to ask");
  app.add_option("--quorum", f.quorum, "primary: distinct witness keys a checkpoint needs (default: the file's)");
  app.add_option("--anchor-rpc", f.anchor_rpc,
                 "primary: anchor the latest witnessed checkpoint on the EVM chain of this JSON-RPC URL");
  app.add_option("--anchor-key", f.anchor_key, "anchoring keystore (default <data>/anchor.key)");
  app.add_option("--anchor-passphrase-file", f.anchor_passphrase_file,
                 "the anchoring key's passphrase (else TRACELEDGER_ANCHOR_PASSPHRASE, else a prompt)");
  app.add_option("--anchor-chain-id", f.anchor_chain_id, "chain id the anchoring node must serve");
  app.add_option("--anchor-confirmations", f.anchor_confirmations, "blocks to wait for, the anchor's own included")
      ->check(CLI::Range(1u, 10'000u))
      ->capture_default_str();
  app.add_option("--anchor-interval", f.anchor_interval_s, "seconds between anchors of the latest checkpoint")
      ->check(CLI::Range(0.01, 86400.0 * 365))
      ->capture_default_str();
  app.add_option("--anchor-poll-ms", f.anchor_poll_ms, "milliseconds between polls of the chain node")
      ->check(CLI::Range(10, 600'000))
      ->capture_default_str();
  // --- web options ---
  app.add_flag("--no-resolver", f.no_resolver, "do not serve the Digital Link resolver, consumer page and /v1/pin");
  app.add_option("--scan-region-header", f.scan_region_header,
                 "trusted header holding the client's coarse region (e.g. X-Region: CN-44); default: a network "
                 "prefix of the client address");
  app.add_option("--scan-rate", f.scan_rate, "resolver lookups per second per client address (0: unlimited)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--scan-burst", f.scan_burst, "resolver lookups a client may burst")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  app.add_option("--pin-rate", f.pin_rate, "PIN checks per second per client address (0: unlimited)")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  app.add_option("--pin-burst", f.pin_burst, "PIN checks a client may burst")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  // --- end web options ---
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  Logger log(*LevelFromName(f.log_level));
  return Run(f, log, stop_signals);
}

}  // namespace
}  // namespace traceledger::tools

int main(int argc, char** argv) {
  try {
    return traceledger::tools::Main(argc, argv);
  } catch (const std::exception& e) {
    // Still one JSON line, built without anything that could throw again.
    std::fputs("{\"level\":\"error\",\"event\":\"internal_error\",\"message\":\"", stderr);
    for (const char* p = e.what(); *p != '\0'; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      std::fputc(c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '?' : c, stderr);
    }
    std::fputs("\"}\n", stderr);
    return traceledger::tools::kExitFailure;
  } catch (...) {
    std::fputs("{\"level\":\"error\",\"event\":\"internal_error\"}\n", stderr);
    return traceledger::tools::kExitFailure;
  }
}
