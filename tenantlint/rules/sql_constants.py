"""Class and dict constants that SQL text interpolates: `f"SELECT * FROM {self.TABLE}"`
with `TABLE = "events"` in the class body, `TABLES["events"]` with a module-level
dict literal. They are text known statically, not an interpolated identifier
(TL106): the SQL is judged with their value (and so is its tenant scope).

Only unambiguous constants count: a class attribute assigned one string literal in the
class body and never assigned through an instance (`self.TABLE = ...`) in this file,
nor given another value by another class of the file (a subclass override); a dict
literal with string keys and values, bound once at module (or class) level and never
stored into. Anything else stays a hole, judged as before."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field


@dataclass
class Constants:
    classes: dict[str, dict[str, object]] = field(default_factory=dict)  # class -> attr -> str | dict
    module: dict[str, dict[str, str]] = field(default_factory=dict)  # module-level dict constants

    def resolve(self, node: ast.expr, current_class: str | None) -> str | None:
        if type(node) is ast.Subscript:
            key = node.slice
            if not (type(key) is ast.Constant and type(key.value) is str):
                return None
            table = self._value(node.value, current_class)
            return table.get(key.value) if isinstance(table, dict) else None
        value = self._value(node, current_class)
        return value if isinstance(value, str) else None

    def _value(self, node: ast.expr, current_class: str | None):
        if type(node) is ast.Name:
            return self.module.get(node.id)
        if type(node) is not ast.Attribute or type(node.value) is not ast.Name:
            return None
        owner = node.value.id
        if owner in ("self", "cls"):
            owner = current_class or ""
        return self.classes.get(owner, {}).get(node.attr)


def collect(module: ast.Module, source: str) -> Constants:
    """Module and class bodies only (classes at module level or nested in classes): no
    walk of function bodies. Whether a name is ever stored into is a text search."""
    found = Constants()
    bound: dict[str, int] = {}
    for stmt in module.body:
        for name, value in _bindings(stmt):
            bound[name] = bound.get(name, 0) + 1
            if isinstance(value, dict):
                found.module[name] = value
    found.module = {n: v for n, v in found.module.items() if bound[n] == 1 and not _stored_into(n, source)}
    values: dict[str, set] = {}  # attribute -> the values classes of this file give it
    stack = [s for s in module.body if type(s) is ast.ClassDef]
    while stack:
        cls = stack.pop()
        attrs: dict[str, object] = {}
        for stmt in cls.body:
            if type(stmt) is ast.ClassDef:
                stack.append(stmt)
            for name, value in _bindings(stmt):
                attrs[name] = value if name not in attrs else None
                values.setdefault(name, set()).add(repr(value))
        found.classes[cls.name] = {k: v for k, v in attrs.items() if v is not None}
    for attrs in found.classes.values():
        for name in list(attrs):
            if len(values.get(name, ())) > 1 or _assigned_on_instance(name, source):
                del attrs[name]
    return found


def _bindings(stmt: ast.stmt):
    """(name, str | dict[str, str] | None) for a simple binding of a constant."""
    if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
        yield stmt.targets[0].id, _literal(stmt.value)
    elif type(stmt) is ast.AnnAssign and type(stmt.target) is ast.Name and stmt.value is not None:
        yield stmt.target.id, _literal(stmt.value)


def _literal(node: ast.expr):
    if type(node) is ast.Constant and type(node.value) is str:
        return node.value
    if type(node) is ast.Dict and node.keys and all(
            type(k) is ast.Constant and type(k.value) is str for k in node.keys) and all(
            type(v) is ast.Constant and type(v.value) is str for v in node.values):
        return {k.value: v.value for k, v in zip(node.keys, node.values)}
    return None


def _assigned_on_instance(attr: str, source: str) -> bool:
    """`self.TABLE = ...`, `obj.TABLE += ...` anywhere in the file."""
    return re.search(rf"\.{re.escape(attr)}\s*(?:[-+*/|&]?=)(?!=)", source) is not None


def _stored_into(name: str, source: str) -> bool:
    """`TABLES[k] = v`, `TABLES.update(...)`: the dict is not a constant."""
    return re.search(rf"\b{re.escape(name)}\s*(?:\[[^\]\n]*\]\s*=(?!=)|\.(?:update|setdefault|pop|popitem|clear)\()",
                     source) is not None
