// End to end: tracectl export epcis on a real ledger.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "tests/tools/tracectl_harness.h"

namespace traceledger::tools {
namespace {

using ledger::Json;
using namespace harness;  // NOLINT: the harness is this file's vocabulary

constexpr const char* kGtin = "09501101530003";

class ExportCliTest : public CliTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InitTwoMerchantsWithProduct(kGtin));
    ASSERT_NO_FATAL_FAILURE(AppendLot(merchant_, kGtin, "L1"));
  }
};

TEST_F(ExportCliTest, LotToStdoutAndFile) {
  RunResult r = Run({"export", "epcis", "--lot", std::string(kGtin) + ":L1"}, AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json doc = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  EXPECT_EQ(doc["type"], "EPCISDocument");
  EXPECT_EQ(doc["schemaVersion"], "2.0");
  ASSERT_EQ(doc["epcisBody"]["eventList"].size(), 1u);
  EXPECT_EQ(doc["epcisBody"]["eventList"][0]["bizStep"], "commissioning");
  EXPECT_EQ(doc["epcisBody"]["eventList"][0]["quantityList"][0]["epcClass"],
            "https://id.gs1.org/01/09501101530003/10/L1");

  const std::string out = dir_ / "lot.jsonld";
  r = Run({"export", "epcis", "--lot", std::string(kGtin) + ":L1", "--out", out, "--ledger-url", "http://n:1"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.err.find("1 EPCIS event(s) from 1 record(s)"), std::string::npos) << r.err;
  std::ifstream in(out);
  Json file = Json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
  EXPECT_EQ(file["epcisBody"]["eventList"][0]["tl:record"].get<std::string>().rfind("http://n:1/v1/records/", 0), 0u);
}

TEST_F(ExportCliTest, Shipment) {
  RunResult r = Run({"append", "shipment", "--key", merchant_, "--shipment", "SHP-1", "--lots",
                     std::string(kGtin) + ":L1:100", "--origin-country", "CN", "--destination", "Qianhai"},
                    AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  r = Run({"export", "epcis", "--shipment", "SHP-1"}, AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json doc = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_EQ(doc["epcisBody"]["eventList"].size(), 1u) << r.out;
  EXPECT_EQ(doc["epcisBody"]["eventList"][0]["type"], "AggregationEvent");
  EXPECT_EQ(doc["epcisBody"]["eventList"][0]["parentID"], "urn:traceledger:shipment:SHP-1");
}

TEST_F(ExportCliTest, BadFlagsAndUnknownSubjects) {
  EXPECT_EQ(Run({"export", "epcis"}, AuthorEnv()).exit_code, kExitUsage);
  EXPECT_EQ(Run({"export", "epcis", "--lot", std::string(kGtin) + ":L1", "--shipment", "S"}, AuthorEnv()).exit_code,
            kExitUsage);
  RunResult no_colon = Run({"export", "epcis", "--lot", kGtin}, AuthorEnv());
  EXPECT_EQ(no_colon.exit_code, kExitUsage);
  EXPECT_NE(no_colon.err.find("is not GTIN:LOT"), std::string::npos) << no_colon.Describe();
  EXPECT_EQ(Run({"export", "epcis", "--lot", "09501101530004:L1"}, AuthorEnv()).exit_code, kExitUsage);
  RunResult no_lot = Run({"export", "epcis", "--lot", std::string(kGtin) + ":NOPE"}, AuthorEnv());
  EXPECT_EQ(no_lot.exit_code, kExitRejected);
  EXPECT_NE(no_lot.err.find("no lot \"NOPE\""), std::string::npos) << no_lot.Describe();
  EXPECT_EQ(Run({"export", "epcis", "--shipment", "NOPE"}, AuthorEnv()).exit_code, kExitRejected);
}

}  // namespace
}  // namespace traceledger::tools
