"""The project-wide first pass: read every source file under the project root once and
turn it into catalog facts. Python files are screened on their bytes first and parsed
with the stdlib `ast`; with several jobs the files are read on the watched worker
pool, so this pass stays a small fraction of a scan."""
from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path
from typing import Iterable, Protocol

from tenantlint.catalog import (CollectionFact, CollectionHandleFact, DiscoveryGap, EscapeFact, ModelFact,
                                SchemaFact, SettingRead, TableFact, TenantCatalog, assemble)
from tenantlint.module_index import ModuleNamesFact, NameUseFact, index_modules
from tenantlint.ambient import AmbientFact, ambient_functions
from tenantlint.callgraph import CallGraph
from tenantlint.reach import project_reach
from tenantlint.caller_trust import CallerTrust
from tenantlint.discover.functions import PackedCallSites, PackedFunctions, function_facts
from tenantlint.stores.owned import row_classes, row_params
from tenantlint.stores.memo_decorators import MemoDecoratorFact, memo_decorators, memo_lines
from tenantlint.packs import api_catalog_for
from tenantlint.discover.row_args import RowArgsFact
from tenantlint.stores.wrappers import WrapperFact, index_wrappers, resolve_instance
from tenantlint.config import Settings
from tenantlint.discover.escapes import suppression_facts
from tenantlint.discover.settings_read import reads_in
from tenantlint.discover import entry_points, request_helpers, tenant_fillers, verifiers, view_querysets
from tenantlint.discover.entry_points import EntryFact
from tenantlint.discover.request_helpers import RequestHelperFact
from tenantlint.discover.verifiers import VerifierFact
from tenantlint.discover.tenant_fillers import TenantFillerFact
from tenantlint.files import link_outside, module_name, relative, walk
from tenantlint.cache import stamp_before_read
from tenantlint.gc_pause import paused
from tenantlint.grammar import parse as parse_module
from tenantlint.source import decode, read_bytes, read_source
from tenantlint.suppressions import sql_suppressions

Fact = (TableFact | ModelFact | SchemaFact | DiscoveryGap | ModuleNamesFact | NameUseFact | CollectionFact
        | CollectionHandleFact | AmbientFact | WrapperFact | EscapeFact | SettingRead | RequestHelperFact
        | TenantFillerFact | PackedFunctions | PackedCallSites | EntryFact)


class PyDiscoverer(Protocol):
    """Finds facts in one parsed Python file. `triggers`: byte strings of which at least
    one must occur in the file for `discover` to be worth calling.
    Optional: `wants_file(data, settings)` in place of `triggers` (a test that
    depends on the config); `wants_source = True` passes the decoded text as `source=`;
    `gaps = False`: a file only such discoverers wanted that cannot be read is not a
    DiscoveryGap."""

    triggers: tuple[bytes, ...]

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[Fact]: ...


def python_discoverers() -> tuple[PyDiscoverer, ...]:
    from tenantlint.discover import (alembic_ops, ambient_helpers, ddl_strings, django_migrations, escapes,
                                     functions, module_names, orm_models, row_args, settings_read, store_memos,
                                     wrapper_classes)
    from tenantlint.discover import document_collections as documents

    return (*ddl_strings.DISCOVERERS, *orm_models.DISCOVERERS, *alembic_ops.DISCOVERERS,
            *django_migrations.DISCOVERERS, *module_names.DISCOVERERS, *ambient_helpers.DISCOVERERS,
            *wrapper_classes.DISCOVERERS, *documents.DISCOVERERS, *escapes.DISCOVERERS,
            *settings_read.DISCOVERERS, *request_helpers.DISCOVERERS, *tenant_fillers.DISCOVERERS,
            *functions.DISCOVERERS, *verifiers.DISCOVERERS, *entry_points.DISCOVERERS,
            *view_querysets.DISCOVERERS, *row_args.DISCOVERERS, *store_memos.DISCOVERERS)


# Below this many files to read, worker start-up costs more than it saves.
_POOL_MIN_FILES = 64


def build_catalog(settings: Settings, *, use_cache: bool = False, jobs: int = 1, keep: bool = False) -> TenantCatalog:
    """With `use_cache`, each file's facts are kept in the project's cache folder and
    reused while the file is unchanged (see tenantlint.cache.FactCache). With `jobs` > 1
    the files not in the cache are read on the watched worker pool."""
    # Facts and the summarized files' trees: millions of acyclic objects. `keep`: a
    # one-shot command's catalog, frozen for the rest of the process (gc_pause.py).
    with paused(keep=keep):
        return _build_catalog(settings, use_cache, jobs)


def _build_catalog(settings: Settings, use_cache: bool, jobs: int) -> TenantCatalog:
    if not settings.discover:
        return assemble(settings, (), (), ())
    memo = None
    if use_cache:
        from tenantlint.cache import FactCache

        memo = FactCache(settings)
    paths = list(walk(settings.root, settings))
    rels = [relative(path, settings.root) for path in paths]
    known = [memo.lookup(path, rel) if memo is not None else None for path, rel in zip(paths, rels)]
    todo = [path for path, facts in zip(paths, known) if facts is None]
    computed = iter(_discover_all(todo, settings, jobs))
    facts: list[Fact] = []
    for path, rel, cached in zip(paths, rels, known):
        if cached is None:
            found, durable, before = next(computed)
            if memo is not None and durable:
                memo.record(path, rel, found, before)
            cached = found
        facts.extend(cached)
    from tenantlint.discover.module_names import use_facts

    facts.extend(use_facts(paths, rels, facts, settings, memo))  # needs every module's constants
    from tenantlint.discover.document_collections import use_facts as collection_uses

    facts.extend(collection_uses(paths, rels, facts, settings, memo))  # needs every module's handles
    from tenantlint.discover.table_names import resolve_table_refs

    facts = resolve_table_refs(paths, rels, facts, memo)  # `__tablename__ = NAME` imported from a module
    if memo is not None:
        memo.save()
    catalog = assemble_facts(settings, facts)
    from tenantlint.orm.summarize import build_function_index, model_ancestors

    ancestors = model_ancestors([f for f in facts if isinstance(f, ModelFact) and f.framework], catalog.models)
    modules = function_facts(facts)
    catalog.functions = build_function_index(paths, rels, catalog, settings, memo, ancestors, modules,
                                             jobs)  # needs the models
    return catalog


def _discover_all(paths: list[Path], settings: Settings, jobs: int):
    """(facts, durable, stamp before the read) per path, in order. Not durable: a worker
    died on the file (a verdict about this run, never cached)."""
    if jobs <= 1 or len(paths) < _POOL_MIN_FILES:
        discoverers = python_discoverers()
        for path in paths:
            yield _durable_facts(path, settings, discoverers)
        return
    from functools import partial

    from tenantlint.pool import run_in_pool

    def failed(path: Path, why: str):
        return [DiscoveryGap(relative(path, settings.root), 1, f"{why} while reading it")], False, None

    yield from run_in_pool(paths, partial(_durable_facts, settings=settings), failed, jobs)


def _durable_facts(path: Path, settings: Settings, discoverers=None) -> tuple[list[Fact], bool, tuple]:
    # Stamped where the file is read (the worker), before reading: the file may change
    # before the parent gets to record these facts.
    before = stamp_before_read(path)
    return discover_file(path, settings, discoverers), True, before


def assemble_facts(settings: Settings, facts: Iterable[Fact]) -> TenantCatalog:
    facts = list(facts)
    catalog = assemble(
        settings,
        [f for f in facts if isinstance(f, TableFact)],
        [f for f in facts if isinstance(f, ModelFact)],
        [f for f in facts if isinstance(f, SchemaFact)],
    )
    catalog.gaps = sorted((f for f in facts if isinstance(f, DiscoveryGap)), key=lambda g: g.path)
    catalog.wrappers = index_wrappers(f for f in facts if isinstance(f, WrapperFact))
    catalog.modules = index_modules(_resolved_instances(f, catalog.wrappers) for f in facts
                                    if isinstance(f, (ModuleNamesFact, NameUseFact)))
    memo = [f for f in facts if isinstance(f, MemoDecoratorFact)]
    catalog.memo_decorators = memo_decorators(memo, catalog.wrappers, catalog.modules, api_catalog_for(settings))
    catalog.memo_lines = memo_lines(memo, catalog.memo_decorators)
    catalog.ambient = ambient_functions(f for f in facts if isinstance(f, AmbientFact))
    catalog.add_collections(f for f in facts if isinstance(f, (CollectionFact, CollectionHandleFact)))
    catalog.escapes = [f for f in facts if isinstance(f, EscapeFact)]
    for fact in facts:
        if isinstance(fact, SettingRead):
            catalog.settings_read.setdefault(fact.name, fact)
    catalog.request_helpers = request_helpers.request_helpers(f for f in facts if isinstance(f, RequestHelperFact))
    catalog.scoped_helpers = verifiers.verifier_index(f for f in facts if isinstance(f, VerifierFact))
    # Where each function runs: entry points, and what they call across modules.
    modules = function_facts(facts)
    graph = CallGraph(modules.values())
    entries = entry_points.entry_index(f for f in facts if isinstance(f, EntryFact))
    catalog.reach = project_reach(entries, graph.callees, graph.symbols.classes, graph.symbols.defined)
    catalog.caller_trust = CallerTrust((f for f in facts if isinstance(f, PackedCallSites)), graph.symbols,
                                       modules.values(), catalog.scoped_helpers, entries, catalog)
    catalog.inherited_querysets = view_querysets.inherited_querysets(
        (f for f in facts if isinstance(f, view_querysets.QuerysetMethodFact)), graph.symbols.classes)
    catalog.row_classes = row_classes((m.qualname for m in catalog.models.values()), graph.symbols.classes)
    catalog.row_params = row_params((c for f in facts if isinstance(f, RowArgsFact) for c in f.calls),
                                    modules.values(), graph.symbols, catalog.row_classes)
    catalog.tenant_filled = tenant_fillers.filled_models(
        (f for f in facts if isinstance(f, TenantFillerFact)), (f for f in facts if isinstance(f, ModelFact)),
        catalog.models)
    return catalog


def _resolved_instances(fact, wrappers: dict):
    """A ModuleNamesFact with its instances of classes (`new:<class>`) turned into wrapper
    handles, or left out when the class wraps nothing."""
    if not isinstance(fact, ModuleNamesFact) or not any(kind.startswith("new:") for _n, kind, _s in fact.handles):
        return fact
    handles = []
    for name, kind, scoped in fact.handles:
        resolved = resolve_instance(kind, wrappers)
        if resolved:
            handles.append((name, resolved, scoped))
    return replace(fact, handles=tuple(handles))


def discover_file(path: Path, settings: Settings, discoverers=None) -> list[Fact]:
    """Facts of one file. A file that may define tables or models (a trigger matched)
    but cannot be read or parsed gives a DiscoveryGap: the catalog is incomplete."""
    rel = relative(path, settings.root)
    if path.suffix == ".sql":
        source = read_source(path, settings.max_file_size)
        if source.text is None:
            return [DiscoveryGap(rel, 1, source.error)]
        from tenantlint.discover.sql_files import facts_from_sql

        return [*facts_from_sql(source.text, rel, settings), *suppression_facts(sql_suppressions(source.text), rel),
                *reads_in(source.text, rel)]
    if path.suffix not in (".py", ".pyi"):
        return []
    discoverers = discoverers if discoverers is not None else python_discoverers()
    if link_outside(path, settings.root):
        return []  # not the project's code (reported by the per-file pass)
    # Read once: screened, size-checked and decoded from these bytes.
    raw = read_bytes(path, settings.max_file_size, head=True)
    if raw.data is None:
        return []
    data = raw.data
    wanted = [d for d in discoverers if (d.wants_file(data, settings) if hasattr(d, "wants_file") else
                                         any(t in data for t in d.triggers))]
    if not wanted:
        return []
    gap = any(getattr(d, "gaps", True) for d in wanted)
    if len(data) > settings.max_file_size:
        return [DiscoveryGap(rel, 1, "file is above max-file-size")] if gap else []
    source = decode(data)
    if source.text is None:
        return [DiscoveryGap(rel, 1, source.error)] if gap else []
    try:
        tree = parse_module(source.text)
    except SyntaxError as exc:
        return [DiscoveryGap(rel, exc.lineno or 1, f"syntax error: {exc.msg}")] if gap else []
    except (ValueError, RecursionError, MemoryError) as exc:
        return [DiscoveryGap(rel, 1, f"cannot parse: {type(exc).__name__}")] if gap else []
    out: list[Fact] = []
    mod = module_name(rel)
    for discoverer in wanted:
        try:
            if getattr(discoverer, "wants_source", False):
                out.extend(discoverer.discover(tree, rel, mod, settings, source=source.text))
            else:
                out.extend(discoverer.discover(tree, rel, mod, settings))
        except RecursionError:
            print(f"tenantlint: {rel}: too deeply nested for discovery", file=sys.stderr)
    return out
