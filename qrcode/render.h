// QR rendering for traceability codes: text -> QR module matrix (ZXing's
// encoder, called only from render.cc), and the matrix -> SVG, PNG, and A4
// label sheets (one SVG per page, or one multi-page PDF). WriteCodeImages
// renders many codes to files on all cores.
//
// Everything here is a pure function of its inputs except WriteCodeImages,
// which writes files. Output is deterministic: the same text and options
// give the same bytes. All functions are safe to call from several threads.
//
// Untrusted input (the text, captions, options from a command line) is
// checked and answered with a RenderError naming the field at fault; nothing
// here throws or asserts on input.
#ifndef TRACELEDGER_QRCODE_RENDER_H_
#define TRACELEDGER_QRCODE_RENDER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qrcode/image.h"
#include "util/result.h"

namespace traceledger::qrcode {

// QR error-correction level (ISO/IEC 18004 §5.4): L ~7 %, M ~15 %,
// Q ~25 %, H ~30 % of the codewords can be restored.
enum class EccLevel { kL, kM, kQ, kH };

std::string_view EccLevelName(EccLevel level);  // "L", "M", "Q", "H"
// Accepts "L", "M", "Q", "H" in either case; nullopt otherwise.
std::optional<EccLevel> ParseEccLevel(std::string_view name);

enum class RenderErrorCode {
  kEmptyText,    // nothing to encode
  kBadText,      // the text is not valid UTF-8
  kTextTooLong,  // more than a version-40 symbol holds at this ECC level
  kBadOption,    // an option out of range, or an empty/mismatched input list
  kBadCaption,   // a caption with characters outside printable ASCII, or too long
  kBadStem,      // a file stem that is empty, contains '/', starts with '.', or repeats
  kIo,           // a file or directory could not be written
};
std::string_view RenderErrorCodeName(RenderErrorCode code);  // "empty_text", ...

struct RenderError {
  RenderErrorCode code;
  std::string message;  // names the field, label index or file at fault
};

template <typename T>
using RenderResult = Result<T, RenderError>;

// A QR symbol without its quiet zone: size x size modules, row-major,
// 1 = dark. size is 21 + 4 * (version - 1), 21..177.
struct QrMatrix {
  int size = 0;
  std::vector<uint8_t> modules;

  bool dark(int x, int y) const { return modules[static_cast<size_t>(y) * size + x] != 0; }
};

// Encodes `text` (UTF-8) in the smallest QR version that holds it at `ecc`.
// Text that is all ISO-8859-1 is stored in byte mode without an ECI (what
// every phone reads); other text is stored as UTF-8 with ECI 26.
// Errors: kEmptyText, kBadText, kTextTooLong.
[[nodiscard]] RenderResult<QrMatrix> EncodeQr(std::string_view text, EccLevel ecc = EccLevel::kM);

// Options of one code's image.
struct ImageOptions {
  EccLevel ecc = EccLevel::kM;
  int module_px = 8;  // PNG pixels per module, 1..kMaxModulePx; SVG width/height
  int margin = 4;     // quiet zone in modules, 0..kMaxMargin (ISO/IEC 18004 asks for 4)
};
inline constexpr int kMaxModulePx = 64;
inline constexpr int kMaxMargin = 64;

// kBadOption naming "module_px" or "margin" if out of range.
[[nodiscard]] RenderResult<void> CheckImageOptions(const ImageOptions& options);

// An SVG document: viewBox in module units (size + 2 * margin square), a
// white background rectangle and ONE <path> holding every dark module
// (one "M x y h n v1 h-n z" run per horizontal run of dark modules);
// width and height attributes are module_px times the viewBox, in px.
// Errors: kBadOption.
[[nodiscard]] RenderResult<std::string> RenderSvg(const QrMatrix& matrix, const ImageOptions& options);

// A 1-bit greyscale PNG, (size + 2 * margin) * module_px pixels square,
// dark modules black, the rest white; no ancillary chunks. Errors: kBadOption.
[[nodiscard]] RenderResult<std::vector<uint8_t>> RenderPng(const QrMatrix& matrix,
                                                           const ImageOptions& options);

// The same raster as RenderPng, as 8-bit luminance pixels (for tests,
// benchmarks and compositing). Errors: kBadOption.
[[nodiscard]] RenderResult<GrayImage> RasterizeQr(const QrMatrix& matrix, const ImageOptions& options);

// Text straight to an image: EncodeQr, then RenderSvg / RenderPng.
[[nodiscard]] RenderResult<std::string> RenderSvg(std::string_view text, const ImageOptions& options);
[[nodiscard]] RenderResult<std::vector<uint8_t>> RenderPng(std::string_view text,
                                                           const ImageOptions& options);

// Plain raster encoders for GrayImage (8-bit greyscale PNG; baseline JPEG at
// quality 1..100, clamped). REQUIRES: image.pixels.size() == width * height,
// width and height > 0.
std::vector<uint8_t> EncodeGrayPng(const GrayImage& image);
std::vector<uint8_t> EncodeGrayJpeg(const GrayImage& image, int quality);

// ---- A4 label sheets ----

// One label: the code's text and a short caption printed under it (usually
// the serial). Captions are printable ASCII (0x20..0x7E), at most
// kMaxCaptionChars, and may be empty.
struct Label {
  std::string text;
  std::string caption;
};
inline constexpr size_t kMaxCaptionChars = 64;

// A grid of columns x rows labels on A4 portrait (210 x 297 mm), filled row
// by row, as many pages as needed. In each label the QR square (quiet zone
// included) is as large as fits above the caption line, centred; the caption
// is set in Courier, shrunk if needed to fit the label's width.
struct SheetOptions {
  EccLevel ecc = EccLevel::kM;
  int columns = 3;                // 1..20
  int rows = 7;                   // 1..30
  double page_margin_mm = 10.0;   // blank border of the page, 0..50
  double label_padding_mm = 1.5;  // blank border inside each label, 0..20
  int margin = 4;                 // QR quiet zone in modules, 0..kMaxMargin
  double caption_pt = 8.0;        // caption font size, 4..24 pt
  bool outlines = true;           // hairline grey label borders (cutting guides)
};
inline constexpr double kA4WidthMm = 210.0;
inline constexpr double kA4HeightMm = 297.0;
// Labels whose QR square would come out smaller than this are refused.
inline constexpr double kMinQrSideMm = 8.0;

// One standalone SVG document per page (width 210mm, height 297mm, viewBox
// in millimetres). Errors: kBadOption (options, no labels, QR too small),
// kEmptyText / kBadText / kTextTooLong / kBadCaption naming the label index.
[[nodiscard]] RenderResult<std::vector<std::string>> RenderLabelSheetsSvg(std::span<const Label> labels,
                                                                          const SheetOptions& options);

// One PDF 1.4 file with every page: each QR is a filled vector path of
// rectangles, captions use the standard Courier font (not embedded), page
// contents are Flate-compressed. Same errors as RenderLabelSheetsSvg.
[[nodiscard]] RenderResult<std::string> RenderLabelSheetsPdf(std::span<const Label> labels,
                                                             const SheetOptions& options);

// ---- Batch ----

struct WriteImagesOptions {
  ImageOptions image;
  bool png = true;     // write <stem>.png
  bool svg = false;    // write <stem>.svg
  size_t threads = 0;  // 0 = one per core
};

struct BatchFailure {
  size_t index;  // into texts / stems
  RenderError error;
};

struct BatchReport {
  size_t written = 0;                  // codes whose every requested file was written
  std::vector<BatchFailure> failures;  // sorted by index
};

// Called after each code with (codes finished, total). Calls come from the
// worker threads but never overlap, and `done` increases by one each time.
using ProgressFn = std::function<void(size_t done, size_t total)>;

// Renders texts[i] into <out_dir>/<stems[i]>.png and/or .svg on all cores.
// Each file is written to a temporary name in out_dir and renamed into
// place, so a file that exists is complete. A code that fails (bad text, a
// write error) is listed in failures and the others are still written.
// Returns an error without writing anything if the lists differ in length,
// are empty, a stem is invalid or repeated (kBadStem), the options are out
// of range or neither format is chosen (kBadOption), or out_dir is not an
// existing directory (kIo).
[[nodiscard]] RenderResult<BatchReport> WriteCodeImages(std::span<const std::string> texts,
                                                        std::span<const std::string> stems,
                                                        const std::string& out_dir,
                                                        const WriteImagesOptions& options,
                                                        const ProgressFn& progress = {});

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_RENDER_H_
