"""Escape hatches, for `tenantlint catalog`: the places where code steps out of tenant
scope on purpose (`scopes_disabled()`, `_base_manager`) and every `tenantlint: ignore`
comment with its reason. Found in the catalog pass (cached per file with the other
facts), so listing them reads no file twice."""
from __future__ import annotations

import ast
from typing import Iterable

from tenantlint.catalog import EscapeFact
from tenantlint.config import Settings
from tenantlint.suppressions import Suppressions, python_suppressions


class Escapes:
    triggers = (b"scopes_disabled", b"_base_manager", b"tenantlint:")
    wants_source = True
    gaps = False  # a file that cannot be read is not a hole in the tenant catalog for this

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings, *,
                 source: str) -> Iterable[EscapeFact]:
        if "scopes_disabled" in source or "_base_manager" in source:
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _name(node.func) == "scopes_disabled":
                    yield EscapeFact("scopes_disabled", path, node.lineno, "scopes_disabled()")
                elif isinstance(node, ast.Attribute) and node.attr == "_base_manager":
                    yield EscapeFact("base_manager", path, node.lineno, ast.unparse(node))
        yield from suppression_facts(python_suppressions(source), path)


def suppression_facts(found: Suppressions, path: str) -> Iterable[EscapeFact]:
    for sup in found.all():
        codes = ",".join(sorted(sup.codes)) if sup.codes else "all codes"
        yield EscapeFact("suppression", path, sup.line, codes, sup.reason)


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


DISCOVERERS = (Escapes(),)
