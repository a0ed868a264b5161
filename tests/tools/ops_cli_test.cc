// Operations end to end with the real binaries:
//   - the route table traced builds (traced --print-routes) and
//     api/openapi.json agree in both directions: every route served is
//     documented with its method, every documented path and method is
//     served;
//   - tracectl complaints list | show --contact | erase --yes over a
//     complaint store filed through the library (as traced would).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <utility>

#include "api/complaint_store.h"
#include "tests/tools/subprocess.h"
#include "tests/tools/tracectl_harness.h"
#include "tools/cli_support.h"

namespace traceledger::tools {
namespace {

using ledger::Json;
using namespace harness;  // NOLINT: the harness is this file's vocabulary
using Route = std::pair<std::string, std::string>;  // METHOD, pattern

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Show(const std::set<Route>& routes) {
  std::string out;
  for (const auto& [m, p] : routes) out += "  " + m + " " + p + "\n";
  return out;
}

class OpsCliTest : public CliTest {};

TEST_F(OpsCliTest, EveryServedRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  Init();
  RunResult r = RunProgram(TRACELEDGER_TRACED, {"--data", Data(), "--print-routes"},
                           {{"TRACELEDGER_OPERATOR_PASSPHRASE", kOperatorPass}});
  ASSERT_EQ(r.exit_code, kExitOk) << r.Describe();
  Json table = ParseJsonOrFail(r.out);
  ASSERT_TRUE(table.is_array()) << r.out;
  std::set<Route> served;
  for (const Json& route : table) served.emplace(route["method"].get<std::string>(), route["pattern"].get<std::string>());
  ASSERT_TRUE(served.count({"GET", "/metrics"})) << Show(served);
  ASSERT_TRUE(served.count({"GET", "/openapi.json"})) << Show(served);
  ASSERT_TRUE(served.count({"POST", "/v1/complaints"})) << Show(served);

  Json doc = ParseJsonOrFail(ReadText(TRACELEDGER_OPENAPI_JSON));
  ASSERT_TRUE(doc.is_object());
  EXPECT_TRUE(doc.value("openapi", "").starts_with("3.0")) << "an OpenAPI 3.0 document";
  std::set<Route> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (m == "PARAMETERS" || m == "SUMMARY" || m == "DESCRIPTION" || m == "SERVERS") continue;
      // HEAD is answered by every GET route.
      if (m == "HEAD") {
        EXPECT_TRUE(served.count({"GET", path})) << "HEAD " << path << " documented without a GET route";
        continue;
      }
      documented.emplace(m, path);
      EXPECT_TRUE(op.contains("responses")) << m << " " << path << " documents no responses";
    }
  }
  std::set<Route> undocumented, unserved;
  for (const Route& route : served) {
    if (!documented.count(route)) undocumented.insert(route);
  }
  for (const Route& route : documented) {
    if (!served.count(route)) unserved.insert(route);
  }
  EXPECT_TRUE(undocumented.empty()) << "served but not in api/openapi.json:\n" << Show(undocumented);
  EXPECT_TRUE(unserved.empty()) << "in api/openapi.json but not served by traced:\n" << Show(unserved);
  // Every $ref points at a schema the document defines.
  std::string text = doc.dump();
  const std::string ref = "\"$ref\":\"#/components/schemas/";
  for (size_t at = 0; (at = text.find(ref, at)) != std::string::npos;) {
    at += ref.size();
    std::string name = text.substr(at, text.find('"', at) - at);
    EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << "dangling $ref " << name;
  }
}

TEST_F(OpsCliTest, ComplaintsListShowContactAndErase) {
  Init();
  std::string id, hash;
  {
    auto store = api::ComplaintStore::Open(api::ComplaintStoreOptions{.path = Data() + "/complaints",
                                                                      .key_path = Data() + "/complaints.key"});
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto filed = (*store)->File(api::ComplaintInput{.code = "",
                                                    .merchant = "acme",
                                                    .category = "quality",
                                                    .text = "Mouldy leaves",
                                                    .contact = "wang@example.cn"},
                                1795219200);
    ASSERT_TRUE(filed.ok()) << filed.error().message;
    id = filed->id;
    hash = filed->complaint_sha256;
  }
  RunResult list = Run({"complaints", "list"}, AuthorEnv());
  ASSERT_EQ(list.exit_code, kExitOk) << list.Describe();
  EXPECT_EQ(list.out, id + "  received  quality  acme  contact\n");

  RunResult show = Run({"--json", "complaints", "show", id}, AuthorEnv());
  ASSERT_EQ(show.exit_code, kExitOk) << show.Describe();
  Json view = ParseJsonOrFail(show.out);
  EXPECT_EQ(view["complaint_sha256"], hash);
  EXPECT_FALSE(view.contains("contact")) << "the contact only with --contact";
  EXPECT_EQ(show.out.find("wang@example.cn"), std::string::npos);

  show = Run({"--json", "complaints", "show", id, "--contact"}, AuthorEnv());
  ASSERT_EQ(show.exit_code, kExitOk) << show.Describe();
  EXPECT_EQ(ParseJsonOrFail(show.out)["contact"], "wang@example.cn");

  RunResult refused = Run({"complaints", "erase", id}, AuthorEnv());
  EXPECT_EQ(refused.exit_code, kExitUsage) << refused.Describe();
  EXPECT_NE(refused.err.find("--yes"), std::string::npos) << refused.err;

  RunResult erased = Run({"complaints", "erase", id, "--yes"}, AuthorEnv());
  ASSERT_EQ(erased.exit_code, kExitOk) << erased.Describe();
  EXPECT_EQ(erased.out, "erased the contact of complaint " + id + "\n");

  show = Run({"--json", "complaints", "show", id, "--contact"}, AuthorEnv());
  ASSERT_EQ(show.exit_code, kExitOk) << show.Describe();
  view = ParseJsonOrFail(show.out);
  EXPECT_TRUE(view["contact"].is_null());
  EXPECT_EQ(view["complaint_sha256"], hash) << "the complaint and its hash stay";
  EXPECT_FALSE(view["contact_held"].get<bool>());

  RunResult bad = Run({"complaints", "show", "xyz"}, AuthorEnv());
  EXPECT_EQ(bad.exit_code, kExitUsage) << bad.Describe();
  RunResult missing = Run({"complaints", "erase", std::string(32, 'b'), "--yes"}, AuthorEnv());
  EXPECT_EQ(missing.exit_code, kExitRejected) << missing.Describe();
}

}  // namespace
}  // namespace traceledger::tools
