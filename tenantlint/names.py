"""Qualified names from a cheap pass over import statements and module-level
definitions: enough to tell `psycopg2.connect` from an unrelated `connect`."""
from __future__ import annotations

import ast

_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While,
             ast.With, ast.AsyncWith, ast.Try, ast.Match) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


_NAME, _ATTRIBUTE = ast.Name, ast.Attribute


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None. (Asked about most nodes of every
    file by several checkers: exact node types, a bare name without building a list.)"""
    kind = type(node)
    if kind is _NAME:
        return node.id
    if kind is not _ATTRIBUTE:
        return None
    parts = []
    while kind is _ATTRIBUTE:
        parts.append(node.attr)
        node = node.value
        kind = type(node)
    if kind is _NAME:
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class ImportMap:
    """Local name -> the dotted path it stands for, from every import in the file
    (function-level imports included: shadowing is rare enough to ignore)."""

    def __init__(self, module: ast.Module, module_name: str = "") -> None:
        self.module_name = module_name
        self.aliases: dict[str, str] = {}
        self.local_defs: set[str] = set()
        self._collect(module)

    def _collect(self, module: ast.Module) -> None:
        package = self.module_name.rsplit(".", 1)[0] if "." in self.module_name else ""
        for stmt in module.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.local_defs.add(stmt.name)
            elif isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.local_defs.add(target.id)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                self.local_defs.add(stmt.target.id)
        for node in _imports(module):
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
                    levels = node.level - 1
                    up = up[: len(up) - levels] if levels else up
                    base = ".".join(p for p in (*up, base) if p)
                for alias in node.names:
                    if alias.name == "*":
                        continue
                    self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name

    def qualify(self, node: ast.AST) -> str | None:
        """The dotted path an expression names: imports resolved, module-level
        definitions prefixed with this module's name; None for anything else."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.aliases:
            full = self.aliases[head]
        elif head in self.local_defs and self.module_name:
            full = f"{self.module_name}.{head}"
        else:
            full = head
        return f"{full}.{rest}" if rest else full


_LAST_MAP: list = [None, None, None]  # [tree, module name, ImportMap]: the last file's


def import_map(tree: ast.Module, module_name: str = "") -> ImportMap:
    """The ImportMap of a tree, built once for the several discoverers that read one file
    in a row (the map is read-only once built)."""
    if _LAST_MAP[0] is tree and _LAST_MAP[1] == module_name:
        return _LAST_MAP[2]
    found = ImportMap(tree, module_name)
    _LAST_MAP[:] = [tree, module_name, found]
    return found


def _imports(module: ast.Module):
    """Every Import/ImportFrom, at any depth of statements (not inside expressions)."""
    stack = list(module.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            yield stmt
        elif isinstance(stmt, _COMPOUND):
            stack.extend(child_statements(stmt))


def child_statements(stmt: ast.AST) -> list[ast.stmt]:
    """The statements directly nested in a compound statement, in reading order
    (an `elif` is the If in its parent's `orelse`); [] for a simple statement."""
    if not isinstance(stmt, _COMPOUND):
        return []
    out: list[ast.stmt] = list(getattr(stmt, "body", ()))
    for handler in getattr(stmt, "handlers", ()) or ():
        out.extend(handler.body)
    for case in getattr(stmt, "cases", ()) or ():
        out.extend(case.body)
    out.extend(getattr(stmt, "orelse", ()) or ())
    out.extend(getattr(stmt, "finalbody", ()) or ())
    return out


def statements(body):
    """Every statement of a body, nested blocks included, not nested definitions."""
    stack = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stack.extend(reversed(child_statements(stmt)))


def annotation_class(node: ast.expr | None, qualify) -> str | None:
    """The qualified class an annotation names: `SyncServer`, `"SyncServer"`,
    `Optional[X]`, `X | None`, `Annotated[X, Depends(...)]`; None for anything else (a
    builtin or a name defined nowhere qualifies to no dotted path)."""
    for _ in range(4):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value.strip(), mode="eval").body
            except (SyntaxError, ValueError):
                return None
        elif isinstance(node, ast.Subscript) and (dotted(node.value) or "").rsplit(".", 1)[-1] in ("Optional", "Annotated"):
            node = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            sides = [n for n in (node.left, node.right) if not (isinstance(n, ast.Constant) and n.value is None)]
            if len(sides) != 1:
                return None
            node = sides[0]
        else:
            break
    if not isinstance(node, (ast.Name, ast.Attribute)):
        return None
    name = qualify(node)
    return name if name and "." in name else None


def matches_name(qualified: str | None, wanted: str) -> bool:
    """`pkg.db.tenant_scoped` matches config `db.tenant_scoped` or the full path; a
    project laid out under `src/` gives qualified names with an extra leading part."""
    if not qualified:
        return False
    return qualified == wanted or qualified.endswith("." + wanted) or wanted.endswith("." + qualified) and "." in qualified
