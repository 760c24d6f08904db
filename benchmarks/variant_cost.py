"""What does a per-student variant cost the grader? Builds each assignment's questions and
references (secret points, probe outputs) for N students' variants and prints the time per
variant, beside what a notebook's run costs (about 2 s, see grade_speed.py).

    python benchmarks/variant_cost.py [--students N]

Each variant's references are built once per grading process (course.questions caches them
per variant key; rubric.py's caches key on the question's variant), so a class of N students
costs N times this, spread over the worker processes. Target: well under the notebook's run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.rubric import course  # noqa: E402
from autograder.rubric.question import expected_outputs, expression_reference  # noqa: E402
from autograder.rubric.variants import variant_for  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    args = parser.parse_args()
    for assignment in course.assignments():
        course.questions(assignment)  # the rubric's import, paid once either way
        build, judge = [], []
        for i in range(args.students):
            variant = variant_for(assignment, f"bench-{i:04d}", "benchmark-seed")
            started = time.perf_counter()
            questions = course.questions(assignment, variant)
            built = time.perf_counter()
            for q in questions:
                if q.kind == "expression":
                    expression_reference(q).secret  # noqa: B018 -- draws the points
                elif q.kind == "function":
                    expected_outputs(q)
            build.append(built - started)
            judge.append(time.perf_counter() - built)
        total = [b + j for b, j in zip(build, judge, strict=True)]
        print(f"{assignment:<22} {1000 * statistics.median(total):6.0f} ms per variant "
              f"(questions {1000 * statistics.median(build):.0f} ms, references "
              f"{1000 * statistics.median(judge):.0f} ms; max "
              f"{1000 * max(total):.0f} ms; {args.students} variants)")


if __name__ == "__main__":
    main()
