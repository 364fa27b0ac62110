"""Plain data exchanged with the SQL analysis. No sqlglot here: callers import these
freely, and only the modules of `tenantlint.sql` touch the parser."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Hole:
    """A piece of the SQL text that Python fills in at run time.

    `marker` stands in the text where the value goes (an identifier-safe token such as
    ``__tlhole0__``); `kind` says how it was interpolated: ``fstring``, ``percent``
    (the `%` operator), ``format`` (`str.format`), ``concat`` (`+` with a non-literal)
    or ``composed`` (psycopg ``sql.SQL(...).format(sql.Identifier(...))``, never TL106).
    """

    marker: str
    kind: str
    name: str = ""  # the source expression, for messages ("tenant_slug")


@dataclass(frozen=True)
class SqlText:
    """SQL recovered from code: holes replaced by markers; DB-API placeholders
    (`%s`, `%(x)s`, `:x`, `$1`, `?`) are left as written."""

    text: str
    holes: tuple[Hole, ...] = ()


@dataclass(frozen=True)
class TenantTable:
    name: str  # lower-case, unqualified
    tenant_columns: frozenset[str]  # lower-case tenant column(s) this table carries


@dataclass(frozen=True)
class SqlPolicy:
    """What the SQL analysis needs to know about the project."""

    tenant_columns: frozenset[str]
    tenant_tables: Mapping[str, TenantTable]
    global_tables: frozenset[str] = frozenset()
    # Tables counted as scoped everywhere (trust-rls with RLS enabled and forced).
    trusted_tables: frozenset[str] = frozenset()
    dialect: str = "postgres"
    max_sql_chars: int = 100_000
    # Custom settings the project reads with current_setting(): they carry the tenant (TL105).
    tenant_settings: frozenset[str] = frozenset()
    # Tables that are tenant data through a parent: table -> its parent key -> parent table.
    parent_keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Part:
    """One subject of a finding's message, so that the findings of one statement can be
    told as one: "`orders` is read without a `tenant_id` predicate" is
    Part("orders", "read", "without a `tenant_id` predicate"); a `verb` of "" gives the
    "`orders`: the ..." form; `end` is a suffix said once ("; use sql.Identifier")."""

    subject: str
    verb: str
    tail: str
    end: str = ""


@dataclass(frozen=True)
class SqlIssue:
    code: str  # TL002, TL101..TL107
    message: str
    table: str = ""
    parts: tuple[Part, ...] = ()


def issue(code: str, subject: str, verb: str, tail: str, end: str = "", table: str = "") -> SqlIssue:
    """A finding about one subject (a table, an interpolated name)."""
    part = Part(subject, verb, tail, end)
    return SqlIssue(code, compose((part,)), table, (part,))


def compose(parts) -> str:
    """The message for the parts of one finding: "`a` is read without X",
    "`a`, `b` are read without X", "`a` is updated and `b` is read without X",
    "`a` is updated and read without X", "`a`, `b`: the ...", different tails joined by
    "; ", the shared end said once."""
    by_end: dict[str, dict[tuple[bool, str], dict[str, list[str]]]] = {}
    for part in parts:
        subjects = by_end.setdefault(part.end, {}).setdefault((part.verb == "", part.tail), {})
        verbs = subjects.setdefault(part.subject, [])
        if part.verb not in verbs:
            verbs.append(part.verb)
    chunks = []
    for end, tails in by_end.items():
        said = []
        for (colon, tail), subjects in tails.items():
            if colon:
                said.append(f"{_names(list(subjects))}: {tail}")
                continue
            by_verbs: dict[str, list[str]] = {}  # "updated and read" -> subjects
            for subject, verbs in subjects.items():
                verbs = sorted(verbs, key=lambda v: v == "read")  # the statement's own verb first
                by_verbs.setdefault(" and ".join(verbs), []).append(subject)
            phrases = [f"{_names(names)} {'are' if len(names) > 1 else 'is'} {verbs}"
                       for verbs, names in sorted(by_verbs.items(), key=lambda item: item[0] == "read")]
            if len(subjects) > 1:
                tail = tail.replace(" its ", " their ")
            joined = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
            said.append(f"{joined} {tail}")
        chunks.append("; ".join(said) + end)
    return "; ".join(chunks)


def _names(subjects: list[str]) -> str:
    return ", ".join(f"`{s}`" for s in subjects)


def merge_issues(issues) -> list[SqlIssue]:
    """One issue per code, in first-seen order: the subjects of the issues that share a
    code are told in one message (a statement, or a string, is one finding per code,
    so that one suppression or baseline entry covers it)."""
    groups: dict[str, list[SqlIssue]] = {}
    for item in issues:
        group = groups.setdefault(item.code, [])
        if item not in group:
            group.append(item)
    out = []
    for code, group in groups.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        parts: list[Part] = []
        bare: list[str] = []
        for item in group:
            if item.parts:
                parts += [p for p in item.parts if p not in parts]
            elif item.message not in bare:
                bare.append(item.message)
        message = "; ".join(([compose(parts)] if parts else []) + bare)
        tables = ",".join(dict.fromkeys(t for item in group for t in item.table.split(",") if t))
        out.append(SqlIssue(code, message, tables, tuple(parts)))
    return out


@dataclass(frozen=True)
class DdlFact:
    """A schema fact from DDL text, for the tenant catalog and the schema rules.

    kind: ``create_table`` (columns, indexed_leading: columns leading a PK/UNIQUE key),
    ``enable_rls``, ``force_rls``, ``disable_rls``, ``no_force_rls``,
    ``policy`` (columns: tenant-relevant columns named in USING; with_check),
    ``index`` (columns: the index's columns, in order).
    `offset` is the character offset of the statement in the text given."""

    kind: str
    table: str  # lower-case, unqualified
    columns: tuple[str, ...] = ()
    indexed_leading: tuple[str, ...] = ()
    with_check: bool = False
    using: bool = False
    offset: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)


def predicate(column: str) -> str:
    """"a `tenant_id` predicate", "an `organization_id` predicate"."""
    article = "an" if column[:1].lower() in "aeiou" else "a"
    return f"{article} `{column}` predicate"
