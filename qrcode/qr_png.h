// Internal to qrcode/: the PNG writer behind RenderPng. A QR raster is
// blocky (every module row repeats module_px times, every module spans
// module_px pixels), so its deflate stream is built directly from that
// structure — long back-references for the repeated rows, runs and
// references to the previous module row for the rest — and entropy-coded
// with one dynamic-Huffman block (RFC 1951 §3.2.7). That is several times
// faster than a general-purpose compressor searching for the same matches,
// at a similar size.
#ifndef TRACELEDGER_QRCODE_QR_PNG_H_
#define TRACELEDGER_QRCODE_QR_PNG_H_

#include <cstdint>
#include <vector>

#include "qrcode/render.h"

namespace traceledger::qrcode::internal {

// A 1-bit greyscale PNG of `m` with `margin` light modules around it, each
// module px x px pixels. REQUIRES: 1 <= px <= kMaxModulePx,
// 0 <= margin <= kMaxMargin.
std::vector<uint8_t> EncodeQrPng(const QrMatrix& m, int px, int margin);

// PNG chunk CRC (ISO 3309 / ITU-T V.42 CRC-32), shared with the decoder's
// structure check.
uint32_t Crc32(const uint8_t* data, size_t n);

}  // namespace traceledger::qrcode::internal

#endif  // TRACELEDGER_QRCODE_QR_PNG_H_
