// Verifying replicas end to end: a Follower on an on-disk mirror fetches
// from real primaries served over HTTP on loopback ports.
//
//   - catches up over 100,000 blocks, then again after a restart;
//   - a primary that is down is retried, and followed once it is back;
//   - a forked primary (same genesis and operator key, diverged history)
//     raises the alarm: evidence file, halt marker, nothing of the fork
//     stored, and a restarted follower stays halted;
//   - a primary that announces a tip and then serves another block at
//     that height is a fork too.
#include "ledger/replica.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/node_service.h"
#include "ledger/audit.h"
#include "tests/api/replica_world.h"
#include "util/encoding.h"

namespace traceledger::api {
namespace {

using ledger::Follower;
using ledger::FollowState;
using ledger::Json;
using testing::CompareStores;
using testing::ReplicaWorld;
using testing::ServedLedger;
using testing::TempDir;

struct LogLine {
  std::string level;
  std::string event;
  Json fields;
};

class ReplicaFollowTest : public ::testing::Test {
 protected:
  std::unique_ptr<ledger::Ledger> OpenMirror() {
    std::filesystem::create_directories(dir_.Sub("replica"));
    auto mirror = ledger::Ledger::OpenMirror(ledger::LedgerOptions{.path = dir_.Sub("replica/ledger")});
    EXPECT_TRUE(mirror.ok()) << mirror.error().message;
    return mirror.ok() ? std::move(mirror).value() : nullptr;
  }

  ledger::FollowerOptions Options() {
    return ledger::FollowerOptions{
        .data_dir = dir_.Sub("replica"),
        .min_backoff_ms = 1,
        .max_backoff_ms = 10,
        .log = [this](std::string_view level, std::string_view event, const Json& fields) {
          std::lock_guard<std::mutex> lock(log_mu_);
          log_.push_back(LogLine{std::string(level), std::string(event), fields});
        }};
  }

  std::vector<LogLine> Logged(const std::string& event) {
    std::lock_guard<std::mutex> lock(log_mu_);
    std::vector<LogLine> out;
    for (const auto& l : log_) {
      if (l.event == event) out.push_back(l);
    }
    return out;
  }

  std::vector<std::string> EvidenceFiles() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("replica"))) {
      std::string name = e.path().filename().string();
      if (name.starts_with("fork-evidence-") && name.ends_with(".json")) out.push_back(e.path().string());
    }
    return out;
  }

  static std::string Hex(const std::string& bytes) {
    return HexEncode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  }

  static void ExpectSameLedger(const ledger::Ledger& primary, const ledger::Ledger& replica) {
    ASSERT_TRUE(replica.tip().has_value());
    EXPECT_EQ(replica.tip()->block_hash, primary.tip()->block_hash);
    EXPECT_EQ(CompareStores(primary.store(), replica.store()), "");
  }

  TempDir dir_;
  ReplicaWorld world_;
  std::mutex log_mu_;
  std::vector<LogLine> log_;
};

TEST_F(ReplicaFollowTest, CatchesUpOver100000BlocksAndAgainAfterARestart) {
  auto primary = world_.Create(dir_.Sub("primary"));
  ASSERT_NE(primary, nullptr);
  ReplicaWorld::SubmitAll(*primary, world_.Custody(0, 100'000, "bulk"));
  ASSERT_GE(primary->tip()->height, 100'000u);
  ServedLedger served(*primary);
  HttpBlockSource source(served.url());
  {
    auto mirror = OpenMirror();
    Follower follower(*mirror, source, Options());
    EXPECT_EQ(follower.SyncOnce(), Follower::Round::kCaughtUp);
    EXPECT_EQ(follower.status().state, FollowState::kCaughtUp);
    EXPECT_EQ(follower.status().blocks_synced, primary->tip()->height + 1);
    ExpectSameLedger(*primary, *mirror);
  }
  // Offline while the primary moves on; restarted, it resumes from its tip.
  ReplicaWorld::SubmitAll(*primary, world_.Custody(100'000, 500, "later"));
  auto mirror = OpenMirror();
  const uint64_t had = mirror->tip()->height;
  Follower follower(*mirror, source, Options());
  EXPECT_EQ(follower.SyncOnce(), Follower::Round::kCaughtUp);
  EXPECT_EQ(follower.status().blocks_synced, primary->tip()->height - had);
  ExpectSameLedger(*primary, *mirror);
}

TEST_F(ReplicaFollowTest, RetriesWhileThePrimaryIsDownAndFollowsWhenItIsBack) {
  auto primary = world_.Create(dir_.Sub("primary"));
  ReplicaWorld::SubmitAll(*primary, world_.Custody(0, 20, "x"));
  auto mirror = OpenMirror();
  std::string url;
  {
    ServedLedger probe(*primary);
    url = probe.url();
  }  // stopped: nothing listens on the port now
  HttpBlockSource source(url, ClientOptions{.connect_timeout_ms = 300});
  Follower follower(*mirror, source, Options());
  EXPECT_EQ(follower.SyncOnce(), Follower::Round::kRetry);
  EXPECT_EQ(follower.status().state, FollowState::kRetrying);
  EXPECT_NE(follower.status().last_error.find("primary unreachable"), std::string::npos)
      << follower.status().last_error;
  EXPECT_FALSE(mirror->tip().has_value());

  // Back on another port; Run keeps retrying until it gets there.
  ServedLedger served(*primary);
  HttpBlockSource back(served.url());
  Follower running(*mirror, back, Options());
  std::thread runner([&] { running.Run(); });
  for (int i = 0; i < 500 && running.status().state != FollowState::kCaughtUp; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running.Stop();
  runner.join();
  EXPECT_EQ(running.status().state, FollowState::kCaughtUp);
  ExpectSameLedger(*primary, *mirror);
}

// Primaries A and B share genesis, operator key and the first 16 blocks
// (B is a copy of A's directory), then each appends its own records.
class ForkTest : public ReplicaFollowTest {
 protected:
  void SetUp() override {
    a_ = world_.Create(dir_.Sub("a"));
    ASSERT_NE(a_, nullptr);
    ReplicaWorld::SubmitAll(*a_, world_.Custody(0, 10, "common"));
    common_height_ = a_->tip()->height;
    a_.reset();
    std::filesystem::copy(dir_.Sub("a"), dir_.Sub("b"), std::filesystem::copy_options::recursive);
    a_ = world_.Open(dir_.Sub("a"));
    b_ = world_.Open(dir_.Sub("b"));
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }

  // Checks the alarm raised by `follower`: at `height`, with our block
  // first and `theirs` second in the evidence, and the halt marker.
  void ExpectAlarm(const Follower& follower, uint64_t height, const std::string& first,
                   const std::string& second, const std::string& primary_url) {
    ledger::FollowerStatus s = follower.status();
    EXPECT_EQ(s.state, FollowState::kHalted);
    EXPECT_NE(s.alarm.find("height " + std::to_string(height)), std::string::npos) << s.alarm;
    auto alarms = Logged("fork_detected");
    ASSERT_EQ(alarms.size(), 1u);
    EXPECT_EQ(alarms[0].level, "alarm");
    EXPECT_TRUE(alarms[0].fields["message"].get<std::string>().starts_with("ALARM: ")) << alarms[0].fields;
    auto files = EvidenceFiles();
    ASSERT_EQ(files.size(), 1u);
    EXPECT_EQ(s.evidence_path, files[0]);
    std::ifstream in(files[0]);
    std::stringstream text;
    text << in.rdbuf();
    Json evidence = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(evidence.is_object()) << text.str();
    EXPECT_EQ(evidence["alarm"], "fork");
    EXPECT_EQ(evidence["primary"], primary_url);
    EXPECT_EQ(evidence["height"], height);
    EXPECT_EQ(evidence["first"]["block"], Hex(first));
    EXPECT_EQ(evidence["second"]["block"], Hex(second));
    EXPECT_EQ(evidence["first"]["header"]["height"], height);
    EXPECT_NE(evidence["first"]["header"]["block_hash"], evidence["second"]["header"]["block_hash"]);
    EXPECT_TRUE(evidence.contains("detected_at"));
    EXPECT_TRUE(std::filesystem::exists(Follower::HaltMarkerPath(dir_.Sub("replica"))));
  }

  std::string Block(const ledger::Ledger& l, uint64_t height) { return (*l.GetBlock(height))->Serialize(); }

  std::unique_ptr<ledger::Ledger> a_, b_;
  uint64_t common_height_ = 0;
};

TEST_F(ForkTest, APrimaryServingADifferentBlockAtAHeightWeHoldRaisesTheAlarm) {
  ReplicaWorld::SubmitAll(*a_, world_.Custody(10, 5, "history A"));
  ReplicaWorld::SubmitAll(*b_, world_.Custody(10, 8, "history B"));
  ServedLedger served_a(*a_), served_b(*b_);
  auto mirror = OpenMirror();
  HttpBlockSource source_a(served_a.url()), source_b(served_b.url());
  {
    Follower follower(*mirror, source_a, Options());
    ASSERT_EQ(follower.SyncOnce(), Follower::Round::kCaughtUp);
  }
  const uint64_t held = mirror->tip()->height;
  ASSERT_EQ(held, a_->tip()->height);
  ASSERT_GT(b_->tip()->height, held);

  // Pointed at B, which is longer: the block B links its next block to
  // (B's block at our tip height) is not ours.
  Follower follower(*mirror, source_b, Options());
  EXPECT_EQ(follower.SyncOnce(), Follower::Round::kHalted);
  ExpectAlarm(follower, held, Block(*a_, held), Block(*b_, held), served_b.url());
  // Nothing of B was stored; the replica still holds exactly A's ledger.
  ExpectSameLedger(*a_, *mirror);
  ledger::AuditReport audit = ledger::Audit(mirror->store());
  EXPECT_TRUE(audit.ok) << audit.reason;
  // Halted: no more rounds, even towards the honest primary.
  EXPECT_EQ(follower.SyncOnce(), Follower::Round::kHalted);

  // A restart stays halted until an operator removes the marker.
  Follower restarted(*mirror, source_a, Options());
  EXPECT_TRUE(restarted.halted());
  EXPECT_EQ(restarted.SyncOnce(), Follower::Round::kHalted);
  restarted.Run();  // returns at once, with the alarm logged again
  EXPECT_EQ(Logged("halted").size(), 1u);
  std::filesystem::remove(Follower::HaltMarkerPath(dir_.Sub("replica")));
  Follower cleared(*mirror, source_a, Options());
  EXPECT_FALSE(cleared.halted());
  EXPECT_EQ(cleared.SyncOnce(), Follower::Round::kCaughtUp);
}

TEST_F(ForkTest, APrimaryThatRewroteBlocksBelowOurTipRaisesTheAlarm) {
  ReplicaWorld::SubmitAll(*a_, world_.Custody(10, 6, "history A"));
  ReplicaWorld::SubmitAll(*b_, world_.Custody(10, 2, "history B"));
  ServedLedger served_a(*a_), served_b(*b_);
  auto mirror = OpenMirror();
  HttpBlockSource source_a(served_a.url()), source_b(served_b.url());
  {
    Follower follower(*mirror, source_a, Options());
    ASSERT_EQ(follower.SyncOnce(), Follower::Round::kCaughtUp);
  }
  const uint64_t their_tip = b_->tip()->height;
  ASSERT_LT(their_tip, mirror->tip()->height);
  Follower follower(*mirror, source_b, Options());
  EXPECT_EQ(follower.SyncOnce(), Follower::Round::kHalted);
  ExpectAlarm(follower, their_tip, Block(*a_, their_tip), Block(*b_, their_tip), served_b.url());
  ExpectSameLedger(*a_, *mirror);
}

TEST_F(ForkTest, APrimaryBehindUsOnTheSameHistoryIsNotAFork) {
  ReplicaWorld::SubmitAll(*a_, world_.Custody(10, 6, "history A"));
  ServedLedger served_a(*a_), served_b(*b_);  // B: the common prefix only
  auto mirror = OpenMirror();
  HttpBlockSource source_a(served_a.url()), source_b(served_b.url());
  {
    Follower follower(*mirror, source_a, Options());
    ASSERT_EQ(follower.SyncOnce(), Follower::Round::kCaughtUp);
  }
  Follower follower(*mirror, source_b, Options());
  EXPECT_EQ(follower.SyncOnce(), Follower::Round::kBehind);
  EXPECT_EQ(follower.status().state, FollowState::kBehind);
  EXPECT_EQ(Logged("primary_behind").size(), 1u);
  EXPECT_TRUE(EvidenceFiles().empty());
  ExpectSameLedger(*a_, *mirror);
}

// Announces A's tip but serves B's blocks: the primary changed its story
// about a height it had announced.
class SplitSource : public ledger::BlockSource {
 public:
  SplitSource(ledger::BlockSource& tips, ledger::BlockSource& blocks) : tips_(tips), blocks_(blocks) {}
  std::string Name() const override { return blocks_.Name(); }
  Result<std::optional<std::string>, ledger::SourceError> TipBlock() override { return tips_.TipBlock(); }
  Result<ledger::BlockRange, ledger::SourceError> Blocks(uint64_t from, uint32_t max) override {
    return blocks_.Blocks(from, max);
  }

 private:
  ledger::BlockSource& tips_;
  ledger::BlockSource& blocks_;
};

TEST_F(ForkTest, ABlockDifferentFromTheTipAnnouncedEarlierRaisesTheAlarm) {
  auto mirror = OpenMirror();
  {
    ServedLedger served(*a_);
    HttpBlockSource common(served.url());
    Follower follower(*mirror, common, Options());
    ASSERT_EQ(follower.SyncOnce(), Follower::Round::kCaughtUp);
  }
  ASSERT_EQ(mirror->tip()->height, common_height_);
  ReplicaWorld::SubmitAll(*a_, world_.Custody(10, 5, "history A"));
  ReplicaWorld::SubmitAll(*b_, world_.Custody(10, 5, "history B"));
  const uint64_t announced = a_->tip()->height;
  ASSERT_EQ(b_->tip()->height, announced);
  ServedLedger served_a(*a_), served_b(*b_);
  HttpBlockSource source_a(served_a.url()), source_b(served_b.url());
  SplitSource split(source_a, source_b);
  Follower follower(*mirror, split, Options());
  EXPECT_EQ(follower.SyncOnce(), Follower::Round::kHalted);
  ExpectAlarm(follower, announced, Block(*a_, announced), Block(*b_, announced), served_b.url());
  // The check runs before anything of the range is applied.
  EXPECT_EQ(mirror->tip()->height, common_height_);
}

}  // namespace
}  // namespace traceledger::api
