// End-to-end tests of the tracectl binary: each test runs the real program
// in a temporary directory (posix_spawn, stdin from /dev/null, so never a
// TTY), with only the environment the test gives it, and checks its exit
// code, stdout and stderr. Exit codes (tools/cli_support.h):
//   0 ok, 1 rejected / audit failed / not found, 2 usage, 3 failure.
//
// Keys use the default scrypt cost (~0.1 s per load), so the tests keep the
// number of key-loading invocations small; --help runs load no key.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/canonical_json.h"
#include "ledger/record.h"
#include "ledger/schema.h"
#include "tests/tools/tracectl_harness.h"

namespace traceledger::tools {
namespace {

using ledger::Json;
using namespace harness;  // NOLINT: the harness is this file's vocabulary

// The kinds listed by `history`, in order (third column after index and
// "block N").
std::vector<std::string> HistoryKinds(const std::string& out) {
  std::vector<std::string> kinds;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string index, block, height, kind;
    if (words >> index >> block >> height >> kind && block == "block") kinds.push_back(kind);
  }
  return kinds;
}

TEST_F(CliTest, EndToEnd) {
  ASSERT_NO_FATAL_FAILURE(Init());
  const std::string merchant = Keygen("merchant");
  const std::string inspector = Keygen("inspector");
  const std::string customs = Keygen("customs");
  const std::string regulator = Keygen("regulator");
  const std::string acme_id = Register("acme", "merchant", merchant);
  Register("sgs", "inspector", inspector);
  Register("customs", "customs", customs);
  Register("samr", "regulator", regulator);
  ASSERT_FALSE(HasFailure());

  // A GTIN-13 on the command line is padded to GTIN-14.
  const std::string gtin = "09501101530003";
  RunResult r = Run({"append", "product", "--key", merchant, "--gtin", "9501101530003", "--name",
                     "Jasmine tea", "--brand", "Acme", "--origin-country", "CN", "--production-site",
                     "Fuzhou plant 2", "--manufacturer", "Acme Tea Co."},
                    AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const std::string product_id = AcceptedId(r, "product");

  // The lot's body from a file (--from-json).
  WriteFile(dir_ / "lot.json",
            R"({"gtin":"09501101530003","lot":"LOT-1","production_date":"2026-11-01","quantity":500})");
  r = Run({"append", "lot", "--key", merchant, "--from-json", dir_ / "lot.json"}, AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const std::string lot_id = AcceptedId(r, "lot");

  r = Run({"append", "shipment", "--key", merchant, "--shipment", "SHP-1", "--lots", gtin + ":LOT-1:100",
           "--origin-country", "CN", "--destination", "Qianhai bonded zone"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  AcceptedId(r, "shipment");

  r = Run({"append", "inspection", "--key", inspector, "--gtin", gtin, "--lot", "LOT-1", "--standard",
           "GB 2763-2021", "--sample-size", "12", "--result", "conformant", "--report-sha256",
           std::string(64, 'a'), "--inspected-on", "2026-11-10"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  AcceptedId(r, "inspection");

  r = Run({"append", "customs_decision", "--key", customs, "--shipment", "SHP-1", "--decision", "released"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  AcceptedId(r, "customs_decision");

  r = Run({"append", "credit_event", "--key", regulator, "--merchant", "acme", "--event", "reward",
           "--reason", "clean inspection record", "--act-end-date", "2026-11-10"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  AcceptedId(r, "credit_event");

  // --dry-run prints a signed record and submits nothing.
  std::vector<std::string> signed_lines;
  std::vector<std::string> signed_ids;
  for (const char* step : {"departing", "arriving"}) {
    r = Run({"append", "custody", "--key", merchant, "--shipment", "SHP-1", "--from", "acme", "--to",
             "customs", "--location", "Qianhai gate 3", "--biz-step", step, "--dry-run"},
            AuthorEnv());
    ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
    std::string line = r.out.substr(0, r.out.find('\n'));
    auto parsed = ledger::ParseRecord(line);
    ASSERT_TRUE(parsed.ok()) << "dry-run output is not a record: " << parsed.error().ToString() << "\n"
                             << r.out;
    EXPECT_EQ(ledger::KindName(parsed->kind), "custody");
    EXPECT_EQ(parsed->Str("biz_step"), step);
    signed_lines.push_back(line);
    signed_ids.push_back(parsed->IdHex());
  }
  r = Run({"show", "record", signed_ids[0]}, {});
  EXPECT_EQ(r.exit_code, kExitRejected) << "a dry-run record reached the ledger\n" << r.Describe();

  // submit: the two signed records as JSONL.
  WriteFile(dir_ / "custody.jsonl", signed_lines[0] + "\n" + signed_lines[1] + "\n");
  r = Run({"submit", dir_ / "custody.jsonl"}, AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.out.find("accepted custody " + signed_ids[0]), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accepted custody " + signed_ids[1]), std::string::npos) << r.out;
  // The same records again are replays: rejected, exit 1, code named.
  r = Run({"submit", dir_ / "custody.jsonl"}, AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("replay"), std::string::npos) << r.err;

  // show: record, party, product, lot, shipment, block, ledger.
  r = Run({"show", "record", signed_ids[1]}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json shown = ParseJsonOrFail(r.out);
  EXPECT_EQ(shown.value("id", ""), signed_ids[1]);
  EXPECT_EQ(shown.value("kind", ""), "custody");

  r = Run({"show", "party", "acme"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  shown = ParseJsonOrFail(r.out);
  EXPECT_EQ(shown.value("id", ""), acme_id);
  EXPECT_EQ(shown["body"].value("party", ""), "acme");

  r = Run({"show", "product", "9501101530003"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  shown = ParseJsonOrFail(r.out);
  EXPECT_EQ(shown.value("id", ""), product_id);
  EXPECT_EQ(shown["body"].value("gtin", ""), gtin);

  r = Run({"show", "lot", gtin, "LOT-1"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  shown = ParseJsonOrFail(r.out);
  EXPECT_EQ(shown.value("id", ""), lot_id);
  EXPECT_EQ(shown["body"].value("quantity", 0), 500);

  r = Run({"show", "shipment", "SHP-1"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  shown = ParseJsonOrFail(r.out);
  EXPECT_EQ(shown.value("kind", ""), "shipment");
  EXPECT_EQ(shown["body"].value("destination", ""), "Qianhai bonded zone");

  r = Run({"show", "block", "0"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  shown = ParseJsonOrFail(r.out);
  EXPECT_EQ(shown.value("height", -1), 0);
  EXPECT_EQ(shown.value("prev_hash", ""), std::string(64, '0'));
  ASSERT_EQ(shown["records"].size(), 1u);
  EXPECT_EQ(shown["records"][0].value("kind", ""), "party");

  r = Run({"--json", "show", "ledger"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  shown = ParseJsonOrFail(r.out);
  // genesis + 4 parties + product, lot, shipment, inspection, customs
  // decision, credit event + 2 custody.
  EXPECT_EQ(shown.value("records", 0), 13);
  Json by_kind = {{"party", 5},      {"product", 1},          {"lot", 1},          {"shipment", 1},
                  {"inspection", 1}, {"customs_decision", 1}, {"credit_event", 1}, {"custody", 2}};
  EXPECT_EQ(shown["records_by_kind"], by_kind) << shown.dump(2);

  // history: the kinds in log order.
  r = Run({"history", "lot", gtin, "LOT-1"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(HistoryKinds(r.out), (std::vector<std::string>{"lot", "shipment", "inspection"})) << r.out;
  r = Run({"history", "shipment", "SHP-1"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_EQ(HistoryKinds(r.out),
            (std::vector<std::string>{"shipment", "customs_decision", "custody", "custody"}))
      << r.out;

  r = Run({"audit"}, {});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.out.find("audit ok: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("13 records"), std::string::npos) << r.out;

  // Not found is exit 1 with a message.
  r = Run({"show", "lot", gtin, "LOT-404"}, {});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  // A schema error is exit 1 and names the field.
  r = Run({"append", "product", "--key", merchant, "--gtin", "09501101530004", "--name", "Tea", "--brand",
           "Acme", "--origin-country", "CN", "--production-site", "Fuzhou", "--manufacturer", "Acme"},
          AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.err.find("body.gtin"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("check digit"), std::string::npos) << r.err;

  // The right author passphrase but the wrong operator passphrase: the
  // sealing key does not load; exit 3, and nothing is appended.
  r = Run({"append", "lot", "--key", merchant, "--gtin", gtin, "--lot", "LOT-2", "--production-date",
           "2026-11-02", "--quantity", "10"},
          {{"TRACELEDGER_OPERATOR_PASSPHRASE", "not it"}, {"TRACELEDGER_PASSPHRASE", kAuthorPass}});
  EXPECT_EQ(r.exit_code, kExitFailure) << r.Describe();
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("operator.key"), std::string::npos) << "the message should name the keystore\n"
                                                           << r.err;

  // init on an existing ledger fails and leaves it alone.
  r = Run({"init"}, AuthorEnv());
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  r = Run({"audit"}, {});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.out.find("13 records"), std::string::npos) << r.out;
}

TEST_F(CliTest, WrongPassphraseIsAFailureWithAClearMessage) {
  const std::string key = Keygen("merchant");
  RunResult r = Tracectl(
      {"-d", Data(), "append", "product", "--key", key, "--gtin", "09501101530003", "--name", "Tea",
       "--brand", "Acme", "--origin-country", "CN", "--production-site", "Fuzhou", "--manufacturer", "Acme"},
      {{"TRACELEDGER_PASSPHRASE", "not the passphrase"}});
  EXPECT_EQ(r.exit_code, kExitFailure) << r.Describe();
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("merchant.key"), std::string::npos) << "the message should name the keystore\n"
                                                           << r.err;
}

// Without a passphrase in the environment and with no terminal to prompt
// on, a command that needs one is a usage error (exit 2), not a hang.
TEST_F(CliTest, MissingPassphraseWithoutTtyIsAUsageError) {
  RunResult r = Tracectl({"-d", Data(), "init"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  EXPECT_NE(r.err.find("TRACELEDGER_OPERATOR_PASSPHRASE"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(OperatorKey()));

  r = Tracectl({"-d", Data(), "append", "product", "--key", dir_ / "nokey.key", "--gtin", "09501101530003",
                "--name", "Tea", "--brand", "Acme", "--origin-country", "CN", "--production-site", "Fuzhou",
                "--manufacturer", "Acme"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  EXPECT_NE(r.err.find("TRACELEDGER_PASSPHRASE"), std::string::npos) << r.err;
}

// keygen asks for a passphrase without a specific variable of its own.
TEST_F(CliTest, KeygenWithoutPassphraseOrTtyIsAUsageError) {
  RunResult r = Tracectl({"keygen", "-o", dir_ / "k.key"});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  EXPECT_NE(r.err.find("TRACELEDGER_PASSPHRASE"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "k.key"));
}

TEST(CliUsageTest, UnknownSubcommandIsAUsageError) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"frobnicate"}, {"append", "frobnicate"}, {"show", "frobnicate"}, {}}) {
    RunResult r = Tracectl(args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, kExitUsage) << "tracectl " << joined << "\n" << r.Describe();
    EXPECT_FALSE(r.err.empty()) << "tracectl " << joined << " explains nothing";
  }
}

// Every command and subcommand answers --help with exit 0 and a usage text
// that names it; each record kind's help lists a flag per body field.
TEST(CliUsageTest, HelpOnEveryCommand) {
  std::vector<std::vector<std::string>> commands = {
      {},
      {"init"},
      {"keygen"},
      {"key"},
      {"key", "show"},
      {"append"},
      {"register"},
      {"submit"},
      {"show"},
      {"show", "record"},
      {"show", "block"},
      {"show", "party"},
      {"show", "product"},
      {"show", "lot"},
      {"show", "shipment"},
      {"show", "ledger"},
      {"history"},
      {"history", "lot"},
      {"history", "shipment"},
      {"audit"},
      {"checkpoint"},
      {"checkpoint", "sign"},
      {"checkpoint", "show"},
      {"checkpoint", "witness"},
      {"proof"},
      {"proof", "inclusion"},
      {"proof", "consistency"},
      {"verify-proof"},
      {"codes"},
      {"codes", "issue"},
      {"codes", "show"},
      {"verify"},
  };
  for (const auto& schema : ledger::AllSchemas()) commands.push_back({"append", std::string(schema.name)});
  for (const auto& command : commands) {
    std::vector<std::string> args = command;
    args.push_back("--help");
    std::string joined;
    for (const auto& a : command) joined += " " + a;
    RunResult r = Tracectl(args);
    EXPECT_EQ(r.exit_code, kExitOk) << "tracectl" << joined << " --help\n" << r.Describe();
    EXPECT_NE(r.out.find("Usage: "), std::string::npos) << "tracectl" << joined << " --help\n" << r.out;
    EXPECT_NE(r.out.find(joined.empty() ? std::string("tracectl") : joined), std::string::npos)
        << "usage does not name the command:\n"
        << r.out;
    if (command.size() == 2 && command[0] == "append") {
      auto kind = ledger::KindFromName(command[1]);
      ASSERT_TRUE(kind.has_value()) << command[1];
      for (const auto& field : ledger::SchemaFor(*kind).fields) {
        std::string flag = "--" + std::string(field.name);
        for (char& c : flag) c = c == '_' ? '-' : c;
        EXPECT_NE(r.out.find(flag), std::string::npos) << "append " << command[1] << " --help lacks " << flag;
      }
    }
  }
}

}  // namespace
}  // namespace traceledger::tools
