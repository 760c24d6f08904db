"""How fast is ``check_expression``? Times every case of the test table and prints figures.

    python benchmarks/check_speed.py [--repeat N]

Every call rebuilds the reference from the expected expression (as ``check_expression``
does); the figures are the median and the 99th percentile over all calls (cases x repeats).
Targets: median under 20 ms (issue #5; under 50 ms for issue #2), p99 under 500 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder import check_expression  # noqa: E402
from tests.expression_cases import CASES  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def time_cases(repeat: int) -> list[tuple[float, str]]:
    timings = []
    for _ in range(repeat):
        for answer, expected, variables, definitions, _ in CASES:
            started = time.perf_counter()
            check_expression(answer, expected, variables=variables, definitions=definitions)
            timings.append((time.perf_counter() - started, str(answer)[:50]))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the whole table")
    args = parser.parse_args()
    check_expression("x", "x", variables=["x"])  # warm sympy's caches of the first import
    timings = time_cases(args.repeat)
    ms = [t * 1000 for t, _ in timings]
    print(f"check_expression: {len(CASES)} cases x {args.repeat} runs = {len(ms)} calls")
    print(f"  median {statistics.median(ms):8.2f} ms   (target < 20 ms)")
    print(f"  p99    {percentile(ms, 99):8.2f} ms   (target < 500 ms)")
    print(f"  max    {max(ms):8.2f} ms")
    print("  slowest cases:")
    for seconds, label in sorted(timings, reverse=True)[:5]:
        print(f"    {seconds * 1000:8.2f} ms  {label}")


if __name__ == "__main__":
    main()
