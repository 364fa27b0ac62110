"""Schema facts from DDL text (`.sql` files, migration strings), for the tenant catalog
and the RLS/index rules.

Read from the token stream, not the AST: sqlglot reads `ALTER TABLE ... ROW LEVEL
SECURITY` and `CREATE POLICY` only as opaque Commands, and PostgreSQL-specific CREATE
TABLE clauses (PARTITION BY, INHERITS...) must not make us lose a table's columns.

Besides ``create_table``, ``index``, ``policy`` and the RLS switches, ALTER TABLE gives
the column changes that the catalog replays in migration order: ``add_column`` (columns:
the one column; indexed_leading: it, when the ADD makes it a primary or unique key),
``drop_column`` (columns: the one column) and ``rename_column`` (columns: old, new).
Whole tables: ``drop_table`` (`DROP [TEMPORARY] TABLE [IF EXISTS] a, b`, one fact per
table) and ``rename_table`` (columns: the new name; `ALTER TABLE a RENAME TO b`, MySQL's
`RENAME TABLE a TO b, c TO d`), replayed by the catalog too.

Foreign keys: a ``create_table`` fact's `extra["foreign_keys"]` lists (column, referenced
table, nullable) from `REFERENCES` on a column and table-level `FOREIGN KEY (...)
REFERENCES`; ALTER TABLE gives ``foreign_key`` facts (columns: the one column; extra
`target` for `ADD [COLUMN] c ... REFERENCES p` / `ADD [CONSTRAINT n] FOREIGN KEY (c)
REFERENCES p`, `nullable` for a column defined or altered: `ALTER [COLUMN] c SET|DROP NOT
NULL`).
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
                facts += [replace(f, offset=f.offset + offset) for f in _facts(chunk, dialect) if f.table]
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


def _facts(toks: list[Tok], dialect: str = "postgres") -> list[DdlFact]:
    words = [t.upper for t in toks]
    offset = toks[0].start
    if words[:2] == ["CREATE", "POLICY"]:
        return [_policy(toks, words, offset)]
    if words[0] == "DROP":
        return _drop_tables(toks, words, offset)
    if words[0] == "RENAME":
        return _rename_tables(toks, words, offset, dialect)
    if words[0] == "ALTER" and len(words) > 2 and words[1] == "TABLE":
        i = _skip(words, 2, {"IF", "EXISTS", "ONLY"})
        table, i = _name(toks, i)
        rest = tuple(words[i:])
        for prefix, kind in _RLS.items():
            if rest[:len(prefix) + 3] == prefix + ("ROW", "LEVEL", "SECURITY"):
                return [DdlFact(kind, table, offset=offset)]
        if words[i:i + 2] == ["ON", "CLUSTER"]:  # ClickHouse
            i += 3
        if words[i:i + 1] == ["RENAME"] and words[i + 1:i + 2] in (["TO"], ["AS"]) and i + 2 < len(toks):
            new, _ = _name(toks, i + 2)
            return [DdlFact("rename_table", table, (new,), offset=offset)] if new else []
        # Every action's fact is at the statement; the list keeps the actions' order.
        return [f for action in _actions(toks, i) for f in _alter_action(table, action, offset)]
    if words[0] != "CREATE":
        return []
    i = _skip(words, 1, {"OR", "REPLACE", "UNLOGGED", "TEMP", "TEMPORARY", "GLOBAL", "LOCAL", "UNIQUE"})
    if i < len(words) and words[i] == "TABLE":
        return _create_table(toks, words, _skip(words, i + 1, {"IF", "NOT", "EXISTS"}), offset)
    if i < len(words) and words[i] == "INDEX":
        return _create_index(toks, words, i + 1, offset)
    return []


def _drop_tables(toks: list[Tok], words: list[str], offset: int) -> list[DdlFact]:
    """`DROP [TEMPORARY] TABLE [IF EXISTS] a, s.b [CASCADE]`: one fact per table."""
    i = _skip(words, 1, {"TEMPORARY", "TEMP"})
    if words[i:i + 1] != ["TABLE"]:
        return []
    i = _skip(words, i + 1, {"IF", "EXISTS"})
    facts = []
    while i < len(toks) and toks[i].kind in ("VAR", "IDENTIFIER"):
        table, i = _name(toks, i)
        facts.append(DdlFact("drop_table", table, offset=offset))
        if i >= len(toks) or toks[i].kind != "COMMA":
            break
        i += 1
    return facts


def _rename_tables(toks: list[Tok], words: list[str], offset: int, dialect: str) -> list[DdlFact]:
    """MySQL's `RENAME TABLE a TO b, c TO d` (most dialects tokenize all after RENAME as
    one string: it is tokenized again)."""
    if len(toks) == 2 and toks[1].kind == "STRING" and words[1].startswith("TABLE"):
        try:
            toks = [toks[0], *glot.tokenize(toks[1].text, dialect)]
        except Exception:  # noqa: BLE001 - unreadable: no fact
            return []
        words = [t.upper for t in toks]
    if words[1:2] != ["TABLE"]:
        return []
    facts = []
    i = 2
    while i < len(toks):
        old, i = _name(toks, i)
        if not old or words[i:i + 1] != ["TO"]:
            break
        new, i = _name(toks, i + 1)
        if new:
            facts.append(DdlFact("rename_table", old, (new,), offset=offset))
        if i >= len(toks) or toks[i].kind != "COMMA":
            break
        i += 1
    return facts


def _actions(toks: list[Tok], i: int) -> list[list[Tok]]:
    """The comma-separated actions of an ALTER TABLE, from toks[i] on."""
    actions: list[list[Tok]] = [[]]
    depth = 0
    for t in toks[i:]:
        depth += (t.kind == "L_PAREN") - (t.kind == "R_PAREN")
        if t.kind == "COMMA" and depth == 0:
            actions.append([])
        else:
            actions[-1].append(t)
    return [a for a in actions if a]


# After ADD / DROP without COLUMN, these start a constraint or an index, not a column.
_KEY_WORDS = {"CONSTRAINT", "PRIMARY", "PRIMARY KEY", "UNIQUE", "INDEX", "KEY", "FULLTEXT", "SPATIAL"}
_NOT_ADDED = {"FOREIGN", "FOREIGN KEY", "CHECK", "EXCLUDE", "PARTITION", "PERIOD", "SYSTEM", "DEFAULT"}


def _alter_action(table: str, toks: list[Tok], offset: int) -> list[DdlFact]:
    """Column changes of one ALTER TABLE action: `ADD [COLUMN] [IF NOT EXISTS] c ...`
    (a PRIMARY KEY / UNIQUE on it leads an index), `ADD [CONSTRAINT n] PRIMARY KEY|UNIQUE
    (...)` (an index), `DROP [COLUMN] [IF EXISTS] c`, `RENAME [COLUMN] a TO b` and
    MySQL's `CHANGE [COLUMN] a b ...`. Anything else (ALTER COLUMN, SET...) says nothing
    about which columns exist (`RENAME TO` is a `rename_table`, read by the caller)."""
    words = [t.upper for t in toks]
    head = words[0]
    column_kw = len(words) > 1 and words[1] == "COLUMN"
    j = 2 if column_kw else 1
    if head == "ADD" and "FOREIGN KEY" in words and "REFERENCES" in words:
        at = words.index("FOREIGN KEY")
        inner = _groups(toks, at + 1)[0] if at + 1 < len(toks) and toks[at + 1].kind == "L_PAREN" else []
        cols, target = (_columns_of(inner[0]) if inner else []), _references(toks)
        return [DdlFact("foreign_key", table, (cols[0],), extra={"target": target}, offset=offset)] \
            if cols and target else []
    if head == "ALTER" and j < len(toks) and words[j + 1:j + 4] in (["SET", "NOT", "NULL"], ["DROP", "NOT", "NULL"]):
        return [DdlFact("foreign_key", table, (toks[j].text.lower(),), extra={"nullable": words[j + 1] == "DROP"},
                        offset=offset)]
    if head == "ADD":
        if words[j:j + 3] == ["IF", "NOT", "EXISTS"]:
            j += 3
        if j >= len(toks):
            return []
        if toks[j].kind == "L_PAREN":  # MySQL / Oracle `ADD [COLUMN] (a int, b int)`
            groups = _groups(toks, j)[0]
            return [f for g in groups for f in _added(table, g, offset, any_kind=False)]
        if not column_kw and words[j] in _KEY_WORDS:
            return _added_key(table, toks, j, offset)
        if not column_kw and words[j] in _NOT_ADDED:
            return []
        return _added(table, toks[j:], offset, any_kind=column_kw)
    if head == "DROP":
        if words[j:j + 2] == ["IF", "EXISTS"]:
            j += 2
        if j >= len(toks) or (not column_kw and (words[j] in _KEY_WORDS or words[j] in _NOT_ADDED)):
            return []
        return [DdlFact("drop_column", table, (toks[j].text.lower(),), offset=offset)]
    if head == "RENAME" and j + 2 < len(toks) and words[j + 1] == "TO" and words[j] not in ("TO", "CONSTRAINT"):
        return [DdlFact("rename_column", table, (toks[j].text.lower(), toks[j + 2].text.lower()), offset=offset)]
    if head == "CHANGE" and j + 1 < len(toks):
        return [DdlFact("rename_column", table, (toks[j].text.lower(), toks[j + 1].text.lower()), offset=offset)]
    return []


def _added(table: str, group: list[Tok], offset: int, *, any_kind: bool) -> list[DdlFact]:
    if not group or not (any_kind or group[0].kind in ("VAR", "IDENTIFIER")):
        return []
    col = group[0].text.lower()
    gw = [t.upper for t in group]
    leads = (col,) if "PRIMARY KEY" in " ".join(gw) or "UNIQUE" in gw else ()
    target = _references(group)
    key = [DdlFact("foreign_key", table, (col,), extra={"target": target, "nullable": not _not_null(gw)},
                   offset=offset)] if target else []
    return [DdlFact("add_column", table, (col,), leads, offset=offset), *key]


def _added_key(table: str, toks: list[Tok], j: int, offset: int) -> list[DdlFact]:
    """`ADD [CONSTRAINT name] PRIMARY KEY|UNIQUE [KEY|INDEX name] (cols)` (and MySQL's
    `ADD INDEX name (cols)`): an index led by its first column."""
    paren = next((k for k in range(j, len(toks)) if toks[k].kind == "L_PAREN"), -1)
    words = {t.upper for t in toks[j:paren]}
    if paren < 0 or not words & {"PRIMARY", "PRIMARY KEY", "UNIQUE", "INDEX", "KEY"} or words & _NOT_ADDED:
        return []
    columns = []
    for group in _groups(toks, paren)[0]:
        plain = group[0].kind in ("VAR", "IDENTIFIER") and not (len(group) > 1 and group[1].kind == "L_PAREN")
        columns.append(group[0].text.lower() if plain else "")
    return [DdlFact("index", table, tuple(columns), offset=offset)] if columns else []


def _create_table(toks, words, i, offset) -> list[DdlFact]:
    table, i = _name(toks, i)
    if i >= len(toks) or toks[i].kind != "L_PAREN":
        return []
    columns: list[str] = []
    leading: list[str] = []
    keys: dict[str, str] = {}
    not_null: set[str] = set()
    for group in _groups(toks, i)[0]:
        gw = [t.upper for t in group]
        head = gw[0]
        if head == "CONSTRAINT":
            group, gw = group[2:], gw[2:]
            head = gw[0] if gw else ""
        if head == "FOREIGN KEY" and len(group) > 1:  # FOREIGN KEY (col, ...) REFERENCES parent (...)
            inner = _groups(group, 1)[0]
            target = _references(group)
            cols = _columns_of(inner[0]) if inner else []
            if cols and target:
                keys.setdefault(cols[0], target)
            continue
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
        if _not_null(gw):
            not_null.add(col)
        target = _references(group)
        if target:
            keys[col] = target
    extra = {"foreign_keys": tuple((c, t, c not in not_null) for c, t in keys.items())} if keys else {}
    return [DdlFact("create_table", table, tuple(columns), tuple(dict.fromkeys(leading)), offset=offset,
                    extra=extra)]


def _references(group: list[Tok]) -> str | None:
    """The table after REFERENCES in a column definition or constraint."""
    at = next((k for k, t in enumerate(group) if t.upper == "REFERENCES"), -1)
    return _name(group, at + 1)[0] or None if at >= 0 and at + 1 < len(group) else None


def _not_null(words: list[str]) -> bool:
    return "PRIMARY KEY" in words or any(w == "NOT" and words[k + 1:k + 2] == ["NULL"] for k, w in enumerate(words))


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
