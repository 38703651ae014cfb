"""cloudpickle materializers: the explicit choice, and the fallback for unknown types."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from trellis.artifacts._import_paths import type_name
from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts.materializers._pickling import read_pickle, register_advice, write_pickle

__all__ = ["CloudpickleMaterializer", "PickleFallbackMaterializer", "PickleFallbackWarning"]


class PickleFallbackWarning(UserWarning):
    """A value was saved with cloudpickle because no materializer is registered for its type.

    Pickles tie an artifact to the class definitions and library versions that
    wrote it. Silence the warning by registering a materializer for the type, or
    filter it::

        warnings.filterwarnings("ignore", category=PickleFallbackWarning)
    """


class CloudpickleMaterializer(BaseMaterializer):
    """Save any picklable value with cloudpickle, without a warning.

    Choose it per output when pickling is what you want; classes defined in
    ``__main__`` or a notebook are pickled by value, so loading does not need to
    import them.

    Example:
        >>> store.save(  # doctest: +SKIP
        ...     model, scope="run/train/model/0", materializer=CloudpickleMaterializer
        ... )
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = (object,)
    LOADS_WITHOUT_DATA_TYPE: ClassVar[bool] = True

    def save(self, data: Any) -> None:
        """Pickle ``data`` into ``data.pkl``."""
        write_pickle(self, data)

    def load(self, data_type: type[Any]) -> Any:
        """Unpickle ``data.pkl``."""
        return read_pickle(self)


class PickleFallbackMaterializer(CloudpickleMaterializer):
    """The registry's last resort: cloudpickle, with a :class:`PickleFallbackWarning`.

    Example:
        >>> materializer_registry.for_type(MyClass).__name__  # doctest: +SKIP
        'PickleFallbackMaterializer'
    """

    def save(self, data: Any) -> None:
        """Pickle ``data``, then warn that no dedicated materializer was found."""
        super().save(data)
        t = type(data)
        warnings.warn(
            f"trellis has no materializer for {type_name(t)}, so it saved the value with "
            "cloudpickle, which may fail to load with other versions of that class or "
            "its libraries. " + register_advice(t),
            PickleFallbackWarning,
            stacklevel=2,
        )
