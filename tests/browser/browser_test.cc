// The real-browser test: a resolver on a real loopback server over a real
// ledger (tests/api/resolver_world.h), and headless Chromium driven by
// playwright-core (tests/browser/verdicts.mjs) opening the consumer page of
// a genuine, a revoked, a recalled and two forged codes in English and
// Chinese. Screenshots go to the build directory (the path is printed).
// The ctest fixture "playwright" installs playwright-core first
// (tools/install-playwright.sh).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "tests/api/resolver_world.h"
#include "tests/tools/subprocess.h"

namespace traceledger::api {
namespace {

using ledger::Json;

class BrowserTest : public testing::ResolverWorld {};

TEST_F(BrowserTest, ConsumerPageVerdictsInBothLanguages) {
  const std::string modules = std::string(TRACELEDGER_SOURCE_DIR) + "/.playwright/node_modules";
  ASSERT_TRUE(std::filesystem::exists(modules + "/playwright-core"))
      << "playwright-core is not installed: run tools/install-playwright.sh";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "Debian's chromium package is not installed";

  auto words = [](const char* en, const char* zh) { return Json{{"en", en}, {"zh-CN", zh}}; };
  Json cases = Json::array({
      {{"name", "genuine"}, {"path", Path(good_[0].uri)}, {"status", 200}, {"verdict", "genuine"},
       {"words", words("Genuine", "正品")}, {"switch_to", "正品"}},
      {{"name", "pin"}, {"path", Path(good_[1].uri)}, {"status", 200}, {"verdict", "genuine"},
       {"words", words("Genuine", "正品")}, {"pin", good_[1].pin}},
      {{"name", "revoked"}, {"path", Path(good_[3].uri)}, {"status", 200}, {"verdict", "not_genuine"},
       {"words", words("Not genuine", "非正品")}},
      {{"name", "recalled"}, {"path", Path(recalled_[0].uri)}, {"status", 200}, {"verdict", "warning"},
       {"words", words("Warning", "警告")}},
      {{"name", "forged"}, {"path", Path(UnknownKey())}, {"status", 404}, {"verdict", "not_genuine"},
       {"words", words("Not genuine", "非正品")}},
      {{"name", "tampered"}, {"path", Path(Tampered(good_[2].uri))}, {"status", 200}, {"verdict", "not_genuine"},
       {"words", words("Not genuine", "非正品")}},
  });
  const std::string cases_path = dir_.path() + "/cases.json";
  std::ofstream(cases_path) << cases.dump();
  const std::string shots = std::string(TRACELEDGER_BINARY_DIR) + "/browser-screenshots";

  tools::RunResult r = tools::RunProgram(
      "/usr/bin/env", {"node", std::string(TRACELEDGER_SOURCE_DIR) + "/tests/browser/verdicts.mjs", url_, cases_path, shots},
      {{"PLAYWRIGHT_MODULES", modules}}, std::nullopt, /*kill_after_ms=*/240'000);
  std::cout << r.out << r.err;
  std::cout << "[ shots    ] " << shots << "\n";
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_NE(r.out.find("all browser checks passed"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(shots + "/genuine-zh-CN.png"));
  // The page's own PIN form consumed the code's PIN.
  auto state = scans_->Get(kGtinA, Serial(good_[1].uri));
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(state->has_value());
  EXPECT_TRUE((*state)->consumed);
}

}  // namespace
}  // namespace traceledger::api
