// End-to-end tests of the traced binary (tools/traced.cc), run as a child
// process with stderr (its JSON log) read line by line:
//
//   - a replica killed with SIGKILL in the middle of a sync, restarted,
//     catches up; it lost nothing it had served; afterwards the audit
//     passes and its store equals the primary's byte for byte;
//   - a replica refuses writes with read_only_replica;
//   - a primary accepts writes over HTTP and stops gracefully on SIGTERM
//     with its writes durable;
//   - an unusable port or data directory is a clear log line and exit 3;
//     bad flags exit 2;
//   - a primary with --checkpoint-interval and --witnesses publishes
//     checkpoints cosigned by a real witness on loopback, serves them and
//     proofs against them, and stops publishing on SIGTERM;
//   - a replica whose primary serves a checkpoint signed by the operator
//     key over another root raises the fork alarm.
//
// The primaries the replicas follow are served in this process over real
// HTTP on loopback (tests/api/replica_world.h). Kill points come from a
// seeded RNG; the seed is printed, TRACELEDGER_CRASH_SEED replays it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api/http.h"
#include "api/witness_service.h"
#include "chain/checkpoint.h"
#include "chain/witness.h"
#include "ledger/audit.h"
#include "ledger/ledger.h"
#include "tests/api/replica_world.h"
#include "tools/cli_support.h"  // exit codes (constants only)
#include "wallet/keystore.h"

extern char** environ;

namespace traceledger::tools {
namespace {

using Clock = std::chrono::steady_clock;
using ledger::Json;
using traceledger::testing::CompareStores;
using traceledger::testing::ReplicaWorld;
using traceledger::testing::ServedLedger;
using traceledger::testing::TempDir;

// A running traced. The child sees the parent's environment minus every
// TRACELEDGER_* variable, plus `env`; stdin is /dev/null, stdout is
// discarded, stderr (the log) is collected line by line.
class Traced {
 public:
  Traced(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "TRACELEDGER_", 12) != 0) env_strings.emplace_back(*e);
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string program = TRACELEDGER_TRACED;
    std::vector<std::string> argv_strings = {program};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    int err_pipe[2];
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
    int spawned = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(err_pipe[1]);
    if (spawned != 0) {
      ::close(err_pipe[0]);
      pid_ = 0;
      ADD_FAILURE() << "posix_spawn " << program << ": " << std::strerror(spawned);
      return;
    }
    reader_ = std::thread([this, fd = err_pipe[0]] { ReadLog(fd); });
  }

  ~Traced() {
    if (pid_ != 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    if (reader_.joinable()) reader_.join();
  }

  void Signal(int sig) {
    if (pid_ != 0) ::kill(pid_, sig);
  }

  // The exit status (waitpid's), waiting up to 60 s before a SIGKILL.
  int Wait() {
    if (pid_ == 0) return -1;
    if (exited_) return status_;
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      pid_t r = ::waitpid(pid_, &status_, WNOHANG);
      if (r == pid_) break;
      if (Clock::now() > give_up) {
        ADD_FAILURE() << "traced did not exit within 60 s";
        ::kill(pid_, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    exited_ = true;
    if (reader_.joinable()) reader_.join();
    return status_;
  }

  int ExitCode() {
    int status = Wait();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // The first log line with this event (waiting up to 60 s, or until the
  // child's stderr closes).
  std::optional<Json> WaitFor(const std::string& event) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<Json> found;
    cv_.wait_for(lock, std::chrono::seconds(60), [&] {
      for (const Json& line : lines_) {
        if (line.value("event", "") == event) {
          found = line;
          return true;
        }
      }
      return closed_;
    });
    return found;
  }

  std::vector<Json> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

  std::string Log() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const Json& l : lines_) out += l.dump() + "\n";
    return out;
  }

  // The port from the "listening" line; 0 if none.
  int Port() {
    auto line = WaitFor("listening");
    return line ? line->value("port", 0) : 0;
  }

 private:
  void ReadLog(int fd) {
    std::string buffer;
    char chunk[8192];
    for (;;) {
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buffer.append(chunk, static_cast<size_t>(n));
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        Json line = Json::parse(buffer.substr(0, nl), nullptr, /*allow_exceptions=*/false);
        buffer.erase(0, nl + 1);
        std::lock_guard<std::mutex> lock(mu_);
        if (line.is_object()) {
          lines_.push_back(std::move(line));
        } else {
          malformed_lines_++;
        }
        cv_.notify_all();
      }
    }
    ::close(fd);
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    EXPECT_EQ(malformed_lines_, 0) << "traced wrote log lines that are not JSON objects";
    cv_.notify_all();
  }

  pid_t pid_ = 0;
  int status_ = 0;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Json> lines_;  // GUARDED_BY(mu_)
  int malformed_lines_ = 0;  // GUARDED_BY(mu_)
  bool closed_ = false;      // GUARDED_BY(mu_)
};

// The replica's tip height over HTTP; nullopt when it has none or is down.
std::optional<uint64_t> TipHeight(const api::HttpClient& client) {
  auto r = client.Get("/v1/tip");
  if (!r.ok() || r->status != 200) return std::nullopt;
  Json j = Json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("height")) return std::nullopt;
  return j["height"].get<uint64_t>();
}

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

TEST(TracedTest, AReplicaSurvivesSigkillDuringSyncAndCatchesUp) {
  TempDir dir;
  ReplicaWorld world;
  auto primary = world.Create(dir.Sub("primary"), /*max_block_records=*/2);
  ASSERT_NE(primary, nullptr);
  ReplicaWorld::SubmitAll(*primary, world.Custody(0, 20'000, "crash"));
  const uint64_t primary_height = primary->tip()->height;
  ServedLedger served(*primary);
  const std::string data = dir.Sub("replica");
  const std::vector<std::string> args = {"--follow",    served.url(),     "--data", data,        "--listen",
                                         "127.0.0.1:0", "--fetch-blocks", "100",    "--poll-ms", "50"};
  std::mt19937_64 rng(traceledger::testing::TestSeed());

  uint64_t served_height = 0;  // the highest tip a killed replica served
  for (int kill = 0; kill < 3; ++kill) {
    Traced replica(args);
    const int port = replica.Port();
    ASSERT_NE(port, 0) << replica.Log();
    // It restarted from what it had: the tip it served before the kill.
    auto opened = replica.WaitFor("ledger_opened");
    ASSERT_TRUE(opened.has_value());
    if (kill > 0) {
      ASSERT_TRUE((*opened)["height"].is_number()) << opened->dump();
      EXPECT_GE((*opened)["height"].get<uint64_t>(), served_height);
    }
    // Kill it once its tip passes a random point further along.
    const uint64_t from = std::max<uint64_t>(served_height, primary_height / 10) + 100;
    const uint64_t target =
        from + rng() % ((primary_height * 9 / 10 - from) / static_cast<uint64_t>(3 - kill));
    api::HttpClient client(Url(port));
    std::optional<uint64_t> seen;
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < give_up) {
      seen = TipHeight(client);
      if (seen && *seen >= target) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(seen && *seen >= target) << "the replica did not reach height " << target << "\n"
                                         << replica.Log();
    replica.Signal(SIGKILL);
    int status = replica.Wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_LT(*seen, primary_height) << "killed after the sync had finished";
    served_height = *seen;
    std::cout << "[ traced   ] killed at height " << *seen << " of " << primary_height << "\n";
  }

  // Restarted once more, it catches up, still refuses writes, and stops
  // gracefully on SIGTERM.
  {
    Traced replica(args);
    const int port = replica.Port();
    ASSERT_NE(port, 0) << replica.Log();
    auto caught_up = replica.WaitFor("caught_up");
    ASSERT_TRUE(caught_up.has_value()) << replica.Log();
    EXPECT_EQ((*caught_up)["height"], primary_height);
    api::HttpClient client(Url(port));
    auto post = client.Post("/v1/records", world.Custody(1'000'000, 1, "to replica")[0], "application/json");
    ASSERT_TRUE(post.ok());
    EXPECT_EQ(post->status, 403);
    EXPECT_NE(post->body.find("\"read_only_replica\""), std::string::npos) << post->body;
    EXPECT_NE(post->body.find(served.url()), std::string::npos) << post->body;
    replica.Signal(SIGTERM);
    EXPECT_EQ(replica.ExitCode(), kExitOk) << replica.Log();
    EXPECT_TRUE(replica.WaitFor("stopped").has_value());
  }

  auto mirror = ledger::Ledger::Open(ledger::LedgerOptions{.path = data + "/ledger"}, std::nullopt);
  ASSERT_TRUE(mirror.ok()) << mirror.error().message;
  ledger::AuditReport audit = ledger::Audit((*mirror)->store());
  EXPECT_TRUE(audit.ok) << audit.reason;
  EXPECT_EQ(CompareStores(primary->store(), (*mirror)->store()), "");
}

// A primary data directory `data` with the world's ledger and the
// operator keystore; returns the passphrase environment.
std::map<std::string, std::string> MakePrimaryData(ReplicaWorld& world, const std::string& data) {
  std::filesystem::create_directories(data);
  {
    auto primary = world.Create(data + "/ledger");
    EXPECT_NE(primary, nullptr);
  }
  const std::string passphrase = "node passphrase";
  auto saved = wallet::SaveKeystore(data + "/operator.key", world.operator_key(), passphrase,
                                    wallet::SaveOptions{.kdf = {.n = 1024, .r = 8, .p = 1}});
  EXPECT_TRUE(saved.ok()) << saved.error().message;
  return {{"TRACELEDGER_OPERATOR_PASSPHRASE", passphrase}};
}

TEST(TracedTest, APrimaryTakesWritesAndStopsGracefully) {
  TempDir dir;
  ReplicaWorld world;
  const std::string data = dir.Sub("node");
  const auto env = MakePrimaryData(world, data);
  std::vector<std::string> records = world.Custody(0, 3, "over http");
  {
    Traced node({"--data", data, "--listen", "127.0.0.1:0"}, env);
    const int port = node.Port();
    ASSERT_NE(port, 0) << node.Log();
    auto started = node.WaitFor("starting");
    ASSERT_TRUE(started.has_value());
    EXPECT_EQ((*started)["role"], "primary");
    api::HttpClient client(Url(port));
    auto one = client.Post("/v1/records", records[0], "application/json");
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->status, 200) << one->body;
    auto batch = client.Post("/v1/records", "[" + records[1] + "," + records[2] + "]", "application/json");
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->status, 200) << batch->body;
    node.Signal(SIGTERM);
    EXPECT_EQ(node.ExitCode(), kExitOk) << node.Log();
    // Every line has time, level and event, in that order.
    for (const Json& line : node.Lines()) {
      EXPECT_TRUE(line.contains("time") && line.contains("level") && line.contains("event")) << line.dump();
    }
  }
  auto reopened = ledger::Ledger::Open(ledger::LedgerOptions{.path = data + "/ledger"}, std::nullopt);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  for (const std::string& r : records) {
    auto parsed = ledger::ParseRecord(r);
    ASSERT_TRUE(parsed.ok());
    auto stored = (*reopened)->GetRecord(parsed->id);
    ASSERT_TRUE(stored.ok());
    EXPECT_TRUE(stored->has_value()) << "an acknowledged record is missing after the graceful stop";
  }
}

TEST(TracedTest, UnusablePortOrDataDirectoryIsAClearErrorAndExit3) {
  TempDir dir;
  // The port is taken.
  api::HttpServer holder(api::ServerOptions{});
  auto held = holder.Start();
  ASSERT_TRUE(held.ok());
  {
    Traced node({"--follow", "http://127.0.0.1:9", "--data", dir.Sub("r1"), "--listen",
                 "127.0.0.1:" + std::to_string(*held)});
    EXPECT_EQ(node.ExitCode(), kExitFailure) << node.Log();
    auto line = node.WaitFor("listen_failed");
    ASSERT_TRUE(line.has_value()) << node.Log();
    EXPECT_EQ((*line)["level"], "error");
    EXPECT_NE(
        (*line)["message"].get<std::string>().find("cannot listen on 127.0.0.1:" + std::to_string(*held)),
        std::string::npos);
  }
  // The data directory is a file.
  { std::ofstream(dir.Sub("a-file")) << "x"; }
  {
    Traced node({"--follow", "http://127.0.0.1:9", "--data", dir.Sub("a-file"), "--listen", "127.0.0.1:0"});
    EXPECT_EQ(node.ExitCode(), kExitFailure) << node.Log();
    EXPECT_TRUE(node.WaitFor("data_dir_unusable").has_value()) << node.Log();
  }
  // The data directory is in use by another node.
  {
    Traced first({"--follow", "http://127.0.0.1:9", "--data", dir.Sub("r2"), "--listen", "127.0.0.1:0"});
    ASSERT_NE(first.Port(), 0) << first.Log();
    Traced second({"--follow", "http://127.0.0.1:9", "--data", dir.Sub("r2"), "--listen", "127.0.0.1:0"});
    EXPECT_EQ(second.ExitCode(), kExitFailure) << second.Log();
    auto line = second.WaitFor("data_dir_unusable");
    ASSERT_TRUE(line.has_value()) << second.Log();
    EXPECT_NE((*line)["message"].get<std::string>().find("lock"), std::string::npos) << line->dump();
    first.Signal(SIGTERM);
    EXPECT_EQ(first.ExitCode(), kExitOk);
  }
  // A primary without a ledger.
  {
    Traced node({"--data", dir.Sub("empty"), "--listen", "127.0.0.1:0"});
    EXPECT_EQ(node.ExitCode(), kExitFailure) << node.Log();
    auto line = node.WaitFor("data_dir_unusable");
    ASSERT_TRUE(line.has_value()) << node.Log();
    EXPECT_NE((*line)["message"].get<std::string>().find("run tracectl init first"), std::string::npos)
        << line->dump();
  }
  // Bad flags.
  {
    Traced node({"--listen", "no-port", "--data", dir.Sub("x")});
    EXPECT_EQ(node.ExitCode(), kExitUsage) << node.Log();
  }
  {
    Traced node({"--follow", "ftp://primary", "--data", dir.Sub("x")});
    EXPECT_EQ(node.ExitCode(), kExitUsage) << node.Log();
  }
}

TEST(TracedTest, APrimaryPublishesWitnessedCheckpointsAndServesProofs) {
  TempDir dir;
  ReplicaWorld world;
  const std::string data = dir.Sub("node");
  std::filesystem::create_directories(data);
  std::string origin;
  uint64_t tree_size = 0;
  {
    auto primary = world.Create(data + "/ledger");
    ASSERT_NE(primary, nullptr);
    ReplicaWorld::SubmitAll(*primary, world.Custody(0, 4, "witnessed"));
    auto o = chain::DefaultOrigin(primary->store());
    ASSERT_TRUE(o.ok());
    origin = *o;
    tree_size = primary->tip()->frontier.size();
  }
  const std::string passphrase = "node passphrase";
  ASSERT_TRUE(wallet::SaveKeystore(data + "/operator.key", world.operator_key(), passphrase,
                                   wallet::SaveOptions{.kdf = {.n = 1024, .r = 8, .p = 1}})
                  .ok());
  // A real witness of this log, served on a loopback port.
  wallet::SecretKey witness_key = wallet::SecretKey::Generate();
  auto witness = chain::Witness::Open(
      chain::WitnessOptions{.name = "w1.example",
                            .logs = {{.origin = origin, .keys = {world.operator_key().Public()}}},
                            .state_path = dir.Sub("w1.state")},
      witness_key);
  ASSERT_TRUE(witness.ok()) << witness.error().message;
  api::HttpServer witness_server(api::ServerOptions{});
  api::AddWitnessRoutes(witness_server, **witness);
  auto witness_port = witness_server.Start();
  ASSERT_TRUE(witness_port.ok());
  Json config = {{"quorum", 1},
                 {"witnesses", Json::array({{{"name", "w1.example"},
                                             {"url", Url(*witness_port)},
                                             {"public_key", witness_key.Public().Hex()}}})}};
  std::ofstream(dir.Sub("witnesses.json")) << config.dump();

  Traced node({"--data", data, "--listen", "127.0.0.1:0", "--checkpoint-interval", "0.05", "--witnesses",
               dir.Sub("witnesses.json")},
              {{"TRACELEDGER_OPERATOR_PASSPHRASE", passphrase}});
  const int port = node.Port();
  ASSERT_NE(port, 0) << node.Log();
  auto published = node.WaitFor("checkpoint_published");
  ASSERT_TRUE(published.has_value()) << node.Log();
  EXPECT_EQ((*published)["tree_size"], tree_size);
  EXPECT_EQ((*published)["witnessed"], true) << published->dump();
  EXPECT_EQ((*published)["cosigned_by"], Json::array({"w1.example"}));

  api::HttpClient client(Url(port));
  auto cp = client.Get("/v1/checkpoint");
  ASSERT_TRUE(cp.ok());
  ASSERT_EQ(cp->status, 200) << cp->body;
  auto note = chain::SignedNote::Parse(cp->body);
  ASSERT_TRUE(note.ok()) << cp->body;
  EXPECT_TRUE(chain::OpenCheckpoint(*note, world.operator_key().Public(), origin).ok());
  EXPECT_TRUE(chain::VerifyCosignature(*note, "w1.example", witness_key.Public()).ok()) << cp->body;
  auto proof = client.Get("/v1/proof/inclusion?index=1");
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(proof->status, 200) << proof->body;
  auto anchors = client.Get("/v1/anchors/latest");
  ASSERT_TRUE(anchors.ok());
  EXPECT_EQ(anchors->status, 404);

  node.Signal(SIGTERM);
  EXPECT_EQ(node.ExitCode(), kExitOk) << node.Log();
  // Nothing is published after "stopping".
  bool stopping = false;
  for (const Json& line : node.Lines()) {
    if (line.value("event", "") == "stopping") stopping = true;
    if (stopping) {
      EXPECT_NE(line.value("event", ""), "checkpoint_published") << line.dump();
    }
  }
  EXPECT_TRUE(stopping);
}

// A replica checks the primary's checkpoints: one signed by the operator
// key over another root than the blocks it verified raises the fork alarm.
TEST(TracedTest, AReplicaRaisesTheAlarmOnAForgedCheckpoint) {
  TempDir dir;
  ReplicaWorld world;
  auto primary = world.Create(dir.Sub("primary"));
  ASSERT_NE(primary, nullptr);
  ReplicaWorld::SubmitAll(*primary, world.Custody(0, 6, "forged"));
  chain::CheckpointSigner signer(primary->store(), world.operator_key());
  auto honest = signer.SignCurrent();
  ASSERT_TRUE(honest.ok());
  chain::Checkpoint forged = honest->checkpoint;
  forged.size -= 2;
  forged.root = chain::Sha256("another history");
  chain::SignedNote note{.text = forged.Text(),
                         .signatures = {chain::SignNote(forged.origin, world.operator_key(), forged.Text())}};
  ASSERT_TRUE(primary->store()
                  .PutCheckpoint(honest->checkpoint.size,
                                 chain::StoredCheckpoint{.signer = world.operator_key().Public(),
                                                         .note = note,
                                                         .checkpoint = forged}
                                     .Encode(),
                                 false)
                  .ok());
  ServedLedger served(*primary);
  const std::string data = dir.Sub("replica");
  Traced replica({"--follow", served.url(), "--data", data, "--listen", "127.0.0.1:0", "--poll-ms", "50"});
  auto alarm = replica.WaitFor("fork_detected");
  ASSERT_TRUE(alarm.has_value()) << replica.Log();
  EXPECT_EQ((*alarm)["level"], "alarm");
  EXPECT_NE((*alarm)["message"].get<std::string>().find("checkpoint fork"), std::string::npos) << alarm->dump();
  EXPECT_TRUE(std::filesystem::exists(data + "/replica-halted.json"));
  replica.Signal(SIGTERM);
  EXPECT_EQ(replica.ExitCode(), kExitOk) << replica.Log();
}

TEST(TracedTest, VerifiabilityFlagsAreCheckedBeforeAnythingStarts) {
  TempDir dir;
  const std::vector<std::vector<std::string>> bad = {
      {"--witnesses", dir.Sub("witnesses.json")},                                     // no interval
      {"--follow", "http://127.0.0.1:1", "--checkpoint-interval", "1"},                 // a replica
      {"--checkpoint-interval", "1", "--anchor-rpc", "http://127.0.0.1:1"},             // no chain id
      {"--anchor-rpc", "http://127.0.0.1:1", "--anchor-chain-id", "31337"},             // no checkpoints
      {"--checkpoint-interval", "1", "--witnesses", dir.Sub("missing.json")},           // unreadable
  };
  for (std::vector<std::string> args : bad) {
    args.insert(args.begin(), {"--data", dir.Sub("node"), "--listen", "127.0.0.1:0"});
    Traced node(args);
    EXPECT_EQ(node.ExitCode(), kExitUsage) << node.Log();
    EXPECT_TRUE(node.WaitFor("bad_flags").has_value()) << node.Log();
  }
}

// --- operations (ops) ---

TEST(TracedOpsTest, ConfiguredByEnvironmentWithFlagsWinning) {
  TempDir dir;
  ReplicaWorld world;
  const std::string data = dir.Sub("node");
  auto env = MakePrimaryData(world, data);
  env["TRACED_DATA"] = data;
  env["TRACED_ADDR"] = "127.0.0.1:0";
  env["TRACED_ACCESS_LOG"] = "1";
  {
    Traced node({}, env);
    const int port = node.Port();
    ASSERT_NE(port, 0) << node.Log();
    auto started = node.WaitFor("starting");
    ASSERT_TRUE(started.has_value());
    EXPECT_EQ((*started)["data"], data);
    EXPECT_EQ((*started)["listen"], "127.0.0.1:0");
    api::HttpClient client(Url(port));
    auto metrics = client.Get("/metrics");
    ASSERT_TRUE(metrics.ok());
    EXPECT_EQ(metrics->status, 200);
    EXPECT_NE(metrics->body.find("traceledger_ledger_tree_size "), std::string::npos) << metrics->body;
    // The access log: one info line per request, with its route.
    auto line = node.WaitFor("request");
    ASSERT_TRUE(line.has_value()) << node.Log();
    EXPECT_EQ((*line)["level"], "info");
    EXPECT_EQ((*line)["route"], "/metrics");
    EXPECT_EQ((*line)["status"], 200);
    node.Signal(SIGTERM);
    EXPECT_EQ(node.ExitCode(), kExitOk) << node.Log();
  }
  // A flag overrides its variable.
  env["TRACED_ADDR"] = "not an address";
  {
    Traced node({"--listen", "127.0.0.1:0"}, env);
    ASSERT_NE(node.Port(), 0) << node.Log();
    node.Signal(SIGTERM);
    EXPECT_EQ(node.ExitCode(), kExitOk) << node.Log();
  }
  {
    Traced node({}, env);
    EXPECT_EQ(node.ExitCode(), kExitUsage) << node.Log();
  }
}

TEST(TracedOpsTest, MissingFileOrUnwritableDataDirectoryIsAClearErrorAndExit3) {
  TempDir dir;
  { std::ofstream(dir.Sub("a-file")) << "x"; }
  const std::pair<std::string, std::string> cases[] = {
      {dir.Sub("missing"), "does not exist"},
      {dir.Sub("a-file"), "is not a directory"},
      // Not writable even for root.
      {"/proc/self", "is not writable"},
  };
  for (const auto& [data, why] : cases) {
    Traced node({"--data", data, "--listen", "127.0.0.1:0"});
    EXPECT_EQ(node.ExitCode(), kExitFailure) << node.Log();
    auto line = node.WaitFor("data_dir_unusable");
    ASSERT_TRUE(line.has_value()) << node.Log();
    EXPECT_NE((*line)["message"].get<std::string>().find(why), std::string::npos) << line->dump();
  }
}

TEST(TracedOpsTest, SigtermDuringAStreamOfWritesLosesNoAcknowledgedRecord) {
  TempDir dir;
  ReplicaWorld world;
  const std::string data = dir.Sub("node");
  auto env = MakePrimaryData(world, data);
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 300;
  std::vector<std::string> records = world.Custody(0, kWriters * kPerWriter, "sigterm stream");
  std::vector<std::vector<std::string>> acked(kWriters);
  std::atomic<int> acks{0};
  {
    Traced node({"--data", data, "--listen", "127.0.0.1:0"}, env);
    const int port = node.Port();
    ASSERT_NE(port, 0) << node.Log();
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        api::HttpClient client(Url(port), api::ClientOptions{.connect_timeout_ms = 1000, .read_timeout_ms = 10000});
        // Writer w sends records w, w+kWriters, ... (custody records of
        // one shipment chain: each depends on none of the others' order).
        for (int i = w; i < kWriters * kPerWriter; i += kWriters) {
          auto r = client.Post("/v1/records", records[i], "application/json");
          if (!r.ok()) break;  // the node is going away
          if (r->status == 200) {
            acked[w].push_back(records[i]);
            acks++;
          }
        }
      });
    }
    // SIGTERM once writes are flowing.
    const auto give_up = Clock::now() + std::chrono::seconds(60);
    while (acks < 40 && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    node.Signal(SIGTERM);
    for (auto& t : writers) t.join();
    EXPECT_EQ(node.ExitCode(), kExitOk) << node.Log();
  }
  ASSERT_GE(acks.load(), 40);
  auto reopened = ledger::Ledger::Open(ledger::LedgerOptions{.path = data + "/ledger"}, std::nullopt);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  int checked = 0;
  for (const auto& list : acked) {
    for (const std::string& r : list) {
      auto parsed = ledger::ParseRecord(r);
      ASSERT_TRUE(parsed.ok());
      auto stored = (*reopened)->GetRecord(parsed->id);
      ASSERT_TRUE(stored.ok());
      EXPECT_TRUE(stored->has_value()) << "an acknowledged record is missing after SIGTERM";
      ++checked;
    }
  }
  EXPECT_EQ(checked, acks.load());
  auto audit = ledger::Audit((*reopened)->store());
  EXPECT_TRUE(audit.ok) << audit.reason;
}

}  // namespace
}  // namespace traceledger::tools
