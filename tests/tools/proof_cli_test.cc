// End-to-end tests of the verifiability tools: tracectl checkpoint, proof
// and verify-proof on a real ledger, tracewitness servers on loopback, and
// a witness killed with SIGKILL at each point of persisting its state.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "api/http.h"
#include "chain/checkpoint.h"
#include "chain/proof.h"
#include "chain/store.h"
#include "chain/witness.h"
#include "ledger/canonical_json.h"
#include "tests/util/temp_files.h"
#include "tests/chain/store_fixture.h"
#include "tests/tools/subprocess.h"
#include "tools/cli_support.h"
#include "wallet/keystore.h"

namespace traceledger::tools {
namespace {

using chain::testing::AppendBlocks;
using chain::testing::ScratchDir;
using ledger::Json;
using traceledger::testing::ReadAll;
using traceledger::testing::WriteAll;

constexpr const char* kPass = "proof cli passphrase";

RunResult Tracectl(const std::vector<std::string>& args, const Env& env = {}) {
  return RunProgram(TRACELEDGER_TRACECTL, args, env);
}

// A witness key in a keystore (one scrypt derivation, ~0.1 s).
std::string SaveWitnessKey(const std::string& path, const wallet::SecretKey& key) {
  auto saved = wallet::SaveKeystore(path, key, kPass);
  EXPECT_TRUE(saved.ok());
  return path;
}

// A tracewitness process following one log.
struct WitnessProcess {
  BackgroundProcess process;
  std::string url;

  void Start(const std::string& key_file, const std::string& name, const std::string& state,
             const std::string& origin, const std::string& log_key_hex, const Env& extra = {}) {
    Env env = extra;
    env["TRACELEDGER_WITNESS_PASSPHRASE"] = kPass;
    std::string address = process.Start(TRACELEDGER_TRACEWITNESS,
                                        {"--key", key_file, "--name", name, "--state", state, "--log",
                                         origin + "=" + log_key_hex, "--port", "0"},
                                        env, "listening on ");
    url = address;
  }
};

// A ledger driven through tracectl, with two witnesses.
class ProofCliTest : public ::testing::Test {
 protected:
  Env PassEnv() const {
    return {{"TRACELEDGER_OPERATOR_PASSPHRASE", kPass}, {"TRACELEDGER_PASSPHRASE", kPass}};
  }
  RunResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"-d", Data()});
    return Tracectl(args, PassEnv());
  }
  std::string Data() const { return dir_.path() + "/data"; }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    RunResult r = Run({"init", "--party", "op", "--name", "Operator"});
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    r = Tracectl({"key", "show", Data() + "/operator.key", "--json"});
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    operator_key_ = Json::parse(r.out)["public_key"].get<std::string>();
    for (const char* party : {"acme", "sgs"}) {
      r = Tracectl({"keygen", "-o", Path(std::string(party) + ".key")}, PassEnv());
      ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
      r = Run({"register", "--key", Data() + "/operator.key", "--party", party, "--name", party, "--roles",
               "merchant", "--public-key-from", Path(std::string(party) + ".key")});
      ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    }
  }

  ScratchDir dir_;
  std::string operator_key_;
};

TEST_F(ProofCliTest, InclusionAndConsistencyProofsVerifyOfflineAndTamperingIsRejected) {
  RunResult r = Run({"proof", "inclusion", "--index", "1"});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("no checkpoint yet"), std::string::npos) << r.err;

  r = Run({"checkpoint", "sign", "--json"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(Json::parse(r.out)["size"], 3);  // genesis, acme, sgs
  r = Tracectl({"keygen", "-o", Path("cust.key")}, PassEnv());
  r = Run({"register", "--key", Data() + "/operator.key", "--party", "cust", "--name", "cust", "--roles",
           "customs", "--public-key-from", Path("cust.key")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const std::string cust_id = r.out.substr(r.out.find("party ") + 6, 64);
  r = Run({"checkpoint", "sign", "-o", Path("cp3.note")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();

  // Inclusion of the last record by id, against the latest checkpoint.
  r = Run({"proof", "inclusion", "--record", cust_id, "-o", Path("inc.json")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const Json inc = Json::parse(ReadAll(Path("inc.json")));
  EXPECT_EQ(inc["type"], "traceledger-inclusion-proof/v1");
  EXPECT_EQ(inc["index"], 3);
  EXPECT_EQ(inc["tree_size"], 4);
  r = Tracectl({"verify-proof", Path("inc.json"), "--operator-key", operator_key_});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(r.out.rfind("ok: entry 3 is in traceledger/", 0), 0u) << r.out;
  // Against the older checkpoint of size 3, by index; and against a file.
  r = Run({"proof", "inclusion", "--index", "1", "--size", "3", "-o", Path("inc2.json")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(Tracectl({"verify-proof", Path("inc2.json"), "--operator-key", operator_key_}).exit_code,
            kExitOk);
  r = Run({"proof", "inclusion", "--index", "3", "--size", "3"});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  r = Run({"proof", "inclusion", "--index", "0", "--checkpoint", Path("cp3.note")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();

  // Each kind of damage has its own reason.
  auto expect_rejected = [&](const Json& proof, const std::string& code, const std::string& key_arg) {
    WriteAll(Path("bad.json"), proof.dump());
    RunResult v = Tracectl({"verify-proof", Path("bad.json"), "--operator-key", key_arg, "--json"});
    EXPECT_EQ(v.exit_code, kExitRejected) << code << ": " << v.Describe();
    Json out = Json::parse(v.out, nullptr, false);
    EXPECT_EQ(out["error"]["code"], code) << v.out;
  };
  Json bad = inc;
  std::string h = bad["hashes"][0];
  h[0] = h[0] == '0' ? '1' : '0';
  bad["hashes"][0] = h;
  expect_rejected(bad, "root_mismatch", operator_key_);
  bad = inc;
  bad["hashes"].push_back(inc["hashes"][0]);
  expect_rejected(bad, "bad_node_count", operator_key_);
  bad = inc;
  bad["index"] = 2;
  expect_rejected(bad, "root_mismatch", operator_key_);
  bad = inc;
  bad["index"] = 4 + 5;
  expect_rejected(bad, "index_out_of_range", operator_key_);
  bad = inc;
  bad["tree_size"] = 5;
  expect_rejected(bad, "size_mismatch", operator_key_);
  bad = inc;
  bad["entry"] = inc["entry"].get<std::string>() + " ";
  expect_rejected(bad, "leaf_mismatch", operator_key_);
  bad.erase("leaf_hash");
  expect_rejected(bad, "root_mismatch", operator_key_);
  bad = inc;
  std::string note = bad["checkpoint"];
  note[note.find('\n') - 1] ^= 1;  // the origin line
  bad["checkpoint"] = note;
  expect_rejected(bad, "no_signature", operator_key_);  // the key name is the origin
  bad = inc;
  note = bad["checkpoint"];
  note[note.find('\n') + 1] = '5';  // the size line (4)
  bad["checkpoint"] = note;
  expect_rejected(bad, "bad_signature", operator_key_);
  expect_rejected(inc, "no_signature", wallet::SecretKey::Generate().Public().Hex());
  RunResult wrong_key = Tracectl({"verify-proof", Path("inc.json"), "--operator-key", Path("acme.key")});
  EXPECT_EQ(wrong_key.exit_code, kExitRejected) << wrong_key.Describe();
  bad = inc;
  bad["type"] = "something-else";
  expect_rejected(bad, "unknown_type", operator_key_);
  WriteAll(Path("bad.json"), "{\"type\":");
  EXPECT_EQ(Tracectl({"verify-proof", Path("bad.json"), "--operator-key", operator_key_}).exit_code,
            kExitRejected);

  // Consistency between the two stored checkpoints.
  r = Run({"proof", "consistency", "--from", "3", "-o", Path("con.json")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const Json con = Json::parse(ReadAll(Path("con.json")));
  EXPECT_EQ(con["old_size"], 3);
  EXPECT_EQ(con["new_size"], 4);
  r = Tracectl({"verify-proof", Path("con.json"), "--operator-key", operator_key_});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  bad = con;
  h = bad["hashes"][0];
  h[5] = h[5] == 'a' ? 'b' : 'a';
  bad["hashes"][0] = h;
  expect_rejected(bad, "old_root_mismatch", operator_key_);
  bad = con;
  bad["hashes"] = Json::array();
  expect_rejected(bad, "bad_node_count", operator_key_);
  bad = con;
  bad["old_size"] = 1;
  expect_rejected(bad, "size_mismatch", operator_key_);
  std::swap(bad["old_checkpoint"], bad["new_checkpoint"]);
  bad["old_size"] = 4;
  bad["new_size"] = 3;
  expect_rejected(bad, "size_out_of_range", operator_key_);
  r = Run({"proof", "consistency", "--from", "5"});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  r = Run({"proof", "consistency"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();

  r = Run({"audit"});
  EXPECT_EQ(r.exit_code, kExitOk) << "stored checkpoints pass the audit: " << r.Describe();
}

TEST_F(ProofCliTest, CheckpointsAreWitnessedByAQuorumOfTracewitnessServers) {
  RunResult r = Run({"checkpoint", "sign", "--origin", "zone.example/ledger"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  std::vector<wallet::SecretKey> keys = {wallet::SecretKey::Generate(), wallet::SecretKey::Generate()};
  std::vector<std::unique_ptr<WitnessProcess>> witnesses;
  Json config = {{"quorum", 2}, {"witnesses", Json::array()}};
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string name = "w" + std::to_string(i) + ".example";
    witnesses.push_back(std::make_unique<WitnessProcess>());
    witnesses.back()->Start(SaveWitnessKey(Path(name + ".key"), keys[i]), name, Path(name + "-state"),
                            "zone.example/ledger", operator_key_);
    ASSERT_FALSE(witnesses.back()->url.empty());
    config["witnesses"].push_back(
        {{"name", name}, {"url", witnesses.back()->url}, {"public_key", keys[i].Public().Hex()}});
  }
  WriteAll(Data() + "/witnesses.json", config.dump());

  r = Run({"checkpoint", "witness", "--json"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json out = Json::parse(r.out);
  EXPECT_EQ(out["witnessed"], true);
  EXPECT_EQ(out["signatures"], 3);
  r = Run({"checkpoint", "show", "--json"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(Json::parse(r.out)["witnessed"], true);

  // A proof against the witnessed checkpoint carries the cosignatures.
  r = Run({"proof", "inclusion", "--index", "2", "-o", Path("inc.json")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  std::vector<std::string> verify = {"verify-proof", Path("inc.json"),      "--operator-key", operator_key_,
                                     "--origin",     "zone.example/ledger", "--quorum",       "2"};
  for (size_t i = 0; i < keys.size(); ++i) {
    verify.push_back("--witness");
    verify.push_back("w" + std::to_string(i) + ".example=" + keys[i].Public().Hex());
  }
  r = Tracectl(verify);
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.out.find("witnessed by 2"), std::string::npos) << r.out;
  // With a witness the proof's checkpoint lacks, the quorum is not met.
  verify.back() = "w1.example=" + wallet::SecretKey::Generate().Public().Hex();
  r = Tracectl(verify);
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("not_witnessed"), std::string::npos) << r.err;
  verify[5] = "other.example/ledger";
  r = Tracectl(verify);
  EXPECT_NE(r.err.find("origin_mismatch"), std::string::npos) << r.err;

  // One witness down: quorum 2 is not reached (exit 1), quorum 1 is.
  witnesses[1]->process.Kill();
  r = Tracectl({"keygen", "-o", Path("more.key")}, PassEnv());
  r = Run({"register", "--key", Data() + "/operator.key", "--party", "more", "--name", "more", "--roles",
           "customs", "--public-key-from", Path("more.key")});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  r = Run({"checkpoint", "witness"});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("NOT witnessed"), std::string::npos) << r.err;
  r = Run({"checkpoint", "witness", "--quorum", "1"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
}

// tracewitness killed with SIGKILL at each point of persisting a new
// checkpoint. The client never gets that cosignature; after a restart the
// witness holds the old or the new state, and a fork of the new
// checkpoint (consistent with the old one) is cosigned only if the new one
// was not persisted, so two inconsistent checkpoints are never both
// cosigned.
TEST(WitnessCrashTest, KilledAroundThePersistNeverCosignsTwoInconsistentCheckpoints) {
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  const wallet::SecretKey log_key = wallet::SecretKey::Generate(),
                          witness_key = wallet::SecretKey::Generate();
  const std::string key_file = SaveWitnessKey(dir.path() + "/w.key", witness_key);
  const std::string origin = "example.com/log";
  // The honest log grows 8 -> 16; the fork shares its first 8 entries.
  auto honest = chain::Store::Open(chain::StoreOptions{.path = "honest", .in_memory = true});
  auto fork = chain::Store::Open(chain::StoreOptions{.path = "fork", .in_memory = true});
  ASSERT_TRUE(honest.ok() && fork.ok());
  AppendBlocks(**honest, {8}, log_key);
  AppendBlocks(**fork, {8}, log_key);
  auto note_of = [&](const chain::Store& s) {
    chain::Checkpoint c{.origin = origin, .size = s.tip()->frontier.size(), .root = s.tip()->frontier.Root()};
    return chain::SignedNote{.text = c.Text(), .signatures = {chain::SignNote(origin, log_key, c.Text())}};
  };
  const chain::SignedNote first = note_of(**honest);
  AppendBlocks(**honest, {8}, log_key);
  AppendBlocks(**fork, {8}, log_key, "fork");
  const chain::SignedNote second = note_of(**honest), forked = note_of(**fork);
  ASSERT_NE(second.text, forked.text);
  auto body = [&](const chain::Store& s, uint64_t old_size, const chain::SignedNote& n) {
    chain::StoreNodeSource nodes(s);
    return chain::AddCheckpointBody(old_size, *chain::ConsistencyProof(nodes, old_size, 16), n);
  };

  for (const char* point : {"persist:begin", "persist:temp-synced", "persist:renamed", "persist:done"}) {
    SCOPED_TRACE(point);
    const std::string state = dir.path() + "/state-" + std::string(point).substr(8);
    auto start = [&](const Env& env) {
      auto w = std::make_unique<WitnessProcess>();
      w->Start(key_file, "w.example", state, origin, log_key.Public().Hex(), env);
      return w;
    };
    auto post = [&](const WitnessProcess& w, const std::string& b) {
      return api::HttpClient(w.url).Post("/add-checkpoint", b, "text/plain");
    };
    {
      auto w = start({});
      auto r = post(*w, chain::AddCheckpointBody(0, {}, first));
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->status, 200) << r->body;
    }
    {
      auto w = start({{"TRACELEDGER_WITNESS_CRASH_AT", point}});
      auto r = post(*w, body(**honest, 8, second));
      EXPECT_FALSE(r.ok() && r->status == 200) << "a cosignature came back from a killed witness";
      EXPECT_EQ(w->process.WaitForSignal(10), SIGKILL);
    }
    auto w = start({});
    const bool persisted =
        std::string_view(point) == "persist:renamed" || std::string_view(point) == "persist:done";
    auto fork_answer = post(*w, body(**fork, 8, forked));
    ASSERT_TRUE(fork_answer.ok());
    if (persisted) {
      EXPECT_EQ(fork_answer->status, 409) << fork_answer->body;
      EXPECT_EQ(fork_answer->body, "16\n");
      // The honest checkpoint, re-sent from 16, is cosigned again.
      auto again = post(*w, chain::AddCheckpointBody(16, {}, second));
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->status, 200) << again->body;
      auto fork_same_size = post(*w, chain::AddCheckpointBody(16, {}, forked));
      ASSERT_TRUE(fork_same_size.ok());
      EXPECT_EQ(fork_same_size->status, 409);
    } else {
      // The honest 16 was never cosigned, so the fork may be; then the
      // honest one is refused.
      EXPECT_EQ(fork_answer->status, 200) << fork_answer->body;
      auto honest_answer = post(*w, body(**honest, 8, second));
      ASSERT_TRUE(honest_answer.ok());
      EXPECT_EQ(honest_answer->status, 409);
      auto honest_same_size = post(*w, chain::AddCheckpointBody(16, {}, second));
      ASSERT_TRUE(honest_same_size.ok());
      EXPECT_EQ(honest_same_size->status, 409);
    }
  }
}

}  // namespace
}  // namespace traceledger::tools
