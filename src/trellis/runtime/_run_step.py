"""The worker side of one step: load inputs, call the function, save outputs."""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, get_args, get_origin

from trellis.artifacts import open_artifact_store
from trellis.runtime._outputs import check_metadata, split_outputs
from trellis.runtime._task import InputArtifact, StepError, StepResult, StepTask


def _now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=1024)
def _input_types(func: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: load with the recorded type
        return {}


@lru_cache(maxsize=1024)
def _positional_only_names(func: Callable[..., Any]) -> tuple[str, ...]:
    parameters = inspect.signature(func).parameters.values()
    return tuple(p.name for p in parameters if p.kind is p.POSITIONAL_ONLY)


def _positional_only(func: Callable[..., Any], arguments: dict[str, Any]) -> list[str]:
    """Leading positional-only parameters that have values (they cannot be keywords)."""
    names = []
    for name in _positional_only_names(func):
        if name not in arguments:
            break
        names.append(name)
    return names


def _concrete(annotation: Any) -> type | None:
    return annotation if isinstance(annotation, type) and get_origin(annotation) is None else None


def _element_type(annotation: Any) -> type | None:
    args = get_args(annotation)
    return _concrete(args[0]) if len(args) == 1 else None


def _load(task: StepTask) -> dict[str, Any]:
    store = open_artifact_store(task.artifact_store_url)
    hints = _input_types(task.func)
    values: dict[str, Any] = {}
    for name, ref in task.inputs.items():
        annotation = hints.get(name)
        if isinstance(ref, InputArtifact):
            values[name] = store.load(
                ref.uri,
                materializer=ref.materializer,
                data_type=ref.data_type,
                expected_type=_concrete(annotation),
            )
        else:
            element = _element_type(annotation)
            values[name] = [
                store.load(
                    item.uri,
                    materializer=item.materializer,
                    data_type=item.data_type,
                    expected_type=element,
                )
                for item in ref
            ]
    return values


def run_step(task: StepTask) -> StepResult:
    """Run one step task and report its saved outputs or its error; never raises.

    The same function runs in a thread, a process or on a cluster worker: it reads
    and writes only the artifact store named in the task.
    """
    started = _now()
    where = f"Step `{task.step_id}` of pipeline `{task.pipeline_name}`"
    try:
        arguments = _load(task)
        arguments.update(task.parameters)
        positional = [arguments.pop(name) for name in _positional_only(task.func, arguments)]
        returned = task.func(*positional, **arguments)
        values = split_outputs(returned, task.outputs, where)
        store = open_artifact_store(task.artifact_store_url)
        saved = {
            spec.name: store.save(
                values[spec.name],
                scope=f"{task.run_id}/{task.step_id}/{spec.name}/{task.attempt}",
                materializer=spec.materializer,
            )
            for spec in task.outputs
        }
        for name, stored in saved.items():
            check_metadata(stored.metadata, name, stored.materializer, where)
    except KeyboardInterrupt:
        raise  # the driver stops the run
    except BaseException as exc:  # SystemExit from a step is a step failure too
        error = StepError(
            type=f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins."),
            message=str(exc),
            traceback="".join(traceback.format_exception(exc)),
            exception=exc,
        )
        return StepResult(task.step_id, started, _now(), error=error)
    return StepResult(task.step_id, started, _now(), outputs=saved)
