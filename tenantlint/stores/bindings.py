"""Which values a name of a store-using file is bound to, where the walk is.

Module-level and function-local assignments, `with ... as name`, `for` targets and
`self.x = ...` anywhere in a class are bindings. A name rebound inside a conditional
block keeps its earlier values as alternatives (`Binding.others`), since the block may not
run; `value_of` gives what reaches the walk's position: one expression, or `Alternatives`.

A keyword argument passed in a `**name` (`index.query(vector=v, **kwargs)`) is read from
the dict literal or `dict(...)` call `name` is bound to in the same scope, with later
`name["key"] = value` and `name.update(...)` counted; a name used any other way there
(passed to a call, aliased, mutated otherwise) is not read. Plain stdlib `ast` nodes,
nothing beyond their positions: this is cheap."""
from __future__ import annotations

import ast
from collections import deque
from dataclasses import dataclass
from typing import Iterator

from tenantlint.packs import ArgRef
from tenantlint.flow.branches import chain_at
from tenantlint.names import child_statements, dotted
from tenantlint.stores.dicts import dict_entry, escaping_names, literal, literal_items, with_items
from tenantlint.stores.tenancy import Alternatives

_UNKNOWN = object()  # a name bound to something we cannot follow (parameter, tuple target)


@dataclass
class Binding:
    value: object  # an expression, a for-binding, or _UNKNOWN
    handle: object = None  # the Handle it resolves to (tenantlint.stores.handles)
    resolved: bool = False
    chain: tuple = ()  # where the binding was made (tenantlint.flow.branches)
    others: tuple = ()  # values bound on other paths that may reach a use
    annotated: object = None  # `self.cache: Redis = make()`: used when the value says nothing
    unpacked: object = None  # `client, _ = self.get_client()`: the expression it was unpacked from


class Bindings:
    """The scopes of the walk and the values their names hold on the way; fed by the
    visitor hooks of the walker (`walker.py`) and the resolver (`handles.py`)."""

    def __init__(self, active: bool) -> None:
        self.active = active
        self.module_scope: dict[str, Binding] = {}
        self.scopes: list[dict[str, Binding]] = [self.module_scope]
        self.scope_nodes: list[ast.AST | None] = [None]  # the Module, FunctionDef or Lambda of each scope
        self._escapes_memo: dict[int, frozenset[str]] = {}
        self.blocks: list[ast.AST] = []  # the If/loop/Try/Match statements around the walk
        self._here: tuple[int, int] = (0, 0)
        self._memo: tuple | None = None

    # Conditional blocks: a name rebound inside one keeps its earlier value as an
    # alternative, since the block may not run. Where a binding or a use sits among them is
    # the flow engine's chain of the position being visited (`_at`, tenantlint.flow.branches).
    def _push(self, node) -> None:
        self.blocks.append(node)
        self._memo = None

    def _pop(self, original_node) -> None:
        self.blocks.pop()
        self._memo = None

    visit_If = visit_While = visit_Try = visit_TryStar = visit_Match = _push
    leave_If = leave_While = leave_Try = leave_TryStar = leave_Match = leave_For = _pop

    def _at(self, node: ast.AST) -> None:
        """The walk is at `node` (a statement or expression with a position)."""
        here = (node.lineno, node.col_offset)
        if here != self._here:
            self._here = here
            self._memo = None

    def current_chain(self) -> tuple:
        """The chain of the walk's position (see `_at`)."""
        memo = self._memo
        if memo is None:
            memo = self._memo = chain_at(self.blocks, self._here)
        return memo

    # -- dicts passed as `**name` -------------------------------------------------------
    def _store_item(self, target: ast.Subscript, value: ast.expr) -> None:
        """`name["key"] = value` on a name bound to a dict in this scope: a new binding of
        the name, to the dict with that item (on this path: see `_bind`)."""
        key = literal(target.slice)
        if key is not None and isinstance(target.value, ast.Name):
            self._extend_dict(target.value.id, [(key, value)])

    def _update_dict(self, call: ast.Call) -> None:
        """`name.update({"key": value})`, `name.update(key=value)`."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "update" and isinstance(func.value, ast.Name)):
            return
        items: list[tuple[str, ast.expr]] = []
        for arg in call.args:
            entries = literal_items(arg)
            if entries is None:
                return
            items += entries
        for kw in call.keywords:
            if kw.arg is None:
                return
            items.append((kw.arg, kw.value))
        self._extend_dict(func.value.id, items)

    def _extend_dict(self, name: str, items: list[tuple[str, ast.expr]]) -> None:
        if not self.active or not items or name not in self.scopes[-1]:
            return
        merged = with_items(self.value_of(name), items)
        if merged is None:
            return
        self._rebind(name, Binding(merged, resolved=True))

    def splat_value(self, call: ast.Call, keyword: str) -> ast.expr | None:
        """The value of keyword argument `keyword` passed in a `**name` (or `**{...}`)
        of `call`: None when no such dict of this scope has it on every path, or when the
        name is used in ways that could change it unseen."""
        for kw in call.keywords:
            if kw.arg is not None:
                continue
            value = kw.value
            if isinstance(value, ast.Name):
                if value.id not in self.scopes[-1] or value.id in self._escaped():
                    continue
                bound = self.value_of(value.id)
            else:
                bound = value
            found = dict_entry(bound, keyword, 0)
            if found is not None:
                return found
        return None

    def _escaped(self) -> frozenset[str]:
        """Names of the current scope used other than as a dict read, `**name`, or a
        `name["key"] = ...` / `name.update(...)` that the walk follows."""
        node = self.scope_nodes[-1]
        if node is None:
            return frozenset()
        found = self._escapes_memo.get(id(node))
        if found is None:
            found = self._escapes_memo[id(node)] = escaping_names(node)
        return found

    def _rebind(self, name: str, binding: Binding) -> Binding:
        """Bind `name` in the current scope, where the walk is. In a function, values bound
        on other paths (a branch, a loop) that may still reach a use are kept as `others`."""
        scope = self.scopes[-1]
        binding.chain = self.current_chain()
        previous = scope.get(name)
        if previous is not None and len(self.scopes) > 1:
            chain = binding.chain
            if len(chain) == 1 and len(previous.chain) == 1 and _else_of(previous.chain[0], chain[0]):
                # `if c: x = a` / `else: x = b` at the function's top level: once the `if`
                # is done, only the values of its two branches reach.
                binding.others = (previous.value,)
            elif previous.chain != chain:
                binding.others = (*previous.others, previous.value)
            else:  # rebound on the same path: the values of other paths still reach past it
                binding.others = previous.others
        scope[name] = binding
        return binding

    def lookup(self, name: str) -> Binding | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    def value_of(self, name: str):
        """What a name is bound to, for key and filter judgement (None: judge the name)."""
        binding = self.lookup(name)
        if binding is None or binding.value is _UNKNOWN:
            return None
        if binding.others:
            here = self.current_chain()
            chain = binding.chain
            n = len(chain)
            if n and len(here) >= n and here[:n - 1] == chain[:n - 1] and _else_of(chain[-1], here[n - 1]):
                # In the `else` of the `if` whose body made it: the values from before it.
                values = binding.others
            elif here[:n] != chain:
                # Used outside the block that made the last binding: earlier values may reach.
                values = (*binding.others, binding.value)
            else:
                return binding.value
            if any(v is _UNKNOWN for v in values):
                return None
            return values[0] if len(values) == 1 else Alternatives(values)
        return binding.value


def _else_of(body: tuple, other: tuple) -> bool:
    """`other` is the `else` of the `if` whose body is `body` (two links of chains)."""
    return body[0] is other[0] and isinstance(body[0], ast.If) and body[1] == "body" and other[1] == "orelse"


def find_arg(call: ast.Call, ref: ArgRef, value_of=None, splat=None):
    """The expression `ref` designates, following a dict path through literals (and
    local variables bound to them). None when absent; an opaque value stops the path and
    is returned as it is (judged by its name). `splat(call, keyword)` finds a keyword
    passed in a `**dict`."""
    node = None
    if ref.keyword is not None:
        for kw in call.keywords:
            if kw.arg == ref.keyword:
                node = kw.value
                break
    if node is None and ref.position is not None:
        seen = 0
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                break  # after a `*args`, positions are unknown
            if seen == ref.position:
                node = arg
                break
            seen += 1
    if node is None and ref.keyword is not None and splat is not None:
        node = splat(call, ref.keyword)
    if node is None:
        return None
    for step in ref.path:
        container = node
        for _ in range(8):
            if isinstance(container, ast.Name) and value_of is not None:
                bound = value_of(container.id)
                if isinstance(bound, ast.expr):
                    container = bound
                    continue
            break
        if isinstance(container, ast.Dict):
            item = None
            for key, value in zip(container.keys, container.values):
                if key is None:
                    return value  # `{**base}`: opaque
                if literal(key) == step:
                    item = value
            if item is None:
                return None
            node = item
        elif isinstance(container, ast.Call) and dotted(container.func) == "dict":
            item = next((kw.value for kw in container.keywords if kw.arg == step), None)
            if item is None:
                starred = any(kw.arg is None for kw in container.keywords) or any(
                    isinstance(a, ast.Starred) for a in container.args)
                return container if starred else None
            node = item
        else:
            return node
    return node


def _assignments(stmts, deep: bool) -> Iterator[tuple[str, ast.expr]]:
    """Name = value at this level (and inside if/try/with blocks when deep)."""
    for stmt in stmts:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield target.id, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None and isinstance(stmt.target, ast.Name):
                yield stmt.target.id, stmt.value
        elif deep and isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith)):
            yield from _assignments(child_statements(stmt), deep)


def _self_assignments(func: ast.FunctionDef) -> Iterator[tuple[str, object, ast.expr | None]]:
    """`self.x = value` / `self.x: T = value` / `self.x: T` anywhere among a method's
    statements: (attribute, value or _UNKNOWN, annotation or None)."""
    queue = deque(func.body)
    while queue:
        stmt = queue.popleft()
        if isinstance(stmt, ast.Assign):
            targets, annotation = stmt.targets, None
        elif isinstance(stmt, ast.AnnAssign):
            targets, annotation = [stmt.target], stmt.annotation
        else:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                queue.extend(child_statements(stmt))
            continue
        value = stmt.value if stmt.value is not None else _UNKNOWN
        for expr in targets:
            if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
                yield expr.attr, value, annotation
