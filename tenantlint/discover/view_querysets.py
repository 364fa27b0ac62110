"""The get_queryset() methods of the project's classes, for the views that inherit them.

A DRF view or Django class-based view whose class-level `queryset` (or `model`) is
narrowed by the get_queryset() of a project base class or mixin in another module runs
that method on every request: the class-level query is judged through it, not alone
(tenantlint.orm.inherited). The catalog pass keeps each such method's text; a view's
file parses the few it inherits when it is checked (no file is parsed twice).

What the methods do is not decided here: it depends on the subclass's query (the mixin
narrows `super().get_queryset()`, whatever model that is)."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, Mapping

from tenantlint.callgraph import lineage
from tenantlint.config import Settings
from tenantlint.orm.pyast import top_classes

METHOD = "get_queryset"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class QuerysetMethodFact:
    path: str
    owner: str  # the qualified class defining it
    source: str  # the method's text (ast.unparse: positions are not kept)


class QuerysetMethods:
    triggers: tuple[bytes, ...] = (METHOD.encode(),)
    gaps = False

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings) -> Iterable[QuerysetMethodFact]:
        for cls in top_classes(tree):
            for stmt in cls.body:
                if isinstance(stmt, _DEFS) and stmt.name == METHOD:
                    owner = f"{module}.{cls.name}" if module else cls.name
                    yield QuerysetMethodFact(path, owner, ast.unparse(stmt))


def inherited_querysets(facts: Iterable[QuerysetMethodFact], classes: Mapping[str, tuple[str, ...]]) \
        -> dict[str, tuple[tuple[str, str], ...]]:
    """Qualified class -> the get_queryset() methods of the class and its project bases, in
    lookup order ((owner, source), ...): `super().get_queryset()` in one runs the next."""
    methods = {f.owner: f.source for f in facts}
    if not methods:
        return {}
    out = {}
    for cls in classes:
        chain = tuple((c, methods[c]) for c in lineage(cls, classes) if c in methods)
        if chain:
            out[cls] = chain
    return out


DISCOVERERS: tuple = (QuerysetMethods(),)
