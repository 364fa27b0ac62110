"""Where a file is inside a scope provider (config `scope-providers`): the body of
`with provider(...)` / `async with`, a function decorated `@provider`, or an argument
of `provider(...)`. A provider named by its class path (`app.store.Store.paginate`) is
also `self.paginate(...)` inside that class or a subclass of it. Computed once per file
as position ranges, so every checker (SQL, ORM) asks the same question the same way."""
from __future__ import annotations

import ast

from tenantlint.names import ImportMap, matches_name


class ProviderRanges:
    def __init__(self, module: ast.Module | None, source: str, providers: tuple[str, ...],
                 imports: ImportMap | None, positions) -> None:
        self.ranges: list[tuple[tuple[int, int], tuple[int, int]]] = []
        if module is None or not providers or imports is None:
            return
        # Cheap screen: the provider's own name must appear in the file.
        if not any(p.rsplit(".", 1)[-1] in source for p in providers):
            return

        # `pkg.store.Store.paginate` also names `self.paginate(...)` / `cls.paginate(...)`
        # called in class `Store` or in a class that lists `Store` among its bases.
        methods: dict[str, set[str]] = {}
        for p in providers:
            parts = p.split(".")
            if len(parts) >= 2 and parts[-2][:1].isupper():
                methods.setdefault(parts[-1], set()).add(parts[-2])

        def is_provider(func: ast.AST, classes: frozenset[str]) -> bool:
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and func.value.id in ("self", "cls") and classes & methods.get(func.attr, set()):
                return True
            qualified = imports.qualify(func)
            return any(matches_name(qualified, p) for p in providers)

        def add(nodes) -> None:
            spans = [positions.get(n) for n in nodes]
            spans = [s for s in spans if s is not None]
            if spans:
                self.ranges.append(((spans[0].start.line, spans[0].start.column),
                                    (spans[-1].end.line, spans[-1].end.column)))

        # (node, names of the enclosing class and its bases); iterative: no depth limit.
        stack: list[tuple[ast.AST, frozenset[str]]] = [(module, frozenset())]
        while stack:
            node, classes = stack.pop()
            if isinstance(node, ast.ClassDef):
                bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
                classes = frozenset({node.name, *bases} - {""})
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                if any(isinstance(i.context_expr, ast.Call) and is_provider(i.context_expr.func, classes)
                       for i in node.items):
                    add(node.body)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for d in node.decorator_list:
                    if is_provider(d.func if isinstance(d, ast.Call) else d, classes):
                        add(node.body)
                        break
            elif isinstance(node, ast.Call) and is_provider(node.func, classes):
                for arg in node.args:
                    add([arg])
                for keyword in node.keywords:
                    add([keyword.value])
            stack.extend((child, classes) for child in ast.iter_child_nodes(node))

    def contains(self, pos) -> bool:
        """Is a Range (anything with .start/.end) inside a provider?"""
        if pos is None or not self.ranges:
            return False
        start, end = (pos.start.line, pos.start.column), (pos.end.line, pos.end.column)
        return any(low <= start and end <= high for low, high in self.ranges)
