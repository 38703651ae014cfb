"""Round trips of the JSON, bytes and cloudpickle materializers."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.artifacts import PickleFallbackWarning

from ._helpers import RoundTrip, same, storage_facts

JSON = "trellis.artifacts.materializers.json_values:JsonMaterializer"
BYTES = "trellis.artifacts.materializers.raw_bytes:BytesMaterializer"
CLOUDPICKLE = "trellis.artifacts.materializers.cloudpickled:CloudpickleMaterializer"
FALLBACK = "trellis.artifacts.materializers.cloudpickled:PickleFallbackMaterializer"

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
hashable_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
# Values that JSON would change: nested tuples and sets, non-str keys, bytes inside.
non_json_values = st.recursive(
    scalars | st.binary(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.frozensets(hashable_scalars, max_size=3)
        | st.dictionaries(st.integers() | st.text(), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(json_values)
def test_json_values_round_trip_as_json(roundtrip: RoundTrip, value: Any) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == JSON
    assert same(loaded, value)


@given(
    st.tuples(json_values, json_values)
    | st.sets(hashable_scalars, max_size=5)
    | st.frozensets(hashable_scalars, max_size=5)
)
def test_top_level_tuples_and_sets_come_back_with_their_type(
    roundtrip: RoundTrip, value: Any
) -> None:
    stored, loaded = roundtrip(value)
    assert same(loaded, value)
    assert stored.data_type == f"builtins:{type(value).__name__}"


@given(non_json_values)
def test_values_json_would_change_still_round_trip(roundtrip: RoundTrip, value: Any) -> None:
    _, loaded = roundtrip(value)  # pickled where needed, without a warning
    assert same(loaded, value)


@pytest.mark.parametrize(
    ("value", "file"),
    [
        pytest.param(True, "data.json", id="bool"),
        pytest.param({"a": (1, 2)}, "data.pkl", id="nested-tuple"),
        pytest.param({1: "a"}, "data.pkl", id="int-key"),
        pytest.param([b"x"], "data.pkl", id="nested-bytes"),
        pytest.param(collections.OrderedDict(a=1), "data.pkl", id="dict-subclass"),
        pytest.param(10**5000, "data.pkl", id="int-beyond-str-digits-limit"),
        pytest.param({float("nan"), float("nan")}, "data.pkl", id="set-of-two-nans"),
    ],
)
def test_json_materializer_picks_the_file_format(local_store: Any, value: Any, file: str) -> None:
    import os

    stored = local_store.save(value, scope="run/step/output/0")
    assert os.listdir(stored.uri) == [file]
    loaded = local_store.load(
        stored.uri, materializer=stored.materializer, data_type=stored.data_type
    )
    assert same(loaded, value)


def test_true_loads_as_true_not_one(roundtrip: RoundTrip) -> None:
    stored, loaded = roundtrip(True)
    assert loaded is True
    assert stored.data_type == "builtins:bool"


def test_equal_sets_have_equal_hashes_whatever_their_order(roundtrip: RoundTrip) -> None:
    words = [f"w{i}" for i in range(50)]
    first, _ = roundtrip(set(words))
    second, _ = roundtrip(set(reversed(words)))
    assert first.content_hash == second.content_hash


@given(st.binary() | st.binary().map(bytearray))
def test_bytes_round_trip_as_raw_files(roundtrip: RoundTrip, value: bytes | bytearray) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == BYTES
    assert type(loaded) is type(value)
    assert loaded == value
    assert stored.size == len(value)
    assert stored.metadata == {"length": len(value), **storage_facts(stored)}


class Point:
    """A class no materializer handles."""

    def __init__(self, x: int, label: str) -> None:
        self.x = x
        self.label = label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.label) == (other.x, other.label)

    __hash__ = None  # type: ignore[assignment]


@given(st.builds(Point, st.integers(), st.text()))
def test_unknown_types_fall_back_to_cloudpickle_with_a_warning(
    roundtrip: RoundTrip, value: Point
) -> None:
    with pytest.warns(PickleFallbackWarning) as record:
        stored, loaded = roundtrip(value)
    assert stored.materializer == FALLBACK
    assert loaded == value
    message = str(record[0].message)
    assert f"{Point.__module__}.Point" in message
    assert "trellis.register_materializer(MyMaterializer, Point)" in message
    assert "@step(output_materializers=...)" in message


def test_choosing_cloudpickle_explicitly_does_not_warn(roundtrip: RoundTrip) -> None:
    from trellis.artifacts.materializers import CloudpickleMaterializer

    stored, loaded = roundtrip(Point(1, "a"), materializer=CloudpickleMaterializer)
    assert stored.materializer == CLOUDPICKLE
    assert loaded == Point(1, "a")
