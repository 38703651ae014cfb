"""matplotlib figures: pickled with cloudpickle, shown as PNG."""

from __future__ import annotations

from typing import Any, ClassVar

from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts.materializers._pickling import read_pickle, write_pickle

__all__ = ["MatplotlibFigureMaterializer"]

_PNG_FILE = "figure.png"


class MatplotlibFigureMaterializer(BaseMaterializer):
    """Save a ``matplotlib.figure.Figure`` with cloudpickle; its visualization is a PNG.

    matplotlib is not a dependency of trellis: the registry picks this class only
    once ``matplotlib.figure`` has been imported, and nothing here imports it.

    Example:
        >>> fig, ax = plt.subplots()  # doctest: +SKIP
        >>> store.save(fig, scope="run/plot/figure/0").visualizations  # doctest: +SKIP
        (('png', '.../visualizations/5be1.../figure.png'),)
    """

    # Registered lazily by the import path "matplotlib.figure:Figure".
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()
    LOADS_WITHOUT_DATA_TYPE: ClassVar[bool] = True

    def save(self, data: Any) -> None:
        """Pickle the figure into ``data.pkl``."""
        write_pickle(self, data)

    def load(self, data_type: type[Any]) -> Any:
        """Unpickle the figure."""
        return read_pickle(self)

    def save_visualizations(self, data: Any) -> dict[str, str]:
        """Render the figure as ``figure.png`` with ``savefig``."""
        with self.open(_PNG_FILE, "wb") as f:
            data.savefig(f, format="png")
        return {_PNG_FILE: "png"}
