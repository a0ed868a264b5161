#include "api/complaint_store.h"

#include <fcntl.h>
#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "chain/hash.h"
#include "ledger/canonical_json.h"
#include "ledger/schema.h"
#include "util/encoding.h"
#include "wallet/random.h"

namespace traceledger::api {
namespace {

using ledger::Json;

constexpr size_t kKeyBytes = 32;    // AES-256
constexpr size_t kNonceBytes = 12;  // GCM's 96-bit IV
constexpr size_t kTagBytes = 16;
constexpr size_t kSaltBytes = 16;
constexpr std::string_view kKeyAad = "traceledger complaint data key v1\n";
constexpr std::string_view kContactAad = "traceledger complaint contact v1\n";

ComplaintError Invalid(std::string field, std::string message) {
  return ComplaintError{ComplaintErrorCode::kInvalid, std::move(field), std::move(message)};
}

ComplaintError FromStatus(const leveldb::Status& s, std::string_view what) {
  std::string text = s.ToString();
  ComplaintErrorCode code = ComplaintErrorCode::kIo;
  if (s.IsCorruption()) code = ComplaintErrorCode::kCorruption;
  if (s.IsIOError() && text.starts_with("IO error: lock ")) code = ComplaintErrorCode::kLocked;
  return ComplaintError{code, "", std::string(what) + ": " + text};
}

// Bytes of valid UTF-8 (no overlongs, no surrogates); control characters
// other than those `allowed` are refused.
std::optional<std::string> CheckText(std::string_view s, std::string_view allowed_controls) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 || c == 0x7f) && allowed_controls.find(static_cast<char>(c)) == std::string_view::npos) {
        return "holds a control character at byte " + std::to_string(i);
      }
      ++i;
      continue;
    }
    size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
    if (n == 0 || c > 0xf4 || i + n > s.size()) return "is not valid UTF-8 at byte " + std::to_string(i);
    uint32_t cp = c & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
    for (size_t k = 1; k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return "is not valid UTF-8 at byte " + std::to_string(i);
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
      return "is not valid UTF-8 at byte " + std::to_string(i);
    }
    i += n;
  }
  return std::nullopt;
}

bool IsPartyId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '.' || c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

// AES-256-GCM: nonce ‖ ciphertext ‖ tag.
std::string Seal(std::span<const uint8_t> key, std::string_view aad, std::string_view plaintext) {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  wallet::RandomBytes(std::span<uint8_t>(bytes, kNonceBytes));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = ctx != nullptr && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), bytes) == 1 &&
            EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const uint8_t*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx, bytes + kNonceBytes, &len, reinterpret_cast<const uint8_t*>(plaintext.data()),
                              static_cast<int>(plaintext.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, bytes + kNonceBytes + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, bytes + kNonceBytes + plaintext.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  // Encryption with a valid key cannot fail short of memory exhaustion.
  if (!ok) std::abort();
  return out;
}

// nullopt when the sealed value does not authenticate.
std::optional<std::string> Unseal(std::span<const uint8_t> key, std::string_view aad, std::string_view sealed) {
  if (sealed.size() < kNonceBytes + kTagBytes) return std::nullopt;
  const auto* bytes = reinterpret_cast<const uint8_t*>(sealed.data());
  size_t n = sealed.size() - kNonceBytes - kTagBytes;
  std::string out(n, '\0');
  std::array<uint8_t, kTagBytes> tag;
  std::memcpy(tag.data(), bytes + kNonceBytes + n, kTagBytes);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  bool ok = ctx != nullptr && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx, nullptr, nullptr, key.data(), bytes) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const uint8_t*>(aad.data()),
                              static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<uint8_t*>(out.data()), &len, bytes + kNonceBytes,
                              static_cast<int>(n)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<uint8_t*>(out.data()) + len, &len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  return out;
}

// Secret bytes wiped when they go out of scope.
struct SecretBytes {
  std::array<uint8_t, kKeyBytes + kSaltBytes> bytes{};
  ~SecretBytes() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
  std::span<const uint8_t> key() const { return std::span<const uint8_t>(bytes.data(), kKeyBytes); }
  std::span<const uint8_t> salt() const { return std::span<const uint8_t>(bytes.data() + kKeyBytes, kSaltBytes); }
};

ComplaintResult<std::array<uint8_t, kKeyBytes>> LoadOrCreateMasterKey(const std::string& path) {
  std::array<uint8_t, kKeyBytes> key{};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    // First use: 32 random bytes, 0600, written and synced before use.
    wallet::RandomBytes(key);
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      return ComplaintError{ComplaintErrorCode::kKey, "", "create " + path + ": " + std::strerror(errno)};
    }
    bool ok = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
    int saved = errno;
    ::close(fd);
    if (!ok) return ComplaintError{ComplaintErrorCode::kKey, "", "write " + path + ": " + std::strerror(saved)};
    return key;
  }
  if (fd < 0) return ComplaintError{ComplaintErrorCode::kKey, "", "open " + path + ": " + std::strerror(errno)};
  struct stat st{};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return ComplaintError{ComplaintErrorCode::kKey, "",
                          path + ": the master key is readable by others; chmod 600 it (and consider it exposed)"};
  }
  ssize_t n = ::read(fd, key.data(), key.size());
  char extra = 0;
  ssize_t more = ::read(fd, &extra, 1);
  ::close(fd);
  if (n != static_cast<ssize_t>(key.size()) || more != 0) {
    return ComplaintError{ComplaintErrorCode::kKey, "", path + ": not a 32-byte master key"};
  }
  return key;
}

Json ToJson(const Complaint& c) {
  Json j = {{"id", c.id},
            {"category", c.category},
            {"text", c.text},
            {"filed_at", c.filed_at},
            {"complaint_sha256", c.complaint_sha256}};
  if (!c.code.empty()) j["code"] = c.code;
  if (!c.merchant.empty()) j["merchant"] = c.merchant;
  if (!c.contact_sha256.empty()) j["contact_sha256"] = c.contact_sha256;
  if (c.erased_at != 0) j["erased_at"] = c.erased_at;
  return j;
}

std::optional<Complaint> FromJson(std::string_view text) {
  auto parsed = ledger::ParseStrictJson(text);
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  const Json& j = *parsed;
  try {
    Complaint c;
    c.id = j.at("id").get<std::string>();
    c.category = j.at("category").get<std::string>();
    c.text = j.at("text").get<std::string>();
    c.filed_at = j.at("filed_at").get<int64_t>();
    c.complaint_sha256 = j.at("complaint_sha256").get<std::string>();
    c.code = j.value("code", "");
    c.merchant = j.value("merchant", "");
    c.contact_sha256 = j.value("contact_sha256", "");
    c.erased_at = j.value("erased_at", int64_t{0});
    return c;
  } catch (const Json::exception&) {
    return std::nullopt;
  }
}

std::string MetaKey(std::string_view id) { return "m/" + std::string(id); }
std::string ContactKey(std::string_view id) { return "c/" + std::string(id); }

ComplaintError Errno(ComplaintErrorCode code, const std::string& what) {
  return ComplaintError{code, "", what + ": " + std::strerror(errno)};
}

// fsync of a directory, so that a create, rename or unlink in it is durable.
bool SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Writes `bytes` to `path` durably: a temporary file, fsync, rename, fsync
// of the directory.
ComplaintResult<void> WriteFileDurably(const std::string& dir, const std::string& path, std::string_view bytes) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(ComplaintErrorCode::kIo, "create " + tmp);
  bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (!ok) return Errno(ComplaintErrorCode::kIo, "write " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno(ComplaintErrorCode::kIo, "rename " + tmp);
  if (!SyncDir(dir)) return Errno(ComplaintErrorCode::kIo, "sync " + dir);
  return {};
}

ComplaintResult<std::optional<std::string>> ReadSmallFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::optional<std::string>();
  if (fd < 0) return Errno(ComplaintErrorCode::kIo, "open " + path);
  std::string out;
  char buf[256];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      errno = saved;
      return Errno(ComplaintErrorCode::kIo, "read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

}  // namespace

std::string_view ComplaintErrorCodeName(ComplaintErrorCode code) {
  switch (code) {
    case ComplaintErrorCode::kInvalid:
      return "invalid";
    case ComplaintErrorCode::kNotFound:
      return "not_found";
    case ComplaintErrorCode::kLocked:
      return "locked";
    case ComplaintErrorCode::kKey:
      return "key";
    case ComplaintErrorCode::kCorruption:
      return "corruption";
    case ComplaintErrorCode::kIo:
      return "io";
  }
  return "unknown";
}

std::optional<CodeRef> ParseCodeUri(std::string_view uri) {
  std::string_view rest;
  if (uri.starts_with("https://")) {
    rest = uri.substr(8);
  } else if (uri.starts_with("http://")) {
    rest = uri.substr(7);
  } else {
    return std::nullopt;
  }
  size_t q = rest.find_first_of("?#");
  std::string_view path = rest.substr(0, q);
  size_t at = path.find("/01/");
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  std::string_view p = path.substr(at + 4);
  auto take = [&p](std::string_view ai) -> std::optional<std::string> {
    size_t slash = p.find('/');
    std::string value(p.substr(0, slash));
    p = slash == std::string_view::npos ? std::string_view() : p.substr(slash);
    if (!ai.empty()) {
      if (!p.starts_with(ai)) return std::nullopt;
      p.remove_prefix(ai.size());
    }
    return value;
  };
  auto gtin = take("/10/");
  if (!gtin) return std::nullopt;
  auto lot = take("/21/");
  if (!lot) return std::nullopt;
  auto serial = take("");
  if (!serial || !p.empty()) return std::nullopt;
  if (!ledger::IsValidGtin14(*gtin)) return std::nullopt;
  auto cset = [](const std::string& s, size_t max) {
    if (s.empty() || s.size() > max) return false;
    for (char c : s) {
      if (c == '%' || !ledger::IsCset82(c)) return false;  // percent-encoded values are not accepted here
    }
    return true;
  };
  if (!cset(*lot, 20) || !cset(*serial, 20)) return std::nullopt;
  return CodeRef{*gtin, *lot, *serial};
}

ComplaintResult<ComplaintInput> ParseComplaintJson(std::string_view body) {
  auto parsed = ledger::ParseStrictJson(body);
  if (!parsed.ok()) return Invalid("body", "not JSON: " + parsed.error().message);
  const Json& j = *parsed;
  if (!j.is_object()) return Invalid("body", "must be a JSON object");
  ComplaintInput in;
  for (const auto& [name, value] : j.items()) {
    std::string* slot = name == "code"       ? &in.code
                        : name == "merchant" ? &in.merchant
                        : name == "category" ? &in.category
                        : name == "text"     ? &in.text
                        : name == "contact"  ? &in.contact
                                             : nullptr;
    if (slot == nullptr) {
      return Invalid(name, "unknown member; expected code, merchant, category, text, contact");
    }
    if (!value.is_string()) return Invalid(name, "must be a string");
    *slot = value.get<std::string>();
  }
  if (in.category.empty()) return Invalid("category", "required: counterfeit, quality, labelling, service or other");
  bool known = false;
  for (std::string_view c : kComplaintCategories) known = known || c == in.category;
  if (!known) {
    return Invalid("category",
                   "\"" + in.category + "\" is not one of counterfeit, quality, labelling, service, other");
  }
  if (in.text.empty()) return Invalid("text", "required: what happened");
  if (in.text.size() > kMaxComplaintText) {
    return Invalid("text", "is " + std::to_string(in.text.size()) + " bytes, at most " +
                               std::to_string(kMaxComplaintText));
  }
  if (auto bad = CheckText(in.text, "\n\t")) return Invalid("text", *bad);
  if (j.contains("contact")) {
    if (in.contact.empty()) return Invalid("contact", "is empty; omit it to file without contact");
    if (in.contact.size() > kMaxComplaintContact) {
      return Invalid("contact", "is " + std::to_string(in.contact.size()) + " bytes, at most " +
                                    std::to_string(kMaxComplaintContact));
    }
    if (auto bad = CheckText(in.contact, "")) return Invalid("contact", *bad);
  }
  if (j.contains("merchant") && !IsPartyId(in.merchant)) {
    return Invalid("merchant", "\"" + in.merchant + "\" is not a party id ([a-z0-9][a-z0-9._-]*, at most 64)");
  }
  if (j.contains("code")) {
    if (in.code.size() > 512 || !ParseCodeUri(in.code)) {
      return Invalid("code",
                     "is not a code URI (http(s)://host/01/<GTIN-14>/10/<lot>/21/<serial>, valid check digit)");
    }
  }
  if (in.code.empty() && in.merchant.empty()) {
    return Invalid("merchant", "a complaint names a code, a merchant or both");
  }
  return in;
}

std::string ComplaintDocument(const Complaint& c) {
  Json doc = {{"category", c.category}, {"filed_at", c.filed_at}, {"id", c.id}, {"text", c.text}, {"v", 1}};
  if (!c.code.empty()) doc["code"] = c.code;
  if (!c.merchant.empty()) doc["merchant"] = c.merchant;
  if (!c.contact_sha256.empty()) doc["contact_sha256"] = c.contact_sha256;
  return ledger::CanonicalJson(doc);
}

std::string ComplaintSha256Hex(const Complaint& c) { return chain::HashHex(chain::Sha256(ComplaintDocument(c))); }

bool IsComplaintId(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

struct ComplaintStore::Impl {
  ComplaintStoreOptions options;
  std::string keys_dir;  // <path>/keys: one sealed data key per file
  std::unique_ptr<leveldb::DB> db;
  std::array<uint8_t, kKeyBytes> master{};
  std::mutex write_mu;  // serializes File/Erase read-modify-writes

  ~Impl() { OPENSSL_cleanse(master.data(), master.size()); }

  leveldb::WriteOptions Write() const {
    leveldb::WriteOptions wo;
    wo.sync = options.sync;
    return wo;
  }

  ComplaintResult<std::optional<std::string>> Read(const std::string& key) const {
    std::string value;
    leveldb::Status s = db->Get(leveldb::ReadOptions(), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromStatus(s, "read " + key);
    return std::optional<std::string>(std::move(value));
  }

  std::string KeyFile(std::string_view id) const { return keys_dir + "/" + std::string(id); }

  ComplaintResult<std::optional<Complaint>> Load(std::string_view id) const {
    if (!IsComplaintId(id)) return std::optional<Complaint>();
    auto raw = Read(MetaKey(id));
    if (!raw.ok()) return raw.error();
    if (!raw->has_value()) return std::optional<Complaint>();
    auto c = FromJson(**raw);
    if (!c || c->id != id) {
      return ComplaintError{ComplaintErrorCode::kCorruption, "", "complaint " + std::string(id) + " does not decode"};
    }
    auto sealed = Read(ContactKey(id));
    if (!sealed.ok()) return sealed.error();
    c->contact_held = sealed->has_value();
    return c;
  }
};

ComplaintStore::ComplaintStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ComplaintStore::~ComplaintStore() = default;

ComplaintResult<std::unique_ptr<ComplaintStore>> ComplaintStore::Open(const ComplaintStoreOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto key = LoadOrCreateMasterKey(options.key_path);
  if (!key.ok()) return key.error();
  impl->master = *key;
  impl->keys_dir = options.path + "/keys";
  std::error_code ec;
  std::filesystem::create_directories(impl->keys_dir, ec);
  if (ec) return ComplaintError{ComplaintErrorCode::kIo, "", "create " + impl->keys_dir + ": " + ec.message()};
  ::chmod(impl->keys_dir.c_str(), 0700);
  leveldb::Options lo;
  lo.create_if_missing = true;
  lo.paranoid_checks = true;
  // Uncompressed, so that what a file holds is what was written: the
  // erasure test can look for the sealed bytes (they do not compress
  // anyway).
  lo.compression = leveldb::kNoCompression;
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(lo, options.path + "/db", &db);
  if (!s.ok()) return FromStatus(s, "open complaint store " + options.path);
  impl->db.reset(db);
  return std::unique_ptr<ComplaintStore>(new ComplaintStore(std::move(impl)));
}

ComplaintResult<Complaint> ComplaintStore::File(const ComplaintInput& input, int64_t now_s) {
  Impl& im = *impl_;
  Complaint c;
  c.code = input.code;
  c.merchant = input.merchant;
  c.category = input.category;
  c.text = input.text;
  c.filed_at = now_s;
  SecretBytes secret;
  wallet::RandomBytes(secret.bytes);
  std::string sealed_contact;
  if (!input.contact.empty()) {
    chain::Sha256Hasher h;
    h.Update(secret.salt());
    h.Update(input.contact);
    c.contact_sha256 = chain::HashHex(h.Finish());
  }
  std::lock_guard<std::mutex> lock(im.write_mu);
  for (;;) {
    c.id = wallet::RandomHex(16);
    auto existing = im.Read(MetaKey(c.id));
    if (!existing.ok()) return existing.error();
    if (!existing->has_value()) break;
  }
  c.complaint_sha256 = ComplaintSha256Hex(c);
  leveldb::WriteBatch batch;
  batch.Put(MetaKey(c.id), ledger::CanonicalJson(ToJson(c)));
  if (!input.contact.empty()) {
    // The sealed data key first: a complaint never refers to a key that
    // is not durable. A crash in between leaves an orphan key file, which
    // decrypts nothing.
    std::string aad_key = std::string(kKeyAad) + c.id;
    std::string plain_key(reinterpret_cast<const char*>(secret.bytes.data()), secret.bytes.size());
    std::string sealed_key = Seal(im.master, aad_key, plain_key);
    OPENSSL_cleanse(plain_key.data(), plain_key.size());
    auto written = WriteFileDurably(im.keys_dir, im.KeyFile(c.id), sealed_key);
    if (!written.ok()) return written.error();
    batch.Put(ContactKey(c.id), Seal(secret.key(), std::string(kContactAad) + c.id, input.contact));
    c.contact_held = true;
  }
  leveldb::Status s = im.db->Write(im.Write(), &batch);
  if (!s.ok()) return FromStatus(s, "store complaint");
  return c;
}

ComplaintResult<std::optional<Complaint>> ComplaintStore::Get(std::string_view id) const { return impl_->Load(id); }

ComplaintResult<std::vector<Complaint>> ComplaintStore::List() const {
  std::vector<std::string> ids;
  {
    std::unique_ptr<leveldb::Iterator> it(impl_->db->NewIterator(leveldb::ReadOptions()));
    for (it->Seek("m/"); it->Valid() && it->key().starts_with("m/"); it->Next()) {
      ids.push_back(it->key().ToString().substr(2));
    }
    if (!it->status().ok()) return FromStatus(it->status(), "list complaints");
  }
  std::vector<Complaint> out;
  for (const std::string& id : ids) {
    auto c = impl_->Load(id);
    if (!c.ok()) return c.error();
    if (c->has_value()) out.push_back(std::move(**c));
  }
  return out;
}

ComplaintResult<std::optional<std::string>> ComplaintStore::Contact(std::string_view id) const {
  const Impl& im = *impl_;
  auto c = im.Load(id);
  if (!c.ok()) return c.error();
  if (!c->has_value()) {
    return ComplaintError{ComplaintErrorCode::kNotFound, "id", "no complaint " + std::string(id)};
  }
  auto wrapped = ReadSmallFile(im.KeyFile(id));
  if (!wrapped.ok()) return wrapped.error();
  auto sealed = im.Read(ContactKey(id));
  if (!sealed.ok()) return sealed.error();
  if (!wrapped->has_value() || !sealed->has_value()) return std::optional<std::string>();
  auto plain_key = Unseal(im.master, std::string(kKeyAad) + std::string(id), **wrapped);
  if (!plain_key || plain_key->size() != kKeyBytes + kSaltBytes) {
    return ComplaintError{ComplaintErrorCode::kCorruption, "",
                          "the data key of complaint " + std::string(id) +
                              " does not authenticate under this master key"};
  }
  SecretBytes secret;
  std::memcpy(secret.bytes.data(), plain_key->data(), secret.bytes.size());
  OPENSSL_cleanse(plain_key->data(), plain_key->size());
  auto contact = Unseal(secret.key(), std::string(kContactAad) + std::string(id), **sealed);
  if (!contact) {
    return ComplaintError{ComplaintErrorCode::kCorruption, "",
                          "the contact of complaint " + std::string(id) + " does not authenticate"};
  }
  return std::optional<std::string>(std::move(*contact));
}

ComplaintResult<bool> ComplaintStore::Erase(std::string_view id, int64_t now_s) {
  Impl& im = *impl_;
  std::lock_guard<std::mutex> lock(im.write_mu);
  auto c = im.Load(id);
  if (!c.ok()) return c.error();
  if (!c->has_value()) {
    return ComplaintError{ComplaintErrorCode::kNotFound, "id", "no complaint " + std::string(id)};
  }
  const std::string key_file = im.KeyFile(id);
  const bool key_held = std::filesystem::exists(key_file);
  if (!key_held && !(*c)->contact_held) return false;
  Complaint updated = **c;
  if (updated.erased_at == 0) updated.erased_at = now_s;
  // Flush what the memtable holds (the sealed contact, when it is recent)
  // to a table first: the deletion below then lands in a newer table
  // above it, and the compaction after it merges the two and drops the
  // value. (A memtable flushed with both the value and its deletion keeps
  // both in one table, which a manual compaction of the bottom level
  // never rewrites.)
  im.db->CompactRange(nullptr, nullptr);
  leveldb::WriteBatch batch;
  batch.Delete(ContactKey(id));
  batch.Put(MetaKey(id), ledger::CanonicalJson(ToJson(updated)));
  leveldb::WriteOptions wo;
  wo.sync = true;  // an erasure is acknowledged only once durable
  leveldb::Status s = im.db->Write(wo, &batch);
  if (!s.ok()) return FromStatus(s, "erase complaint contact");
  if (key_held) {
    // The shredding proper: overwrite the sealed data key in place, sync,
    // unlink, sync the directory. A deleted LevelDB value would linger in
    // older tables until some compaction; a file of its own is gone for
    // good once unlinked, and without it the ciphertext is noise.
    int fd = ::open(key_file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      std::string zeros(kNonceBytes + kKeyBytes + kSaltBytes + kTagBytes, '\0');
      bool ok = ::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) && ::fsync(fd) == 0;
      ::close(fd);
      if (!ok) return Errno(ComplaintErrorCode::kIo, "overwrite " + key_file);
    }
    if (::unlink(key_file.c_str()) != 0 && errno != ENOENT) return Errno(ComplaintErrorCode::kIo, "unlink " + key_file);
    if (!SyncDir(im.keys_dir)) return Errno(ComplaintErrorCode::kIo, "sync " + im.keys_dir);
  }
  // The ciphertext too: this compaction merges the deletion with the
  // table holding the value and drops both.
  im.db->CompactRange(nullptr, nullptr);
  return true;
}

}  // namespace traceledger::api
