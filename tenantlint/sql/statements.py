"""Text -> statements: pre-screen, placeholder normalization, split, parse (cached).

Every string literal of a scanned codebase passes through `looks_like_sql`, so that is
one anchored regex on the first word; only candidates are tokenized and parsed, once
per distinct (text, dialect), thanks to an LRU cache.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tenantlint.sql import glot
from tenantlint.sql.normalize import normalize_placeholders
from tenantlint.sql.predicates import is_hole_name

QUERY_WORDS = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE"})
START_WORDS = QUERY_WORDS | {
    "ALTER", "SET", "CREATE", "DROP", "TRUNCATE", "REPLACE", "UPSERT", "GRANT",
    "REVOKE", "VALUES", "RESET", "COMMENT", "COPY",
} | {"BEGIN", "START", "SAVEPOINT", "COMMIT", "ROLLBACK", "END"}
# Transaction control is not judged itself, but it opens many multi-statement strings
# (`BEGIN; DELETE FROM orders; COMMIT;`), so the text is still read.
TXN_WORDS = frozenset({"BEGIN", "START", "SAVEPOINT", "COMMIT", "ROLLBACK", "END"})
# Leading whitespace, comments and parentheses, then the first word.
_LEAD = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*([A-Za-z_]+)", re.S)
MAX_DEPTH = 64  # nesting beyond this makes sqlglot slow or recursive; treat as unparseable
# `ARRAY[ARRAY[...]]` parse time grows ~1.8x per level (0.06 s at 12, 0.6 s at 16, minutes at 30).
MAX_BRACKET_DEPTH = 12


def first_word(text: str) -> str:
    m = _LEAD.match(text)
    return m.group(1).upper() if m else ""


def looks_like_sql(text: str) -> bool:
    """The cheap pre-screen: does the text start with a statement keyword?"""
    return first_word(text) in START_WORDS


@lru_cache(maxsize=None)
def literal_screen() -> re.Pattern:
    """A file's screen for SQL: an opening quote, then what `looks_like_sql` skips
    (whitespace, written escapes such as `\\n`, parentheses, `--` and `/* */` comments),
    then a statement keyword. `analyze_sql` ignores text whose first word is not one of
    START_WORDS, and every character of a recovered SQL text comes from a string literal
    of the file, so a file without such a literal has no SQL to judge. (Not covered: a
    first keyword split across two literals, `"SEL" + "ECT ..."`.)"""
    lead = r"(?:\s|\\[ntrfv]|\\\r?\n|\(|--[^\n]*?(?:\\n|\n)|/\*.*?\*/)*"
    words = "|".join(sorted(START_WORDS))
    return re.compile(r"['\"]" + lead + r"(?:" + words + r")\b", re.I | re.S)


@dataclass(frozen=True)
class Statement:
    """One statement of a text. `tree` is None when it did not parse (`error` says why).
    `toks` are the statement's own tokens (comments excluded) from the normalized text."""

    text: str
    offset: int
    toks: tuple[glot.Tok, ...]
    tree: object = None  # exp.Expression; typed loosely to keep sqlglot out of signatures
    error: str = ""
    mutation: bool = False  # a ClickHouse ALTER TABLE ... DELETE/UPDATE, read as DML

    @property
    def words(self) -> list[str]:
        return [t.upper for t in self.toks]

    @property
    def first(self) -> str:
        """The leading keyword, past any opening parentheses: `(SELECT ...) UNION ...`."""
        return next((t.upper for t in self.toks if t.kind != "L_PAREN"), "")


def split_tokens(toks: list[glot.Tok]) -> list[list[glot.Tok]]:
    chunks: list[list[glot.Tok]] = [[]]
    for t in toks:
        if t.kind == "SEMICOLON":
            chunks.append([])
        else:
            chunks[-1].append(t)
    return [c for c in chunks if c]


def _too_deep(toks: list[glot.Tok]) -> bool:
    depth = brackets = 0
    for t in toks:
        if t.kind in ("L_PAREN", "L_BRACKET", "L_BRACE"):
            depth += 1
            brackets += t.kind == "L_BRACKET"
            if depth > MAX_DEPTH or brackets > MAX_BRACKET_DEPTH:
                return True
        elif t.kind in ("R_PAREN", "R_BRACKET", "R_BRACE"):
            depth -= 1
            brackets -= t.kind == "R_BRACKET" and brackets > 0
    return False


def _mutation_text(toks: list[glot.Tok], text: str) -> str | None:
    """`ALTER TABLE t [ON CLUSTER c] DELETE WHERE p` -> `DELETE FROM t WHERE p` (and
    UPDATE likewise), so ClickHouse mutations get the same scope analysis as DML."""
    if len(toks) < 4 or toks[0].upper != "ALTER" or toks[1].upper != "TABLE":
        return None
    i = 2
    name_start = toks[i].start
    while i + 1 < len(toks) and toks[i + 1].kind == "DOT":
        i += 2
    name = text[name_start:toks[i].end + 1]
    i += 1
    if i + 1 < len(toks) and toks[i].upper == "ON" and toks[i + 1].upper == "CLUSTER":
        i += 3
    if i >= len(toks):
        return None
    rest = text[toks[i].end + 1:toks[-1].end + 1]
    if toks[i].upper == "DELETE":
        return f"DELETE FROM {name} {rest}"
    if toks[i].upper == "UPDATE":
        return f"UPDATE {name} SET {rest}"
    return None


def _parse_one(toks: list[glot.Tok], text: str, dialect: str) -> Statement:
    start, end = toks[0].start, toks[-1].end + 1
    body = text[start:end]
    if _too_deep(toks):
        return Statement(body, start, tuple(toks), None, "too-deep")
    mutation = _mutation_text(toks, text)
    try:
        if mutation is not None:
            mtoks = glot.tokenize(mutation, dialect)
            tree = glot.parse_tokens(mtoks, mutation, dialect)
        else:
            tree = glot.parse_tokens(toks, text, dialect)
    except BaseException as e:  # noqa: BLE001 - sqlglot raises many things; never crash
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        tree = None if mutation is not None else _parse_around_holes(toks, text, dialect)
        if tree is None:
            return Statement(body, start, tuple(toks), None, type(e).__name__, mutation is not None)
    return Statement(body, start, tuple(toks), tree, "", mutation is not None)


# Tokens that end an operand: a hole right after one is a clause fragment, not a value.
_OPERAND_ENDS = frozenset({"VAR", "IDENTIFIER", "NUMBER", "STRING", "R_PAREN", "PARAMETER", "PLACEHOLDER",
                           "NULL", "TRUE", "FALSE", "STAR"})


def _parse_around_holes(toks: list[glot.Tok], text: str, dialect: str):
    """`WHERE team_id = %(team_id)s {date_filter} {property_filter} GROUP BY ...`: a
    `.format` hole right after a complete operand is a clause fragment (`AND ...`).
    Read it as a conjunct of its own (`... AND {date_filter} AND {property_filter}`),
    which is what the scope walker treats as an interpolated clause: it neither weakens
    an anchored scope nor lets an unanchored one pass (TL002). None when there is no
    such hole or the text still does not parse."""
    cuts = [t.start for prev, t in zip(toks, toks[1:])
            if t.kind == "VAR" and is_hole_name(t.text) and (prev.kind in _OPERAND_ENDS or is_hole_name(prev.text))]
    if not cuts:
        return None
    start, end = toks[0].start, toks[-1].end + 1
    pieces, last = [], start
    for cut in cuts:
        pieces += [text[last:cut], "AND "]
        last = cut
    rewritten = "".join(pieces) + text[last:end]
    try:
        return glot.parse_tokens(glot.tokenize(rewritten, dialect), rewritten, dialect)
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return None


@lru_cache(maxsize=4096)
def parse_statements(text: str, dialect: str = "postgres", limit: int = 100_000) -> tuple[Statement, ...]:
    """Normalize, tokenize once, split on `;` tokens and parse each statement.

    Over `limit` characters the text is tokenized (linear) but not parsed: parse cost
    can be super-linear on pathological input. A text that does not tokenize yields a
    single failed statement over the whole text."""
    norm = normalize_placeholders(text, dialect)
    try:
        toks = glot.tokenize(norm, dialect)
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return (Statement(norm, 0, (), None, "tokenize"),)
    out = []
    for chunk in split_tokens(toks):
        if len(text) > limit:  # the written text: normalized placeholders are longer
            out.append(Statement(norm[chunk[0].start:chunk[-1].end + 1], chunk[0].start,
                                 tuple(chunk), None, "too-long"))
        else:
            out.append(_parse_one(chunk, norm, dialect))
    return tuple(out)


def split_statements(text: str, dialect: str = "postgres") -> list[tuple[int, str]]:
    """(offset, text) of each statement of a `.sql` file; semicolons inside strings,
    comments and dollar-quoted bodies do not split. Never raises: a region that does not
    tokenize (an unterminated quote) is returned whole, and `untokenizable()` names it."""
    out = []
    for offset, toks, chunk in token_chunks(text, dialect):
        if toks is None:
            stripped = chunk.strip()
            if stripped:
                out.append((offset + chunk.find(stripped), stripped))
            continue
        out += [(offset + c[0].start, chunk[c[0].start:c[-1].end + 1]) for c in split_tokens(toks)]
    return out


def untokenizable(text: str, dialect: str = "postgres") -> list[int]:
    """Offsets of the regions of `text` that do not tokenize."""
    return [offset + len(chunk) - len(chunk.lstrip()) for offset, toks, chunk in token_chunks(text, dialect)
            if toks is None and chunk.strip()]


_LINE_END_SEMICOLON = re.compile(r";[ \t]*(?:--[^\n]*)?\n")


def token_chunks(text: str, dialect: str = "postgres"):
    """[(offset, tokens or None, chunk)]: the whole text when it tokenizes; otherwise
    its `;`-at-end-of-line pieces, each tokenized on its own, so that one unterminated
    quote costs one statement, not every table of the file."""
    toks = _tokens(text, dialect)
    if toks is not None:
        return [(0, toks, text)]
    out, start = [], 0
    for match in _LINE_END_SEMICOLON.finditer(text):
        out.append((start, text[start:match.end()]))
        start = match.end()
    out.append((start, text[start:]))
    return [(offset, _tokens(chunk, dialect), chunk) for offset, chunk in out]


def _tokens(text: str, dialect: str):
    try:
        return glot.tokenize(text, dialect)
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return None
