"""Import paths: name a class or function as ``"module:QualName"`` and find it again."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["import_object", "import_path", "type_name"]

# Builtin types that the ``builtins`` module does not expose under their own name.
_HIDDEN_BUILTINS: dict[str, object] = {
    "NoneType": type(None),
    "ellipsis": type(Ellipsis),
    "NotImplementedType": type(NotImplemented),
}


def import_path(obj: Any) -> str:
    """Return the import path ``"module:QualName"`` of a class or function.

    Args:
        obj: A class, function or other object with ``__module__`` and ``__qualname__``.

    Returns:
        The path that :func:`import_object` turns back into ``obj``.

    Raises:
        TypeError: ``obj`` has no ``__module__`` or ``__qualname__`` (an instance, say).

    Example:
        >>> import_path(dict)
        'builtins:dict'
    """
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        raise TypeError(
            f"import_path() needs a class or a function, got {type(obj).__name__} {obj!r}; "
            "pass type(value) to name the type of a value."
        )
    return f"{module}:{qualname}"


def import_object(path: str) -> object:
    """Import the object that an import path ``"module:QualName"`` names.

    Args:
        path: An import path as made by :func:`import_path`.

    Returns:
        The class or function.

    Raises:
        ImportError: The module cannot be imported or has no such attribute; the
            message says which, and that classes defined inside functions or in
            another process's ``__main__`` cannot be imported by name.

    Example:
        >>> import_object("collections:OrderedDict")
        <class 'collections.OrderedDict'>
    """
    module_name, sep, qualname = path.partition(":")
    if not sep or not module_name or not qualname:
        raise ImportError(
            f"{path!r} is not an import path; expected 'module:QualName' such as "
            "'collections:OrderedDict'."
        )
    if module_name == "builtins" and qualname in _HIDDEN_BUILTINS:
        return _HIDDEN_BUILTINS[qualname]
    if "<locals>" in qualname:
        raise ImportError(
            f"cannot import {path!r}: it was defined inside a function, so it has no "
            "import path. Define it at module level to load it by name."
        )
    try:
        obj: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"cannot import {path!r}: module {module_name!r} is not importable here ({exc}). "
            "Install it or add its folder to PYTHONPATH; a class defined in another "
            "process's __main__ cannot be imported by name."
        ) from exc
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ImportError(
                f"cannot import {path!r}: {module_name!r} has no attribute {qualname!r}. "
                "It may have been renamed or moved since the artifact was saved."
            ) from exc
    return obj


def type_name(t: type) -> str:
    """Return ``module.QualName`` of ``t``, the way messages name a type.

    Example:
        >>> type_name(dict)
        'builtins.dict'
    """
    return f"{t.__module__}.{t.__qualname__}"
