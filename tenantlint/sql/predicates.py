"""What one WHERE / ON conjunct says about tenant columns.

Pure functions over sqlglot nodes: is this side a value the caller chose (parameter,
constant, scope expression, value-position hole)? Is this conjunct an anchor, a tie
between two tenant columns, or a weakened mention (under OR, NOT, `<>`, IS NOT NULL)?
Column resolution is the scope walker's job; it is passed in as `resolve`.
"""
from __future__ import annotations

import re
from typing import Callable, Iterator

from tenantlint.sql.glot import exp

HOLE_RE = re.compile(r"__tlhole\w*?__", re.I)
SCOPE_FUNCS = frozenset({"current_setting"})


def func_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return ""


def unwrap(node: exp.Expression) -> exp.Expression:
    """Strip parentheses, casts (`::uuid`) and unary minus, which change no scope."""
    while isinstance(node, (exp.Paren, exp.Cast, exp.TryCast, exp.Neg)):
        node = node.this
    return node


def is_hole_name(name: str) -> bool:
    return bool(HOLE_RE.fullmatch(name or ""))


def is_hole_node(node: exp.Expression) -> bool:
    """A bare hole marker: `{x}` filled with an unknown fragment."""
    node = unwrap(node)
    if isinstance(node, exp.Column) and not node.table:
        return is_hole_name(node.name)
    if isinstance(node, (exp.Identifier, exp.Var)):
        return is_hole_name(node.name)
    return False


def is_scope_expr(node: exp.Expression) -> bool:
    """`current_setting('app.tenant_id'[, true])` or a function named for the tenant
    (`app.current_tenant_id()`): the database session supplies the tenant."""
    node = unwrap(node)
    if isinstance(node, exp.Dot):
        node = unwrap(node.expression)
    name = func_name(node)
    return bool(name) and (name in SCOPE_FUNCS or "tenant" in name)


def is_value(node: exp.Expression | None) -> bool:
    """A side of `tenant_col = X` that pins one tenant chosen by the caller."""
    if node is None:
        return False
    node = unwrap(node)
    if isinstance(node, (exp.Placeholder, exp.Parameter, exp.Literal, exp.Null, exp.Boolean)):
        return True
    if isinstance(node, exp.Subquery):  # the scalar subquery is judged as its own scope
        return True
    return is_hole_node(node) or is_scope_expr(node)


def _values_list(node: exp.Expression | None) -> bool:
    """ANY(...) / IN UNNEST(...) payload: one parameter, or an array of values."""
    if node is None:
        return False
    node = unwrap(node)
    if isinstance(node, (exp.Array, exp.Tuple)):
        return bool(node.expressions) and all(is_value(e) for e in node.expressions)
    if isinstance(node, exp.Unnest):
        return bool(node.expressions) and all(_values_list(e) or is_value(e) for e in node.expressions)
    return isinstance(node, (exp.Placeholder, exp.Parameter)) or is_hole_node(node)


def conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    """Top-level AND conjuncts, parentheses removed."""
    if node is None:
        return []
    node = unwrap(node) if isinstance(node, exp.Paren) else node
    if isinstance(node, exp.And):
        return conjuncts(node.this) + conjuncts(node.expression)
    return [node]


def columns_in(node: exp.Expression) -> Iterator[exp.Column]:
    """Columns of a conjunct, not descending into subqueries (they are scopes of their own)."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, exp.Column):
            yield cur
            continue
        if isinstance(cur, (exp.Query, exp.Subquery)):
            continue
        stack.extend(cur.iter_expressions())


Resolve = Callable[[exp.Column], list]  # column -> tenant occurrences it names


def anchored_by(cond: exp.Expression, resolve: Resolve) -> list:
    """Occurrences whose tenant column this conjunct equates to caller-chosen values."""
    cond = unwrap(cond)
    if cond.args.get("negate"):  # sqlglot 30 spells `IS NOT` / `NOT LIKE` as negate=True
        return []
    if isinstance(cond, (exp.EQ, exp.NullSafeEQ)):
        for col, other in ((cond.this, cond.expression), (cond.expression, cond.this)):
            col_u = unwrap(col)
            if not isinstance(col_u, exp.Column):
                continue
            occs = resolve(col_u)
            if not occs:
                continue
            other_u = unwrap(other)
            if is_value(other_u) or (isinstance(other_u, exp.Any) and _values_list(other_u.this)):
                return occs
    if isinstance(cond, exp.In):
        col_u = unwrap(cond.this)
        if isinstance(col_u, exp.Column):
            occs = resolve(col_u)
            items = cond.expressions
            if occs and ((items and all(is_value(e) for e in items))
                         or _values_list(cond.args.get("field"))
                         or _values_list(cond.args.get("unnest"))):
                return occs
    if isinstance(cond, exp.Or):
        # `tenant_id = :a OR tenant_id = :b` is `IN (:a, :b)`: every branch pins it.
        left, right = anchored_by(cond.this, resolve), anchored_by(cond.expression, resolve)
        return [o for o in left if any(o is r for r in right)]
    return []


def ties(cond: exp.Expression, resolve: Resolve) -> tuple[list, list] | None:
    """`a.tenant_id = b.tenant_id`: the occurrences on each side, or None."""
    cond = unwrap(cond)
    if not isinstance(cond, (exp.EQ, exp.NullSafeEQ)):
        return None
    left, right = unwrap(cond.this), unwrap(cond.expression)
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return None
    lo, ro = resolve(left), resolve(right)
    if not lo or not ro:
        return None
    return lo, ro


def weakening(col: exp.Column, root: exp.Expression) -> str:
    """The construct between a tenant column and the conjunct root that stops it from
    pinning a tenant: 'OR', 'NOT', '<>', 'IS NOT NULL', or '' when there is none."""
    node = col
    while node is not None and node is not root.parent:
        parent = node.parent
        if isinstance(node, exp.Or):
            return "OR"
        if isinstance(node, (exp.NEQ, exp.NullSafeNEQ)):
            return "<>"
        if isinstance(node, exp.Not) or node.args.get("negate"):
            inner = unwrap(node.this) if isinstance(node, exp.Not) else node
            if isinstance(inner, exp.Is) and isinstance(unwrap(inner.expression), exp.Null):
                return "IS NOT NULL"
            return "NOT"
        if node is root:
            break
        node = parent
    return ""
