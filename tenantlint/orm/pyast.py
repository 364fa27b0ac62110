"""Small stdlib-`ast` helpers shared by the ORM discoverers."""
from __future__ import annotations

import ast

from tenantlint.names import ImportMap, dotted


class ImportAliases(ImportMap):
    """The file's imports (names.ImportMap), qualified as discovery wants them: a name
    defined in this module stays as written (`Base`), not prefixed with the module."""

    def qualify(self, node: ast.AST) -> str:
        name = dotted(node) or ""
        head, _, rest = name.partition(".")
        full = self.aliases.get(head, head)
        return f"{full}.{rest}" if rest else full

    def uses(self, *packages: str) -> bool:
        return any(v.split(".")[0] in packages for v in self.aliases.values())


def const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def kwarg(call: ast.Call, name: str) -> ast.AST | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def top_classes(tree: ast.Module):
    """Module-level classes, including those under `if`/`try` blocks."""
    stack = list(tree.body)
    while stack:
        node = stack.pop(0)
        if isinstance(node, ast.ClassDef):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            stack[:0] = [*node.body, *getattr(node, "orelse", []), *getattr(node, "finalbody", []),
                         *(s for h in getattr(node, "handlers", []) for s in h.body)]


def base_names(cls: ast.ClassDef, imports: ImportAliases) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(bases as written, bases qualified through imports)."""
    written, qualified = [], []
    for base in cls.bases:
        if isinstance(base, ast.Subscript):  # Generic[T], Model[Foo]
            base = base.value
        name = dotted(base)
        if name:
            written.append(name)
            qualified.append(imports.qualify(base))
    return tuple(written), tuple(qualified)


def method(cls: ast.ClassDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
            return stmt
    return None


def lookup_is_tenant(key: str, tenant_columns: frozenset[str], relations: frozenset[str] = frozenset()) -> bool:
    """Django lookup `tenant=`, `tenant_id__in=`, `tenant__slug=`: first path component."""
    first = key.split("__", 1)[0].lower()
    rest = key.split("__", 1)[1] if "__" in key else ""
    if rest in ("isnull",):
        return False
    if first in tenant_columns or first in relations:
        return True
    return any(c.endswith("_id") and first == c[:-3] for c in tenant_columns)
