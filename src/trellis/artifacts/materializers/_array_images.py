"""NumPy arrays that look like images, and their statistics for metadata."""

from __future__ import annotations

from typing import Any

from trellis.artifacts._png import encode_png

__all__ = ["MAX_IMAGE_ELEMENTS", "MAX_STATS_ELEMENTS", "array_stats", "image_png"]

#: Above this many elements, min/max/mean would make saving noticeably slower.
MAX_STATS_ELEMENTS = 10_000_000
#: Above this many elements (a 4K RGBA frame has 33M) an array is data, not a picture.
MAX_IMAGE_ELEMENTS = 64_000_000


def array_stats(data: Any) -> dict[str, Any]:
    """Return ``min``, ``max`` and ``mean`` of the finite elements of a numeric array.

    Integer and floating arrays only (not bool, complex or time), of at most
    :data:`MAX_STATS_ELEMENTS` elements with at least one finite element; otherwise
    ``{}``. Values are Python numbers; ``mean`` is ``None`` if it overflows.

    Example:
        >>> array_stats(np.array([1, 2, 6]))  # doctest: +SKIP
        {'min': 1, 'max': 6, 'mean': 3.0}
    """
    import numpy as np

    array = np.asarray(data)
    if array.dtype.kind not in "iuf" or not 0 < array.size <= MAX_STATS_ELEMENTS:
        return {}
    python_number = int if array.dtype.kind in "iu" else float
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            array = array[finite]
            if array.size == 0:
                return {}
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(array.mean(dtype=np.float64))
    return {
        "min": python_number(array.min()),
        "max": python_number(array.max()),
        "mean": mean if np.isfinite(mean) else None,
    }


def image_png(data: Any) -> bytes | None:
    """Return a PNG of an image-like array, or ``None`` when it is not one.

    Image-like: 2-D (gray), or 3-D with 1, 3 or 4 channels in the last axis (gray,
    RGB, RGBA), at least one pixel; ``uint8``, or floating
    point with every element in ``[0, 1]`` (scaled to 0-255).

    Example:
        >>> image_png(np.zeros((4, 4, 3), dtype=np.uint8))[:4]  # doctest: +SKIP
        b'\\x89PNG'
    """
    import numpy as np

    if type(data) is not np.ndarray or not 0 < data.size <= MAX_IMAGE_ELEMENTS:
        return None
    if data.ndim == 2:
        pixels = data[:, :, np.newaxis]
    elif data.ndim == 3 and data.shape[2] in (1, 3, 4):
        pixels = data
    else:
        return None
    if data.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            in_range = bool(np.all((pixels >= 0) & (pixels <= 1)))  # False with NaN
        if not in_range:
            return None
        pixels = np.round(pixels.astype(np.float64) * 255).astype(np.uint8)
    elif data.dtype != np.uint8:
        return None
    height, width, channels = pixels.shape
    return encode_png(np.ascontiguousarray(pixels).tobytes(), width, height, channels)
