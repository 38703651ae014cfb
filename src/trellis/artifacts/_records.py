"""Values the artifact store hands back: what was written, where, with which hash."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """One value written to the artifact store (created on the worker side).

    It becomes an artifact version only when the driver commits its metadata row.

    Attributes:
        uri: Full URL or local path of the artifact's folder.
        materializer: Import path ``"module:QualName"`` of the materializer class.
        data_type: Import path ``"module:QualName"`` of the saved value's type.
        content_hash: ``sha256`` hex digest of the materialized content.
        size: Total size of the artifact's files in bytes.
        metadata: JSON-able facts about the value: what the materializer extracted
            (shape, rows, ...) and always ``storage_size`` and ``content_hash``.
        visualizations: ``((type, uri), ...)`` of the files that show the value, such
            as ``("html", ".../visualizations/3f2a.../head.html")``; types are
            ``"html"``, ``"markdown"``, ``"png"``, ``"csv"`` or ``"json"``.

    Example:
        >>> stored = store.save([1, 2], scope="run-1/load/data/0")  # doctest: +SKIP
        >>> stored.metadata["length"], stored.visualizations[0][0]  # doctest: +SKIP
        (2, 'json')
    """

    uri: str
    materializer: str
    data_type: str
    content_hash: str
    size: int
    metadata: Mapping[str, Any] = field(default_factory=dict)
    visualizations: tuple[tuple[str, str], ...] = ()
