"""Cache keys of step runs, and the lookup of a reusable earlier result.

The key is the hash of a canonical JSON document of its parts; the parts are
stored with every step run (even when caching is off) so a miss can be explained.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from trellis.artifacts import ArtifactStore, import_path
from trellis.engine._code import captured_values, code_info, object_source_hash
from trellis.exceptions import DefinitionError
from trellis.graph import Node
from trellis.hashing import hash_json
from trellis.metadata import ArtifactVersionRecord, MetadataStore

#: Bump when the layout of the key document changes: old entries then miss.
CACHE_FORMAT_VERSION = 3

#: The step run id whose outputs a hit reuses, and those outputs.
Hit = tuple[str, dict[str, ArtifactVersionRecord]]


@dataclass(frozen=True, slots=True)
class CacheKey:
    """A step's cache key and the document it hashes."""

    key: str
    parts: Mapping[str, Any]


def _file_hash(path: Path, where: str) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise DefinitionError(
            f"{where}: file dependency {str(path)!r} cannot be read ({exc.strerror}; working "
            f"directory {Path.cwd()}). Fix the path in CachePolicy(file_dependencies=...)."
        ) from exc
    return digest.hexdigest()


class CacheKeys:
    """Builds cache keys for the nodes of one run.

    :meth:`prepare` does the I/O a key needs (source files, dependency files,
    ``cache_func``) once per node, before the run starts, so that configuration
    mistakes fail early; :meth:`key` adds the inputs, which exist only later.
    """

    def __init__(self) -> None:
        self._prepared: dict[str, dict[str, Any]] = {}
        self._files: dict[Path, str] = {}
        self._captured_by_func: dict[Any, dict[str, Any]] = {}

    def prepare(self, node: Node) -> dict[str, Any]:
        prepared = self._prepared.get(node.id)
        if prepared is not None:
            return prepared
        where = f"Step `{node.id}`"
        policy = node.cache_policy
        code = code_info(node.func)
        include_code = policy is None or policy.include_step_code
        parts: dict[str, Any] = {
            "cache_format": CACHE_FORMAT_VERSION,
            "code": code.hash if include_code else None,
            "captured": self._captured(node.func) if include_code else None,
        }
        if policy is not None:
            parts["source_dependencies"] = {
                name: object_source_hash(obj)
                for obj in policy.source_dependencies
                for name in (_describe(obj),)
            }
            parts["file_dependencies"] = {
                str(path): self._file(Path(path), where) for path in policy.file_dependencies
            }
            parts["cache_func"] = self._cache_func(policy.cache_func, where)
            parts["cache_version"] = policy.cache_version
        self._prepared[node.id] = parts
        return parts

    def _captured(self, func: Any) -> dict[str, Any]:
        # per run, not per process: a module constant may be reassigned between runs
        found = self._captured_by_func.get(func)
        if found is None:
            found = self._captured_by_func[func] = captured_values(func)
        return found

    def _file(self, path: Path, where: str) -> str:
        resolved = path.resolve()
        if resolved not in self._files:
            self._files[resolved] = _file_hash(resolved, where)
        return self._files[resolved]

    @staticmethod
    def _cache_func(func: Any, where: str) -> str | None:
        if func is None:
            return None
        try:
            return str(func())
        except Exception as exc:
            raise DefinitionError(
                f"{where}: cache_func {_describe(func)} raised {type(exc).__name__}: {exc}. "
                "A cache_func takes no arguments and returns a string that joins the key."
            ) from exc

    def key(self, node: Node, inputs: Mapping[str, Sequence[ArtifactVersionRecord]]) -> CacheKey:
        policy = node.cache_policy
        ignored = set(policy.ignore_fields) if policy is not None else set()
        by_value = policy is None or policy.include_artifact_values
        include_parameters = policy is None or policy.include_parameters
        parts = dict(self.prepare(node))
        parts["parameters"] = (
            {k: v for k, v in node.parameters_json.items() if k not in ignored}
            if include_parameters
            else None
        )
        parts["inputs"] = {
            name: [v.content_hash if by_value else v.id for v in versions]
            for name, versions in inputs.items()
            if name not in ignored
        }
        parts["inputs_by"] = "content" if by_value else "artifact_id"
        # the artifact name is part of the key: a hit must produce what this node would
        parts["outputs"] = {
            spec.name: {
                "artifact": spec.artifact_name,
                "materializer": import_path(spec.materializer) if spec.materializer else None,
            }
            for spec in node.outputs
        }
        return CacheKey(hash_json(parts), parts)


def _describe(obj: Any) -> str:
    from trellis.config import describe_object

    return describe_object(obj)


def lookup(
    key: str,
    node: Node,
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    now: datetime,
) -> tuple[Hit | None, dict[str, Any]]:
    """The newest valid earlier result for ``key``, and what the lookup found.

    A result is valid when it is younger than the policy's age limit and every
    output's files still exist in the artifact store.
    """
    candidates = metadata.find_cache_candidates(key)
    if not candidates:
        return None, {"result": "miss"}
    max_age = node.cache_policy.max_age if node.cache_policy is not None else None
    wanted = {spec.name for spec in node.outputs}
    finding: dict[str, Any] = {}
    for candidate in candidates:
        outputs = dict(candidate.outputs)
        age = now - (candidate.ended_at or candidate.created_at)
        if max_age is not None and age > max_age:
            finding = finding or {
                "result": "expired",
                "original_step_run_id": candidate.step_run_id,
                "age_seconds": age.total_seconds(),
                "max_age_seconds": max_age.total_seconds(),
            }
            continue
        missing = sorted(
            name
            for name in wanted
            if name not in outputs or not artifacts.exists(outputs[name].uri)
        )
        if missing:
            if finding.get("result") != "expired":
                finding = {
                    "result": "deleted",
                    "original_step_run_id": candidate.step_run_id,
                    "missing_outputs": missing,
                }
            continue
        return (candidate.step_run_id, outputs), {
            "result": "hit",
            "original_step_run_id": candidate.step_run_id,
        }
    return None, finding
