// Issuance (qrcode/issuance.h): manifests, PINs committed as salted hashes,
// parts on the ledger, refusals that leave nothing, and recovery from an
// interruption after each durable step (the process dying there is
// simulated by an exception from the step hook; tests/tools/ kill a real
// tracectl with SIGKILL at the same steps).
#include "qrcode/issuance.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "qrcode/code.h"
#include "qrcode/scan_state.h"
#include "tests/ledger/fixture.h"
#include "tests/util/temp_files.h"
#include "util/encoding.h"

namespace traceledger::qrcode {
namespace {

namespace fs = std::filesystem;
using ledger::Json;
using ledger::RecordKind;
using ledger::testing::Actor;

using traceledger::testing::ReadLines;

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

struct Crash {
  std::string step;
};

class IssuanceTest : public ledger::testing::LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    acme_ = Register("acme", {"merchant"});
    samr_ = Register("samr", {"regulator"});
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinA), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L,\"2"), acme_).ok());
  }

  IssueRequest Request(const std::string& batch, uint64_t count, bool pins = false) {
    return IssueRequest{.gtin = kGtinA,
                        .lot = "L1",
                        .batch = batch,
                        .count = count,
                        .pins = pins,
                        .out_dir = dir_.path(),
                        .time_s = now_ms_ / 1000};
  }

  // The serials the ledger holds for a batch, in part order.
  std::vector<std::string> LedgerSerials(const std::string& batch) {
    std::vector<std::string> out;
    auto parts = ledger_->GetCodeBatch(kGtinA, batch);
    EXPECT_TRUE(parts.ok());
    if (!parts.ok()) return out;
    for (const auto& part : *parts) {
      for (const auto& s : part.record.body.at("serials")) out.push_back(s.get<std::string>());
    }
    return out;
  }

  traceledger::testing::TempDir dir_{"tl-issue-test"};
  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor samr_ = acme_;
};

TEST_F(IssuanceTest, ManifestsPinsAndPartsAgree) {
  const uint64_t kCount = 25'000;  // three parts: 10,000 + 10,000 + 5,000
  std::vector<IssueProgress> progress;
  IssueOptions options{.progress = [&](const IssueProgress& p) { progress.push_back(p); }};
  auto summary = IssueCodes(*ledger_, acme_.key, Request("B1", kCount, /*pins=*/true), options);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  ASSERT_EQ(summary->parts.size(), 3u);
  for (const auto& part : summary->parts) EXPECT_EQ(part.height, summary->parts[0].height) << "one block";
  EXPECT_EQ(summary->csv_path, dir_.path() + "/" + std::string(kGtinA) + "-B1.csv");
  EXPECT_EQ(Files(dir_.path()),
            (std::set<std::string>{std::string(kGtinA) + "-B1.csv", std::string(kGtinA) + "-B1.jsonl"}));
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().phase, "committing");
  bool signed_all = false;
  for (const auto& p : progress) signed_all = signed_all || (p.phase == "signing" && p.done == kCount);
  EXPECT_TRUE(signed_all);

  std::vector<std::string> csv = ReadLines(summary->csv_path);
  std::vector<std::string> jsonl = ReadLines(summary->jsonl_path);
  ASSERT_EQ(csv.size(), kCount + 1);
  EXPECT_EQ(csv[0], "uri,gtin,lot,serial,pin");
  ASSERT_EQ(jsonl.size(), kCount);
  std::vector<std::string> on_ledger = LedgerSerials("B1");
  ASSERT_EQ(on_ledger.size(), kCount);

  auto parts = ledger_->GetCodeBatch(kGtinA, "B1");
  ASSERT_TRUE(parts.ok());
  std::set<std::string> unique;
  for (uint64_t i = 0; i < kCount; ++i) {
    Json line = Json::parse(jsonl[i]);
    const std::string serial = line.at("serial");
    ASSERT_EQ(serial, on_ledger[i]) << "manifest and ledger list the codes in the same order";
    ASSERT_EQ(serial.size(), kSerialChars);
    unique.insert(serial);
    auto code = ParseCode(line.at("uri").get<std::string>());
    ASSERT_TRUE(code.ok()) << code.error().message;
    ASSERT_EQ(code->serial, serial);
    ASSERT_TRUE(VerifyCodeSignature(*code, acme_.key.Public()));
    ASSERT_EQ(csv[i + 1], line.at("uri").get<std::string>() + "," + kGtinA + ",L1," + serial + "," +
                              line.at("pin").get<std::string>());
    // The PIN matches the committed salted hash, and nothing but it does.
    const Json& body = (*parts)[i / 10'000].record.body;
    auto salt = HexDecode(body.at("pin_salt").get<std::string>());
    auto hash = HexDecode(body.at("pin_hashes")[i % 10'000].get<std::string>());
    ASSERT_TRUE(salt && hash && salt->size() == 16 && hash->size() == 16);
    const std::string pin = line.at("pin");
    ASSERT_EQ(pin.size(), 14u);  // XXXX-XXXX-XXXX
    std::span<const uint8_t, 16> salt_span(salt->data(), 16), hash_span(hash->data(), 16);
    ASSERT_TRUE(PinMatches(salt_span, kGtinA, serial, pin, hash_span));
    if (i < 100) {
      EXPECT_FALSE(PinMatches(salt_span, kGtinA, serial, "0000-0000-0000", hash_span));
    }
  }
  EXPECT_EQ(unique.size(), kCount);
  // The PINs themselves appear nowhere on the ledger.
  const std::string first_pin = Json::parse(jsonl[0]).at("pin").get<std::string>();
  for (const auto& part : *parts) {
    EXPECT_EQ(
        part.record.entry.find(first_pin.substr(0, 4) + first_pin.substr(5, 4) + first_pin.substr(10, 4)),
        std::string::npos);
  }
}

TEST_F(IssuanceTest, CsvAndJsonQuoteLotsThatNeedIt) {
  IssueRequest request = Request("B2", 2);
  request.lot = "L,\"2";
  auto summary = IssueCodes(*ledger_, acme_.key, request);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  std::vector<std::string> csv = ReadLines(summary->csv_path);
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[0], "uri,gtin,lot,serial");
  EXPECT_NE(csv[1].find(",\"L,\"\"2\","), std::string::npos) << csv[1];
  EXPECT_NE(csv[1].find("/10/L%2C%222/21/"), std::string::npos) << csv[1];
  Json line = Json::parse(ReadLines(summary->jsonl_path)[0]);
  EXPECT_EQ(line.at("lot"), "L,\"2");
  EXPECT_FALSE(line.contains("pin"));
}

TEST_F(IssuanceTest, BadRequestsAndRefusalsLeaveNothing) {
  auto expect_error = [&](const IssueRequest& request, IssueErrorCode code, const std::string& text) {
    const uint64_t size_before = ledger_->tip()->frontier.size();
    auto r = IssueCodes(*ledger_, acme_.key, request);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(static_cast<int>(r.error().code), static_cast<int>(code)) << r.error().message;
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
    EXPECT_EQ(ledger_->tip()->frontier.size(), size_before);
  };
  IssueRequest r = Request("B1", 10);
  r.gtin = "09501101530004";
  expect_error(r, IssueErrorCode::kInvalid, "gtin");
  r = Request("B1", 10);
  r.lot = "L404";
  expect_error(r, IssueErrorCode::kRejected, "no lot");
  expect_error(Request("../B1", 10), IssueErrorCode::kInvalid, "batch");
  expect_error(Request(".B1", 10), IssueErrorCode::kInvalid, "batch");
  expect_error(Request("B1", 0), IssueErrorCode::kInvalid, "count");
  expect_error(Request("B1", kMaxIssueCount + 1), IssueErrorCode::kInvalid, "count");
  r = Request("B1", 10);
  r.resolver = "http://x";
  expect_error(r, IssueErrorCode::kInvalid, "resolver");
  r.resolver = "x.example";
  r.out_dir = dir_.path() + "/missing";
  expect_error(r, IssueErrorCode::kInvalid, "not a directory");
  EXPECT_TRUE(Files(dir_.path()).empty());

  ASSERT_TRUE(IssueCodes(*ledger_, acme_.key, Request("B1", 5)).ok());
  auto files = Files(dir_.path());
  expect_error(Request("B1", 5), IssueErrorCode::kRejected, "already issued");
  // Someone else's file where the manifest would go.
  std::ofstream(dir_.path() + "/" + kGtinA + "-B9.csv") << "mine\n";
  expect_error(Request("B9", 5), IssueErrorCode::kExists, "already exists");
  fs::remove(dir_.path() + "/" + kGtinA + "-B9.csv");
  // The ledger's refusal (a recalled lot) removes the temporary manifest.
  ASSERT_TRUE(
      Submit(RecordKind::kLotRecall, {{"gtin", kGtinA}, {"lot", "L1"}, {"reason", "residue"}}, samr_).ok());
  auto refused = IssueCodes(*ledger_, acme_.key, Request("B3", 5));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, IssueErrorCode::kRejected);
  ASSERT_TRUE(refused.error().reject.has_value());
  EXPECT_EQ(refused.error().reject->code, ledger::RejectCode::kConflict);
  EXPECT_EQ(Files(dir_.path()), files);
  EXPECT_TRUE(LedgerSerials("B3").empty());
}

// An interruption after each durable step leaves either nothing or the
// whole batch, and RecoverPending settles the files accordingly.
TEST_F(IssuanceTest, InterruptionAtEveryStepIsSettledByRecovery) {
  const std::vector<std::string> steps = {"manifest", "pending", "committed", "renamed"};
  for (size_t s = 0; s < steps.size(); ++s) {
    SCOPED_TRACE(steps[s]);
    const std::string batch = "C" + std::to_string(s);
    IssueOptions options{.after_step = [&](std::string_view step) {
      if (step == steps[s]) throw Crash{std::string(step)};
    }};
    bool crashed = false;
    try {
      (void)IssueCodes(*ledger_, acme_.key, Request(batch, 12'000, /*pins=*/true), options);
    } catch (const Crash&) {
      crashed = true;
    }
    ASSERT_TRUE(crashed);
    const bool on_ledger = steps[s] == "committed" || steps[s] == "renamed";
    std::vector<std::string> serials = LedgerSerials(batch);
    EXPECT_EQ(serials.size(), on_ledger ? 12'000u : 0u) << "all or nothing on the ledger";

    auto report = RecoverPending(*ledger_, dir_.path());
    ASSERT_TRUE(report.ok()) << report.error().message;
    const std::string stem = ManifestStem(kGtinA, batch);
    if (steps[s] == "committed") {
      EXPECT_EQ(report->finished, std::vector<std::string>{stem});
    } else if (!on_ledger) {
      EXPECT_EQ(report->discarded, std::vector<std::string>{stem});
    } else {
      EXPECT_TRUE(report->finished.empty() && report->discarded.empty());
    }
    // Nothing hidden is left; the final manifest exists iff the batch is
    // on the ledger, and lists exactly its serials.
    for (const auto& f : Files(dir_.path())) EXPECT_NE(f[0], '.') << f;
    const std::string jsonl = dir_.path() + "/" + stem + ".jsonl";
    EXPECT_EQ(fs::exists(jsonl), on_ledger);
    EXPECT_EQ(fs::exists(dir_.path() + "/" + stem + ".csv"), on_ledger);
    if (on_ledger) {
      std::vector<std::string> lines = ReadLines(jsonl);
      ASSERT_EQ(lines.size(), serials.size());
      for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(Json::parse(lines[i]).at("serial"), serials[i]);
    }
    // A second recovery has nothing to do.
    auto again = RecoverPending(*ledger_, dir_.path());
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->finished.empty() && again->discarded.empty());
  }
}

TEST_F(IssuanceTest, RecoveryLeavesAnotherLedgersBatchAlone) {
  IssueOptions options{.after_step = [](std::string_view step) {
    if (step == "committed") throw Crash{std::string(step)};
  }};
  try {
    (void)IssueCodes(*ledger_, acme_.key, Request("B1", 3), options);
  } catch (const Crash&) {
  }
  auto files = Files(dir_.path());
  ASSERT_EQ(files.size(), 3u);  // two temporary files and the marker
  // Another ledger (another genesis) must not touch it.
  std::unique_ptr<ledger::Ledger> mine = std::move(ledger_);
  OpenFresh();
  auto report = RecoverPending(*ledger_, dir_.path());
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->skipped, std::vector<std::string>{ManifestStem(kGtinA, "B1")});
  EXPECT_EQ(Files(dir_.path()), files);
  report = RecoverPending(*mine, dir_.path());
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->finished.size(), 1u);
}

}  // namespace
}  // namespace traceledger::qrcode
