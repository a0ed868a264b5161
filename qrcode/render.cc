// The only place TraceLedger encodes QR symbols (through ZXing) and writes
// image files (through stb_image_write and a small PNG/PDF writer here).
#include "qrcode/render.h"

#include <ZXing/BitMatrix.h>
#include <ZXing/CharacterSet.h>
#include <ZXing/MultiFormatWriter.h>
#include <stb_image_write.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <stdexcept>

#include "qrcode/qr_png.h"
#include "util/thread_pool.h"

// Part of libstb's exported implementation (stb_image_write.h uses it for
// PNG IDAT data; we use it for PDF content streams) but not declared by the header: a zlib (RFC 1950) stream
// of `data`, malloc'ed, or NULL on allocation failure.

namespace traceledger::qrcode {
namespace {

RenderError Err(RenderErrorCode code, std::string message) { return RenderError{code, std::move(message)}; }

// Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
// Sets *latin1 to whether every code point is below U+0100.
bool IsValidUtf8(std::string_view s, bool* latin1) {
  *latin1 = true;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp >= 0x100) *latin1 = false;
    i += len;
  }
  return true;
}

// ZXing's MultiFormatWriter takes an ECC level 0..8 and maps it to the QR
// level as (level - 1) / 2: 2 -> L, 4 -> M, 6 -> Q, 8 -> H.
int ZxingEccLevel(EccLevel level) {
  switch (level) {
    case EccLevel::kL:
      return 2;
    case EccLevel::kM:
      return 4;
    case EccLevel::kQ:
      return 6;
    case EccLevel::kH:
      return 8;
  }
  return 4;
}

// Calls fn(x, y, length) for every horizontal run of dark modules.
template <typename Fn>
void ForEachDarkRun(const QrMatrix& m, Fn&& fn) {
  for (int y = 0; y < m.size; ++y) {
    int x = 0;
    while (x < m.size) {
      if (!m.dark(x, y)) {
        ++x;
        continue;
      }
      int start = x;
      while (x < m.size && m.dark(x, y)) ++x;
      fn(start, y, x - start);
    }
  }
}

// The SVG path data of every dark module, offset by `margin` modules.
std::string SvgPathData(const QrMatrix& m, int margin) {
  std::string d;
  d.reserve(static_cast<size_t>(m.size) * m.size);
  char buf[64];
  ForEachDarkRun(m, [&](int x, int y, int len) {
    int n = std::snprintf(buf, sizeof buf, "M%d %dh%dv1h-%dz", x + margin, y + margin, len, len);
    d.append(buf, static_cast<size_t>(n));
  });
  return d;
}

// Shortest decimal for a coordinate: up to 3 decimals, no trailing zeros.
std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

void AppendBytes(std::vector<uint8_t>* out, const void* data, int size) {
  auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

// ---- files ----

RenderResult<void> WriteFileAtomically(const std::filesystem::path& dir, const std::string& name,
                                       std::string_view bytes) {
  std::filesystem::path final_path = dir / name;
  std::filesystem::path tmp_path = dir / ("." + name + ".tmp");
  {
    std::ofstream f(tmp_path, std::ios::binary | std::ios::trunc);
    if (!f) return Err(RenderErrorCode::kIo, tmp_path.string() + ": cannot create: " + std::strerror(errno));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::error_code ec;
      std::filesystem::remove(tmp_path, ec);
      return Err(RenderErrorCode::kIo, tmp_path.string() + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp_path, final_path, ec);
  if (ec) {
    std::filesystem::remove(tmp_path, ec);
    return Err(RenderErrorCode::kIo, final_path.string() + ": " + ec.message());
  }
  return {};
}

// ---- label sheets ----

constexpr double kPtPerMm = 72.0 / 25.4;
constexpr double kCourierAdvance = 0.6;  // Courier: every glyph is 600/1000 em wide
constexpr double kCaptionLineFactor = 1.25;

RenderResult<void> CheckSheetOptions(const SheetOptions& o) {
  auto bad = [](const std::string& what) { return Err(RenderErrorCode::kBadOption, what); };
  if (o.columns < 1 || o.columns > 20) return bad("columns: must be 1..20, got " + std::to_string(o.columns));
  if (o.rows < 1 || o.rows > 30) return bad("rows: must be 1..30, got " + std::to_string(o.rows));
  if (!(o.page_margin_mm >= 0 && o.page_margin_mm <= 50)) return bad("page_margin_mm: must be 0..50");
  if (!(o.label_padding_mm >= 0 && o.label_padding_mm <= 20)) return bad("label_padding_mm: must be 0..20");
  if (o.margin < 0 || o.margin > kMaxMargin) return bad("margin: must be 0..64 modules");
  if (!(o.caption_pt >= 4 && o.caption_pt <= 24)) return bad("caption_pt: must be 4..24");
  return {};
}

// Where things go on a page, in millimetres from the top-left corner.
struct LabelBox {
  double x, y;          // the label cell
  double qr_x, qr_y;    // the QR square, quiet zone included
  double module_mm;     // one module
  double caption_x;     // centre of the caption
  double caption_y;     // caption baseline
  double caption_size;  // font size in mm (0: no caption)
};

struct SheetLayout {
  double cell_w, cell_h, qr_side, caption_line;
};

RenderResult<SheetLayout> ComputeLayout(const SheetOptions& o) {
  SheetLayout l;
  l.cell_w = (kA4WidthMm - 2 * o.page_margin_mm) / o.columns;
  l.cell_h = (kA4HeightMm - 2 * o.page_margin_mm) / o.rows;
  l.caption_line = o.caption_pt / kPtPerMm * kCaptionLineFactor;
  l.qr_side = std::min(l.cell_w - 2 * o.label_padding_mm, l.cell_h - 2 * o.label_padding_mm - l.caption_line);
  if (l.qr_side < kMinQrSideMm) {
    return Err(RenderErrorCode::kBadOption,
               "labels too small: " + std::to_string(o.columns) + " x " + std::to_string(o.rows) +
                   " labels leave a " + Num(std::max(0.0, l.qr_side)) + " mm QR square (minimum " +
                   Num(kMinQrSideMm) + " mm); use fewer columns or rows, or smaller margins");
  }
  return l;
}

LabelBox PlaceLabel(const SheetOptions& o, const SheetLayout& l, size_t slot, const QrMatrix& m,
                    std::string_view caption) {
  LabelBox b;
  size_t col = slot % static_cast<size_t>(o.columns);
  size_t row = slot / static_cast<size_t>(o.columns);
  b.x = o.page_margin_mm + static_cast<double>(col) * l.cell_w;
  b.y = o.page_margin_mm + static_cast<double>(row) * l.cell_h;
  b.qr_x = b.x + (l.cell_w - l.qr_side) / 2;
  b.qr_y = b.y + o.label_padding_mm;
  b.module_mm = l.qr_side / (m.size + 2 * o.margin);
  b.caption_x = b.x + l.cell_w / 2;
  double font = o.caption_pt / kPtPerMm;
  double avail = l.cell_w - 2 * o.label_padding_mm;
  if (!caption.empty())
    font = std::min(font, avail / (kCourierAdvance * static_cast<double>(caption.size())));
  b.caption_size = caption.empty() ? 0 : font;
  // Baseline: the caption line sits under the QR square; Courier's ascent
  // is about 0.63 em, so centring the cap height in the line puts the
  // baseline near line_top + (line + 0.6 em) / 2.
  b.caption_y = b.qr_y + l.qr_side + (l.caption_line + 0.6 * font) / 2;
  return b;
}

// Encodes every label, checking captions; errors name the label.
RenderResult<std::vector<QrMatrix>> EncodeLabels(std::span<const Label> labels, const SheetOptions& o) {
  if (labels.empty()) return Err(RenderErrorCode::kBadOption, "labels: none given");
  std::vector<QrMatrix> out;
  out.reserve(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& c = labels[i].caption;
    std::string where = "label " + std::to_string(i + 1);
    if (c.size() > kMaxCaptionChars) {
      return Err(RenderErrorCode::kBadCaption,
                 where + ": caption longer than " + std::to_string(kMaxCaptionChars) + " characters");
    }
    for (size_t k = 0; k < c.size(); ++k) {
      if (c[k] < 0x20 || c[k] > 0x7E) {
        return Err(RenderErrorCode::kBadCaption,
                   where + ": caption character " + std::to_string(k + 1) + " is not printable ASCII");
      }
    }
    auto m = EncodeQr(labels[i].text, o.ecc);
    if (!m.ok()) return Err(m.error().code, where + ": " + m.error().message);
    out.push_back(std::move(m).value());
  }
  return out;
}

struct PreparedSheets {
  SheetLayout layout;
  std::vector<QrMatrix> matrices;  // one per label
  size_t per_page;
};

// What both sheet formats need: checked options, the layout, every label
// encoded and checked.
RenderResult<PreparedSheets> PrepareSheets(std::span<const Label> labels, const SheetOptions& options) {
  if (auto ok = CheckSheetOptions(options); !ok.ok()) return ok.error();
  auto layout = ComputeLayout(options);
  if (!layout.ok()) return layout.error();
  auto matrices = EncodeLabels(labels, options);
  if (!matrices.ok()) return matrices.error();
  return PreparedSheets{*layout, std::move(matrices).value(),
                        static_cast<size_t>(options.columns) * static_cast<size_t>(options.rows)};
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string PdfEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

namespace {
constexpr std::array<std::string_view, 4> kEccNames = {"L", "M", "Q", "H"};
constexpr std::array<std::string_view, 7> kRenderErrorNames = {
    "empty_text", "bad_text", "text_too_long", "bad_option", "bad_caption", "bad_stem", "io"};
}  // namespace

std::string_view EccLevelName(EccLevel level) { return kEccNames.at(static_cast<size_t>(level)); }

std::optional<EccLevel> ParseEccLevel(std::string_view name) {
  for (size_t i = 0; i < kEccNames.size(); ++i) {
    if (name.size() == 1 && (name[0] == kEccNames[i][0] || name[0] == kEccNames[i][0] - 'A' + 'a')) {
      return static_cast<EccLevel>(i);
    }
  }
  return std::nullopt;
}

std::string_view RenderErrorCodeName(RenderErrorCode code) {
  return kRenderErrorNames.at(static_cast<size_t>(code));
}

RenderResult<QrMatrix> EncodeQr(std::string_view text, EccLevel ecc) {
  if (text.empty()) return Err(RenderErrorCode::kEmptyText, "text: empty; nothing to encode");
  bool latin1 = true;
  if (!IsValidUtf8(text, &latin1)) return Err(RenderErrorCode::kBadText, "text: not valid UTF-8");
  ZXing::MultiFormatWriter writer(ZXing::BarcodeFormat::QRCode);
  writer.setMargin(0).setEccLevel(ZxingEccLevel(ecc));
  // ZXing's default byte-mode character set is ISO-8859-1 with no ECI, which
  // is what every reader assumes; anything else must say it is UTF-8.
  if (!latin1) writer.setEncoding(ZXing::CharacterSet::UTF8);
  ZXing::BitMatrix bits;
  try {
    // width = height = 0: one pixel per module, no scaling.
    bits = writer.encode(std::string(text), 0, 0);
  } catch (const std::exception& e) {
    // ZXing signals "Data too big" (and only that, for non-empty valid
    // text) by throwing std::invalid_argument.
    return Err(RenderErrorCode::kTextTooLong, "text: " + std::to_string(text.size()) +
                                                  " bytes do not fit a QR symbol at level " +
                                                  std::string(EccLevelName(ecc)) + " (" + e.what() + ")");
  }
  QrMatrix m;
  m.size = bits.width();
  m.modules.resize(static_cast<size_t>(m.size) * m.size);
  for (int y = 0; y < m.size; ++y) {
    for (int x = 0; x < m.size; ++x) m.modules[static_cast<size_t>(y) * m.size + x] = bits.get(x, y) ? 1 : 0;
  }
  return m;
}

RenderResult<void> CheckImageOptions(const ImageOptions& options) {
  if (options.module_px < 1 || options.module_px > kMaxModulePx) {
    return Err(RenderErrorCode::kBadOption, "module_px: must be 1.." + std::to_string(kMaxModulePx) +
                                                ", got " + std::to_string(options.module_px));
  }
  if (options.margin < 0 || options.margin > kMaxMargin) {
    return Err(RenderErrorCode::kBadOption, "margin: must be 0.." + std::to_string(kMaxMargin) +
                                                " modules, got " + std::to_string(options.margin));
  }
  return {};
}

RenderResult<std::string> RenderSvg(const QrMatrix& matrix, const ImageOptions& options) {
  if (auto ok = CheckImageOptions(options); !ok.ok()) return ok.error();
  int n = matrix.size + 2 * options.margin;
  std::string px = std::to_string(n * options.module_px);
  std::string nn = std::to_string(n);
  std::string svg =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px +
      "\" height=\"" + px + "\" viewBox=\"0 0 " + nn + " " + nn +
      "\" shape-rendering=\"crispEdges\"><rect width=\"" + nn + "\" height=\"" + nn +
      "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  svg += SvgPathData(matrix, options.margin);
  svg += "\"/></svg>\n";
  return svg;
}

RenderResult<std::vector<uint8_t>> RenderPng(const QrMatrix& matrix, const ImageOptions& options) {
  if (auto ok = CheckImageOptions(options); !ok.ok()) return ok.error();
  return internal::EncodeQrPng(matrix, options.module_px, options.margin);
}

RenderResult<GrayImage> RasterizeQr(const QrMatrix& matrix, const ImageOptions& options) {
  if (auto ok = CheckImageOptions(options); !ok.ok()) return ok.error();
  const int px = options.module_px;
  const int side = (matrix.size + 2 * options.margin) * px;
  GrayImage img(side, side, 255);
  for (int qy = 0; qy < matrix.size; ++qy) {
    for (int qx = 0; qx < matrix.size; ++qx) {
      if (!matrix.dark(qx, qy)) continue;
      for (int y = 0; y < px; ++y) {
        uint8_t* row = &img.at((qx + options.margin) * px, (qy + options.margin) * px + y);
        std::memset(row, 0, static_cast<size_t>(px));
      }
    }
  }
  return img;
}

RenderResult<std::string> RenderSvg(std::string_view text, const ImageOptions& options) {
  if (auto ok = CheckImageOptions(options); !ok.ok()) return ok.error();
  auto m = EncodeQr(text, options.ecc);
  if (!m.ok()) return m.error();
  return RenderSvg(*m, options);
}

RenderResult<std::vector<uint8_t>> RenderPng(std::string_view text, const ImageOptions& options) {
  if (auto ok = CheckImageOptions(options); !ok.ok()) return ok.error();
  auto m = EncodeQr(text, options.ecc);
  if (!m.ok()) return m.error();
  return RenderPng(*m, options);
}

std::vector<uint8_t> EncodeGrayPng(const GrayImage& image) {
  std::vector<uint8_t> out;
  stbi_write_png_to_func([](void* ctx, void* data,
                            int size) { AppendBytes(static_cast<std::vector<uint8_t>*>(ctx), data, size); },
                         &out, image.width, image.height, 1, image.pixels.data(), image.width);
  return out;
}

std::vector<uint8_t> EncodeGrayJpeg(const GrayImage& image, int quality) {
  std::vector<uint8_t> out;
  stbi_write_jpg_to_func([](void* ctx, void* data,
                            int size) { AppendBytes(static_cast<std::vector<uint8_t>*>(ctx), data, size); },
                         &out, image.width, image.height, 1, image.pixels.data(),
                         std::clamp(quality, 1, 100));
  return out;
}

RenderResult<std::vector<std::string>> RenderLabelSheetsSvg(std::span<const Label> labels,
                                                            const SheetOptions& options) {
  auto prepared = PrepareSheets(labels, options);
  if (!prepared.ok()) return prepared.error();
  const SheetLayout* layout = &prepared->layout;
  const std::vector<QrMatrix>& matrices = prepared->matrices;
  const size_t per_page = prepared->per_page;
  std::vector<std::string> pages;
  for (size_t first = 0; first < labels.size(); first += per_page) {
    std::string svg =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
        Num(kA4WidthMm) + "mm\" height=\"" + Num(kA4HeightMm) + "mm\" viewBox=\"0 0 " + Num(kA4WidthMm) +
        " " + Num(kA4HeightMm) + "\">\n<rect width=\"" + Num(kA4WidthMm) + "\" height=\"" + Num(kA4HeightMm) +
        "\" fill=\"#fff\"/>\n";
    for (size_t i = first; i < std::min(labels.size(), first + per_page); ++i) {
      const QrMatrix& m = matrices[i];
      LabelBox b = PlaceLabel(options, *layout, i - first, m, labels[i].caption);
      if (options.outlines) {
        svg += "<rect x=\"" + Num(b.x) + "\" y=\"" + Num(b.y) + "\" width=\"" + Num(layout->cell_w) +
               "\" height=\"" + Num(layout->cell_h) +
               "\" fill=\"none\" stroke=\"#bbb\" stroke-width=\"0.1\"/>\n";
      }
      svg += "<path transform=\"translate(" + Num(b.qr_x) + " " + Num(b.qr_y) + ") scale(" +
             std::to_string(b.module_mm) + ")\" fill=\"#000\" d=\"" + SvgPathData(m, options.margin) +
             "\"/>\n";
      if (b.caption_size > 0) {
        svg += "<text x=\"" + Num(b.caption_x) + "\" y=\"" + Num(b.caption_y) +
               "\" font-family=\"Courier, monospace\" font-size=\"" + Num(b.caption_size) +
               "\" text-anchor=\"middle\" fill=\"#000\">" + XmlEscape(labels[i].caption) + "</text>\n";
      }
    }
    svg += "</svg>\n";
    pages.push_back(std::move(svg));
  }
  return pages;
}

RenderResult<std::string> RenderLabelSheetsPdf(std::span<const Label> labels, const SheetOptions& options) {
  auto prepared = PrepareSheets(labels, options);
  if (!prepared.ok()) return prepared.error();
  const SheetLayout* layout = &prepared->layout;
  const std::vector<QrMatrix>& matrices = prepared->matrices;
  const size_t per_page = prepared->per_page;
  const size_t pages = (labels.size() + per_page - 1) / per_page;
  const double page_w = kA4WidthMm * kPtPerMm;
  const double page_h = kA4HeightMm * kPtPerMm;

  // Objects: 1 catalog, 2 page tree, 3 font, then per page i its page
  // object (4 + 2i) and content stream (5 + 2i).
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets(4 + 2 * pages, 0);
  auto begin_obj = [&](size_t id) {
    offsets[id] = pdf.size();
    pdf += std::to_string(id) + " 0 obj\n";
  };
  begin_obj(1);
  pdf += "<< /Type /Catalog /Pages 2 0 R >>\nendobj\n";
  begin_obj(2);
  pdf += "<< /Type /Pages /Count " + std::to_string(pages) + " /Kids [";
  for (size_t p = 0; p < pages; ++p) pdf += (p ? " " : "") + std::to_string(4 + 2 * p) + " 0 R";
  pdf += "] >>\nendobj\n";
  begin_obj(3);
  pdf += "<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>\nendobj\n";

  auto x_pt = [](double mm) { return Num(mm * kPtPerMm); };
  auto y_pt = [&](double mm) { return Num(page_h - mm * kPtPerMm); };
  for (size_t p = 0; p < pages; ++p) {
    std::string content;
    size_t first = p * per_page;
    for (size_t i = first; i < std::min(labels.size(), first + per_page); ++i) {
      const QrMatrix& m = matrices[i];
      LabelBox b = PlaceLabel(options, *layout, i - first, m, labels[i].caption);
      if (options.outlines) {
        content += "0.73 G 0.28 w " + x_pt(b.x) + " " + y_pt(b.y + layout->cell_h) + " " +
                   x_pt(layout->cell_w) + " " + x_pt(layout->cell_h) + " re S\n";
      }
      // Module space: origin at the symbol's top-left module, y down.
      double s = b.module_mm * kPtPerMm;
      content += "q " + std::to_string(s) + " 0 0 " + std::to_string(-s) + " " +
                 x_pt(b.qr_x + options.margin * b.module_mm) + " " +
                 y_pt(b.qr_y + options.margin * b.module_mm) + " cm 0 g\n";
      char buf[64];
      ForEachDarkRun(m, [&](int x, int y, int len) {
        int k = std::snprintf(buf, sizeof buf, "%d %d %d 1 re\n", x, y, len);
        content.append(buf, static_cast<size_t>(k));
      });
      content += "f Q\n";
      if (b.caption_size > 0) {
        double size_pt = b.caption_size * kPtPerMm;
        double width_mm = kCourierAdvance * b.caption_size * static_cast<double>(labels[i].caption.size());
        content += "0 g BT /F1 " + Num(size_pt) + " Tf " + x_pt(b.caption_x - width_mm / 2) + " " +
                   y_pt(b.caption_y) + " Td (" + PdfEscape(labels[i].caption) + ") Tj ET\n";
      }
    }
    uLongf z_len = compressBound(static_cast<uLong>(content.size()));
    std::string z(z_len, '\0');
    if (compress2(reinterpret_cast<Bytef*>(z.data()), &z_len, reinterpret_cast<const Bytef*>(content.data()),
                  static_cast<uLong>(content.size()), Z_BEST_COMPRESSION) != Z_OK) {
      throw std::runtime_error("zlib: compress2 failed");
    }
    z.resize(z_len);
    begin_obj(4 + 2 * p);
    pdf += "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + Num(page_w) + " " + Num(page_h) +
           "] /Resources << /Font << /F1 3 0 R >> >> /Contents " + std::to_string(5 + 2 * p) +
           " 0 R >>\nendobj\n";
    begin_obj(5 + 2 * p);
    pdf += "<< /Length " + std::to_string(z_len) + " /Filter /FlateDecode >>\nstream\n";
    pdf += z;
    pdf += "\nendstream\nendobj\n";
  }
  size_t xref_at = pdf.size();
  pdf += "xref\n0 " + std::to_string(offsets.size()) + "\n0000000000 65535 f \n";
  char entry[32];
  for (size_t id = 1; id < offsets.size(); ++id) {
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offsets[id]);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(offsets.size()) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref_at) + "\n%%EOF\n";
  return pdf;
}

RenderResult<BatchReport> WriteCodeImages(std::span<const std::string> texts,
                                          std::span<const std::string> stems, const std::string& out_dir,
                                          const WriteImagesOptions& options, const ProgressFn& progress) {
  if (texts.size() != stems.size()) {
    return Err(RenderErrorCode::kBadOption, "stems: " + std::to_string(stems.size()) + " stems for " +
                                                std::to_string(texts.size()) + " texts");
  }
  if (texts.empty()) return Err(RenderErrorCode::kBadOption, "texts: none given");
  if (!options.png && !options.svg)
    return Err(RenderErrorCode::kBadOption, "formats: neither png nor svg chosen");
  if (auto ok = CheckImageOptions(options.image); !ok.ok()) return ok.error();
  std::set<std::string_view> seen;
  for (size_t i = 0; i < stems.size(); ++i) {
    const std::string& s = stems[i];
    std::string where = "stem " + std::to_string(i + 1) + " \"" + s + "\": ";
    if (s.empty() || s.size() > 200)
      return Err(RenderErrorCode::kBadStem, where + "must be 1..200 characters");
    if (s.front() == '.') return Err(RenderErrorCode::kBadStem, where + "must not start with '.'");
    if (s.find_first_of(std::string_view("/\\\0", 3)) != std::string::npos) {
      return Err(RenderErrorCode::kBadStem, where + "must not contain '/', '\\' or NUL");
    }
    if (!seen.insert(s).second) return Err(RenderErrorCode::kBadStem, where + "repeats an earlier stem");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(out_dir, ec)) {
    return Err(RenderErrorCode::kIo, out_dir + ": not an existing directory");
  }
  const std::filesystem::path dir(out_dir);

  std::vector<std::optional<RenderError>> errors(texts.size());
  std::mutex progress_mu;
  size_t done = 0;  // GUARDED_BY(progress_mu)
  ThreadPool pool(options.threads);
  pool.ParallelFor(texts.size(), [&](size_t i) {
    auto result = [&]() -> RenderResult<void> {
      auto m = EncodeQr(texts[i], options.image.ecc);
      if (!m.ok()) return m.error();
      if (options.png) {
        auto png = RenderPng(*m, options.image);
        if (!png.ok()) return png.error();
        std::string_view bytes(reinterpret_cast<const char*>(png->data()), png->size());
        if (auto w = WriteFileAtomically(dir, stems[i] + ".png", bytes); !w.ok()) return w.error();
      }
      if (options.svg) {
        auto svg = RenderSvg(*m, options.image);
        if (!svg.ok()) return svg.error();
        if (auto w = WriteFileAtomically(dir, stems[i] + ".svg", *svg); !w.ok()) return w.error();
      }
      return {};
    }();
    if (!result.ok()) errors[i] = result.error();
    std::lock_guard<std::mutex> lock(progress_mu);
    ++done;
    if (progress) progress(done, texts.size());
  });
  BatchReport report;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (errors[i]) {
      report.failures.push_back(BatchFailure{i, *errors[i]});
    } else {
      ++report.written;
    }
  }
  return report;
}

}  // namespace traceledger::qrcode
