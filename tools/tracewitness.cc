// tracewitness: a C2SP tlog-witness server. It follows the logs it is told
// to (origin and log public key), checks each submitted checkpoint's
// consistency with the last one it cosigned for that log, persists that
// state atomically, and only then returns its cosignature. See docs/CLI.md.
//
//   tracewitness --key witness.key --name customs.example/w1 --state DIR
//                --log ORIGIN=PUBLIC_KEY [--log ...] [--host H] [--port P]
//
// Prints "listening on http://H:P" once serving; stops on SIGINT/SIGTERM.
//
// Test hook: with TRACELEDGER_WITNESS_CRASH_AT set to one of the persist
// points of chain::WitnessOptions::fault_point, the process kills itself
// with SIGKILL when it reaches that point (crash tests; never set it in
// production).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/witness_service.h"
#include "chain/witness.h"
#include "tools/cli_support.h"

namespace traceledger::tools {
namespace {

int Main(int argc, char** argv) {
  CLI::App app{"tracewitness — a transparency-log witness (C2SP tlog-witness add-checkpoint)"};
  std::string key_file, name, state_dir, host = "127.0.0.1", passphrase_file;
  int port = 7380;
  std::vector<std::string> logs;
  app.add_option("--key", key_file, "the witness's keystore file")->required();
  app.add_option("--name", name, "the witness's key name, e.g. customs.example/w1")->required();
  app.add_option("--state", state_dir, "directory of the witness's state file (created if missing)")
      ->required();
  app.add_option("--log", logs, "ORIGIN=PUBLIC_KEY of a log to witness (64 hex); repeat")->required();
  app.add_option("--host", host, "address to listen on")->capture_default_str();
  app.add_option("--port", port, "port (0: any free port)")->capture_default_str();
  app.add_option("--passphrase-file", passphrase_file,
                 "read the key's passphrase from this file (else TRACELEDGER_WITNESS_PASSPHRASE, "
                 "then TRACELEDGER_PASSPHRASE, else a prompt)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  try {
    std::map<std::string, chain::WitnessedLog> by_origin;
    for (const auto& spec : logs) {
      const size_t eq = spec.rfind('=');
      auto pk = eq == std::string::npos ? std::nullopt : wallet::PublicKey::FromHex(spec.substr(eq + 1));
      if (eq == 0 || !pk)
        throw CliError(kExitUsage, "--log: \"" + spec + "\" is not ORIGIN=PUBLIC_KEY (64 hex)");
      chain::WitnessedLog& log = by_origin[spec.substr(0, eq)];
      log.origin = spec.substr(0, eq);
      log.keys.push_back(*pk);
    }
    wallet::SecretKey key = LoadKey(key_file, passphrase_file, "TRACELEDGER_WITNESS_PASSPHRASE");
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) throw CliError(kExitFailure, "cannot create " + state_dir + ": " + ec.message());

    chain::WitnessOptions options{.name = name, .logs = {}, .state_path = state_dir + "/witness-state"};
    for (auto& [origin, log] : by_origin) options.logs.push_back(std::move(log));
    if (const char* at = std::getenv("TRACELEDGER_WITNESS_CRASH_AT"); at != nullptr && *at != '\0') {
      const std::string crash_at = at;
      options.fault_point = [crash_at](std::string_view point) {
        if (point == crash_at) ::raise(SIGKILL);
        return false;
      };
    }
    auto witness = chain::Witness::Open(std::move(options), std::move(key));
    if (!witness.ok()) throw CliError(kExitFailure, witness.error().message);

    // Block the stop signals before any thread starts, then wait for one.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    api::HttpServer server(api::ServerOptions{.host = host, .port = port});
    api::AddWitnessRoutes(server, **witness);
    auto bound = server.Start();
    if (!bound.ok()) throw CliError(kExitFailure, bound.error());
    std::cout << "witness " << name << " key " << (*witness)->public_key().Hex() << "\n"
              << "listening on http://" << host << ":" << *bound << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    server.Stop();
    return kExitOk;
  } catch (const CliError& e) {
    std::cerr << "tracewitness: " << e.what() << "\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "tracewitness: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace
}  // namespace traceledger::tools

int main(int argc, char** argv) { return traceledger::tools::Main(argc, argv); }
