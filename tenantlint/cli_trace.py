"""The commands that explain a scan: `tenantlint catalog` (what the catalog pass knows
and where from) and `tenantlint why PATH:LINE` (what decided each verdict on a line).
Mounted on the main group by tenantlint.cli."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tenantlint.config import ConfigError

# The engine is imported inside the commands, as in tenantlint.cli: `tenantlint --help`
# and a pre-commit start-up stay fast.

_FORMATS = ("text", "json")


def _fail(message: str) -> None:
    click.echo(f"tenantlint: error: {message}", err=True)
    sys.exit(2)


def _settings(config_file: str | None, targets):
    from tenantlint.checked_settings import load_checked_settings

    return load_checked_settings(Path(config_file) if config_file else None, targets=targets)


@click.command("why")
@click.argument("target", metavar="PATH:LINE")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file (pyproject.toml or tenantlint.toml).")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Do not read or write the catalog cache.")
def why(target: str, config_file: str | None, fmt: str, no_cache: bool) -> None:
    """Why each query or store call on PATH:LINE is judged scoped or not."""
    from tenantlint.discover import build_catalog
    from tenantlint.engine import InternalError
    from tenantlint.why import explain_line, parse_target, render_json, render_text

    try:
        path, line = parse_target(target)
        settings = _settings(config_file, (str(path),))
        catalog = build_catalog(settings, use_cache=not no_cache, jobs=os.cpu_count() or 1)
        report = explain_line(path, line, settings, catalog)
    except ConfigError as exc:
        _fail(str(exc))
        return
    except InternalError as exc:
        _fail(f"{exc} (this is a tenantlint bug: please report it)")
        return
    click.echo(render_json(report) if fmt == "json" else render_text(report), nl=False)


@click.command("catalog")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file (pyproject.toml or tenantlint.toml).")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Do not read or write the catalog cache.")
def catalog(config_file: str | None, fmt: str, no_cache: bool) -> None:
    """What the catalog pass found, and where each fact came from."""
    from tenantlint.discover import build_catalog
    from tenantlint.report_catalog import describe, render_json, render_text

    try:
        settings = _settings(config_file, (".",))
        built = build_catalog(settings, use_cache=not no_cache, jobs=os.cpu_count() or 1)
        description = describe(built, settings)
    except ConfigError as exc:
        _fail(str(exc))
        return
    click.echo(render_json(description) if fmt == "json" else render_text(description), nl=False)


COMMANDS = (why, catalog)
