// End to end: tracectl credit show|history|lists|report|verify-report and
// credit events, repair requests and policies through `append`.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/util/temp_files.h"
#include "tests/tools/tracectl_harness.h"

namespace traceledger::tools {
namespace {

using ledger::Json;
using traceledger::testing::ReadAll;
using traceledger::testing::WriteAll;
using namespace harness;  // NOLINT: the harness is this file's vocabulary

class CreditCliTest : public CliTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(Init());
    regulator_ = Keygen("regulator");
    merchant_ = Keygen("merchant");
    Register("samr", "regulator", regulator_);
    Register("acme", "merchant", merchant_);
    Register("globex", "merchant", Keygen("globex"));
    RunResult r =
        Run({"append", "credit_event", "--key", regulator_, "--merchant", "acme", "--event", "black_list",
             "--severity", "serious", "--reason", "counterfeit labels", "--act-end-date", "2026-11-01"},
            AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    listing_ = AcceptedId(r, "credit_event");
  }
  std::string regulator_, merchant_, listing_;
};

TEST_F(CreditCliTest, ShowHistoryAndLists) {
  RunResult r = Run({"credit", "show", "acme", "--json"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json e = ParseJsonOrFail(r.out);
  EXPECT_EQ(e["grade"], "D");
  EXPECT_EQ(e["list"], "black");
  EXPECT_EQ(e["listings"][0]["record"], listing_);

  r = Run({"credit", "show", "globex"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(r.out.rfind("globex: grade B (score 74, policy v0), list none", 0), 0u) << r.out;

  r = Run({"credit", "show", "nobody"}, {});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("not rated"), std::string::npos) << r.err;
  r = Run({"credit", "show", "acme", "--at-height", "9999"}, {});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  r = Run({"credit", "show", "acme", "--at-height", "1"}, {});  // before acme was registered
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();

  r = Run({"credit", "lists", "--black", "--json"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json lists = ParseJsonOrFail(r.out);
  EXPECT_FALSE(lists.contains("red"));
  ASSERT_EQ(lists["black"].size(), 1u);
  EXPECT_EQ(lists["black"][0]["merchant"], "acme");

  r = Run({"credit", "history", "acme", "--json"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json history = ParseJsonOrFail(r.out);
  ASSERT_EQ(history.size(), 2u) << r.out;
  EXPECT_EQ(history[0]["list"], "");
  EXPECT_EQ(history[1]["list"], "black");
}

TEST_F(CreditCliTest, ReportVerifiesOfflineAndTamperingIsRefused) {
  const std::string file = dir_ / "acme.report.json";
  RunResult r = Run({"credit", "report", "acme", "--out", file}, AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  r = Tracectl({"credit", "verify-report", file, "--operator-key", OperatorKey()});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(r.out.rfind("ok: credit report of acme, grade D, list black", 0), 0u) << r.out;

  Json report = ParseJsonOrFail(ReadAll(file));
  report["evaluation"]["grade"] = "A";
  const std::string tampered = dir_ / "tampered.json";
  WriteAll(tampered, report.dump());
  r = Tracectl({"credit", "verify-report", tampered, "--operator-key", OperatorKey(), "--json"});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_EQ(ParseJsonOrFail(r.out)["error"]["code"], "bad_signature");

  r = Tracectl({"credit", "verify-report", file, "--operator-key", merchant_});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("rejected: key_mismatch"), std::string::npos) << r.err;
  r = Tracectl({"credit", "verify-report", file, "--operator-key", "zz"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
}

TEST_F(CreditCliTest, RepairAndPolicyThroughAppend) {
  RunResult r =
      Run({"append", "credit_event", "--key", merchant_, "--merchant", "acme", "--event", "repair_request",
           "--reason", "labels replaced", "--act-end-date", "2026-11-02", "--listing", listing_},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const std::string request = AcceptedId(r, "credit_event");
  // The repair verbs preset the event (credit repair approve|refuse).
  r = Run({"credit", "repair", "approve", "--key", regulator_, "--merchant", "acme", "--reason", "ok",
           "--act-end-date", "2026-11-02", "--listing", listing_, "--request", request},
          AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("conflict"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("only after one year"), std::string::npos) << r.err;
  r = Run({"credit", "repair", "refuse", "--key", regulator_, "--merchant", "acme", "--reason", "too early",
           "--act-end-date", "2026-11-02", "--listing", listing_, "--request", request},
          AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  r = Run({"show", "record", AcceptedId(r, "credit_event")}, {});
  EXPECT_EQ(ParseJsonOrFail(r.out)["body"]["event"], "repair_refused") << r.out;
  r = Run({"credit", "repair", "refuse", "--key", regulator_, "--merchant", "acme", "--event", "penalty",
           "--reason", "x", "--act-end-date", "2026-11-02", "--listing", listing_, "--request", request},
          AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();  // --event is preset, not a flag

  r = Tracectl({"credit", "default-policy"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json policy = ParseJsonOrFail(r.out);
  policy["effects"]["reward"]["points"] = 15;
  const std::string policy_file = dir_ / "policy.json";
  WriteAll(policy_file, policy.dump());
  r = Run({"append", "credit_policy", "--key", regulator_, "--version", "1", "--policy", "@" + policy_file},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  policy["grades"]["a_min"] = 10;
  WriteAll(policy_file, policy.dump());
  r = Run({"append", "credit_policy", "--key", regulator_, "--version", "2", "--policy", "@" + policy_file},
          AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("body.policy.grades.b_min"), std::string::npos) << r.err;
  r = Run({"credit", "show", "globex", "--json"}, {});
  EXPECT_EQ(ParseJsonOrFail(r.out)["policy_version"], 1);
}

}  // namespace
}  // namespace traceledger::tools
