"""`tenantlint db audit --remediation FILE`: the SQL that fixes what the audit found, as a
reviewed migration would contain it, one block per table:

- `ENABLE` / `FORCE ROW LEVEL SECURITY`;
- a tenant policy with USING and WITH CHECK on the tenant column against the project's
  tenant setting (`current_setting('app.tenant_id', true)::uuid`): permissive when the
  table has no permissive policy, else RESTRICTIVE, so that it is AND-ed with the
  existing ones and closes their `true` / OR escapes rather than adding another branch;
- `SET NOT NULL` on a nullable tenant column (it fails while rows without a tenant
  exist: assign or delete them first);
- the index led by the tenant column.

Roles that bypass RLS are listed as comments: taking BYPASSRLS or superuser away is an
operations decision, not a migration's."""
from __future__ import annotations

import re
from collections import Counter

from tenantlint.db import catalog_queries as q
from tenantlint.db.audit import policy_defects
from tenantlint.db.settings import DEFAULT_TENANT_SETTING

_SETTING = re.compile(r"current_setting\('([^']+)'")
_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
POLICY_NAME = "tenant_isolation"


def ident(name: str) -> str:
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


def tenant_setting(tables: list[q.TenantTable], given: str | None) -> str:
    """The setting named on the command line, else the one the database's policies read
    most, else the default."""
    if given:
        return given
    used = Counter(name for t in tables for p in t.policies for expr in (p.using, p.with_check) if expr
                   for name in _SETTING.findall(expr))
    return used.most_common(1)[0][0] if used else DEFAULT_TENANT_SETTING


def remediation(tables: list[q.TenantTable], bypass: list[q.BypassRole], setting: str) -> str:
    out = [f"-- tenantlint db audit --remediation: review before applying.\n"
           f"-- Tenant setting: current_setting('{setting}', true)\n"]
    for t in tables:
        block = table_fix(t, setting)
        if block:
            out.append(f"\n-- {t.qualified}\n" + "".join(block))
    risky = [r for r in bypass if r.reachable]
    if risky:
        out.append("\n-- Roles that bypass row-level security (decide, then e.g. ALTER ROLE ... NOBYPASSRLS):\n")
        out.extend(f"--   {r.name}: {'superuser' if r.superuser else 'BYPASSRLS'}\n" for r in risky)
    return "".join(out)


def table_fix(t: q.TenantTable, setting: str) -> list[str]:
    table, col = f"{ident(t.schema)}.{ident(t.name)}", ident(t.tenant_column)
    out = []
    if not t.tenant_not_null:
        out.append(f"-- fails while rows with a NULL {t.tenant_column} exist: assign or delete them first\n"
                   f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;\n")
    if not t.rls_enabled:
        out.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n")
    if not t.rls_forced:
        out.append(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n")
    if policy_defects(t):
        value = f"current_setting('{setting}', true)::{t.tenant_type}"
        name = _free_name({p.name for p in t.policies})
        kind = " AS RESTRICTIVE" if any(p.permissive for p in t.policies) else ""
        out.append(f"CREATE POLICY {ident(name)} ON {table}{kind}\n"
                   f"    USING ({col} = {value})\n"
                   f"    WITH CHECK ({col} = {value});\n")
    if not t.tenant_indexes:
        index = ident(f"{t.name}_{t.tenant_column}_idx"[:63])
        out.append(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({col});\n")
    return out


def _free_name(taken: set[str]) -> str:
    name, n = POLICY_NAME, 1
    while name in taken:
        n += 1
        name = f"{POLICY_NAME}_{n}"
    return name
