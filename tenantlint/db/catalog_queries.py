"""Read-only catalog queries: which tables carry a tenant column, their RLS state,
policies, indexes, columns, and the roles that bypass row-level security.

Plain SQL over pg_class / pg_namespace / pg_attribute / pg_policy / pg_index / pg_roles,
returning plain dataclasses. Nothing here writes; nothing here imports psycopg (the
connection is passed in), so the module imports without the `db` extra."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

# Namespaces that are never user data: the catalogs, TOAST and temp schemas.
_USER_SCHEMAS = """
    n.nspname <> 'information_schema'
    AND n.nspname NOT LIKE 'pg\\_%%'
    AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
"""

TENANT_TABLES_SQL = f"""
SELECT DISTINCT ON (c.oid)
       c.oid, n.nspname, c.relname, c.relkind, c.relowner, pg_get_userbyid(c.relowner),
       c.relrowsecurity, c.relforcerowsecurity,
       a.attname, a.attnum, a.attnotnull, format_type(a.atttypid, a.atttypmod)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p')
  AND a.attname = ANY(%(columns)s::text[])
  AND {_USER_SCHEMAS}
ORDER BY c.oid, array_position(%(columns)s::text[], a.attname::text)
"""

POLICIES_SQL = """
SELECT p.polrelid, p.polname, p.polcmd, p.polpermissive,
       CASE WHEN p.polroles = '{0}'::oid[] THEN ARRAY['public']
            ELSE ARRAY(SELECT r.rolname::text FROM pg_roles r WHERE r.oid = ANY(p.polroles) ORDER BY 1)
       END,
       pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
FROM pg_policy p
WHERE p.polrelid = ANY(%(oids)s::oid[])
ORDER BY p.polrelid, p.polname
"""

# Valid indexes whose first key column is the given attribute (PK and UNIQUE included).
TENANT_INDEXES_SQL = """
SELECT i.indrelid, i.indexrelid::regclass::text, i.indkey[0]
FROM pg_index i
WHERE i.indrelid = ANY(%(oids)s::oid[]) AND i.indisvalid
"""

COLUMNS_SQL = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef,
       a.attidentity, a.attgenerated, t.typcategory
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""

ROLE_SQL = """
SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls FROM pg_roles r WHERE r.rolname = %(name)s
"""

# Roles that bypass RLS (superuser or BYPASSRLS), with the tenant tables they can reach,
# and whether the application role can become them (SET ROLE / inherited membership).
BYPASS_ROLES_SQL = """
SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcanlogin,
       ARRAY(SELECT t FROM unnest(%(tables)s::oid[]) AS t
             WHERE r.rolsuper OR has_table_privilege(r.oid, t, 'SELECT, INSERT, UPDATE, DELETE')
             ORDER BY t) AS reachable,
       (%(app)s::oid IS NOT NULL AND r.oid <> %(app)s::oid
        AND pg_has_role(%(app)s::oid, r.oid, 'MEMBER')) AS app_can_become
FROM pg_roles r
WHERE r.rolsuper OR r.rolbypassrls
ORDER BY r.rolname
"""

OWNS_SQL = """
SELECT t, pg_has_role(%(app)s::oid, c.relowner, 'USAGE')
FROM unnest(%(tables)s::oid[]) AS t JOIN pg_class c ON c.oid = t
"""

PRIVILEGES_SQL = """
SELECT has_schema_privilege(%(role)s, c.relnamespace, 'USAGE') AND has_table_privilege(%(role)s, c.oid, 'SELECT'),
       has_schema_privilege(%(role)s, c.relnamespace, 'USAGE') AND has_table_privilege(%(role)s, c.oid, 'INSERT')
FROM pg_class c WHERE c.oid = %(oid)s::oid
"""


@dataclass(frozen=True)
class Policy:
    name: str
    command: str  # 'r' SELECT, 'a' INSERT, 'w' UPDATE, 'd' DELETE, '*' ALL
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    with_check: str | None

    @property
    def command_name(self) -> str:
        return {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}[self.command]

    def covers(self, *commands: str) -> bool:
        return self.command == "*" or self.command in commands


@dataclass(frozen=True)
class TenantTable:
    oid: int
    schema: str
    name: str
    kind: str  # 'r' table, 'p' partitioned table
    owner_oid: int
    owner: str
    rls_enabled: bool
    rls_forced: bool
    tenant_column: str
    tenant_attnum: int
    tenant_not_null: bool
    tenant_type: str
    policies: tuple[Policy, ...] = ()
    tenant_indexes: tuple[str, ...] = field(default=())  # indexes led by the tenant column

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    has_default: bool
    identity: str  # '' or 'a' (ALWAYS) / 'd' (BY DEFAULT)
    generated: str  # '' or 's' (stored)
    category: str  # pg_type.typcategory: N numeric, S string, B bool, D datetime, U user (uuid)...


@dataclass(frozen=True)
class Role:
    oid: int
    name: str
    superuser: bool
    bypassrls: bool


@dataclass(frozen=True)
class BypassRole:
    oid: int
    name: str
    superuser: bool
    bypassrls: bool
    can_login: bool
    reachable: tuple[int, ...]  # oids of tenant tables it can read or write
    app_can_become: bool


def _rows(conn: Any, sql: str, params: dict) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def tenant_tables(conn: Any, columns: Sequence[str], schemas: Sequence[str] | None = None,
                  global_tables: Sequence[str] = ()) -> list[TenantTable]:
    """Every ordinary or partitioned table in a user schema that has a tenant column,
    with its policies and tenant-led indexes, sorted by schema and name."""
    params = {"columns": list(columns), "schemas": list(schemas) if schemas else None}
    skip = {g.lower() for g in global_tables}
    base = []
    for row in _rows(conn, TENANT_TABLES_SQL, params):
        oid, schema, name, kind, owner_oid, owner, enabled, forced, col, attnum, not_null, typ = row
        if name.lower() in skip or f"{schema}.{name}".lower() in skip:
            continue
        base.append(TenantTable(oid, schema, name, kind, owner_oid, owner, enabled, forced,
                                col, attnum, not_null, typ))
    oids = [t.oid for t in base]
    policies: dict[int, list[Policy]] = {}
    for relid, pname, cmd, permissive, roles, using, check in _rows(conn, POLICIES_SQL, {"oids": oids}):
        policies.setdefault(relid, []).append(Policy(pname, cmd, permissive, tuple(roles), using, check))
    led: dict[int, list[str]] = {}
    attnums = {t.oid: t.tenant_attnum for t in base}
    for relid, index_name, first_key in _rows(conn, TENANT_INDEXES_SQL, {"oids": oids}):
        if first_key == attnums[relid]:
            led.setdefault(relid, []).append(index_name)
    out = [
        TenantTable(**{**t.__dict__, "policies": tuple(policies.get(t.oid, ())),
                       "tenant_indexes": tuple(sorted(led.get(t.oid, ())))})
        for t in base
    ]
    return sorted(out, key=lambda t: (t.schema, t.name))


def columns(conn: Any, oid: int) -> list[Column]:
    return [Column(*row) for row in _rows(conn, COLUMNS_SQL, {"oid": oid})]


def role(conn: Any, name: str) -> Role | None:
    rows = _rows(conn, ROLE_SQL, {"name": name})
    return Role(*rows[0]) if rows else None


def current_role(conn: Any) -> Role:
    name = _rows(conn, "SELECT current_user", {})[0][0]
    found = role(conn, name)
    assert found is not None
    return found


def bypass_roles(conn: Any, tables: Sequence[TenantTable], app: Role | None) -> list[BypassRole]:
    params = {"tables": [t.oid for t in tables], "app": app.oid if app else None}
    return [BypassRole(oid, name, sup, byp, login, tuple(reach), bool(become))
            for oid, name, sup, byp, login, reach, become in _rows(conn, BYPASS_ROLES_SQL, params)]


def owned_by(conn: Any, tables: Sequence[TenantTable], app: Role) -> set[int]:
    """Oids of the tables whose owner the application role is (or inherits the rights of)."""
    rows = _rows(conn, OWNS_SQL, {"tables": [t.oid for t in tables], "app": app.oid})
    return {oid for oid, owns in rows if owns}


def privileges(conn: Any, role_name: str, oid: int) -> tuple[bool, bool]:
    """(can SELECT, can INSERT) for the role on the table."""
    row = _rows(conn, PRIVILEGES_SQL, {"role": role_name, "oid": oid})[0]
    return bool(row[0]), bool(row[1])
