"""A real, throwaway PostgreSQL server for the database tests: initdb + pg_ctl in a temp
dir, listening on a free loopback port, one server for the session and a fresh database
(and fresh roles) per test.

Finding the server binaries: $TENANTLINT_PG_BINDIR (only there, when set), else `pg_ctl` on PATH, else
`pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin (Debian's `postgresql`
package). Without them (or without psycopg) every test here is skipped, saying why;
with TENANTLINT_REQUIRE_PG=1 (set it in CI) they fail instead.

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

from db_schemas import DEFECT_SCHEMA, SEED_ROWS

INSTALL_HINT = ("install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; macOS: "
                "`brew install postgresql`) or point TENANTLINT_PG_BINDIR at the folder holding initdb and pg_ctl")


def find_bindir() -> tuple[Path | None, str]:
    """(folder with initdb and pg_ctl, or None; where we looked)."""
    candidates: list[str] = []
    if os.environ.get("TENANTLINT_PG_BINDIR"):  # when set, the only place we look
        folder = os.environ["TENANTLINT_PG_BINDIR"]
        ok = all(os.access(os.path.join(folder, exe), os.X_OK) for exe in ("initdb", "pg_ctl", "postgres"))
        return (Path(folder), "") if ok else (None, f"TENANTLINT_PG_BINDIR={folder}")
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
    looked = "PATH, `pg_config --bindir` or /usr/lib/postgresql/*/bin"
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


def _unavailable(reason: str) -> None:
    """Skip, saying why; with TENANTLINT_REQUIRE_PG=1 (CI) fail instead: a gate that skips passes."""
    if os.environ.get("TENANTLINT_REQUIRE_PG", "") not in ("", "0"):
        pytest.fail(f"{reason} (and TENANTLINT_REQUIRE_PG is set)")
    pytest.skip(f"database tests skipped: {reason}")


@pytest.fixture(scope="session")
def pg_server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'tenantlint[db]')")
    bindir, looked = find_bindir()
    if bindir is None:
        _unavailable(f"PostgreSQL server binaries (initdb, pg_ctl) not found in {looked}: {INSTALL_HINT}")
    user = _server_user()
    # As root, the server's user must be able to reach the folder: /tmp, not a private $TMPDIR.
    root = Path(tempfile.mkdtemp(prefix="tenantlint-pg-", dir="/tmp" if user is not None else None))
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


@pytest.fixture
def defects(pgdb: ScratchDb) -> tuple[ScratchDb, str]:
    """The defect schema, seeded, with its application role (LOGIN, no special rights)."""
    app = pgdb.role("app")
    pgdb.execute(DEFECT_SCHEMA.format(app=app) + SEED_ROWS)
    return pgdb, app
