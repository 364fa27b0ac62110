"""Schema facts from DDL text (`.sql` files, migration strings), for the tenant catalog
and the RLS/index rules.

Read from the token stream, not the AST: sqlglot reads `ALTER TABLE ... ROW LEVEL
SECURITY` and `CREATE POLICY` only as opaque Commands, and PostgreSQL-specific CREATE
TABLE clauses (PARTITION BY, INHERITS...) must not make us lose a table's columns.
"""
from __future__ import annotations

from dataclasses import replace

from tenantlint.sql import glot
from tenantlint.sql.glot import Tok
from tenantlint.sql.statements import split_tokens, token_chunks
from tenantlint.sql.types import DdlFact

_NAME_KINDS = ("VAR", "IDENTIFIER", "DOT")
_NOT_COLUMNS = {"CONSTRAINT", "PRIMARY", "UNIQUE", "FOREIGN", "CHECK", "EXCLUDE", "LIKE", "INDEX", "KEY"}
_RLS = {
    ("ENABLE",): "enable_rls", ("FORCE",): "force_rls",
    ("DISABLE",): "disable_rls", ("NO", "FORCE"): "no_force_rls",
}


def ddl_facts(text: str, dialect: str = "postgres") -> list[DdlFact]:
    """Facts of every statement in `text`; statements we cannot read are skipped."""
    facts: list[DdlFact] = []
    # One statement that does not tokenize (an unterminated quote) must not cost the
    # other statements: the tables they define keep the catalog honest.
    for offset, toks, _chunk in token_chunks(text, dialect):
        for chunk in split_tokens(toks or []):
            try:
                facts += [replace(f, offset=f.offset + offset) for f in _facts(chunk) if f.table]
            except Exception:  # noqa: BLE001 - an odd statement never hides the others
                continue
    return facts


def _name(toks: list[Tok], i: int) -> tuple[str, int]:
    """(last part of a dotted name starting at toks[i], index after it)."""
    name = ""
    while i < len(toks) and (toks[i].kind in _NAME_KINDS or (not name and toks[i].kind != "L_PAREN")):
        if toks[i].kind != "DOT":
            name = toks[i].text.lower()
        i += 1
        if i < len(toks) and toks[i].kind != "DOT" and toks[i - 1].kind != "DOT":
            break
    return name, i


def _skip(words: list[str], i: int, skip: set[str]) -> int:
    while i < len(words) and words[i] in skip:
        i += 1
    return i


def _groups(toks: list[Tok], i: int) -> tuple[list[list[Tok]], int]:
    """Split the parenthesized list opening at toks[i] on its top-level commas."""
    groups: list[list[Tok]] = [[]]
    depth = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "L_PAREN":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif t.kind == "R_PAREN":
            depth -= 1
            if depth == 0:
                return [g for g in groups if g], i + 1
        elif t.kind == "COMMA" and depth == 1:
            groups.append([])
            i += 1
            continue
        if depth >= 1:
            groups[-1].append(t)
        i += 1
    return [g for g in groups if g], i


def _columns_of(group: list[Tok]) -> list[str]:
    return [t.text.lower() for t in group if t.kind in ("VAR", "IDENTIFIER")]


def _facts(toks: list[Tok]) -> list[DdlFact]:
    words = [t.upper for t in toks]
    offset = toks[0].start
    if words[:2] == ["CREATE", "POLICY"]:
        return [_policy(toks, words, offset)]
    if words[0] == "ALTER" and len(words) > 2 and words[1] == "TABLE":
        i = _skip(words, 2, {"IF", "EXISTS", "ONLY"})
        table, i = _name(toks, i)
        rest = tuple(words[i:])
        for prefix, kind in _RLS.items():
            if rest[:len(prefix) + 3] == prefix + ("ROW", "LEVEL", "SECURITY"):
                return [DdlFact(kind, table, offset=offset)]
        return []
    if words[0] != "CREATE":
        return []
    i = _skip(words, 1, {"OR", "REPLACE", "UNLOGGED", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL", "UNIQUE"})
    if i < len(words) and words[i] == "TABLE":
        return _create_table(toks, words, _skip(words, i + 1, {"IF", "NOT", "EXISTS"}), offset)
    if i < len(words) and words[i] == "INDEX":
        return _create_index(toks, words, i + 1, offset)
    return []


def _create_table(toks, words, i, offset) -> list[DdlFact]:
    table, i = _name(toks, i)
    if i >= len(toks) or toks[i].kind != "L_PAREN":
        return []
    columns: list[str] = []
    leading: list[str] = []
    for group in _groups(toks, i)[0]:
        gw = [t.upper for t in group]
        head = gw[0]
        if head == "CONSTRAINT":
            group, gw = group[2:], gw[2:]
            head = gw[0] if gw else ""
        if head.split(" ")[0] in ("PRIMARY", "UNIQUE"):  # a table-level key: first column leads
            paren = next((k for k, t in enumerate(group) if t.kind == "L_PAREN"), -1)
            inner = _groups(group, paren)[0] if paren >= 0 else []
            cols = _columns_of(inner[0]) if inner else []
            if cols:
                leading.append(cols[0])
            continue
        if head in _NOT_COLUMNS or group[0].kind not in ("VAR", "IDENTIFIER"):
            continue
        col = group[0].text.lower()
        columns.append(col)
        flat = " ".join(gw)  # sqlglot tokenizes `PRIMARY KEY` as one token
        if "PRIMARY KEY" in flat or "UNIQUE" in gw:
            leading.append(col)
    return [DdlFact("create_table", table, tuple(columns), tuple(dict.fromkeys(leading)), offset=offset)]


def _create_index(toks, words, i, offset) -> list[DdlFact]:
    unique = "UNIQUE" in words[:i]
    if "ON" not in words[i:]:
        return []
    j = words.index("ON", i)
    table, j = _name(toks, _skip(words, j + 1, {"ONLY"}))
    if j < len(words) and words[j] == "USING":
        j += 2
    if j >= len(toks) or toks[j].kind != "L_PAREN":
        return []
    columns = []
    for group in _groups(toks, j)[0]:
        if group[0].kind in ("VAR", "IDENTIFIER") and not (len(group) > 1 and group[1].kind == "L_PAREN"):
            columns.append(group[0].text.lower())
        else:
            columns.append("")  # an expression index: no plain leading column
    return [DdlFact("index", table, tuple(columns), extra={"unique": "true"} if unique else {}, offset=offset)]


def _policy(toks, words, offset) -> DdlFact:
    on = words.index("ON") if "ON" in words else len(words)
    table, _ = _name(toks, on + 1)
    using = with_check = False
    columns: list[str] = []
    k = on
    while k < len(words):
        clause = ""
        if words[k] == "USING" and k + 1 < len(toks) and toks[k + 1].kind == "L_PAREN":
            clause, start = "using", k + 1
        elif words[k:k + 2] == ["WITH", "CHECK"] and k + 2 < len(toks) and toks[k + 2].kind == "L_PAREN":
            clause, start = "check", k + 2
        if not clause:
            k += 1
            continue
        using = using or clause == "using"
        with_check = with_check or clause == "check"
        end = start
        depth = 0
        while end < len(toks):
            depth += toks[end].kind == "L_PAREN"
            depth -= toks[end].kind == "R_PAREN"
            if depth == 0:
                break
            end += 1
        body = toks[start:end]
        for n, t in enumerate(body):
            after = body[n + 1].kind if n + 1 < len(body) else ""
            before = body[n - 1].kind if n else ""
            if t.kind in ("VAR", "IDENTIFIER") and after not in ("L_PAREN", "DOT") and before != "DCOLON":
                columns.append(t.text.lower())
        k = end + 1
    return DdlFact("policy", table, tuple(dict.fromkeys(columns)), with_check=with_check, using=using, offset=offset)
