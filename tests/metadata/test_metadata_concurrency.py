"""The contract of MetadataStore, part two: transactions and concurrency.

Run against SQLite and PostgreSQL like part one (``test_metadata_contract.py``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from trellis.exceptions import MetadataStoreError
from trellis.metadata import ExecutionStatus, MetadataStore

if TYPE_CHECKING:
    from conftest import Driver


def test_failure_inside_finish_step_run_persists_nothing(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    driver.complete(run.id, "warm", driver.spec("x", "known"))  # "known" is now cached by id
    step_id = driver.start(run.id)
    bad = driver.spec("b", "second", metadata={"not json": object()})

    with pytest.raises(
        MetadataStoreError, match=f"Could not finish the step run {step_id}"
    ) as info:
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[driver.spec("a", "known"), driver.spec("n", "new"), bad],
        )

    assert "a value is not JSON-serializable (Object of type object" in str(info.value)
    assert store.get_step_run(step_id).status is ExecutionStatus.RUNNING
    assert [a.name for a in store.list_artifacts().items] == ["known"]
    assert store.get_artifact_version("known").version == 1
    assert store.list_artifacts().items[0].latest_version == 1
    assert store.get_step_io([step_id])[step_id] == ([], [])
    versions = store.finish_step_run(
        step_id,
        status=ExecutionStatus.COMPLETED,
        ended_at=datetime.now(UTC),
        outputs=[driver.spec("a", "known"), driver.spec("n", "new")],
    )
    assert (versions["a"].version, versions["n"].version) == (2, 1)


def test_crash_after_inserts_rolls_back(
    store: MetadataStore, driver: Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = driver.run()
    step_id = driver.start(run.id)

    def crash(*args: Any) -> None:
        raise RuntimeError("driver killed")

    monkeypatch.setattr(store, "_insert_versions", crash)
    with pytest.raises(RuntimeError, match="driver killed"):
        store.finish_step_run(
            step_id,
            status=ExecutionStatus.COMPLETED,
            ended_at=datetime.now(UTC),
            outputs=[driver.spec("model", "model")],
        )
    monkeypatch.undo()

    assert store.get_step_run(step_id).status is ExecutionStatus.RUNNING
    assert store.list_artifacts().total == 0
    _, versions = driver.complete(run.id, "again", driver.spec("model", "model"))
    assert versions["model"].version == 1


@pytest.mark.parametrize("stores", [1, 2], ids=["one-store", "two-stores"])
def test_concurrent_version_allocation(
    open_store: Callable[[], MetadataStore], driver_type: type[Driver], stores: int
) -> None:
    opened = [open_store() for _ in range(stores)]
    run = opened[0].create_run(
        pipeline_name="p",
        run_name="concurrent",
        parameters={},
        environment={},
        config={},
        plan={},
        outputs={},
        started_at=None,
    )
    workers, per_worker = 4, 8
    barrier = threading.Barrier(workers)

    def work(index: int) -> list[int]:
        driver = driver_type(opened[index % stores])
        barrier.wait()
        return [
            driver.complete(run.id, f"s_{index}_{i}", driver.spec("m", "shared"))[1]["m"].version
            for i in range(per_worker)
        ]

    with ThreadPoolExecutor(workers) as pool:
        allocated = [v for versions in pool.map(work, range(workers)) for v in versions]

    total = workers * per_worker
    assert sorted(allocated) == list(range(1, total + 1))
    listed = opened[-1].list_artifact_versions("shared", limit=total + 1)
    assert [v.version for v in listed.items] == list(range(total, 0, -1))


def test_concurrent_pipeline_creation(open_store: Callable[[], MetadataStore]) -> None:
    opened = [open_store(), open_store()]
    barrier = threading.Barrier(4)

    def work(index: int) -> str:
        barrier.wait()
        return (
            opened[index % 2]
            .create_run(
                pipeline_name="same",
                run_name=f"run-{index}",
                parameters={},
                environment={},
                config={},
                plan={},
                outputs={},
                started_at=None,
            )
            .pipeline_id
        )

    with ThreadPoolExecutor(4) as pool:
        pipeline_ids = set(pool.map(work, range(4)))

    assert len(pipeline_ids) == 1
    assert opened[0].list_pipelines().total == 1


def test_reads_from_other_threads_while_writing(store: MetadataStore, driver: Driver) -> None:
    run = driver.run()
    done = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not done.is_set():
            seen.append(len(store.list_step_runs(run.id)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(30):
            driver.complete(run.id, f"s_{i}", driver.spec())
    finally:
        done.set()
        reader.join()

    assert seen == sorted(seen)  # each read saw a committed prefix
    assert len(store.list_step_runs(run.id)) == 30


_WORKER = """
import sys
from datetime import UTC, datetime
from trellis.metadata import ArtifactVersionSpec, ExecutionStatus, MetadataStore

url, run_id, worker = sys.argv[1:]
store = MetadataStore(url)
sys.stdin.readline()  # start together
for i in range(10):
    step = store.start_step_run(
        run_id=run_id, name=f"p{worker}_{i}", step_name="p", parameters={}, code_hash=None,
        source_code=None, cache_key=None, cache_parts={}, parent_ids=[], inputs=[],
        started_at=datetime.now(UTC),
    )
    spec = ArtifactVersionSpec("m", "shared", "/x", "m:M", "builtins:int", "h", 1, {})
    store.finish_step_run(
        step, status=ExecutionStatus.COMPLETED, ended_at=datetime.now(UTC), outputs=[spec]
    )
store.close()
"""


def test_concurrent_version_allocation_across_processes(
    store: MetadataStore, driver: Driver
) -> None:
    run = driver.run()
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, store.url, run.id, str(i)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(3)
    ]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    errors = [worker.communicate(timeout=120)[1] for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0, 0], errors
    versions = store.list_artifact_versions("shared", limit=100).items
    assert sorted(v.version for v in versions) == list(range(1, 31))
