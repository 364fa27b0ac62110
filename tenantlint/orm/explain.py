"""Hints for the decision trace (`tenantlint why`) about an unscoped ORM query: the
project calls it is handed to, which the checker does not read as scoping it (a
helper that adds the tenant filter is a scope provider, or is judged through its
summary). Computed only when tracing."""
from __future__ import annotations

import ast

from tenantlint.orm.common import call_name


def handed_to(module: ast.Module, node: ast.AST) -> list[tuple[str, int]]:
    """(callee, line) for each call in `node`'s function that takes, as an argument, a
    variable assigned from an expression containing `node`."""
    func = _enclosing(module, node)
    if func is None:
        return []
    names = set()
    for stmt in ast.walk(func):
        if isinstance(stmt, ast.Assign) and _contains(stmt.value, node):
            names |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    out = []
    for call in ast.walk(func):
        if isinstance(call, ast.Call) and not _contains(call, node) and any(
                isinstance(a, ast.Name) and a.id in names for a in [*call.args, *(k.value for k in call.keywords)]):
            name = call_name(call.func)
            if name and name not in _ORM_WORDS:
                out.append((ast.unparse(call.func), call.lineno))
    return out[:3]


_ORM_WORDS = frozenset({"execute", "scalars", "scalar", "list", "len", "print", "get", "all", "first", "one",
                        "scalar_one", "scalar_one_or_none", "one_or_none", "exec", "stream", "paginate"})


def _enclosing(module: ast.Module, node: ast.AST):
    best = None
    for candidate in ast.walk(module):
        if isinstance(candidate, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                candidate.lineno <= node.lineno <= (candidate.end_lineno or candidate.lineno):
            if best is None or candidate.lineno >= best.lineno:
                best = candidate
    return best


def _contains(tree: ast.AST, node: ast.AST) -> bool:
    return any(child is node for child in ast.walk(tree))
