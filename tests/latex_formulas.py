"""The formulas a text shows, as text the kit's own parser reads (``autograder.judge.parsing``).

A small reader of the LaTeX the notebooks and the lecture use — ``\\frac``, sub- and
superscripts in the lecture's notation (``w_{12}^{(2)}`` is ``w12_2``), ``\\sigma'``,
``e^{...}``, ``\\left(``/``\\right)``, Greek letters — turning each side of a relation into
parser text. It only rewrites characters into other characters: nothing is run, and the result
goes to ``parse_expression``, never to ``eval`` or ``sympify``. A side holding notation it does
not read (``\\partial``, ``\\nabla``, sums, vectors, an index like ``x_{i+1}``) is left out:
such a side names derivatives, it does not state one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
CODE_SPAN = re.compile(r"`([^`\n]+)`")

# Relations and layout that separate the formulas of one display.
_SEPARATOR_COMMANDS = {
    "approx", "le", "leq", "ge", "geq", "ne", "neq", "equiv", "sim", "Longrightarrow",
    "Rightarrow", "implies", "iff", "quad", "qquad", "to", "mapsto", "in", "text", "textrm",
    "mbox", "hbox", "forall", "colon", "lt", "gt", "cdots", "dots", "ldots",
}
_SPACES = {",", ";", "!", " ", ":", "displaystyle", "textstyle", "left", "right", "bigl",
           "bigr", "Bigl", "Bigr", "big", "Big", "bigg", "Bigg", "limits", "nolimits"}
_TIMES = {"cdot", "times"}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
          "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi",
          "varphi", "chi", "psi", "omega"}
_FUNCTIONS = {"exp", "log", "ln", "sin", "cos", "tan", "sinh", "cosh", "tanh", "sqrt"}
_FONTS = {"mathbf", "boldsymbol", "mathrm", "mathit", "bm", "mathsf"}
_FRACTIONS = {"frac", "tfrac", "dfrac", "cfrac"}
_LAYER = re.compile(r"^\((\d)\)$")


class Unread(ValueError):
    """A side holds notation this reader does not turn into a formula."""


def math_segments(markdown: str) -> list[str]:
    """The LaTeX between ``$…$`` and ``$$…$$`` in Markdown."""
    return [a or b for a, b in MATH.findall(markdown)]


def code_spans(markdown: str) -> list[str]:
    """The text between single backticks (``\\`a1_2\\```), outside the math."""
    return CODE_SPAN.findall(MATH.sub(" ", markdown))


def _tokens(latex: str) -> list[str]:
    out: list[str] = []
    i, n = 0, len(latex)
    while i < n:
        ch = latex[i]
        if ch == "\\":
            if i + 1 < n and not latex[i + 1].isalpha():
                out.append("\\" + latex[i + 1])
                i += 2
                continue
            j = i + 1
            while j < n and latex[j].isalpha():
                j += 1
            out.append(latex[i:j])
            i = j
        elif ch.isspace():
            i += 1
        else:
            out.append(ch)
            i += 1
    return out


def sides(latex: str) -> list[list[str]]:
    """The LaTeX of one display split at its relations, line breaks, alignment marks, text and
    top-level commas: each part a candidate formula, as tokens."""
    parts: list[list[str]] = [[]]
    depth = 0
    tokens = _tokens(latex)
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t in ("{", "(", "["):
            depth += 1
        elif t in ("}", ")", "]"):
            depth -= 1
        name = t[1:] if t.startswith("\\") else None
        if t in ("\\left", "\\right") and i + 1 < len(tokens):  # \left( is no real bracket
            parts[-1] += [t, tokens[i + 1]]
            i += 2
            continue
        if name in ("begin", "end") and i + 1 < len(tokens) and tokens[i + 1] == "{":
            i = _matching(tokens, i + 1) + 1  # an environment's name is no formula
            parts.append([])
            continue
        if name in ("text", "textrm", "mbox", "hbox") and i + 1 < len(tokens) \
                and tokens[i + 1] == "{":
            close = _matching(tokens, i + 1)  # the text itself is no formula
            parts.append([])
            i = close + 1
            continue
        if (t in ("=", "<", ">", "&", ";", "\\\\") or name in _SEPARATOR_COMMANDS
                or (t == "," and depth <= 0)):
            parts.append([])
        else:
            parts[-1].append(t)
        i += 1
    return [p for p in parts if p]


def _matching(tokens: list[str], start: int) -> int:
    depth = 0
    for k in range(start, len(tokens)):
        if tokens[k] == "{":
            depth += 1
        elif tokens[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    raise Unread("unbalanced braces")


class _Reader:
    def __init__(self, tokens: list[str]) -> None:
        self.t, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str:
        if self.i >= len(self.t):
            raise Unread("unexpected end")
        self.i += 1
        return self.t[self.i - 1]

    def group(self) -> list[str]:
        """The tokens of the next argument: a braced group or a single token."""
        if self.peek() == "{":
            close = _matching(self.t, self.i)
            inner = self.t[self.i + 1:close]
            self.i = close + 1
            return inner
        return [self.take()]

    def raw(self, tokens: list[str]) -> str:
        return "".join(t[1:] if t.startswith("\\") else t for t in tokens)

    def read(self) -> str:
        out: list[str] = []
        while self.peek() is not None:
            out.append(self.item())
        return " ".join(x for x in out if x)

    def item(self) -> str:
        t = self.take()
        name = t[1:] if t.startswith("\\") else None
        if name is not None:
            if name in _SPACES or t in ("\\,", "\\;", "\\!", "\\ ", "\\:"):
                return ""
            if name in _TIMES:
                return "*"
            if name in _FRACTIONS:
                top, bottom = _Reader(self.group()).read(), _Reader(self.group()).read()
                return self.scripts(f"(({top})/({bottom}))")
            if name == "sqrt":
                return self.scripts(f"sqrt({_Reader(self.group()).read()})")
            if name in _FONTS:
                return self.scripts(self.raw(self.group()))
            if name in _GREEK:
                return self.named(name)
            if name in _FUNCTIONS:
                return name
            if name in ("{", "}"):
                return ""
            raise Unread(t)
        if t == "{":
            self.i -= 1
            return self.scripts(f"({_Reader(self.group()).read()})")
        if t in "([":
            return "("
        if t in ")]":
            return self.scripts(")")
        if t.isalpha():
            return self.named(t)
        if t == "." and not (self.peek() or "").isdigit():
            return ""  # a full stop after a formula
        if t.isdigit() or t == ".":
            digits = t
            while self.peek() is not None and (self.peek().isdigit() or self.peek() == "."):
                digits += self.take()
            return self.scripts(digits)
        if t in "+-*/|":
            return t
        if t == "'":
            raise Unread("a prime on something other than sigma")
        if t in ("^", "_"):
            raise Unread(f"a stray {t}")
        raise Unread(t)

    def named(self, name: str) -> str:
        """A letter (or Greek name) with its subscript, layer superscript and primes."""
        index, layer = "", ""
        for _ in range(2):
            if self.peek() == "_" and not index:
                self.take()
                index = self.raw(self.group())
                if not index.isalnum():
                    raise Unread(f"the index {index!r}")
            elif self.peek() == "^" and not layer and self.i + 1 < len(self.t) \
                    and self.t[self.i + 1] == "{":
                close = _matching(self.t, self.i + 1)
                found = _LAYER.match(self.raw(self.t[self.i + 2:close]))
                if not found:
                    break
                layer = found.group(1)
                self.i = close + 1
        text = name + index + (f"_{layer}" if layer else "")
        while self.peek() == "'":
            self.take()
            text += "'"
        return self.scripts(text)

    def scripts(self, base: str) -> str:
        """A power after ``base``: ``^2``, ``^{-1}``."""
        while self.peek() == "^":
            self.take()
            power = _Reader(self.group()).read()
            base = f"{base}^({power})"
        if self.peek() == "_":
            raise Unread("a subscript after a bracket")
        return base


def to_parser_text(tokens: list[str]) -> str:
    """One side as text for ``parse_expression``; raises Unread for notation we do not read."""
    text = _Reader(tokens).read().strip()
    if not text:
        raise Unread("nothing left")
    return text


def formulas(latex: str, aliases: Mapping[str, str] | None = None) -> Iterator[str]:
    """Every side of every relation in ``latex`` that reads as a formula. ``aliases`` rename
    LaTeX a question's text defines as a symbol (``f'(x_i)`` is ``d1``), longest first."""
    for old in sorted(aliases or {}, key=len, reverse=True):
        latex = latex.replace(old, (aliases or {})[old])
    for side in sides(latex):
        try:
            yield to_parser_text(side)
        except Unread:
            continue


def markdown_formulas(markdown: str, aliases: Mapping[str, str] | None = None
                      ) -> Iterator[str]:
    """The formulas of a Markdown text: its math, and its inline code spans as they stand."""
    for segment in math_segments(markdown):
        yield from formulas(segment, aliases)
    for span in code_spans(markdown):
        yield span.strip().strip("\"'")
