"""Facts from DDL text: `.sql` files and SQL strings in migrations.

Down migrations describe the schema before a migration, so they are skipped: files named
`*.down.sql` / `down.sql` (golang-migrate, diesel...), and the down half of a file
(`-- migrate:down` of dbmate, `-- +goose Down`).

Dropping or renaming a table (`drop_table`, `rename_table`) is read only from migrations:
a file in a migrations folder or named by its version (`0002_x.sql`, `V2__x.sql`,
`20240301_x.sql`). Elsewhere such a statement is a test's teardown or a reset script, and
taking it as history would hide real tables."""
from __future__ import annotations

import re

from tenantlint.catalog import SchemaFact, TableFact
from tenantlint.config import Settings


_TABLE_CHANGES = ("drop_table", "rename_table")
_VERSIONED = re.compile(r"^v?\d", re.IGNORECASE)
_MIGRATION_FOLDERS = ("versions", "changesets", "changelog")


def is_migration(path: str) -> bool:
    """A file of a migration history, by its path."""
    *folders, name = path.lower().split("/")
    return bool(_VERSIONED.match(name)) or any("migrat" in f or f in _MIGRATION_FOLDERS for f in folders)


def facts_from_sql(text: str, path: str, settings: Settings, *, base_line: int = 1,
                   origin: str = "sql", migration: bool | None = None) -> list:
    """`migration`: whether table drops and renames count (default: `is_migration(path)`)."""
    from tenantlint.sql import ddl_facts

    out: list = []
    if origin == "sql":
        name = path.rsplit("/", 1)[-1].lower()
        if name == "down.sql" or name.endswith((".down.sql", "_down.sql")):
            return []
        down = _DOWN.search(text)
        if down:
            text = text[:down.start()]
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def line_of(offset: int) -> int:
        import bisect

        return base_line + bisect.bisect_right(starts, offset) - 1

    for fact in ddl_facts(text, settings.dialect):
        if fact.kind in _TABLE_CHANGES:
            if migration is None:
                migration = is_migration(path)
            if not migration:
                continue
        line = line_of(_skip_space(text, fact.offset))
        if fact.kind == "create_table":
            out.append(TableFact(name=fact.table, columns=fact.columns, path=path, line=line, origin=origin,
                                 end_line=line_of(fact.offset + _statement_length(text, fact.offset)),
                                 indexed_columns=fact.indexed_leading, offset=fact.offset,
                                 foreign_keys=fact.extra.get("foreign_keys", ())))
        else:
            out.append(SchemaFact(ddl=fact, path=path, line=line))
    return out


_DOWN = re.compile(r"^\s*--\s*(?:migrate:down|\+goose\s+down)\b", re.IGNORECASE | re.MULTILINE)


def _statement_length(text: str, offset: int) -> int:
    """Up to the closing parenthesis of a CREATE TABLE (its suppression span)."""
    depth = 0
    for i in range(offset, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i - offset
        elif text[i] == ";" and depth == 0:
            return i - offset
    return 0


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
