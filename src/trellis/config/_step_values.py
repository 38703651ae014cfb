"""Light configuration values used while pipelines are defined (no pydantic import)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from trellis.exceptions import DefinitionError


class ExecutionMode(enum.StrEnum):
    """What a run does when a step fails.

    - ``continue_on_failure`` (default): every step that does not depend on the
      failed one still runs.
    - ``stop_on_failure``: running steps finish; nothing new starts.
    - ``fail_fast``: nothing new starts, steps still running are marked
      ``stopped`` and their results discarded; the run returns at once.
    """

    CONTINUE_ON_FAILURE = "continue_on_failure"
    STOP_ON_FAILURE = "stop_on_failure"
    FAIL_FAST = "fail_fast"


def execution_mode(value: ExecutionMode | str | None, where: str) -> ExecutionMode | None:
    if value is None:
        return None
    try:
        return ExecutionMode(value)
    except ValueError:
        choices = ", ".join(mode.value for mode in ExecutionMode)
        raise DefinitionError(
            f"{where}: execution_mode {value!r} is not one of {choices}."
        ) from None


@dataclass(frozen=True, slots=True)
class ArtifactConfig:
    """Name and tag an output: ``-> Annotated[Model, ArtifactConfig(name="model", tags=["v1"])]``.

    Example:
        >>> ArtifactConfig(name="model", tags=["prod"]).tags
        ('prod',)
    """

    name: str | None = None
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.name is not None and (not isinstance(self.name, str) or not self.name.strip()):
            raise DefinitionError(
                f"ArtifactConfig name must be a non-empty string, got {self.name!r}."
            )
        tags = (self.tags,) if isinstance(self.tags, str) else tuple(self.tags)
        for tag in tags:
            if not isinstance(tag, str) or not tag.strip():
                raise DefinitionError(
                    f"ArtifactConfig tags must be non-empty strings, got {tag!r}."
                )
        object.__setattr__(self, "tags", tags)
