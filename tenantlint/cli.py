"""Command line: parse options, call the engine, pick a formatter, exit.

Exit codes: 0 nothing at or above --fail-on; 1 findings; 2 usage or configuration
error (one line on stderr, never a traceback)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tenantlint import __version__
from tenantlint.config import ConfigError

FORMATS = ("text", "json", "sarif", "github")


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in (value or "").split(",") if c.strip())


def fail(message: str) -> None:
    click.echo(f"tenantlint: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tenantlint")
def main() -> None:
    """Find cross-tenant data leaks in multi-tenant Python codebases."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file (pyproject.toml or tenantlint.toml).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout.")
@click.option("--select", help="Comma-separated codes or prefixes to report (e.g. TL1,TL301).")
@click.option("--ignore", help="Comma-separated codes or prefixes not to report.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="warning", show_default=True,
              help="Lowest severity that makes the exit code 1.")
@click.option("--quiet", "-q", is_flag=True, help="Only the findings, no summary.")
@click.option("--statistics", is_flag=True, help="Counts per rule instead of each finding.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to files named explicitly too.")
@click.option("--warn-unused-ignores", is_flag=True, help="Report suppressions that silence nothing (TL003).")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help="Worker processes (default: one per core).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
def scan(paths, config_file, fmt, output, select, ignore, exit_zero, fail_on, quiet, statistics, force_exclude,
         warn_unused_ignores, jobs, no_cache) -> None:
    """Scan files and folders (default: the current folder)."""
    from dataclasses import replace

    from tenantlint.diagnostics import Severity
    from tenantlint.discover import build_catalog
    from tenantlint.engine import InternalError, Selection, scan as run_scan
    from tenantlint.files import collect
    from tenantlint.output import render
    from tenantlint.config import load_settings
    from tenantlint.rules import validate_codes

    try:
        settings = load_settings(Path(config_file) if config_file else None)
        if force_exclude:
            settings = replace(settings, force_exclude=True)
        cli_select, cli_ignore = _codes(select), _codes(ignore)
        validate_codes(cli_select, "--select")
        validate_codes(cli_ignore, "--ignore")
        files = collect(paths or (".",), settings)
    except ConfigError as exc:
        fail(str(exc))
        return
    selection = Selection(cli_select or settings.select, settings.ignore + cli_ignore, settings.per_file_ignores)
    try:
        catalog = build_catalog(settings)
        report = run_scan(files, settings, catalog, selection=selection, jobs=jobs or (os.cpu_count() or 1),
                          warn_unused_ignores=warn_unused_ignores)
    except InternalError as exc:
        fail(f"{exc} (this is a tenantlint bug: please report it)")
        return
    color = output is None and fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    rendered = render(report, fmt, color=color, statistics=statistics, quiet=quiet)
    if output:
        try:
            Path(output).write_text(rendered, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {output}: {exc.strerror or exc}")
    else:
        click.echo(rendered, nl=False)
    threshold = Severity(fail_on).rank
    failing = any(d.severity.rank >= threshold for d in report.diagnostics)
    sys.exit(1 if failing and not exit_zero else 0)


@main.command("rules")
def list_rules() -> None:
    """List every rule: code, name, default severity, summary."""
    from tenantlint.rules import RULES

    for rule in RULES:
        click.echo(f"{rule.code}  {rule.name:<32} {rule.severity.value:<8} {rule.summary}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """A rule's full documentation."""
    from tenantlint.rules import BY_CODE

    rule = BY_CODE.get(code.upper())
    if rule is None:
        fail(f"unknown rule code `{code}` (see `tenantlint rules`)")
        return
    click.echo(f"# {rule.code} {rule.name} ({rule.severity.value})\n")
    click.echo(f"{rule.summary}\n")
    click.echo(rule.docs())


def _mount_optional_commands() -> None:
    try:
        from tenantlint.db.cli import db
    except ImportError:
        return
    main.add_command(db)


_mount_optional_commands()
