"""A step that makes a large float64 array and one that sums it (imports NumPy)."""

from __future__ import annotations

import numpy as np

from trellis import pipeline, step


@step
def make_array(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.float64)


@step
def total(array: np.ndarray) -> float:
    return float(array.sum())


@pipeline(enable_cache=False)
def array_pipeline(size: int) -> None:
    total(make_array(size))
