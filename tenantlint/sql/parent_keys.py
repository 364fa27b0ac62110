"""Tables that are tenant data through their parent (tenantlint/foreign_keys.py), in SQL.

Such a table is a tenant table whose "tenant column" is its parent key: a conjunct that
equates the key to a parameter or constant anchors it as `tenant_id = %s` anchors a
tenant table (`WHERE conversation_id = %s`: the caller chose the parent), and a join
of the key to the parent's primary key ties it to the parent occurrence, so that it is
anchored when the parent is (`JOIN conversations c ON c.id = m.conversation_id WHERE
c.tenant_id = %s`), up the chain. An id alone (`WHERE id = %s`) anchors nothing.

Unlike a tenant column, a parent key anchors only a trusted value (SPEC "Indirect
tenancy and trusted ids"): the scope walker reports the parameters bound to parent-key
predicates (`value_keys`), the SQL checker asks where the Python values bound to them
come from (tenantlint/rules/sql_trust.py), and the walker runs again with the untrusted
ones refused. A constant or a scope expression anchors as before."""
from __future__ import annotations

from tenantlint.sql.bound_params import placeholder_key
from tenantlint.sql.glot import exp
from tenantlint.sql.predicates import column_pair, is_hole_node

PRIMARY_KEYS = ("id",)
# Where a parent key's value comes from when no call binding it is in sight (a text run
# through a wrapper, or bound by `**kwargs`): its scope cannot be decided, TL002.
UNSEEN = "by a value bound out of sight"


def parent_join(cond: exp.Expression, resolve, lookup, parents) -> tuple[object, object] | None:
    """(child occurrence, parent occurrence) of `child.parent_key = parent.id`, else None.
    `resolve(col)`: the occurrences a column may belong to; `lookup(alias)`: (found, occ);
    `parents`: table -> parent key column -> parent table."""
    pair = column_pair(cond)
    if pair is None:
        return None
    left, right = pair
    for key, pk in ((left, right), (right, left)):
        if str(pk.name).lower() not in PRIMARY_KEYS or not pk.table:
            continue
        found, parent = lookup(str(pk.table).lower())
        if not found or parent is None:
            continue
        for child in resolve(key):
            if parents.get(child.table, {}).get(str(key.name).lower()) == parent.table and child is not parent:
                return child, parent
    return None


def value_keys(cond: exp.Expression, order: dict[int, int]) -> frozenset:
    """The parameters (name or 1-based position, as bound_params gives them) and the
    value holes (their `__tlholeN__` marker) a predicate compares with, outside its
    subqueries (a scalar subquery is judged as a scope of its own)."""
    out = set()
    stack = [cond]
    while stack:
        node = stack.pop()
        if isinstance(node, exp.Placeholder):
            key = placeholder_key(node, order)
            if key is not None:
                out.add(key)
            continue
        if is_hole_node(node) and isinstance(node, exp.Column):
            out.add(str(node.name).lower())
            continue
        if isinstance(node, (exp.Query, exp.Subquery)):
            continue
        stack.extend(node.iter_expressions())
    return frozenset(out)
