"""One function body as the write rules read it: the nodes they look at, in source
order (nested functions and classes left to their own turn), the names it assigns with
the values assigned, and each node's parent.

The nodes are collected by the checker's hooks during the one batched walk of the file
(`Body.add`), not by a walk of its own; the parent map, which only constructors and
`insert()` statements of tenant models need, is built on first use."""
from __future__ import annotations

import ast

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class Body:
    def __init__(self, owner: ast.AST) -> None:
        self.owner = owner
        self.calls: list[ast.Call] = []
        self.assigns: list[ast.stmt] = []  # Assign / AnnAssign / AugAssign statements
        self.compares: list[ast.Compare] = []
        self.fors: list[ast.For | ast.AsyncFor] = []
        self.ifs: list[ast.If] = []
        self.checks: list[ast.Expr] = []  # expression statements (`authorize(user, org_id)`)
        self._values: dict[str, list[ast.expr]] | None = None
        self._parent: dict[int, ast.AST] | None = None

    def add(self, node: ast.AST) -> None:
        kind = type(node)
        if kind is ast.Call:
            self.calls.append(node)
        elif kind in (ast.Assign, ast.AnnAssign, ast.AugAssign):
            self.assigns.append(node)
        elif kind is ast.Compare:
            self.compares.append(node)
        elif kind in (ast.For, ast.AsyncFor):
            self.fors.append(node)
        elif kind is ast.If:
            self.ifs.append(node)
        elif kind is ast.Expr:
            self.checks.append(node)

    def up(self, node: ast.AST) -> ast.AST | None:
        if self._parent is None:
            self._parent = {}
            stack = [(stmt, self.owner) for stmt in _statements(self.owner)]
            while stack:
                child, parent = stack.pop()
                if isinstance(child, _NESTED):
                    continue
                self._parent[id(child)] = parent
                stack.extend((grandchild, child) for grandchild in ast.iter_child_nodes(child))
        return self._parent.get(id(node))

    def values_of(self, name: str) -> list[ast.expr]:
        """Every value assigned to a plain name in this body (`x = ...`, `x: T = ...`)."""
        if self._values is None:
            self._values = {}
            for stmt in self.assigns:
                if isinstance(stmt, ast.Assign):
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            self._values.setdefault(target.id, []).append(stmt.value)
                elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None and isinstance(stmt.target, ast.Name):
                    self._values.setdefault(stmt.target.id, []).append(stmt.value)
        return self._values.get(name, [])


def _statements(owner: ast.AST) -> list[ast.AST]:
    return list(owner.body) if isinstance(owner, (ast.Module, *_NESTED)) else [owner]
