"""How step and pipeline options combine into what one node of a plan does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trellis.exceptions import DefinitionError

if TYPE_CHECKING:
    from trellis.config import CachePolicy


def check_cache_policy(policy: Any, where: str) -> CachePolicy | None:
    """Accept a :class:`~trellis.CachePolicy` (or ``None``); reject anything else clearly."""
    if policy is None:
        return None
    from trellis.config import CachePolicy

    if not isinstance(policy, CachePolicy):
        raise DefinitionError(
            f"{where}: cache_policy must be a trellis.CachePolicy, got {policy!r}; "
            "for example cache_policy=CachePolicy(max_age_days=7)."
        )
    return policy


@dataclass(frozen=True, slots=True)
class PipelineCacheOptions:
    """The cache options of a pipeline as they apply to its steps.

    Attributes:
        pipeline_name: For explanations.
        enable_cache: The pipeline's default for steps that do not decide.
        refresh: ``True`` when the pipeline was configured with
            ``with_options(enable_cache=False)`` (or ``trellis run --no-cache``):
            no step reuses a cached result, whatever it says itself.
        cache_policy: The pipeline's default policy.
    """

    pipeline_name: str
    enable_cache: bool | None = None
    refresh: bool = False
    cache_policy: CachePolicy | None = None

    def resolve(
        self, step_name: str, enable_cache: bool | None, policy: CachePolicy | None
    ) -> tuple[bool, str, CachePolicy | None]:
        """Whether a step may reuse results, why, and its policy.

        A refresh beats everything; otherwise step > pipeline > default (on).
        """
        chosen_policy = policy if policy is not None else self.cache_policy
        if self.refresh:
            return (
                False,
                f"cache disabled for this run: pipeline `{self.pipeline_name}` was run with "
                "enable_cache=False (with_options or --no-cache)",
                chosen_policy,
            )
        if enable_cache is not None:
            return (
                enable_cache,
                f"set on step `{step_name}` (enable_cache={enable_cache})",
                chosen_policy,
            )
        if self.enable_cache is not None:
            return (
                self.enable_cache,
                f"set on pipeline `{self.pipeline_name}` (enable_cache={self.enable_cache})",
                chosen_policy,
            )
        return True, "default", chosen_policy
