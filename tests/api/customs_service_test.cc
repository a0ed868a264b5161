// The customs and writers' routes (api/customs_service.h) on a real server
// on a free loopback port, beside the node routes (writes), over a real
// ledger: every route on the happy path and on malformed input.
#include "api/customs_service.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "api/node_service.h"
#include "qrcode/code.h"
#include "qrcode/render.h"
#include "tests/api/http_answer.h"
#include "tests/ledger/fixture.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using ledger::RecordKind;
using ledger::testing::Actor;

constexpr const char* kResolver = "id.traceledger.example";

class CustomsServiceTest : public ledger::testing::LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    acme_ = Register("acme", {"merchant"});
    beta_ = Register("beta", {"merchant"});
    inspector_ = Register("cciq", {"inspector"});
    customs_ = Register("customs-sz", {"customs"});
    ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinA), acme_).ok());  // origin CN
    ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L1"), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L2"), acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kInspection, Inspection("L1", "conformant"), inspector_).ok());
    ASSERT_TRUE(Submit(RecordKind::kCodeIssuance,
                       {{"gtin", kGtinA}, {"lot", "L1"}, {"batch", "B1"}, {"part", 1}, {"parts", 1},
                        {"serials", Json::array({"S1", "S2", "S3"})}},
                       acme_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kCodeRevocation,
                       {{"gtin", kGtinA}, {"lot", "L1"}, {"serials", Json::array({"S2"})}, {"reason", "stolen"}},
                       acme_)
                    .ok());
    ASSERT_TRUE(Submit(RecordKind::kShipment, ShipmentBody("SH-1", kGtinA, "L1"), acme_).ok());
    Json risky = ShipmentBody("SH-2", kGtinA, "L2");
    risky["origin_country"] = "VN";
    ASSERT_TRUE(Submit(RecordKind::kShipment, risky, acme_).ok());
    ASSERT_TRUE(Submit(RecordKind::kCustody,
                       {{"shipment", "SH-1"}, {"from", "acme"}, {"to", "beta"}, {"location", "Port <A> & \"B\""},
                        {"biz_step", "shipping"}},
                       acme_)
                    .ok());

    node_ = std::make_unique<NodeService>(*ledger_, NodeOptions{});
    CustomsOptions options{
        .credit = [](std::string_view merchant) -> std::optional<CreditSummary> {
          if (merchant == "acme") return CreditSummary{.grade = "A", .list = "", .score = 90};
          return std::nullopt;
        },
        .clone_incidents = [](std::string_view, std::string_view lot) -> std::optional<uint64_t> {
          return lot == "L2" ? 2 : 0;
        },
        .max_images = 3,
        .default_page = 2,
        .max_page = 2,
        .verify_threads = 2,
        .ledger_url = "http://node.test",
        .clock_s = [] { return int64_t{1'795'219'200}; }};
    customs_service_ = std::make_unique<CustomsService>(*ledger_, options);
    server_ = std::make_unique<HttpServer>(ServerOptions{.port = 0, .max_body_bytes = size_t{8} << 20});
    node_->Register(*server_);
    customs_service_->Register(*server_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error();
    client_ = std::make_unique<HttpClient>("http://127.0.0.1:" + std::to_string(*port));
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  static Json Inspection(const std::string& lot, const std::string& result) {
    return {{"gtin", kGtinA}, {"lot", lot}, {"standard", "GB 2763-2021"}, {"sample_size", 5},
            {"result", result}, {"report_sha256", std::string(64, 'b')}, {"inspected_on", "2026-11-10"}};
  }

  std::string CodeText(const std::string& lot, const std::string& serial, const wallet::SecretKey& key) {
    qrcode::Code c{.resolver = kResolver, .gtin = kGtinA, .lot = lot, .serial = serial};
    qrcode::SignCode(c, key);
    return qrcode::FormatCode(c);
  }

  using Answer = traceledger::testing::Answer;
  static Answer Parse(const Result<HttpResponse, HttpError>& r) { return traceledger::testing::ToAnswer(r); }
  Answer Get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return Parse(client_->Get(target, headers));
  }
  Answer Post(const std::string& target, const std::string& body, const std::string& type = "application/json") {
    return Parse(client_->Post(target, body, type));
  }
  static std::string ErrorCode(const Answer& a) { return a.ErrorCode(); }
  void ExpectError(const Answer& a, int status, const std::string& code) {
    EXPECT_EQ(a.status, status) << a.body;
    EXPECT_EQ(ErrorCode(a), code) << a.body;
  }

  Actor acme_{"", wallet::SecretKey::Generate()};
  Actor beta_ = acme_, inspector_ = acme_, customs_ = acme_;
  std::unique_ptr<NodeService> node_;
  std::unique_ptr<CustomsService> customs_service_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(CustomsServiceTest, LotWithHistory) {
  Answer a = Get(std::string("/v1/lots/") + kGtinA + "/L1");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["gtin"], kGtinA);
  EXPECT_EQ(a.json["owner"], "acme");
  EXPECT_EQ(a.json["recalled"], false);
  EXPECT_EQ(a.json["record"]["kind"], "lot");
  EXPECT_EQ(a.json["record"]["record"]["body"]["lot"], "L1");
  const Json& h = a.json["history"];
  ASSERT_EQ(h.size(), 5u) << h.dump(1);  // lot, inspection, issuance, revocation, shipment
  std::vector<std::string> kinds;
  for (const auto& e : h) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"lot", "inspection", "code_issuance", "code_revocation", "shipment"}));
  for (size_t i = 1; i < h.size(); ++i) EXPECT_GT(h[i]["index"], h[i - 1]["index"]);
  EXPECT_TRUE(h[0].contains("id") && h[0].contains("height"));
  EXPECT_EQ(h[2]["abridged"]["serials"], 3);
  EXPECT_FALSE(h[2].contains("record"));
}

TEST_F(CustomsServiceTest, LotBadInput) {
  ExpectError(Get("/v1/lots/09501101530004/L1"), 400, "bad_gtin");  // check digit
  ExpectError(Get("/v1/lots/0950110153000x/L1"), 400, "bad_gtin");
  ExpectError(Get(std::string("/v1/lots/") + kGtinA + "/" + std::string(21, 'A')), 400, "bad_lot");
  ExpectError(Get(std::string("/v1/lots/") + kGtinA + "/NOPE"), 404, "not_found");
  ExpectError(Get(std::string("/v1/lots/") + kGtinB + "/L1"), 404, "not_found");
}

TEST_F(CustomsServiceTest, ShipmentWithHistory) {
  Answer a = Get("/v1/shipments/SH-1");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["owner"], "acme");
  EXPECT_EQ(a.json["record"]["kind"], "shipment");
  ASSERT_EQ(a.json["history"].size(), 2u);
  EXPECT_EQ(a.json["history"][1]["kind"], "custody");
  ExpectError(Get("/v1/shipments/a*b"), 400, "bad_shipment");
  ExpectError(Get("/v1/shipments/" + std::string(65, 'x')), 400, "bad_shipment");
  ExpectError(Get("/v1/shipments/NOPE"), 404, "not_found");
}

TEST_F(CustomsServiceTest, ProvenanceJson) {
  Answer a = Get("/v1/shipments/SH-1/provenance");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type.substr(0, 16), "application/json");
  const Json& p = a.json;
  EXPECT_EQ(p["shipment"]["shipment"], "SH-1");
  EXPECT_EQ(p["origin"]["country"], "CN");
  EXPECT_EQ(p["merchant"]["party"], "acme");
  EXPECT_EQ(p["merchant"]["name"], "acme Ltd");
  EXPECT_EQ(p["merchant"]["credit"]["grade"], "A");
  ASSERT_EQ(p["lots"].size(), 1u);
  const Json& lot = p["lots"][0];
  EXPECT_EQ(lot["product"]["name"], "Jasmine tea");
  EXPECT_EQ(lot["product"]["origin_country"], "CN");
  EXPECT_EQ(lot["lot_record"]["production_date"], "2026-11-01");
  ASSERT_EQ(lot["inspections"].size(), 1u);
  EXPECT_EQ(lot["inspections"][0]["result"], "conformant");
  EXPECT_EQ(lot["revoked_codes"], 1);
  EXPECT_EQ(lot["clone_incidents"], 0);
  ASSERT_EQ(p["custody"].size(), 1u);
  EXPECT_EQ(p["custody"][0]["to"], "beta");
  EXPECT_TRUE(p["customs_decisions"].empty());
  // One revoked code: medium, with its reason.
  EXPECT_EQ(p["risk"]["level"], "medium");
  ASSERT_EQ(p["risk"]["flags"].size(), 1u) << p["risk"].dump();
  EXPECT_EQ(p["risk"]["flags"][0]["code"], "codes_revoked");
}

TEST_F(CustomsServiceTest, ProvenanceRiskFlags) {
  Answer a = Get("/v1/shipments/SH-2/provenance");
  ASSERT_EQ(a.status, 200) << a.body;
  std::vector<std::string> codes;
  for (const auto& f : a.json["risk"]["flags"]) codes.push_back(f["code"]);
  EXPECT_EQ(codes, (std::vector<std::string>{"inspection_missing", "clone_incidents", "origin_mismatch"}));
  EXPECT_EQ(a.json["risk"]["level"], "high");
  ExpectError(Get("/v1/shipments/NOPE/provenance"), 404, "not_found");
  ExpectError(Get("/v1/shipments/a*b/provenance"), 400, "bad_shipment");
}

TEST_F(CustomsServiceTest, ProvenanceNotRated) {
  ASSERT_TRUE(Submit(RecordKind::kProduct, ProductBody(kGtinB), beta_).ok());
  ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinB, "X1"), beta_).ok());
  ASSERT_TRUE(Submit(RecordKind::kShipment, ShipmentBody("SH-B", kGtinB, "X1"), beta_).ok());
  Answer a = Get("/v1/shipments/SH-B/provenance");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["merchant"]["credit"]["rated"], false);
  EXPECT_EQ(a.json["merchant"]["credit"]["text"], "not rated");
  Answer html = Get("/v1/shipments/SH-B/provenance", {{"Accept", "text/html"}});
  EXPECT_NE(html.body.find("not rated"), std::string::npos);
}

TEST_F(CustomsServiceTest, ProvenanceHtml) {
  Answer a = Get("/v1/shipments/SH-2/provenance",
                 {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}, {"Accept-Language", "en-GB,en;q=0.9"}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(a.Header("Vary"), "Accept, Accept-Language");
  EXPECT_NE(a.body.find("Risk: high"), std::string::npos);
  EXPECT_NE(a.body.find("origin_mismatch"), std::string::npos);
  // Self-contained: no external scripts, styles, images or fonts.
  for (const char* external : {"<script", "<link", "src=", "url(", "@import"}) {
    EXPECT_EQ(a.body.find(external), std::string::npos) << external;
  }
  Answer escaped = Get("/v1/shipments/SH-1/provenance", {{"Accept", "text/html"}});
  EXPECT_NE(escaped.body.find("Port &lt;A&gt; &amp; &quot;B&quot;"), std::string::npos);
  EXPECT_EQ(escaped.body.find("Port <A>"), std::string::npos);
  Answer zh = Get("/v1/shipments/SH-2/provenance", {{"Accept", "text/html"}, {"Accept-Language", "zh-CN,zh;q=0.9"}});
  EXPECT_NE(zh.body.find("风险: 高"), std::string::npos);
  EXPECT_EQ(zh.Header("Content-Language"), "zh-CN");
  Answer forced = Get("/v1/shipments/SH-2/provenance?lang=en", {{"Accept", "text/html"}, {"Accept-Language", "zh-CN"}});
  EXPECT_NE(forced.body.find("Risk: high"), std::string::npos);
  // An API client that accepts anything gets JSON.
  EXPECT_EQ(Get("/v1/shipments/SH-2/provenance", {{"Accept", "*/*"}}).json["risk"]["level"], "high");
}

TEST_F(CustomsServiceTest, PartyRegistrationRolesKeys) {
  Answer a = Get("/v1/parties/acme");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["registration"]["record"]["body"]["name"], "acme Ltd");
  ASSERT_EQ(a.json["roles"].size(), 1u);
  EXPECT_EQ(a.json["roles"][0]["role"], "merchant");
  ASSERT_EQ(a.json["keys"].size(), 1u);
  EXPECT_EQ(a.json["keys"][0]["key_id"], acme_.key.Public().KeyId());
  EXPECT_EQ(a.json["keys"][0]["status"], "active");
  ExpectError(Get("/v1/parties/Acme"), 400, "bad_party");
  ExpectError(Get("/v1/parties/nobody"), 404, "not_found");
}

TEST_F(CustomsServiceTest, PartyListingsPaginated) {
  ASSERT_TRUE(Submit(RecordKind::kLot, LotBody(kGtinA, "L3"), acme_).ok());
  Answer lots = Get("/v1/parties/acme/lots");
  ASSERT_EQ(lots.status, 200) << lots.body;
  ASSERT_EQ(lots.json["items"].size(), 2u);  // default_page 2
  EXPECT_EQ(lots.json["items"][0]["cursor"], std::string(kGtinA) + ":L1");
  EXPECT_EQ(lots.json["next"], std::string(kGtinA) + ":L2");
  Answer rest = Get("/v1/parties/acme/lots?after=" + std::string(kGtinA) + ":L2&limit=50");  // capped at 2
  ASSERT_EQ(rest.status, 200) << rest.body;
  EXPECT_EQ(rest.json["limit"], 2);
  ASSERT_EQ(rest.json["items"].size(), 1u);
  EXPECT_EQ(rest.json["items"][0]["record"]["body"]["lot"], "L3");
  EXPECT_TRUE(rest.json["next"].is_null());

  Answer products = Get("/v1/parties/acme/products");
  ASSERT_EQ(products.json["items"].size(), 1u);
  EXPECT_EQ(products.json["items"][0]["record"]["body"]["gtin"], kGtinA);
  EXPECT_EQ(products.json["items"][0]["kind"], "product");
  Answer shipments = Get("/v1/parties/acme/shipments?limit=1");
  ASSERT_EQ(shipments.json["items"].size(), 1u);
  EXPECT_EQ(shipments.json["next"], "SH-1");

  Answer codes = Get("/v1/parties/acme/codes");
  ASSERT_EQ(codes.status, 200) << codes.body;
  ASSERT_EQ(codes.json["items"].size(), 1u);
  const Json& batch = codes.json["items"][0];
  EXPECT_EQ(batch["batch"], "B1");
  EXPECT_EQ(batch["lot"], "L1");
  EXPECT_EQ(batch["parts"], 1);
  EXPECT_EQ(batch["serials"], 3);
  EXPECT_EQ(batch["pins"], false);
  EXPECT_EQ(batch["revoked"], 1);

  EXPECT_TRUE(Get("/v1/parties/beta/lots").json["items"].empty());
  ExpectError(Get("/v1/parties/acme/lots?limit=0"), 400, "bad_limit");
  ExpectError(Get("/v1/parties/acme/lots?limit=ten"), 400, "bad_limit");
  ExpectError(Get("/v1/parties/acme/lots?after=L1"), 400, "bad_cursor");
  ExpectError(Get("/v1/parties/acme/widgets"), 404, "not_found");
  ExpectError(Get("/v1/parties/nobody/lots"), 404, "not_found");
  ExpectError(Get("/v1/parties/BAD/lots"), 400, "bad_party");
}

TEST_F(CustomsServiceTest, BatchVerifyPerCodeInOrder) {
  const std::string genuine = CodeText("L1", "S1", acme_.key);
  const std::string revoked = CodeText("L1", "S2", acme_.key);
  const std::string other_merchant = CodeText("L1", "S3", beta_.key);
  std::string forged = genuine;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  Json body = {{"codes", Json::array({genuine, revoked, other_merchant, "not a code", forged})}};
  Answer a = Post("/v1/verify", body.dump());
  ASSERT_EQ(a.status, 200) << a.body;
  const Json& r = a.json["results"];
  ASSERT_EQ(r.size(), 5u);
  for (size_t i = 0; i < r.size(); ++i) EXPECT_EQ(r[i]["index"], i);
  EXPECT_EQ(r[0]["verdict"], "genuine");
  EXPECT_EQ(r[0]["status"], "valid");
  EXPECT_EQ(r[1]["verdict"], "genuine");
  EXPECT_EQ(r[1]["status"], "revoked");
  EXPECT_EQ(r[2]["verdict"], "forged");
  EXPECT_EQ(r[2]["reason"], "other_merchant_key");
  EXPECT_EQ(r[3]["verdict"], "malformed");
  EXPECT_EQ(r[4]["verdict"], "forged");
  EXPECT_EQ(r[0]["text"], genuine);
  const Json& s = a.json["summary"];
  EXPECT_EQ(s["total"], 5);
  EXPECT_EQ(s["good"], 1);
  EXPECT_EQ(s["verdicts"]["genuine"], 2);
  EXPECT_EQ(s["verdicts"]["forged"], 2);
  EXPECT_EQ(s["verdicts"]["malformed"], 1);
  EXPECT_EQ(s["statuses"]["revoked"], 1);
  EXPECT_EQ(customs_service_->codes_verified(), 5u);
}

TEST_F(CustomsServiceTest, BatchVerifyBadInput) {
  ExpectError(Post("/v1/verify", "{"), 400, "malformed");
  ExpectError(Post("/v1/verify", "[]"), 400, "schema");
  ExpectError(Post("/v1/verify", R"({"codes":"x"})"), 400, "schema");
  ExpectError(Post("/v1/verify", R"({"codes":[]})"), 400, "schema");
  Answer not_string = Post("/v1/verify", R"({"codes":["a",7]})");
  ExpectError(not_string, 400, "schema");
  EXPECT_NE(not_string.json["error"]["message"].get<std::string>().find("body.codes[1]"), std::string::npos);
  Json many = {{"codes", Json::array()}};
  for (int i = 0; i < 10'001; ++i) many["codes"].push_back("x");
  Answer too_many = Post("/v1/verify", many.dump());
  ExpectError(too_many, 413, "too_many_codes");
  EXPECT_NE(too_many.json["error"]["message"].get<std::string>().find("at most 10000"), std::string::npos);
  ExpectError(Parse(client_->Get("/v1/verify")), 405, "method_not_allowed");
  EXPECT_EQ(customs_service_->codes_verified(), 0u);
}

std::string Multipart(const std::string& boundary, const std::vector<std::pair<std::string, std::string>>& files) {
  std::string body;
  for (const auto& [name, data] : files) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"" + name +
            "\"\r\nContent-Type: image/png\r\n\r\n" + data + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  return body;
}

TEST_F(CustomsServiceTest, VerifyImages) {
  auto png = qrcode::RenderPng(CodeText("L1", "S1", acme_.key), qrcode::ImageOptions{.module_px = 4});
  ASSERT_TRUE(png.ok());
  const std::string image(png->begin(), png->end());
  const std::string boundary = "XyZzy42";
  Answer a = Post("/v1/verify/images", Multipart(boundary, {{"good.png", image}, {"junk.png", "not a png"}}),
                  "multipart/form-data; boundary=" + boundary);
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.json["images"].size(), 2u);
  EXPECT_EQ(a.json["images"][0]["image"], "good.png");
  ASSERT_EQ(a.json["images"][0]["codes"].size(), 1u);
  EXPECT_EQ(a.json["images"][0]["codes"][0]["verdict"], "genuine");
  EXPECT_EQ(a.json["images"][0]["codes"][0]["status"], "valid");
  EXPECT_EQ(a.json["images"][1]["error"]["code"], "not_an_image");
  EXPECT_EQ(a.json["summary"]["images"], 2);
  EXPECT_EQ(a.json["summary"]["image_errors"], 1);
  EXPECT_EQ(a.json["summary"]["total"], 1);

  Answer raw = Post("/v1/verify/images", image, "image/png");
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(raw.json["images"][0]["codes"][0]["verdict"], "genuine");
  EXPECT_EQ(customs_service_->codes_verified(), 2u);
}

TEST_F(CustomsServiceTest, VerifyImagesBadInput) {
  ExpectError(Post("/v1/verify/images", "hello", "text/plain"), 415, "unsupported_media_type");
  // The server's own multipart parser refuses these before any handler runs.
  ExpectError(Post("/v1/verify/images", "x", "multipart/form-data"), 400, "bad_request");
  ExpectError(Post("/v1/verify/images", "no delimiter here", "multipart/form-data; boundary=B"), 400, "bad_request");
  ExpectError(Post("/v1/verify/images", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--B--\r\n",
                   "multipart/form-data; boundary=B"),
              400, "no_images");
  ExpectError(Post("/v1/verify/images", "", "image/png"), 400, "no_images");
  ExpectError(Post("/v1/verify/images", Multipart("B", {{"1", "a"}, {"2", "b"}, {"3", "c"}, {"4", "d"}}),
                   "multipart/form-data; boundary=B"),
              413, "too_many_images");
}

TEST_F(CustomsServiceTest, EpcisRoutes) {
  Answer lot = Get(std::string("/v1/lots/") + kGtinA + "/L1/epcis");
  ASSERT_EQ(lot.status, 200) << lot.body;
  EXPECT_EQ(lot.content_type, "application/ld+json");
  EXPECT_EQ(lot.json["type"], "EPCISDocument");
  EXPECT_EQ(lot.json["schemaVersion"], "2.0");
  EXPECT_EQ(lot.json["creationDate"], "2026-11-21T00:00:00Z");
  EXPECT_EQ(lot.json["epcisBody"]["eventList"].size(), 5u);
  EXPECT_EQ(lot.json["epcisBody"]["eventList"][0]["tl:record"].get<std::string>().rfind("http://node.test/v1/records/", 0),
            0u);
  Answer shipment = Get("/v1/shipments/SH-1/epcis");
  ASSERT_EQ(shipment.status, 200) << shipment.body;
  EXPECT_EQ(shipment.content_type, "application/ld+json");
  EXPECT_EQ(shipment.json["epcisBody"]["eventList"].size(), 2u);
  ExpectError(Get("/v1/shipments/NOPE/epcis"), 404, "not_found");
  ExpectError(Get("/v1/lots/123/L1/epcis"), 400, "bad_gtin");
  ExpectError(Get(std::string("/v1/lots/") + kGtinA + "/NOPE/epcis"), 404, "not_found");
}

TEST_F(CustomsServiceTest, ReplayedRecordIsRejectedOverHttp) {
  const std::string record = Make(RecordKind::kLot, LotBody(kGtinA, "L9"), acme_);
  Answer first = Post("/v1/records", record);
  ASSERT_EQ(first.status, 200) << first.body;
  Answer again = Post("/v1/records", record);
  ExpectError(again, 409, "replay");
  // In a batch too: the replayed one is rejected, the new one accepted.
  const std::string fresh = Make(RecordKind::kLot, LotBody(kGtinA, "L10"), acme_);
  Answer batch = Post("/v1/records", "[" + record + "," + fresh + "]");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(batch.json["accepted"], 1);
  EXPECT_EQ(batch.json["results"][0]["error"]["code"], "replay");
  EXPECT_TRUE(batch.json["results"][1].contains("id"));
}

TEST_F(CustomsServiceTest, CustomsDecisionPostedAsSignedRecordLands) {
  const std::string decision =
      Make(RecordKind::kCustomsDecision, {{"shipment", "SH-1"}, {"decision", "released"}}, customs_);
  Answer posted = Post("/v1/records", decision);
  ASSERT_EQ(posted.status, 200) << posted.body;
  Answer history = Get("/v1/shipments/SH-1");
  ASSERT_EQ(history.json["history"].size(), 3u);
  EXPECT_EQ(history.json["history"][2]["kind"], "customs_decision");
  EXPECT_EQ(history.json["history"][2]["id"], posted.json["id"]);
  Answer p = Get("/v1/shipments/SH-1/provenance");
  ASSERT_EQ(p.json["customs_decisions"].size(), 1u);
  EXPECT_EQ(p.json["customs_decisions"][0]["decision"], "released");
  // A merchant may not clear shipments: 403 unauthorized, nothing lands.
  Answer refused = Post("/v1/records", Make(RecordKind::kCustomsDecision,
                                            {{"shipment", "SH-1"}, {"decision", "released"}}, acme_));
  ExpectError(refused, 403, "unauthorized");
  EXPECT_EQ(Get("/v1/shipments/SH-1").json["history"].size(), 3u);
}

}  // namespace
}  // namespace traceledger::api
