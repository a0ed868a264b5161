// Internal to qrcode/: the PNG writer behind RenderPng, on zlib. A QR
// raster is blocky: each module row repeats module_px times. Every repeated
// pixel row is written with PNG's "Up" filter, which turns it into zeros,
// and the stream is compressed with zlib's run-length strategy, so the
// compressor never searches for matches the structure already gives away.
#ifndef TRACELEDGER_QRCODE_QR_PNG_H_
#define TRACELEDGER_QRCODE_QR_PNG_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "qrcode/render.h"

namespace traceledger::qrcode::internal {

// A 1-bit greyscale PNG of `m` with `margin` light modules around it, each
// module px x px pixels. REQUIRES: 1 <= px <= kMaxModulePx,
// 0 <= margin <= kMaxMargin.
std::vector<uint8_t> EncodeQrPng(const QrMatrix& m, int px, int margin);

// PNG chunk CRC (CRC-32 of ISO 3309), from zlib; shared with the decoder's
// structure check.
uint32_t Crc32(const uint8_t* data, size_t n);

}  // namespace traceledger::qrcode::internal

#endif  // TRACELEDGER_QRCODE_QR_PNG_H_
