"""`tenantlint db audit|probe` never print a password: every message that can quote
the DSN (libpq echoes it in some syntax errors) is redacted, on every error path."""
from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner

psycopg = pytest.importorskip("psycopg")

import tenantlint.db.audit  # noqa: E402,F401 - patched through sys.modules below
import tenantlint.db.probe  # noqa: E402,F401
from tenantlint.db import cli as db_cli  # noqa: E402

SECRET = "s3cr3t-Pw"
URI = f"postgresql://bob:{SECRET}@db.example:5432/app"
KEYVALUE = f"host=db.example user=bob password={SECRET} dbname=app"


def _run(tmp_path, *args):
    (tmp_path / "tenantlint.toml").write_text('tenant-columns = ["tenant_id"]\n')
    return CliRunner().invoke(db_cli.db, [*args, "--config", str(tmp_path / "tenantlint.toml")],
                              catch_exceptions=False)


def _clean(result) -> str:
    everything = result.stdout + result.stderr
    assert result.exit_code == 2, everything
    assert SECRET not in everything, everything
    assert len(result.stderr.strip().splitlines()) == 1 and "***" in result.stderr, result.stderr
    return result.stderr


@pytest.mark.parametrize("command", [["audit"], ["probe", "--as", "app"]])
def test_libpq_syntax_error_that_echoes_the_dsn(tmp_path, command):
    # a real libpq message: 'end of string reached when looking for matching "]" ... in URI: "<dsn>"'
    _clean(_run(tmp_path, *command, "--dsn", f"postgresql://bob:{SECRET}@[::1/app"))


@pytest.mark.parametrize("dsn", [URI, KEYVALUE, f"postgresql://bob:{SECRET.replace('3', '%33')}@h/app",
                                 f"host=h password='{SECRET} x' dbname=app"])
@pytest.mark.parametrize("error", ["connect", "invalid", "database", "probe"])
def test_every_error_path_is_redacted(tmp_path, monkeypatch, dsn, error):
    """Each `except` of db/cli.py, with a message that quotes the DSN whole."""
    echo = f"something went wrong with \"{dsn}\" (password={SECRET})"

    class Conn:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def connect(*args, **kwargs):
        if error == "connect":
            raise psycopg.OperationalError(echo)
        if error == "invalid":
            raise ValueError(echo)
        return Conn()

    def work(*args, **kwargs):
        if error == "database":
            raise psycopg.ProgrammingError(echo)
        from tenantlint.db.probe import ProbeError

        raise ProbeError(echo)

    monkeypatch.setattr(psycopg, "connect", connect)
    monkeypatch.setattr(sys.modules["tenantlint.db.audit"], "audit", work)
    monkeypatch.setattr(sys.modules["tenantlint.db.audit"], "read_state", work)  # audit's first database read
    monkeypatch.setattr(sys.modules["tenantlint.db.probe"], "probe", work)
    command = ["probe", "--as", "app"] if error == "probe" else ["audit"]
    _clean(_run(tmp_path, *command, "--dsn", dsn))


def test_notes_are_redacted(tmp_path, monkeypatch):
    class Conn:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def probe(conn, role, settings, notes):
        notes.append(f"connected with {URI}")
        return []

    monkeypatch.setattr(psycopg, "connect", lambda *a, **k: Conn())
    monkeypatch.setattr(sys.modules["tenantlint.db.probe"], "probe", probe)
    result = _run(tmp_path, "probe", "--as", "app", "--dsn", URI)
    assert result.exit_code == 0 and SECRET not in result.stderr and "***" in result.stderr


@pytest.mark.parametrize("text", [
    URI, KEYVALUE, f"postgres://:{SECRET}@h/db", f"postgresql://h/db?user=bob&password={SECRET}&x=1",
    f"PASSWORD = '{SECRET}'",
])
def test_redact_covers_the_dsn_forms(text):
    from tenantlint.db.redact import redact

    assert SECRET not in redact(f"error near \"{text}\"", text)
    assert SECRET not in redact(f"error near \"{text}\"")  # even without knowing the DSN
