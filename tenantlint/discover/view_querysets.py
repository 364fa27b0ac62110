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
import textwrap
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
    line: int  # where `source` starts in the file (its decorators, else its `def`)
    source: str  # the method's text, dedented (ast.unparse's when the text will not dedent)


class QuerysetMethods:
    triggers: tuple[bytes, ...] = (METHOD.encode(),)
    gaps = False
    wants_source = True

    def discover(self, tree: ast.Module, path: str, module: str, settings: Settings, source: str = "") \
            -> Iterable[QuerysetMethodFact]:
        lines = source.splitlines(keepends=True)
        for cls in top_classes(tree):
            for stmt in cls.body:
                if isinstance(stmt, _DEFS) and stmt.name == METHOD:
                    owner = f"{module}.{cls.name}" if module else cls.name
                    yield QuerysetMethodFact(path, owner, *_text(stmt, lines))


def _text(fn, lines: list[str]) -> tuple[int, str]:
    """(first line, text) of a method, dedented to parse alone with its own line numbers."""
    first = min([d.lineno for d in fn.decorator_list] + [fn.lineno])
    text = textwrap.dedent("".join(lines[first - 1:fn.end_lineno]))
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return fn.lineno, ast.unparse(fn)  # a string at column 0 inside it: positions are lost
    return first, text


def inherited_querysets(facts: Iterable[QuerysetMethodFact], classes: Mapping[str, tuple[str, ...]]) \
        -> dict[str, tuple[tuple[str, str, int, str], ...]]:
    """Qualified class -> the get_queryset() methods of the class and its project bases, in
    lookup order ((owner, path, line, source), ...): `super().get_queryset()` in one runs
    the next."""
    methods = {f.owner: (f.owner, f.path, f.line, f.source) for f in facts}
    if not methods:
        return {}
    out = {}
    for cls in classes:
        chain = tuple(methods[c] for c in lineage(cls, classes) if c in methods)
        if chain:
            out[cls] = chain
    return out


DISCOVERERS: tuple = (QuerysetMethods(),)
