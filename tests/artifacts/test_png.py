"""The PNG encoder behind image visualizations, checked with an independent reader."""

from __future__ import annotations

import pytest

from trellis.artifacts._png import encode_png

from ._png_reader import read_png


@pytest.mark.parametrize(
    ("width", "height", "channels"),
    [(1, 1, 1), (3, 2, 1), (2, 3, 2), (4, 1, 3), (5, 7, 4)],
    ids=["1px-gray", "gray", "gray-alpha", "rgb", "rgba"],
)
def test_pixels_survive_encoding(width: int, height: int, channels: int) -> None:
    pixels = bytes((7 * i + 3) % 256 for i in range(width * height * channels))
    png = read_png(encode_png(pixels, width, height, channels))
    assert (png.width, png.height, png.channels) == (width, height, channels)
    assert png.pixels == pixels
    assert png.chunks == [b"IHDR", b"IDAT", b"IEND"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((b"\0" * 5, 1, 1, 5), "1, 2, 3 or 4 channels, not 5"),
        ((b"", 0, 1, 1), "at least 1, not 0x1"),
        ((b"\0" * 3, 2, 1, 1), "3 pixel bytes do not make a 2x1 image of 1 channel"),
    ],
    ids=["channels", "empty", "size-mismatch"],
)
def test_bad_sizes_are_refused(args: tuple[bytes, int, int, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        encode_png(*args)
