// The only place TraceLedger reads images (stb_image) and QR symbols
// (ZXing's reader). ZXing and stb types stay in this file.
#define ZX_USE_UTF8 1  // ZXing 1.4: Result::text() returns UTF-8
#include "qrcode/decode.h"

#include <ZXing/DecodeHints.h>
#include <ZXing/ImageView.h>
#include <ZXing/ReadBarcode.h>
#include <stb_image.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "qrcode/qr_png.h"
#include "util/encoding.h"

namespace traceledger::qrcode {
namespace {

ImageError Err(ImageErrorCode code, std::string message) { return ImageError{code, std::move(message)}; }

bool StartsWith(std::span<const uint8_t> b, std::string_view magic, size_t at = 0) {
  return b.size() >= at + magic.size() && std::memcmp(b.data() + at, magic.data(), magic.size()) == 0;
}

std::string At(size_t pos) { return "at byte " + std::to_string(pos); }

enum class Format { kPng, kJpeg };

// Recognizes PNG and JPEG by signature, and names the other common image
// formats so that the error says what the file is.
ImageResult<Format> Sniff(std::span<const uint8_t> b) {
  if (StartsWith(b, "\x89PNG\r\n\x1a\n")) return Format::kPng;
  if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Format::kJpeg;
  if (StartsWith(b, "\x89PNG")) {
    return Err(ImageErrorCode::kCorrupt, "corrupt PNG: damaged signature (was it copied as text?)");
  }
  using namespace std::string_view_literals;
  struct Known {
    std::string_view magic;
    size_t at;
    const char* name;
  };
  static constexpr Known kKnown[] = {
      {"GIF87a"sv, 0, "GIF"},    {"GIF89a"sv, 0, "GIF"},    {"WEBP"sv, 8, "WebP"},
      {"ftypheic"sv, 4, "HEIC"}, {"ftypheix"sv, 4, "HEIC"}, {"ftypmif1"sv, 4, "HEIF"},
      {"ftypavif"sv, 4, "AVIF"}, {"II*\0"sv, 0, "TIFF"},    {"MM\0*"sv, 0, "TIFF"},
      {"%PDF-"sv, 0, "PDF"},     {"<svg"sv, 0, "SVG"},      {"<?xml"sv, 0, "XML"},
      {"P5"sv, 0, "PGM"},        {"P6"sv, 0, "PPM"},
  };
  // BMP's magic is only "BM": also require a known DIB header size.
  if (StartsWith(b, "BM") && b.size() >= 18) {
    uint32_t dib = b[14] | (b[15] << 8) | (b[16] << 16) | (static_cast<uint32_t>(b[17]) << 24);
    if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 108 || dib == 124) {
      return Err(ImageErrorCode::kUnsupportedFormat,
                 "unsupported format: this is a BMP file; only PNG and JPEG can be scanned");
    }
  }
  for (const auto& k : kKnown) {
    if (StartsWith(b, k.magic, k.at)) {
      return Err(ImageErrorCode::kUnsupportedFormat, std::string("unsupported format: this is a ") + k.name +
                                                         " file; only PNG and JPEG can be scanned");
    }
  }
  return Err(ImageErrorCode::kNotAnImage, "not an image: no PNG or JPEG signature in the first bytes");
}

struct Dimensions {
  uint32_t width = 0;
  uint32_t height = 0;
};

// Walks the PNG chunk list: every chunk must lie inside the file with a
// correct CRC, IHDR first, IEND last. Bytes after IEND are ignored.
// Returns the size from IHDR.
ImageResult<Dimensions> CheckPngStructure(std::span<const uint8_t> b) {
  Dimensions dims;
  size_t pos = 8;
  bool first = true;
  bool seen_idat = false;
  for (;;) {
    if (pos + 8 > b.size()) {
      return Err(ImageErrorCode::kTruncated,
                 "truncated PNG: the file ends " + At(b.size()) +
                     (seen_idat ? " inside the image data, before IEND" : " before any image data"));
    }
    uint32_t len = GetBigEndian32(b.data() + pos);
    std::string type(reinterpret_cast<const char*>(b.data() + pos + 4), 4);
    for (char c : type) {
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
        return Err(ImageErrorCode::kCorrupt, "corrupt PNG: invalid chunk type " + At(pos + 4));
      }
    }
    if (len > 0x7FFFFFFFu)
      return Err(ImageErrorCode::kCorrupt, "corrupt PNG: chunk " + type + " length too large");
    if (pos + 12 + static_cast<size_t>(len) > b.size()) {
      return Err(ImageErrorCode::kTruncated, "truncated PNG: chunk " + type + " " + At(pos) + " needs " +
                                                 std::to_string(12 + static_cast<size_t>(len)) + " bytes, " +
                                                 std::to_string(b.size() - pos) + " remain");
    }
    if (first) {
      if (type != "IHDR" || len != 13)
        return Err(ImageErrorCode::kCorrupt, "corrupt PNG: first chunk is not IHDR");
      dims = {GetBigEndian32(b.data() + pos + 8), GetBigEndian32(b.data() + pos + 12)};
    }
    first = false;
    uint32_t want = GetBigEndian32(b.data() + pos + 8 + len);
    if (internal::Crc32(b.data() + pos + 4, 4 + static_cast<size_t>(len)) != want) {
      return Err(ImageErrorCode::kCorrupt, "corrupt PNG: chunk " + type + " " + At(pos) + " fails its CRC");
    }
    if (type == "IDAT") seen_idat = true;
    if (type == "IEND") {
      if (!seen_idat) return Err(ImageErrorCode::kCorrupt, "corrupt PNG: no IDAT chunk before IEND");
      return dims;
    }
    pos += 12 + static_cast<size_t>(len);
  }
}

// Walks the JPEG marker segments from SOI to EOI, skipping entropy-coded
// data after each SOS. Bytes after EOI (phone makers' trailers) are ignored.
// Returns the size from the (first) frame header.
ImageResult<Dimensions> CheckJpegStructure(std::span<const uint8_t> b) {
  Dimensions dims;
  const size_t n = b.size();
  size_t pos = 2;
  bool seen_frame = false;
  bool seen_scan = false;
  auto truncated = [&](const std::string& where) {
    return Err(ImageErrorCode::kTruncated,
               "truncated JPEG: the file ends " + where + ", " + At(n) + ", before the end-of-image marker");
  };
  for (;;) {
    if (pos >= n) return truncated(seen_scan ? "inside the image data" : "before any image data");
    if (b[pos] != 0xFF) return Err(ImageErrorCode::kCorrupt, "corrupt JPEG: expected a marker " + At(pos));
    while (pos < n && b[pos] == 0xFF) ++pos;  // fill bytes
    if (pos >= n) return truncated("inside a marker");
    uint8_t marker = b[pos++];
    if (marker == 0xD9) {  // EOI
      if (!seen_scan) return Err(ImageErrorCode::kCorrupt, "corrupt JPEG: end of image before any scan");
      return dims;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // standalone
    if (marker == 0x00 || marker == 0xD8) {
      return Err(ImageErrorCode::kCorrupt, "corrupt JPEG: unexpected marker " + At(pos - 2));
    }
    if (pos + 2 > n) return truncated("inside a segment header");
    size_t len = (static_cast<size_t>(b[pos]) << 8) | b[pos + 1];
    if (len < 2) return Err(ImageErrorCode::kCorrupt, "corrupt JPEG: segment length < 2 " + At(pos));
    if (pos + len > n) return truncated("inside a segment");
    if ((marker >= 0xC0 && marker <= 0xCF) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC &&
        !seen_frame) {
      // SOFn: length(2) precision(1) height(2) width(2) ...
      if (len < 8) return Err(ImageErrorCode::kCorrupt, "corrupt JPEG: short frame header " + At(pos));
      dims.height = static_cast<uint32_t>((b[pos + 3] << 8) | b[pos + 4]);
      dims.width = static_cast<uint32_t>((b[pos + 5] << 8) | b[pos + 6]);
      seen_frame = true;
    }
    pos += len;
    if (marker == 0xDA) {  // SOS: entropy-coded data up to the next real marker
      if (!seen_frame) return Err(ImageErrorCode::kCorrupt, "corrupt JPEG: scan before the frame header");
      seen_scan = true;
      for (;;) {
        const void* ff = std::memchr(b.data() + pos, 0xFF, n - pos);
        if (ff == nullptr) return truncated("inside the image data");
        pos = static_cast<size_t>(static_cast<const uint8_t*>(ff) - b.data());
        if (pos + 1 >= n) return truncated("inside the image data");
        uint8_t next = b[pos + 1];
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) {
          pos += next == 0xFF ? 1 : 2;  // stuffed byte, restart marker, or fill
          continue;
        }
        break;  // a marker: back to the segment loop
      }
    }
  }
}

struct StbFree {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

// ---- ZXing ----

PixelPoint ToPixel(const ZXing::PointI& p, int divisor) { return PixelPoint{p.x / divisor, p.y / divisor}; }

DecodedSymbol ToSymbol(const ZXing::Result& r, int pass, int scale_divisor) {
  DecodedSymbol s;
  s.text = r.text();
  const auto& pos = r.position();
  s.corners = {ToPixel(pos.topLeft(), scale_divisor), ToPixel(pos.topRight(), scale_divisor),
               ToPixel(pos.bottomRight(), scale_divisor), ToPixel(pos.bottomLeft(), scale_divisor)};
  std::string ec = r.ecLevel();
  s.ec_level = ec.size() == 1 ? ec[0] : '?';
  s.orientation_deg = r.orientation();
  s.inverted = pass == kPassInverted;
  s.pass = pass;
  s.mirrored = r.isMirrored();
  return s;
}

double Side(const DecodedSymbol& s) {
  return std::hypot(s.corners[1].x - s.corners[0].x, s.corners[1].y - s.corners[0].y);
}

// The same symbol found again (by another pass): same text, centres closer
// than half the symbol's side.
bool SameSymbol(const DecodedSymbol& a, const DecodedSymbol& b) {
  if (a.text != b.text) return false;
  double ax = 0, ay = 0, bx = 0, by = 0;
  for (int i = 0; i < 4; ++i) {
    ax += a.corners[i].x, ay += a.corners[i].y;
    bx += b.corners[i].x, by += b.corners[i].y;
  }
  return std::hypot(ax - bx, ay - by) / 4 < std::max(Side(a), Side(b)) / 2 + 2;
}

void AddUnique(std::vector<DecodedSymbol>& out, DecodedSymbol s) {
  for (const auto& have : out) {
    if (SameSymbol(have, s)) return;
  }
  out.push_back(std::move(s));
}

ZXing::DecodeHints BaseHints(const DecodeOptions& options) {
  ZXing::DecodeHints hints;
  hints.setFormats(ZXing::BarcodeFormat::QRCode)
      .setTryHarder(true)
      // The QR detector is rotation-invariant; rotating the image only
      // helps 1-D formats and would double the time spent on misses.
      .setTryRotate(false)
      .setTryDownscale(true)
      .setMaxNumberOfSymbols(static_cast<uint8_t>(std::clamp(options.max_symbols, 1, 255)));
  return hints;
}

// Fills the symbol's quadrilateral, grown by 15 % around its centre to
// cover the finder patterns' outer edges, with a flat grey.
void PaintOver(GrayImage& img, const ZXing::Position& pos) {
  double cx = 0, cy = 0;
  for (const auto& p : pos) cx += p.x, cy += p.y;
  cx /= 4, cy /= 4;
  std::array<std::array<double, 2>, 4> q;
  double x_lo = 1e18, x_hi = -1e18, y_lo = 1e18, y_hi = -1e18;
  for (int i = 0; i < 4; ++i) {
    q[i] = {cx + (pos[i].x - cx) * 1.15, cy + (pos[i].y - cy) * 1.15};
    x_lo = std::min(x_lo, q[i][0]), x_hi = std::max(x_hi, q[i][0]);
    y_lo = std::min(y_lo, q[i][1]), y_hi = std::max(y_hi, q[i][1]);
  }
  const int x0 = std::max(0, static_cast<int>(std::floor(x_lo)));
  const int x1 = std::min(img.width - 1, static_cast<int>(std::ceil(x_hi)));
  const int y0 = std::max(0, static_cast<int>(std::floor(y_lo)));
  const int y1 = std::min(img.height - 1, static_cast<int>(std::ceil(y_hi)));
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      int pos_side = 0, neg_side = 0;
      for (int i = 0; i < 4; ++i) {
        const auto& a = q[i];
        const auto& b = q[(i + 1) % 4];
        double cross = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
        ++(cross < 0 ? neg_side : pos_side);
      }
      if (pos_side == 0 || neg_side == 0) img.at(x, y) = 128;
    }
  }
}

// Up to this many rounds per pass: ZXing's grouping of finder patterns into
// symbols gets confused when an image holds several codes, so after each
// round the symbols found are painted over and the image is searched again.
constexpr int kMaxRounds = 8;

// Runs ZXing on `img` (consumed: found symbols are painted over) and adds
// what it finds to `out`, with positions divided by scale_divisor.
void RunPass(GrayImage img, const ZXing::DecodeHints& hints, int pass, int scale_divisor,
             std::vector<DecodedSymbol>& out) {
  for (int round = 0; round < kMaxRounds; ++round) {
    ZXing::ImageView view(img.pixels.data(), img.width, img.height, ZXing::ImageFormat::Lum);
    size_t before = out.size();
    bool any = false;
    for (const auto& r : ZXing::ReadBarcodes(view, hints)) {
      if (!r.isValid()) continue;
      any = true;
      AddUnique(out, ToSymbol(r, pass, scale_divisor));
      PaintOver(img, r.position());
    }
    if (!any || out.size() == before || out.size() >= hints.maxNumberOfSymbols()) return;
  }
}

GrayImage Inverted(const GrayImage& img) {
  GrayImage out = img;
  for (auto& p : out.pixels) p = static_cast<uint8_t>(255 - p);
  return out;
}

// Local contrast normalization: each pixel becomes 128 + 60 * (v - mean) /
// max(stddev, 4) over a (2r+1)^2 window, r = max(8, shorter side / 40).
// Faint codes on a grey, unevenly lit background come out black on white.
// Memory: two int64 column sums per image column.
GrayImage Normalized(const GrayImage& img) {
  const int w = img.width, h = img.height;
  const int r = std::max(8, std::min(w, h) / 40);
  std::vector<int64_t> col_sum(static_cast<size_t>(w), 0), col_sq(static_cast<size_t>(w), 0);
  auto add_row = [&](int y, int sign) {
    for (int x = 0; x < w; ++x) {
      int64_t v = img.at(x, y);
      col_sum[static_cast<size_t>(x)] += sign * v;
      col_sq[static_cast<size_t>(x)] += sign * v * v;
    }
  };
  GrayImage out(w, h);
  for (int y = 0; y <= std::min(r, h - 1); ++y) add_row(y, 1);
  for (int y = 0; y < h; ++y) {
    if (y > 0 && y + r < h) add_row(y + r, 1);
    if (y - r - 1 >= 0) add_row(y - r - 1, -1);
    const int64_t rows = std::min(h - 1, y + r) - std::max(0, y - r) + 1;
    int64_t sum = 0, sq = 0;
    auto add_col = [&](int x, int sign) {
      sum += sign * col_sum[static_cast<size_t>(x)];
      sq += sign * col_sq[static_cast<size_t>(x)];
    };
    for (int x = 0; x <= std::min(r, w - 1); ++x) add_col(x, 1);
    for (int x = 0; x < w; ++x) {
      if (x > 0 && x + r < w) add_col(x + r, 1);
      if (x - r - 1 >= 0) add_col(x - r - 1, -1);
      const auto n = static_cast<double>(rows * (std::min(w - 1, x + r) - std::max(0, x - r) + 1));
      const double mean = static_cast<double>(sum) / n;
      const double var = std::max(0.0, static_cast<double>(sq) / n - mean * mean);
      const double v = 128 + 60 * (img.at(x, y) - mean) / std::max(std::sqrt(var), 4.0);
      out.at(x, y) = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
  }
  return out;
}

// Bilinear 2x upscale (pixel centres aligned).
GrayImage Upscaled2x(const GrayImage& img) {
  GrayImage out(img.width * 2, img.height * 2);
  for (int y = 0; y < out.height; ++y) {
    double sy = std::clamp((y + 0.5) / 2 - 0.5, 0.0, img.height - 1.0);
    int y0 = static_cast<int>(sy);
    int y1 = std::min(y0 + 1, img.height - 1);
    double fy = sy - y0;
    for (int x = 0; x < out.width; ++x) {
      double sx = std::clamp((x + 0.5) / 2 - 0.5, 0.0, img.width - 1.0);
      int x0 = static_cast<int>(sx);
      int x1 = std::min(x0 + 1, img.width - 1);
      double fx = sx - x0;
      double v = (img.at(x0, y0) * (1 - fx) + img.at(x1, y0) * fx) * (1 - fy) +
                 (img.at(x0, y1) * (1 - fx) + img.at(x1, y1) * fx) * fy;
      out.at(x, y) = static_cast<uint8_t>(std::lround(v));
    }
  }
  return out;
}

constexpr int kMaxUpscaleSide = 2048;

// 3 x 3 binomial smoothing ([1 2 1] / 4 each way): takes the edge off
// sensor noise that breaks up thin modules.
GrayImage Smoothed(const GrayImage& img) {
  const int w = img.width, h = img.height;
  GrayImage tmp(w, h), out(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int l = img.at(std::max(0, x - 1), y), c = img.at(x, y), r = img.at(std::min(w - 1, x + 1), y);
      tmp.at(x, y) = static_cast<uint8_t>((l + 2 * c + r + 2) / 4);
    }
  }
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      int u = tmp.at(x, std::max(0, y - 1)), c = tmp.at(x, y), d = tmp.at(x, std::min(h - 1, y + 1));
      out.at(x, y) = static_cast<uint8_t>((u + 2 * c + d + 2) / 4);
    }
  }
  return out;
}

}  // namespace

std::string_view ImageErrorCodeName(ImageErrorCode code) {
  static constexpr std::string_view kNames[] = {
      "io",        "empty",   "too_many_bytes", "not_an_image", "unsupported_format",
      "truncated", "corrupt", "too_many_pixels"};
  return kNames[static_cast<size_t>(code)];
}

ImageResult<GrayImage> LoadImageBytes(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (bytes.empty()) return Err(ImageErrorCode::kEmpty, "the file is empty (0 bytes)");
  if (bytes.size() > options.max_bytes) {
    return Err(
        ImageErrorCode::kTooManyBytes,
        std::to_string(bytes.size()) + " bytes, more than the limit of " + std::to_string(options.max_bytes));
  }
  // stb takes an int length.
  if (bytes.size() > 0x7FFFFFFF) return Err(ImageErrorCode::kTooManyBytes, "more than 2 GiB");
  auto format = Sniff(bytes);
  if (!format.ok()) return format.error();
  auto structure = *format == Format::kPng ? CheckPngStructure(bytes) : CheckJpegStructure(bytes);
  if (!structure.ok()) return structure.error();
  const char* kind = *format == Format::kPng ? "PNG" : "JPEG";
  // The limits are checked on the header's numbers, before stb allocates
  // anything (stb itself refuses sides above 2^24 only).
  const uint32_t hw = structure->width, hh = structure->height;
  if (hw == 0 || hh == 0)
    return Err(ImageErrorCode::kCorrupt, std::string("corrupt ") + kind + ": zero width or height");
  const uint64_t pixels = static_cast<uint64_t>(hw) * hh;
  if (hw > static_cast<uint32_t>(options.max_side) || hh > static_cast<uint32_t>(options.max_side) ||
      pixels > options.max_pixels) {
    return Err(ImageErrorCode::kTooManyPixels, std::to_string(hw) + " x " + std::to_string(hh) +
                                                   " pixels, more than the limit of " +
                                                   std::to_string(options.max_pixels) + " pixels or " +
                                                   std::to_string(options.max_side) + " per side");
  }
  const auto* data = bytes.data();
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &channels)) {
    return Err(ImageErrorCode::kCorrupt,
               std::string("corrupt ") + kind + ": unreadable header (" + stbi_failure_reason() + ")");
  }
  if (static_cast<uint32_t>(w) != hw || static_cast<uint32_t>(h) != hh) {
    return Err(ImageErrorCode::kCorrupt, std::string("corrupt ") + kind + ": inconsistent size");
  }
  int got_w = 0, got_h = 0;
  std::unique_ptr<stbi_uc, StbFree> pix(stbi_load_from_memory(data, len, &got_w, &got_h, &channels, 1));
  if (!pix) {
    return Err(ImageErrorCode::kCorrupt,
               std::string("corrupt ") + kind + ": cannot decode the pixels (" + stbi_failure_reason() + ")");
  }
  if (got_w != w || got_h != h)
    return Err(ImageErrorCode::kCorrupt, std::string("corrupt ") + kind + ": size changed");
  GrayImage img;
  img.width = w;
  img.height = h;
  img.pixels.assign(pix.get(), pix.get() + pixels);
  return img;
}

std::vector<DecodedSymbol> DecodeGray(const GrayImage& image, const DecodeOptions& options) {
  std::vector<DecodedSymbol> out;
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height)) {
    return out;
  }
  auto hints = BaseHints(options);
  const size_t max_symbols = hints.maxNumberOfSymbols();
  auto done = [&] { return (!options.exhaustive && !out.empty()) || out.size() >= max_symbols; };
  RunPass(image, hints, kPassPlain, 1, out);
  if (!done()) RunPass(Smoothed(image), hints, kPassSmoothed, 1, out);
  if (!done()) RunPass(Normalized(image), hints, kPassNormalized, 1, out);
  if (!done()) RunPass(Inverted(image), hints, kPassInverted, 1, out);
  if (!done() && std::max(image.width, image.height) <= kMaxUpscaleSide) {
    RunPass(Upscaled2x(image), hints, kPassUpscaled, 2, out);
  }
  if (out.size() > max_symbols) out.resize(max_symbols);
  return out;
}

ImageResult<std::vector<DecodedSymbol>> DecodeImageBytes(std::span<const uint8_t> bytes,
                                                         const DecodeOptions& options) {
  auto img = LoadImageBytes(bytes, options);
  if (!img.ok()) return img.error();
  return DecodeGray(*img, options);
}

ImageResult<std::vector<DecodedSymbol>> DecodeImageFile(const std::string& path,
                                                        const DecodeOptions& options) {
  auto fail = [&](ImageErrorCode code, const std::string& why) { return Err(code, path + ": " + why); };
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail(ImageErrorCode::kIo, std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail(ImageErrorCode::kIo, "is a directory");
  if (!S_ISREG(st.st_mode)) return fail(ImageErrorCode::kIo, "not a regular file");
  if (static_cast<uint64_t>(st.st_size) > options.max_bytes) {
    return fail(
        ImageErrorCode::kTooManyBytes,
        std::to_string(st.st_size) + " bytes, more than the limit of " + std::to_string(options.max_bytes));
  }
  std::ifstream f(path, std::ios::binary);
  if (!f) return fail(ImageErrorCode::kIo, std::string("cannot open: ") + std::strerror(errno));
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<size_t>(f.gcount()) != bytes.size()) return fail(ImageErrorCode::kIo, "read failed");
  auto r = DecodeImageBytes(bytes, options);
  if (!r.ok()) return fail(r.error().code, r.error().message);
  return r;
}

}  // namespace traceledger::qrcode
