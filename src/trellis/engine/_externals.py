"""``ExternalArtifact`` inputs: upload values, find referenced versions, before the run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import uuid4

from trellis.artifacts import ArtifactStore
from trellis.engine._recording import version_spec
from trellis.exceptions import ArtifactStoreError, NotFoundError
from trellis.graph import Plan
from trellis.metadata import ArtifactVersionRecord, MetadataStore


def _latest(metadata: MetadataStore, name: str) -> ArtifactVersionRecord | None:
    try:
        return metadata.get_artifact_version(name)
    except NotFoundError:
        return None


def resolve_externals(
    plan: Plan,
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    clock: Callable[[], datetime],
) -> dict[str, ArtifactVersionRecord]:
    """Artifact versions of the plan's external inputs, by source id.

    An uploaded value whose content equals the latest version of its name reuses
    that version instead of adding an identical one (and keeps caches warm).
    """
    resolved: dict[str, ArtifactVersionRecord] = {}
    for key, external in plan.externals.items():
        if external.has_value:
            name = external.name or f"{plan.pipeline_name}::external"
            stored = artifacts.save(
                external.value,
                scope=f"external/{uuid4().hex}",
                materializer=external.materializer,
            )
            latest = _latest(metadata, name)
            if latest is not None and latest.content_hash == stored.content_hash:
                resolved[key] = latest
                continue
            resolved[key] = metadata.record_artifact_version(version_spec(name, stored), at=clock())
            continue
        version = metadata.get_artifact_version(external.id or external.name, external.version)
        if not artifacts.exists(version.uri):
            raise ArtifactStoreError(
                f"ExternalArtifact {external!r} of pipeline `{plan.pipeline_name}` refers to "
                f"artifact `{version.name}` v{version.version}, whose files are gone from "
                f"the artifact store ({version.uri}). Pick another version."
            )
        resolved[key] = version
    return resolved
