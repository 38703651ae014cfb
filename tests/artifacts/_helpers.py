"""Helpers shared by the artifact tests."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from trellis.artifacts import StoredArtifact

#: ``stored, loaded = roundtrip(value, materializer=...)``
RoundTrip = Callable[..., tuple[StoredArtifact, Any]]


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down, and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and str(a) == str(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (set, frozenset)):
        # Set members are scalars here; their reprs pair NaNs up as well.
        return sorted(map(repr, a)) == sorted(map(repr, b))
    return bool(a == b)


def storage_facts(stored: StoredArtifact) -> dict[str, Any]:
    """The metadata keys the store always records, whatever the materializer."""
    return {"storage_size": stored.size, "content_hash": stored.content_hash}
