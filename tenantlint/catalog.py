"""The tenant catalog: which tables and models are tenant-scoped and how the schema
protects them. Built once per scan from the whole project under the project root (not
only the files named), so the answer for a file never depends on which files were named.

Discovery is split into small discoverers (`tenantlint/discover/`) that turn one file
into facts; this module merges the facts: model inheritance across files, config
overrides, global tables, RLS state per table."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable, Mapping

from tenantlint.config import Settings
from tenantlint.foreign_keys import parent_chains
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
    offset: int = 0  # of the statement in its SQL text: orders facts that share a line


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
    # Tables that are tenant data through a non-null foreign-key chain to a tenant table:
    # table -> hops (table, key column, referenced table). See tenantlint/foreign_keys.py.
    indirect: dict[str, tuple[tuple[str, str, str], ...]] = field(default_factory=dict)
    modules: ModuleIndex = field(default_factory=ModuleIndex)  # names other modules import
    functions: object = None  # tenantlint.orm.summaries.FunctionIndex, set by the catalog pass's last step
    # tenant collections, indexes and labels by lowercased name: the first fact that made each one
    collections: dict[str, CollectionFact] = field(default_factory=dict)
    collection_handles: dict[str, str] = field(default_factory=dict)  # `app.db.notes` -> "notes"

    ambient: frozenset[str] = frozenset()  # project functions that read the ambient tenant (TL407)
    wrappers: dict = field(default_factory=dict)  # project classes wrapping a store client (stores/wrappers.py)
    escapes: list[EscapeFact] = field(default_factory=list)  # for `tenantlint catalog` only
    settings_read: dict[str, SettingRead] = field(default_factory=dict)  # current_setting() names, first read
    other_models: dict[str, ModelFact] = field(default_factory=dict)  # ORM models with no tenant column
    # qualified names of project functions that return request input (discover/request_helpers.py)
    request_helpers: frozenset[str] = frozenset()
    # tenant models that fill in their own tenant on save (discover/tenant_fillers.py)
    tenant_filled: frozenset[str] = frozenset()

    def is_tenant_collection(self, name: str) -> bool:
        """A collection, index or label listed in `tenant-tables` or discovered, not global."""
        key = name.lower()
        return key not in self.global_tables and (key in self.collections or key in self.tables)

    def is_global(self, name: str) -> bool:
        return name.lower() in self.global_tables

    def tenant_labels(self) -> frozenset[str]:
        """Graph labels known as tenant ones (lowercased): discovered, or tenant tables by name."""
        return frozenset(k for k in (*self.collections, *self.tables) if k not in self.global_tables)

    def add_collections(self, facts: Iterable[CollectionFact | CollectionHandleFact]) -> None:
        facts = list(facts)
        for handle in facts:
            if isinstance(handle, CollectionHandleFact) and handle.module:
                self.collection_handles[f"{handle.module}.{handle.name}"] = handle.collection
        facts = [f for f in facts if isinstance(f, CollectionFact)]
        for fact in sorted(facts, key=lambda f: (f.path, f.line)):
            key = fact.name.lower()
            if key not in self.global_tables:
                self.collections.setdefault(key, fact)

    def is_empty(self) -> bool:
        """No tenant table, model or collection known at all: nothing can be judged for
        tenant scope."""
        return not self.tables and not self.models and not self.collections

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
            tenant_settings=frozenset(self.settings_read),
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
    # The tables that exist once the migrations have run, under their final names.
    shapes = _replay(tables, schema)

    model_facts = list(models)
    resolved = _resolve_models(model_facts)
    global_models = {g.rsplit(".", 1)[-1] for g in globals_raw}
    forced_models = {m.rsplit(".", 1)[-1] for m in settings.tenant_models}
    global_tables = {_norm(g) for g in globals_raw}
    for fact, columns, relations in resolved:
        table = fact.table or fact.default_table
        if fact.name in global_models and table:
            global_tables.add(_norm(table))

    # A table is a tenant table when it has a tenant column once the migrations have run:
    # one added later (ADD COLUMN, add_column, AddField, a rename) counts, a dropped one not.
    for name, shape in shapes.items():
        cols = frozenset(shape.columns) & tenant_columns
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
            # A model whose table exists (named, or created by a migration), not any class of an ORM file.
            if fact.framework and (fact.table or _norm(fact.default_table or "") in shapes):
                catalog.other_models.setdefault(fact.name, fact)
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
            shape = shapes.setdefault(key, _Shape())
            # A model is the table's definition only where no migration creates (or alters) it.
            if not shape.definitions and fact.framework:
                shape.definitions.append(TableFact(
                    name=key, columns=tuple(columns), path=fact.path, line=fact.line, origin=fact.framework,
                    indexed_columns=fact.indexed_columns))
                shape.columns.update(c.lower() for c in columns)
                shape.leading.update(c.lower() for c in fact.indexed_columns if c)

    catalog.definitions = {name: shape.definitions for name, shape in shapes.items() if shape.definitions}
    catalog.global_tables = frozenset(global_tables)
    _add_indirect(catalog, resolved, global_models)
    from tenantlint.orm.index import build_index

    catalog.orm = build_index(model_facts, catalog.models, trust_libraries=settings.trust_scoped_managers)
    catalog.schema_facts = schema
    _apply_schema(catalog, shapes)
    if settings.trust_rls:
        catalog.trusted_tables = frozenset(
            t for t, state in catalog.rls.items()
            if state.enabled and state.forced and not (state.disabled or state.unforced) and t in catalog.tables)
    return catalog


def schema_columns(tables: Iterable[TableFact], models: Iterable[ModelFact],
                   schema: Iterable[SchemaFact]) -> dict[str, frozenset[str]]:
    """Every table the project defines, under its final name, with its columns once the
    migrations have run; a mapped model's table (explicit or default name, columns
    including those of its bases) where no migration defines it. Classes that map no
    table (abstract bases, payloads, enums) are not tables. For `tenantlint init`."""
    out = {name: frozenset(shape.columns) for name, shape in _replay(tables, list(schema)).items()
           if shape.definitions}
    for fact, columns, _relations in _resolve_models(list(models)):
        table = fact.table or fact.default_table
        if table and not fact.abstract and _norm(table) not in out:
            out[_norm(table)] = frozenset(c.lower() for c in columns)
    return out


def _add_indirect(catalog: TenantCatalog, resolved, global_models: set[str]) -> None:
    """Tables tied to a tenant table by non-null foreign keys, and their SQLAlchemy models
    (tenant models with no tenant column: they are scoped through their parent key, see
    tenantlint/orm/provenance.py). Django's and DDL keys are not read yet."""
    tables: dict[str, str] = {}  # table -> model
    by_class: dict[str, str] = {}  # class name -> table (`ForeignKey(App.id)`)
    keys: dict[str, list[tuple[str, str, bool]]] = {}
    for fact, _, _ in resolved:
        table = fact.table or fact.default_table
        if fact.abstract or not table or fact.framework != "sqlalchemy":
            continue
        table = _norm(table)
        tables.setdefault(table, fact.name)
        by_class.setdefault(fact.name, table)
    for fact, _, _ in resolved:
        table = fact.table or fact.default_table
        if fact.abstract or not table or fact.framework != "sqlalchemy":
            continue
        for column, target, nullable in fact.extra.get("foreign_keys", ()):
            target = by_class.get(target.rsplit(".", 1)[-1], _norm(target))
            keys.setdefault(_norm(table), []).append((column.lower(), target, nullable))
    catalog.indirect = parent_chains(keys, catalog.tables, catalog.global_tables)
    reached = set(catalog.tables) | set(catalog.indirect)
    for fact, _, _ in resolved:
        table = _norm(fact.table or fact.default_table or "")
        if fact.abstract or fact.framework != "sqlalchemy" or table not in catalog.indirect \
                or fact.name in catalog.models or fact.name in global_models:
            continue
        parents = {column: tables[target] for column, target, nullable in keys.get(table, ())
                   if not nullable and target in reached and target in tables}
        catalog.models[fact.name] = ModelInfo(
            name=fact.name, qualname=fact.qualname, framework=fact.framework, table=table,
            tenant_columns=frozenset(), tenant_relations=frozenset(), path=fact.path, line=fact.line,
            extra={**fact.extra, "parents": parents, "chain": catalog.indirect[table]})


def _apply_schema(catalog: TenantCatalog, shapes: Mapping[str, "_Shape"]) -> None:
    """RLS state of each table from its replayed history: RLS statements in migration
    order (path order, Alembic files by revision, then line order). A later DISABLE /
    NO FORCE does not undo `enabled` / `forced`: it is TL107 where it stands, not
    TL501/TL502 at the table; it only ends the table's trust."""
    for name, shape in shapes.items():
        state = catalog.rls.setdefault(name, RlsState())
        tcols = catalog.tables[name].tenant_columns if name in catalog.tables else catalog.tenant_columns
        if shape.leading & tcols:
            state.indexed = True
        for _, ddl in sorted(shape.rls, key=lambda e: e[0]):
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


_TABLE_CHANGES = ("drop_table", "rename_table", "rename_model", "alias")
_RLS_KINDS = ("enable_rls", "force_rls", "disable_rls", "no_force_rls", "policy")


def _sequence(path: str, line: int, order: Mapping[str, int]) -> tuple:
    """Migration order: folder, Alembic revision depth, path (numbered or timestamped
    names), line."""
    return path.rpartition("/")[0], order.get(path, 0), path, line


@dataclass
class _Shape:
    """One table as the replay goes: its columns, the columns leading an index, the
    facts that define it (creations and `-alter` additions) and its RLS statements
    (with their place in the sequence)."""

    columns: set[str] = field(default_factory=set)
    leading: set[str] = field(default_factory=set)
    definitions: list[TableFact] = field(default_factory=list)
    rls: list[tuple[tuple, DdlFact]] = field(default_factory=list)

    def absorb(self, other: "_Shape") -> None:
        self.columns |= other.columns
        self.leading |= other.leading
        self.definitions += other.definitions
        self.rls += other.rls


def _replay(tables: Iterable[TableFact], facts: list[SchemaFact],
            order: Mapping[str, int] | None = None) -> dict[str, _Shape]:
    """Table -> its shape after the migrations, replayed in migration order.

    Definitions and added columns (TableFacts, `add_column`) and indexes add;
    `drop_column` removes a column and the indexes it leads; `rename_column` renames
    both. Definitions of one table in several places add up (a schema dump beside the
    migrations). `rename_column` pairs marked `if_present` (a guess at a column, as for a
    Django field) rename only a column known to exist; others create the new name.

    Whole tables: `drop_table` ends a table (whatever is known of it: a table created
    again starts afresh); `rename_table` moves it, with its definitions, columns,
    indexes and RLS statements, to the new name (into the table of that name if one is
    known). Django names models, not tables: `alias` (model default name -> table) says
    which table the model maps to from there on, moving the one it mapped to until then;
    `rename_model` renames the model's default name (its table too, when that was the
    default name); every fact naming a table goes through these names."""
    order = _migration_order(facts) if order is None else order
    events: list[tuple[tuple, int, int, object]] = [
        (_sequence(f.path, f.line, order), f.offset, 0, f) for f in tables]
    events += [(_sequence(f.path, f.line, order), f.ddl.offset, 1, f) for f in facts if f.ddl.kind != "revision"]
    shapes: dict[str, _Shape] = {}
    models: dict[str, str] = {}  # Django model default table -> its table now

    def move(old: str, new: str) -> None:
        if old == new:
            return
        shape = shapes.pop(old, None)
        if shape is not None:
            if new in shapes:
                shapes[new].absorb(shape)
            else:
                shapes[new] = shape
        for model, table in models.items():
            if table == old:
                models[model] = new

    for key, *_, fact in sorted(events, key=lambda e: e[:3]):
        if isinstance(fact, TableFact):
            shape = shapes.setdefault(models.get(_norm(fact.name), _norm(fact.name)), _Shape())
            shape.columns.update(c.lower() for c in fact.columns)
            shape.leading.update(c.lower() for c in fact.indexed_columns if c)
            shape.definitions.append(fact)
            continue
        ddl = fact.ddl
        named = _norm(ddl.table)
        table = models.get(named, named)
        if ddl.kind in _TABLE_CHANGES:
            target = _norm(ddl.columns[0]) if ddl.columns else ""
            if ddl.kind == "drop_table":
                shapes.pop(table, None)
                models.pop(named, None)  # a Django model deleted: created again, it maps afresh
            elif ddl.kind == "rename_table" and target:
                move(table, target)
            elif ddl.kind == "alias" and ddl.extra.get("alias"):
                model = _norm(ddl.extra["alias"])
                move(models.get(model, model), named)
                models[model] = named
            elif ddl.kind == "rename_model" and target:
                if table == named:  # the default name: the table is renamed with the model
                    move(table, target)
                else:
                    models[target] = table
                models.pop(named, None)
            continue
        shape = shapes.setdefault(table, _Shape())
        if ddl.kind in _RLS_KINDS:
            shape.rls.append(((key, fact.ddl.offset), ddl))
            continue
        columns, leading = shape.columns, shape.leading
        cols = [c.lower() for c in ddl.columns]
        if ddl.kind == "index":
            if cols and cols[0]:
                leading.add(cols[0])
        elif ddl.kind == "add_column":
            columns.update(cols)
            leading.update(c.lower() for c in ddl.indexed_leading)
        elif ddl.kind == "drop_column":
            columns.difference_update(cols)
            leading.difference_update(cols)
        elif ddl.kind == "rename_column":
            pairs = list(zip(cols[::2], cols[1::2]))
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
