"""Configuration values: where trellis keeps things, and how steps are configured.

Only :mod:`trellis.config.settings` reads environment variables and files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trellis.config._settings import (
    CONFIG_FILE_NAME,
    PROJECT_DIR_NAME,
    Settings,
    default_user_home,
    find_project_home,
    init_project,
    resolve_settings,
)

if TYPE_CHECKING:
    from trellis.config._cache_policy import CachePolicy, describe_object

__all__ = [
    "CONFIG_FILE_NAME",
    "CachePolicy",
    "PROJECT_DIR_NAME",
    "Settings",
    "default_user_home",
    "describe_object",
    "find_project_home",
    "init_project",
    "resolve_settings",
]


def __getattr__(name: str) -> Any:
    # pydantic is imported only when a cache policy is used: `import trellis` stays fast
    if name in ("CachePolicy", "describe_object"):
        from trellis.config import _cache_policy

        return getattr(_cache_policy, name)
    raise AttributeError(f"module 'trellis.config' has no attribute {name!r}")
