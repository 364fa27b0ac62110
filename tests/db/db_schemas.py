"""SQL for the database tests: the seed article's secure schema and one table per defect."""
from __future__ import annotations

# The seed article's correctly secured table (acceptance/suites/schema/migrations/001_init.sql):
# RLS enabled and forced, one policy pinning tenant_id for reads and writes, a tenant index.
SECURE_SCHEMA = """
CREATE TABLE tenants (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE
);
CREATE TABLE orders (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenants(id),
    total NUMERIC(10, 2)
);
CREATE INDEX idx_orders_tenant ON orders (tenant_id);
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON orders
    USING (tenant_id = current_setting('app.tenant_id', true)::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)::uuid);
"""

_POLICY = """
CREATE POLICY tenant_isolation ON {t}
    USING (tenant_id = current_setting('app.tenant_id', true)::uuid)
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true)::uuid);
"""


def _secured(table: str, columns: str = "amount NUMERIC(10, 2)", *, nullable: bool = False,
             force: bool = True, index: bool = True, policy: str | None = _POLICY) -> str:
    null = "" if nullable else " NOT NULL"
    sql = (f"CREATE TABLE {table} (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), "
           f"tenant_id UUID{null} REFERENCES tenants(id), {columns});\n")
    if index:
        sql += f"CREATE INDEX ON {table} (tenant_id);\n"
    if policy is not None:
        sql += f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;\n"
        if force:
            sql += f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;\n"
        sql += policy.format(t=table)
    return sql


# One table per defect. `{app}` is the application role.
DEFECT_SCHEMA = SECURE_SCHEMA + "".join([
    # TL501 + TL504: no RLS at all, no tenant index.
    "CREATE TABLE payments (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), "
    "tenant_id UUID NOT NULL REFERENCES tenants(id), amount NUMERIC(10, 2));\n",
    # TL502: enabled, not forced (owned by the superuser, not the app).
    _secured("refunds", force=False),
    # TL503: enabled and forced, no policy.
    _secured("notes", "body TEXT", policy="ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;"
             " ALTER TABLE {t} FORCE ROW LEVEL SECURITY;"),
    # TL503: FOR ALL policy with USING only (PostgreSQL falls back to USING for writes).
    _secured("invoices", policy="CREATE POLICY using_only ON {t} "
             "USING (tenant_id = current_setting('app.tenant_id', true)::uuid);"),
    # TL503 twice: USING (true) and WITH CHECK (true).
    _secured("open_docs", "body TEXT", policy="CREATE POLICY open ON {t} USING (true) WITH CHECK (true);"),
    # TL503: an OR escape in USING.
    _secured("shared_files", "is_public BOOLEAN NOT NULL DEFAULT false", policy=(
        "CREATE POLICY tenant_or_public ON {t} "
        "USING (tenant_id = current_setting('app.tenant_id', true)::uuid OR is_public) "
        "WITH CHECK (tenant_id = current_setting('app.tenant_id', true)::uuid);")),
    # TL503: nullable tenant column (otherwise secured).
    _secured("orphans", nullable=True),
    # TL502 (owner bypass): owned by the application role, not forced.
    _secured("app_owned", force=False) + "ALTER TABLE app_owned OWNER TO {app};\n",
    # Clean: a permissive USING (true) narrowed by a restrictive tenant policy.
    _secured("layered", policy=(
        "CREATE POLICY everyone ON {t} USING (true) WITH CHECK (true);"
        "CREATE POLICY tenant_only ON {t} AS RESTRICTIVE "
        "USING (tenant_id = current_setting('app.tenant_id', true)::uuid) "
        "WITH CHECK (tenant_id = current_setting('app.tenant_id', true)::uuid);")),
    # Clean: the tenant index is the primary key, led by tenant_id.
    "CREATE TABLE line_items (tenant_id UUID NOT NULL REFERENCES tenants(id), id INT NOT NULL, "
    "sku TEXT NOT NULL, PRIMARY KEY (tenant_id, id));\n"
    "ALTER TABLE line_items ENABLE ROW LEVEL SECURITY; ALTER TABLE line_items FORCE ROW LEVEL SECURITY;\n"
    + _POLICY.format(t="line_items"),
    # Not a tenant table: no tenant column.
    "CREATE TABLE countries (code TEXT PRIMARY KEY);\n",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app};\n",
])

TENANT_A = "00000000-0000-0000-0000-00000000000a"
TENANT_B = "00000000-0000-0000-0000-00000000000b"

# Rows for two tenants in every tenant table (inserted by the superuser, which bypasses RLS).
SEED_ROWS = f"""
INSERT INTO tenants VALUES ('{TENANT_A}', 'a'), ('{TENANT_B}', 'b');
INSERT INTO orders VALUES (gen_random_uuid(), '{TENANT_A}', 1), (gen_random_uuid(), '{TENANT_B}', 2);
""" + "".join(
    f"INSERT INTO {t} (tenant_id) VALUES ('{TENANT_A}'), ('{TENANT_B}');\n"
    for t in ("payments", "refunds", "invoices", "orphans", "app_owned", "layered")
) + f"""
INSERT INTO notes (tenant_id, body) VALUES ('{TENANT_A}', 'n');
INSERT INTO open_docs (tenant_id, body) VALUES ('{TENANT_A}', 'd'), ('{TENANT_B}', 'd');
INSERT INTO shared_files (tenant_id, is_public) VALUES ('{TENANT_A}', true), ('{TENANT_B}', false);
INSERT INTO line_items VALUES ('{TENANT_A}', 1, 's'), ('{TENANT_B}', 1, 's');
"""
