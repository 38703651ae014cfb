"""Artifact metadata: what a materializer extracts, with numbers as numbers, plus size and hash."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from trellis.artifacts._import_paths import type_name
from trellis.artifacts._materializer import BaseMaterializer

__all__ = ["CONTENT_HASH", "STORAGE_SIZE", "extract_metadata", "plain_numbers"]

logger = logging.getLogger(__name__)

#: Keys the store always sets; they win over a materializer's keys of the same name.
STORAGE_SIZE = "storage_size"
CONTENT_HASH = "content_hash"


def extract_metadata(instance: BaseMaterializer, value: Any, *, where: str) -> dict[str, Any]:
    """Call ``instance.extract_metadata(value)``; on failure log a warning and return ``{}``.

    Metadata is a description: losing it must never lose the artifact. Values are
    passed through :func:`plain_numbers`; anything else that is not JSON is left
    for the caller to refuse with a message naming the step.

    Args:
        instance: The materializer that saved ``value``.
        value: The saved value.
        where: Names the save in the warning, like ``"run-1/train/model/0"``.
    """
    cls = type(instance)
    try:
        found = instance.extract_metadata(value)
        if not isinstance(found, Mapping):
            raise TypeError(f"it returned {type(found).__name__}, not a dict")
        return {key: plain_numbers(item) for key, item in found.items()}
    except Exception as exc:  # a description must never fail the save
        logger.warning(
            "%s failed to extract metadata of a value of type %s saved as %s (%s: %s); "
            "the artifact is kept with only its storage size and content hash. Fix its "
            "extract_metadata(), or turn metadata off with "
            "@step(enable_artifact_metadata=False).",
            cls.__qualname__,
            type_name(type(value)),
            where,
            type(exc).__name__,
            exc,
        )
        return {}


def plain_numbers(value: Any) -> Any:
    """Turn NumPy numbers into Python numbers and tuples into lists, also nested.

    Example:
        >>> plain_numbers({"shape": (2, 3), "n": 4})
        {'shape': [2, 3], 'n': 4}
    """
    if isinstance(value, dict):
        return {key: plain_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_numbers(item) for item in value]
    numpy = sys.modules.get("numpy")  # a NumPy number can only exist once NumPy is imported
    if numpy is not None and isinstance(value, numpy.generic):
        if isinstance(value, numpy.bool_):
            return bool(value)
        if isinstance(value, numpy.integer):
            return int(value)
        if isinstance(value, numpy.floating):
            return float(value)  # also float128, whose .item() stays a NumPy value
    return value
