"""A minimal PNG encoder (8-bit grayscale, RGB, RGBA) with ``zlib`` and ``struct`` only.

Visualizations of image-like arrays must not need Pillow, and this is all they need.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["PNG_SIGNATURE", "encode_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# PNG colour types by channels per pixel (8 bits per channel).
_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # gray, gray + alpha, RGB, RGBA


def encode_png(pixels: bytes, width: int, height: int, channels: int) -> bytes:
    """Return the bytes of a PNG image of 8-bit pixels.

    Args:
        pixels: Row-major pixel bytes, ``height * width * channels`` of them, with
            the channels of a pixel next to each other (the layout of a C-ordered
            ``uint8`` array of shape ``(height, width, channels)``).
        width: Pixels per row, at least 1.
        height: Rows, at least 1.
        channels: 1 (gray), 2 (gray and alpha), 3 (RGB) or 4 (RGBA).

    Raises:
        ValueError: The sizes are out of range or do not match ``len(pixels)``.

    Example:
        >>> png = encode_png(bytes([0, 255]), width=2, height=1, channels=1)
        >>> png[:8] == PNG_SIGNATURE
        True
    """
    color_type = _COLOR_TYPES.get(channels)
    if color_type is None:
        raise ValueError(f"a PNG pixel has 1, 2, 3 or 4 channels, not {channels}.")
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise ValueError(
            f"a PNG image needs a width and height of at least 1, not {width}x{height}."
        )
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError(
            f"{len(pixels)} pixel bytes do not make a {width}x{height} image of "
            f"{channels} channel(s) ({stride * height} bytes)."
        )
    view = memoryview(pixels)
    # Each scanline starts with its filter type; 0 (none) keeps the encoder tiny.
    scanlines = b"".join(b"\x00" + view[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"".join(
        (
            PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(scanlines, 6)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
