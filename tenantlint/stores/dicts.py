"""Dicts passed as `**name`: which keyword arguments a call receives from a dict literal or
`dict(...)` call bound in the same scope (`kwargs = {"namespace": org_id}; index.query(**kwargs)`).

The walker (`walker.py`) follows the dict through its bindings: `name["key"] = value` and
`name.update(...)` with literal items make a new binding of the name, path by path, as any
rebinding does. A name used in any other way in its scope (passed to a call, aliased,
changed through another method, mentioned in a nested function) is not read at all
(`escaping_names`): the call is then judged as before, by its explicit arguments."""
from __future__ import annotations

import ast

from tenantlint.names import dotted
from tenantlint.stores.tenancy import Alternatives

_MAX_DEPTH = 16
# dict methods that only read it
_DICT_READS = {"get", "keys", "values", "items", "copy", "__contains__", "__getitem__"}


def literal(node) -> str | None:
    """A string literal's value (implicit concatenation included); None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


_OPAQUE = object()  # a `**other` or positional argument of `dict(...)`: any key may come from it


def dict_items(node) -> list[tuple[object, ast.expr]] | None:
    """(key or _OPAQUE, value) of a dict display or a `dict(...)` call, in order; None for
    anything else."""
    if isinstance(node, ast.Dict):
        return [(_OPAQUE if key is None else (literal(key) or _OPAQUE), value)
                for key, value in zip(node.keys, node.values)]
    if isinstance(node, ast.Call) and dotted(node.func) == "dict":
        # A keyword overrides a positional mapping; a `**x` cannot repeat one (TypeError).
        items: list[tuple[object, ast.expr]] = [(_OPAQUE, a) for a in node.args]
        items += [(_OPAQUE, kw.value) for kw in node.keywords if kw.arg is None]
        items += [(kw.arg, kw.value) for kw in node.keywords if kw.arg is not None]
        return items
    return None


def literal_items(node) -> list[tuple[str, ast.expr]] | None:
    """The items of a dict display with string keys only (None otherwise)."""
    items = dict_items(node) if isinstance(node, ast.Dict) else None
    if items is None or any(key is _OPAQUE for key, _v in items):
        return None
    return items  # type: ignore[return-value]


def with_items(bound, items: list[tuple[str, ast.expr]]):
    """`bound` (a dict, or Alternatives of dicts) with `items` set; None when it is not one."""
    if isinstance(bound, Alternatives):
        values = tuple(with_items(v, items) for v in bound.values)
        return None if any(v is None for v in values) else Alternatives(values)
    existing = dict_items(bound)
    if existing is None:
        return None
    merged = ast.Dict(keys=[], values=[])
    for key, value in existing:
        merged.keys.append(None if key is _OPAQUE else ast.Constant(key))
        merged.values.append(value)
    for key, value in items:
        merged.keys.append(ast.Constant(key))
        merged.values.append(value)
    return ast.copy_location(merged, bound)


def dict_entry(bound, key: str, depth: int) -> ast.expr | None:
    """The value `key` has in `bound` (a dict, or Alternatives of dicts: then on every path,
    as one expression that is scoped only if all are); None when absent or unknown."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(bound, Alternatives):
        found = [dict_entry(v, key, depth + 1) for v in bound.values]
        if not found or any(f is None for f in found):
            return None
        out = found[-1]
        for value in reversed(found[:-1]):
            out = ast.copy_location(ast.IfExp(test=ast.Constant(True), body=value, orelse=out), value)
        return out
    items = dict_items(bound)
    if items is None:
        return None
    value = None
    for item_key, item_value in items:
        if item_key is _OPAQUE:
            value = None  # may override the key
        elif item_key == key:
            value = item_value
    return value


def escaping_names(scope: ast.AST) -> frozenset[str]:
    """The names a function (or module, or lambda) uses in ways that may change a dict
    bound to them unseen: anything but a read (`d["k"]`, `d.get(...)`, `"k" in d`), a
    `**d`, a `d["k"] = ...` or a `d.update(...)` with literal items, at its own level.
    Any mention in a nested function or class counts."""
    body = scope.body if isinstance(scope.body, list) else [scope.body]
    parents: dict[int, ast.AST] = {}
    escaped: set[str] = set()
    stack: list[tuple[ast.AST, bool]] = [(stmt, False) for stmt in body]
    while stack:
        node, nested = stack.pop()
        if isinstance(node, ast.Name):
            if nested or not isinstance(node.ctx, ast.Load) and not _rebinds(parents.get(id(node)), node):
                escaped.add(node.id)
            elif isinstance(node.ctx, ast.Load) and not _dict_use(node, parents):
                escaped.add(node.id)
            continue
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            escaped.update(node.names)
        inner = nested or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
            stack.append((child, inner))
    return frozenset(escaped)


def _rebinds(parent, name: ast.Name) -> bool:
    """A store of the name that the walk follows as a new binding (not `+=`, `:=`, `del`)."""
    return isinstance(name.ctx, ast.Store) and not isinstance(parent, (ast.AugAssign, ast.NamedExpr))


def _dict_use(name: ast.Name, parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(name))
    if isinstance(parent, ast.keyword):
        return parent.arg is None
    if isinstance(parent, ast.Subscript):
        if parent.value is not name or literal(parent.slice) is None:
            return False
        above = parents.get(id(parent))
        if isinstance(parent.ctx, ast.Store):
            return isinstance(above, ast.Assign)  # `d["k"] = v` (followed by the walk)
        # a read, not itself changed in place (`d["k"]["j"] = v`, `d["k"].update()`)
        return isinstance(parent.ctx, ast.Load) and not isinstance(above, (ast.Attribute, ast.Subscript))
    if isinstance(parent, ast.Attribute):
        call = parents.get(id(parent))
        if not isinstance(call, ast.Call) or call.func is not parent:
            return False
        if parent.attr in _DICT_READS:
            return True
        return parent.attr == "update" and isinstance(parents.get(id(call)), ast.Expr) and all(
            literal_items(a) is not None for a in call.args) and all(kw.arg is not None for kw in call.keywords)
    if isinstance(parent, ast.Compare):
        return any(isinstance(op, (ast.In, ast.NotIn)) for op in parent.ops) and parent.left is not name
    return False
