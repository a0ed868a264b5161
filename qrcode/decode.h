// QR decoding from image files: PNG or JPEG bytes (phone photos, scans,
// screenshots) -> every QR symbol found, with its text and corners. The
// only code in TraceLedger that calls ZXing's reader (decode.cc) and stb's
// image loader.
//
// Untrusted images never crash the process: every file that is empty,
// truncated, too large, corrupt or not a PNG/JPEG gets an ImageError with a
// specific code and a message naming what is wrong and where. Limits are
// checked before any pixel memory is allocated (DecodeOptions).
//
// Finding nothing is not an error: the result is an empty list.
//
// Decoding is a pure function of the bytes and options. All functions are
// safe to call from several threads at once.
#ifndef TRACELEDGER_QRCODE_DECODE_H_
#define TRACELEDGER_QRCODE_DECODE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qrcode/image.h"
#include "util/result.h"

namespace traceledger::qrcode {

enum class ImageErrorCode {
  kIo,                 // the file could not be opened or read (missing, a directory, permissions)
  kEmpty,              // zero bytes
  kTooManyBytes,       // the file is larger than DecodeOptions::max_bytes
  kNotAnImage,         // not a known image format at all (text, random bytes)
  kUnsupportedFormat,  // an image format other than PNG and JPEG (GIF, BMP, WebP, HEIC, TIFF, ...)
  kTruncated,          // a PNG or JPEG that ends before its end marker
  kCorrupt,            // a PNG or JPEG whose structure or pixel data is invalid
  kTooManyPixels,      // width * height above DecodeOptions::max_pixels, or a side above max_side
};
std::string_view ImageErrorCodeName(ImageErrorCode code);  // "io", "empty", "too_many_bytes", ...

struct ImageError {
  ImageErrorCode code;
  std::string message;  // what is wrong, and at which byte or chunk where known
};

template <typename T>
using ImageResult = Result<T, ImageError>;

// Default limits: a 200 MP phone photo (16320 x 12240) is refused, a 108 MP
// one (12000 x 9000) is read. Peak memory of one decode is about 4 (JPEG) to
// 6 (PNG) bytes per pixel of a colour image: stb's buffers, the greyscale
// image, a working copy and ZXing's binarized bits.
inline constexpr size_t kDefaultMaxImageBytes = 64u << 20;     // 64 MiB
inline constexpr uint64_t kDefaultMaxImagePixels = 120000000;  // 120 megapixels
inline constexpr int kDefaultMaxImageSide = 16384;

struct DecodeOptions {
  size_t max_bytes = kDefaultMaxImageBytes;
  uint64_t max_pixels = kDefaultMaxImagePixels;
  int max_side = kDefaultMaxImageSide;
  // Stop at this many symbols per image (1..255).
  int max_symbols = 255;
  // Run every fallback pass even after a symbol was found (slower; finds a
  // second, harder code next to an easy one). Off: later passes run only
  // when the earlier ones found nothing.
  bool exhaustive = false;
};

struct PixelPoint {
  int x = 0;
  int y = 0;
  bool operator==(const PixelPoint&) const = default;
};

// One QR symbol found in an image.
struct DecodedSymbol {
  // The content as UTF-8: byte-mode data is read as the ECI says, else as
  // ISO-8859-1 / UTF-8 / Shift_JIS by ZXing's guess. Any text at all: it is
  // not checked to be one of ours.
  std::string text;
  // Corners of the symbol (its own top-left, top-right, bottom-right,
  // bottom-left finder-pattern corners), in pixels of the image as stored
  // (EXIF orientation is not applied), x to the right, y down.
  std::array<PixelPoint, 4> corners;
  char ec_level = '?';      // 'L', 'M', 'Q' or 'H'
  int orientation_deg = 0;  // rotation of the symbol, -180..180, 0 = upright
  bool inverted = false;    // light modules on a dark background
  bool mirrored = false;    // the symbol was read mirror-imaged
  int pass = 1;             // the DecodeGray pass that found it, kPassPlain..kPassUpscaled
};

// Reads a PNG or JPEG (greyscale, RGB, palette, 16-bit, interlaced or
// progressive) into 8-bit luminance. Checks, in order: empty, max_bytes,
// the format signature, the file's chunk/marker structure (kTruncated,
// kCorrupt; PNG CRCs are checked), the dimensions against max_pixels and
// max_side (before decoding pixels), then the pixel data (kCorrupt).
[[nodiscard]] ImageResult<GrayImage> LoadImageBytes(std::span<const uint8_t> bytes,
                                                    const DecodeOptions& options = {});

// Finds QR symbols in a luminance image. Passes, in order, each only if
// the previous ones found nothing (every pass with `exhaustive`):
//   1. the image as it is: ZXing's hybrid (local-average) binarizer,
//      try-harder, with its downscale pyramid for large images;
//   2. smoothed by a 3 x 3 binomial filter (sensor noise);
//   3. local contrast normalization (faint codes, uneven light);
//   4. inverted (light-on-dark codes);
//   5. upscaled 2x (codes of few pixels per module), if the image's longer
//      side is at most 2048 pixels.
// Within a pass, symbols found are painted over and the image searched
// again (up to 8 rounds), because ZXing loses symbols when it groups the
// finder patterns of several codes. Symbols found twice are reported once.
inline constexpr int kPassPlain = 1;
inline constexpr int kPassSmoothed = 2;
inline constexpr int kPassNormalized = 3;
inline constexpr int kPassInverted = 4;
inline constexpr int kPassUpscaled = 5;
std::vector<DecodedSymbol> DecodeGray(const GrayImage& image, const DecodeOptions& options = {});

// LoadImageBytes, then DecodeGray.
[[nodiscard]] ImageResult<std::vector<DecodedSymbol>> DecodeImageBytes(std::span<const uint8_t> bytes,
                                                                       const DecodeOptions& options = {});

// Reads the file (refusing one larger than max_bytes before reading it),
// then DecodeImageBytes. Messages start with the path.
[[nodiscard]] ImageResult<std::vector<DecodedSymbol>> DecodeImageFile(const std::string& path,
                                                                      const DecodeOptions& options = {});

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_DECODE_H_
