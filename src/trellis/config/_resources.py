"""``ResourceSettings``: how much CPU, GPU and memory a step asks of its launcher.

Memory sizes are a number and a unit, case-insensitive, with optional space
between them (``"512MB"``, ``"1.5 GiB"``, ``"2G"``):

=====================  ==========================================
unit                   bytes
=====================  ==========================================
``B``                  1
``KB`` ``MB`` ``GB``   powers of 1000 (``"1KB"`` is 1,000 bytes)
``TB`` ``PB``
``KiB`` ``MiB`` …      powers of 1024 (``"1KiB"`` is 1,024 bytes)
``Ki`` ``Mi`` …        powers of 1024 (as Kubernetes writes them)
``K`` ``M`` ``G`` …    powers of 1024 (as ``docker run -m 2g`` reads them)
=====================  ==========================================

A bare number is refused rather than guessed at: write the unit.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, field_validator

from trellis.exceptions import ConfigurationError

__all__ = ["MEMORY_UNITS", "ResourceSettings"]

_PREFIXES = "kmgtp"

#: Bytes per unit, keyed by the lower-cased unit.
MEMORY_UNITS: dict[str, int] = {"b": 1}
for _power, _prefix in enumerate(_PREFIXES, start=1):
    MEMORY_UNITS[f"{_prefix}b"] = 1000**_power
    MEMORY_UNITS[f"{_prefix}ib"] = 1024**_power
    MEMORY_UNITS[f"{_prefix}i"] = 1024**_power
    MEMORY_UNITS[_prefix] = 1024**_power

_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>[A-Za-z]+)")
_EXAMPLES = "for example '512MB', '4GB', '1.5GiB' or '2G'"
_UNITS_HELP = (
    "B, KB, MB, GB, TB, PB (powers of 1000) or KiB, MiB, GiB, TiB, PiB, K, M, G, T, P "
    "(powers of 1024)"
)


def _parse_memory(size: str) -> int:
    """The number of bytes of a memory size such as ``"4GB"`` or ``"1.5GiB"``.

    Fractions of a byte are rounded down.

    Raises:
        ValueError: The size is malformed, has an unknown unit, or is less than one byte.

    Example:
        >>> _parse_memory("1.5GiB")
        1610612736
        >>> _parse_memory("512 MB")
        512000000
    """
    text = size.strip()
    match = _SIZE.fullmatch(text)
    if match is None:
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            raise ValueError(
                f"memory {size!r} has no unit; write the unit, {_EXAMPLES} "
                "(KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB and K/M/G/T powers of 1024)"
            )
        raise ValueError(f"memory {size!r} is not a size; write a number and a unit, {_EXAMPLES}")
    unit = match["unit"]
    factor = MEMORY_UNITS.get(unit.lower())
    if factor is None:
        raise ValueError(f"memory {size!r} has an unknown unit {unit!r}; use {_UNITS_HELP}")
    number = int((Decimal(match["number"]) * factor).to_integral_value(rounding=ROUND_FLOOR))
    if number < 1:
        raise ValueError(f"memory {size!r} is less than one byte; give a positive size")
    return number


class ResourceSettings(BaseModel):
    """The CPUs, GPUs and memory a step needs; launchers refuse what they cannot provide.

    Set it as ``settings={"resources": ResourceSettings(...)}`` on ``@step`` or
    ``@pipeline``. Every field is optional: ``None`` asks for nothing in particular.

    Attributes:
        cpu_count: CPU cores; fractions such as ``0.5`` are allowed.
        gpu_count: GPUs; ``0`` says the step needs none.
        memory: A size such as ``"512MB"``, ``"4GB"``, ``"1.5GiB"`` or ``"2G"``; see
            the module docs for the units. :attr:`memory_bytes` gives it in bytes.

    Example:
        >>> resources = ResourceSettings(cpu_count=2, gpu_count=1, memory="1.5GiB")
        >>> resources.memory_bytes
        1610612736
        >>> resources.get_memory("MiB")
        1536.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cpu_count: float | None = None
    gpu_count: int | None = None
    memory: str | None = None

    @field_validator("cpu_count", mode="before")
    @classmethod
    def _cpu_count(cls, value: object) -> object:
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"cpu_count must be a number of cores such as 2 or 0.5, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(
                f"cpu_count must be more than 0 (fractions such as 0.5 are allowed), got {value!r}"
            )
        return value

    @field_validator("gpu_count", mode="before")
    @classmethod
    def _gpu_count(cls, value: object) -> object:
        if value is None:
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"gpu_count must be a whole number of GPUs such as 1, got {value!r}")
        if value < 0:
            raise ValueError(f"gpu_count must be 0 or more, got {value!r}")
        return value

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, value: object) -> object:
        if value is None:
            return value
        if not isinstance(value, str):
            raise ValueError(f"memory must be a string with a unit, {_EXAMPLES}; got {value!r}")
        _parse_memory(value)
        return value.strip()

    @property
    def memory_bytes(self) -> int | None:
        """:attr:`memory` in bytes, or ``None`` when no memory is asked for."""
        return None if self.memory is None else _parse_memory(self.memory)

    def get_memory(self, unit: str = "GB") -> float | None:
        """:attr:`memory` in ``unit`` (any unit of the module table), or ``None``.

        Example:
            >>> ResourceSettings(memory="2GB").get_memory("MB")
            2000.0
        """
        factor = MEMORY_UNITS.get(unit.lower())
        if factor is None:
            raise ConfigurationError(f"Unknown memory unit {unit!r}; use {_UNITS_HELP}.")
        size = self.memory_bytes
        return None if size is None else size / factor

    @property
    def empty(self) -> bool:
        """Whether nothing is asked for (every field is ``None``)."""
        return self.cpu_count is None and self.gpu_count is None and self.memory is None
