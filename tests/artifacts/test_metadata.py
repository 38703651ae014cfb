"""Metadata of artifacts: what each built-in materializer extracts, plus size and hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pydantic
import pytest

from trellis.artifacts import ArtifactStore, BaseMaterializer

from ._helpers import storage_facts

SCOPE = "run-1/describe/output/0"


class Settings(pydantic.BaseModel):
    name: str
    rate: float = 0.1


@dataclasses.dataclass
class Split:
    train: float
    test: float


def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "c": ["x", "y", "z"]})


CASES = [
    pytest.param([1, 2, 3], {"length": 3}, id="list"),
    pytest.param((1, 2), {"length": 2}, id="tuple"),
    pytest.param({1, 2, 3, 4}, {"length": 4}, id="set"),
    pytest.param(frozenset({"a"}), {"length": 1}, id="frozenset"),
    pytest.param({"a": 1, "b": [2]}, {"length": 2}, id="dict"),
    pytest.param({1: "a"}, {"length": 1}, id="pickled-dict"),
    pytest.param("héllo", {"length": 5}, id="str"),
    pytest.param(b"abc", {"length": 3}, id="bytes"),
    pytest.param(bytearray(b"ab"), {"length": 2}, id="bytearray"),
    pytest.param(7, {}, id="int"),
    pytest.param(
        np.array([[1, 2], [3, 6]]),
        {"shape": [2, 2], "dtype": "int64", "min": 1, "max": 6, "mean": 3.0},
        id="int-array",
    ),
    pytest.param(
        np.array([0.5, np.nan, 2.5, np.inf, -np.inf], dtype=np.float32),
        {"shape": [5], "dtype": "float32", "min": 0.5, "max": 2.5, "mean": 1.5},
        id="float-array-with-nan-and-inf",
    ),
    pytest.param(
        np.array([2**64 - 1, 1], dtype=np.uint64),
        {"shape": [2], "dtype": "uint64", "min": 1, "max": 2**64 - 1, "mean": 2.0**63},
        id="uint64-array",
    ),
    pytest.param(
        np.array([np.nan, np.nan]), {"shape": [2], "dtype": "float64"}, id="all-nan-array"
    ),
    pytest.param(np.zeros((0, 3)), {"shape": [0, 3], "dtype": "float64"}, id="empty-array"),
    pytest.param(np.array([True, False]), {"shape": [2], "dtype": "bool"}, id="bool-array"),
    pytest.param(np.array([1 + 2j]), {"shape": [1], "dtype": "complex128"}, id="complex-array"),
    pytest.param(np.array(["ab"]), {"shape": [1], "dtype": "<U2"}, id="str-array"),
    pytest.param(
        np.array([1e308, 1e308]),
        {"shape": [2], "dtype": "float64", "min": 1e308, "max": 1e308, "mean": None},
        id="mean-overflows",
    ),
    pytest.param(
        np.float32(1.5),
        {"shape": [], "dtype": "float32", "min": 1.5, "max": 1.5, "mean": 1.5},
        id="numpy-scalar",
    ),
    pytest.param(
        frame(),
        {
            "rows": 3,
            "columns": 3,
            "schema": {"a": "int64", "b": "float64", "c": str(frame().c.dtype)},
        },
        id="data-frame",
    ),
    pytest.param(
        pd.DataFrame({1: [1]}),  # pickled: a non-string label
        {"rows": 1, "columns": 1, "schema": {"1": "int64"}},
        id="data-frame-int-label",
    ),
    pytest.param(
        pd.Series([1.0, 2.0], name="loss"),
        {"rows": 2, "dtype": "float64", "name": "loss"},
        id="series",
    ),
    pytest.param(
        pd.Series([1, 2, 3]), {"rows": 3, "dtype": "int64", "name": None}, id="series-unnamed"
    ),
    pytest.param(
        pd.Series([1.0], name=("a", 1)),
        {"rows": 1, "dtype": "float64", "name": "('a', 1)"},
        id="series-tuple-name",
    ),
    pytest.param(
        pa.table({"a": [1, 2], "b": ["x", None]}),
        {"rows": 2, "columns": 2, "schema": {"a": "int64", "b": "string"}},
        id="arrow-table",
    ),
    pytest.param(Settings(name="a"), {"fields": ["name", "rate"]}, id="pydantic"),
    pytest.param(Split(0.8, 0.2), {"fields": ["train", "test"]}, id="dataclass"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_builtin_materializers_describe_values(
    fresh_store: ArtifactStore, value: Any, expected: dict[str, Any]
) -> None:
    stored = fresh_store.save(value, scope=SCOPE)
    assert stored.metadata == {**expected, **storage_facts(stored)}
    # Numbers stay numbers of the right Python type, and the whole is JSON.
    for key, item in expected.items():
        assert type(stored.metadata[key]) is type(item), key
    assert json.loads(json.dumps(stored.metadata, allow_nan=False)) == stored.metadata


def test_huge_arrays_skip_statistics(fresh_store: ArtifactStore) -> None:
    stored = fresh_store.save(np.zeros(10_000_001, dtype=np.uint8), scope=SCOPE)
    assert stored.metadata == {"shape": [10_000_001], "dtype": "uint8", **storage_facts(stored)}
    at_limit = fresh_store.save(np.ones(10_000_000, dtype=np.uint8), scope=SCOPE)
    assert at_limit.metadata["mean"] == 1.0


def test_storage_facts_are_size_and_hash(store: ArtifactStore) -> None:
    stored = store.save(b"12345", scope=SCOPE)
    assert stored.metadata["storage_size"] == stored.size == 5
    assert stored.metadata["content_hash"] == stored.content_hash


class Described(BaseMaterializer):
    """Writes str(data); its metadata comes from a class attribute set by each test."""

    extracted: ClassVar[Any] = {}
    calls: ClassVar[int] = 0

    def save(self, data: Any) -> None:
        with self.open("value.txt", "w") as f:
            f.write(str(data))

    def load(self, data_type: type[Any]) -> Any:
        with self.open("value.txt", "r") as f:
            return data_type(f.read())

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        type(self).calls += 1
        if isinstance(self.extracted, Exception):
            raise self.extracted
        return self.extracted  # type: ignore[no-any-return]


class HashedDescribed(Described):
    """Supplies a value hash, so a second save takes the skip-writing path."""

    def content_hash(self, data: Any) -> str | None:
        return hashlib.sha256(str(data).encode()).hexdigest()


def load(store: ArtifactStore, stored: Any) -> Any:
    return store.load(stored.uri, materializer=stored.materializer, data_type=stored.data_type)


def test_extract_metadata_false_keeps_only_size_and_hash(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Described, "extracted", {"rows": 3})
    monkeypatch.setattr(Described, "calls", 0)
    stored = store.save(5, scope=SCOPE, materializer=Described, extract_metadata=False)
    assert stored.metadata == storage_facts(stored)
    assert Described.calls == 0
    described = store.save(frame(), scope=SCOPE, extract_metadata=False)
    assert described.metadata == storage_facts(described)


@pytest.mark.parametrize("materializer", [Described, HashedDescribed], ids=["files", "value-hash"])
def test_failing_extract_metadata_keeps_the_artifact(
    store: ArtifactStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    materializer: type[Described],
) -> None:
    monkeypatch.setattr(Described, "extracted", RuntimeError("no shape today"))
    with caplog.at_level(logging.WARNING, logger="trellis.artifacts"):
        for _ in range(2):  # the second save of a value hash skips writing
            stored = store.save(41, scope=SCOPE, materializer=materializer)
            assert stored.metadata == storage_facts(stored)
            assert load(store, stored) == 41
    records = [r for r in caplog.records if r.name == "trellis.artifacts._metadata"]
    assert len(records) == 2
    assert records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert f"{materializer.__qualname__} failed to extract metadata" in message
    assert "builtins.int saved as run-1/describe/output/0" in message
    assert "(RuntimeError: no shape today)" in message
    assert "only its storage size and content hash" in message
    assert "enable_artifact_metadata=False" in message


def test_extract_metadata_returning_no_dict_is_a_warning(
    fresh_store: ArtifactStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(Described, "extracted", [("rows", 3)])
    stored = fresh_store.save(1, scope=SCOPE, materializer=Described)
    assert stored.metadata == storage_facts(stored)
    assert "(TypeError: it returned list, not a dict)" in caplog.text


def test_numpy_numbers_and_tuples_become_plain_json(
    fresh_store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    extracted = {
        "n": np.int64(3),
        "x": np.float32(0.5),
        "big": np.longdouble(2.5),
        "ok": np.bool_(True),
        "shape": (np.int32(2), 3),
        "nested": {"values": [np.uint8(7)]},
        "storage_size": -1,  # the store's own keys win
    }
    monkeypatch.setattr(Described, "extracted", extracted)
    stored = fresh_store.save(1, scope=SCOPE, materializer=Described)
    assert stored.metadata == {
        "n": 3,
        "x": 0.5,
        "big": 2.5,
        "ok": True,
        "shape": [2, 3],
        "nested": {"values": [7]},
        **storage_facts(stored),
    }
    kinds = [type(stored.metadata[k]) for k in ("n", "x", "big", "ok")]
    assert kinds == [int, float, float, bool]
    assert type(stored.metadata["nested"]["values"][0]) is int
