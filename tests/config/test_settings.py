"""Where trellis keeps things: environment > TRELLIS_HOME > .trellis/ > per-user."""

from __future__ import annotations

from pathlib import Path

import pytest

from trellis.config import init_project, resolve_settings
from trellis.exceptions import ConfigurationError


def test_nothing_configured_uses_the_per_user_home(tmp_path: Path) -> None:
    settings = resolve_settings({"XDG_DATA_HOME": str(tmp_path / "data")}, tmp_path)
    assert settings.home == tmp_path / "data" / "trellis"
    assert settings.store_url == f"sqlite:///{tmp_path}/data/trellis/trellis.db"
    assert settings.artifacts_url == str(tmp_path / "data" / "trellis" / "artifacts")
    assert (settings.orchestrator, settings.max_parallelism) == ("local", None)


def test_nearest_project_folder_wins_over_user_home(tmp_path: Path) -> None:
    init_project(tmp_path)
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    settings = resolve_settings({}, nested)
    assert settings.home == tmp_path / ".trellis"
    assert settings.store_url == f"sqlite:///{tmp_path}/.trellis/trellis.db"


def test_trellis_home_wins_over_project_folder(tmp_path: Path) -> None:
    init_project(tmp_path)
    settings = resolve_settings({"TRELLIS_HOME": str(tmp_path / "elsewhere")}, tmp_path)
    assert settings.home == tmp_path / "elsewhere"


def test_config_file_then_environment_override(tmp_path: Path) -> None:
    home, _ = init_project(tmp_path)
    (home / "config.toml").write_text(
        'store = "sqlite:///db/meta.db"\nartifacts = "store"\nmax_parallelism = 3\n'
    )
    from_file = resolve_settings({}, tmp_path)
    assert from_file.store_url == f"sqlite:///{home}/db/meta.db"
    assert from_file.artifacts_url == str(home / "store")
    assert from_file.max_parallelism == 3
    env = {"TRELLIS_STORE": "postgresql://u@h/db", "TRELLIS_MAX_PARALLELISM": "1"}
    overridden = resolve_settings(env, tmp_path)
    assert overridden.store_url == "postgresql://u@h/db"
    assert overridden.max_parallelism == 1


def test_bad_config_values_are_explained(tmp_path: Path) -> None:
    home, _ = init_project(tmp_path)
    (home / "config.toml").write_text('stor = "x"\n')
    with pytest.raises(ConfigurationError, match=r"Unknown key\(s\) 'stor' in .*config.toml"):
        resolve_settings({}, tmp_path)
    (home / "config.toml").write_text("")
    with pytest.raises(ConfigurationError, match="must be a positive integer, got '0'"):
        resolve_settings({"TRELLIS_MAX_PARALLELISM": "0"}, tmp_path)


def test_init_is_idempotent_and_keeps_config(tmp_path: Path) -> None:
    home, created = init_project(tmp_path)
    (home / "config.toml").write_text("max_parallelism = 2\n")
    again, created_again = init_project(tmp_path)
    assert (created, created_again) == (True, False)
    assert (again / "config.toml").read_text() == "max_parallelism = 2\n"


def test_bad_parallelism_in_the_config_file_names_the_file(tmp_path: Path) -> None:
    home, _ = init_project(tmp_path)
    (home / "config.toml").write_text("max_parallelism = 0\n")
    with pytest.raises(ConfigurationError, match=r"`max_parallelism` in .*config.toml must be"):
        resolve_settings({}, tmp_path)
