"""`{"version": 1, "tool": ..., "diagnostics": [...], "summary": ...}`."""
from __future__ import annotations

import json
from collections import Counter

from tenantlint import __version__
from tenantlint.diagnostics import Report


def render(report: Report, **_options) -> str:
    counts = Counter(d.code for d in report.diagnostics)
    document = {
        "version": 1,
        "tool": {"name": "tenantlint", "version": __version__},
        "diagnostics": [d.to_dict() for d in report.diagnostics],
        "summary": {
            "files_scanned": report.files_scanned,
            "findings": len(report.diagnostics),
            "errors": sum(d.severity.value == "error" for d in report.diagnostics),
            "warnings": sum(d.severity.value == "warning" for d in report.diagnostics),
            "suppressed": report.suppressed,
            "baselined": report.baselined,
            "stale_baseline": list(report.stale_baseline),
            "by_code": dict(sorted(counts.items())),
        },
    }
    return json.dumps(document, indent=2) + "\n"
