"""TL301: SQL connections opened outside the tenant-aware data layer."""
from __future__ import annotations

import ast
import fnmatch
import re

from tenantlint.diagnostics import Severity
from tenantlint.files import config_base, glob_forms
from tenantlint.rulebase import Checker, Rule
from tenantlint.stores.bindings import find_arg
from tenantlint.stores.dicts import literal
from tenantlint.stores.walker import ApiChecker


class ConnectionChecker(ApiChecker):
    """Calls the catalog marks `role = "connect"`, outside `allow-raw-connections`."""

    codes = ("TL301",)
    roles = ("connect",)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        entries = ctx.settings.allow_raw_connections
        if self.active and allowed(ctx.path, entries, config_base(ctx.settings)):
            self.active = False
        self.engines = tuple(e for e in entries if is_object_name(e))
        self.assigned: dict[int, ast.expr] = {}  # id of an assigned call -> its target

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.engines and len(node.targets) == 1:
            self.assigned[id(node.value)] = node.targets[0]

    def check(self, call, role, matched) -> None:
        for spec, _handle, _method in matched:
            if spec.exempt_arg is not None:
                value = literal(find_arg(call, spec.exempt_arg, self.value_of, self.splat_value))
                if value is not None and any(fnmatch.fnmatchcase(value, v) for v in spec.exempt_values):
                    return
        if self.engines and self._data_layer(call):
            return
        name = self.ctx.code_for(call.func)
        self.report("TL301", call, f"`{name}()` opens a raw SQL connection outside the tenant-aware "
                                   f"data layer (`allow-raw-connections`)")


    def _data_layer(self, call: ast.Call) -> bool:
        """The call creates (`engine = create_engine(...)` where the name is listed) or uses
        (`engine.connect()`, `db.engine.begin()`, through local aliases) one of the
        project's own engine objects listed in `allow-raw-connections`."""
        target = self.assigned.get(id(call))
        if target is not None and self._listed(target):
            return True
        node = call.func.value if isinstance(call.func, ast.Attribute) else None
        for _ in range(4):  # `eng = engine` / `conn = engine.connect()`: follow a few bindings
            if node is None:
                return False
            if self._listed(node):
                return True
            if isinstance(node, ast.Name):
                value = self.value_of(node.id)
                node = value if isinstance(value, ast.expr) else None
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                node = node.func.value
            elif isinstance(node, ast.Await):
                node = node.value
            else:
                return False
        return False

    def _listed(self, node: ast.expr) -> bool:
        qualified = self.ctx.imports.qualify(node)
        return bool(qualified) and any(qualified == e or qualified.startswith(e + ".") for e in self.engines)


_OBJECT_NAME = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


def is_object_name(entry: str) -> bool:
    """An `allow-raw-connections` entry that names an object (`app.extensions.db.engine`)
    rather than files: dotted identifiers, not a path or a source file name."""
    return bool(_OBJECT_NAME.fullmatch(entry.strip())) and not entry.strip().endswith((".py", ".pyi", ".sql"))


def allowed(path: str, globs, base: str = "") -> bool:
    """`path` (relative to the project root, or to the config's folder below it) matches a
    glob, or lies under a listed folder."""
    return any(_allowed(form, globs) for form in glob_forms(path, base))


def _allowed(path: str, globs) -> bool:
    for glob in globs:
        glob = glob.strip().removeprefix("./")
        if fnmatch.fnmatch(path, glob) or fnmatch.fnmatch(path, glob.rstrip("/") + "/*"):
            return True
        if glob.endswith("/**") and fnmatch.fnmatch(path, glob[:-3] + "/*"):
            return True
    return False


CHECKERS: tuple[type[Checker], ...] = (ConnectionChecker,)


class RawConnection(Rule):
    """
    ## What it does
    Flags code that opens a SQL database connection directly, outside the files listed in
    `allow-raw-connections`: a driver's `connect()` (psycopg, psycopg2, asyncpg, pymysql,
    sqlite3, clickhouse...) or pool, `create_engine()`, `engine.connect()`/`begin()`/
    `raw_connection()`, and Django's `connection.cursor()`. Caches, vector stores and object
    stores are not SQL connections; an in-memory SQLite (`:memory:`, `sqlite://`) connection
    is exempt. Which calls count comes from the API catalog (`rules/*.toml`); a team's own
    raw-connection helpers are added with the `connections` config table.

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
    `allow-raw-connections`; when the project's one engine *is* its data layer, list
    the engine object by its dotted name (`"app.extensions.db.engine"`): creating it
    and `engine.connect()` / `begin()` on it are then allowed everywhere.
    """

    code = "TL301"
    name = "raw-connection"
    severity = Severity.ERROR
    summary = "a SQL database connection opened outside allow-raw-connections"
    cwe = ("CWE-639", "CWE-284")
