// The resolver as the real traced binary serves it (tools/traced.cc, the
// "web" block): a ledger built with tracectl (codes issued with PINs), then
// traced on a free port with the resolver's flags. Checks the wiring (JSON,
// page, PIN, the rate-limit flags), that scans in <data>/scans survive
// kill -9, and --no-resolver.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "api/http.h"
#include "tests/tools/tracectl_harness.h"
#include "tests/util/temp_files.h"

namespace traceledger::tools::harness {
namespace {

constexpr const char* kGtin = "09501101530003";

// traced in the background, its log (stderr) in a file.
class TracedProcess {
 public:
  TracedProcess(const std::vector<std::string>& args, const Env& env, const std::string& log_path)
      : log_path_(log_path) {
    SpawnArgs spawn(TRACELEDGER_TRACED, args, env);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int spawned = ::posix_spawn(&pid_, TRACELEDGER_TRACED, &actions, nullptr, spawn.argv.data(), spawn.envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      pid_ = 0;
      ADD_FAILURE() << "posix_spawn traced: " << std::strerror(spawned);
    }
  }
  ~TracedProcess() {
    if (pid_ != 0) Stop(SIGKILL);
  }

  // The port from the "listening" log line (0 after 30 s without one).
  int Port() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < give_up) {
      for (const auto& line : traceledger::testing::ReadLines(log_path_)) {
        Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_object() && j.value("event", "") == "listening") return j.value("port", 0);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "traced did not log \"listening\":\n" << Log();
    return 0;
  }
  // Sends `sig` and waits; the exit code (-1 when killed by a signal).
  int Stop(int sig) {
    if (pid_ == 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string Log() const {
    std::string out;
    for (const auto& line : traceledger::testing::ReadLines(log_path_)) out += line + "\n";
    return out;
  }

 private:
  std::string log_path_;
  pid_t pid_ = 0;
};

class TracedResolverTest : public CliTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InitTwoMerchantsWithProduct(kGtin));
    ASSERT_NO_FATAL_FAILURE(AppendLot(merchant_, kGtin, "L1/A"));
    const std::string out = dir_ / "codes";
    std::filesystem::create_directories(out);
    RunResult r = Run({"codes", "issue", "--key", merchant_, "--gtin", kGtin, "--lot", "L1/A", "--count", "2",
                       "--out", out, "--pin", "--batch", "B1"},
                      AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    for (const auto& line : traceledger::testing::ReadLines(out + "/" + kGtin + "-B1.jsonl")) {
      Json j = Json::parse(line);
      uris_.push_back(j.at("uri"));
      pins_.push_back(j.at("pin"));
    }
    ASSERT_EQ(uris_.size(), 2u);
  }

  std::unique_ptr<TracedProcess> Start(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--data", Data(), "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<TracedProcess>(args, Env{{"TRACELEDGER_OPERATOR_PASSPHRASE", kOperatorPass}},
                                             dir_ / ("traced-" + std::to_string(starts_++) + ".log"));
    port_ = p->Port();
    return p;
  }

  api::HttpResponse Get(const std::string& uri, std::vector<std::pair<std::string, std::string>> headers = {}) {
    api::HttpClient client("http://127.0.0.1:" + std::to_string(port_));
    auto r = client.Get(uri.substr(uri.find("/01/")), headers);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (r.ok()) return *r;
    api::HttpResponse none;
    none.status = 0;
    return none;
  }

  static std::string HeaderOf(const api::HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return "";
  }

  std::vector<std::string> uris_, pins_;
  int port_ = 0;
  int starts_ = 0;
};

TEST_F(TracedResolverTest, ServesCodesPinsAndLimitsAndKeepsScansAcrossKill9) {
  auto traced = Start({"--scan-rate", "1", "--scan-burst", "3", "--scan-region-header", "X-Region"});
  ASSERT_NE(port_, 0);
  api::HttpResponse json = Get(uris_[0], {{"X-Region", "CN-44"}});
  ASSERT_EQ(json.status, 200) << json.body;
  Json doc = Json::parse(json.body);
  EXPECT_EQ(doc["verdict"], "genuine");
  EXPECT_EQ(doc["code"]["lot"], "L1/A");
  EXPECT_EQ(doc["product"]["name"], "Tea");
  EXPECT_EQ(doc["merchant"]["name"], "acme Ltd");
  EXPECT_EQ(doc["scans"]["count"], 1);

  api::HttpResponse page = Get(uris_[0], {{"Accept", "text/html"}, {"Accept-Language", "zh-CN"}, {"X-Region", "CN-11"}});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(">正品</h1>"), std::string::npos);

  api::HttpClient client("http://127.0.0.1:" + std::to_string(port_));
  auto pin = client.Post("/v1/pin", Json{{"code", uris_[0]}, {"pin", pins_[0]}}.dump(), "application/json");
  ASSERT_TRUE(pin.ok());
  EXPECT_EQ(pin->status, 200) << pin->body;
  EXPECT_EQ(Json::parse(pin->body)["outcome"], "consumed");

  api::HttpResponse third = Get(uris_[0]);
  EXPECT_EQ(third.status, 200);
  api::HttpResponse limited = Get(uris_[0]);  // burst of 3 spent, 1 per second
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_FALSE(HeaderOf(limited, "Retry-After").empty());

  // kill -9: the acknowledged scans and the consumed PIN are in <data>/scans.
  EXPECT_EQ(traced->Stop(SIGKILL), -1);
  traced = Start({"--scan-rate", "0"});
  ASSERT_NE(port_, 0);
  Json after = Json::parse(Get(uris_[0]).body);
  EXPECT_EQ(after["scans"]["count"], 4);
  EXPECT_EQ(after["scans"]["regions"], 3);  // CN-44, CN-11, and 127.0.0.0/16 as N4-7F00
  EXPECT_EQ(after["pin"]["consumed"], true);
  EXPECT_EQ(after["verdict"], "warning");
  EXPECT_EQ(traced->Stop(SIGTERM), 0) << traced->Log();
}

TEST_F(TracedResolverTest, NoResolverFlag) {
  auto traced = Start({"--no-resolver"});
  ASSERT_NE(port_, 0);
  api::HttpResponse r = Get(uris_[0]);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"not_found\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(Data() + "/scans"));
  EXPECT_EQ(traced->Stop(SIGTERM), 0) << traced->Log();
}

}  // namespace
}  // namespace traceledger::tools::harness
