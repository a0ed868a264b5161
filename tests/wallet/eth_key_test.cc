#include "wallet/eth_key.h"

#include <gtest/gtest.h>

#include <array>

#include "util/encoding.h"

namespace traceledger::wallet {
namespace {

std::array<uint8_t, 32> Digest(uint8_t fill) {
  std::array<uint8_t, 32> d;
  d.fill(fill);
  return d;
}

TEST(EthKeyTest, SignRecoverRoundTrip) {
  for (int i = 0; i < 16; ++i) {
    SecretKey key = SecretKey::Generate();
    auto digest = Digest(static_cast<uint8_t>(i));
    RecoverableSignature sig = SignRecoverable(key, digest);
    EXPECT_LE(sig.recovery_id, 1);
    auto pub = RecoverPublicKey(digest, sig);
    ASSERT_TRUE(pub.has_value());
    EXPECT_EQ(*pub, EcdsaPublicKeyOf(key));
    // Another digest recovers another key (or none).
    auto other = RecoverPublicKey(Digest(static_cast<uint8_t>(i + 100)), sig);
    if (other) {
      EXPECT_NE(*other, EcdsaPublicKeyOf(key));
    }
  }
}

TEST(EthKeyTest, DeterministicRfc6979) {
  auto key = SecretKey::FromBytes(std::array<uint8_t, 32>{1});
  ASSERT_TRUE(key.has_value());
  RecoverableSignature a = SignRecoverable(*key, Digest(7));
  RecoverableSignature b = SignRecoverable(*key, Digest(7));
  EXPECT_EQ(a.r, b.r);
  EXPECT_EQ(a.s, b.s);
}

TEST(EthKeyTest, PublicKeyOfKeyOne) {
  // 1·G: the generator itself, X || Y.
  std::array<uint8_t, 32> one{};
  one[31] = 1;
  auto key = SecretKey::FromBytes(one);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(HexEncode(EcdsaPublicKeyOf(*key)),
            "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
            "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8");
}

TEST(EthKeyTest, RecoverRejectsOutOfRangeAndHighS) {
  SecretKey key = SecretKey::Generate();
  auto digest = Digest(3);
  RecoverableSignature sig = SignRecoverable(key, digest);
  // s' = n - s: the same signature's malleable twin (EIP-2 forbids it).
  static const std::array<uint8_t, 32> kN = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                             0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48,
                                             0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41};
  RecoverableSignature high = sig;
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = kN[i] - sig.s[i] - borrow;
    borrow = d < 0 ? 1 : 0;
    high.s[i] = static_cast<uint8_t>(d + (borrow ? 256 : 0));
  }
  high.recovery_id ^= 1;
  EXPECT_FALSE(RecoverPublicKey(digest, high).has_value());
  RecoverableSignature zero = sig;
  zero.r.fill(0);
  EXPECT_FALSE(RecoverPublicKey(digest, zero).has_value());
  RecoverableSignature big = sig;
  big.r = kN;  // r = n is out of range
  EXPECT_FALSE(RecoverPublicKey(digest, big).has_value());
  RecoverableSignature bad_id = sig;
  bad_id.recovery_id = 2;
  EXPECT_FALSE(RecoverPublicKey(digest, bad_id).has_value());
}

}  // namespace
}  // namespace traceledger::wallet
