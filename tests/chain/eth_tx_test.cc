#include "chain/eth_tx.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chain/keccak.h"
#include "tests/chain/test_util.h"
#include "util/encoding.h"
#include "wallet/eth_key.h"

namespace traceledger::chain {
namespace {

using testing::Hex;

wallet::SecretKey KeyFromHex(std::string_view hex) {
  auto key = wallet::SecretKey::FromBytes(Hex(hex));
  EXPECT_TRUE(key.has_value());
  return *key;
}

EthAddress Addr(std::string_view text) {
  auto a = ParseEthAddress(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(EthAddress{});
}

// Anvil's (and Hardhat's) dev account 0, as `anvil` prints it at start-up:
// private key and EIP-55 address.
TEST(EthAddressTest, AnvilDevAccountZero) {
  auto key = KeyFromHex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
  EXPECT_EQ(EthAddressChecksum(EthAddressOf(key)), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  EXPECT_EQ(EthAddressHex(EthAddressOf(key)), "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266");
}

// The test cases of EIP-55.
TEST(EthAddressTest, Eip55Checksums) {
  for (const char* text :
       {"0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    auto a = ParseEthAddress(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_EQ(EthAddressChecksum(*a), text);
  }
}

TEST(EthAddressTest, ParseRejectsBadInput) {
  EXPECT_TRUE(
      ParseEthAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").has_value());  // all lower: no checksum
  EXPECT_TRUE(ParseEthAddress("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED").has_value());  // all upper
  EXPECT_FALSE(
      ParseEthAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD").has_value());         // one case flipped
  EXPECT_FALSE(ParseEthAddress("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").has_value());  // no 0x
  EXPECT_FALSE(ParseEthAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea").has_value());  // 19 bytes
  EXPECT_FALSE(ParseEthAddress("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg").has_value());  // not hex
}

// EIP-155's worked example: nonce 9, 20 gwei, 21000 gas, to 0x3535…,
// 1 ether, chain 1, key 0x4646…46. Signing payload, signing hash and the
// signed transaction are the EIP's, byte for byte.
TEST(EthTxTest, Eip155Example) {
  EthTx tx;
  tx.type = EthTxType::kLegacy;
  tx.chain_id = 1;
  tx.nonce = 9;
  tx.gas_price = 20'000'000'000;
  tx.gas_limit = 21000;
  tx.to = Addr("0x3535353535353535353535353535353535353535");
  tx.value = 1'000'000'000'000'000'000;
  EXPECT_EQ(HexEncode(EthSigningPayload(tx)),
            "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080");
  EXPECT_EQ(HashHex(EthSigningHash(tx)), "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
  auto key = KeyFromHex("4646464646464646464646464646464646464646464646464646464646464646");
  SignedEthTx s = SignEthTx(tx, key);
  const std::string expected =
      "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd9"
      "39"
      "bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b29"
      "7f"
      "b1966a3b6d83";
  EXPECT_EQ(HexEncode(s.raw), expected);
  EXPECT_EQ(s.hash, Keccak256(s.raw));
  EXPECT_EQ(EthAddressHex(s.from), "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");

  auto decoded = DecodeSignedEthTx(Hex(expected));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->tx, tx);
  EXPECT_EQ(decoded->from, s.from);
  EXPECT_EQ(decoded->hash, s.hash);
  EXPECT_EQ(decoded->signature.recovery_id, 0);
}

// ethereumjs-monorepo packages/tx/test/json/eip1559.json, vectors 0 and 1
// (chain 7822, empty data, one with yParity 0 and one with 1). The file
// wraps each transaction in an RLP string (b8xx); the raw transaction is
// its payload.
TEST(EthTxTest, Eip1559Vectors) {
  struct Vector {
    uint64_t nonce, value, gas, tip, fee_cap;
    const char* raw;
    uint8_t parity;
  };
  const Vector vectors[] = {
      {819, 43203529, 35552, 75853, 121212,
       "02f870821e8e8203338301284d8301d97c828ae094000000000000000000000000000000000000aaaa8402933bc980c080a0d"
       "067f216"
       "7008c59219652f91cbf8788dbca5f771f6e91e2b7657e85b78b472e0a01d305af9fe81fdba43f0dfcd400ed24dcace0a7e30d"
       "4e857"
       "01dcaaf484cd079e",
       0},
      {353, 61901619, 32593, 38850, 136295,
       "02f86f821e8e8201618297c283021467827f5194000000000000000000000000000000000000aaaa8403b08b3380c001a0042"
       "05678f1"
       "3fc1d7b10feea6513dfa76e24418b6e08097d95c6f93a3b64e536da01d45ad61bfece43862de2cce7d2575a8c1d08c26c87f3"
       "cb5f26d"
       "7b0be54a91b2",
       1},
  };
  auto key = KeyFromHex("8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63");
  for (const Vector& v : vectors) {
    EthTx tx;
    tx.type = EthTxType::kEip1559;
    tx.chain_id = 7822;
    tx.nonce = v.nonce;
    tx.max_priority_fee_per_gas = v.tip;
    tx.max_fee_per_gas = v.fee_cap;
    tx.gas_limit = v.gas;
    tx.to = Addr("0x000000000000000000000000000000000000aaaa");
    tx.value = v.value;
    SignedEthTx s = SignEthTx(tx, key);
    EXPECT_EQ(HexEncode(s.raw), v.raw) << "nonce " << v.nonce;
    EXPECT_EQ(s.signature.recovery_id, v.parity);
    auto decoded = DecodeSignedEthTx(Hex(v.raw));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->tx, tx);
    EXPECT_EQ(decoded->from, EthAddressOf(key));
    EXPECT_EQ(decoded->hash, Keccak256(Hex(v.raw)));
  }
}

TEST(EthTxTest, RoundTripWithDataAndLargeChainId) {
  auto key = wallet::SecretKey::Generate();
  for (EthTxType type : {EthTxType::kLegacy, EthTxType::kEip1559}) {
    bool legacy = type == EthTxType::kLegacy;
    EthTx tx{.type = type,
             .chain_id = 4'000'000'000'000,  // v = 2 * chain id + 35 + parity needs 43 bits
             .gas_price = legacy ? 7u : 0u,
             .max_priority_fee_per_gas = legacy ? 0u : 1'000'000'000u,
             .max_fee_per_gas = legacy ? 0u : 3'000'000'000u,
             .gas_limit = 22760,
             .to = EthAddressOf(key),
             .data = std::vector<uint8_t>(44, 0xab)};
    SignedEthTx s = SignEthTx(tx, key);
    auto decoded = DecodeSignedEthTx(s.raw);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->tx, tx);
    EXPECT_EQ(decoded->from, EthAddressOf(key));
    EXPECT_EQ(decoded->raw, s.raw);
  }
}

TEST(EthTxTest, DecodeRejectsWithTheReason) {
  const std::string eip155 =
      "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd9"
      "39"
      "bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b29"
      "7f"
      "b1966a3b6d83";
  EXPECT_EQ(DecodeSignedEthTx({}).error().code, EthTxErrorCode::kMalformed);
  EXPECT_EQ(DecodeSignedEthTx(Hex("01c0")).error().code, EthTxErrorCode::kUnsupported);  // EIP-2930
  EXPECT_EQ(DecodeSignedEthTx(Hex("03c0")).error().code, EthTxErrorCode::kUnsupported);  // blob
  EXPECT_EQ(DecodeSignedEthTx(Hex("02c0")).error().code, EthTxErrorCode::kMalformed);    // no fields
  // Trailing byte after the list.
  EXPECT_EQ(DecodeSignedEthTx(Hex(eip155 + "00")).error().code, EthTxErrorCode::kMalformed);
  // v = 27: pre-EIP-155, replayable on every chain.
  std::vector<uint8_t> raw = Hex(eip155);
  ASSERT_EQ(raw[43], 0x25);  // v = 37
  raw[43] = 0x1b;
  EXPECT_EQ(DecodeSignedEthTx(raw).error().code, EthTxErrorCode::kUnsupported);
  // High s (EIP-2): s' = n - s signs the same message but is malleable.
  // n - 0x67cb…6d83 = 0x9834…d3be:
  std::string high_s = eip155.substr(0, eip155.size() - 64) +
                       "98341627668089e51348fccfb4c7ff31c55912f2d2e47ef09652acf665fad3be";
  auto hs = DecodeSignedEthTx(Hex(high_s));
  ASSERT_FALSE(hs.ok());
  EXPECT_EQ(hs.error().code, EthTxErrorCode::kBadSignature);
  // A flipped bit in r: still a valid shape, recovers another key or none.
  std::vector<uint8_t> flipped = Hex(eip155);
  flipped[47] ^= 0x01;  // first byte of r (after v and r's a0 prefix)
  auto other = DecodeSignedEthTx(flipped);
  if (other.ok()) {
    EXPECT_NE(EthAddressHex(other->from), "0x9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f");
  }
}

TEST(EthTxTest, PrefixedHex) {
  EXPECT_EQ(PrefixedHex(std::vector<uint8_t>{}), "0x");
  EXPECT_EQ(PrefixedHex(std::vector<uint8_t>{0xab, 0x01}), "0xab01");
  EXPECT_EQ(*ParsePrefixedHex("0x"), std::vector<uint8_t>{});
  EXPECT_FALSE(ParsePrefixedHex("ab01").has_value());
  EXPECT_FALSE(ParsePrefixedHex("0xab0").has_value());
}

}  // namespace
}  // namespace traceledger::chain
