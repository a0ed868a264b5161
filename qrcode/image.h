// GrayImage: an 8-bit luminance raster, the one pixel type the rendering
// and decoding code passes around (0 = black, 255 = white, row-major, no
// padding between rows).
#ifndef TRACELEDGER_QRCODE_IMAGE_H_
#define TRACELEDGER_QRCODE_IMAGE_H_

#include <cstdint>
#include <vector>

namespace traceledger::qrcode {

struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height bytes

  GrayImage() = default;
  GrayImage(int w, int h, uint8_t fill = 255)
      : width(w), height(h), pixels(static_cast<size_t>(w) * static_cast<size_t>(h), fill) {}

  uint8_t at(int x, int y) const { return pixels[static_cast<size_t>(y) * static_cast<size_t>(width) + x]; }
  uint8_t& at(int x, int y) { return pixels[static_cast<size_t>(y) * static_cast<size_t>(width) + x]; }
};

}  // namespace traceledger::qrcode

#endif  // TRACELEDGER_QRCODE_IMAGE_H_
