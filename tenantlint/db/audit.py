"""`tenantlint db audit`: what the catalog of a live database says about row-level security
on its tenant tables. Read-only: one READ ONLY transaction, rolled back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tenantlint.db import catalog_queries as q
from tenantlint.db.policy_expr import Verdict, judge
from tenantlint.db.session import rolled_back
from tenantlint.db.settings import DbSettings, finding
from tenantlint.diagnostics import Diagnostic, with_fingerprints

BOOTSTRAP_SUPERUSER_OID = 10  # the role initdb creates (usually `postgres`): the DBA's own
CONTEXT = "db audit"


class UnknownRole(ValueError):
    pass


@dataclass(frozen=True)
class AuditState:
    """What the audit read: the tenant tables, the application role, the tables it owns,
    and the roles that bypass RLS (also what --remediation writes its SQL from)."""

    tables: list[q.TenantTable]
    app: q.Role
    owned: set[int]
    bypass: list[q.BypassRole]


def read_state(conn: Any, settings: DbSettings = DbSettings()) -> AuditState:
    """`conn` is a psycopg 3 connection, not in a transaction."""
    with rolled_back(conn, read_only=True):
        tables = q.tenant_tables(conn, settings.tenant_columns, settings.schemas, settings.global_tables)
        app = q.role(conn, settings.app_role) if settings.app_role else q.current_role(conn)
        if app is None:
            raise UnknownRole(f"role `{settings.app_role}` does not exist")
        owned = q.owned_by(conn, tables, app) if tables else set()
        bypass = q.bypass_roles(conn, tables, app) if tables else []
    return AuditState(tables, app, owned, bypass)


def audit(conn: Any, settings: DbSettings = DbSettings(), state: AuditState | None = None) -> list[Diagnostic]:
    """Findings for every tenant table (a table with a tenant column) and every role that
    bypasses RLS and can reach one."""
    state = state or read_state(conn, settings)
    tables, app, owned, bypass = state.tables, state.app, state.owned, state.bypass
    diagnostics: list[Diagnostic] = []
    for table in tables:
        diagnostics += table_findings(table, app, app_owns=table.oid in owned)
    diagnostics += role_findings(bypass, app, tables)
    return with_fingerprints(diagnostics)


def table_findings(t: q.TenantTable, app: q.Role, *, app_owns: bool) -> list[Diagnostic]:
    out = []
    col, qual = t.tenant_column, t.qualified

    def add(code: str, key: str, message: str) -> None:
        out.append(finding(code, qual, message, key, CONTEXT))

    if not t.tenant_not_null:
        add("TL503", "nullable-tenant-column",
            f"`{qual}.{col}` is nullable: a row with a NULL `{col}` belongs to no tenant and no "
            f"tenant policy can place it; declare the column NOT NULL")
    if not t.rls_enabled:
        add("TL501", "rls-disabled",
            f"`{qual}` has a `{col}` column but row-level security is not enabled: every role that "
            f"can read it sees every tenant's rows (ALTER TABLE {qual} ENABLE ROW LEVEL SECURITY)")
    else:
        if not t.rls_forced:
            if app_owns:
                add("TL502", "owner-bypass",
                    f"`{qual}` is owned by {_owner(app.name, t.owner)} and RLS "
                    f"is not forced: the table owner bypasses RLS, so the application sees every "
                    f"tenant's rows (ALTER TABLE {qual} FORCE ROW LEVEL SECURITY)")
            else:
                add("TL502", "rls-not-forced",
                    f"row-level security on `{qual}` is enabled but not forced: its owner `{t.owner}` "
                    f"bypasses it (ALTER TABLE {qual} FORCE ROW LEVEL SECURITY)")
        out += [finding("TL503", qual, message, key, CONTEXT) for key, message in policy_defects(t)]
    if not t.tenant_indexes:
        add("TL504", "no-tenant-index",
            f"`{qual}` has no index led by `{col}`: every tenant-scoped query and RLS check scans "
            f"the whole table (CREATE INDEX ON {qual} ({col}))")
    return out


_COMMANDS = {"*": "rwd", "r": "r", "w": "w", "d": "d", "a": ""}
_CHECK_COMMANDS = {"*": "aw", "a": "a", "w": "w", "r": "", "d": ""}


def _effective_check(p: q.Policy) -> str | None:
    """PostgreSQL uses USING as WITH CHECK for ALL and UPDATE policies that give none."""
    if p.with_check is not None:
        return p.with_check
    return p.using if p.command in "*w" else None


def policy_defects(t: q.TenantTable) -> list[tuple[str, str]]:
    """(key, message) for each way the policies of an RLS-enabled table fail to pin the
    tenant column: none at all, a permissive USING/WITH CHECK that leaks, or a missing
    USING for reads or explicit WITH CHECK for inserts."""
    col, qual = t.tenant_column, t.qualified
    if not t.policies:
        return [("no-policy", f"row-level security is enabled on `{qual}` but it has no policy "
                 f"constraining `{col}` (CREATE POLICY ... USING ({col} = ...) WITH CHECK ({col} = ...))")]
    restrictive_using = {c for p in t.policies if not p.permissive and p.using is not None
                         and judge(p.using, col) is Verdict.CONSTRAINS for c in _COMMANDS[p.command]}
    restrictive_check = {c for p in t.policies if not p.permissive and _effective_check(p) is not None
                         and judge(_effective_check(p), col) is Verdict.CONSTRAINS  # type: ignore[arg-type]
                         for c in _CHECK_COMMANDS[p.command]}
    out: list[tuple[str, str]] = []
    read_ok = write_ok = weak_read = weak_write = False
    for p in t.policies:
        where = f"policy `{p.name}` on `{qual}` ({p.command_name}, {'permissive' if p.permissive else 'restrictive'}, to {', '.join(p.roles)})"
        for clause, expr, commands, guarded in (
            ("USING", p.using, _COMMANDS[p.command], restrictive_using),
            ("WITH CHECK", p.with_check, _CHECK_COMMANDS[p.command], restrictive_check),
        ):
            if expr is None:
                continue
            verdict = judge(expr, col)
            if verdict is Verdict.CONSTRAINS:
                read_ok |= clause == "USING" and "r" in commands
                write_ok |= clause == "WITH CHECK" and "a" in commands
            elif verdict.leaks and p.permissive and not set(commands) <= guarded:
                weak_read |= clause == "USING"
                weak_write |= clause == "WITH CHECK"
                out.append((f"{p.name}:{clause}:{verdict.value}", _describe(verdict, where, clause, expr, col)))
    if not read_ok and not weak_read:
        out.append(("no-using", f"no policy on `{qual}` constrains `{col}` in USING for SELECT: "
                    f"reads are not tied to the current tenant"))
    if not write_ok and not weak_write:
        fallback = [p.name for p in t.policies if p.with_check is None and p.command == "*"
                    and p.using is not None and judge(p.using, col) is Verdict.CONSTRAINS]
        note = (f" (policy `{fallback[0]}` falls back to its USING for writes; state the WITH CHECK "
                f"explicitly)" if fallback else "")
        out.append(("no-with-check", f"no policy on `{qual}` has a WITH CHECK constraining `{col}`: "
                    f"nothing explicitly refuses writing rows for another tenant{note}"))
    return out


def _owner(app: str, owner: str) -> str:
    return f"the application role `{app}`" if app == owner else f"`{owner}`, whose rights the application role `{app}` has,"


def _describe(verdict: Verdict, where: str, clause: str, expr: str, col: str) -> str:
    if verdict is Verdict.ALWAYS_TRUE:
        effect = "every tenant's rows are visible" if clause == "USING" else "rows for any tenant can be written"
        return f"{where} has {clause} (true): {effect}"
    if verdict is Verdict.OR_ESCAPE:
        return (f"{where} has an OR escape in {clause} `{expr}`: rows of any tenant pass when the "
                f"other branch is true")
    if verdict is Verdict.SELF:
        return f"{where} compares `{col}` with itself in {clause} `{expr}`: true for every row"
    return (f"{where} has a {clause} that does not constrain `{col}` (`{expr}`): permissive "
            f"policies are OR-ed, so it opens the table across tenants")


def role_findings(bypass: list[q.BypassRole], app: q.Role, tables: list[q.TenantTable]) -> list[Diagnostic]:
    names = {t.oid: t.qualified for t in tables}
    out = []
    for r in bypass:
        if not r.reachable:
            continue
        what = "is a superuser" if r.superuser else "has BYPASSRLS"
        reach = [names[oid] for oid in r.reachable]
        shown = ", ".join(reach[:5]) + (f" and {len(reach) - 5} more" if len(reach) > 5 else "")
        tail = f"row-level security never applies to it, and it can reach {len(reach)} tenant table(s) ({shown})"
        if r.oid == app.oid:
            message = f"the application role `{r.name}` {what}: {tail}"
            key = "app-bypass"
        elif r.app_can_become:
            message = (f"the application role `{app.name}` is a member of `{r.name}`, which {what}: "
                       f"{tail}")
            key = "app-member-of-bypass"
        elif r.oid == BOOTSTRAP_SUPERUSER_OID:
            continue
        else:
            message = f"role `{r.name}` {what}: {tail}"
            key = "bypass-role"
        out.append(finding("TL107", f"role:{r.name}", message, key, CONTEXT))
    return out
