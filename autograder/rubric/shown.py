"""An answer as the checker read it, for people: the notebook's check cell, the feedback page.

A formula is shown as the expression it was parsed into (plain text, LaTeX for the notebook,
presentation MathML for pages read offline: no script, no network); the lecture's network
symbols in its notation (``w12_2`` is w₁₂⁽²⁾). Nothing here judges; an answer that does not
read is shown as what it was.
"""

from __future__ import annotations

import functools
import re
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 400  # characters of an answer's plain text kept for people
MAX_MATHML = 20_000  # a longer MathML is not kept (the plain text is)

_LAYERED = re.compile(r"([A-Za-z]+)(\d+)_(\d+)")


def counts(result: Any) -> bool:
    """Whether a self-check's points are a verdict (not a check of form only, nor one that
    leaves the points to the grade)."""
    return not (result.details.get("form_only") or result.details.get("unconfirmed"))


def render(result: Any, points: float, prefix: str) -> str:
    """A verdict as the notebook and ``backprop-kit check`` print it, with its points."""
    earned = result.score * points
    if result.details.get("form_only"):
        return f"{prefix}: {result.feedback} (This check does not say whether it is right.)"
    if result.details.get("unconfirmed"):
        return f"{prefix}: {result.feedback} (The grade decides the points.)"
    return f"{prefix}: {result.feedback} [{earned:g} of {points:g} points]"


@dataclass(frozen=True)
class Shown:
    """An answer as read: plain text, and for a formula its LaTeX and MathML. The LaTeX is
    written when asked for (the notebook shows it, a feedback page shows the MathML: a
    class's regrade wrote 1,400 formulas' LaTeX for nothing, a second of CPU)."""

    text: str
    expr: Any = field(default=None, repr=False)  # the formula as read, for its LaTeX
    mathml: str | None = None

    @functools.cached_property
    def latex(self) -> str | None:
        """The formula in LaTeX, the network's symbols in the lecture's notation."""
        if self.expr is None:
            return None
        import sympy

        return sympy.latex(self.expr, symbol_names=layer_names(self.expr))


def layer_names(expr: Any) -> dict[Any, str]:
    """The lecture's notation for the network's symbols: ``w12_2`` is w₁₂⁽²⁾ (LaTeX)."""
    names = {}
    for symbol in getattr(expr, "free_symbols", ()):
        match = _LAYERED.fullmatch(str(symbol))
        if match:
            letter, index, layer = match.groups()
            names[symbol] = f"{letter}_{{{index}}}^{{({layer})}}"
    return names


def expression_names(data: Mapping[str, Any]) -> list[str]:
    """The names an expression question's answer may use (its public data)."""
    return list(data.get("fingerprint", {}).get("variables")
                or [*data.get("variables", []), *data.get("definitions", {})])


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"


def shown_expression(answer: Any, names: Sequence[str], mathml: bool = False) -> Shown:
    """A formula answer (text or sympy) as parsed with ``names``; unreadable: as given. Read
    by the process's reader for these names (``rubric.reading``): a regrade has read every
    answer once already, before its judging processes were forked."""
    import sympy

    from autograder.rubric.reading import reader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expr = reader(names).expression(answer)
    except Exception:  # noqa: BLE001 -- unreadable: the verdict says why
        return Shown(_cut(repr(answer) if isinstance(answer, str) else type(answer).__name__))
    return Shown(_cut(sympy.sstr(expr)), expr, _mathml(expr) if mathml else None)


def shown_value(kind: str | None, answer: Any) -> Shown:
    """A number, vector or function answer in plain text (a function by its name)."""
    import numpy as np

    if kind == "function":
        name = getattr(answer, "__name__", type(answer).__name__)
        return Shown(f"the function {name}" if callable(answer) else type(answer).__name__)
    try:
        values = np.asarray(answer, dtype=float)
        return Shown(_cut(np.array2string(values, precision=6, separator=", ")
                          if values.ndim else f"{float(values):.6g}"))
    except Exception:  # noqa: BLE001
        return Shown(type(answer).__name__)


def _mathml(expr: Any) -> str | None:
    """Presentation MathML of ``expr`` (``<math>``…), the network's symbols as the lecture
    writes them; None when sympy cannot print it."""
    import sympy
    from sympy.printing.mathml import mathml

    renamed = {}
    for symbol in getattr(expr, "free_symbols", ()):
        match = _LAYERED.fullmatch(str(symbol))
        if match:  # sympy prints name_sub^super as a subscript and a superscript
            letter, index, layer = match.groups()
            renamed[symbol] = sympy.Symbol(f"{letter}_{index}^({layer})")
    try:
        body = mathml(expr.xreplace(renamed) if renamed else expr, printer="presentation")
    except Exception:  # noqa: BLE001 -- the plain text is shown instead
        return None
    body = _ENTITY.sub(_character, body).replace("\u2147", "e")  # ⅇ: the lecture's plain e
    text = f'<math xmlns="http://www.w3.org/1998/Math/MathML">{body}</math>'
    return safe_mathml(text)


_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"lt", "gt", "amp", "quot", "apos"}


def _character(match: re.Match[str]) -> str:
    """A named entity of HTML (sympy's &InvisibleTimes;) as its character (XML has none)."""
    import html

    return match.group(0) if match.group(1) in _XML_ENTITIES else html.unescape(match.group(0))


# --- MathML kept in results.json, read back for a page -------------------------------------

_MATHML_TAGS = {"math", "mrow", "mi", "mn", "mo", "msup", "msub", "msubsup", "mfrac", "msqrt",
                "mroot", "mfenced", "mtext", "mspace", "mstyle", "mover", "munder",
                "munderover", "mpadded", "mphantom", "mtable", "mtr", "mtd"}
_MATHML_ATTRIBUTES = {"mathvariant", "open", "close", "separators", "linethickness",
                      "stretchy", "fence", "form", "lspace", "rspace", "width"}
_NS = "{http://www.w3.org/1998/Math/MathML}"


@functools.lru_cache(maxsize=2048)
def safe_mathml(text: str | None) -> str | None:
    """``text`` again as MathML if it is only MathML's presentation elements with harmless
    attributes (it comes from results.json, a file that may have been edited): else None.
    Kept per distinct text: a class hands in the same formulas many times (1,000 feedback
    pages read 17,000 formulas, about 1,300 different, 2.5 s of XML parsing a run)."""
    if not text or len(text) > MAX_MATHML:
        return None
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for node in root.iter():
        tag = node.tag.removeprefix(_NS)
        if tag not in _MATHML_TAGS or any(a not in _MATHML_ATTRIBUTES for a in node.attrib):
            return None
        if any(re.search(r"[<>&\"]|javascript:", v, re.I) for v in node.attrib.values()):
            return None
    ET.register_namespace("", _NS[1:-1])
    return ET.tostring(root, encoding="unicode")
