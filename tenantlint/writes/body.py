"""One function body as the write rules read it: its nodes in source order (nested
functions and classes left to their own turn), each node's parent, and the names it
assigns with the values assigned."""
from __future__ import annotations

import ast

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class Body:
    def __init__(self, owner: ast.AST) -> None:
        self.owner = owner
        self.parent: dict[int, ast.AST] = {}
        self.calls: list[ast.Call] = []
        self.assigns: list[ast.stmt] = []  # Assign / AnnAssign / AugAssign statements
        self.compares: list[ast.Compare] = []
        self.fors: list[ast.For | ast.AsyncFor] = []
        self.ifs: list[ast.If] = []
        self.checks: list[ast.Expr] = []  # expression statements (`authorize(user, org_id)`)
        self._values: dict[str, list[ast.expr]] | None = None
        body = owner.body if isinstance(owner, (ast.Module, *_NESTED)) else [owner]
        stack = [(stmt, owner) for stmt in reversed(body)]
        while stack:
            node, parent = stack.pop()
            if isinstance(node, _NESTED):
                continue
            self.parent[id(node)] = parent
            if isinstance(node, ast.Call):
                self.calls.append(node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                self.assigns.append(node)
            elif isinstance(node, ast.Compare):
                self.compares.append(node)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                self.fors.append(node)
            elif isinstance(node, ast.If):
                self.ifs.append(node)
            elif isinstance(node, ast.Expr):
                self.checks.append(node)
            children = list(ast.iter_child_nodes(node))
            stack.extend((child, node) for child in reversed(children))

    def up(self, node: ast.AST) -> ast.AST | None:
        return self.parent.get(id(node))

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
