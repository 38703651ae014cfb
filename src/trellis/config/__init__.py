"""Configuration values: where trellis keeps things, and how steps are configured.

Only :mod:`trellis.config.settings` reads environment variables and files.
"""

from __future__ import annotations

from trellis.config._settings import (
    CONFIG_FILE_NAME,
    PROJECT_DIR_NAME,
    Settings,
    default_user_home,
    find_project_home,
    init_project,
    resolve_settings,
)

__all__ = [
    "CONFIG_FILE_NAME",
    "PROJECT_DIR_NAME",
    "Settings",
    "default_user_home",
    "find_project_home",
    "init_project",
    "resolve_settings",
]
