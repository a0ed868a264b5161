#include "api/witness_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chain/proof.h"
#include "tests/chain/store_fixture.h"

namespace traceledger::api {
namespace {

using chain::testing::AppendBlocks;
using chain::testing::ScratchDir;

constexpr const char* kOrigin = "example.com/log";

// One witness: its state directory, chain::Witness and an HTTP server.
struct RunningWitness {
  std::string name;
  wallet::SecretKey key = wallet::SecretKey::Generate();
  ScratchDir dir;
  std::unique_ptr<chain::Witness> witness;
  std::unique_ptr<HttpServer> server;
  int port = 0;

  void Start(const wallet::PublicKey& log_key) {
    auto w = chain::Witness::Open(
        chain::WitnessOptions{.name = name,
                              .logs = {chain::WitnessedLog{.origin = kOrigin, .keys = {log_key}}},
                              .state_path = dir.path() + "/state"},
        key);
    ASSERT_TRUE(w.ok()) << w.error().message;
    witness = std::move(w).value();
    server = std::make_unique<HttpServer>(ServerOptions{});
    AddWitnessRoutes(*server, *witness);
    auto p = server->Start();
    ASSERT_TRUE(p.ok()) << p.error();
    port = *p;
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
  WitnessEndpoint Endpoint() const { return WitnessEndpoint{name, Url(), key.Public()}; }
};

class WitnessServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = chain::Store::Open(chain::StoreOptions{.path = "log", .in_memory = true});
    ASSERT_TRUE(s.ok());
    store_ = std::move(s).value();
    AppendBlocks(*store_, {10}, log_key_);
    signer_ = std::make_unique<chain::CheckpointSigner>(*store_, log_key_, kOrigin);
    for (const char* name : {"w1.example", "w2.example", "w3.example"}) {
      witnesses_.push_back(std::make_unique<RunningWitness>());
      witnesses_.back()->name = name;
      witnesses_.back()->Start(log_key_.Public());
    }
  }

  PublisherOptions Options(size_t quorum) const {
    PublisherOptions o{.witnesses = {}, .quorum = quorum, .client = {}};
    for (const auto& w : witnesses_) o.witnesses.push_back(w->Endpoint());
    return o;
  }

  wallet::SecretKey log_key_ = wallet::SecretKey::Generate();
  std::unique_ptr<chain::Store> store_;
  std::unique_ptr<chain::CheckpointSigner> signer_;
  std::vector<std::unique_ptr<RunningWitness>> witnesses_;
};

TEST_F(WitnessServiceTest, PublisherCollectsAQuorumAndStoresTheCosignatures) {
  witnesses_[2]->server->Stop();  // one witness is down
  CheckpointPublisher publisher(*store_, *signer_, Options(2));
  auto report = publisher.PublishOnce();
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->checkpoint.checkpoint.size, 10u);
  ASSERT_EQ(report->witnesses.size(), 3u);
  EXPECT_TRUE(report->witnesses[0].cosigned) << report->witnesses[0].error;
  EXPECT_TRUE(report->witnesses[1].cosigned) << report->witnesses[1].error;
  EXPECT_FALSE(report->witnesses[2].cosigned);
  EXPECT_NE(report->witnesses[2].error.find("request failed"), std::string::npos)
      << report->witnesses[2].error;
  EXPECT_EQ(report->quorum.distinct_keys, 2u);
  EXPECT_TRUE(report->quorum.witnessed);
  // Stored with the checkpoint: operator signature + two cosignatures.
  auto stored = chain::StoredCheckpoint::Decode(**store_->GetCheckpoint(10));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->note.signatures.size(), 3u);
  EXPECT_TRUE(chain::VerifyCosignature(stored->note, "w1.example", witnesses_[0]->key.Public()).ok());

  // The log grows; a quorum of 3 is not reached with one witness down.
  AppendBlocks(*store_, {5}, log_key_);
  CheckpointPublisher strict(*store_, *signer_, Options(3));
  auto next = strict.PublishOnce();
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->checkpoint.checkpoint.size, 15u);
  EXPECT_EQ(next->quorum.distinct_keys, 2u);
  EXPECT_FALSE(next->quorum.witnessed);
  // This publisher started without knowing the witnesses' sizes (0): they
  // answered 409 with 10, and it retried with a proof from 10.
  EXPECT_EQ(witnesses_[0]->witness->Latest(kOrigin)->size, 15u);
  EXPECT_EQ(witnesses_[1]->witness->Latest(kOrigin)->size, 15u);
}

TEST_F(WitnessServiceTest, StatusCodesFollowTheProtocol) {
  RunningWitness& w = *witnesses_[0];
  HttpClient client(w.Url());
  auto cp = signer_->SignCurrent();
  ASSERT_TRUE(cp.ok());
  auto post = [&](const std::string& body) {
    auto r = client.Post("/add-checkpoint", body, "text/plain");
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : HttpResponse{};
  };
  auto ok = post(chain::AddCheckpointBody(0, {}, cp->note));
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(ok.body.starts_with("\xE2\x80\x94 w1.example ")) << ok.body;
  auto conflict = post(chain::AddCheckpointBody(0, {}, cp->note));
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.body, "10\n");
  EXPECT_NE(conflict.content_type.find("text/x.tlog.size"), std::string::npos);

  AppendBlocks(*store_, {6}, log_key_);
  auto next = signer_->SignCurrent();
  ASSERT_TRUE(next.ok());
  chain::StoreNodeSource nodes(*store_);
  std::vector<chain::Hash> proof = *chain::ConsistencyProof(nodes, 10, 16);
  std::vector<chain::Hash> bad = proof;
  bad[0][0] ^= 1;
  EXPECT_EQ(post(chain::AddCheckpointBody(10, bad, next->note)).status, 422);
  EXPECT_EQ(post(chain::AddCheckpointBody(17, {}, next->note)).status, 400);
  EXPECT_EQ(post("old 10\n").status, 400);
  chain::SignedNote stranger = next->note;
  stranger.signatures = {chain::SignNote(kOrigin, wallet::SecretKey::Generate(), stranger.text)};
  auto forbidden = post(chain::AddCheckpointBody(10, proof, stranger));
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_NE(forbidden.body.find("\"code\":\"bad_signature\""), std::string::npos) << forbidden.body;
  chain::Checkpoint other{.origin = "other.example/log", .size = 1, .root = {}};
  chain::SignedNote unknown{.text = other.Text(),
                            .signatures = {chain::SignNote(other.origin, log_key_, other.Text())}};
  EXPECT_EQ(post(chain::AddCheckpointBody(0, {}, unknown)).status, 404);
  EXPECT_EQ(post(chain::AddCheckpointBody(10, proof, next->note)).status, 200);
}

TEST_F(WitnessServiceTest, RunsOnAnIntervalUntilStopped) {
  CheckpointPublisher publisher(*store_, *signer_, Options(2));
  publisher.Start(std::chrono::milliseconds(20));
  AppendBlocks(*store_, {7}, log_key_);
  // Wait (bounded) for a round that saw the grown log.
  bool seen = false;
  for (int i = 0; i < 500 && !seen; ++i) {
    auto last = publisher.last();
    seen = last && last->ok() && (*last)->checkpoint.checkpoint.size == 17 && (*last)->quorum.witnessed;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  publisher.Stop();
  EXPECT_TRUE(seen);
  EXPECT_EQ(witnesses_[2]->witness->Latest(kOrigin)->size, 17u);
}

}  // namespace
}  // namespace traceledger::api
