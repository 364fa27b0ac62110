"""Project helpers that hand out request input, found in the catalog pass.

`def workspace_param(request): return request.GET["workspace"]` in `app/helpers.py`
makes `filter(workspace_id=workspace_param(request))` in another module a tenant value
chosen by the client (TL601). Module-level functions whose return value is request input
(as `tenantlint.tenant_sources` reads it, within the helper) are recorded by qualified
name; `TenantCatalog.request_helpers` gathers them for the per-file pass."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable

from tenantlint.config import Settings
from tenantlint.names import ImportMap
from tenantlint.request_packs import request_knowledge
from tenantlint.tenant_sources import TenantSources, returns


@dataclass(frozen=True)
class RequestHelperFact:
    path: str
    module: str
    names: tuple[str, ...]  # module-level functions of `module` that return request input


class RequestHelpers:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    gaps = False

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        """A file that names a request, a context-global request or a parameter marker."""
        return any(word.encode() in data for word in request_knowledge().words)

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[RequestHelperFact]:
        sources = TenantSources(settings.tenant_sources, settings.tenant_columns, tree, ImportMap(tree, module))
        names = []
        for name, func in sources.helpers.items():
            values = sources.function(func)
            if any(values.request_input(ret) is not None for ret in returns(func)):
                names.append(name)
        if names:
            yield RequestHelperFact(path, module, tuple(sorted(names)))


def request_helpers(facts: Iterable[RequestHelperFact]) -> frozenset[str]:
    return frozenset(f"{fact.module}.{name}" if fact.module else name for fact in facts for name in fact.names)


DISCOVERERS: tuple = (RequestHelpers(),)
