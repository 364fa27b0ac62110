"""Foreign keys and the tenancy they carry. A table with no tenant column of its own is
tenant data all the same when each of its rows belongs to one tenant through a non-null
foreign key to a tenant table, directly or through a chain of such keys (up to three
hops: `messages.conversation_id -> conversations.app_id -> apps.tenant_id`). A nullable
key ties nothing: a row may belong to no parent at all.

Facts come from the ORM discoverers (`foreign_key` reads one column declaration); the
chains are computed once when the catalog is assembled (`parent_chains`)."""
from __future__ import annotations

import ast
from typing import Iterable, Mapping

from tenantlint.orm.pyast import const_str, dotted, is_true, kwarg

MAX_HOPS = 3


def foreign_key(call: ast.Call, annotation: ast.AST | None) -> tuple[str, bool] | None:
    """(referenced table, nullable) of `Column(..., ForeignKey("apps.id"), nullable=False)`
    or `mapped_column(ForeignKey("apps.id"))`; None when the column references nothing.
    Nullability: an explicit `nullable=`, else a primary key is not null, else
    `mapped_column` follows its `Mapped[...]` annotation (`Optional`/`| None` is nullable)
    and `Column` is nullable (SQLAlchemy's defaults)."""
    target = None
    for arg in call.args:
        if isinstance(arg, ast.Call) and (dotted(arg.func) or "").rsplit(".", 1)[-1] == "ForeignKey" and arg.args:
            ref = const_str(arg.args[0])
            if ref is None and isinstance(arg.args[0], ast.Attribute):
                ref = dotted(arg.args[0])  # ForeignKey(App.id): the class, resolved later
            if ref and "." in ref:
                target = ref.rsplit(".", 1)[0]
    if target is None:
        return None
    explicit = kwarg(call, "nullable")
    if explicit is not None:
        return target, not (isinstance(explicit, ast.Constant) and explicit.value is False)
    if is_true(kwarg(call, "primary_key")):
        return target, False
    if (dotted(call.func) or "").rsplit(".", 1)[-1] == "mapped_column" and annotation is not None:
        text = ast.unparse(annotation)
        return target, "Optional" in text or "None" in text
    return target, True


def parent_chains(keys: Mapping[str, Iterable[tuple[str, str, bool]]], tenant_tables: Iterable[str],
                  global_tables: Iterable[str]) -> dict[str, tuple[tuple[str, str, str], ...]]:
    """table -> its shortest chain of non-null keys to a tenant table, as hops
    (table, key column, referenced table): `messages` -> ((messages, conversation_id,
    conversations), (conversations, app_id, apps)). `keys`: table -> (column, referenced
    table, nullable). Tenant and global tables get no chain."""
    direct = set(tenant_tables)
    exempt = set(global_tables)
    chains: dict[str, tuple[tuple[str, str, str], ...]] = {}
    reached = {t: () for t in direct}
    for _ in range(MAX_HOPS):
        found = {}
        for table, columns in keys.items():
            if table in reached or table in exempt:
                continue
            for column, parent, nullable in sorted(columns):
                if not nullable and parent in reached and parent != table:
                    found[table] = ((table, column, parent), *reached[parent])
                    break
        if not found:
            break
        reached.update(found)
        chains.update(found)
    return chains
