// The node routes (api/node_service.h) on a real server on a loopback
// port, over a real on-disk primary; and a replica's refusal of writes.
#include "api/node_service.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ledger/replica.h"
#include "tests/api/http_answer.h"
#include "tests/api/replica_world.h"
#include "util/encoding.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using testing::ReplicaWorld;
using testing::ServedLedger;
using testing::TempDir;

class NodeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_ = world_.Create(dir_.Sub("primary"));
    ASSERT_NE(primary_, nullptr);
    served_ = std::make_unique<ServedLedger>(*primary_);
    client_ = std::make_unique<HttpClient>(served_->url());
  }

  // GET or POST; the response, with its body parsed when it is JSON.
  using Answer = traceledger::testing::Answer;
  Answer Get(const std::string& target) { return Parse(client_->Get(target)); }
  Answer Post(const std::string& body) {
    return Parse(client_->Post("/v1/records", body, "application/json"));
  }
  static Answer Parse(const Result<HttpResponse, HttpError>& r) { return traceledger::testing::ToAnswer(r); }
  static std::string ErrorCode(const Answer& a) { return a.ErrorCode(); }

  TempDir dir_;
  ReplicaWorld world_;
  std::unique_ptr<ledger::Ledger> primary_;
  std::unique_ptr<ServedLedger> served_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(NodeServiceTest, HealthAndTip) {
  Answer health = Get("/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json["status"], "ok");
  EXPECT_EQ(health.json["role"], "primary");
  EXPECT_EQ(health.json["height"], primary_->tip()->height);

  Answer tip = Get("/v1/tip");
  ASSERT_EQ(tip.status, 200) << tip.body;
  const chain::Tip t = *primary_->tip();
  EXPECT_EQ(tip.json["height"], t.height);
  EXPECT_EQ(tip.json["tree_size"], t.frontier.size());
  EXPECT_EQ(tip.json["root"], chain::HashHex(t.frontier.Root()));
  EXPECT_EQ(tip.json["block_hash"], chain::HashHex(t.block_hash));
  auto block = primary_->GetBlock(t.height);
  EXPECT_EQ(tip.json["block"], HexEncode(std::span<const uint8_t>(
                                   reinterpret_cast<const uint8_t*>((*block)->Serialize().data()), 192)));
}

TEST_F(NodeServiceTest, OneBlockAsJson) {
  Answer b = Get("/v1/blocks/0");
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(b.json["height"], 0);
  ASSERT_EQ(b.json["entries"].size(), 1u);
  EXPECT_EQ(b.json["entries"][0]["kind"], "party");
  // The entry's canonical form is the stored entry.
  auto stored = primary_->store().GetEntry(0);
  EXPECT_EQ(ledger::CanonicalJson(b.json["entries"][0]), **stored);

  Answer missing = Get("/v1/blocks/999");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "not_found");
  Answer bad = Get("/v1/blocks/-1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ErrorCode(bad), "bad_request");
}

TEST_F(NodeServiceTest, BlockRangesInTheTransferFraming) {
  auto r = client_->Get("/v1/blocks?from=2&count=3");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->content_type, "application/octet-stream");
  auto range = ledger::DecodeBlockRange(r->body);
  ASSERT_TRUE(range.ok()) << range.error();
  EXPECT_EQ(range->from, 2u);
  ASSERT_EQ(range->blocks.size(), 3u);
  EXPECT_EQ(*range->link, (*primary_->GetBlock(1))->Serialize());
  for (size_t i = 0; i < 3; ++i) {
    auto block = primary_->GetBlock(2 + i);
    EXPECT_EQ(range->blocks[i].block, (*block)->Serialize());
    ASSERT_EQ(range->blocks[i].entries.size(), 1u);
    EXPECT_EQ(range->blocks[i].entries[0], **primary_->store().GetEntry((*block)->header.first_index()));
  }

  EXPECT_EQ(ErrorCode(Get("/v1/blocks?count=3")), "bad_request");
  EXPECT_EQ(ErrorCode(Get("/v1/blocks?from=x")), "bad_request");
  EXPECT_EQ(ErrorCode(Get("/v1/blocks?from=0&count=0")), "bad_request");
  EXPECT_EQ(ErrorCode(Get("/v1/blocks?from=0&count=1001")), "bad_request");
  const uint64_t next = primary_->tip()->height + 1;
  Answer beyond = Get("/v1/blocks?from=" + std::to_string(next + 1));
  EXPECT_EQ(beyond.status, 404);
  EXPECT_EQ(ErrorCode(beyond), "not_found");
  auto at_next = client_->Get("/v1/blocks?from=" + std::to_string(next));
  ASSERT_EQ(at_next->status, 200);
  auto empty = ledger::DecodeBlockRange(at_next->body);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->blocks.empty());
  EXPECT_TRUE(empty->link.has_value());
}

TEST_F(NodeServiceTest, SubmitsAndReadsRecords) {
  std::vector<std::string> records = world_.Custody(0, 4, "route test");
  Answer one = Post(records[0]);
  ASSERT_EQ(one.status, 200) << one.body;
  const std::string id = one.json["id"];
  EXPECT_EQ(one.json["index"], primary_->tip()->frontier.size() - 1);
  EXPECT_EQ(one.json["height"], primary_->tip()->height);

  Answer read = Get("/v1/records/" + id);
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(read.json["id"], id);
  EXPECT_EQ(read.json["record"]["kind"], "custody");
  EXPECT_EQ(ledger::CanonicalJson(read.json["record"]), records[0]);
  EXPECT_EQ(ErrorCode(Get("/v1/records/" + std::string(64, '0'))), "not_found");
  EXPECT_EQ(ErrorCode(Get("/v1/records/xyz")), "bad_request");

  // Rejections: the record's own code and field, a 4xx, nothing stored.
  const uint64_t size = primary_->tip()->frontier.size();
  Answer replay = Post(records[0]);
  EXPECT_EQ(replay.status, 409);
  EXPECT_EQ(ErrorCode(replay), "replay");
  std::string tampered = records[1];
  size_t sig = tampered.find("\"sig\":\"") + 7;
  tampered[sig] = tampered[sig] == '0' ? '1' : '0';
  Answer bad_sig = Post(tampered);
  EXPECT_EQ(bad_sig.status, 403);
  EXPECT_EQ(ErrorCode(bad_sig), "bad_signature");
  EXPECT_EQ(bad_sig.json["error"]["field"], "sig");
  Answer malformed = Post("{\"v\":1,");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(ErrorCode(malformed), "malformed");
  EXPECT_EQ(primary_->tip()->frontier.size(), size);

  // An array: results in input order, each accepted or rejected alone.
  Answer batch = Post("[" + records[1] + "," + records[0] + "," + records[2] + "]");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(batch.json["accepted"], 2);
  EXPECT_EQ(batch.json["rejected"], 1);
  ASSERT_EQ(batch.json["results"].size(), 3u);
  EXPECT_TRUE(batch.json["results"][0].contains("id"));
  EXPECT_EQ(batch.json["results"][1]["error"]["code"], "replay");
  EXPECT_TRUE(batch.json["results"][2].contains("id"));
  EXPECT_EQ(primary_->tip()->frontier.size(), size + 2);
  EXPECT_EQ(ErrorCode(Post("[]")), "schema");
}

TEST_F(NodeServiceTest, AReplicaRefusesWritesAndNamesItsPrimary) {
  auto mirror = ledger::Ledger::OpenMirror(ledger::LedgerOptions{.path = dir_.Sub("replica")});
  ASSERT_TRUE(mirror.ok()) << mirror.error().message;
  ServedLedger replica(**mirror, NodeOptions{.primary_url = served_->url()});
  HttpClient client(replica.url());
  std::vector<std::string> records = world_.Custody(0, 1, "to the replica");
  for (const std::string& body : {records[0], "[" + records[0] + "]"}) {
    auto r = client.Post("/v1/records", body, "application/json");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 403);
    Answer a = Parse(r);
    EXPECT_EQ(ErrorCode(a), "read_only_replica");
    EXPECT_EQ(a.json["error"]["message"],
              "this node is a replica of " + served_->url() + "; send writes to the primary");
  }
  EXPECT_FALSE((*mirror)->tip().has_value());
  auto health = Parse(client.Get("/healthz"));
  EXPECT_EQ(health.json["role"], "replica");
  EXPECT_EQ(health.json["primary"], served_->url());
  EXPECT_EQ(ErrorCode(Parse(client.Get("/v1/tip"))), "empty_ledger");
}

}  // namespace
}  // namespace traceledger::api
