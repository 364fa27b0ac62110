"""Which query parameters a SQL text binds to a tenant column.

`WHERE store_id = :sid`, `o.store_id IN %(ids)s`, `tenant_id = ANY($1)`, and
`UPDATE ... SET store_id = ?` all take the tenant from the parameter: the rule for
tenant values from the request (TL601) then asks where that parameter's value comes
from. A parameter is returned by name (`sid` for `:sid` and `%(sid)s`) or by position
(1-based, for `%s`, `$1` and `?`)."""
from __future__ import annotations

from functools import lru_cache

from tenantlint.sql.glot import error_types, exp, parse_expression
from tenantlint.sql.normalize import normalize_placeholders
from tenantlint.sql.predicates import unwrap

_POSITIONAL = ("tlp_", "tlq_")


@lru_cache(maxsize=512)
def tenant_parameters(text: str, tenant_columns: frozenset[str], dialect: str = "postgres") -> frozenset[str | int]:
    """Parameter names (str) and positions (int, 1-based) compared with or assigned to a
    tenant column; empty when the text does not parse or binds none."""
    lowered = text.lower()
    if not any(column in lowered for column in tenant_columns):
        return frozenset()
    try:
        tree = parse_expression(normalize_placeholders(text, dialect), dialect)
    except (*error_types(), RecursionError, ValueError):
        return frozenset()
    if tree is None:
        return frozenset()
    order = placeholder_order(tree)
    out: set[str | int] = set()
    for node in tree.find_all(exp.EQ, exp.In, exp.Is, exp.NullSafeEQ, bfs=False):
        sides = [node.this, *([node.expression] if node.expression is not None else []),
                 *(node.args.get("expressions") or []), node.args.get("field")]
        sides = [unwrap(s) for s in sides if isinstance(s, exp.Expression)]
        if not any(isinstance(s, exp.Column) and s.name.lower() in tenant_columns for s in sides):
            continue
        for side in sides:
            for holder in _placeholders(side):
                out.add(placeholder_key(holder, order))
    return frozenset(k for k in out if k is not None)


@lru_cache(maxsize=256)
def selected_columns(text: str, dialect: str = "postgres") -> tuple[str | None, ...]:
    """The column each position of a SELECT's rows holds (`SELECT id, app_id ...` ->
    ("id", "app_id"); an expression without a name, or `*`, is None); () when the text
    is not one SELECT that parses. A tuple row (`cur.fetchone()[0]`) is read with it."""
    try:
        tree = parse_expression(normalize_placeholders(text, dialect), dialect)
    except (*error_types(), RecursionError, ValueError):
        return ()
    if not isinstance(tree, exp.Select):
        return ()
    out: list[str | None] = []
    for item in tree.expressions:
        if isinstance(item, exp.Star) or isinstance(item, exp.Column) and isinstance(item.this, exp.Star):
            return ()  # the columns `*` stands for are not known in order
        name = item.alias_or_name if isinstance(item, (exp.Alias, exp.Column)) else ""
        out.append(str(name).lower() or None)
    return tuple(out)


def _placeholders(node: exp.Expression):
    """The parameter a value side stands for: `:p`, `ANY(:p)`, `(:a, :b)`."""
    node = unwrap(node)
    if isinstance(node, exp.Placeholder):
        yield node
    elif isinstance(node, (exp.Any, exp.Tuple, exp.Paren)):
        yield from (p for p in node.find_all(exp.Placeholder))


def placeholder_order(tree: exp.Expression) -> dict[int, int]:
    """id(placeholder) -> its 1-based place among the statement's parameters (for `?`)."""
    return {id(p): n for n, p in enumerate(tree.find_all(exp.Placeholder, bfs=False), 1)}


def placeholder_key(holder: exp.Placeholder, order: dict[int, int]) -> str | int | None:
    """A parameter by name (`sid` for `:sid` and `%(sid)s`) or 1-based position (`%s`,
    `$1`, `?`), as the Python call binds it."""
    name = holder.name or ""
    if name.startswith(_POSITIONAL) and name[4:].isdigit():
        return int(name[4:])
    if name and name != "?":
        return name
    return order.get(id(holder))  # `?`: its place among the parameters
