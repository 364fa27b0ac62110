"""What `scan --fix / --unsafe-fixes / --diff` do with a fix plan: a unified diff, the
files rewritten, notes on the findings, and the fixes as SARIF replacements."""
from __future__ import annotations

import difflib

from tenantlint.diagnostics import FixedRegion, Replacement, Report
from tenantlint.fixes.plan import FixPlan
from tenantlint.positions import Lines


def unified_diff(plan: FixPlan, unsafe: bool) -> str:
    out: list[str] = []
    for file in plan.files:
        new = file.fixed_text(unsafe)
        if new != file.text:
            out.extend(difflib.unified_diff(file.text.splitlines(keepends=True), new.splitlines(keepends=True),
                                            f"a/{file.rel}", f"b/{file.rel}"))
            if out and not out[-1].endswith("\n"):
                out[-1] += "\n\\ No newline at end of file\n"
    return "".join(out)


def write_fixes(plan: FixPlan, unsafe: bool) -> tuple[int, int]:
    """Rewrite the files; returns (findings fixed, files changed). A file changed on disk
    since it was read is left alone."""
    fixed = files = 0
    for file in plan.files:
        new = file.fixed_text(unsafe)
        if new == file.text:
            continue
        try:
            if file.path.read_bytes().decode("utf-8") != file.text:
                continue
            file.path.write_bytes(new.encode("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        files += 1
        fixed += sum(1 for _d, fix in file.fixes if fix.safe or unsafe)
    return fixed, files


def annotate(report: Report, plan: FixPlan, unsafe: bool) -> None:
    """Notes for the text output: which findings have a fix, and why the others have none."""
    for diag in report.diagnostics:
        fix = plan.fixes.get(diag.fingerprint)
        if fix is not None:
            hidden = "" if fix.safe or unsafe else " with --unsafe-fixes"
            report.notes[diag.fingerprint] = f"fix{hidden}: {fix.title}"
        elif diag.fingerprint in plan.reasons:
            report.notes[diag.fingerprint] = f"no fix: {plan.reasons[diag.fingerprint]}"


def attach_sarif_fixes(report: Report, plan: FixPlan) -> None:
    for file in plan.files:
        lines = Lines(file.text)
        for diag, fix in file.fixes:
            replacements = []
            for edit in sorted(fix.edits, key=lambda e: e.start):
                line, end_line = lines.line_of_offset(edit.start), lines.line_of_offset(edit.end)
                column = edit.start - lines.starts[line - 1] + 1
                end_column = edit.end - lines.starts[end_line - 1] + 1
                replacements.append(Replacement(line, column, end_line, end_column, edit.text))
            report.fixes[diag.fingerprint] = FixedRegion(fix.title, file.rel, tuple(replacements), fix.safe)


def summary(plan: FixPlan, unsafe: bool, verb: str) -> str:
    applied = plan.count(unsafe)
    hidden = plan.count(True) - applied
    line = f"tenantlint: {verb} {applied} finding{'s' if applied != 1 else ''}"
    if hidden:
        line += (f" ({hidden} unsafe fix{'es' if hidden != 1 else ''} hidden: tenant fixes change behaviour, "
                 "enable them with --unsafe-fixes)")
    if plan.failed:
        line += (f"; {len(plan.failed)} fix{'es' if len(plan.failed) != 1 else ''} did not clear "
                 f"{'their' if len(plan.failed) != 1 else 'its'} finding and were dropped (a tenantlint bug)")
    return line
