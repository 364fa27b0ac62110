"""Fixes: libcst codemods over the spans of findings, each checked by re-scanning.

A fix is a set of text replacements (what SARIF's `fixes` and an editor's code action
carry); libcst finds the nodes and renders the new code, so everything outside the
replaced span stays byte for byte. Tenant fixes change what a query returns or a row
holds: they are unsafe fixes in ruff's sense (shown by `--diff`, applied with
`--fix --unsafe-fixes`). libcst is imported by this package only."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """Replace source[start:end] (character offsets) with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[Edit, ...]
    safe: bool = False


@dataclass(frozen=True)
class NoFix:
    """Why a finding of a fixable rule got no fix (shown in the text output)."""

    reason: str


def apply_edits(text: str, edits) -> str | None:
    """The text with the edits made, or None when two of them overlap."""
    out, last = [], 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        if edit.start < last:
            return None
        out.append(text[last:edit.start])
        out.append(edit.text)
        last = edit.end
    out.append(text[last:])
    return "".join(out)
