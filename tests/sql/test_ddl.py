"""ddl_facts and split_statements: schema discovery from .sql files and migration strings."""
from tenantlint.sql import ddl_facts, split_statements

SCHEMA = """-- tenants; are global
CREATE TABLE tenants (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS public."Orders" ( -- the main table
    id UUID NOT NULL,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    total NUMERIC(10, 2) DEFAULT 0,
    note TEXT DEFAULT 'a; b',
    CONSTRAINT orders_pk PRIMARY KEY (tenant_id, id),
    UNIQUE (id),
    CHECK (total >= 0)
);
CREATE INDEX idx_orders_tenant ON orders (tenant_id, created_at DESC);
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS ux ON ONLY public.orders USING btree (lower(note), id);
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE IF EXISTS ONLY public.orders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON orders
    FOR ALL TO app
    USING (tenant_id = current_setting('app.tenant_id', true)::uuid);
CREATE POLICY p2 ON orders WITH CHECK (orders.tenant_id = current_setting('app.tenant_id')::uuid);
CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2; $$ LANGUAGE sql;
this is not sql at all (((;
ALTER TABLE orders DISABLE ROW LEVEL SECURITY;
ALTER TABLE orders NO FORCE ROW LEVEL SECURITY;
ALTER TABLE orders ADD COLUMN x int;
"""


def test_ddl_facts_cover_tables_indexes_rls_and_policies():
    facts = ddl_facts(SCHEMA)
    kinds = [(f.kind, f.table) for f in facts]
    assert kinds == [
        ("create_table", "tenants"), ("create_table", "orders"), ("index", "orders"), ("index", "orders"),
        ("enable_rls", "orders"), ("force_rls", "orders"), ("policy", "orders"), ("policy", "orders"),
        ("disable_rls", "orders"), ("no_force_rls", "orders"), ("add_column", "orders"),
    ]
    tenants, orders, ix1, ix2, _, _, pol1, pol2 = facts[:8]
    assert tenants.columns == ("id", "slug") and tenants.indexed_leading == ("id", "slug")
    assert orders.columns == ("id", "tenant_id", "total", "note")
    assert orders.indexed_leading == ("tenant_id", "id")
    assert ix1.columns == ("tenant_id", "created_at")
    assert ix2.columns == ("", "id") and ix2.extra == {"unique": "true"}
    assert (pol1.using, pol1.with_check, pol1.columns) == (True, False, ("tenant_id",))
    assert (pol2.using, pol2.with_check, pol2.columns) == (False, True, ("tenant_id",))


def test_offsets_point_at_the_statement_keyword():
    for fact in ddl_facts(SCHEMA):
        assert SCHEMA[fact.offset:].split()[0].upper() in {"CREATE", "ALTER"}
    line = SCHEMA[:ddl_facts(SCHEMA)[1].offset].count("\n") + 1
    assert line == 7


def test_migration_strings_and_garbage():
    assert [f.kind for f in ddl_facts("ALTER TABLE attachments ENABLE ROW LEVEL SECURITY")] == ["enable_rls"]
    assert ddl_facts("CREATE POLICY") == []
    assert ddl_facts("'unterminated") == []
    assert ddl_facts("") == []
    assert ddl_facts("CREATE TABLE t AS SELECT * FROM x") == []


def test_split_statements_respects_strings_comments_and_dollar_quotes():
    text = "SELECT 'a;b'; -- c;d\nSELECT $$x;y$$ /* ; */;\n\nSELECT 3"
    parts = split_statements(text)
    assert [p[1] for p in parts] == ["SELECT 'a;b'", "SELECT $$x;y$$", "SELECT 3"]
    assert all(text[off:].startswith(stmt) for off, stmt in parts)
    assert split_statements("") == []
    assert split_statements("SELECT 'oops") == [(0, "SELECT 'oops")]


def test_one_untokenizable_statement_does_not_hide_the_others():
    from tenantlint.sql import ddl_facts, split_statements
    from tenantlint.sql.statements import untokenizable

    text = ("CREATE TABLE orders (id int, tenant_id int);\n"
            "SELECT 'unterminated;\n"
            "CREATE TABLE notes (id int, tenant_id int);\n")
    assert [f.table for f in ddl_facts(text) if f.kind == "create_table"] == ["orders", "notes"]
    assert [text[o:].split("\n")[0] for o in untokenizable(text)] == ["SELECT 'unterminated;"]
    assert any(s.startswith("CREATE TABLE notes") for _, s in split_statements(text))
    notes = next(f for f in ddl_facts(text) if f.table == "notes")
    assert text[notes.offset:].startswith("CREATE TABLE notes")
