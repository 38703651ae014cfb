"""Visualizations: files that show an artifact, stored once per content hash."""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from trellis.artifacts import ArtifactStore, BaseMaterializer, VisualizationType

from ._png_reader import png_info, read_png

SCOPE = "run-1/show/output/0"
MANIFEST = ".trellis-visualizations.json"


def only(store: ArtifactStore, value: Any, **options: Any) -> tuple[str, str, bytes]:
    """Save ``value``; return the type, uri and bytes of its one visualization."""
    stored = store.save(value, scope=SCOPE, **options)
    assert len(stored.visualizations) == 1, stored.visualizations
    ((kind, uri),) = stored.visualizations
    prefix = f"{store.url}/visualizations/{stored.content_hash}/"
    assert uri.startswith(prefix)
    return kind, uri.removeprefix(prefix), store.read_visualization(uri)


def test_data_frame_head_is_html(store: ArtifactStore) -> None:
    value = pd.DataFrame({"n": range(50), "word": [f"w{i}" for i in range(50)]})
    kind, name, content = only(store, value)
    assert (kind, name) == ("html", "head.html")
    assert content.decode() == value.head(20).to_html()
    assert "<td>w19</td>" in content.decode()
    assert "w20" not in content.decode()


def test_series_head_is_html(store: ArtifactStore) -> None:
    value = pd.Series(range(30), name="loss")
    kind, name, content = only(store, value)
    assert (kind, name) == ("html", "head.html")
    assert content.decode() == value.head(20).to_frame().to_html()


@pytest.mark.parametrize(
    "value",
    [{"lr": 0.1, "layers": [64, 32], "name": "é"}, [1, {"a": None}, "x"]],
    ids=["dict", "list"],
)
def test_dicts_and_lists_are_pretty_json(store: ArtifactStore, value: Any) -> None:
    kind, name, content = only(store, value)
    assert (kind, name) == ("json", "data.json")
    assert json.loads(content) == value
    assert content.decode() == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [7, "text", (1, 2), {1: "pickled"}, {"x": float("nan")}, b"raw"],
    ids=["int", "str", "tuple", "pickled-dict", "nan", "bytes"],
)
def test_other_values_have_no_visualization(fresh_store: ArtifactStore, value: Any) -> None:
    assert fresh_store.save(value, scope=SCOPE).visualizations == ()
    assert not (Path(fresh_store.url) / "visualizations").exists()


IMAGES = [
    pytest.param(np.arange(12, dtype=np.uint8).reshape(3, 4), 1, id="gray-2d"),
    pytest.param(np.arange(12, dtype=np.uint8).reshape(3, 4, 1), 1, id="gray-3d"),
    pytest.param(np.arange(36, dtype=np.uint8).reshape(3, 4, 3), 3, id="rgb"),
    pytest.param(np.arange(48, dtype=np.uint8).reshape(3, 4, 4), 4, id="rgba"),
    pytest.param(np.linspace(0, 1, 24).reshape(2, 4, 3), 3, id="float-rgb"),
    pytest.param(np.array([[0.0, 0.5], [1.0, 0.25]], dtype=np.float32), 1, id="float32-gray"),
]


@pytest.mark.parametrize(("value", "channels"), IMAGES)
def test_image_like_arrays_are_png(store: ArtifactStore, value: np.ndarray, channels: int) -> None:
    kind, name, content = only(store, value)
    assert (kind, name) == ("png", "image.png")
    png = read_png(content)
    height, width = value.shape[:2]
    assert (png.width, png.height, png.channels) == (width, height, channels)
    expected = value if value.dtype == np.uint8 else np.round(value * 255).astype(np.uint8)
    assert png.pixels == np.ascontiguousarray(expected).tobytes()


def test_non_contiguous_image_is_encoded_in_order(fresh_store: ArtifactStore) -> None:
    value = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)[::-1, ::2]
    _, _, content = only(fresh_store, value)
    assert read_png(content).pixels == np.ascontiguousarray(value).tobytes()


@pytest.mark.parametrize(
    "value",
    [
        np.arange(4, dtype=np.uint8),
        np.zeros((2, 2, 2), dtype=np.uint8),
        np.zeros((2, 2, 3, 1), dtype=np.uint8),
        np.zeros((0, 4), dtype=np.uint8),
        np.arange(4, dtype=np.int64).reshape(2, 2),
        np.array([[0.0, 1.5]]),
        np.array([[0.0, np.nan]]),
        np.array([[True, False]]),
    ],
    ids=["1d", "two-channels", "4d", "empty", "int64", "float-above-1", "nan", "bool"],
)
def test_arrays_that_are_not_images_have_no_visualization(
    fresh_store: ArtifactStore, value: np.ndarray
) -> None:
    assert fresh_store.save(value, scope=SCOPE).visualizations == ()


def test_identical_content_reuses_the_visualization_folder(
    fresh_store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trellis.artifacts.materializers import PandasMaterializer

    calls: list[int] = []
    render = PandasMaterializer.save_visualizations

    def counted(self: PandasMaterializer, data: Any) -> dict[str, str]:
        calls.append(1)
        return render(self, data)

    monkeypatch.setattr(PandasMaterializer, "save_visualizations", counted)
    first = fresh_store.save(pd.DataFrame({"a": [1]}), scope="run-1/s/o/0")
    second = fresh_store.save(pd.DataFrame({"a": [1]}), scope="run-2/s/o/0")
    other = fresh_store.save(pd.DataFrame({"a": [2]}), scope="run-3/s/o/0")
    assert len(calls) == 2
    assert second.visualizations == first.visualizations
    assert other.visualizations != first.visualizations
    root = Path(fresh_store.url)
    folder = root / "visualizations" / first.content_hash
    assert sorted(os.listdir(folder)) == [MANIFEST, "head.html"]
    assert sorted(os.listdir(root / "visualizations")) == sorted(
        a.content_hash for a in (first, other)
    )
    assert os.listdir(root / ".tmp") == []


def test_memory_store_reuses_visualizations_too(memory_store: ArtifactStore) -> None:
    value = {"reused": os.urandom(4).hex()}
    first = memory_store.save(value, scope="run-1/s/o/0")
    second = memory_store.save(value, scope="run-2/s/o/0")
    assert first.uri != second.uri  # attempt-scoped artifact folders...
    assert second.visualizations == first.visualizations  # ...one visualization folder
    assert first.visualizations[0][1].startswith("memory:///")


class Shown(BaseMaterializer):
    """Stores str(data); its visualizations come from a class attribute per test."""

    shown: ClassVar[Any] = {}

    def save(self, data: Any) -> None:
        with self.open("value.txt", "w") as f:
            f.write(str(data))

    def load(self, data_type: type[Any]) -> Any:
        with self.open("value.txt", "r") as f:
            return data_type(f.read())

    def save_visualizations(self, data: Any) -> dict[str, str]:
        if isinstance(self.shown, Exception):
            with self.open("partial.html", "w") as f:
                f.write("<p>half")
            raise self.shown
        for name in self.shown:
            if not name.startswith(".."):  # a test returns it without writing outside
                with self.open(name, "w") as f:
                    f.write(f"{name}: {data}")
        return self.shown  # type: ignore[no-any-return]


def load(store: ArtifactStore, stored: Any) -> Any:
    return store.load(stored.uri, materializer=stored.materializer, data_type=stored.data_type)


def test_every_visualization_type_and_subfolders(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = {
        "a.html": "html",
        "notes/b.md": VisualizationType.MARKDOWN,
        "c.png": "png",
        "d.csv": "csv",
        "e.json": "json",
    }
    monkeypatch.setattr(Shown, "shown", shown)
    stored = store.save(os.urandom(4).hex(), scope=SCOPE, materializer=Shown)
    kinds = [(kind, uri.rsplit("/", 1)[1]) for kind, uri in stored.visualizations]
    assert kinds == [
        ("html", "a.html"),
        ("png", "c.png"),
        ("csv", "d.csv"),
        ("json", "e.json"),
        ("markdown", "b.md"),
    ]
    assert all(type(kind) is str for kind, _ in stored.visualizations)
    markdown = dict(stored.visualizations)["markdown"]
    assert markdown.endswith(f"/{stored.content_hash}/notes/b.md")
    assert store.read_visualization(markdown).startswith(b"notes/b.md: ")


@pytest.mark.parametrize(
    ("shown", "error"),
    [
        (RuntimeError("renderer crashed"), "RuntimeError: renderer crashed"),
        ({"a.gif": "gif"}, "ValueError: 'a.gif' has the type 'gif', not one of 'html'"),
        ({"../escape.html": "html"}, "'../escape.html' is not a relative file name"),
        ({MANIFEST: "json"}, f"{MANIFEST!r} is not a relative file name"),
        (["a.html"], "TypeError: it returned list, not a dict"),
    ],
    ids=["raises", "unknown-type", "escapes-folder", "manifest-name", "not-a-dict"],
)
def test_failing_visualizations_never_fail_the_save(
    store: ArtifactStore,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    shown: Any,
    error: str,
) -> None:
    monkeypatch.setattr(Shown, "shown", shown)
    value = os.urandom(4).hex()
    with caplog.at_level(logging.WARNING, logger="trellis.artifacts"):
        stored = store.save(value, scope=SCOPE, materializer=Shown)
    assert stored.visualizations == ()
    assert load(store, stored) == value
    (record,) = [r for r in caplog.records if r.name == "trellis.artifacts._visualizations"]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "Shown could not save visualizations of a value of type builtins.str" in message
    assert f"saved as {SCOPE}" in message
    assert error in message
    assert "enable_artifact_visualization=False" in message
    if store.is_local:  # nothing half-written is left behind
        root = Path(store.url)
        assert not (root / "visualizations" / stored.content_hash).exists()
        assert os.listdir(root / ".tmp") == []


def test_after_a_failure_the_next_save_renders_again(
    store: ArtifactStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    value = os.urandom(4).hex()
    monkeypatch.setattr(Shown, "shown", RuntimeError("flaky"))
    assert store.save(value, scope=SCOPE, materializer=Shown).visualizations == ()
    monkeypatch.setattr(Shown, "shown", {"a.html": "html"})
    stored = store.save(value, scope=SCOPE, materializer=Shown)
    ((kind, uri),) = stored.visualizations
    assert kind == "html"
    assert store.read_visualization(uri) == f"a.html: {value}".encode()


def test_concurrent_saves_of_identical_content_share_visualizations(
    fresh_store: ArtifactStore,
) -> None:
    values = [pd.DataFrame({"a": [i % 3]}) for i in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = list(pool.map(lambda v: fresh_store.save(v, scope=SCOPE), values))
    assert len({a.visualizations for a in stored}) == 3
    for artifact in stored:
        ((_, uri),) = artifact.visualizations
        assert b"<table" in fresh_store.read_visualization(uri)
    root = Path(fresh_store.url)
    assert len(os.listdir(root / "visualizations")) == 3
    assert os.listdir(root / ".tmp") == []


def test_a_listed_file_that_was_not_written_is_refused(
    fresh_store: ArtifactStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Liar(Shown):
        def save_visualizations(self, data: Any) -> dict[str, str]:
            return {"never-written.html": "html"}

    stored = fresh_store.save("x", scope=SCOPE, materializer=Liar)
    assert stored.visualizations == ()
    assert "'never-written.html', a file it did not write" in caplog.text


def test_visualize_false_writes_nothing(fresh_store: ArtifactStore) -> None:
    stored = fresh_store.save(pd.DataFrame({"a": [1]}), scope=SCOPE, visualize=False)
    assert stored.visualizations == ()
    assert not (Path(fresh_store.url) / "visualizations").exists()
    assert stored.metadata["rows"] == 1  # metadata is independent of visualizations


def test_after_visualize_false_a_later_save_renders(fresh_store: ArtifactStore) -> None:
    fresh_store.save([1, 2], scope=SCOPE, visualize=False)
    stored = fresh_store.save([1, 2], scope=SCOPE)
    assert [kind for kind, _ in stored.visualizations] == ["json"]


def test_matplotlib_figure_is_pickled_and_shown_as_png(store: ArtifactStore) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")  # no display in tests
    plt = pytest.importorskip("matplotlib.pyplot")

    fig, ax = plt.subplots(figsize=(2, 1), dpi=50)
    ax.plot([0, 1], [1, 0])
    try:
        stored = store.save(fig, scope=SCOPE)
        kind, name, content = only(store, fig)
    finally:
        plt.close(fig)
    assert stored.materializer == (
        "trellis.artifacts.materializers.matplotlib_figures:MatplotlibFigureMaterializer"
    )
    assert (kind, name) == ("png", "figure.png")
    width, height, _, _, _ = png_info(content)  # matplotlib filters its scanlines
    assert (width, height) == (100, 50)  # 2 x 1 inches at 50 dpi
    loaded = load(store, stored)
    assert [len(a.lines) for a in loaded.axes] == [1]
    plt.close(loaded)
