"""``CachePolicy``: what a step's cache key is made of, and how long a hit stays valid."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def describe_object(obj: Any) -> str:
    """``module.QualName`` of a function, class or module (for records and messages)."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module = getattr(obj, "__module__", None) or "?"
    return f"{module}.{getattr(obj, '__qualname__', repr(obj))}"


class CachePolicy(BaseModel):
    """How the cache key of a step is built and how long a cached result is reused.

    Set it on ``@step(cache_policy=...)`` or ``@pipeline(cache_policy=...)`` (a
    step's policy replaces its pipeline's).

    Attributes:
        max_age_days: Reuse a result only if it is at most this many days old.
        expires_after: The same limit in seconds (the smaller of the two applies).
        ignore_fields: Parameter or input names left out of the key.
        include_step_code: Whether the step's source code is part of the key.
        include_parameters: Whether parameter values are part of the key.
        include_artifact_values: Inputs are keyed by content hash (the default),
            or by artifact version id when ``False``.
        source_dependencies: Functions, classes or modules whose source joins the
            key, so that changing a helper the step calls invalidates the cache.
        file_dependencies: Files whose bytes join the key.
        cache_func: A zero-argument callable whose string result joins the key.
        cache_version: A string to bump by hand to invalidate old results.

    Example:
        >>> policy = CachePolicy(max_age_days=7, ignore_fields=["timestamp"])
        >>> policy.max_age
        datetime.timedelta(days=7)
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    max_age_days: float | None = Field(default=None, gt=0)
    expires_after: float | None = Field(default=None, gt=0)
    ignore_fields: tuple[str, ...] = ()
    include_step_code: bool = True
    include_parameters: bool = True
    include_artifact_values: bool = True
    source_dependencies: tuple[Any, ...] = ()
    file_dependencies: tuple[Path, ...] = ()
    cache_func: Callable[[], Any] | None = None
    cache_version: str | None = None

    @field_validator("source_dependencies")
    @classmethod
    def _sources(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        for item in value:
            if not (
                inspect.isfunction(item)
                or inspect.ismethod(item)
                or inspect.isclass(item)
                or inspect.ismodule(item)
                or hasattr(item, "entrypoint")  # a trellis Step
            ):
                raise ValueError(
                    f"source_dependencies takes functions, classes or modules; got {item!r}"
                )
        return value

    @property
    def max_age(self) -> timedelta | None:
        """The tightest of ``max_age_days`` and ``expires_after``, if any."""
        limits = []
        if self.max_age_days is not None:
            limits.append(timedelta(days=self.max_age_days))
        if self.expires_after is not None:
            limits.append(timedelta(seconds=self.expires_after))
        return min(limits) if limits else None

    def describe(self) -> dict[str, Any]:
        """The policy as JSON (recorded with each step run)."""
        return {
            "max_age_seconds": self.max_age.total_seconds() if self.max_age else None,
            "ignore_fields": sorted(self.ignore_fields),
            "include_step_code": self.include_step_code,
            "include_parameters": self.include_parameters,
            "include_artifact_values": self.include_artifact_values,
            "source_dependencies": [describe_object(o) for o in self.source_dependencies],
            "file_dependencies": [str(p) for p in self.file_dependencies],
            "cache_func": describe_object(self.cache_func) if self.cache_func else None,
            "cache_version": self.cache_version,
        }
