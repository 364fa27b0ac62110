"""`tenantlint why PATH:LINE`: why each query or store call on a line is judged scoped
or not. It runs the normal per-file analysis of that one file (the same engine as
`scan`, with the whole-project catalog) with the decision trace on
(tenantlint/trace.py), and reports, for the statement holding the line:

- each finding there, with its message, and whether a suppression comment silences it
  (and which) or the rule selection leaves it out;
- what each checker decided there and what decided it (the predicate, manager, scope
  provider, RLS, ownership check) or what is missing, with its location.

A family that records no decisions still has its findings shown."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from tenantlint.catalog import TenantCatalog
from tenantlint.config import ConfigError, Settings
from tenantlint.context import StatementIndex
from tenantlint.diagnostics import Diagnostic
from tenantlint.engine import Selection, check_text
from tenantlint.files import inside, relative
from tenantlint.rules.schema_checks import check_project
from tenantlint.source import read_source
from tenantlint.suppressions import Suppression, Suppressions
from tenantlint.trace import NOT_TENANT, Decision, Recorder
from tenantlint.grammar import parse as parse_module


@dataclass
class Verdict:
    """One finding on the line, as `scan` would treat it."""

    diagnostic: Diagnostic
    suppression: Suppression | None = None
    selected: bool = True


@dataclass
class LineReport:
    path: str
    line: int
    span: tuple[int, int]
    code: str
    findings: list[Verdict] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


def parse_target(target: str) -> tuple[Path, int]:
    """`PATH:LINE` -> (path, line); a usage error (exit 2) when malformed or missing."""
    path, sep, number = target.rpartition(":")
    if not sep or not path or not number.strip().isdigit() or int(number) < 1:
        raise ConfigError(f"expected PATH:LINE (e.g. app/views.py:42), got `{target}`")
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"no such file: {path}")
    return file, int(number)


def explain_line(path: Path, line: int, settings: Settings, catalog: TenantCatalog,
                 text: str | None = None) -> LineReport:
    """`text`: the file's content when it is not what is on disk (an editor's buffer)."""
    if text is None:
        source = read_source(path, settings.max_file_size)
        if source.text is None:
            raise ConfigError(f"cannot read {path}: {source.error}")
        text = source.text
    lines = text.splitlines()
    if line > max(len(lines), 1):
        raise ConfigError(f"{path} has {len(lines)} lines, no line {line}")
    if not inside(path, settings.root):
        raise ConfigError(f"{path} is outside the project root {settings.root}")
    rel = relative(path, settings.root)
    recorder = Recorder()
    result = check_text(text, rel, settings, catalog, sql=path.suffix == ".sql", trace=recorder)
    schema = [d for d in check_project(catalog, settings, trace=recorder) if d.path == rel]
    first, last = _statement(text, line, path.suffix)
    report = LineReport(rel, line, (first, last), lines[line - 1].strip() if lines else "")
    selection = Selection(settings.select, settings.ignore, settings.per_file_ignores)
    for diag in [*result.diagnostics, *schema]:
        low, high = diag.suppress_lines
        low, high = min(low or diag.location.line, diag.location.line), max(high, diag.location.line)
        if high < first or low > last or not (low <= line <= high or first <= diag.location.line <= last):
            continue
        report.findings.append(Verdict(diag, _silencer(result.suppressions, diag),
                                       selection.wants(diag.code, diag.path)))
    report.decisions = [d for d in recorder.decisions if first <= d.line <= last and d.path in ("", rel)]
    report.decisions += _other_models(text, first, last, catalog, report.decisions)
    return report


def _other_models(text: str, first: int, last: int, catalog: TenantCatalog, decided: list[Decision]) -> list[Decision]:
    """"Why didn't it flag X?": the models the statement names that the catalog knows
    without a tenant column (the ORM checker judges tenant models only)."""
    if not catalog.other_models:
        return []
    said = {d.subject for d in decided}
    words = set(_WORD.findall("\n".join(text.splitlines()[first - 1:last])))
    cols = "/".join(sorted(catalog.tenant_columns))
    return [Decision("orm", first, last, name, NOT_TENANT, f"not a tenant model: it has no `{cols}` column",
                     (fact.path, fact.line))
            for name, fact in sorted(catalog.other_models.items()) if name in words and name not in said]


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _statement(text: str, line: int, suffix: str) -> tuple[int, int]:
    """The lines of the statement holding `line` (a suppression's reach)."""
    if suffix not in (".py", ".pyi"):
        return line, line
    try:
        tree = parse_module(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return line, line
    return StatementIndex.build(tree).statement_at(line)


def _silencer(suppressions: Suppressions, diag: Diagnostic) -> Suppression | None:
    if diag.code == "TL001" or not suppressions.silences(diag):
        return None
    low, high = diag.suppress_lines
    for number in range(min(low or diag.location.line, diag.location.line), max(high, diag.location.line) + 1):
        for sup in suppressions.by_line.get(number, ()):
            if sup.codes is None or any(diag.code.startswith(c) for c in sup.codes):
                return sup
    return None


# -- rendering ----------------------------------------------------------------------

def render_text(report: LineReport) -> str:
    head = f"{report.path}:{report.line}"
    out = [f"{head}: {report.code}" if report.code else head]
    for item in report.findings:
        d = item.diagnostic
        status = ""
        if item.suppression is not None:
            reason = f": {item.suppression.reason}" if item.suppression.reason else " (no reason given)"
            status = f" [suppressed by the comment on line {item.suppression.line}{reason}]"
        elif not item.selected:
            status = " [not reported: rule selection or per-file-ignores]"
        out.append(f"  {d.code} {d.name} (line {d.location.line}): {d.message}{status}")
    for dec in report.decisions:
        where = f" ({dec.where()})" if dec.evidence else ""
        out.append(f"  {dec.family} `{dec.subject}`: {dec.verdict}: {dec.reason}{where}")
    if len(out) == 1:
        out.append("  no query or store call here that tenantlint judges, and no finding")
    return "\n".join(out) + "\n"


def render_json(report: LineReport) -> str:
    data = {
        "version": 1,
        "path": report.path,
        "line": report.line,
        "statement": {"line": report.span[0], "end_line": report.span[1]},
        "findings": [{
            "code": v.diagnostic.code, "name": v.diagnostic.name, "message": v.diagnostic.message,
            "line": v.diagnostic.location.line, "column": v.diagnostic.location.column,
            "suppressed": v.suppression is not None,
            "suppression": None if v.suppression is None else {
                "line": v.suppression.line, "reason": v.suppression.reason,
                "codes": sorted(v.suppression.codes) if v.suppression.codes else None},
            "selected": v.selected,
        } for v in report.findings],
        "decisions": [{
            "family": d.family, "subject": d.subject, "verdict": d.verdict, "reason": d.reason,
            "line": d.line, "end_line": d.end_line, "evidence": d.where() or None,
        } for d in report.decisions],
    }
    return json.dumps(data, indent=2) + "\n"
