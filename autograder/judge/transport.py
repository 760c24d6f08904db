"""Answers leave the student's process as plain data and are rebuilt by the grader.

A sympy expression travels as a tree of whitelisted node names; the grader rebuilds it with
constructors only, so nothing the student's process sends can run code in the grader, and an
object whose ``__eq__`` always says True arrives as what it really is: not an answer.

sympy is imported only where an expression is encoded or decoded: in the student's process a
sympy object exists only where the notebook imported sympy itself, so a notebook that does not
is graded in a process that never imports it.
"""

from __future__ import annotations

import math
import numbers
import sys
from typing import TYPE_CHECKING, Any

from autograder.errors import ParseError

if TYPE_CHECKING:
    import sympy

MAX_DEPTH = 60
MAX_ITEMS = 10_000


class _Budget:
    def __init__(self) -> None:
        from autograder.judge.parsing import MAX_NODES

        self.nodes = 0
        self.most = MAX_NODES

    def spend(self, depth: int) -> None:
        self.nodes += 1
        if self.nodes > self.most:
            raise ParseError(f"the expression has more than {self.most} parts")
        if depth > MAX_DEPTH:
            raise ParseError(f"the expression is nested more than {MAX_DEPTH} deep")


def _encode_expr(expr: sympy.Basic, budget: _Budget, depth: int = 0) -> Any:
    import sympy

    from autograder.judge import functions

    budget.spend(depth)
    if expr.is_Symbol:
        return {"sym": expr.name}
    if expr.is_Integer:
        return {"int": str(int(expr))}
    if expr.is_Rational:
        return {"rat": [str(int(expr.p)), str(int(expr.q))]}
    if expr.is_Float:
        return {"float": repr(float(expr))}
    if expr in (sympy.E, sympy.pi):
        return {"const": str(expr)}
    if expr.is_Add or expr.is_Mul or expr.is_Pow:
        op = "Add" if expr.is_Add else "Mul" if expr.is_Mul else "Pow"
    elif (function := functions.of_node(expr)) is not None:
        op = function.transport
    else:
        raise ParseError(f"{type(expr).__name__} is not allowed in an answer")
    return {"op": op, "args": [_encode_expr(a, budget, depth + 1) for a in expr.args]}


def encode(value: Any) -> dict[str, Any]:
    """Runs in the student's process: the answer as JSON-able data, or the reason it is not."""
    try:
        if isinstance(value, str):
            return {"type": "text", "text": value[:20_000]}
        if isinstance(value, bool) or value is None:
            return {"type": "unsupported", "what": type(value).__name__}
        sympy = sys.modules.get("sympy")  # a sympy object exists only where it was imported
        if sympy is not None and isinstance(value, sympy.Basic):
            if not isinstance(value, sympy.Expr):
                return {"type": "unsupported", "what": type(value).__name__}
            return {"type": "expr", "tree": _encode_expr(value, _Budget())}
        if isinstance(value, numbers.Number) and not isinstance(value, complex):
            return {"type": "number", "value": _float(value)}
        if hasattr(value, "tolist") or isinstance(value, (list, tuple)):
            items = value.tolist() if hasattr(value, "tolist") else value
            if not isinstance(items, (list, tuple)):
                return {"type": "number", "value": _float(items)}
            return {"type": "array", "value": _flat(items)}
        return {"type": "unsupported", "what": type(value).__name__}
    except ParseError as error:
        return {"type": "unsupported", "what": error.message}
    except Exception as error:  # noqa: BLE001 -- student objects may raise anything
        return {"type": "unsupported", "what": f"{type(error).__name__} while reading it"}


def _float(value: Any) -> float | str:
    number = float(value)
    return number if math.isfinite(number) else repr(number)


def _flat(items: Any, out: list | None = None) -> list:
    out = [] if out is None else out
    for item in items:
        if isinstance(item, (list, tuple)):
            _flat(item, out)
        elif isinstance(item, bool):  # flags: True/False are read as 1/0
            out.append(float(item))
        elif not isinstance(item, numbers.Real):
            raise ParseError(f"a list entry is a {type(item).__name__}, not a number")
        else:
            out.append(_float(item))
        if len(out) > MAX_ITEMS:
            raise ParseError(f"more than {MAX_ITEMS} numbers")
    return out


def _decode_expr(node: Any, budget: _Budget, depth: int = 0) -> sympy.Expr:
    import sympy

    from autograder.judge import functions
    from autograder.judge.parsing import make_symbol

    budget.spend(depth)
    if not isinstance(node, dict) or len(node) not in (1, 2):
        raise ParseError("malformed expression data")
    if "sym" in node:
        return make_symbol(str(node["sym"]))
    if "int" in node:
        text = str(node["int"])
        if len(text) > 100:
            raise ParseError("a number in the answer is too long")
        return sympy.Integer(int(text))
    if "rat" in node:
        p, q = (str(t) for t in node["rat"])
        if len(p) > 100 or len(q) > 100:
            raise ParseError("a number in the answer is too long")
        return sympy.Rational(int(p), int(q))
    if "float" in node:
        return sympy.Float(float(node["float"]))
    if "const" in node:
        constants = {"E": sympy.E, "pi": sympy.pi}
        if node["const"] not in constants:
            raise ParseError("unknown constant")
        return constants[node["const"]]
    op, args = node.get("op"), node.get("args")
    if not isinstance(args, list):
        raise ParseError("malformed expression data")
    built = [_decode_expr(a, budget, depth + 1) for a in args]
    if op == "Add":
        return sympy.Add(*built)
    if op == "Mul":
        return sympy.Mul(*built)
    if op == "Pow" and len(built) == 2:
        base, exponent = built
        if exponent.is_Integer and abs(int(exponent)) > 1000:
            raise ParseError("an exponent in the answer is too large")
        if base.is_Number and exponent.is_Number:
            return sympy.Pow(base, exponent, evaluate=False)
        return sympy.Pow(base, exponent)
    if isinstance(op, str) and op in functions.BY_TRANSPORT:
        return functions.apply(functions.BY_TRANSPORT[op], built)
    raise ParseError(f"{op!r} is not allowed in an answer")


def decode(data: Any) -> Any:
    """Runs in the grader: rebuild the answer from data; ParseError when it is not one.

    The data comes from a process the student controls (it can write to the pipe), so any
    malformed input is a ParseError, never another exception."""
    try:
        return _decode(data)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError,
            ZeroDivisionError) as error:
        raise ParseError(f"malformed answer data ({type(error).__name__})") from None


def _decode(data: Any) -> Any:
    if not isinstance(data, dict):
        raise ParseError("malformed answer data")
    kind = data.get("type")
    if kind == "text":
        return str(data["text"])
    if kind == "expr":
        return _decode_expr(data["tree"], _Budget())
    if kind == "number":
        return float(data["value"])
    if kind == "array":
        return [float(v) for v in data["value"]]
    if kind == "unsupported":
        raise ParseError(f"the answer is a {data.get('what', 'value')} that cannot be graded")
    raise ParseError("malformed answer data")
