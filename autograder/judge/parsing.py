"""Student text to sympy without ``eval``: a tokenizer and a recursive-descent parser.

sympy's ``sympify``/``parse_expr`` end in Python's ``eval``, so feeding them an answer would run
the student's code. Here every sympy object is built by an explicit constructor, functions from
the one table in :mod:`autograder.judge.functions`, and sizes are checked before any real work so
hostile input is refused fast. Every failure is a :class:`ParseError` that says what is wrong
and where.
"""

from __future__ import annotations

import functools
import math
import string
import unicodedata
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import sympy

from autograder.errors import ParseError
from autograder.judge import functions

MAX_DIGITS = 30  # digits in one numeric literal
MAX_LITERAL_EXPONENT = 300  # n in a literal like 1e-n
MAX_EXPONENT = 100  # |n| in a power x^n with a numeric n as written
MAX_RESULT_EXPONENT = 1000  # |n| after sympy merges powers, e.g. x^100 * x^100
MAX_BITS = 10_000  # size of any exact number built on the way (about 3000 digits)
ROOT_BITS = 2048  # total size of the numbers under roots: sympy factors them, slowly
MAX_NODES = 5000  # size of a sympy object handed to to_expression


ALLOWED_FUNCTIONS: frozenset[str] = frozenset(functions.BY_NAME)
_CONSTANTS: dict[str, sympy.Expr] = {"e": sympy.E, "E": sympy.E, "pi": sympy.pi, "π": sympy.pi}
_NOT_FINITE = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)

_GREEK = {  # a Greek letter reads as its name: η is eta, μ0 is mu0 (lone σ and π excepted)
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon",
    "ζ": "zeta", "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa",
    "λ": "lambda", "μ": "mu", "µ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "π": "pi",
    "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "ϕ": "phi",
    "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta",
    "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi",
    "Ω": "Omega"}
_DIGITS = frozenset(string.digits)
_NAME_START = frozenset(string.ascii_letters + "_") | frozenset(_GREEK)
_NAME_CHARS = _NAME_START | _DIGITS
_OPERATORS = {"+": "+", "-": "-", "−": "-", "–": "-", "*": "*", "×": "*", "·": "*", "⋅": "*",
              "∗": "*", "/": "/", "÷": "/", "^": "^"}
_BARS = frozenset("|∣")
_BRACKETS = {"(": ")", "[": "]", "|": "|", "∣": "∣"}
_PRIMES = frozenset("'′’")  # σ'(z), σ′(z) and an editor's curly quote alike
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-", strict=True))
_HINTS = {"=": " (write only the expression, not an equation)",
          ".": " (a '.' may only appear inside a number)",
          "'": " (write the expression without quotes)",
          '"': " (write the expression without quotes)"}
_COMMA_HINT = ("a comma only separates the arguments of a function such as max(a, b) "
               "or log(x, b)")


def ascii_name(name: str) -> str:
    """The name as the checker knows it: Greek letters spelt out (η → eta, μ0 → mu0); a lone
    σ (the logistic function) and π (the constant) stay as they are."""
    if name in ("σ", "π"):
        return name
    return "".join(_GREEK.get(ch, ch) for ch in name)


@functools.cache
def make_symbol(name: str) -> sympy.Symbol:
    """The one real symbol for ``name``, so answers and references share their symbols."""
    return sympy.Symbol(name, real=True)


class _Token(NamedTuple):
    kind: str  # "num", "name", "op", "open", "close" or "end"
    value: Any  # a sympy.Rational, a name, "+-*/^" or the bracket as written
    pos: int  # 0-based offset in the original text
    raw: str  # as written, for messages


def _is_space(ch: str) -> bool:
    return ch in " \t\r\n\f\v" or unicodedata.category(ch) == "Zs"


def _number(text: str, i: int) -> tuple[_Token, int]:
    """Read a decimal literal as an exact Rational; length is checked before ``int()``."""
    n, j = len(text), i
    while j < n and text[j] in _DIGITS:
        j += 1
    whole, frac = text[i:j], ""
    if j < n and text[j] == ".":
        k = j + 1
        while k < n and text[k] in _DIGITS:
            k += 1
        if k == j + 1:
            raise ParseError("unexpected character '.'" + _HINTS["."], j, text)
        frac, j = text[j + 1:k], k
    power = 0
    if j < n and text[j] in "eE":
        k = j + 2 if j + 1 < n and text[j + 1] in "+-" else j + 1
        if k < n and text[k] in _DIGITS:
            m = k
            while m < n and text[m] in _DIGITS:
                m += 1
            if m - k > 3 or int(text[k:m]) > MAX_LITERAL_EXPONENT:
                raise ParseError(f"number out of range (at most 1e{MAX_LITERAL_EXPONENT})",
                                 i, text)
            power, j = int(text[j + 1:m]), m
    digits = whole + frac
    if len(digits) > MAX_DIGITS:
        raise ParseError(f"a number has more than {MAX_DIGITS} digits", i, text)
    shift = power - len(frac)
    value = sympy.Rational(int(digits) * 10 ** max(shift, 0), 10 ** max(-shift, 0))
    return _Token("num", value, i, text[i:j]), j


def _primed(name: str, text: str, j: int) -> tuple[str, int]:
    """σ'(z), sigma'(z), sigmoid'(z): the sigmoid's derivative; any other prime is refused."""
    if name not in functions.PRIMED:
        raise ParseError(f"unexpected {text[j]!r}: a prime may only follow sigma, sigmoid or σ "
                         "(σ'(z) is the sigmoid's derivative); write other derivatives out", j,
                         text)
    if j + 1 < len(text) and text[j + 1] in _PRIMES:
        raise ParseError(f"unexpected {text[j + 1]!r}: only the first derivative σ'(z) may be "
                         "written with a prime; write higher derivatives out", j + 1, text)
    return name + "'", j + 1


def _tokenize(text: str, max_tokens: int, max_depth: int) -> list[_Token]:
    """Split ``text`` into tokens, refusing any character outside the grammar (and brackets
    nested too deep as soon as they are, rather than after reading the rest)."""
    tokens: list[_Token] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        if len(tokens) > max_tokens:
            raise ParseError(f"the answer is too long (more than {max_tokens} symbols)",
                             None, text)
        ch = text[i]
        if _is_space(ch):
            i += 1
        elif ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            token, i = _number(text, i)
            tokens.append(token)
        elif ch in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            name = ascii_name(text[i:j])
            if j < n and text[j] in _PRIMES:
                name, j = _primed(name, text, j)
            tokens.append(_Token("name", name, i, text[i:j]))
            i = j
        elif ch in _BARS:
            tokens.append(_Token("bar", ch, i, ch))
            i += 1
        elif ch == ",":
            tokens.append(_Token("comma", ch, i, ch))
            i += 1
        elif text.startswith("**", i):
            tokens.append(_Token("op", "^", i, "**"))
            i += 2
        elif ch in _OPERATORS:
            tokens.append(_Token("op", _OPERATORS[ch], i, ch))
            i += 1
        elif ch in _BRACKETS or ch in _BRACKETS.values():
            tokens.append(_Token("open" if ch in _BRACKETS else "close", ch, i, ch))
            if ch in _BRACKETS:
                depth += 1
            else:  # a stray closer: _check_brackets names it, so stop counting here
                depth = depth - 1 if depth > 0 else -n
            if depth > max_depth:
                raise ParseError(f"brackets nested more than {max_depth} deep", i, text)
            i += 1
        elif ch in _SUPERSCRIPTS:  # x² is x^2, x⁻¹ is x^-1
            j = i
            while j < n and text[j] in _SUPERSCRIPTS:
                j += 1
            run = "".join(_SUPERSCRIPTS[c] for c in text[i:j])
            sign, digits = ("-", run[1:]) if run.startswith("-") else ("", run)
            if not digits or not digits.isdigit() or len(digits) > 3:
                raise ParseError(f"cannot read the exponent '{text[i:j]}'", i, text)
            tokens.append(_Token("op", "^", i, text[i:j]))
            if sign:
                tokens.append(_Token("op", "-", i, text[i:j]))
            tokens.append(_Token("num", sympy.Integer(int(digits)), i, text[i:j]))
            i = j
        else:
            raise ParseError(f"unexpected character {ch!r}" + _HINTS.get(ch, ""), i, text)
    if len(tokens) > max_tokens:
        raise ParseError(f"the answer is too long (more than {max_tokens} symbols)", None, text)
    return tokens


def _check_brackets(tokens: list[_Token], text: str, max_depth: int) -> None:
    """Name the bracket at fault before parsing, so nesting never reaches the recursion; decide
    which '|' opens an absolute value and which closes one (bars never cross brackets)."""
    stack: list[_Token] = []
    levels: list[list[int]] = [[]]  # per open bracket: the indices of its own tokens
    for index, token in enumerate(tokens):
        if token.kind == "open":
            levels[-1].append(index)
            levels.append([])
            stack.append(token)
            if len(stack) > max_depth:
                raise ParseError(f"brackets nested more than {max_depth} deep", token.pos, text)
        elif token.kind == "close":
            if not stack:
                raise ParseError(f"'{token.raw}' has no matching opening bracket", token.pos, text)
            opener = stack.pop()
            if _BRACKETS[opener.raw] != token.raw:
                raise ParseError(f"'{opener.raw}' at character {opener.pos + 1} is closed by "
                                 f"'{token.raw}'", token.pos, text)
            _pair_bars(tokens, levels.pop(), text, max_depth)
        else:
            levels[-1].append(index)
    if stack:
        raise ParseError(f"'{stack[-1].raw}' is never closed", stack[-1].pos, text)
    _pair_bars(tokens, levels.pop(), text, max_depth)


def _pair_bars(tokens: list[_Token], level: list[int], text: str, max_depth: int) -> None:
    """Turn each '|' of one bracket level into an opening or closing bar, in place.

    A bar where an operand is expected opens; after an operand it may close the pending bar or
    open a new factor (2|x|). Every reading is tried at once (bit sets of open-bar counts,
    backwards); a bar that can go both ways (|a|b|c|) is ambiguous and refused by name.
    """
    bars = [i for i in level if tokens[i].kind == "bar"]
    if not bars:
        return
    full = (1 << (max_depth + 1)) - 1
    # after[k] = (E, A): counts of open bars from which the rest of the level, starting with
    # item k, can be read, when an operand is Expected or was just read (After one).
    after: list[tuple[int, int]] = [(1, 1)] * (len(level) + 1)
    for k in range(len(level) - 1, -1, -1):
        expect, done = after[k + 1]
        kind = tokens[level[k]].kind
        if kind == "bar":
            after[k] = (expect >> 1, (expect >> 1) | ((done << 1) & full))
        elif kind in ("op", "comma"):
            after[k] = (expect, expect)
        else:
            after[k] = (done, done)
    if not after[0][0] & 1:
        _explain_bars(tokens, bars, level, text, max_depth)
    opened: list[_Token] = []
    operand_before = False
    for k, index in enumerate(level):
        token = tokens[index]
        if token.kind != "bar":
            operand_before = token.kind not in ("op", "comma")
            continue
        expect, done = after[k + 1]
        can_open = bool(expect >> (len(opened) + 1) & 1)
        can_close = operand_before and bool(opened) and bool(done >> (len(opened) - 1) & 1)
        if can_open and can_close:
            raise ParseError(f"'{token.raw}' could close the '|' at character "
                             f"{opened[-1].pos + 1} or open a new one: write abs(…) or put "
                             "'*' between the factors", token.pos, text)
        if can_close:
            opened.pop()
            tokens[index] = token._replace(kind="close", value="|", raw="|")
            operand_before = True
        else:
            opened.append(token)
            tokens[index] = token._replace(kind="open", value="|", raw="|")
            operand_before = False


def _explain_bars(tokens: list[_Token], bars: list[int], level: list[int], text: str,
                  max_depth: int) -> None:
    """No reading of the bars exists: say which bar is never closed, or nests too deep."""
    opened: list[_Token] = []
    operand_before = False
    for index in level:
        token = tokens[index]
        if token.kind != "bar":
            operand_before = token.kind not in ("op", "comma")
        elif operand_before and opened:
            opened.pop()
        else:
            opened.append(token)
            operand_before = False
            if len(opened) > max_depth:
                raise ParseError(f"absolute value bars nested more than {max_depth} deep",
                                 token.pos, text)
    culprit = opened[0] if opened else tokens[bars[-1]]
    raise ParseError(f"the '{culprit.raw}' at character {culprit.pos + 1} is never closed",
                     culprit.pos, text)


def _check_number(value: sympy.Expr, pos: int | None, text: str) -> sympy.Expr:
    if value.is_Rational and max(abs(value.p).bit_length(), value.q.bit_length()) > MAX_BITS:
        raise ParseError("a number in the answer is too large", pos, text)
    return value


class _RootBudget:
    """sympy factors a number raised to a fraction (2^(1/3)), slowly without gmpy: bound the
    total size of such numbers in one answer, so that no answer takes a second to read."""

    def __init__(self) -> None:
        self.bits = ROOT_BITS

    def spend(self, base: sympy.Expr, exponent: sympy.Expr, pos: int | None, text: str) -> None:
        if not exponent.is_Rational or exponent.is_Integer:
            return
        numbers = base.atoms(sympy.Rational)
        self.bits -= exponent.q * sum(max(abs(r.p).bit_length(), r.q.bit_length())
                                      for r in numbers)
        if self.bits < 0:
            raise ParseError("the numbers under roots in the answer are too large", pos, text)


def _power(base: sympy.Expr, exponent: sympy.Expr, pos: int | None, text: str,
           budget: _RootBudget) -> sympy.Expr:
    """Pow, refusing exponents that would hang sympy (9**9**9**9, (x+1)^100000)."""
    if exponent.has(*_NOT_FINITE):
        raise ParseError("the exponent is undefined (division by zero?)", pos, text)
    if exponent.is_Number:
        if abs(exponent) > MAX_EXPONENT:
            raise ParseError(f"exponent too large (at most {MAX_EXPONENT})", pos, text)
        if base.is_Rational and exponent.is_Rational and base != 0:
            bits = max(abs(base.p).bit_length(), base.q.bit_length())
            if bits * abs(exponent) > MAX_BITS:
                raise ParseError("a number in the answer is too large", pos, text)
        if base.is_zero and exponent.is_negative:
            raise ParseError("division by zero", pos, text)
    budget.spend(base, exponent, pos, text)
    result = sympy.Pow(base, exponent)
    if (isinstance(result, sympy.Pow) and result.exp.is_Number
            and abs(result.exp) > MAX_RESULT_EXPONENT):
        raise ParseError(f"a power in the answer is too high (over {MAX_RESULT_EXPONENT})",
                         pos, text)
    return _check_number(result, pos, text)


def _resolve(name: str, variables: Sequence[str]) -> sympy.Expr | None:
    key = ascii_name(name)
    for var in variables:
        if var == name or ascii_name(var) == key:
            return make_symbol(var)
    return _CONSTANTS.get(name)


def _allowed(variables: Sequence[str]) -> str:
    return (f"allowed: {', '.join(variables) or 'none'}; functions: {functions.listing()}; "
            "constants: e, pi")


def _unknown_name(names: Sequence[str], variables: Sequence[str],
                  function: str | None = None) -> str:
    """Name every unknown name at once, so a student fixes them in one go; a name called like
    a function (foo(x)) is said to be no supported function."""
    others = [name for name in names if name != function]
    parts = []
    if function is not None:
        parts.append(f"'{function}' is not a supported function")
    if others:
        listed = ", ".join(f"'{name}'" for name in others)
        parts.append(f"unknown name{'s' if len(others) > 1 else ''} {listed}")
    message = f"{'; '.join(parts)} ({_allowed(variables)})"
    split = _split_product(ascii_name(others[0]), variables) if len(others) == 1 else None
    if split:
        message += f"; for a product write {' '.join(split)}"
    return message


def _split_product(name: str, variables: Sequence[str]) -> list[str] | None:
    """'xy' with variables x, y is a common slip for x*y: find that reading, if any."""
    best: list[list[str] | None] = [[]] + [None] * len(name)
    for end in range(1, len(name) + 1):
        for var in variables:
            start = end - len(var)
            prefix = best[start] if var and start >= 0 else None
            if prefix is not None and name[start:end] == var:
                best[end] = [*prefix, var]
                break
    return best[-1] if best[-1] and len(best[-1]) > 1 else None


class _Parser:
    """expr := term (('+'|'-') term)*;  term := unary (['*'|'/'] unary)*;
    unary := ('+'|'-') unary | power;  power := primary ['^' unary];
    primary := number | name | function '(' expr (',' expr)* ')' | '(' expr ')' | '|' expr '|'
    (which bar opens and which closes is settled beforehand, by _pair_bars).
    """

    def __init__(self, tokens: list[_Token], text: str, variables: Sequence[str],
                 max_depth: int) -> None:
        self.tokens = [*tokens, _Token("end", None, len(text), "")]
        self.text, self.variables, self.max_depth, self.i = text, variables, max_depth, 0
        self.budget = _RootBudget()

    def fail(self, message: str, pos: int | None) -> ParseError:
        return ParseError(message, pos, self.text)

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> sympy.Expr:
        result = self.expression(0)
        token = self.peek()
        if token.kind == "comma":
            raise self.fail(f"unexpected ',': {_COMMA_HINT}", token.pos)
        if token.kind != "end":
            raise self.fail(f"unexpected '{token.raw}'", token.pos)
        return result

    def expression(self, depth: int) -> sympy.Expr:
        terms = [self.term(depth)]
        while self.peek().kind == "op" and self.peek().value in "+-":
            sign = self.take().value
            term = self.term(depth)
            terms.append(-term if sign == "-" else term)
        return _check_number(sympy.Add(*terms), None, self.text)

    def term(self, depth: int) -> sympy.Expr:
        factors = [self.unary(depth)]
        while True:
            token = self.peek()
            if token.kind == "op" and token.value in "*/":
                self.take()
                factor = self.unary(depth)
                factors.append(factor if token.value == "*" else
                               _power(factor, sympy.Integer(-1), token.pos, self.text,
                                      self.budget))
            elif token.kind in ("num", "name", "open"):  # implicit: 2x, x y, (x+1)(x-1)
                before = self.tokens[self.i - 1]
                if token.kind == "num" and before.kind == "num":
                    raise self.fail(f"missing operator between '{before.raw}' and "
                                    f"'{token.raw}'", token.pos)
                factors.append(self.unary(depth))
            else:
                return _check_number(sympy.Mul(*factors), token.pos, self.text)

    def unary(self, depth: int) -> sympy.Expr:
        if depth > self.max_depth:
            raise self.fail(f"the answer is nested more than {self.max_depth} deep",
                            self.peek().pos)
        token = self.peek()
        if token.kind == "op" and token.value in "+-":
            self.take()
            operand = self.unary(depth + 1)
            return -operand if token.value == "-" else operand
        base = self.primary(depth)
        if self.peek().kind == "op" and self.peek().value == "^":
            caret = self.take()
            return _power(base, self.unary(depth + 1), caret.pos, self.text, self.budget)
        return base

    def primary(self, depth: int) -> sympy.Expr:
        token, before = self.take(), self.tokens[self.i - 2] if self.i >= 2 else None
        if token.kind == "num":
            return token.value
        if token.kind == "open":
            inner = self.group(token, depth)
            return self.call(functions.BY_NAME["abs"], [inner], token) if token.raw == "|" \
                else inner
        if token.kind == "name":
            value = _resolve(token.value, self.variables)
            if value is not None:
                return value
            function = functions.BY_NAME.get(token.value)
            if function is not None:
                opener = self.peek()
                if opener.kind != "open" or opener.raw == "|":
                    raise self.fail(f"function '{token.raw}' needs its argument in brackets, "
                                    f"e.g. {token.raw}(x)", token.pos)
                self.take()
                args, starts = self.arguments(function, token, depth)
                return self.call(function, args, token, starts)
            unknown = dict.fromkeys(t.raw for t in self.tokens if t.kind == "name"
                                    and t.value not in functions.BY_NAME
                                    and _resolve(t.value, self.variables) is None)
            called = self.peek().kind == "open" and self.peek().raw != "|"
            raise self.fail(_unknown_name(list(unknown), self.variables,
                                          token.raw if called else None), token.pos)
        if before is None:
            raise self.fail(f"'{token.raw}' needs something before it", token.pos)
        if token.kind == "end":
            raise self.fail(f"the answer ends with '{before.raw}': something is missing after "
                            "it", before.pos)
        if token.kind == "close":
            if before.kind == "open":
                raise self.fail("empty brackets", before.pos)
            raise self.fail(f"something is missing after '{before.raw}'", before.pos)
        if before.kind in ("op", "comma"):
            raise self.fail(f"two operators in a row: '{before.raw}' then '{token.raw}'",
                            token.pos)
        raise self.fail(f"'{token.raw}' needs something before it", token.pos)

    def arguments(self, function: functions.Function, name: _Token,
                  depth: int) -> tuple[list[sympy.Expr], list[int]]:
        """The comma-separated arguments of a call, up to the closing bracket; a comma too
        many is named where it stands, before its argument is built."""
        low, high = function.arity
        most = functions.MAX_ARGUMENTS if high is None else high
        starts = [self.peek().pos]
        args = [self.expression(depth + 1)]
        while self.peek().kind == "comma":
            comma = self.take()
            if len(args) >= most:
                takes = (f"takes at most {most} arguments" if high is None else
                         f"takes {'one argument' if most == 1 else f'at most {most} arguments'}")
                raise self.fail(f"unexpected ',': '{name.raw}' {takes}, e.g. "
                                f"{function.usage()}", comma.pos)
            starts.append(self.peek().pos)
            args.append(self.expression(depth + 1))
        self.close_group()
        if len(args) < low:
            raise self.fail(f"'{name.raw}' takes at least {low} arguments, e.g. "
                            f"{function.usage()}", name.pos)
        return args, starts

    def call(self, function: functions.Function, args: list[sympy.Expr], name: _Token,
             starts: list[int] | None = None) -> sympy.Expr:
        if function is functions.SQRT:  # through _power, for its limits
            return _power(args[0], sympy.S.Half, name.pos, self.text, self.budget)
        try:
            result = functions.apply(function, args)
        except functions.ArgumentError as error:
            raise self.fail(error.message, (starts or [name.pos])[error.argument]) from None
        except ParseError as error:
            raise self.fail(error.message, name.pos) from None
        if result.has(*_NOT_FINITE):
            raise self.fail(f"'{name.raw}' is undefined there", name.pos)
        return result

    def group(self, opener: _Token, depth: int) -> sympy.Expr:
        inner = self.expression(depth + 1)
        self.close_group()
        return inner

    def close_group(self) -> None:
        closer = self.take()
        if closer.kind == "comma":
            raise self.fail(f"unexpected ',': {_COMMA_HINT}", closer.pos)
        if closer.kind != "close":  # unreachable after _check_brackets; kept as a guard
            raise self.fail(f"unexpected '{closer.raw}'", closer.pos)


def _check_result(expr: sympy.Expr, text: str) -> sympy.Expr:
    if expr.has(*_NOT_FINITE):
        raise ParseError("the answer is undefined (division by zero?)", None, text)
    for power in expr.atoms(sympy.Pow):
        if power.exp.is_Number and abs(power.exp) > MAX_RESULT_EXPONENT:
            raise ParseError(f"a power in the answer is too high (over {MAX_RESULT_EXPONENT})",
                             None, text)
    return expr


def parse_expression(text: str, variables: Sequence[str], *, max_length: int = 2000,
                     max_depth: int = 50, max_tokens: int = 600) -> sympy.Expr:
    """Read a student's answer as a sympy expression in ``variables``, never through eval.

    Raises ParseError (and nothing else) for anything unreadable, unknown or too large.
    """
    if not isinstance(text, str):
        raise ParseError(f"expected text, got {type(text).__name__}")
    if len(text) > max_length:
        raise ParseError(f"the answer is too long ({len(text)} characters; at most {max_length})",
                         None, text[:max_length])
    names = tuple(variables)
    try:
        tokens = _tokenize(text, max_tokens, max_depth)
        if not tokens:
            raise ParseError("the answer is empty", None, text)
        _check_brackets(tokens, text, max_depth)
        return _check_result(_Parser(tokens, text, names, max_depth).parse(), text)
    except ParseError:
        raise
    except RecursionError as error:
        raise ParseError("the answer is nested too deeply", None, text) from error
    except Exception as error:  # a sympy failure on odd input is still a parse failure
        raise ParseError(f"the answer could not be read ({type(error).__name__})",
                         None, text) from error


def _rebuild(node: sympy.Basic, variables: Sequence[str], budget: _RootBudget) -> sympy.Expr:
    """Copy a sympy answer with the checker's real symbols, refusing anything unlisted."""
    if isinstance(node, sympy.Symbol):
        value = _resolve(node.name, variables)
        if value is None:
            raise ParseError(_unknown_name([node.name], variables))
        return value
    if node.is_Number:
        return _check_number(node, None, "")
    if node in (sympy.E, sympy.pi):
        return node
    if isinstance(node, (sympy.Add, sympy.Mul)):
        return node.func(*(_rebuild(arg, variables, budget) for arg in node.args))
    if isinstance(node, sympy.Pow):
        base, exponent = (_rebuild(arg, variables, budget) for arg in node.args)
        return _power(base, exponent, None, "", budget)
    function = functions.of_node(node)
    if function is not None:
        return functions.apply(function, [_rebuild(arg, variables, budget) for arg in node.args])
    raise ParseError(f"'{type(node).__name__}' is not allowed in an answer "
                     f"(functions: {functions.listing()})")


def _from_sympy(value: sympy.Basic, variables: Sequence[str]) -> sympy.Expr:
    if not isinstance(value, sympy.Expr) or getattr(value, "is_Matrix", False):
        raise ParseError(f"expected an expression, got {type(value).__name__}")
    try:
        for count, _ in enumerate(sympy.preorder_traversal(value)):
            if count >= MAX_NODES:
                raise ParseError(f"the expression is too large (more than {MAX_NODES} parts)")
        _check_result(value, "")
        unknown = sorted(s.name for s in value.free_symbols
                         if isinstance(s, sympy.Symbol) and _resolve(s.name, variables) is None)
        if unknown:
            raise ParseError(_unknown_name(unknown, variables))
        return _check_result(_rebuild(value, tuple(variables), _RootBudget()), "")
    except ParseError:
        raise
    except RecursionError as error:
        raise ParseError("the expression is nested too deeply") from error
    except Exception as error:
        raise ParseError(f"the expression could not be read ({type(error).__name__})") from error


def to_expression(value: Any, variables: Sequence[str]) -> sympy.Expr:
    """Any answer a student may hand in (text, number, sympy) as an expression in the
    checker's real symbols, so that answers and references compare like for like."""
    if isinstance(value, bool):
        raise ParseError("expected an expression, got bool")
    if isinstance(value, str):
        return parse_expression(value, variables)
    if isinstance(value, int):
        if value.bit_length() > MAX_BITS:
            raise ParseError("the number is too large")
        return sympy.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParseError(f"expected a finite number, got {value}")
        return sympy.Float(float(value))
    if isinstance(value, Fraction):
        return to_expression(sympy.Rational(value.numerator, value.denominator), variables)
    if isinstance(value, sympy.Basic):
        return _from_sympy(value, variables)
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "shape", ()) == ():
        try:
            item = value.item()
        except Exception as error:
            raise ParseError(f"cannot read {type(value).__name__}") from error
        if isinstance(item, (int, float)):  # bool is an int: refused above on recursion
            return to_expression(item, variables)
    raise ParseError("expected an expression (a string or a sympy expression), "
                     f"got {type(value).__name__}")


def names_used(text: str) -> frozenset[str]:
    """The names ``text`` uses as the parser reads them (variables and functions; a primed
    one as ``sigma'``), for a question that refuses some; empty when the text cannot be read
    (parsing it then says why)."""
    try:
        return frozenset(t.value for t in _tokenize(text, 600, 50) if t.kind == "name")
    except ParseError:
        return frozenset()
