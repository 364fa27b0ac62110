"""Project helpers that hand out request input, found in the catalog pass.

`def workspace_param(request): return request.GET["workspace"]` in `app/helpers.py`
makes `filter(workspace_id=workspace_param(request))` in another module a tenant value
chosen by the client (TL601). Module-level functions whose return value is request input
(as `tenantlint.tenant_sources` reads it, within the helper) are recorded by qualified
name; `TenantCatalog.request_helpers` gathers them for the per-file pass."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Iterable

from tenantlint.config import Settings
from tenantlint.names import import_map
from tenantlint.request_packs import request_knowledge
from tenantlint.local_values import returns
from tenantlint.tenant_sources import TenantSources


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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

    wants_source = True

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings,
                 source: str = "") -> Iterable[RequestHelperFact]:
        lines = source.splitlines()
        words = request_knowledge().words
        candidates = [stmt for stmt in tree.body if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and
                      not (lines and words.isdisjoint(_WORD.findall(
                          "\n".join(lines[stmt.lineno - 1:stmt.end_lineno or stmt.lineno]))))]
        if not candidates:
            return  # the cheap test first: no function names a request
        sources = TenantSources(settings.tenant_sources, settings.tenant_columns, tree, import_map(tree, module))
        names = []
        for func in candidates:
            values = sources.function(func)
            if any(values.request_input(ret) is not None for ret in returns(func)):
                names.append(func.name)
        if names:
            yield RequestHelperFact(path, module, tuple(sorted(names)))


def request_helpers(facts: Iterable[RequestHelperFact]) -> frozenset[str]:
    return frozenset(f"{fact.module}.{name}" if fact.module else name for fact in facts for name in fact.names)


DISCOVERERS: tuple = (RequestHelpers(),)
