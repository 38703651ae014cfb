"""Compiling pipelines: ids, parameters, handles and the errors bad input gets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel

from trellis import pipeline, step
from trellis.exceptions import DefinitionError, HandleError, ParameterError


@step
def make(value: int = 1) -> int:
    return value


@step
def inc(x: int) -> int:
    return x + 1


@step
def use(config: Any) -> None:
    return None


def test_repeated_calls_get_numbered_ids() -> None:
    @pipeline
    def chain() -> None:
        inc(inc(inc(make())))

    plan = chain.compile()
    assert [node.id for node in plan] == ["make", "inc", "inc_2", "inc_3"]
    assert plan.nodes["inc_3"].upstream == {"inc_2"}


def test_explicit_ids_and_with_options_name() -> None:
    @pipeline
    def named() -> None:
        data = make(id="source")
        for kind in ("svm", "tree"):
            inc.with_options(name=f"train_{kind}")(data)
        inc(data, id="inc")

    plan = named.compile()
    assert [node.id for node in plan] == ["source", "train_svm", "train_tree", "inc"]
    assert plan.nodes["train_svm"].step_name == "train_svm"
    assert inc.name == "inc"  # with_options returned a copy


def test_duplicate_explicit_id_is_rejected() -> None:
    @pipeline
    def dup() -> None:
        make(id="a")
        make(id="a")

    with pytest.raises(DefinitionError, match="already has a step with id `a`"):
        dup.compile()


def test_default_parameters_are_recorded() -> None:
    @pipeline
    def defaults() -> None:
        make()

    assert dict(defaults.compile().nodes["make"].parameters_json) == {"value": 1}


class Color(enum.Enum):
    RED = "red"


class Config(BaseModel):
    lr: float
    layers: list[int]


@dataclasses.dataclass
class Point:
    x: int
    y: int


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        (Color.RED, "red"),
        (Path("/data/x.csv"), "/data/x.csv"),
        (Decimal("1.10"), "1.10"),
        (Config(lr=0.1, layers=[2, 3]), {"lr": 0.1, "layers": [2, 3]}),
        (Point(1, 2), {"x": 1, "y": 2}),
        ({"nested": [1, 2.5, None, True]}, {"nested": [1, 2.5, None, True]}),
    ],
    ids=["datetime", "uuid", "enum", "path", "decimal", "pydantic", "dataclass", "json"],
)
def test_pydantic_serializable_parameters_are_accepted(value: object, expected: object) -> None:
    @pipeline
    def p() -> None:
        use(value)

    node = p.compile().nodes["use"]
    assert node.parameters_json["config"] == expected
    assert node.parameters["config"] is value  # the step receives the original object


def test_non_json_parameter_is_rejected_with_advice() -> None:
    @pipeline
    def p() -> None:
        use(object())

    with pytest.raises(ParameterError) as info:
        p.compile()
    message = str(info.value)
    assert "Parameter `config` of step `use` in pipeline `p` is a builtins.object" in message
    assert "pass anything else as an artifact" in message


def test_unknown_and_missing_pipeline_parameters_are_named() -> None:
    @pipeline
    def greet(name: str) -> None:
        make()

    with pytest.raises(ParameterError, match="Unknown parameter `nme` for pipeline `greet`"):
        greet(nme="x")  # type: ignore[call-arg]
    with pytest.raises(ParameterError, match=r"Missing parameter `name` for pipeline `greet`"):
        greet()  # type: ignore[call-arg]


def test_missing_and_unknown_step_arguments_are_named() -> None:
    @pipeline
    def missing() -> None:
        inc()  # type: ignore[call-arg]

    with pytest.raises(
        ParameterError, match="step `inc` in pipeline `missing` is missing a value for `x`"
    ):
        missing.compile()

    @pipeline
    def unknown() -> None:
        inc(1, y=2)  # type: ignore[call-arg]

    with pytest.raises(ParameterError, match="has no parameter `y`; its parameters are: x"):
        unknown.compile()


def test_handle_used_outside_a_pipeline() -> None:
    leaked: list[Any] = []

    @pipeline
    def leak() -> None:
        leaked.append(make())

    leak.compile()
    with pytest.raises(
        HandleError, match="called outside a pipeline with output `output` of step `make`"
    ):
        inc(leaked[0])


def test_handle_from_another_pipeline() -> None:
    leaked: list[Any] = []

    @pipeline
    def first() -> None:
        leaked.append(make())

    @pipeline
    def second() -> None:
        inc(leaked[0])

    first.compile()
    with pytest.raises(HandleError, match=r"from pipeline `first`\. Handles only connect steps"):
        second.compile()


def test_handle_value_cannot_be_used_in_a_static_pipeline() -> None:
    @pipeline
    def branchy() -> None:
        if make():
            inc(1)

    with pytest.raises(HandleError, match="take the truth value of output `output` of step `make`"):
        branchy.compile()


def test_pipeline_outputs_are_named_by_annotation() -> None:
    @pipeline
    def p() -> Annotated[int, "answer"]:
        return inc(make())

    assert {k: str(v) for k, v in p.compile().outputs.items()} == {"answer": "inc.output"}


def test_step_output_names_from_annotations() -> None:
    @step
    def two() -> tuple[Annotated[int, "a"], Annotated[str, "b"]]:
        return 1, "x"

    @step
    def unnamed() -> tuple[int, int]:
        return 1, 2

    @pipeline
    def p() -> None:
        two()
        unnamed()

    plan = p.compile()
    assert [(o.name, o.artifact_name) for o in plan.nodes["two"].outputs] == [
        ("a", "a"),
        ("b", "b"),
    ]
    assert [o.artifact_name for o in plan.nodes["unnamed"].outputs] == [
        "p::unnamed::output_0",
        "p::unnamed::output_1",
    ]


def test_after_unknown_id_is_rejected() -> None:
    @pipeline
    def p() -> None:
        make(after="nope")

    with pytest.raises(DefinitionError, match="after= 'nope', which is not a step id"):
        p.compile()


def test_after_cycle_is_rejected() -> None:
    @pipeline
    def p() -> None:
        make(id="a", after="b")
        make(id="b", after="a")

    with pytest.raises(DefinitionError, match="cycle through after= among a, b"):
        p.compile()


def test_plan_is_immutable() -> None:
    @pipeline
    def p() -> None:
        make()

    plan = p.compile()
    with pytest.raises(TypeError):
        plan.nodes["x"] = plan.nodes["make"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.pipeline_name = "other"  # type: ignore[misc]


def test_step_and_pipeline_configure_and_with_options() -> None:
    @step
    def s() -> int:
        return 1

    configured = s.with_options(enable_cache=False)
    assert configured.enable_cache is False
    assert s.enable_cache is None
    assert s.configure(enable_cache=True) is s
    assert s.enable_cache is True

    @pipeline
    def p() -> None:
        s()

    copy = p.with_options(name="renamed", enable_cache=False)
    assert (copy.name, p.name) == ("renamed", "p")
    assert copy.compile().pipeline_name == "renamed"
    assert p.compile().nodes["s"].enable_cache is True  # the step's own setting wins...
    refreshed = copy.compile().nodes["s"]
    assert refreshed.enable_cache is False  # ...but with_options(enable_cache=False) refreshes
    assert "was run with enable_cache=False" in refreshed.cache_reason


def test_arguments_bind_like_python() -> None:
    @step
    def posonly(x: int, /, y: int = 2) -> int:
        return x * 10 + y

    @step
    def kwonly(a: int, *, b: int = 1) -> int:
        return a + b

    @pipeline
    def p() -> None:
        posonly(1, y=3)

    @pipeline
    def q() -> None:
        kwonly(1, 2)  # type: ignore[misc]

    run = p()
    assert run.steps["posonly"].output.load() == 13
    with pytest.raises(ParameterError, match="too many positional arguments"):
        q.compile()


def test_after_none_explains_steps_without_outputs() -> None:
    @step
    def side() -> None:
        return None

    @pipeline
    def p() -> None:
        make(after=[side()])

    with pytest.raises(DefinitionError, match=r'give its id instead, e\.g\. after="cleanup"'):
        p.compile()
