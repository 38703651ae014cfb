"""Round trips of NumPy arrays."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from trellis.artifacts import ArtifactStore

from ._helpers import RoundTrip, storage_facts

NUMPY = "trellis.artifacts.materializers.numpy_arrays:NumpyMaterializer"

dtypes = st.one_of(
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.boolean_dtypes(),
    hnp.datetime64_dtypes(),
    hnp.byte_string_dtypes(max_len=4),
    hnp.unicode_string_dtypes(max_len=4),
)
arrays = hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))


def expected_stats(value: np.ndarray) -> dict[str, Any]:
    """min/max/mean of the finite elements of an int or float array, with Python's builtins."""
    if value.dtype.kind not in "iuf" or value.size == 0:
        return {}
    numbers = [x for x in value.ravel().tolist() if math.isfinite(x)]
    if not numbers:
        return {}
    return {"min": min(numbers), "max": max(numbers), "mean": numbers}


def assert_metadata(metadata: dict[str, Any], value: np.ndarray) -> None:
    stats = expected_stats(value)
    numbers = stats.pop("mean", None)
    described = {k: v for k, v in metadata.items() if k != "mean"}
    assert described == {"shape": list(value.shape), "dtype": str(value.dtype), **stats}
    if numbers is None:
        assert "mean" not in metadata
        return
    assert type(metadata["min"]) is type(metadata["max"]) is type(numbers[0])
    largest = max(abs(x) for x in numbers)
    if metadata["mean"] is None:  # only when summing overflows float64
        assert largest * len(numbers) > np.finfo(np.float64).max
        return
    exact = math.fsum(numbers) / len(numbers)
    assert metadata["mean"] == pytest.approx(exact, rel=1e-6, abs=1e-9 * largest)


def assert_same_array(loaded: object, value: np.ndarray) -> None:
    assert type(loaded) is np.ndarray
    assert loaded.dtype == value.dtype
    assert loaded.shape == value.shape
    np.testing.assert_array_equal(loaded, value)  # NaN equals NaN here


@given(arrays)
def test_arrays_round_trip_as_npy(roundtrip: RoundTrip, value: np.ndarray) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == NUMPY
    assert_same_array(loaded, value)
    facts = storage_facts(stored)
    assert {k: stored.metadata[k] for k in facts} == facts
    assert_metadata({k: v for k, v in stored.metadata.items() if k not in facts}, value)


@given(hnp.arrays(dtypes, ()).map(lambda a: a[()]))
def test_numpy_scalars_round_trip_with_their_type(roundtrip: RoundTrip, value: np.generic) -> None:
    stored, loaded = roundtrip(value)  # np.str_ and np.bytes_ are str and bytes: pickled
    assert type(loaded) is type(value)
    np.testing.assert_array_equal(np.asarray(loaded), np.asarray(value))
    if not isinstance(value, (str, bytes)):
        assert stored.materializer == NUMPY


@given(hnp.arrays(np.float64, (3, 4)))
def test_non_contiguous_views_round_trip(roundtrip: RoundTrip, value: np.ndarray) -> None:
    view = value[::2, ::-1]
    _, loaded = roundtrip(view)
    assert_same_array(loaded, view)


def test_object_arrays_are_pickled_without_warning(local_store: ArtifactStore) -> None:
    value = np.array([1, "two", None], dtype=object)
    stored = local_store.save(value, scope="run/step/output/0")
    assert os.listdir(stored.uri) == ["data.pkl"]
    loaded = local_store.load(
        stored.uri, materializer=stored.materializer, data_type=stored.data_type
    )
    assert loaded.tolist() == value.tolist()


def test_npy_file_is_written_without_pickle(local_store: ArtifactStore) -> None:
    stored = local_store.save(np.arange(6).reshape(2, 3), scope="run/step/output/0")
    loaded = np.load(os.path.join(stored.uri, "array.npy"), allow_pickle=False)
    assert loaded.tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(np.zeros(4, np.int32), np.zeros(4, np.int64), id="dtype"),
        pytest.param(np.zeros((2, 2)), np.zeros(4), id="shape"),
        pytest.param(np.zeros(4), np.ones(4), id="values"),
    ],
)
def test_content_hash_tells_arrays_apart(
    local_store: ArtifactStore, a: np.ndarray, b: np.ndarray
) -> None:
    first = local_store.save(a, scope="run/step/output/0")
    second = local_store.save(b, scope="run/step/output/0")
    assert first.content_hash != second.content_hash
    assert first.uri != second.uri


def test_equal_arrays_share_one_folder(local_store: ArtifactStore) -> None:
    first = local_store.save(np.arange(10.0), scope="run/step/output/0")
    second = local_store.save(np.arange(10.0)[::-1][::-1], scope="run/step/output/1")
    assert first.uri == second.uri
    assert first.content_hash == second.content_hash
