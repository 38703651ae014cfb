"""The materializer registry: which materializer saves a value of a given type."""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

from trellis.artifacts._import_paths import import_object
from trellis.artifacts._materializer import BaseMaterializer

__all__ = ["MaterializerRegistry", "materializer_registry", "register_materializer"]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=type[BaseMaterializer])

#: A materializer class, or its import path when it is resolved on first use.
_Entry = type[BaseMaterializer] | str

_BUILTIN = "trellis.artifacts.materializers"

_JSON = f"{_BUILTIN}.json_values:JsonMaterializer"
_BYTES = f"{_BUILTIN}.raw_bytes:BytesMaterializer"

# Types that are always importable: registered by the type object itself.
_BUILTIN_TYPES: dict[type, str] = {
    **dict.fromkeys((type(None), bool, int, float, str, dict, list, tuple, set, frozenset), _JSON),
    **dict.fromkeys((bytes, bytearray), _BYTES),
    object: f"{_BUILTIN}.cloudpickled:PickleFallbackMaterializer",
}

# Types of optional or slow-to-import libraries: registered by import path and
# resolved only once their module is in ``sys.modules`` (a value of the type can
# only exist after that), so looking up ``int`` never imports NumPy.
_BUILTIN_LAZY_TYPES: dict[str, str] = {
    "pathlib:Path": f"{_BUILTIN}.paths:PathMaterializer",
    "pydantic:BaseModel": f"{_BUILTIN}.pydantic_models:PydanticMaterializer",
    "numpy:ndarray": f"{_BUILTIN}.numpy_arrays:NumpyMaterializer",
    "numpy:generic": f"{_BUILTIN}.numpy_arrays:NumpyMaterializer",
    "pandas:DataFrame": f"{_BUILTIN}.pandas_frames:PandasMaterializer",
    "pandas:Series": f"{_BUILTIN}.pandas_frames:PandasMaterializer",
    "pyarrow:Table": f"{_BUILTIN}.arrow_tables:ArrowMaterializer",
    "matplotlib.figure:Figure": f"{_BUILTIN}.matplotlib_figures:MatplotlibFigureMaterializer",
}

_DATACLASS_MATERIALIZER = f"{_BUILTIN}.dataclass_values:DataclassMaterializer"


class _Layer:
    """Registrations of one priority: by type, by lazy import path, by predicate."""

    def __init__(self) -> None:
        self.by_type: dict[type, _Entry] = {}
        self.lazy: dict[str, _Entry] = {}
        self.hooks: list[tuple[Callable[[type], bool], _Entry]] = []

    def resolve_lazy(self) -> None:
        """Move lazy registrations whose module is imported to ``by_type``."""
        for path in [p for p in self.lazy if p.partition(":")[0] in sys.modules]:
            try:
                target = import_object(path)
            except ImportError:
                continue  # e.g. the module is still being imported; try next time
            entry = self.lazy.pop(path)
            if isinstance(target, type):
                self.by_type.setdefault(target, entry)
            else:
                logger.warning("materializer registered for %r, which is not a class", path)


class MaterializerRegistry:
    """Maps Python types to materializer classes, matched along the type's MRO.

    Lookups walk ``t.__mro__`` from the most specific class; at each class a user
    registration wins over a built-in one. Dataclasses, which share no base class,
    are matched by a predicate hook after every class of the MRO except ``object``,
    whose materializer (cloudpickle, with a warning) is the last resort.

    Args:
        include_builtins: Start with trellis's built-in materializers registered.

    Example:
        >>> registry = MaterializerRegistry()
        >>> registry.for_type(bool).__name__
        'JsonMaterializer'
    """

    def __init__(self, *, include_builtins: bool = True) -> None:
        self._lock = threading.Lock()
        self._user = _Layer()
        self._builtin = _Layer()
        self._cache: dict[type, type[BaseMaterializer] | None] = {}
        if include_builtins:
            self._builtin.by_type.update(_BUILTIN_TYPES)
            self._builtin.lazy.update(_BUILTIN_LAZY_TYPES)
            self._builtin.hooks.append((dataclasses.is_dataclass, _DATACLASS_MATERIALIZER))

    def register(self, materializer: type[BaseMaterializer], *types: type | str) -> None:
        """Use ``materializer`` for ``types`` and their subclasses.

        Args:
            materializer: A :class:`BaseMaterializer` subclass.
            *types: Classes, or import paths ``"module:QualName"`` of classes whose
                module should not be imported now; defaults to the materializer's
                ``ASSOCIATED_TYPES``.

        Raises:
            TypeError: ``materializer`` is not a materializer class, or a type is
                neither a class nor an import path.
            ValueError: No types were given and ``ASSOCIATED_TYPES`` is empty.
        """
        if not (isinstance(materializer, type) and issubclass(materializer, BaseMaterializer)):
            raise TypeError(
                f"register_materializer() needs a BaseMaterializer subclass, got {materializer!r}."
            )
        targets = types or materializer.ASSOCIATED_TYPES
        if not targets:
            raise ValueError(
                f"register_materializer({materializer.__name__}) got no types and "
                f"{materializer.__name__}.ASSOCIATED_TYPES is empty; pass the types, as in "
                f"register_materializer({materializer.__name__}, MyType)."
            )
        with self._lock:
            for target in targets:
                if isinstance(target, type):
                    self._user.by_type[target] = materializer
                elif isinstance(target, str) and ":" in target:
                    self._user.lazy[target] = materializer
                else:
                    raise TypeError(
                        f"cannot register {materializer.__name__} for {target!r}: pass a "
                        "class or an import path 'module:QualName'."
                    )
            self._cache.clear()

    def unregister(self, materializer: type[BaseMaterializer]) -> None:
        """Forget every user registration of ``materializer`` (built-ins stay).

        Example:
            >>> registry = MaterializerRegistry()
            >>> registry.unregister(BaseMaterializer)  # nothing registered: no-op
        """
        with self._lock:
            user = self._user
            user.by_type = {k: v for k, v in user.by_type.items() if v is not materializer}
            user.lazy = {k: v for k, v in user.lazy.items() if v is not materializer}
            self._user.hooks[:] = [h for h in self._user.hooks if h[1] is not materializer]
            self._cache.clear()

    def register_hook(
        self, predicate: Callable[[type], bool], materializer: type[BaseMaterializer]
    ) -> None:
        """Use ``materializer`` for every type for which ``predicate`` is true.

        Hooks are consulted after the registrations of the type's MRO, except
        ``object``; user hooks come before built-in ones.

        Args:
            predicate: Called with a type; cheap and without side effects.
            materializer: The materializer class to use when ``predicate`` is true.

        Example:
            >>> def is_attrs_class(t: type) -> bool:
            ...     return hasattr(t, "__attrs_attrs__")
            >>> registry.register_hook(is_attrs_class, AttrsMaterializer)  # doctest: +SKIP
        """
        with self._lock:
            self._user.hooks.append((predicate, materializer))
            self._cache.clear()

    def for_type(self, t: type) -> type[BaseMaterializer] | None:
        """Return the materializer class for values of type ``t``.

        Args:
            t: The type of a value.

        Returns:
            The most specific registered materializer, or ``None`` when nothing
            matches (only possible without built-ins).

        Example:
            >>> materializer_registry.for_type(list).__name__
            'JsonMaterializer'
        """
        # Lock-free fast path: a dict read is atomic, and writers replace entries
        # or clear the cache only while holding the lock.
        try:
            return self._cache[t]
        except KeyError:
            pass
        with self._lock:
            found = self._lookup(t)
            self._cache[t] = found
            return found

    def _lookup(self, t: type) -> type[BaseMaterializer] | None:
        layers = (self._user, self._builtin)
        for layer in layers:
            if layer.lazy:
                layer.resolve_lazy()
        mro = t.__mro__
        for cls in mro[:-1]:
            for layer in layers:
                if cls in layer.by_type:
                    return self._resolve(layer.by_type, cls)
        for layer in layers:
            for predicate, entry in layer.hooks:
                if predicate(t):
                    return self._materializer_class(entry)
        for layer in layers:
            if object in layer.by_type:
                return self._resolve(layer.by_type, object)
        return None

    def _resolve(self, table: dict[type, _Entry], cls: type) -> type[BaseMaterializer]:
        materializer = self._materializer_class(table[cls])
        table[cls] = materializer
        return materializer

    @staticmethod
    def _materializer_class(entry: _Entry) -> type[BaseMaterializer]:
        if isinstance(entry, str):
            resolved = import_object(entry)
            assert isinstance(resolved, type)
            assert issubclass(resolved, BaseMaterializer)
            return resolved
        return entry


#: The registry that :class:`~trellis.artifacts.ArtifactStore` uses by default.
materializer_registry = MaterializerRegistry()


def register_materializer(materializer: M, *types: type | str) -> M:
    """Register a materializer in the global registry; also a class decorator.

    Args:
        materializer: A :class:`BaseMaterializer` subclass.
        *types: The classes (or import paths ``"module:QualName"``) it handles;
            defaults to its ``ASSOCIATED_TYPES``.

    Returns:
        ``materializer`` itself, so the function works as a decorator.

    Example:
        >>> @register_materializer
        ... class TextMaterializer(BaseMaterializer):  # doctest: +SKIP
        ...     ASSOCIATED_TYPES = (str,)
        >>> register_materializer(TextMaterializer, MyText)  # doctest: +SKIP
    """
    materializer_registry.register(materializer, *types)
    return materializer
