"""`tenantlint db audit|probe`: options in, a psycopg connection, findings out. Thin on
purpose: the work is in audit.py and probe.py, the formatting in tenantlint.output."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from tenantlint.db.redact import redact
from tenantlint.db.settings import DEFAULT_TENANT_SETTING, DbSettings
from tenantlint.diagnostics import Diagnostic, Report, Severity
from tenantlint.output import FORMATS
from tenantlint.output.encoding import encode


class _Exit(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def _common(func: Callable) -> Callable:
    options = [
        click.option("--dsn", envvar="TENANTLINT_DSN", required=True, metavar="URL",
                     help="postgresql://user@host/db (or env TENANTLINT_DSN)."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True),
        click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report to FILE."),
        click.option("--tenant-column", "tenant_columns", multiple=True, metavar="NAME",
                     help="A tenant column, added to the config's `tenant-columns` (repeatable)."),
        click.option("--schema", "schemas", multiple=True, metavar="NAME",
                     help="Only this schema (repeatable; default: every non-system schema)."),
        click.option("--config", type=click.Path(dir_okay=False, path_type=Path),
                     help="Config file (default: the nearest tenantlint.toml / pyproject.toml)."),
        click.option("--fail-on", type=click.Choice(["error", "warning"]), default="warning", show_default=True),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(name="db")
def db() -> None:
    """Check row-level security on a live PostgreSQL database (needs tenantlint[db])."""


@db.command()
@_common
@click.option("--app-role", metavar="ROLE",
              help="The role the application connects as (default: the DSN's user).")
@click.option("--remediation", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write the SQL that fixes what the audit found (RLS, FORCE, tenant policy, index) to FILE.")
@click.option("--tenant-setting", default=None, metavar="NAME",
              help="The setting the remediation's policies read (default: the one existing policies read, "
                   f"else {DEFAULT_TENANT_SETTING}).")
def audit(app_role: str | None, remediation: Path | None, tenant_setting: str | None, **options: Any) -> None:
    """Read the catalog (read-only) and report tenant tables without RLS, FORCE, a tenant
    policy or a tenant index, and roles that bypass RLS."""
    from tenantlint.db.audit import UnknownRole, audit as run_audit, read_state

    def work(conn: Any, settings: DbSettings, notes: list[str]) -> list[Diagnostic]:
        try:
            state = read_state(conn, settings)
        except UnknownRole as exc:
            raise _Exit(f"--app-role: {exc}") from None
        if remediation is not None:
            _write_remediation(remediation, state, tenant_setting, notes)
        return run_audit(conn, settings, state)

    _run("audit", work, app_role=app_role, **options)


@db.command()
@_common
@click.option("--as", "role", required=True, metavar="ROLE", help="The application role to probe as.")
@click.option("--tenant-setting", default=DEFAULT_TENANT_SETTING, show_default=True,
              help="The setting that carries the current tenant.")
def probe(role: str, tenant_setting: str, **options: Any) -> None:
    """As ROLE, in one transaction that is always rolled back: with no tenant and with a
    random tenant set, count visible rows and try to insert a row for another tenant."""
    from tenantlint.db.probe import ProbeError, probe as run_probe

    def work(conn: Any, settings: DbSettings, notes: list[str]) -> list[Diagnostic]:
        try:
            return run_probe(conn, role, settings, notes)
        except ProbeError as exc:
            raise _Exit(str(exc)) from None

    _run("probe", work, tenant_setting=tenant_setting, **options)


def _run(command: str, work: Callable[[Any, DbSettings, list[str]], list[Diagnostic]], *, dsn: str, fmt: str,
         output: Path | None, tenant_columns: tuple[str, ...], schemas: tuple[str, ...], config: Path | None,
         fail_on: str, exit_zero: bool, app_role: str | None = None,
         tenant_setting: str = DEFAULT_TENANT_SETTING) -> None:
    prefix = f"tenantlint db {command}"
    notes: list[str] = []
    try:
        settings = _settings(config, tenant_columns, schemas, app_role, tenant_setting)
        try:
            import psycopg
        except ImportError:
            raise _Exit("psycopg is not installed: install tenantlint[db] (pip install 'tenantlint[db]')") from None
        try:
            conn = psycopg.connect(dsn, connect_timeout=10, application_name="tenantlint")
        except psycopg.Error as exc:
            raise _Exit(f"cannot connect to the database: {_first_line(exc)}") from None
        except Exception as exc:  # a malformed DSN raises ProgrammingError or ValueError
            raise _Exit(f"invalid --dsn: {_first_line(exc)}") from None
        try:
            with conn:
                diagnostics = work(conn, settings, notes)
        except psycopg.Error as exc:
            raise _Exit(f"database error: {_first_line(exc)}") from None
    except _Exit as exc:
        click.echo(f"{prefix}: error: {redact(str(exc), dsn)}", err=True)
        sys.exit(2)

    from tenantlint.output import render

    color = output is None and fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = render(Report(diagnostics=diagnostics), fmt, color=color)
    if output is not None:
        try:
            output.write_bytes(encode(text if text.endswith("\n") or not text else text + "\n"))
        except OSError as exc:
            click.echo(f"{prefix}: error: cannot write {output}: {exc.strerror}", err=True)
            sys.exit(2)
    else:
        click.echo(text, nl=not text.endswith("\n"))
    for note in notes:
        click.echo(f"{prefix}: note: {redact(note, dsn)}", err=True)
    threshold = Severity(fail_on).rank
    failed = any(d.severity.rank >= threshold for d in diagnostics)
    sys.exit(1 if failed and not exit_zero else 0)


def _write_remediation(target: Path, state, given_setting: str | None, notes: list[str]) -> None:
    from tenantlint.db.remediation import remediation, tenant_setting

    setting = tenant_setting(state.tables, given_setting)
    try:
        target.write_text(remediation(state.tables, state.bypass, setting), encoding="utf-8")
    except OSError as exc:
        raise _Exit(f"cannot write {target}: {exc.strerror or exc}") from None
    notes.append(f"wrote the remediation SQL to {target} (tenant setting `{setting}`): review it, then apply it")


def _settings(config: Path | None, tenant_columns: tuple[str, ...], schemas: tuple[str, ...],
              app_role: str | None, tenant_setting: str) -> DbSettings:
    from tenantlint.checked_settings import load_checked_settings
    from tenantlint.config import ConfigError

    try:
        project = load_checked_settings(config)
    except ConfigError as exc:
        raise _Exit(str(exc)) from None
    columns = tuple(dict.fromkeys([*project.tenant_columns, *(c.lower() for c in tenant_columns)]))
    return DbSettings(tenant_columns=columns, schemas=tuple(schemas) or None,
                      global_tables=tuple(project.global_tables), app_role=app_role,
                      tenant_setting=tenant_setting)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
