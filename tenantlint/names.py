"""Qualified names without libcst's QualifiedNameProvider (which costs ~50x a parse):
a cheap pass over import statements and module-level definitions is enough to tell
`psycopg2.connect` from an unrelated `connect`."""
from __future__ import annotations

import libcst as cst


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def _module_dotted(node) -> str:
    if node is None:
        return ""
    return dotted(node) or ""


class ImportMap:
    """Local name -> the dotted path it stands for, from every import in the file
    (function-level imports included: shadowing is rare enough to ignore)."""

    def __init__(self, module: cst.Module, module_name: str = "") -> None:
        self.module_name = module_name
        self.aliases: dict[str, str] = {}
        self.local_defs: set[str] = set()
        self._collect(module)

    def _collect(self, module: cst.Module) -> None:
        package = self.module_name.rsplit(".", 1)[0] if "." in self.module_name else ""
        for stmt in module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                self.local_defs.add(stmt.name.value)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for target in small.targets:
                            if isinstance(target.target, cst.Name):
                                self.local_defs.add(target.target.value)
                    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        self.local_defs.add(small.target.value)
        for node in _imports(module):
            if isinstance(node, cst.Import):
                for alias in node.names:
                    full = _module_dotted(alias.name)
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        self.aliases[alias.asname.name.value] = full
                    else:
                        top = full.split(".")[0]
                        self.aliases.setdefault(top, top)
            elif isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
                base = _module_dotted(node.module)
                if node.relative:
                    up = package.split(".") if package else []
                    levels = len(node.relative) - 1
                    up = up[: len(up) - levels] if levels else up
                    base = ".".join(p for p in (*up, base) if p)
                for alias in node.names:
                    name = _module_dotted(alias.name)
                    local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
                    self.aliases[local] = f"{base}.{name}" if base else name

    def qualify(self, node: cst.BaseExpression) -> str | None:
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


def _imports(module: cst.Module):
    """Every Import/ImportFrom, at any depth of statements (not inside expressions)."""
    stack = list(module.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    yield small
        elif isinstance(stmt, cst.BaseCompoundStatement):
            stack.extend(_child_statements(stmt))


def _child_statements(stmt: cst.BaseCompoundStatement):
    bodies = [stmt.body] if hasattr(stmt, "body") else []  # `match` has only cases
    for attr in ("orelse", "finalbody"):
        extra = getattr(stmt, attr, None)
        if extra is not None:
            bodies.append(extra.body if hasattr(extra, "body") else extra)
    for handler in getattr(stmt, "handlers", ()) or ():
        bodies.append(handler.body)
    for case in getattr(stmt, "cases", ()) or ():
        bodies.append(case.body)
    out = []
    for body in bodies:
        if isinstance(body, cst.BaseSuite):
            body = body.body
        if isinstance(body, cst.BaseCompoundStatement):  # elif chains: orelse is an If
            out.append(body)
        elif isinstance(body, (list, tuple)):
            out.extend(s for s in body if isinstance(s, cst.BaseStatement))
    return out


def matches_name(qualified: str | None, wanted: str) -> bool:
    """`pkg.db.tenant_scoped` matches config `db.tenant_scoped` or the full path; a
    project laid out under `src/` gives qualified names with an extra leading part."""
    if not qualified:
        return False
    return qualified == wanted or qualified.endswith("." + wanted) or wanted.endswith("." + qualified) and "." in qualified
