"""TL301: SQL connections opened outside the tenant-aware data layer."""
from __future__ import annotations

from tenantlint.diagnostics import Severity
from tenantlint.rules.base import Checker, Rule

CHECKERS: tuple[type[Checker], ...] = ()


class RawConnection(Rule):
    """
    ## What it does
    Flags code that opens a SQL database connection directly, outside the files listed in
    `allow-raw-connections`: a driver's `connect()` (psycopg, psycopg2, asyncpg, pymysql,
    sqlite3, clickhouse...), `create_engine()`, `engine.connect()`/`raw_connection()`, and
    Django's `connection.cursor()`. Caches, vector stores and object stores are not SQL
    connections; an in-memory SQLite (`:memory:`) connection is exempt.

    ## Why is this bad?
    The tenant-aware data layer sets `SET LOCAL app.tenant_id` so that row-level security
    applies. A connection opened elsewhere skips it: every query on it runs unscoped.

    ## Example
    ```python
    import psycopg2

    def export():
        return psycopg2.connect(dbname="app")
    ```

    ## Use instead
    ```python
    from app.db import tenant_connection

    def export(tenant_id):
        return tenant_connection(tenant_id)
    ```

    ## How to fix
    Go through the data layer, or add the data layer's own files to
    `allow-raw-connections`.
    """

    code = "TL301"
    name = "raw-connection"
    severity = Severity.ERROR
    summary = "a SQL database connection opened outside allow-raw-connections"
