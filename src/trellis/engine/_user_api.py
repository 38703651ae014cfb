"""Functions users call inside steps or anywhere: metadata, manual artifacts, tags."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from trellis.client import ArtifactVersionView, Client
from trellis.engine._recording import version_spec
from trellis.exceptions import ParameterError, TrellisError
from trellis.runtime import SavedArtifact, current_step_context


def _json(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise ParameterError(f"log_metadata() takes a dict of JSON values, got {metadata!r}.")
    try:
        json.dumps(metadata)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"log_metadata() values must be JSON (numbers, strings, lists, dicts): {exc}."
        ) from None
    return dict(metadata)


def log_metadata(
    metadata: Mapping[str, Any],
    *,
    step_name: str | None = None,
    run_id: str | None = None,
    artifact_name: str | None = None,
    artifact_version: int | None = None,
    artifact_version_id: str | None = None,
    infer_artifact: bool = False,
) -> None:
    """Attach JSON values to the current step run, one of its outputs, a run or an artifact.

    Inside a step: to the step run; with ``artifact_name=<output>`` or
    ``infer_artifact=True`` (the step's only output) to that output's version.
    Anywhere: ``run_id=`` (with ``step_name=`` for one of its steps), or
    ``artifact_name=`` (+ ``artifact_version=``) / ``artifact_version_id=``.

    Example:
        >>> log_metadata({"accuracy": 0.93})                           # doctest: +SKIP
        >>> log_metadata({"rows": 1000}, infer_artifact=True)          # doctest: +SKIP
        >>> log_metadata({"reviewed": True}, run_id="training-...")   # doctest: +SKIP
    """
    values = _json(metadata)
    context = current_step_context()
    if context is not None and run_id is None and artifact_version_id is None:
        if infer_artifact or (artifact_name is not None and artifact_name in context.outputs):
            context.add_output_metadata(values, output_name=artifact_name)
            return
        if artifact_name is None:
            context.metadata.update(values)
            return
    client = Client()
    store = client.metadata_store
    now = datetime.now(UTC)
    if artifact_version_id is not None or artifact_name is not None:
        target = artifact_version_id or artifact_name
        assert target is not None
        version = client.get_artifact_version(target, artifact_version)
        store.log_metadata("artifact_version", version.id, values, at=now)
    elif run_id is not None:
        run = client.get_pipeline_run(run_id)
        if step_name is None:
            store.log_metadata("pipeline_run", run.id, values, at=now)
        elif step_name in run.steps:
            store.log_metadata("step_run", run.steps[step_name].id, values, at=now)
        else:
            raise ParameterError(
                f"Run `{run.name}` has no step `{step_name}`; its steps are: "
                f"{', '.join(run.steps)}."
            )
    else:
        raise TrellisError(
            "log_metadata() outside a step needs a target: run_id= (and step_name=), "
            "artifact_name= (and artifact_version=) or artifact_version_id=."
        )


def save_artifact(
    data: Any,
    name: str,
    *,
    tags: Sequence[str] = (),
    materializer: type | None = None,
) -> ArtifactVersionView | None:
    """Save ``data`` as a new version of artifact ``name``.

    Inside a step the version is linked to the step run as an extra output and
    committed with it (the function returns ``None`` then); anywhere else it is
    committed at once and its view returned.

    Example:
        >>> save_artifact({"threshold": 0.5}, "serving_config", tags=["prod"])  # doctest: +SKIP
    """
    if not isinstance(name, str) or not name.strip():
        raise ParameterError(f"save_artifact() needs a non-empty name, got {name!r}.")
    context = current_step_context()
    if context is not None:
        from trellis.artifacts import open_artifact_store

        store = open_artifact_store(context.artifact_store_url)
        stored = store.save(
            data,
            scope=f"{context.run_id}/{context.step_name}/saved-{uuid4().hex[:8]}/{context.attempt}",
            materializer=materializer,
        )
        context.saved.append(SavedArtifact(name, stored, tuple(tags)))
        return None
    client = Client()
    stored = client.artifact_store.save(
        data, scope=f"manual/{uuid4().hex}", materializer=materializer
    )
    record = client.metadata_store.record_artifact_version(
        version_spec(name, stored, tags=tags), at=datetime.now(UTC)
    )
    return ArtifactVersionView(record, client.artifact_store, client.metadata_store)
