"""The worker side of one step: load inputs, call the function, save outputs, run hooks."""

from __future__ import annotations

import contextlib
import inspect
import logging
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, get_args, get_origin

from trellis.artifacts import ArtifactStore, StoredArtifact, open_artifact_store
from trellis.runtime._context import InputInfo, StepContext, step_context
from trellis.runtime._outputs import check_metadata, split_outputs
from trellis.runtime._task import InputArtifact, StepError, StepResult, StepTask

logger = logging.getLogger(__name__)


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


def _load_one(store: ArtifactStore, ref: InputArtifact, expected: type | None) -> Any:
    return store.load(
        ref.uri, materializer=ref.materializer, data_type=ref.data_type, expected_type=expected
    )


def _load(task: StepTask, store: ArtifactStore) -> dict[str, Any]:
    hints = _input_types(task.func)
    values: dict[str, Any] = {}
    for name, ref in task.inputs.items():
        annotation = hints.get(name)
        if isinstance(ref, InputArtifact):
            values[name] = _load_one(store, ref, _concrete(annotation))
        else:
            element = _element_type(annotation)
            values[name] = [_load_one(store, item, element) for item in ref]
    return values


def _info(ref: InputArtifact) -> InputInfo:
    return InputInfo(ref.id, ref.name, ref.version, ref.uri)


def _context(task: StepTask) -> StepContext:
    return StepContext(
        pipeline_name=task.pipeline_name,
        run_id=task.run_id,
        run_name=task.run_name,
        step_name=task.step_id,
        attempt=task.attempt,
        inputs={
            name: _info(ref) if isinstance(ref, InputArtifact) else [_info(r) for r in ref]
            for name, ref in task.inputs.items()
        },
        outputs=tuple(spec.name for spec in task.outputs),
        artifact_store_url=task.artifact_store_url,
    )


def error_of(exc: BaseException) -> StepError:
    """A step error from an exception, with its formatted traceback."""
    return StepError(
        type=f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins."),
        message=str(exc),
        traceback="".join(traceback.format_exception(exc)),
        exception=exc,
    )


def _call_hook(
    name: str, hook: Callable[..., Any], args: tuple[Any, ...], errors: list[str]
) -> None:
    try:
        hook(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a hook never hides the step's outcome, not even sys.exit
        logger.exception("The %s hook %s raised", name, getattr(hook, "__qualname__", hook))
        errors.append(f"{name}: {type(exc).__name__}: {exc}")


def hook_takes_exception(hook: Callable[..., Any]) -> bool:
    """Whether a failure hook accepts the exception as its one argument."""
    try:
        inspect.signature(hook).bind(None)
    except TypeError:
        return False
    except ValueError:
        return True
    return True


def _save(
    task: StepTask, store: ArtifactStore, values: dict[str, Any], where: str
) -> dict[str, StoredArtifact]:
    saved = {
        spec.name: store.save(
            values[spec.name],
            scope=f"{task.run_id}/{task.step_id}/{spec.name}/{task.attempt}",
            materializer=spec.materializer,
            extract_metadata=task.enable_artifact_metadata,
            visualize=task.enable_artifact_visualization,
        )
        for spec in task.outputs
    }
    for name, stored in saved.items():
        check_metadata(stored.metadata, name, stored.materializer, where)
    return saved


@contextlib.contextmanager
def _captured(task: StepTask) -> Iterator[Callable[[], str | None]]:
    """Capture the step's prints and logs when asked; yields a getter of the text."""
    if not task.enable_step_logs:
        yield lambda: None
        return
    from trellis.runtime._logs import capture_step_logs

    with capture_step_logs(task.step_id, live=task.live_logs) as buffer:
        yield buffer.text


def run_step(task: StepTask) -> StepResult:
    """Run one step task and report its outputs or its error; never raises for step errors.

    The same function runs in a thread, a process or on a cluster worker: it reads
    and writes only the artifact store named in the task.
    """
    started = _now()
    where = f"Step `{task.step_id}` of pipeline `{task.pipeline_name}`"
    context = _context(task)
    hook_errors: list[str] = []
    saved: dict[str, StoredArtifact] = {}
    error: StepError | None = None
    store = open_artifact_store(task.artifact_store_url)
    with step_context(context), _captured(task) as log_text:
        try:
            arguments = _load(task, store)
            arguments.update(task.parameters)
            positional = [arguments.pop(n) for n in _positional_only(task.func, arguments)]
            returned = task.func(*positional, **arguments)
            saved = _save(task, store, split_outputs(returned, task.outputs, where), where)
        except KeyboardInterrupt:
            raise  # the driver stops the run
        except BaseException as exc:  # SystemExit from a step is a step failure too
            error = error_of(exc)
            if task.final_attempt and task.on_failure is not None:
                args = (exc,) if hook_takes_exception(task.on_failure) else ()
                _call_hook("on_failure", task.on_failure, args, hook_errors)
        else:
            if task.on_success is not None:
                _call_hook("on_success", task.on_success, (), hook_errors)
        text = log_text()
    log_uri = None
    if text:  # an empty log is not written: `logs` reads as "" from the plan's setting
        log_uri = store.write_file(
            f"logs/{task.run_id}/{task.step_id}-{task.attempt}.log", text.encode()
        )
    return StepResult(
        task.step_id,
        started,
        _now(),
        outputs=saved if error is None else {},
        error=error,
        metadata=dict(context.metadata),
        output_metadata={k: dict(v) for k, v in context.output_metadata.items()},
        output_tags={k: list(v) for k, v in context.output_tags.items()},
        saved=list(context.saved),
        log_uri=log_uri,
        hook_errors=hook_errors,
    )
