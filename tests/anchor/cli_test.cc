// tracectl anchor end to end: the real binary against a real Anvil node,
// with a keystore made by `tracectl keygen`. Exit codes (docs/CLI.md §3):
// 0 ok, 1 verification failed / not found / conflict, 2 usage,
// 3 failure (node down, wrong chain), 4 not confirmed within --timeout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/witness_service.h"
#include "chain/checkpoint.h"
#include "chain/witness.h"
#include "tests/anchor/anvil.h"
#include "tests/chain/test_util.h"

namespace traceledger::tools {
namespace {

namespace fs = std::filesystem;
using testing::Anvil;
using testing::AnvilOptions;
using testing::Json;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string Describe() const {
    return "exit " + std::to_string(exit_code) + "\nstdout: " + out + "\nstderr: " + err;
  }
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class AnchorCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir("anchor-cli");
    fs::create_directories(dir_ / "data");
    anvil_ = std::make_unique<Anvil>(dir_, AnvilOptions{.automine = true});
    auto started = anvil_->Start();
    ASSERT_TRUE(started.ok()) << started.error();
  }
  void TearDown() override {
    anvil_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Runs tracectl in the test directory with --data data; output captured
  // through files. Only TRACELEDGER_PASSPHRASE is set for it.
  CliRun Tracectl(std::vector<std::string> args) {
    args.insert(args.begin(), {TRACELEDGER_TRACECTL, "--data", (dir_ / "data").string()});
    fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string pass = "TRACELEDGER_PASSPHRASE=anchor test passphrase";
    std::string path = std::string("PATH=") + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
    char* envp[] = {pass.data(), path.data(), nullptr};
    pid_t pid = ::fork();
    if (pid == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int in = ::open("/dev/null", O_RDONLY);
      if (o < 0 || e < 0 || in < 0 || ::chdir(dir_.c_str()) != 0) ::_exit(127);
      ::dup2(in, 0);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execve(argv[0], argv.data(), envp);
      ::_exit(127);
    }
    CliRun r;
    int status = 0;
    if (pid > 0 && ::waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }

  // Creates <data>/anchor.key and funds its address; returns the address.
  std::string MakeFundedKey() {
    CliRun keygen = Tracectl({"keygen", "--out", (dir_ / "data" / "anchor.key").string()});
    EXPECT_EQ(keygen.exit_code, 0) << keygen.Describe();
    CliRun address = Tracectl({"anchor", "address"});
    EXPECT_EQ(address.exit_code, 0) << address.Describe();
    std::string a = address.out.substr(0, address.out.find('\n'));
    auto parsed = chain::ParseEthAddress(a);
    EXPECT_TRUE(parsed.has_value()) << a;
    EXPECT_EQ(chain::EthAddressChecksum(parsed.value_or(chain::EthAddress{})),
              a);  // printed with EIP-55 case
    if (parsed) anvil_->SetBalance(*parsed, 1'000'000'000'000'000'000);
    return a;
  }

  std::string WriteCheckpoint(const std::string& name, uint64_t size) {
    std::ofstream(dir_ / name)
        << "traceledger.test/cli\n"
        << size << "\nq2V3UMoMtj/tj0DpVrOdPhBz0XIrTMZxk7NMyZGyoLU=\n\n\u2014 traceledger.test/cli AAAA\n";
    return (dir_ / name).string();
  }

  std::vector<std::string> NowArgs(const std::string& checkpoint, const std::string& confirmations = "1") {
    std::vector<std::string> args = {"anchor",     "now",   "--rpc",           anvil_->url(),
                                     "--chain-id", "31337", "--confirmations", confirmations,
                                     "--poll-ms",  "20"};
    if (!checkpoint.empty()) args.insert(args.end(), {"--checkpoint", checkpoint});
    return args;
  }

  fs::path dir_;
  std::unique_ptr<Anvil> anvil_;
};

TEST_F(AnchorCliTest, NowStatusReceiptVerify) {
  std::string address = MakeFundedKey();
  std::string cp = WriteCheckpoint("cp.txt", 42);
  std::vector<std::string> now = NowArgs(cp);
  now.insert(now.end(), {"--out", (dir_ / "receipt.json").string()});
  CliRun anchored = Tracectl(now);
  ASSERT_EQ(anchored.exit_code, 0) << anchored.Describe();
  Json receipt = Json::parse(anchored.out);
  EXPECT_EQ(receipt["tree_size"], 42);
  EXPECT_EQ(receipt["chain_id"], 31337);
  EXPECT_EQ(chain::ParseEthAddress(receipt["sender"].get<std::string>()), chain::ParseEthAddress(address));
  EXPECT_EQ(Slurp(dir_ / "receipt.json"), anchored.out);

  CliRun status = Tracectl({"--json", "anchor", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  Json s = Json::parse(status.out);
  EXPECT_EQ(s["receipts"], 1);
  EXPECT_TRUE(s["pending"].is_null());
  EXPECT_EQ(s["last_receipt"], receipt);
  CliRun stored = Tracectl({"anchor", "receipt", "0"});
  EXPECT_EQ(stored.exit_code, 0);
  EXPECT_EQ(stored.out, anchored.out);
  EXPECT_EQ(Tracectl({"anchor", "receipt", "1"}).exit_code, 1);

  std::string file = (dir_ / "receipt.json").string();
  CliRun ok =
      Tracectl({"anchor", "verify", file, "--rpc", anvil_->url(), "--sender", address, "--checkpoint", cp});
  EXPECT_EQ(ok.exit_code, 0) << ok.Describe();
  EXPECT_NE(ok.out.find("anchor verified"), std::string::npos);
  CliRun deep =
      Tracectl({"--json", "anchor", "verify", file, "--rpc", anvil_->url(), "--confirmations", "50"});
  EXPECT_EQ(deep.exit_code, 1) << deep.Describe();
  EXPECT_EQ(Json::parse(deep.out)["code"], "too_few_confirmations");
  CliRun other = Tracectl({"anchor", "verify", file, "--rpc", anvil_->url(), "--sender",
                           "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.out.find("wrong_sender"), std::string::npos) << other.Describe();

  // Anchoring the same checkpoint again sends nothing.
  CliRun again = Tracectl(NowArgs(cp));
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_NE(again.err.find("already_anchored"), std::string::npos);
  EXPECT_EQ(anvil_->Nonce(*chain::ParseEthAddress(address)), 1u);

  anvil_->Kill();
  CliRun down = Tracectl({"anchor", "verify", file, "--rpc", anvil_->url()});
  EXPECT_EQ(down.exit_code, 3) << down.Describe();
}

TEST_F(AnchorCliTest, TimeoutLeavesThePendingAnchorForTheNextRun) {
  std::string address = MakeFundedKey();
  std::vector<std::string> first = NowArgs(WriteCheckpoint("cp.txt", 7), "3");
  first.insert(first.end(), {"--timeout", "0"});
  CliRun sent = Tracectl(first);
  EXPECT_EQ(sent.exit_code, 4) << sent.Describe();
  EXPECT_NE(sent.err.find("run `tracectl anchor now` again"), std::string::npos);
  std::vector<std::string> resume = NowArgs("", "3");
  resume.insert(resume.end(), {"--timeout", "0"});
  CliRun mined = Tracectl(resume);
  EXPECT_EQ(mined.exit_code, 4) << mined.Describe();
  EXPECT_NE(mined.err.find("1 of 3 confirmations"), std::string::npos) << mined.err;
  anvil_->Mine(2);
  CliRun done = Tracectl(NowArgs("", "3"));
  EXPECT_EQ(done.exit_code, 0) << done.Describe();
  EXPECT_EQ(Json::parse(done.out)["tree_size"], 7);
  EXPECT_EQ(anvil_->Nonce(*chain::ParseEthAddress(address)), 1u);
}

TEST_F(AnchorCliTest, BadInputIsAUsageErrorAndChangesNothing) {
  MakeFundedKey();
  std::string cp = WriteCheckpoint("cp.txt", 1);
  std::ofstream(dir_ / "bad.txt") << "not a checkpoint\n";
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string needle;
  };
  std::vector<Case> cases = {
      {{"anchor", "now", "--rpc", anvil_->url(), "--chain-id", "31337", "--checkpoint",
        (dir_ / "bad.txt").string()},
       2,
       "checkpoint"},
      {{"anchor", "now", "--rpc", anvil_->url(), "--checkpoint", cp}, 2, "--chain-id"},
      {{"anchor", "now", "--chain-id", "31337", "--checkpoint", cp}, 2, "--rpc"},
      {{"anchor", "now", "--rpc", "ftp://x", "--chain-id", "31337", "--checkpoint", cp}, 2, "http://"},
      {{"anchor", "now", "--rpc", anvil_->url(), "--chain-id", "31337", "--checkpoint", cp, "--tx-type",
        "blob"},
       2,
       "tx-type"},
      {{"anchor", "now", "--rpc", anvil_->url(), "--chain-id", "31337", "--checkpoint", cp, "--to", "0x12"},
       2,
       "--to"},
      {{"anchor", "verify", (dir_ / "bad.txt").string(), "--rpc", anvil_->url()}, 2, "receipt"},
  };
  for (const Case& c : cases) {
    CliRun r = Tracectl(c.args);
    EXPECT_EQ(r.exit_code, c.code) << r.Describe();
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.Describe();
  }
  // The wrong chain: refused before anything is sent (but the request stays queued).
  CliRun wrong = Tracectl({"anchor", "now", "--rpc", anvil_->url(), "--chain-id", "1", "--checkpoint", cp});
  EXPECT_EQ(wrong.exit_code, 3) << wrong.Describe();
  EXPECT_NE(wrong.err.find("31337"), std::string::npos);
  CliRun status = Tracectl({"--json", "anchor", "status"});
  Json s = Json::parse(status.out);
  EXPECT_EQ(s["receipts"], 0);
  EXPECT_TRUE(s["pending"].is_null());
  EXPECT_EQ(s["queued"]["tree_size"], 1);
}

// Without --checkpoint, `anchor now` anchors the latest stored checkpoint
// that meets the quorum of <data>/witnesses.json, or with no witnesses the
// latest one, with a warning.
TEST_F(AnchorCliTest, NowWithoutCheckpointAnchorsTheLatestWitnessedCheckpoint) {
  MakeFundedKey();
  CliRun init = Tracectl({"init", "--party", "op", "--name", "Operator"});
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  CliRun none = Tracectl(NowArgs(""));
  EXPECT_EQ(none.exit_code, 1) << none.Describe();
  EXPECT_NE(none.err.find("no checkpoint is stored yet"), std::string::npos) << none.Describe();

  CliRun signed1 = Tracectl({"--json", "checkpoint", "sign"});
  ASSERT_EQ(signed1.exit_code, 0) << signed1.Describe();
  const Json cp1 = Json::parse(signed1.out);
  const std::string origin = cp1["origin"].get<std::string>();
  auto operator_key = wallet::PublicKey::FromHex(cp1["signer"].get<std::string>());
  ASSERT_TRUE(operator_key.has_value());

  // A real witness of this log on a loopback port cosigns checkpoint 1.
  wallet::SecretKey witness_key = wallet::SecretKey::Generate();
  auto witness = chain::Witness::Open(chain::WitnessOptions{.name = "w1.example",
                                                            .logs = {{.origin = origin, .keys = {*operator_key}}},
                                                            .state_path = (dir_ / "w1.state").string()},
                                      witness_key);
  ASSERT_TRUE(witness.ok()) << witness.error().message;
  api::HttpServer server(api::ServerOptions{});
  api::AddWitnessRoutes(server, **witness);
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  Json config = {{"quorum", 1},
                 {"witnesses", Json::array({{{"name", "w1.example"},
                                             {"url", "http://127.0.0.1:" + std::to_string(*port)},
                                             {"public_key", witness_key.Public().Hex()}}})}};
  std::ofstream(dir_ / "data" / "witnesses.json") << config.dump();
  CliRun witnessed = Tracectl({"checkpoint", "witness"});
  ASSERT_EQ(witnessed.exit_code, 0) << witnessed.Describe();
  server.Stop();

  // The log grows; checkpoint 2 is signed but never witnessed.
  ASSERT_EQ(Tracectl({"keygen", "--out", (dir_ / "acme.key").string()}).exit_code, 0);
  CliRun reg = Tracectl({"register", "--key", (dir_ / "data" / "operator.key").string(), "--party", "acme",
                         "--name", "acme", "--roles", "merchant", "--public-key-from",
                         (dir_ / "acme.key").string()});
  ASSERT_EQ(reg.exit_code, 0) << reg.Describe();
  CliRun signed2 = Tracectl({"--json", "checkpoint", "sign"});
  ASSERT_EQ(signed2.exit_code, 0) << signed2.Describe();
  ASSERT_GT(Json::parse(signed2.out)["size"].get<uint64_t>(), cp1["size"].get<uint64_t>());

  CliRun anchored = Tracectl(NowArgs(""));
  ASSERT_EQ(anchored.exit_code, 0) << anchored.Describe();
  Json receipt = Json::parse(anchored.out);
  EXPECT_EQ(receipt["tree_size"], cp1["size"]) << "the witnessed checkpoint, not the newer unwitnessed one";
  auto note = chain::SignedNote::Parse(receipt["checkpoint"].get<std::string>());
  ASSERT_TRUE(note.ok());
  EXPECT_TRUE(chain::VerifyCosignature(*note, "w1.example", witness_key.Public()).ok());
  EXPECT_EQ(anchored.err.find("WARNING"), std::string::npos) << anchored.err;

  // Quorum 1 of a witness that cosigned nothing: no checkpoint qualifies.
  config["witnesses"][0]["public_key"] = wallet::SecretKey::Generate().Public().Hex();
  std::ofstream(dir_ / "data" / "witnesses.json") << config.dump();
  CliRun unwitnessed = Tracectl(NowArgs(""));
  EXPECT_EQ(unwitnessed.exit_code, 1) << unwitnessed.Describe();
  EXPECT_NE(unwitnessed.err.find("quorum"), std::string::npos) << unwitnessed.Describe();

  // No witnesses configured: the latest checkpoint, with a warning.
  fs::remove(dir_ / "data" / "witnesses.json");
  CliRun latest = Tracectl(NowArgs(""));
  ASSERT_EQ(latest.exit_code, 0) << latest.Describe();
  EXPECT_EQ(Json::parse(latest.out)["tree_size"], Json::parse(signed2.out)["size"]);
  EXPECT_NE(latest.err.find("WARNING: no witnesses"), std::string::npos) << latest.Describe();
}

// traced on a primary with --anchor-rpc: publishes checkpoints, anchors the
// latest on Anvil, logs the confirmation, serves the receipt at
// GET /v1/anchors/latest, and stops on SIGTERM.
TEST_F(AnchorCliTest, TracedAnchorsItsCheckpointsPeriodically) {
  MakeFundedKey();
  CliRun init = Tracectl({"init", "--party", "op", "--name", "Operator"});
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  const fs::path log = dir_ / "traced.log";
  std::vector<std::string> args = {TRACELEDGER_TRACED,
                                   "--data",
                                   (dir_ / "data").string(),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--checkpoint-interval",
                                   "0.05",
                                   "--anchor-rpc",
                                   anvil_->url(),
                                   "--anchor-chain-id",
                                   "31337",
                                   "--anchor-confirmations",
                                   "1",
                                   "--anchor-interval",
                                   "0.1",
                                   "--anchor-poll-ms",
                                   "20"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string pass = "TRACELEDGER_PASSPHRASE=anchor test passphrase";
  char* envp[] = {pass.data(), nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    int e = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (e < 0 || in < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(e, 1);
    ::dup2(e, 2);
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);
  // The log's first line with `event`, waiting up to a minute.
  auto wait_for = [&](const std::string& event) -> std::optional<Json> {
    for (int i = 0; i < 6000; ++i) {
      std::istringstream lines(Slurp(log));
      std::string line;
      while (std::getline(lines, line)) {
        Json j = Json::parse(line, nullptr, false);
        if (j.is_object() && j.value("event", "") == event) return j;
      }
      ::usleep(10'000);
    }
    return std::nullopt;
  };
  auto listening = wait_for("listening");
  auto confirmed = listening ? wait_for("anchor_confirmed") : std::nullopt;
  std::optional<api::HttpResponse> latest;
  if (confirmed) {
    api::HttpClient client("http://127.0.0.1:" + std::to_string((*listening)["port"].get<int>()));
    auto r = client.Get("/v1/anchors/latest");
    if (r.ok()) latest = *r;
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(listening.has_value()) << Slurp(log);
  ASSERT_TRUE(confirmed.has_value()) << Slurp(log);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << Slurp(log);
  EXPECT_EQ((*confirmed)["tree_size"], 1);
  EXPECT_EQ((*confirmed)["chain_id"], 31337);
  EXPECT_TRUE(wait_for("anchoring_unwitnessed").has_value()) << "no witnesses: the warning is logged";
  ASSERT_TRUE(latest.has_value());
  ASSERT_EQ(latest->status, 200) << latest->body;
  Json receipt = Json::parse(latest->body);
  EXPECT_EQ(receipt["tree_size"], 1);
  EXPECT_EQ(receipt["tx_hash"], (*confirmed)["tx_hash"]);
  // The receipt is stored: tracectl sees it once traced has let go.
  CliRun status_run = Tracectl({"--json", "anchor", "status"});
  ASSERT_EQ(status_run.exit_code, 0) << status_run.Describe();
  EXPECT_EQ(Json::parse(status_run.out)["receipts"], 1);
}

}  // namespace
}  // namespace traceledger::tools
