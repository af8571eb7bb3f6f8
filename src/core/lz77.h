// The LZ77 + DIRECT2 compression of EMSMDB ROP buffers (MS-OXCRPC 3.1.4.1.1.2), which is the
// "Plain LZ77" of MS-XCA 2.3/2.4: groups of 32 items, each group led by a 32-bit flag word read
// from its top bit down (0: a literal byte, 1: a match), a match being 16 bits of
// ((offset - 1) << 3 | length code) with longer lengths in a shared nibble, a byte, then 16 bits.
//
// Bad input: lz77_decompress throws MAPI_E_CORRUPT_DATA for a stream that reads past its end,
// refers before the start of the output, or does not decompress to exactly `size` bytes; it
// never writes more than `size` bytes (so a caller bounds memory by bounding `size`).
// Thread safety: plain functions.
#pragma once
#include "core/bytes.h"

namespace openmapi {

Bytes lz77_decompress(ByteView in, size_t size);
// Compresses greedily (8 KiB window, matches found through a hash of the next 3 bytes). The
// output decompresses to `in` with lz77_decompress and with any MS-XCA Plain LZ77 decoder.
Bytes lz77_compress(ByteView in);

}  // namespace openmapi
