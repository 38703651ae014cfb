"""Turn what the loop knows into metadata-store records (no scheduling here)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from trellis.artifacts import StoredArtifact
from trellis.engine._cache import CacheKey
from trellis.engine._code import CodeInfo
from trellis.graph import Node
from trellis.metadata import ArtifactVersionRecord, ArtifactVersionSpec
from trellis.runtime import InputArtifact, StepResult


class StepRunFields(TypedDict):
    """What a started and a cached step run record alike."""

    run_id: str
    name: str
    step_name: str
    parameters: dict[str, Any]
    code_hash: str
    source_code: str | None
    cache_key: str
    cache_parts: Any
    parent_ids: list[str]
    inputs: list[tuple[str, int, str]]


def step_run_fields(
    run_id: str,
    node: Node,
    code: CodeInfo,
    key: CacheKey,
    found: Mapping[str, Any],
    parent_ids: list[str],
    inputs: Mapping[str, Sequence[ArtifactVersionRecord]],
) -> StepRunFields:
    policy = node.cache_policy.describe() if node.cache_policy is not None else None
    return StepRunFields(
        run_id=run_id,
        name=node.id,
        step_name=node.step_name,
        parameters=dict(node.parameters_json),
        code_hash=code.hash,
        source_code=code.source,
        cache_key=key.key,
        cache_parts={"parts": dict(key.parts), "lookup": dict(found), "policy": policy},
        parent_ids=parent_ids,
        inputs=[
            (name, position, version.id)
            for name, versions in inputs.items()
            for position, version in enumerate(versions)
        ],
    )


def version_spec(
    artifact_name: str,
    stored: StoredArtifact,
    *,
    output_name: str = "output",
    tags: Sequence[str] = (),
    metadata: Mapping[str, Any] | None = None,
) -> ArtifactVersionSpec:
    """The record of one saved value (an output, a ``save_artifact`` or an upload)."""
    return ArtifactVersionSpec(
        output_name=output_name,
        artifact_name=artifact_name,
        uri=stored.uri,
        materializer=stored.materializer,
        data_type=stored.data_type,
        content_hash=stored.content_hash,
        size=stored.size,
        metadata={**stored.metadata, **(metadata or {})},
        tags=tuple(dict.fromkeys(tags)),
        visualizations=[{"type": kind, "uri": uri} for kind, uri in stored.visualizations],
    )


def artifact_specs(node: Node, result: StepResult) -> list[ArtifactVersionSpec]:
    """New artifact versions of a completed step: its outputs, then ``save_artifact`` ones."""
    specs = [
        version_spec(
            spec.artifact_name,
            result.outputs[spec.name],
            output_name=spec.name,
            tags=[*spec.tags, *result.output_tags.get(spec.name, ())],
            metadata=result.output_metadata.get(spec.name),
        )
        for spec in node.outputs
    ]
    taken = {spec.output_name for spec in specs}
    for saved in result.saved:
        output_name = saved.name if saved.name not in taken else f"saved:{saved.name}"
        taken.add(output_name)
        specs.append(
            version_spec(saved.name, saved.stored, output_name=output_name, tags=saved.tags)
        )
    return specs


def task_inputs(
    versions: Sequence[ArtifactVersionRecord], is_list: bool
) -> InputArtifact | tuple[InputArtifact, ...]:
    refs = tuple(
        InputArtifact(v.uri, v.materializer, v.data_type, v.id, v.name, v.version) for v in versions
    )
    return refs if is_list else refs[0]
