"""Child entry point: ``python -m benchmarks._child FUNCTION '{"arg": 1}'``.

Runs one measuring function of :mod:`benchmarks.cases` and prints its
measurements as one JSON line, the last line of the output.
"""

from __future__ import annotations

import json
import sys

from benchmarks.cases import CHILD_FUNCTIONS


def main(argv: list[str]) -> None:
    name, arguments = argv
    measurements = CHILD_FUNCTIONS[name](**json.loads(arguments))
    print(json.dumps(measurements), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
