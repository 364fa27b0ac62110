"""What one WHERE / ON conjunct says about tenant columns.

Pure functions over sqlglot nodes: is this side a value the caller chose (parameter,
constant, scope expression, value-position hole)? Is this conjunct an anchor, a tie
between two tenant columns, or a weakened mention (under OR, NOT, `<>`, IS NOT NULL)?
Column resolution is the scope walker's job; it is passed in as `resolve`.
"""
from __future__ import annotations

import re
from typing import Callable, Iterator

from tenantlint.sql.glot import FROM, exp

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


def is_template_hole(node: exp.Expression) -> bool:
    """`{tid}` / `{{ tid }}` left in the text (a template filled elsewhere, a Jinja
    remnant): sqlglot reads it as a struct of one bare name. In a value position it is
    an opaque value, like a recovered hole."""
    node = unwrap(node)
    while isinstance(node, exp.Struct) and len(node.expressions) == 1:
        node = unwrap(node.expressions[0])
        if isinstance(node, exp.Column) and not node.table:
            return True
    return False


def _outer_expr(node: exp.Expression) -> exp.Expression | None:
    """`(SELECT x)` with no FROM is just `x`, evaluated on the outer row."""
    query = node.this if isinstance(node, exp.Subquery) else node
    if isinstance(query, exp.Select) and not query.args.get(FROM) and len(query.expressions) == 1 \
            and not query.args.get("where"):
        return unwrap(query.expressions[0])
    return None


_NOT_VALUE = (exp.Column, exp.Star, exp.Query, exp.Subquery, exp.Window, exp.AggFunc,
              exp.Connector, exp.Not, exp.Predicate)


def _column_free(node: exp.Expression) -> bool:
    """An expression built only from values: `lower(%s)`, `%s + 0`, `COALESCE(%s, 0)`,
    `NULLIF(current_setting('app.tenant_id'), '')::uuid`. No column, no subquery."""
    stack = [node]
    leaves = 0
    while stack:
        cur = stack.pop()
        if is_hole_node(cur) or is_template_hole(cur) or (cur is not node and is_scope_expr(cur)):
            leaves += 1
            continue
        if isinstance(cur, (exp.Placeholder, exp.Parameter, exp.Literal, exp.Null, exp.Boolean)):
            leaves += 1
            continue
        if isinstance(cur, _NOT_VALUE):
            return False
        stack.extend(cur.iter_expressions())
    return leaves > 0


def is_value(node: exp.Expression | None) -> bool:
    """A side of `tenant_col = X` that pins one tenant chosen by the caller."""
    if node is None:
        return False
    node = unwrap(node)
    if isinstance(node, (exp.Placeholder, exp.Parameter, exp.Literal, exp.Null, exp.Boolean)):
        return True
    if isinstance(node, exp.Subquery):  # the scalar subquery is judged as its own scope
        inner = _outer_expr(node)
        return True if inner is None else is_value(inner)
    if is_hole_node(node) or is_scope_expr(node) or is_template_hole(node):
        return True
    return isinstance(node, (exp.Func, exp.Binary, exp.Unary, exp.Case, exp.Interval)) and _column_free(node)


def _values_list(node: exp.Expression | None) -> bool:
    """ANY(...) / IN UNNEST(...) payload: one parameter, or an array of values."""
    if node is None:
        return False
    node = unwrap(node)
    if isinstance(node, (exp.Array, exp.Tuple)):
        return bool(node.expressions) and all(is_value(e) for e in node.expressions)
    if isinstance(node, exp.Unnest):
        return bool(node.expressions) and all(_values_list(e) or is_value(e) for e in node.expressions)
    if isinstance(node, (exp.Func, exp.Binary)) and _column_free(node):
        return True  # `string_to_array(%s, ',')::int[]`
    return isinstance(node, (exp.Placeholder, exp.Parameter)) or is_hole_node(node) or is_template_hole(node)


def _query_values(query: exp.Expression | None) -> bool:
    """`IN (SELECT unnest(%s::int[]))`: a FROM-less SELECT of values only."""
    if isinstance(query, exp.Subquery):
        query = query.this
    if not isinstance(query, exp.Select) or query.args.get(FROM) or query.args.get("where"):
        return False
    return bool(query.expressions) and all(
        is_value(e) or _values_list(e) for e in (unwrap(x) for x in query.expressions))


def conjuncts(node: exp.Expression | None) -> list[exp.Expression]:
    """Top-level AND conjuncts, parentheses removed."""
    if node is None:
        return []
    out: list[exp.Expression] = []
    stack = [node]
    while stack:  # iterative: a 3000-term AND chain must not hit the recursion limit
        cur = stack.pop()
        cur = unwrap(cur) if isinstance(cur, exp.Paren) else cur
        if isinstance(cur, exp.And):
            stack.append(cur.expression)
            stack.append(cur.this)
        elif _row_eq(cur):
            # `(tenant_id, id) = (%s, %s)` is `tenant_id = %s AND id = %s`. The parts are
            # copies: the parsed tree is cached and shared, never re-parented.
            for a, b in zip(unwrap(cur.this).expressions, unwrap(cur.expression).expressions):
                stack.append(type(cur)(this=a.copy(), expression=b.copy()))
        else:
            out.append(cur)
    return out


def _row_eq(node: exp.Expression) -> bool:
    if not isinstance(node, (exp.EQ, exp.NullSafeEQ)):
        return False
    left, right = unwrap(node.this), unwrap(node.expression)
    return (isinstance(left, exp.Tuple) and isinstance(right, exp.Tuple)
            and len(left.expressions) == len(right.expressions) > 0)


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
                         or _values_list(cond.args.get("unnest"))
                         or _query_values(cond.args.get("query"))):
                return occs
        elif isinstance(col_u, exp.Tuple):
            # `(tenant_id, id) IN ((%s, %s), (%s, %s))`: pinned when every row pins it
            width = len(col_u.expressions)
            rows = [unwrap(e) for e in cond.expressions]
            if rows and all(isinstance(r, exp.Tuple) and len(r.expressions) == width for r in rows):
                found = []
                for k, part in enumerate(col_u.expressions):
                    part = unwrap(part)
                    if isinstance(part, exp.Column) and all(is_value(r.expressions[k]) for r in rows):
                        found += resolve(part)
                return found
    if isinstance(cond, exp.Or):
        # `tenant_id = :a OR tenant_id = :b` is `IN (:a, :b)`: every branch pins it.
        left, right = anchored_by(cond.this, resolve), anchored_by(cond.expression, resolve)
        return [o for o in left if any(o is r for r in right)]
    return []


def column_pair(cond: exp.Expression) -> tuple[exp.Column, exp.Column] | None:
    """The two columns of `a.x = b.y`, else None."""
    cond = unwrap(cond)
    if not isinstance(cond, (exp.EQ, exp.NullSafeEQ)):
        return None
    left, right = unwrap(cond.this), unwrap(cond.expression)
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return None
    return left, right


def ties(cond: exp.Expression, resolve: Resolve) -> tuple[list, list] | None:
    """`a.tenant_id = b.tenant_id`: the occurrences on each side, or None."""
    pair = column_pair(cond)
    if pair is None:
        return None
    left, right = pair
    lo, ro = resolve(left), resolve(right)
    if not lo or not ro:
        return None
    return lo, ro


def self_compared(cond: exp.Expression, resolve: Resolve) -> list:
    """Occurrences whose tenant column appears on both sides of an `=` / `IN` / `ANY`:
    `tenant_id = COALESCE(%s, tenant_id)`, `lower(tenant_id) = lower(tenant_id)`,
    `tenant_id IN (%s, tenant_id)`. Some branch compares the column with itself, which
    matches every row."""
    cond = unwrap(cond)
    if isinstance(cond, (exp.EQ, exp.NullSafeEQ)):
        sides = [cond.this], [cond.expression]
    elif isinstance(cond, exp.In):
        sides = [cond.this], [*cond.expressions, *(cond.args.get(k) for k in ("field", "unnest", "query"))]
    else:
        return []

    def refs(nodes) -> dict:
        out = {}
        for node in nodes:
            if node is None:
                continue
            inner = _outer_expr(unwrap(node)) if isinstance(unwrap(node), exp.Subquery) else None
            for col in columns_in(inner if inner is not None else node):
                for occ in resolve(col):
                    out[(id(occ), str(col.name).lower())] = occ
        return out

    left, right = refs(sides[0]), refs(sides[1])
    return list({id(left[k]): left[k] for k in left.keys() & right.keys()}.values())


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
