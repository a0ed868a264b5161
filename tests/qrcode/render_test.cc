// qrcode/render.h: encoding, SVG, PNG, label sheets (SVG and PDF, the PDF
// checked by rasterising it with poppler's pdftoppm and decoding every
// label), and the batch writer.
#include "qrcode/render.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "qrcode/decode.h"
#include "tests/qrcode/distortion.h"

namespace traceledger::qrcode {
namespace {

using testing::SampleUri;

// Decodes a rendered image and returns its texts.
std::vector<std::string> Texts(const ImageResult<std::vector<DecodedSymbol>>& r) {
  std::vector<std::string> out;
  if (r.ok()) {
    for (const auto& s : *r) out.push_back(s.text);
  }
  return out;
}

std::string TempDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "qrimage_" + name + "_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Runs a shell command, returning its stdout; *status gets the exit status.
std::string Shell(const std::string& cmd, int* status) {
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  *status = pclose(f);
  return out;
}

TEST(EncodeQr, EveryEccLevelRoundTripsAndGrowsTheSymbol) {
  const std::string uri = SampleUri(1);
  int previous = 0;
  for (EccLevel level : {EccLevel::kL, EccLevel::kM, EccLevel::kQ, EccLevel::kH}) {
    auto m = EncodeQr(uri, level);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ((m->size - 21) % 4, 0) << "not a QR size: " << m->size;
    EXPECT_GT(m->size, previous) << EccLevelName(level);
    previous = m->size;
    auto img = RasterizeQr(*m, ImageOptions{.module_px = 3});
    ASSERT_TRUE(img.ok());
    auto found = DecodeGray(*img);
    ASSERT_EQ(found.size(), 1u) << EccLevelName(level);
    EXPECT_EQ(found[0].text, uri);
    EXPECT_EQ(found[0].ec_level, EccLevelName(level)[0]);
  }
}

TEST(EncodeQr, Latin1AndOtherUnicodeTextRoundTrip) {
  for (std::string text : {"Café crème, 12 €", "溯源码 批次 LOT-2026-A", "plain ascii"}) {
    auto m = EncodeQr(text);
    ASSERT_TRUE(m.ok()) << text << ": " << m.error().message;
    auto found = DecodeGray(*RasterizeQr(*m, ImageOptions{.module_px = 4}));
    ASSERT_EQ(found.size(), 1u) << text;
    EXPECT_EQ(found[0].text, text);
  }
}

TEST(EncodeQr, RejectsEmptyInvalidAndOversizedText) {
  auto empty = EncodeQr("");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, RenderErrorCode::kEmptyText);

  for (std::string bad : {std::string("\xC3"),
                          std::string("a\xFF"
                                      "b"),
                          std::string("\xC0\xAF"), std::string("\xED\xA0\x80")}) {
    auto r = EncodeQr(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, RenderErrorCode::kBadText);
  }
  // Version 40-L holds 2953 bytes in byte mode; one more does not fit.
  std::string most(2953, 'a');
  auto fits = EncodeQr(most, EccLevel::kL);
  ASSERT_TRUE(fits.ok()) << fits.error().message;
  EXPECT_EQ(fits->size, 177);
  auto over = EncodeQr(most + "a", EccLevel::kL);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, RenderErrorCode::kTextTooLong);
  // ... and at level H far less fits.
  auto over_h = EncodeQr(std::string(1300, 'a'), EccLevel::kH);
  ASSERT_FALSE(over_h.ok());
  EXPECT_EQ(over_h.error().code, RenderErrorCode::kTextTooLong);
}

TEST(EccLevelNames, ParseAndPrint) {
  EXPECT_EQ(ParseEccLevel("q"), EccLevel::kQ);
  EXPECT_EQ(ParseEccLevel("H"), EccLevel::kH);
  EXPECT_EQ(ParseEccLevel("X"), std::nullopt);
  EXPECT_EQ(ParseEccLevel("MM"), std::nullopt);
  EXPECT_EQ(EccLevelName(EccLevel::kL), "L");
}

TEST(RenderPng, PixelsMatchTheMatrixExactly) {
  const std::string uri = SampleUri(2);
  auto m = EncodeQr(uri);
  ASSERT_TRUE(m.ok());
  for (int px : {1, 3, 8, 13}) {
    for (int margin : {0, 1, 4}) {
      ImageOptions o{.module_px = px, .margin = margin};
      auto png = RenderPng(*m, o);
      ASSERT_TRUE(png.ok());
      auto loaded = LoadImageBytes(*png);  // also checks every chunk CRC
      ASSERT_TRUE(loaded.ok()) << loaded.error().message;
      auto want = RasterizeQr(*m, o);
      ASSERT_TRUE(want.ok());
      ASSERT_EQ(loaded->width, (m->size + 2 * margin) * px);
      ASSERT_EQ(loaded->height, loaded->width);
      EXPECT_TRUE(loaded->pixels == want->pixels) << "px " << px << " margin " << margin;
    }
  }
  // The top-left finder pattern starts right after the quiet zone.
  auto img = LoadImageBytes(*RenderPng(*m, ImageOptions{.module_px = 2, .margin = 4}));
  EXPECT_EQ(img->at(7, 7), 255);
  EXPECT_EQ(img->at(8, 8), 0);
}

TEST(RenderPng, DecodesAndIsDeterministic) {
  const std::string uri = SampleUri(3);
  auto a = RenderPng(uri, ImageOptions{});
  auto b = RenderPng(uri, ImageOptions{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(Texts(DecodeImageBytes(*a)), std::vector<std::string>{uri});
  // The largest raster the options allow still encodes (long back-
  // references beyond deflate's 32 KiB window are not used).
  auto big =
      RenderPng(std::string(1200, 'x'), ImageOptions{.ecc = EccLevel::kL, .module_px = 64, .margin = 8});
  ASSERT_TRUE(big.ok());
  auto loaded = LoadImageBytes(*big);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->at(0, 0), 255);
}

TEST(RenderOptions, OutOfRangeValuesAreRejectedByName) {
  auto m = EncodeQr("x");
  for (ImageOptions o : {ImageOptions{.module_px = 0}, ImageOptions{.module_px = kMaxModulePx + 1}}) {
    auto r = RenderPng(*m, o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, RenderErrorCode::kBadOption);
    EXPECT_NE(r.error().message.find("module_px"), std::string::npos);
  }
  for (ImageOptions o : {ImageOptions{.margin = -1}, ImageOptions{.margin = kMaxMargin + 1}}) {
    auto r = RenderSvg(*m, o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, RenderErrorCode::kBadOption);
    EXPECT_NE(r.error().message.find("margin"), std::string::npos);
  }
  auto text_first = RenderPng("", ImageOptions{.module_px = 0});
  ASSERT_FALSE(text_first.ok());
  EXPECT_EQ(text_first.error().code, RenderErrorCode::kBadOption);
  auto empty = RenderSvg("", ImageOptions{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, RenderErrorCode::kEmptyText);
}

// Reads the SVG's path back into a module grid.
std::vector<uint8_t> ParseSvgPath(const std::string& d, int n) {
  std::vector<uint8_t> grid(static_cast<size_t>(n) * n, 0);
  std::regex run("M(\\d+) (\\d+)h(\\d+)v1h-(\\d+)z");
  for (auto it = std::sregex_iterator(d.begin(), d.end(), run); it != std::sregex_iterator(); ++it) {
    int x = std::stoi((*it)[1]), y = std::stoi((*it)[2]), len = std::stoi((*it)[3]);
    EXPECT_EQ(len, std::stoi((*it)[4]));
    for (int k = 0; k < len; ++k) grid[static_cast<size_t>(y) * n + x + k] = 1;
  }
  return grid;
}

TEST(RenderSvg, OnePathThatRedrawsTheMatrix) {
  auto m = EncodeQr(SampleUri(4), EccLevel::kQ);
  ASSERT_TRUE(m.ok());
  ImageOptions o{.module_px = 5, .margin = 2};
  auto svg = RenderSvg(*m, o);
  ASSERT_TRUE(svg.ok());
  const int n = m->size + 4;
  EXPECT_EQ(svg->rfind("<?xml", 0), 0u);
  EXPECT_NE(svg->find("viewBox=\"0 0 " + std::to_string(n) + " " + std::to_string(n) + "\""),
            std::string::npos);
  EXPECT_NE(svg->find("width=\"" + std::to_string(n * 5) + "\""), std::string::npos);
  size_t first = svg->find("<path");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(svg->find("<path", first + 1), std::string::npos) << "more than one path";
  size_t d = svg->find(" d=\"", first) + 4;
  std::string data = svg->substr(d, svg->find('"', d) - d);
  auto grid = ParseSvgPath(data, n);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      int qx = x - 2, qy = y - 2;
      bool dark = qx >= 0 && qy >= 0 && qx < m->size && qy < m->size && m->dark(qx, qy);
      ASSERT_EQ(grid[static_cast<size_t>(y) * n + x], dark ? 1 : 0) << x << "," << y;
    }
  }
}

std::vector<Label> MakeLabels(int n) {
  std::vector<Label> labels;
  for (int i = 0; i < n; ++i) labels.push_back(Label{SampleUri(100 + i), "SN-" + std::to_string(1000 + i)});
  return labels;
}

TEST(LabelSheets, SvgPagesHoldTheGridAndEscapeCaptions) {
  auto labels = MakeLabels(25);
  labels[3].caption = "A&B <1>";
  SheetOptions o;  // 3 x 7 = 21 per page
  auto pages = RenderLabelSheetsSvg(labels, o);
  ASSERT_TRUE(pages.ok()) << pages.error().message;
  ASSERT_EQ(pages->size(), 2u);
  auto count = [](const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count((*pages)[0], "<path"), 21u);
  EXPECT_EQ(count((*pages)[1], "<path"), 4u);
  EXPECT_EQ(count((*pages)[0], "<text"), 21u);
  EXPECT_NE((*pages)[0].find(">A&amp;B &lt;1&gt;</text>"), std::string::npos);
  EXPECT_NE((*pages)[0].find("width=\"210mm\" height=\"297mm\""), std::string::npos);
  EXPECT_NE((*pages)[1].find(">SN-1024</text>"), std::string::npos);
}

TEST(LabelSheets, BadInputIsRejectedNamingTheLabel) {
  auto labels = MakeLabels(3);
  labels[1].caption = "caf\xC3\xA9";
  auto r = RenderLabelSheetsPdf(labels, SheetOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, RenderErrorCode::kBadCaption);
  EXPECT_NE(r.error().message.find("label 2"), std::string::npos) << r.error().message;

  labels = MakeLabels(3);
  labels[2].caption = std::string(kMaxCaptionChars + 1, 'x');
  EXPECT_EQ(RenderLabelSheetsSvg(labels, SheetOptions{}).error().code, RenderErrorCode::kBadCaption);

  labels = MakeLabels(3);
  labels[0].text = "";
  auto empty = RenderLabelSheetsSvg(labels, SheetOptions{});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, RenderErrorCode::kEmptyText);
  EXPECT_NE(empty.error().message.find("label 1"), std::string::npos);

  EXPECT_EQ(RenderLabelSheetsSvg({}, SheetOptions{}).error().code, RenderErrorCode::kBadOption);
  auto tiny = RenderLabelSheetsPdf(MakeLabels(1), SheetOptions{.columns = 20, .rows = 30});
  ASSERT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.error().code, RenderErrorCode::kBadOption);
  EXPECT_NE(tiny.error().message.find("too small"), std::string::npos);
  EXPECT_EQ(RenderLabelSheetsPdf(MakeLabels(1), SheetOptions{.columns = 0}).error().code,
            RenderErrorCode::kBadOption);
  EXPECT_EQ(RenderLabelSheetsPdf(MakeLabels(1), SheetOptions{.caption_pt = 100}).error().code,
            RenderErrorCode::kBadOption);
}

TEST(LabelSheets, PdfXrefPointsAtEveryObject) {
  auto pdf = RenderLabelSheetsPdf(MakeLabels(5), SheetOptions{});
  ASSERT_TRUE(pdf.ok());
  const std::string& s = *pdf;
  EXPECT_EQ(s.rfind("%PDF-1.4\n", 0), 0u);
  ASSERT_GE(s.size(), 6u);
  EXPECT_EQ(s.substr(s.size() - 6), "%%EOF\n");
  size_t startxref = s.rfind("startxref\n");
  ASSERT_NE(startxref, std::string::npos);
  size_t xref = std::stoul(s.substr(startxref + 10));
  ASSERT_EQ(s.compare(xref, 5, "xref\n"), 0);
  // Objects 1..N, each entry 20 bytes.
  std::istringstream in(s.substr(xref + 5));
  int first = 0, count = 0;
  in >> first >> count;
  ASSERT_EQ(first, 0);
  ASSERT_EQ(count, 6);  // free entry, catalog, pages, font, page, content
  size_t entries = s.find('\n', xref + 5) + 1;
  for (int id = 1; id < count; ++id) {
    std::string entry = s.substr(entries + 20 * static_cast<size_t>(id), 20);
    size_t offset = std::stoul(entry.substr(0, 10));
    EXPECT_EQ(s.compare(offset, std::to_string(id).size() + 6, std::to_string(id) + " 0 obj"), 0) << id;
  }
}

// The PDF as a person gets it: poppler reads it, and every label on every
// page scans back to its URI and shows its caption.
TEST(LabelSheets, PdfRasterisedByPopplerScansBackEveryLabel) {
  int status = 0;
  Shell("command -v pdftoppm pdfinfo pdftotext >/dev/null 2>&1", &status);
  ASSERT_EQ(status, 0) << "poppler-utils (pdftoppm, pdfinfo, pdftotext) are not installed; run "
                          "tools/install-deps.sh";
  const std::string dir = TempDir("pdf");
  auto labels = MakeLabels(24);  // 21 on page 1, 3 on page 2
  auto pdf = RenderLabelSheetsPdf(labels, SheetOptions{});
  ASSERT_TRUE(pdf.ok()) << pdf.error().message;
  const std::string path = dir + "/labels.pdf";
  std::ofstream(path, std::ios::binary) << *pdf;

  std::string info = Shell("pdfinfo " + path + " 2>&1", &status);
  ASSERT_EQ(status, 0) << info;
  EXPECT_TRUE(std::regex_search(info, std::regex("Pages:\\s+2\n"))) << info;
  EXPECT_TRUE(std::regex_search(info, std::regex("Page size:\\s+595.2\\d* x 841.89 pts \\(A4\\)"))) << info;
  EXPECT_EQ(info.find("Syntax Error"), std::string::npos) << info;

  std::string text = Shell("pdftotext -layout " + path + " - 2>&1", &status);
  ASSERT_EQ(status, 0);
  for (const auto& l : labels) EXPECT_NE(text.find(l.caption), std::string::npos) << l.caption;

  std::string err = Shell("pdftoppm -r 200 -gray -png " + path + " " + dir + "/page 2>&1", &status);
  ASSERT_EQ(status, 0) << err;
  std::set<std::string> found;
  for (const char* page : {"/page-1.png", "/page-2.png"}) {
    auto r = DecodeImageFile(dir + page);
    ASSERT_TRUE(r.ok()) << r.error().message;
    for (const auto& s : *r) found.insert(s.text);
  }
  std::set<std::string> want;
  for (const auto& l : labels) want.insert(l.text);
  EXPECT_EQ(found, want);
  std::filesystem::remove_all(dir);
}

TEST(WriteCodeImages, WritesEveryFileReportsProgressAndLeavesNoTemporaries) {
  const std::string dir = TempDir("batch");
  std::vector<std::string> texts, stems;
  for (int i = 0; i < 40; ++i) {
    texts.push_back(SampleUri(200 + i));
    stems.push_back("code-" + std::to_string(i));
  }
  std::vector<size_t> calls;
  auto report = WriteCodeImages(texts, stems, dir, WriteImagesOptions{.png = true, .svg = true, .threads = 3},
                                [&](size_t done, size_t total) {
                                  EXPECT_EQ(total, 40u);
                                  calls.push_back(done);
                                });
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->written, 40u);
  EXPECT_TRUE(report->failures.empty());
  ASSERT_EQ(calls.size(), 40u);
  for (size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i], i + 1);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_NE(e.path().filename().string().front(), '.') << "temporary left: " << e.path();
  }
  EXPECT_EQ(files, 80u);
  for (int i : {0, 17, 39}) {
    EXPECT_EQ(Texts(DecodeImageFile(dir + "/code-" + std::to_string(i) + ".png")),
              std::vector<std::string>{texts[static_cast<size_t>(i)]});
  }
  std::ifstream svg(dir + "/code-5.svg");
  std::string svg_text((std::istreambuf_iterator<char>(svg)), {});
  EXPECT_EQ(svg_text, *RenderSvg(texts[5], ImageOptions{}));
  std::filesystem::remove_all(dir);
}

TEST(WriteCodeImages, OneBadCodeOrFileFailsAloneTheRestAreWritten) {
  const std::string dir = TempDir("batch_fail");
  std::vector<std::string> texts = {SampleUri(1), "", SampleUri(3), SampleUri(4)};
  std::vector<std::string> stems = {"a", "b", "c", "d"};
  // A directory where c.png must go makes that rename fail.
  std::filesystem::create_directories(dir + "/c.png/x");
  auto report = WriteCodeImages(texts, stems, dir, WriteImagesOptions{});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->written, 2u);
  ASSERT_EQ(report->failures.size(), 2u);
  EXPECT_EQ(report->failures[0].index, 1u);
  EXPECT_EQ(report->failures[0].error.code, RenderErrorCode::kEmptyText);
  EXPECT_EQ(report->failures[1].index, 2u);
  EXPECT_EQ(report->failures[1].error.code, RenderErrorCode::kIo);
  EXPECT_TRUE(std::filesystem::exists(dir + "/a.png"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/d.png"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/.c.png.tmp"));
  std::filesystem::remove_all(dir);
}

TEST(WriteCodeImages, BadArgumentsWriteNothing) {
  const std::string dir = TempDir("batch_args");
  std::vector<std::string> texts = {SampleUri(1), SampleUri(2)};
  auto expect = [&](std::vector<std::string> stems, RenderErrorCode code, WriteImagesOptions o = {},
                    std::string out = "") {
    auto r = WriteCodeImages(texts, stems, out.empty() ? dir : out, o);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, code) << r.error().message;
  };
  expect({"a"}, RenderErrorCode::kBadOption);
  expect({"a", "a"}, RenderErrorCode::kBadStem);
  expect({"a", "../b"}, RenderErrorCode::kBadStem);
  expect({"a", ".hidden"}, RenderErrorCode::kBadStem);
  expect({"", "b"}, RenderErrorCode::kBadStem);
  expect({"a", "b"}, RenderErrorCode::kBadOption, WriteImagesOptions{.png = false, .svg = false});
  expect({"a", "b"}, RenderErrorCode::kBadOption, WriteImagesOptions{.image = {.module_px = 0}});
  expect({"a", "b"}, RenderErrorCode::kIo, {}, dir + "/missing");
  auto none = WriteCodeImages({}, {}, dir, WriteImagesOptions{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, RenderErrorCode::kBadOption);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace traceledger::qrcode
