"""`tenantlint db audit|probe` through click: formats, exit codes, one-line errors."""
from __future__ import annotations

import json
import sys

from click.testing import CliRunner

from tenantlint.db.cli import db

from db_schemas import SECURE_SCHEMA


def run(*args, env=None):
    return CliRunner().invoke(db, list(args), env=env, catch_exceptions=False)


def test_audit_json_and_exit_codes(defects, tmp_path):
    pgdb, app = defects
    result = run("audit", "--dsn", pgdb.dsn(app), "--format", "json")
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    codes = sorted({(d["path"], d["code"]) for d in document["diagnostics"]})
    assert ("public.payments", "TL501") in codes and ("public.refunds", "TL502") in codes
    first = document["diagnostics"][0]
    assert (first["line"], first["column"]) == (1, 1) and first["fingerprint"]
    # --output, --schema, --fail-on error (TL504 is a warning), --exit-zero
    out = tmp_path / "report.json"
    result = run("audit", "--dsn", pgdb.dsn(app), "--format", "json", "--output", str(out), "--exit-zero")
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["diagnostics"]


def test_audit_env_dsn_clean_schema_and_app_role(pgdb):
    app = pgdb.role("app")
    pgdb.execute(SECURE_SCHEMA + f"GRANT SELECT ON orders TO {app};"
                 "CREATE TABLE public.jobs (id INT PRIMARY KEY, tenant_id UUID NOT NULL, "
                 "UNIQUE (tenant_id, id));")  # a tenant-led unique key, but no RLS
    result = run("audit", "--format", "json", "--app-role", app, "--fail-on", "error",
                 "--schema", "public", env={"TENANTLINT_DSN": pgdb.dsn()})
    assert result.exit_code == 1
    assert [(d["path"], d["code"]) for d in json.loads(result.stdout)["diagnostics"]] == [("public.jobs", "TL501")]
    pgdb.execute("DROP TABLE public.jobs")
    result = run("audit", "--format", "json", "--app-role", app, env={"TENANTLINT_DSN": pgdb.dsn()})
    assert result.exit_code == 0 and json.loads(result.stdout)["diagnostics"] == []


def test_audit_text_format(defects):
    pgdb, app = defects
    result = run("audit", "--dsn", pgdb.dsn(app), "--tenant-column", "tenant_id")
    assert result.exit_code == 1
    assert "public.payments:1:1: TL501" in result.stdout


def test_probe_json_and_notes(defects):
    pgdb, app = defects
    pgdb.execute(f"CREATE TABLE read_only_for_app (tenant_id UUID NOT NULL); GRANT SELECT ON read_only_for_app TO {app};")
    result = run("probe", "--dsn", pgdb.dsn(), "--as", app, "--format", "json")
    assert result.exit_code == 1
    paths = {d["path"] for d in json.loads(result.stdout)["diagnostics"]}
    assert paths == {"public.app_owned", "public.open_docs", "public.payments", "public.shared_files"}
    assert "note: public.read_only_for_app: role" in result.stderr


def test_usage_errors_are_one_line_exit_2(pgdb, pg_server):
    # the server is up, but nothing listens on this port
    unused = pg_server.port + 1 if pg_server.port < 65535 else pg_server.port - 1
    cases = [
        (["audit", "--dsn", f"postgresql://postgres@127.0.0.1:{unused}/x"], "cannot connect to the database"),
        (["audit", "--dsn", "postgresql://postgres@127.0.0.1:99999999/x"], "error:"),
        (["audit", "--dsn", pgdb.dsn(), "--app-role", "nobody_here"], "role `nobody_here` does not exist"),
        (["probe", "--dsn", pgdb.dsn(), "--as", "nobody_here"], "role `nobody_here` does not exist"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert "Traceback" not in result.output
    result = run("probe", "--dsn", pgdb.dsn())  # --as is required
    assert result.exit_code == 2


def test_bad_config_is_exit_2(tmp_path):
    config = tmp_path / "tenantlint.toml"
    config.write_text("tenant-colums = ['x']\n")
    result = run("audit", "--dsn", "postgresql://x@127.0.0.1:1/x", "--config", str(config))
    assert result.exit_code == 2 and "tenant-colums" in result.stderr


def test_without_psycopg_says_install_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` raises ImportError
    result = run("audit", "--dsn", "postgresql://x@127.0.0.1:1/x")
    assert result.exit_code == 2
    assert "install tenantlint[db]" in result.stderr and result.stderr.count("\n") == 1


def test_real_subprocess_through_the_main_cli(pgdb):
    import subprocess

    app = pgdb.role("app")
    pgdb.execute(SECURE_SCHEMA + f"GRANT SELECT ON orders TO {app};")
    code = "from tenantlint.cli import main; main()"
    result = subprocess.run([sys.executable, "-c", code, "db", "audit", "--format", "json"],
                            env={**__import__("os").environ, "TENANTLINT_DSN": pgdb.dsn(app)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["diagnostics"] == []


def test_audit_writes_remediation_sql_that_makes_it_clean(defects, tmp_path):
    pgdb, app = defects
    target = tmp_path / "rls.sql"
    result = run("audit", "--dsn", pgdb.dsn(), "--app-role", app, "--remediation", str(target), "--format", "json")
    assert result.exit_code == 1
    assert "remediation SQL" in result.stderr and "app.tenant_id" in result.stderr
    pgdb.execute(target.read_text())
    again = run("audit", "--dsn", pgdb.dsn(), "--app-role", app, "--format", "json")
    assert again.exit_code == 0, again.stdout
