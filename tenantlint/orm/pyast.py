"""Small stdlib-`ast` helpers shared by the ORM discoverers."""
from __future__ import annotations

import ast


def dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class ImportAliases:
    """Local name -> dotted path, from the file's imports (any depth)."""

    def __init__(self, tree: ast.Module, module: str) -> None:
        self.aliases: dict[str, str] = {}
        package = module.rsplit(".", 1)[0] if "." in module else ""
        for node in _statements(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".")[0]
                        self.aliases.setdefault(top, top)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".") if package else []
                    up = up[: len(up) - (node.level - 1)] if node.level > 1 else up
                    base = ".".join(p for p in (*up, base) if p)
                for alias in node.names:
                    local = alias.asname or alias.name
                    self.aliases[local] = f"{base}.{alias.name}" if base else alias.name

    def qualify(self, node: ast.AST) -> str:
        name = dotted(node) or ""
        head, _, rest = name.partition(".")
        full = self.aliases.get(head, head)
        return f"{full}.{rest}" if rest else full

    def uses(self, *packages: str) -> bool:
        return any(v.split(".")[0] in packages for v in self.aliases.values())


def _statements(tree: ast.Module):
    """Every statement at any depth of statement bodies (imports live there), not expressions."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        for attr in ("body", "orelse", "finalbody", "handlers", "cases"):
            value = getattr(node, attr, None)
            if isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, (ast.stmt, ast.excepthandler, ast.match_case)))


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
