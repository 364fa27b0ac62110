"""One traversal of a stdlib `ast` tree by every checker of a file (batched visitors).

A checker defines `visit_<NodeType>(node)` and/or `leave_<NodeType>(node)`; the walk
calls every checker's hooks for a node in registry order, visits the children in
source order, then the leave hooks. `async def`, `async for` and `async with` reach
the hooks of their plain counterparts (`visit_FunctionDef`...): the analyses treat
them alike and a checker cannot forget the async spelling.

Children are read from the node type's fields, minus the ones that never hold
anything worth visiting (expression contexts and operators). Decorators come before
the function or class they decorate, as in the source.
"""
from __future__ import annotations

import ast
from typing import Callable, Iterable

ALIASES = {"AsyncFunctionDef": "FunctionDef", "AsyncFor": "For", "AsyncWith": "With"}
_SKIP = frozenset({"ctx", "op", "ops", "type_comment", "kind"})
# Field order where ast's differs from reading order.
_ORDER = {
    "FunctionDef": ("decorator_list", "args", "returns", "body"),
    "AsyncFunctionDef": ("decorator_list", "args", "returns", "body"),
    "ClassDef": ("decorator_list", "bases", "keywords", "body"),
    "IfExp": ("body", "test", "orelse"),
}
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    fields = _FIELDS.get(kind)
    if fields is None:
        order = _ORDER.get(kind.__name__)
        names = [f for f in kind._fields if f not in _SKIP]
        if order:
            names = [f for f in order if f in names] + [f for f in names if f not in order]
        fields = _FIELDS[kind] = tuple(names)
    return fields


def hook_name(kind: type) -> str:
    name = kind.__name__
    return ALIASES.get(name, name)


def hooks(visitors: Iterable[object]) -> tuple[dict[str, list[Callable]], dict[str, list[Callable]]]:
    """(`visit` hooks, `leave` hooks) by node type name, from each visitor's
    `get_visitors()` (a dict of hook name -> callable) in order."""
    visit: dict[str, list[Callable]] = {}
    leave: dict[str, list[Callable]] = {}
    for visitor in visitors:
        for name, func in visitor.get_visitors().items():
            kind, _, node_type = name.partition("_")
            if kind == "visit":
                visit.setdefault(node_type, []).append(func)
            elif kind == "leave":
                leave.setdefault(node_type, []).append(func)
    return visit, leave


def walk_batched(tree: ast.AST, visitors: Iterable[object]) -> None:
    """Visit `tree` once for all `visitors`. Recursive: the caller runs it with a deep
    stack (see engine._run_deep); a RecursionError means the code is too deep."""
    visit, leave = hooks(visitors)
    if not visit and not leave:
        return
    fields_of = child_fields
    names: dict[type, str] = {}
    AST = ast.AST

    def walk(node: ast.AST) -> None:
        kind = type(node)
        name = names.get(kind)
        if name is None:
            name = names[kind] = hook_name(kind)
        for func in visit.get(name, ()):
            func(node)
        for field in fields_of(kind):
            value = getattr(node, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        walk(item)
            elif isinstance(value, AST):
                walk(value)
        for func in leave.get(name, ()):
            func(node)

    walk(tree)


def iter_children(node: ast.AST):
    """Child nodes in reading order (the walk's order)."""
    for field in child_fields(type(node)):
        value = getattr(node, field, None)
        if type(value) is list:
            for item in value:
                if isinstance(item, ast.AST):
                    yield item
        elif isinstance(value, ast.AST):
            yield value
