// End to end: tracectl bundle and verify-bundle on a real ledger.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/util/temp_files.h"
#include "tests/tools/tracectl_harness.h"
#include "wallet/key.h"

namespace traceledger::tools {
namespace {

using ledger::Json;
using traceledger::testing::ReadAll;
using namespace harness;  // NOLINT: the harness is this file's vocabulary

constexpr const char* kGtin = "09501101530003";

class BundleCliTest : public CliTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Init());
    merchant_ = Keygen("merchant");
    Register("acme", "merchant", merchant_);
    RunResult r =
        Run({"append", "product", "--key", merchant_, "--gtin", kGtin, "--name", "Tea", "--brand", "Acme",
             "--origin-country", "CN", "--production-site", "Fuding", "--manufacturer", "Acme"},
            AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    r = Run({"append", "lot", "--key", merchant_, "--gtin", kGtin, "--lot", "L1", "--production-date",
             "2026-11-01", "--quantity", "1000"},
            AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  }
  std::string Bundle() const { return dir_ / "lot.bundle"; }

  std::string merchant_;
};

TEST_F(BundleCliTest, BundleVerifiesOfflineAndTamperingIsNamed) {
  RunResult r = Run({"bundle", "lot", kGtin, "L1", "--out", Bundle()}, AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("checkpoint sign"), std::string::npos) << r.err;

  r = Run({"checkpoint", "sign"}, AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  r = Run({"bundle", "lot", kGtin, "L1", "--out", Bundle()}, AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.err.find("4 records"), std::string::npos) << r.err;  // operator, acme, product, lot

  // No data directory needed: only the file and the operator's key.
  r = Tracectl({"verify-bundle", Bundle(), "--operator-key", OperatorKey()});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(r.out.rfind("ok: lot " + std::string(kGtin) + " L1: 4 records", 0), 0u) << r.out;

  // The merchant's key is not the operator's.
  r = Tracectl({"verify-bundle", Bundle(), "--operator-key", merchant_, "--json"});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  Json out = ParseJsonOrFail(r.out);
  ASSERT_EQ(out["issues"].size(), 1u) << r.out;
  EXPECT_EQ(out["issues"][0]["code"], "checkpoint_signature");

  // A witness is required but none cosigned.
  const std::string w = wallet::SecretKey::Generate().Public().Hex();
  r = Tracectl({"verify-bundle", Bundle(), "--operator-key", OperatorKey(), "--witness-key", "w1=" + w});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("rejected: quorum: checkpoint: 0 distinct trusted witness keys"), std::string::npos)
      << r.err;

  // A flipped proof node names the record.
  Json b = ParseJsonOrFail(ReadAll(Bundle()));
  std::string h = b["records"][3]["hashes"][0];
  h[0] = h[0] == '0' ? '1' : '0';
  b["records"][3]["hashes"][0] = h;
  WriteFile(dir_ / "bad.bundle", b.dump());
  r = Tracectl({"verify-bundle", dir_ / "bad.bundle", "--operator-key", OperatorKey(), "--json"});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  out = ParseJsonOrFail(r.out);
  ASSERT_EQ(out["issues"].size(), 1u) << r.out;
  EXPECT_EQ(out["issues"][0]["code"], "bad_proof");
  EXPECT_EQ(out["issues"][0]["item"], "records[3] (index 3)");

  // A record after the checkpoint: the bundle would be stale.
  r = Run({"append", "lot_recall", "--key", merchant_, "--gtin", kGtin, "--lot", "L1", "--reason", "mould"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  r = Run({"bundle", "lot", kGtin, "L1", "--out", Bundle()}, AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("stale_checkpoint"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tracectl checkpoint sign"), std::string::npos) << r.err;

  r = Run({"bundle", "code", kGtin, "NOSUCH", "--out", Bundle()}, AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace traceledger::tools
