"""Student text to sympy without ``eval``: a tokenizer and a recursive-descent parser.

sympy's ``sympify``/``parse_expr`` end in Python's ``eval``, so feeding them an answer would run
the student's code. Here every sympy object is built by an explicit constructor from a whitelist
of names, and sizes are checked before any real work so hostile input is refused fast. Every
failure is a :class:`ParseError` that says what is wrong and where.
"""

from __future__ import annotations

import functools
import math
import string
import unicodedata
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import sympy
from sympy.core.function import AppliedUndef

from autograder.errors import ParseError

MAX_DIGITS = 30  # digits in one numeric literal
MAX_LITERAL_EXPONENT = 300  # n in a literal like 1e-n
MAX_EXPONENT = 100  # |n| in a power x^n with a numeric n as written
MAX_RESULT_EXPONENT = 1000  # |n| after sympy merges powers, e.g. x^100 * x^100
MAX_BITS = 10_000  # size of any exact number built on the way (about 3000 digits)
ROOT_BITS = 2048  # total size of the numbers under roots: sympy factors them, slowly
MAX_NODES = 5000  # size of a sympy object handed to to_expression


def _logistic(arg: sympy.Expr) -> sympy.Expr:
    return sympy.Pow(1 + sympy.exp(-arg), -1)


_FUNCTIONS: dict[str, Callable[[sympy.Expr], sympy.Expr]] = {
    "exp": sympy.exp, "sqrt": sympy.sqrt, "log": sympy.log, "ln": sympy.log,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "tanh": sympy.tanh,
    "cosh": sympy.cosh, "sinh": sympy.sinh, "abs": sympy.Abs, "Abs": sympy.Abs,
    "sigmoid": _logistic, "sigma": _logistic, "σ": _logistic,
}
ALLOWED_FUNCTIONS: frozenset[str] = frozenset(_FUNCTIONS)
_LOGISTIC_NAMES = frozenset({"sigmoid", "sigma", "σ"})
_CONSTANTS: dict[str, sympy.Expr] = {"e": sympy.E, "E": sympy.E, "pi": sympy.pi, "π": sympy.pi}
# sympy classes a sympy answer may contain besides Add, Mul, Pow, numbers, e and pi (the
# transport of answers out of a student's process uses the same list).
SYMPY_FUNCTIONS = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.tanh,
                    sympy.cosh, sympy.sinh, sympy.Abs)
_NOT_FINITE = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)

_DIGITS = frozenset(string.digits)
_NAME_START = frozenset(string.ascii_letters + "_")
_NAME_CHARS = _NAME_START | _DIGITS
_OPERATORS = {"+": "+", "-": "-", "−": "-", "–": "-", "*": "*", "×": "*", "·": "*", "⋅": "*",
              "∗": "*", "/": "/", "÷": "/", "^": "^"}
_BRACKETS = {"(": ")", "[": "]"}
_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-", strict=True))
_HINTS = {",": " (a function takes one argument; write a single expression)",
          "=": " (write only the expression, not an equation)",
          ".": " (a '.' may only appear inside a number)",
          "'": " (write the expression without quotes)",
          '"': " (write the expression without quotes)"}


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


def _tokenize(text: str, max_tokens: int) -> list[_Token]:
    """Split ``text`` into tokens, refusing any character outside the grammar."""
    tokens: list[_Token] = []
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
            tokens.append(_Token("name", text[i:j], i, text[i:j]))
            i = j
        elif ch in "σπ":
            tokens.append(_Token("name", ch, i, ch))
            i += 1
        elif text.startswith("**", i):
            tokens.append(_Token("op", "^", i, "**"))
            i += 2
        elif ch in _OPERATORS:
            tokens.append(_Token("op", _OPERATORS[ch], i, ch))
            i += 1
        elif ch in _BRACKETS or ch in _BRACKETS.values():
            tokens.append(_Token("open" if ch in _BRACKETS else "close", ch, i, ch))
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
    """Name the bracket at fault before parsing, so nesting never reaches the recursion."""
    stack: list[_Token] = []
    for token in tokens:
        if token.kind == "open":
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
    if stack:
        raise ParseError(f"'{stack[-1].raw}' is never closed", stack[-1].pos, text)


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
    if name in variables:
        return make_symbol(name)
    return _CONSTANTS.get(name)


def _unknown_name(names: Sequence[str], variables: Sequence[str]) -> str:
    """Name every unknown name at once, so a student fixes them in one go."""
    allowed = ", ".join(variables) or "none"
    functions = ", ".join(sorted(ALLOWED_FUNCTIONS, key=str.lower))
    listed = ", ".join(f"'{name}'" for name in names)
    message = (f"unknown name{'s' if len(names) > 1 else ''} {listed} (allowed: {allowed}; "
               f"functions: {functions}; constants: e, pi)")
    parts = _split_product(names[0], variables) if len(names) == 1 else None
    if parts:
        message += f"; for a product write {' '.join(parts)}"
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
    primary := number | name | function '(' expr ')' | '(' expr ')'.
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
            return self.group(token, depth)
        if token.kind == "name":
            value = _resolve(token.value, self.variables)
            if value is not None:
                return value
            if token.value in _FUNCTIONS:
                if self.peek().kind != "open":
                    raise self.fail(f"function '{token.value}' needs its argument in brackets, "
                                    f"e.g. {token.value}(x)", token.pos)
                arg = self.group(self.take(), depth)
                if token.value == "sqrt":  # through _power, for its limits
                    return _power(arg, sympy.S.Half, token.pos, self.text, self.budget)
                result = _FUNCTIONS[token.value](arg)
                if result.has(*_NOT_FINITE):
                    raise self.fail(f"'{token.value}' is undefined there", token.pos)
                return result
            unknown = dict.fromkeys(t.value for t in self.tokens if t.kind == "name"
                                    and t.value not in _FUNCTIONS
                                    and _resolve(t.value, self.variables) is None)
            raise self.fail(_unknown_name(list(unknown), self.variables), token.pos)
        if before is None:
            raise self.fail(f"'{token.raw}' needs something before it", token.pos)
        if token.kind == "end":
            raise self.fail(f"the answer ends with '{before.raw}': something is missing after "
                            "it", before.pos)
        if token.kind == "close":
            if before.kind == "open":
                raise self.fail("empty brackets", before.pos)
            raise self.fail(f"something is missing after '{before.raw}'", before.pos)
        if before.kind == "op":
            raise self.fail(f"two operators in a row: '{before.raw}' then '{token.raw}'",
                            token.pos)
        raise self.fail(f"'{token.raw}' needs something before it", token.pos)

    def group(self, opener: _Token, depth: int) -> sympy.Expr:
        inner = self.expression(depth + 1)
        closer = self.take()
        if closer.kind != "close":  # unreachable after _check_brackets; kept as a guard
            raise self.fail(f"'{opener.raw}' is never closed", opener.pos)
        return inner


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
        tokens = _tokenize(text, max_tokens)
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
    if isinstance(node, AppliedUndef) and node.func.__name__ in _LOGISTIC_NAMES:
        if len(node.args) != 1:
            raise ParseError(f"'{node.func.__name__}' takes one argument")
        return _logistic(_rebuild(node.args[0], variables, budget))
    if isinstance(node, (sympy.Add, sympy.Mul)):
        return node.func(*(_rebuild(arg, variables, budget) for arg in node.args))
    if isinstance(node, sympy.Pow):
        base, exponent = (_rebuild(arg, variables, budget) for arg in node.args)
        return _power(base, exponent, None, "", budget)
    if isinstance(node, SYMPY_FUNCTIONS) and len(node.args) == 1:
        return node.func(_rebuild(node.args[0], variables, budget))
    functions = ", ".join(sorted(ALLOWED_FUNCTIONS, key=str.lower))
    raise ParseError(f"'{type(node).__name__}' is not allowed in an answer "
                     f"(functions: {functions})")


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
