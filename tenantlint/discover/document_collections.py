"""Tenant collections, indexes and labels, discovered in the catalog pass.

A MongoDB collection, search index or graph label is a tenant one when the project
writes it with a tenant field (`insert_one({"tenant_id": ...})`, `es.index(document=
{..., "tenant_id": ...})`, `MERGE (n:Entity {user_id: $uid})`) or filters it with one,
anywhere in the project. The document checker itself reads each file in `collect` mode
(the same handle resolution and filter reading as the per-file pass, so the two never
disagree); the facts are cached per file with the other catalog facts."""
from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path
from typing import Iterable

from tenantlint.packs import api_catalog_for
from tenantlint.catalog import CollectionFact, CollectionHandleFact, TenantCatalog
from tenantlint.config import Settings
from tenantlint.context import FileContext
from tenantlint.files import module_name
from tenantlint.documents.checker import DocumentChecker
from tenantlint.discover.module_names import per_python_file
from tenantlint.module_index import ModuleNamesFact, index_modules
from tenantlint.source import decode, read_bytes
from tenantlint.visit import walk_batched
from tenantlint.grammar import parse as parse_module

_SCREENS: dict = {}


def _screen(settings: Settings) -> re.Pattern:
    """An import of a library whose pack has document or graph calls (on bytes)."""
    api = api_catalog_for(settings)
    found = _SCREENS.get(id(api))
    if found is None or found[0] is not api:
        roles = set(Collector.roles)
        modules = sorted({m for pack, mods in api.imports.items() if api.pack_roles.get(pack, set()) & roles
                          for m in mods}, key=len, reverse=True)
        text = (r"^[ \t]*(?:from|import)[ \t]+(?:" + "|".join(map(re.escape, modules)) + r")\b") if modules \
            else r"(?!)"
        found = _SCREENS[id(api)] = (api, re.compile(text.encode(), re.M))
    return found[1]


class Collector(DocumentChecker):
    """The document checker in collect mode: only the calls that can show a tenant
    collection (wipes show nothing), so files that only import a cache library are skipped."""

    roles = ("document-query", "document-write", "graph")


class TenantCollections:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    wants_source = True
    gaps = False  # an unreadable file leaves its collections unknown (it is TL001 itself)

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        return _screen(settings).search(data) is not None

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings,
                 source: str | None = None) -> Iterable[CollectionFact | CollectionHandleFact]:
        if source is None:
            return []
        return _collect(tree, path, module, settings, source, None)


def _collect(tree: ast.Module, path: str, module: str, settings: Settings, source: str,
             catalog: TenantCatalog | None) -> list:
    """The facts of one file: the document checker's walk in collect mode."""
    ctx = FileContext(path=path, source=source, settings=settings, catalog=catalog, module=tree,
                      module_name=module)
    found: list = []
    checker = Collector(ctx, collect=found)
    if not checker.active:
        return []
    walk_batched(tree, [checker])
    found += [CollectionHandleFact(module, name, collection) for name, collection in checker.module_collections()]
    return found


DISCOVERERS: tuple = (TenantCollections(),)


def use_facts(paths: list[Path], rels: list[str], facts: list, settings: Settings, memo=None) -> list:
    """Second step, once every module's handles are known: files that import no store
    library but use a collection handle another module binds (`from app.db import notes`;
    `notes.insert_one({"tenant_id": ...})`) are read in collect mode too. Kept in `memo`
    per file while the file and the project's handles are unchanged."""
    roles = set(Collector.roles)
    api = api_catalog_for(settings)
    kinds = {k for (k, _m), specs in api.methods.items() if any(s.role in roles for s in specs)}
    names = [f for f in facts if isinstance(f, ModuleNamesFact)]
    if not any(kind.removeprefix("returns:") in kinds for f in names for _n, kind, _s in f.handles):
        return []
    catalog = TenantCatalog(tenant_columns=frozenset(c.lower() for c in settings.tenant_columns),
                            modules=index_modules(names))
    catalog.add_collections(f for f in facts if isinstance(f, CollectionHandleFact))
    digest = hashlib.sha256(repr((sorted(catalog.modules.handles.items()),
                                  sorted(catalog.collection_handles.items()))).encode()).hexdigest()
    screen = _screen(settings)
    return per_python_file(paths, rels, memo, f"documents\x00{digest}",
                           lambda path, rel: _uses_in(path, rel, settings, catalog, screen))


def _uses_in(path: Path, rel: str, settings: Settings, catalog: TenantCatalog, screen) -> list:
    data = read_bytes(path, settings.max_file_size, head=True).data
    if data is None or screen.search(data) is not None or len(data) > settings.max_file_size:
        return []  # unreadable, read by the first step already, or too large to read at all
    source = decode(data)
    if source.text is None or not catalog.modules.mentions(source.text, "handles"):
        return []
    try:
        tree = parse_module(source.text)
        return [f for f in _collect(tree, rel, module_name(rel), settings, source.text, catalog)
                if isinstance(f, CollectionFact)]
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
