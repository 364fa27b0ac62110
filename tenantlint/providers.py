"""Where a file is inside a scope provider (config `scope-providers`): the body of
`with provider(...)` / `async with`, a function decorated `@provider`, or an argument
of `provider(...)`. Computed once per file as position ranges, so every checker (SQL,
ORM) asks the same question the same way."""
from __future__ import annotations

import libcst as cst

from tenantlint.names import ImportMap, matches_name


class ProviderRanges:
    def __init__(self, module: cst.Module | None, source: str, providers: tuple[str, ...],
                 imports: ImportMap | None, positions) -> None:
        self.ranges: list[tuple[tuple[int, int], tuple[int, int]]] = []
        if module is None or not providers or imports is None:
            return
        # Cheap screen: the provider's own name must appear in the file.
        if not any(p.rsplit(".", 1)[-1] in source for p in providers):
            return

        def is_provider(func: cst.BaseExpression) -> bool:
            qualified = imports.qualify(func)
            return any(matches_name(qualified, p) for p in providers)

        ranges = self.ranges

        class Finder(cst.CSTVisitor):
            def visit_With(self, node: cst.With) -> None:
                if any(isinstance(i.item, cst.Call) and is_provider(i.item.func) for i in node.items):
                    _add(node.body)

            def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
                for d in node.decorators:
                    target = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
                    if is_provider(target):
                        _add(node.body)
                        return

            def visit_Call(self, node: cst.Call) -> None:
                if is_provider(node.func):
                    for arg in node.args:
                        _add(arg.value)

        def _add(node: cst.CSTNode) -> None:
            pos = positions.get(node)
            if pos is not None:
                ranges.append(((pos.start.line, pos.start.column), (pos.end.line, pos.end.column)))

        module.visit(Finder())

    def contains(self, pos) -> bool:
        """Is a libcst CodeRange (or anything with .start/.end) inside a provider?"""
        if pos is None or not self.ranges:
            return False
        start, end = (pos.start.line, pos.start.column), (pos.end.line, pos.end.column)
        return any(low <= start and end <= high for low, high in self.ranges)
