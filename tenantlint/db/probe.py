"""`tenantlint db probe`: try to cross tenants for real, as the application role, inside
one transaction that is always rolled back.

For each tenant table: with no tenant set, then with a random tenant set, count the rows
the role can see (must be 0), and try to insert a row for another tenant (must be refused
by the policy's WITH CHECK). Each attempt runs under a SAVEPOINT, so one failure does not
abort the rest; statement and lock timeouts keep it gentle on a shared (staging) server."""
from __future__ import annotations

import random
import re
import uuid
from typing import Any

from tenantlint.db import catalog_queries as q
from tenantlint.db.session import rolled_back
from tenantlint.db.settings import DbSettings, finding
from tenantlint.diagnostics import Diagnostic, with_fingerprints

CONTEXT = "db probe"
VISIBLE_LIMIT = 1000  # count at most this many rows: enough to prove a leak, cheap on big tables
# Errors PostgreSQL raises only after the row has passed the RLS WITH CHECK (index
# insertion and the foreign-key triggers run after ExecWithCheckOptions).
PAST_RLS = {"23503": "a foreign key", "23505": "a unique constraint", "23P01": "an exclusion constraint"}


class ProbeError(Exception):
    """The probe cannot run at all (unknown role, SET ROLE refused): a usage error."""


def probe(conn: Any, role: str, settings: DbSettings = DbSettings(),
          notes: list[str] | None = None) -> list[Diagnostic]:
    """Findings for each tenant table that the role can read with no or a foreign tenant
    set, or write for another tenant. Inconclusive checks are appended to `notes`."""
    from psycopg import sql

    notes = notes if notes is not None else []
    out: list[Diagnostic] = []
    with rolled_back(conn, read_only=False):
        conn.execute("SET LOCAL statement_timeout = '15s'")
        conn.execute("SET LOCAL lock_timeout = '2s'")
        target = q.role(conn, role)
        if target is None:
            raise ProbeError(f"role `{role}` does not exist")
        tables = q.tenant_tables(conn, settings.tenant_columns, settings.schemas, settings.global_tables)
        owned = q.owned_by(conn, tables, target) if tables else set()
        plans = [(t, q.columns(conn, t.oid), q.privileges(conn, role, t.oid)) for t in tables]
        try:
            _run(conn, "probe_set_role", sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        except Exception as exc:  # psycopg.Error: not a member of the role, etc.
            raise ProbeError(f"cannot SET ROLE {role}: {_first_line(exc)}") from None
        probe_ctx = _Probe(conn, target, settings, owned, out, notes)
        for t, _cols, (can_select, _) in plans:
            if not can_select:
                notes.append(f"{t.qualified}: role `{role}` has no SELECT on it (or USAGE on its schema): "
                             f"read checks skipped")
                continue
            probe_ctx.visible(t, "with no tenant set")
        for t, cols, (can_select, can_insert) in plans:
            current = random_tenant(t.tenant_type)
            conn.execute("SELECT set_config(%s, %s, true)", (settings.tenant_setting, current))
            if can_select:
                probe_ctx.visible(t, f"with `{settings.tenant_setting}` set to a random tenant ({current})")
            if can_insert:
                probe_ctx.insert(t, cols, current)
            else:
                notes.append(f"{t.qualified}: role `{role}` has no INSERT on it: write check skipped")
    return with_fingerprints(out)


class _Probe:
    def __init__(self, conn: Any, target: q.Role, settings: DbSettings, owned: set[int],
                 out: list[Diagnostic], notes: list[str]) -> None:
        self.conn, self.target, self.settings = conn, target, settings
        self.owned, self.out, self.notes = owned, out, notes

    def reason(self, t: q.TenantTable) -> tuple[str, str]:
        """The code and cause of a table letting rows through, from its catalog state."""
        r = self.target
        if r.superuser or r.bypassrls:
            return "TL107", f"`{r.name}` {'is a superuser' if r.superuser else 'has BYPASSRLS'}, so RLS never applies"
        if not t.rls_enabled:
            return "TL501", "row-level security is not enabled on it"
        if not t.rls_forced and t.oid in self.owned:
            return "TL502", f"`{r.name}` owns it and RLS is not forced: the owner bypasses RLS"
        return "TL503", f"its policies do not pin `{t.tenant_column}` to the current tenant"

    def visible(self, t: q.TenantTable, phase: str) -> None:
        from psycopg import sql

        query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {}.{} LIMIT {}) AS probe").format(
            sql.Identifier(t.schema), sql.Identifier(t.name), sql.Literal(VISIBLE_LIMIT))
        try:
            count = _run(self.conn, "probe_read", query)[0][0]
        except Exception as exc:  # the policy raised (e.g. the setting is unset): fails closed
            if getattr(exc, "sqlstate", None) == "57014":
                self.notes.append(f"{t.qualified}: read check {phase} timed out: inconclusive")
            return
        if count:
            code, why = self.reason(t)
            shown = f"{count}+" if count >= VISIBLE_LIMIT else str(count)
            key = "visible:no-tenant" if "no tenant" in phase else "visible:random-tenant"
            self.out.append(finding(code, t.qualified, f"as role `{self.target.name}` {phase}, {shown} row(s) "
                                    f"of `{t.qualified}` are visible: {why}", key, CONTEXT))

    def insert(self, t: q.TenantTable, cols: list[q.Column], current: str) -> None:
        from psycopg import sql

        other = random_tenant(t.tenant_type, avoid=current)
        names, values = [t.tenant_column], [other]
        for col in cols:
            if col.name == t.tenant_column or col.has_default or col.identity or col.generated or not col.not_null:
                continue  # its default (or NULL) will do
            dummy = _dummy(col)
            if dummy is not None:
                names.append(col.name)
                values.append(dummy)
        statement = sql.SQL("INSERT INTO {}.{} ({}) VALUES ({})").format(
            sql.Identifier(t.schema), sql.Identifier(t.name),
            sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(sql.Placeholder() * len(names)))
        setting = self.settings.tenant_setting
        try:
            _run(self.conn, "probe_write", statement, values)
        except Exception as exc:
            state = getattr(exc, "sqlstate", None)
            if state == "42501":  # new row violates row-level security policy: refused, as it must be
                return
            if state in PAST_RLS:
                code, why = self.reason(t)
                self.out.append(finding(
                    code, t.qualified,
                    f"as role `{self.target.name}` with `{setting}` = {current}, an INSERT into "
                    f"`{t.qualified}` of a row for another tenant ({t.tenant_column} = {other}) got past "
                    f"row-level security and was stopped only by {PAST_RLS[state]}: "
                    f"{_write_reason(code, why, t.tenant_column)}", "insert", CONTEXT))
                return
            self.notes.append(f"{t.qualified}: insert check inconclusive: the row was refused for "
                              f"another reason ({state}: {_first_line(exc)})")
            return
        code, why = self.reason(t)
        self.out.append(finding(
            code, t.qualified,
            f"as role `{self.target.name}` with `{setting}` = {current}, an INSERT into `{t.qualified}` of "
            f"a row for another tenant ({t.tenant_column} = {other}) was accepted: {_write_reason(code, why, t.tenant_column)}",
            "insert", CONTEXT))


def _write_reason(code: str, why: str, column: str) -> str:
    return f"no WITH CHECK pins `{column}` to the current tenant" if code == "TL503" else why


def _run(conn: Any, savepoint: str, statement: Any, params: Any = None) -> list[tuple]:
    """Execute under a savepoint; on error roll back to it and re-raise."""
    conn.execute(f"SAVEPOINT {savepoint}")
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            rows = cur.fetchall() if cur.description else []
    except Exception:
        conn.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
        conn.execute(f"RELEASE SAVEPOINT {savepoint}")
        raise
    conn.execute(f"RELEASE SAVEPOINT {savepoint}")
    return rows


_INT_RANGES = {"smallint": (10_000, 32_767), "integer": (10**8, 2**31 - 1), "bigint": (10**12, 2**62)}


def random_tenant(type_name: str, avoid: str = "") -> str:
    """A tenant id of the column's type that no real tenant has (as text; PostgreSQL casts)."""
    while True:
        base = type_name.split("(")[0].strip()
        if base in _INT_RANGES:
            value = str(random.randint(*_INT_RANGES[base]))
        elif base == "numeric":
            value = str(random.randint(10**6, 10**8))
        else:
            value = str(uuid.uuid4())
            length = re.search(r"\((\d+)\)", type_name)
            if base != "uuid" and length:
                value = uuid.uuid4().hex[: int(length.group(1))]
        if value != avoid:
            return value


def _dummy(col: q.Column) -> str | None:
    """A harmless value for a NOT NULL column without a default, as text (None: leave it out)."""
    base = col.type.split("(")[0].strip()
    if base == "uuid":
        return str(uuid.uuid4())
    if base in ("json", "jsonb"):
        return "{}"
    return {"N": "0", "S": "x", "B": "false", "D": "now", "T": "0", "A": "{}"}.get(col.category)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
