// End-to-end tests of `tracectl scan`: the real binary on real image files,
// checking exit codes, printed texts and corners, per-image typed errors,
// terminal-safe output and the --json lines.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/canonical_json.h"
#include "qrcode/render.h"
#include "tests/qrcode/distortion.h"
#include "tools/cli_support.h"  // exit codes
#include "wallet/key.h"

namespace traceledger::tools {
namespace {

using ledger::Json;

struct Scan {
  int exit_code = -1;
  std::string out, err;
};

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "scan_test_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  // A PNG holding the given texts side by side.
  std::string CodesPng(const std::string& name, const std::vector<std::string>& texts) {
    qrcode::testing::Scene scene;
    scene.width = 400 * static_cast<int>(texts.size());
    scene.height = 400;
    for (size_t i = 0; i < texts.size(); ++i) {
      scene.codes.push_back(
          {*qrcode::EncodeQr(texts[i]),
           qrcode::testing::Placement{.cx = 200.0 + 400.0 * static_cast<double>(i), .cy = 200}});
    }
    return Write(name, qrcode::EncodeGrayPng(qrcode::testing::RenderScene(scene)));
  }

  // Offline, against a key that signed none of these codes: every code is
  // forged or malformed, so a run with codes exits 1 (kExitRejected).
  // Verdicts against a ledger: tests/tools/scan_verify_test.cc.
  Scan Run(const std::string& args, const std::string& stdin_file = "/dev/null", bool offline = true) {
    Scan s;
    std::string out = dir_ + "/.out", err = dir_ + "/.err";
    std::string cmd =
        std::string(TRACELEDGER_TRACECTL) + " scan " + (offline ? "--issuer-key " + key_hex_ + " " : "") +
        args + " <" + stdin_file + " >" + out + " 2>" + err;
    int status = std::system(cmd.c_str());
    s.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream o(out), e(err);
    s.out.assign(std::istreambuf_iterator<char>(o), {});
    s.err.assign(std::istreambuf_iterator<char>(e), {});
    return s;
  }

  std::string dir_;
  std::string key_hex_ = wallet::SecretKey::Generate().Public().Hex();
};

TEST_F(ScanTest, PrintsEveryTextWithItsCorners) {
  const std::string a = qrcode::testing::SampleUri(1), b = "not one of ours";
  std::string img = CodesPng("two.png", {a, b});
  Scan s = Run(img);
  EXPECT_EQ(s.exit_code, kExitRejected) << s.err;
  EXPECT_NE(s.out.find(img + ": 2 codes\n"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("     forged     unknown_key"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("     malformed  "), std::string::npos) << s.out;
  EXPECT_NE(s.err.find("2 code(s): 0 genuine, 2 not"), std::string::npos) << s.err;
  EXPECT_NE(s.out.find("  " + a + "\n"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("  " + b + "\n"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("     at ("), std::string::npos) << s.out;
  EXPECT_NE(s.out.find(", level M, "), std::string::npos) << s.out;
}

TEST_F(ScanTest, EachBadImageGetsItsOwnTypedErrorAndTheRestAreScanned) {
  const std::string uri = qrcode::testing::SampleUri(2);
  std::string good = CodesPng("good.png", {uri});
  std::ifstream good_file(good, std::ios::binary);
  std::vector<uint8_t> png((std::istreambuf_iterator<char>(good_file)), {});
  std::string empty = Write("empty.png", {});
  std::string cut =
      Write("cut.png", std::vector<uint8_t>(png.begin(), png.begin() + static_cast<long>(png.size() / 2)));
  std::string text = Write("notes.txt", {'h', 'i', '\n'});
  std::string blank = Write("blank.png", qrcode::EncodeGrayPng(qrcode::GrayImage(64, 64, 255)));
  Scan s = Run(empty + " " + good + " " + cut + " " + text + " " + blank + " " + dir_ + "/missing.jpg");
  EXPECT_EQ(s.exit_code, kExitFailure);
  EXPECT_NE(s.out.find(good + ": 1 code\n  1  " + uri + "\n"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find(blank + ": no QR code found\n"), std::string::npos) << s.out;
  EXPECT_NE(s.err.find("tracectl: " + empty + ": the file is empty (0 bytes) [empty]"), std::string::npos)
      << s.err;
  EXPECT_NE(s.err.find("tracectl: " + cut + ": truncated PNG"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("[truncated]"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("[not_an_image]"), std::string::npos) << s.err;
  EXPECT_NE(s.err.find("missing.jpg: No such file or directory [io]"), std::string::npos) << s.err;

  // Only images without a code: exit 1.
  Scan none = Run(blank);
  EXPECT_EQ(none.exit_code, kExitRejected);
}

TEST_F(ScanTest, JsonLinesAndStandardInput) {
  const std::string uri = qrcode::testing::SampleUri(3);
  std::string img = CodesPng("one.png", {uri});
  std::string bad = Write("bad.png", {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0});
  Scan s = Run("--json " + img + " - " + bad, img);
  EXPECT_EQ(s.exit_code, kExitFailure) << s.err;
  std::istringstream lines(s.out);
  std::vector<Json> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(Json::parse(line));
  ASSERT_EQ(rows.size(), 3u) << s.out;
  for (int i : {0, 1}) {  // one line per code: verify's members plus where it was found
    EXPECT_EQ(rows[i]["text"], uri);
    EXPECT_EQ(rows[i]["verdict"], "forged");
    EXPECT_EQ(rows[i]["reason"], "unknown_key");
    EXPECT_EQ(rows[i]["position"], 1);
    EXPECT_EQ(rows[i]["corners"].size(), 4u);
    EXPECT_EQ(rows[i]["ec_level"], "M");
  }
  EXPECT_EQ(rows[0]["image"], img);
  EXPECT_EQ(rows[1]["image"], "-");
  EXPECT_EQ(rows[2]["ok"], false);
  EXPECT_EQ(rows[2]["error"]["code"], "truncated");
}

TEST_F(ScanTest, ControlCharactersInADecodedTextAreEscaped) {
  std::string img = CodesPng("ctl.png", {"line1\nline2\x1b[31m\\"});
  Scan s = Run(img);
  EXPECT_EQ(s.exit_code, kExitRejected);
  EXPECT_NE(s.out.find("  line1\\x0aline2\\x1b[31m\\\\\n"), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find('\x1b'), std::string::npos);
}

TEST_F(ScanTest, UsageErrors) {
  EXPECT_EQ(Run("").exit_code, kExitUsage);
  EXPECT_EQ(Run("- -").exit_code, kExitUsage);
  EXPECT_EQ(Run("--max-pixels 0 x.png").exit_code, kExitUsage);
  EXPECT_EQ(Run("--max-pixels many x.png").exit_code, kExitUsage);
  // Neither a ledger nor --issuer-key: nothing to verify against.
  Scan s = Run("--data " + dir_ + "/nowhere x.png", "/dev/null", /*offline=*/false);
  EXPECT_EQ(s.exit_code, kExitUsage);
  EXPECT_NE(s.err.find("no ledger at " + dir_ + "/nowhere/ledger"), std::string::npos) << s.err;
  EXPECT_EQ(Run("--issuer-key 1234 x.png", "/dev/null", false).exit_code, kExitUsage);
}

TEST_F(ScanTest, DecodeOnlyNeedsNoLedgerOrKeyAndGivesNoVerdict) {
  const std::string uri = qrcode::testing::SampleUri(7);
  std::string img = CodesPng("plain.png", {uri});
  Scan s = Run("--data " + dir_ + "/nowhere --decode-only " + img, "/dev/null", /*offline=*/false);
  EXPECT_EQ(s.exit_code, kExitOk) << s.err;
  EXPECT_NE(s.out.find("  " + uri + "\n"), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find("genuine"), std::string::npos) << s.out;
  EXPECT_EQ(s.out.find("forged"), std::string::npos) << s.out;
  Scan j = Run("--json --data " + dir_ + "/nowhere --decode-only " + img, "/dev/null", false);
  EXPECT_EQ(j.exit_code, kExitOk) << j.err;
  auto row = Json::parse(j.out);
  EXPECT_EQ(row["text"], uri);
  EXPECT_EQ(row["position"], 1);
  EXPECT_FALSE(row.contains("verdict"));
  // An image without a code is still exit 1 when only decoding.
  qrcode::testing::Scene empty;
  empty.width = 200;
  empty.height = 200;
  std::string blank = Write("blank.png", qrcode::EncodeGrayPng(qrcode::testing::RenderScene(empty)));
  EXPECT_EQ(Run("--decode-only " + blank, "/dev/null", false).exit_code, kExitRejected);
}

TEST_F(ScanTest, LimitsComeFromTheFlags) {
  std::string img = CodesPng("one.png", {qrcode::testing::SampleUri(4)});
  Scan s = Run("--max-pixels 1000 " + img);
  EXPECT_EQ(s.exit_code, kExitFailure);
  EXPECT_NE(s.err.find("[too_many_pixels]"), std::string::npos) << s.err;
  Scan b = Run("--max-bytes 100 " + img);
  EXPECT_EQ(b.exit_code, kExitFailure);
  EXPECT_NE(b.err.find("[too_many_bytes]"), std::string::npos) << b.err;
}

}  // namespace
}  // namespace traceledger::tools
