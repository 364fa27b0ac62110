"""Tables that are tenant data through their parent (tenantlint/foreign_keys.py), in SQL.

Such a table is a tenant table whose "tenant column" is its parent key: a conjunct that
equates the key to a parameter or constant anchors it as `tenant_id = %s` anchors a
tenant table (`WHERE conversation_id = %s`: the caller chose the parent), and a join
of the key to the parent's primary key ties it to the parent occurrence, so that it is
anchored when the parent is (`JOIN conversations c ON c.id = m.conversation_id WHERE
c.tenant_id = %s`), up the chain. An id alone (`WHERE id = %s`) anchors nothing."""
from __future__ import annotations

from tenantlint.sql.glot import exp
from tenantlint.sql.predicates import column_pair

PRIMARY_KEYS = ("id",)


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
