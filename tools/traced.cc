// traced: the TraceLedger node. A primary (the default) opens the ledger
// with the operator key and accepts writes; `--follow URL` makes a
// verifying replica of the primary at URL (ledger/replica.h), which needs no
// key, serves every read and refuses writes. Routes: docs/API.md.
//
// Logs are one JSON object per line on stderr:
//   {"time":"2026-11-21T00:00:00.000Z","level":"info","event":"listening",...}
// SIGTERM or SIGINT stops the node gracefully: stop following, stop
// accepting, let in-flight requests (writes included) finish, close the
// ledger. Exit codes: 0 after a graceful stop, 2 bad flags, 3 when the data
// directory or the listen address is unusable.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "api/http.h"
#include "api/node_service.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/replica.h"
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
  size_t http_threads = 8;
};

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

// Waits for SIGTERM or SIGINT, which every thread has blocked (so only
// this sigwait sees them).
int WaitForStopSignal(const sigset_t& signals) {
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  return sig;
}

int Run(const Flags& f, Logger& log, const sigset_t& stop_signals) {
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
    // Before asking for the key's passphrase: is there a ledger at all?
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
  std::unique_ptr<ledger::Follower> follower;
  if (replica) {
    source = std::make_unique<api::HttpBlockSource>(f.follow);
    follower = std::make_unique<ledger::Follower>(
        *ledger, *source,
        ledger::FollowerOptions{.data_dir = f.data,
                                .max_blocks_per_fetch = f.fetch_blocks,
                                .poll_interval_ms = f.poll_ms,
                                .log = [&log](std::string_view level, std::string_view event,
                                              const Json& fields) { log.Log(level, event, fields); }});
  }

  api::NodeService service(*ledger, api::NodeOptions{.primary_url = f.follow, .follower = follower.get()});
  api::HttpServer server(
      api::ServerOptions{.host = listen->first,
                         .port = listen->second,
                         .max_body_bytes = size_t{16} << 20,
                         .threads = f.http_threads,
                         .on_request = [&log](const api::HttpRequest& req, const api::HttpResponse& resp,
                                              std::string_view route, double seconds) {
                           log.Log(resp.status >= 500 ? "warn" : "debug", "request",
                                   {{"method", req.method},
                                    {"target", req.target},
                                    {"route", route},
                                    {"status", resp.status},
                                    {"ms", static_cast<int64_t>(seconds * 1000.0)},
                                    {"remote", req.remote_addr}});
                         }});
  service.Register(server);
  auto port = server.Start();
  if (!port.ok()) return fail(kExitFailure, "listen_failed", "--listen: " + port.error());
  log.Log("info", "listening", {{"host", listen->first}, {"port", *port}});

  std::thread follow_thread;
  if (follower) follow_thread = std::thread([&] { follower->Run(); });

  int sig = WaitForStopSignal(stop_signals);
  log.Log("info", "stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  if (follower) {
    follower->Stop();
    follow_thread.join();
  }
  server.Stop();   // in-flight requests, writes included, finish first
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
  app.add_option("--data,-d", f.data, "data directory (env TRACELEDGER_DATA)")->capture_default_str();
  app.add_option("--listen", f.listen, "HOST:PORT to serve HTTP on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--follow", f.follow, "run as a verifying replica of the primary at this URL");
  app.add_option("--passphrase-file", f.passphrase_file,
                 "primary: read the operator key's passphrase from this file (else "
                 "TRACELEDGER_OPERATOR_PASSPHRASE / TRACELEDGER_PASSPHRASE, else a prompt)");
  app.add_option("--log-level", f.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_option("--fetch-blocks", f.fetch_blocks, "replica: blocks per fetch")
      ->check(CLI::Range(1u, ledger::kMaxRangeBlocks))
      ->capture_default_str();
  app.add_option("--poll-ms", f.poll_ms, "replica: milliseconds between polls once caught up")
      ->check(CLI::Range(10, 3'600'000))
      ->capture_default_str();
  app.add_option("--http-threads", f.http_threads, "HTTP worker threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
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
