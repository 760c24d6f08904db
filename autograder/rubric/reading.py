"""A class's formula answers read once per distinct formula, not once per way of typing it.

A class hands in the same formula typed many ways (``-2*(y - a)``, ``-2*(y-a)``); the parser
reads tokens and uses the text only to say where an error is, so two answers with the same
tokens are the same expression. The class report's answer groups and ``regrade``'s work keys
read every answer of a class: each token sequence is parsed once, and the one expression it
gives lets regrade write out each form once (planning a 1,000-student ``regrade --all``: 4.8 s
of CPU before, 1.75 s after, with its key kept per distinct datum). Nothing here judges; the
parser (``judge.parsing``) is used as it is, so the verdict code and its version stay as
they are. ``reader(names)`` is one Reader per set of names for the process: a regrade's keys
and then its class report's answer groups (in processes forked after it) read each formula
once between them.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import sympy

from autograder.errors import ParseError
from autograder.judge.parsing import (
    _tokenize,  # the parser's own tokens: what makes two texts one expression
    parse_expression,
    to_expression,
)

MAX_KEPT = 200_000  # texts a Reader keeps (a class of 1,000 hands in 1,000 at most a question)
_LIMITS = {name: p.default for name, p in inspect.signature(parse_expression).parameters.items()
           if name in ("max_length", "max_tokens", "max_depth")}


class Reader:
    """``to_expression`` for one question's names, each token sequence parsed once."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self._parsed: dict[tuple[Any, ...], sympy.Expr | None] = {}
        self._texts: dict[str, sympy.Expr] = {}  # a text read before: not even tokenized

    def expression(self, value: Any) -> sympy.Expr:
        """What ``to_expression(value, names)`` returns, or the ParseError it raises."""
        if not isinstance(value, str) or len(value) > _LIMITS["max_length"]:
            return to_expression(value, self.names)
        known = self._texts.get(value)
        if known is not None:
            return known
        expr = self._expression(value)
        if len(self._texts) >= MAX_KEPT:  # a long-lived process reads class after class
            self._texts.clear()
            self._parsed.clear()
        self._texts[value] = expr
        return expr

    def _expression(self, value: str) -> sympy.Expr:
        try:
            tokens = _tokenize(value, _LIMITS["max_tokens"], _LIMITS["max_depth"])
        except ParseError:
            return to_expression(value, self.names)  # raises, naming this text's fault
        key = tuple((t.kind, t.value, t.raw) for t in tokens)
        if key not in self._parsed:
            try:
                self._parsed[key] = to_expression(value, self.names)
            except ParseError:
                self._parsed[key] = None
        expr = self._parsed[key]
        if expr is None:  # unreadable: read this text again so the error names its position
            return to_expression(value, self.names)
        return expr


_READERS: dict[tuple[str, ...], Reader] = {}
MAX_READERS = 256  # sets of names kept (a course has a few dozen questions and variants)


def reader(names: Sequence[str]) -> Reader:
    """The process's Reader for ``names`` (made the first time they are asked for)."""
    key = tuple(names)
    found = _READERS.get(key)
    if found is None:
        if len(_READERS) >= MAX_READERS:
            _READERS.clear()
        found = _READERS[key] = Reader(key)
    return found
