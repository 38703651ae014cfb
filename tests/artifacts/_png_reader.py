"""A tiny PNG reader for tests: 8-bit, non-interlaced; pixels only for filter type 0."""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 4: 2, 2: 3, 6: 4}  # by colour type


class Png(NamedTuple):
    width: int
    height: int
    channels: int
    pixels: bytes  # row-major, channels interleaved
    chunks: list[bytes]  # chunk types in file order


def png_info(data: bytes) -> tuple[int, int, int, bytes, list[bytes]]:
    """Check signature, chunk CRCs, IHDR and the decompressed IDAT size of any 8-bit PNG.

    Returns width, height, channels, the decompressed scanlines and the chunk types.
    """
    assert data[:8] == SIGNATURE
    position, chunks, idat = 8, [], b""
    header: tuple[int, ...] = ()
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append(kind)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    assert chunks[0] == b"IHDR"
    assert chunks[-1] == b"IEND"
    width, height, depth, color_type, compression, filtering, interlace = header
    assert (depth, compression, filtering, interlace) == (8, 0, 0, 0)
    channels = CHANNELS[color_type]
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + width * channels)
    return width, height, channels, raw, chunks


def read_png(data: bytes) -> Png:
    """Read a PNG whose scanlines all use filter type 0 (as trellis writes them)."""
    width, height, channels, raw, chunks = png_info(data)
    stride = width * channels
    rows = [raw[row * (1 + stride) : (row + 1) * (1 + stride)] for row in range(height)]
    assert all(row[0] == 0 for row in rows)  # filter type "none"
    return Png(width, height, channels, b"".join(row[1:] for row in rows), chunks)
