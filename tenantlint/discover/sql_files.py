"""Facts from DDL text: `.sql` files and SQL strings in migrations."""
from __future__ import annotations

from tenantlint.catalog import SchemaFact, TableFact
from tenantlint.config import Settings


def facts_from_sql(text: str, path: str, settings: Settings, *, base_line: int = 1,
                   origin: str = "sql") -> list:
    from tenantlint.sql import ddl_facts

    out: list = []
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def line_of(offset: int) -> int:
        import bisect

        return base_line + bisect.bisect_right(starts, offset) - 1

    for fact in ddl_facts(text, settings.dialect):
        line = line_of(_skip_space(text, fact.offset))
        if fact.kind == "create_table":
            out.append(TableFact(name=fact.table, columns=fact.columns, path=path, line=line, origin=origin,
                                 indexed_columns=fact.indexed_leading[:1]))
        else:
            out.append(SchemaFact(ddl=fact, path=path, line=line))
    return out


def _skip_space(text: str, offset: int) -> int:
    """Statements may start after blank lines or comments: point at the keyword."""
    while offset < len(text):
        if text[offset].isspace():
            offset += 1
        elif text.startswith("--", offset):
            end = text.find("\n", offset)
            offset = len(text) if end < 0 else end + 1
        else:
            break
    return offset
