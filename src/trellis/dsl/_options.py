"""Options of steps and pipelines, and how they combine into what one node does.

One :class:`~typing.TypedDict` per level is the single list of options: the
decorators, ``configure`` and ``with_options`` all take ``**options`` typed by
it, and one record holds the values that were set.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from trellis.config import ExecutionMode, execution_mode
from trellis.exceptions import DefinitionError

if TYPE_CHECKING:
    from trellis.config import CachePolicy, RetryConfig

Hook = Callable[..., Any]
MaterializerChoice = type | Mapping[str, type] | None


class StepOptionArgs(TypedDict, total=False):
    """Options of ``@step(...)``, ``Step.configure`` and ``Step.with_options``."""

    enable_cache: bool | None
    cache_policy: CachePolicy | None
    output_materializers: MaterializerChoice
    retry: RetryConfig | None
    on_failure: Hook | None
    on_success: Hook | None
    enable_step_logs: bool | None
    enable_artifact_metadata: bool | None
    enable_artifact_visualization: bool | None
    settings: Mapping[str, Any] | None


class PipelineOptionArgs(StepOptionArgs, total=False):
    """Options of ``@pipeline(...)``: step defaults plus what only a pipeline has."""

    on_cleanup: Hook | None
    execution_mode: ExecutionMode | str | None
    tags: Sequence[str] | None
    run_name: str | None
    max_parallelism: int | None


@dataclass(frozen=True, slots=True)
class StepOptions:
    """Values set on a step (``None``: not set, the pipeline or default decides)."""

    enable_cache: bool | None = None
    cache_policy: Any = None
    output_materializers: Any = None
    retry: Any = None
    on_failure: Hook | None = None
    on_success: Hook | None = None
    enable_step_logs: bool | None = None
    enable_artifact_metadata: bool | None = None
    enable_artifact_visualization: bool | None = None
    settings: Mapping[str, Any] | None = None

    def updated(self, where: str, changes: Mapping[str, Any]) -> StepOptions:
        """A copy with ``changes`` applied (``None`` keeps a value); values are checked."""
        return dataclasses.replace(self, **_checked(changes, where, type(self)))


@dataclass(frozen=True, slots=True)
class PipelineOptions(StepOptions):
    """Values set on a pipeline; the step options are defaults for its steps."""

    on_cleanup: Hook | None = None
    execution_mode: ExecutionMode | None = None
    tags: tuple[str, ...] | None = None
    run_name: str | None = None
    max_parallelism: int | None = None
    #: ``with_options(enable_cache=False)``: no step reuses a cached result.
    refresh_cache: bool = False

    def updated(self, where: str, changes: Mapping[str, Any]) -> PipelineOptions:
        return dataclasses.replace(self, **_checked(changes, where, type(self)))


def _check_hook(value: Any, name: str, where: str) -> Hook:
    if not callable(value):
        raise DefinitionError(f"{where}: {name} must be a function, got {value!r}.")
    try:
        signature = inspect.signature(value)
    except ValueError:  # a builtin without a signature: trust it
        return value  # type: ignore[no-any-return]
    arities = ((), (None,)) if name == "on_failure" else ((),)
    for args in arities:
        try:
            signature.bind(*args)
            return value  # type: ignore[no-any-return]
        except TypeError:
            continue
    takes = "no argument or the exception" if name == "on_failure" else "no argument"
    raise DefinitionError(
        f"{where}: {name} hook {getattr(value, '__qualname__', value)!r} must take {takes}."
    )


def _checked(changes: Mapping[str, Any], where: str, kind: type[StepOptions]) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(kind)} - {"refresh_cache"}
    result: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in known:
            raise DefinitionError(
                f"{where}: unknown option {name!r}; options are: {', '.join(sorted(known))}."
            )
        if value is None:
            continue
        if name == "cache_policy":
            value = check_cache_policy(value, where)
        elif name == "retry":
            value = _check_retry(value, where)
        elif name in ("on_failure", "on_success", "on_cleanup"):
            value = _check_hook(value, name, where)
        elif name == "settings":
            value = check_settings(value, where)
        elif name == "execution_mode":
            value = execution_mode(value, where)
        elif name == "tags":
            value = _check_tags(value, where)
        elif name == "max_parallelism" and (not isinstance(value, int) or value < 1):
            from trellis.exceptions import ConfigurationError

            raise ConfigurationError(
                f"{where}: max_parallelism must be a positive integer, got {value!r}."
            )
        elif name == "enable_cache" and kind is PipelineOptions:
            result["refresh_cache"] = not value
        result[name] = value
    return result


def _check_tags(value: Any, where: str) -> tuple[str, ...]:
    tags = (value,) if isinstance(value, str) else tuple(value)
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise DefinitionError(f"{where}: tags must be non-empty strings, got {tag!r}.")
    return tags


def _check_retry(value: Any, where: str) -> RetryConfig:
    from trellis.config import RetryConfig

    if isinstance(value, Mapping):
        value = RetryConfig(**value)
    if not isinstance(value, RetryConfig):
        raise DefinitionError(
            f"{where}: retry must be a trellis.RetryConfig, got {value!r}; for example "
            "retry=RetryConfig(max_retries=3, delay=1, backoff=2)."
        )
    return value


def check_cache_policy(policy: Any, where: str) -> CachePolicy | None:
    """Accept a :class:`~trellis.CachePolicy` (or ``None``); reject anything else clearly."""
    if policy is None:
        return None
    from trellis.config import CachePolicy

    if not isinstance(policy, CachePolicy):
        raise DefinitionError(
            f"{where}: cache_policy must be a trellis.CachePolicy, got {policy!r}; "
            "for example cache_policy=CachePolicy(max_age_days=7)."
        )
    return policy


def check_settings(value: Any, where: str) -> dict[str, Any]:
    """``{"resources": ResourceSettings, "docker": DockerSettings}``; dicts are validated."""
    if not isinstance(value, Mapping):
        raise DefinitionError(f"{where}: settings must be a dict, got {value!r}.")
    from trellis.config import DockerSettings, ResourceSettings

    kinds: dict[str, Any] = {"resources": ResourceSettings, "docker": DockerSettings}
    checked: dict[str, Any] = {}
    for key, item in value.items():
        model = kinds.get(key)
        if model is None:
            raise DefinitionError(
                f"{where}: unknown settings key {key!r}; known keys are: "
                f"{', '.join(sorted(kinds))}."
            )
        if isinstance(item, Mapping):
            try:
                item = model(**item)
            except Exception as exc:
                raise DefinitionError(f"{where}: invalid settings[{key!r}]: {exc}") from None
        if not isinstance(item, model):
            raise DefinitionError(
                f"{where}: settings[{key!r}] must be a {model.__name__} or a dict, got {item!r}."
            )
        checked[key] = item
    return checked


@dataclass(frozen=True, slots=True)
class ResolvedStep:
    """What one node does once step, pipeline and defaults are combined."""

    enable_cache: bool
    cache_reason: str
    cache_policy: Any
    retry: Any
    on_failure: Hook | None
    on_success: Hook | None
    enable_step_logs: bool
    enable_artifact_metadata: bool
    enable_artifact_visualization: bool
    settings: Mapping[str, Any]


def _first(*values: Any, default: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return default


def resolve(
    step_name: str, step: StepOptions, pipeline: PipelineOptions, pipeline_name: str
) -> ResolvedStep:
    """Step > pipeline > default; a pipeline-level refresh disables every cache."""
    if pipeline.refresh_cache:
        enable_cache, reason = (
            False,
            f"cache disabled for this run: pipeline `{pipeline_name}` was run with "
            "enable_cache=False (with_options or --no-cache)",
        )
    elif step.enable_cache is not None:
        enable_cache = step.enable_cache
        reason = f"set on step `{step_name}` (enable_cache={enable_cache})"
    elif pipeline.enable_cache is not None:
        enable_cache = pipeline.enable_cache
        reason = f"set on pipeline `{pipeline_name}` (enable_cache={enable_cache})"
    else:
        enable_cache, reason = True, "default"
    return ResolvedStep(
        enable_cache=enable_cache,
        cache_reason=reason,
        cache_policy=_first(step.cache_policy, pipeline.cache_policy, default=None),
        retry=_first(step.retry, pipeline.retry, default=None),
        on_failure=_first(step.on_failure, pipeline.on_failure, default=None),
        on_success=_first(step.on_success, pipeline.on_success, default=None),
        enable_step_logs=_first(step.enable_step_logs, pipeline.enable_step_logs, default=True),
        enable_artifact_metadata=_first(
            step.enable_artifact_metadata, pipeline.enable_artifact_metadata, default=True
        ),
        enable_artifact_visualization=_first(
            step.enable_artifact_visualization,
            pipeline.enable_artifact_visualization,
            default=True,
        ),
        settings={**(pipeline.settings or {}), **(step.settings or {})},
    )
