#include "wallet/key.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "util/encoding.h"

namespace traceledger::wallet {
namespace {

// One row of the BIP-340 reference test vectors (bitcoin/bips,
// bip-0340/test-vectors.csv).
struct Bip340Vector {
  int index = -1;
  std::string secret_key;  // hex; empty for verification-only rows
  std::string public_key;
  std::string aux_rand;
  std::string message;  // hex; may be empty
  std::string signature;
  bool expected = false;
  std::string comment;
};

void PrintTo(const Bip340Vector& v, std::ostream* os) {
  *os << "BIP-340 vector " << v.index << " (" << v.comment << ")";
}

std::string VectorsPath() { return std::string(TRACELEDGER_TEST_DATA) + "/bip340-test-vectors.csv"; }

// Splits on commas into exactly `fields` fields; the last one keeps any
// further commas (the free-text comment column).
std::vector<std::string> SplitCsv(const std::string& line, size_t fields) {
  std::vector<std::string> out;
  size_t start = 0;
  while (out.size() + 1 < fields) {
    size_t comma = line.find(',', start);
    if (comma == std::string::npos) break;
    out.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
  out.push_back(line.substr(start));
  return out;
}

// Returns every data row of the CSV, or an empty vector if the file cannot be
// read or a row is malformed (LoadsAllRows reports that as a failure).
std::vector<Bip340Vector> LoadVectors() {
  std::ifstream in(VectorsPath());
  std::vector<Bip340Vector> rows;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> f = SplitCsv(line, 8);
    if (f.size() != 8 || (f[6] != "TRUE" && f[6] != "FALSE")) return {};
    Bip340Vector v;
    v.index = std::stoi(f[0]);
    v.secret_key = f[1];
    v.public_key = f[2];
    v.aux_rand = f[3];
    v.message = f[4];
    v.signature = f[5];
    v.expected = f[6] == "TRUE";
    v.comment = f[7];
    rows.push_back(std::move(v));
  }
  return rows;
}

std::vector<uint8_t> Hex(const std::string& hex) {
  std::optional<std::vector<uint8_t>> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.has_value()) << "bad hex in test data: " << hex;
  return bytes.value_or(std::vector<uint8_t>{});
}

template <size_t N>
std::array<uint8_t, N> HexArray(const std::string& hex) {
  std::vector<uint8_t> v = Hex(hex);
  std::array<uint8_t, N> out{};
  EXPECT_EQ(v.size(), N) << hex;
  std::copy_n(v.begin(), std::min(N, v.size()), out.begin());
  return out;
}

std::vector<uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(Bip340VectorsFile, LoadsAllRows) {
  std::vector<Bip340Vector> rows = LoadVectors();
  ASSERT_GE(rows.size(), 15u) << "cannot read or parse " << VectorsPath();
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].index, static_cast<int>(i));
}

class Bip340VectorTest : public ::testing::TestWithParam<Bip340Vector> {};

TEST_P(Bip340VectorTest, MatchesReference) {
  const Bip340Vector& v = GetParam();
  SCOPED_TRACE("vector " + std::to_string(v.index) + ": " + v.comment);
  std::vector<uint8_t> msg = Hex(v.message);
  std::vector<uint8_t> sig = Hex(v.signature);

  std::optional<PublicKey> pub = PublicKey::Parse(Hex(v.public_key));
  if (!pub) {
    // Only vectors that are meant to fail may carry an unparseable key.
    EXPECT_FALSE(v.expected) << "public key rejected by Parse";
  } else {
    EXPECT_EQ(pub->Verify(msg, sig), v.expected);
    EXPECT_EQ(PublicKey::FromHex(v.public_key), pub);
  }

  if (!v.secret_key.empty()) {
    std::optional<SecretKey> sk = SecretKey::FromBytes(Hex(v.secret_key));
    ASSERT_TRUE(sk.has_value());
    ASSERT_TRUE(pub.has_value());
    EXPECT_EQ(sk->Public(), *pub);
    std::array<uint8_t, 32> aux = HexArray<32>(v.aux_rand);
    Signature produced = sk->Sign(msg, &aux);
    EXPECT_EQ(HexEncode(produced), HexEncode(sig));
    EXPECT_TRUE(pub->Verify(msg, produced));
  }
}

INSTANTIATE_TEST_SUITE_P(Bip340, Bip340VectorTest, ::testing::ValuesIn(LoadVectors()),
                         [](const ::testing::TestParamInfo<Bip340Vector>& param_info) {
                           return "Vector" + std::to_string(param_info.param.index);
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Bip340VectorTest);  // LoadsAllRows reports it

TEST(PublicKeyTest, RejectsInvalidEncodings) {
  // BIP-340 vector 5: x is not on the curve.
  EXPECT_FALSE(PublicKey::FromHex("EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34"));
  // BIP-340 vector 14: x exceeds the field size p.
  EXPECT_FALSE(PublicKey::FromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30"));
  // Wrong lengths and non-hex.
  EXPECT_FALSE(PublicKey::Parse(std::vector<uint8_t>(31, 1)));
  EXPECT_FALSE(PublicKey::Parse(std::vector<uint8_t>(33, 1)));
  EXPECT_FALSE(PublicKey::Parse({}));
  EXPECT_FALSE(PublicKey::FromHex(""));
  EXPECT_FALSE(PublicKey::FromHex("F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F"));
  EXPECT_FALSE(PublicKey::FromHex("G9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9"));
  // A valid one, in both cases, round-trips through Hex() in lowercase.
  auto pk = PublicKey::FromHex("F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9");
  ASSERT_TRUE(pk);
  EXPECT_EQ(pk->Hex(), "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
  EXPECT_EQ(PublicKey::FromHex(pk->Hex()), pk);
}

TEST(PublicKeyTest, VerifyRejectsWrongSignatureLength) {
  SecretKey sk = SecretKey::Generate();
  std::vector<uint8_t> msg = Bytes("hello");
  Signature sig = sk.Sign(msg);
  std::vector<uint8_t> longer(sig.begin(), sig.end());
  longer.push_back(0);
  EXPECT_FALSE(sk.Public().Verify(msg, longer));
  EXPECT_FALSE(sk.Public().Verify(msg, std::span<const uint8_t>(sig.data(), 63)));
  EXPECT_FALSE(sk.Public().Verify(msg, {}));
}

TEST(SecretKeyTest, FromBytesRejectsOutOfRange) {
  const std::string n = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";
  const std::string n_minus_1 = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140";
  const std::string n_plus_1 = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364142";
  EXPECT_FALSE(SecretKey::FromBytes(std::vector<uint8_t>(32, 0)));
  EXPECT_FALSE(SecretKey::FromBytes(Hex(n)));
  EXPECT_FALSE(SecretKey::FromBytes(Hex(n_plus_1)));
  EXPECT_FALSE(SecretKey::FromBytes(std::vector<uint8_t>(32, 0xff)));
  EXPECT_FALSE(SecretKey::FromBytes(std::vector<uint8_t>(31, 1)));
  EXPECT_FALSE(SecretKey::FromBytes(std::vector<uint8_t>(33, 1)));
  EXPECT_FALSE(SecretKey::FromBytes({}));

  std::vector<uint8_t> one(32, 0);
  one[31] = 1;
  EXPECT_TRUE(SecretKey::FromBytes(one));
  EXPECT_TRUE(SecretKey::FromBytes(Hex(n_minus_1)));
}

TEST(SecretKeyTest, KnownPublicKey) {
  // Secret key 1 gives the generator G, whose x coordinate is well known.
  std::vector<uint8_t> one(32, 0);
  one[31] = 1;
  auto sk = SecretKey::FromBytes(one);
  ASSERT_TRUE(sk);
  EXPECT_EQ(sk->Public().Hex(), "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}

TEST(SecretKeyTest, SignThenVerify) {
  for (size_t len : {0, 1, 31, 32, 33, 100, 1000}) {
    SCOPED_TRACE("message length " + std::to_string(len));
    SecretKey sk = SecretKey::Generate();
    std::vector<uint8_t> msg(len);
    for (size_t i = 0; i < len; ++i) msg[i] = static_cast<uint8_t>(i * 7 + 3);
    Signature sig = sk.Sign(msg);
    EXPECT_TRUE(sk.Public().Verify(msg, sig));
  }
}

TEST(SecretKeyTest, FreshAuxRandomnessGivesDistinctValidSignatures) {
  SecretKey sk = SecretKey::Generate();
  std::vector<uint8_t> msg = Bytes("same message");
  Signature a = sk.Sign(msg);
  Signature b = sk.Sign(msg);
  EXPECT_NE(a, b);
  EXPECT_TRUE(sk.Public().Verify(msg, a));
  EXPECT_TRUE(sk.Public().Verify(msg, b));
}

TEST(SecretKeyTest, FixedAuxIsDeterministic) {
  SecretKey sk = SecretKey::Generate();
  std::vector<uint8_t> msg = Bytes("deterministic");
  std::array<uint8_t, 32> aux{};
  aux[0] = 42;
  EXPECT_EQ(sk.Sign(msg, &aux), sk.Sign(msg, &aux));
}

TEST(SecretKeyTest, GenerateGivesDistinctKeys) {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) seen.insert(SecretKey::Generate().Public().Hex());
  EXPECT_EQ(seen.size(), 16u);
}

TEST(SecretKeyTest, TamperingIsRejected) {
  SecretKey sk = SecretKey::Generate();
  SecretKey other = SecretKey::Generate();
  std::vector<uint8_t> msg = Bytes("TraceLedger record payload");
  Signature sig = sk.Sign(msg);
  ASSERT_TRUE(sk.Public().Verify(msg, sig));

  for (size_t bit = 0; bit < msg.size() * 8; ++bit) {
    std::vector<uint8_t> bad = msg;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(sk.Public().Verify(bad, sig)) << "message bit " << bit;
  }
  for (size_t bit = 0; bit < sig.size() * 8; ++bit) {
    Signature bad = sig;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(sk.Public().Verify(msg, bad)) << "signature bit " << bit;
  }
  // Flipped public-key bits: the result is either not a point or a different
  // key, and neither may accept.
  for (size_t bit = 0; bit < 256; ++bit) {
    std::array<uint8_t, 32> bytes = sk.Public().bytes();
    bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    std::optional<PublicKey> bad = PublicKey::Parse(bytes);
    if (bad) {
      EXPECT_FALSE(bad->Verify(msg, sig)) << "public key bit " << bit;
    }
  }
  EXPECT_FALSE(other.Public().Verify(msg, sig));
  // Appending or removing a byte changes the message.
  std::vector<uint8_t> longer = msg;
  longer.push_back(0);
  EXPECT_FALSE(sk.Public().Verify(longer, sig));
  EXPECT_FALSE(sk.Public().Verify(std::span<const uint8_t>(msg.data(), msg.size() - 1), sig));
}

TEST(SecretKeyTest, CopySemantics) {
  SecretKey a = SecretKey::Generate();
  SecretKey b(a);
  EXPECT_EQ(a.bytes(), b.bytes());
  EXPECT_EQ(a.Public(), b.Public());
  std::vector<uint8_t> msg = Bytes("copy");
  std::array<uint8_t, 32> aux{};
  EXPECT_EQ(a.Sign(msg, &aux), b.Sign(msg, &aux));

  SecretKey c = SecretKey::Generate();
  ASSERT_NE(c.Public(), a.Public());
  c = a;
  EXPECT_EQ(c.bytes(), a.bytes());
  EXPECT_EQ(c.Public(), a.Public());
  EXPECT_TRUE(a.Public().Verify(msg, c.Sign(msg)));

  const SecretKey& self = c;
  c = self;  // self-assignment keeps the key intact
  EXPECT_EQ(c.bytes(), a.bytes());
  EXPECT_TRUE(a.Public().Verify(msg, c.Sign(msg)));
}

TEST(SecretKeyTest, MoveSemanticsWipeTheSource) {
  const std::array<uint8_t, 32> zero{};
  SecretKey a = SecretKey::Generate();
  const std::array<uint8_t, 32> secret = a.bytes();
  const PublicKey pub = a.Public();
  std::vector<uint8_t> msg = Bytes("move");

  SecretKey b(std::move(a));
  EXPECT_EQ(a.bytes(), zero);  // NOLINT(bugprone-use-after-move): testing the wipe
  EXPECT_EQ(b.bytes(), secret);
  EXPECT_EQ(b.Public(), pub);
  EXPECT_TRUE(pub.Verify(msg, b.Sign(msg)));

  SecretKey c = SecretKey::Generate();
  c = std::move(b);
  EXPECT_EQ(b.bytes(), zero);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c.bytes(), secret);
  EXPECT_EQ(c.Public(), pub);
  EXPECT_TRUE(pub.Verify(msg, c.Sign(msg)));

  // A moved-from key can be assigned to again and then used normally.
  a = c;
  EXPECT_EQ(a.bytes(), secret);
  EXPECT_TRUE(pub.Verify(msg, a.Sign(msg)));

  std::optional<SecretKey> opt = SecretKey::FromBytes(secret);
  ASSERT_TRUE(opt);
  SecretKey d = std::move(*opt);
  EXPECT_EQ(opt->bytes(), zero);
  EXPECT_EQ(d.Public(), pub);
}

TEST(KeyIdTest, SixteenLowercaseHexDigitsAndStable) {
  SecretKey sk = SecretKey::Generate();
  std::string id = sk.Public().KeyId();
  ASSERT_EQ(id.size(), 16u);
  for (char c : id) EXPECT_TRUE(std::isdigit(c) || (c >= 'a' && c <= 'f')) << id;
  EXPECT_EQ(sk.Public().KeyId(), id);
  EXPECT_EQ(PublicKey::FromHex(sk.Public().Hex())->KeyId(), id);
  EXPECT_NE(SecretKey::Generate().Public().KeyId(), id);
}

TEST(KeyIdTest, IsTaggedHashPrefix) {
  auto pk = PublicKey::FromHex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  ASSERT_TRUE(pk);
  std::array<uint8_t, 32> h = TaggedHash("TraceLedger/keyid", pk->bytes());
  EXPECT_EQ(pk->KeyId(), HexEncode(std::span<const uint8_t>(h.data(), 8)));
}

TEST(TaggedHashTest, KnownAnswers) {
  // Expected values computed independently as
  // SHA256(SHA256(tag) || SHA256(tag) || msg) with Python's hashlib.
  EXPECT_EQ(HexEncode(TaggedHash("", {})),
            "2dba5dbc339e7316aea2683faf839c1b7b1ee2313db792112588118df066aa35");
  EXPECT_EQ(HexEncode(TaggedHash("BIP0340/challenge", Bytes("abc"))),
            "770a5b7e7c304bbcc3ea107343ff951dd404312ef418db0c3b94e2ebfbb50087");
  EXPECT_NE(TaggedHash("BIP0340/aux", Bytes("abc")), TaggedHash("BIP0340/challenge", Bytes("abc")));
}

TEST(KeyIdTest, KnownAnswer) {
  // Key id of the generator's x coordinate (secret key 1); see TaggedHash.
  auto pk = PublicKey::FromHex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  ASSERT_TRUE(pk);
  EXPECT_EQ(pk->KeyId(), "7272ff20ba58ad23");
}

}  // namespace
}  // namespace traceledger::wallet
