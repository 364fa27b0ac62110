"""What the discoverers find in one file (tenantlint/discover/): tables, models, schema
changes, collections, escapes, gaps. Frozen, picklable (cached per file and sent back from
worker processes); tenantlint/catalog.py merges them into the TenantCatalog."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from tenantlint.sql.types import DdlFact


@dataclass(frozen=True)
class TableFact:
    """A table definition found in the tree."""

    name: str
    columns: tuple[str, ...]
    path: str
    line: int
    origin: str  # sql | alembic | sqlalchemy | django
    end_line: int = 0
    indexed_columns: tuple[str, ...] = ()  # columns that lead an index here (PK, index=True, FK...)
    offset: int = 0  # of the statement in its SQL text: orders facts that share a line
    # (column, referenced table, nullable): REFERENCES, sa.ForeignKey, a migration's ForeignKey
    foreign_keys: tuple[tuple[str, str, bool], ...] = ()


@dataclass(frozen=True)
class SchemaFact:
    """An RLS, policy or index statement about a table, wherever it appears."""

    ddl: DdlFact
    path: str
    line: int


@dataclass(frozen=True)
class ModelFact:
    """An ORM class as declared, before its bases are resolved."""

    name: str
    qualname: str
    bases: tuple[str, ...]
    framework: str  # sqlalchemy | django
    path: str
    line: int
    table: str | None = None  # explicit __tablename__ / Meta.db_table
    default_table: str | None = None  # e.g. Django's <app>_<model>
    columns: tuple[str, ...] = ()
    relations: Mapping[str, str] = field(default_factory=dict)  # relation name -> column (tenant -> tenant_id)
    indexed_columns: tuple[str, ...] = ()
    abstract: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)  # framework specifics (managers...)


@dataclass(frozen=True)
class CollectionFact:
    """A MongoDB collection, search index or graph label that the project writes or
    filters with a tenant field (`tenantlint/discover/document_collections.py`)."""

    name: str
    kind: str  # collection | index | label
    path: str
    line: int
    how: str  # written | filtered


@dataclass(frozen=True)
class CollectionHandleFact:
    """A module-level name bound to a collection or index handle of a known name
    (`notes = db.notes` in `app.db`), for the modules that import it."""

    module: str
    name: str
    collection: str


@dataclass(frozen=True)
class DiscoveryGap:
    """A file that may define tenant tables or models but could not be read. The catalog
    is incomplete without it, so it is reported (TL001) whichever files were named."""

    path: str
    line: int
    reason: str


@dataclass(frozen=True)
class EscapeFact:
    """A deliberate step out of tenant scope, listed by `tenantlint catalog`:
    `scopes_disabled()`, a `_base_manager` use, a `tenantlint: ignore` comment."""

    kind: str  # scopes_disabled | base_manager | suppression
    path: str
    line: int
    detail: str = ""  # the code, or the codes a suppression silences
    reason: str = ""  # a suppression's reason


@dataclass(frozen=True)
class SettingRead:
    """A custom setting the project reads with current_setting() (in a policy, a query):
    it carries the tenant, so a session-level SET of it is TL105."""

    name: str
    path: str
    line: int


def table_key(name: str) -> str:
    return name.lower().rsplit(".", 1)[-1].strip('"`[]')
