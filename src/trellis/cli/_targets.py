"""Find the pipeline a ``trellis run`` target names: ``file.py[:name]`` or ``module[:name]``."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from trellis.dsl import Pipeline
from trellis.exceptions import ConfigurationError


def _load_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise ConfigurationError(f"No such file: {path}. Give a .py file or a module name.")
    folder = str(path.parent.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)  # so the file's own imports of its neighbours work
    name = f"trellis_run_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"Cannot import {path}: not a Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_pipeline(target: str) -> Pipeline[Any, Any]:
    """Import the module of ``target`` and return its pipeline.

    Without ``:name`` the module must define exactly one pipeline.
    """
    location, _, name = target.partition(":")
    if location.endswith(".py") or "/" in location:
        module = _load_file(Path(location))
    else:
        try:
            module = importlib.import_module(location)
        except ModuleNotFoundError as exc:
            raise ConfigurationError(
                f"Cannot import module {location!r}: {exc}. Give a path to a .py file "
                "or a module importable from here."
            ) from exc
    found = {attr: value for attr, value in vars(module).items() if isinstance(value, Pipeline)}
    if name:
        if name not in found:
            raise ConfigurationError(
                f"{location} has no pipeline named {name!r}; it defines: "
                f"{', '.join(sorted(found)) or 'no pipelines'}."
            )
        return found[name]
    if len(found) != 1:
        listed = ", ".join(sorted(found)) or "no pipelines"
        raise ConfigurationError(f"{location} defines {listed}; name one as {location}:<pipeline>.")
    return next(iter(found.values()))


def parse_parameters(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``name=value`` pairs; values are JSON when they parse as JSON, else strings."""
    parameters: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ConfigurationError(
                f"Parameter {pair!r} is not name=value; for example -p lr=0.01."
            )
        try:
            parameters[name] = json.loads(raw)
        except json.JSONDecodeError:
            parameters[name] = raw
    return parameters
