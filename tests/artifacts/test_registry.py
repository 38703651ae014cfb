"""The registry matches types along their MRO; users override built-ins."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import pytest

import trellis.artifacts
from trellis.artifacts import (
    ArtifactStore,
    BaseMaterializer,
    MaterializerRegistry,
    materializer_registry,
    register_materializer,
)
from trellis.artifacts.materializers import (
    DataclassMaterializer,
    JsonMaterializer,
    PickleFallbackMaterializer,
)


class Animal:
    pass


class Dog(Animal):
    pass


@dataclasses.dataclass
class Config:
    x: int


@dataclasses.dataclass
class SpecialConfig(Config):
    y: int = 0


class Lazy:
    """Registered by import path in a test."""


class Text(BaseMaterializer):
    """Stores a str as text.txt, to tell it apart from the JSON materializer."""

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (str,)

    def save(self, data: Any) -> None:
        with self.open("nested/text.txt", "w") as f:
            f.write(data)

    def load(self, data_type: type[Any]) -> Any:
        with self.open("nested/text.txt", "r") as f:
            return data_type(f.read())


class Other(Text):
    pass


def test_lookup_walks_the_mro_most_specific_first() -> None:
    registry = MaterializerRegistry()
    registry.register(Text, Animal)
    assert registry.for_type(Dog) is Text
    registry.register(Other, Dog)
    assert registry.for_type(Dog) is Other
    assert registry.for_type(Animal) is Text


def test_user_registration_overrides_the_builtin_for_that_type_only() -> None:
    registry = MaterializerRegistry()
    registry.register(Text, int)
    assert registry.for_type(int) is Text
    assert registry.for_type(bool) is JsonMaterializer  # bool's own built-in is more specific


def test_registering_for_object_replaces_the_pickle_fallback() -> None:
    registry = MaterializerRegistry()
    assert registry.for_type(Animal) is PickleFallbackMaterializer
    registry.register(Text, object)
    assert registry.for_type(Animal) is Text
    assert registry.for_type(int) is JsonMaterializer


def test_dataclasses_are_found_by_a_hook_after_registered_bases() -> None:
    registry = MaterializerRegistry()
    assert registry.for_type(Config) is DataclassMaterializer
    assert registry.for_type(SpecialConfig) is DataclassMaterializer
    registry.register(Text, Config)
    assert registry.for_type(SpecialConfig) is Text


def test_user_hooks_come_before_builtin_hooks() -> None:
    registry = MaterializerRegistry()
    registry.register_hook(lambda t: t.__name__.endswith("Config"), Other)
    assert registry.for_type(Config) is Other
    assert registry.for_type(Animal) is PickleFallbackMaterializer


def test_registering_invalidates_cached_lookups() -> None:
    registry = MaterializerRegistry()
    assert registry.for_type(Dog) is PickleFallbackMaterializer
    registry.register(Text, Dog)
    assert registry.for_type(Dog) is Text


def test_registration_by_import_path_resolves_once_the_module_is_imported() -> None:
    registry = MaterializerRegistry()
    registry.register(Text, f"{__name__}:Lazy", "module_that_does_not_exist_zz:Thing")
    assert registry.for_type(int) is JsonMaterializer  # no attempt to import the missing module
    assert registry.for_type(Lazy) is Text


def test_matplotlib_figures_are_registered_by_import_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import types

    registry = MaterializerRegistry()
    stub = types.ModuleType("matplotlib.figure")

    class Figure:
        pass

    Figure.__module__ = "matplotlib.figure"
    stub.Figure = Figure  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "matplotlib.figure", stub)
    found = registry.for_type(Figure)
    assert found is not None
    assert found.__name__ == "MatplotlibFigureMaterializer"


def test_register_materializer_uses_associated_types_and_works_as_decorator() -> None:
    class Marker:
        pass

    @register_materializer
    class MarkerMaterializer(Text):
        ASSOCIATED_TYPES = (Marker,)

    assert materializer_registry.for_type(Marker) is MarkerMaterializer

    class Second:
        pass

    assert register_materializer(Other, Second) is Other
    assert materializer_registry.for_type(Second) is Other
    assert materializer_registry.for_type(str) is JsonMaterializer  # Other's own types unused


def test_register_materializer_rejects_bad_arguments() -> None:
    registry = MaterializerRegistry()
    with pytest.raises(TypeError, match=r"needs a BaseMaterializer subclass"):
        registry.register(int)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"ASSOCIATED_TYPES is empty; pass the types"):
        registry.register(BaseMaterializer)
    with pytest.raises(TypeError, match=r"pass a class or an import path"):
        registry.register(Text, "not-a-path")


def test_a_materializer_can_be_chosen_per_save(fresh_store: ArtifactStore) -> None:
    stored = fresh_store.save("hello", scope="run/step/output/0", materializer=Text)
    assert stored.materializer == f"{__name__}:Text"
    assert (Path(stored.uri) / "nested" / "text.txt").read_text() == "hello"
    loaded = fresh_store.load(
        stored.uri, materializer=stored.materializer, data_type=stored.data_type
    )
    assert loaded == "hello"


def test_a_store_uses_its_own_registry(tmp_path: Path) -> None:
    registry = MaterializerRegistry()
    registry.register(Text, str)
    store = ArtifactStore(str(tmp_path), registry=registry)
    assert store.save("x", scope="run/step/output/0").materializer == f"{__name__}:Text"


def _run_isolated(code: str) -> None:
    """Run ``code`` in a fresh interpreter that imports trellis.artifacts alone.

    A stub ``trellis`` package keeps ``trellis/__init__.py`` (and what it imports)
    out of the measurement.
    """
    package = Path(trellis.artifacts.__file__).parents[1]
    prelude = textwrap.dedent(
        f"""
        import sys, types
        stub = types.ModuleType("trellis")
        stub.__path__ = [{str(package)!r}]
        sys.modules["trellis"] = stub
        HEAVY = ("fsspec", "numpy", "pandas", "pyarrow", "pydantic", "cloudpickle", "matplotlib")
        def imported():
            return sorted(m for m in HEAVY if m in sys.modules)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_importing_the_package_imports_no_heavy_library() -> None:
    _run_isolated(
        """
        import trellis.artifacts
        import trellis.artifacts.materializers
        assert imported() == [], imported()
        """
    )


def test_saving_an_int_imports_no_optional_library(tmp_path: Path) -> None:
    _run_isolated(
        f"""
        from trellis.artifacts import ArtifactStore
        store = ArtifactStore({str(tmp_path)!r})
        for value in (1, {{"a": [1.5, None]}}, b"raw"):
            a = store.save(value, scope="run/step/output/0")
            assert store.load(a.uri, materializer=a.materializer, data_type=a.data_type) == value
        assert [kind for kind, _ in a.visualizations] == []
        assert store.save([1], scope="run/step/output/0").visualizations[0][0] == "json"
        store.read_file(store.write_file("logs/run/step-1.log", b"x"))
        assert imported() == ["fsspec"], imported()
        """
    )
