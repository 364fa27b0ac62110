"""The one door to sqlglot.

sqlglot's API drifts between releases (v28 renamed the `from` arg to `from_`, `with`
to `with_`), so every argument name and entry point the analysis relies on is read
here, and `tests/sql/test_canary.py` fails loudly when one of them moves. Nothing
outside this module touches sqlglot's parser or tokenizer directly; the scope walker
uses `exp` node classes, re-exported as `exp`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token, TokenType

__all__ = ["exp", "Tok", "TokenType", "tokenize", "parse_tokens", "arg", "query_sources"]

# sqlglot logs a warning for every statement it falls back to `Command` on; in a
# linter that reads every string literal that is pure noise.
logging.getLogger("sqlglot").setLevel(logging.CRITICAL)

SQLGLOT_VERSION = sqlglot.__version__

# Argument names we read; the canary test checks each still exists on its node.
FROM = "from_"
WITH = "with_"
JOINS = "joins"


@dataclass(frozen=True)
class Tok:
    """A token, free of sqlglot types: `kind` is the TokenType name (`SELECT`, `VAR`,
    `STRING`...), `text` as written (quotes stripped), `start`/`end` inclusive offsets.
    Comments are not tokens, which is how a comment can never count as a predicate."""

    kind: str
    text: str
    start: int
    end: int
    raw: Any = None  # the sqlglot Token, handed back to the parser

    @property
    def upper(self) -> str:
        return self.text.upper()


_DIALECTS = {"postgresql": "postgres", "pg": "postgres", "sqlite3": "sqlite"}


@lru_cache(maxsize=None)
def dialect(name: str) -> Dialect:
    name = (name or "postgres").lower()
    try:
        return Dialect.get_or_raise(_DIALECTS.get(name, name))
    except Exception:  # unknown dialect name in config: fall back, never crash
        return Dialect.get_or_raise("postgres")


def tokenize(text: str, dialect_name: str = "postgres") -> list[Tok]:
    """Tokenize; raises whatever sqlglot raises (TokenError) for the caller to map."""
    out = []
    for t in dialect(dialect_name).tokenize(text):
        out.append(Tok(t.token_type.name, t.text, t.start, t.end, t))
    return out


def parse_tokens(toks: list[Tok], text: str, dialect_name: str = "postgres") -> exp.Expression | None:
    """Parse the tokens of ONE statement. Raises ParseError & co on failure."""
    parser = dialect(dialect_name).parser(error_level=sqlglot.ErrorLevel.RAISE)
    trees = parser.parse([t.raw for t in toks if isinstance(t.raw, Token)], text)
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise sqlglot.errors.ParseError(f"expected one statement, got {len(trees)}")
    return trees[0]


def parse_expression(text: str, dialect_name: str = "postgres") -> exp.Expression:
    return sqlglot.parse_one(text, read=dialect(dialect_name))


def arg(node: exp.Expression, name: str) -> Any:
    return node.args.get(name)


def is_command(node: exp.Expression) -> bool:
    return isinstance(node, exp.Command)


_WRAPPERS = tuple(c for c in (getattr(exp, "Final", None),) if c is not None)


def query_sources(node: exp.Expression) -> list[exp.Expression]:
    """The FROM-clause items of a SELECT/UPDATE/DELETE/MERGE, joins included, in order.

    sqlglot hangs joins on the Select, or on the first Table of an UPDATE's FROM, or
    on the target Table of MySQL's `UPDATE a JOIN b`; this flattens all of them."""
    items: list[exp.Expression] = []

    def add(src: Any) -> None:
        if isinstance(src, exp.Join):
            add(src.this)
            return
        if not isinstance(src, exp.Expression):
            return
        while isinstance(src, _WRAPPERS) and isinstance(src.this, exp.Expression):
            src = src.this  # ClickHouse `FROM t FINAL`
        if is_join_group(src):
            add(src.this)  # `JOIN (b JOIN c ON ...) ON ...`: b and c are sources here
            return
        items.append(src)
        for j in src.args.get(JOINS) or ():
            add(j)

    if isinstance(node, exp.Select):
        frm = node.args.get(FROM)
        if frm is not None:
            add(frm.this)
    elif isinstance(node, (exp.Update, exp.Delete, exp.Merge)):
        add(node.this)
        frm = node.args.get(FROM)
        if frm is not None:
            add(frm.this)
        using = node.args.get("using")
        for u in using if isinstance(using, list) else [using]:
            add(u)
    for j in node.args.get(JOINS) or ():
        add(j)
    return items


def is_join_group(node: Any) -> bool:
    """`(b JOIN c ON ...)` in a FROM clause: parentheses around tables, not a query."""
    return isinstance(node, (exp.Subquery, exp.Paren)) and isinstance(node.this, exp.Table)


def join_of(src: exp.Expression) -> exp.Join | None:
    """The join that brings `src` in: its own, or that of the parenthesized group
    `JOIN (src JOIN ...) ON ...` it opens."""
    parent = src.parent
    if is_join_group(parent) and parent.this is src:
        parent = parent.parent
    return parent if isinstance(parent, exp.Join) else None


def error_types() -> tuple[type[BaseException], ...]:
    return (sqlglot.errors.SqlglotError, RecursionError, ValueError, TypeError,
            AttributeError, KeyError, IndexError)
