// Compressed RTF (MS-OXRTFCP): the PidTagRtfCompressed stream.
//
// A 16-byte header (COMPSIZE, RAWSIZE, COMPTYPE, CRC; MS-OXRTFCP 2.1.3.1.1) followed by either
// LZFu-compressed contents (an LZ77 variant over a 4096-byte ring preloaded with a 207-byte RTF
// dictionary) or, for COMPTYPE "MELA", the raw RTF bytes.
//
// Thread safety: every function here is pure and may be called concurrently.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/bytes.h"

namespace openmapi::rtf {

// COMPTYPE values (MS-OXRTFCP 2.1.3.1.1), as little-endian DWORDs.
inline constexpr uint32_t kCompTypeCompressed = 0x75465A4C;    // "LZFu"
inline constexpr uint32_t kCompTypeUncompressed = 0x414C454D;  // "MELA"
inline constexpr size_t kCompressedRtfHeaderSize = 16;
// Default ceiling for decompressed output (RAWSIZE is only a claim).
inline constexpr size_t kDefaultMaxRtfSize = size_t{512} << 20;

struct CompressedRtfHeader {
  uint32_t comp_size = 0;  // size of everything after this field (contents + 12)
  uint32_t raw_size = 0;   // claimed size of the decompressed RTF
  uint32_t comp_type = 0;  // kCompTypeCompressed or kCompTypeUncompressed
  uint32_t crc = 0;        // CRC of the contents (LZFu); 0 for MELA
};

// Reads the 16-byte header. Throws MAPI_E_CORRUPT_DATA if fewer than 16 bytes are given or
// COMPTYPE is neither LZFu nor MELA. Does not check the other fields.
CompressedRtfHeader parse_compressed_rtf_header(ByteView data);

// The MS-OXRTFCP CRC-32 (polynomial 0xEDB88320, reflected, no final XOR) of `data`,
// continuing from `crc` (0 to start; the header CRC is computed over the contents only).
uint32_t compressed_rtf_crc(ByteView data, uint32_t crc = 0);

struct RtfDecompressOptions {
  // On a CRC mismatch (LZFu) throw MAPI_E_CORRUPT_DATA; false accepts the stream anyway
  // (the contents are still decoded with every bound checked).
  bool verify_crc = true;
  // Strict header checks: COMPSIZE + 4 must equal the input size exactly (no trailing bytes),
  // and for MELA the CRC must be 0 and COMPSIZE must equal RAWSIZE + 12.
  bool strict = false;
  // Refuse (MAPI_E_TOO_BIG) a RAWSIZE above this many bytes.
  size_t max_output = kDefaultMaxRtfSize;
};

// Decompresses a PidTagRtfCompressed stream into RTF bytes.
//
// Rules (see docs/FORMATS.md "Compressed RTF"):
//  * COMPSIZE < 12 or COMPSIZE + 4 > input size: MAPI_E_CORRUPT_DATA. Trailing bytes after
//    COMPSIZE are ignored unless `strict`.
//  * LZFu: the CRC is checked first (see verify_crc). Decoding stops at the end-of-stream
//    reference (offset == write position). The output must be exactly RAWSIZE bytes: a stream
//    that produces more, ends without its end marker, ends inside a token, or stops short of
//    RAWSIZE is MAPI_E_CORRUPT_DATA. A RAWSIZE larger than the contents could ever expand to
//    (8 output bytes per input byte) is MAPI_E_CORRUPT_DATA before anything is allocated.
//  * MELA: the output is the contents, cut to RAWSIZE when RAWSIZE is smaller. A RAWSIZE larger
//    than the contents is accepted (some writers store COMPSIZE there) unless `strict`.
//  * RAWSIZE > options.max_output: MAPI_E_TOO_BIG.
Bytes decompress_rtf(ByteView data, const RtfDecompressOptions& options = {});

enum class RtfCompression { Compressed, Uncompressed };

// Builds a PidTagRtfCompressed stream from RTF bytes: LZFu by default (MS-OXRTFCP 2.3.3.2, longest
// match within the 4096-byte window), or MELA. The header fields and CRC are filled in.
// Throws MAPI_E_TOO_BIG if `rtf` is larger than fits a 32-bit size field.
Bytes compress_rtf(ByteView rtf, RtfCompression compression = RtfCompression::Compressed);

}  // namespace openmapi::rtf
