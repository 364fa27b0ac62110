"""`# tenantlint: ignore[TL101] reason` (and `-- tenantlint: ignore[...]` in SQL).

A suppression on any line of the flagged statement silences the finding. Comments are
found with the tokenizer for Python, so a string that merely contains the words does
not count; the reason is the text after the bracket."""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from tenantlint.diagnostics import Diagnostic

_DIRECTIVE = re.compile(r"tenantlint:\s*ignore(?:\[(?P<codes>[^\]]*)\])?(?P<reason>.*)$", re.I)


@dataclass
class Suppression:
    line: int
    column: int
    codes: frozenset[str] | None  # None: every code; empty (`ignore[]`): none
    reason: str
    used: bool = False


@dataclass
class Suppressions:
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)

    def all(self) -> list[Suppression]:
        return [s for items in self.by_line.values() for s in items]

    def silences(self, diag: Diagnostic) -> bool:
        low, high = diag.suppress_lines
        low = min(low or diag.location.line, diag.location.line)
        high = max(high, diag.location.line)
        hit = False
        for line in range(low, high + 1):
            for sup in self.by_line.get(line, ()):
                if sup.codes is None or any(diag.code.startswith(c) for c in sup.codes):
                    sup.used = True
                    hit = True
        return hit


def _parse(comment: str, line: int, column: int) -> Suppression | None:
    match = _DIRECTIVE.search(comment)
    if not match:
        return None
    codes = match.group("codes")
    # `ignore[]` / `ignore[,]` name no code: they silence nothing (and are reported, TL003),
    # rather than everything as a bare `ignore` does.
    code_set = frozenset(c.strip().upper() for c in codes.split(",") if c.strip()) if codes is not None else None
    reason = match.group("reason").strip().lstrip("-#:—– ").strip()
    return Suppression(line, column, code_set, reason)


def python_suppressions(source: str) -> Suppressions:
    result = Suppressions()
    if "tenantlint:" not in source:
        return result
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                sup = _parse(tok.string, tok.start[0], tok.start[1] + 1)
                if sup:
                    result.by_line.setdefault(sup.line, []).append(sup)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return result


def sql_suppressions(source: str) -> Suppressions:
    result = Suppressions()
    if "tenantlint:" not in source:
        return result
    for number, line in enumerate(source.splitlines(), 1):
        index = line.find("--")
        if index >= 0:
            sup = _parse(line[index + 2:], number, index + 1)
            if sup:
                result.by_line.setdefault(number, []).append(sup)
    return result
