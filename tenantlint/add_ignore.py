"""`--add-ignore REASON`: write `# tenantlint: ignore[CODE] REASON` (`-- ` in SQL) for
every current finding, for bulk adoption (as ruff's `--add-noqa`).

The comment goes on a line of the flagged statement where a comment can legally end the
line: the finding's own line when possible, else another line of the statement (never
inside a multi-line string, never after a backslash continuation). An existing
directive on that line gets the code merged in (`ignore[TL101]` -> `ignore[TL101,TL104]`);
a bare `ignore` or one that already names the code is left alone, so running it twice
changes nothing."""
from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from tenantlint.diagnostics import Diagnostic

_DIRECTIVE = re.compile(r"tenantlint:\s*ignore(?P<bracket>\[(?P<codes>[^\]]*)\])?", re.I)
_NOT_SUPPRESSIBLE = ("TL001", "TL003")


def _comment_lines(text: str) -> set[int] | None:
    """Lines a `#` comment may be appended to (they end outside any string)."""
    safe: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
                safe.add(tok.start[0])
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return safe


def _target_line(diag: Diagnostic, safe: set[int] | None) -> int | None:
    line = diag.location.line
    if safe is None:
        return line
    low, high = diag.suppress_lines
    low, high = min(low or line, line), max(high, line)
    for candidate in (line, *range(line + 1, high + 1), *range(low, line)):
        if candidate in safe:
            return candidate
    return None


def _merge(line: str, codes: list[str], reason: str, marker: str) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    match = _DIRECTIVE.search(body)
    if match and marker in body[: match.start()]:
        if match.group("bracket") is None:
            return line  # a bare `ignore` silences every code already
        present = [c.strip().upper() for c in match.group("codes").split(",") if c.strip()]
        missing = [c for c in codes if not any(c.startswith(p) for p in present)]
        if not missing:
            return line
        merged = ",".join(sorted(set(present) | set(missing)))
        return body[: match.start("codes")] + merged + body[match.end("codes"):] + ending
    directive = f"{marker} tenantlint: ignore[{','.join(sorted(set(codes)))}] {reason}".rstrip()
    return body.rstrip() + "  " + directive + ending


def suppression_edit(text: str, diag: Diagnostic, reason: str, *, is_sql: bool) -> tuple[int, str] | None:
    """(1-based line, its new text) that silences `diag` in `text`, or None when no line of
    the statement can take a comment (or the code cannot be suppressed). The editor's
    "suppress with reason" action and `--add-ignore` place directives the same way."""
    if diag.code in _NOT_SUPPRESSIBLE:
        return None
    line = _target_line(diag, None if is_sql else _comment_lines(text))
    lines = text.splitlines(keepends=True)
    if line is None or not 1 <= line <= len(lines):
        return None
    return line, _merge(lines[line - 1], [diag.code], " ".join(reason.split()), "--" if is_sql else "#")


def add_ignores(root: Path, diagnostics: Iterable[Diagnostic], reason: str) -> tuple[int, int]:
    """Edit the files; returns (directives added or extended, files changed)."""
    by_file: dict[str, list[Diagnostic]] = defaultdict(list)
    for diag in diagnostics:
        if diag.code not in _NOT_SUPPRESSIBLE:
            by_file[diag.path].append(diag)
    added = files = 0
    reason = " ".join(reason.split())
    for rel, diags in sorted(by_file.items()):
        path = Path(rel) if Path(rel).is_absolute() else root / rel
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        is_sql = path.suffix == ".sql"
        safe = None if is_sql else _comment_lines(text)
        wanted: dict[int, list[str]] = defaultdict(list)
        for diag in diags:
            line = _target_line(diag, safe)
            if line is not None:
                wanted[line].append(diag.code)
        lines = text.splitlines(keepends=True)
        changed = False
        for number, codes in sorted(wanted.items()):
            if not 1 <= number <= len(lines):
                continue
            new = _merge(lines[number - 1], codes, reason, "--" if is_sql else "#")
            if new != lines[number - 1]:
                lines[number - 1] = new
                added += 1
                changed = True
        if changed:
            path.write_bytes("".join(lines).encode("utf-8"))
            files += 1
    return added, files
