"""Read a step's inputs and outputs from its function signature and type hints."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from trellis.config import ArtifactConfig
from trellis.exceptions import DefinitionError

DEFAULT_OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class DeclaredOutput:
    name: str
    annotation: Any
    #: True when the name came from ``Annotated`` (the artifact gets that name).
    named: bool
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StepSignature:
    signature: inspect.Signature
    input_types: dict[str, Any]
    outputs: tuple[DeclaredOutput, ...]


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """Evaluated annotations with ``Annotated`` kept; raw ones when evaluation fails."""
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception:  # a forward reference that cannot be resolved: keep what we can
        return {k: v for k, v in getattr(func, "__annotations__", {}).items() if k != "return"}


def _output(annotation: Any, index: int | None, where: str) -> DeclaredOutput:
    tags: tuple[str, ...] = ()
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        names = [extra for extra in extras if isinstance(extra, str)]
        for extra in extras:
            if isinstance(extra, ArtifactConfig):
                tags += extra.tags
                if extra.name is not None:
                    names.append(extra.name)
        if len(names) > 1:
            raise DefinitionError(f"{where}: an output has several names {names}; give one.")
        if names:
            if not names[0].strip():
                raise DefinitionError(f"{where}: output name must not be empty.")
            return DeclaredOutput(names[0], base, named=True, tags=tags)
        annotation = base
    name = DEFAULT_OUTPUT if index is None else f"{DEFAULT_OUTPUT}_{index}"
    return DeclaredOutput(name, annotation, named=False, tags=tags)


def _is_multi_output(annotation: Any) -> bool:
    if get_origin(annotation) is not tuple:
        return False
    args = get_args(annotation)
    return bool(args) and args[-1] is not Ellipsis and args != ((),)


def parse_outputs(annotation: Any, where: str) -> tuple[DeclaredOutput, ...]:
    """Outputs declared by a return annotation.

    ``-> None`` declares none, ``-> Tuple[A, B]`` two, anything else one.
    """
    if annotation is None or annotation is type(None):
        return ()
    if annotation is inspect.Signature.empty:
        return (DeclaredOutput(DEFAULT_OUTPUT, Any, named=False),)
    if _is_multi_output(annotation):
        outputs = tuple(_output(arg, i, where) for i, arg in enumerate(get_args(annotation)))
    else:
        outputs = (_output(annotation, None, where),)
    names = [o.name for o in outputs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DefinitionError(f"{where}: output name(s) {duplicates} are used twice.")
    return outputs


def read_signature(func: Callable[..., Any], where: str) -> StepSignature:
    """Parse ``func`` once; raise :class:`DefinitionError` for unsupported shapes."""
    signature = inspect.signature(func)
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise DefinitionError(
                f"{where}: *args and **kwargs are not supported in steps; "
                f"declare `{param.name}` as named parameters instead."
            )
    hints = type_hints(func)
    returns = hints.get("return", signature.return_annotation)
    inputs = {name: hints.get(name, Any) for name in signature.parameters}
    return StepSignature(signature, inputs, parse_outputs(returns, where))
