"""The materializer interface: how one kind of value is written to and read from files."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import fsspec

__all__ = ["BaseMaterializer"]


class BaseMaterializer:
    """Base class of materializers: save a value into a folder and load it back.

    The interface mirrors ZenML's ``BaseMaterializer`` so that materializers written
    for it port with few changes. A materializer instance handles one artifact
    folder, ``uri``; it reads and writes files there through ``fs`` (an fsspec
    filesystem), best via :meth:`open` and :meth:`join`.

    During :meth:`save`, ``uri`` is a fresh temporary folder that the artifact store
    moves into place afterwards, so do not write ``uri`` itself into the files.

    Defining a subclass does not register it: call
    :func:`~trellis.artifacts.register_materializer`, or pass the class per output.

    Attributes:
        ASSOCIATED_TYPES: Types the materializer handles when registered without
            explicit types.
        uri: The artifact's folder: a local path or an fsspec URL.
        fs: The fsspec filesystem that holds ``uri``.

    Example:
        >>> class TextMaterializer(BaseMaterializer):
        ...     ASSOCIATED_TYPES = (str,)
        ...
        ...     def save(self, data: str) -> None:
        ...         with self.open("text.txt", "w") as f:
        ...             f.write(data)
        ...
        ...     def load(self, data_type: type[str]) -> str:
        ...         with self.open("text.txt", "r") as f:
        ...             return data_type(f.read())
    """

    ASSOCIATED_TYPES: ClassVar[tuple[type, ...]] = ()

    #: True when :meth:`load` rebuilds the value without the recorded data type
    #: (cloudpickle does); the store may then load even if that type is not importable.
    LOADS_WITHOUT_DATA_TYPE: ClassVar[bool] = False

    def __init__(self, uri: str, fs: fsspec.AbstractFileSystem) -> None:
        self.uri = uri
        self.fs = fs
        protocol = fs.protocol
        protocols = (protocol,) if isinstance(protocol, str) else tuple(protocol)
        # Real files on local disk let NumPy and Arrow skip a copy through Python.
        self._local = "file" in protocols

    def load(self, data_type: type[Any]) -> Any:
        """Read the value back from :attr:`uri`.

        Args:
            data_type: The type of the value that was saved.

        Returns:
            The value.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement load(); materializers must "
            "define both save() and load()."
        )

    def save(self, data: Any) -> None:
        """Write ``data`` into the folder :attr:`uri`.

        Args:
            data: The value to save.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not implement save(); materializers must "
            "define both save() and load()."
        )

    def extract_metadata(self, data: Any) -> dict[str, Any]:
        """Return a few JSON-able facts about ``data`` (length, shape, rows, ...).

        Args:
            data: The value being saved.

        Returns:
            A small JSON-able mapping; empty by default.
        """
        return {}

    def save_visualizations(self, data: Any) -> dict[str, str]:
        """Write files that show ``data`` to people; return ``{file name: type}``.

        The store calls this after :meth:`save`, on a separate instance whose
        :attr:`uri` is a fresh visualization folder: write each file there with
        :meth:`open` and return its relative name with its type, one of ``"html"``,
        ``"markdown"``, ``"png"``, ``"csv"`` and ``"json"``
        (:class:`~trellis.artifacts.VisualizationType`). Identical content is
        rendered once. An exception is logged as a warning and the artifact is
        saved without visualizations.

        Args:
            data: The value being saved.

        Returns:
            The files written; empty (the default) for none.

        Example:
            >>> def save_visualizations(self, data: dict[str, int]) -> dict[str, str]:
            ...     with self.open("summary.md", "w") as f:
            ...         f.write("\n".join(f"- **{k}**: {v}" for k, v in data.items()))
            ...     return {"summary.md": "markdown"}
        """
        return {}

    def content_hash(self, data: Any) -> str | None:
        """Return a hash of ``data`` that is cheaper than hashing the written files.

        Equal values must give equal hashes and different values different ones,
        as far as :meth:`load` can tell them apart.

        Args:
            data: The value being saved.

        Returns:
            A hex digest, or ``None`` (the default) to let the store hash the files.
        """
        return None

    def join(self, relative_name: str) -> str:
        """Return the path of ``relative_name`` inside the artifact folder.

        Args:
            relative_name: A ``/``-separated path relative to :attr:`uri`.

        Returns:
            A path or URL that :attr:`fs` understands.

        Example:
            >>> materializer.join("data.json")  # doctest: +SKIP
            '/home/me/.trellis/artifacts/objects/3f/3f2a.../data.json'
        """
        return f"{self.uri.rstrip('/')}/{relative_name}"

    def open(self, relative_name: str, mode: str = "rb") -> IO[Any]:
        """Open a file inside the artifact folder.

        On the local filesystem this is the builtin :func:`open`, so libraries that
        write straight to real files (``numpy.save``) take their fast path.

        Args:
            relative_name: A ``/``-separated path relative to :attr:`uri`.
            mode: A file mode such as ``"rb"``, ``"wb"``, ``"r"`` or ``"w"``.

        Returns:
            An open file object; use it in a ``with`` block.

        Example:
            >>> with materializer.open("data.bin", "wb") as f:  # doctest: +SKIP
            ...     f.write(b"...")
        """
        path = self.join(relative_name)
        if self._local:
            encoding = None if "b" in mode else "utf-8"
            try:
                return open(path, mode, encoding=encoding)
            except FileNotFoundError:
                if not any(flag in mode for flag in "wax"):
                    raise
            # Writing into a folder that does not exist yet (a subfolder, or a folder
            # the store creates lazily): create it as fsspec would, then retry.
            self.fs.makedirs(path.rpartition("/")[0], exist_ok=True)
            return open(path, mode, encoding=encoding)
        file: IO[Any] = self.fs.open(path, mode)
        return file
