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


@dataclass(frozen=True)
class SqlIssue:
    code: str  # TL002, TL101..TL107
    message: str
    table: str = ""


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
