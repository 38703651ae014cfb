"""Round trips of pydantic models and dataclasses."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Any

import pydantic
from hypothesis import given
from hypothesis import strategies as st

from trellis.artifacts import ArtifactStore

from ._helpers import RoundTrip, storage_facts

PYDANTIC = "trellis.artifacts.materializers.pydantic_models:PydanticMaterializer"
DATACLASS = "trellis.artifacts.materializers.dataclass_values:DataclassMaterializer"

finite = st.floats(allow_nan=False)


class Settings(pydantic.BaseModel):
    name: str
    rate: float
    layers: list[int] = []
    tags: set[str] = set()
    when: dt.datetime | None = None


class Nested(pydantic.BaseModel):
    settings: Settings
    extra: dict[str, tuple[int, int]] = {}


@dataclasses.dataclass(frozen=True)
class Split:
    train: float
    test: float
    seed: int | None = None
    names: tuple[str, ...] = ()


@dataclasses.dataclass
class WithAny:
    payload: Any  # a tuple here comes back from JSON as a list: must be pickled


settings = st.builds(
    Settings,
    name=st.text(),
    rate=finite,
    layers=st.lists(st.integers()),
    tags=st.sets(st.text(max_size=3)),
    when=st.none() | st.datetimes(),
)


@given(settings | st.builds(Nested, settings=settings))
def test_pydantic_models_round_trip_as_json(
    roundtrip: RoundTrip, value: pydantic.BaseModel
) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == PYDANTIC
    assert type(loaded) is type(value)
    assert loaded == value


def test_pydantic_model_is_stored_as_readable_json(local_store: ArtifactStore) -> None:
    stored = local_store.save(Settings(name="a", rate=0.5), scope="run/step/output/0")
    with open(os.path.join(stored.uri, "data.json")) as f:
        assert '"name":"a"' in f.read()
    assert stored.metadata == {
        "fields": ["name", "rate", "layers", "tags", "when"],
        **storage_facts(stored),
    }


@given(st.builds(Split, train=finite, test=finite, names=st.tuples(st.text())))
def test_dataclasses_round_trip_as_json(roundtrip: RoundTrip, value: Split) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == DATACLASS
    assert type(loaded) is Split
    assert loaded == value


@given(st.builds(WithAny, payload=st.tuples(st.integers()) | st.integers()))
def test_dataclasses_json_would_change_are_pickled(roundtrip: RoundTrip, value: WithAny) -> None:
    stored, loaded = roundtrip(value)
    assert stored.materializer == DATACLASS
    assert loaded == value
    assert type(loaded.payload) is type(value.payload)


def test_locally_defined_dataclass_loads_with_expected_type(local_store: ArtifactStore) -> None:
    @dataclasses.dataclass
    class Local:
        x: int

    stored = local_store.save(Local(3), scope="run/step/output/0")
    assert "<locals>" in stored.data_type
    loaded = local_store.load(
        stored.uri,
        materializer=stored.materializer,
        data_type=stored.data_type,
        expected_type=Local,
    )
    assert loaded == Local(3)
