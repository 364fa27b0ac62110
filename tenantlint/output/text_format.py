"""`path:line:col: CODE message`, then one summary line (ruff's shape)."""
from __future__ import annotations

from collections import Counter

from tenantlint.diagnostics import Report, Severity

_RED, _YELLOW, _BOLD, _DIM, _RESET = "\033[31m", "\033[33m", "\033[1m", "\033[2m", "\033[0m"


def render(report: Report, *, color: bool = False, statistics: bool = False, quiet: bool = False) -> str:
    def paint(text: str, *codes: str) -> str:
        return "".join(codes) + text + _RESET if color else text

    lines = []
    if statistics:
        lines.extend(statistics_table(report, paint))
    else:
        # Findings in code a request runs come first (stable: path order within each group).
        for d in sorted(report.diagnostics, key=lambda d: d.reach != "request"):
            code = paint(d.code, _BOLD, _RED if d.severity is Severity.ERROR else _YELLOW)
            where = paint(f"{d.path}:{d.location.line}:{d.location.column}:", _BOLD)
            note = report.notes.get(d.fingerprint)
            lines.append(f"{where} {code} {d.message}" + (paint(f" ({note})", _DIM) if note else ""))
    if not quiet:
        lines.append(summary(report))
    if report.stale_baseline and not quiet:
        lines.extend(stale_lines(report))
    return "\n".join(lines) + ("\n" if lines else "")


def summary(report: Report) -> str:
    n = len(report.diagnostics)
    errors = sum(d.severity is Severity.ERROR for d in report.diagnostics)
    files = f"{report.files_scanned} file{'s' if report.files_scanned != 1 else ''}"
    extra = []
    if report.suppressed:
        extra.append(f"{report.suppressed} suppressed")
    if report.baselined:
        extra.append(f"{report.baselined} in baseline")
    tail = f" ({', '.join(extra)})" if extra else ""
    if not n:
        return f"No findings in {files}{tail}."
    return f"Found {n} finding{'s' if n != 1 else ''} ({errors} error{'s' if errors != 1 else ''}) in {files}{tail}."


def stale_lines(report: Report) -> list[str]:
    n = len(report.stale_baseline)
    head = (f"Baseline: {n} entr{'ies' if n != 1 else 'y'} no longer match{'' if n != 1 else 'es'} a finding "
            "(fixed); rewrite the baseline with --write-baseline to drop "
            f"{'them' if n != 1 else 'it'}:")
    return [head, *(f"  {stale}" for stale in report.stale_baseline)]


def statistics_table(report: Report, paint=lambda t, *c: t) -> list[str]:
    """Counts per code, most frequent first: `count  code  name  severity`."""
    counts = Counter((d.code, d.name, d.severity.value) for d in report.diagnostics)
    if not counts:
        return []
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    width = max(5, len(str(rows[0][1])))
    name_width = max(4, *(len(name) for (_c, name, _s), _n in rows))
    header = f"{'count':>{width}}  {'code':<5}  {'name':<{name_width}}  severity"
    out = [paint(header, _BOLD)]
    for (code, name, severity), count in rows:
        out.append(f"{count:>{width}}  {code:<5}  {name:<{name_width}}  {severity}")
    return out
