// A real Anvil node for tests: started on a free loopback port (anvil
// --port 0, the port read back from its log), stopped gracefully (SIGTERM,
// which writes --state) or killed (SIGKILL), restarted on the same port,
// and driven through its own RPCs (mining, balances, dropping transactions,
// snapshots, base fees). The binary comes from tools/install-anvil.sh (the
// ctest fixture "anvil" runs it); TRACELEDGER_ANVIL in the environment
// overrides the path.
//
// The child gets PR_SET_PDEATHSIG, so a crashed test never leaves a node
// running; its output goes to a log file in the test's directory.
#ifndef TRACELEDGER_TESTS_ANCHOR_ANVIL_H_
#define TRACELEDGER_TESTS_ANCHOR_ANVIL_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/jsonrpc_client.h"
#include "chain/eth_rpc.h"
#include "chain/eth_tx.h"
#include "util/result.h"

namespace traceledger::testing {

using Json = nlohmann::json;

struct AnvilOptions {
  uint64_t chain_id = 31337;
  bool automine = false;   // default: --no-mining, blocks only when the test mines
  std::string hardfork;    // e.g. "berlin" (no base fee); default: Anvil's latest
  std::string state_file;  // --state: loaded at start, written on SIGTERM
};

class Anvil {
 public:
  static std::string BinaryPath() {
    if (const char* p = std::getenv("TRACELEDGER_ANVIL"); p != nullptr && *p != '\0') return p;
    return TRACELEDGER_ANVIL_BIN;
  }

  Anvil(std::filesystem::path dir, AnvilOptions options)
      : dir_(std::move(dir)), options_(std::move(options)) {}
  ~Anvil() { Kill(); }
  Anvil(const Anvil&) = delete;
  Anvil& operator=(const Anvil&) = delete;

  // Starts the node (on the previous port after a stop, else a free one)
  // and waits until it answers eth_chainId. Returns a message on failure.
  Result<void, std::string> Start() {
    if (pid_ > 0) return std::string("anvil already running");
    std::filesystem::create_directories(dir_);
    std::string log = (dir_ / ("anvil-" + std::to_string(starts_++) + ".log")).string();
    std::vector<std::string> args = {BinaryPath(),
                                     "--host",
                                     "127.0.0.1",
                                     "--port",
                                     std::to_string(port_),
                                     "--chain-id",
                                     std::to_string(options_.chain_id)};
    if (!options_.automine) args.push_back("--no-mining");
    if (!options_.hardfork.empty()) args.insert(args.end(), {"--hardfork", options_.hardfork});
    if (!options_.state_file.empty()) args.insert(args.end(), {"--state", options_.state_file});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return std::string("fork failed");
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (out < 0 || in < 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    // The port: from "Listening on 127.0.0.1:PORT" in the log.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (port_ == 0) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      std::string s = text.str();
      if (size_t at = s.find("Listening on 127.0.0.1:"); at != std::string::npos) {
        size_t end = s.find('\n', at);
        if (end != std::string::npos) port_ = std::atoi(s.substr(at + 23, end - at - 23).c_str());
      }
      if (port_ != 0) break;
      if (Exited() || std::chrono::steady_clock::now() > deadline) {
        return std::string("anvil did not start (" + BinaryPath() + "; run tools/install-anvil.sh): " + s);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    auto client =
        api::JsonRpcHttpClient::Create(url(), {.connect_timeout_ms = 1000, .read_timeout_ms = 10000});
    if (!client.ok()) return client.error();
    rpc_ = std::move(client).value();
    while (!rpc_->Call("eth_chainId", "[]").ok()) {
      if (Exited() || std::chrono::steady_clock::now() > deadline)
        return std::string("anvil does not answer at " + url());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return {};
  }

  // SIGTERM and wait: Anvil writes --state on the way out.
  void Stop() { Signal(SIGTERM); }
  // SIGKILL and wait: nothing is written.
  void Kill() { Signal(SIGKILL); }
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Calls an RPC and returns its result; a failure is a test failure.
  Json Rpc(std::string_view method, const Json& params = Json::array()) {
    auto r = rpc_->Call(method, params.dump());
    EXPECT_TRUE(r.ok()) << method << ": " << (r.ok() ? "" : r.error().message);
    if (!r.ok()) return Json();
    return Json::parse(*r);
  }
  Result<std::string, chain::RpcError> RawCall(std::string_view method, const Json& params) {
    return rpc_->Call(method, params.dump());
  }

  void Mine(uint64_t blocks = 1) { Rpc("anvil_mine", Json::array({Quantity(blocks)})); }
  void SetBalance(const chain::EthAddress& a, uint64_t wei) {
    Rpc("anvil_setBalance", Json::array({chain::EthAddressHex(a), Quantity(wei)}));
  }
  void DropTransaction(const chain::Hash& h) {
    Rpc("anvil_dropTransaction", Json::array({chain::PrefixedHex(h)}));
  }
  void SetNextBlockBaseFee(uint64_t wei) {
    Rpc("anvil_setNextBlockBaseFeePerGas", Json::array({Quantity(wei)}));
  }
  std::string Snapshot() { return Rpc("evm_snapshot").get<std::string>(); }
  void Revert(const std::string& id) { EXPECT_EQ(Rpc("evm_revert", Json::array({id})), Json(true)); }
  uint64_t BlockNumber() { return std::stoull(Rpc("eth_blockNumber").get<std::string>(), nullptr, 16); }
  uint64_t Nonce(const chain::EthAddress& a, const char* tag = "latest") {
    return std::stoull(
        Rpc("eth_getTransactionCount", Json::array({chain::EthAddressHex(a), tag})).get<std::string>(),
        nullptr, 16);
  }
  // Transactions of `a` in the pool, pending and queued.
  size_t PoolCount(const chain::EthAddress& a) {
    Json pool = Rpc("txpool_content");
    size_t n = 0;
    for (const char* part : {"pending", "queued"}) {
      if (!pool.contains(part)) continue;
      for (auto& [addr, txs] : pool[part].items()) {
        if (chain::ParseEthAddress(addr) == std::optional<chain::EthAddress>(a)) n += txs.size();
      }
    }
    return n;
  }

  static std::string Quantity(uint64_t v) {
    std::ostringstream s;
    s << "0x" << std::hex << v;
    return s.str();
  }

 private:
  bool Exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return pid_ <= 0;
  }
  void Signal(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::filesystem::path dir_;
  AnvilOptions options_;
  pid_t pid_ = -1;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<api::JsonRpcHttpClient> rpc_;
};

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_ANCHOR_ANVIL_H_
