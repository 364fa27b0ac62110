"""Schema rules (TL501-TL504): RLS and tenant indexes on tables defined in the tree.
They are judged on the tenant catalog, at each table's definition."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.rulebase import Rule

_CONFIG = {"require-rls": True}


class RlsNotEnabled(Rule):
    """
    ## What it does
    With `require-rls`, flags a tenant table (defined by `CREATE TABLE`,
    `op.create_table` or a model) on which no migration runs
    `ALTER TABLE ... ENABLE ROW LEVEL SECURITY`.

    ## Why is this bad?
    Row-level security is the database's own tenant guard: without it, one forgotten
    `WHERE tenant_id = ...` in any code path leaks every tenant's rows.

    ## Example
    ```sql
    CREATE TABLE orders (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
    CREATE INDEX orders_tenant ON orders (tenant_id);
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
    CREATE INDEX orders_tenant ON orders (tenant_id);
    ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
    ALTER TABLE orders FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON orders
        USING (tenant_id = current_setting('app.tenant_id')::uuid)
        WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
    ```

    ## How to fix
    Enable and force RLS, and add a tenant policy, in a migration.
    """

    code = "TL501"
    name = "rls-not-enabled"
    severity = Severity.ERROR
    summary = "tenant table without ENABLE ROW LEVEL SECURITY (require-rls)"
    example_config = _CONFIG


class RlsNotForced(Rule):
    """
    ## What it does
    With `require-rls`, flags a tenant table with RLS enabled but not forced.

    ## Why is this bad?
    Without `FORCE ROW LEVEL SECURITY` the table's owner bypasses every policy, and
    applications very often connect as the owner.

    ## Example
    ```sql
    CREATE TABLE orders (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
    CREATE INDEX orders_tenant ON orders (tenant_id);
    ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON orders
        USING (tenant_id = current_setting('app.tenant_id')::uuid)
        WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
    CREATE INDEX orders_tenant ON orders (tenant_id);
    ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
    ALTER TABLE orders FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON orders
        USING (tenant_id = current_setting('app.tenant_id')::uuid)
        WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
    ```

    ## How to fix
    `ALTER TABLE <t> FORCE ROW LEVEL SECURITY`.
    """

    code = "TL502"
    name = "rls-not-forced"
    severity = Severity.ERROR
    summary = "RLS enabled but not FORCEd, so the table owner bypasses it (require-rls)"
    example_config = _CONFIG


class RlsPolicyMissing(Rule):
    """
    ## What it does
    With `require-rls`, flags a tenant table with RLS on but no policy that constrains
    the tenant column, or a policy without `WITH CHECK`.

    ## Why is this bad?
    RLS with no policy denies everything (so someone will soon disable it); a policy
    without `WITH CHECK` lets a tenant write rows into another tenant.

    ## Example
    ```sql
    CREATE TABLE orders (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
    CREATE INDEX orders_tenant ON orders (tenant_id);
    ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
    ALTER TABLE orders FORCE ROW LEVEL SECURITY;
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
    CREATE INDEX orders_tenant ON orders (tenant_id);
    ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
    ALTER TABLE orders FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON orders
        USING (tenant_id = current_setting('app.tenant_id')::uuid)
        WITH CHECK (tenant_id = current_setting('app.tenant_id')::uuid);
    ```

    ## How to fix
    Add a policy with both `USING` and `WITH CHECK` on the tenant column.
    """

    code = "TL503"
    name = "rls-policy-missing"
    severity = Severity.ERROR
    summary = "RLS on but no tenant policy, or no WITH CHECK (require-rls)"
    example_config = _CONFIG


class TenantIndexMissing(Rule):
    """
    ## What it does
    Flags a tenant table with no index led by its tenant column (a `CREATE INDEX`, a
    primary or unique key led by it, `index=True` on the column, or a Django ForeignKey).

    ## Why is this bad?
    Every scoped query filters on the tenant column: without an index each one scans the
    whole table, and the pressure to "optimize" by dropping the predicate follows.

    ## Example
    ```sql
    CREATE TABLE reports (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, created_at timestamptz);
    CREATE INDEX reports_created ON reports (created_at, tenant_id);
    ```

    ## Use instead
    ```sql
    CREATE TABLE reports (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, created_at timestamptz);
    CREATE INDEX reports_tenant ON reports (tenant_id, created_at);
    ```

    ## How to fix
    Create an index whose first column is the tenant column.
    """

    code = "TL504"
    name = "tenant-index-missing"
    severity = Severity.WARNING
    summary = "tenant table without an index led by its tenant column"
    precision = "medium"
    security_severity = "3.7"
