"""Cache keys of step runs and the lookup of a reusable earlier result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trellis.artifacts import ArtifactStore, import_path
from trellis.graph import Node
from trellis.hashing import hash_json
from trellis.metadata import ArtifactVersionRecord, MetadataStore, StepRunRecord

CACHE_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class CacheKey:
    key: str
    parts: Mapping[str, Any]


def cache_key(
    node: Node, code_hash: str, inputs: Mapping[str, Sequence[ArtifactVersionRecord]]
) -> CacheKey:
    """Hash of the step's code, parameters, input contents and output configuration."""
    parts = {
        "cache_format": CACHE_FORMAT_VERSION,
        "code": code_hash,
        "parameters": dict(node.parameters_json),
        "inputs": {name: [v.content_hash for v in versions] for name, versions in inputs.items()},
        "outputs": {
            spec.name: import_path(spec.materializer) if spec.materializer else None
            for spec in node.outputs
        },
    }
    return CacheKey(hash_json(parts), parts)


def find_hit(
    key: str, node: Node, metadata: MetadataStore, artifacts: ArtifactStore
) -> tuple[StepRunRecord, dict[str, ArtifactVersionRecord]] | None:
    """The newest completed step run with ``key`` whose output files all still exist."""
    wanted = {spec.name for spec in node.outputs}
    for record, outputs in metadata.find_cached_step_runs(key):
        if set(outputs) == wanted and all(artifacts.exists(v.uri) for v in outputs.values()):
            return record, outputs
    return None
