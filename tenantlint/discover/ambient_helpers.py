"""Which project functions read the ambient tenant (a ContextVar, `g.tenant_id`, a
`tenant-sources` value), for TL407 in other modules: a memoized function that calls
`current_invoices()` from `app.queries` depends on the tenant as much as one that reads
the ContextVar itself.

One AmbientFact per module: its module-level functions that read the ambient tenant
directly, and the project calls of the others (closed over across modules when the
catalog is assembled, `tenantlint.ambient.ambient_functions`). Only modules that name a
tenant at all are read: a chain of helpers through a module that never names the tenant
is not followed (a known gap, cheap to close when function summaries land)."""
from __future__ import annotations

import ast
from typing import Iterable

from tenantlint.ambient import AmbientFact, AmbientTenant, scan
from tenantlint.config import Settings
from tenantlint.names import child_statements, dotted, import_map
from tenantlint.tenant_sources import TenantSources


def _words(settings: Settings) -> tuple[bytes, ...]:
    columns = {c.lower() for c in settings.tenant_columns if c}
    words = {b"tenant", b"Tenant", b"ContextVar", b"threading.local"}
    for column in columns:
        words.add(column.encode())
        if column.endswith("_id") and len(column) > 3:
            words.add(column[:-3].encode())
    return tuple(sorted(words))


class AmbientHelpers:
    triggers: tuple[bytes, ...] = ()  # see wants_file
    gaps = False  # an unreadable file leaves its helpers unknown, as before this pass

    def wants_file(self, data: bytes, settings: Settings) -> bool:
        return any(word in data for word in _words(settings))

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[AmbientFact]:
        if not module:
            return []
        imports = import_map(tree, module)
        ambient = AmbientTenant(TenantSources(settings.tenant_sources, settings.tenant_columns, tree, imports))
        direct: list[str] = []
        calls: list[tuple[str, tuple[str, ...]]] = []
        for func in _module_functions(tree.body):
            read, found = scan(ambient, func)
            if read is not None:
                direct.append(func.name)
                continue
            callees = sorted({q for node in found if dotted(node.func)
                              for q in [imports.qualify(node.func)] if q and "." in q})
            if callees:
                calls.append((func.name, tuple(callees)))
        if not direct and not calls:
            return []
        return [AmbientFact(path, module, tuple(direct), tuple(calls))]


def _module_functions(stmts) -> list[ast.FunctionDef]:
    out = []
    for stmt in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.append(stmt)
        elif isinstance(stmt, (ast.If, ast.Try)):
            out.extend(_module_functions(child_statements(stmt)))
    return out


DISCOVERERS: tuple = (AmbientHelpers(),)
