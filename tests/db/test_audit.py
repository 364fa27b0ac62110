"""`tenantlint db audit` against a real PostgreSQL: every seeded defect, exactly, and
nothing on the seed article's correctly secured schema."""
from __future__ import annotations

import pytest

from tenantlint.db import DbSettings, UnknownRole, audit
from tenantlint.diagnostics import Severity

from db_schemas import SECURE_SCHEMA


def found(diagnostics):
    """(path, code, defect key): the exact identity of each finding."""
    return sorted((d.path, d.code, d.snippet) for d in diagnostics)


def by_key(diagnostics, path, key):
    [diag] = [d for d in diagnostics if d.path == path and d.snippet == key]
    return diag


def test_secure_schema_gives_no_findings(pgdb):
    app = pgdb.role("app")
    pgdb.execute(SECURE_SCHEMA + f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app};")
    with pgdb.connect(app) as conn:
        assert audit(conn) == []
    with pgdb.connect() as conn:  # as the DBA, naming the application role
        assert audit(conn, DbSettings(app_role=app)) == []


def test_every_seeded_defect_is_found_exactly(defects):
    db, app = defects
    with db.connect(app) as conn:
        diagnostics = audit(conn, DbSettings())
    assert found(diagnostics) == [
        ("public.app_owned", "TL502", "owner-bypass"),
        ("public.invoices", "TL503", "no-with-check"),
        ("public.notes", "TL503", "no-policy"),
        ("public.open_docs", "TL503", "open:USING:true"),
        ("public.open_docs", "TL503", "open:WITH CHECK:true"),
        ("public.orphans", "TL503", "nullable-tenant-column"),
        ("public.payments", "TL501", "rls-disabled"),
        ("public.payments", "TL504", "no-tenant-index"),
        ("public.refunds", "TL502", "rls-not-forced"),
        ("public.shared_files", "TL503", "tenant_or_public:USING:or"),
    ]
    for diag in diagnostics:
        assert (diag.location.line, diag.location.column) == (1, 1)
        assert diag.fingerprint
        assert diag.severity is (Severity.WARNING if diag.code == "TL504" else Severity.ERROR)
    names = {d.code: d.name for d in diagnostics}
    assert names == {"TL501": "rls-not-enabled", "TL502": "rls-not-forced",
                     "TL503": "rls-policy-missing", "TL504": "tenant-index-missing"}
    assert "owner bypasses RLS" in by_key(diagnostics, "public.app_owned", "owner-bypass").message.replace(
        "table owner bypasses RLS", "owner bypasses RLS")
    assert f"application role `{app}`" in by_key(diagnostics, "public.app_owned", "owner-bypass").message
    assert "OR escape" in by_key(diagnostics, "public.shared_files", "tenant_or_public:USING:or").message
    assert "USING (true)" in by_key(diagnostics, "public.open_docs", "open:USING:true").message
    assert "WITH CHECK (true)" in by_key(diagnostics, "public.open_docs", "open:WITH CHECK:true").message
    assert "nullable" in by_key(diagnostics, "public.orphans", "nullable-tenant-column").message
    assert "falls back to its USING" in by_key(diagnostics, "public.invoices", "no-with-check").message


def test_fingerprints_are_stable_across_runs(defects):
    db, app = defects
    with db.connect(app) as conn:
        first = [d.fingerprint for d in audit(conn)]
        second = [d.fingerprint for d in audit(conn)]
    assert first == second and len(set(first)) == len(first)


def test_roles_that_bypass_rls_and_reach_tenant_tables(pgdb):
    app = pgdb.role("app")
    auditor = pgdb.role("auditor", "LOGIN BYPASSRLS")  # can read a tenant table: reported
    idle = pgdb.role("idle", "LOGIN BYPASSRLS")  # no privilege on any tenant table: not reported
    admin = pgdb.role("admin", "LOGIN SUPERUSER")  # a superuser reaches everything
    pgdb.execute(SECURE_SCHEMA + f"GRANT SELECT, INSERT ON orders TO {app}; GRANT SELECT ON orders TO {auditor};")
    with pgdb.connect(app) as conn:
        diagnostics = audit(conn)
    assert found(diagnostics) == [
        (f"role:{admin}", "TL107", "bypass-role"),
        (f"role:{auditor}", "TL107", "bypass-role"),
    ]
    assert all(d.name == "sql-rls-bypass" and d.severity is Severity.ERROR for d in diagnostics)
    assert "has BYPASSRLS" in by_key(diagnostics, f"role:{auditor}", "bypass-role").message
    assert "public.orders" in by_key(diagnostics, f"role:{auditor}", "bypass-role").message
    assert idle not in str(diagnostics)
    # The bootstrap superuser (`postgres`) is the DBA's and is not reported: unless the app is it.
    with pgdb.connect() as conn:
        as_postgres = audit(conn)
    assert (f"role:postgres", "TL107", "app-bypass") in found(as_postgres)


def test_application_role_that_bypasses_rls(pgdb):
    app = pgdb.role("app", "LOGIN BYPASSRLS")
    member = pgdb.role("member")
    pgdb.execute(SECURE_SCHEMA + f"GRANT SELECT ON orders TO {app}, {member}; GRANT {app} TO {member};")
    with pgdb.connect() as conn:
        assert found(audit(conn, DbSettings(app_role=app))) == [(f"role:{app}", "TL107", "app-bypass")]
        via_membership = audit(conn, DbSettings(app_role=member))
    assert found(via_membership) == [(f"role:{app}", "TL107", "app-member-of-bypass")]
    assert f"`{member}` is a member of `{app}`" in via_membership[0].message


def test_tenant_columns_schemas_and_global_tables(pgdb):
    app = pgdb.role("app")
    pgdb.execute("""
        CREATE SCHEMA billing;
        CREATE TABLE billing.accounts (id BIGSERIAL PRIMARY KEY, team_id BIGINT NOT NULL);
        CREATE TABLE public.audit_log (id BIGSERIAL PRIMARY KEY, tenant_id UUID NOT NULL);
        CREATE TABLE public.plans (id INT PRIMARY KEY, tenant_id UUID NOT NULL);
    """)
    with pgdb.connect(app) as conn:
        default = audit(conn)
        teams = audit(conn, DbSettings(tenant_columns=("team_id",), schemas=("billing",)))
        both = audit(conn, DbSettings(tenant_columns=("tenant_id", "team_id"), global_tables=("plans",)))
    assert {d.path for d in default} == {"public.audit_log", "public.plans"}
    assert found(teams) == [("billing.accounts", "TL501", "rls-disabled"),
                            ("billing.accounts", "TL504", "no-tenant-index")]
    assert "`team_id`" in teams[0].message
    assert {d.path for d in both} == {"billing.accounts", "public.audit_log"}


def test_policy_shapes(pgdb):
    """Policies PostgreSQL accepts in many shapes; only the leaking ones are findings."""
    app = pgdb.role("app")
    secure = ("ALTER TABLE {t} ENABLE ROW LEVEL SECURITY; ALTER TABLE {t} FORCE ROW LEVEL SECURITY;"
              "CREATE INDEX ON {t} (tenant_id);")
    tables = {
        # membership subquery, text comparison with a cast: both pin the tenant
        "by_membership": "CREATE POLICY p ON {t} USING (tenant_id IN (SELECT m.tenant_id FROM members m "
                         "WHERE m.username = current_user)) WITH CHECK (tenant_id::text = current_setting('app.tenant_id'));",
        # separate SELECT and INSERT policies
        "split": "CREATE POLICY r ON {t} FOR SELECT USING (tenant_id = current_setting('app.tenant_id')::uuid);"
                 "CREATE POLICY w ON {t} FOR INSERT WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);",
        # self-comparison: always true
        "selfcmp": "CREATE POLICY p ON {t} USING (tenant_id = tenant_id) "
                   "WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);",
        # an escape hatch setting OR-ed in, and a per-user policy OR-ed next to the tenant one
        "hatch": "CREATE POLICY p ON {t} USING (tenant_id = current_setting('app.tenant_id')::uuid "
                 "OR current_setting('app.bypass', true) = 'on') "
                 "WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);"
                 "CREATE POLICY mine ON {t} FOR SELECT TO public USING (owner = current_user);",
        # only reads are pinned
        "read_only_policy": "CREATE POLICY r ON {t} FOR SELECT USING (tenant_id = current_setting('app.tenant_id')::uuid);",
    }
    sql = "CREATE TABLE members (tenant_id UUID NOT NULL, username TEXT NOT NULL);"
    for name, policy in tables.items():
        sql += f"CREATE TABLE {name} (id INT, tenant_id UUID NOT NULL, owner TEXT);" + secure.format(t=name)
        sql += policy.format(t=name)
    pgdb.execute(sql)
    with pgdb.connect(app) as conn:
        diagnostics = audit(conn)
    assert found(diagnostics) == [
        ("public.hatch", "TL503", "mine:USING:unrelated"),
        ("public.hatch", "TL503", "p:USING:or"),
        ("public.members", "TL501", "rls-disabled"),
        ("public.members", "TL504", "no-tenant-index"),
        ("public.read_only_policy", "TL503", "no-with-check"),
        ("public.selfcmp", "TL503", "p:USING:self"),
    ]


def test_audit_is_read_only_and_leaves_the_connection_as_it_was(defects):
    db, app = defects
    with db.connect() as conn:
        conn.execute("ALTER DATABASE " + db.name + " SET default_transaction_read_only = on")
    with db.connect(app) as conn:  # a read-only database (a replica, say) is fine
        conn.autocommit = False
        conn.rollback()
        assert audit(conn)
        assert conn.autocommit is False
        assert conn.info.transaction_status == 0
        conn.execute("SELECT 1")  # the caller's transaction: audit refuses to interfere
        with pytest.raises(ValueError, match="inside a transaction"):
            audit(conn)


def test_unknown_app_role(pgdb):
    with pgdb.connect() as conn, pytest.raises(UnknownRole, match="nobody_here"):
        audit(conn, DbSettings(app_role="nobody_here"))


def test_remediation_applied_makes_the_audit_clean(defects):
    from tenantlint.db.audit import read_state
    from tenantlint.db.remediation import remediation, tenant_setting

    db, app = defects
    with db.connect() as conn:
        state = read_state(conn, DbSettings(app_role=app))
    assert tenant_setting(state.tables, None) == "app.tenant_id"  # what the existing policies read
    sql = remediation(state.tables, state.bypass, "app.tenant_id")
    assert "ALTER TABLE public.payments ENABLE ROW LEVEL SECURITY;" in sql
    assert "CREATE INDEX IF NOT EXISTS payments_tenant_id_idx ON public.payments (tenant_id);" in sql
    # open_docs has a permissive USING (true): the tenant policy is restrictive, AND-ed with it
    assert "CREATE POLICY tenant_isolation ON public.open_docs AS RESTRICTIVE" in sql
    assert "public.orders" not in sql and "public.layered" not in sql  # already clean
    db.execute(sql)
    with db.connect(app) as conn:
        assert audit(conn, DbSettings()) == []


def test_remediation_policy_really_isolates_tenants(defects):
    from tenantlint.db.audit import read_state
    from tenantlint.db.remediation import remediation

    from db_schemas import TENANT_A

    db, app = defects
    with db.connect() as conn:
        state = read_state(conn, DbSettings(app_role=app))
    db.execute(remediation(state.tables, state.bypass, "app.tenant_id"))
    with db.connect(app) as conn:
        conn.execute(f"SET app.tenant_id = '{TENANT_A}'")
        for table in ("payments", "open_docs", "shared_files", "app_owned"):
            tenants = {row[0] for row in conn.execute(f"SELECT DISTINCT tenant_id::text FROM {table}")}
            assert tenants <= {TENANT_A}, table
