"""Command line: parse options, call the engine, pick a formatter, exit.

Exit codes: 0 nothing at or above --fail-on; 1 findings; 2 usage or configuration
error (one line on stderr, never a traceback)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tenantlint import __version__
from tenantlint.cli_trace import COMMANDS as TRACE_COMMANDS
from tenantlint.config import ConfigError
from tenantlint.output import FORMATS


def _codes(value: str | None) -> tuple[str, ...]:
    return tuple(c.strip().upper() for c in (value or "").split(",") if c.strip())


def fail(message: str) -> None:
    click.echo(f"tenantlint: error: {message}", err=True)
    sys.exit(2)


class _Main(click.Group):
    """click's own handling, except: a usage error is one line (exit 2), as every other
    error of ours; Ctrl-C exits 130 (1 would read as "findings"), with no traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()  # `tenantlint` alone: the help, as click prints it
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            message = " ".join(exc.format_message().split())
            click.echo(f"tenantlint: error: {message}{where}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"tenantlint: error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("tenantlint: interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tenantlint")
def main() -> None:
    """Find cross-tenant data leaks in multi-tenant Python codebases."""


def _also(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    """`--also sarif:out.sarif` -> [("sarif", Path("out.sarif"))]."""
    out = []
    for value in values:
        fmt, sep, file = value.partition(":")
        if not sep or not file or fmt.lower() not in FORMATS:
            raise ConfigError(f"--also expects FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}, got `{value}`")
        out.append((fmt.lower(), Path(file)))
    return out


def _write(path: Path, text: str) -> None:
    from tenantlint.output.encoding import encode

    try:
        path.write_bytes(encode(text))
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None


def _echo(text: str) -> None:
    """The report on stdout; a lone surrogate the stream cannot encode is escaped, as in
    files (-o), rather than ending the run with a traceback and no report."""
    try:
        click.echo(text, nl=False)
    except UnicodeEncodeError:
        from tenantlint.output.encoding import encode

        click.echo(encode(text), nl=False)


def _show_settings(settings) -> str:
    import json
    from dataclasses import fields

    lines = []
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, Path) or value is None:
            value = str(value) if value is not None else None
        elif isinstance(value, tuple) and f.name == "per_file_ignores":
            value = {glob: list(codes) for glob, codes in value}
        elif isinstance(value, tuple):
            value = list(value)
        elif not isinstance(value, (str, int, bool)):
            value = dict(value)
        lines.append(f"{f.name.replace('_', '-')} = {json.dumps(value, default=str)}")
    return "\n".join(lines) + "\n"


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Config file (pyproject.toml or tenantlint.toml), relative to the current folder; "
                   "the project is still the repository around the current folder.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report to FILE instead of stdout.")
@click.option("--also", "also", multiple=True, metavar="FORMAT:FILE",
              help="Also write the same scan as FORMAT to FILE (repeatable), e.g. --also sarif:tenantlint.sarif.")
@click.option("--select", help="Comma-separated codes or prefixes to report (e.g. TL1,TL301).")
@click.option("--ignore", help="Comma-separated codes or prefixes not to report.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="warning", show_default=True,
              help="Lowest severity that makes the exit code 1.")
@click.option("--quiet", "-q", is_flag=True, help="Only the findings, no summary.")
@click.option("--statistics", is_flag=True, help="Counts per rule instead of each finding.")
@click.option("--force-exclude", is_flag=True, help="Apply excludes to files named explicitly too.")
@click.option("--warn-unused-ignores", is_flag=True, help="Report suppressions that silence nothing (TL003).")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Do not report findings recorded in this baseline.")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Record every current finding in FILE (sorted JSON) and exit 0.")
@click.option("--changed-since", metavar="REV",
              help="Scan only files changed since the merge base of REV and HEAD, plus untracked ones.")
@click.option("--add-ignore", metavar="REASON",
              help="Add `tenantlint: ignore[CODE] REASON` on the line of every current finding and exit 0.")
@click.option("--fix", "fix", is_flag=True, help="Apply safe fixes (with --unsafe-fixes, unsafe ones too), then report what is left.")
@click.option("--unsafe-fixes", is_flag=True,
              help="Include unsafe fixes (every tenant fix changes behaviour) in --fix, --diff and the notes.")
@click.option("--diff", "diff", is_flag=True, help="Print the fixes as a unified diff and change nothing.")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be scanned and exit.")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0, help="Worker processes (default: one per core).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
@click.option("--reach", "reach", type=click.Choice(["request"]),
              help="Keep only findings in code that runs on a request (a view or route, or what it calls).")
def scan(paths, config_file, fmt, output, also, select, ignore, exit_zero, fail_on, quiet, statistics, force_exclude,
         warn_unused_ignores, baseline, write_baseline, changed_since, add_ignore, fix, unsafe_fixes, diff,
         show_settings, show_files, jobs, no_cache, reach) -> None:
    """Scan files and folders (default: the current folder)."""
    from dataclasses import replace

    from tenantlint import baseline as baselines
    from tenantlint.files import relative
    from tenantlint.checked_settings import load_checked_settings
    from tenantlint.diagnostics import Severity
    from tenantlint.discover import build_catalog
    from tenantlint.engine import InternalError, Selection, scan as run_scan
    from tenantlint.output import render
    from tenantlint.output.progress import color_wanted, for_scan
    from tenantlint.pool import file_memory, file_timeout
    from tenantlint.rules import validate_codes

    try:
        if add_ignore is not None and not add_ignore.strip():
            raise ConfigError("--add-ignore needs a reason, e.g. --add-ignore 'legacy: TICKET-123'")
        if add_ignore is not None and write_baseline:
            raise ConfigError("--add-ignore and --write-baseline are two ways to adopt: pick one")
        if (fix or diff) and (add_ignore is not None or write_baseline):
            raise ConfigError("--fix/--diff cannot be combined with --add-ignore or --write-baseline")
        extra_outputs = _also(also)
        file_timeout(), file_memory()  # a bad TENANTLINT_FILE_* value fails now, not mid-scan
        settings = load_checked_settings(Path(config_file) if config_file else None, targets=paths or (".",))
        if force_exclude:
            settings = replace(settings, force_exclude=True)
        cli_select, cli_ignore = _codes(select), _codes(ignore)
        validate_codes(cli_select, "--select")
        validate_codes(cli_ignore, "--ignore")
        if show_settings:
            click.echo(_show_settings(settings), nl=False)
            sys.exit(0)
        files = _files_to_scan(paths or (".",), settings, changed_since)
        if show_files:
            for path in files:
                click.echo(relative(path, settings.root))
            sys.exit(0)
        entries = baselines.load(Path(baseline)) if baseline else []
    except ConfigError as exc:
        fail(str(exc))
        return
    selection = Selection.of(settings, cli_select, cli_ignore)
    bar = None if quiet else for_scan(len(files))
    try:
        jobs = jobs or (os.cpu_count() or 1)
        catalog = build_catalog(settings, use_cache=not no_cache, jobs=jobs, keep=True)  # ends with the scan
        _warn_if_nothing_to_check(files, catalog, settings)
        report = run_scan(files, settings, catalog, selection=selection, jobs=jobs,
                          warn_unused_ignores=warn_unused_ignores, progress=bar, use_cache=not no_cache)
    except InternalError as exc:
        fail(f"{exc} (this is a tenantlint bug: please report it)")
        return
    finally:
        if bar is not None:
            bar.close()
    scanned = {relative(path, settings.root) for path in files}
    try:
        if write_baseline:
            _write_baseline(Path(write_baseline), report, scanned, settings, selection)
            sys.exit(0)
        if entries:
            baselines.apply(report, entries, scanned, selection.wants)
        if add_ignore is not None:
            _add_ignores(report, settings, add_ignore)
            sys.exit(0)
        if fix or diff or unsafe_fixes or fmt == "sarif" or any(f == "sarif" for f, _ in extra_outputs):
            report = _fixes(report, settings, catalog, fix=fix, unsafe=unsafe_fixes, diff=diff,
                            rescan=lambda: _rescan(files, settings, catalog, selection, jobs, warn_unused_ignores,
                                                   entries, scanned))
        if reach:
            report = replace(report, diagnostics=[d for d in report.diagnostics if d.reach == reach])
        for extra_fmt, extra_file in extra_outputs:
            _write(extra_file, render(report, extra_fmt, statistics=statistics, quiet=quiet))
        color = output is None and fmt == "text" and color_wanted(sys.stdout)
        rendered = render(report, fmt, color=color, statistics=statistics, quiet=quiet)
        if output:
            _write(Path(output), rendered)
        else:
            _echo(rendered)
    except ConfigError as exc:
        fail(str(exc))
        return
    threshold = Severity(fail_on).rank
    failing = any(d.severity.rank >= threshold for d in report.diagnostics)
    sys.exit(1 if failing and not exit_zero else 0)


def _fixes(report, settings, catalog, *, fix: bool, unsafe: bool, diff: bool, rescan):
    """--diff prints the fixes and exits (1 when there is something to fix); --fix writes
    them and re-scans; otherwise the report gains notes (and SARIF its `fixes`)."""
    from tenantlint.fixes import run
    from tenantlint.fixes.plan import plan_fixes

    plan = plan_fixes(report, settings, catalog)
    if diff:
        text = run.unified_diff(plan, unsafe)
        click.echo(text, nl=False)
        click.echo(run.summary(plan, unsafe, "would fix"), err=True)
        sys.exit(1 if text else 0)
    if fix:
        fixed, changed = run.write_fixes(plan, unsafe)
        click.echo(run.summary(plan, unsafe, "fixed") + f" in {changed} file{'s' if changed != 1 else ''}",
                   err=True)
        report = rescan()
        plan = plan_fixes(report, settings, catalog)
    run.annotate(report, plan, unsafe)
    run.attach_sarif_fixes(report, plan)
    return report


def _rescan(files, settings, catalog, selection, jobs, warn_unused_ignores, entries, scanned):
    from tenantlint import baseline as baselines
    from tenantlint.engine import scan as run_scan

    report = run_scan(files, settings, catalog, selection=selection, jobs=jobs,
                      warn_unused_ignores=warn_unused_ignores, use_cache=False)
    if entries:
        baselines.apply(report, entries, scanned, selection.wants)
    return report


def warn(message: str) -> None:
    click.echo(f"tenantlint: warning: {message}", err=True)


def _warn_if_nothing_to_check(files, catalog, settings) -> None:
    """A gate that checks nothing must not look like a clean one (as ruff warns when it
    finds no Python file): said on stderr, whatever the output format."""
    if not files:
        warn("no Python or SQL files found under the given paths")
    if catalog.is_empty():
        columns = ", ".join(settings.tenant_columns)
        warn(f"no tenant table, model or collection found under {settings.root} (tenant columns "
             f"searched: {columns}); set `tenant-columns` or `tenant-tables`, see `tenantlint init`")


def _files_to_scan(paths, settings, changed_since: str | None) -> list[Path]:
    """The files named (folders walked), or with --changed-since only those changed since
    the merge base, within the named paths (excludes apply to them, as to a walk)."""
    from dataclasses import replace

    from tenantlint.files import collect

    if changed_since is None:
        return collect(paths, settings)
    from tenantlint.changed import changed_files, within

    named = [Path(p) for p in paths]
    for p in named:
        if not os.path.lexists(p):
            raise ConfigError(f"path does not exist: {p}")
    changed = within(changed_files(changed_since, Path.cwd()), named)
    return collect([str(p) for p in changed], replace(settings, force_exclude=True))


def _write_baseline(target: Path, report, scanned: set[str], settings, selection) -> None:
    """Record every current finding; entries for files outside this scan (and still on
    disk) are kept, so a partial scan does not forget the rest of the project."""
    from tenantlint import baseline as baselines

    old = baselines.load(target) if target.exists() else []
    keep = [e for e in baselines.outside_scan(old, scanned, selection.wants) if (settings.root / e.path).exists()]
    count = baselines.write(target, report.diagnostics, keep=keep)
    click.echo(f"tenantlint: wrote {count} finding{'s' if count != 1 else ''} to baseline {target}", err=True)


def _add_ignores(report, settings, reason: str) -> None:
    from tenantlint.add_ignore import add_ignores

    added, changed_count = add_ignores(settings.root, report.diagnostics, reason)
    click.echo(f"tenantlint: added {added} suppression{'s' if added != 1 else ''} "
               f"in {changed_count} file{'s' if changed_count != 1 else ''}", err=True)


@main.command()
@click.option("--force", is_flag=True, help="Replace an existing [tool.tenantlint] section or tenantlint.toml.")
@click.option("--tenant-columns", default=None,
              help="Comma-separated column names that tie a row to a tenant (default: proposed from the schema).")
def init(force: bool, tenant_columns: str | None) -> None:
    """Write a starter [tool.tenantlint] section with the tenant tables it discovered."""
    from tenantlint.init import write_starter

    columns = None
    try:
        if tenant_columns is not None:
            columns = tuple(c.strip() for c in tenant_columns.split(",") if c.strip())
            if not columns:
                raise ConfigError("--tenant-columns must name at least one column")
        target, found = write_starter(Path.cwd(), force=force, tenant_columns=columns)
    except ConfigError as exc:
        fail(str(exc))
        return
    if not found.files:
        warn("no Python or SQL files found under the current folder: nothing was discovered")
    if found.inferred:
        chosen = found.proposal.column if found.proposal else "tenant_id (nothing tenant-like found)"
        click.echo(f"tenantlint: proposed tenant column: {chosen}"
                   + (f" (runner-up: {found.runner_up.column})" if found.runner_up else ""), err=True)
    click.echo(f"tenantlint: wrote a starter configuration to {target.name} ({len(found.tenant_tables)} tenant "
               f"tables, {len(found.global_looking)} global-table candidates); review it, then run `tenantlint scan`")


@main.command("rules")
def list_rules() -> None:
    """List every rule: code, name, default severity, summary."""
    from tenantlint.rules import RULES

    for rule in RULES:
        click.echo(f"{rule.code}  {rule.name:<32} {rule.severity.value:<8} {rule.summary}")


@main.command()
@click.argument("code", metavar="CODE|NAME")
def explain(code: str) -> None:
    """A rule's full documentation, by code (TL101) or name (sql-unscoped-query)."""
    import difflib

    from tenantlint.rules import BY_CODE, RULES

    by_name = {rule.name: rule for rule in RULES}
    rule = BY_CODE.get(code.upper()) or by_name.get(code.strip().lower())
    if rule is None:
        close = difflib.get_close_matches(code.strip().lower(), list(by_name), n=1)
        hint = f" (did you mean `{close[0]}`, {by_name[close[0]].code}?)" if close else ""
        fail(f"unknown rule `{code}`{hint}: see `tenantlint rules`")
        return
    click.echo(f"# {rule.code} {rule.name} ({rule.severity.value})\n")
    click.echo(f"{rule.summary}\n")
    click.echo(rule.docs())


@main.command("server")
def server() -> None:
    """Run the Language Server for editors over stdio (needs `pip install 'tenantlint[lsp]'`)."""
    try:
        from tenantlint.lsp.server import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("pygls", "lsprotocol", "cattrs"):
            raise
        fail("`tenantlint server` needs the editor extra: pip install 'tenantlint[lsp]'")
        return
    serve()


def _mount_optional_commands() -> None:
    try:
        from tenantlint.db.cli import db
    except ImportError:
        return
    main.add_command(db)


_mount_optional_commands()
for _command in TRACE_COMMANDS:  # `why` and `catalog`: tenantlint/cli_trace.py
    main.add_command(_command)
