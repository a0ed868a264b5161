// Consumer complaints, kept off the ledger in their own LevelDB
// (<data>/complaints) with the complainant's contact encrypted at rest.
//
// Each complaint gets a fresh random 256-bit data key. The contact is
// sealed with AES-256-GCM under that data key; the data key (with the salt
// of the contact's hash) is itself sealed under the node's master key
// (<data>/complaints.key, 32 random bytes, created 0600 on first use). The
// store directory (<data>/complaints) holds two keyspaces:
//   db/          LevelDB:  m/<id>  the complaint (non-personal fields,
//                                  contact_sha256, complaint_sha256)
//                          c/<id>  the sealed contact
//   keys/<id>    one file per sealed data key (and salt)
// Erase(id) deletes c/<id>, overwrites, syncs and unlinks keys/<id>
// (crypto-shredding: without the data key the contact cannot be recovered,
// even with the master key and every old table file), and compacts the
// LevelDB; m/<id> and its complaint_sha256 — which a regulator's
// credit_event cites on the ledger — stay. The data keys live in files of
// their own because LevelDB keeps a deleted value in older tables until a
// compaction happens to rewrite them. docs/FORMAT.md has the byte layout
// and the hashed document.
//
// Thread-safe. Validation of untrusted input is a pure function
// (ValidateComplaint) returning the field and the reason.
#ifndef TRACELEDGER_API_COMPLAINT_STORE_H_
#define TRACELEDGER_API_COMPLAINT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace traceledger::api {

enum class ComplaintErrorCode {
  kInvalid,     // bad input (field names which)
  kNotFound,    // no complaint with that id
  kLocked,      // the store is open in another process (traced)
  kKey,         // master key missing, unreadable, wrong size or too open
  kCorruption,  // a stored value does not decode or does not authenticate
  kIo,          // the store failed
};

struct ComplaintError {
  ComplaintErrorCode code;
  std::string field;  // for kInvalid: "category", "text", ...
  std::string message;
};

template <typename T>
using ComplaintResult = Result<T, ComplaintError>;

std::string_view ComplaintErrorCodeName(ComplaintErrorCode code);

// The categories a complaint may have.
inline constexpr std::string_view kComplaintCategories[] = {"counterfeit", "quality", "labelling", "service",
                                                            "other"};
inline constexpr size_t kMaxComplaintText = 4000;    // bytes of UTF-8
inline constexpr size_t kMaxComplaintContact = 256;  // bytes of UTF-8

// What a consumer submits (POST /v1/complaints). Optional members are ""
// when absent.
struct ComplaintInput {
  std::string code;      // the full code URI the complaint is about
  std::string merchant;  // party id
  std::string category;
  std::string text;
  std::string contact;
};

// Parses and checks the JSON body: an object with only the members
// code, merchant, category, text, contact (strings); category one of
// kComplaintCategories; text 1..4000 bytes of UTF-8 without control
// characters other than \n and \t; contact 1..256 bytes without control
// characters; merchant a party id ([a-z0-9][a-z0-9._-]*, ≤ 64); code an
// http(s) GS1 Digital Link URI with /01/<14 digits>/10/<lot>/21/<serial>;
// at least one of code and merchant. Errors are kInvalid naming the field.
[[nodiscard]] ComplaintResult<ComplaintInput> ParseComplaintJson(std::string_view body);

// The GTIN and serial of a code URI ParseComplaintJson accepted.
struct CodeRef {
  std::string gtin;
  std::string lot;
  std::string serial;
};
std::optional<CodeRef> ParseCodeUri(std::string_view uri);

struct Complaint {
  std::string id;  // 32 lowercase hex digits (16 random bytes)
  std::string code;
  std::string merchant;
  std::string category;
  std::string text;
  int64_t filed_at = 0;        // Unix seconds
  std::string contact_sha256;  // hex SHA-256(salt ‖ contact); "" when none was given
  std::string complaint_sha256;
  bool contact_held = false;  // the sealed contact is still stored
  int64_t erased_at = 0;      // Unix seconds of Erase; 0: never erased
};

// The canonical JSON document complaint_sha256 is the SHA-256 of
// (FORMAT.md): {"category","code"?,"contact_sha256"?,"filed_at","id",
// "merchant"?,"text","v":1}, absent optional members omitted.
std::string ComplaintDocument(const Complaint& complaint);
std::string ComplaintSha256Hex(const Complaint& complaint);

bool IsComplaintId(std::string_view id);

struct ComplaintStoreOptions {
  std::string path;      // the store's directory (db/ and keys/), created when absent
  std::string key_path;  // master key file, created 0600 when absent
  bool sync = true;      // fsync every write (a 202 is durable)
};

class ComplaintStore {
 public:
  // Opens (creating) the store and the master key. kLocked when another
  // process holds the store; kKey when the key file is not 32 bytes or is
  // readable by group or others.
  [[nodiscard]] static ComplaintResult<std::unique_ptr<ComplaintStore>> Open(const ComplaintStoreOptions& options);
  ~ComplaintStore();
  ComplaintStore(const ComplaintStore&) = delete;
  ComplaintStore& operator=(const ComplaintStore&) = delete;

  // Stores a validated complaint filed at `now_s`; returns it with its new
  // id and hashes.
  [[nodiscard]] ComplaintResult<Complaint> File(const ComplaintInput& input, int64_t now_s);
  // nullopt when there is no such complaint (or `id` is not an id).
  [[nodiscard]] ComplaintResult<std::optional<Complaint>> Get(std::string_view id) const;
  // Every complaint in id order.
  [[nodiscard]] ComplaintResult<std::vector<Complaint>> List() const;
  // The decrypted contact; nullopt when none was given or it was erased;
  // kNotFound for an unknown id; kCorruption when it does not authenticate.
  [[nodiscard]] ComplaintResult<std::optional<std::string>> Contact(std::string_view id) const;
  // Crypto-shreds the contact (see the header comment). Returns true when
  // something was erased, false when there was nothing left to erase;
  // kNotFound for an unknown id.
  [[nodiscard]] ComplaintResult<bool> Erase(std::string_view id, int64_t now_s);

 private:
  struct Impl;
  explicit ComplaintStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_COMPLAINT_STORE_H_
