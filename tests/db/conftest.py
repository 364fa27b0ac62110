"""A real, throwaway PostgreSQL server for the database tests: initdb + pg_ctl in a temp
dir, listening on a free loopback port, one server for the session and a fresh database
(and fresh roles) per test.

Finding the server binaries: $TENANTLINT_PG_BINDIR, else `pg_ctl` on PATH, else
`pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin (Debian's `postgresql`
package). Without them (or without psycopg) every test here is skipped, saying why.

PostgreSQL refuses to run as root: when the tests run as root, the server runs as the
user $TENANTLINT_PG_USER (default `postgres`, else `nobody`), through subprocess's
user/group switch (no sudo/su needed)."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

INSTALL_HINT = ("install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; macOS: "
                "`brew install postgresql`) or point TENANTLINT_PG_BINDIR at the folder holding initdb and pg_ctl")


def find_bindir() -> tuple[Path | None, str]:
    """(folder with initdb and pg_ctl, or None; where we looked)."""
    candidates: list[str] = []
    if os.environ.get("TENANTLINT_PG_BINDIR"):
        candidates.append(os.environ["TENANTLINT_PG_BINDIR"])
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(os.path.dirname(os.path.realpath(on_path)))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            candidates.append(out.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: [int(x) if x.isdigit() else 0 for x in p.split("/")[-2].split(".")])
    candidates += reversed(debian)
    for folder in candidates:
        if folder and all(os.access(os.path.join(folder, exe), os.X_OK) for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(folder), ""
    looked = "$TENANTLINT_PG_BINDIR, PATH, `pg_config --bindir`, /usr/lib/postgresql/*/bin"
    return None, looked


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged account to run the server as, when we are root."""
    if os.geteuid() != 0:
        return None
    for name in filter(None, (os.environ.get("TENANTLINT_PG_USER"), "postgres", "nobody")):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.fail("running as root and no unprivileged user to run PostgreSQL as: create one "
                "(`useradd --system postgres`) or set TENANTLINT_PG_USER")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None
    superuser: str = "postgres"

    def dsn(self, dbname: str = "postgres", user: str | None = None) -> str:
        return f"postgresql://{user or self.superuser}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        kwargs: dict = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
            env["HOME"] = str(self.root)
        return subprocess.run(args, env=env, capture_output=True, text=True, check=check, timeout=120,
                              cwd=self.root, **kwargs)

    def start(self) -> None:
        data = self.root / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", self.superuser, "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-F -p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
                   f"-c max_connections=40 -c shared_buffers=16MB -c full_page_writes=off "
                   f"-c synchronous_commit=off")
        result = self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.root / "server.log"),
                           "-o", options, "-w", "-t", "60", "start", check=False)
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {result.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop",
                  check=False)


@pytest.fixture(scope="session")
def pg_server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("database tests skipped: psycopg is not installed (pip install 'tenantlint[db]')")
    bindir, looked = find_bindir()
    if bindir is None:
        pytest.skip(f"database tests skipped: PostgreSQL server binaries (initdb, pg_ctl) not found in "
                    f"{looked}: {INSTALL_HINT}")
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="tenantlint-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PgServer(bindir=bindir, root=root, port=_free_port(), user=user)
    try:
        try:
            server.start()
        except (subprocess.CalledProcessError, RuntimeError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            pytest.fail(f"could not start PostgreSQL from {bindir}: {detail}")
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class ScratchDb:
    """A fresh database on the session server, and roles made for this test only."""

    server: PgServer
    name: str
    suffix: str
    roles: list[str] = field(default_factory=list)

    def dsn(self, user: str | None = None) -> str:
        return self.server.dsn(self.name, user)

    def connect(self, user: str | None = None):
        import psycopg

        return psycopg.connect(self.dsn(user), autocommit=True)

    def role(self, base: str, attributes: str = "LOGIN") -> str:
        """Create a role unique to this test (roles are cluster-wide) and return its name."""
        name = f"{base}_{self.suffix}"
        with self.connect() as conn:
            conn.execute(f'CREATE ROLE "{name}" {attributes}')
        self.roles.append(name)
        return name

    def execute(self, sql: str, user: str | None = None) -> None:
        with self.connect(user) as conn:
            conn.execute(sql)


@pytest.fixture
def pgdb(pg_server: PgServer):
    import psycopg

    suffix = uuid.uuid4().hex[:8]
    db = ScratchDb(pg_server, f"t_{suffix}", suffix)
    with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{db.name}" TEMPLATE template0')
    try:
        yield db
    finally:
        with psycopg.connect(pg_server.dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
            for role in reversed(db.roles):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


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


@pytest.fixture
def defects(pgdb: ScratchDb) -> tuple[ScratchDb, str]:
    """The defect schema, seeded, with its application role (LOGIN, no special rights)."""
    app = pgdb.role("app")
    pgdb.execute(DEFECT_SCHEMA.format(app=app) + SEED_ROWS)
    return pgdb, app
