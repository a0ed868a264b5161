// End to end: codes issued by `tracectl codes issue` with their images
// (--png, --svg, --sheet), scanned back by `tracectl scan`, which verifies
// each decoded code as `tracectl verify` does: against the ledger (genuine,
// forged, malformed; valid, revoked, lot recalled) or offline with
// --issuer-key. Also `tracectl codes images` and the image flags' errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "qrcode/code.h"
#include "qrcode/render.h"
#include "tests/tools/tracectl_harness.h"
#include "tests/util/temp_files.h"
#include "wallet/keystore.h"

namespace traceledger::tools {
namespace {

namespace fs = std::filesystem;
using ledger::Json;
using namespace harness;  // NOLINT: the harness is this file's vocabulary
using traceledger::testing::ReadLines;

constexpr const char* kGtin = "09501101530003";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> out;
  for (const auto& line : Lines(text)) out.push_back(ParseJsonOrFail(line));
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Entry {
  std::string uri, serial, pin;
};

class ScanVerifyTest : public CliTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InitTwoMerchantsWithProduct(kGtin));
    ASSERT_NO_FATAL_FAILURE(AppendLot(merchant_, kGtin, "L1", "5000"));
    ASSERT_NO_FATAL_FAILURE(AppendLot(merchant_, kGtin, "L2", "5000"));
  }

  std::string Out() const { return dir_ / "out"; }
  std::string Jsonl(const std::string& batch) const { return Out() + "/" + kGtin + "-" + batch + ".jsonl"; }

  RunResult Issue(const std::string& lot, const std::string& batch, int count, std::vector<std::string> extra) {
    std::vector<std::string> args = {"codes", "issue", "--key",   merchant_, "--gtin",  kGtin,
                                     "--lot", lot,     "--count", std::to_string(count), "--out", Out(),
                                     "--batch", batch};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args, AuthorEnv());
  }

  std::vector<Entry> Manifest(const std::string& batch) {
    std::vector<Entry> out;
    for (const auto& line : ReadLines(Jsonl(batch))) {
      Json j = ParseJsonOrFail(line);
      out.push_back({j.at("uri"), j.at("serial"), j.value("pin", "")});
    }
    return out;
  }

  // Scans `images` against the ledger, JSON lines.
  RunResult ScanJson(const std::vector<std::string>& images, std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"--json", "scan"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), images.begin(), images.end());
    return Run(args, {});
  }

};

// 2,000 codes: issued with a PNG each, every PNG decoded and verified
// against the ledger; then a revoked code and a recalled lot.
TEST_F(ScanVerifyTest, ThousandsOfIssuedCodesScanBackGenuineAndValid) {
  RunResult r = Issue("L1", "B1", 2000, {"--png", "--module-px", "2", "--ecc", "L"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.out.find("images:   2000 code(s) in " + Out() + "/images"), std::string::npos) << r.out;
  const std::vector<Entry> codes = Manifest("B1");
  ASSERT_EQ(codes.size(), 2000u);
  std::vector<std::string> images;
  std::map<std::string, std::string> uri_of_image;
  for (const auto& c : codes) {
    images.push_back(Out() + "/images/" + c.serial + ".png");
    uri_of_image[images.back()] = c.uri;
  }
  EXPECT_EQ(static_cast<size_t>(std::distance(fs::directory_iterator(Out() + "/images"), {})), 2000u)
      << "one file per code, no temporaries left";

  r = ScanJson(images);
  ASSERT_EQ(r.exit_code, kExitOk) << r.err;
  std::vector<Json> rows = JsonLines(r.out);
  ASSERT_EQ(rows.size(), 2000u);
  for (const auto& row : rows) {
    const std::string image = row.at("image");
    ASSERT_EQ(row.at("text"), uri_of_image[image]) << image;
    ASSERT_EQ(row.at("verdict"), "genuine") << row.dump();
    ASSERT_EQ(row.at("status"), "valid") << row.dump();
    ASSERT_EQ(row.at("position"), 1);
    ASSERT_EQ(row.at("ec_level"), "L");
  }

  // One code revoked, a second lot issued and recalled.
  r = Run({"append", "code_revocation", "--key", merchant_, "--gtin", kGtin, "--lot", "L1", "--serials",
           codes[7].serial, "--reason", "damaged label"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  r = Issue("L2", "B2", 3, {"--png"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const std::vector<Entry> recalled = Manifest("B2");
  r = Run({"append", "lot_recall", "--key", merchant_, "--gtin", kGtin, "--lot", "L2", "--reason", "mould"},
          AuthorEnv());
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();

  const std::string revoked_png = Out() + "/images/" + codes[7].serial + ".png";
  const std::string recalled_png = Out() + "/images/" + recalled[0].serial + ".png";
  r = Run({"scan", images[0], revoked_png, recalled_png}, {});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.out.find(images[0] + ": 1 code\n  1  " + codes[0].uri + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("     genuine    valid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("     genuine    revoked"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("     genuine    lot_recalled"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("3 code(s): 1 genuine and valid, 2 not"), std::string::npos) << r.err;

  // The verdict lines are verify's: same JSON for the same text.
  RunResult v = Run({"--json", "verify", codes[7].uri}, {});
  RunResult s = ScanJson({revoked_png});
  Json from_verify = ParseJsonOrFail(v.out), from_scan = ParseJsonOrFail(s.out);
  for (const auto& [k, value] : from_verify.items()) EXPECT_EQ(from_scan[k], value) << k;
  EXPECT_EQ(from_scan["status"], "revoked");
  EXPECT_EQ(v.exit_code, s.exit_code);

  // Offline: the issuer's key, no ledger, no status.
  r = Tracectl({"-d", dir_ / "nowhere", "scan", "--issuer-key", merchant_, revoked_png});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  EXPECT_NE(r.out.find("     genuine    signature_ok"), std::string::npos) << r.out;
}

// A code of ours re-signed by another merchant, and text that is not ours,
// side by side in one image.
TEST_F(ScanVerifyTest, ForgedAndForeignCodesAreCalledSo) {
  RunResult r = Issue("L1", "B1", 2, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const std::vector<Entry> codes = Manifest("B1");
  auto parsed = qrcode::ParseCode(codes[0].uri);
  ASSERT_TRUE(parsed.ok());
  auto other_key = wallet::LoadKeystore(other_, kAuthorPass);
  ASSERT_TRUE(other_key.ok());
  qrcode::Code forged = *parsed;
  qrcode::SignCode(forged, *other_key);
  const std::string forged_uri = qrcode::FormatCode(forged);
  ASSERT_NE(forged_uri, codes[0].uri);

  const std::string foreign = "WIFI:S:cafe;T:WPA;P:\x1b[2J;;";
  std::vector<std::string> images;
  for (const std::string& text : {forged_uri, foreign}) {
    auto png = qrcode::RenderPng(text, qrcode::ImageOptions{});
    ASSERT_TRUE(png.ok());
    images.push_back(dir_ / ("code" + std::to_string(images.size()) + ".png"));
    std::ofstream(images.back(), std::ios::binary)
        .write(reinterpret_cast<const char*>(png->data()), static_cast<std::streamsize>(png->size()));
  }
  r = Run({"scan", images[0], images[1]}, {});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.out.find("  1  " + forged_uri + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("     forged     other_merchant_key"), std::string::npos) << r.out;
  // The foreign text is printed, escaped, and called malformed.
  EXPECT_NE(r.out.find("  1  WIFI:S:cafe;T:WPA;P:\\x1b[2J;;\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("     malformed  "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);

  std::vector<Json> rows = JsonLines(ScanJson(images).out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["verdict"], "forged");
  EXPECT_EQ(rows[0]["reason"], "other_merchant_key");
  EXPECT_EQ(rows[1]["verdict"], "malformed");
  EXPECT_EQ(rows[1]["text"], foreign);

  // Offline with the genuine issuer's key: the other merchant's key is unknown.
  r = Tracectl({"-d", dir_ / "nowhere", "scan", "--issuer-key", merchant_, images[0]});
  EXPECT_EQ(r.exit_code, kExitRejected) << r.Describe();
  EXPECT_NE(r.out.find("     forged     unknown_key"), std::string::npos) << r.out;
}

// A PDF label sheet of issued codes, rasterised by poppler, scans back to
// every code of the batch, genuine and valid; captions show serials, never
// PINs. SVG sheets and per-code SVGs are redone by `codes images`.
TEST_F(ScanVerifyTest, LabelSheetsScanBackAndNeverShowPins) {
  int status = std::system("command -v pdftoppm >/dev/null 2>&1");
  ASSERT_EQ(status, 0) << "poppler-utils (pdftoppm) is not installed; run tools/install-deps.sh";
  RunResult r = Issue("L1", "B1", 24, {"--pin", "--sheet", "pdf", "--json"});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  const std::string pdf = Out() + "/" + kGtin + "-B1-labels.pdf";
  Json issued = ParseJsonOrFail(r.out);
  EXPECT_EQ(issued["images"]["sheets"], Json::array({pdf}));
  const std::vector<Entry> codes = Manifest("B1");
  ASSERT_EQ(codes.size(), 24u);

  const std::string pages = dir_ / "page";
  ASSERT_EQ(std::system(("pdftoppm -r 200 -gray -png " + pdf + " " + pages).c_str()), 0);
  r = ScanJson({pages + "-1.png", pages + "-2.png"});
  EXPECT_EQ(r.exit_code, kExitOk) << r.Describe();
  std::set<std::string> found, want;
  for (const auto& row : JsonLines(r.out)) {
    EXPECT_EQ(row["verdict"], "genuine");
    EXPECT_EQ(row["status"], "valid");
    found.insert(row["text"].get<std::string>());
  }
  for (const auto& c : codes) want.insert(c.uri);
  EXPECT_EQ(found, want);

  // Redo the images from the manifest: SVG sheets and per-code SVGs.
  r = Run({"codes", "images", "--manifest", Jsonl("B1"), "--sheet", "svg", "--svg", "--margin", "2"}, {});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  std::string sheets;
  for (const char* page : {"-001.svg", "-002.svg"}) {
    const std::string path = Out() + "/" + kGtin + "-B1-labels" + page;
    EXPECT_NE(r.out.find("sheet:    " + path), std::string::npos) << r.out;
    sheets += ReadAll(path);
  }
  for (const auto& c : codes) {
    EXPECT_NE(sheets.find(c.serial), std::string::npos) << c.serial;
    ASSERT_FALSE(c.pin.empty());
    EXPECT_EQ(sheets.find(c.pin), std::string::npos) << "a PIN on a label";
    EXPECT_TRUE(fs::exists(Out() + "/images/" + c.serial + ".svg")) << c.serial;
  }
}

// Bad image flags are refused (exit 2) before anything is committed.
TEST_F(ScanVerifyTest, BadImageFlagsCommitNothing) {
  for (const auto& flags : std::vector<std::vector<std::string>>{{"--png", "--ecc", "X"},
                                                                 {"--png", "--module-px", "0"},
                                                                 {"--svg", "--module-px", "65"},
                                                                 {"--png", "--margin", "-1"},
                                                                 {"--png", "--margin", "65"},
                                                                 {"--sheet", "png"},
                                                                 {"--module-px", "3"},
                                                                 {"--sheet", "pdf", "--module-px", "3"},
                                                                 {"--ecc", "H"}}) {
    RunResult r = Issue("L1", "B9", 5, flags);
    EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
    EXPECT_NE(r.err.find("--"), std::string::npos) << "names the flag: " << r.err;
    EXPECT_FALSE(fs::exists(Jsonl("B9")));
  }
  RunResult r = Issue("L1", "B9", 5, {"--png", "--ecc", "q"});
  EXPECT_EQ(r.exit_code, kExitOk) << "the batch id was not used by the refusals: " << r.Describe();
  EXPECT_NE(Issue("L1", "B8", 5, {"--ecc", "Z", "--png"}).err.find("--ecc: \"Z\" is not one of L, M, Q, H"),
            std::string::npos);

  // codes images: a format is needed; a manifest that is not one is refused.
  r = Run({"codes", "images", "--manifest", Jsonl("B9")}, {});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  r = Run({"codes", "images", "--manifest", dir_ / "missing.jsonl", "--png"}, {});
  EXPECT_EQ(r.exit_code, kExitFailure) << r.Describe();
  WriteFile(dir_ / "bad.jsonl", "{\"uri\":\"x\",\"serial\":\"S1\"}\n{\"uri\":\"y\"}\n");
  r = Run({"codes", "images", "--manifest", dir_ / "bad.jsonl", "--png"}, {});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
  EXPECT_NE(r.err.find("bad.jsonl line 2: \"serial\" is missing"), std::string::npos) << r.err;
  r = Run({"codes", "images", "--manifest", Jsonl("B9"), "--png", "--out", dir_ / "nowhere"}, {});
  EXPECT_EQ(r.exit_code, kExitUsage) << r.Describe();
}

}  // namespace
}  // namespace traceledger::tools
