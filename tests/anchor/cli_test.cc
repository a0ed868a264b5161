// tracectl anchor end to end: the real binary against a real Anvil node,
// with a keystore made by `tracectl keygen`. Exit codes (docs/CLI.md §3):
// 0 ok, 1 verification failed / not found / conflict, 2 usage,
// 3 failure (node down, wrong chain), 4 not confirmed within --timeout.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace traceledger::tools
