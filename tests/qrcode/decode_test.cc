// qrcode/decode.h: malformed images get their own typed error (never a
// crash), found symbols carry the right text and corners, several codes per
// image, inverted codes, codes that are not ours.
#include "qrcode/decode.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "qrcode/qr_png.h"
#include "qrcode/render.h"
#include "tests/qrcode/distortion.h"
#include "util/encoding.h"
#include "util/thread_pool.h"

namespace traceledger::qrcode {
namespace {

using testing::SampleUri;

std::vector<uint8_t> Bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// A photo-like scene: `texts` side by side on grey, rotated a little.
GrayImage Scene(const std::vector<std::string>& texts, double module_px = 4, bool inverted = false) {
  testing::Scene scene;
  scene.width = 420 * static_cast<int>(texts.size());
  scene.height = 440;
  scene.inverted = inverted;
  for (size_t i = 0; i < texts.size(); ++i) {
    testing::Placement p{.cx = 210.0 + 420.0 * static_cast<double>(i),
                         .cy = 220,
                         .module_px = module_px,
                         .angle_deg = 7.0 * static_cast<double>(i + 1)};
    scene.codes.push_back(testing::SceneCode{*EncodeQr(texts[i]), p});
  }
  GrayImage img = testing::RenderScene(scene);
  testing::GaussianBlur(img, 0.6);
  return img;
}

std::vector<uint8_t> ScenePng(const std::vector<std::string>& texts) { return EncodeGrayPng(Scene(texts)); }

void ExpectError(std::span<const uint8_t> bytes, ImageErrorCode code, const DecodeOptions& o = {}) {
  auto r = DecodeImageBytes(bytes, o);
  ASSERT_FALSE(r.ok()) << "decoded " << r->size() << " symbols";
  EXPECT_EQ(r.error().code, code) << ImageErrorCodeName(r.error().code) << ": " << r.error().message;
  EXPECT_FALSE(r.error().message.empty());
}

// A PNG with the given IHDR size and a valid structure (tiny IDAT).
std::vector<uint8_t> PngWithSize(uint32_t w, uint32_t h) {
  std::vector<uint8_t> png = EncodeGrayPng(GrayImage(2, 2, 255));
  // IHDR data starts at 16; its CRC at 29 covers bytes 12..28.
  PutBigEndian32(w, &png[16]);
  PutBigEndian32(h, &png[20]);
  PutBigEndian32(internal::Crc32(&png[12], 17), &png[29]);
  return png;
}

TEST(DecodeErrors, CodeNamesAreStable) {
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kIo), "io");
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kEmpty), "empty");
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kTooManyBytes), "too_many_bytes");
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kNotAnImage), "not_an_image");
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kUnsupportedFormat), "unsupported_format");
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kTruncated), "truncated");
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kCorrupt), "corrupt");
  EXPECT_EQ(ImageErrorCodeName(ImageErrorCode::kTooManyPixels), "too_many_pixels");
  EXPECT_EQ(RenderErrorCodeName(RenderErrorCode::kEmptyText), "empty_text");
  EXPECT_EQ(RenderErrorCodeName(RenderErrorCode::kBadStem), "bad_stem");
  EXPECT_EQ(RenderErrorCodeName(RenderErrorCode::kIo), "io");
}

TEST(DecodeErrors, EmptyRandomTextAndOtherFormats) {
  ExpectError({}, ImageErrorCode::kEmpty);
  std::mt19937_64 rng(5);
  std::vector<uint8_t> noise(4096);
  for (auto& b : noise) b = static_cast<uint8_t>(rng());
  noise[0] = 0x17;  // not by chance a signature
  ExpectError(noise, ImageErrorCode::kNotAnImage);
  ExpectError(Bytes("GTIN,lot,serial\n09506000134352,LOT-2026-A,7K3M9Q2X4TZ8W1BD\n"),
              ImageErrorCode::kNotAnImage);
  ExpectError(Bytes("GIF89a\x01\x00\x01\x00"), ImageErrorCode::kUnsupportedFormat);
  ExpectError(Bytes(std::string("\0\0\0\x18"
                                "ftypheic\0\0\0\0",
                                16)),
              ImageErrorCode::kUnsupportedFormat);
  ExpectError(Bytes(std::string("RIFF\x10\0\0\0WEBPVP8 ", 16)), ImageErrorCode::kUnsupportedFormat);
  ExpectError(Bytes("%PDF-1.4\n"), ImageErrorCode::kUnsupportedFormat);
  // A PNG signature mangled by a text-mode copy (\r\n -> \n).
  ExpectError(Bytes("\x89PNG\n\x1a\n\0\0\0\x0dIHDR"), ImageErrorCode::kCorrupt);
}

TEST(DecodeErrors, TruncatedPngAndJpegAtEveryInterestingPoint) {
  GrayImage img = Scene({SampleUri(10)});
  std::vector<uint8_t> png = EncodeGrayPng(img);
  std::vector<uint8_t> jpg = EncodeGrayJpeg(img, 80);
  ASSERT_TRUE(DecodeImageBytes(png).ok());
  ASSERT_TRUE(DecodeImageBytes(jpg).ok());
  for (double f : {0.001, 0.01, 0.2, 0.5, 0.9, 0.999}) {
    for (const auto* whole : {&png, &jpg}) {
      size_t n = std::max<size_t>(4, static_cast<size_t>(static_cast<double>(whole->size()) * f));
      std::vector<uint8_t> cut(whole->begin(), whole->begin() + static_cast<long>(n));
      SCOPED_TRACE((whole == &png ? "png " : "jpeg ") + std::to_string(n) + " of " +
                   std::to_string(whole->size()));
      ExpectError(cut, ImageErrorCode::kTruncated);
    }
  }
  // Missing only the last byte of the end marker / IEND CRC.
  ExpectError(std::span(png).first(png.size() - 1), ImageErrorCode::kTruncated);
  ExpectError(std::span(jpg).first(jpg.size() - 1), ImageErrorCode::kTruncated);
}

TEST(DecodeErrors, CorruptPngAndJpeg) {
  std::vector<uint8_t> png = ScenePng({SampleUri(11)});
  std::vector<uint8_t> flipped = png;
  flipped[png.size() / 2] ^= 0x10;  // inside IDAT: its CRC fails
  ExpectError(flipped, ImageErrorCode::kCorrupt);
  // JPEG: a scan before any frame header.
  ExpectError(Bytes(std::string("\xFF\xD8\xFF\xDA\x00\x02\x00\x00\xFF\xD9", 10)), ImageErrorCode::kCorrupt);
  // JPEG: garbage where a marker must be.
  ExpectError(Bytes(std::string("\xFF\xD8\xFF\xE0\x00\x04\x00\x00XYZ", 11)), ImageErrorCode::kCorrupt);
  // Data after the end marker (phone makers' trailers) is fine.
  std::vector<uint8_t> jpg = EncodeGrayJpeg(Scene({SampleUri(12)}), 85);
  jpg.insert(jpg.end(), {'T', 'R', 'A', 'I', 'L', 'E', 'R'});
  auto r = DecodeImageBytes(jpg);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), 1u);
}

TEST(DecodeErrors, HugeDimensionsAreRefusedBeforeDecoding) {
  // 100000 x 100000 would need 10 GB; the header alone is refused.
  ExpectError(PngWithSize(100000, 100000), ImageErrorCode::kTooManyPixels);
  ExpectError(PngWithSize(kDefaultMaxImageSide + 1, 10), ImageErrorCode::kTooManyPixels);
  // Configurable limits.
  std::vector<uint8_t> png = EncodeGrayPng(GrayImage(1000, 1000, 255));
  ExpectError(png, ImageErrorCode::kTooManyPixels, DecodeOptions{.max_pixels = 999999});
  ExpectError(png, ImageErrorCode::kTooManyPixels, DecodeOptions{.max_side = 999});
  ExpectError(png, ImageErrorCode::kTooManyBytes, DecodeOptions{.max_bytes = png.size() - 1});
  auto ok =
      DecodeImageBytes(png, DecodeOptions{.max_bytes = png.size(), .max_pixels = 1000000, .max_side = 1000});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(ok->empty());
}

TEST(DecodeErrors, FilesThatCannotBeRead) {
  std::string dir = ::testing::TempDir() + "qrimage_files_" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  auto missing = DecodeImageFile(dir + "/missing.png");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ImageErrorCode::kIo);
  EXPECT_EQ(missing.error().message.rfind(dir + "/missing.png: ", 0), 0u) << missing.error().message;
  auto is_dir = DecodeImageFile(dir);
  ASSERT_FALSE(is_dir.ok());
  EXPECT_EQ(is_dir.error().code, ImageErrorCode::kIo);
  // Too large: refused from its size, without reading it.
  std::string big = dir + "/big.png";
  { std::ofstream create(big); }
  std::filesystem::resize_file(big, 5000);
  auto too_big = DecodeImageFile(big, DecodeOptions{.max_bytes = 4999});
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code, ImageErrorCode::kTooManyBytes);
  std::string text = dir + "/notes.txt";
  std::ofstream(text) << "not an image\n";
  auto not_image = DecodeImageFile(text);
  ASSERT_FALSE(not_image.ok());
  EXPECT_EQ(not_image.error().code, ImageErrorCode::kNotAnImage);
  std::filesystem::remove_all(dir);
}

TEST(Decode, TextCornersAndLevel) {
  const std::string uri = SampleUri(20);
  auto m = EncodeQr(uri, EccLevel::kQ);
  ASSERT_TRUE(m.ok());
  GrayImage code = *RasterizeQr(*m, ImageOptions{.module_px = 4, .margin = 0});
  GrayImage canvas(800, 600, 255);
  const int left = 150, top = 90;
  for (int y = 0; y < code.height; ++y) {
    for (int x = 0; x < code.width; ++x) canvas.at(left + x, top + y) = code.at(x, y);
  }
  auto r = DecodeImageBytes(EncodeGrayPng(canvas));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const DecodedSymbol& s = (*r)[0];
  EXPECT_EQ(s.text, uri);
  EXPECT_EQ(s.ec_level, 'Q');
  EXPECT_FALSE(s.inverted);
  EXPECT_EQ(s.pass, kPassPlain);
  EXPECT_EQ(s.orientation_deg, 0);
  const int right = left + code.width, bottom = top + code.height;
  const PixelPoint want[4] = {{left, top}, {right, top}, {right, bottom}, {left, bottom}};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(s.corners[i].x, want[i].x, 4) << "corner " << i;
    EXPECT_NEAR(s.corners[i].y, want[i].y, 4) << "corner " << i;
  }
}

TEST(Decode, SeveralCodesInOneImageAllFound) {
  std::vector<std::string> texts = {SampleUri(30), SampleUri(31), SampleUri(32), SampleUri(33)};
  auto r = DecodeImageBytes(ScenePng(texts));
  ASSERT_TRUE(r.ok()) << r.error().message;
  std::set<std::string> got;
  for (const auto& s : *r) got.insert(s.text);
  EXPECT_EQ(got, std::set<std::string>(texts.begin(), texts.end()));
  EXPECT_EQ(r->size(), 4u) << "a symbol reported twice";
  // max_symbols caps the search.
  auto one = DecodeImageBytes(ScenePng(texts), DecodeOptions{.max_symbols = 1});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
}

TEST(Decode, CodesThatAreNotOursAreStillReported) {
  for (std::string text : {"hello, world", "WIFI:S:shop;T:WPA;P:secret;;", "https://example.com/other?x=1"}) {
    auto r = DecodeImageBytes(ScenePng({text}));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u) << text;
    EXPECT_EQ((*r)[0].text, text);
  }
}

TEST(Decode, InvertedCodeIsFoundAndFlagged) {
  const std::string uri = SampleUri(40);
  auto r = DecodeImageBytes(EncodeGrayPng(Scene({uri}, 4, /*inverted=*/true)));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].text, uri);
  EXPECT_TRUE((*r)[0].inverted);
  EXPECT_EQ((*r)[0].pass, kPassInverted);
}

TEST(Decode, NothingFoundIsAnEmptyListNotAnError) {
  GrayImage blank(300, 200, 240);
  for (const auto& bytes : {EncodeGrayPng(blank), EncodeGrayJpeg(blank, 90)}) {
    auto r = DecodeImageBytes(bytes);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->empty());
  }
  EXPECT_TRUE(DecodeGray(GrayImage()).empty());
}

TEST(Decode, ExhaustiveFindsAnInvertedCodeBesideANormalOne) {
  testing::Scene scene;
  scene.width = 840;
  scene.height = 440;
  const std::string a = SampleUri(50), b = SampleUri(51);
  scene.codes.push_back(testing::SceneCode{*EncodeQr(a), testing::Placement{.cx = 210, .cy = 220}});
  GrayImage img = testing::RenderScene(scene);
  // The right half: the same kind of scene, inverted.
  testing::Scene right = scene;
  right.inverted = true;
  right.codes = {testing::SceneCode{*EncodeQr(b), testing::Placement{.cx = 630, .cy = 220}}};
  GrayImage inv = testing::RenderScene(right);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 420; x < img.width; ++x) img.at(x, y) = inv.at(x, y);
  }
  EXPECT_EQ(DecodeGray(img).size(), 1u);
  auto all = DecodeGray(img, DecodeOptions{.exhaustive = true});
  std::set<std::string> got;
  for (const auto& s : all) got.insert(s.text);
  EXPECT_EQ(got, (std::set<std::string>{a, b}));
}

TEST(Decode, ConcurrentCallsGiveTheSameAnswers) {
  std::vector<std::vector<uint8_t>> images;
  std::vector<std::string> texts;
  for (int i = 0; i < 8; ++i) {
    texts.push_back(SampleUri(60 + i));
    images.push_back(i % 2 == 0 ? ScenePng({texts.back()}) : EncodeGrayJpeg(Scene({texts.back()}), 75));
  }
  std::atomic<int> right{0}, wrong{0};
  ThreadPool pool(4);
  pool.ParallelFor(images.size() * 4, [&](size_t k) {
    size_t i = k % images.size();
    auto r = DecodeImageBytes(images[i]);
    ++(r.ok() && r->size() == 1 && (*r)[0].text == texts[i] ? right : wrong);
  });
  EXPECT_EQ(right.load(), static_cast<int>(images.size() * 4));
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace traceledger::qrcode
