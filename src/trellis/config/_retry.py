"""``RetryConfig``: how often and how patiently a failing step is retried."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RetryConfig(BaseModel):
    """Retry a failing step: attempt ``n`` (n ≥ 2) waits ``delay * backoff ** (n - 2)`` seconds.

    Attributes:
        max_retries: Retries after the first attempt (0: no retry).
        delay: Seconds before the first retry.
        backoff: Factor applied to the delay for each further retry.

    Example:
        >>> RetryConfig(max_retries=2, delay=1, backoff=2).delay_before(3)
        2.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_retries: int = Field(default=0, ge=0)
    delay: float = Field(default=0.0, ge=0)
    backoff: float = Field(default=1.0, ge=1)

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (the first attempt is 1)."""
        if attempt <= 1:
            return 0.0
        return float(self.delay * self.backoff ** (attempt - 2))
