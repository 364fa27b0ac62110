"""GitHub Actions workflow commands: one `::error`/`::warning` annotation per finding.

GitHub shows at most 10 error and 10 warning annotations per step and drops the rest
silently. So the first 10 of each become annotations; the others are printed as plain
`path:line:col: CODE message` log lines (still in the job log, nothing lost), and a
final `::notice` says how many were not annotated and where to see them all (the log,
or a SARIF upload, which has no such cap)."""
from __future__ import annotations

from tenantlint.diagnostics import Diagnostic, Report, Severity

PER_STEP_CAP = 10


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic) -> str:
    loc = d.location
    kind = "error" if d.severity is Severity.ERROR else "warning"
    props = [("file", d.path), ("line", loc.line), ("col", loc.column)]
    if loc.end_line >= loc.line:
        props.append(("endLine", loc.end_line))
        if loc.end_line == loc.line and loc.end_column > loc.column:
            props.append(("endColumn", loc.end_column))
    props.append(("title", d.code))
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in props)
    return f"::{kind} {rendered}::{escape_data(d.message)}"


def render(report: Report, *, cap: int = PER_STEP_CAP, **_options) -> str:
    lines: list[str] = []
    shown = {Severity.ERROR: 0, Severity.WARNING: 0}
    overflow = 0
    for d in report.diagnostics:
        if shown[d.severity] < cap:
            shown[d.severity] += 1
            lines.append(annotation(d))
        else:
            overflow += 1
            lines.append(f"{d.path}:{d.location.line}:{d.location.column}: {d.code} {d.message}")
    if overflow:
        total = len(report.diagnostics)
        lines.append("::notice title=tenantlint::" + escape_data(
            f"{overflow} of {total} findings are not annotated (GitHub shows {cap} errors and {cap} "
            "warnings per step); they are listed in this log, and a SARIF upload (--format sarif) "
            "shows them all in code scanning"))
    for stale in report.stale_baseline:
        lines.append(f"baseline: {stale} is fixed; rewrite the baseline with --write-baseline to drop it")
    return "\n".join(lines) + ("\n" if lines else "")
