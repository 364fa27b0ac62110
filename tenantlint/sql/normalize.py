"""DB-API placeholders -> one form every sqlglot dialect parses.

`%s`, `%(name)s` and `$1` do not parse in every dialect (`$1` breaks ClickHouse's
tokenizer, `%s` most of them); `:name` parses everywhere, so positional styles become
`:tlp_N` and pyformat becomes `:name`. `?` and `:name` already parse everywhere and
are left alone (`?` is also PostgreSQL's jsonb operator), except SQLite's numbered
`?1` (-> `:tlq_1`) and a `?` cast with `::` (sqlglot reads `?::` as one operator
token, so a space goes between). SQLite's `$name` becomes `:name`. String literals, quoted
identifiers, comments, dollar-quoted bodies and `::` casts are copied untouched, and
`%%` (a literal `%` under pyformat) becomes `%`.
"""
from __future__ import annotations

import re

_NAMED = re.compile(r"%\(([A-Za-z_][A-Za-z0-9_]*)\)s")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_DOLLAR_NUM = re.compile(r"\$(\d+)")
_QMARK_NUM = re.compile(r"\?(\d+)")
_SQLITE_NAMED = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_BACKSLASH_DIALECTS = {"mysql", "bigquery", "clickhouse", "snowflake", "spark", "hive", "databricks"}


def _skip_quoted(text: str, i: int, quote: str, backslash: bool) -> int:
    """Index just past the quoted run starting at text[i] == quote."""
    n = len(text)
    j = i + 1
    while j < n:
        c = text[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == quote:
            if j + 1 < n and text[j + 1] == quote:  # doubled quote escapes itself
                j += 2
                continue
            return j + 1
        j += 1
    return n


def normalize_placeholders(text: str, dialect: str = "postgres") -> str:
    out: list[str] = []
    n = len(text)
    i = 0
    positional = 0
    backslash = dialect.lower() in _BACKSLASH_DIALECTS
    sqlite = dialect.lower() in ("sqlite", "sqlite3")
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c in "'\"`":
            # PostgreSQL's E'...' strings take backslash escapes: E'\' ...' is one string
            escape = c == "'" and i > 0 and text[i - 1] in "eE" and not (i > 1 and (text[i - 2].isalnum() or text[i - 2] == "_"))
            j = _skip_quoted(text, i, c, (backslash and c != '"') or escape)
            out.append(text[i:j])
            i = j
        elif c == "-" and nxt == "-":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
        elif c == "/" and nxt == "*":
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(text[i:j])
            i = j
        elif c == "$" and not (sqlite and _SQLITE_NAMED.match(text, i) and not _DOLLAR_TAG.match(text, i)):
            prev = text[i - 1] if i else " "
            m = _DOLLAR_NUM.match(text, i)
            if m and not (prev.isalnum() or prev == "_"):
                out.append(f":tlp_{m.group(1)}")
                i = m.end()
                continue
            m = _DOLLAR_TAG.match(text, i)
            if m and not (prev.isalnum() or prev == "_"):
                end = text.find(m.group(0), m.end())
                j = n if end < 0 else end + len(m.group(0))
                out.append(text[i:j])
                i = j
                continue
            out.append(c)
            i += 1
        elif c == "?" and (nxt.isdigit() or text.startswith("::", i + 1)):
            prev = text[i - 1] if i else " "
            m = _QMARK_NUM.match(text, i)
            if prev.isalnum() or prev == "_":
                out.append(c)
                i += 1
            elif m:  # SQLite `?1`
                out.append(f":tlq_{m.group(1)}")
                i = m.end()
            else:  # `?::uuid`: sqlglot would read `?::` as one operator token
                out.append("? ")
                i += 1
        elif c == "$" and sqlite and _SQLITE_NAMED.match(text, i) and not _DOLLAR_TAG.match(text, i):
            m = _SQLITE_NAMED.match(text, i)
            out.append(f":{m.group(1)}")  # SQLite `$name`
            i = m.end()
        elif c == "%":
            if nxt == "%":
                out.append("%")
                i += 2
            elif nxt == "s":
                positional += 1
                out.append(f":tlp_{positional}")
                i += 2
            else:
                m = _NAMED.match(text, i)
                if m:
                    out.append(f":{m.group(1)}")
                    i = m.end()
                else:
                    out.append(c)
                    i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)
