#include "qrcode/qr_png.h"

#include <zlib.h>

#include <stdexcept>
#include <string_view>

namespace traceledger::qrcode::internal {
namespace {

void PutU32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void PutChunk(std::vector<uint8_t>& out, std::string_view type, const uint8_t* data, size_t n) {
  PutU32(out, static_cast<uint32_t>(n));
  size_t start = out.size();
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data, data + n);
  PutU32(out, Crc32(out.data() + start, 4 + n));
}

}  // namespace

uint32_t Crc32(const uint8_t* data, size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    uInt step = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
    crc = crc32(crc, data, step);
    data += step;
    n -= step;
  }
  return static_cast<uint32_t>(crc);
}

std::vector<uint8_t> EncodeQrPng(const QrMatrix& m, int px, int margin) {
  const int modules = m.size + 2 * margin;
  const uint32_t width = static_cast<uint32_t>(modules) * static_cast<uint32_t>(px);
  const size_t row_bytes = (width + 7) / 8;

  // Filtered scanlines: the first pixel row of each module row raw (filter
  // 0), its repeats as "Up" (filter 2) = all zero bytes.
  std::vector<uint8_t> raw;
  raw.reserve((row_bytes + 1) * width);
  std::vector<uint8_t> row(row_bytes);
  for (int my = 0; my < modules; ++my) {
    std::fill(row.begin(), row.end(), 0xFF);  // light = 1 in greyscale
    const int qy = my - margin;
    if (qy >= 0 && qy < m.size) {
      for (int qx = 0; qx < m.size; ++qx) {
        if (!m.dark(qx, qy)) continue;
        const uint32_t x0 = static_cast<uint32_t>(qx + margin) * static_cast<uint32_t>(px);
        for (uint32_t x = x0; x < x0 + static_cast<uint32_t>(px); ++x) {
          row[x / 8] &= static_cast<uint8_t>(~(0x80u >> (x % 8)));
        }
      }
    }
    raw.push_back(0);
    raw.insert(raw.end(), row.begin(), row.end());
    for (int r = 1; r < px; ++r) {
      raw.push_back(2);
      raw.insert(raw.end(), row_bytes, 0);
    }
  }

  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 15, 9, Z_RLE) != Z_OK) throw std::runtime_error("zlib: deflateInit2 failed");
  std::vector<uint8_t> idat(deflateBound(&z, raw.size()));
  z.next_in = raw.data();
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = idat.data();
  z.avail_out = static_cast<uInt>(idat.size());
  int rc = deflate(&z, Z_FINISH);
  idat.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");

  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  uint8_t ihdr[13] = {};
  for (int i = 0; i < 4; ++i) {
    ihdr[i] = static_cast<uint8_t>(width >> (24 - 8 * i));
    ihdr[4 + i] = static_cast<uint8_t>(width >> (24 - 8 * i));
  }
  ihdr[8] = 1;  // bit depth
  ihdr[9] = 0;  // greyscale; compression, filter, interlace methods 0
  PutChunk(out, "IHDR", ihdr, sizeof(ihdr));
  PutChunk(out, "IDAT", idat.data(), idat.size());
  PutChunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace traceledger::qrcode::internal
