// The node's OpenAPI 3.0 document: api/openapi.json, compiled into the
// binary at build time (cmake/EmbedFile.cmake), served at GET /openapi.json.
// tests/tools/openapi_test.cc checks it against the route table traced
// builds, in both directions.
#ifndef TRACELEDGER_API_OPENAPI_H_
#define TRACELEDGER_API_OPENAPI_H_

#include <string_view>

#include "api/http.h"

namespace traceledger::api {

// The bytes of api/openapi.json as built.
std::string_view OpenApiDocument();

// Adds GET /openapi.json (application/json). REQUIRES: before server.Start().
void AddOpenApiRoute(HttpServer& server);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_OPENAPI_H_
