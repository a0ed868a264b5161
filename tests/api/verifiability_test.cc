// Verifiability over HTTP (api/node_service.h), on real servers on loopback
// ports over real on-disk ledgers:
//   - GET /v1/checkpoint[/{size}], /v1/proof/inclusion, /v1/proof/consistency
//     and /v1/anchors/latest: answers, and the 400s and 404s;
//   - the proofs served verify against the checkpoints served, and equal
//     what `tracectl proof` builds (ledger/proof_file.h);
//   - a replica's CheckpointWatcher accepts the primary's honest
//     checkpoints and raises the fork alarm, with both checkpoints as
//     evidence, on one signed by the operator key over another root.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "api/node_service.h"
#include "chain/checkpoint.h"
#include "chain/merkle.h"
#include "chain/proof.h"
#include "chain/witness.h"
#include "ledger/proof_file.h"
#include "ledger/record.h"
#include "ledger/replica.h"
#include "tests/api/replica_world.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using testing::ReplicaWorld;
using testing::ServedLedger;
using testing::TempDir;

std::vector<chain::Hash> Hashes(const Json& j) {
  std::vector<chain::Hash> out;
  for (const auto& h : j) out.push_back(*chain::HashFromHex(h.get<std::string>()));
  return out;
}

class VerifiabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_ = world_.Create(dir_.Sub("primary"));
    ASSERT_NE(primary_, nullptr);
    signer_ = std::make_unique<chain::CheckpointSigner>(primary_->store(), world_.operator_key());
    served_ = std::make_unique<ServedLedger>(*primary_);
    client_ = std::make_unique<HttpClient>(served_->url());
  }

  chain::StoredCheckpoint Sign() {
    auto cp = signer_->SignCurrent();
    EXPECT_TRUE(cp.ok()) << cp.error().message;
    return *cp;
  }

  void Grow(uint64_t first, uint64_t n) { ReplicaWorld::SubmitAll(*primary_, world_.Custody(first, n, "x")); }

  HttpResponse Get(const std::string& target) {
    auto r = client_->Get(target);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : HttpResponse{};
  }
  static std::string ErrorCode(const HttpResponse& r) {
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }

  TempDir dir_;
  ReplicaWorld world_;
  std::unique_ptr<ledger::Ledger> primary_;
  std::unique_ptr<chain::CheckpointSigner> signer_;
  std::unique_ptr<ServedLedger> served_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(VerifiabilityTest, CheckpointRoutes) {
  HttpResponse none = Get("/v1/checkpoint");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(ErrorCode(none), "not_found");

  chain::StoredCheckpoint cp = Sign();
  HttpResponse latest = Get("/v1/checkpoint");
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_EQ(latest.content_type.rfind("text/plain", 0), 0u) << latest.content_type;
  EXPECT_EQ(latest.body, cp.note.Serialize());
  auto note = chain::SignedNote::Parse(latest.body);
  ASSERT_TRUE(note.ok());
  EXPECT_TRUE(chain::OpenCheckpoint(*note, world_.operator_key().Public()).ok());

  // Cosignatures are served with the checkpoint.
  wallet::SecretKey witness = wallet::SecretKey::Generate();
  auto cosigned =
      signer_->AddCosignatures(cp.checkpoint.size, {chain::Cosign("w1", witness, cp.note.text, 1'795'219'200)});
  ASSERT_TRUE(cosigned.ok());
  HttpResponse with = Get("/v1/checkpoint/" + std::to_string(cp.checkpoint.size));
  ASSERT_EQ(with.status, 200);
  auto with_note = chain::SignedNote::Parse(with.body);
  ASSERT_TRUE(with_note.ok());
  EXPECT_EQ(with_note->signatures.size(), 2u);
  EXPECT_TRUE(chain::VerifyCosignature(*with_note, "w1", witness.Public()).ok());

  EXPECT_EQ(ErrorCode(Get("/v1/checkpoint/12x")), "bad_request");
  EXPECT_EQ(Get("/v1/checkpoint/12x").status, 400);
  HttpResponse missing = Get("/v1/checkpoint/" + std::to_string(cp.checkpoint.size + 1));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "not_found");
}

TEST_F(VerifiabilityTest, InclusionProofVerifiesAndMatchesTheCliFormat) {
  Grow(0, 20);
  chain::StoredCheckpoint cp = Sign();
  const uint64_t index = cp.checkpoint.size - 7;
  HttpResponse r = Get("/v1/proof/inclusion?index=" + std::to_string(index));
  ASSERT_EQ(r.status, 200) << r.body;
  Json proof = Json::parse(r.body);
  EXPECT_EQ(proof["type"], "traceledger-inclusion-proof/v1");
  EXPECT_EQ(proof["index"], index);
  EXPECT_EQ(proof["tree_size"], cp.checkpoint.size);
  EXPECT_EQ(proof["checkpoint"], cp.note.Serialize());
  auto leaf = chain::LeafHash(proof["entry"].get<std::string>());
  EXPECT_TRUE(chain::VerifyInclusion(index, cp.checkpoint.size, leaf, Hashes(proof["hashes"]), cp.checkpoint.root).ok());
  // The same document `tracectl proof inclusion` writes.
  auto file = ledger::InclusionProofFile(primary_->store(), index, cp.note);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(proof, *file);

  // By record id, at an explicit size.
  auto entry = primary_->store().GetEntry(index);
  ASSERT_TRUE(entry.ok() && entry->has_value());
  auto record = ledger::ParseRecord(**entry);
  ASSERT_TRUE(record.ok());
  HttpResponse by_id = Get("/v1/proof/inclusion?record=" + record->IdHex() +
                           "&size=" + std::to_string(cp.checkpoint.size));
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(Json::parse(by_id.body), proof);

  EXPECT_EQ(ErrorCode(Get("/v1/proof/inclusion")), "bad_request");  // neither
  EXPECT_EQ(ErrorCode(Get("/v1/proof/inclusion?index=1&record=" + record->IdHex())), "bad_request");
  EXPECT_EQ(Get("/v1/proof/inclusion?index=-1").status, 400);
  EXPECT_EQ(Get("/v1/proof/inclusion?record=zz").status, 400);
  HttpResponse beyond = Get("/v1/proof/inclusion?index=" + std::to_string(cp.checkpoint.size));
  EXPECT_EQ(beyond.status, 400);
  EXPECT_EQ(ErrorCode(beyond), "out_of_range");
  HttpResponse unknown = Get("/v1/proof/inclusion?record=" + std::string(64, 'a'));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Get("/v1/proof/inclusion?index=0&size=1").status, 404);  // no checkpoint of size 1
}

TEST_F(VerifiabilityTest, ConsistencyProofVerifies) {
  chain::StoredCheckpoint old_cp = Sign();
  Grow(0, 9);
  chain::StoredCheckpoint new_cp = Sign();
  ASSERT_LT(old_cp.checkpoint.size, new_cp.checkpoint.size);
  const std::string target = "/v1/proof/consistency?from=" + std::to_string(old_cp.checkpoint.size) +
                             "&to=" + std::to_string(new_cp.checkpoint.size);
  HttpResponse r = Get(target);
  ASSERT_EQ(r.status, 200) << r.body;
  Json proof = Json::parse(r.body);
  EXPECT_EQ(proof["type"], "traceledger-consistency-proof/v1");
  EXPECT_EQ(proof["old_checkpoint"], old_cp.note.Serialize());
  EXPECT_EQ(proof["new_checkpoint"], new_cp.note.Serialize());
  EXPECT_TRUE(chain::VerifyConsistency(old_cp.checkpoint.size, new_cp.checkpoint.size, old_cp.checkpoint.root,
                                       new_cp.checkpoint.root, Hashes(proof["hashes"]))
                  .ok());
  // `to` defaults to the latest checkpoint.
  EXPECT_EQ(Json::parse(Get("/v1/proof/consistency?from=" + std::to_string(old_cp.checkpoint.size)).body), proof);

  EXPECT_EQ(ErrorCode(Get("/v1/proof/consistency")), "bad_request");
  EXPECT_EQ(Get("/v1/proof/consistency?from=a").status, 400);
  HttpResponse backwards = Get("/v1/proof/consistency?from=" + std::to_string(new_cp.checkpoint.size) +
                               "&to=" + std::to_string(old_cp.checkpoint.size));
  EXPECT_EQ(backwards.status, 400);
  EXPECT_EQ(Get("/v1/proof/consistency?from=" + std::to_string(old_cp.checkpoint.size + 1)).status, 404);
}

TEST_F(VerifiabilityTest, AnchorsLatestWithoutAnchoring) {
  HttpResponse r = Get("/v1/anchors/latest");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorCode(r), "anchoring_not_configured");
}

// ---- the replica's checkpoint check ------------------------------------------

class CheckpointWatcherTest : public VerifiabilityTest {
 protected:
  // A replica of the primary: an on-disk mirror, followed over HTTP, with
  // the watcher as its checkpoint check.
  void StartReplica(ledger::LogSink log = nullptr) {
    std::filesystem::create_directories(dir_.Sub("replica"));
    auto opened = ledger::Ledger::OpenMirror(ledger::LedgerOptions{.path = dir_.Sub("replica/ledger")});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    mirror_ = std::move(opened).value();
    source_ = std::make_unique<HttpBlockSource>(served_->url());
    watcher_ = std::make_unique<CheckpointWatcher>(served_->url(), std::move(log));
    follower_ = std::make_unique<ledger::Follower>(
        *mirror_, *source_,
        ledger::FollowerOptions{.data_dir = dir_.Sub("replica"),
                                .min_backoff_ms = 1,
                                .max_backoff_ms = 10,
                                .check_consistency = [this](const ledger::Ledger& l, ledger::BlockSource&) {
                                  return watcher_->Check(l);
                                }});
  }

  std::unique_ptr<ledger::Ledger> mirror_;
  std::unique_ptr<HttpBlockSource> source_;
  std::unique_ptr<CheckpointWatcher> watcher_;
  std::unique_ptr<ledger::Follower> follower_;
};

TEST_F(CheckpointWatcherTest, HonestCheckpointsAreVerified) {
  Grow(0, 5);
  chain::StoredCheckpoint cp = Sign();
  StartReplica();
  EXPECT_EQ(follower_->SyncOnce(), ledger::Follower::Round::kCaughtUp);
  EXPECT_EQ(watcher_->verified_size(), cp.checkpoint.size);
  // The primary grows and signs again: still consistent.
  Grow(5, 5);
  chain::StoredCheckpoint cp2 = Sign();
  EXPECT_EQ(follower_->SyncOnce(), ledger::Follower::Round::kCaughtUp);
  EXPECT_EQ(watcher_->verified_size(), cp2.checkpoint.size);
  EXPECT_FALSE(follower_->halted());
}

TEST_F(CheckpointWatcherTest, ForgedCheckpointRaisesTheForkAlarm) {
  Grow(0, 5);
  chain::StoredCheckpoint honest = Sign();
  StartReplica();
  ASSERT_EQ(follower_->SyncOnce(), ledger::Follower::Round::kCaughtUp);

  // The primary now serves a checkpoint signed by the operator key over
  // another root at a size the replica holds.
  chain::Checkpoint forged_cp = honest.checkpoint;
  forged_cp.size -= 1;
  forged_cp.root = chain::Sha256("not the log");
  chain::SignedNote forged_note{.text = forged_cp.Text(), .signatures = {}};
  forged_note.signatures.push_back(chain::SignNote(forged_cp.origin, world_.operator_key(), forged_note.text));
  chain::StoredCheckpoint forged{
      .signer = world_.operator_key().Public(), .note = forged_note, .checkpoint = forged_cp};
  // Stored at a size above the honest one so that it is "the latest".
  Grow(5, 1);
  ASSERT_TRUE(primary_->store().PutCheckpoint(honest.checkpoint.size + 1, forged.Encode(), false).ok());

  EXPECT_EQ(follower_->SyncOnce(), ledger::Follower::Round::kHalted);
  ledger::FollowerStatus s = follower_->status();
  EXPECT_EQ(s.state, ledger::FollowState::kHalted);
  EXPECT_NE(s.alarm.find("checkpoint fork"), std::string::npos) << s.alarm;
  std::ifstream in(s.evidence_path);
  std::stringstream text;
  text << in.rdbuf();
  Json evidence = Json::parse(text.str(), nullptr, false);
  ASSERT_TRUE(evidence.is_object()) << s.evidence_path;
  EXPECT_EQ(evidence["alarm"], "fork");
  EXPECT_EQ(evidence["second"]["checkpoint"], forged_note.Serialize());
  // The replica's own checkpoint at that size: the honest root.
  chain::StoreNodeSource nodes(mirror_->store());
  chain::Checkpoint own{.origin = forged_cp.origin, .size = forged_cp.size, .root = *chain::RootAt(nodes, forged_cp.size),
                        .extensions = {}};
  EXPECT_EQ(evidence["first"]["checkpoint"], own.Text());
  EXPECT_TRUE(std::filesystem::exists(ledger::Follower::HaltMarkerPath(dir_.Sub("replica"))));
}

TEST_F(CheckpointWatcherTest, BadlySignedCheckpointIsNotAFork) {
  Grow(0, 3);
  chain::StoredCheckpoint honest = Sign();
  std::vector<std::string> events;
  StartReplica([&events](std::string_view, std::string_view event, const Json&) { events.emplace_back(event); });
  // Signed by another key, over another root.
  wallet::SecretKey stranger = wallet::SecretKey::Generate();
  chain::Checkpoint other = honest.checkpoint;
  other.root = chain::Sha256("elsewhere");
  chain::SignedNote note{.text = other.Text(), .signatures = {chain::SignNote(other.origin, stranger, other.Text())}};
  Grow(3, 1);
  ASSERT_TRUE(primary_->store()
                  .PutCheckpoint(honest.checkpoint.size + 1,
                                 chain::StoredCheckpoint{.signer = stranger.Public(), .note = note, .checkpoint = other}
                                     .Encode(),
                                 false)
                  .ok());
  EXPECT_EQ(follower_->SyncOnce(), ledger::Follower::Round::kCaughtUp);
  EXPECT_FALSE(follower_->halted());
  EXPECT_NE(std::find(events.begin(), events.end(), "checkpoint_invalid"), events.end());
}

}  // namespace
}  // namespace traceledger::api
