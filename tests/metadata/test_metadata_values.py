"""Metadata logged on runs, step runs and artifact versions, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.exceptions import NotFoundError
from trellis.metadata import ExecutionStatus, MetadataStore

if TYPE_CHECKING:
    from conftest import Driver

SqlLog = Callable[[], AbstractContextManager[list[str]]]


def now() -> datetime:
    return datetime.now(UTC)


def exactly(value: Any) -> Any:
    """``value`` with the type of every leaf spelled out: 3 and 3.0 (and 0.0, -0.0) differ."""
    if isinstance(value, dict):
        return {key: exactly(item) for key, item in value.items()}
    if isinstance(value, list):
        return [exactly(item) for item in value]
    return (type(value).__name__, repr(value))


NUMBERS = {
    "int": 3,
    "float": 3.5,
    "integral float": 3.0,
    "negative zero": -0.0,
    "large float": 1e20,
    "tiny float": 1e-7,
    "huge int": 2**70,
    "negative int": -(2**63),
    "true": True,
    "false": False,
    "none": None,
    "text": "3.0",
    "nested": {"a": [1, 2.0, {"b": False, "c": None}], "d": []},
}


def test_numbers_stay_numbers(store: MetadataStore, driver: Driver) -> None:
    run_id = driver.run().id

    store.log_metadata("pipeline_run", run_id, NUMBERS, at=now())

    assert exactly(store.get_metadata("pipeline_run", [run_id])[run_id]) == exactly(NUMBERS)


# Any JSON value at all: unlike the JSONB columns, floats of every size round-trip.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(st.characters(categories=["L", "N"]), max_size=5), inner)
    ),
    max_leaves=8,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=json_values)
def test_any_json_value_round_trips(store: MetadataStore, value: Any) -> None:
    run = store.create_run(
        pipeline_name="p",
        run_name=uuid.uuid4().hex,
        parameters={},
        environment={},
        config={},
        plan={},
        outputs={},
        started_at=None,
    )

    store.log_metadata("pipeline_run", run.id, {"value": value}, at=now())

    assert exactly(store.get_metadata("pipeline_run", [run.id])[run.id]) == exactly(
        {"value": value}
    )


def test_logging_a_key_again_replaces_its_value(
    store: MetadataStore, driver: Driver, count_rows: Any
) -> None:
    run_id = driver.run().id

    store.log_metadata("pipeline_run", run_id, {"loss": 0.9, "epochs": 1}, at=now())
    store.log_metadata("pipeline_run", run_id, {"loss": 0.5, "lr": 0.1}, at=now())
    store.log_metadata("pipeline_run", run_id, {}, at=now())

    assert store.get_metadata("pipeline_run", [run_id])[run_id] == {
        "epochs": 1,
        "loss": 0.5,
        "lr": 0.1,
    }
    assert count_rows("run_metadata") == 3


def test_each_entity_has_its_own_values(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    step_id, versions = driver.complete(run.id, "train", driver.spec("m", "model"))
    version_id = versions["m"].id

    store.log_metadata("pipeline_run", run.id, {"k": "run"}, at=now())
    store.log_metadata("step_run", step_id, {"k": "step"}, at=now())
    store.log_metadata("artifact_version", version_id, {"k": "version"}, at=now())

    assert store.get_metadata("pipeline_run", [run.id, step_id]) == {
        run.id: {"k": "run"},
        step_id: {},
    }
    assert store.get_metadata("step_run", [step_id]) == {step_id: {"k": "step"}}
    assert store.get_metadata("artifact_version", [version_id]) == {version_id: {"k": "version"}}
    # What the materializer extracted stays on the version record, apart.
    assert store.get_artifact_version(version_id).metadata == {"keys": 2}


def test_get_metadata_of_many_entities_in_one_query(
    store: MetadataStore, driver: Driver, sql_log: SqlLog
) -> None:
    ids = [driver.run().id for _ in range(30)]
    for i, run_id in enumerate(ids):
        store.log_metadata("pipeline_run", run_id, {"i": i, "b": "x", "a": [i]}, at=now())

    with sql_log() as sent:
        values = store.get_metadata("pipeline_run", [*ids, "unknown"])

    assert len(sent) == 1
    assert list(values[ids[7]].items()) == [("a", [7]), ("b", "x"), ("i", 7)]  # keys sorted
    assert values["unknown"] == {}


def test_finish_step_run_logs_step_metadata(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    step_id = driver.start(run.id)
    store.log_metadata("step_run", step_id, {"rows": 1, "early": True}, at=now())

    versions = store.finish_step_run(
        step_id,
        status=ExecutionStatus.COMPLETED,
        ended_at=now(),
        outputs=[driver.spec("m", "model", metadata={"shape": [2, 3]})],
        metadata={"rows": 1000, "accuracy": 1.0},
    )

    assert store.get_metadata("step_run", [step_id])[step_id] == {
        "accuracy": 1.0,
        "early": True,
        "rows": 1000,
    }
    assert versions["m"].metadata == {"shape": [2, 3]}
    assert store.get_metadata("artifact_version", [versions["m"].id])[versions["m"].id] == {}


@pytest.mark.parametrize("entity_type", ["run", "pipeline", "artifact", ""])
def test_unknown_entity_type_is_refused(store: MetadataStore, entity_type: str) -> None:
    expected = (
        f"an entity of type {entity_type!r}: the entity type must be one of "
        "'pipeline_run', 'step_run', 'artifact_version'."
    )

    with pytest.raises(ValueError, match=re.escape(expected)) as log:
        store.log_metadata(entity_type, "x", {"a": 1}, at=now())
    with pytest.raises(ValueError, match=re.escape(expected)) as get:
        store.get_metadata(entity_type, ["x"])

    assert str(log.value) == f"Cannot log metadata on {expected}"
    assert str(get.value) == f"Cannot read the metadata of {expected}"


@pytest.mark.parametrize(
    ("entity_type", "message"),
    [
        pytest.param(
            "pipeline_run",
            "Cannot log metadata on the pipeline run 'nope': no pipeline run has this id. "
            "List runs with `trellis runs list`.",
            id="run",
        ),
        pytest.param(
            "step_run",
            "Cannot log metadata on the step run 'nope': no step run has this id. "
            "See the steps of a run with `trellis runs show <run>`.",
            id="step",
        ),
        pytest.param(
            "artifact_version",
            "Cannot log metadata on the artifact version 'nope': no artifact version has "
            "this id. List artifacts and their versions with `trellis artifacts list`.",
            id="version",
        ),
    ],
)
def test_logging_on_a_missing_entity_is_not_found(
    store: MetadataStore, count_rows: Any, entity_type: str, message: str
) -> None:
    with pytest.raises(NotFoundError) as info:
        store.log_metadata(entity_type, "nope", {"a": 1}, at=now())

    assert str(info.value) == message
    assert count_rows("run_metadata") == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        pytest.param({"": 1}, "Invalid metadata key '': a key must be non-empty text.", id="empty"),
        pytest.param({3: 1}, "Invalid metadata key 3: a key must be non-empty text.", id="int"),
        pytest.param(
            {"k" * 256: 1},
            f"Invalid metadata key {'k' * 40!r}...: a key has at most 255 characters, "
            "this one has 256.",
            id="long-key",
        ),
        pytest.param(
            {"loss": math.nan},
            "The metadata value of 'loss' is not a JSON value (Out of range float values "
            "are not JSON compliant",
            id="nan",
        ),
        pytest.param({"x": [math.inf]}, "The metadata value of 'x' is not a JSON", id="inf"),
        pytest.param(
            {"model": object()},
            "The metadata value of 'model' is not a JSON value (Object of type object is not "
            "JSON serializable). Log dicts, lists, text, numbers (not NaN or infinity), "
            "booleans or None; convert other objects first",
            id="object",
        ),
    ],
)
def test_bad_metadata_is_refused_and_nothing_is_written(
    store: MetadataStore, driver: Driver, count_rows: Any, values: Any, message: str
) -> None:
    run = driver.run()
    step_id = driver.start(run.id)

    with pytest.raises(ValueError, match=re.escape(message)) as on_log:
        store.log_metadata("pipeline_run", run.id, {"fine": 1, **values}, at=now())
    with pytest.raises(ValueError, match=re.escape(message)) as on_finish:
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=now(),
            outputs=[driver.spec()],
            metadata={"fine": 1, **values},
        )

    assert str(on_log.value).startswith(message)
    assert str(on_finish.value) == str(on_log.value)
    assert (count_rows("run_metadata"), count_rows("artifact_versions")) == (0, 0)
    assert store.get_step_run(step_id).status is ExecutionStatus.RUNNING
