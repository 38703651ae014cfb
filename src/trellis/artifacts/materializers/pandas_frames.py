"""pandas DataFrames and Series as Parquet files (through pyarrow)."""

from __future__ import annotations

import json
import logging
import math
import sys
from typing import Any, ClassVar

from trellis.artifacts._materializer import BaseMaterializer
from trellis.artifacts.materializers._pickling import read_pickle, write_pickle

__all__ = ["PandasMaterializer"]

logger = logging.getLogger(__name__)

_PARQUET_FILE = "data.parquet"
_SERIES_COLUMN = "__trellis_series__"
_INFO_KEY = b"trellis.pandas"
_HEAD_FILE = "head.html"
_HEAD_ROWS = 20


class PandasMaterializer(BaseMaterializer):
    """Save a ``DataFrame`` or ``Series`` as ``data.parquet``; the index is kept.

    A Series is stored as a one-column table and loads as a Series with its name.
    Values that Parquet would change are pickled instead, without a warning: object
    columns whose values Arrow converts to another dtype, non-string column labels,
    duplicate columns, and the like.

    Example:
        >>> store.save(pd.DataFrame({"a": [1, 2]}), scope="run/load/table/0")  # doctest: +SKIP
    """

    # Registered lazily by the import paths "pandas:DataFrame" and "pandas:Series".
    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()

    def save(self, data: Any) -> None:
        """Write ``data.parquet``, or pickle what Parquet cannot hold exactly."""
        table = _to_arrow(data)
        if table is None:
            write_pickle(self, data)
            return
        import pyarrow.parquet as pq

        with self.open(_PARQUET_FILE, "wb") as f:
            pq.write_table(table, f)

    def load(self, data_type: type[Any]) -> Any:
        """Read the Parquet file back into a DataFrame or Series."""
        import pyarrow.parquet as pq

        try:
            f = self.open(_PARQUET_FILE, "rb")
        except FileNotFoundError:
            return read_pickle(self)
        with f:
            table = pq.read_table(f)
        return _from_arrow(table)

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Record rows, columns and the schema ``{column: dtype}``; a Series's dtype and name."""
        if data.ndim == 1:
            return {"rows": len(data), "dtype": str(data.dtype), "name": _label(data.name)}
        schema = {str(column): str(dtype) for column, dtype in data.dtypes.items()}
        return {"rows": len(data), "columns": len(data.columns), "schema": schema}

    def save_visualizations(self, data: Any) -> dict[str, str]:
        """Show the first 20 rows as an HTML table (``head.html``)."""
        head = data.head(_HEAD_ROWS)
        frame = head if head.ndim == 2 else head.to_frame()
        with self.open(_HEAD_FILE, "w") as f:
            f.write(frame.to_html())
        return {_HEAD_FILE: "html"}


def _label(name: Any) -> Any:
    """A Series name as JSON: ``None``, a string or a number as it is, else its ``str``."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(name, (numpy.integer, numpy.floating)):
        name = name.item()
    if name is None or type(name) in (str, int, bool):
        return name
    if type(name) is float and math.isfinite(name):
        return name
    return str(name)


def _to_arrow(data: Any) -> Any:
    """Return a pyarrow Table that reads back as ``data``, or ``None``."""
    import pandas as pd
    import pyarrow as pa

    info: dict[str, Any] = {"series": False, "name": None, "freq": None}
    if type(data) is pd.Series:
        if data.name is not None and type(data.name) is not str:
            return None  # JSON would not give back e.g. an int or tuple name exactly
        info.update(series=True, name=data.name)
        frame = data.to_frame(name=_SERIES_COLUMN)
    elif type(data) is pd.DataFrame:
        frame = data
        if not all(type(c) is str for c in frame.columns) or not frame.columns.is_unique:
            return None
    else:
        return None
    info["freq"] = getattr(frame.index, "freqstr", None)  # Parquet drops an index's freq
    try:
        table = pa.Table.from_pandas(frame)
        # An empty slice converts fast and shows whether Arrow keeps every dtype.
        if not _same_dtypes(table.slice(0, 0).to_pandas(), frame):
            return None
    except (pa.ArrowException, TypeError, ValueError) as exc:
        logger.debug("pandas value is pickled, Arrow failed: %r", exc)
        return None
    metadata = dict(table.schema.metadata or {})
    metadata[_INFO_KEY] = json.dumps(info).encode("utf-8")
    return table.replace_schema_metadata(metadata)


def _same_dtypes(converted: Any, original: Any) -> bool:
    def index_dtypes(index: Any) -> list[Any]:
        return list(getattr(index, "dtypes", [index.dtype]))

    return bool(
        list(converted.dtypes) == list(original.dtypes)
        and index_dtypes(converted.index) == index_dtypes(original.index)
        and converted.columns.dtype == original.columns.dtype
    )


def _from_arrow(table: Any) -> Any:
    raw = (table.schema.metadata or {}).get(_INFO_KEY)
    info = json.loads(raw) if raw else {"series": False, "freq": None}
    frame = table.to_pandas()
    if info["freq"] is not None:
        frame.index = type(frame.index)(frame.index, freq=info["freq"])
    if info["series"]:
        return frame[_SERIES_COLUMN].rename(info["name"])
    return frame
