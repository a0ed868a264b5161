#include "wallet/keystore.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/encoding.h"

namespace traceledger::wallet {
namespace {

namespace fs = std::filesystem;

// Small scrypt cost so the suite stays fast; the default is exercised once.
constexpr KdfParams kFastKdf{.n = 1024, .r = 8, .p = 1};
constexpr std::string_view kPassphrase = "correct horse battery staple";

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// Position just after `"key": ` for the occurrence-th match, or npos.
size_t FindValue(const std::string& text, std::string_view key, int occurrence = 0) {
  std::string needle = "\"" + std::string(key) + "\": ";
  size_t pos = 0;
  for (int i = 0;; ++i) {
    pos = text.find(needle, pos);
    if (pos == std::string::npos) return pos;
    if (i == occurrence) return pos + needle.size();
    pos += needle.size();
  }
}

// Returns `text` with the scalar value of `key` replaced by `raw_json`. The
// files are pretty-printed, one field per line, so a scalar value ends at
// the next ',' or newline.
std::string SetValue(const std::string& text, std::string_view key, const std::string& raw_json,
                     int occurrence = 0) {
  size_t start = FindValue(text, key, occurrence);
  EXPECT_NE(start, std::string::npos) << key;
  if (start == std::string::npos) return text;
  size_t end = text.find_first_of(",\n", start);
  return text.substr(0, start) + raw_json + text.substr(end);
}

// The string value of `key`, without quotes.
std::string GetString(const std::string& text, std::string_view key, int occurrence = 0) {
  size_t start = FindValue(text, key, occurrence);
  EXPECT_NE(start, std::string::npos) << key;
  if (start == std::string::npos) return "";
  size_t end = text.find('"', start + 1);
  return text.substr(start + 1, end - start - 1);
}

// Renames `key` so that the parser no longer finds it (unknown keys are
// ignored), which removes a field without disturbing the JSON syntax.
std::string RemoveField(const std::string& text, std::string_view key, int occurrence = 0) {
  size_t value = FindValue(text, key, occurrence);
  EXPECT_NE(value, std::string::npos) << key;
  if (value == std::string::npos) return text;
  size_t quote = value - 3;  // the closing quote of the key
  return text.substr(0, quote) + "_removed" + text.substr(quote);
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// Flips the lowest bit of the first hex digit of a string field.
std::string FlipHexDigit(const std::string& text, std::string_view key, size_t digit = 0) {
  std::string value = GetString(text, key);
  std::vector<uint8_t> bytes = HexDecode(value).value();
  bytes[digit / 2] ^= (digit % 2 == 0) ? 0x10 : 0x01;
  return SetValue(text, key, Quote(HexEncode(bytes)));
}

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "traceledger-keystore-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (fs::path(dir_) / "key.json").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Saves `key_` at path_ and returns the file text.
  std::string SaveDefault() {
    auto saved = SaveKeystore(path_, key_, kPassphrase, {.kdf = kFastKdf});
    EXPECT_TRUE(saved.ok()) << (saved.ok() ? "" : saved.error().message);
    return ReadText(path_);
  }

  // Writes `text` at path_ and expects LoadKeystore to fail with `code` and a
  // message that names the path and contains `fragment`.
  void ExpectLoadError(const std::string& text, KeystoreErrorCode code, const std::string& fragment = "") {
    WriteText(path_, text);
    auto loaded = LoadKeystore(path_, kPassphrase);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().code, code) << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(path_), std::string::npos) << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(fragment), std::string::npos)
        << "message \"" << loaded.error().message << "\" lacks \"" << fragment << "\"";
  }

  std::string dir_;
  std::string path_;
  SecretKey key_ = SecretKey::Generate();
};

TEST_F(KeystoreTest, RoundTrip) {
  std::string text = SaveDefault();
  auto loaded = LoadKeystore(path_, kPassphrase);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->bytes(), key_.bytes());
  EXPECT_EQ(loaded->Public(), key_.Public());

  // The documented layout, with the clear fields readable.
  EXPECT_EQ(SetValue(text, "version", "1"), text);
  EXPECT_EQ(GetString(text, "key_id"), key_.Public().KeyId());
  EXPECT_EQ(GetString(text, "public_key"), key_.Public().Hex());
  EXPECT_EQ(GetString(text, "name", 0), "scrypt");
  EXPECT_EQ(GetString(text, "name", 1), "aes-256-gcm");
  EXPECT_NE(text.find("\"n\": 1024"), std::string::npos);
  EXPECT_NE(text.find("\"r\": 8"), std::string::npos);
  EXPECT_NE(text.find("\"p\": 1"), std::string::npos);
  EXPECT_EQ(GetString(text, "salt").size(), 32u);
  EXPECT_EQ(GetString(text, "nonce").size(), 24u);
  EXPECT_EQ(GetString(text, "ciphertext").size(), 64u);
  EXPECT_EQ(GetString(text, "tag").size(), 32u);
  // The secret never appears in clear.
  EXPECT_EQ(text.find(HexEncode(key_.bytes())), std::string::npos);
}

TEST_F(KeystoreTest, RoundTripWithDefaultKdfParams) {
  ASSERT_TRUE(SaveKeystore(path_, key_, kPassphrase).ok());
  EXPECT_NE(ReadText(path_).find("\"n\": 32768"), std::string::npos);
  auto loaded = LoadKeystore(path_, kPassphrase);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->bytes(), key_.bytes());
}

TEST_F(KeystoreTest, EmptyAndNonAsciiPassphrases) {
  for (std::string_view pass : {std::string_view(""), std::string_view("pässwörd \xF0\x9F\x94\x91")}) {
    auto saved = SaveKeystore(path_, key_, pass, {.kdf = kFastKdf, .overwrite = true});
    ASSERT_TRUE(saved.ok()) << saved.error().message;
    auto loaded = LoadKeystore(path_, pass);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->bytes(), key_.bytes());
  }
}

TEST_F(KeystoreTest, SavingTwiceUsesFreshSaltAndNonce) {
  std::string first = SaveDefault();
  ASSERT_TRUE(SaveKeystore(path_, key_, kPassphrase, {.kdf = kFastKdf, .overwrite = true}).ok());
  std::string second = ReadText(path_);
  EXPECT_NE(GetString(first, "salt"), GetString(second, "salt"));
  EXPECT_NE(GetString(first, "nonce"), GetString(second, "nonce"));
  EXPECT_NE(GetString(first, "ciphertext"), GetString(second, "ciphertext"));
}

TEST_F(KeystoreTest, FileModeIs0600AndNoTempFilesRemain) {
  SaveDefault();
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"key.json"});
}

TEST_F(KeystoreTest, WrongPassphrase) {
  SaveDefault();
  auto loaded = LoadKeystore(path_, "wrong horse battery staple");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, KeystoreErrorCode::kWrongPassphrase);
  EXPECT_NE(loaded.error().message.find(path_), std::string::npos);
  EXPECT_EQ(LoadKeystore(path_, "").error().code, KeystoreErrorCode::kWrongPassphrase);
}

TEST_F(KeystoreTest, RefusesToOverwriteUnlessAsked) {
  std::string original = SaveDefault();
  SecretKey other = SecretKey::Generate();
  auto again = SaveKeystore(path_, other, kPassphrase, {.kdf = kFastKdf});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, KeystoreErrorCode::kExists);
  EXPECT_NE(again.error().message.find(path_), std::string::npos);
  EXPECT_EQ(ReadText(path_), original);

  auto replaced = SaveKeystore(path_, other, kPassphrase, {.kdf = kFastKdf, .overwrite = true});
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  auto loaded = LoadKeystore(path_, kPassphrase);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->Public(), other.Public());
}

TEST_F(KeystoreTest, MissingFileIsNotFound) {
  auto loaded = LoadKeystore(path_, kPassphrase);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, KeystoreErrorCode::kNotFound);
  EXPECT_NE(loaded.error().message.find(path_), std::string::npos);
  auto pub = ReadKeystorePublicKey(path_);
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.error().code, KeystoreErrorCode::kNotFound);
}

TEST_F(KeystoreTest, IoErrors) {
  // Saving into a directory that does not exist.
  std::string nowhere = (fs::path(dir_) / "missing" / "key.json").string();
  auto saved = SaveKeystore(nowhere, key_, kPassphrase, {.kdf = kFastKdf});
  ASSERT_FALSE(saved.ok());
  EXPECT_EQ(saved.error().code, KeystoreErrorCode::kIo);
  // Loading a directory.
  auto loaded = LoadKeystore(dir_, kPassphrase);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, KeystoreErrorCode::kIo);
}

TEST_F(KeystoreTest, ReadPublicKeyNeedsNoPassphrase) {
  SaveDefault();
  auto pub = ReadKeystorePublicKey(path_);
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(*pub, key_.Public());
}

TEST_F(KeystoreTest, ReadPublicKeyRejectsDamage) {
  std::string text = SaveDefault();
  WriteText(path_, SetValue(text, "key_id", Quote("0000000000000000")));
  EXPECT_EQ(ReadKeystorePublicKey(path_).error().code, KeystoreErrorCode::kCorrupt);
  WriteText(path_, RemoveField(text, "public_key"));
  EXPECT_EQ(ReadKeystorePublicKey(path_).error().code, KeystoreErrorCode::kCorrupt);
  WriteText(path_, text.substr(0, text.size() / 2));
  EXPECT_EQ(ReadKeystorePublicKey(path_).error().code, KeystoreErrorCode::kCorrupt);
  WriteText(path_, SetValue(text, "version", "2"));
  EXPECT_EQ(ReadKeystorePublicKey(path_).error().code, KeystoreErrorCode::kUnsupported);
}

TEST_F(KeystoreTest, TruncatedFileIsCorrupt) {
  std::string text = SaveDefault();
  // Every strict prefix that cuts into the JSON value (the last byte is the
  // trailing newline, whose removal leaves a valid file).
  for (size_t len = 0; len + 1 < text.size(); ++len) {
    SCOPED_TRACE("length " + std::to_string(len));
    ExpectLoadError(text.substr(0, len), KeystoreErrorCode::kCorrupt);
  }
}

TEST_F(KeystoreTest, GarbageIsCorrupt) {
  ExpectLoadError("", KeystoreErrorCode::kCorrupt, "JSON");
  ExpectLoadError("not json at all", KeystoreErrorCode::kCorrupt, "JSON");
  ExpectLoadError(std::string("\x00\xff\xfe{\x01", 5), KeystoreErrorCode::kCorrupt, "JSON");
  ExpectLoadError("[1, 2, 3]", KeystoreErrorCode::kCorrupt, "object");
  ExpectLoadError("null", KeystoreErrorCode::kCorrupt, "object");
  ExpectLoadError("\"keystore\"", KeystoreErrorCode::kCorrupt, "object");
  ExpectLoadError("42", KeystoreErrorCode::kCorrupt, "object");
  ExpectLoadError("{}", KeystoreErrorCode::kCorrupt, "version");
  ExpectLoadError("{\"version\": 1}", KeystoreErrorCode::kCorrupt, "key_id");
  ExpectLoadError(std::string(100000, '{'), KeystoreErrorCode::kCorrupt, "too large");
  ExpectLoadError(std::string(10000, '['), KeystoreErrorCode::kCorrupt, "JSON");
}

TEST_F(KeystoreTest, TamperedCiphertextTagNonceOrSaltFailsAuthentication) {
  std::string text = SaveDefault();
  for (std::string_view field : {"ciphertext", "tag", "nonce", "salt"}) {
    for (size_t digit : {0, 7, 13}) {
      SCOPED_TRACE(std::string(field) + " digit " + std::to_string(digit));
      ExpectLoadError(FlipHexDigit(text, field, digit), KeystoreErrorCode::kWrongPassphrase,
                      "authentication failed");
    }
  }
}

TEST_F(KeystoreTest, AlteredClearFieldsAreDetected) {
  std::string text = SaveDefault();
  SecretKey other = SecretKey::Generate();

  // Another valid public key: no longer matches key_id.
  ExpectLoadError(SetValue(text, "public_key", Quote(other.Public().Hex())), KeystoreErrorCode::kCorrupt,
                  "key_id");
  // Another key id.
  ExpectLoadError(SetValue(text, "key_id", Quote(other.Public().KeyId())), KeystoreErrorCode::kCorrupt,
                  "key_id");
  // Both changed consistently: caught by the GCM associated data.
  std::string swapped = SetValue(SetValue(text, "public_key", Quote(other.Public().Hex())), "key_id",
                                 Quote(other.Public().KeyId()));
  ExpectLoadError(swapped, KeystoreErrorCode::kWrongPassphrase, "authentication failed");
  // Not a point on the curve (BIP-340 vector 5).
  ExpectLoadError(
      SetValue(text, "public_key", Quote("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34")),
      KeystoreErrorCode::kCorrupt, "public_key");
  // Uppercase hex is the same value and still loads.
  std::string upper = SetValue(text, "public_key", Quote([&] {
                                 std::string s = key_.Public().Hex();
                                 for (char& c : s) c = static_cast<char>(std::toupper(c));
                                 return s;
                               }()));
  WriteText(path_, upper);
  EXPECT_TRUE(LoadKeystore(path_, kPassphrase).ok());
}

TEST_F(KeystoreTest, MissingFieldsAreCorrupt) {
  std::string text = SaveDefault();
  struct Case {
    const char* key;
    int occurrence;
    const char* named;
  };
  for (const Case& c :
       {Case{"version", 0, "version"}, Case{"key_id", 0, "key_id"}, Case{"public_key", 0, "public_key"},
        Case{"kdf", 0, "kdf"}, Case{"name", 0, "kdf.name"}, Case{"n", 0, "kdf.n"}, Case{"r", 0, "kdf.r"},
        Case{"p", 0, "kdf.p"}, Case{"salt", 0, "kdf.salt"}, Case{"cipher", 0, "cipher"},
        Case{"name", 1, "cipher.name"}, Case{"nonce", 0, "cipher.nonce"},
        Case{"ciphertext", 0, "cipher.ciphertext"}, Case{"tag", 0, "cipher.tag"}}) {
    SCOPED_TRACE(c.named);
    ExpectLoadError(RemoveField(text, c.key, c.occurrence), KeystoreErrorCode::kCorrupt,
                    std::string("\"") + c.named + "\"");
  }
}

TEST_F(KeystoreTest, WrongHexLengthsAndCharactersAreCorrupt) {
  std::string text = SaveDefault();
  struct Case {
    const char* key;
    const char* named;
  };
  for (const Case& c :
       {Case{"key_id", "key_id"}, Case{"public_key", "public_key"}, Case{"salt", "kdf.salt"},
        Case{"nonce", "cipher.nonce"}, Case{"ciphertext", "cipher.ciphertext"}, Case{"tag", "cipher.tag"}}) {
    SCOPED_TRACE(c.named);
    std::string value = GetString(text, c.key);
    std::string named = std::string("\"") + c.named + "\"";
    ExpectLoadError(SetValue(text, c.key, Quote(value.substr(2))), KeystoreErrorCode::kCorrupt, named);
    ExpectLoadError(SetValue(text, c.key, Quote(value + "00")), KeystoreErrorCode::kCorrupt, named);
    ExpectLoadError(SetValue(text, c.key, Quote(value.substr(1))), KeystoreErrorCode::kCorrupt, named);
    ExpectLoadError(SetValue(text, c.key, Quote("zz" + value.substr(2))), KeystoreErrorCode::kCorrupt, named);
    ExpectLoadError(SetValue(text, c.key, "12"), KeystoreErrorCode::kCorrupt, named);
    ExpectLoadError(SetValue(text, c.key, "null"), KeystoreErrorCode::kCorrupt, named);
  }
}

TEST_F(KeystoreTest, WrongTypesAreCorrupt) {
  std::string text = SaveDefault();
  ExpectLoadError(SetValue(text, "version", "\"1\""), KeystoreErrorCode::kCorrupt, "version");
  ExpectLoadError(SetValue(text, "version", "1.0"), KeystoreErrorCode::kCorrupt, "version");
  ExpectLoadError(SetValue(text, "n", "-1024"), KeystoreErrorCode::kCorrupt, "kdf.n");
  ExpectLoadError(SetValue(text, "n", "1024.5"), KeystoreErrorCode::kCorrupt, "kdf.n");
  ExpectLoadError(SetValue(text, "r", "\"8\""), KeystoreErrorCode::kCorrupt, "kdf.r");
  ExpectLoadError(SetValue(text, "p", "true"), KeystoreErrorCode::kCorrupt, "kdf.p");
  ExpectLoadError(SetValue(text, "name", "7", 0), KeystoreErrorCode::kCorrupt, "kdf.name");
  ExpectLoadError(SetValue(text, "name", "null", 1), KeystoreErrorCode::kCorrupt, "cipher.name");
  // Whole sub-objects replaced by scalars: rename the real one and add a
  // scalar under the same key.
  std::string kdf_scalar = RemoveField(text, "kdf");
  kdf_scalar.insert(kdf_scalar.find('{') + 1, "\n  \"kdf\": \"scrypt\",");
  ExpectLoadError(kdf_scalar, KeystoreErrorCode::kCorrupt, "\"kdf\"");
  std::string cipher_array = RemoveField(text, "cipher");
  cipher_array.insert(cipher_array.find('{') + 1, "\n  \"cipher\": [],");
  ExpectLoadError(cipher_array, KeystoreErrorCode::kCorrupt, "\"cipher\"");
}

TEST_F(KeystoreTest, UnsupportedVersionKdfOrCipher) {
  std::string text = SaveDefault();
  ExpectLoadError(SetValue(text, "version", "2"), KeystoreErrorCode::kUnsupported, "version");
  ExpectLoadError(SetValue(text, "version", "0"), KeystoreErrorCode::kUnsupported, "version");
  ExpectLoadError(SetValue(text, "name", Quote("pbkdf2"), 0), KeystoreErrorCode::kUnsupported, "pbkdf2");
  ExpectLoadError(SetValue(text, "name", Quote("chacha20-poly1305"), 1), KeystoreErrorCode::kUnsupported,
                  "chacha20-poly1305");
  // Absurd or malformed scrypt parameters.
  ExpectLoadError(SetValue(text, "n", "1000"), KeystoreErrorCode::kUnsupported, "kdf.n");
  ExpectLoadError(SetValue(text, "n", "0"), KeystoreErrorCode::kUnsupported, "kdf.n");
  ExpectLoadError(SetValue(text, "n", "1"), KeystoreErrorCode::kUnsupported, "kdf.n");
  ExpectLoadError(SetValue(text, "n", "2097152"), KeystoreErrorCode::kUnsupported, "kdf.n");
  ExpectLoadError(SetValue(text, "n", "9223372036854775808"), KeystoreErrorCode::kUnsupported, "kdf.n");
  ExpectLoadError(SetValue(text, "n", "18446744073709551615"), KeystoreErrorCode::kUnsupported, "kdf.n");
  ExpectLoadError(SetValue(text, "r", "0"), KeystoreErrorCode::kUnsupported, "kdf.r");
  ExpectLoadError(SetValue(text, "p", "0"), KeystoreErrorCode::kUnsupported, "kdf.r");
  ExpectLoadError(SetValue(text, "p", "4294967297"), KeystoreErrorCode::kUnsupported, "kdf.p");
  ExpectLoadError(SetValue(text, "p", "1000"), KeystoreErrorCode::kUnsupported, "kdf.r * kdf.p");
  // 2^20 * 128 * 16 bytes = 2 GiB of scrypt memory.
  ExpectLoadError(SetValue(SetValue(text, "n", "1048576"), "r", "16"), KeystoreErrorCode::kUnsupported,
                  "GiB");
}

TEST_F(KeystoreTest, SaveRejectsBadKdfParams) {
  for (KdfParams kdf : {KdfParams{.n = 1000}, KdfParams{.n = 0}, KdfParams{.n = uint64_t{1} << 21},
                        KdfParams{.n = 1024, .r = 0}, KdfParams{.n = 1024, .p = 0},
                        KdfParams{.n = 1024, .r = 1024, .p = 2}}) {
    auto saved = SaveKeystore(path_, key_, kPassphrase, {.kdf = kdf});
    ASSERT_FALSE(saved.ok());
    EXPECT_EQ(saved.error().code, KeystoreErrorCode::kUnsupported);
    EXPECT_FALSE(fs::exists(path_));
  }
}

TEST_F(KeystoreTest, RelativePathInCurrentDirectory) {
  fs::path old_cwd = fs::current_path();
  fs::current_path(dir_);
  auto saved = SaveKeystore("relative.json", key_, kPassphrase, {.kdf = kFastKdf});
  auto loaded = LoadKeystore("relative.json", kPassphrase);
  fs::current_path(old_cwd);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->bytes(), key_.bytes());
}

}  // namespace
}  // namespace traceledger::wallet
