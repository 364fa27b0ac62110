"""`tenantlint db probe` against a real PostgreSQL: as the application role, in a
transaction that is rolled back, each leaking table is caught by what it lets through."""
from __future__ import annotations

import pytest

from tenantlint.db import DbSettings, ProbeError, probe

from db_schemas import SECURE_SCHEMA, TENANT_A


def found(diagnostics):
    return sorted((d.path, d.code, d.snippet) for d in diagnostics)


def leaks(path, code, *, insert=True):
    out = [(path, code, "visible:no-tenant"), (path, code, "visible:random-tenant")]
    return out + [(path, code, "insert")] if insert else out


def test_secure_schema_gives_no_findings(pgdb):
    app = pgdb.role("app")
    pgdb.execute(SECURE_SCHEMA + f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {app};"
                 f"INSERT INTO tenants VALUES ('{TENANT_A}', 'a');"
                 f"INSERT INTO orders VALUES (gen_random_uuid(), '{TENANT_A}', 1);")
    notes: list[str] = []
    with pgdb.connect(app) as conn:  # connected as the app role itself
        assert probe(conn, app, DbSettings(), notes) == []
    assert notes == []


def test_every_leaking_table_is_caught(defects):
    db, app = defects
    notes: list[str] = []
    with db.connect() as conn:  # as the DBA, SET ROLE to the application role
        diagnostics = probe(conn, app, DbSettings(), notes)
    # refunds (not forced, but owned by someone else), notes (no policy: nothing visible),
    # invoices (USING reused as WITH CHECK), orphans, layered and line_items hold for real.
    assert found(diagnostics) == sorted(
        leaks("public.app_owned", "TL502")
        + leaks("public.open_docs", "TL503")
        + leaks("public.payments", "TL501")
        + leaks("public.shared_files", "TL503", insert=False)  # its WITH CHECK holds
    )
    assert notes == []
    messages = {(d.path, d.snippet): d.message for d in diagnostics}
    assert "owner bypasses RLS" in messages[("public.app_owned", "visible:no-tenant")]
    assert "2 row(s)" in messages[("public.payments", "visible:no-tenant")]
    assert "1 row(s)" in messages[("public.shared_files", "visible:random-tenant")]
    # The FK to tenants stops the foreign row only after it got past RLS: still a finding.
    assert "got past row-level security" in messages[("public.open_docs", "insert")]


def test_probe_changes_nothing(defects):
    db, app = defects
    count_sql = "SELECT (SELECT count(*) FROM payments) + (SELECT count(*) FROM open_docs)"
    with db.connect() as conn:
        before = conn.execute(count_sql).fetchone()
        probe(conn, app)
        assert conn.info.transaction_status == 0 and conn.autocommit is True
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        assert conn.execute(count_sql).fetchone() == before


def test_accepted_insert_and_inconclusive_insert(pgdb):
    app = pgdb.role("app")
    pgdb.execute(f"""
        CREATE TABLE wide_open (tenant_id UUID NOT NULL, note TEXT NOT NULL, n INT NOT NULL,
                                at TIMESTAMPTZ NOT NULL, flag BOOLEAN NOT NULL, id BIGINT GENERATED ALWAYS AS IDENTITY);
        CREATE INDEX ON wide_open (tenant_id);
        ALTER TABLE wide_open ENABLE ROW LEVEL SECURITY; ALTER TABLE wide_open FORCE ROW LEVEL SECURITY;
        CREATE POLICY r ON wide_open USING (tenant_id = current_setting('app.tenant_id', true)::uuid)
            WITH CHECK (true);
        CREATE TABLE guarded (tenant_id UUID NOT NULL);
        CREATE FUNCTION no_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'inserts go through the API'; END $$;
        CREATE TRIGGER guard BEFORE INSERT ON guarded FOR EACH ROW EXECUTE FUNCTION no_inserts();
        ALTER TABLE guarded ENABLE ROW LEVEL SECURITY; ALTER TABLE guarded FORCE ROW LEVEL SECURITY;
        CREATE POLICY p ON guarded USING (tenant_id = current_setting('app.tenant_id', true)::uuid)
            WITH CHECK (true);
        CREATE TABLE read_only_for_app (tenant_id UUID NOT NULL);
        GRANT SELECT, INSERT ON wide_open, guarded TO {app};
        GRANT SELECT ON read_only_for_app TO {app};
        ALTER TABLE read_only_for_app ENABLE ROW LEVEL SECURITY;
    """)
    notes: list[str] = []
    with pgdb.connect() as conn:
        diagnostics = probe(conn, app, DbSettings(), notes)
    assert found(diagnostics) == [("public.wide_open", "TL503", "insert")]
    assert "was accepted" in diagnostics[0].message
    assert len(notes) == 2
    assert notes[0].startswith("public.guarded: insert check inconclusive") and "P0001" in notes[0]
    assert notes[1] == f"public.read_only_for_app: role `{app}` has no INSERT on it: write check skipped"


def test_bypassrls_role_and_integer_tenant_column(pgdb):
    app = pgdb.role("app", "LOGIN BYPASSRLS")
    pgdb.execute(f"""
        CREATE TABLE projects (id SERIAL PRIMARY KEY, team_id BIGINT NOT NULL, name TEXT NOT NULL);
        CREATE INDEX ON projects (team_id);
        ALTER TABLE projects ENABLE ROW LEVEL SECURITY; ALTER TABLE projects FORCE ROW LEVEL SECURITY;
        CREATE POLICY team ON projects USING (team_id = current_setting('app.team', true)::bigint)
            WITH CHECK (team_id = current_setting('app.team', true)::bigint);
        INSERT INTO projects (team_id, name) VALUES (1, 'a'), (2, 'b');
        GRANT SELECT, INSERT ON projects TO {app}; GRANT USAGE ON SEQUENCE projects_id_seq TO {app};
    """)
    settings = DbSettings(tenant_columns=("team_id",), tenant_setting="app.team")
    with pgdb.connect() as conn:
        diagnostics = probe(conn, app, settings)
    assert found(diagnostics) == sorted(leaks("public.projects", "TL107"))
    assert all(d.name == "sql-rls-bypass" for d in diagnostics)
    assert "has BYPASSRLS" in diagnostics[0].message
    pgdb.execute(f"ALTER ROLE {app} NOBYPASSRLS")
    with pgdb.connect() as conn:
        assert probe(conn, app, settings) == []  # the integer-typed random tenant is refused


def test_unknown_role_and_role_we_cannot_become(pgdb):
    app = pgdb.role("app")
    other = pgdb.role("other")
    with pgdb.connect() as conn, pytest.raises(ProbeError, match="does not exist"):
        probe(conn, "nobody_here")
    with pgdb.connect(app) as conn, pytest.raises(ProbeError, match=f"cannot SET ROLE {other}"):
        probe(conn, other)
