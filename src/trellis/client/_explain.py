"""Why a step run was, or was not, a cache hit: compare its key parts with the last run."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from trellis.metadata import ExecutionStatus, RunRecord, StepRunRecord

if TYPE_CHECKING:
    from trellis.metadata import MetadataStore


@dataclass(frozen=True, slots=True)
class CacheExplanation:
    """The answer to "why did this step (not) reuse a cached result?".

    Attributes:
        step: Invocation id of the step.
        run_name: Run the step belongs to.
        hit: Whether the step reused an earlier result.
        reasons: One sentence per reason, most important first.
        code_diff: Unified diff of the step's source against the compared run.
        compared_with: Id of the earlier step run the key was compared with.
    """

    step: str
    run_name: str
    hit: bool
    reasons: tuple[str, ...]
    code_diff: str | None = None
    compared_with: str | None = field(default=None)

    def __str__(self) -> str:
        head = "cache hit" if self.hit else "cache miss"
        lines = [f"Step `{self.step}` in run `{self.run_name}`: {head}"]
        lines += [f"- {reason}" for reason in self.reasons]
        if self.code_diff:
            lines += ["", self.code_diff.rstrip()]
        return "\n".join(lines)


def _age(seconds: float) -> str:
    span = timedelta(seconds=seconds)
    if span >= timedelta(days=1):
        return f"{seconds / 86400:.3g} d"
    if span >= timedelta(hours=1):
        return f"{seconds / 3600:.3g} h"
    return f"{seconds:.3g} s"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _compare_mapping(
    label: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, values: bool
) -> list[str]:
    old, new = old or {}, new or {}
    reasons = []
    for name in sorted(set(old) | set(new)):
        if name not in old:
            reasons.append(f"{label} `{name}` was added")
        elif name not in new:
            reasons.append(f"{label} `{name}` was removed")
        elif old[name] != new[name]:
            change = f" {_show(old[name])} → {_show(new[name])}" if values else ""
            reasons.append(f"{label} `{name}` changed{change}")
    return reasons


class _Explainer:
    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    def explain(self, step: StepRunRecord, run: RunRecord) -> CacheExplanation:
        stored = step.cache_parts or {}
        found: Mapping[str, Any] = stored.get("lookup", {})
        if step.status is ExecutionStatus.CACHED and step.original_step_run_id:
            return self._hit(step, run)
        if step.status in (ExecutionStatus.SKIPPED, ExecutionStatus.RUNNING):
            why = "it was skipped" if step.status is ExecutionStatus.SKIPPED else "it is running"
            return CacheExplanation(step.name, run.name, False, (f"no cache lookup: {why}",))
        reasons: list[str] = []
        result = found.get("result")
        if result == "disabled":
            reasons.append(f"cache disabled: {found.get('reason', 'enable_cache=False')}")
        elif result == "expired":
            reasons.append(
                f"cached result expired (age {_age(found['age_seconds'])} > "
                f"{_age(found['max_age_seconds'])})"
            )
        elif result == "deleted":
            missing = ", ".join(found.get("missing_outputs", []))
            reasons.append(
                f"cached artifacts were deleted: output(s) {missing} of step run "
                f"{found.get('original_step_run_id')} are gone from the artifact store"
            )
        elif step.cache_key:
            reasons.extend(self._same_key_history(step))
        previous = self._store.previous_step_run(
            pipeline_name=run.pipeline_name, name=step.name, before=step.created_at
        )
        diff = None
        if previous is None:
            if result in (None, "miss"):
                reasons.append(
                    f"no earlier run of step `{step.name}` in pipeline `{run.pipeline_name}`"
                )
        else:
            changes, diff = self._changes(previous, step)
            if changes and result not in (None, "miss"):
                changes = [f"also: {c}" for c in changes]
            reasons.extend(changes)
            if not changes and result in (None, "miss") and not reasons:
                reasons.append(
                    f"same key as the earlier step run {previous.id}, which ended "
                    f"{previous.status.value}: only completed runs are reused"
                )
        return CacheExplanation(
            step.name,
            run.name,
            False,
            tuple(reasons),
            code_diff=diff,
            compared_with=previous.id if previous else None,
        )

    def _hit(self, step: StepRunRecord, run: RunRecord) -> CacheExplanation:
        assert step.original_step_run_id is not None
        original = self._store.get_step_run(step.original_step_run_id)
        original_run = self._store.get_run(original.run_id)
        reason = f"reused the outputs of step run {original.id} in run `{original_run.name}`"
        if original.ended_at is not None:
            age = (step.created_at - original.ended_at).total_seconds()
            reason += f" (then {_age(max(age, 0.0))} old)"
        return CacheExplanation(step.name, run.name, True, (reason,), compared_with=original.id)

    def _same_key_history(self, step: StepRunRecord) -> list[str]:
        assert step.cache_key is not None
        earlier = [
            s
            for s in self._store.find_step_runs_by_cache_key(step.cache_key)
            if s.id != step.id and s.created_at < step.created_at
        ]
        if any(s.cache_cleared_at is not None for s in earlier):
            return ["an earlier result with the same key was cleared by `trellis cache clear`"]
        return []

    def _changes(
        self, previous: StepRunRecord, step: StepRunRecord
    ) -> tuple[list[str], str | None]:
        old = (previous.cache_parts or {}).get("parts", {})
        new = (step.cache_parts or {}).get("parts", {})
        reasons: list[str] = []
        diff = None
        if old.get("cache_format") != new.get("cache_format"):
            reasons.append("the cache key format of trellis changed")
        if old.get("code") != new.get("code"):
            if old.get("code") is None or new.get("code") is None:
                reasons.append("include_step_code of the cache policy changed")
            else:
                reasons.append("code changed")
                diff = _source_diff(previous, step)
        if old.get("captured") != new.get("captured") and None not in (
            old.get("captured"),
            new.get("captured"),
        ):
            reasons += _compare_mapping(
                "captured value", old.get("captured"), new.get("captured"), values=False
            )
        if old.get("parameters") != new.get("parameters"):
            if old.get("parameters") is None or new.get("parameters") is None:
                reasons.append("include_parameters of the cache policy changed")
            else:
                reasons += _compare_mapping(
                    "parameter", old.get("parameters"), new.get("parameters"), values=True
                )
        if old.get("inputs_by") != new.get("inputs_by"):
            reasons.append("include_artifact_values of the cache policy changed")
        elif old.get("inputs") != new.get("inputs"):
            reasons += self._input_changes(old.get("inputs", {}), new.get("inputs", {}), step)
        reasons += _compare_mapping(
            "source dependency",
            old.get("source_dependencies"),
            new.get("source_dependencies"),
            values=False,
        )
        reasons += _compare_mapping(
            "file dependency",
            old.get("file_dependencies"),
            new.get("file_dependencies"),
            values=False,
        )
        for part, label in (
            ("cache_func", "cache_func result"),
            ("cache_version", "cache_version"),
        ):
            if old.get(part) != new.get(part):
                reasons.append(f"{label} changed {_show(old.get(part))} → {_show(new.get(part))}")
        if old.get("outputs") != new.get("outputs"):
            reasons.append("output names or materializers changed")
        return reasons, diff

    def _input_changes(
        self, old: Mapping[str, Any], new: Mapping[str, Any], step: StepRunRecord
    ) -> list[str]:
        producers = self._producers(step)
        reasons = []
        for name in sorted(set(old) | set(new)):
            if name not in old or name not in new:
                state = "added" if name not in old else "removed"
                reasons.append(f"input `{name}` was {state}")
            elif old[name] != new[name]:
                reasons.append(f"input `{name}` has new content{producers.get(name, '')}")
        return reasons

    def _producers(self, step: StepRunRecord) -> dict[str, str]:
        inputs, _ = self._store.get_step_io([step.id]).get(step.id, ([], []))
        described: dict[str, str] = {}
        for link in inputs:
            producer_id = link.artifact_version.producer_step_run_id
            if link.name in described or producer_id is None:
                continue
            producer = self._store.get_step_run(producer_id)
            producer_run = self._store.get_run(producer.run_id)
            described[link.name] = (
                f" (produced by step `{producer.name}` in run `{producer_run.name}`)"
            )
        return described


def _source_diff(previous: StepRunRecord, step: StepRunRecord) -> str | None:
    if previous.source_code is None or step.source_code is None:
        return None
    lines = difflib.unified_diff(
        previous.source_code.splitlines(keepends=True),
        step.source_code.splitlines(keepends=True),
        fromfile=f"{previous.name} (step run {previous.id[:12]})",
        tofile=f"{step.name} (step run {step.id[:12]})",
        n=2,
    )
    return "".join(lines) or None


def explain_cache(step: StepRunRecord, run: RunRecord, store: MetadataStore) -> CacheExplanation:
    """Explain the cache outcome of ``step`` (a step run of ``run``)."""
    return _Explainer(store).explain(step, run)
