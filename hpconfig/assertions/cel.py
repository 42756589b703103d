"""CEL expressions of rules: compiled once, bounded in cost, evaluated over one control.

Owns the choice of CEL implementation and the bounds that make an expression from a pull request
safe to run. Two implementations exist on PyPI, and ``benchmarks/check_bench.py`` measures
both: ``cel-expr-python`` (Google's C++ runtime, cel-cpp, on Python 3.11+; 18x faster per
evaluation, measured) is used when it is installed, ``cel-python`` (pure Python, ``celpy``)
otherwise (Python 3.10). Both are behind ``Expression``, so the rest of hpconfig never sees either.

The bounds, checked on the text before any CEL parser sees it (``bound_problem``):

- at most ``MAX_LENGTH`` characters, and brackets nested at most ``MAX_NESTING`` deep (a
  parser's recursion, and the C stack, stay small);
- comprehensions (``all``, ``exists``, ``exists_one``, ``map``, ``filter``) do not nest: one
  comprehension over a list costs the list's length, two nested cost its square. With the
  length bound, one evaluation takes at most a few thousand steps over a control's bounded
  fields (every string an expression sees is cut to ``MAX_STRING`` characters by ``bind``),
  so no expression can hang or swell a run.

An evaluation error (a missing field, a type mismatch, a bad regular expression) is
``CelEvaluationError``, which the caller turns into an ``error`` result for that control alone.
Pure: no files, no network, no printing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

MAX_LENGTH = 1000
MAX_NESTING = 12
# Characters of one string an expression sees (``bind`` cuts longer ones): cel-cpp keeps every
# intermediate value of an evaluation, so the memory of ``+`` chains in a comprehension grows
# with the strings' length, and an identifier or id from Hyperproof has no bound of its own.
MAX_STRING = 1000
COMPREHENSIONS = ("all", "exists", "exists_one", "map", "filter")
VARIABLE = "control"  # the one variable an expression sees: the control's fields

BACKEND_COMPILED = "cel-expr-python"
BACKEND_PURE = "cel-python"


class CelSyntaxError(ValueError):
    """An expression that does not compile or passes a bound; ``column`` is 1-based (0: none)."""

    def __init__(self, message: str, column: int = 0) -> None:
        super().__init__(message)
        self.column = column


class CelEvaluationError(ValueError):
    """An expression failed on one control (a missing field, a type mismatch...)."""


# Only brackets, member calls and strings matter for the bounds: a bracket inside a string or a
# comment is text. Strings are read as CEL reads them (raw ones have no escapes), and a string
# this scan cannot read is refused, so nothing can hide code from it.
_IDENT = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_PREFIXES = {"r", "b", "rb", "br"}
_OPEN, _CLOSE = "([{", ")]}"


def _string_end(text: str, start: int, prefix: str) -> int:
    """The index after the string literal whose quote is at ``start``; -1 when not closed."""
    quote, raw = text[start], "r" in prefix.lower()
    if text.startswith(quote * 3, start):
        index = start + 3
        while index < len(text):
            if text[index] == "\\" and not raw:
                index += 2
            elif text.startswith(quote * 3, index):
                return index + 3
            else:
                index += 1
        return -1
    index = start + 1
    while index < len(text):
        char = text[index]
        if char in "\r\n":
            return -1
        if char == "\\" and not raw:
            index += 2
        elif char == quote:
            return index + 1
        else:
            index += 1
    return -1


def bound_problem(text: str) -> tuple[str, int] | None:
    """Why ``text`` is refused before compiling (message, 1-based column), or None."""
    if len(text) > MAX_LENGTH:
        return f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed", 0
    depth = 0
    # The bracket depth at which each open comprehension's argument list starts.
    comprehensions: list[int] = []
    previous = ""  # the last character that is neither blank nor in a comment
    index = 0
    while index < len(text):
        char = text[index]
        if char in _BLANK or text.startswith("//", index):
            index = _skip_blank(text, index)
            continue
        ident = _IDENT.match(text, index)
        if ident:
            name, index = ident.group(), ident.end()
            if name.lower() in _PREFIXES and text[index : index + 1] in ("'", '"'):
                end = _string_end(text, index, name)  # r"...", b'...': a prefixed literal
                if end < 0:
                    return "a string literal is not closed", index + 1
                index, previous = end, text[end - 1]
                continue
            after_dot, previous = previous == ".", name[-1]
            # CEL reads a comment or any blank (a form feed too) between `.`, the name and
            # `(` as space: `[1].//\nall\f(...)` is still a member call.
            follows = text[_skip_blank(text, index) :]
            if name in COMPREHENSIONS and follows.startswith("(") and after_dot:
                if comprehensions:
                    return (
                        f"comprehensions may not nest ({name} inside another): their cost "
                        "multiplies; split the rule in two",
                        ident.start() + 1,
                    )
                comprehensions.append(depth + 1)
            continue
        if char in "\"'":
            end = _string_end(text, index, "")
            if end < 0:
                return "a string literal is not closed", index + 1
            index, previous = end, char
            continue
        previous = char
        if char in _OPEN:
            depth += 1
            if depth > MAX_NESTING:
                return f"brackets nest deeper than {MAX_NESTING} levels", index + 1
        elif char in _CLOSE:
            if comprehensions and comprehensions[-1] == depth:
                comprehensions.pop()
            depth = max(depth - 1, 0)
        index += 1
    return None


# CEL's whitespace is [ \t\n\f\r]; \v too, to be safe (the parsers refuse it).
_BLANK = frozenset(" \t\n\f\r\v")


def _skip_blank(text: str, index: int) -> int:
    """The index of the next character that is neither blank nor in a ``//`` comment."""
    while index < len(text):
        if text[index] in _BLANK:
            index += 1
        elif text.startswith("//", index):
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        else:
            break
    return index


_LOCATED = re.compile(r"<input>:(\d+):(\d+): (.*?)(?:\n|$)")


def _compile_message(raw: str) -> tuple[str, int]:
    """cel-cpp's ``INVALID_ARGUMENT: ERROR: <input>:1:9: Syntax error: ...`` → message, column."""
    match = _LOCATED.search(raw)
    if match is None:
        return raw.strip().splitlines()[0] if raw.strip() else "does not compile", 0
    line, column = int(match.group(1)), int(match.group(2))
    return match.group(3).strip(), column if line == 1 else 0


@dataclass(frozen=True)
class _Backend:
    name: str
    compile: Callable[[str], Any]  # text → a program, or CelSyntaxError
    bind: Callable[[Mapping[str, Any]], Any]  # a control's record → what evaluate takes
    evaluate: Callable[[Any, Any], Any]  # (program, bound) → a Python value, or CelEvaluationError


@cache
def _compiled_backend() -> _Backend:
    from cel_expr_python import cel

    env = cel.NewEnv(variables={VARIABLE: cel.Type.DYN})

    def compile_(text: str) -> Any:
        try:
            return env.compile(text)
        except RuntimeError as error:
            raise CelSyntaxError(*_compile_message(str(error))) from None

    def evaluate(program: Any, bound: Any) -> Any:
        try:
            value = program.eval(bound)
        except (RuntimeError, ValueError, TypeError, OverflowError) as error:
            raise CelEvaluationError(f"{type(error).__name__}: {error}") from None
        if value.type() == cel.Type.ERROR:
            raise CelEvaluationError(str(value.value()))
        return value.plain_value()

    return _Backend(
        BACKEND_COMPILED, compile_, lambda record: env.Activation(dict(record)), evaluate
    )


@cache
def _pure_backend() -> _Backend:
    import celpy
    from celpy import celtypes
    from celpy.adapter import json_to_cel
    from celpy.celparser import CELParseError
    from celpy.evaluation import CELEvalError

    env = celpy.Environment()
    functions = {"matches": _quiet_matches()}

    def compile_(text: str) -> Any:
        try:
            return env.program(env.compile(text), functions=functions)
        except CELParseError as error:
            column = getattr(error, "column", 0) or 0
            first = str(error.args[0]).splitlines()[0] if error.args else "syntax error"
            raise CelSyntaxError(f"Syntax error: {first}", int(column)) from None

    def bind(record: Mapping[str, Any]) -> Any:
        return {name: json_to_cel(value) for name, value in record.items()}

    def evaluate(program: Any, bound: Any) -> Any:
        try:
            value = program.evaluate(bound)
        except CELEvalError as error:
            raise CelEvaluationError(str(error.args[0]) if error.args else "error") from None
        except (RecursionError, ValueError, TypeError, ArithmeticError) as error:
            raise CelEvaluationError(f"{type(error).__name__}: {error}") from None
        if isinstance(value, CELEvalError):
            raise CelEvaluationError(str(value.args[0]) if value.args else "error")
        if isinstance(value, celtypes.BoolType):
            return bool(value)
        return value

    return _Backend(BACKEND_PURE, compile_, bind, evaluate)


def _quiet_matches() -> Callable[[Any, Any], Any]:
    """celpy's ``matches`` with RE2 told not to log: by default it writes a pattern that does
    not compile to the process's stderr, past hpconfig's output path, and a pattern comes from
    a pull request or from Hyperproof's data."""
    import re2
    from celpy import celtypes
    from celpy.evaluation import CELEvalError

    options = re2.Options()
    options.log_errors = False
    options.max_mem = 8 << 20  # bytes of one compiled pattern; RE2's default, said here

    def matches(text: Any, pattern: Any) -> Any:
        try:
            found = re2.compile(str(pattern), options).search(str(text))
        except re2.error as error:
            return CELEvalError("match error", error.__class__, error.args)
        return celtypes.BoolType(found is not None)

    return matches


_BACKENDS = {BACKEND_COMPILED: _compiled_backend, BACKEND_PURE: _pure_backend}


def available_backends() -> list[str]:
    """The implementations importable here, the preferred first."""
    found = []
    for name, make in _BACKENDS.items():
        try:
            make()
        except ImportError:
            continue
        found.append(name)
    return found


@cache
def default_backend() -> str:
    names = available_backends()
    if not names:  # pragma: no cover - a dependency of the package is missing
        raise ImportError("no CEL implementation is installed: pip install cel-expr-python")
    return names[0]


@dataclass(frozen=True)
class Expression:
    """One compiled expression; ``evaluate`` over a control bound once with ``bind``."""

    text: str
    backend: str
    program: Any

    def evaluate(self, bound: Any) -> Any:
        return _BACKENDS[self.backend]().evaluate(self.program, bound)


def _cut(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_STRING]
    if isinstance(value, Mapping):
        return {key: _cut(item) for key, item in value.items()}
    return value


def bind(record: Mapping[str, Any], backend: str | None = None) -> Any:
    """A control's record, converted once for every expression that looks at it; each string
    cut to ``MAX_STRING`` characters, so that no value from Hyperproof makes one swell."""
    return _BACKENDS[backend or default_backend()]().bind({VARIABLE: _cut(record)})


def compile_expression(text: str, backend: str | None = None) -> Expression:
    """Check the bounds, then compile; CelSyntaxError says what and where."""
    refused = bound_problem(text)
    if refused is not None:
        raise CelSyntaxError(*refused)
    name = backend or default_backend()
    return Expression(text, name, _BACKENDS[name]().compile(text))
