"""A view's class-level query judged through the get_queryset() it inherits from a project
base class or mixin, in this module or another (SPEC "Django REST framework": the
class-level `queryset` is scoped only when get_queryset() narrows it by tenant).

The catalog gives each class the get_queryset() methods of its project lineage, nearest
first (tenantlint.discover.view_querysets). The nearest one is what runs: it is followed
with `self.queryset` holding the class-level query and `super().get_queryset()` holding
what the next one returns; past the project's classes, the framework's own returns the
class-level query unchanged (a base outside the project gives no credit). A method that
does not start from the class-level query replaces it: that query never runs. A method
whose text cannot be read gives no credit either."""
from __future__ import annotations

import ast
from functools import lru_cache
from typing import Callable

from tenantlint.orm.common import call_name
from tenantlint.orm.state import State

Chain = tuple[tuple[str, str, int, str], ...]  # ((qualified owner, path, first line, source), ...)
# (method, {held name: states}) -> (states it returns, states it consumed otherwise)
Run = Callable[[ast.FunctionDef, dict], tuple[frozenset[State], frozenset[State]]]
_DEPTH = 8


@lru_cache(maxsize=512)
def parsed(source: str, line: int = 1) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The method, with the line numbers it has in its file."""
    try:
        body = ast.parse(source).body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if body and line > 1:
        ast.increment_lineno(body[0], line - 1)
    fn = body[0] if len(body) == 1 else None
    return fn if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else None


def through(chain: Chain, states: frozenset[State], run: Run, self_name, depth: int = 0) \
        -> tuple[frozenset[State], frozenset[State]] | None:
    """(what the first method of `chain` returns of the class-level query `states`, what
    it and the methods it runs consumed of it otherwise: executed, passed on), or None
    when one of them cannot be read."""
    if not chain:
        return states, frozenset()
    _owner, path, line, source = chain[0]
    fn = parsed(source, line)
    if fn is None or depth > _DEPTH:
        return None
    below = through(chain[1:], states, run, self_name, depth + 1)
    if below is None:
        return None
    me = self_name(fn)
    held = {f"{me}.queryset": states, "super().get_queryset()": below[0]} if me else {}
    roots = {id(s.root) for s in states}
    returned, consumed = run(fn, held)
    deeper = below[1] if calls_super(fn) else frozenset()
    known = {b for s in (*states, *below[0]) for b in s.by}
    return (frozenset(_located(s, known, path) for s in returned if id(s.root) in roots),
            deeper | frozenset(_located(s, known, path) for s in consumed if id(s.root) in roots))


def _located(state: State, known: set, path: str) -> State:
    """What scoped the query in the inherited method is in that method's file (`tenantlint
    why`: the trace's reasons name their file, "" being the one checked)."""
    by = tuple((reason, path, line) if (reason, where, line) not in known and not where else (reason, where, line)
               for reason, where, line in state.by)
    return state.derive(by=by) if by != state.by else state


def calls_super(fn) -> bool:
    """Does a get_queryset() start from the inherited one (`super().get_queryset()`)?"""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get_queryset" and
               isinstance(n.func.value, ast.Call) and call_name(n.func.value.func) == "super" for n in ast.walk(fn))
