#include "api/openapi.h"

namespace traceledger::api {

void AddOpenApiRoute(HttpServer& server) {
  server.Route("GET", "/openapi.json", [](const HttpRequest&) {
    HttpResponse r = JsonOk(std::string(OpenApiDocument()));
    r.SetHeader("Access-Control-Allow-Origin", "*");
    return r;
  });
}

}  // namespace traceledger::api
