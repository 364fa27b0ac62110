"""The shared half of the catalog-driven checkers: which names are bound to what, which
handle (a redis client, a Pinecone index, an S3 client...) an expression evaluates to, and
which catalog entries a call matches.

Receivers are resolved from imports (`ImportMap`), module-level and function-local
assignments, `with ... as name`, `self.x = ...` anywhere in the class, and attribute and
method chains through the catalog's kinds (`wv.collections.get("Docs").query`). A name
imported from another module of the project (`from app.clients import kb_index`, or
`clients.kb_index`) is the handle that module binds it to, as the discovery pass recorded
it (`module_handles`, `TenantCatalog.modules`). When a
receiver is unknown, only methods a pack declares `distinctive` match, and only in a file
that imports that pack's library; or a receiver whose name carries a kind's hint
(`engine.connect()`).

A call of a function or method of the file whose return annotation is a catalog class (or a
team's configured wrapper class) is that handle (`async def get_client() -> Redis`, then
`c = await get_client()` or `await self.get_client()`), and so is a property annotated so.
Such a function is recorded for other modules too: its name is bound to the kind
`returns:<kind>` (a callable that returns that handle), which a call unwraps.

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

from tenantlint.packs import ArgRef, CallSpec, ApiCatalog, Production, api_catalog_for
from tenantlint.names import child_statements, dotted
from tenantlint.rulebase import Checker
from tenantlint.stores.annotations import RETURNS, annotation_kind, definitions, function_kind, is_none
from tenantlint.stores.dicts import dict_entry, escaping_names, literal, literal_items, with_items
from tenantlint.stores.tenancy import Alternatives, FROM_STORE, Tenancy, for_binding
from tenantlint.stores.wrappers import (WRAPPER, find_wrapper, forwarded_param, key_argument, mentions_wrapper,
                                       resolve_instance)

_MAX_DEPTH = 16
# functions that call their first argument with the rest (a call of a store method made elsewhere)
_RUNS_CALLABLE = {"asyncio.to_thread", "anyio.to_thread.run_sync", "starlette.concurrency.run_in_threadpool",
                  "fastapi.concurrency.run_in_threadpool"}
_UNKNOWN = object()  # a name bound to something we cannot follow (parameter, tuple target)


@dataclass(frozen=True)
class Handle:
    kind: str
    scoped: bool = False  # a tenant handle: `with_tenant(tid)`, a store built with a tenant namespace


@dataclass
class Binding:
    value: object  # an expression, a for-binding, or _UNKNOWN
    handle: Handle | None = None
    resolved: bool = False
    blocks: tuple[int, ...] = ()  # the conditional blocks the binding was made in
    others: tuple = ()  # values bound on other paths that may reach a use
    annotated: Handle | None = None  # `self.cache: Redis = make()`: used when the value says nothing


class ApiChecker(Checker):
    """Base: tracks bindings during the one batched traversal and hands each call that
    matches the catalog to `check(call, spec, handle, method)`."""

    roles: tuple[str, ...] = ()

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.api: ApiCatalog = api_catalog_for(ctx.settings)
        self.packs = self.api.imported_packs(ctx.source)
        self.active = ctx.imports is not None and (
            self.api.worth_visiting(ctx.source, self.packs, self.roles) or _names_handle(ctx.catalog, ctx.source))
        self.module_scope: dict[str, Binding] = {}
        self.scopes: list[dict[str, Binding]] = [self.module_scope]
        self.scope_nodes: list[ast.AST | None] = [None]  # the Module, FunctionDef or Lambda of each scope
        self.classes: list[dict[str, Binding]] = []
        self.methods: list[dict[str, ast.FunctionDef]] = []  # each class's methods, by name
        self.functions: dict[str, ast.FunctionDef] = {}  # the module's functions, by name
        self._returns_memo: dict[int, Handle | None] = {}
        self._escapes_memo: dict[int, frozenset[str]] = {}
        self.tenancy = Tenancy(ctx.settings.tenant_columns, ctx.settings.global_key_prefixes,
                               self.value_of, ctx.code_for)
        self._resolving: set[int] = set()
        # (id of the block's node, span of its `else` body or None), outermost first
        self.blocks: list[tuple[int, tuple | None]] = []
        self._here: tuple[int, int] = (0, 0)
        self._memo: tuple | None = None
        self._ifs: set[int] = set()  # the blocks that are `if` statements
        # the project's wrapper classes (`tenantlint/stores/wrappers.py`), from the catalog pass
        self.wrappers: dict = getattr(ctx.catalog, "wrappers", None) or {}
        self._forward_specs: dict[tuple, CallSpec] = {}
        self.class_nodes: list[tuple[ast.ClassDef, int]] = []  # each class, with the scope depth it is in
        self.class_kinds: list[Handle | None] = []  # the client each class subclasses

    @classmethod
    def wants(cls, source: str, catalog, settings) -> bool:
        """The same test as `active`, before the parse: a file that imports none of this
        family's libraries (and names none of the team's own wrappers) has nothing to find."""
        api = api_catalog_for(settings)
        return api.worth_visiting(source, api.imported_packs(source), cls.roles) or _names_handle(catalog, source)

    def get_visitors(self):
        """A file that imports none of the catalog's libraries costs nothing: no visitors."""
        return super().get_visitors() if self.active else {}

    # -- bindings ---------------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        self.scope_nodes[0] = node
        if self.active:
            for target, value in _assignments(node.body, deep=True):
                self.module_scope[target] = Binding(value)
            self.functions = definitions(node.body, deep=True)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        attrs: dict[str, Binding] = {}
        methods: dict[str, ast.FunctionDef] = {}
        if self.active:
            for target, value in _assignments(node.body, deep=False):
                attrs[target] = Binding(value)
            for stmt in node.body:  # `cache: Redis` declared in the class body
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    attrs[stmt.target.id] = Binding(stmt.value if stmt.value is not None else _UNKNOWN,
                                                    annotated=self.annotation_handle(stmt.annotation))
            methods = definitions(node.body, deep=False)
            for stmt in node.body:
                if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for target, value, annotation in _self_assignments(stmt):
                    previous = attrs.get(target)
                    annotated = self.annotation_handle(annotation) if annotation is not None else None
                    # `self.client = None` in `__init__`, the client itself later: None has
                    # no methods, so a call on the attribute is a call on the client.
                    if previous is None or previous.value is _UNKNOWN or is_none(previous.value):
                        attrs[target] = Binding(value, annotated=annotated or (previous and previous.annotated))
                    elif annotated is not None and previous.annotated is None:
                        previous.annotated = annotated
        self.classes.append(attrs)
        self.methods.append(methods)
        self.class_nodes.append((node, len(self.scopes)))
        self.class_kinds.append(self._base_kind(node) if self.active else None)

    def leave_ClassDef(self, original_node: ast.ClassDef) -> None:
        self.classes.pop()
        self.methods.pop()
        self.class_nodes.pop()
        self.class_kinds.pop()

    def _base_kind(self, node: ast.ClassDef) -> Handle | None:
        """`class AppRedis(redis.Redis)`: inside it, `self` is that client."""
        for base in node.bases:
            handle = self.annotation_handle(base)
            if handle is not None:
                return handle
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        scope: dict[str, Binding] = {}
        params = node.args
        for param in (*params.posonlyargs, *params.args, *params.kwonlyargs):
            scope[param.arg] = Binding(_UNKNOWN, self._annotated(param), resolved=True)
        if self.class_kinds and self.class_kinds[-1] is not None and len(self.scopes) == self.class_nodes[-1][1]:
            first = (*params.posonlyargs, *params.args)[:1]
            if first and first[0].arg == "self":
                scope["self"] = Binding(_UNKNOWN, self.class_kinds[-1], resolved=True)
        for star in (params.vararg, params.kwarg):
            if star is not None:
                scope[star.arg] = Binding(_UNKNOWN, resolved=True)
        self.scopes.append(scope)
        self.scope_nodes.append(node)

    def _annotated(self, param: ast.arg) -> Handle | None:
        """`def f(r: redis.Redis)`: a parameter annotated with a catalog class is that handle."""
        if not self.active or param.annotation is None:
            return None
        return self.annotation_handle(param.annotation)

    def annotation_handle(self, annotation: ast.expr) -> Handle | None:
        """The handle a type annotation names (see `annotations.py`)."""
        kind = annotation_kind(annotation, self.ctx.imports.qualify, self.api)
        if kind:
            return Handle(kind)
        wrapper = find_wrapper(self.wrappers, self.ctx.imports.qualify(annotation) if dotted(annotation) else None)
        return Handle(WRAPPER + wrapper[0]) if wrapper is not None else None

    def _returned(self, func: ast.FunctionDef) -> Handle | None:
        """What a function of the file is, as a handle: a factory (`returns:<kind>`) or a
        property (`<kind>`), by its return annotation (see `annotations.py`)."""
        memo = self._returns_memo
        if id(func) not in memo:
            kind = function_kind(func, self.ctx.imports.qualify, self.api)
            memo[id(func)] = Handle(kind) if kind else None
        return memo[id(func)]

    def leave_FunctionDef(self, original_node: ast.FunctionDef) -> None:
        self.scopes.pop()
        self.scope_nodes.pop()

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.scopes.append({p.arg: Binding(_UNKNOWN, resolved=True) for p in node.args.args})
        self.scope_nodes.append(node)

    def leave_Lambda(self, original_node: ast.Lambda) -> None:
        self.scopes.pop()
        self.scope_nodes.pop()

    def leave_Assign(self, original_node: ast.Assign) -> None:
        self._at(original_node)
        for target in original_node.targets:
            if isinstance(target, ast.Subscript):
                self._store_item(target, original_node.value)
            else:
                self._bind(target, original_node.value)

    def leave_AnnAssign(self, original_node: ast.AnnAssign) -> None:
        if original_node.value is not None:
            self._at(original_node)
            self._bind(original_node.target, original_node.value)

    def leave_AugAssign(self, original_node: ast.AugAssign) -> None:
        target = original_node.target
        if isinstance(target, ast.Name) and self.active and len(self.scopes) > 1 and target.id in self.scopes[-1]:
            self._at(original_node)
            # `key += x`: both parts count (a tenant in either is a tenant in the key), for
            # each value that reaches it
            current = self.value_of(target.id)
            addition = original_node.value
            if isinstance(current, Alternatives) and all(isinstance(v, ast.expr) for v in current.values):
                combined = Alternatives(tuple(ast.BinOp(v, ast.Add(), addition) for v in current.values))
            elif isinstance(current, ast.expr):
                combined = ast.BinOp(current, ast.Add(), addition)
            else:
                return
            self._rebind(target.id, Binding(combined))

    # Conditional blocks: a name rebound inside one keeps its earlier value as an
    # alternative, since the block may not run. `ast` has no node for an `else:` block
    # (an `if`, `for`, `while` or `try` keeps it as a plain `orelse` list), so each block
    # remembers the span of its `else` body, and the blocks in force at a binding or a use
    # are computed from the position of the node being visited (`_at`): inside that span,
    # the `else` counts as one more block, as its own node would.
    def visit_If(self, node) -> None:
        self._ifs.add(id(node))
        self._push(node, _else_span(node))

    def leave_If(self, original_node) -> None:
        self.blocks.pop()
        self._memo = None

    def _push(self, node, else_span=None) -> None:
        self.blocks.append((id(node), else_span))
        self._memo = None

    def _push_plain(self, node) -> None:
        self._push(node)

    def _push_orelse(self, node) -> None:
        self._push(node, _span(node.orelse))

    # A handler and a match case are alternatives to their siblings; the `else` of a loop or
    # a `try` to its body.
    visit_While = visit_Try = visit_TryStar = _push_orelse
    visit_Match = visit_ExceptHandler = visit_match_case = _push_plain
    leave_While = leave_Try = leave_TryStar = leave_Match = leave_For = leave_If
    leave_ExceptHandler = leave_match_case = leave_If

    def _at(self, node: ast.AST) -> None:
        """The walk is at `node` (a statement or expression with a position)."""
        here = (node.lineno, node.col_offset)
        if here != self._here:
            self._here = here
            self._memo = None

    def current_blocks(self) -> tuple:
        """The conditional blocks in force where the walk is (see `_at`)."""
        memo = self._memo
        if memo is None:
            out = []
            here = self._here
            for ident, span in self.blocks:
                out.append(ident)
                if span is not None and span[0] <= here <= span[1]:
                    out.append(-ident)  # its `else` body
            memo = self._memo = tuple(out)
        return memo

    def visit_For(self, node: ast.For) -> None:
        self._push(node, _span(node.orelse))
        if not self.active:
            return
        self._at(node)
        iterable = node.iter.value if isinstance(node.iter, ast.Await) else node.iter
        if isinstance(iterable, ast.Call) and any(spec.pattern is not None for spec, _h, _m in self.matches(iterable)):
            self._bind(node.target, FROM_STORE, eager=False)
        else:
            self._bind(node.target, for_binding(node.iter), eager=False)

    def leave_withitem(self, original_node: ast.withitem) -> None:
        if original_node.optional_vars is not None:
            self._at(original_node.context_expr)
            self._bind(original_node.optional_vars, original_node.context_expr)

    def _bind(self, target: ast.expr, value, eager: bool = True) -> None:
        if not self.active:
            return
        scope = self.scopes[-1]
        if isinstance(target, ast.Name):
            binding = self._rebind(target.id, Binding(value))
            if eager and len(self.scopes) > 1 and isinstance(value, ast.expr):
                binding.handle, binding.resolved = self.handle_of(value), True
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                if isinstance(el, ast.Starred):
                    el = el.value
                if isinstance(el, ast.Name):
                    scope[el.id] = Binding(_UNKNOWN, resolved=True)

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
        binding.blocks = self.current_blocks()
        previous = scope.get(name)
        if previous is not None and len(self.scopes) > 1:
            blocks = binding.blocks
            if len(blocks) == 2 and blocks[0] in self._ifs and blocks[1] == -blocks[0] \
                    and previous.blocks == blocks[:1]:
                # `if c: x = a` / `else: x = b` at the function's top level: once the `if`
                # is done, only the values of its two branches reach.
                binding.others = (previous.value,)
            elif previous.blocks != blocks:
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
            here = self.current_blocks()
            n = len(binding.blocks)
            if here[:n] != binding.blocks:
                # Used outside the block that made the last binding: earlier values may reach.
                values = (*binding.others, binding.value)
            elif n and len(here) > n and here[n] == -binding.blocks[-1] and binding.blocks[-1] in self._ifs:
                # In the `else` of the `if` whose body made it: the values from before it
                # (the `else` of a loop or a `try` runs after its body).
                values = binding.others
            else:
                return binding.value
            if any(v is _UNKNOWN for v in values):
                return None
            return values[0] if len(values) == 1 else Alternatives(values)
        return binding.value

    # -- handles ----------------------------------------------------------------------
    def handle_of(self, node: ast.expr, depth: int = 0) -> Handle | None:
        if depth > _MAX_DEPTH:
            return None
        step = depth + 1
        if isinstance(node, ast.Await):
            return self.handle_of(node.value, step)
        if isinstance(node, ast.Name):
            binding = self.lookup(node.id)
            if binding is not None:
                return self._binding_handle(binding, step) or self._hinted(node.id)
            return self._object(node) or self._defined(node.id) or self._hinted(node.id)
        if isinstance(node, ast.Attribute):
            attr = node.attr
            if self._on_self(node):
                return self._self_attribute(attr, step)
            owner = self.handle_of(node.value, step)
            if owner is not None:
                kind = self._kind(owner.kind)
                target = kind.attributes.get(attr, kind.attributes.get("*")) if kind is not None else None
                if target is not None:  # `"*"`: any attribute (pymongo `db.notes` is a collection)
                    return Handle(target, owner.scoped)
                return None
            return self._object(node) or self._hinted(attr)
        if isinstance(node, ast.Call):
            func = node.func
            qualified = self.ctx.imports.qualify(func) if dotted(func) else None
            if qualified:
                for production in self.api.constructor(qualified):
                    if self._applies(production, node):
                        return Handle(production.returns, self._scopes(production, node))
                wrapper = find_wrapper(self.wrappers, qualified)
                if wrapper is not None:
                    return Handle(WRAPPER + wrapper[0])
            if isinstance(func, ast.Name):
                return _called(self.handle_of(func, step))
            if isinstance(func, ast.Attribute):
                if self._on_self(func):  # `self.get_client()`: a method of this class
                    return _called(self._self_attribute(func.attr, step))
                owner = self.handle_of(func.value, step)
                if owner is not None:
                    kind = self._kind(owner.kind)
                    if kind is None:
                        return None
                    for production in kind.methods.get(func.attr, ()):
                        if self._applies(production, node):
                            return Handle(production.returns, owner.scoped or self._scopes(production, node))
                    if kind.chain:
                        return owner
                    return None
                return _called(self._object(func))  # `clients.get_redis()`: another module's factory
            return None
        if isinstance(node, ast.Subscript):
            owner = self.handle_of(node.value, step)
            kind = self._kind(owner.kind) if owner else None
            if kind is not None and kind.item:
                return Handle(kind.item, owner.scoped)
            return None
        return None

    def _on_self(self, node: ast.Attribute) -> bool:
        return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") and bool(self.classes)

    def _self_attribute(self, attr: str, depth: int) -> Handle | None:
        """`self.attr`: an attribute assigned in the class, or one of its methods."""
        binding = self.classes[-1].get(attr)
        if binding is not None:
            return self._binding_handle(binding, depth) or self._hinted(attr)
        method = self.methods[-1].get(attr) if self.methods else None
        return (self._returned(method) if method is not None else None) or self._hinted(attr)

    def _defined(self, name: str) -> Handle | None:
        """A function defined at the module's top level (see `_returned`)."""
        func = self.functions.get(name)
        return self._returned(func) if func is not None else None

    def _binding_handle(self, binding: Binding, depth: int) -> Handle | None:
        if binding.resolved:
            return binding.handle
        if not isinstance(binding.value, ast.expr) or id(binding) in self._resolving:
            return binding.annotated
        self._resolving.add(id(binding))
        try:
            binding.handle = self.handle_of(binding.value, depth) or binding.annotated
        finally:
            self._resolving.discard(id(binding))
        binding.resolved = True
        return binding.handle

    def _object(self, node: ast.expr) -> Handle | None:
        qualified = self.ctx.imports.qualify(node)
        kind = self.api.objects.get(qualified or "")
        if kind:
            return Handle(kind)
        return self._imported_handle(node, qualified)

    def _imported_handle(self, node: ast.expr, qualified: str | None) -> Handle | None:
        """A name imported from a module of the project that binds it to a handle."""
        index = getattr(self.ctx.catalog, "modules", None)
        if index is None or not index.handles or not qualified:
            return None
        if (dotted(node) or "").partition(".")[0] not in self.ctx.imports.aliases:
            return None  # this module's own names are its bindings
        found = index.handle(qualified)
        kind = resolve_instance(found[0], self.wrappers) if found is not None else None
        return Handle(kind, found[1]) if kind else None

    def _hinted(self, name: str) -> Handle | None:
        kind = self.api.hinted_kind(name)
        return Handle(kind) if kind else None

    def _applies(self, production: Production, call: ast.Call) -> bool:
        if production.arg is None:
            return True
        found = find_arg(call, production.arg, self.value_of)
        if not isinstance(found, ast.expr):
            return False
        return literal(found) == production.equals

    def _scopes(self, production: Production, call: ast.Call) -> bool:
        return any(self.tenancy.key_scoped(a) for a in self.args(call, production.scope))

    # -- calls ------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        if not self.active:
            return
        self._at(node)
        if node.keywords or node.args:
            self._update_dict(node)
        deferred = self._deferred(node)
        for call in (node,) if deferred is None else (node, deferred):
            groups: dict[str, list[tuple[CallSpec, Handle | None, str]]] = {}
            for spec, handle, method in self.matches(call):
                if spec.role in self.roles:
                    groups.setdefault(spec.role, []).append((spec, handle, method))
            for role, matched in groups.items():
                self.check(call, role, matched)

    def _deferred(self, node: ast.Call) -> ast.Call | None:
        """`asyncio.to_thread(storage.save, name, data)`: the call it makes, at its place."""
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "run_in_executor":
            args = node.args[1:]
        elif dotted(func) and self.ctx.imports.qualify(func) in _RUNS_CALLABLE:
            args = node.args
        else:
            return None
        if not args or not isinstance(args[0], ast.Attribute) or any(isinstance(a, ast.Starred) for a in args):
            return None
        call = ast.Call(func=args[0], args=list(args[1:]), keywords=[k for k in node.keywords if k.arg is not None])
        return ast.copy_location(call, node)

    def matches(self, node: ast.Call) -> Iterator[tuple[CallSpec, Handle | None, str]]:
        func = node.func
        qualified = self.ctx.imports.qualify(func) if dotted(func) else None
        method = func.attr if isinstance(func, ast.Attribute) else (dotted(func) or "")
        found = self.api.function_calls(qualified) if qualified else []
        if found:
            for spec in found:
                yield spec, None, method
            return
        if not isinstance(func, ast.Attribute):
            return
        owner = self.handle_of(func.value)
        if owner is not None:
            specs = self.calls_on(owner.kind, method)
        else:  # an unknown receiver (a parameter, an attribute set elsewhere): distinctive names only
            specs = self.api.distinctive_calls(method, self.packs)
            if specs and self._chain_scoped(func.value):
                owner = Handle("", scoped=True)
        for spec in specs:
            yield spec, owner, method

    # -- the project's wrapper classes -------------------------------------------------
    def _kind(self, name: str):
        """The catalog kind of a handle kind (a wrapper class: the kind it wraps)."""
        if name.startswith(WRAPPER):
            info = self.wrappers.get(name[len(WRAPPER):])
            name = info.kind if info is not None else ""
        return self.api.kinds.get(name)

    def calls_on(self, kind: str, method: str) -> list[CallSpec]:
        """The catalog entries a call of `method` on a handle of `kind` matches: for a
        wrapper class, its forwarding method (a store call keyed by the forwarded
        parameter), else the entries of the kind it wraps."""
        if not kind.startswith(WRAPPER):
            return self.api.calls_on(kind, method)
        qualified = kind[len(WRAPPER):]
        info = self.wrappers.get(qualified)
        if info is None:
            return []
        forwarded = info.methods.get(method)
        if forwarded is None:
            return self.api.calls_on(info.kind, method) if info.kind else []
        spec = self._forward_specs.get((qualified, method))
        if spec is None:
            role, position, param = forwarded
            spec = self._forward_specs[(qualified, method)] = CallSpec(
                role=role, pack="project", label=f"{qualified.rsplit('.', 1)[-1]}.{method}",
                key=ArgRef(position=position if position >= 0 else None, keyword=param))
        return [spec]

    def forwards_callers_key(self, call: ast.Call, matched) -> bool:
        """Inside a forwarding method of a project wrapper class, a call whose key is the
        method's parameter: the key is its caller's, judged at the caller."""
        if not self.class_nodes or not self.wrappers or len(self.scopes) != self.class_nodes[-1][1] + 1:
            return False
        method = self.scope_nodes[-1]
        info = self.wrappers.get(f"{self.ctx.module_name}.{self.class_nodes[-1][0].name}")
        if info is None or not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                or method.name not in info.methods:
            return False
        return all(forwarded_param(key_argument(self.arg, call, spec), method, self.value_of) is not None
                   for spec, _handle, _method in matched)

    def _chain_scoped(self, node: ast.expr) -> bool:
        """A scoping call (`.with_tenant(tid)`) anywhere in an unresolved receiver chain."""
        for _ in range(_MAX_DEPTH):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute):
                    name = node.func.attr
                    for kind in self.api.kinds.values():
                        for production in kind.methods.get(name, ()):
                            if production.scope and self._scopes(production, node):
                                return True
                node = node.func
            elif isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Await):
                node = node.value
            else:
                return False
        return False

    def check(self, call: ast.Call, role: str, matched: list[tuple[CallSpec, Handle | None, str]]) -> None:
        """Judge one call against every entry of `role` it matched (clean if any entry says so)."""
        raise NotImplementedError

    # -- arguments --------------------------------------------------------------------
    def arg(self, call: ast.Call, ref: ArgRef | None):
        return find_arg(call, ref, self.value_of, self.splat_value) if ref is not None else None

    def args(self, call: ast.Call, refs) -> list:
        out = []
        for ref in refs:
            found = find_arg(call, ref, self.value_of, self.splat_value)
            if found is not None:
                out.append(found)
        return out


def _names_handle(catalog, source: str) -> bool:
    """The screen for imported handles: the file names one the catalog knows."""
    index = getattr(catalog, "modules", None)
    if index is not None and bool(index.handles) and index.mentions(source, "handles"):
        return True
    return mentions_wrapper(getattr(catalog, "wrappers", None) or {}, source)


class _ModuleResolver(ApiChecker):
    roles = ()


def module_handles(ctx) -> list[tuple[str, str, bool]]:
    """(name, kind, scoped) of the module-level names of a file that are bound to a handle
    of the API catalog, as this walker infers them within the file (for the discovery
    pass: other modules that import the name get the same handle)."""
    resolver = _ModuleResolver(ctx)
    resolver.active = ctx.imports is not None
    if not resolver.active:
        return []
    resolver.visit_Module(ctx.module)
    out = []
    for name, binding in resolver.module_scope.items():
        handle = resolver._binding_handle(binding, 0)
        if handle is not None and handle.kind:
            out.append((name, handle.kind, handle.scoped))
    for name, func in resolver.functions.items():
        # `def get_redis() -> Redis`: kind `returns:redis` (a name bound twice is unknown)
        handle = resolver._returned(func) if name not in resolver.module_scope else None
        if handle is not None and handle.kind:
            out.append((name, handle.kind, handle.scoped))
    return out


def _called(callee: Handle | None) -> Handle | None:
    """The handle a call of `callee` returns, when it is a factory (`returns:`)."""
    if callee is not None and callee.kind.startswith(RETURNS):
        return Handle(callee.kind[len(RETURNS):], callee.scoped)
    return None


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


def _span(body: list) -> tuple | None:
    """((line, col), (end line, end col)) of a statement list, None when empty."""
    if not body:
        return None
    first, last = body[0], body[-1]
    return (first.lineno, first.col_offset), (last.end_lineno, last.end_col_offset)


def _else_span(node: ast.If) -> tuple | None:
    """The span of an `if`'s `else:` body; None without one or for an `elif` (its If is
    visited as a block of its own)."""
    orelse = node.orelse
    if len(orelse) == 1 and isinstance(orelse[0], ast.If) and orelse[0].col_offset == node.col_offset \
            and orelse[0].lineno > node.lineno:
        return None  # `elif`: at the column of its `if` (an `else:` body is indented deeper)
    return _span(orelse)


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


