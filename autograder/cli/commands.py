"""The command line: a thin click layer over the library (grading, batch, reports, demo)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from autograder import __version__
from autograder.console import echo, fail
from autograder.errors import BackpropKitError, UsageError
from autograder.student.command import check

if TYPE_CHECKING:  # the CLI imports the library lazily (start-up time)
    from autograder.results import GradingRun


@click.group()
@click.version_option(__version__, prog_name="backprop-kit")
def main() -> None:
    """backprop-kit: grade the optimisation/backpropagation homework, safely and fast."""


main.add_command(check)  # the student kit's one command, the same here


@main.command()
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--assignment", "-a", required=True, help="Assignment name, e.g. backprop.")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="Folder for results.json, grades.csv, junit.xml and feedback.")
@click.option("--jobs", "-j", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Submissions graded in parallel.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Wall-clock seconds one notebook may run.")
@click.option("--memory", "memory_mb", default=1024, show_default=True,
              type=click.IntRange(128, 65536), help="Memory limit per notebook, in MB.")
@click.option("--shard", default=None, metavar="K/N", help="Grade only shard K of N.")
@click.option("--resume", is_flag=True, help="Keep results an interrupted run already wrote.")
@click.option("--fail-under", type=click.FloatRange(0, 100), default=None, metavar="PCT",
              help="Exit 1 if any submission scores under PCT percent (for a student's CI).")
@click.option("--allow-unsandboxed", is_flag=True,
              help="Grade even where no sandbox is available (unsafe; recorded in results).")
@click.option("--judge-timeout", default=20.0, show_default=True,
              type=click.FloatRange(0.5, 3600),
              help="Seconds judging one answer may take; then it is listed for review.")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="nbgrader's gradebook.db: join the points graded by hand in formgrader "
                   "(not graded yet: shown as pending).")
@click.option("--seed", default=None, metavar="TEXT",
              help="The course's variant seed (default: c.BackpropKit.variant_seed in the "
                   "course's nbgrader_config.py); each student is graded against their own "
                   "numbers. --seed '' grades everyone against the lecture's numbers.")
@click.option("--feedback-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="nbgrader's feedback folder (the course's feedback/): each student's page "
                   "goes to <student>/<assignment>/ for 'nbgrader release_feedback'.")
@click.option("--student", default=None, metavar="ID",
              help="Whose notebook a single NOTEBOOK.ipynb is, where its path does not say "
                   "(nbgrader's submitted/<student>/<assignment>/ does).")
def grade(submissions: tuple[Path, ...], assignment: str, out: Path, jobs: int, timeout: float,
          memory_mb: int, shard: str | None, resume: bool, fail_under: float | None,
          allow_unsandboxed: bool, judge_timeout: float, gradebook: Path | None,
          seed: str | None, feedback_dir: Path | None, student: str | None) -> None:
    """Grade SUBMISSIONS (an nbgrader submitted/ tree, folders, notebooks or zips)."""
    from autograder.run.client import Runner, assignment_plots, assignment_sympy

    # the runners (one a job) pre-load while this process imports sympy and the rubric
    early = [Runner(assignment_plots(assignment), preload_sympy=assignment_sympy(assignment))
             .start() for _ in range(jobs)]
    from autograder.grade.classrun import ClassRequest, grade_class
    from autograder.report import reports

    request = ClassRequest(submissions, assignment, out, jobs, timeout, memory_mb, shard,
                           resume, allow_unsandboxed, judge_timeout, gradebook, seed, student)
    try:
        run = grade_class(request, early, warn=lambda text: echo(text, err=True))
    except BackpropKitError as error:
        fail(error)
    echo(reports.summary_table(run))
    echo(f"reports written to {out}")
    if feedback_dir is not None:
        _deliver(run, feedback_dir)
    if any(s.status == "error" for s in run.submissions):
        echo("backprop-kit: the grader itself failed on some submissions (status error)",
              err=True)
        sys.exit(1)
    if fail_under is not None:
        low = [s.student for s in run.submissions
               if s.max_points and 100 * s.points / s.max_points < fail_under]
        if low:
            echo(f"under {fail_under:g}%: {', '.join(low)}", err=True)
            sys.exit(1)


def _deliver(run: GradingRun, feedback_dir: Path) -> None:
    """Feedback pages into nbgrader's feedback folder, and what was left out."""
    from autograder.grade.delivery import deliver_feedback

    done = deliver_feedback(run, feedback_dir)
    count = len(done.pages)
    echo(f"feedback for {count} student{'s' if count != 1 else ''} in {feedback_dir}: "
          f"'nbgrader release_feedback {run.assignment}' sends it to the students")
    for note in done.skipped:
        echo(f"feedback not delivered: {note}", err=True)


@main.command()
@click.argument("folders", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path),
              help="Folder for the merged results.json, grades.csv, junit.xml and feedback.")
def merge(folders: tuple[Path, ...], out: Path) -> None:
    """Join the results of sharded runs (FOLDERS hold results.json) into one set of reports."""
    from autograder.grade.classrun import merge_class
    from autograder.report import reports

    try:
        merged = merge_class(folders, out)
    except BackpropKitError as error:
        fail(error)
    echo(reports.summary_table(merged))


def _read_runs(paths: tuple[Path, ...]) -> list:
    """The runs in ``paths`` (results.json files or folders), shards of one assignment joined."""
    from autograder.results import GradingRun

    by_assignment: dict[str, list[GradingRun]] = {}
    for path in paths:
        run = GradingRun.read(path)
        by_assignment.setdefault(run.assignment, []).append(run)
    return [runs[0] if len(runs) == 1 else GradingRun.merge(runs)
            for runs in by_assignment.values()]


@main.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for class-report.html and class-report.md.")
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Processes grouping a large class's answers.")
def report(results: tuple[Path, ...], out: Path, jobs: int) -> None:
    """The class report of RESULTS (results.json files or their folders; several assignments
    make one page): distributions, item statistics, mistakes, answer groups."""
    from autograder.report.classreport import (
        HTML_NAME,
        MARKDOWN_NAME,
        rubric_questions,
        write_class_report,
    )

    try:
        runs = _read_runs(results)
        written = write_class_report(runs, out, rubric_questions, jobs)
    except BackpropKitError as error:
        fail(error)
        return
    for run in runs:
        if not run.regradable:
            click.echo(f"note: {run.assignment}: results schema {run.schema} keeps no answers, "
                       "so the report has no answer groups", err=True)
    click.echo(f"class report: {written[HTML_NAME]} (summary: {written[MARKDOWN_NAME]})")


@main.command()
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--out", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the regraded results, regrade.csv/.md and every report.")
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Processes judging answers and writing the reports.")
@click.option("--all", "everything", is_flag=True,
              help="Judge every answer again, also those the current rubric already judged.")
@click.option("--feedback-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="nbgrader's feedback folder: the regraded pages for 'release_feedback'.")
def regrade(results: Path, out: Path, jobs: int, everything: bool,
            feedback_dir: Path | None) -> None:
    """Judge the answers kept in RESULTS again with the current rubric, without running any
    notebook, and show whose scores changed."""
    from autograder.grade.classrun import stale_notes
    from autograder.grade.regrade import changes_table, variant_questions, write_all
    from autograder.grade.regrade import regrade as regrade_run
    from autograder.report.classreport import HTML_NAME
    from autograder.results import GradingRun
    from autograder.rubric.course import questions

    try:
        before = GradingRun.read(results)
        rubric = list(questions(before.assignment))
        for note in stale_notes(before.assignment):
            echo(note, err=True)
        after = regrade_run(before, rubric, source=str(results), jobs=jobs,
                            everything=everything,
                            questions_for=variant_questions(before.assignment))
        started = time.monotonic()
        written = write_all(before, after, out, rubric, jobs)
    except BackpropKitError as error:
        fail(error)
        return
    click.echo(changes_table(before, after))
    if feedback_dir is not None:
        _deliver(after, feedback_dir)
    click.echo(f"judged again in {after.seconds:.1f} s, reports written in "
               f"{time.monotonic() - started:.1f} s to {out} "
               f"(regrade.md, regrade.csv, {written[HTML_NAME].name})")


@main.command()
@click.option("--source", default=Path("assignments"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--roster", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Student ids, one a line: with a course seed, the data some questions "
                   "need per student is written for them.")
def selfchecks(source: Path, roster: Path | None) -> None:
    """Rewrite each assignment's selfcheck.json from solutions/ (instructor): with the course
    seed (c.BackpropKit.variant_seed) for every student's variant. Prints what a student must
    search to recover each released datum; refuses (writes nothing) below the bound."""
    _write_selfchecks(source, roster)


def _write_selfchecks(source: Path, roster: Path | None, only: list[str] | None = None
                      ) -> None:
    from autograder.course.audit import ReleaseRefused
    from autograder.course.audit import report as audit_report
    from autograder.course.release import write_selfchecks
    from autograder.rubric.course import find_course
    from autograder.rubric.lock import LOCK_FILE, record
    from autograder.rubric.variants import course_seed

    course_dir = find_course()
    seed = course_seed(course_dir)
    ids = roster.read_text(encoding="utf-8").split() if roster is not None else []
    findings: list = []
    try:
        paths = write_selfchecks(source, only, seed=seed, roster=ids, findings=findings)
    except ReleaseRefused as error:
        fail(error)
        return
    for line in audit_report(findings):
        click.echo(line)
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))["questions"]
        empty = [q for q, e in data.items() if "variants" in e and not e["variants"]]
        click.echo(f"wrote {path}")
        if empty:
            echo(f"warning: {', '.join(empty)} need data per student and no --roster was "
                  "given: their self-checks say they are unavailable", err=True)
    if source.resolve() == (course_dir / "assignments").resolve():  # the course's own release
        changes = record(course_dir, source, [p.parent.name for p in paths])
        for assignment, changed in changes.items():
            if changed:
                echo(f"{assignment}: changed since the last selfchecks: {', '.join(changed)}; "
                      f"generate and release {assignment} again (nbgrader generate_assignment "
                      f"{assignment} --force, release_assignment)")
        click.echo(f"recorded the rubric of this release in {course_dir / LOCK_FILE}")


@main.command("add-question")
@click.argument("assignment")
@click.argument("question_id")
@click.option("--hand-in", default=None, metavar="TEXT",
              help="The header table's 'What you hand in' (default: the variable and title).")
@click.option("--source", default=Path("assignments"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--roster", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="As for selfchecks.")
def add_question(assignment: str, question_id: str, hand_in: str | None, source: Path,
                 roster: Path | None) -> None:
    """Write a new question's cells from its entry in the assignment's rubric.py (instructor):
    task, answer and test cells with nbgrader metadata after the last graded cell, the header's
    row and total; then the assignment's selfcheck.json."""
    from autograder.course.authoring import add_question as add
    from autograder.rubric.course import manual_questions, questions

    try:
        found = [q for q in (*questions(assignment), *manual_questions(assignment))
                 if q.id == question_id]
        if not found:
            raise UsageError(f"{source / assignment / 'rubric.py'} has no question "
                             f"{question_id!r}: add it to the tuple questions(variant) returns "
                             "(MANUAL for one graded by hand), then run this again")
        added = add(source / assignment / f"{assignment}.ipynb", found[0], hand_in)
    except BackpropKitError as error:
        fail(error)
        return
    click.echo(f"{added.notebook}: question {added.number} ({', '.join(added.cells)}); "
               f"total {added.total:g} points")
    _write_selfchecks(source, roster, [assignment])
    click.echo("still to write by hand: " + "; ".join(added.to_do))


@main.command("test-cells")
@click.option("--source", default=Path("assignments"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def test_cells(source: Path) -> None:
    """Rewrite every notebook's test cells from the one template (instructor)."""
    from autograder.course.release import rewrite_test_cells

    for path, changed in rewrite_test_cells(source).items():
        click.echo(f"{path}: {', '.join(changed) if changed else 'up to date'}")


@main.command()
@click.option("--out", "-o", default=None, type=click.Path(path_type=Path),
              help="Where to put the example submissions and reports (default: a temp folder).")
@click.option("--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--source", default=Path("assignments"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
def demo(out: Path | None, jobs: int, source: Path) -> None:
    """Make example submissions (right, slips, broken, hostile), grade them, show the table."""
    from autograder.cli.demo import run_demo

    try:
        click.echo(run_demo(source, out, jobs))
    except BackpropKitError as error:
        fail(error)


@main.command()
@click.option("--stop", is_flag=True, help="Stop the warm graders of this user.")
@click.option("--status", is_flag=True, help="List the warm graders of this user.")
@click.option("--idle", default=15.0, show_default=True, type=click.FloatRange(0.01, 24 * 60),
              help="Minutes without a command after which it ends.")
def warm(stop: bool, status: bool, idle: float) -> None:
    """Keep a grader ready in the background, so that later 'grade' and 'check' of this user
    and this code start at once (each still runs in a process and a sandbox of its own)."""
    from autograder.cli.warm import client as warm_server

    try:
        if stop:
            click.echo(f"stopped {warm_server.stop()} warm grader(s)")
        elif status:
            found = warm_server.running()
            key = warm_server.code_key()
            for name, pid in found:
                click.echo(f"pid {pid}: {'this code' if name == key else 'other code'}")
            click.echo(f"{len(found)} warm grader(s); logs in {warm_server.folder()}")
        else:
            pid, log = warm_server.start(idle * 60)
            click.echo(f"warm grader ready (pid {pid}); 'grade' and 'check' use it until "
                       f"{idle:g} minutes pass without one. Log: {log}")
    except OSError as error:
        fail(BackpropKitError(f"warm: {error}"))


@main.command("student-kit")
@click.option("--out", "-o", default=Path("dist"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the wheel (not nbgrader's release/ folder).")
def student_kit(out: Path) -> None:
    """Build the wheel students install: the checkers, without solutions/."""
    from autograder.course.studentkit import build

    click.echo(f"wrote {build(out)}")


if __name__ == "__main__":
    main()
