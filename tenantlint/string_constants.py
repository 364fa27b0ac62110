"""The string constants of a module's top level, and references to them: what a model's
table name (`__tablename__ = TABLE`, Django `db_table = TABLE`) or a SQL string shared
across modules resolves through. Pure functions of a syntax tree; the cross-module step
(an imported constant) is discover/table_names.py's."""
from __future__ import annotations

import ast

_BINDERS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def literal(node: ast.AST | None) -> str | None:
    """A literal string, or an implicit / `+` concatenation of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = literal(node.left), literal(node.right)
        if left is not None and right is not None:
            return left + right
    return None


def module_strings(tree: ast.Module, module: str = "") -> tuple[dict[str, str], dict[str, str]]:
    """(name -> text of the module-level names bound once, unconditionally, to a literal
    string; name -> qualified name of names bound once by a top-level `from ... import`)."""
    strings: dict[str, str] = {}
    imported: dict[str, str] = {}
    counts: dict[str, int] = {}
    package = module.rsplit(".", 1)[0] if "." in module else ""

    def bind(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            text = literal(stmt.value)
            if len(targets) == 1 and isinstance(targets[0], ast.Name) and text is not None:
                strings.setdefault(targets[0].id, text)
        elif isinstance(stmt, ast.ImportFrom) and (stmt.module or stmt.level):
            base = stmt.module or ""
            if stmt.level:
                up = package.split(".") if package else []
                up = up[: len(up) - (stmt.level - 1)] if stmt.level > 1 else up
                base = ".".join(p for p in (*up, base) if p)
            for alias in stmt.names:
                if alias.name != "*" and base:
                    imported.setdefault(alias.asname or alias.name, f"{base}.{alias.name}")
    # Every binding of a module-level name, at any depth outside functions and classes
    # (and `global` inside them): a name bound twice has no single value.
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, _BINDERS):
            bind(node.name)
            for sub in ast.walk(node):
                if isinstance(sub, ast.Global):
                    for name in sub.names:
                        counts[name] = 2  # rebound by a function: no single value
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bind(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name)
        elif isinstance(node, (ast.Lambda, ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            continue  # their own scope
        stack.extend(ast.iter_child_nodes(node))
    once = {name for name, n in counts.items() if n == 1}
    return ({k: v for k, v in strings.items() if k in once},
            {k: v for k, v in imported.items() if k in once and k not in strings})


def table_ref(node: ast.AST | None, imports, names: tuple[dict[str, str], dict[str, str]]
              ) -> tuple[str | None, str | None]:
    """(table, qualified name to resolve later) of a non-literal table name: a constant
    of this module (`names`: its `module_strings`) is resolved now; an imported one
    (`NAME`, `module.NAME`) is left to `resolve_table_refs`; anything else is (None, None)."""
    strings, imported = names
    if isinstance(node, ast.Name):
        if node.id in strings:
            return strings[node.id], None
        qualified = imported.get(node.id)
        return (None, qualified) if qualified and "." in qualified else (None, None)
    if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
        qualified = imports.qualify(node)
        head = qualified.split(".")[0]
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id in imports.aliases and head:
            return None, qualified
    return None, None
