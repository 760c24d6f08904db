"""The class report: one self-contained HTML page and a Markdown summary for one or more
graded assignments: score distributions, item statistics, diagnosed mistakes, answer groups,
answers to review, and who could not be graded.

The page is rendered from a Jinja2 template with autoescaping (student names and answers are
untrusted text); plots are drawn with matplotlib and embedded as SVG, so the page needs no
network and runs no script. Numbers come from :mod:`classstats` and :mod:`answergroups`.
"""

from __future__ import annotations

import base64
import functools
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.report import classstats, pages, reports, text
from autograder.report.answergroups import AnswerGroup, group_answers
from autograder.report.classstats import Distribution, ItemStatistics
from autograder.results import GradingRun, SubmissionResult
from autograder.rubric.question import Question

HTML_NAME = "class-report.html"
MARKDOWN_NAME = "class-report.md"
SHOWN_GROUPS = 10  # answer groups shown per question before "N more"
SHOWN_NAMES = 30  # students named per group before "and N more"
QuestionsFor = Callable[[str], Sequence[Question] | None]


@dataclass(frozen=True)
class QuestionSection:
    item: ItemStatistics
    groups: tuple[AnswerGroup, ...]
    review: tuple[AnswerGroup, ...]  # right answers no proof confirmed, or flagged for review
    unjudged: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (why, students): no data kept
    asked: tuple[tuple[str, int], ...] = ()  # (title, students) when variants asked it apart

    @property
    def answers(self) -> int:
        return sum(g.count for g in self.groups)


@dataclass(frozen=True)
class AssignmentSection:
    run: GradingRun
    total: Distribution
    plot: str  # data URI of the totals' histogram ("" when the run is too small to plot)
    questions_plot: str  # data URI of the points per question (likewise)
    questions: tuple[QuestionSection, ...]
    not_graded: tuple[tuple[str, SubmissionResult], ...]
    # (student, question or "", note): id mismatches and copying, with per-student variants
    variant_notes: tuple[tuple[str, str, str], ...] = ()
    # (student, what the notebook's code did): tampering, for the instructor (no penalty)
    suspicious: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def assignment(self) -> str:
        return self.run.assignment

    @property
    def mean(self) -> float | None:
        """The class mean as the terminal prints it (``GradingRun.mean_points``); None when
        no submission ran to the end."""
        return self.run.mean_points if self.run.graded else None

    @property
    def too_few(self) -> str:
        return classstats.too_few(self.run)

    @property
    def variants(self) -> bool:
        """Whether the run graded students against their own variants."""
        return any(s.variant is not None for s in self.run.submissions)


# --- plots ---------------------------------------------------------------------------------


MIN_PLOTTED = 2  # fewer submissions (one notebook graded alone): no histograms, say so


def _svg_uri(fig) -> str:
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "backprop-kit"}):
        fig.savefig(buffer, format="svg")  # fixed margins: a tight box costs a second draw
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def histogram(dist: Distribution, title: str, *, wide: bool = False) -> str:
    """A histogram of points as an SVG data URI: one bar per score when there are few
    possible scores, else 20 equal bins from 0 to the maximum. Few ticks and fixed margins:
    drawing is most of a class report's time."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 2.6) if wide else (3.4, 2.2))
    fig.subplots_adjust(left=0.11 if wide else 0.22, right=0.97, bottom=0.2, top=0.88)
    ax = fig.subplots()
    top = max(dist.max_points, max(dist.values, default=0.0), 1e-9)
    distinct = sorted(set(dist.values))
    if len(distinct) <= 12:
        counts = [sum(1 for v in dist.values if v == d) for d in distinct]
        ax.bar(distinct, counts, width=top / 25, color="#3b6ea5")
    else:
        ax.hist(dist.values, bins=20, range=(0, top), color="#3b6ea5")
    ax.set_xlim(-top / 20, top * 1.05)
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    ax.set_title(title, fontsize=9)
    ax.yaxis.get_major_locator().set_params(integer=True, nbins=4)
    ax.xaxis.get_major_locator().set_params(nbins=6 if wide else 4)
    return _svg_uri(fig)


def question_chart(items: Sequence[ItemStatistics]) -> str:
    """The points on every question in one chart (one figure, not one per question: drawing
    is most of a class report's time): for each, the share of graded students with full
    marks, partial credit and none, as a stacked bar."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 0.8 + 0.26 * max(len(items), 1)))
    fig.subplots_adjust(left=0.36, right=0.97, bottom=0.5 / fig.get_figheight() + 0.02,
                        top=1 - 0.42 / fig.get_figheight())
    ax = fig.subplots()
    shares = {"full marks": [], "partial credit": [], "none": []}
    for item in items:
        values, top = item.distribution.values, item.max_points
        n = max(len(values), 1)
        full = sum(v >= top - 1e-9 for v in values) if top > 0 else 0
        none = sum(v <= 1e-9 for v in values) if top > 0 else len(values)
        shares["full marks"].append(100 * full / n)
        shares["none"].append(100 * none / n)
        shares["partial credit"].append(100 * (len(values) - full - none) / n)
    rows = list(range(len(items)))
    left = [0.0] * len(items)
    for (label, values), color in zip(shares.items(), ("#3b6ea5", "#9dbbdc", "#d9d9d9"),
                                      strict=True):
        ax.barh(rows, values, left=left, color=color, label=label, height=0.7)
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(rows, [f"{i.id} ({text.num(i.max_points)})" for i in items],
                  fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("% of graded students", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, fontsize=7, frameon=False,
              borderaxespad=0.2)
    return _svg_uri(fig)


# --- the content ---------------------------------------------------------------------------


def plotted(run: GradingRun) -> bool:
    """Whether the page draws histograms: not for a notebook graded alone, whose points the
    tables show (and matplotlib, a second of the command's time, is then not imported)."""
    return len(run.submissions) >= MIN_PLOTTED


def _question_section(run: GradingRun, item: ItemStatistics,
                      question: Question | None) -> QuestionSection:
    labelled = text.labelled(run)
    results = [(label, q) for label, sub in labelled for q in sub.questions if q.id == item.id]
    variants = {label: sub.variant for label, sub in labelled}
    groups = tuple(group_answers(results, question, variants))
    review = tuple(g for g in groups if g.review_count)
    unjudged: dict[str, list[str]] = {}
    for label, q in results:
        if q.review and q.answer is None:
            unjudged.setdefault(q.review, []).append(label)
    asked = Counter(q.title for _, q in results)
    return QuestionSection(item, groups, review,
                           tuple((why, tuple(who)) for why, who in unjudged.items()),
                           tuple(sorted(asked.items())) if len(asked) > 1 else ())


PARALLEL_FROM = 200  # submissions from which answers are grouped in ``jobs`` processes
_shared: dict[str, Any] = {}  # what forked grouping workers read (inherited, not pickled)


def _shared_section(item: ItemStatistics) -> QuestionSection:
    return _question_section(_shared["run"], item, _shared["rubric"].get(item.id))


def _sections(run: GradingRun, items: Sequence[ItemStatistics], rubric: dict[str, Question],
              jobs: int, meanwhile: Callable[[], Any]) -> tuple[Any, tuple[QuestionSection, ...]]:
    """``meanwhile()`` and each question's answer groups: for a large class in ``jobs``
    forked processes while this one runs ``meanwhile`` (draws the charts); reading and
    evaluating a class's distinct answers is most of a class report's time."""
    if jobs < 2 or len(run.submissions) < PARALLEL_FROM or len(items) < 2:
        return meanwhile(), tuple(_question_section(run, item, rubric.get(item.id))
                                  for item in items)
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    _shared.update(run=run, rubric=rubric)
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            futures = [pool.submit(_shared_section, item) for item in items]  # forks now
            return meanwhile(), tuple(future.result() for future in futures)
    finally:
        _shared.clear()


def _charts(run: GradingRun, total: Distribution, items: Sequence[ItemStatistics]
            ) -> tuple[str, str]:
    """The totals' histogram and the points per question (none for one submission)."""
    if not plotted(run):
        return "", ""
    return (histogram(total, f"{run.assignment}: total points", wide=True),
            question_chart(items))


def build(runs: Sequence[GradingRun], questions_for: QuestionsFor | None = None,
          jobs: int = 1) -> list[AssignmentSection]:
    """Everything the page shows, per assignment, in the order given; answers grouped in
    ``jobs`` processes."""
    sections = []
    for run in runs:
        rubric = {q.id: q for q in (questions_for(run.assignment) or ())} if questions_for else {}
        total = classstats.total_distribution(run)
        items = classstats.item_statistics(run)
        (plot, questions_plot), questions = _sections(
            run, items, rubric, jobs, functools.partial(_charts, run, total, items))
        sections.append(AssignmentSection(
            run, total, plot, questions_plot, questions,
            tuple((label, sub) for label, sub in text.labelled(run)
                  if sub.status != "graded"),
            variant_notes(run),
            tuple((label, sub.suspicious) for label, sub in text.labelled(run)
                  if sub.suspicious),
        ))
    return sections


def variant_notes(run: GradingRun) -> tuple[tuple[str, str, str], ...]:
    """(student, question, note) for each id mismatch and each answer matching another
    student's variant or answer (autograder.grade.copying)."""
    notes = []
    for label, sub in text.labelled(run):
        if sub.variant_mismatch:
            notes.append((label, "", sub.variant_mismatch))
        notes += [(label, str(c.get("question", "")), str(c.get("note", "")))
                  for c in sub.copying]
    return tuple(notes)


# --- rendering -----------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _fixed(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _points(value: float | None) -> str:
    return "–" if value is None else text.num(round(value, 2))


def _environment():
    env = pages.environment()
    env.filters.update(percent=_percent, fixed=_fixed, points=_points)
    return env


def template() -> Any:
    """The page's template, compiled once per process."""
    return _environment().get_template("class_report.html.j2")


def render_html(sections: Sequence[AssignmentSection]) -> str:
    return template().render(sections=sections, shown_groups=SHOWN_GROUPS,
                           shown_names=SHOWN_NAMES, easy=classstats.EASY, hard=classstats.HARD,
                           weak=classstats.WEAK, min_plotted=MIN_PLOTTED,
                           asked_note=ASKED_NOTE, own_numbers=OWN_NUMBERS)


def _count(n: int, word: str) -> str:
    """``1 submission``, ``3 submissions``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _code(text: str) -> str:
    """An answer as inline Markdown code, on one line (students' text may hold anything)."""
    flat = " ".join(text.replace("`", "'").split())
    return f"`{flat}`" if flat else "(empty)"


ASKED_NOTE = ("Answers to different variants are never grouped together; each variant's "
              "right answers form one group.")
OWN_NUMBERS = "each right for the student's own numbers"


def _asked(group: AnswerGroup) -> str:
    """What a group's students were asked, where the class was asked differently."""
    notes = ([f"asked {text.md(group.asked)}"] if group.asked else []) + (
        [OWN_NUMBERS] if group.own_numbers else [])
    return f" ({'; '.join(notes)})" if notes else ""


def render_markdown(sections: Sequence[AssignmentSection]) -> str:
    """The same content in brief: totals, item statistics, mistakes, the largest groups."""
    md = text.md
    lines = ["# Class report", ""]
    for s in sections:
        t = s.total
        lines += [f"## {md(s.assignment)}", "",
                  f"{_count(len(s.run.submissions), 'submission')}, {t.count} graded, "
                  f"{len(s.not_graded)} not graded. Mean {_points(s.mean)}, median "
                  f"{_points(t.median)} of {_points(t.max_points)} points; full marks "
                  f"{_percent(t.full_marks_share)}."
                  + (f" {s.too_few}" if s.too_few else ""), "",
                  "| Question | Points | Facility | Discrimination | Mistakes | Note |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for qs in s.questions:
            i = qs.item
            mistakes = ", ".join(f"{m.replace('_', ' ')}: {n}" for m, n in i.mistakes)
            lines.append(f"| {md(i.title, cell=True)} ({md(i.id, cell=True)}) | "
                         f"{_points(i.max_points)} | {_fixed(i.facility)} | "
                         f"{_fixed(i.discrimination)} | {mistakes or '–'} | "
                         f"{md(i.note, cell=True) or '–'} |")
        lines.append("")
        for qs in s.questions:
            if not qs.groups:
                continue
            lines += [f"### {md(qs.item.title)} ({md(qs.item.id)}): answer groups", ""]
            if qs.asked:
                lines += ["Asked per variant: " + "; ".join(
                    f"{md(title)} ({n})" for title, n in qs.asked) + ". " + ASKED_NOTE, ""]
            for g in qs.groups[:SHOWN_GROUPS]:
                lines.append(f"- {g.count} × {_code(g.representative)} — "
                             f"{g.verdict}{_asked(g)}, {text.num(g.points)}/"
                             f"{text.num(g.max_points)}: {md(g.feedback)}")
            rest = qs.groups[SHOWN_GROUPS:]
            if rest:
                lines.append(f"- … {len(rest)} more groups ({sum(g.count for g in rest)} "
                             "answers) in the HTML page")
            lines.append("")
        review = [(qs.item.id, g) for qs in s.questions for g in qs.review]
        unjudged = [(qs.item.id, why, who) for qs in s.questions for why, who in qs.unjudged]
        if review or unjudged:
            lines += ["### To review", ""]
            lines += [f"- {md(qid)}: {g.review_count} × {_code(g.representative)}"
                      f" — {md(g.review or '')}" for qid, g in review]
            lines += [f"- {md(qid)}: {len(who)} × {md(why)} ({md(', '.join(who[:SHOWN_NAMES]))})"
                      for qid, why, who in unjudged]
            lines.append("")
        if s.variant_notes:
            lines += ["### Variants: ids and copying (no penalty)", ""]
            lines += [f"- {md(label)}" + (f", {md(question)}" if question else "")
                      + f": {md(note)}" for label, question, note in s.variant_notes]
            lines.append("")
        if s.suspicious:
            lines += ["### Suspicious: code that tampers (the sandbox kept it harmless)", ""]
            lines += [f"- {md(label)}: {md('; '.join(what))}" for label, what in s.suspicious]
            lines.append("")
        if s.not_graded:
            lines += ["### Not graded", ""]
            lines += [f"- {md(label)}: {sub.status}"
                      + (f" — {md(sub.errors[0])}" if sub.errors else "")
                      for label, sub in s.not_graded]
            lines.append("")
    return "\n".join(lines)


def write_class_report(runs: Sequence[GradingRun], out: Path,
                       questions_for: QuestionsFor | None = None, jobs: int = 1
                       ) -> dict[str, Path]:
    """Write the page and the summary into ``out``; return them by name."""
    sections = build(runs, questions_for, jobs)
    out = Path(out)
    written = {}
    for name, content in ((HTML_NAME, render_html(sections)),
                          (MARKDOWN_NAME, render_markdown(sections))):
        reports.write_atomic(out / name, content)
        written[name] = out / name
    return written


def rubric_questions(assignment: str) -> Sequence[Question] | None:
    """The current rubric of ``assignment`` from the course (None where there is none: the
    answers are then grouped without its definitions)."""
    from autograder.errors import BackpropKitError

    try:
        from autograder.rubric.course import questions

        return questions(assignment)
    except (ImportError, BackpropKitError):
        return None


def warm_up_charts() -> None:
    """Load matplotlib's fonts and fill its caches as this report's charts do (its first
    chart in a process costs about 0.15 s more than the next): for a warm grader, which
    draws this before any command comes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.4, 2.2))
    ax = fig.subplots()
    ax.barh([0, 1], [40.0, 60.0], color="#3b6ea5", label="full marks", height=0.7)
    ax.bar([0.0, 1.0], [1, 2], width=0.1)
    ax.set_yticks([0, 1], ["question (1)", "question (2)"], fontsize=7)
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    ax.set_title("warm-up", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncols=3, fontsize=7, frameon=False)
    _svg_uri(fig)
