"""The tenant catalog: which tables and models are tenant-scoped and how the schema
protects them. Built once per scan from the whole project under the config root (not
only the files named), so the answer for a file never depends on which files were named.

Discovery is split into small discoverers (`tenantlint/discover/`) that turn one file
into facts; this module merges the facts: model inheritance across files, config
overrides, global tables, RLS state per table."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

from tenantlint.config import Settings
from tenantlint.module_index import ModuleIndex
from tenantlint.sql.types import DdlFact, SqlPolicy, TenantTable


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
class DiscoveryGap:
    """A file that may define tenant tables or models but could not be read. The catalog
    is incomplete without it, so it is reported (TL001) whichever files were named."""

    path: str
    line: int
    reason: str


@dataclass(frozen=True)
class ModelInfo:
    name: str
    qualname: str
    framework: str
    table: str | None
    tenant_columns: frozenset[str]
    tenant_relations: frozenset[str]  # relation names whose column is a tenant column
    path: str
    line: int
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass
class RlsState:
    enabled: bool = False
    forced: bool = False
    tenant_policy: bool = False
    policy_with_check: bool = False
    indexed: bool = False
    # A later DISABLE / NO FORCE (TL107 at that statement): the table keeps `enabled`/
    # `forced` for TL501/TL502, but is no longer trusted by `trust-rls`.
    disabled: bool = False
    unforced: bool = False


@dataclass
class TenantCatalog:
    tenant_columns: frozenset[str]
    tables: dict[str, TenantTable] = field(default_factory=dict)
    definitions: dict[str, list[TableFact]] = field(default_factory=dict)
    models: dict[str, ModelInfo] = field(default_factory=dict)
    global_tables: frozenset[str] = frozenset()
    rls: dict[str, RlsState] = field(default_factory=dict)
    schema_facts: list[SchemaFact] = field(default_factory=list)
    trusted_tables: frozenset[str] = frozenset()
    dialect: str = "postgres"
    gaps: list[DiscoveryGap] = field(default_factory=list)
    orm: dict = field(default_factory=dict)  # model name -> tenantlint.orm.index.OrmModel
    modules: ModuleIndex = field(default_factory=ModuleIndex)  # names other modules import

    def is_tenant_table(self, name: str) -> bool:
        return name.lower().rsplit(".", 1)[-1].strip('"`[]') in self.tables

    def model(self, name: str) -> ModelInfo | None:
        """A tenant model by class name or dotted path."""
        if name in self.models:
            return self.models[name]
        return self.models.get(name.rsplit(".", 1)[-1])

    def sql_policy(self) -> SqlPolicy:
        return SqlPolicy(
            tenant_columns=self.tenant_columns,
            tenant_tables=self.tables,
            global_tables=self.global_tables,
            trusted_tables=self.trusted_tables,
            dialect=self.dialect,
        )


def _norm(name: str) -> str:
    return name.lower().rsplit(".", 1)[-1].strip('"`[]')


def assemble(settings: Settings, tables: Iterable[TableFact], models: Iterable[ModelFact],
             schema: Iterable[SchemaFact]) -> TenantCatalog:
    """Merge discovered facts with the config into one catalog."""
    tenant_columns = frozenset(c.lower() for c in settings.tenant_columns)
    globals_raw = {g for g in settings.global_tables}
    catalog = TenantCatalog(tenant_columns=tenant_columns, dialect=settings.dialect)
    schema = list(schema)
    aliases = _aliases(schema)
    tables = [replace(f, name=aliases[_norm(f.name)]) if _norm(f.name) in aliases else f for f in tables]

    model_facts = list(models)
    resolved = _resolve_models(model_facts)
    global_models = {g.rsplit(".", 1)[-1] for g in globals_raw}
    forced_models = {m.rsplit(".", 1)[-1] for m in settings.tenant_models}
    global_tables = {_norm(g) for g in globals_raw}
    for fact, columns, relations in resolved:
        table = fact.table or fact.default_table
        if fact.name in global_models and table:
            global_tables.add(_norm(table))

    for fact in tables:
        catalog.definitions.setdefault(_norm(fact.name), []).append(fact)
    # A table is a tenant table when it has a tenant column once the migrations have run:
    # one added later (ADD COLUMN, add_column, AddField, a rename) counts, a dropped one not.
    for name, (columns, _) in _replay(tables, schema, aliases).items():
        cols = frozenset(columns) & tenant_columns
        if cols and name not in global_tables:
            catalog.tables[name] = TenantTable(name, cols)
    for name in settings.tenant_tables:
        key = _norm(name)
        if key not in global_tables:
            known = catalog.tables.get(key)
            catalog.tables[key] = TenantTable(key, known.tenant_columns if known else tenant_columns)

    for fact, columns, relations in resolved:
        if fact.abstract or fact.name in global_models:
            continue
        tcols = frozenset(c.lower() for c in columns) & tenant_columns
        trels = frozenset(r for r, col in relations.items() if col.lower() in tenant_columns)
        if not tcols and fact.name not in forced_models and fact.qualname not in settings.tenant_models:
            continue
        tcols = tcols or tenant_columns
        table = fact.table or fact.default_table
        catalog.models[fact.name] = ModelInfo(
            name=fact.name, qualname=fact.qualname, framework=fact.framework,
            table=_norm(table) if table else None, tenant_columns=tcols, tenant_relations=trels,
            path=fact.path, line=fact.line, extra=fact.extra,
        )
        if table and _norm(table) not in global_tables:
            key = _norm(table)
            known = catalog.tables.get(key)
            catalog.tables[key] = TenantTable(key, (known.tenant_columns if known else frozenset()) | tcols)
            if key not in catalog.definitions and fact.framework:
                catalog.definitions.setdefault(key, []).append(TableFact(
                    name=key, columns=tuple(columns), path=fact.path, line=fact.line, origin=fact.framework,
                    indexed_columns=fact.indexed_columns))

    catalog.global_tables = frozenset(global_tables)
    from tenantlint.orm.index import build_index

    catalog.orm = build_index(model_facts, catalog.models)
    _apply_schema(catalog, schema, aliases)
    if settings.trust_rls:
        catalog.trusted_tables = frozenset(
            t for t, state in catalog.rls.items()
            if state.enabled and state.forced and not (state.disabled or state.unforced) and t in catalog.tables)
    return catalog


def _aliases(facts: list[SchemaFact]) -> dict[str, str]:
    """Other names of a table (a Django model's `<app>_<model>` when `db_table` is set)."""
    return {_norm(f.ddl.extra["alias"]): _norm(f.ddl.table) for f in facts
            if f.ddl.kind == "alias" and f.ddl.extra.get("alias")}


def _apply_schema(catalog: TenantCatalog, facts: list[SchemaFact], aliases: Mapping[str, str] | None = None) -> None:
    aliases = aliases or {}
    catalog.schema_facts = facts
    order = _migration_order(facts)
    definitions = [f for defs in catalog.definitions.values() for f in defs]
    for name, (_, leading) in _replay(definitions, facts, aliases, order).items():
        state = catalog.rls.setdefault(name, RlsState())
        tcols = catalog.tables[name].tenant_columns if name in catalog.tables else catalog.tenant_columns
        if leading & tcols:
            state.indexed = True
    # Facts are applied in migration order (path order, Alembic files by revision), then
    # line order. A later DISABLE / NO FORCE does not undo `enabled` / `forced`: it is
    # TL107 where it stands, not TL501/TL502 at the table; it only ends the table's trust.
    for fact in sorted(facts, key=lambda f: _sequence(f.path, f.line, order)):
        ddl = fact.ddl
        if ddl.kind in ("alias", "revision", "index", *_COLUMN_CHANGES):
            continue
        table = aliases.get(_norm(ddl.table), _norm(ddl.table))
        state = catalog.rls.setdefault(table, RlsState())
        tcols = catalog.tables[table].tenant_columns if table in catalog.tables else catalog.tenant_columns
        if ddl.kind == "enable_rls":
            state.enabled, state.disabled = True, False
        elif ddl.kind == "force_rls":
            state.forced, state.unforced = True, False
        elif ddl.kind == "disable_rls":
            state.disabled = True
        elif ddl.kind == "no_force_rls":
            state.unforced = True
        elif ddl.kind == "policy":
            if set(c.lower() for c in ddl.columns) & tcols:
                state.tenant_policy = True
                state.policy_with_check = state.policy_with_check or ddl.with_check


_COLUMN_CHANGES = ("add_column", "drop_column", "rename_column")


def _sequence(path: str, line: int, order: Mapping[str, int]) -> tuple:
    """Migration order: folder, Alembic revision depth, path (numbered or timestamped
    names), line."""
    return path.rpartition("/")[0], order.get(path, 0), path, line


def _replay(tables: Iterable[TableFact], facts: list[SchemaFact], aliases: Mapping[str, str],
            order: Mapping[str, int] | None = None) -> dict[str, tuple[set[str], set[str]]]:
    """Table -> (columns, columns leading an index) after the migrations, replayed in
    migration order: definitions and added columns (TableFacts, `add_column`) and indexes
    add; `drop_column` removes a column and the indexes it leads; `rename_column` renames
    both. Definitions of one table in several places add up (a schema dump beside the
    migrations). `rename_column` pairs marked `if_present` (a guess at a column, as for a
    Django field) rename only a column known to exist; others create the new name."""
    order = _migration_order(facts) if order is None else order
    events: list[tuple[tuple, int, int, object]] = [(_sequence(f.path, f.line, order), 0, 0, f) for f in tables]
    events += [(_sequence(f.path, f.line, order), 1, f.ddl.offset, f) for f in facts
               if f.ddl.kind in ("index", *_COLUMN_CHANGES)]
    shapes: dict[str, tuple[set[str], set[str]]] = {}
    for *_, fact in sorted(events, key=lambda e: e[:3]):
        if isinstance(fact, TableFact):
            columns, leading = shapes.setdefault(_norm(fact.name), (set(), set()))
            columns.update(c.lower() for c in fact.columns)
            leading.update(c.lower() for c in fact.indexed_columns if c)
            continue
        ddl = fact.ddl
        table = aliases.get(_norm(ddl.table), _norm(ddl.table))
        columns, leading = shapes.setdefault(table, (set(), set()))
        names = [c.lower() for c in ddl.columns]
        if ddl.kind == "index":
            if names and names[0]:
                leading.add(names[0])
        elif ddl.kind == "add_column":
            columns.update(names)
            leading.update(c.lower() for c in ddl.indexed_leading)
        elif ddl.kind == "drop_column":
            columns.difference_update(names)
            leading.difference_update(names)
        elif ddl.kind == "rename_column":
            pairs = list(zip(names[::2], names[1::2]))
            known = [(old, new) for old, new in pairs if old in columns]
            if not known and not ddl.extra.get("if_present"):
                known = pairs
            for old, new in known:
                columns.discard(old)
                columns.add(new)
                if old in leading:
                    leading.discard(old)
                    leading.add(new)
    return shapes


def _migration_order(facts: list[SchemaFact]) -> dict[str, int]:
    """Path -> depth in the Alembic revision graph (1 for a root revision)."""
    downs = {f.ddl.extra["revision"]: (f.path, [d for d in f.ddl.extra.get("down", "").split(",") if d])
             for f in facts if f.ddl.kind == "revision"}
    depth: dict[str, int] = {}
    for start in downs:  # iterative: revision chains can be longer than the recursion limit
        stack = [start]
        while stack:
            rev = stack[-1]
            pending = [d for d in downs[rev][1] if d in downs and d not in depth and d not in stack]
            if rev in depth or not pending:
                depth.setdefault(rev, 1 + max((depth.get(d, 0) for d in downs[rev][1]), default=0))
                stack.pop()
            else:
                stack.extend(pending)
    return {path: depth[rev] for rev, (path, _) in downs.items()}


def _resolve_models(facts: list[ModelFact]) -> list[tuple[ModelFact, tuple[str, ...], dict[str, str]]]:
    """Columns and relations of each model including those of its bases and mixins,
    which may be declared in other files (matched by class name)."""
    by_name: dict[str, list[ModelFact]] = {}
    for fact in facts:
        by_name.setdefault(fact.name, []).append(fact)

    def collect(fact: ModelFact, seen: set[str]) -> tuple[list[str], dict[str, str], list[str]]:
        columns = list(fact.columns)
        relations = dict(fact.relations)
        indexed = list(fact.indexed_columns)
        for base in fact.bases:
            short = base.rsplit(".", 1)[-1]
            if short in seen:
                continue
            for parent in by_name.get(short, ()):
                cols, rels, idx = collect(parent, seen | {short})
                columns.extend(c for c in cols if c not in columns)
                indexed.extend(c for c in idx if c not in indexed)
                for k, v in rels.items():
                    relations.setdefault(k, v)
        return columns, relations, indexed

    out = []
    for fact in facts:
        cols, rels, idx = collect(fact, {fact.name})
        if tuple(idx) != fact.indexed_columns:
            fact = replace(fact, indexed_columns=tuple(idx))
        out.append((fact, tuple(cols), rels))
    return out


def relative(path: Path, root: Path) -> str:
    """The path as users see it, relative to the project root; a symlink keeps its own
    name (a broken link must be reported under the name it has)."""
    import os

    root = root.resolve()
    absolute = Path(os.path.normpath(path.absolute()))
    for candidate in (absolute, absolute.parent.resolve() / absolute.name):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return path.as_posix()
