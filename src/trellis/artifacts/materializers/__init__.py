"""trellis's built-in materializers, one small module each.

Names are imported on first access, so ``import trellis.artifacts.materializers``
stays cheap; each module imports its library (NumPy, pandas, ...) only inside
the methods that need it.

Example:
    >>> from trellis.artifacts.materializers import CloudpickleMaterializer
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trellis.artifacts.materializers.arrow_tables import ArrowMaterializer
    from trellis.artifacts.materializers.cloudpickled import (
        CloudpickleMaterializer,
        PickleFallbackMaterializer,
    )
    from trellis.artifacts.materializers.dataclass_values import DataclassMaterializer
    from trellis.artifacts.materializers.json_values import JsonMaterializer
    from trellis.artifacts.materializers.matplotlib_figures import MatplotlibFigureMaterializer
    from trellis.artifacts.materializers.numpy_arrays import NumpyMaterializer
    from trellis.artifacts.materializers.pandas_frames import PandasMaterializer
    from trellis.artifacts.materializers.paths import PathMaterializer
    from trellis.artifacts.materializers.pydantic_models import PydanticMaterializer
    from trellis.artifacts.materializers.raw_bytes import BytesMaterializer

__all__ = [
    "ArrowMaterializer",
    "BytesMaterializer",
    "CloudpickleMaterializer",
    "DataclassMaterializer",
    "JsonMaterializer",
    "MatplotlibFigureMaterializer",
    "NumpyMaterializer",
    "PandasMaterializer",
    "PathMaterializer",
    "PickleFallbackMaterializer",
    "PydanticMaterializer",
]

_MODULES = {
    "ArrowMaterializer": "arrow_tables",
    "BytesMaterializer": "raw_bytes",
    "CloudpickleMaterializer": "cloudpickled",
    "DataclassMaterializer": "dataclass_values",
    "JsonMaterializer": "json_values",
    "MatplotlibFigureMaterializer": "matplotlib_figures",
    "NumpyMaterializer": "numpy_arrays",
    "PandasMaterializer": "pandas_frames",
    "PathMaterializer": "paths",
    "PickleFallbackMaterializer": "cloudpickled",
    "PydanticMaterializer": "pydantic_models",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
