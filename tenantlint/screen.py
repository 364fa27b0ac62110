"""Cheap screens before the walk.

Each checker class declares `wants(source, catalog, settings)` (see `rulebase.py`): a
text test that is False only when the checker would report nothing on the file. The
engine runs only the checkers that want a file, and a file no checker wants skips
the walk entirely: it is only parsed, so it can still be TL001.

`TENANTLINT_NO_SCREENS=1` turns screens off (every checker on every file): the test that
proves screens change no result compares both ways.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from tenantlint.catalog import TenantCatalog
    from tenantlint.config import Settings
    from tenantlint.rulebase import Checker


def enabled() -> bool:
    return os.environ.get("TENANTLINT_NO_SCREENS", "") in ("", "0")


def wanted(source: str, catalog: "TenantCatalog", settings: "Settings",
           checkers: Sequence[type["Checker"]] | None = None) -> list[type["Checker"]]:
    """The checkers worth running on `source`, in registry order. A screen that raises
    counts as wanting the file: a screen may only save work, never drop a finding."""
    if checkers is None:
        from tenantlint.rules import CHECKERS as checkers
    if not enabled():
        return list(checkers)
    out = []
    for checker in checkers:
        try:
            keep = checker.wants(source, catalog, settings)
        except Exception:  # noqa: BLE001 - fail closed
            keep = True
        if keep:
            out.append(checker)
    return out
