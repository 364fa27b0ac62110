"""Which findings get a fix, each checked by re-scanning: a fix is kept only when the
file with it applied no longer has that finding and gains no other (a fix that does not
clear its finding is a tenantlint bug: it is dropped and reported, never applied)."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from tenantlint.catalog import TenantCatalog
from tenantlint.config import Settings
from tenantlint.diagnostics import Diagnostic, Report
from tenantlint.engine import check_text
from tenantlint.fixes import Fix, NoFix, apply_edits
from tenantlint.fixes.keys import fix_key
from tenantlint.files import module_name
from tenantlint.fixes.orm import fix_orm
from tenantlint.fixes.reach import Judge
from tenantlint.fixes.sql import fix_missing_tenant, fix_session_setting
from tenantlint.fixes.tree import CstFile

FIXABLE = frozenset({"TL101", "TL103", "TL105", "TL201", "TL202", "TL203", "TL401", "TL403"})


@dataclass
class FilePlan:
    path: Path
    rel: str
    text: str
    fixes: list[tuple[Diagnostic, Fix]] = field(default_factory=list)

    def fixed_text(self, unsafe: bool) -> str:
        chosen = [fix for _d, fix in self.fixes if fix.safe or unsafe]
        return apply_edits(self.text, [e for fix in chosen for e in fix.edits]) or self.text


@dataclass
class FixPlan:
    files: list[FilePlan] = field(default_factory=list)
    fixes: dict[str, Fix] = field(default_factory=dict)  # fingerprint -> verified fix
    reasons: dict[str, str] = field(default_factory=dict)  # fingerprint -> why no fix
    failed: list[tuple[Diagnostic, Fix]] = field(default_factory=list)  # fixes that did not clear

    def count(self, unsafe: bool) -> int:
        return sum(1 for f in self.fixes.values() if f.safe or unsafe)


def plan_fixes(report: Report, settings: Settings, catalog: TenantCatalog,
               texts: Mapping[str, str] | None = None) -> FixPlan:
    """`texts`: files' content by relative path where it is not what is on disk (an
    editor's unsaved buffers)."""
    plan = FixPlan()
    by_file: dict[str, list[Diagnostic]] = defaultdict(list)
    for diag in report.diagnostics:
        if diag.code in FIXABLE:
            by_file[diag.path].append(diag)
    for rel, diags in sorted(by_file.items()):
        path = settings.root / rel
        if path.suffix != ".py":
            for diag in diags:
                plan.reasons[diag.fingerprint] = "fixes are made in Python files only"
            continue
        text = (texts or {}).get(rel)
        if text is None:
            try:
                text = path.read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        tree = CstFile.parse(text)
        if tree is None:
            continue
        file_plan = FilePlan(path, rel, text)
        judge = Judge(text, module_name(rel), settings, catalog.tenant_columns)
        before = Counter(d.code for d in _findings(text, rel, settings, catalog))
        for diag in diags:
            fix = _fix_for(diag, tree, catalog, judge)
            if isinstance(fix, NoFix):
                plan.reasons[diag.fingerprint] = fix.reason
                continue
            if _clears(fix, diag, text, rel, settings, catalog, before):
                file_plan.fixes.append((diag, fix))
            else:
                plan.failed.append((diag, fix))
                plan.reasons[diag.fingerprint] = "the fix found did not clear the finding (not applied)"
        _keep_compatible(file_plan, settings, catalog, before, plan)
        for diag, fix in file_plan.fixes:
            plan.fixes[diag.fingerprint] = fix
        if file_plan.fixes:
            plan.files.append(file_plan)
    return plan


def _findings(text: str, rel: str, settings: Settings, catalog: TenantCatalog) -> list[Diagnostic]:
    """The file's findings that its suppressions leave (what a fix must reduce)."""
    result = check_text(text, rel, settings, catalog)
    return [d for d in result.diagnostics if d.code == "TL001" or not result.suppressions.silences(d)]


def _fix_for(diag: Diagnostic, tree: CstFile, catalog: TenantCatalog, judge: Judge) -> Fix | NoFix:
    if diag.code == "TL105":
        return fix_session_setting(diag, tree)
    if diag.code in ("TL101", "TL103"):
        return fix_missing_tenant(diag, tree, judge)
    if diag.code in ("TL401", "TL403"):
        column = sorted(catalog.tenant_columns)[0] if len(catalog.tenant_columns) == 1 else None
        if column is None:
            return NoFix("several tenant columns configured: which one keys the cache is unclear")
        return fix_key(diag, tree, column, judge)
    return fix_orm(diag, tree, catalog, judge)


def _clears(fix: Fix, diag: Diagnostic, text: str, rel: str, settings, catalog, before: Counter) -> bool:
    fixed = apply_edits(text, fix.edits)
    if fixed is None or CstFile.parse(fixed) is None:
        return False
    after = Counter(d.code for d in _findings(fixed, rel, settings, catalog))
    if after[diag.code] >= before[diag.code]:
        return False
    return all(after[code] <= before[code] for code in after)


def _keep_compatible(file_plan: FilePlan, settings, catalog, before: Counter, plan: FixPlan) -> None:
    """Fixes that hold together: no overlapping edits, and the file with all of them
    applied has as many fewer findings as fixes (else they are added one by one)."""
    kept: list[tuple[Diagnostic, Fix]] = []
    for diag, fix in file_plan.fixes:
        trial = kept + [(diag, fix)]
        edits = [e for _d, f in trial for e in f.edits]
        fixed = apply_edits(file_plan.text, edits)
        if fixed is None:
            plan.reasons[diag.fingerprint] = "its fix overlaps another fix: run again after fixing"
            continue
        kept.append((diag, fix))
    if not kept:
        file_plan.fixes = []
        return
    if _together(file_plan.text, kept, file_plan.rel, settings, catalog, before):
        file_plan.fixes = kept
        return
    together: list[tuple[Diagnostic, Fix]] = []
    for item in kept:
        if _together(file_plan.text, together + [item], file_plan.rel, settings, catalog, before):
            together.append(item)
        else:
            plan.reasons[item[0].fingerprint] = "its fix conflicts with another fix: run again after fixing"
    file_plan.fixes = together


def _together(text: str, items, rel: str, settings, catalog, before: Counter) -> bool:
    fixed = apply_edits(text, [e for _d, f in items for e in f.edits])
    if fixed is None:
        return False
    after = Counter(d.code for d in _findings(fixed, rel, settings, catalog))
    expected = before.copy()
    expected.subtract(Counter(d.code for d, _f in items))
    return all(after[code] <= expected[code] for code in set(after) | set(expected))
