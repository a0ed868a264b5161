#include "chain/checkpoint.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "chain/proof.h"
#include "chain/store.h"
#include "tests/chain/store_fixture.h"
#include "util/encoding.h"

namespace traceledger::chain {
namespace {

using testing::AppendBlocks;
using testing::ScratchDir;

// BIP-340 test vector 0: secret key 3.
wallet::SecretKey TestKey() {
  std::array<uint8_t, 32> sk{};
  sk[31] = 3;
  return *wallet::SecretKey::FromBytes(sk);
}

void ExpectNoteError(const NoteResult<void>& r, NoteErrorCode code) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(NoteErrorCodeName(r.error().code), NoteErrorCodeName(code)) << r.error().message;
}

template <typename T>
void ExpectNoteError(const NoteResult<T>& r, NoteErrorCode code) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(NoteErrorCodeName(r.error().code), NoteErrorCodeName(code)) << r.error().message;
}

TEST(CheckpointFormatTest, TextIsOriginSizeRootLines) {
  Checkpoint c{.origin = "example.com/log",
               .size = 3,
               .root = *HashFromHex("4c7213101701f2c8c342716d774be79ca5668fda861179e417ab6182d17747fd")};
  EXPECT_EQ(c.Text(), "example.com/log\n3\nTHITEBcB8sjDQnFtd0vnnKVmj9qGEXnkF6thgtF3R/0=\n");
  c.extensions = {"ext one"};
  EXPECT_EQ(c.Text(), "example.com/log\n3\nTHITEBcB8sjDQnFtd0vnnKVmj9qGEXnkF6thgtF3R/0=\next one\n");
  auto back = Checkpoint::Parse(c.Text());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->origin, c.origin);
  EXPECT_EQ(back->size, 3u);
  EXPECT_EQ(back->root, c.root);
  EXPECT_EQ(back->extensions, c.extensions);
}

TEST(CheckpointFormatTest, ParseRejectsEveryMalformedText) {
  const std::string root = "THITEBcB8sjDQnFtd0vnnKVmj9qGEXnkF6thgtF3R/0=";
  for (const std::string& bad : std::vector<std::string>{
           std::string("o\n3\n") + root,               // no final newline
           std::string("o\n3\n"),                      // two lines
           "\n3\n" + root + "\n",                      // empty origin
           "o\n03\n" + root + "\n",                    // leading zero
           "o\n-3\n" + root + "\n",                    // sign
           "o\n18446744073709551616\n" + root + "\n",  // above 2^64-1
           "o\n3\n" + root.substr(0, 43) + "\n",       // not base64
           "o\n3\nAAAA\n",                             // 3 bytes
           "o\n3\n" + root + "\n\n",                   // empty extension
           std::string("o\t\n3\n") + root + "\n",      // control character
           std::string("o\xff\n3\n") + root + "\n",    // not UTF-8
       }) {
    ExpectNoteError(Checkpoint::Parse(bad), NoteErrorCode::kMalformed);
  }
  EXPECT_TRUE(Checkpoint::Parse("o\n0\n" + root + "\n").ok());
}

// The example of C2SP signed-note (an Ed25519 note): the shape parses,
// whatever the algorithm.
TEST(SignedNoteTest, ParsesTheSignedNoteSpecExample) {
  const std::string text =
      "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n";
  const std::string bytes =
      text +
      "\n— quasimodo.example/salvatore "
      "NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
  auto note = SignedNote::Parse(bytes);
  ASSERT_TRUE(note.ok()) << note.error().message;
  EXPECT_EQ(note->text, text);  // the last blank line separates
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "quasimodo.example/salvatore");
  EXPECT_EQ(note->signatures[0].key_id, 0x367ba04bu);
  EXPECT_EQ(note->signatures[0].signature.size(), 64u);
  EXPECT_EQ(note->Serialize(), bytes);
}

TEST(SignedNoteTest, ParseRejectsMalformedNotes) {
  const std::string sig = "— k AAAAAAA=\n";  // 5 bytes
  ASSERT_TRUE(SignedNote::Parse("t\n\n" + sig).ok());
  for (const std::string& bad : std::vector<std::string>{
           "t\n\n",                                      // no signature
           "t\n" + sig,                                  // no blank line
           "t\n\n" + sig.substr(0, sig.size() - 1),      // no final newline
           std::string("t\n\n- k AAAAAAA=\n"),           // hyphen, not em dash
           std::string("t\n\n— k AAAA\n"),               // 3 bytes
           std::string("t\n\n— k AAAAAAA\n"),            // bad padding
           std::string("t\n\n— a+b AAAAAAA=\n"),         // '+' in name
           std::string("t\n\n—  AAAAAAA=\n"),            // empty name
           std::string("t\n\n— k\xc2\xa0x AAAAAAA=\n"),  // no-break space in name
           std::string("t\x01\n\n") + sig,               // control character
       }) {
    ExpectNoteError(SignedNote::Parse(bad), NoteErrorCode::kMalformed);
  }
  std::string many = "t\n\n";
  for (size_t i = 0; i <= kMaxNoteSignatures; ++i) many += sig;
  ExpectNoteError(SignedNote::Parse(many), NoteErrorCode::kMalformed);
}

TEST(SignedNoteTest, KeyIdIsTheDocumentedHash) {
  // python3: sha256(b"example.com/log\n\xffTraceLedger/note/bip340/v1" + pk)[:4]
  EXPECT_EQ(NoteKeyId("example.com/log", TestKey().Public()), 0xc6eee5adu);
}

TEST(SignedNoteTest, SignThenVerifyAndEveryTamperingFails) {
  const wallet::SecretKey key = TestKey();
  const std::string text = "example.com/log\n3\nTHITEBcB8sjDQnFtd0vnnKVmj9qGEXnkF6thgtF3R/0=\n";
  SignedNote note{.text = text, .signatures = {SignNote("example.com/log", key, text)}};
  const std::string bytes = note.Serialize();
  EXPECT_TRUE(bytes.starts_with(text + "\n— example.com/log xu7lr")) << bytes;  // key id c6eee5ad
  auto parsed = SignedNote::Parse(bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(VerifyNote(*parsed, "example.com/log", key.Public()).ok());
  auto opened = OpenCheckpoint(*parsed, key.Public(), "example.com/log");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->size, 3u);

  ExpectNoteError(VerifyNote(*parsed, "example.com/log", wallet::SecretKey::Generate().Public()),
                  NoteErrorCode::kNoSignature);
  ExpectNoteError(VerifyNote(*parsed, "other.example/log", key.Public()), NoteErrorCode::kNoSignature);
  ExpectNoteError(OpenCheckpoint(*parsed, key.Public(), "other.example/log"), NoteErrorCode::kOriginMismatch);
  SignedNote text_changed = *parsed;
  text_changed.text[text_changed.text.size() - 3] ^= 1;
  ExpectNoteError(VerifyNote(text_changed, "example.com/log", key.Public()), NoteErrorCode::kBadSignature);
  for (size_t bit = 0; bit < 64 * 8; bit += 37) {
    SignedNote sig_changed = *parsed;
    sig_changed.signatures[0].signature[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    ExpectNoteError(VerifyNote(sig_changed, "example.com/log", key.Public()), NoteErrorCode::kBadSignature);
  }
  // Unknown keys' lines are ignored; the known one still counts.
  SignedNote extra = *parsed;
  extra.signatures.insert(extra.signatures.begin(),
                          NoteSignature{.name = "x", .key_id = 1, .signature = "abc"});
  EXPECT_TRUE(VerifyNote(extra, "example.com/log", key.Public()).ok());
}

class CheckpointSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Reopen();
  }
  void Reopen() {
    store_.reset();
    auto s = Store::Open(StoreOptions{.path = dir_.path() + "/db"});
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  uint64_t Size() const { return store_->tip()->frontier.size(); }

  ScratchDir dir_;
  std::unique_ptr<Store> store_;
  wallet::SecretKey key_ = wallet::SecretKey::Generate();
};

TEST_F(CheckpointSignerTest, SignsTheCurrentTreeOnceAndPersistsIt) {
  AppendBlocks(*store_, {5, 3}, key_);
  CheckpointSigner signer(*store_, key_, "example.com/log");
  auto first = signer.SignCurrent();
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->checkpoint.size, 8u);
  EXPECT_EQ(first->checkpoint.root, store_->tip()->frontier.Root());
  EXPECT_TRUE(OpenCheckpoint(first->note, key_.Public(), "example.com/log").ok());
  // Same tree: the stored one, not a new signature.
  auto again = signer.SignCurrent();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->note.Serialize(), first->note.Serialize());
  auto stored = store_->GetCheckpoint(8);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(**stored, first->Encode());
  // The log grows: a new checkpoint, consistent with the first.
  AppendBlocks(*store_, {9}, key_);
  auto second = signer.SignCurrent();
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->checkpoint.size, 17u);
  StoreNodeSource nodes(*store_);
  EXPECT_TRUE(VerifyConsistency(8, 17, first->checkpoint.root, second->checkpoint.root,
                                *ConsistencyProof(nodes, 8, 17))
                  .ok());
}

TEST_F(CheckpointSignerTest, AfterAReopenTheOriginAndLastCheckpointAreKept) {
  AppendBlocks(*store_, {4}, key_);
  ASSERT_TRUE(CheckpointSigner(*store_, key_, "example.com/log").SignCurrent().ok());
  Reopen();
  AppendBlocks(*store_, {4}, key_);
  CheckpointSigner signer(*store_, key_);  // origin from the stored checkpoint
  EXPECT_EQ(signer.origin(), "example.com/log");
  auto next = signer.SignCurrent();
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->checkpoint.origin, "example.com/log");
  EXPECT_EQ(next->checkpoint.size, 8u);
}

TEST_F(CheckpointSignerTest, DefaultOriginNamesTheGenesisBlock) {
  AppendBlocks(*store_, {1}, key_);
  auto genesis = store_->GetBlock(0);
  const Hash h = (*genesis)->header.ComputeHash();
  CheckpointSigner signer(*store_, key_);
  EXPECT_EQ(signer.origin(), "traceledger/" + HashHex(h).substr(0, 32));
}

TEST_F(CheckpointSignerTest, RefusesToSignWhatIsInconsistentWithTheLastCheckpoint) {
  AppendBlocks(*store_, {6}, key_);
  // A signed checkpoint of size 4 whose root is not the log's: as if the
  // log had been rewritten after signing it.
  Checkpoint forged{.origin = "example.com/log", .size = 4, .root = Sha256(std::string_view("other"))};
  StoredCheckpoint bad{.signer = key_.Public(),
                       .note = SignedNote{.text = forged.Text(),
                                          .signatures = {SignNote("example.com/log", key_, forged.Text())}},
                       .checkpoint = forged};
  ASSERT_TRUE(store_->PutCheckpoint(4, bad.Encode(), false).ok());
  CheckpointSigner signer(*store_, key_, "example.com/log");
  ExpectNoteError(signer.SignCurrent(), NoteErrorCode::kInconsistent);
  EXPECT_FALSE(store_->GetCheckpoint(6)->has_value()) << "nothing was signed";
  // Same size, another root.
  forged.size = 6;
  bad.note =
      SignedNote{.text = forged.Text(), .signatures = {SignNote("example.com/log", key_, forged.Text())}};
  ASSERT_TRUE(store_->PutCheckpoint(6, bad.Encode(), false).ok());
  ExpectNoteError(signer.SignCurrent(), NoteErrorCode::kInconsistent);
  // Another log's checkpoint.
  ExpectNoteError(CheckpointSigner(*store_, key_, "other.example/log").SignCurrent(),
                  NoteErrorCode::kOriginMismatch);
}

TEST_F(CheckpointSignerTest, CosignaturesAreAddedToTheStoredCheckpoint) {
  AppendBlocks(*store_, {3}, key_);
  CheckpointSigner signer(*store_, key_, "example.com/log");
  auto signed_cp = signer.SignCurrent();
  ASSERT_TRUE(signed_cp.ok());
  NoteSignature cosig{.name = "w.example/1", .key_id = 7, .signature = std::string(72, 'x')};
  auto merged = signer.AddCosignatures(3, {cosig, cosig});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  ASSERT_EQ(merged->note.signatures.size(), 2u);
  EXPECT_EQ(merged->note.signatures[1], cosig);
  auto again = signer.SignCurrent();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->note.signatures.size(), 2u) << "the stored checkpoint keeps its cosignatures";
  ExpectNoteError(signer.AddCosignatures(2, {cosig}), NoteErrorCode::kStore);
}

}  // namespace
}  // namespace traceledger::chain
