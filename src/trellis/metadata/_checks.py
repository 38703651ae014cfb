"""Checks of what callers hand the store, made before any transaction starts.

A bad tag, metadata key or visualization is the caller's mistake, so it is a
``ValueError`` naming the value and the fix, and nothing reaches the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from trellis.metadata._records import AttemptSpec

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_TAG_LENGTH",
    "VISUALIZATION_TYPES",
    "check_attempts",
    "check_metadata",
    "check_tags",
    "check_visualizations",
]

#: Longest tag name, in characters (the ``tags.name`` column).
MAX_TAG_LENGTH = 255
#: Longest metadata key, in characters (the ``run_metadata.key`` column).
MAX_KEY_LENGTH = 255
#: What a visualization file can be.
VISUALIZATION_TYPES = ("html", "markdown", "png", "csv", "json")


def check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Return the distinct tag names of ``tags``, sorted, or raise ``ValueError``.

    A tag name is non-empty text of at most 255 characters that neither starts
    nor ends with whitespace. Sorting makes concurrent writers take row locks
    in one order.

    Example:
        >>> check_tags(["prod", "baseline", "prod"])
        ('baseline', 'prod')
    """
    if isinstance(tags, str):
        raise ValueError(
            f"Tags must be a list of tag names, not the text {tags!r}: write [{tags!r}]."
        )
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise ValueError(f"Invalid tag {tag!r}: a tag name must be non-empty text.")
        if tag != tag.strip():
            raise ValueError(
                f"Invalid tag {tag!r}: a tag name must not start or end with whitespace; "
                f"write {tag.strip()!r}."
            )
        if len(tag) > MAX_TAG_LENGTH:
            raise ValueError(
                f"Invalid tag {tag[:40]!r}...: a tag name has at most {MAX_TAG_LENGTH} "
                f"characters, this one has {len(tag)}."
            )
    return tuple(sorted(set(tags)))


def check_metadata(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``values`` as a dict after checking every key and value, or raise ``ValueError``.

    Keys are non-empty text of at most 255 characters; values are JSON values
    (``dict``, ``list``, ``str``, ``int``, ``float``, ``bool``, ``None``) without
    NaN or infinity, which JSON cannot hold (PostgreSQL refuses them).

    Example:
        >>> check_metadata({"accuracy": 0.93, "epochs": 3})
        {'accuracy': 0.93, 'epochs': 3}
    """
    for key, value in values.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"Invalid metadata key {key!r}: a key must be non-empty text.")
        if len(key) > MAX_KEY_LENGTH:
            raise ValueError(
                f"Invalid metadata key {key[:40]!r}...: a key has at most {MAX_KEY_LENGTH} "
                f"characters, this one has {len(key)}."
            )
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"The metadata value of {key!r} is not a JSON value ({exc}). Log dicts, "
                "lists, text, numbers (not NaN or infinity), booleans or None; convert "
                "other objects first, e.g. with float(), int(), str() or .tolist()."
            ) from exc
    return dict(values)


def check_visualizations(
    visualizations: Sequence[Mapping[str, str]], output_name: str
) -> list[dict[str, str]]:
    """Return the visualizations of output ``output_name`` as dicts, or raise ``ValueError``.

    Example:
        >>> check_visualizations([{"type": "png", "uri": "/a/1/plot.png"}], "model")
        [{'type': 'png', 'uri': '/a/1/plot.png'}]
    """
    checked = []
    for item in visualizations:
        kind = item.get("type") if isinstance(item, Mapping) else None
        uri = item.get("uri") if isinstance(item, Mapping) else None
        if kind not in VISUALIZATION_TYPES or not isinstance(uri, str) or not uri:
            raise ValueError(
                f"Invalid visualization {item!r} of output {output_name!r}: expected "
                '{"type": ..., "uri": ...} with a non-empty uri and a type among '
                f"{', '.join(VISUALIZATION_TYPES)}."
            )
        if not all(isinstance(value, str) for value in item.values()):
            raise ValueError(
                f"Invalid visualization {item!r} of output {output_name!r}: every value "
                "must be text."
            )
        checked.append(dict(item))
    return checked


def check_attempts(attempts: int, failed_attempts: Sequence[AttemptSpec]) -> None:
    """Check that the failed attempts are distinct and come before the last one.

    Example:
        >>> check_attempts(1, [])
    """
    if attempts < 1:
        raise ValueError(f"attempts must be >= 1 (the last attempt counts), got {attempts}.")
    numbers = [spec.attempt for spec in failed_attempts]
    for number in numbers:
        if not 1 <= number < attempts:
            raise ValueError(
                f"Failed attempt {number} is not one before the last attempt "
                f"(attempts={attempts}): failed attempts are numbered 1 to {attempts - 1}."
            )
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"Failed attempts must have distinct numbers, got {numbers}.")
