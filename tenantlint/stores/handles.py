"""Which handle (a redis client, a Pinecone index, an S3 client...) an expression of a
store-using file evaluates to: the resolver the checkers of stores, documents,
connections and memoized caches share, and the discovery pass too (`module_handles`).

Receivers are resolved from imports (`ImportMap`), module-level and function-local
assignments, `with ... as name`, `self.x = ...` anywhere in the class, and attribute and
method chains through the catalog's kinds (`wv.collections.get("Docs").query`). A name
imported from another module of the project (`from app.clients import kb_index`, or
`clients.kb_index`) is the handle that module binds it to, as the discovery pass recorded
it (`module_handles`, `TenantCatalog.modules`).

A call of a function or method of the file whose return annotation is a catalog class (or a
team's configured wrapper class) is that handle (`async def get_client() -> Redis`, then
`c = await get_client()` or `await self.get_client()`), and so is a property annotated so.
Such a function is recorded for other modules too: its name is bound to the kind
`returns:<kind>` (a callable that returns that handle), which a call unwraps."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from tenantlint.packs import ArgRef, CallSpec, ApiCatalog, Production, api_catalog_for
from tenantlint.names import dotted
from tenantlint.stores.annotations import RETURNS, annotation_kind, definitions, function_kind, is_none
from tenantlint.stores.bindings import _UNKNOWN, Binding, Bindings, _assignments, _self_assignments, find_arg
from tenantlint.stores.dicts import literal
from tenantlint.stores.tenancy import Tenancy
from tenantlint.stores.wrappers import WRAPPER, find_wrapper, resolve_instance

_MAX_DEPTH = 16


@dataclass(frozen=True)
class Handle:
    kind: str
    scoped: bool = False  # a tenant handle: `with_tenant(tid)`, a store built with a tenant namespace


class Resolver(Bindings):
    """Scopes, classes and functions of the file as the walk enters them (its visitor hooks),
    and the handle each expression evaluates to there."""

    def __init__(self, ctx, api: ApiCatalog, active: bool) -> None:
        super().__init__(active)
        self.ctx = ctx
        self.api = api
        self.classes: list[dict[str, Binding]] = []
        self.methods: list[dict[str, ast.FunctionDef]] = []  # each class's methods, by name
        self.functions: dict[str, ast.FunctionDef] = {}  # the module's functions, by name
        self._returns_memo: dict[int, Handle | None] = {}
        self.tenancy = Tenancy(ctx.settings.tenant_columns, ctx.settings.global_key_prefixes,
                               self.value_of, ctx.code_for)
        self._resolving: set[int] = set()
        # the project's wrapper classes (`tenantlint/stores/wrappers.py`), from the catalog pass
        self.wrappers: dict = getattr(ctx.catalog, "wrappers", None) or {}
        self._forward_specs: dict[tuple, CallSpec] = {}
        self.class_nodes: list[tuple[ast.ClassDef, int]] = []  # each class, with the scope depth it is in
        self.class_kinds: list[Handle | None] = []  # the client each class subclasses

    # -- scopes, as the walk enters them -----------------------------------------------
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
            label = f"{qualified.rsplit('.', 1)[-1]}.{method}"
            if param.startswith("*") and position == 0:  # `delete(self, *keys)`: every unnamed argument
                spec = CallSpec(role=role, pack="project", label=label, varargs=True)
            elif param.startswith("*"):  # after other parameters: the first of them
                spec = CallSpec(role=role, pack="project", label=label, key=ArgRef(position=position))
            else:
                spec = CallSpec(role=role, pack="project", label=label,
                                key=ArgRef(position=position if position >= 0 else None, keyword=param))
            self._forward_specs[(qualified, method)] = spec
        return [spec]

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


def module_handles(ctx) -> list[tuple[str, str, bool]]:
    """(name, kind, scoped) of the module-level names of a file that are bound to a handle
    of the API catalog, as the resolver infers them within the file (for the discovery
    pass: other modules that import the name get the same handle)."""
    if ctx.imports is None:
        return []
    resolver = Resolver(ctx, api_catalog_for(ctx.settings), active=True)
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
