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
from trellis.config._step_values import ArtifactConfig, ExecutionMode, execution_mode

if TYPE_CHECKING:
    from trellis.config._cache_policy import CachePolicy, describe_object
    from trellis.config._docker import DockerSettings
    from trellis.config._resources import ResourceSettings
    from trellis.config._retry import RetryConfig

__all__ = [
    "CONFIG_FILE_NAME",
    "ArtifactConfig",
    "CachePolicy",
    "DockerSettings",
    "ExecutionMode",
    "PROJECT_DIR_NAME",
    "ResourceSettings",
    "RetryConfig",
    "Settings",
    "default_user_home",
    "describe_object",
    "execution_mode",
    "find_project_home",
    "init_project",
    "resolve_settings",
]


_LAZY = {
    "CachePolicy": "trellis.config._cache_policy",
    "describe_object": "trellis.config._cache_policy",
    "RetryConfig": "trellis.config._retry",
    "DockerSettings": "trellis.config._docker",
    "ResourceSettings": "trellis.config._resources",
}


def __getattr__(name: str) -> Any:
    # pydantic models are imported on first use: `import trellis` stays fast
    module = _LAZY.get(name)
    if module is not None:
        import importlib

        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'trellis.config' has no attribute {name!r}")
