"""Findings: where they are, how bad they are, and a fingerprint that survives line moves."""
from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field, replace
from typing import Iterable


class Severity(str, enum.Enum):
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"warning": 1, "error": 2}[self.value]


@dataclass(frozen=True, order=True)
class Location:
    """1-based lines and columns; the end is inclusive of the last character's column + 1."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    path: str  # posix path relative to the project root (or as given, when outside it)
    location: Location
    # Fingerprint inputs: the enclosing function/class and the flagged text, normalized.
    context: str = ""
    snippet: str = ""
    # Lines on which a `tenantlint: ignore` comment silences this finding (the statement).
    suppress_lines: tuple[int, int] = (0, 0)
    fingerprint: str = ""
    reach: str = "unknown"  # request | task | unknown: where the code runs (tenantlint/reach.py)

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.location.line, self.location.column, self.code, self.message)

    def to_dict(self) -> dict:
        loc = self.location
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path,
            "line": loc.line,
            "column": loc.column,
            "end_line": loc.end_line,
            "end_column": loc.end_column,
            "fingerprint": self.fingerprint,
            "reach": self.reach,
        }


_WS = re.compile(r"\s+")


def normalize_snippet(text: str) -> str:
    return _WS.sub(" ", text).strip()


def with_fingerprints(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Give each diagnostic a fingerprint from rule, path, context and text, plus an
    occurrence index among identical ones, so that moving unrelated lines keeps it."""
    seen: dict[tuple, int] = {}
    out = []
    for diag in sorted(diagnostics, key=lambda d: d.sort_key):
        key = (diag.code, diag.path, diag.context, normalize_snippet(diag.snippet))
        index = seen.get(key, 0)
        seen[key] = index + 1
        digest = hashlib.sha256("\x1f".join(map(str, (*key, index))).encode("utf-8", "surrogateescape")).hexdigest()[:20]
        out.append(replace(diag, fingerprint=digest))
    return out


@dataclass
class Report:
    """Everything a formatter needs: findings, the files scanned, and counts."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_scanned: int = 0
    suppressed: int = 0
    baselined: int = 0
    stale_baseline: list[str] = field(default_factory=list)
    root: str = "."
    # With fix options: fingerprint -> a note on the finding's fix ("no fix: ..."), and
    # fingerprint -> the verified fix as line/column replacements (SARIF `fixes`).
    notes: dict[str, str] = field(default_factory=dict)
    fixes: dict[str, "FixedRegion"] = field(default_factory=dict)


@dataclass(frozen=True)
class Replacement:
    """Replace from (line, column) to (end_line, end_column), 1-based, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


@dataclass(frozen=True)
class FixedRegion:
    title: str
    path: str
    replacements: tuple[Replacement, ...]
    safe: bool = False
