"""The field names a write sets, as far as the code shows them: keywords, keys of literal
dicts (also through a local name bound once and not filled in later), `defaults=`, rows
of `insert_many([...])`, the parameters a statement is executed with. `None` means the
keys cannot be read (`**validated_data`): the write is then left alone."""
from __future__ import annotations

import ast

from tenantlint.names import dotted
from tenantlint.writes.body import Body

DEFAULTS = ("defaults", "create_defaults")
_UNKNOWN = None  # keys that cannot be read


def call_keys(call: ast.Call, body: Body):
    """Field names a call sets: keywords, keys of literal `**{...}`, of `defaults={...}`
    (get_or_create lookups with `__` set nothing); None when some cannot be read."""
    keys: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg is None:
            found = dict_keys(keyword.value, body)
            if found is None:
                return _UNKNOWN
            keys |= found
        elif keyword.arg in DEFAULTS:
            found = dict_keys(keyword.value, body)
            if found is None:
                return _UNKNOWN
            keys |= found
        elif "__" not in keyword.arg:
            keys.add(keyword.arg)
    return keys


def dict_keys(node: ast.AST, body: Body, depth: int = 0) -> set[str] | None:
    """Keys of a literal dict or `dict(...)`, also through a local name; None if unknown."""
    if isinstance(node, ast.Name) and depth < 3:
        values = body.values_of(node.id)
        if len(values) != 1 or _grown(node.id, body):
            return None
        return dict_keys(values[0], body, depth + 1)
    if isinstance(node, ast.Dict):
        keys: set[str] = set()
        for key, value in zip(node.keys, node.values):
            if key is None:
                inner = dict_keys(value, body, depth + 1)
                if inner is None:
                    return None
                keys |= inner
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys.add(key.value)
            else:
                return None
        return keys
    if isinstance(node, ast.Call) and dotted(node.func) == "dict" and not node.args:
        if any(k.arg is None for k in node.keywords):
            return None
        return {k.arg for k in node.keywords}
    return None


def _grown(name: str, body: Body) -> bool:
    """`data["store_id"] = ...` / `data.update(...)`: the dict gets keys later."""
    for stmt in body.assigns:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if any(isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id == name
               for t in targets):
            return True
    return any(isinstance(c.func, ast.Attribute) and c.func.attr in ("update", "setdefault") and
               isinstance(c.func.value, ast.Name) and c.func.value.id == name for c in body.calls)


def rows_keys(node: ast.AST, body: Body):
    """Keys common to a literal list of row dicts (`insert_many([{...}, ...])`), or of one dict."""
    if isinstance(node, ast.Name):
        values = body.values_of(node.id)
        if len(values) == 1:
            node = values[0]
    if isinstance(node, (ast.List, ast.Tuple)):
        rows = [dict_keys(e, body) for e in node.elts]
        if not rows or any(r is None for r in rows):
            return _UNKNOWN
        return set.intersection(*rows)
    if isinstance(node, ast.ListComp):
        return dict_keys(node.elt, body)
    return dict_keys(node, body)


def values_keys(call: ast.Call, body: Body):
    keys = call_keys(call, body)
    if keys is _UNKNOWN:
        return _UNKNOWN
    for arg in call.args:
        found = rows_keys(arg, body)
        if found is _UNKNOWN:
            return _UNKNOWN
        keys |= found
    return keys


def executed_keys(call: ast.Call, body: Body):
    """Parameters of `session.execute(stmt, {...} | [{...}])`; empty when none are given."""
    params = [*call.args[1:], *(k.value for k in call.keywords if k.arg in ("params", "parameters"))]
    keys: set[str] = set()
    for param in params:
        found = rows_keys(param, body)
        if found is _UNKNOWN:
            return _UNKNOWN
        keys |= found
    return keys
