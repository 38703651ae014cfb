"""Users choose materializers per output or register them for their types."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest

from trellis import BaseMaterializer, Client, pipeline, register_materializer, step
from trellis.artifacts import materializer_registry
from trellis.exceptions import DefinitionError


class Temperature:
    def __init__(self, celsius: float) -> None:
        self.celsius = celsius


class TemperatureMaterializer(BaseMaterializer):
    ASSOCIATED_TYPES = (Temperature,)

    def save(self, data: Temperature) -> None:
        with self.open("temperature.json", "w") as fh:
            json.dump({"celsius": data.celsius}, fh)

    def load(self, data_type: type[Any]) -> Temperature:
        with self.open("temperature.json", "r") as fh:
            return Temperature(json.load(fh)["celsius"])


class UpperTextMaterializer(BaseMaterializer):
    def save(self, data: str) -> None:
        with self.open("text.txt", "w") as fh:
            fh.write(data.upper())

    def load(self, data_type: type[Any]) -> str:
        with self.open("text.txt", "r") as fh:
            return str(fh.read())


@step
def measure() -> Temperature:
    return Temperature(21.5)


@step
def warmer(t: Temperature) -> float:
    return t.celsius + 1


@step(output_materializers={"shout": UpperTextMaterializer})
def texts() -> tuple[Annotated[str, "shout"], Annotated[str, "plain"]]:
    return "hello", "world"


def test_registered_materializer_saves_and_loads_between_steps() -> None:
    register_materializer(TemperatureMaterializer)
    try:

        @pipeline
        def weather() -> None:
            warmer(measure())

        run = weather()
        produced = run.steps["measure"].output
        assert produced.materializer.endswith(":TemperatureMaterializer")
        assert run.steps["warmer"].output.load() == 22.5
        assert Client().get_artifact_version(produced.id).load().celsius == 21.5
    finally:
        materializer_registry.unregister(TemperatureMaterializer)


def test_per_output_materializer_choice() -> None:
    @pipeline
    def speak() -> None:
        texts()

    outputs = speak().steps["texts"].outputs
    assert outputs["shout"].load() == "HELLO"
    assert outputs["shout"].materializer.endswith(":UpperTextMaterializer")
    assert outputs["plain"].load() == "world"


def test_materializer_choice_for_unknown_output_is_rejected() -> None:
    bad = texts.with_options(output_materializers={"loud": UpperTextMaterializer})

    @pipeline
    def p() -> None:
        bad()

    with pytest.raises(DefinitionError, match=r"names unknown output\(s\) \['loud'\]"):
        p.compile()


def test_materializer_choice_must_be_a_materializer_class() -> None:
    bad = texts.with_options(output_materializers=str)

    @pipeline
    def p() -> None:
        bad()

    with pytest.raises(DefinitionError, match="must be materializer classes"):
        p.compile()
