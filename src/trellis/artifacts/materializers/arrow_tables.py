"""pyarrow Tables as Parquet files."""

from __future__ import annotations

from typing import Any, ClassVar

from trellis.artifacts._materializer import BaseMaterializer

__all__ = ["ArrowMaterializer"]

_PARQUET_FILE = "data.parquet"


class ArrowMaterializer(BaseMaterializer):
    """Save a ``pyarrow.Table`` as ``data.parquet``.

    Example:
        >>> store.save(pa.table({"a": [1, 2]}), scope="run/load/table/0")  # doctest: +SKIP
    """

    # Registered lazily by the import path "pyarrow:Table".
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()

    def save(self, data: Any) -> None:
        """Write ``data.parquet``."""
        import pyarrow.parquet as pq

        with self.open(_PARQUET_FILE, "wb") as f:
            pq.write_table(data, f)

    def load(self, data_type: type[Any]) -> Any:
        """Read ``data.parquet``."""
        import pyarrow.parquet as pq

        with self.open(_PARQUET_FILE, "rb") as f:
            return pq.read_table(f)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record rows, columns and the schema ``{column: Arrow type}``."""
        return {
            "rows": data.num_rows,
            "columns": data.num_columns,
            "schema": {field.name: str(field.type) for field in data.schema},
        }
