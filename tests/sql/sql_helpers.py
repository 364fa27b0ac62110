"""Shared policy and a one-call helper for the SQL tables."""
from __future__ import annotations

from tenantlint.sql import SqlPolicy, SqlText, TenantTable, analyze_sql
from tenantlint.sql.types import Hole

TENANT_TABLES = ["orders", "order_items", "customers", "documents", "invoices", "accounts"]
POLICY = SqlPolicy(
    tenant_columns=frozenset({"tenant_id"}),
    tenant_tables={
        **{t: TenantTable(t, frozenset({"tenant_id"})) for t in TENANT_TABLES},
        "projects": TenantTable("projects", frozenset({"org_id"})),
        "plans": TenantTable("plans", frozenset({"tenant_id"})),  # also global: never tenant
        "audit": TenantTable("audit", frozenset({"tenant_id"})),  # trusted (RLS forced)
    },
    global_tables=frozenset({"countries", "plans"}),
    trusted_tables=frozenset({"audit"}),
)


def codes(text: str, *, scoped: bool = False, dialect: str = "postgres", holes=(), policy=POLICY):
    """The set of codes, or None for not-SQL."""
    if dialect != policy.dialect:
        policy = SqlPolicy(policy.tenant_columns, policy.tenant_tables, policy.global_tables,
                           policy.trusted_tables, dialect, policy.max_sql_chars)
    hole_objs = tuple(Hole(m, k, n) for m, k, n in holes)
    issues = analyze_sql(SqlText(text, hole_objs), policy, scoped=scoped)
    return None if issues is None else {i.code for i in issues}


def fstring(*markers: str):
    return tuple((m, "fstring", m.strip("_")) for m in markers)
