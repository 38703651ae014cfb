"""The pipelines the cases run: trivial ``int -> int`` steps in chains and a fan-in.

Steps live at module level (as in a user's project) so their source, which the
cache key hashes, is readable.
"""

from __future__ import annotations

from trellis import pipeline, step


@step
def inc(x: int) -> int:
    return x + 1


@step
def leaf(i: int) -> int:
    return i


@step
def add(a: int, b: int) -> int:
    return a + b


def _chain_of(steps: int) -> None:
    value = inc(0)
    for _ in range(steps - 1):
        value = inc(value)


#: ``steps`` trivial steps, each taking the previous one's output; caching off.
chain = pipeline(name="chain", enable_cache=False)(_chain_of)

#: The same chain with caching on (its second run is fully cached).
cached_chain = pipeline(name="cached_chain", enable_cache=True)(_chain_of)


@pipeline(enable_cache=False)
def fan(width: int) -> None:
    """``width`` independent steps, joined in pairs until one value remains."""
    level = [leaf(i) for i in range(width)]
    while len(level) > 1:
        joined = [add(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = joined + level[2 * len(joined) :]


@pipeline(enable_cache=False)
def warm_up() -> None:
    """One step: creates the store before the measured run."""
    inc(0)
