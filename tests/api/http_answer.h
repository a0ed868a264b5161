// One HTTP exchange's answer as the API tests assert on it: status, content
// type, body, headers, and the body parsed when it is JSON.
#ifndef TRACELEDGER_TESTS_API_HTTP_ANSWER_H_
#define TRACELEDGER_TESTS_API_HTTP_ANSWER_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http.h"
#include "ledger/canonical_json.h"

namespace traceledger::testing {

struct Answer {
  int status = 0;
  std::string content_type;
  std::string body;
  ledger::Json json;  // discarded (not an object) when the body is not JSON
  std::vector<std::pair<std::string, std::string>> headers;

  // Case-insensitive; "" when absent.
  std::string Header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          }))
        return v;
    }
    return "";
  }
  // error.code / error.field of a JsonError body; "" otherwise.
  std::string ErrorCode() const { return ErrorMember("code"); }
  std::string ErrorField() const { return ErrorMember("field"); }

 private:
  std::string ErrorMember(const char* name) const {
    return json.is_object() && json.contains("error") && json["error"].is_object()
               ? json["error"].value(name, "")
               : "";
  }
};

// The answer of a client call; a transport failure fails the test and
// gives an empty answer (status 0).
inline Answer ToAnswer(const Result<api::HttpResponse, api::HttpError>& r) {
  Answer a;
  EXPECT_TRUE(r.ok()) << r.error().message;
  if (!r.ok()) return a;
  a.status = r->status;
  a.content_type = r->content_type;
  a.body = r->body;
  a.headers = r->headers;
  a.json = ledger::Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  return a;
}

}  // namespace traceledger::testing

#endif  // TRACELEDGER_TESTS_API_HTTP_ANSWER_H_
