"""Table names held in constants: `__tablename__ = MODEL_VERSION_TABLENAME` (SQLAlchemy,
SQLModel) or `db_table = USERS_TABLE` (Django Meta).

A constant of the model's own module is resolved when the model is discovered. One
imported from another module of the project is recorded on the ModelFact
(`extra["table_ref"]`, its qualified name) and resolved once every file is known
(`resolve_table_refs`, part of the catalog pass): only the modules so named are read.
A name counts only when the module binds it once, at the top level, to a literal string
(or re-exports it by `from ... import`); anything else leaves the model without a table
name rather than inventing one."""
from __future__ import annotations

import ast
import sys
from dataclasses import replace
from pathlib import Path

from tenantlint.cache import stamp_before_read
from tenantlint.grammar import parse as parse_module
from tenantlint.source import decode, read_bytes

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


def resolve_table_refs(paths: list[Path], rels: list[str], facts: list, memo=None) -> list:
    """`facts` with each ModelFact whose table name is an imported constant given that
    name, when the constant is found (following re-exports); the others unchanged."""
    from tenantlint.catalog import ModelFact

    wanted = [i for i, f in enumerate(facts) if isinstance(f, ModelFact) and f.table is None
              and isinstance(f.extra, dict) and f.extra.get("table_ref")]
    if not wanted:
        return facts
    from tenantlint.files import module_name

    modules: dict[str, list[tuple[Path, str]]] = {}
    for path, rel in zip(paths, rels):
        if path.suffix in (".py", ".pyi"):
            modules.setdefault(module_name(rel), []).append((path, rel))
    read: dict[str, tuple[dict, dict] | None] = {}

    def names_of(module: str) -> tuple[dict, dict] | None:
        if module not in read:
            found = modules.get(module)
            if found is None:  # an import written from another root: a unique dotted suffix
                matches = [m for m in modules if m.endswith("." + module)]
                found = modules[matches[0]] if len(matches) == 1 else None
            read[module] = _strings_of(*found[0], memo) if found and len(found) == 1 else None
        return read[module]

    def resolve(qualified: str, depth: int = 0) -> str | None:
        module, _, name = qualified.rpartition(".")
        found = names_of(module) if module and depth < 5 else None
        if found is None:
            return None
        strings, imported = found
        if name in strings:
            return strings[name]
        return resolve(imported[name], depth + 1) if name in imported else None

    out = list(facts)
    for i in wanted:
        table = resolve(facts[i].extra["table_ref"])
        if table:
            out[i] = replace(facts[i], table=table)
    return out


def _strings_of(path: Path, rel: str, memo) -> tuple[dict, dict] | None:
    from tenantlint.files import module_name

    key = f"{rel}\x00strings"
    cached = memo.lookup(path, key) if memo is not None else None
    if cached:
        return cached[0]
    before = stamp_before_read(path)
    raw = read_bytes(path, sys.maxsize)  # only files already found to define models come here
    try:
        if raw.data is None:
            raise OSError(raw.error)
        text = decode(raw.data).text
        if text is None:
            raise ValueError(path)
        tree = parse_module(text)
        found = module_strings(tree, module_name(rel))
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        found = None
    if memo is not None:
        memo.record(path, key, [found], before)
    return found
