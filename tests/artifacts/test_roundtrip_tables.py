"""Round trips of pandas DataFrames and Series and pyarrow Tables (Parquet)."""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd

from trellis.artifacts import ArtifactStore

from ._helpers import RoundTrip, storage_facts

PANDAS = "trellis.artifacts.materializers.pandas_frames:PandasMaterializer"
ARROW = "trellis.artifacts.materializers.arrow_tables:ArrowMaterializer"

column_names = st.text(alphabet="abcdefgh", min_size=1, max_size=5)
frames = hpd.data_frames(
    columns=[
        hpd.column("ints", dtype="int64"),
        hpd.column("floats", dtype="float64"),
        hpd.column("flags", dtype=bool),
        hpd.column("words", elements=st.text(max_size=5)),
    ],
    index=hpd.range_indexes(max_size=8) | hpd.indexes(dtype="int64", max_size=8),
)
series = hpd.series(
    dtype="float64",
    index=hpd.range_indexes(max_size=8) | hpd.indexes(elements=st.text(max_size=3), max_size=8),
    name=st.none() | column_names,
)


@given(frames)
def test_data_frames_round_trip_as_parquet(roundtrip: RoundTrip, value: pd.DataFrame) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == PANDAS
    assert type(loaded) is pd.DataFrame
    pd.testing.assert_frame_equal(loaded, value)
    words = value["words"].dtype
    assert stored.metadata == {
        "rows": len(value),
        "columns": 4,
        # "words" is "object" before pandas 3 and "str" since
        "schema": {"ints": "int64", "floats": "float64", "flags": "bool", "words": str(words)},
        **storage_facts(stored),
    }


@given(series)
def test_series_round_trip_as_series_with_name(roundtrip: RoundTrip, value: pd.Series) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == PANDAS
    assert type(loaded) is pd.Series
    pd.testing.assert_series_equal(loaded, value)
    assert stored.metadata == {
        "rows": len(value),
        "dtype": "float64",
        "name": value.name,
        **storage_facts(stored),
    }


def test_named_index_survives(local_store: ArtifactStore) -> None:
    value = pd.DataFrame({"x": [1, 2]}, index=pd.Index(["a", "b"], name="key"))
    stored = local_store.save(value, scope="run/step/output/0")
    assert os.listdir(stored.uri) == ["data.parquet"]
    loaded = local_store.load(
        stored.uri, materializer=stored.materializer, data_type=stored.data_type
    )
    pd.testing.assert_frame_equal(loaded, value)


TRICKY = [
    pytest.param(pd.DataFrame({1: [1, 2]}), "data.pkl", id="int-column-label"),
    pytest.param(pd.DataFrame([[1, 2]], columns=["a", "a"]), "data.pkl", id="duplicate-columns"),
    pytest.param(
        pd.DataFrame({"a": pd.Series([1, None], dtype=object)}), "data.pkl", id="object-ints"
    ),
    pytest.param(pd.DataFrame({"a": [1, "x"]}), "data.pkl", id="mixed-object"),
    pytest.param(
        pd.DataFrame({"a": [1]}, index=pd.Index(["k"], dtype=object)), "data.pkl", id="object-index"
    ),
    pytest.param(pd.Series([1.0], name=3), "data.pkl", id="int-series-name"),
    pytest.param(
        pd.DataFrame({"a": [1, 2]}, index=pd.date_range("2020", periods=2, freq="D")),
        "data.parquet",
        id="index-freq",
    ),
    pytest.param(
        pd.DataFrame({"a": [1]}, index=pd.MultiIndex.from_tuples([("x", 1)], names=["k", "n"])),
        "data.parquet",
        id="multi-index",
    ),
    pytest.param(pd.DataFrame({"a": pd.Categorical(["x", "y"])}), "data.parquet", id="categorical"),
    pytest.param(
        pd.DataFrame({"a": pd.array([1, None], dtype="Int64")}), "data.parquet", id="Int64"
    ),
    pytest.param(pd.DataFrame(), "data.parquet", id="empty"),
]


@pytest.mark.parametrize(("value", "file"), TRICKY)
def test_tricky_pandas_values_round_trip_exactly(
    local_store: ArtifactStore, value: pd.DataFrame | pd.Series, file: str
) -> None:
    stored = local_store.save(value, scope="run/step/output/0")
    assert os.listdir(stored.uri) == [
        file
    ]  # pickled, without a warning, if Parquet would change it
    loaded = local_store.load(
        stored.uri, materializer=stored.materializer, data_type=stored.data_type
    )
    if isinstance(value, pd.Series):
        pd.testing.assert_series_equal(loaded, value, check_freq=True)
    else:
        pd.testing.assert_frame_equal(loaded, value, check_freq=True)


ARROW_COLUMNS: list[tuple[pa.DataType, st.SearchStrategy[Any]]] = [
    (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    (pa.uint8(), st.integers(0, 255)),
    (pa.float32(), st.floats(allow_nan=False, width=32)),
    (pa.string(), st.text(max_size=4)),
    (pa.binary(), st.binary(max_size=4)),
    (pa.bool_(), st.booleans()),
    (pa.timestamp("us"), st.datetimes()),
    (pa.list_(pa.int32()), st.lists(st.integers(-(2**31), 2**31 - 1), max_size=3)),
]


@st.composite
def arrow_tables(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(0, 6))
    picked = draw(st.lists(st.sampled_from(range(len(ARROW_COLUMNS))), min_size=1, max_size=4))
    columns = {}
    for position, index in enumerate(picked):
        arrow_type, values = ARROW_COLUMNS[index]
        cells = draw(st.lists(st.none() | values, min_size=rows, max_size=rows))
        columns[f"c{position}"] = pa.array(cells, arrow_type)
    return pa.table(columns)


@given(arrow_tables())
def test_arrow_tables_round_trip_as_parquet(roundtrip: RoundTrip, value: pa.Table) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == ARROW
    assert type(loaded) is pa.Table
    assert loaded.schema.equals(value.schema)
    assert loaded.equals(value)
    assert stored.metadata == {
        "rows": value.num_rows,
        "columns": value.num_columns,
        "schema": {field.name: str(field.type) for field in value.schema},
        **storage_facts(stored),
    }
