"""A batch's progress on stderr (autograder.grade.batch.Progress): click's bar on a terminal, and
in a CI log or a pipe one plain line at most every 10% and at the end, student names made
harmless."""

from __future__ import annotations

import io
import re

import click
import pytest

from autograder.grade.batch import Progress

LOG_LINE = re.compile(r"graded (\d+)/(\d+) \((\d+)%\) \d+\.\d/s, about \d+ s left - (.*)")
HOSTILE = "\x1b[31m::error::owned\nsecond line\x07"


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in an instructor's shell."""

    def isatty(self) -> bool:
        return True


def run(total: int, stream: io.StringIO, names=None) -> str:
    names = names or [f"student-{k}" for k in range(1, total + 1)]
    with Progress(total, stream) as progress:
        for name in names:
            progress.step(name)
    return stream.getvalue()


@pytest.mark.parametrize("total", [20, 3, 250])
def test_a_log_gets_a_line_every_10_percent_and_one_at_the_end(total: int) -> None:
    lines = run(total, io.StringIO()).splitlines()
    parsed = [LOG_LINE.fullmatch(line) for line in lines]
    assert all(parsed), lines
    done = [int(m[1]) for m in parsed]
    percent = [int(m[3]) for m in parsed]
    assert {int(m[2]) for m in parsed} == {total}
    assert done[-1] == total and percent[-1] == 100  # the last line says the run is over
    assert [m[4] for m in parsed] == [f"student-{n}" for n in done]  # the latest student
    assert done == sorted(set(done))
    # at most every 10% (the final line aside), and never more than 10% without a line
    assert all(b - a >= 10 for a, b in zip(percent[:-2], percent[1:-1], strict=True)), percent
    step = max(1, -(-total // 10))  # the steps that make 10%, rounded up
    assert all(b - a <= step for a, b in zip([0, *done], done, strict=False)), done
    assert len(lines) <= 11


def test_a_terminal_gets_clicks_bar_ending_on_the_whole_count(monkeypatch) -> None:
    bars = []
    real = click.progressbar

    def spy(*args, **kwargs):
        bars.append(real(*args, **kwargs))
        return bars[-1]

    monkeypatch.setattr(click, "progressbar", spy)
    out = run(20, Terminal())
    (bar,) = bars
    assert bar.pos == 20 and bar.finished
    last = out.rstrip("\n").split("\r")[-1]  # what stays on the screen
    assert "20/20" in last and "100%" in last and "student-20" in last
    assert out.endswith("\n") and not LOG_LINE.search(out)


def test_an_interrupted_bar_still_ends_its_line(monkeypatch) -> None:
    stream = Terminal()
    with pytest.raises(KeyboardInterrupt), Progress(20, stream) as progress:
        progress.step("student-1")
        raise KeyboardInterrupt
    assert "1/20" in stream.getvalue() and stream.getvalue().endswith("\n")


@pytest.mark.parametrize("stream", [io.StringIO, Terminal])
def test_student_names_reach_the_stream_harmless(stream) -> None:
    out = run(2, stream(), ["honest", HOSTILE])
    assert "\x1b[31m" not in out and "\x07" not in out and "owned" in out
    assert not any(line.lstrip().startswith("::") for line in re.split("[\r\n]", out))
    assert "owned second line" in out  # one line, not two


def test_nothing_to_grade_prints_nothing() -> None:
    for stream in (io.StringIO(), Terminal()):
        assert run(0, stream) == ""
