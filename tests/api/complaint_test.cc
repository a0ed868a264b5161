// Complaints (api/complaint_store.h, api/complaint_service.h): the contact
// is never stored in clear; erasure shreds the sealed data key and contact
// from every file of the store while the complaint and its hash stay; bad
// input gets a specific 4xx; the status follows the regulator's
// credit_event on the ledger. Real LevelDB on disk, real server on
// loopback.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "api/complaint_service.h"
#include "api/complaint_store.h"
#include "chain/hash.h"
#include "ledger/audit.h"
#include "ledger/credit.h"
#include "tests/util/temp_files.h"
#include "tests/api/http_answer.h"
#include "tests/ledger/fixture.h"
#include "tests/temp_dir.h"

namespace traceledger::api {
namespace {

using ledger::Json;
using ledger::RecordKind;
using traceledger::testing::TempDir;
using traceledger::testing::ReadAll;

constexpr const char* kContact = "Li Wei, +86 138 0013 8000, liwei@example.cn";

// True when any file under `dir` holds `needle`.
bool AnyFileHolds(const std::string& dir, std::string_view needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && ReadAll(e.path()).find(needle) != std::string::npos) return true;
  }
  return false;
}

// The value LevelDB's write-ahead log holds for `key` (a WriteBatch Put:
// key, a one-byte varint length, the value); "" when not found.
std::string LoggedValue(const std::string& dir, const std::string& key) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".log") continue;
    std::string bytes = ReadAll(e.path());
    size_t at = bytes.find(key);
    if (at == std::string::npos || at + key.size() >= bytes.size()) continue;
    auto len = static_cast<unsigned char>(bytes[at + key.size()]);
    if (len >= 0x80) continue;
    return bytes.substr(at + key.size() + 1, len);
  }
  return "";
}

ComplaintInput Input() {
  return ComplaintInput{.code = "",
                        .merchant = "acme",
                        .category = "counterfeit",
                        .text = "The seal was broken and the tea smells wrong.",
                        .contact = kContact};
}

class ComplaintStoreTest : public ::testing::Test {
 protected:
  ComplaintStoreOptions Options() {
    return ComplaintStoreOptions{.path = dir_.Sub("complaints"), .key_path = dir_.Sub("complaints.key")};
  }
  std::unique_ptr<ComplaintStore> Open() {
    auto s = ComplaintStore::Open(Options());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(s).value() : nullptr;
  }
  TempDir dir_;
};

TEST_F(ComplaintStoreTest, ContactIsEncryptedAtRestAndTheKeyFileIs0600) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto filed = store->File(Input(), 1795219200);
  ASSERT_TRUE(filed.ok()) << filed.error().message;
  EXPECT_TRUE(IsComplaintId(filed->id));
  EXPECT_EQ(filed->complaint_sha256, ComplaintSha256Hex(*filed));
  EXPECT_EQ(filed->contact_sha256.size(), 64u);
  EXPECT_EQ(ComplaintDocument(*filed).find(kContact), std::string::npos);
  struct stat st{};
  ASSERT_EQ(::stat(Options().key_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  // The sealed contact is in the log; the contact itself in no file.
  EXPECT_NE(LoggedValue(Options().path + "/db", "c/" + filed->id), "");
  EXPECT_FALSE(AnyFileHolds(dir_.path(), kContact));
  EXPECT_FALSE(AnyFileHolds(dir_.path(), "liwei@example.cn"));
  auto contact = store->Contact(filed->id);
  ASSERT_TRUE(contact.ok()) << contact.error().message;
  EXPECT_EQ(contact->value_or(""), kContact);
  // After a reopen (the master key read back) it still decrypts.
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  contact = store->Contact(filed->id);
  ASSERT_TRUE(contact.ok()) << contact.error().message;
  EXPECT_EQ(contact->value_or(""), kContact);
}

TEST_F(ComplaintStoreTest, EraseShredsKeyAndContactFromEveryFileButKeepsTheComplaintAndItsHash) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto filed = store->File(Input(), 1795219200);
  ASSERT_TRUE(filed.ok());
  const std::string sealed_contact = LoggedValue(Options().path + "/db", "c/" + filed->id);
  const std::string key_file = Options().path + "/keys/" + filed->id;
  const std::string sealed_key = ReadAll(key_file);
  ASSERT_GT(sealed_contact.size(), 28u);
  ASSERT_EQ(sealed_key.size(), 12u + 48u + 16u);
  ASSERT_TRUE(AnyFileHolds(Options().path, sealed_contact));
  ASSERT_TRUE(AnyFileHolds(Options().path, sealed_key));

  auto erased = store->Erase(filed->id, 1795305600);
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_TRUE(*erased);
  EXPECT_FALSE(std::filesystem::exists(key_file));
  EXPECT_FALSE(AnyFileHolds(dir_.path(), sealed_key)) << "the sealed data key survives in a file";
  EXPECT_FALSE(AnyFileHolds(Options().path, sealed_contact)) << "compaction kept the sealed contact";
  auto contact = store->Contact(filed->id);
  ASSERT_TRUE(contact.ok());
  EXPECT_FALSE(contact->has_value());
  auto after = store->Get(filed->id);
  ASSERT_TRUE(after.ok());
  ASSERT_TRUE(after->has_value());
  EXPECT_EQ((*after)->complaint_sha256, filed->complaint_sha256);
  EXPECT_EQ(ComplaintSha256Hex(**after), filed->complaint_sha256) << "the hash still verifies";
  EXPECT_EQ((*after)->contact_sha256, filed->contact_sha256);
  EXPECT_FALSE((*after)->contact_held);
  EXPECT_EQ((*after)->erased_at, 1795305600);
  // Again: nothing left; unknown: kNotFound.
  auto again = store->Erase(filed->id, 1795305601);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto unknown = store->Erase(std::string(32, 'a'), 1);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ComplaintErrorCode::kNotFound);
  // Still gone after a reopen.
  store.reset();
  store = Open();
  ASSERT_NE(store, nullptr);
  contact = store->Contact(filed->id);
  ASSERT_TRUE(contact.ok());
  EXPECT_FALSE(contact->has_value());
  EXPECT_FALSE(AnyFileHolds(dir_.path(), sealed_key));
}

TEST_F(ComplaintStoreTest, AnotherMasterKeyCannotDecryptAndAnOpenKeyFileIsRefused) {
  {
    auto store = Open();
    ASSERT_NE(store, nullptr);
    auto filed = store->File(Input(), 1795219200);
    ASSERT_TRUE(filed.ok());
    auto list = store->List();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 1u);
    store.reset();
    std::filesystem::remove(Options().key_path);
    store = Open();  // a new master key
    ASSERT_NE(store, nullptr);
    auto contact = store->Contact(filed->id);
    ASSERT_FALSE(contact.ok());
    EXPECT_EQ(contact.error().code, ComplaintErrorCode::kCorruption);
  }
  ::chmod(Options().key_path.c_str(), 0644);
  auto opened = ComplaintStore::Open(Options());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ComplaintErrorCode::kKey);
  ::chmod(Options().key_path.c_str(), 0600);
  { std::ofstream(Options().key_path, std::ios::app) << "x"; }
  opened = ComplaintStore::Open(Options());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ComplaintErrorCode::kKey);
}

TEST(ComplaintDocumentTest, CanonicalBytes) {
  Complaint c{.id = "00112233445566778899aabbccddeeff",
              .code = "",
              .merchant = "acme",
              .category = "quality",
              .text = "Broken seal",
              .filed_at = 1795219200,
              .contact_sha256 = ""};
  EXPECT_EQ(ComplaintDocument(c),
            R"({"category":"quality","filed_at":1795219200,"id":"00112233445566778899aabbccddeeff",)"
            R"("merchant":"acme","text":"Broken seal","v":1})");
  // The known answer of docs/FORMAT.md (complaint document), computed
  // independently (Python: json.dumps(sort_keys=True,
  // separators=(",", ":")) and hashlib.sha256).
  EXPECT_EQ(ComplaintSha256Hex(c), "cd64bb54a56c17fe0723ad39dcd1559cba4dc32621f6435858177e0a8b2b7041");
  c.code = "https://id.example/01/09501101530003/10/L1/21/S1";
  c.contact_sha256 = "61103502ab1af0ff9af10808db89753ab5dfd691affca3c1050e1b318f460eb3";
  EXPECT_EQ(ComplaintSha256Hex(c), "15b81d8bf6aa792d2747433925be11624e2f814fd3f577c3955de91a3498230b");
}

TEST(ComplaintParseTest, EachFieldHasASpecificError) {
  auto field_of = [](const std::string& body) {
    auto r = ParseComplaintJson(body);
    EXPECT_FALSE(r.ok()) << body;
    return r.ok() ? std::string("accepted") : r.error().field;
  };
  EXPECT_EQ(field_of("not json"), "body");
  EXPECT_EQ(field_of("[]"), "body");
  EXPECT_EQ(field_of(R"({"merchant":"acme","text":"x"})"), "category");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"awful","text":"x"})"), "category");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"other"})"), "text");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"other","text":""})"), "text");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"other","text":")" + std::string(4001, 'a') + "\"}"), "text");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"other","text":"a\u0001b"})"), "text");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"other","text":"x","contact":""})"), "contact");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"other","text":"x","contact":")" + std::string(257, 'a') +
                     "\"}"),
            "contact");
  EXPECT_EQ(field_of(R"({"merchant":"Acme!","category":"other","text":"x"})"), "merchant");
  EXPECT_EQ(field_of(R"({"merchant":7,"category":"other","text":"x"})"), "merchant");
  EXPECT_EQ(field_of(R"({"category":"other","text":"x"})"), "merchant");
  EXPECT_EQ(field_of(R"({"code":"https://x/01/09501101530004/10/L1/21/S1","category":"other","text":"x"})"),
            "code");  // bad check digit
  EXPECT_EQ(field_of(R"({"code":"ftp://x/01/09501101530003/10/L1/21/S1","category":"other","text":"x"})"), "code");
  EXPECT_EQ(field_of(R"({"merchant":"acme","category":"other","text":"x","phone":"1"})"), "phone");
  auto ok = ParseComplaintJson(
      R"({"code":"https://id.example/01/09501101530003/10/L1/21/S1?91=K&92=S","category":"other","text":"x\nfine\t"})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  auto ref = ParseCodeUri(ok->code);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(ref->gtin, "09501101530003");
  EXPECT_EQ(ref->lot, "L1");
  EXPECT_EQ(ref->serial, "S1");
}

// The HTTP routes over a real ledger and store.
class ComplaintServiceTest : public ledger::testing::LedgerFixture {
 protected:
  void SetUp() override {
    LedgerFixture::SetUp();
    merchant_ = Register("acme", {"merchant"});
    regulator_ = Register("samr", {"regulator"});
    auto store = ComplaintStore::Open(
        ComplaintStoreOptions{.path = dir_.Sub("complaints"), .key_path = dir_.Sub("complaints.key")});
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    service_ = std::make_unique<ComplaintService>(*store_, *ledger_,
                                                  ComplaintServiceOptions{.now_s = [] { return int64_t{1795219200}; }});
    server_ = std::make_unique<HttpServer>(ServerOptions{});
    service_->Register(*server_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.error();
    client_ = std::make_unique<HttpClient>("http://127.0.0.1:" + std::to_string(*port));
  }
  void TearDown() override { server_->Stop(); }

  using Answer = traceledger::testing::Answer;
  Answer Post(const std::string& body, const std::string& type = "application/json") {
    return Parse(client_->Post("/v1/complaints", body, type));
  }
  Answer Get(const std::string& target) { return Parse(client_->Get(target)); }
  static Answer Parse(const Result<HttpResponse, HttpError>& r) { return traceledger::testing::ToAnswer(r); }
  static std::string Code(const Answer& a) { return a.ErrorCode(); }
  static std::string Field(const Answer& a) { return a.ErrorField(); }

  TempDir dir_;
  std::optional<ledger::testing::Actor> merchant_, regulator_;
  std::unique_ptr<ComplaintStore> store_;
  std::unique_ptr<ComplaintService> service_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(ComplaintServiceTest, FiledThenShownWithoutContactThenDecidedOnTheLedger) {
  Answer filed = Post(R"({"merchant":"acme","category":"counterfeit","text":"Fake seal","contact":"me@example.cn"})");
  ASSERT_EQ(filed.status, 202) << filed.json.dump();
  EXPECT_EQ(filed.json["status"], "received");
  const std::string id = filed.json["complaint"];
  const std::string hash = filed.json["complaint_sha256"];
  Answer shown = Get("/v1/complaints/" + id);
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.json["status"], "received");
  EXPECT_EQ(shown.json["merchant"], "acme");
  EXPECT_EQ(shown.json["category"], "counterfeit");
  EXPECT_EQ(shown.json["complaint_sha256"], hash);
  EXPECT_EQ(shown.json["filed_at"], 1795219200);
  EXPECT_TRUE(shown.json["code"].is_null());
  EXPECT_EQ(shown.json.dump().find("me@example.cn"), std::string::npos);
  EXPECT_FALSE(shown.json.contains("text"));
  EXPECT_FALSE(shown.json.contains("contact_sha256"));

  auto decided = Submit(RecordKind::kCreditEvent,
                        {{"merchant", "acme"},
                         {"event", "complaint_upheld"},
                         {"reason", "counterfeit confirmed"},
                         {"act_end_date", "2026-11-20"},
                         {"reference", id}},
                        *regulator_);
  ASSERT_TRUE(decided.ok()) << decided.error().ToString();
  shown = Get("/v1/complaints/" + id);
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.json["status"], "upheld");
  EXPECT_EQ(shown.json["decision"]["record"], chain::HashHex(decided->id));
  EXPECT_EQ(service_->Status(std::string(32, '0')), "received");
}

// Issue 6: a consumer files a complaint, a regulator upholds it with its
// hash, the complainant asks to be forgotten. After the erasure the
// contact is gone from every file, the ledger still audits, and the upheld
// complaint still counts in the merchant's grade, exactly as before.
TEST_F(ComplaintServiceTest, ErasedContactLeavesTheLedgerVerifiableAndTheComplaintCounting) {
  Answer filed =
      Post(R"({"merchant":"acme","category":"quality","text":"Mouldy tea","contact":"+86 138 0013 8000"})");
  ASSERT_EQ(filed.status, 202) << filed.json.dump();
  const std::string id = filed.json["complaint"];
  const std::string hash = filed.json["complaint_sha256"];
  auto upheld = Submit(RecordKind::kCreditEvent,
                       {{"merchant", "acme"},
                        {"event", "complaint_upheld"},
                        {"reason", "mould confirmed by inspection"},
                        {"act_end_date", "2026-11-20"},
                        {"reference", id},
                        {"complaint_sha256", hash}},
                       *regulator_);
  ASSERT_TRUE(upheld.ok()) << upheld.error().ToString();
  const std::string record = chain::HashHex(upheld->id);

  auto evaluate = [&] {
    ledger::CreditBook book;  // a fresh book each time: evaluation from the ledger alone
    auto caught = book.CatchUp(*ledger_);
    EXPECT_TRUE(caught.ok());
    return book.Evaluate("acme");
  };
  auto counted = [&](const std::optional<ledger::CreditEvaluation>& e) {
    if (!e) return false;
    for (const auto& c : e->contributions) {
      if (c.record == record) return c.counted && c.points < 0;
    }
    return false;
  };
  const auto before = evaluate();
  ASSERT_TRUE(counted(before)) << "the upheld complaint does not count against the merchant";
  EXPECT_FALSE(AnyFileHolds(dir_.Sub("complaints"), "138 0013 8000"));  // encrypted at rest

  auto contact = store_->Contact(id);
  ASSERT_TRUE(contact.ok()) << contact.error().message;
  EXPECT_EQ(*contact, std::optional<std::string>("+86 138 0013 8000"));
  auto erased = store_->Erase(id, 1795219300);
  ASSERT_TRUE(erased.ok()) << erased.error().message;
  EXPECT_TRUE(*erased);
  contact = store_->Contact(id);
  ASSERT_TRUE(contact.ok()) << contact.error().message;
  EXPECT_EQ(*contact, std::nullopt);

  const ledger::AuditReport audit = ledger::Audit(ledger_->store());
  EXPECT_TRUE(audit.ok) << audit.reason;
  const auto after = evaluate();
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(counted(after));
  EXPECT_EQ(*after, *before);
  Answer shown = Get("/v1/complaints/" + id);
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.json["status"], "upheld");
  EXPECT_EQ(shown.json["complaint_sha256"], hash);
}

TEST_F(ComplaintServiceTest, BadInputGetsASpecific4xxAndStoresNothing) {
  struct Case {
    std::string body;
    int status;
    std::string code, field;
  };
  const Case cases[] = {
      {"{", 400, "invalid_complaint", "body"},
      {R"({"merchant":"acme","category":"rude","text":"x"})", 400, "invalid_complaint", "category"},
      {R"({"merchant":"acme","category":"other"})", 400, "invalid_complaint", "text"},
      {R"({"merchant":"acme","category":"other","text":"x","contact":""})", 400, "invalid_complaint", "contact"},
      {R"({"category":"other","text":"x"})", 400, "invalid_complaint", "merchant"},
      {R"({"merchant":"ghost","category":"other","text":"x"})", 422, "unknown_merchant", "merchant"},
      {R"({"code":"https://id.example/01/09501101530003/10/L1/21/NOPE","category":"other","text":"x"})", 422,
       "unknown_code", "code"},
      {R"({"code":"https://id.example/02/x","category":"other","text":"x"})", 400, "invalid_complaint", "code"},
  };
  for (const Case& c : cases) {
    Answer a = Post(c.body);
    EXPECT_EQ(a.status, c.status) << c.body << " -> " << a.json.dump();
    EXPECT_EQ(Code(a), c.code) << c.body;
    EXPECT_EQ(Field(a), c.field) << c.body;
  }
  Answer wrong_type = Post(R"({"merchant":"acme","category":"other","text":"x"})", "text/plain");
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(Code(wrong_type), "unsupported_media_type");
  Answer big = Post(R"({"merchant":"acme","category":"other","text":")" + std::string(20'000, 'a') + "\"}");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Code(big), "body_too_large");
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty()) << "a refused complaint stored something";

  Answer bad_id = Get("/v1/complaints/not-an-id");
  EXPECT_EQ(bad_id.status, 400);
  EXPECT_EQ(Code(bad_id), "bad_request");
  Answer unknown = Get("/v1/complaints/" + std::string(32, 'a'));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Code(unknown), "not_found");
}

}  // namespace
}  // namespace traceledger::api
