"""ResourceSettings: validated CPU, GPU and memory requests, memory sizes in bytes."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from trellis.config._resources import ResourceSettings
from trellis.exceptions import ConfigurationError

GiB = 1024**3


@pytest.mark.parametrize(
    ("memory", "expected"),
    [
        pytest.param("512MB", 512 * 1000**2, id="MB-is-1000"),
        pytest.param("4GB", 4 * 1000**3, id="GB-is-1000"),
        pytest.param("1TB", 1000**4, id="TB-is-1000"),
        pytest.param("1KB", 1000, id="KB-is-1000"),
        pytest.param("1.5GiB", 3 * GiB // 2, id="GiB-fraction"),
        pytest.param("256MiB", 256 * 1024**2, id="MiB"),
        pytest.param("1KiB", 1024, id="KiB"),
        pytest.param("2TiB", 2 * 1024**4, id="TiB"),
        pytest.param("2G", 2 * GiB, id="bare-G-is-1024"),
        pytest.param("512M", 512 * 1024**2, id="bare-M-is-1024"),
        pytest.param("3K", 3 * 1024, id="bare-K-is-1024"),
        pytest.param("1T", 1024**4, id="bare-T-is-1024"),
        pytest.param("4Gi", 4 * GiB, id="kubernetes-Gi"),
        pytest.param("2g", 2 * GiB, id="lower-case"),
        pytest.param("4gb", 4 * 1000**3, id="lower-case-gb"),
        pytest.param("1 GiB", GiB, id="space-before-unit"),
        pytest.param(" 2GB ", 2 * 1000**3, id="outer-space"),
        pytest.param(".5KiB", 512, id="leading-dot"),
        pytest.param("100B", 100, id="bytes"),
        pytest.param("1.0005KB", 1000, id="partial-byte-rounds-down"),
    ],
)
def test_memory_sizes(memory: str, expected: int) -> None:
    settings = ResourceSettings(memory=memory)
    assert settings.memory_bytes == expected
    assert settings.memory == memory.strip()


@pytest.mark.parametrize(
    ("memory", "message"),
    [
        pytest.param("4", "memory '4' has no unit; write the unit", id="no-unit"),
        pytest.param("1.5", "memory '1.5' has no unit", id="no-unit-fraction"),
        pytest.param("4 gigs", "memory '4 gigs' has an unknown unit 'gigs'; use B, KB", id="unit"),
        pytest.param("4XB", "unknown unit 'XB'", id="unknown-prefix"),
        pytest.param("GB", "memory 'GB' is not a size; write a number and a unit", id="no-number"),
        pytest.param("-1GB", "memory '-1GB' is not a size", id="negative"),
        pytest.param("1.5.2GB", "is not a size", id="two-dots"),
        pytest.param("", "memory '' is not a size", id="empty"),
        pytest.param("0GB", "memory '0GB' is less than one byte", id="zero"),
        pytest.param("0.0001KB", "less than one byte", id="below-a-byte"),
        pytest.param(4096, "memory must be a string with a unit", id="int"),
    ],
)
def test_bad_memory_is_refused_with_the_fix(memory: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)) as info:
        ResourceSettings(memory=memory)  # type: ignore[arg-type]
    assert info.value.errors()[0]["loc"] == ("memory",)


def test_counts_and_defaults() -> None:
    settings = ResourceSettings(cpu_count=0.5, gpu_count=0)
    assert (settings.cpu_count, settings.gpu_count, settings.memory) == (0.5, 0, None)
    assert settings.memory_bytes is None
    assert settings.get_memory() is None
    assert not settings.empty
    assert ResourceSettings().empty
    assert ResourceSettings(cpu_count=2, gpu_count=2.0).gpu_count == 2  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param({"cpu_count": 0}, "cpu_count must be more than 0 (fractions", id="cpu-zero"),
        pytest.param({"cpu_count": -2}, "cpu_count must be more than 0", id="cpu-negative"),
        pytest.param({"cpu_count": float("inf")}, "cpu_count must be more than 0", id="cpu-inf"),
        pytest.param({"cpu_count": float("nan")}, "cpu_count must be more than 0", id="cpu-nan"),
        pytest.param({"cpu_count": True}, "cpu_count must be a number of cores", id="cpu-bool"),
        pytest.param({"cpu_count": "2"}, "cpu_count must be a number of cores", id="cpu-str"),
        pytest.param({"gpu_count": -1}, "gpu_count must be 0 or more, got -1", id="gpu-negative"),
        pytest.param({"gpu_count": 1.5}, "gpu_count must be a whole number", id="gpu-fraction"),
        pytest.param({"gpu_count": False}, "gpu_count must be a whole number", id="gpu-bool"),
        pytest.param({"gpus": 1}, "gpus\n  Extra inputs are not permitted", id="unknown-field"),
    ],
)
def test_bad_counts_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        ResourceSettings(**fields)  # type: ignore[arg-type]


def test_get_memory_converts_units() -> None:
    settings = ResourceSettings(memory="1.5GiB")
    assert settings.get_memory("MiB") == 1536.0
    assert settings.get_memory("GB") == pytest.approx(1.610612736)
    with pytest.raises(ConfigurationError, match="Unknown memory unit 'parsecs'; use B, KB"):
        settings.get_memory("parsecs")


def test_settings_are_frozen_hashable_values() -> None:
    settings = ResourceSettings(cpu_count=2, memory="4GB")
    with pytest.raises(ValidationError, match="frozen"):
        settings.cpu_count = 4  # type: ignore[misc]
    assert settings == ResourceSettings(cpu_count=2.0, memory="4GB")
    assert len({settings, ResourceSettings(cpu_count=2.0, memory="4GB")}) == 1
    assert settings.model_dump(mode="json") == {
        "cpu_count": 2.0,
        "gpu_count": None,
        "memory": "4GB",
    }
