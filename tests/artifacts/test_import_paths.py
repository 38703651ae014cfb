"""Import paths name classes so that another process can find them again."""

from __future__ import annotations

import collections
import pathlib

import pytest

from trellis.artifacts import import_object, import_path


class Outer:
    class Inner:
        pass


@pytest.mark.parametrize(
    "obj",
    [int, type(None), collections.OrderedDict, pathlib.PosixPath, Outer.Inner, import_path],
    ids=["int", "NoneType", "OrderedDict", "PosixPath", "nested-class", "function"],
)
def test_import_path_round_trips(obj: object) -> None:
    assert import_object(import_path(obj)) is obj


def test_import_path_format() -> None:
    assert import_path(collections.OrderedDict) == "collections:OrderedDict"
    assert import_path(Outer.Inner) == f"{__name__}:Outer.Inner"


def test_import_path_of_an_instance_is_refused() -> None:
    with pytest.raises(TypeError, match=r"needs a class or a function.*type\(value\)"):
        import_path(3)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("no_colon", r"not an import path; expected 'module:QualName'"),
        ("no_such_module_zz:Thing", r"module 'no_such_module_zz' is not importable"),
        ("collections:NoSuchThing", r"'collections' has no attribute 'NoSuchThing'.*renamed"),
        ("mod:f.<locals>.C", r"defined inside a function.*module level"),
    ],
)
def test_import_object_errors_say_what_to_do(path: str, message: str) -> None:
    with pytest.raises(ImportError, match=message):
        import_object(path)
