"""The tenant catalog: which tables and models are tenant-scoped and how the schema
protects them. Built once per scan from the whole project under the project root (not
only the files named), so the answer for a file never depends on which files were named.

Discovery is split into small discoverers (`tenantlint/discover/`) that turn one file
into facts; this module merges the facts: model inheritance across files, config
overrides, global tables, RLS state per table."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from tenantlint.catalog_facts import (CollectionFact, CollectionHandleFact, DiscoveryGap, EscapeFact,
                                      ModelFact, SchemaFact, SettingRead, TableFact, table_key)
from tenantlint.config import Settings
from tenantlint.foreign_keys import KeyGraph, parent_chains
from tenantlint.migration_replay import Shape, replay
from tenantlint.module_index import ModuleIndex
from tenantlint.sql.types import SqlPolicy, TenantTable


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
    # project functions that verify an id against the tenant or return rows loaded under
    # scope -> (((position, parameter), ...), (model, ...)) (discover/verifiers.py)
    scoped_helpers: dict = field(default_factory=dict)
    # qualified function -> "request" / "task": entry points and what they call (reach.py)
    reach: dict = field(default_factory=dict)
    # is a parameter trusted at every call in the project (tenantlint/caller_trust.py)
    caller_trust: object = None
    # qualified class -> the get_queryset() methods it inherits or defines, nearest first:
    # ((owner, source), ...) (discover/view_querysets.py)
    inherited_querysets: dict = field(default_factory=dict)
    # tenant models that fill in their own tenant on save (discover/tenant_fillers.py)
    tenant_filled: frozenset[str] = frozenset()
    # tenant models and the classes only they inherit from: their rows own a bucket (stores/owned.py)
    row_classes: frozenset[str] = frozenset()
    # function -> {parameter: "r"/"v"}: every call passes a row of a tenant model or a value read from one
    row_params: dict = field(default_factory=dict)
    # the project's memoizing decorators backed by a store: qualified -> CallSpec (stores/memo_decorators.py),
    # and per module the lines of their keyed store calls
    memo_decorators: dict = field(default_factory=dict)
    memo_lines: dict = field(default_factory=dict)

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
            parent_keys={t: {chain[0][1]: chain[0][2]} for t, chain in self.indirect.items() if chain},
        )


def assemble(settings: Settings, tables: Iterable[TableFact], models: Iterable[ModelFact],
             schema: Iterable[SchemaFact]) -> TenantCatalog:
    """Merge discovered facts with the config into one catalog."""
    tenant_columns = frozenset(c.lower() for c in settings.tenant_columns)
    globals_raw = {g for g in settings.global_tables}
    catalog = TenantCatalog(tenant_columns=tenant_columns, dialect=settings.dialect)
    schema = list(schema)
    # The tables that exist once the migrations have run, under their final names.
    shapes = replay(tables, schema)

    model_facts = list(models)
    resolved = _resolve_models(model_facts)
    global_models = {g.rsplit(".", 1)[-1] for g in globals_raw}
    forced_models = {m.rsplit(".", 1)[-1] for m in settings.tenant_models}
    global_tables = {table_key(g) for g in globals_raw}
    for fact, columns, relations in resolved:
        table = fact.table or fact.default_table
        if fact.name in global_models and table:
            global_tables.add(table_key(table))

    # A table is a tenant table when it has a tenant column once the migrations have run:
    # one added later (ADD COLUMN, add_column, AddField, a rename) counts, a dropped one not.
    for name, shape in shapes.items():
        cols = frozenset(shape.columns) & tenant_columns
        if cols and name not in global_tables:
            catalog.tables[name] = TenantTable(name, cols)
    for name in settings.tenant_tables:
        key = table_key(name)
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
            if fact.framework and (fact.table or table_key(fact.default_table or "") in shapes):
                catalog.other_models.setdefault(fact.name, fact)
            continue
        tcols = tcols or tenant_columns
        table = fact.table or fact.default_table
        catalog.models[fact.name] = ModelInfo(
            name=fact.name, qualname=fact.qualname, framework=fact.framework,
            table=table_key(table) if table else None, tenant_columns=tcols, tenant_relations=trels,
            path=fact.path, line=fact.line, extra=fact.extra,
        )
        if table and table_key(table) not in global_tables:
            key = table_key(table)
            known = catalog.tables.get(key)
            catalog.tables[key] = TenantTable(key, (known.tenant_columns if known else frozenset()) | tcols)
            shape = shapes.setdefault(key, Shape())
            # A model is the table's definition only where no migration creates (or alters) it.
            if not shape.definitions and fact.framework:
                shape.definitions.append(TableFact(
                    name=key, columns=tuple(columns), path=fact.path, line=fact.line, origin=fact.framework,
                    indexed_columns=fact.indexed_columns))
                shape.columns.update(c.lower() for c in columns)
                shape.leading.update(c.lower() for c in fact.indexed_columns if c)

    catalog.definitions = {name: shape.definitions for name, shape in shapes.items() if shape.definitions}
    catalog.global_tables = frozenset(global_tables)
    _add_indirect(catalog, resolved, global_models, shapes)
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
    out = {name: frozenset(shape.columns) for name, shape in replay(tables, list(schema)).items()
           if shape.definitions}
    for fact, columns, _relations in _resolve_models(list(models)):
        table = fact.table or fact.default_table
        if table and not fact.abstract and table_key(table) not in out:
            out[table_key(table)] = frozenset(c.lower() for c in columns)
    return out


def _add_indirect(catalog: TenantCatalog, resolved, global_models: set[str], shapes) -> None:
    """Tables tied to a tenant table by non-null foreign keys (from the models of every ORM,
    own and inherited, and from the replayed migrations and DDL), and their models: tenant
    models with no tenant column, scoped through their parent key (orm/provenance.py).
    Each such model's `parents` (key column -> parent model) and `links` (Django/peewee
    relation field -> a tenant model it references, nullable or not) say how."""
    graph = KeyGraph.build(resolved, {name: shape.key_facts() for name, shape in shapes.items()}, table_key)
    keys = graph.lists()
    catalog.indirect = parent_chains(keys, catalog.tables, catalog.global_tables)
    reached = set(catalog.tables) | set(catalog.indirect)
    for fact, _, _ in resolved:
        table = table_key(fact.table or fact.default_table or "")
        if fact.abstract or table not in catalog.indirect or fact.name in catalog.models \
                or fact.name in global_models or graph.model_of.get(table) != fact.name:
            continue
        if any(other not in reached for _, other in graph.classes.get(fact.name, ())):
            continue  # models are known by class name: another `Book` of no tenant would be judged as this one
        parents = {column: graph.model_of[target] for column, target, nullable in keys.get(table, ())
                   if not nullable and target in reached and target in graph.model_of}
        catalog.models[fact.name] = ModelInfo(
            name=fact.name, qualname=fact.qualname, framework=fact.framework, table=table,
            tenant_columns=frozenset(), tenant_relations=frozenset(), path=fact.path, line=fact.line,
            extra={**fact.extra, "parents": parents, "chain": catalog.indirect[table]})
    for name, info in list(catalog.models.items()):
        own = graph.keys.get(info.table or "")
        if not own:
            continue
        extra = {**info.extra, "foreign_keys": tuple((c, t, n) for c, (t, n) in own.items())}  # tables, resolved
        if info.extra.get("chain") and name in graph.fields:
            extra["links"] = {f: graph.model_of[own[c][0]] for f, c in graph.fields[name].items()
                              if c in own and graph.model_of.get(own[c][0]) in catalog.models}
            if info.framework == "peewee":  # `Message.conversation == conv`: peewee compares the field
                parents = info.extra.get("parents", {})
                extra["parents"] = {**parents, **{f: parents[c] for f, c in graph.fields[name].items() if c in parents}}
        catalog.models[name] = replace(info, extra=extra)


def _apply_schema(catalog: TenantCatalog, shapes: Mapping[str, "Shape"]) -> None:
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
