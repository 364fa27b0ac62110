"""Judge a policy expression as PostgreSQL deparses it (`pg_get_expr`): does it pin the
tenant column, or does it let other tenants' rows through?

The deparser's output is regular: sub-expressions of AND/OR are parenthesized, string
constants are single-quoted, identifiers double-quoted only when needed. So a small
paren- and quote-aware splitter is enough; no SQL parser is needed here."""
from __future__ import annotations

import enum
import re


class Verdict(str, enum.Enum):
    CONSTRAINS = "constrains"  # a top-level conjunct pins the tenant column
    ALWAYS_TRUE = "true"  # USING (true): every row
    NEVER = "false"  # USING (false): no row (harmless, useless)
    OR_ESCAPE = "or"  # the tenant condition is one branch of an OR
    SELF = "self"  # tenant_id = tenant_id: always true for non-NULL rows
    UNRELATED = "unrelated"  # does not constrain the tenant column at all

    @property
    def leaks(self) -> bool:
        return self in (Verdict.ALWAYS_TRUE, Verdict.OR_ESCAPE, Verdict.SELF, Verdict.UNRELATED)


def _depths(text: str) -> list[int]:
    """Paren depth at each character, -1 inside quotes (strings and quoted identifiers)."""
    out, depth, quote = [], 0, ""
    for ch in text:
        if quote:
            out.append(-1)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
            out.append(-1)
            continue
        if ch == "(":
            out.append(depth)
            depth += 1
            continue
        if ch == ")":
            depth -= 1
        out.append(depth)
    return out


def strip_parens(text: str) -> str:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        depths = _depths(text)
        # The opening paren closes only at the very end.
        if any(d == 0 for d in depths[1:-1]):
            break
        text = text[1:-1].strip()
    return text


def split_top(text: str, keyword: str) -> list[str]:
    """Split on a keyword (AND, OR) or operator (=) that is outside parens and quotes."""
    depths = _depths(text)
    if keyword.isalpha():
        pattern = re.compile(rf"(?<![\w$]){keyword}(?![\w$])", re.IGNORECASE)
    else:
        pattern = re.compile(rf"(?<![<>!=:]){re.escape(keyword)}(?![=>])")
    parts, start = [], 0
    for match in pattern.finditer(text):
        if depths[match.start()] == 0:
            parts.append(text[start:match.start()])
            start = match.end()
    parts.append(text[start:])
    return [p.strip() for p in parts]


_CAST = re.compile(r"::\s*[\w\s\".]+(\[\])?\s*$")


def _is_column(side: str, column: str) -> bool:
    side = strip_parens(side)
    while True:
        stripped = strip_parens(_CAST.sub("", side))
        if stripped == side:
            break
        side = stripped
    ident = side.split(".")[-1].strip()
    if ident.startswith('"') and ident.endswith('"'):
        return ident[1:-1] == column
    return ident.lower() == column.lower()


def _mentions(text: str, column: str) -> bool:
    return re.search(rf'(?<![\w$])"?{re.escape(column)}"?(?![\w$])', text, re.IGNORECASE) is not None


def _conjunct(text: str, column: str) -> Verdict:
    text = strip_parens(text)
    if len(split_top(text, "OR")) > 1 or len(split_top(text, "AND")) > 1:
        return judge(text, column)
    sides = split_top(text, "=")
    if len(sides) == 2:
        left, right = (_is_column(s, column) for s in sides)
        if left and right:
            return Verdict.SELF
        if left or right:
            return Verdict.CONSTRAINS
    if re.match(rf'^\(*(?:[\w"]+\.)?"?{re.escape(column)}"?\)*(::[\w ]+)?\s+IN\s*\(', text, re.IGNORECASE):
        return Verdict.CONSTRAINS
    return Verdict.UNRELATED


def judge(expr: str, column: str) -> Verdict:
    """How a USING or WITH CHECK expression treats the tenant column."""
    text = strip_parens(expr)
    if text.lower() == "true":
        return Verdict.ALWAYS_TRUE
    if text.lower() == "false":
        return Verdict.NEVER
    branches = split_top(text, "OR")
    if len(branches) > 1:
        verdicts = [judge(b, column) for b in branches]
        if all(v is Verdict.NEVER for v in verdicts):
            return Verdict.NEVER
        return Verdict.OR_ESCAPE if _mentions(text, column) else Verdict.UNRELATED
    verdicts = [_conjunct(c, column) for c in split_top(text, "AND")]
    if Verdict.NEVER in verdicts:
        return Verdict.NEVER
    if Verdict.CONSTRAINS in verdicts:
        return Verdict.CONSTRAINS
    for weak in (Verdict.OR_ESCAPE, Verdict.SELF, Verdict.ALWAYS_TRUE):
        if weak in verdicts:
            return weak
    return Verdict.UNRELATED
