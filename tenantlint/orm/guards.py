"""Rows checked against the tenant before any use (SPEC "Across functions", rule 6).

    obj = Report.objects.get(pk=pk)
    if obj is None or obj.team_id != request.team.id:
        raise Http404

The row was loaded by id alone, but nothing of it is used before the check, and the
check leaves the function: the load is scoped. A check that only logs or reassigns
(does not leave), or that comes after the row was used, scopes nothing. Which attribute
is the tenant's is the model's business: this module only says which attributes a
leaving check compares (the flow matches them against the model's tenant columns)."""
from __future__ import annotations

import ast

from tenantlint.names import child_statements

_LEAVE_CALLS = ("abort", "deny", "forbid", "not_found", "permission_denied", "raise_")


def guarded_assignments(body: list[ast.stmt]) -> dict[int, frozenset[str]]:
    """id(assignment) -> attributes of the assigned row that a leaving check compares
    before any other use of it."""
    out: dict[int, frozenset[str]] = {}
    stack = [body]
    while stack:
        stmts = stack.pop()
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            children = child_statements(stmt)
            if children:
                for attr in ("body", "orelse", "finalbody"):
                    block = getattr(stmt, attr, None)
                    if block:
                        stack.append(block)
                for handler in getattr(stmt, "handlers", ()) or ():
                    stack.append(handler.body)
                for case in getattr(stmt, "cases", ()) or ():
                    stack.append(case.body)
                continue
            name = _assigned_name(stmt)
            if name is None:
                continue
            attrs = _checked_before_use(name, stmts[i + 1:])
            if attrs:
                out[id(stmt)] = attrs
    return out


def _assigned_name(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
        return stmt.targets[0].id if isinstance(value, ast.Call) else None
    return None


def _checked_before_use(name: str, rest: list[ast.stmt]) -> frozenset[str]:
    for stmt in rest:
        if not _mentions(stmt, name):
            continue
        if not isinstance(stmt, ast.If) or not _leaves(stmt.body):
            return frozenset()
        compared, other_use = _comparisons(stmt.test, name)
        if other_use:
            return frozenset()
        if compared:
            return frozenset(compared)
        # `if obj is None: raise` first: the tenant check may follow.
    return frozenset()


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _leaves(body: list[ast.stmt]) -> bool:
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Raise, ast.Return, ast.Continue, ast.Break)):
        return True
    if isinstance(last, ast.Expr):
        value = last.value.value if isinstance(last.value, ast.Await) else last.value
        if isinstance(value, ast.Call):
            func = value.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            return any(word in called.lower() for word in _LEAVE_CALLS)
    return False


def _comparisons(test: ast.expr, name: str) -> tuple[set[str], bool]:
    """(attributes of `name` compared for inequality with something else, whether the
    test uses `name` any other way than that and `name is None` / `not name`)."""
    parts = test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or) else [test]
    compared: set[str] = set()
    for part in parts:
        if not _mentions(part, name):
            continue
        if _is_missing(part, name):
            continue
        if isinstance(part, ast.Compare) and len(part.ops) == 1 and \
                isinstance(part.ops[0], (ast.NotEq, ast.IsNot, ast.NotIn)):
            sides = [part.left, part.comparators[0]]
            mine = [s for s in sides if _attr_of(s, name)]
            others = [s for s in sides if not _attr_of(s, name)]
            if len(mine) == 1 and len(others) == 1 and not _mentions(others[0], name):
                compared.add(_attr_of(mine[0], name))
                continue
        return compared, True
    return compared, False


def _is_missing(node: ast.expr, name: str) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return isinstance(node.operand, ast.Name) and node.operand.id == name
    return isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.Eq)) and \
        isinstance(node.left, ast.Name) and node.left.id == name and \
        isinstance(node.comparators[0], ast.Constant) and node.comparators[0].value is None


def _attr_of(node: ast.expr, name: str) -> str:
    """`team_id` for `obj.team_id`, `team` for `obj.team.id` / `obj.team_id`."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name:
        return node.attr.lower()
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
        inner = node.value
        if isinstance(inner.value, ast.Name) and inner.value.id == name and node.attr in ("id", "pk"):
            return inner.attr.lower()
    return ""
