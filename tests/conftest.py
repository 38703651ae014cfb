"""Every test gets its own TRELLIS_HOME, so nothing touches the user's stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trellis.client import close_metadata_stores

_TRELLIS_VARIABLES = (
    "TRELLIS_HOME",
    "TRELLIS_STORE",
    "TRELLIS_ARTIFACTS",
    "TRELLIS_ORCHESTRATOR",
    "TRELLIS_MAX_PARALLELISM",
)


@pytest.fixture(autouse=True)
def trellis_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty trellis home for this test (SQLite + local artifact folder)."""
    for name in _TRELLIS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "trellis-home"
    monkeypatch.setenv("TRELLIS_HOME", str(home))
    yield home
    close_metadata_stores()
