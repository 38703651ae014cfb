"""``ExternalArtifact``: a value or an existing artifact passed into a pipeline as an input."""

from __future__ import annotations

from typing import Any

from trellis.exceptions import DefinitionError

_NO_VALUE: Any = object()


class ExternalArtifact:
    """An input artifact that no step of the pipeline produces.

    ``ExternalArtifact(value=...)`` uploads the value when the run starts (a new
    version of ``name``, default ``external::<pipeline>``); ``ExternalArtifact(name=...,
    version=...)`` or ``ExternalArtifact(id=...)`` uses an artifact version that
    already exists (``version=None``: the latest).

    Example:
        >>> @pipeline  # doctest: +SKIP
        ... def scoring() -> None:
        ...     score(model=ExternalArtifact(name="model", version=3),
        ...           data=ExternalArtifact(value=[1, 2, 3]))
    """

    __slots__ = ("id", "materializer", "name", "value", "version")

    def __init__(
        self,
        value: Any = _NO_VALUE,
        *,
        name: str | None = None,
        version: int | None = None,
        id: str | None = None,
        materializer: type | None = None,
    ) -> None:
        has_value = value is not _NO_VALUE
        if has_value and (version is not None or id is not None):
            raise DefinitionError(
                "ExternalArtifact takes either value= (to upload) or name=/version=/id= "
                "(to reference an existing artifact), not both."
            )
        if not has_value and name is None and id is None:
            raise DefinitionError(
                "ExternalArtifact needs value=..., or name= (and optionally version=), or id=."
            )
        if version is not None and (not isinstance(version, int) or version < 1):
            raise DefinitionError(
                f"ExternalArtifact version must be a positive int, got {version!r}."
            )
        self.value = value
        self.name = name
        self.version = version
        self.id = id
        self.materializer = materializer

    @property
    def has_value(self) -> bool:
        return self.value is not _NO_VALUE

    def __repr__(self) -> str:
        if self.has_value:
            return f"ExternalArtifact(value=<{type(self.value).__qualname__}>, name={self.name!r})"
        if self.id is not None:
            return f"ExternalArtifact(id={self.id!r})"
        return f"ExternalArtifact(name={self.name!r}, version={self.version!r})"
