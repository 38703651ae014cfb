"""Canonical JSON and stable hashes (pure: no files, no clock, no database)."""

from __future__ import annotations

from trellis.hashing._canonical import canonical_json, hash_json, sha256_hex
from trellis.hashing._source import normalize_source, source_hash

__all__ = ["canonical_json", "hash_json", "normalize_source", "sha256_hex", "source_hash"]
