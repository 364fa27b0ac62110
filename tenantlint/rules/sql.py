"""The SQL rules (TL101-TL107): identity and docs. The checker that finds them is
`tenantlint.rules.sql_checker.SqlChecker`; the analysis itself lives in `tenantlint.sql`."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.rulebase import Rule
from tenantlint.rules.sql_checker import SqlChecker  # noqa: F401  (registered in rules/__init__)


class SqlUnscopedQuery(Rule):
    """
    ## What it does
    Flags SELECT, UPDATE, DELETE and MERGE statements (and ClickHouse `ALTER TABLE ...
    DELETE/UPDATE` mutations) that read or write a tenant table without constraining its
    tenant column: every occurrence of a tenant table, in every CTE, subquery and UNION
    branch, must equate its tenant column to a parameter, a constant, or the tenant
    setting (`current_setting('app.tenant_id')`), or be joined on it to one that does.

    ## Why is this bad?
    Without the predicate the statement sees every tenant's rows. The classic incident:
    a helper that takes a raw connection and forgets the filter, so a billing run sums
    usage across all customers.

    ## Example
    ```python
    def order(cur, order_id):
        cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
    ```

    ## Use instead
    ```python
    def order(cur, tenant_id, order_id):
        cur.execute("SELECT * FROM orders WHERE tenant_id = %s AND id = %s", (tenant_id, order_id))
    ```

    ## How to fix
    Add `tenant_id = <parameter>` as a top-level AND condition, run the statement inside a
    configured `scope-providers` context, or, for deliberate cross-tenant code, suppress it
    with a reason: `# tenantlint: ignore[TL101] nightly platform report`.
    """

    code = "TL101"
    name = "sql-unscoped-query"
    severity = Severity.ERROR
    summary = "SELECT/UPDATE/DELETE/MERGE on a tenant table with no tenant predicate"


class SqlWeakenedTenantPredicate(Rule):
    """
    ## What it does
    Flags a tenant predicate that does not actually pin one tenant: under `OR` or `NOT`,
    `<>`/`!=`, `IS NOT NULL`, or a column compared with itself (`tenant_id = tenant_id`).

    ## Why is this bad?
    `WHERE tenant_id = %s OR is_public` returns other tenants' public rows; `tenant_id IS
    NOT NULL` and `tenant_id = tenant_id` are true for every row. The query looks scoped in
    review and is not.

    ## Example
    ```python
    def documents(cur, tenant_id):
        cur.execute("SELECT * FROM orders WHERE tenant_id = %s OR is_public", (tenant_id,))
    ```

    ## Use instead
    ```python
    def documents(cur, tenant_id):
        cur.execute("SELECT * FROM orders WHERE tenant_id = %s AND is_public", (tenant_id,))
    ```

    ## How to fix
    Make `tenant_id = <parameter>` a top-level AND conjunct; put alternatives in
    parentheses beside it: `tenant_id = %s AND (a OR b)`.
    """

    code = "TL102"
    name = "sql-weakened-tenant-predicate"
    severity = Severity.ERROR
    summary = "tenant predicate under OR/NOT, <>, IS NOT NULL or self-comparison"


class SqlInsertWithoutTenant(Rule):
    """
    ## What it does
    Flags an INSERT into a tenant table whose column list does not include the tenant
    column.

    ## Why is this bad?
    The row is created with no tenant (or a default that belongs to someone else): it is
    invisible to its owner or visible to everyone, depending on the policy.

    ## Example
    ```python
    def add(cur, order_id, total):
        cur.execute("INSERT INTO orders (id, total) VALUES (%s, %s)", (order_id, total))
    ```

    ## Use instead
    ```python
    def add(cur, tenant_id, order_id, total):
        cur.execute("INSERT INTO orders (id, tenant_id, total) VALUES (%s, %s, %s)", (order_id, tenant_id, total))
    ```

    ## How to fix
    Always insert the tenant column explicitly.
    """

    code = "TL103"
    name = "sql-insert-without-tenant"
    severity = Severity.ERROR
    summary = "INSERT into a tenant table without its tenant column"


class SqlJoinUnscoped(Rule):
    """
    ## What it does
    Flags a tenant table joined to an anchored one by non-tenant keys only, with no
    `a.tenant_id = b.tenant_id` (or `USING (tenant_id)`) and no predicate of its own.

    ## Why is this bad?
    Foreign keys cross tenants when ids are reused, guessable or corrupted; the joined
    table is not constrained to the tenant the query is about.

    ## Example
    ```python
    def emails(cur, tenant_id):
        cur.execute(
            "SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
            "WHERE o.tenant_id = %s",
            (tenant_id,),
        )
    ```

    ## Use instead
    ```python
    def emails(cur, tenant_id):
        cur.execute(
            "SELECT o.id, c.email FROM orders o "
            "JOIN customers c ON c.id = o.customer_id AND c.tenant_id = o.tenant_id "
            "WHERE o.tenant_id = %s",
            (tenant_id,),
        )
    ```

    ## How to fix
    Add the tenant column to the join condition.
    """

    code = "TL104"
    name = "sql-join-unscoped"
    severity = Severity.WARNING
    summary = "a joined tenant table not tied to the anchored tenant"
    precision = "medium"
    example_config = {"tenant-tables": ["orders", "customers"]}


class SqlSessionLevelTenant(Rule):
    """
    ## What it does
    Flags `SET search_path`, `SET ROLE`, or `SET app.x = ...` of a setting that
    carries the tenant, without `LOCAL`, and `set_config(..., false)` of one. A custom
    setting carries the tenant when its name mentions `tenant` or a tenant column
    (`app.team_id`), or when a policy or query of the project reads it with
    `current_setting()`. A database engine's own tuning knobs
    (`SET vchordrq.probes`, `SET cz.storage...`) are not tenant state.

    ## Why is this bad?
    A session-level setting outlives the transaction. With a connection pool the next
    request, for another tenant, inherits this tenant's schema or `app.tenant_id`.

    ## Example
    ```python
    def use_tenant(cur, tenant_id):
        cur.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant_id,))
    ```

    ## Use instead
    ```python
    def use_tenant(cur, tenant_id):
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
    ```

    ## How to fix
    Use `SET LOCAL` or `set_config(name, value, true)` inside the request's transaction.
    """

    code = "TL105"
    name = "sql-session-level-tenant"
    severity = Severity.ERROR
    summary = "session-level SET of search_path, role or a setting that carries the tenant"


class SqlInterpolatedIdentifier(Rule):
    """
    ## What it does
    Flags schema, `search_path` and table names interpolated into SQL text with an
    f-string, `%`, `.format` or `+`.

    ## Why is this bad?
    In schema-per-tenant designs the interpolated name is the tenant boundary: a crafted
    or unexpected value (`public`, `other_tenant`, `x; DROP ...`) crosses it.

    ## Example
    ```python
    def provision(cur, slug):
        cur.execute(f"CREATE SCHEMA tenant_{slug}")
    ```

    ## Use instead
    ```python
    from psycopg2 import sql

    def provision(cur, slug):
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(f"tenant_{slug}")))
    ```

    ## How to fix
    Compose identifiers with `psycopg.sql.Identifier` (or your driver's quoting), after
    validating the name against the tenant registry.
    """

    code = "TL106"
    name = "sql-interpolated-identifier"
    severity = Severity.ERROR
    summary = "schema/search_path/table names interpolated into SQL text"
    cwe = ("CWE-639", "CWE-89")


class SqlRlsBypass(Rule):
    """
    ## What it does
    Flags `DISABLE ROW LEVEL SECURITY`, `NO FORCE ROW LEVEL SECURITY`,
    `row_security = off` and `BYPASSRLS` in application code, migrations and `.sql` files.

    ## Why is this bad?
    Row-level security is the database's last line of tenant isolation; turning it off,
    even briefly, lets every query see every tenant.

    ## Example
    ```python
    def backfill(cur):
        cur.execute("SET LOCAL row_security = off")
    ```

    ## Use instead
    ```python
    def backfill(cur, tenant_id):
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", (tenant_id,))
    ```

    ## How to fix
    Run cross-tenant maintenance per tenant, or as a dedicated audited role; suppress
    with a reason where the bypass is deliberate.
    """

    code = "TL107"
    name = "sql-rls-bypass"
    severity = Severity.ERROR
    summary = "DISABLE/NO FORCE ROW LEVEL SECURITY, row_security = off, BYPASSRLS"
    cwe = ("CWE-639", "CWE-284")
