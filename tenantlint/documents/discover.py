"""Tenant collections, indexes and labels, discovered in the catalog pass.

A MongoDB collection, search index or graph label is a tenant one when the project
writes it with a tenant field (`insert_one({"tenant_id": ...})`, `es.index(document=
{..., "tenant_id": ...})`, `MERGE (n:Entity {user_id: $uid})`) or filters it with one,
anywhere in the project. The document checker itself reads each file in `collect` mode
(the same handle resolution and filter reading as the per-file pass, so the two never
disagree); the facts are cached per file with the other catalog facts."""
from __future__ import annotations

import ast
import re
from typing import Iterable

from tenantlint.apis import catalog_for
from tenantlint.catalog import CollectionFact
from tenantlint.config import Settings
from tenantlint.context import FileContext
from tenantlint.documents.checker import DocumentChecker
from tenantlint.visit import walk_batched

_SCREENS: dict = {}


def _screen(settings: Settings) -> re.Pattern:
    """An import of a library whose pack has document or graph calls (on bytes)."""
    api = catalog_for(settings)
    found = _SCREENS.get(id(api))
    if found is None or found[0] is not api:
        roles = set(DocumentChecker.roles)
        modules = sorted({m for pack, mods in api.imports.items() if api.pack_roles.get(pack, set()) & roles
                          for m in mods}, key=len, reverse=True)
        text = (r"^[ \t]*(?:from|import)[ \t]+(?:" + "|".join(map(re.escape, modules)) + r")\b") if modules \
            else r"(?!)"
        found = _SCREENS[id(api)] = (api, re.compile(text.encode(), re.M))
    return found[1]


class TenantCollections:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    wants_source = True
    gaps = False  # an unreadable file leaves its collections unknown (it is TL001 itself)

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        return _screen(settings).search(data) is not None

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings,
                 source: str | None = None) -> Iterable[CollectionFact]:
        if source is None:
            return []
        ctx = FileContext(path=path, source=source, settings=settings, catalog=None, module=tree,
                          module_name=module)
        found: list[CollectionFact] = []
        checker = DocumentChecker(ctx, collect=found)
        if not checker.active:
            return []
        walk_batched(tree, [checker])
        return found


DISCOVERERS: tuple = (TenantCollections(),)
